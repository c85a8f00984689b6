//! The question a dataset import asks when the dataset's label names are not the schema's:
//! which label each foreign name's boxes get, or none. Import once every name is placed.

use std::collections::BTreeMap;

use eframe::egui;

use crate::app::dataset::LabelMap;
use crate::domain::Label;

/// Shown in a name's list for "import these boxes without a label".
pub const NO_LABEL: &str = "(no label)";

/// What one foreign name's boxes get.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Choice {
    Label(String),
    NoLabel,
}

struct Row {
    foreign: String,
    boxes: usize,
    choice: Option<Choice>,
}

/// The lead's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum MapAnswer {
    Import(LabelMap),
    Cancel,
}

pub struct LabelMapDialog {
    rows: Vec<Row>,
    /// Escape and Enter this frame, taken before the work view could act on them.
    escape: bool,
    enter: bool,
}

impl LabelMapDialog {
    /// Asks about each foreign name (with how many boxes carry it), none chosen yet.
    pub fn new(foreign: BTreeMap<String, usize>) -> Self {
        let rows = foreign.into_iter().map(|(foreign, boxes)| Row { foreign, boxes, choice: None }).collect();
        Self { rows, escape: false, enter: false }
    }

    /// Takes this frame's keys before the work view sees them (a label hotkey would label the
    /// selected box behind the dialog); call it before any UI. Escape and Enter are kept for
    /// the dialog.
    pub fn claim_keys(&mut self, ctx: &egui::Context) {
        ctx.input_mut(|i| {
            self.escape |= i.consume_key(egui::Modifiers::NONE, egui::Key::Escape);
            self.enter |= i.consume_key(egui::Modifiers::NONE, egui::Key::Enter);
            i.events.retain(|e| !matches!(e, egui::Event::Key { .. } | egui::Event::Text(_)));
        });
    }

    /// The mapping, once every name has a choice.
    fn map(&self) -> Option<LabelMap> {
        let mut map = LabelMap::default();
        for r in &self.rows {
            let target = match r.choice.as_ref()? {
                Choice::Label(name) => Some(name.clone()),
                Choice::NoLabel => None,
            };
            map.insert(r.foreign.clone(), target);
        }
        Some(map)
    }

    /// Draws the dialog over the window, offering the schema's labels that can be given;
    /// `Some` once the lead pressed Import (or Enter, once every name has a choice) or Cancel
    /// (or Escape, or clicked outside).
    pub fn modal_ui(&mut self, ctx: &egui::Context, labels: &[Label]) -> Option<MapAnswer> {
        let mut answer = None;
        let modal = egui::Modal::new(egui::Id::unique("dataset_label_map")).show(ctx, |ui| {
            ui.set_max_width(460.0);
            ui.heading("Map the dataset's labels");
            ui.label("These label names are not in the schema. Choose the label their boxes get, or (no label).");
            ui.add_space(6.0);
            egui::Grid::new("dataset_label_map_rows").num_columns(3).spacing([12.0, 6.0]).show(ui, |ui| {
                for (i, row) in self.rows.iter_mut().enumerate() {
                    let name = ui.label(row.foreign.as_str());
                    ui.weak(format!("{} box(es)", row.boxes));
                    let shown = match &row.choice {
                        None => "choose…",
                        Some(Choice::NoLabel) => NO_LABEL,
                        Some(Choice::Label(l)) => l.as_str(),
                    };
                    egui::ComboBox::from_id_salt(("dataset_label_map", i))
                        .selected_text(shown)
                        .show_ui(ui, |ui| {
                            for l in labels.iter().filter(|l| !l.retired) {
                                ui.selectable_value(&mut row.choice, Some(Choice::Label(l.name.clone())), &l.name);
                            }
                            ui.selectable_value(&mut row.choice, Some(Choice::NoLabel), NO_LABEL);
                        })
                        .response
                        .labelled_by(name.id);
                    ui.end_row();
                }
            });
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                let map = self.map();
                if ui.add_enabled(map.is_some(), egui::Button::new("Import")).clicked()
                    && let Some(map) = map
                {
                    answer = Some(MapAnswer::Import(map));
                }
                if ui.button("Cancel").clicked() {
                    answer = Some(MapAnswer::Cancel);
                }
            });
        });
        let (escape, enter) = (std::mem::take(&mut self.escape), std::mem::take(&mut self.enter));
        if answer.is_some() || !modal.is_top_modal {
            return answer;
        }
        // Escape or a click outside cancels, unless a list is open: then it only closes the
        // list. (Not `should_close`: choosing in a list closes the list, and that would close
        // the dialog too.)
        if modal.any_popup_open {
            if escape {
                egui::Popup::close_all(ctx);
            }
        } else if escape || modal.backdrop_response.clicked() {
            answer = Some(MapAnswer::Cancel);
        } else if enter {
            answer = self.map().map(MapAnswer::Import);
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mapping_is_ready_once_every_name_is_placed() {
        let mut d = LabelMapDialog::new(BTreeMap::from([("Datum".to_string(), 2), ("Stamp".to_string(), 1)]));
        assert_eq!(d.map(), None);
        d.rows[0].choice = Some(Choice::Label("invoice_date".into()));
        assert_eq!(d.map(), None);
        d.rows[1].choice = Some(Choice::NoLabel);
        let mut want = LabelMap::default();
        want.insert("Datum", Some("invoice_date".into()));
        want.insert("Stamp", None);
        assert_eq!(d.map(), Some(want));
    }
}
