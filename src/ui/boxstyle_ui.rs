//! The "Box style" window a lead opens from the Workspace menu: the four paddings (in % of the
//! line height) boxes get beyond their ink, whether learned or set by hand, and the buttons to
//! learn again, set them, or go back to the learned ones; and whether a caption and its value
//! are one box or two, with the evidence it was learned from and a choice to set it. The reads
//! and writes run in the app layer on a thread of their own; this file only draws and asks.

use crossbeam_channel::Receiver;
use eframe::egui;

use super::annotator::{Annotator, Status};
use crate::app::boxstyle::{StyleAction, StyleAnswer, convention_words, spawn_action};
use crate::domain::box_style::CaptionConvention;
use crate::domain::{BoxStyle, Role, WorkspaceBoxStyle};
use crate::prelabel::boxstyle::DEFAULT_DRAWN;

/// The workspace's box style as this window knows it.
#[derive(Default)]
pub(crate) struct BoxStyleState {
    /// As last read; `None` until the first read arrives.
    pub(crate) current: Option<WorkspaceBoxStyle>,
    /// The settings window is shown.
    pub(crate) open: bool,
    /// What the drag values show (fractions of the line height).
    draft: BoxStyle,
    job: Option<Receiver<Result<StyleAnswer, String>>>,
    read_asked: bool,
}

impl BoxStyleState {
    /// The style drawn boxes snap to (`None`: not read yet, or the workspace has none).
    pub(crate) fn effective(&self) -> Option<BoxStyle> {
        self.current.as_ref().and_then(WorkspaceBoxStyle::effective)
    }

    /// Whether the workspace's style has been read.
    pub fn is_read(&self) -> bool {
        self.current.is_some() && self.job.is_none()
    }

    fn ask(&mut self, a_workspace: &crate::store::Workspace, action: StyleAction) {
        self.job = Some(spawn_action(a_workspace.clone(), action));
    }
}

impl Annotator {
    /// The workspace's box style as the window last read it.
    pub fn box_style(&self) -> Option<&WorkspaceBoxStyle> {
        self.box_style.current.as_ref()
    }

    /// Whether the box style has been read and nothing about it is on its way.
    pub fn box_style_settled(&self) -> bool {
        self.box_style.is_read()
    }

    /// Opens the "Box style" window (a lead's; others are not offered it).
    pub fn open_box_style(&mut self) {
        if self.user().role == Role::Lead {
            self.box_style.open = true;
            let ws = self.workspace.clone();
            self.box_style.ask(&ws, StyleAction::Read);
        }
    }
}

/// Every frame: the first read, and the answers of the background work.
pub(crate) fn poll(a: &mut Annotator, ctx: &egui::Context) {
    if !a.box_style.read_asked {
        a.box_style.read_asked = true;
        let ws = a.workspace.clone();
        a.box_style.ask(&ws, StyleAction::Read);
    }
    let Some(rx) = &a.box_style.job else { return };
    match rx.try_recv() {
        Ok(Ok(answer)) => {
            a.box_style.draft = answer.style.effective().unwrap_or(DEFAULT_DRAWN);
            a.box_style.current = Some(answer.style);
            a.box_style.job = None;
            if let Some(m) = answer.message {
                a.status = Status::Info(m);
            }
        }
        Ok(Err(e)) => {
            a.box_style.job = None;
            a.status = Status::Error(format!("box style: {e}"));
        }
        Err(crossbeam_channel::TryRecvError::Empty) => {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
        Err(crossbeam_channel::TryRecvError::Disconnected) => a.box_style.job = None,
    }
}

/// The "Box style" window, when open.
pub(crate) fn box_style_window_ui(a: &mut Annotator, ctx: &egui::Context) {
    if !a.box_style.open {
        return;
    }
    let mut open = true;
    let mut action = None;
    // at the right, over the side panel: the page stays free to draw on while trying a style
    egui::Window::new("Box style")
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::RIGHT_TOP, [-12.0, 90.0])
        .show(ctx, |ui| {
            action = body_ui(a, ui);
        });
    a.box_style.open = open;
    if let Some(action) = action {
        let ws = a.workspace.clone();
        a.box_style.ask(&ws, action);
    }
}

fn body_ui(a: &mut Annotator, ui: &mut egui::Ui) -> Option<StyleAction> {
    ui.set_max_width(420.0);
    ui.label(
        "How far boxes reach beyond the ink they enclose, in % of the line's height. Machine suggestions \
         and drawn boxes follow it (Shift while finishing a drag keeps a box exactly as drawn).",
    );
    ui.add_space(4.0);
    let busy = a.box_style.job.is_some();
    let st = &mut a.box_style;
    match &st.current {
        None => {
            ui.weak("reading…");
            return None;
        }
        Some(ws) => {
            let learned = ws.learned.as_ref().map(|l| format!("learned from {} accepted boxes", l.samples));
            ui.label(match (&ws.set, &learned) {
                (Some(_), Some(l)) => format!("Set by hand ({l}: {})", percent(&ws.learned.as_ref().map(|l| l.style))),
                (Some(_), None) => "Set by hand (nothing learned yet)".to_string(),
                (None, Some(l)) => format!("Learned: {l}"),
                (None, None) => format!(
                    "Not learned yet: drawn boxes snap with {:.0} % padding, suggestions stay as the source makes them",
                    DEFAULT_DRAWN.left * 100.0
                ),
            });
        }
    }
    let mut action = None;
    let mut draft = st.draft;
    egui::Grid::new("box_style_paddings").num_columns(2).show(ui, |ui| {
        for (name, v) in [
            ("Left", &mut draft.left),
            ("Top", &mut draft.top),
            ("Right", &mut draft.right),
            ("Bottom", &mut draft.bottom),
        ] {
            let label = ui.label(name);
            let mut pct = *v * 100.0;
            let max = BoxStyle::MAX_PADDING * 100.0;
            ui.add_enabled(
                !busy,
                egui::DragValue::new(&mut pct).range(0.0..=max).speed(0.5).suffix(" %").max_decimals(1),
            )
            .labelled_by(label.id);
            *v = pct / 100.0;
            ui.end_row();
        }
    });
    st.draft = draft;
    let effective = st.current.as_ref().and_then(WorkspaceBoxStyle::effective);
    let has_set = st.current.as_ref().is_some_and(|w| w.set.is_some());
    let changed = effective.is_none_or(|e| !same(&e, &draft));
    ui.horizontal(|ui| {
        if ui.add_enabled(!busy && changed, egui::Button::new("Set by hand")).clicked() {
            action = Some(StyleAction::Set(draft));
        }
        if ui
            .add_enabled(!busy && has_set, egui::Button::new("Reset to learned"))
            .on_hover_text("drop the hand-set paddings: the learned ones are in force again")
            .clicked()
        {
            action = Some(StyleAction::UseLearned);
        }
    });
    if let Some(ws) = &st.current
        && let Some(a) = captions_ui(ui, ws, busy)
    {
        action = Some(a);
    }
    ui.add_space(4.0);
    if ui
        .add_enabled(!busy, egui::Button::new("Learn from accepted boxes"))
        .on_hover_text("measure the boxes of accepted documents against their ink (also done after each acceptance)")
        .clicked()
    {
        action = Some(StyleAction::Learn);
    }
    if busy {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.weak("working…");
        });
    }
    if let Some(note) = crate::app::boxstyle::last_note() {
        ui.weak(format!("last background run: {note}"));
    }
    action
}

/// The label of the caption convention's choice (kittest finds the combo box by it).
const CAPTIONS_CHOICE: &str = "Caption and value";

/// What the choice offers: the learned convention, or a lead's.
fn choice_text(c: Option<CaptionConvention>) -> &'static str {
    match c {
        None => "as learned",
        Some(CaptionConvention::Joined) => "one box",
        Some(CaptionConvention::Split) => "two boxes",
    }
}

/// Whether a caption and its value on one line become one suggestion or two: what was
/// learned (and from what), and a lead's choice.
fn captions_ui(ui: &mut egui::Ui, ws: &WorkspaceBoxStyle, busy: bool) -> Option<StyleAction> {
    ui.separator();
    ui.label(
        "A caption and its value on one line (\"VAT 20 %\", \"BIC: COBADEFFXXX\"): one box, or a box each? \
         With two, machine suggestions that read both as one line are cut at the blank between them.",
    );
    // what was learned: the convention, if decided, and what it was decided from
    let learned = ws.learned.as_ref().and_then(|l| l.captions).map(|e| {
        let seen = format!("{} joined, {} split", e.joined, e.split);
        (e.convention(), seen)
    });
    let learned_text = match &learned {
        Some((Some(c), seen)) => format!("learned: {} (from {seen})", convention_words(*c)),
        Some((None, seen)) => format!("not decided by what was seen ({seen})"),
        None => "not learned yet".to_string(),
    };
    ui.label(match (ws.set_captions, &learned) {
        (Some(c), _) => format!("Set by hand: {} ({learned_text})", convention_words(c)),
        (None, Some((Some(c), seen))) => format!("Learned: {} (from {seen})", convention_words(*c)),
        (None, _) => format!("Captions {learned_text}: suggestions stay as the source reads them"),
    });
    let mut choice = ws.set_captions;
    ui.add_enabled_ui(!busy, |ui| {
        egui::ComboBox::new("box_style_captions", CAPTIONS_CHOICE).selected_text(choice_text(choice)).show_ui(
            ui,
            |ui| {
                for c in [None, Some(CaptionConvention::Joined), Some(CaptionConvention::Split)] {
                    ui.selectable_value(&mut choice, c, choice_text(c));
                }
            },
        );
    });
    (choice != ws.set_captions).then_some(StyleAction::SetCaptions(choice))
}

fn same(a: &BoxStyle, b: &BoxStyle) -> bool {
    a.sides().iter().zip(b.sides()).all(|(x, y)| (x - y).abs() < 1e-4)
}

fn percent(s: &Option<BoxStyle>) -> String {
    match s {
        Some(s) => {
            format!("{:.0} / {:.0} / {:.0} / {:.0} %", s.left * 100.0, s.top * 100.0, s.right * 100.0, s.bottom * 100.0)
        }
        None => "-".into(),
    }
}
