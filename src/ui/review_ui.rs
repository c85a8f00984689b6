//! Review mode's panels: the view tabs, the review queue (left), the review section of the
//! right panel (start, verdicts, notes, accept / reject; for the annotator the returned
//! document's notes), the lead's tools, and the banner with the document's notes on the canvas.

use eframe::egui;

use egui::{Color32, RichText};

use crate::app::Command;
use crate::app::review::assign_round_robin;
use crate::domain::{AnnId, DocStatus, DocVerdict, Role, UserId, Verdict};

use super::annotator::{After, Annotator};
use super::queue_ui::status_color;
use super::review_state::{WorkView, verdict_color, verdict_key, verdict_name};

const ACCEPT_GREEN: Color32 = Color32::from_rgb(40, 110, 70);
const REJECT_RED: Color32 = Color32::from_rgb(150, 45, 40);

/// "Annotate | Review | Stats" in the menu bar, for roles with more than one view.
pub fn view_tabs_ui(a: &mut Annotator, ui: &mut egui::Ui) {
    let views = WorkView::for_role(a.user().role);
    if views.len() < 2 {
        return;
    }
    let mut chosen = None;
    for v in views {
        if ui.selectable_label(a.review.view == *v, RichText::new(v.name()).strong()).clicked() {
            chosen = Some(*v);
        }
    }
    if let Some(v) = chosen {
        a.set_view(v);
    }
    ui.separator();
}

/// The left panel in the Review view.
pub fn review_queue_ui(a: &mut Annotator, ui: &mut egui::Ui) {
    super::queue_ui::queue_header(a, ui, "Review");
    let before = (a.review.filter_annotator, a.review.filter_label);
    let annotators: Vec<(UserId, String)> =
        a.review.users.iter().filter(|u| u.role == Role::Annotator).map(|u| (u.id, u.name.clone())).collect();
    egui::ComboBox::new("review_filter_annotator", "annotator")
        .width(120.0)
        .selected_text(a.review.filter_annotator.map_or("everyone".into(), |u| a.review.user_name(Some(u))))
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut a.review.filter_annotator, None, "everyone");
            for (id, name) in &annotators {
                ui.selectable_value(&mut a.review.filter_annotator, Some(*id), name);
            }
        });
    let labels: Vec<_> = a.labels.iter().map(|l| (l.id, l.display_name())).collect();
    egui::ComboBox::new("review_filter_label", "label")
        .width(120.0)
        .selected_text(
            a.review.filter_label.and_then(|l| labels.iter().find(|x| x.0 == l)).map_or("any".into(), |x| x.1.clone()),
        )
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut a.review.filter_label, None, "any");
            for (id, name) in &labels {
                ui.selectable_value(&mut a.review.filter_label, Some(*id), name);
            }
        });
    if (a.review.filter_annotator, a.review.filter_label) != before {
        a.refresh_queue();
    }
    ui.weak("submitted documents, oldest first");
    ui.separator();
    let current = a.doc.as_ref().map(|d| d.id);
    let mut open = None;
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        if !a.review.in_review.is_empty() {
            ui.label(RichText::new("In review").small().strong());
            for d in &a.review.in_review {
                let resp = ui.selectable_label(Some(d.id) == current, d.display_name());
                if resp.clicked() {
                    open = Some(d.id);
                }
            }
            ui.separator();
        }
        if a.review.items.is_empty() {
            ui.weak("Nothing waits for review.");
        }
        for item in &a.review.items {
            let d = &item.doc;
            ui.horizontal(|ui| {
                let (dot, _) = ui.allocate_exact_size(egui::vec2(10.0, 20.0), egui::Sense::hover());
                ui.painter().circle_filled(dot.center(), 4.0, status_color(d.status));
                let resp = ui.selectable_label(Some(d.id) == current, d.display_name()).on_hover_text(format!(
                    "{}\nby {} · {} boxes · reviewer: {}",
                    d.path,
                    a.review.user_name(item.annotator),
                    item.boxes,
                    a.review.user_name(d.reviewer)
                ));
                if resp.clicked() {
                    open = Some(d.id);
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let round = if item.rounds_done > 0 {
                        format!(" · round {}", item.rounds_done + 1)
                    } else {
                        String::new()
                    };
                    ui.label(RichText::new(format!("{}{round}", a.review.user_name(item.annotator))).small().weak());
                });
            });
        }
    });
    if let Some(id) = open {
        a.open_document(id);
    }
}

/// The review section at the top of the right panel; nothing when the document has no review.
pub fn review_panel_ui(a: &mut Annotator, ui: &mut egui::Ui) {
    let Some(doc) = a.doc.clone() else { return };
    let role = a.user().role;
    let may_review = matches!(role, Role::Reviewer | Role::Lead);
    let has_history = !a.review.doc.rounds.is_empty();
    let shown = (may_review && a.review.view == WorkView::Review) || has_history || role == Role::Lead;
    if !shown {
        return;
    }
    ui.horizontal(|ui| {
        ui.heading("Review");
        if let Some(r) = a.review.doc.open_round.as_ref().or(a.review.doc.rounds.last()) {
            ui.weak(format!("round {}", r.number));
        }
    });
    if a.reviewing() {
        reviewing_ui(a, ui, doc.id);
    } else if doc.status == DocStatus::Submitted && may_review {
        ui.label(format!("Submitted by {}.", a.review.user_name(submitter(a))));
        let start = egui::Button::new(RichText::new("Start review").strong()).fill(ACCEPT_GREEN);
        if ui.add(start).on_hover_text("take this document into review: a new round opens").clicked() {
            a.push(Command::StartReview { doc: doc.id }, After::Nothing);
        }
    } else if doc.status == DocStatus::InReview {
        let who = a.review.doc.open_round.as_ref().map(|r| r.reviewer);
        ui.label(format!("In review by {}.", a.review.user_name(who)));
    }
    if a.review.doc.shows_rework_notes() {
        rework_ui(a, ui);
    }
    if has_history {
        history_ui(a, ui);
    }
    if role == Role::Lead {
        ui.separator();
        lead_tools_ui(a, ui, doc.id);
    }
    ui.separator();
}

fn submitter(a: &Annotator) -> Option<UserId> {
    let d = a.doc.as_ref()?;
    d.assignee.or_else(|| a.review.items.iter().find(|i| i.doc.id == d.id).and_then(|i| i.annotator))
}

fn reviewing_ui(a: &mut Annotator, ui: &mut egui::Ui, doc: crate::domain::DocId) {
    let active = a.anns.iter().filter(|x| x.state == crate::domain::AnnState::Active).count();
    let done = a.review.doc.verdicts.len();
    ui.label(format!("{done} of {active} boxes have a verdict"));
    let changed = a.review.doc.changed.len();
    if changed > 0 {
        ui.label(
            RichText::new(format!("{changed} box(es) changed since the last round (dashed outline)"))
                .color(super::review_draw::CHANGED),
        );
    }
    if ui.button("Accept remaining (Shift+O)").on_hover_text("ok for every box without a verdict").clicked() {
        a.push(Command::AcceptRemaining { doc }, After::Nothing);
    }
    ui.add_space(4.0);
    selected_box_ui(a, ui);
    ui.add_space(4.0);
    ui.strong("Document");
    let comment_label = ui.label("Comment on the document");
    let resp =
        ui.add(egui::TextEdit::multiline(&mut a.review.doc_comment).desired_rows(2).desired_width(f32::INFINITY));
    resp.labelled_by(comment_label.id);
    if ui.button("Add comment").clicked() {
        let text = std::mem::take(&mut a.review.doc_comment);
        a.push(Command::AddComment { doc, ann: None, text }, After::Nothing);
    }
    for c in a.review.doc.doc_comments() {
        ui.label(RichText::new(format!("- {}", c.text)).italics());
    }
    ui.add_space(6.0);
    let accept = egui::Button::new(RichText::new("Accept document").strong()).fill(ACCEPT_GREEN);
    if ui.add(accept).on_hover_text("the annotation is right (after your corrections)").clicked() {
        a.commit_text_draft();
        a.review.advance = true;
        a.push(Command::FinishReview { doc, verdict: DocVerdict::Accept, comment: String::new() }, After::Nothing);
    }
    let reason_label = ui.label("What must be fixed (required to reject)");
    let resp =
        ui.add(egui::TextEdit::multiline(&mut a.review.reject_comment).desired_rows(2).desired_width(f32::INFINITY));
    resp.labelled_by(reason_label.id);
    let reject = egui::Button::new(RichText::new("Reject document").strong()).fill(REJECT_RED);
    if ui.add(reject).on_hover_text("back to the annotator with your notes").clicked() {
        a.commit_text_draft();
        a.review.advance = true;
        let comment = a.review.reject_comment.trim().to_string();
        // the library refuses an empty reason and the status line says so; keep what was typed
        if !comment.is_empty() {
            a.review.reject_comment.clear();
        }
        a.push(Command::FinishReview { doc, verdict: DocVerdict::Reject, comment }, After::Nothing);
    }
}

/// Verdict buttons and the note of the selected box.
fn selected_box_ui(a: &mut Annotator, ui: &mut egui::Ui) {
    let selection = a.selection();
    let target = (selection.len() == 1).then(|| selection[0]);
    if a.review.note_target != target {
        a.review.note_target = target;
        a.review.note.clear();
    }
    if selection.is_empty() {
        ui.weak("Select a box to give it a verdict; draw one the annotator missed (W or drag).");
        return;
    }
    ui.strong(if selection.len() == 1 { "Selected box".to_string() } else { format!("{} boxes", selection.len()) });
    let current: Option<Verdict> = target.and_then(|id| a.review.doc.verdicts.get(&id)).map(|v| v.verdict);
    ui.horizontal_wrapped(|ui| {
        for v in Verdict::ALL.into_iter().filter(|v| *v != Verdict::Missing) {
            let text = RichText::new(format!("{} ({})", verdict_name(v), verdict_key(v))).color(verdict_color(v));
            if ui.selectable_label(current == Some(v), text).clicked() {
                a.set_verdict(v);
            }
        }
    });
    if current == Some(Verdict::Missing) {
        ui.label(RichText::new("missing: drawn by you").color(verdict_color(Verdict::Missing)));
    }
    let Some(id) = target else { return };
    notes_list_ui(a, ui, id);
    let note_label = ui.label("Note on this box (C)");
    let field = egui::TextEdit::singleline(&mut a.review.note)
        .hint_text("what is wrong, for the annotator")
        .desired_width(f32::INFINITY);
    let resp = ui.add(field);
    resp.clone().labelled_by(note_label.id);
    if a.review.note_focus {
        resp.request_focus();
        a.review.note_focus = false;
    }
    let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    if (ui.button("Save note").clicked() || enter) && !a.review.note.trim().is_empty() {
        a.save_box_note();
    }
}

/// The verdict comment and comments already on a box.
fn notes_list_ui(a: &Annotator, ui: &mut egui::Ui, id: AnnId) {
    if let Some(v) = a.review.doc.verdicts.get(&id).filter(|v| !v.comment.is_empty()) {
        ui.label(RichText::new(format!("{}: {}", verdict_name(v.verdict), v.comment)).color(verdict_color(v.verdict)));
    }
    for c in a.review.doc.box_comments(id) {
        ui.label(RichText::new(format!("- {}", c.text)).italics());
    }
}

/// For the annotator: why the document came back, and the notes on its boxes.
fn rework_ui(a: &mut Annotator, ui: &mut egui::Ui) {
    let Some(round) = a.review.doc.last_finished.clone() else { return };
    ui.label(
        RichText::new(format!("Returned by {} (round {})", a.review.user_name(Some(round.reviewer)), round.number))
            .color(status_color(DocStatus::Rejected))
            .strong(),
    );
    ui.label(&round.comment);
    let mut select = None;
    for v in &a.review.doc.pinned {
        let note = if v.comment.is_empty() { String::new() } else { format!(": {}", v.comment) };
        let text = RichText::new(format!("{}{note}", verdict_name(v.verdict))).color(verdict_color(v.verdict));
        if ui.link(text).on_hover_text("show this box").clicked() {
            select = Some((v.ann, v.rect));
        }
    }
    for c in &a.review.doc.comments {
        let text = match c.ann {
            Some(_) => format!("box note: {}", c.text),
            None => format!("note: {}", c.text),
        };
        if ui.link(RichText::new(text).italics()).clicked()
            && let Some(id) = c.ann
            && let Some(ann) = a.annotation(id)
        {
            select = Some((id, ann.rect));
        }
    }
    if let Some((id, rect)) = select {
        if a.annotation(id).is_some() {
            a.editor.set_selection([id], Some(id));
        }
        a.editor.viewport.reveal(&rect);
    }
}

fn history_ui(a: &Annotator, ui: &mut egui::Ui) {
    egui::CollapsingHeader::new(format!("Rounds ({})", a.review.doc.rounds.len())).default_open(false).show(ui, |ui| {
        for r in &a.review.doc.rounds {
            let outcome = match r.verdict {
                Some(DocVerdict::Accept) => "accepted",
                Some(DocVerdict::Reject) => "rejected",
                None => "open",
            };
            ui.label(format!("{}: {} by {}", r.number, outcome, a.review.user_name(Some(r.reviewer))));
            if !r.comment.is_empty() {
                ui.weak(&r.comment);
            }
        }
    });
}

/// Assignment, round-robin reviewers and gold documents (leads only).
fn lead_tools_ui(a: &mut Annotator, ui: &mut egui::Ui, doc: crate::domain::DocId) {
    ui.strong("Lead");
    let Some(d) = a.doc.clone() else { return };
    let users = a.review.users.clone();
    let mut assignee = d.assignee;
    egui::ComboBox::new("lead_assign_annotator", "annotator")
        .width(120.0)
        .selected_text(a.review.user_name(assignee))
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut assignee, None, "nobody");
            for u in users.iter().filter(|u| u.role == Role::Annotator) {
                ui.selectable_value(&mut assignee, Some(u.id), &u.name);
            }
        });
    if assignee != d.assignee {
        a.push(Command::Assign { doc, annotator: assignee }, After::Nothing);
    }
    let mut reviewer = d.reviewer;
    egui::ComboBox::new("lead_assign_reviewer", "reviewer")
        .width(120.0)
        .selected_text(a.review.user_name(reviewer))
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut reviewer, None, "nobody");
            for u in users.iter().filter(|u| u.role != Role::Annotator) {
                ui.selectable_value(&mut reviewer, Some(u.id), &u.name);
            }
        });
    if reviewer != d.reviewer {
        a.push(Command::AssignReviewer { doc, reviewer }, After::Nothing);
    }
    let reviewers: Vec<UserId> = users.iter().filter(|u| u.role == Role::Reviewer).map(|u| u.id).collect();
    if ui
        .button("Assign reviewers round-robin")
        .on_hover_text("hand unassigned submitted documents to the reviewers in turn")
        .clicked()
    {
        a.run_in_background(move |session| match assign_round_robin(session, &reviewers) {
            Ok(n) => Ok(format!("{n} document(s) assigned to {} reviewer(s).", reviewers.len())),
            Err(e) => Err(format!("Round-robin assignment failed: {e}")),
        });
    }
    ui.horizontal(|ui| {
        if ui.button("Mark gold").on_hover_text("this document's boxes become its reference answer").clicked() {
            a.push(Command::MarkGold { doc }, After::Nothing);
        }
        if d.is_gold {
            ui.label(RichText::new("gold").italics());
        }
    });
    if d.is_gold {
        let annotators: Vec<_> = users.iter().filter(|u| u.role == Role::Annotator).collect();
        ui.horizontal_wrapped(|ui| {
            for u in annotators {
                if ui.button(format!("Reissue gold to {}", u.name)).clicked() {
                    a.push(Command::ReissueGold { doc, annotator: u.id }, After::Nothing);
                }
            }
        });
    }
}

/// The document's notes across the top of the canvas while it is back for rework.
pub fn doc_banner_ui(a: &Annotator, ui: &mut egui::Ui, canvas: egui::Rect) {
    let r = &a.review.doc;
    if !r.shows_rework_notes() || r.doc != a.doc.as_ref().map(|d| d.id) {
        return;
    }
    let Some(round) = &r.last_finished else { return };
    let width = (canvas.width() - 40.0).clamp(100.0, 760.0);
    let pos = egui::pos2(canvas.center().x - width / 2.0, canvas.top() + 8.0);
    egui::Area::new(egui::Id::unique("review_doc_banner")).order(egui::Order::Middle).fixed_pos(pos).show(
        ui.ctx(),
        |ui| {
            egui::Frame::popup(ui.style()).fill(Color32::from_rgb(255, 244, 214)).inner_margin(8.0).show(ui, |ui| {
                ui.set_width(width - 16.0);
                ui.label(
                    RichText::new(format!(
                        "Returned by {} (round {}): {}",
                        a.review.user_name(Some(round.reviewer)),
                        round.number,
                        round.comment
                    ))
                    .color(Color32::from_rgb(120, 30, 20))
                    .strong(),
                );
                for c in r.doc_comments() {
                    ui.label(RichText::new(&c.text).color(Color32::from_gray(40)));
                }
                let n = r.pinned.len();
                if n > 0 {
                    ui.label(
                        RichText::new(format!(
                            "{n} box note(s) pinned on the page; fix them, then submit (Ctrl+Enter)."
                        ))
                        .color(Color32::from_gray(70))
                        .small(),
                    );
                }
            });
        },
    );
}
