//! Where an imported dataset may take its images from: inside the folders the user named, and
//! nowhere else. A dataset file is data someone else wrote; an absolute or `../` image path in
//! it (or a symlink in its folder) must not pull an arbitrary readable file into the
//! workspace, from where the next export would copy it into a dataset being shared.

use std::path::{Path, PathBuf};

/// The folders images may come from, resolved (symlinks followed) once.
#[derive(Debug, Clone, Default)]
pub struct ImageRoots {
    roots: Vec<PathBuf>,
}

impl ImageRoots {
    /// Roots that do not exist are left out (nothing can be inside them).
    pub fn new<P: AsRef<Path>>(roots: impl IntoIterator<Item = P>) -> Self {
        let mut out: Vec<PathBuf> = Vec::new();
        for r in roots {
            if let Ok(c) = std::fs::canonicalize(r.as_ref())
                && !out.contains(&c)
            {
                out.push(c);
            }
        }
        ImageRoots { roots: out }
    }

    /// The folders, as resolved.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The resolved path of `candidate` when it is a regular file inside one of the roots.
    /// Outside files give `None` exactly as missing ones do, so an error built on this cannot
    /// tell whether a file outside the dataset exists.
    pub fn admit(&self, candidate: &Path) -> Option<PathBuf> {
        let resolved = std::fs::canonicalize(candidate).ok()?;
        let inside = self.roots.iter().any(|r| resolved.starts_with(r));
        (inside && resolved.is_file()).then_some(resolved)
    }

    /// The first candidate that is admitted.
    pub fn first_admitted(&self, candidates: &[PathBuf]) -> Option<PathBuf> {
        candidates.iter().find_map(|c| self.admit(c))
    }

    /// "DIR" or "DIR, DIR2" for messages.
    pub fn describe(&self) -> String {
        let names: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
        if names.is_empty() { "(no folder)".into() } else { names.join(", ") }
    }
}

/// The folder a dataset path stands for: the folder itself, or a file's folder; a
/// conventional annotation folder (`annotations`, `Annotations`, `labels`) stands for its
/// parent, where the images sit beside it.
pub fn dataset_root(path: &Path) -> PathBuf {
    let dir = if path.is_dir() { path.to_path_buf() } else { path.parent().unwrap_or(Path::new(".")).to_path_buf() };
    let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
    let conventional = dir
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| ["annotations", "Annotations", "labels", "Labels"].contains(&n));
    match dir.parent() {
        Some(parent) if conventional && !parent.as_os_str().is_empty() => parent.to_path_buf(),
        Some(_) if conventional => PathBuf::from("."),
        _ => dir,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_inside_the_roots_are_admitted_whatever_the_path_says() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("images")).unwrap();
        std::fs::write(data.join("images/a.png"), b"x").unwrap();
        std::fs::write(dir.path().join("secret.txt"), b"x").unwrap();
        let roots = ImageRoots::new([&data]);
        assert!(roots.admit(&data.join("images/a.png")).is_some());
        assert!(roots.admit(&data.join("images/../images/a.png")).is_some());
        assert_eq!(roots.admit(&data.join("../secret.txt")), None);
        assert_eq!(roots.admit(&dir.path().join("secret.txt")), None);
        assert_eq!(roots.admit(Path::new("/etc/passwd")), None);
        assert_eq!(roots.admit(&data.join("images")), None, "a folder is not an image");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.txt"), data.join("images/link.png")).unwrap();
            assert_eq!(roots.admit(&data.join("images/link.png")), None, "a symlink out of the dataset");
        }
    }

    #[test]
    fn annotation_folders_stand_for_their_dataset() {
        let dir = tempfile::tempdir().unwrap();
        let ann = dir.path().join("set/annotations");
        std::fs::create_dir_all(&ann).unwrap();
        std::fs::write(ann.join("instances.json"), b"{}").unwrap();
        assert_eq!(dataset_root(&ann.join("instances.json")), dir.path().join("set"));
        assert_eq!(dataset_root(&ann), dir.path().join("set"));
        assert_eq!(dataset_root(&dir.path().join("set")), dir.path().join("set"));
    }
}
