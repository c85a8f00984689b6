//! Painting boxes, links and gesture previews on the canvas. Only boxes in view are touched
//! (the editor's spatial index culls), so thousands of boxes stay cheap.

use eframe::egui;

use egui::epaint::{PathShape, PathStroke, RectShape};
use egui::{Align2, Color32, FontId, Painter, Pos2, Rect, Shape, Stroke, StrokeKind, Vec2};

use crate::app::canvas::{CanvasBox, Hit, Preview, quad_handles, visible_handles};
use crate::domain::{AnnState, Annotation, LinkKind, Point, Quad};

use super::annotator::Annotator;
use super::canvas_ui::{pos, to_rect};

/// Boxes without a label.
pub const UNLABELLED: Color32 = Color32::from_rgb(128, 132, 140);
const LINK_KEY_VALUE: Color32 = Color32::from_rgb(255, 170, 0);
const LINK_ROW: Color32 = Color32::from_rgb(90, 170, 255);
/// Above this many boxes in view, "always show text" shows it only where there is room.
const MAX_TAGS: usize = 400;
/// The mark on a box whose latest change the store does not have yet.
pub const UNSAVED: Color32 = Color32::from_rgb(255, 176, 32);

pub fn label_color(a: &Annotator, ann: &Annotation) -> Color32 {
    ann.label.and_then(|l| a.label(l)).map_or(UNLABELLED, |l| Color32::from_rgb(l.color[0], l.color[1], l.color[2]))
}

pub fn boxes(a: &Annotator, ui: &egui::Ui, painter: &Painter) {
    let vp = &a.editor.viewport;
    let mut visible = Vec::new();
    a.editor.visible_boxes(&mut visible);
    let hover = a.editor.hover().map(|h| h.id());
    let primary = a.editor.primary();
    let many = visible.len() > MAX_TAGS;
    let unsaved = a.shows_unsaved();
    let mut shapes = Vec::with_capacity(visible.len() + 16);
    let mut tags = Vec::new();
    let mut unsure = Vec::new();
    for &i in &visible {
        let (Some(b), Some(ann)) = (a.editor.boxes().get(i as usize), a.anns.get(i as usize)) else { continue };
        let d = a.editor.displayed(b);
        let color = label_color(a, ann);
        let selected = a.editor.is_selected(b.id);
        let r = to_rect(vp.rect_to_screen(&d.rect));
        box_shape(&mut shapes, vp, &d, r, color, ann.state == AnnState::Suggested, selected, hover == Some(b.id));
        if unsaved && a.unsaved.contains(&b.id) {
            // not in the store yet: an amber dot on the corner until it is
            shapes.push(Shape::circle_filled(r.right_top(), 4.5, UNSAVED));
            shapes.push(Shape::circle_stroke(r.right_top(), 4.5, Stroke::new(1.0, Color32::BLACK)));
        }
        if ann.label_conf.is_some_and(|c| c < crate::app::labels::UNSURE_BELOW) && r.height() >= 6.0 {
            unsure.push((r, color));
        }
        let show_tag = hover == Some(b.id)
            || (primary == Some(b.id) && a.text.focus_request)
            || (a.view.always_show_text && (!many || r.height() >= 14.0));
        if show_tag {
            tags.push((r, color, ann));
        }
    }
    painter.extend(shapes);
    // a label the machine is unsure of: a "?" badge on the corner, so the eye goes there
    for (r, color) in unsure {
        let c = r.left_top();
        painter.circle(c, 7.0, darken(color), Stroke::new(1.0, Color32::WHITE));
        painter.text(c, egui::Align2::CENTER_CENTER, "?", FontId::proportional(11.0), Color32::WHITE);
    }
    links(a, painter);
    for (r, color, ann) in tags {
        tag(a, painter, r, color, ann);
    }
    selection_handles(a, painter);
    preview(a, ui, painter);
}

#[allow(clippy::too_many_arguments)]
fn box_shape(
    out: &mut Vec<Shape>,
    vp: &crate::app::canvas::Viewport,
    b: &CanvasBox,
    r: Rect,
    color: Color32,
    suggested: bool,
    selected: bool,
    hovered: bool,
) {
    let width = if selected {
        2.5
    } else if hovered {
        2.0
    } else {
        1.5
    };
    let fill = if suggested {
        Color32::TRANSPARENT
    } else if selected {
        color.gamma_multiply(0.22)
    } else {
        color.gamma_multiply(0.10)
    };
    let stroke = Stroke::new(width, color);
    match b.quad {
        Some(q) => {
            let pts: Vec<Pos2> = quad_points(vp, &q);
            if suggested {
                let mut closed = pts.clone();
                closed.push(pts[0]);
                out.extend(Shape::dashed_line(&closed, stroke, 6.0, 4.0));
            } else {
                out.push(Shape::Path(PathShape::convex_polygon(pts, fill, PathStroke::new(width, color))));
            }
        }
        // Outlines sit just outside the box: a box shrunk to its ink would otherwise have its
        // line drawn across the glyphs, and "1,487.43" would read as "1,4872.43".
        None if suggested => {
            let o = r.expand(width / 2.0 + 1.0);
            let c = [o.left_top(), o.right_top(), o.right_bottom(), o.left_bottom(), o.left_top()];
            out.extend(Shape::dashed_line(&c, stroke, 6.0, 4.0));
        }
        None => {
            out.push(Shape::Rect(RectShape::filled(r, 0.0, fill)));
            out.push(Shape::Rect(RectShape::stroke(r.expand(1.0), 0.0, stroke, StrokeKind::Outside)));
        }
    }
    if selected {
        // a white outer line so the selection reads on any label colour
        out.push(Shape::Rect(RectShape::stroke(
            r.expand(width + 2.0),
            0.0,
            Stroke::new(1.0, Color32::WHITE),
            StrokeKind::Middle,
        )));
    }
}

fn quad_points(vp: &crate::app::canvas::Viewport, q: &Quad) -> Vec<Pos2> {
    q.0.iter().map(|p| pos(vp.to_screen(*p))).collect()
}

/// Label name and text in a small flag above the box.
fn tag(a: &Annotator, painter: &Painter, r: Rect, color: Color32, ann: &Annotation) {
    let name = ann.label.and_then(|l| a.label(l)).map_or("unlabelled".to_string(), |l| l.display_name());
    // a machine's label not yet confirmed by a person says how sure it is
    let name = match ann.label_conf {
        Some(c) if ann.label.is_some() => format!("{name}? {:.0}%", c * 100.0),
        _ => name,
    };
    let text = if ann.text.is_empty() { name } else { format!("{name}: {}", ann.text) };
    let text = if ann.state == AnnState::Suggested {
        match ann.confidence {
            Some(c) => format!("suggestion {:.0}% · {text}", c * 100.0),
            None => format!("suggestion · {text}"),
        }
    } else {
        text
    };
    let galley = painter.layout_no_wrap(text, FontId::proportional(12.0), Color32::WHITE);
    let size = galley.size() + Vec2::new(8.0, 2.0);
    let min = Pos2::new(r.left(), (r.top() - size.y).max(painter.clip_rect().top()));
    let bg = Rect::from_min_size(min, size);
    painter.rect_filled(bg, 2.0, darken(color));
    painter.galley(bg.min + Vec2::new(4.0, 1.0), galley, Color32::WHITE);
}

fn darken(c: Color32) -> Color32 {
    Color32::from_rgb((c.r() as f32 * 0.62) as u8, (c.g() as f32 * 0.62) as u8, (c.b() as f32 * 0.62) as u8)
}

fn selection_handles(a: &Annotator, painter: &Painter) {
    let vp = &a.editor.viewport;
    let radius_img = a.editor.hit_params().handle_radius;
    for id in a.editor.selection() {
        let Some(b) = a.editor.box_by_id(*id) else { continue };
        let d = a.editor.displayed(b);
        let handles: Vec<Point> = match &d.quad {
            Some(q) => quad_handles(q, radius_img).map(|(_, p)| p).collect(),
            None => visible_handles(&d.rect, radius_img).map(|(_, p)| p).collect(),
        };
        let hot = match (a.editor.hover(), &d.quad) {
            (Some(Hit::Handle { id: h, handle }), _) if h == *id => Some(handle.position(&d.rect)),
            (Some(Hit::Quad { id: h, handle }), Some(q)) if h == *id => Some(handle.position(q)),
            _ => None,
        };
        for p in handles {
            let c = pos(vp.to_screen(p));
            let s = if hot == Some(p) { 5.0 } else { 3.5 };
            let r = Rect::from_center_size(c, Vec2::splat(2.0 * s));
            painter.rect(r, 1.0, Color32::WHITE, Stroke::new(1.0, Color32::from_gray(30)), StrokeKind::Middle);
        }
    }
}

fn center(a: &Annotator, id: crate::domain::AnnId) -> Option<Pos2> {
    let b = a.editor.box_by_id(id)?;
    Some(pos(a.editor.viewport.to_screen(a.editor.displayed(b).rect.center())))
}

/// Key → value arrows and dashed row connectors.
fn links(a: &Annotator, painter: &Painter) {
    for l in &a.links {
        let (Some(from), Some(to)) = (center(a, l.from), center(a, l.to)) else { continue };
        match l.kind {
            LinkKind::KeyValue => {
                let v = to - from;
                painter.line_segment([from, to], Stroke::new(1.5, LINK_KEY_VALUE));
                let len = v.length();
                if len > 8.0 {
                    let dir = v / len;
                    let tip = to - dir * 4.0;
                    let side = Vec2::new(-dir.y, dir.x) * 4.0;
                    let back = tip - dir * 8.0;
                    painter.add(Shape::convex_polygon(
                        vec![tip, back + side, back - side],
                        LINK_KEY_VALUE,
                        Stroke::NONE,
                    ));
                }
                painter.circle_filled(from, 2.5, LINK_KEY_VALUE);
            }
            LinkKind::Row => {
                painter.extend(Shape::dashed_line(&[from, to], Stroke::new(1.5, LINK_ROW), 5.0, 4.0));
            }
        }
    }
}

fn preview(a: &Annotator, ui: &egui::Ui, painter: &Painter) {
    let vp = &a.editor.viewport;
    let accent = ui.visuals().selection.stroke.color;
    match a.editor.preview() {
        Preview::None => {}
        Preview::NewRect(r) => {
            let s = to_rect(vp.rect_to_screen(&r));
            painter.rect(s, 0.0, accent.gamma_multiply(0.15), Stroke::new(1.5, accent), StrokeKind::Middle);
            let label = format!("{:.0} × {:.0}", r.width(), r.height());
            painter.text(
                s.right_bottom() + Vec2::new(4.0, 4.0),
                Align2::LEFT_TOP,
                label,
                FontId::monospace(11.0),
                accent,
            );
        }
        Preview::RubberBand(r) => {
            let s = to_rect(vp.rect_to_screen(&r));
            painter.rect(s, 0.0, accent.gamma_multiply(0.08), Stroke::new(1.0, accent), StrokeKind::Middle);
        }
        Preview::NewQuad { points, pointer } => {
            let mut pts: Vec<Pos2> = points.iter().map(|p| pos(vp.to_screen(*p))).collect();
            if let Some(p) = pointer {
                pts.push(pos(vp.to_screen(p)));
            }
            painter.add(Shape::line(pts.clone(), Stroke::new(1.5, accent)));
            for p in pts {
                painter.circle_filled(p, 3.0, accent);
            }
        }
        Preview::Link { from, pointer } => {
            if let (Some(f), Some(p)) = (center(a, from), pointer) {
                painter.line_segment([f, pos(vp.to_screen(p))], Stroke::new(1.5, LINK_KEY_VALUE));
            }
        }
        Preview::Copies { dx, dy } => {
            for id in a.editor.selection() {
                if let Some(b) = a.editor.box_by_id(*id) {
                    let s = to_rect(vp.rect_to_screen(&b.rect.translated(dx, dy)));
                    painter.rect_stroke(s, 0.0, Stroke::new(1.5, accent), StrokeKind::Middle);
                }
            }
        }
    }
}
