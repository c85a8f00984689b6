//! Room for features that plug into the annotator later (pre-annotation jobs with their
//! "Propose (CV)" / "Suggest (model)" buttons, review verdicts, stats): they draw in the
//! toolbar or the side panel and push [`Command`]s into the same queue the canvas uses.

use eframe::egui;

use crate::app::Command;
use crate::domain::{AnnId, Annotation, Document, Label, User};

/// A feature shown inside the annotator window.
pub trait Extension {
    /// Section title in the side panel.
    fn title(&self) -> &str;
    /// Every frame before any UI (poll background jobs here); must not draw.
    fn logic(&mut self, _cx: &mut ExtensionCtx<'_>) {}
    /// Buttons in the toolbar's extension area, e.g. "Propose (CV)".
    fn toolbar_ui(&mut self, _ui: &mut egui::Ui, _cx: &mut ExtensionCtx<'_>) {}
    /// A collapsible section in the right panel (progress, review, stats).
    fn side_panel_ui(&mut self, _ui: &mut egui::Ui, _cx: &mut ExtensionCtx<'_>) {}
}

/// What an extension sees of the annotator this frame, and how it acts: by pushing commands,
/// which are applied after the UI pass in the one place all edits go through.
pub struct ExtensionCtx<'a> {
    pub workspace: &'a crate::store::Workspace,
    pub user: &'a User,
    pub labels: &'a [Label],
    /// The documents in the user's queue, as filtered.
    pub queue: &'a [Document],
    pub document: Option<&'a Document>,
    pub annotations: &'a [Annotation],
    pub selection: Vec<AnnId>,
    pub(crate) commands: &'a mut Vec<Command>,
    pub(crate) status: &'a mut Option<String>,
    pub(crate) repaint: &'a egui::Context,
    pub(crate) reload: &'a mut bool,
}

impl ExtensionCtx<'_> {
    /// Queues a command (e.g. `Command::AddSuggestions` when a job finishes).
    pub fn push(&mut self, cmd: Command) {
        self.commands.push(cmd);
    }

    /// A sentence for the status line.
    pub fn set_status(&mut self, message: impl Into<String>) {
        *self.status = Some(message.into());
    }

    /// The current document changed in the workspace behind the UI's back (e.g. a background
    /// job added suggestions): reload its boxes and status after this call.
    pub fn request_reload(&mut self) {
        *self.reload = true;
    }

    /// The egui context, e.g. to clone into a worker that calls `request_repaint`.
    pub fn egui_ctx(&self) -> &egui::Context {
        self.repaint
    }
}
