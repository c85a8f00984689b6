//! Provisions the ONNX Runtime library, the default OCR models and PDFium at build time, so the
//! binary never downloads anything: `pip download` of the wheels pinned in
//! `packaging/provision/runtime.lock` (pip's own configured index), sha256 checks of each
//! wheel and each extracted file, into `<target-dir>/facture-runtime/`. A failure is a
//! warning, never a failed build: the model pass then tells the user what to run.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

const LOCK: &str = "packaging/provision/runtime.lock";

struct Wheel {
    requirement: String,
    file: String,
    sha256: String,
}

struct Member {
    wheel: String,
    inner: String,
    dest: String,
    sha256: String,
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={LOCK}");
    println!("cargo:rerun-if-env-changed=FACTURE_SKIP_PROVISION");
    println!("cargo:rerun-if-env-changed=FACTURE_PYTHON");

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let runtime_dir = runtime_dir(&out_dir);
    // Always exported, so the binary can name the place and the command even when empty.
    println!("cargo:rustc-env=FACTURE_RUNTIME_DIR={}", runtime_dir.display());
    // `facture --version` names the pinned packages and the commit, provisioned or not.
    if let Ok((wheels, _)) = read_lock() {
        let pins: Vec<&str> = wheels.iter().map(|w| w.requirement.as_str()).collect();
        println!("cargo:rustc-env=FACTURE_RUNTIME_PINS={}", pins.join(" "));
    }
    println!("cargo:rustc-env=FACTURE_GIT_COMMIT={}", git_commit());

    if std::env::var("FACTURE_SKIP_PROVISION").is_ok_and(|v| v == "1") {
        println!("cargo:warning=FACTURE_SKIP_PROVISION=1: ONNX Runtime and OCR models not provisioned");
        return;
    }
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if os != "linux" || arch != "x86_64" {
        println!(
            "cargo:warning=no pinned ONNX Runtime wheel for {arch}-{os}: pass --ort-lib and FACTURE_MODEL_DIR at run time"
        );
        return;
    }
    if let Err(e) = provision(&runtime_dir) {
        println!("cargo:warning=model pass and PDF support not provisioned ({e}); the rest of Facture works.");
        println!(
            "cargo:warning=to provision: install python3 with pip, make the package index reachable, then `touch build.rs && cargo build`"
        );
    }
}

/// The commit being built: `FACTURE_GIT_COMMIT` (a source tarball's packager sets it), else
/// `git rev-parse` in the source tree, else empty. Reruns when HEAD or the branch moves.
fn git_commit() -> String {
    println!("cargo:rerun-if-env-changed=FACTURE_GIT_COMMIT");
    if let Ok(c) = std::env::var("FACTURE_GIT_COMMIT") {
        return c;
    }
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let Some(git_dir) = git(&["rev-parse", "--git-dir"]) else { return String::new() };
    let git_dir = PathBuf::from(git_dir);
    // (a path that does not exist would rerun this script on every build)
    let watch = |p: PathBuf| {
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    };
    watch(git_dir.join("HEAD"));
    if let Some(head_ref) = git(&["symbolic-ref", "-q", "HEAD"]) {
        // a loose ref; once packed it lives in packed-refs
        watch(git_dir.join(head_ref));
        watch(git_dir.join("packed-refs"));
    }
    git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_default()
}

/// `<target-dir>/facture-runtime`: the target dir is the ancestor of OUT_DIR that cargo
/// tags with CACHEDIR.TAG, so debug and release share one copy and `cargo clean` removes it.
fn runtime_dir(out_dir: &Path) -> PathBuf {
    out_dir.ancestors().find(|d| d.join("CACHEDIR.TAG").is_file()).unwrap_or(out_dir).join("facture-runtime")
}

fn provision(dir: &Path) -> Result<(), String> {
    let (wheels, members) = read_lock()?;
    if members.iter().all(|m| sha256_file(&dir.join(&m.dest)).is_ok_and(|h| h == m.sha256)) {
        return Ok(());
    }
    let wheel_dir = dir.join("wheels");
    std::fs::create_dir_all(&wheel_dir).map_err(|e| format!("cannot create {}: {e}", wheel_dir.display()))?;
    let python = std::env::var("FACTURE_PYTHON").unwrap_or_else(|_| "python3".into());
    for w in &wheels {
        let path = wheel_dir.join(&w.file);
        if sha256_file(&path).is_ok_and(|h| h == w.sha256) {
            continue;
        }
        let status = Command::new(&python)
            .args(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"])
            // the ONNX Runtime wheel is manylinux_2_28, PDFium's manylinux_2_17 (manylinux2014)
            .args(["--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_17_x86_64"])
            .args(["--python-version", "3.11"])
            .args(["--timeout", "60", "--retries", "2", "-d"])
            .arg(&wheel_dir)
            .arg(&w.requirement)
            .status()
            .map_err(|e| format!("cannot run `{python} -m pip`: {e}"))?;
        if !status.success() {
            return Err(format!("`pip download {}` failed ({status})", w.requirement));
        }
        let got = sha256_file(&path).map_err(|e| format!("pip did not produce {}: {e}", w.file))?;
        if got != w.sha256 {
            let _ = std::fs::remove_file(&path);
            return Err(format!("{} has sha256 {got}, the lock file pins {}", w.file, w.sha256));
        }
    }
    for m in &members {
        extract(&python, &wheel_dir.join(&m.wheel), &m.inner, &dir.join(&m.dest))?;
        let got = sha256_file(&dir.join(&m.dest)).map_err(|e| format!("{}: {e}", m.dest))?;
        if got != m.sha256 {
            return Err(format!("{} has sha256 {got}, the lock file pins {}", m.dest, m.sha256));
        }
    }
    // The wheels are only a download cache; the extracted files are what the binary uses.
    let _ = std::fs::remove_dir_all(&wheel_dir);
    Ok(())
}

/// Extracts one member with Python's zipfile (Python is needed for pip anyway), via a
/// temporary name so an interrupted build never leaves a truncated file behind.
fn extract(python: &str, wheel: &Path, inner: &str, dest: &Path) -> Result<(), String> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let tmp = dest.with_extension("part");
    let script = "import sys, zipfile, shutil\nwith zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], 'wb') as dst:\n    shutil.copyfileobj(src, dst)";
    let status = Command::new(python)
        .args(["-c", script])
        .arg(wheel)
        .arg(inner)
        .arg(&tmp)
        .status()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    if !status.success() {
        return Err(format!("cannot extract {inner} from {}", wheel.display()));
    }
    std::fs::rename(&tmp, dest).map_err(|e| format!("cannot write {}: {e}", dest.display()))
}

fn read_lock() -> Result<(Vec<Wheel>, Vec<Member>), String> {
    let text = std::fs::read_to_string(LOCK).map_err(|e| format!("cannot read {LOCK}: {e}"))?;
    let (mut wheels, mut members) = (Vec::new(), Vec::new());
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["wheel", req, file, sha] => {
                wheels.push(Wheel { requirement: req.into(), file: file.into(), sha256: sha.into() })
            }
            ["file", wheel, inner, dest, sha] => {
                members.push(Member { wheel: wheel.into(), inner: inner.into(), dest: dest.into(), sha256: sha.into() })
            }
            _ => return Err(format!("{LOCK}: cannot parse line `{line}`")),
        }
    }
    Ok((wheels, members))
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}
