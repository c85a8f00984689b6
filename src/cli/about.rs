//! `facture --version`: what this binary is and which third-party runtime it will use, so a
//! bug report or an IT department's inventory names exact versions and paths.

use std::path::Path;

use crate::prelabel::model::runtime::{find_model_dir, find_runtime};
use crate::prelabel::model::spec::ModelSet;
use crate::provisioned::{git_commit, pinned_version};

/// `name==version` of a pinned package, or the bare name when the build had no lock.
fn pinned(package: &str) -> String {
    match pinned_version(package) {
        Some(v) => format!("{package} {v}"),
        None => package.to_string(),
    }
}

/// The version report, one fact per line: the binary, then ONNX Runtime, the OCR models and
/// PDFium with the file each resolves to (or where they were looked for).
pub fn version_text(ort_lib: Option<&Path>, model_dir: Option<&Path>) -> String {
    let mut out = vec![format!("facture {} (commit {})", env!("CARGO_PKG_VERSION"), git_commit())];
    let ort = pinned_version("onnxruntime").map(|v| format!("ONNX Runtime {v}")).unwrap_or("ONNX Runtime".into());
    out.push(match find_runtime(ort_lib) {
        Ok(p) => format!("{ort}: {}", p.display()),
        Err(e) => format!("{ort}: not found ({e})"),
    });
    out.push(match find_model_dir(model_dir) {
        Ok(dir) => match ModelSet::for_dir(&dir) {
            Ok(set) => {
                let files: Vec<String> = set
                    .models
                    .iter()
                    .map(|m| {
                        let file = m.file();
                        let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                        if dir.join(file).is_file() { name } else { format!("{name} (missing)") }
                    })
                    .collect();
                format!(
                    "OCR models {} from {}: {} in {}",
                    set.name.trim_start_matches("model:"),
                    pinned("rapidocr"),
                    files.join(", "),
                    dir.display()
                )
            }
            Err(e) => format!("OCR models: {e}"),
        },
        Err(e) => format!("OCR models: not found ({e})"),
    });
    out.push(match crate::pdf::find_library() {
        Ok(p) => format!("PDFium from {}: {}", pinned("pypdfium2"), p.display()),
        Err(tried) => format!("PDFium from {}: not found (looked in {tried})", pinned("pypdfium2")),
    });
    out.push(format!("int8 recogniser: {}", crate::prelabel::model::cpu_int8_path()));
    out.join("\n")
}
