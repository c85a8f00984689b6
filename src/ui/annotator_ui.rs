//! The annotator window's layout: menu and toolbar, queue, canvas with the floating text
//! field, palette, status line; keyboard dispatch from the shortcut table; and, last, the one
//! call per frame that applies queued commands.

use eframe::egui;

use crate::store::Workspace;

use egui::{Color32, Event, RichText};

use crate::app::Command;
use crate::app::canvas::{CanvasEvent, Key as CKey, Tool};
use crate::app::commands::system_now_ms;
use crate::domain::LinkKind;

use super::annotator::{After, Annotator, Status};
use super::canvas_ui::{canvas_ui, mods};
use super::dialogs::FileDialogs;
use super::extension::{Extension, ExtensionCtx};
use super::shortcuts::{Action, label_hotkey, lookup, shortcuts_sheet_ui};
use super::text_edit_ui::{text_edit_ui, text_input_focused};
use super::{palette_ui, queue_ui};

/// What the annotator asks of the app around it.
#[derive(Debug, Clone, PartialEq)]
pub enum AppRequest {
    OpenWorkspace,
    CreateWorkspace,
    OpenRecent(Workspace),
    /// To the start screen, its server address field ready for typing.
    ConnectToServer,
    SwitchUser,
    /// Import page files (images, PDFs) / a folder of them.
    ImportPages,
    ImportFolder,
}

pub fn annotator_ui(
    a: &mut Annotator,
    ui: &mut egui::Ui,
    dialogs: &mut dyn FileDialogs,
    extensions: &mut [Box<dyn Extension>],
    recent: &[Workspace],
) -> Option<AppRequest> {
    let ctx = ui.ctx().clone();
    track_activity(a, &ctx);
    pdf_password_ui(a, &ctx);
    super::boxstyle_ui::poll(a, &ctx);
    super::boxstyle_ui::box_style_window_ui(a, &ctx);
    super::schema_ui::schema_window_ui(a, &ctx);
    // Only text fields keep keyboard focus: a focused button would eat Enter, and egui's own
    // Tab/arrow focus moves would fight the canvas's.
    if !text_input_focused(&ctx) {
        ctx.memory_mut(|m| {
            m.move_focus(egui::FocusDirection::None);
            if let Some(id) = m.focused() {
                m.surrender_focus(id);
            }
        });
        keys(a, &ctx);
    }
    let mut request = None;
    // two rows, so the tools and pre-annotation buttons never run under the document's name
    // and Submit on a narrow window: menus, views and the document above; tools below
    egui::Panel::top("menu").show(ui, |ui| {
        egui::MenuBar::new().ui(ui, |ui| {
            request = menus_ui(a, ui, recent);
            ui.separator();
            super::review_ui::view_tabs_ui(a, ui);
            document_ui(a, ui);
        });
    });
    egui::Panel::top("tools").show(ui, |ui| {
        ui.horizontal_wrapped(|ui| toolbar_ui(a, ui, extensions, &ctx));
    });
    egui::Panel::bottom("status").show(ui, |ui| status_ui(a, ui));
    if a.review.view == super::review_state::WorkView::Stats {
        egui::CentralPanel::default().show(ui, |ui| super::stats_ui::stats_ui(a, ui, dialogs));
        a.apply_pending();
        a.flush_activity();
        return request;
    }
    if a.view.show_queue {
        egui::Panel::left("queue").default_size(230.0).size_range(160.0..=420.0).show(ui, |ui| {
            if a.review.view == super::review_state::WorkView::Review {
                super::review_ui::review_queue_ui(a, ui);
            } else {
                queue_ui::queue_ui(a, ui);
            }
        });
    }
    egui::Panel::right("palette").default_size(250.0).size_range(200.0..=420.0).show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            super::review_ui::review_panel_ui(a, ui);
            palette_ui::palette_ui(a, ui);
            for ext in extensions.iter_mut() {
                ui.separator();
                let title = ext.title().to_string();
                egui::CollapsingHeader::new(title).default_open(true).show(ui, |ui| {
                    with_ext_ctx(a, &ctx, |cx| ext.side_panel_ui(ui, cx));
                });
            }
        });
    });
    egui::CentralPanel::default().frame(egui::Frame::NONE).show(ui, |ui| {
        let canvas = ui.available_rect_before_wrap();
        canvas_ui(a, ui, dialogs);
        text_edit_ui(a, ui, canvas);
    });
    if a.view.show_shortcuts {
        let mut open = true;
        egui::Window::new("Keyboard shortcuts").open(&mut open).collapsible(false).resizable(false).show(&ctx, |ui| {
            shortcuts_sheet_ui(ui);
        });
        a.view.show_shortcuts = open;
    }
    a.apply_pending();
    a.flush_activity();
    request
}

/// Runs an extension callback with a context borrowed from the annotator.
pub fn with_ext_ctx(a: &mut Annotator, ctx: &egui::Context, f: impl FnOnce(&mut ExtensionCtx<'_>)) {
    let mut commands = Vec::new();
    let mut status = None;
    let mut reload = false;
    let selection = a.selection();
    {
        let mut cx = ExtensionCtx {
            workspace: &a.workspace,
            user: a.user(),
            labels: &a.labels,
            queue: &a.queue,
            document: a.doc.as_ref(),
            annotations: &a.anns,
            selection,
            commands: &mut commands,
            status: &mut status,
            repaint: ctx,
            reload: &mut reload,
        };
        f(&mut cx);
    }
    if reload {
        a.reload_boxes();
    }
    for c in commands {
        a.push(c, After::Nothing);
    }
    if let Some(s) = status {
        a.status = Status::Info(s);
    }
}

fn track_activity(a: &mut Annotator, ctx: &egui::Context) {
    let now = system_now_ms();
    let (focused, any_input) = ctx.input(|i| {
        let input = i.events.iter().any(|e| {
            matches!(
                e,
                Event::Key { .. }
                    | Event::Text(_)
                    | Event::PointerButton { .. }
                    | Event::MouseWheel { .. }
                    | Event::PointerMoved(_)
            )
        });
        (i.focused, input)
    });
    a.activity.focus_changed(focused, now);
    if any_input && focused {
        a.activity.input(now);
    }
}

fn keys(a: &mut Annotator, ctx: &egui::Context) {
    let events = ctx.input(|i| i.events.clone());
    for ev in events {
        let Event::Key { key, physical_key, pressed, repeat, modifiers } = ev else { continue };
        if key == egui::Key::Space {
            let intents = a.editor.handle(CanvasEvent::Key { key: CKey::Space, pressed, mods: mods(&modifiers) });
            a.handle_intents(intents);
            continue;
        }
        if !pressed {
            continue;
        }
        // label hotkeys: by physical key, so Shift+1 works whatever the layout makes of it
        if !modifiers.command && !modifiers.alt && !repeat {
            let digit = physical_key.filter(|k| label_hotkey(*k, false).is_some()).unwrap_or(key);
            if let Some(hk) = label_hotkey(digit, modifiers.shift)
                && let Some(id) =
                    a.labels.iter().find(|l| !l.retired && l.hotkey.as_deref() == Some(hk.as_str())).map(|l| l.id)
            {
                a.assign_label(Some(id));
                continue;
            }
        }
        let Some(action) = lookup(key, modifiers) else { continue };
        let repeatable = matches!(
            action,
            Action::Canvas(
                CKey::ArrowLeft | CKey::ArrowRight | CKey::ArrowUp | CKey::ArrowDown | CKey::Plus | CKey::Minus
            )
        );
        if repeat && !repeatable {
            continue;
        }
        run_action(a, action, &modifiers);
    }
}

fn run_action(a: &mut Annotator, action: Action, modifiers: &egui::Modifiers) {
    let doc = a.doc.as_ref().map(|d| d.id);
    match action {
        Action::Canvas(key) => {
            let intents = a.editor.handle(CanvasEvent::Key { key, pressed: true, mods: mods(modifiers) });
            a.handle_intents(intents);
        }
        Action::Undo => {
            if let Some(doc) = doc {
                a.push(Command::Undo { doc }, After::Nothing);
            }
        }
        Action::Redo => {
            if let Some(doc) = doc {
                a.push(Command::Redo { doc }, After::Nothing);
            }
        }
        Action::Submit => {
            if let Some(doc) = doc {
                a.commit_text_draft();
                a.push(Command::Submit { doc }, After::Nothing);
            }
        }
        Action::NextDoc => a.step_document(1),
        Action::PrevDoc => a.step_document(-1),
        Action::RotateCw => a.rotate_page(1),
        Action::RotateCcw => a.rotate_page(3),
        Action::AcceptOrEdit => {
            let sugg = a.selected_suggestions();
            if let (Some(doc), false) = (doc, sugg.is_empty()) {
                a.push(Command::AcceptSuggestions { doc, ids: sugg }, After::Nothing);
            } else if a.editor.selection().len() == 1 {
                a.text.focus_request = true;
            }
        }
        Action::EditText => {
            if a.editor.selection().len() == 1 {
                a.text.focus_request = true;
            }
        }
        Action::AssignLabel => {}
        Action::ClearLabel => a.assign_label(None),
        Action::ToggleText => a.view.always_show_text = !a.view.always_show_text,
        Action::ToggleGuideline => a.view.show_guideline = !a.view.show_guideline,
        Action::ToggleShortcuts => a.view.show_shortcuts = !a.view.show_shortcuts,
        Action::ToggleQueue => a.view.show_queue = !a.view.show_queue,
        Action::Review(key) => a.review_key(key),
    }
}

fn menus_ui(a: &mut Annotator, ui: &mut egui::Ui, recent: &[Workspace]) -> Option<AppRequest> {
    let mut request = None;
    ui.menu_button("Workspace", |ui| {
        if ui.button("Open workspace…").clicked() {
            request = Some(AppRequest::OpenWorkspace);
        }
        if ui.button("New workspace…").clicked() {
            request = Some(AppRequest::CreateWorkspace);
        }
        if ui.button("Team workspace on a server…").clicked() {
            request = Some(AppRequest::ConnectToServer);
        }
        ui.menu_button("Recent", |ui| {
            if recent.is_empty() {
                ui.weak("none yet");
            }
            for p in recent {
                if ui.button(p.to_string()).clicked() {
                    request = Some(AppRequest::OpenRecent(p.clone()));
                }
            }
        });
        ui.separator();
        let busy = a.bg.importing.is_some();
        if ui
            .add_enabled(!busy, egui::Button::new("Import pages…"))
            .on_hover_text("Scans and PDFs (one document per PDF page)")
            .clicked()
        {
            request = Some(AppRequest::ImportPages);
        }
        if ui.add_enabled(!busy, egui::Button::new("Import a folder…")).clicked() {
            request = Some(AppRequest::ImportFolder);
        }
        if a.user().role == crate::domain::Role::Lead
            && ui
                .button("Box style…")
                .on_hover_text("how far boxes reach beyond their ink: learned from accepted boxes, or set by hand")
                .clicked()
        {
            a.open_box_style();
        }
        if a.user().role == crate::domain::Role::Lead
            && ui
                .button("Label schema…")
                .on_hover_text("add, rename, recolour, reorder, retire and merge labels; set hotkeys and guidelines")
                .clicked()
        {
            a.open_schema();
        }
        ui.separator();
        if ui.button(format!("Switch user ({})…", a.user().name)).clicked() {
            request = Some(AppRequest::SwitchUser);
        }
    });
    ui.menu_button("View", |ui| {
        ui.checkbox(&mut a.view.always_show_text, "Label and text on every box (T)");
        ui.checkbox(&mut a.view.show_queue, "Queue (Ctrl+B)");
        ui.checkbox(&mut a.view.show_guideline, "Guideline (F1)");
        ui.separator();
        if ui.button("Fit page (Ctrl+0)").clicked() {
            a.editor.viewport.fit_page();
        }
        if ui.button("Fit width (Ctrl+2)").clicked() {
            a.editor.viewport.fit_width();
        }
        if ui.button("1:1 (Ctrl+1)").clicked() {
            a.editor.viewport.one_to_one();
        }
    });
    if ui.button("Shortcuts (?)").clicked() {
        a.view.show_shortcuts = !a.view.show_shortcuts;
    }
    request
}

fn toolbar_ui(a: &mut Annotator, ui: &mut egui::Ui, extensions: &mut [Box<dyn Extension>], ctx: &egui::Context) {
    let tool = a.editor.tool();
    let tools = [
        (Tool::Select, "Select", "select, move, resize (Esc)"),
        (Tool::DrawBox, "Box", "draw a box (W)"),
        (Tool::DrawQuad, "Quad", "click 4 corners of a skewed line (Q)"),
        (Tool::Link(LinkKind::KeyValue), "Key-value", "link a key box to its value (L)"),
        (Tool::Link(LinkKind::Row), "Row", "link cells of one line-item row (Shift+L)"),
    ];
    for (t, name, tip) in tools {
        if ui.selectable_label(tool == t, name).on_hover_text(tip).clicked() {
            a.editor.set_tool(if tool == t { Tool::Select } else { t });
        }
    }
    ui.separator();
    let doc = a.doc.as_ref().map(|d| d.id);
    if ui.button("Undo").on_hover_text("undo (Ctrl+Z)").clicked()
        && let Some(doc) = doc
    {
        a.push(Command::Undo { doc }, After::Nothing);
    }
    if ui.button("Redo").on_hover_text("redo (Ctrl+Shift+Z, Ctrl+Y)").clicked()
        && let Some(doc) = doc
    {
        a.push(Command::Redo { doc }, After::Nothing);
    }
    ui.separator();
    let turns = [
        ("⟲", "Rotate the page 90° counter-clockwise; boxes follow ([, Ctrl+Shift+Left)", 3),
        ("⟳", "Rotate the page 90° clockwise; boxes follow (], Ctrl+Shift+Right)", 1),
    ];
    ui.add_enabled_ui(a.may_rotate(), |ui| {
        for (name, tip, quarters) in turns {
            if turn_button_ui(ui, name, quarters == 1).on_hover_text(tip).clicked() {
                a.rotate_page(quarters);
            }
        }
    });
    ui.separator();
    // the extension area: pre-annotation buttons go here
    for ext in extensions.iter_mut() {
        with_ext_ctx(a, ctx, |cx| ext.toolbar_ui(ui, cx));
    }
}

/// A button with a drawn circular arrow, named `name` (⟲ or ⟳) for screen readers: the bundled
/// fonts have no such glyph.
fn turn_button_ui(ui: &mut egui::Ui, name: &str, clockwise: bool) -> egui::Response {
    let side = ui.spacing().interact_size.y;
    let (rect, response) = ui.allocate_exact_size(egui::vec2(side, side), egui::Sense::click());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, ui.is_enabled(), name));
    if !ui.is_rect_visible(rect) {
        return response;
    }
    let v = ui.style().interact(&response);
    let painter = ui.painter();
    painter.rect(rect, v.corner_radius, v.weak_bg_fill, v.bg_stroke, egui::StrokeKind::Inside);
    // three quarters of a circle from the top, the head where it ends
    let (c, r, turn) = (rect.center(), side * 0.28, if clockwise { 1.0 } else { -1.0 });
    let at = |t: f32| c + r * egui::vec2(t.cos(), t.sin());
    let start = -std::f32::consts::FRAC_PI_2 + turn * 0.6;
    let end = start + turn * 4.6;
    let arc: Vec<egui::Pos2> = (0..=24).map(|i| at(start + (end - start) * i as f32 / 24.0)).collect();
    painter.add(egui::Shape::line(arc, egui::Stroke::new(1.5, v.fg_stroke.color)));
    let (along, out) = (turn * egui::vec2(-end.sin(), end.cos()), egui::vec2(end.cos(), end.sin()));
    let head = vec![at(end) + along * r * 0.6, at(end) + out * r * 0.45, at(end) - out * r * 0.45];
    painter.add(egui::Shape::convex_polygon(head, v.fg_stroke.color, egui::Stroke::NONE));
    response
}

/// The open document's name, status and Submit, at the right of the menu bar.
fn document_ui(a: &mut Annotator, ui: &mut egui::Ui) {
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        if let Some(d) = a.doc.clone() {
            // in review, Accept / Reject in the review panel finish the document instead
            let submit = ui.add_enabled(
                a.editable() && !a.reviewing(),
                egui::Button::new(RichText::new("Submit").strong()).fill(Color32::from_rgb(40, 110, 70)),
            );
            if submit.on_hover_text("submit for review (Ctrl+Enter)").clicked() {
                a.commit_text_draft();
                a.push(Command::Submit { doc: d.id }, After::Nothing);
            }
            let color = queue_ui::status_color(d.status);
            ui.label(RichText::new(d.status.label()).color(color));
            ui.label(RichText::new(d.display_name()).strong());
            if !a.editable() {
                ui.label(RichText::new("read-only").color(ui.visuals().warn_fg_color));
            }
        }
    });
}

/// An import skipped password-protected PDFs: ask for the password.
fn pdf_password_ui(a: &mut Annotator, ctx: &egui::Context) {
    if a.bg.locked_pdfs.is_empty() {
        return;
    }
    let names: Vec<String> =
        a.bg.locked_pdfs
            .iter()
            .map(|p| p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned()))
            .collect();
    let mut go = false;
    let mut skip = false;
    egui::Modal::new(egui::Id::unique("pdf_password")).show(ctx, |ui| {
        ui.set_max_width(420.0);
        ui.heading("Password-protected PDF");
        ui.label(format!("{} need(s) a password to open: {}", names.len(), names.join(", ")));
        ui.weak("Facture keeps an unprotected copy of the pages in the workspace; the password is not stored.");
        let field = ui.add(
            egui::TextEdit::singleline(&mut a.bg.pdf_password)
                .password(true)
                .hint_text("password")
                .desired_width(240.0),
        );
        field.request_focus();
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.horizontal(|ui| {
            go =
                ui.add_enabled(!a.bg.pdf_password.is_empty(), egui::Button::new("Import with this password")).clicked()
                    || (enter && !a.bg.pdf_password.is_empty());
            skip = ui.button("Skip them").clicked();
        });
    });
    if go {
        let password = std::mem::take(&mut a.bg.pdf_password);
        a.import_locked_with(password, ctx);
    } else if skip {
        a.bg.locked_pdfs.clear();
        a.bg.pdf_password.clear();
    }
}

fn status_ui(a: &mut Annotator, ui: &mut egui::Ui) {
    if let Some(job) = &a.bg.importing {
        ui.horizontal(|ui| {
            let frac = if job.total == 0 { 0.0 } else { job.done as f32 / job.total as f32 };
            let text = if job.is_cancelling() {
                "cancelling after this file…".to_string()
            } else {
                format!("Importing: {} / {} file(s)", job.done, job.total)
            };
            ui.add(egui::ProgressBar::new(frac).desired_width(260.0).text(text));
            if ui.add_enabled(!job.is_cancelling(), egui::Button::new("Cancel import")).clicked() {
                job.cancel();
            }
        });
    }
    if let Some(why) = &a.offline {
        ui.colored_label(ui.visuals().error_fg_color, why);
    }
    if let Some(t) = a.saving_for()
        && a.unsent_edits() == 0
    {
        ui.colored_label(
            super::draw::UNSAVED,
            format!("Saving… the workspace has not confirmed your latest edit for {:.1} s.", t.as_secs_f32()),
        );
    }
    if a.unsent_edits() > 0 {
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!(
                "{} edit(s) not saved yet: they wait here and are sent when the workspace can be reached.",
                a.unsent_edits()
            ),
        );
    }
    // someone else holds the open page: say who, and let a lead take it over
    if let Some((name, _)) = a.held_by.clone() {
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(format!("{name} is working on this page: you can look, not change it."))
                    .color(ui.visuals().warn_fg_color),
            );
            if a.user().role == crate::domain::Role::Lead
                && ui.button("Break lease").on_hover_text(format!("end {name}'s hold and take the page")).clicked()
            {
                a.break_lease();
            }
        });
    }
    ui.horizontal(|ui| {
        match &a.status {
            Status::Idle => {
                ui.weak("Every change is saved as you make it.");
            }
            Status::Saved => {
                let green = Color32::from_rgb(90, 190, 110);
                check_icon_ui(ui, green);
                ui.label(RichText::new(format!("Saved ({} edits)", a.edits_saved)).color(green));
            }
            Status::Info(s) => {
                ui.label(s);
            }
            Status::Error(s) => {
                ui.label(RichText::new(s).color(ui.visuals().error_fg_color));
            }
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let boxes = a.anns.len();
            let sugg = a.anns.iter().filter(|x| x.state == crate::domain::AnnState::Suggested).count();
            ui.monospace(if sugg > 0 { format!("{boxes} boxes ({sugg} suggested)") } else { format!("{boxes} boxes") });
            ui.separator();
            if let Some(p) = a.cursor_img {
                ui.monospace(format!("x {:>5.0}  y {:>5.0}", p.x, p.y));
                ui.separator();
            }
            ui.monospace(format!("{:.0} %", a.editor.viewport.zoom() * 100.0));
            ui.separator();
            ui.weak(format!("{} · {}", a.user().name, a.user().role.as_str()));
        });
    });
}

/// A check mark drawn with lines (the bundled fonts have no ✓).
fn check_icon_ui(ui: &mut egui::Ui, color: Color32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
    let p = |x: f32, y: f32| rect.min + egui::vec2(x * rect.width(), y * rect.height());
    let stroke = egui::Stroke::new(2.0, color);
    ui.painter().line_segment([p(0.15, 0.55), p(0.42, 0.8)], stroke);
    ui.painter().line_segment([p(0.42, 0.8), p(0.9, 0.2)], stroke);
}
