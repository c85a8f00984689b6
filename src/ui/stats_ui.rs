//! The leads' stats view (placeholder while it is built).

use eframe::egui;

#[derive(Default)]
pub struct StatsState {}

impl StatsState {
    pub fn poll(&mut self, _ctx: &egui::Context) {}
}

pub fn stats_ui(
    _a: &mut super::annotator::Annotator,
    ui: &mut egui::Ui,
    _dialogs: &mut dyn super::dialogs::FileDialogs,
) {
    ui.heading("Stats");
}
