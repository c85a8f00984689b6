//! The selected boxes' flags (difficult, illegible, handwritten) and the open document's tags
//! (as the workspace's tag schema defines them), in the right panel. Each change is one
//! command (`SetFlags`, `SetTags`) through the annotator's queue: logged, undoable, and
//! checked by the app layer. The tag schema is read on the store worker.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use eframe::egui;

use super::annotator::{After, Annotator};
use crate::app::Command;
use crate::app::desk::Desk;
use crate::domain::{AnnId, AnnState, Annotation, BoxFlags, DocId, TagSchema};

/// "difficult" → "Difficult".
fn title(name: &str) -> String {
    let mut c = name.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn flag_hint(flag: BoxFlags) -> &'static str {
    match flag {
        BoxFlags::DIFFICULT => "Hard to box or to read: training may weigh or skip it (PPOCR's \"difficult\")",
        BoxFlags::ILLEGIBLE => "The text cannot be read with confidence",
        BoxFlags::HANDWRITTEN => "Written by hand rather than printed",
        _ => "",
    }
}

/// One checkbox per flag of the selected boxes, under the box's details (and the suggestion
/// controls, whose place stays put): ticked when every selected box has it, half-ticked when
/// some do. Suggestions are accepted or rejected first, so only active boxes are flagged.
pub(crate) fn flags_ui(a: &mut Annotator, ui: &mut egui::Ui, selection: &[AnnId]) {
    let Some(doc) = a.doc.as_ref().map(|d| d.id) else { return };
    let active: Vec<&Annotation> =
        selection.iter().filter_map(|id| a.annotation(*id)).filter(|x| x.state == AnnState::Active).collect();
    let ids: Vec<AnnId> = active.iter().map(|x| x.id).collect();
    let flags: Vec<BoxFlags> = active.iter().map(|x| x.flags).collect();
    if flags.is_empty() {
        return;
    }
    if a.anns.iter().any(|x| x.state == AnnState::Suggested) {
        // the suggestion controls stand between the box's details and its flags
        ui.separator();
    }
    let enabled = a.editable();
    let mut toggled = None;
    ui.horizontal_wrapped(|ui| {
        for (flag, name) in BoxFlags::ALL {
            let with = flags.iter().filter(|f| f.contains(flag)).count();
            let mut on = with == flags.len();
            let check = egui::Checkbox::new(&mut on, title(name)).indeterminate(with > 0 && with < flags.len());
            if ui.add_enabled(enabled, check).on_hover_text(flag_hint(flag)).changed() {
                toggled = Some((flag, on));
            }
        }
    });
    if let Some((flag, on)) = toggled {
        a.push(Command::SetFlags { doc, ids, flag, on }, After::Nothing);
    }
}

/// The workspace's tag schema as last read on the store worker. Kept in egui's memory (per
/// workspace) and filled in by the worker's answer; read again for each document opened, as a
/// lead may change it meanwhile.
#[derive(Clone, Default)]
struct SchemaSlot {
    doc: Option<DocId>,
    read: Arc<Mutex<Option<Result<TagSchema, String>>>>,
}

fn tag_schema(a: &mut Annotator, ui: &egui::Ui, doc: DocId) -> Option<Result<TagSchema, String>> {
    let id = egui::Id::unique(("facture_doc_tag_schema", a.workspace().to_string()));
    let mut slot: SchemaSlot = ui.data(|d| d.get_temp(id)).unwrap_or_default();
    if slot.doc != Some(doc) {
        slot.doc = Some(doc);
        let into = Arc::clone(&slot.read);
        a.on_desk(move |desk: &mut Desk| {
            let read = desk.session.store().tag_schema().map_err(|e| e.to_string());
            Box::new(move |_: &mut Annotator| {
                *into.lock().unwrap_or_else(|e| e.into_inner()) = Some(read);
            })
        });
        ui.data_mut(|d| d.insert_temp(id, slot.clone()));
    }
    slot.read.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The open document's tags at the foot of the panel: one choice per tag of the schema,
/// "(none)" first.
pub(crate) fn tags_ui(a: &mut Annotator, ui: &mut egui::Ui) {
    let Some(doc) = a.doc.as_ref().map(|d| d.id) else { return };
    let schema = match tag_schema(a, ui, doc) {
        None => return,
        Some(Err(e)) => {
            ui.separator();
            ui.weak(format!("Cannot read the document tags: {e}"));
            return;
        }
        Some(Ok(s)) if s.tags.is_empty() => return,
        Some(Ok(s)) => s,
    };
    let current = a.doc.as_ref().map(|d| d.tags.clone()).unwrap_or_default();
    ui.separator();
    ui.strong("Tags");
    let enabled = a.editable();
    let mut chosen: Option<(String, Option<String>)> = None;
    for tag in &schema.tags {
        let now = current.get(&tag.name).filter(|v| tag.values.contains(v)).cloned();
        let mut pick = now.clone();
        ui.add_enabled_ui(enabled, |ui| {
            egui::ComboBox::new(("doc_tag", &tag.name), title(&tag.name).replace('_', " "))
                .selected_text(pick.as_deref().unwrap_or("(none)"))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut pick, None, "(none)");
                    for v in &tag.values {
                        ui.selectable_value(&mut pick, Some(v.clone()), v);
                    }
                });
        });
        if pick != now {
            chosen = Some((tag.name.clone(), pick));
        }
    }
    // a tag or value the schema no longer has stays on the document until its tags change
    let stale: Vec<String> =
        current.iter().filter(|(k, v)| !fits(&schema, k, v)).map(|(k, v)| format!("{k}={v}")).collect();
    if !stale.is_empty() {
        ui.weak(format!("Not in the workspace's tags (dropped on the next change): {}", stale.join(", ")));
    }
    if let Some((name, value)) = chosen {
        let mut tags: BTreeMap<String, String> = current.into_iter().filter(|(k, v)| fits(&schema, k, v)).collect();
        match value {
            Some(v) => tags.insert(name, v),
            None => tags.remove(&name),
        };
        a.push(Command::SetTags { doc, tags }, After::Nothing);
    }
}

/// Whether the schema has the tag with this value.
fn fits(schema: &TagSchema, name: &str, value: &str) -> bool {
    schema.tags.iter().any(|t| t.name == name && t.values.iter().any(|v| v == value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_fitting_tags() {
        assert_eq!(title("difficult"), "Difficult");
        assert_eq!(title(""), "");
        let schema = TagSchema::default();
        assert!(fits(&schema, "language", "de"));
        assert!(!fits(&schema, "language", "xx"));
        assert!(!fits(&schema, "colour", "de"));
    }
}
