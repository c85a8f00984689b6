//! Pre-annotation in the window: "Propose (CV)", "Suggest (model)", "Text layer" (a PDF's
//! own text) and "Best" (text layer where there is one, else the model) for this page or the
//! whole queue, re-reading text (Ctrl+R selected, Ctrl+Shift+R all), run in the background
//! with progress and cancel. Suggestions land through the command layer; accepting and
//! rejecting them is the annotator window's job.

use eframe::egui;

use crate::app::prelabel_job::{JobEvent, JobHandle, JobKind, spawn};
use crate::domain::DocId;
use crate::prelabel::model::ModelConfig;
use crate::ui::{Extension, ExtensionCtx};

/// Which documents a job covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Page,
    Queue,
}

struct Running {
    handle: JobHandle,
    what: String,
    done: usize,
    total: usize,
    phase: String,
}

/// The pre-annotation toolbar buttons and progress section.
pub struct PrelabelPanel {
    model: ModelConfig,
    scope: Scope,
    running: Option<Running>,
    last: Option<String>,
    failures: Vec<String>,
}

impl PrelabelPanel {
    pub fn new(model: ModelConfig) -> Self {
        Self { model, scope: Scope::Page, running: None, last: None, failures: Vec::new() }
    }

    fn start(&mut self, cx: &mut ExtensionCtx<'_>, kind: JobKind, what: &str) {
        if self.running.is_some() {
            cx.set_status("a pre-annotation job is already running; cancel it or wait");
            return;
        }
        let docs: Vec<DocId> = match (self.scope, cx.document) {
            (Scope::Page, Some(d)) => vec![d.id],
            (Scope::Page, None) => return cx.set_status("open a document first"),
            (Scope::Queue, _) => {
                cx.queue.iter().filter(|d| d.status.is_editable_by_annotator()).map(|d| d.id).collect()
            }
        };
        if docs.is_empty() {
            return cx.set_status("no document in the queue can take suggestions");
        }
        let handle = spawn(cx.workspace.clone(), cx.user.clone(), docs.clone(), kind);
        self.failures.clear();
        self.running =
            Some(Running { handle, what: what.into(), done: 0, total: docs.len(), phase: "starting".into() });
    }

    fn reread(&mut self, cx: &mut ExtensionCtx<'_>, selected_only: bool) {
        let boxes = if selected_only { cx.selection.clone() } else { Vec::new() };
        if selected_only && boxes.is_empty() {
            return cx.set_status("select the boxes to re-read first");
        }
        let scope = std::mem::replace(&mut self.scope, Scope::Page);
        self.start(cx, JobKind::Reread { config: self.model.clone(), boxes }, "Re-reading text");
        self.scope = scope;
    }
}

impl Extension for PrelabelPanel {
    fn title(&self) -> &str {
        "Pre-annotation"
    }

    fn logic(&mut self, cx: &mut ExtensionCtx<'_>) {
        let (ctrl_r, ctrl_shift_r) = cx.egui_ctx().input(|i| {
            let r = i.key_pressed(egui::Key::R) && i.modifiers.command;
            (r && !i.modifiers.shift, r && i.modifiers.shift)
        });
        if ctrl_r {
            self.reread(cx, true);
        } else if ctrl_shift_r {
            self.reread(cx, false);
        }
        let Some(run) = self.running.as_mut() else { return };
        // what the annotator has selected (and may be typing into) is theirs: the pass leaves it
        run.handle.control.hold(&cx.selection);
        let current = cx.document.map(|d| d.id);
        let mut finished = None;
        while let Ok(ev) = run.handle.events.try_recv() {
            match ev {
                JobEvent::Progress { done, total, phase } => (run.done, run.total, run.phase) = (done, total, phase),
                JobEvent::Changed(doc) => {
                    if Some(doc) == current {
                        cx.request_reload();
                    }
                }
                JobEvent::DocFailed { doc, reason } => self.failures.push(format!("document {doc}: {reason}")),
                JobEvent::Finished { summary } => finished = Some(format!("{}: {summary}", run.what)),
                JobEvent::Failed(reason) => finished = Some(format!("{} failed: {reason}", run.what)),
            }
        }
        if let Some(msg) = finished {
            cx.set_status(msg.clone());
            cx.request_reload();
            self.last = Some(msg);
            self.running = None;
        } else {
            // Keep polling while the worker runs, even without input.
            cx.egui_ctx().request_repaint_after(std::time::Duration::from_millis(100));
        }
    }

    fn toolbar_ui(&mut self, ui: &mut egui::Ui, cx: &mut ExtensionCtx<'_>) {
        let busy = self.running.is_some();
        ui.add_enabled_ui(!busy, |ui| {
            if ui.button("Propose (CV)").on_hover_text("Classic computer-vision line proposals").clicked() {
                self.start(cx, JobKind::Cv(Default::default()), "CV proposals");
            }
            if ui.button("Suggest (model)").on_hover_text("OCR model: line boxes and their text").clicked() {
                self.start(cx, JobKind::Model(self.model.clone()), "Model suggestions");
            }
            let hint = "A born-digital PDF page's own text layer: every line with its exact text, no model";
            if ui.button("Text layer").on_hover_text(hint).clicked() {
                self.start(cx, JobKind::PdfText, "Text-layer suggestions");
            }
            let hint = "Per page, the best there is: a PDF's text layer where it has one, else the OCR model";
            if ui.button("Best").on_hover_text(hint).clicked() {
                self.start(cx, JobKind::BestAvailable(self.model.clone()), "Best-available suggestions");
            }
            let hint = "Field labels for the boxes that have none (a label anyone gave is kept), from the \
                        invoice rules and the model learned from this workspace's reviewed documents; one undo step";
            if ui.button("Label suggestions").on_hover_text(hint).clicked() {
                self.start(cx, JobKind::Labels, "Label suggestions");
            }
        });
        let on = ui.label("on");
        egui::ComboBox::from_id_salt("prelabel_scope")
            .selected_text(match self.scope {
                Scope::Page => "this page",
                Scope::Queue => "the queue",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut self.scope, Scope::Page, "this page");
                ui.selectable_value(&mut self.scope, Scope::Queue, "the queue");
            })
            .response
            .labelled_by(on.id);
    }

    fn side_panel_ui(&mut self, ui: &mut egui::Ui, cx: &mut ExtensionCtx<'_>) {
        match &self.running {
            Some(run) => {
                ui.label(format!("{} — {}", run.what, run.phase));
                let frac = if run.total == 0 { 0.0 } else { run.done as f32 / run.total as f32 };
                ui.add(egui::ProgressBar::new(frac).text(format!("{} / {} documents", run.done, run.total)));
                if ui.button("Cancel").clicked() {
                    run.handle.cancel();
                    cx.set_status("cancelling after the current document…");
                }
            }
            None => {
                ui.label("Ctrl+R re-reads the selected boxes, Ctrl+Shift+R every machine-made one.");
                if let Some(last) = &self.last {
                    ui.weak(last);
                }
            }
        }
        for f in self.failures.iter().take(5) {
            ui.colored_label(ui.visuals().error_fg_color, f);
        }
    }
}
