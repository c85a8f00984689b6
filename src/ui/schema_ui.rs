//! The "Label schema" window a lead opens from the Workspace menu: one row per label (colour,
//! name, hotkey, place in the palette, retire/reinstate), the guideline of the chosen label, a
//! new label, merging one label into another, undo/redo and the schema's version. Each change
//! is one edit the app layer checks and applies on the store worker ([`crate::app::schema`]);
//! this file only draws and asks, and the palette takes the schema the answer brings.

use std::collections::{HashMap, HashSet};

use eframe::egui;
use egui::RichText;

use super::annotator::Annotator;
use super::shortcuts::hotkey_display;
use crate::app::CommandError;
use crate::app::desk::Desk;
use crate::app::schema::{self, SchemaOp, SchemaOutcome};
use crate::domain::{Label, LabelId, Role, UndoStacks};
use crate::store::Store;

/// The label hotkeys, in the order the default schema hands them out.
const HOTKEYS: [&str; 20] = [
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "shift+1", "shift+2", "shift+3", "shift+4", "shift+5", "shift+6",
    "shift+7", "shift+8", "shift+9", "shift+0",
];

/// What is being typed or picked for a label, until the store's answer to it arrives (then
/// the table shows the store's value again, changed or not).
struct Drafts<T> {
    typing: HashMap<LabelId, T>,
    sent: HashSet<LabelId>,
}

impl<T> Default for Drafts<T> {
    fn default() -> Self {
        Self { typing: HashMap::new(), sent: HashSet::new() }
    }
}

impl<T> Drafts<T> {
    fn get(&self, id: LabelId) -> Option<&T> {
        self.typing.get(&id)
    }

    fn set(&mut self, id: LabelId, v: T) {
        self.typing.insert(id, v);
    }

    fn drop(&mut self, id: LabelId) {
        self.typing.remove(&id);
        self.sent.remove(&id);
    }

    fn sent(&mut self, id: LabelId) {
        self.sent.insert(id);
    }

    fn answered(&mut self) {
        for id in self.sent.drain() {
            self.typing.remove(&id);
        }
    }
}

/// The schema window's state.
#[derive(Default)]
pub(crate) struct SchemaState {
    pub(crate) open: bool,
    /// As last read: the schema's version and what undo and redo would act on.
    version: Option<i64>,
    undo: Option<String>,
    redo: Option<String>,
    names: Drafts<String>,
    /// Colours being picked: sent when the picker closes.
    colors: Drafts<[u8; 3]>,
    guidelines: Drafts<String>,
    /// The label whose guideline is edited below the table.
    selected: Option<LabelId>,
    new_name: String,
    new_hotkey: Option<String>,
    merge_from: Option<LabelId>,
    merge_into: Option<LabelId>,
    /// How many boxes have (or were suggested) `merge_from`: `None` while being counted (or
    /// when they could not be).
    merge_boxes: Option<(LabelId, Option<usize>)>,
    /// Answers not arrived yet.
    waiting: usize,
    /// The last change's outcome: a sentence, or why it was refused.
    message: Option<Result<String, String>>,
}

/// What the window asks of the store worker.
enum Ask {
    Read,
    Apply(SchemaOp),
    Undo,
    Redo,
}

/// The schema as read after each change.
struct SchemaView {
    labels: Vec<Label>,
    version: i64,
    undo: Option<String>,
    redo: Option<String>,
}

impl Annotator {
    /// Opens the "Label schema" window (a lead's; others are not offered it).
    pub fn open_schema(&mut self) {
        if self.user().role == Role::Lead {
            self.schema.open = true;
            ask(self, Ask::Read);
        }
    }

    /// Whether the schema window is open and has nothing on its way to the store.
    pub fn schema_settled(&self) -> bool {
        self.schema.waiting == 0 && self.schema.version.is_some()
    }

    /// The schema's version as the window last read it.
    pub fn schema_version(&self) -> Option<i64> {
        self.schema.version
    }
}

fn read_view(store: &Store) -> Result<SchemaView, CommandError> {
    let edits = schema::schema_edits(store)?;
    let stacks = UndoStacks::replay(&edits);
    let action = |step: Option<&Vec<crate::domain::EditId>>| {
        let id = step.and_then(|s| s.first())?;
        edits.iter().find(|e| e.id == *id).map(|e| e.action.clone())
    };
    Ok(SchemaView {
        labels: store.labels()?,
        version: edits.len() as i64,
        undo: action(stacks.undoable.last()),
        redo: action(stacks.redoable.last()),
    })
}

/// A schema action in words ("label_rename" → "renaming a label").
fn action_words(action: &str) -> &'static str {
    match action {
        "label_add" => "adding a label",
        "label_rename" => "renaming a label",
        "label_color" => "a colour change",
        "label_hotkey" => "a hotkey change",
        "label_guideline" => "a guideline change",
        "label_move" => "a move in the palette",
        "label_retire" => "retiring a label",
        "label_reinstate" => "reinstating a label",
        "label_merge" => "a merge",
        _ => "a schema change",
    }
}

/// The window's sentence for a refused or failed change (the app layer's words, capitalised
/// like the window's other messages).
fn sentence(e: &CommandError) -> String {
    let s = match e {
        CommandError::NothingToUndo => "nothing to undo in the schema".into(),
        CommandError::NothingToRedo => "nothing to redo in the schema".into(),
        CommandError::Refused(s) => s.clone(),
        CommandError::Store(e) => format!("not saved: {e}"),
    };
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// What a change did, for the window's message line.
fn done_message(op: &SchemaOp, out: &SchemaOutcome, labels: &[Label]) -> String {
    let name =
        |id: &LabelId| labels.iter().find(|l| l.id == *id).map_or_else(|| format!("label {id}"), |l| l.name.clone());
    match op {
        SchemaOp::Add { name, .. } => format!("Added {}.", name.trim()),
        SchemaOp::Rename { to, .. } => format!("Renamed to {}.", to.trim()),
        SchemaOp::SetColor { label, .. } => format!("New colour for {}.", name(label)),
        SchemaOp::SetHotkey { label, hotkey: Some(k) } => format!("{} has hotkey {}.", name(label), hotkey_display(k)),
        SchemaOp::SetHotkey { label, hotkey: None } => format!("{} has no hotkey now.", name(label)),
        SchemaOp::SetGuideline { label, .. } => format!("Guideline of {} saved.", name(label)),
        SchemaOp::Move { label, .. } => format!("Moved {}.", name(label)),
        SchemaOp::Retire { label } => {
            format!("Retired {}: boxes keep it, it can no longer be given.", name(label))
        }
        SchemaOp::Reinstate { label } => format!("Reinstated {}.", name(label)),
        SchemaOp::Merge { into, .. } => format!("Merged into {}: {} box(es) relabelled.", name(into), out.boxes),
    }
}

/// Runs `what` on the store worker; the answer brings the schema as it is then.
fn ask(a: &mut Annotator, what: Ask) {
    let sent = a.on_desk(move |desk: &mut Desk| {
        let s = &mut desk.session;
        let done: Option<Result<(bool, String), String>> = match what {
            Ask::Read => None,
            Ask::Apply(op) => {
                let before = s.store().labels().unwrap_or_default();
                let added = matches!(op, SchemaOp::Add { .. });
                Some(
                    schema::apply(s, op.clone())
                        .map(|out| (added, done_message(&op, &out, &before)))
                        .map_err(|e| sentence(&e)),
                )
            }
            Ask::Undo => Some(
                schema::undo(s).map(|a| (false, format!("Undone: {}.", action_words(&a)))).map_err(|e| sentence(&e)),
            ),
            Ask::Redo => Some(
                schema::redo(s).map(|a| (false, format!("Redone: {}.", action_words(&a)))).map_err(|e| sentence(&e)),
            ),
        };
        let view = read_view(s.store()).map_err(|e| e.to_string());
        Box::new(move |a: &mut Annotator| answered(a, done, view))
    });
    if sent {
        a.schema.waiting += 1;
    } else {
        a.schema.message = Some(Err("The store worker stopped; reopen the workspace.".into()));
    }
}

fn answered(a: &mut Annotator, done: Option<Result<(bool, String), String>>, view: Result<SchemaView, String>) {
    let st = &mut a.schema;
    st.waiting = st.waiting.saturating_sub(1);
    st.names.answered();
    st.colors.answered();
    st.guidelines.answered();
    let changed = matches!(done, Some(Ok(_)));
    match done {
        Some(Ok((added, m))) => {
            if added {
                st.new_name.clear();
                st.new_hotkey = None;
            }
            st.message = Some(Ok(m));
        }
        Some(Err(e)) => st.message = Some(Err(e)),
        None => {}
    }
    match view {
        Ok(v) => {
            st.version = Some(v.version);
            st.undo = v.undo;
            st.redo = v.redo;
            let exists = |id: &Option<LabelId>| id.is_some_and(|id| v.labels.iter().any(|l| l.id == id));
            for id in [&mut st.selected, &mut st.merge_from, &mut st.merge_into] {
                if !exists(id) {
                    *id = None;
                }
            }
            // the palette, the hotkeys and the boxes' colours follow at once
            a.labels = v.labels;
        }
        Err(e) => a.schema.message = Some(Err(format!("Cannot read the schema: {e}"))),
    }
    if changed {
        a.schema.merge_boxes = None;
        // a merge (or its undo) relabels boxes: the open page shows them as they are now
        a.reload_boxes();
    }
}

/// Counts the boxes a merge from `from` would relabel.
fn count_boxes(a: &mut Annotator, from: LabelId) {
    a.schema.merge_boxes = Some((from, None));
    a.on_desk(move |desk: &mut Desk| {
        let n = desk.session.store().annotations_with_label(from).map(|v| v.len());
        Box::new(move |a: &mut Annotator| {
            if a.schema.merge_boxes.is_some_and(|(id, _)| id == from) {
                // not counted (the read failed): the button just says "Merge", asked once
                a.schema.merge_boxes = Some((from, n.ok()));
            }
        })
    });
}

/// The "Label schema" window, when open.
pub(crate) fn schema_window_ui(a: &mut Annotator, ctx: &egui::Context) {
    if !a.schema.open || a.user().role != Role::Lead {
        return;
    }
    let mut open = true;
    let mut asks = Vec::new();
    let content = ctx.content_rect();
    egui::Window::new("Label schema")
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .default_width(760.0)
        .pivot(egui::Align2::CENTER_TOP)
        .default_pos(content.center_top() + egui::vec2(0.0, 64.0))
        .show(ctx, |ui| {
            let table_height = (content.height() - 430.0).clamp(160.0, 620.0);
            body_ui(a, ui, table_height, &mut asks);
        });
    if !open {
        // what was typed into the guideline is not lost by closing
        flush_guideline(a, &mut asks);
    }
    a.schema.open = open;
    for what in asks {
        ask(a, what);
    }
    if let Some(from) = a.schema.merge_from
        && a.schema.merge_boxes.is_none_or(|(id, _)| id != from)
    {
        count_boxes(a, from);
    }
}

fn body_ui(a: &mut Annotator, ui: &mut egui::Ui, table_height: f32, asks: &mut Vec<Ask>) {
    ui.set_width(740.0);
    header_ui(a, ui, asks);
    ui.separator();
    let labels = a.labels.clone();
    egui::ScrollArea::vertical().id_salt("schema_table").max_height(table_height).auto_shrink([false, true]).show(
        ui,
        |ui| {
            egui::Grid::new("schema_rows").num_columns(6).striped(true).spacing([8.0, 4.0]).show(ui, |ui| {
                for h in ["Colour", "Name", "Hotkey", "Place", "", "Guideline"] {
                    ui.weak(h);
                }
                ui.end_row();
                for (i, l) in labels.iter().enumerate() {
                    // a retired label's row is greyed (and still editable)
                    let opacity = ui.opacity();
                    if l.retired {
                        ui.multiply_opacity(0.55);
                    }
                    row_ui(a, ui, &labels, i, l, asks);
                    ui.set_opacity(opacity);
                    ui.end_row();
                }
            });
        },
    );
    ui.separator();
    guideline_ui(a, ui, &labels, asks);
    ui.separator();
    add_ui(a, ui, &labels, asks);
    ui.separator();
    merge_ui(a, ui, &labels, asks);
}

/// The version, undo and redo, and the last change's outcome.
fn header_ui(a: &mut Annotator, ui: &mut egui::Ui, asks: &mut Vec<Ask>) {
    let st = &a.schema;
    ui.horizontal(|ui| {
        match st.version {
            Some(v) => ui.strong(format!("Schema version {v}")),
            None => ui.weak("reading…"),
        };
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let redo = ui
                .add_enabled(st.redo.is_some(), egui::Button::new("Redo"))
                .accessible_name("Redo schema change")
                .on_hover_text(
                    st.redo.as_deref().map_or("nothing to redo".into(), |x| format!("redo {}", action_words(x))),
                );
            if redo.clicked() {
                asks.push(Ask::Redo);
            }
            let undo = ui
                .add_enabled(st.undo.is_some(), egui::Button::new("Undo"))
                .accessible_name("Undo schema change")
                .on_hover_text(
                    st.undo.as_deref().map_or("nothing to undo".into(), |x| format!("undo {}", action_words(x))),
                );
            if undo.clicked() {
                asks.push(Ask::Undo);
            }
            if st.waiting > 0 {
                ui.spinner();
            }
        });
    });
    match &st.message {
        Some(Ok(m)) => {
            ui.label(m);
        }
        Some(Err(e)) => {
            ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
        }
        // the line is always there, so the table does not jump when a message comes
        None => {
            ui.weak("Every change is saved at once, as one step Undo takes back.");
        }
    }
}

/// One label: colour, name, hotkey, up/down, retire or reinstate, its guideline.
fn row_ui(a: &mut Annotator, ui: &mut egui::Ui, labels: &[Label], i: usize, l: &Label, asks: &mut Vec<Ask>) {
    let st = &mut a.schema;
    // colour: the picker's changes are one edit, sent when it closes
    let mut color = st.colors.get(l.id).copied().unwrap_or(l.color);
    let popup_id = ui.auto_id_with("popup");
    egui::color_picker::color_edit_button_srgb(ui, &mut color).accessible_name(format!("Colour of {}", l.name));
    let picking = egui::Popup::is_id_open(ui.ctx(), popup_id);
    if color != l.color && st.colors.get(l.id) != Some(&color) {
        st.colors.set(l.id, color);
    }
    if !picking && let Some(&c) = st.colors.get(l.id) {
        if c != l.color && !st.colors.sent.contains(&l.id) {
            asks.push(Ask::Apply(SchemaOp::SetColor { label: l.id, color: c }));
            st.colors.sent(l.id);
        } else if c == l.color {
            st.colors.drop(l.id);
        }
    }
    // name: Enter or leaving the field renames, Escape gives up
    ui.horizontal(|ui| {
        let mut name = st.names.get(l.id).cloned().unwrap_or_else(|| l.name.clone());
        // in a grid cell the width on offer is the column's so far: ask for the width outright
        // (narrower beside "retired", so the column keeps its width)
        let width = if l.retired { 140.0 } else { 200.0 };
        let field = egui::TextEdit::singleline(&mut name)
            .id_salt(("schema_name", l.id))
            .desired_width(width)
            .min_size(egui::vec2(width, 0.0));
        let resp = ui.add(field).accessible_name(format!("Name of {}", l.name));
        if resp.changed() {
            st.names.set(l.id, name.clone());
        }
        if resp.gained_focus() {
            select(st, Some(l.id), asks, labels);
        }
        if resp.lost_focus() && !st.names.sent.contains(&l.id) {
            let escaped = ui.input(|i| i.key_pressed(egui::Key::Escape));
            match st.names.get(l.id) {
                Some(to) if !escaped && to.trim() != l.name => {
                    asks.push(Ask::Apply(SchemaOp::Rename { label: l.id, to: to.clone() }));
                    st.names.sent(l.id);
                }
                _ => st.names.drop(l.id),
            }
        }
        if l.retired {
            ui.label(RichText::new("retired").italics());
        }
    });
    // hotkey: every key, those of other labels named (choosing one says whose it is)
    ui.add_enabled_ui(!l.retired, |ui| {
        let current = l.hotkey.as_deref();
        let mut picked = None;
        let combo = egui::ComboBox::from_id_salt(("schema_hotkey", l.id))
            .width(90.0)
            .selected_text(current.map_or("none".into(), hotkey_display))
            .show_ui(ui, |ui| {
                if ui.selectable_label(current.is_none(), "none").clicked() && current.is_some() {
                    picked = Some(None);
                }
                for k in HOTKEYS {
                    let owner = labels.iter().find(|o| o.id != l.id && !o.retired && o.hotkey.as_deref() == Some(k));
                    let text = match owner {
                        Some(o) => format!("{} ({})", hotkey_display(k), o.name),
                        None => hotkey_display(k),
                    };
                    if ui.selectable_label(current == Some(k), text).clicked() && current != Some(k) {
                        picked = Some(Some(k.to_string()));
                    }
                }
            });
        combo.response.accessible_name(format!("Hotkey of {}", l.name));
        if let Some(hotkey) = picked {
            asks.push(Ask::Apply(SchemaOp::SetHotkey { label: l.id, hotkey }));
        }
    });
    // place in the palette
    ui.horizontal(|ui| {
        let up = ui.add_enabled(i > 0, egui::Button::new("Up").small()).accessible_name(format!("Move {} up", l.name));
        if up.clicked() {
            asks.push(Ask::Apply(SchemaOp::Move { label: l.id, to: i - 1 }));
        }
        let down = ui
            .add_enabled(i + 1 < labels.len(), egui::Button::new("Down").small())
            .accessible_name(format!("Move {} down", l.name));
        if down.clicked() {
            asks.push(Ask::Apply(SchemaOp::Move { label: l.id, to: i + 1 }));
        }
    });
    let (text, hint, op) = if l.retired {
        ("Reinstate", "can be given again (without its old hotkey)", SchemaOp::Reinstate { label: l.id })
    } else {
        (
            "Retire",
            "boxes keep it, but it can no longer be given; its hotkey is freed",
            SchemaOp::Retire { label: l.id },
        )
    };
    if ui.button(text).accessible_name(format!("{text} {}", l.name)).on_hover_text(hint).clicked() {
        asks.push(Ask::Apply(op));
    }
    let chosen = st.selected == Some(l.id);
    let short: String = l.guideline.chars().take(28).collect();
    let preview = if l.guideline.is_empty() {
        "(none)".to_string()
    } else if short.len() < l.guideline.len() {
        format!("{}…", short.trim_end())
    } else {
        short
    };
    let g = ui
        .add(egui::Button::selectable(chosen, preview).small())
        .accessible_name(format!("Guideline of {}", l.name))
        .on_hover_text("edit it below the table");
    if g.clicked() {
        select(st, if chosen { None } else { Some(l.id) }, asks, labels);
    }
}

/// Chooses the label whose guideline is edited below (what was typed for the previous one is
/// saved first).
fn select(st: &mut SchemaState, id: Option<LabelId>, asks: &mut Vec<Ask>, labels: &[Label]) {
    if st.selected == id {
        return;
    }
    if let Some(prev) = st.selected {
        guideline_op(st, prev, labels, asks);
    }
    st.selected = id;
}

/// Sends the guideline typed for `id`, if it differs from the schema's.
fn guideline_op(st: &mut SchemaState, id: LabelId, labels: &[Label], asks: &mut Vec<Ask>) {
    let Some(text) = st.guidelines.get(id).cloned() else { return };
    if st.guidelines.sent.contains(&id) {
        return;
    }
    match labels.iter().find(|l| l.id == id) {
        Some(l) if text.trim() != l.guideline => {
            asks.push(Ask::Apply(SchemaOp::SetGuideline { label: id, text }));
            st.guidelines.sent(id);
        }
        _ => st.guidelines.drop(id),
    }
}

fn flush_guideline(a: &mut Annotator, asks: &mut Vec<Ask>) {
    let labels = a.labels.clone();
    if let Some(id) = a.schema.selected {
        guideline_op(&mut a.schema, id, &labels, asks);
    }
}

/// The chosen label's guideline (what annotators see on F1), saved on leaving the field.
fn guideline_ui(a: &mut Annotator, ui: &mut egui::Ui, labels: &[Label], asks: &mut Vec<Ask>) {
    let st = &mut a.schema;
    let Some(l) = st.selected.and_then(|id| labels.iter().find(|l| l.id == id)) else {
        ui.weak("Click a label's guideline in the table to edit it here.");
        return;
    };
    ui.horizontal(|ui| {
        ui.strong(format!("Guideline of {}", l.name));
        ui.weak("shown to annotators on F1; saved when you leave the field");
    });
    let mut text = st.guidelines.get(l.id).cloned().unwrap_or_else(|| l.guideline.clone());
    let resp = ui
        .add(
            egui::TextEdit::multiline(&mut text)
                .id_salt(("schema_guideline", l.id))
                .desired_rows(3)
                .desired_width(f32::INFINITY),
        )
        .accessible_name(format!("Guideline text of {}", l.name));
    if resp.changed() {
        st.guidelines.set(l.id, text);
    }
    if resp.lost_focus() {
        guideline_op(st, l.id, labels, asks);
    }
}

/// A new label at the end of the palette: its name and, if wanted, a free hotkey.
fn add_ui(a: &mut Annotator, ui: &mut egui::Ui, labels: &[Label], asks: &mut Vec<Ask>) {
    let st = &mut a.schema;
    ui.horizontal(|ui| {
        ui.strong("New label");
        let resp = ui
            .add(egui::TextEdit::singleline(&mut st.new_name).hint_text("e.g. due_amount").desired_width(200.0))
            .accessible_name("New label name");
        let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.label("hotkey");
        let free: Vec<&str> = HOTKEYS
            .into_iter()
            .filter(|k| !labels.iter().any(|l| !l.retired && l.hotkey.as_deref() == Some(*k)))
            .collect();
        let combo = egui::ComboBox::from_id_salt("schema_new_hotkey")
            .width(90.0)
            .selected_text(st.new_hotkey.as_deref().map_or("none".into(), hotkey_display))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut st.new_hotkey, None, "none");
                for k in free {
                    ui.selectable_value(&mut st.new_hotkey, Some(k.to_string()), hotkey_display(k));
                }
            });
        combo.response.accessible_name("Hotkey of the new label");
        let ready = !st.new_name.trim().is_empty();
        let add = ui
            .add_enabled(ready, egui::Button::new("Add"))
            .accessible_name("Add label")
            .on_hover_text("at the end of the palette, in a colour unlike the others'");
        if ready && (add.clicked() || enter) {
            asks.push(Ask::Apply(SchemaOp::Add {
                name: st.new_name.clone(),
                color: None,
                hotkey: st.new_hotkey.clone(),
                guideline: String::new(),
            }));
        }
    });
}

/// Merging: every box labelled FROM gets INTO, and FROM is removed.
fn merge_ui(a: &mut Annotator, ui: &mut egui::Ui, labels: &[Label], asks: &mut Vec<Ask>) {
    let st = &mut a.schema;
    let name = |id: Option<LabelId>| {
        id.and_then(|id| labels.iter().find(|l| l.id == id)).map_or("choose…".to_string(), |l| l.name.clone())
    };
    ui.horizontal(|ui| {
        ui.strong("Merge");
        let from = egui::ComboBox::from_id_salt("schema_merge_from")
            .width(170.0)
            .selected_text(name(st.merge_from))
            .show_ui(ui, |ui| {
                for l in labels {
                    ui.selectable_value(&mut st.merge_from, Some(l.id), &l.name);
                }
            });
        from.response.accessible_name("Merge from");
        ui.label("into");
        let into = egui::ComboBox::from_id_salt("schema_merge_into")
            .width(170.0)
            .selected_text(name(st.merge_into))
            .show_ui(ui, |ui| {
                for l in labels.iter().filter(|l| !l.retired && Some(l.id) != st.merge_from) {
                    ui.selectable_value(&mut st.merge_into, Some(l.id), &l.name);
                }
            });
        into.response.accessible_name("Merge into");
        let ready = matches!((st.merge_from, st.merge_into), (Some(f), Some(i)) if f != i);
        let text = match (st.merge_from, st.merge_boxes) {
            (Some(f), Some((id, Some(n)))) if f == id => format!("Merge, relabelling {n} box(es)"),
            _ => "Merge".to_string(),
        };
        let go = ui
            .add_enabled(ready, egui::Button::new(text))
            .on_hover_text("the first label is removed; undo brings it and its boxes back");
        if go.clicked()
            && let (Some(from), Some(into)) = (st.merge_from, st.merge_into)
        {
            asks.push(Ask::Apply(SchemaOp::Merge { from, into }));
        }
    });
    if st.merge_from.is_some() && st.merge_from == st.merge_into {
        st.merge_into = None;
    }
}
