//! Every keyboard shortcut in one table: key handling looks actions up here and the `?` sheet
//! is generated from it, so the two cannot drift apart.

use eframe::egui;

use egui::Key as K;

use crate::app::canvas::Key as CanvasKey;

/// What a shortcut does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Handled by the canvas editor.
    Canvas(CanvasKey),
    Undo,
    Redo,
    Submit,
    NextDoc,
    PrevDoc,
    /// Turn the page a quarter clockwise / counter-clockwise (its boxes follow).
    RotateCw,
    RotateCcw,
    /// Enter: accept selected suggestions, or edit the selected box's text.
    AcceptOrEdit,
    EditText,
    /// 1..9, 0, Shift+1..: the label with that hotkey.
    AssignLabel,
    ClearLabel,
    ToggleText,
    ToggleGuideline,
    ToggleShortcuts,
    ToggleQueue,
    /// Review mode: verdicts, accept remaining, a note on the selected box.
    Review(ReviewKey),
}

/// What a review key does (only while reviewing; otherwise it says how to start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewKey {
    Verdict(crate::domain::Verdict),
    AcceptRemaining,
    Note,
}

/// Which modifier state a binding wants: `Any` ignores Shift (e.g. arrows, where Shift is a
/// bigger step the editor reads itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shift {
    No,
    Yes,
    Any,
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub key: K,
    pub command: bool,
    pub shift: Shift,
}

const fn k(key: K) -> Binding {
    Binding { key, command: false, shift: Shift::No }
}
const fn any_shift(key: K) -> Binding {
    Binding { key, command: false, shift: Shift::Any }
}
const fn ctrl(key: K) -> Binding {
    Binding { key, command: true, shift: Shift::No }
}
const fn ctrl_shift(key: K) -> Binding {
    Binding { key, command: true, shift: Shift::Yes }
}

pub struct Shortcut {
    pub group: &'static str,
    /// As shown on the sheet.
    pub keys: &'static str,
    pub what: &'static str,
    pub bindings: &'static [Binding],
    pub action: Action,
}

const fn sc(
    group: &'static str,
    keys: &'static str,
    what: &'static str,
    bindings: &'static [Binding],
    action: Action,
) -> Shortcut {
    Shortcut { group, keys, what, bindings, action }
}

use crate::domain::Verdict as V;
use Action::*;
use CanvasKey as C;

/// In match order: more specific bindings first.
pub const SHORTCUTS: &[Shortcut] = &[
    sc("Edit", "Ctrl+Shift+Z, Ctrl+Y", "Redo", &[ctrl_shift(K::Z), ctrl(K::Y)], Redo),
    sc("Edit", "Ctrl+Z", "Undo (one finished gesture per step; survives a restart)", &[ctrl(K::Z)], Undo),
    sc("Document", "Ctrl+Enter", "Submit the document for review", &[ctrl(K::Enter)], Submit),
    sc("Document", "D", "Next document in the queue", &[k(K::D)], NextDoc),
    sc("Document", "A", "Previous document in the queue", &[k(K::A)], PrevDoc),
    // `[`/`]` need AltGr on some layouts: Ctrl+Shift+arrows work on all
    sc(
        "Document",
        "], Ctrl+Shift+Right",
        "Rotate the page 90° clockwise; boxes follow",
        &[k(K::CloseBracket), ctrl_shift(K::ArrowRight)],
        RotateCw,
    ),
    sc(
        "Document",
        "[, Ctrl+Shift+Left",
        "Rotate the page 90° counter-clockwise; boxes follow",
        &[k(K::OpenBracket), ctrl_shift(K::ArrowLeft)],
        RotateCcw,
    ),
    sc("Boxes", "W", "Draw a box (or just drag on empty space)", &[k(K::W)], Canvas(C::W)),
    sc("Boxes", "Q", "Draw a skewed box: click its 4 corners", &[k(K::Q)], Canvas(C::Q)),
    sc(
        "Boxes",
        "Del, Backspace",
        "Delete the selected boxes (reject selected suggestions)",
        &[k(K::Delete), k(K::Backspace)],
        Canvas(C::Delete),
    ),
    sc("Boxes", "Ctrl+D", "Duplicate the selection", &[ctrl(K::D)], Canvas(C::D)),
    sc("Boxes", "Ctrl+A", "Select all boxes", &[ctrl(K::A)], Canvas(C::A)),
    sc(
        "Boxes",
        "Arrows (Shift: ×10)",
        "Nudge the selection by 1 px (pan when nothing is selected)",
        &[any_shift(K::ArrowLeft), any_shift(K::ArrowRight), any_shift(K::ArrowUp), any_shift(K::ArrowDown)],
        Canvas(C::ArrowLeft),
    ),
    sc("Boxes", "Tab, Shift+Tab", "Next / previous box in reading order", &[any_shift(K::Tab)], Canvas(C::Tab)),
    sc(
        "Boxes",
        "Esc",
        "Cancel the gesture, then the tool, then the selection",
        &[any_shift(K::Escape)],
        Canvas(C::Escape),
    ),
    sc("Boxes", "Shift+click, Shift+drag", "Add to the selection / rubber-band select", &[], Canvas(C::Escape)),
    sc("Boxes", "Ctrl+drag", "Copy the selection to where you drop it", &[], Canvas(C::Escape)),
    // handled by the suggestion panel (`palette_ui::LEAST_CONFIDENT_KEY`), listed here to be found
    sc("Boxes", "N", "Select the least confident suggestion left (again: the next one)", &[], Canvas(C::Escape)),
    sc("Labels & text", "1 … 9, 0, Shift+1 …", "Give the selection the label with that key", &[], AssignLabel),
    sc("Labels & text", "Ctrl+Backspace", "Remove the label of the selection", &[ctrl(K::Backspace)], ClearLabel),
    sc(
        "Labels & text",
        "Enter",
        "Accept selected suggestions, or type the selected box's text",
        &[k(K::Enter)],
        AcceptOrEdit,
    ),
    sc("Labels & text", "F2", "Type the selected box's text", &[k(K::F2)], EditText),
    sc(
        "Labels & text",
        "Enter / Tab / Esc (in text)",
        "Confirm / confirm and go to the next box / cancel",
        &[],
        EditText,
    ),
    sc("Labels & text", "F1", "Show the guideline of the selected box's label", &[any_shift(K::F1)], ToggleGuideline),
    sc("Links", "L", "Link a key box to its value box: click one, then the other", &[k(K::L)], Canvas(C::L)),
    sc(
        "Links",
        "Shift+L",
        "Link two cells of the same line-item row",
        &[ctrl_shift(K::L), Binding { key: K::L, command: false, shift: Shift::Yes }],
        Canvas(C::L),
    ),
    sc(
        "View",
        "Ctrl+wheel, +, -",
        "Zoom about the pointer",
        &[any_shift(K::Plus), any_shift(K::Equals), any_shift(K::Minus)],
        Canvas(C::Plus),
    ),
    sc("View", "Wheel, middle-drag, Space+drag", "Pan", &[], Canvas(C::Space)),
    sc("View", "Ctrl+0", "Fit the page", &[ctrl(K::Num0)], Canvas(C::Num0)),
    sc("View", "Ctrl+2", "Fit the page width", &[ctrl(K::Num2)], Canvas(C::Num2)),
    sc("View", "Ctrl+1", "Zoom 1:1", &[ctrl(K::Num1)], Canvas(C::Num1)),
    sc("View", "T", "Show label and text on every box / only on hover", &[k(K::T)], ToggleText),
    sc("View", "Ctrl+B", "Show / hide the queue", &[ctrl(K::B)], ToggleQueue),
    sc("View", "?", "This sheet", &[any_shift(K::Questionmark)], ToggleShortcuts),
    sc("Review", "O", "Verdict: ok (press again to clear)", &[k(K::O)], Review(ReviewKey::Verdict(V::Ok))),
    sc("Review", "B", "Verdict: wrong box", &[k(K::B)], Review(ReviewKey::Verdict(V::WrongBox))),
    sc("Review", "G", "Verdict: wrong label", &[k(K::G)], Review(ReviewKey::Verdict(V::WrongLabel))),
    sc("Review", "X", "Verdict: wrong text", &[k(K::X)], Review(ReviewKey::Verdict(V::WrongText))),
    sc(
        "Review",
        "S",
        "Verdict: spurious (the box should not exist)",
        &[k(K::S)],
        Review(ReviewKey::Verdict(V::Spurious)),
    ),
    sc(
        "Review",
        "W, or drag",
        "Draw a box the annotator missed (verdict: missing)",
        &[],
        Review(ReviewKey::Verdict(V::Missing)),
    ),
    sc(
        "Review",
        "Shift+O",
        "Accept all remaining boxes (ok for every box without a verdict)",
        &[Binding { key: K::O, command: false, shift: Shift::Yes }],
        Review(ReviewKey::AcceptRemaining),
    ),
    sc("Review", "C", "Write a note on the selected box", &[k(K::C)], Review(ReviewKey::Note)),
];

/// The action bound to `key` with these modifiers, and the canvas key to forward (which may
/// differ from the table's representative, e.g. ArrowUp for the arrows row).
pub fn lookup(key: K, mods: egui::Modifiers) -> Option<Action> {
    let found = SHORTCUTS.iter().find(|s| {
        s.bindings.iter().any(|b| {
            b.key == key
                && b.command == mods.command
                && !mods.alt
                && match b.shift {
                    Shift::No => !mods.shift,
                    Shift::Yes => mods.shift,
                    Shift::Any => true,
                }
        })
    })?;
    Some(match found.action {
        Canvas(_) => Canvas(canvas_key(key)?),
        other => other,
    })
}

/// egui's key → the canvas's key.
pub fn canvas_key(key: K) -> Option<CanvasKey> {
    Some(match key {
        K::W => C::W,
        K::Q => C::Q,
        K::L => C::L,
        K::A => C::A,
        K::D => C::D,
        K::Escape => C::Escape,
        K::Delete => C::Delete,
        K::Backspace => C::Backspace,
        K::Tab => C::Tab,
        K::Space => C::Space,
        K::ArrowLeft => C::ArrowLeft,
        K::ArrowRight => C::ArrowRight,
        K::ArrowUp => C::ArrowUp,
        K::ArrowDown => C::ArrowDown,
        K::Plus | K::Equals => C::Plus,
        K::Minus => C::Minus,
        K::Num0 => C::Num0,
        K::Num1 => C::Num1,
        K::Num2 => C::Num2,
        _ => return None,
    })
}

/// A label hotkey as stored ("1".."0", "shift+1"…) for a digit key press.
pub fn label_hotkey(key: K, shift: bool) -> Option<String> {
    let digit = match key {
        K::Num0 => '0',
        K::Num1 => '1',
        K::Num2 => '2',
        K::Num3 => '3',
        K::Num4 => '4',
        K::Num5 => '5',
        K::Num6 => '6',
        K::Num7 => '7',
        K::Num8 => '8',
        K::Num9 => '9',
        _ => return None,
    };
    Some(if shift { format!("shift+{digit}") } else { digit.to_string() })
}

/// "shift+1" → "Shift+1" for display.
pub fn hotkey_display(hotkey: &str) -> String {
    match hotkey.strip_prefix("shift+") {
        Some(rest) => format!("Shift+{rest}"),
        None => hotkey.to_string(),
    }
}

/// The `?` sheet.
pub fn shortcuts_sheet_ui(ui: &mut egui::Ui) {
    let mut group = "";
    egui::Grid::new("shortcuts_sheet").num_columns(2).spacing([18.0, 4.0]).striped(true).show(ui, |ui| {
        for s in SHORTCUTS {
            if s.group != group {
                group = s.group;
                ui.strong(group);
                ui.end_row();
            }
            ui.monospace(s.keys);
            ui.label(s.what);
            ui.end_row();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::Modifiers as M;

    #[test]
    fn specific_bindings_win_and_modifiers_matter() {
        assert_eq!(lookup(K::Z, M::COMMAND), Some(Undo));
        assert_eq!(lookup(K::Z, M::COMMAND | M::SHIFT), Some(Redo));
        assert_eq!(lookup(K::Y, M::COMMAND), Some(Redo));
        assert_eq!(lookup(K::D, M::NONE), Some(NextDoc));
        assert_eq!(lookup(K::D, M::COMMAND), Some(Canvas(C::D)));
        assert_eq!(lookup(K::A, M::COMMAND), Some(Canvas(C::A)));
        assert_eq!(lookup(K::ArrowUp, M::SHIFT), Some(Canvas(C::ArrowUp)));
        assert_eq!(lookup(K::Enter, M::COMMAND), Some(Submit));
        assert_eq!(lookup(K::Enter, M::NONE), Some(AcceptOrEdit));
        assert_eq!(lookup(K::L, M::SHIFT), Some(Canvas(C::L)));
        assert_eq!(lookup(K::Z, M::NONE), None);
        // N is the suggestion panel's (least confident first): listed, never bound here
        assert_eq!(lookup(K::N, M::NONE), None);
        assert!(SHORTCUTS.iter().any(|s| s.keys == "N"));
        assert_eq!(lookup(K::O, M::NONE), Some(Review(ReviewKey::Verdict(V::Ok))));
        assert_eq!(lookup(K::O, M::SHIFT), Some(Review(ReviewKey::AcceptRemaining)));
        assert_eq!(lookup(K::X, M::NONE), Some(Review(ReviewKey::Verdict(V::WrongText))));
        assert_eq!(lookup(K::CloseBracket, M::NONE), Some(RotateCw));
        assert_eq!(lookup(K::ArrowLeft, M::COMMAND | M::SHIFT), Some(RotateCcw));
        // a plain or Shift arrow still nudges
        assert_eq!(lookup(K::ArrowLeft, M::SHIFT), Some(Canvas(C::ArrowLeft)));
    }

    #[test]
    fn every_bound_canvas_key_maps_and_label_hotkeys_parse() {
        for s in SHORTCUTS {
            if let Canvas(_) = s.action {
                for b in s.bindings {
                    assert!(canvas_key(b.key).is_some(), "{} has no canvas key", s.keys);
                }
            }
        }
        assert_eq!(label_hotkey(K::Num3, false).as_deref(), Some("3"));
        assert_eq!(label_hotkey(K::Num0, true).as_deref(), Some("shift+0"));
        assert_eq!(label_hotkey(K::X, false), None);
    }
}
