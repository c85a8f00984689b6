//! The right panel: label palette (click or hotkey assigns), the selected box's details and
//! links, the suggestion controls and the guideline of the selected box's label (F1).

use eframe::egui;

use egui::{Color32, Sense, Stroke, StrokeKind, Vec2};

use crate::app::Command;
use crate::domain::{AnnId, AnnState, LabelId, LinkKind};

use super::annotator::{After, Annotator};
use super::shortcuts::hotkey_display;
use super::text_edit_ui::text_input_focused;

pub fn palette_ui(a: &mut Annotator, ui: &mut egui::Ui) {
    let selection = a.selection();
    let selected_labels: Vec<Option<LabelId>> =
        selection.iter().filter_map(|id| a.annotation(*id)).map(|ann| ann.label).collect();
    ui.horizontal(|ui| {
        ui.heading("Labels");
        ui.weak(if selection.is_empty() { "select boxes, then a label" } else { "click or press the key" });
    });
    ui.add_space(2.0);
    let mut clicked: Option<Option<LabelId>> = None;
    // retired labels stay on the boxes that have them but are not given anew
    let labels: Vec<_> = a.labels.iter().filter(|l| !l.retired).cloned().collect();
    for l in &labels {
        let active = !selected_labels.is_empty() && selected_labels.iter().all(|s| *s == Some(l.id));
        let resp = label_row_ui(
            ui,
            Color32::from_rgb(l.color[0], l.color[1], l.color[2]),
            &l.display_name(),
            l.hotkey.as_deref(),
            active,
        );
        if resp.clicked() {
            clicked = Some(Some(l.id));
        }
        resp.on_hover_text(&l.guideline);
    }
    if label_row_ui(ui, super::draw::UNLABELLED, "No label", Some("Ctrl+Bksp"), false).clicked() {
        clicked = Some(None);
    }
    if let Some(label) = clicked {
        a.assign_label(label);
    }
    ui.separator();
    selection_ui(a, ui, &selection);
    suggestions_ui(a, ui);
    super::tags_ui::flags_ui(a, ui, &selection);
    if a.view.show_guideline {
        super::guideline_ui::guideline_ui(a, ui, &selection);
    }
    super::tags_ui::tags_ui(a, ui);
}

fn label_row_ui(ui: &mut egui::Ui, color: Color32, name: &str, hotkey: Option<&str>, active: bool) -> egui::Response {
    let w = ui.available_width();
    let (rect, resp) = ui.allocate_exact_size(Vec2::new(w, 22.0), Sense::click());
    let visuals = ui.style().interact_selectable(&resp, active);
    if active || resp.hovered() {
        ui.painter().rect(rect, 3.0, visuals.weak_bg_fill, Stroke::NONE, StrokeKind::Inside);
    }
    let swatch = egui::Rect::from_min_size(rect.min + Vec2::new(4.0, 4.0), Vec2::splat(14.0));
    ui.painter().rect(swatch, 3.0, color, Stroke::new(1.0, Color32::from_black_alpha(90)), StrokeKind::Inside);
    ui.painter().text(
        rect.min + Vec2::new(24.0, 11.0),
        egui::Align2::LEFT_CENTER,
        name,
        egui::FontId::proportional(14.0),
        visuals.text_color(),
    );
    if let Some(k) = hotkey {
        ui.painter().text(
            rect.right_center() - Vec2::new(6.0, 0.0),
            egui::Align2::RIGHT_CENTER,
            hotkey_display(k),
            egui::FontId::monospace(12.0),
            ui.visuals().weak_text_color(),
        );
    }
    resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, name));
    resp
}

fn selection_ui(a: &mut Annotator, ui: &mut egui::Ui, selection: &[crate::domain::AnnId]) {
    let Some(doc) = a.doc.as_ref().map(|d| d.id) else { return };
    match selection {
        [] => {
            ui.weak("No box selected. Drag on the page to draw one (or W).");
        }
        [id] => {
            let Some(ann) = a.annotation(*id).cloned() else { return };
            ui.strong(format!("Box #{}", ann.id));
            ui.label(format!(
                "{:.0} × {:.0} px at ({:.0}, {:.0})",
                ann.rect.width(),
                ann.rect.height(),
                ann.rect.x0,
                ann.rect.y0
            ));
            let mut source = format!("from {}", ann.source);
            if let Some(c) = ann.confidence {
                source.push_str(&format!(" · confidence {}", percent(c)));
            }
            if ann.state == AnnState::Suggested {
                source.push_str(" · suggestion (Enter accepts, Del rejects)");
            }
            ui.weak(source);
            let links: Vec<_> = a.links.iter().filter(|l| l.from == ann.id || l.to == ann.id).cloned().collect();
            for l in links {
                ui.horizontal(|ui| {
                    let (arrow, other) = if l.from == ann.id { ("->", l.to) } else { ("<-", l.from) };
                    let kind = match l.kind {
                        LinkKind::KeyValue => "value",
                        LinkKind::Row => "same row",
                    };
                    let other_text = a.annotation(other).map(|o| o.text.clone()).unwrap_or_default();
                    ui.label(format!("{arrow} #{other} {kind} {other_text}"));
                    if ui.small_button("x").on_hover_text("remove this link").clicked() {
                        a.push(Command::DeleteLinks { doc, ids: vec![l.id] }, After::Nothing);
                    }
                });
            }
            super::guideline_ui::pin_ui(a, ui, &ann);
        }
        many => {
            ui.strong(format!("{} boxes selected", many.len()));
        }
    }
}

/// The key that jumps to the next least confident suggestion (free in `shortcuts::SHORTCUTS`).
pub const LEAST_CONFIDENT_KEY: egui::Key = egui::Key::N;

/// Suggestions listed under "By confidence" at most; the rest are reached with N.
const LISTED_SUGGESTIONS: usize = 200;

fn suggestions_ui(a: &mut Annotator, ui: &mut egui::Ui) {
    let Some(doc) = a.doc.as_ref().map(|d| d.id) else { return };
    let suggested: Vec<(AnnId, f32)> =
        a.anns.iter().filter(|x| x.state == AnnState::Suggested).map(|x| (x.id, x.confidence.unwrap_or(0.0))).collect();
    if suggested.is_empty() {
        return;
    }
    ui.separator();
    ui.strong(format!("{} suggestions to review", suggested.len()));
    ui.add(
        egui::Slider::new(&mut a.view.accept_threshold, 0.0..=1.0)
            .text("min. confidence")
            .custom_formatter(|v, _| percent(v as f32))
            .custom_parser(|s| s.trim().trim_end_matches('%').trim().parse::<f64>().ok().map(|v| v / 100.0)),
    );
    let above: Vec<_> = suggested.iter().filter(|(_, s)| *s >= a.view.accept_threshold).map(|(id, _)| *id).collect();
    ui.horizontal(|ui| {
        if ui
            .add_enabled(
                !above.is_empty(),
                egui::Button::new(format!("Accept {} ≥ {}", above.len(), percent(a.view.accept_threshold))),
            )
            .clicked()
        {
            a.push(Command::AcceptSuggestions { doc, ids: above.clone() }, After::Nothing);
        }
        if ui.button("Reject all").clicked() {
            let ids = suggested.iter().map(|(id, _)| *id).collect();
            a.push(Command::RejectSuggestions { doc, ids }, After::Nothing);
        }
    });
    let key = egui::KeyboardShortcut::new(egui::Modifiers::NONE, LEAST_CONFIDENT_KEY);
    let key_pressed = !text_input_focused(ui.ctx()) && ui.input_mut(|i| i.consume_shortcut(&key));
    let clicked = ui
        .button("Least confident first")
        .on_hover_text("Select the suggestion with the lowest confidence and show it; again (or N): the next lowest")
        .clicked();
    if clicked || key_pressed {
        let current = a.editor.primary().and_then(|id| a.annotation(id)).map(|x| (x.id, x.confidence.unwrap_or(0.0)));
        if let Some(id) = next_least_confident(&suggested, current) {
            show_box(a, id);
        }
    }
    let mut by_score: Vec<(AnnId, f32)> = suggested;
    by_score.sort_by(|x, y| x.1.total_cmp(&y.1).then(x.0.cmp(&y.0)));
    let mut picked = None;
    egui::CollapsingHeader::new(format!("By confidence ({})", by_score.len())).id_salt("suggestions_by_score").show(
        ui,
        |ui| {
            for (id, score) in by_score.iter().take(LISTED_SUGGESTIONS) {
                let text = a.annotation(*id).map(|x| x.text.as_str()).unwrap_or("");
                let row = format!("{} {}", percent(*score), if text.is_empty() { "(no text)" } else { text });
                if ui.selectable_label(a.editor.is_selected(*id), row).clicked() {
                    picked = Some(*id);
                }
            }
        },
    );
    if let Some(id) = picked {
        show_box(a, id);
    }
}

/// A score in [0, 1] as a whole percentage, e.g. "87 %".
fn percent(score: f32) -> String {
    format!("{:.0} %", (score * 100.0).clamp(0.0, 100.0))
}

/// The suggestion to show after `current` (the selected box and its score, suggested or
/// just accepted) when going through `suggested` least confident first: the next one up in
/// (score, id) order, wrapping round to the lowest.
pub fn next_least_confident(suggested: &[(AnnId, f32)], current: Option<(AnnId, f32)>) -> Option<AnnId> {
    let key = |(id, s): (AnnId, f32)| (s, id);
    let order = |x: &(f32, AnnId), y: &(f32, AnnId)| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1));
    let lowest = suggested.iter().map(|x| key(*x)).min_by(order);
    let after =
        current.map(key).and_then(|c| suggested.iter().map(|x| key(*x)).filter(|x| order(x, &c).is_gt()).min_by(order));
    after.or(lowest).map(|(_, id)| id)
}

/// Selects box `id` alone and brings it into view, zooming in when it is too small to read.
fn show_box(a: &mut Annotator, id: AnnId) {
    let Some(rect) = a.annotation(id).map(|x| x.rect) else { return };
    a.commit_text_draft();
    a.editor.select_only(id);
    let vp = &mut a.editor.viewport;
    let on_screen = vp.rect_to_screen(&rect);
    if on_screen.height() > 0.0 && on_screen.height() < MIN_READABLE_SCREEN_PX {
        vp.set_zoom_at(on_screen.center(), vp.zoom() * MIN_READABLE_SCREEN_PX / on_screen.height());
    }
    vp.reveal(&rect);
}

/// A line of text shown smaller than this (screen px high) is zoomed in on when jumped to.
const MIN_READABLE_SCREEN_PX: f32 = 20.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_confident_first_goes_up_by_score_then_id_and_wraps() {
        let s: Vec<(AnnId, f32)> =
            [(1, 0.9), (2, 0.3), (3, 0.6), (4, 0.1), (5, 0.3)].map(|(i, v)| (AnnId(i), v)).to_vec();
        let mut at = None;
        let mut seen = Vec::new();
        for _ in 0..6 {
            let next = next_least_confident(&s, at);
            seen.extend(next);
            at = next.and_then(|id| s.iter().find(|x| x.0 == id).copied());
        }
        assert_eq!(seen, [4, 2, 5, 3, 1, 4].map(AnnId).to_vec());
        // a box that is no longer a suggestion (just accepted) still marks the place
        assert_eq!(next_least_confident(&s, Some((AnnId(9), 0.5))), Some(AnnId(3)));
        assert_eq!(next_least_confident(&[], Some((AnnId(9), 0.5))), None);
        assert_eq!(percent(0.734), "73 %");
        assert_eq!(percent(1.2), "100 %");
    }
}
