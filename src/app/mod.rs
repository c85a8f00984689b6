//! Application layer: commands, undo/redo and background jobs; the only code that calls the
//! store and the pre-annotation sources. The UI emits commands; this layer applies them.

pub mod accept;
pub mod canvas;
pub mod commands;
pub mod confine;
pub mod dataset_job;
pub mod demo;
pub mod import;
pub mod prelabel_job;
pub mod review;
pub mod scoring;

pub use commands::{Command, CommandError, Outcome, Session, SuggestionInput};
pub mod activity;
pub mod dataset;
pub mod export;
pub mod loader;
pub mod settings;
pub mod stats;
pub mod synth_workspace;

/// Writes `contents` to a temporary file beside `path`, then renames it over `path`: a crash
/// or a full disk never leaves half a file where a good one was. The temporary file is
/// removed again when writing fails.
pub fn write_atomically(path: &std::path::Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".facture-tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, contents).and_then(|()| std::fs::rename(&tmp, path)).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
