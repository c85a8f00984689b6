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
    find_ui(a, ui);
    if a.filter != before {
        a.refresh_queue();
    }
    ui.separator();
    let current = a.doc.as_ref().map(|d| d.id);
    let lead = a.user().role == crate::domain::Role::Lead;
    let mut open = None;
    let mut housekeeping = None;
    let previews = thumbs_shown(ui.ctx());
    let row_h = if previews { THUMB_ROW } else { 22.0 };
    let thumbs = previews.then(|| Thumbs::of(ui.ctx()));
    if let Some(t) = &thumbs {
        t.take_ready(ui.ctx());
    }
    let workspace = a.workspace.clone();
    egui::ScrollArea::vertical().auto_shrink([false, false]).show_rows(ui, row_h, a.queue.len(), |ui, range| {
        for d in &a.queue[range] {
            let is_current = Some(d.id) == current;
            ui.horizontal(|ui| {
                let (dot, _) = ui.allocate_exact_size(egui::vec2(10.0, row_h), egui::Sense::hover());
                ui.painter().circle_filled(dot.center(), 4.0, status_color(d.status));
                if let Some(t) = &thumbs {
                    t.show(ui, &workspace, d);
                }
                // gold documents are honeypots: to annotators and reviewers a row looks like any
                // other; only leads see the tag
                let name = RichText::new(d.display_name());
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
                if lead {
                    resp.context_menu(|ui| {
                        if let Some(act) = housekeeping_menu(ui, d) {
                            housekeeping = Some((d.id, act));
                            ui.close();
                        }
                    });
                }
                if is_current && a.pv.fit_pending {
                    resp.scroll_to_me(None);
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(RichText::new(d.status.label()).small().color(status_color(d.status)));
                    if d.priority != 0 {
                        ui.label(RichText::new(format!("P{}", d.priority)).small().weak())
                            .on_hover_text("the lead's priority: higher comes first in the queue");
                    }
                    if d.is_gold && lead {
                        ui.label(RichText::new("gold").small().strong())
                            .on_hover_text("a gold document: annotators do not see this tag");
                    }
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
    if let Some((doc, act)) = housekeeping {
        housekeep(a, doc, act);
    }
}

/// Row height with page previews.
const THUMB_ROW: f32 = 52.0;

fn thumbs_id() -> egui::Id {
    egui::Id::unique("facture_queue_previews")
}

/// Whether the queue shows page previews (on unless turned off; remembered for the session).
fn thumbs_shown(ctx: &egui::Context) -> bool {
    ctx.data(|d| d.get_temp::<bool>(thumbs_id().with("shown"))).unwrap_or(true)
}

/// The queue's page previews: a worker makes them, textures are kept per page as turned.
#[derive(Clone)]
struct Thumbs(std::sync::Arc<std::sync::Mutex<ThumbState>>);

struct ThumbState {
    maker: crate::app::thumbs::Thumbnails,
    textures: std::collections::HashMap<crate::app::thumbs::ThumbKey, Result<egui::TextureHandle, String>>,
}

impl Thumbs {
    fn of(ctx: &egui::Context) -> Thumbs {
        if let Some(t) = ctx.data(|d| d.get_temp::<Thumbs>(thumbs_id())) {
            return t;
        }
        let wake = ctx.clone();
        let t = Thumbs(std::sync::Arc::new(std::sync::Mutex::new(ThumbState {
            maker: crate::app::thumbs::Thumbnails::new(move || wake.request_repaint()),
            textures: Default::default(),
        })));
        ctx.data_mut(|d| d.insert_temp(thumbs_id(), t.clone()));
        t
    }

    /// Turns the thumbnails that arrived into textures.
    fn take_ready(&self, ctx: &egui::Context) {
        let Ok(mut s) = self.0.lock() else { return };
        for (key, thumb) in s.maker.poll() {
            let tex = thumb.map(|img| {
                let size = [img.width() as usize, img.height() as usize];
                let pixels = egui::ColorImage::from_rgba_unmultiplied(size, img.as_raw());
                ctx.load_texture(format!("thumb-{}-{}", key.doc, key.rotation), pixels, egui::TextureOptions::LINEAR)
            });
            s.textures.insert(key, tex);
        }
    }

    /// The preview of `d` in a fixed box (asked for when first on screen).
    fn show(&self, ui: &mut egui::Ui, workspace: &crate::store::Workspace, d: &crate::domain::Document) {
        let side = THUMB_ROW - 6.0;
        let (rect, resp) = ui.allocate_exact_size(egui::vec2(side, side), egui::Sense::hover());
        let Ok(mut s) = self.0.lock() else { return };
        let key = crate::app::thumbs::ThumbKey::of(d);
        let state = match s.textures.get(&key) {
            Some(Ok(_)) => "",
            Some(Err(_)) => " (unreadable)",
            None => " (loading)",
        };
        let label = format!("preview of {}{state}", d.display_name());
        resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &label));
        match s.textures.get(&key) {
            Some(Ok(tex)) => {
                let [w, h] = tex.size().map(|v| v as f32);
                let scale = side / w.max(h);
                let shown = egui::Rect::from_center_size(rect.center(), egui::vec2(w * scale, h * scale));
                ui.painter().image(
                    tex.id(),
                    shown,
                    egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                    egui::Color32::WHITE,
                );
                ui.painter().rect_stroke(
                    shown,
                    0.0,
                    ui.visuals().widgets.noninteractive.bg_stroke,
                    egui::StrokeKind::Inside,
                );
            }
            Some(Err(why)) => {
                ui.painter().rect_filled(rect.shrink(4.0), 2.0, ui.visuals().faint_bg_color);
                ui.painter().text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    "?",
                    egui::FontId::proportional(14.0),
                    ui.visuals().weak_text_color(),
                );
                resp.on_hover_text(why.clone());
            }
            None => {
                ui.painter().rect_filled(rect.shrink(4.0), 2.0, ui.visuals().faint_bg_color);
                s.maker.request(workspace, d);
            }
        }
    }
}

/// The second filter row: text in the document's boxes, a review verdict, and (leads) the
/// archived and deleted documents.
fn find_ui(a: &mut Annotator, ui: &mut egui::Ui) {
    use crate::app::housekeeping::VerdictQuery;
    use crate::domain::{Role, Verdict};
    let role = a.user().role;
    ui.horizontal(|ui| {
        if role != Role::Annotator {
            let shown = match a.filter.verdict {
                None => "any verdict".to_string(),
                Some(VerdictQuery::Corrected) => "corrected".to_string(),
                Some(VerdictQuery::Is(v)) => v.as_str().replace('_', " "),
            };
            egui::ComboBox::new("queue_verdict", "verdict")
                .width(96.0)
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut a.filter.verdict, None, "any verdict");
                    ui.selectable_value(&mut a.filter.verdict, Some(VerdictQuery::Corrected), "corrected")
                        .on_hover_text("a box got any verdict but ok in review");
                    for v in Verdict::ALL {
                        ui.selectable_value(
                            &mut a.filter.verdict,
                            Some(VerdictQuery::Is(v)),
                            v.as_str().replace('_', " "),
                        );
                    }
                })
                .response
                .on_hover_text("documents with a box given this verdict in review");
        }
        let mut shown = thumbs_shown(ui.ctx());
        if ui.checkbox(&mut shown, "previews").on_hover_text("small page previews in the queue").changed() {
            ui.ctx().data_mut(|d| d.insert_temp(thumbs_id().with("shown"), shown));
        }
        if role == Role::Lead {
            ui.checkbox(&mut a.filter.shelved, "set aside")
                .on_hover_text("archived and deleted documents (right-click one to restore it)");
            assign_shown_ui(a, ui);
        }
    });
    // on a row of its own, so it keeps its width however narrow the panel
    ui.horizontal(|ui| {
        let find = ui.label("Find");
        ui.add(egui::TextEdit::singleline(&mut a.filter.text).hint_text("text in boxes").desired_width(f32::INFINITY))
            .labelled_by(find.id)
            .on_hover_text("documents with a box holding this text");
    });
}

/// A lead hands every document the queue shows now (its filters are the bulk filter) to one
/// annotator, or takes the assignment back.
fn assign_shown_ui(a: &mut Annotator, ui: &mut egui::Ui) {
    use crate::domain::Role;
    let shown: Vec<crate::domain::DocId> = a.queue.iter().map(|d| d.id).collect();
    let people: Vec<(Option<crate::domain::UserId>, String)> = std::iter::once((None, "nobody".to_string()))
        .chain(a.review.users.iter().filter(|u| u.role == Role::Annotator).map(|u| (Some(u.id), u.name.clone())))
        .collect();
    let mut chosen = None;
    ui.add_enabled_ui(!shown.is_empty(), |ui| {
        ui.menu_button(format!("Assign {}…", shown.len()), |ui| {
            for (id, name) in &people {
                if ui.button(format!("to {name}")).clicked() {
                    chosen = Some((*id, name.clone()));
                    ui.close();
                }
            }
        })
        .response
        .on_hover_text("assign every document shown (as filtered) to one annotator");
    });
    if let Some((to, name)) = chosen {
        a.run_in_background(move |session| {
            let n = crate::app::housekeeping::for_each_doc(session, &shown, |doc| crate::app::Command::Assign {
                doc,
                annotator: to,
            })
            .map_err(|e| format!("Assignment stopped: {e}"))?;
            Ok(format!("{n} document(s) assigned to {name}."))
        });
    }
}

/// What a lead does to a document from the queue's context menu.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Housekeeping {
    Priority(i64),
    Shelve(Option<crate::domain::Shelf>),
}

fn housekeeping_menu(ui: &mut egui::Ui, d: &crate::domain::Document) -> Option<Housekeeping> {
    use crate::domain::Shelf;
    let mut out = None;
    if d.shelved.is_some() {
        if ui.button("Restore").clicked() {
            out = Some(Housekeeping::Shelve(None));
        }
        return out;
    }
    ui.label(RichText::new(format!("Priority {}", d.priority)).weak());
    if ui.button("Raise priority").clicked() {
        out = Some(Housekeeping::Priority(d.priority + 1));
    }
    if ui.button("Lower priority").clicked() {
        out = Some(Housekeeping::Priority(d.priority - 1));
    }
    ui.separator();
    if ui.button("Archive").on_hover_text("done with; kept out of queues, exports and stats").clicked() {
        out = Some(Housekeeping::Shelve(Some(Shelf::Archived)));
    }
    if ui.button("Delete").on_hover_text("a soft delete: kept with its history, restorable").clicked() {
        out = Some(Housekeeping::Shelve(Some(Shelf::Deleted)));
    }
    out
}

fn housekeep(a: &mut Annotator, doc: crate::domain::DocId, act: Housekeeping) {
    use crate::app::Command;
    a.run_in_background(move |session| {
        let cmd = match act {
            Housekeeping::Priority(p) => Command::SetPriority { doc, priority: p },
            Housekeeping::Shelve(s) => Command::Shelve { doc, shelf: s },
        };
        session.apply(cmd).map_err(|e| format!("Document {doc}: {e}"))?;
        Ok(match act {
            Housekeeping::Priority(p) => format!("Document {doc}: priority {p}."),
            Housekeeping::Shelve(Some(s)) => format!("Document {doc} {}; restore it from \"set aside\".", s.as_str()),
            Housekeeping::Shelve(None) => format!("Document {doc} restored."),
        })
    });
}
