//! Where the third-party files the build provisions live (ONNX Runtime, the OCR models,
//! PDFium; see build.rs and packaging/provision/runtime.lock).

use std::path::PathBuf;

/// Directory the build step provisioned, if it ran on this machine.
pub fn build_time_dir() -> Option<PathBuf> {
    option_env!("FACTURE_RUNTIME_DIR").map(PathBuf::from)
}

/// `<exe dir>/facture-runtime`, for packaged installs.
pub fn exe_dir() -> Option<PathBuf> {
    std::env::current_exe().ok()?.parent().map(|d| d.join("facture-runtime"))
}
