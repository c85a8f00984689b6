//! Application layer: commands, undo/redo and background jobs; the only code that calls the
//! store and the pre-annotation sources. The UI emits commands; this layer applies them.

pub mod canvas;
pub mod commands;
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
