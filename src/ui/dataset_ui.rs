//! Dataset export and import in the window (leads), in the background with progress.

use eframe::egui;

use crate::app::dataset_job::{DatasetEvent, DatasetJob, DatasetTask, spawn};
use crate::domain::Role;
use crate::formats::model::Format;
use crate::ui::{Extension, ExtensionCtx, FileDialogs};

pub struct DatasetPanel {
    dialogs: Box<dyn FileDialogs>,
    format: Format,
    all: bool,
    job: Option<(DatasetJob, String, usize, usize)>,
    last: Option<String>,
}

impl DatasetPanel {
    pub fn new(dialogs: Box<dyn FileDialogs>) -> Self {
        Self { dialogs, format: Format::Coco, all: false, job: None, last: None }
    }
}

impl Extension for DatasetPanel {
    fn title(&self) -> &str {
        "Datasets"
    }

    fn logic(&mut self, cx: &mut ExtensionCtx<'_>) {
        let Some((job, what, done, total)) = self.job.as_mut() else { return };
        let mut end = None;
        while let Ok(ev) = job.events.try_recv() {
            match ev {
                DatasetEvent::Progress { done: d, total: t } => (*done, *total) = (d, t),
                DatasetEvent::Finished(s) => end = Some(format!("{what}: {s}")),
                DatasetEvent::Failed(e) => end = Some(format!("{what} failed: {e}")),
            }
        }
        match end {
            Some(msg) => {
                cx.set_status(msg.clone());
                self.last = Some(msg);
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
        if let Some((job, what, done, total)) = &self.job {
            ui.label(what.as_str());
            let frac = if *total == 0 { 0.0 } else { *done as f32 / *total as f32 };
            ui.add(egui::ProgressBar::new(frac).text(format!("{done} / {total}")));
            if ui.button("Cancel").clicked() {
                job.cancel();
            }
            return;
        }
        ui.horizontal(|ui| {
            ui.label("format");
            egui::ComboBox::from_id_salt("dataset_format").selected_text(self.format.as_str()).show_ui(ui, |ui| {
                for f in Format::ALL {
                    ui.selectable_value(&mut self.format, f, f.as_str());
                }
            });
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
                self.job = Some((spawn(workspace.clone(), user, task), "Export".into(), 0, 0));
            }
            if ui.button("Import…").clicked()
                && let Some(path) = self.dialogs.pick_folder(&near)
            {
                let task = DatasetTask::Import { format: self.format, path };
                self.job = Some((spawn(workspace.clone(), user, task), "Import".into(), 0, 0));
            }
        });
        ui.weak("Export writes a new, empty folder; each export is a recorded dataset version.");
        if let Some(last) = &self.last {
            ui.weak(last);
        }
    }
}
