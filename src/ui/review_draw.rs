//! Review marks on the canvas: a verdict outline and badge per box in review, a dashed outline
//! on boxes changed since the last round, and for rework the last round's notes pinned to the
//! boxes (boxes the reviewer deleted or called spurious keep a ghost of their old place).

use eframe::egui;

use egui::{Color32, FontId, Painter, Pos2, Rect, Shape, Stroke, StrokeKind, Vec2};

use crate::domain::{AnnId, Verdict};

use super::annotator::Annotator;
use super::canvas_ui::to_rect;
use super::review_state::{verdict_color, verdict_name};

/// Diff highlighting: boxes changed since the previous round.
pub const CHANGED: Color32 = Color32::from_rgb(0, 200, 220);
/// The edge of a note that is a plain comment (no verdict).
const COMMENT: Color32 = Color32::from_rgb(120, 125, 135);
const NOTE_WIDTH: f32 = 240.0;

/// Draws after the boxes, before the text field.
pub fn overlay(a: &Annotator, painter: &Painter) {
    let r = &a.review.doc;
    if r.doc.is_none() || r.doc != a.doc.as_ref().map(|d| d.id) {
        return;
    }
    let clip = painter.clip_rect();
    let screen = |id: AnnId| -> Option<Rect> {
        let b = a.editor.box_by_id(id)?;
        Some(to_rect(a.editor.viewport.rect_to_screen(&a.editor.displayed(b).rect)))
    };
    // diff since the last round
    for id in &r.changed {
        if let Some(s) = screen(*id).filter(|s| clip.intersects(*s)) {
            let p = s.expand(4.0);
            let c = [p.left_top(), p.right_top(), p.right_bottom(), p.left_bottom(), p.left_top()];
            painter.extend(Shape::dashed_line(&c, Stroke::new(1.5, CHANGED), 5.0, 3.0));
        }
    }
    if r.open_round.is_some() {
        for (id, v) in &r.verdicts {
            let Some(s) = screen(*id).filter(|s| clip.intersects(*s)) else { continue };
            verdict_mark(painter, s, v.verdict, true);
            let note = notes(a, *id, &v.comment);
            if !note.is_empty() && a.editor.primary() != Some(*id) {
                note_flag(painter, s, verdict_color(v.verdict), &note);
            }
        }
        // comments on boxes without a verdict
        for c in &r.comments {
            if let Some(id) = c.ann
                && !r.verdicts.contains_key(&id)
                && let Some(s) = screen(id).filter(|s| clip.intersects(*s))
            {
                note_flag(painter, s, COMMENT, &c.text);
            }
        }
    } else if r.shows_rework_notes() {
        let mut shown = Vec::new();
        for v in &r.pinned {
            let live = screen(v.ann);
            let s = live.unwrap_or_else(|| to_rect(a.editor.viewport.rect_to_screen(&v.rect)));
            if !clip.intersects(s) {
                continue;
            }
            if live.is_none() {
                // the box is gone (deleted as spurious, or by the reviewer): its old place
                let c = [s.left_top(), s.right_top(), s.right_bottom(), s.left_bottom(), s.left_top()];
                painter.extend(Shape::dashed_line(&c, Stroke::new(1.5, verdict_color(v.verdict)), 4.0, 4.0));
            }
            verdict_mark(painter, s, v.verdict, live.is_some());
            let note = notes(a, v.ann, &v.comment);
            note_flag(
                painter,
                s,
                verdict_color(v.verdict),
                &if note.is_empty() { verdict_name(v.verdict).to_string() } else { note },
            );
            shown.push(v.ann);
        }
        for c in &r.comments {
            if let Some(id) = c.ann
                && !shown.contains(&id)
                && let Some(s) = screen(id).filter(|s| clip.intersects(*s))
            {
                note_flag(painter, s, COMMENT, &c.text);
            }
        }
    }
}

/// The verdict's comment and the box's comments, one per line.
fn notes(a: &Annotator, id: AnnId, verdict_comment: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    if !verdict_comment.trim().is_empty() {
        lines.push(verdict_comment.trim());
    }
    lines.extend(a.review.doc.box_comments(id).map(|c| c.text.as_str()));
    lines.join("\n")
}

fn verdict_mark(painter: &Painter, s: Rect, v: Verdict, outline: bool) {
    let color = verdict_color(v);
    if outline {
        painter.rect_stroke(s.expand(1.5), 0.0, Stroke::new(2.5, color), StrokeKind::Outside);
    }
    let galley = painter.layout_no_wrap(verdict_name(v).to_uppercase(), FontId::proportional(10.5), Color32::WHITE);
    let size = galley.size() + Vec2::new(6.0, 2.0);
    let min = Pos2::new(s.right() - size.x, s.top() - size.y - 1.0);
    let bg = Rect::from_min_size(min, size);
    painter.rect_filled(bg, 3.0, color);
    painter.galley(bg.min + Vec2::new(3.0, 1.0), galley, Color32::WHITE);
}

/// A note pinned below the box, wrapped, with the verdict's colour on its left edge.
fn note_flag(painter: &Painter, s: Rect, edge: Color32, text: &str) {
    let galley = painter.layout(text.to_string(), FontId::proportional(12.0), Color32::from_gray(20), NOTE_WIDTH);
    let size = galley.size() + Vec2::new(12.0, 6.0);
    let mut min = Pos2::new(s.left(), s.bottom() + 3.0);
    let clip = painter.clip_rect();
    if min.y + size.y > clip.bottom() {
        min.y = s.top() - size.y - 16.0;
    }
    min.x = min.x.clamp(clip.left() + 2.0, (clip.right() - size.x - 2.0).max(clip.left() + 2.0));
    let bg = Rect::from_min_size(min, size);
    painter.rect(
        bg,
        3.0,
        Color32::from_rgb(255, 248, 200),
        Stroke::new(1.0, Color32::from_gray(120)),
        StrokeKind::Inside,
    );
    painter.rect_filled(Rect::from_min_size(bg.min, Vec2::new(4.0, bg.height())), 2.0, edge);
    painter.galley(bg.min + Vec2::new(8.0, 3.0), galley, Color32::from_gray(20));
}
