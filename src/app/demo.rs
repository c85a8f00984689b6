//! The demo workspace a new user lands in: synthetic invoices (scans, and when PDFium is
//! there a born-digital and a scanned PDF), three users, some work started and most pages
//! left to try pre-annotation on.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::app::import::{import_gt, import_paths};
use crate::domain::Role;
use crate::store::Store;

/// Pages in the demo set, and how many of them come pre-annotated.
pub const DEMO_PAGES: u32 = 12;
pub const DEMO_ANNOTATED: u32 = 3;
/// PDF pages added when PDFium is available: a born-digital invoice (try **Text layer**) and
/// a scanned one (try **Best**: it has no text layer), neither annotated.
pub const DEMO_PDF_PAGES: u32 = 2;
const DEMO_SEED: u64 = 2026;

/// Where the demo lives: `<data dir>/demo/workspace.sqlite` with images beside it.
pub fn demo_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "Facture", "Facture").map(|d| d.data_dir().join("demo"))
}

/// Returns the demo workspace in `dir`, creating it on first use. A half-built demo (e.g. the
/// process was killed while creating it) is rebuilt from scratch.
pub fn ensure_demo_workspace(dir: &Path, now_ms: i64) -> anyhow::Result<PathBuf> {
    let ws = dir.join("workspace.sqlite");
    let done = dir.join(".complete");
    if ws.exists() && done.exists() {
        return Ok(ws);
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("cannot clear the unfinished demo in {}", dir.display()))?;
    }
    let images = dir.join("invoices");
    let gt = dir.join("ground-truth");
    crate::synth::write_set(&images, DEMO_PAGES, DEMO_SEED).context("cannot write the demo invoices")?;
    std::fs::create_dir_all(&gt)?;
    // The first few pages come with boxes, so there is something to look at right away.
    for i in 1..=DEMO_ANNOTATED {
        let stem = crate::synth::file_stem(i);
        for ext in ["json", "jpg"] {
            let name = format!("{stem}.{ext}");
            std::fs::copy(images.join(&name), gt.join(&name))?;
        }
    }
    let mut store = Store::create(&ws)?;
    let alice = store.add_user("alice", Role::Annotator)?;
    store.add_user("bob", Role::Reviewer)?;
    store.add_user("lea", Role::Lead)?;
    // Ground truth first so its pages are the first documents in the queue.
    import_gt(&mut store, &gt, Some(alice.id), now_ms)?;
    std::fs::remove_dir_all(&gt)?;
    let mut sources = vec![images];
    if crate::pdf::available().is_ok() {
        let pdfs = dir.join("pdf");
        crate::synth::pdf::write_set(&pdfs, 1, DEMO_SEED + 1, false).context("cannot write the demo PDF")?;
        crate::synth::pdf::write_set(&pdfs, 1, DEMO_SEED + 2, true).context("cannot write the demo PDF")?;
        // the ground truth stays out of the workspace: these pages are for trying pre-annotation
        for f in std::fs::read_dir(&pdfs)?.flatten() {
            if f.path().extension().is_some_and(|e| e == "json") {
                std::fs::remove_file(f.path())?;
            }
        }
        sources.push(pdfs);
    }
    let report = import_paths(&mut store, &sources, now_ms, |_, _| {})?;
    if !report.failed.is_empty() {
        anyhow::bail!("demo import failed: {:?}", report.failed);
    }
    for d in store.documents(&Default::default())? {
        store.set_assignee(d.id, Some(alice.id))?;
    }
    std::fs::write(&done, b"")?;
    Ok(ws)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_built_once_with_annotated_pages_and_users() {
        let dir = tempfile::tempdir().unwrap();
        let demo = dir.path().join("demo");
        let ws = ensure_demo_workspace(&demo, 1).unwrap();
        let store = Store::open(&ws).unwrap();
        let docs = store.documents(&Default::default()).unwrap();
        let pdfs = if crate::pdf::available().is_ok() { DEMO_PDF_PAGES } else { 0 };
        assert_eq!(docs.len(), (DEMO_PAGES + pdfs) as usize);
        assert_eq!(docs.iter().filter(|d| d.path.ends_with(".pdf")).count(), pdfs as usize);
        let annotated = docs.iter().filter(|d| !store.annotations(d.id).unwrap().is_empty()).count();
        assert_eq!(annotated, DEMO_ANNOTATED as usize);
        assert_eq!(store.users().unwrap().len(), 3);
        assert!(docs.iter().all(|d| d.assignee.is_some() && Path::new(&d.path).exists()));
        drop(store);
        let again = ensure_demo_workspace(&demo, 2).unwrap();
        assert_eq!(again, ws);
        assert_eq!(Store::open(&ws).unwrap().document_count().unwrap(), (DEMO_PAGES + pdfs) as i64);
    }
}
