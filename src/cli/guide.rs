//! `facture guide`: the annotation guide (guidelines and pinned examples) as a file to hand on.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::{open_read, say};
use crate::app::guidelines::Guide;
use crate::store::Workspace;

pub fn guide(ws: &Workspace, out: &Path) -> Result<()> {
    let ext = out.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    let html = match ext.as_str() {
        "html" | "htm" => true,
        "md" | "markdown" => false,
        _ => bail!("{}: the guide is written as FILE.html or FILE.md; give --out one of those", out.display()),
    };
    let guide = Guide::current(&open_read(ws)?)?;
    let mut files = Vec::new();
    if html {
        files.push((out.to_path_buf(), guide.html().into_bytes()));
    } else {
        let (md, crops) = guide.markdown();
        // the crops are referred to relative to the Markdown file
        let dir = out.parent().unwrap_or(Path::new(""));
        files.extend(crops.into_iter().map(|(rel, bytes)| (dir.join(rel), bytes)));
        files.push((out.to_path_buf(), md.into_bytes()));
    }
    for (path, bytes) in &files {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("{}: cannot create the folder", parent.display()))?;
        }
        std::fs::write(path, bytes).with_context(|| format!("{}: cannot write", path.display()))?;
    }
    let crops = if html { String::new() } else { format!(", {} crop file(s) in its guide folder", files.len() - 1) };
    say!(
        "wrote {}: {} label(s), {} pinned example(s){crops}",
        out.display(),
        guide.labels.len(),
        guide.example_count()
    );
    Ok(())
}
