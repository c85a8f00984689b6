//! The desktop window (eframe/egui): start screen, queue, canvas, palette, status line.
//! Panels draw runtime state and push [`crate::app::Command`]s; one call per frame applies
//! them. No SQL and no file I/O here beyond what the app layer offers.

mod annotator;
mod annotator_ui;
mod app;
mod boxstyle_ui;
mod canvas_ui;
mod dataset_ui;
mod dialogs;
mod draw;
mod extension;
mod guideline_ui;
mod label_map_ui;
mod open_offer_ui;
mod palette_ui;
mod prelabel_ui;
mod queue_ui;
mod review_draw;
mod review_state;
mod review_ui;
mod schema_ui;
mod shortcuts;
mod start_ui;
mod stats_plots;
mod stats_ui;
mod tags_ui;
mod text_edit_ui;
mod tiles_ui;

use eframe::egui;

pub use annotator::{After, Annotator, PageState, QueueFilter, Status};
pub use app::FactureApp;
pub use dataset_ui::DatasetPanel;
pub use dialogs::{FileDialogs, RfdDialogs, ScriptedDialogs};
pub use extension::{Extension, ExtensionCtx};
pub use prelabel_ui::PrelabelPanel;
pub use review_state::{DocReview, ReviewState, WorkView};
pub use shortcuts::{Action, ReviewKey, SHORTCUTS, Shortcut};
pub use stats_ui::{Col as StatsColumn, StatsState};
pub use text_edit_ui::TEXT_FIELD_ID;

/// How the binary opens the window.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The workspace (already resolved: the given one, or the demo workspace's file).
    pub workspace: crate::store::Workspace,
    /// The demo workspace: preselect its annotator on the start screen.
    pub demo: bool,
    /// Documents and folders the window was asked to open (from a file manager): it offers
    /// to import them.
    pub documents: Vec<std::path::PathBuf>,
}

/// The window's icon: the packaged 256 px PNG, compiled in (a window manager without the
/// desktop file's icon still shows it).
pub fn window_icon() -> std::sync::Arc<egui::IconData> {
    const PNG: &[u8] = include_bytes!("../../assets/icons/facture-256.png");
    let icon = image::load_from_memory_with_format(PNG, image::ImageFormat::Png)
        .map(|i| {
            let rgba = i.to_rgba8();
            egui::IconData { width: rgba.width(), height: rgba.height(), rgba: rgba.into_raw() }
        })
        // compiled-in bytes, checked by a test; a window without an icon still works
        .unwrap_or_default();
    std::sync::Arc::new(icon)
}

/// Opens the window and runs until it is closed.
pub fn run(opts: RunOptions) -> anyhow::Result<()> {
    run_with(opts, Vec::new())
}

/// Like [`run`], with feature panels (pre-annotation jobs, review, stats) plugged in.
pub fn run_with(opts: RunOptions, extensions: Vec<Box<dyn Extension>>) -> anyhow::Result<()> {
    let title = format!("Facture — {}", opts.workspace);
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(title)
            .with_app_id(crate::APP_ID)
            .with_icon(window_icon())
            .with_inner_size([1440.0, 900.0])
            .with_min_inner_size([800.0, 500.0]),
        ..Default::default()
    };
    let settings_path = crate::app::settings::Settings::default_path();
    eframe::run_native(
        "Facture",
        native,
        Box::new(move |_cc| {
            let mut app = FactureApp::new(opts.workspace.clone(), opts.demo, settings_path, Box::new(RfdDialogs));
            for ext in extensions {
                app.add_extension(ext);
            }
            app.offer_import(opts.documents);
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
