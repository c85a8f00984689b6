//! Commands that bring data in and take datasets out: import, import-gt, import-dataset,
//! relink, export, versions.

use std::path::{Path, PathBuf};

use crate::store::Workspace;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result, bail};

use super::{open_read, open_write, report_failures, say, warn};
use crate::app::commands::system_now_ms;

pub fn import(ws: &Workspace, paths: &[PathBuf], dpi: Option<u32>, password_stdin: bool) -> Result<()> {
    // the password of protected PDFs: one line of standard input, held only for this import
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).context("cannot read the password from standard input")?;
        let line = line.trim_end_matches(['\n', '\r']).to_string();
        if line.is_empty() {
            bail!("--password-stdin: standard input gave no password");
        }
        Some(line)
    } else {
        None
    };
    let opts = crate::app::import::ImportOptions { dpi, password };
    let mut store = open_write(ws)?;
    let report = crate::app::import::import_paths_at(&mut store, paths, &opts, system_now_ms(), |_, _| {})?;
    say!("{}", report.summary());
    let failed: Vec<(String, String)> =
        report.failed.iter().map(|(p, r)| (p.display().to_string(), r.clone())).collect();
    report_failures(&failed, "file(s)")
}

pub fn import_gt(ws: &Workspace, dir: &Path) -> Result<()> {
    let mut store = open_write(ws)?;
    let report = crate::app::import::import_gt(&mut store, dir, None, system_now_ms())?;
    for (path, reason) in &report.skipped {
        warn(format_args!("skipped {}: {reason}", path.display()));
    }
    if !report.unknown_labels.is_empty() {
        warn(format_args!("labels not in the schema (boxes kept unlabelled): {}", report.unknown_labels.join(", ")));
    }
    say!("loaded {} box(es) on {} document(s)", report.boxes, report.documents);
    let failed: Vec<(String, String)> =
        report.failed.iter().map(|(p, r)| (p.display().to_string(), r.clone())).collect();
    report_failures(&failed, "file(s)")
}

pub fn import_dataset(
    ws: &Workspace,
    format: &str,
    path: &Path,
    images: &[PathBuf],
    map: Vec<crate::app::dataset::LabelMapping>,
) -> Result<()> {
    let format = format.parse().map_err(anyhow::Error::msg)?;
    let map = crate::app::dataset::LabelMap::from_pairs(map)?;
    let mut store = open_write(ws)?;
    let cancel = AtomicBool::new(false);
    let report = crate::app::dataset::import_dataset(
        &mut store,
        format,
        path,
        images,
        &map,
        None,
        system_now_ms(),
        &mut |_, _| {},
        &cancel,
    )?;
    for name in &report.unused_mappings {
        warn(format_args!("--map {name}=…: the dataset has no label named {name}; ignored"));
    }
    for (path, reason) in &report.skipped {
        warn(format_args!("skipped {}: {reason}", path.display()));
    }
    say!("{}", report.summary());
    Ok(())
}

pub fn relink(ws: &Workspace, dir: &Path) -> Result<()> {
    let mut store = open_write(ws)?;
    let report = crate::app::import::relink_dir(&mut store, dir)?;
    let left = if report.still_missing > 0 {
        format!("; {} file(s) still missing", report.still_missing)
    } else {
        String::new()
    };
    say!("re-linked {} file(s){left}", report.relinked);
    Ok(())
}

/// `export`'s options as given.
pub struct ExportArgs {
    pub format: String,
    pub out: PathBuf,
    pub all: bool,
    pub split: Option<String>,
    pub seed: u64,
    pub link_images: bool,
    pub augment: Option<u32>,
    pub version: Option<i64>,
}

pub fn export(ws: &Workspace, a: ExportArgs) -> Result<()> {
    use crate::app::export::{ExportError, ExportOptions, export, reproduce};
    let mut store = open_read(ws)?;
    let cancel = AtomicBool::new(false);
    let report = match a.version {
        Some(n) => reproduce(&store, n, &a.out, &mut |_, _| {}, &cancel)?,
        None => {
            let format = a.format.parse().map_err(anyhow::Error::msg)?;
            let mut opts = ExportOptions::new(format, &a.out, system_now_ms());
            opts.all = a.all;
            opts.split = a.split.map(|s| s.parse()).transpose().map_err(anyhow::Error::msg)?;
            opts.seed = a.seed;
            opts.link_images = a.link_images;
            opts.augment = a.augment.map(|count| crate::formats::augment::AugmentOptions { count, seed: a.seed });
            match export(&mut store, &opts, &mut |_, _| {}, &cancel) {
                Err(e @ ExportError::NoDocuments(_)) if !a.all => bail!("{e}; use --all to export every document"),
                other => other?,
            }
        }
    };
    say!("{}", report.summary());
    Ok(())
}

pub fn versions(ws: &Workspace) -> Result<()> {
    for v in crate::app::export::list_versions(&open_read(ws)?)? {
        say!(
            "v{}\t{}\t{} document(s)\t{} box(es)\t{}\t{}",
            v.number,
            v.format,
            v.documents,
            v.boxes,
            &v.manifest_sha256[..v.manifest_sha256.len().min(12)],
            v.changes
        );
    }
    Ok(())
}
