//! Where the third-party files the build provisions live (ONNX Runtime, the OCR models,
//! PDFium; see build.rs and packaging/provision/runtime.lock), and which versions they are.
//!
//! An installed Facture finds them relative to its own executable, so an unpacked or moved
//! package works: `<prefix>/bin/facture` uses `<prefix>/lib/facture/`. A binary run from the
//! build tree falls back to the directory its build provisioned.

use std::path::{Path, PathBuf};

/// The install layout: `<prefix>/lib/facture` for `<prefix>/bin/facture`.
pub const INSTALL_SUBDIR: &str = "lib/facture";

/// Directory the build step provisioned, if it ran on this machine.
pub fn build_time_dir() -> Option<PathBuf> {
    option_env!("FACTURE_RUNTIME_DIR").map(PathBuf::from)
}

/// The runtime directories beside an executable at `exe`, most specific first:
/// `<exe dir>/../lib/facture` (an installed or unpacked package) and
/// `<exe dir>/facture-runtime` (a folder copied next to a bare binary).
pub fn beside(exe: &Path) -> Vec<PathBuf> {
    let Some(dir) = exe.parent() else { return Vec::new() };
    let mut out = Vec::new();
    if let Some(prefix) = dir.parent() {
        out.push(prefix.join(INSTALL_SUBDIR));
    }
    out.push(dir.join("facture-runtime"));
    out
}

/// Every directory searched for the runtime, in order: the ones beside this executable
/// (following a symlink to the real binary too), then the build's own. An install never
/// reaches into a build tree while its own copy is there.
pub fn search_dirs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        out.extend(beside(&exe));
        if let Ok(real) = std::fs::canonicalize(&exe)
            && real != exe
        {
            out.extend(beside(&real));
        }
    }
    out.extend(build_time_dir());
    let mut seen = std::collections::HashSet::new();
    out.retain(|d| seen.insert(d.clone()));
    out
}

/// The pinned third-party packages the runtime comes from (`name==version`, as in the lock).
pub fn pins() -> Vec<&'static str> {
    option_env!("FACTURE_RUNTIME_PINS").unwrap_or("").split_whitespace().collect()
}

/// The version pinned for `package` (e.g. "onnxruntime" → "1.31.1").
pub fn pinned_version(package: &str) -> Option<&'static str> {
    pins().into_iter().find_map(|p| p.strip_prefix(package)?.strip_prefix("=="))
}

/// The git commit this binary was built from ("unknown" outside a git checkout).
pub fn git_commit() -> &'static str {
    option_env!("FACTURE_GIT_COMMIT").filter(|c| !c.is_empty()).unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_installed_binary_looks_in_its_prefix_lib_first() {
        let dirs = beside(Path::new("/opt/x/usr/bin/facture"));
        assert_eq!(
            dirs,
            vec![PathBuf::from("/opt/x/usr/lib/facture"), PathBuf::from("/opt/x/usr/bin/facture-runtime")]
        );
    }

    #[test]
    fn the_build_pins_every_runtime_package() {
        // build.rs reads packaging/provision/runtime.lock even when provisioning is skipped
        for package in ["onnxruntime", "rapidocr", "pypdfium2"] {
            let v = pinned_version(package).unwrap_or_else(|| panic!("{package} not in {:?}", pins()));
            assert!(v.chars().next().is_some_and(|c| c.is_ascii_digit()), "{package}=={v}");
        }
        assert!(crate::prelabel::model::runtime::ORT_LIB_NAME.ends_with(pinned_version("onnxruntime").unwrap_or("?")));
    }
}
