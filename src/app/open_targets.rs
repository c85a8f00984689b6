//! What the binary was given to open: a workspace, documents (as a file manager passes them:
//! `facture invoice.pdf`, `facture scans/`), or nothing (the demo).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::store::Workspace;

/// The first bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// What to open the window on.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenTargets {
    /// The workspace named on the command line, if one was.
    pub workspace: Option<Workspace>,
    /// Documents and folders to offer for import, in the order given.
    pub documents: Vec<PathBuf>,
}

/// True for an existing file that is a SQLite database (a Facture workspace file, whatever
/// its name).
pub fn is_workspace_file(path: &Path) -> bool {
    let mut head = [0u8; 16];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == SQLITE_MAGIC
}

/// Sorts the window's arguments into at most one workspace and any number of documents.
/// A `postgres://` URL, a SQLite file, or a single path that does not exist yet is the
/// workspace (the window then says it does not exist); an existing folder or other file is a
/// document to import. Errors are one line and name the argument.
pub fn classify(args: &[String]) -> Result<OpenTargets, String> {
    let mut targets = OpenTargets { workspace: None, documents: Vec::new() };
    for arg in args {
        let path = Path::new(arg);
        let is_url = arg.contains("://");
        let is_workspace = is_url || is_workspace_file(path) || (!path.exists() && args.len() == 1);
        if is_workspace {
            let ws = Workspace::parse(arg).map_err(|e| e.to_string())?;
            if let Some(first) = &targets.workspace {
                return Err(format!("{arg}: only one workspace can be opened at a time (already given: {first})"));
            }
            targets.workspace = Some(ws);
        } else if path.exists() {
            targets.documents.push(path.to_path_buf());
        } else {
            return Err(format!("{arg}: no such file or folder"));
        }
    }
    Ok(targets)
}

/// The workspace documents go to when none was named: the most recently used one that still
/// exists (a server workspace is assumed to), else none (the window offers a new one).
pub fn last_workspace(recent: &[Workspace]) -> Option<Workspace> {
    recent.iter().find(|w| w.file().is_none_or(Path::exists)).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&Path]) -> Vec<String> {
        v.iter().map(|p| p.display().to_string()).collect()
    }

    #[test]
    fn documents_folders_and_a_workspace_are_told_apart_by_content_not_name() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("team.db");
        crate::store::Store::create_at(&Workspace::File(ws.clone())).unwrap();
        // a document whose name looks like a workspace is still a document
        let pdf = dir.path().join("invoice.sqlite");
        std::fs::write(&pdf, b"%PDF-1.7\n").unwrap();
        let scans = dir.path().join("scans");
        std::fs::create_dir(&scans).unwrap();

        let t = classify(&s(&[&pdf, &scans])).unwrap();
        assert_eq!(t.workspace, None);
        assert_eq!(t.documents, vec![pdf.clone(), scans.clone()]);

        let t = classify(&s(&[&ws, &pdf])).unwrap();
        assert_eq!(t.workspace, Some(Workspace::File(ws.clone())));
        assert_eq!(t.documents, vec![pdf.clone()]);

        // a lone new name is a workspace (the window says it does not exist), never a document
        let new = dir.path().join("new.sqlite");
        assert_eq!(classify(&s(&[&new])).unwrap().workspace, Some(Workspace::File(new.clone())));
        // among documents, a missing path is an error that names it
        let err = classify(&s(&[&pdf, &new])).unwrap_err();
        assert!(err.contains("new.sqlite") && err.contains("no such file"), "{err}");
        // two workspaces at once are refused
        let err = classify(&s(&[&ws, &ws])).unwrap_err();
        assert!(err.contains("only one workspace"), "{err}");
        assert_eq!(classify(&[]).unwrap(), OpenTargets { workspace: None, documents: vec![] });
    }

    #[test]
    fn a_workspace_file_carries_factures_application_id_for_mime_sniffing() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("workspace.sqlite");
        drop(crate::store::Store::create_at(&Workspace::File(ws.clone())).unwrap());
        let bytes = std::fs::read(&ws).unwrap();
        assert_eq!(&bytes[..16], SQLITE_MAGIC);
        // what packaging/linux/org.facture.Facture.mime.xml matches: big-endian "FACT" at 68
        assert_eq!(&bytes[68..72], b"FACT");
        let mime = include_str!("../../packaging/linux/org.facture.Facture.mime.xml");
        assert!(mime.contains(&format!("value=\"{:#010x}\" offset=\"68\"", crate::store::APPLICATION_ID)), "{mime}");
    }

    #[test]
    fn the_last_workspace_is_the_newest_that_still_exists() {
        let dir = tempfile::tempdir().unwrap();
        let gone = Workspace::File(dir.path().join("gone.sqlite"));
        let here = Workspace::File(dir.path().join("here.sqlite"));
        std::fs::write(here.file().unwrap(), b"").unwrap();
        assert_eq!(last_workspace(&[gone.clone(), here.clone()]), Some(here));
        assert_eq!(last_workspace(&[gone]), None);
    }
}
