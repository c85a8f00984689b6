//! The canvas widget: maps egui input to the editor's events, draws the page, boxes, links and
//! gesture previews, and shows the loading / error states in place of the page.

use eframe::egui;

use egui::{Color32, CursorIcon, Event, Pos2, Rect, Sense, Vec2};

use crate::app::Command;
use crate::app::canvas::{
    CanvasEvent, CursorHint, Intent, Modifiers as CMods, PointerButton as CButton, ScreenPos, ScreenRect,
};
use crate::app::loader::LoadError;
use crate::domain::{AnnState, Link, LinkKind};

use super::annotator::{After, Annotator, PageState};
use super::dialogs::FileDialogs;
use super::draw;

/// Canvas background outside the page.
pub const CANVAS_BG: Color32 = Color32::from_rgb(38, 40, 46);
/// Wheel zoom per scrolled point with Ctrl held.
const WHEEL_ZOOM_PER_POINT: f32 = 0.0025;

pub fn canvas_ui(a: &mut Annotator, ui: &mut egui::Ui, dialogs: &mut dyn FileDialogs) {
    let rect = ui.available_rect_before_wrap();
    let response = ui.allocate_rect(rect, Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, CANVAS_BG);
    if a.doc.is_none() {
        empty_ui(ui, rect);
        return;
    }
    a.editor.viewport.set_screen_rect(screen_rect(rect));
    if a.pv.fit_pending && rect.width() > 1.0 {
        a.editor.viewport.fit_page();
        a.pv.fit_pending = false;
    }
    if let PageState::Failed(err) = &a.pv.page {
        let err = err.clone();
        error_ui(a, ui, rect, &err, dialogs);
        return;
    }
    feed_pointer(a, ui, rect, &response);
    // right-click: the editor has already selected the box under the pointer
    response.context_menu(|ui| box_menu_ui(a, ui));

    // page
    let page_rect = to_rect(a.editor.viewport.image_screen_rect());
    match &a.pv.page {
        PageState::Ready(page) => {
            let page = page.clone();
            painter.rect_filled(page_rect, 0.0, Color32::WHITE);
            if a.pv.tiles.paint(ui.ctx(), &painter, &page, &a.editor.viewport) {
                ui.ctx().request_repaint();
            }
        }
        PageState::Loading { fraction, stage } => {
            painter.rect_filled(page_rect, 0.0, Color32::from_gray(236));
            let (fraction, stage) = (*fraction, *stage);
            loading_ui(ui, rect, fraction, stage);
        }
        PageState::NoDocument | PageState::Failed(_) => {}
    }
    draw::boxes(a, ui, &painter);
    super::review_draw::overlay(a, &painter);
    super::review_ui::doc_banner_ui(a, ui, rect);
    ui.ctx().set_cursor_icon(cursor_icon(a.editor.cursor()));
}

/// Feeds this frame's pointer events to the editor and queues the intents it returns.
fn feed_pointer(a: &mut Annotator, ui: &egui::Ui, rect: Rect, response: &egui::Response) {
    let events = ui.input(|i| i.events.clone());
    let our_layer = ui.layer_id();
    let ctx = ui.ctx().clone();
    let on_canvas = |p: Pos2| rect.contains(p) && ctx.layer_id_at(p).is_none_or(|l| l == our_layer);
    let mut intents = Vec::new();
    let mut latest_pointer = None;
    for ev in &events {
        let canvas_event = match ev {
            Event::PointerMoved(p) => {
                latest_pointer = Some(*p);
                if on_canvas(*p) || a.editor.is_gesture_active() {
                    Some(CanvasEvent::PointerMove { pos: spos(*p), mods: mods(&ui.input(|i| i.modifiers)) })
                } else {
                    Some(CanvasEvent::PointerLeft)
                }
            }
            Event::PointerButton { pos, button, pressed, modifiers } => {
                let Some(button) = map_button(*button) else { continue };
                if *pressed && on_canvas(*pos) {
                    Some(CanvasEvent::PointerDown { pos: spos(*pos), button, mods: mods(modifiers) })
                } else if !*pressed {
                    Some(CanvasEvent::PointerUp { pos: spos(*pos), button, mods: mods(modifiers) })
                } else {
                    None
                }
            }
            Event::PointerGone => Some(CanvasEvent::PointerLeft),
            Event::MouseWheel { unit, delta, modifiers, .. } if response.contains_pointer() => {
                let scale = match unit {
                    egui::MouseWheelUnit::Point => 1.0,
                    egui::MouseWheelUnit::Line => 40.0,
                    egui::MouseWheelUnit::Page => rect.height(),
                };
                let d = *delta * scale;
                if modifiers.command {
                    let pos = ui.input(|i| i.pointer.hover_pos()).unwrap_or(rect.center());
                    Some(CanvasEvent::Zoom { pos: spos(pos), factor: (d.y * WHEEL_ZOOM_PER_POINT).exp() })
                } else if modifiers.shift && d.x == 0.0 {
                    Some(CanvasEvent::Scroll { dx: d.y, dy: 0.0 })
                } else {
                    Some(CanvasEvent::Scroll { dx: d.x, dy: d.y })
                }
            }
            Event::Zoom(factor) if response.contains_pointer() => {
                let pos = ui.input(|i| i.pointer.hover_pos()).unwrap_or(rect.center());
                Some(CanvasEvent::Zoom { pos: spos(pos), factor: *factor })
            }
            Event::WindowFocused(false) => Some(CanvasEvent::FocusLost),
            _ => None,
        };
        if let Some(e) = canvas_event {
            intents.extend(a.editor.handle(e));
        }
    }
    if let Some(p) = latest_pointer {
        a.cursor_img = on_canvas(p).then(|| a.editor.viewport.to_image(spos(p)));
    }
    a.handle_intents(intents);
}

fn empty_ui(ui: &mut egui::Ui, rect: Rect) {
    ui.scope_builder(egui::UiBuilder::new().max_rect(rect.shrink(40.0)), |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space(rect.height() * 0.3);
            ui.heading("No document to show");
            ui.label("Your queue is empty (or the filter hides everything).");
            ui.label("Add page images with:  facture import WORKSPACE.sqlite FOLDER");
        });
    });
}

fn loading_ui(ui: &mut egui::Ui, rect: Rect, fraction: f32, stage: &str) {
    let card = Rect::from_center_size(rect.center(), Vec2::new(260.0, 72.0));
    ui.scope_builder(egui::UiBuilder::new().max_rect(card), |ui| {
        egui::Frame::popup(ui.style()).show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.add(egui::Spinner::new());
                ui.label(format!("Loading page — {stage}…"));
            });
            ui.add(egui::ProgressBar::new(fraction).desired_width(230.0));
        });
    });
}

/// In place of the page: what went wrong, and for a missing file, a way to find it again.
fn error_ui(a: &mut Annotator, ui: &mut egui::Ui, rect: Rect, err: &LoadError, dialogs: &mut dyn FileDialogs) {
    let card = Rect::from_center_size(rect.center(), Vec2::new(rect.width().min(560.0), 240.0));
    let old_path = a.doc.as_ref().map(|d| a.image_path(d)).unwrap_or_default();
    ui.scope_builder(egui::UiBuilder::new().max_rect(card), |ui| {
        egui::Frame::popup(ui.style()).inner_margin(16.0).show(ui, |ui| {
            match err {
                LoadError::Missing { path } => {
                    ui.heading("Image file not found");
                    ui.label(format!("{} is not there any more. If it was moved or renamed, point Facture to it: the file is recognised by its content, so any copy works.", path.display()));
                    ui.add_space(8.0);
                    ui.horizontal(|ui| {
                        if ui.button("Locate the file…").clicked()
                            && let Some(f) = dialogs.pick_image(&old_path)
                        {
                            a.relink_file(&f);
                        }
                        if ui.button("Search a folder…").clicked()
                            && let Some(d) = dialogs.pick_folder(&old_path)
                        {
                            a.relink_folder(&d);
                        }
                        if ui.button("Retry").clicked() {
                            a.reload_page();
                        }
                    });
                }
                LoadError::Unreadable(reason) => {
                    ui.heading("This page cannot be shown");
                    ui.label(reason);
                    ui.label("The file may be damaged. Replace it with a good copy and press Retry, or go on with the next document (D).");
                    if ui.button("Retry").clicked() {
                        a.reload_page();
                    }
                }
            }
            if let Some(m) = &a.relink_message {
                ui.colored_label(ui.visuals().error_fg_color, m);
            }
        });
    });
}

fn cursor_icon(h: CursorHint) -> CursorIcon {
    match h {
        CursorHint::Default => CursorIcon::Default,
        CursorHint::Crosshair => CursorIcon::Crosshair,
        CursorHint::Move => CursorIcon::Move,
        CursorHint::PointingHand => CursorIcon::PointingHand,
        CursorHint::Grab => CursorIcon::Grab,
        CursorHint::Grabbing => CursorIcon::Grabbing,
        CursorHint::ResizeHorizontal => CursorIcon::ResizeHorizontal,
        CursorHint::ResizeVertical => CursorIcon::ResizeVertical,
        CursorHint::ResizeNwSe => CursorIcon::ResizeNwSe,
        CursorHint::ResizeNeSw => CursorIcon::ResizeNeSw,
    }
}

fn map_button(b: egui::PointerButton) -> Option<CButton> {
    match b {
        egui::PointerButton::Primary => Some(CButton::Primary),
        egui::PointerButton::Secondary => Some(CButton::Secondary),
        egui::PointerButton::Middle => Some(CButton::Middle),
        _ => None,
    }
}

pub fn mods(m: &egui::Modifiers) -> CMods {
    CMods { shift: m.shift, command: m.command, alt: m.alt }
}

pub fn spos(p: Pos2) -> ScreenPos {
    ScreenPos::new(p.x, p.y)
}

pub fn pos(p: ScreenPos) -> Pos2 {
    Pos2::new(p.x, p.y)
}

pub fn screen_rect(r: Rect) -> ScreenRect {
    ScreenRect::new(r.min.x, r.min.y, r.max.x, r.max.y)
}

pub fn to_rect(r: ScreenRect) -> Rect {
    Rect::from_min_max(Pos2::new(r.x0, r.y0), Pos2::new(r.x1, r.y1))
}

/// The right-click menu of the selected box: its links, each removable, and delete (or
/// reject, for a suggestion), the same as the Del key.
fn box_menu_ui(a: &mut Annotator, ui: &mut egui::Ui) {
    let (Some(doc), Some(primary)) = (a.doc.as_ref().map(|d| d.id), a.editor.primary()) else {
        ui.weak("Right-click a box for its links and actions.");
        return;
    };
    let links: Vec<Link> = a.links.iter().filter(|l| l.from == primary || l.to == primary).cloned().collect();
    for l in &links {
        let (role, other) = match (l.kind, l.from == primary) {
            (LinkKind::KeyValue, true) => ("value", l.to),
            (LinkKind::KeyValue, false) => ("key", l.from),
            (LinkKind::Row, true) => ("row cell", l.to),
            (LinkKind::Row, false) => ("row cell", l.from),
        };
        let text = a.annotation(other).map(|o| o.text.clone()).unwrap_or_default();
        let name = if text.is_empty() { format!("#{other}") } else { format!("\"{text}\"") };
        if ui.button(format!("Remove link to {role} {name}")).clicked() {
            a.push(Command::DeleteLinks { doc, ids: vec![l.id] }, After::Nothing);
            ui.close();
        }
    }
    if links.is_empty() {
        ui.weak("No links (L draws one)");
    }
    ui.separator();
    let suggested = a.annotation(primary).is_some_and(|b| b.state == AnnState::Suggested);
    let n = a.editor.selection().len();
    let what = match (suggested, n) {
        (true, 1) => "Reject suggestion".to_string(),
        (false, 1) => "Delete box".to_string(),
        (_, n) => format!("Delete {n} boxes"),
    };
    if ui.button(what).clicked() {
        let ids = a.editor.selection().iter().copied().collect();
        a.handle_intents(vec![Intent::DeleteBoxes { ids }]);
        ui.close();
    }
}
