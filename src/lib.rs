//! Facture: annotate scanned invoices for document-AI training data.
//!
//! Layers, lowest first: [`domain`] (plain types) ← [`store`] (SQLite), [`formats`],
//! [`prelabel`], [`labeling`], [`metrics`], [`synth`], [`imageio`] ← [`app`] (commands, undo, jobs) ← `ui` (egui)
//! and [`cli`] (the command line).

pub mod app;
pub mod cli;
pub mod domain;
pub mod formats;
pub mod imageio;
pub mod labeling;
pub mod metrics;
pub mod pdf;
pub mod prelabel;
pub mod provisioned;
pub mod store;
pub mod synth;
pub mod ui;

/// The application id: the desktop file's and AppStream component's name, and the window's
/// app id on Wayland and WM_CLASS on X11, so the desktop groups the window with its icon.
pub const APP_ID: &str = "org.facture.Facture";
