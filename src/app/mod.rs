//! Application layer: commands, undo/redo and background jobs; the only code that calls the
//! store and the pre-annotation sources. The UI emits commands; this layer applies them.

pub mod accept;
pub mod boxstyle;
pub mod canvas;
pub mod commands;
pub mod confine;
pub mod dataset_job;
pub mod demo;
pub mod desk;
pub mod guidelines;
pub mod import;
pub mod import_job;
pub mod labels;
pub mod leases;
pub mod live;
pub mod passphrase;
pub mod prelabel_job;
pub mod review;
pub mod schema;
pub mod scoring;

pub use commands::{Command, CommandError, Outcome, Session, SuggestionInput};
pub mod activity;
pub mod dataset;
pub mod export;
pub mod housekeeping;
pub mod loader;
pub mod migrate;
pub mod open_targets;
pub mod pages;
pub mod settings;
pub mod stats;
pub mod synth_workspace;
pub mod thumbs;
pub mod worker;

/// Writes `contents` to a fresh temporary file in `path`'s folder (an unpredictable name,
/// created exclusively, so no symlink planted there is followed), flushes it to disk, renames
/// it over `path` and flushes the folder: after a crash or a full disk, `path` holds either
/// the old contents or the new, never half a file. The temporary file is removed when writing
/// fails.
pub fn write_atomically(path: &std::path::Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(".facture-").suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(contents.as_ref())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // the rename itself is durable only once the folder is
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::write_atomically;

    #[test]
    fn atomic_writes_replace_whole_files_and_leave_nothing_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second, longer").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("settings.json")], "no temporary file left");
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_at_the_old_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, b"keep me").unwrap();
        let path = dir.path().join("stats.csv");
        // the name earlier versions always used
        std::os::unix::fs::symlink(&victim, dir.path().join("stats.csv.facture-tmp")).unwrap();
        write_atomically(&path, b"a,b\n").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n");
        // and a symlink at the target itself is replaced, not written through
        std::os::unix::fs::symlink(&victim, dir.path().join("link.csv")).unwrap();
        write_atomically(&dir.path().join("link.csv"), b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
        assert!(!dir.path().join("link.csv").is_symlink());
    }

    #[test]
    fn a_folder_that_does_not_exist_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_atomically(&dir.path().join("no/such/file.json"), b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
