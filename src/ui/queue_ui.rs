//! The left panel: this annotator's documents with their status, a filter, and the current
//! one highlighted; A / D move through it.

use eframe::egui;

use egui::{Color32, RichText};

use crate::domain::DocStatus;

use super::annotator::Annotator;

pub fn status_color(s: DocStatus) -> Color32 {
    match s {
        DocStatus::New => Color32::from_rgb(140, 145, 155),
        DocStatus::InProgress => Color32::from_rgb(80, 160, 255),
        DocStatus::Submitted => Color32::from_rgb(200, 160, 40),
        DocStatus::InReview => Color32::from_rgb(190, 120, 255),
        DocStatus::Accepted => Color32::from_rgb(70, 180, 90),
        DocStatus::Rejected => Color32::from_rgb(230, 80, 70),
        DocStatus::Rework => Color32::from_rgb(240, 130, 50),
    }
}

/// "Title  N   < A  D >": a queue's heading with its size and previous/next buttons.
pub fn queue_header(a: &mut Annotator, ui: &mut egui::Ui, title: &str) {
    ui.horizontal(|ui| {
        ui.heading(title);
        ui.weak(format!("{}", a.queue.len()));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.small_button("D >").on_hover_text("next document (D)").clicked() {
                a.step_document(1);
            }
            if ui.small_button("< A").on_hover_text("previous document (A)").clicked() {
                a.step_document(-1);
            }
        });
    });
}

pub fn queue_ui(a: &mut Annotator, ui: &mut egui::Ui) {
    queue_header(a, ui, "Queue");
    let before = a.filter.clone();
    ui.horizontal(|ui| {
        egui::ComboBox::new("queue_status", "status")
            .width(96.0)
            .selected_text(a.filter.status.map_or("All", |s| s.label()))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut a.filter.status, None, "All");
                for s in DocStatus::ALL {
                    ui.selectable_value(&mut a.filter.status, Some(s), s.label());
                }
            });
        ui.add(egui::TextEdit::singleline(&mut a.filter.name).hint_text("filter by name").desired_width(f32::INFINITY))
            .on_hover_text("part of the file name");
    });
    if a.filter != before {
        a.refresh_queue();
    }
    ui.separator();
    let current = a.doc.as_ref().map(|d| d.id);
    let mut open = None;
    let row_h = 22.0;
    egui::ScrollArea::vertical().auto_shrink([false, false]).show_rows(ui, row_h, a.queue.len(), |ui, range| {
        for d in &a.queue[range] {
            let is_current = Some(d.id) == current;
            ui.horizontal(|ui| {
                let (dot, _) = ui.allocate_exact_size(egui::vec2(10.0, row_h), egui::Sense::hover());
                ui.painter().circle_filled(dot.center(), 4.0, status_color(d.status));
                let mut name = RichText::new(d.display_name());
                if d.is_gold {
                    name = name.italics();
                }
                let resp = ui.selectable_label(is_current, name).on_hover_text(format!(
                    "{}\n{} · {}×{} px",
                    d.path,
                    d.status.label(),
                    d.width,
                    d.height
                ));
                if resp.clicked() {
                    open = Some(d.id);
                }
                if is_current && a.pv.fit_pending {
                    resp.scroll_to_me(None);
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(RichText::new(d.status.label()).small().color(status_color(d.status)));
                    if let Some(name) = a.leased.get(&d.id) {
                        ui.label(RichText::new(format!("{name} on it")).small().weak())
                            .on_hover_text(format!("{name} is working on this document"));
                    }
                });
            });
        }
    });
    if let Some(id) = open {
        a.open_document(id);
    }
}
