//! Dataset export and import in the window (leads), in the background with progress. An
//! import whose label names the schema lacks asks how to map them, then runs again.

use eframe::egui;

use super::label_map_ui::{LabelMapDialog, MapAnswer};
use crate::app::dataset_job::{DatasetEvent, DatasetJob, DatasetTask, spawn};
use crate::domain::{Role, UserId};
use crate::formats::model::Format;
use crate::store::Workspace;
use crate::ui::{Extension, ExtensionCtx, FileDialogs};

/// A job under way: what it is (to run it again with a mapping) and how far it got.
struct Running {
    job: DatasetJob,
    task: DatasetTask,
    what: String,
    done: usize,
    total: usize,
}

/// An import waiting for the lead to map its label names.
struct Asking {
    format: Format,
    path: std::path::PathBuf,
    dialog: LabelMapDialog,
}

pub struct DatasetPanel {
    dialogs: Box<dyn FileDialogs>,
    format: Format,
    all: bool,
    job: Option<Running>,
    asking: Option<Asking>,
    last: Option<String>,
}

impl DatasetPanel {
    pub fn new(dialogs: Box<dyn FileDialogs>) -> Self {
        Self { dialogs, format: Format::Coco, all: false, job: None, asking: None, last: None }
    }

    fn start(&mut self, workspace: &Workspace, user: Option<UserId>, task: DatasetTask, what: &str) {
        let job = spawn(workspace.clone(), user, task.clone());
        self.job = Some(Running { job, task, what: what.into(), done: 0, total: 0 });
    }
}

impl Extension for DatasetPanel {
    fn title(&self) -> &str {
        "Datasets"
    }

    fn logic(&mut self, cx: &mut ExtensionCtx<'_>) {
        if let Some(asking) = &mut self.asking {
            asking.dialog.claim_keys(cx.egui_ctx());
        }
        let Some(run) = self.job.as_mut() else { return };
        enum End {
            Said(String),
            Ask(std::collections::BTreeMap<String, usize>),
        }
        let mut end = None;
        while let Ok(ev) = run.job.events.try_recv() {
            match ev {
                DatasetEvent::Progress { done, total } => (run.done, run.total) = (done, total),
                DatasetEvent::Finished(s) => end = Some(End::Said(format!("{}: {s}", run.what))),
                DatasetEvent::Failed(e) => end = Some(End::Said(format!("{} failed: {e}", run.what))),
                DatasetEvent::NeedsMapping(foreign) => end = Some(End::Ask(foreign)),
            }
        }
        match end {
            Some(End::Said(msg)) => {
                cx.set_status(msg.clone());
                self.last = Some(msg);
                self.job = None;
            }
            Some(End::Ask(foreign)) => {
                if let DatasetTask::Import { format, path, .. } = run.task.clone() {
                    self.asking = Some(Asking { format, path, dialog: LabelMapDialog::new(foreign) });
                }
                self.job = None;
            }
            None => cx.egui_ctx().request_repaint_after(std::time::Duration::from_millis(100)),
        }
    }

    fn side_panel_ui(&mut self, ui: &mut egui::Ui, cx: &mut ExtensionCtx<'_>) {
        if cx.user.role != Role::Lead {
            ui.weak("Leads export and import datasets.");
            return;
        }
        if let Some(run) = &self.job {
            ui.label(run.what.as_str());
            let frac = if run.total == 0 { 0.0 } else { run.done as f32 / run.total as f32 };
            ui.add(egui::ProgressBar::new(frac).text(format!("{} / {}", run.done, run.total)));
            if ui.button("Cancel").clicked() {
                run.job.cancel();
            }
            return;
        }
        if let Some(asking) = &mut self.asking {
            ui.weak("The import waits for its labels to be mapped.");
            match asking.dialog.modal_ui(ui.ctx(), cx.labels) {
                None => return,
                Some(MapAnswer::Cancel) => {
                    self.asking = None;
                    let msg = "Import cancelled: nothing was imported".to_string();
                    cx.set_status(msg.clone());
                    self.last = Some(msg);
                }
                Some(MapAnswer::Import(map)) => {
                    let task = DatasetTask::Import { format: asking.format, path: asking.path.clone(), map };
                    self.asking = None;
                    self.start(cx.workspace, Some(cx.user.id), task, "Import");
                }
            }
            return;
        }
        ui.horizontal(|ui| {
            let label = ui.label("format");
            egui::ComboBox::from_id_salt("dataset_format")
                .selected_text(self.format.as_str())
                .show_ui(ui, |ui| {
                    for f in Format::ALL {
                        ui.selectable_value(&mut self.format, f, f.as_str());
                    }
                })
                .response
                .labelled_by(label.id);
        });
        ui.checkbox(&mut self.all, "all documents, not only accepted");
        let workspace = cx.workspace.clone();
        // dialogs start beside a workspace file (a server workspace has no folder here)
        let near = workspace
            .file()
            .and_then(|f| f.parent())
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(|| std::path::PathBuf::from("."));
        let user = Some(cx.user.id);
        ui.horizontal(|ui| {
            if ui.add_enabled(self.format.can_export(), egui::Button::new("Export…")).clicked()
                && let Some(out) = self.dialogs.pick_folder(&near)
            {
                let task = DatasetTask::Export { format: self.format, out, all: self.all };
                self.start(&workspace, user, task, "Export");
            }
            if ui.button("Import…").clicked()
                && let Some(path) = self.dialogs.pick_folder(&near)
            {
                // label names the schema lacks come back as a question (nothing written)
                let task = DatasetTask::Import { format: self.format, path, map: Default::default() };
                self.start(&workspace, user, task, "Import");
            }
        });
        ui.weak("Export writes a new, empty folder; each export is a recorded dataset version.");
        if let Some(last) = &self.last {
            ui.weak(last);
        }
    }
}
