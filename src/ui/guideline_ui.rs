//! The guideline of the selected box's label (F1) with the examples leads pinned to it ("This
//! is one", "This is not"), and the lead's buttons that pin the selected box. Examples come
//! from the store worker through the app layer; their textures are kept by example id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use eframe::egui;
use egui::{Color32, RichText};

use crate::app::CommandError;
use crate::app::desk::Desk;
use crate::app::guidelines::{self, ExampleImage};
use crate::domain::{AnnId, AnnState, Annotation, ExampleId, Label, LabelId, Role};

use super::annotator::{Annotator, Status};

/// Widest an example crop is shown in the side panel (narrower crops keep their size).
const MAX_SHOWN_WIDTH: f32 = 360.0;
const GOOD_GREEN: Color32 = Color32::from_rgb(40, 140, 60);
const BAD_RED: Color32 = Color32::from_rgb(190, 50, 40);

/// The examples of one label as last read, with their textures.
#[derive(Default)]
struct GuideState {
    /// Whose examples `examples` are (None: nothing read yet).
    label: Option<LabelId>,
    examples: Vec<ExampleImage>,
    textures: HashMap<ExampleId, egui::TextureHandle>,
    /// A read is on its way.
    loading: bool,
    /// Read again: a pin or unpin was made here.
    stale: bool,
    /// The window's count of saved edits when last read: an undo or any other edit of the
    /// person's reads again.
    seen_edits: u64,
    /// What the last read failed with.
    error: Option<String>,
    /// The note typed for the next pin.
    note: String,
    /// A lead's edits of pinned examples' notes, until saved (on leaving the field).
    drafts: HashMap<ExampleId, String>,
}

/// Kept in the context's memory (one per window), shared with the store worker's replies.
type Shared = Arc<Mutex<GuideState>>;

fn shared(ctx: &egui::Context) -> Shared {
    ctx.data_mut(|d| d.get_temp_mut_or_default::<Shared>(egui::Id::unique("facture_guideline_examples")).clone())
}

fn lock(s: &Shared) -> MutexGuard<'_, GuideState> {
    // a panel that panicked mid-frame left plain data behind: still fine to show
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// The guideline panel under the palette (F1): the selected box's label, its guideline and
/// its examples.
pub(super) fn guideline_ui(a: &mut Annotator, ui: &mut egui::Ui, selection: &[AnnId]) {
    ui.separator();
    let label: Option<Label> =
        selection.first().and_then(|id| a.annotation(*id)).and_then(|ann| ann.label).and_then(|l| a.label(l)).cloned();
    let st = shared(ui.ctx());
    if let Some(l) = &label {
        read_examples(a, &st, l.id);
    }
    let lead = a.user().role == Role::Lead;
    let mut unpin = None;
    egui::Frame::group(ui.style()).show(ui, |ui| match &label {
        Some(l) => {
            ui.label(RichText::new(format!("Guideline — {}", l.display_name())).strong());
            if l.retired {
                ui.weak("Retired: boxes keep it, but it is not given anew.");
            }
            if l.guideline.trim().is_empty() {
                ui.weak("No guideline written yet.");
            } else {
                ui.label(&l.guideline);
            }
            unpin = examples_ui(ui, &mut lock(&st), l.id, lead);
        }
        None => {
            ui.label(RichText::new("Guideline").strong());
            ui.weak("Select a labelled box to see its label's guideline (F1 hides this).");
        }
    });
    match unpin {
        Some(Edit::Unpin(id)) => ask(a, &st, Ask::Unpin(id)),
        Some(Edit::Note(id, note)) => ask(a, &st, Ask::Note(id, note)),
        None => {}
    }
}

/// What a lead did to a pinned example.
enum Edit {
    Unpin(ExampleId),
    Note(ExampleId, String),
}

/// Asks the store worker for `label`'s examples unless they are held and current.
fn read_examples(a: &mut Annotator, st: &Shared, label: LabelId) {
    let mut s = lock(st);
    let due = s.label != Some(label) || s.stale || s.seen_edits != a.edits_saved;
    if !due || s.loading {
        return;
    }
    s.loading = true;
    s.stale = false;
    s.seen_edits = a.edits_saved;
    drop(s);
    let reply_to = st.clone();
    let sent = a.on_desk(move |desk: &mut Desk| {
        let read = guidelines::example_images(desk.session.store(), label).map_err(|e| e.to_string());
        Box::new(move |_: &mut Annotator| {
            let mut s = lock(&reply_to);
            s.loading = false;
            s.label = Some(label);
            match read {
                Ok(examples) => {
                    s.textures.retain(|id, _| examples.iter().any(|e| e.example.id == *id));
                    // a note being typed stays; an untouched one follows the store (an undo)
                    let old: HashMap<ExampleId, String> =
                        s.examples.iter().map(|e| (e.example.id, e.example.note.clone())).collect();
                    s.drafts.retain(|id, d| {
                        examples.iter().any(|e| e.example.id == *id) && old.get(id).is_some_and(|n| n != d)
                    });
                    s.examples = examples;
                    s.error = None;
                }
                Err(e) => {
                    s.examples.clear();
                    s.error = Some(format!("Cannot read the examples: {e}"));
                }
            }
        })
    });
    if !sent {
        lock(st).loading = false;
    }
}

/// The examples under "This is one" and "This is not"; returns what a lead changed (an
/// example unpinned, a note edited).
fn examples_ui(ui: &mut egui::Ui, st: &mut GuideState, label: LabelId, lead: bool) -> Option<Edit> {
    if st.label != Some(label) {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.weak("Reading the examples…");
        });
        return None;
    }
    if let Some(e) = &st.error {
        ui.colored_label(ui.visuals().error_fg_color, e);
        return None;
    }
    if st.examples.is_empty() {
        ui.weak(if lead {
            "No examples pinned yet: select an accepted box of this label and pin it."
        } else {
            "No examples pinned yet."
        });
        return None;
    }
    let mut unpin = None;
    let GuideState { examples, textures, drafts, .. } = st;
    for (good, heading, color) in [(true, "This is one", GOOD_GREEN), (false, "This is not", BAD_RED)] {
        let group: Vec<&ExampleImage> = examples.iter().filter(|e| e.example.good == good).collect();
        if group.is_empty() {
            continue;
        }
        ui.add_space(4.0);
        ui.label(RichText::new(heading).strong().color(color));
        for e in group {
            example_ui(ui, e, textures, color, lead);
            if lead {
                let draft = drafts.entry(e.example.id).or_insert_with(|| e.example.note.clone());
                let field = ui.add(
                    egui::TextEdit::singleline(draft)
                        .id_salt(("guideline_example_note", e.example.id))
                        .hint_text("why it is (not) one")
                        .desired_width(f32::INFINITY),
                );
                let field = field.on_hover_text("the note under this example; saved when you leave the field");
                field.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::TextInput, true, format!("Note of example {}", e.example.id))
                });
                if field.lost_focus() && draft.trim() != e.example.note.trim() {
                    unpin = Some(Edit::Note(e.example.id, draft.trim().to_string()));
                }
            }
            if lead
                && ui
                    .small_button("Unpin")
                    .on_hover_text("take this example off the guideline (undo on its page brings it back)")
                    .clicked()
            {
                unpin = Some(Edit::Unpin(e.example.id));
            }
            ui.add_space(4.0);
        }
    }
    unpin
}

/// One crop, outlined in the group's colour, with its note and the box's text.
fn example_ui(
    ui: &mut egui::Ui,
    e: &ExampleImage,
    textures: &mut HashMap<ExampleId, egui::TextureHandle>,
    color: Color32,
    // a lead edits the note in a field below instead
    lead: bool,
) {
    let x = &e.example;
    if e.size[0] > 0 && e.size[1] > 0 {
        let tex = textures.entry(x.id).or_insert_with(|| {
            ui.ctx().load_texture(
                format!("guideline-example-{}", x.id),
                egui::ColorImage::from_rgba_unmultiplied(e.size, &e.rgba),
                egui::TextureOptions::LINEAR,
            )
        });
        let natural = egui::vec2(e.size[0] as f32, e.size[1] as f32);
        let room = (ui.available_width() - 4.0).clamp(8.0, MAX_SHOWN_WIDTH);
        let width = natural.x.min(room);
        let size = natural * (width / natural.x);
        let alt = if x.text.is_empty() { "example".to_string() } else { x.text.clone() };
        egui::Frame::NONE.stroke(egui::Stroke::new(1.0, color)).inner_margin(1.0).show(ui, |ui| {
            ui.add(egui::Image::from_texture(egui::load::SizedTexture::new(tex.id(), size)).alt_text(alt));
        });
    } else {
        ui.weak("(the crop cannot be shown)");
    }
    if !x.note.is_empty() && !lead {
        ui.label(&x.note);
    }
    if !x.text.is_empty() {
        ui.weak(format!("\u{201c}{}\u{201d}", x.text));
    }
}

/// For leads, under the selected box's details: pin it to its label's guideline as an example
/// or a counter-example, with a note.
pub(super) fn pin_ui(a: &mut Annotator, ui: &mut egui::Ui, ann: &Annotation) {
    if a.user().role != Role::Lead {
        return;
    }
    let label = ann.label.and_then(|l| a.label(l)).map(Label::display_name);
    let why_not = if label.is_none() {
        Some("give the box a label first")
    } else if ann.state == AnnState::Suggested {
        Some("accept the suggestion first")
    } else if ann.id.0 <= 0 || a.unsaved.contains(&ann.id) {
        Some("wait until the box is saved")
    } else {
        None
    };
    let st = shared(ui.ctx());
    ui.add_space(4.0);
    let mut note = lock(&st).note.clone();
    ui.horizontal(|ui| {
        ui.label("Note");
        ui.add(
            egui::TextEdit::singleline(&mut note)
                .id_salt("guideline_pin_note")
                .hint_text("why it is (not) one")
                .desired_width(f32::INFINITY),
        )
        .accessible_name("Pin note");
    });
    lock(&st).note = note.clone();
    let mut pin = None;
    ui.horizontal_wrapped(|ui| {
        let of = label.as_deref().unwrap_or("its label");
        let hint = |what: &str| format!("show this box under {of}'s guideline (F1) as {what}; leads only");
        let why = why_not.unwrap_or_default();
        let enabled = why_not.is_none();
        if ui
            .add_enabled(enabled, egui::Button::new("Pin as example"))
            .on_hover_text(hint("\"this is one\""))
            .on_disabled_hover_text(why)
            .clicked()
        {
            pin = Some(true);
        }
        if ui
            .add_enabled(enabled, egui::Button::new("Pin as counter-example"))
            .on_hover_text(hint("\"this is not\""))
            .on_disabled_hover_text(why)
            .clicked()
        {
            pin = Some(false);
        }
    });
    if let Some(good) = pin {
        ask(a, &st, Ask::Pin { ann: ann.id, good, note });
    }
}

enum Ask {
    Pin { ann: AnnId, good: bool, note: String },
    Unpin(ExampleId),
    Note(ExampleId, String),
}

/// Runs a pin or unpin on the store worker; its sentence goes to the status line.
fn ask(a: &mut Annotator, st: &Shared, what: Ask) {
    let reply_to = st.clone();
    let sent = a.on_desk(move |desk: &mut Desk| {
        let s = &mut desk.session;
        let (pinned, done) = match what {
            Ask::Pin { ann, good, note } => {
                let label = s.store().annotation(ann).ok().and_then(|b| b.label);
                let name = label.and_then(|l| s.store().label(l).ok()).map_or_else(String::new, |l| l.display_name());
                let kind = if good { "an example" } else { "a counter-example" };
                let done = guidelines::pin_example(s, ann, good, &note)
                    .map(|_| format!("Pinned box #{ann} to {name}'s guideline as {kind} (F1 shows it)."));
                (true, done)
            }
            Ask::Unpin(id) => (false, guidelines::unpin_example(s, id).map(|()| "Example unpinned.".to_string())),
            Ask::Note(id, note) => {
                (false, guidelines::set_example_note(s, id, &note).map(|()| "Example note saved.".to_string()))
            }
        };
        Box::new(move |a: &mut Annotator| {
            let mut s = lock(&reply_to);
            match done {
                Ok(m) => {
                    s.stale = true;
                    if pinned {
                        s.note.clear();
                    }
                    a.status = Status::Info(m);
                }
                Err(e) => a.status = Status::Error(sentence(&e)),
            }
        })
    });
    if !sent {
        a.status = Status::Error("The store worker stopped; reopen the workspace.".into());
    }
}

fn sentence(e: &CommandError) -> String {
    let s = match e {
        CommandError::Store(e) => format!("not saved: {e}"),
        other => other.to_string(),
    };
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}
