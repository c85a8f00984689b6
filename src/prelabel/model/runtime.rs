//! Finding and loading ONNX Runtime and the model files, with errors that say what to do.
//! Never `ort::init()` without a path: with nothing configured it panics.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::SessionBuilder;

use super::ModelError;

/// The library file the build provisions (packaging/provision/runtime.lock).
pub const ORT_LIB_NAME: &str = "libonnxruntime.so.1.31.1";
/// What the user runs to (re)provision the runtime and the default models.
pub const PROVISION_HINT: &str = "run `touch build.rs && cargo build` in the Facture source tree \
     (needs python3 with pip and the package index; see assets/models/PROVENANCE.md), or pass \
     --ort-lib / set ORT_DYLIB_PATH and FACTURE_MODEL_DIR";

pub use crate::provisioned::search_dirs;

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The runtime library: `explicit` (--ort-lib), else `ORT_DYLIB_PATH`, else the first of
/// [`search_dirs`] that has it (the install's `../lib/facture`, then the build's own). An explicit path that does not exist is an error, never
/// silently replaced by another library.
pub fn find_runtime(explicit: Option<&Path>) -> Result<PathBuf, ModelError> {
    if let Some(p) = explicit.map(Path::to_path_buf).or_else(|| env_path("ORT_DYLIB_PATH")) {
        return if p.is_file() { Ok(p) } else { Err(ModelError::RuntimeNotFound { tried: vec![p] }) };
    }
    let tried: Vec<PathBuf> = search_dirs().into_iter().map(|d| d.join(ORT_LIB_NAME)).collect();
    tried.iter().find(|p| p.is_file()).cloned().ok_or(ModelError::RuntimeNotFound { tried })
}

/// The model directory: `explicit`, else `FACTURE_MODEL_DIR`, else `models` in the first of
/// [`search_dirs`] that has one.
pub fn find_model_dir(explicit: Option<&Path>) -> Result<PathBuf, ModelError> {
    if let Some(p) = explicit.map(Path::to_path_buf).or_else(|| env_path("FACTURE_MODEL_DIR")) {
        return if p.is_dir() { Ok(p) } else { Err(ModelError::ModelDirNotFound { tried: vec![p] }) };
    }
    let tried: Vec<PathBuf> = search_dirs().into_iter().map(|d| d.join("models")).collect();
    tried.iter().find(|p| p.is_dir()).cloned().ok_or(ModelError::ModelDirNotFound { tried })
}

/// The library loaded into this process and its environment; ONNX Runtime can be loaded once.
static LOADED: Mutex<Option<(PathBuf, Environment)>> = Mutex::new(None);

/// Loads ONNX Runtime from `lib` once per process. A process cannot unload it, so a later
/// call with another library is an error that says to restart.
pub fn init_once(lib: &Path) -> Result<Environment, ModelError> {
    let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    let abs = std::fs::canonicalize(lib).unwrap_or_else(|_| lib.to_path_buf());
    let load_err = |reason: String| ModelError::RuntimeLoad { path: lib.to_path_buf(), reason };
    if let Some((first, env)) = loaded.as_ref() {
        if *first == abs {
            return Ok(env.clone());
        }
        return Err(load_err(format!(
            "this process already loaded ONNX Runtime from {}; restart Facture to switch",
            first.display()
        )));
    }
    let env = ort::init_from(&abs)
        .map_err(|e| load_err(e.to_string()))?
        .with_name("facture")
        .build()
        .map_err(|e| load_err(e.to_string()))?;
    *loaded = Some((abs, env.clone()));
    Ok(env)
}

/// Opens one model file with `threads` intra-op threads.
pub fn open_session(env: &Environment, path: &Path, threads: usize) -> Result<Session, ModelError> {
    if !path.is_file() {
        return Err(ModelError::ModelNotFound { path: path.to_path_buf() });
    }
    builder(env, path, threads)?.commit_from_file(path).map_err(|e| load_error(path, e))
}

/// Opens a model held in memory (e.g. edited after reading `path`, named in errors).
pub fn open_session_from_memory(
    env: &Environment,
    path: &Path,
    model: &[u8],
    threads: usize,
) -> Result<Session, ModelError> {
    builder(env, path, threads)?.commit_from_memory(model).map_err(|e| load_error(path, e))
}

/// `model` after ONNX Runtime's basic graph optimisations (constant folding, Conv+Add and
/// Conv+BatchNormalization fusion, Identity removal), which depend only on the graph, not
/// on the machine. ONNX Runtime can only write the optimised graph to a file: it goes into a
/// fresh directory only this process created (never a predictable path another user could
/// plant a link at), is read back, and the directory is removed.
pub fn optimize_basic(env: &Environment, path: &Path, model: &[u8]) -> Result<Vec<u8>, ModelError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "facture-{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let mut create = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut create, 0o700);
    // fails if anything already exists at that path
    create.create(&dir).map_err(|e| load_error(path, format!("cannot create {}: {e}", dir.display())))?;
    let tmp = dir.join("basic.onnx");
    let result = builder(env, path, 1)?
        .with_optimization_level(ort::session::builder::GraphOptimizationLevel::Level1)
        .map_err(|e| load_error(path, e))?
        .with_optimized_model_path(&tmp)
        .map_err(|e| load_error(path, e))?
        .commit_from_memory(model)
        .map_err(|e| load_error(path, e))
        .and_then(|_session| std::fs::read(&tmp).map_err(|e| load_error(path, e)));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A session builder with `threads` intra-op threads and one inter-op thread.
fn builder(env: &Environment, path: &Path, threads: usize) -> Result<SessionBuilder, ModelError> {
    Session::builder(env)
        .map_err(|e| load_error(path, e))?
        .with_intra_threads(threads.max(1))
        .map_err(|e| load_error(path, e))?
        .with_inter_threads(1)
        .map_err(|e| load_error(path, e))
}

fn load_error(path: &Path, e: impl std::fmt::Display) -> ModelError {
    ModelError::ModelLoad { path: path.to_path_buf(), reason: e.to_string() }
}

/// Rank of each input and output (-1 for unknown dims) to tell model kinds apart.
pub fn io_shapes(session: &Session) -> (Vec<Vec<i64>>, Vec<Vec<i64>>) {
    let shape = |o: &ort::value::Outlet| o.dtype().tensor_shape().map(|s| s.to_vec()).unwrap_or_default();
    (session.inputs().iter().map(shape).collect(), session.outputs().iter().map(shape).collect())
}
