//! The selected box's text, typed in a field right beside the box: Enter confirms, Esc
//! cancels, Tab confirms and moves on to the next box in reading order.

use eframe::egui;

use egui::{Id, Key, Modifiers, Order, Pos2, Rect, Vec2};

use crate::app::canvas::{CanvasEvent, Key as CKey, Modifiers as CMods};

use super::annotator::{Annotator, TextDraft};
use super::canvas_ui::to_rect;

pub const TEXT_FIELD_ID: &str = "facture_box_text";
const FIELD_WIDTH: f32 = 280.0;

pub fn text_field_id() -> Id {
    Id::unique(TEXT_FIELD_ID)
}

/// Shows the field beside the primary box (single selection only, not during a drag).
pub fn text_edit_ui(a: &mut Annotator, ui: &mut egui::Ui, canvas: Rect) {
    let target = match (a.editor.primary(), a.editor.selection().len()) {
        (Some(id), 1) if a.annotation(id).is_some() => Some(id),
        _ => None,
    };
    if a.text.target != target {
        // switching boxes never loses what was typed
        a.commit_text_draft();
        let keep_focus = a.text.focus_request;
        let text = target.and_then(|id| a.annotation(id)).map(|ann| ann.text.clone()).unwrap_or_default();
        a.text =
            TextDraft { target, buffer: text.clone(), original: text, focus_request: keep_focus && target.is_some() };
    }
    let Some(id) = target else { return };
    if a.editor.is_gesture_active() || !a.editable() {
        return;
    }
    let Some(b) = a.editor.box_by_id(id) else { return };
    let r = to_rect(a.editor.viewport.rect_to_screen(&a.editor.displayed(b).rect));
    // below the box, left-aligned with it; above when there is no room below; always on canvas
    let h = 30.0;
    let mut p = Pos2::new(r.left(), r.bottom() + 6.0);
    if p.y + h > canvas.bottom() {
        p.y = r.top() - h - 6.0;
    }
    p.x = p.x.clamp(canvas.left() + 4.0, (canvas.right() - FIELD_WIDTH - 20.0).max(canvas.left() + 4.0));
    p.y = p.y.clamp(canvas.top() + 4.0, (canvas.bottom() - h - 4.0).max(canvas.top() + 4.0));
    if !canvas.intersects(Rect::from_min_size(p, Vec2::new(FIELD_WIDTH, h))) {
        return;
    }
    let field = text_field_id();
    let ctx = ui.ctx().clone();
    egui::Area::new(Id::unique("facture_box_text_area")).order(Order::Foreground).fixed_pos(p).show(&ctx, |ui| {
        egui::Frame::popup(ui.style()).inner_margin(4.0).show(ui, |ui| {
            ui.horizontal(|ui| {
                let mut focused = ui.memory(|m| m.has_focus(field));
                if a.text.focus_request {
                    ui.memory_mut(|m| m.request_focus(field));
                    a.text.focus_request = false;
                    focused = true;
                }
                let mut done = false;
                if focused {
                    let tab_back = ui.input_mut(|i| i.consume_key(Modifiers::SHIFT, Key::Tab));
                    let tab = !tab_back && ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Tab));
                    if ui.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::Enter)) {
                        // Ctrl+Enter submits from the text field too, with the typed text saved first.
                        a.commit_text_draft();
                        ui.memory_mut(|m| m.surrender_focus(field));
                        if let Some(doc) = a.doc.as_ref().map(|d| d.id) {
                            a.push(crate::app::Command::Submit { doc }, super::annotator::After::Nothing);
                        }
                        done = true;
                    } else if ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Enter)) {
                        a.commit_text_draft();
                        ui.memory_mut(|m| m.surrender_focus(field));
                        done = true;
                    } else if ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape)) {
                        a.text.buffer = a.text.original.clone();
                        ui.memory_mut(|m| m.surrender_focus(field));
                        done = true;
                    } else if tab || tab_back {
                        a.commit_text_draft();
                        let mods = if tab_back { CMods::SHIFT } else { CMods::NONE };
                        let intents = a.editor.handle(CanvasEvent::Key { key: CKey::Tab, pressed: true, mods });
                        a.handle_intents(intents);
                        a.text.focus_request = true; // the next box's field takes over
                        done = true;
                    }
                }
                let resp = ui.add(
                    egui::TextEdit::singleline(&mut a.text.buffer)
                        .id(field)
                        // keep Tab and Esc for us: egui would move or drop focus before we see them
                        .event_filter(egui::EventFilter {
                            tab: true,
                            escape: true,
                            horizontal_arrows: true,
                            vertical_arrows: false,
                        })
                        .desired_width(FIELD_WIDTH)
                        .hint_text("text · Enter saves · Tab: next box · Esc cancels"),
                );
                if resp.lost_focus() && !done {
                    a.commit_text_draft(); // clicked elsewhere: keep the text
                }
                let dirty = a.text.buffer != a.text.original;
                ui.weak(if dirty { "unsaved" } else { "saved" }).on_hover_text(if dirty {
                    "not saved yet: Enter or Tab saves"
                } else {
                    "saved"
                });
            });
        });
    });
}

/// True when any text field has keyboard focus (then single-key shortcuts are off).
pub fn text_input_focused(ctx: &egui::Context) -> bool {
    ctx.memory(|m| m.focused()).is_some_and(|id| egui::TextEdit::load_state(ctx, id).is_some())
}
