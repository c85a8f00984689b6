//! The leads' stats view: filters, sortable tables of annotators and reviewers, objectives met
//! or missed, plots (in `stats_plots`), export. The report is computed on a worker thread
//! (`spawn_report`) and polled before each frame; "no data" stands wherever there is nothing
//! to count.

use eframe::egui;

use egui::{Color32, RichText};

use crate::app::stats::{
    AnnotatorRow, CliFormat, OBJECTIVE_METRICS, ObjectiveOp, ObjectiveStatus, ReviewerRow, StatsError, StatsQuery,
    StatsReport, parse_date, remove_objective, set_objective, spawn_report,
};
use crate::domain::{LabelId, Role, UserId};
use crate::metrics::activity::MS_PER_DAY;

use super::annotator::{Annotator, Status};
use super::dialogs::FileDialogs;

pub const NO_DATA: &str = "no data";

/// Sortable columns of the annotators' table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Name,
    ActiveHours,
    Docs,
    Boxes,
    BoxesPerHour,
    DocsPerHour,
    MedianDoc,
    FirstPass,
    OkShare,
    BoxF1,
    Cer,
    GoldF1,
    Rework,
}

impl Col {
    pub const ALL: [Col; 13] = [
        Col::Name,
        Col::ActiveHours,
        Col::Docs,
        Col::Boxes,
        Col::BoxesPerHour,
        Col::DocsPerHour,
        Col::MedianDoc,
        Col::FirstPass,
        Col::OkShare,
        Col::BoxF1,
        Col::Cer,
        Col::GoldF1,
        Col::Rework,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Col::Name => "Annotator",
            Col::ActiveHours => "Active",
            Col::Docs => "Docs",
            Col::Boxes => "Boxes",
            Col::BoxesPerHour => "Boxes/h",
            Col::DocsPerHour => "Docs/h",
            Col::MedianDoc => "Median/doc",
            Col::FirstPass => "First pass",
            Col::OkShare => "Boxes ok",
            Col::BoxF1 => "Box F1",
            Col::Cer => "CER",
            Col::GoldF1 => "Gold F1",
            Col::Rework => "Rework",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Col::Name => "name",
            Col::ActiveHours => "active time annotating and reworking (idle gaps not counted)",
            Col::Docs => "documents submitted (first submission in the range)",
            Col::Boxes => "final boxes made",
            Col::BoxesPerHour => "boxes per active hour",
            Col::DocsPerHour => "documents per active hour",
            Col::MedianDoc => "median active time per submitted document",
            Col::FirstPass => "share of first reviews that accepted the document",
            Col::OkShare => "share of box verdicts that were ok",
            Col::BoxF1 => "agreement of the first submission with the accepted version (IoU 0.5)",
            Col::Cer => "character error rate against the accepted version",
            Col::GoldF1 => "box F1 on gold documents",
            Col::Rework => "share of review rounds that rejected the work",
        }
    }

    fn key(self, r: &AnnotatorRow) -> Option<f64> {
        match self {
            Col::Name => None,
            Col::ActiveHours => Some((r.annotating_secs + r.reworking_secs) as f64),
            Col::Docs => Some(r.docs_submitted as f64),
            Col::Boxes => Some(r.boxes as f64),
            Col::BoxesPerHour => r.boxes_per_hour,
            Col::DocsPerHour => r.docs_per_hour,
            Col::MedianDoc => r.median_doc_secs,
            Col::FirstPass => r.first_pass_acceptance,
            Col::OkShare => r.verdicts.ok_share(),
            Col::BoxF1 => r.agreement.box_f1,
            Col::Cer => r.agreement.cer,
            Col::GoldF1 => r.gold_f1,
            Col::Rework => r.rework_rate,
        }
    }

    /// The cell as shown.
    pub fn cell(self, r: &AnnotatorRow) -> String {
        match self {
            Col::Name => r.name.clone(),
            Col::ActiveHours => hours(r.annotating_secs + r.reworking_secs),
            Col::Docs => r.docs_submitted.to_string(),
            Col::Boxes => r.boxes.to_string(),
            Col::BoxesPerHour | Col::DocsPerHour => num(self.key(r)),
            Col::MedianDoc => duration(r.median_doc_secs),
            Col::FirstPass | Col::OkShare | Col::Rework => pct(self.key(r)),
            Col::BoxF1 | Col::GoldF1 => fraction(self.key(r)),
            Col::Cer => pct(r.agreement.cer),
        }
    }
}

pub fn hours(secs: i64) -> String {
    format!("{:.2} h", secs as f64 / 3600.0)
}

pub fn num(v: Option<f64>) -> String {
    v.map_or_else(|| NO_DATA.into(), |x| format!("{x:.1}"))
}

pub fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| NO_DATA.into(), |x| format!("{:.1} %", x * 100.0))
}

pub fn fraction(v: Option<f64>) -> String {
    v.map_or_else(|| NO_DATA.into(), |x| format!("{x:.3}"))
}

pub fn duration(v: Option<f64>) -> String {
    v.map_or_else(
        || NO_DATA.into(),
        |s| {
            if s >= 60.0 {
                format!("{} min {:02} s", (s / 60.0) as i64, (s % 60.0) as i64)
            } else {
                format!("{s:.0} s")
            }
        },
    )
}

/// The stats view's state, kept in the annotator.
#[derive(Default)]
pub struct StatsState {
    pub from: String,
    pub to: String,
    pub user: Option<UserId>,
    pub label: Option<LabelId>,
    pending: Option<crossbeam_channel::Receiver<Result<StatsReport, StatsError>>>,
    /// Recompute once the running computation is back (filters changed meanwhile).
    again: bool,
    report: Option<StatsReport>,
    pub error: Option<String>,
    pub sort: Option<(Col, bool)>,
    pub plot_metric: usize,
    /// The objective form: for whom (None: everyone), which metric, at most or at least, target.
    pub objective: ObjectiveForm,
}

/// The leads' form for setting an objective, and what became of the last attempt.
#[derive(Debug, Default)]
pub struct ObjectiveForm {
    pub user: Option<UserId>,
    pub metric: usize,
    pub at_most: bool,
    pub target: String,
    pub message: Option<Result<String, String>>,
}

/// A target as typed: a number, or a percentage ("90 %") for ratio metrics.
pub fn parse_target(text: &str) -> Result<f64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("type a target first (e.g. 30, 0.9 or 90 %)".into());
    }
    let (number, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 0.01),
        None => (t, 1.0),
    };
    match number.replace(',', ".").parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v * scale),
        _ => Err(format!("'{t}' is not a number (e.g. 30, 0.9 or 90 %)")),
    }
}

impl StatsState {
    pub fn report(&self) -> Option<&StatsReport> {
        self.report.as_ref()
    }

    pub fn is_computing(&self) -> bool {
        self.pending.is_some()
    }

    /// Takes in a finished computation; keeps repainting while one runs (the worker has no waker).
    pub fn poll(&mut self, ctx: &egui::Context) {
        let Some(rx) = &self.pending else { return };
        match rx.try_recv() {
            Ok(result) => {
                self.pending = None;
                match result {
                    Ok(r) => {
                        self.report = Some(r);
                        self.error = None;
                    }
                    Err(e) => self.error = Some(format!("The stats could not be computed: {e}")),
                }
            }
            Err(crossbeam_channel::TryRecvError::Empty) => {
                ctx.request_repaint_after(std::time::Duration::from_millis(30));
            }
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                self.pending = None;
                self.error = Some("The stats computation stopped unexpectedly.".into());
            }
        }
    }

    /// The query the filters describe, or the sentence saying what is wrong with them.
    pub fn query(&self) -> Result<StatsQuery, String> {
        let day = |s: &str| -> Result<Option<i64>, String> {
            let s = s.trim();
            if s.is_empty() { Ok(None) } else { parse_date(s).map(|d| Some(d * MS_PER_DAY)).map_err(|e| e.to_string()) }
        };
        let (from_ms, to_ms) = (day(&self.from)?, day(&self.to)?);
        if let (Some(f), Some(t)) = (from_ms, to_ms)
            && f > t
        {
            return Err("The start date is after the end date.".into());
        }
        Ok(StatsQuery {
            from_ms,
            to_ms,
            users: self.user.into_iter().collect(),
            labels: self.label.into_iter().collect(),
            ..StatsQuery::default()
        })
    }

    /// Starts computing with the current filters (queued if one is running).
    pub fn refresh(&mut self, workspace: &crate::store::Workspace) {
        if self.pending.is_some() {
            self.again = true;
            return;
        }
        match self.query() {
            Ok(q) => {
                self.error = None;
                self.pending = Some(spawn_report(workspace.clone(), q));
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Annotator rows in the order shown.
    pub fn sorted_annotators(&self) -> Vec<&AnnotatorRow> {
        let Some(r) = &self.report else { return Vec::new() };
        let mut rows: Vec<&AnnotatorRow> = r.annotators.iter().collect();
        if let Some((col, desc)) = self.sort {
            if col == Col::Name {
                rows.sort_by_key(|a| a.name.to_lowercase());
                if desc {
                    rows.reverse();
                }
            } else {
                // "no data" always last
                rows.sort_by(|a, b| match (col.key(a), col.key(b)) {
                    (Some(x), Some(y)) => {
                        if desc {
                            y.total_cmp(&x)
                        } else {
                            x.total_cmp(&y)
                        }
                    }
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                });
            }
        }
        rows
    }
}

pub fn stats_ui(a: &mut Annotator, ui: &mut egui::Ui, dialogs: &mut dyn FileDialogs) {
    if a.stats.report.is_none() && a.stats.pending.is_none() && a.stats.error.is_none() {
        a.stats.refresh(&a.workspace);
    }
    if a.stats.again && a.stats.pending.is_none() {
        a.stats.again = false;
        a.stats.refresh(&a.workspace);
    }
    filters_ui(a, ui, dialogs);
    if let Some(e) = &a.stats.error {
        ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
    }
    ui.separator();
    let Some(report) = a.stats.report.clone() else {
        ui.horizontal(|ui| {
            ui.add(egui::Spinner::new());
            ui.label("Computing the stats…");
        });
        return;
    };
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        ui.horizontal(|ui| {
            let range = match (&report.from_date, &report.to_date) {
                (None, None) => "all time".to_string(),
                (f, t) => format!("{} to {}", f.as_deref().unwrap_or("the start"), t.as_deref().unwrap_or("today")),
            };
            ui.weak(format!(
                "{range} (UTC days) · idle gaps over {} s not counted · computed in {} ms",
                report.query.idle_gap_secs, report.query_ms
            ));
        });
        ui.add_space(4.0);
        ui.heading("Annotators");
        annotators_table_ui(&mut a.stats, ui);
        ui.add_space(8.0);
        ui.heading("Reviewers");
        reviewers_table_ui(ui, &report.reviewers);
        ui.add_space(8.0);
        ui.heading("Objectives");
        let lead = a.user().role == Role::Lead;
        let mut change = objectives_ui(ui, &report, lead);
        if lead {
            let users = a.review.users.clone();
            change = change.or(objective_form_ui(ui, &mut a.stats.objective, &users));
        }
        // written on a worker; the status line says when it is done, and the report follows
        if let Some(change) = change {
            a.run_in_background(move |session| change.apply(session));
        }
        ui.add_space(8.0);
        super::stats_plots::plots_ui(ui, &report, &mut a.stats.plot_metric);
        ui.add_space(8.0);
        ui.heading("Label suggestions");
        label_suggestions_ui(ui, &report.label_suggestions);
    });
}

/// Per label: how many suggested labels people kept or changed, and the kept share by week.
fn label_suggestions_ui(ui: &mut egui::Ui, s: &crate::app::stats::labels::LabelSuggestionStats) {
    match &s.model {
        Some(m) => {
            let cv =
                m.cross_validated_macro_f1.map_or(String::new(), |f| format!(", cross-validated macro F1 {:.2}", f));
            ui.weak(format!(
                "Model {} learned from {} reviewed document(s) ({}){cv}; it retrains whenever documents are accepted.",
                m.id, m.documents, m.dataset
            ));
        }
        None => {
            ui.weak(
                "No label model yet: suggestions come from the invoice rules until documents are accepted in review.",
            );
        }
    }
    if s.decided == 0 {
        ui.label("No suggested label has been accepted or changed in this range.");
        return;
    }
    ui.label(format!(
        "{} suggested label(s) decided, {:.0}% kept as suggested.",
        s.decided,
        s.kept_share.unwrap_or(0.0) * 100.0
    ));
    egui::Grid::new("label_suggestions").striped(true).num_columns(4).show(ui, |ui| {
        for h in ["Label", "Decided", "Kept", "Changed"] {
            ui.strong(h);
        }
        ui.end_row();
        for r in &s.per_label {
            ui.label(&r.label);
            ui.label(r.decided.to_string());
            ui.label(format!("{} ({:.0}%)", r.kept, r.kept_share.unwrap_or(0.0) * 100.0));
            ui.label(r.changed.to_string());
            ui.end_row();
        }
    });
    super::stats_plots::label_kept_plot_ui(ui, s);
}

fn filters_ui(a: &mut Annotator, ui: &mut egui::Ui, dialogs: &mut dyn FileDialogs) {
    let before = (a.stats.user, a.stats.label);
    let mut apply = false;
    ui.horizontal_wrapped(|ui| {
        ui.heading("Stats");
        ui.separator();
        for (name, field) in [("from", &mut a.stats.from), ("to", &mut a.stats.to)] {
            let l = ui.label(name);
            let r = ui.add(egui::TextEdit::singleline(field).hint_text("YYYY-MM-DD").desired_width(90.0));
            let r = r.labelled_by(l.id);
            apply |= r.lost_focus();
        }
        let users = a.review.users.clone();
        egui::ComboBox::new("stats_user", "person")
            .width(110.0)
            .selected_text(a.review.user_name(a.stats.user).replace("nobody", "everyone"))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut a.stats.user, None, "everyone");
                for u in &users {
                    ui.selectable_value(&mut a.stats.user, Some(u.id), &u.name);
                }
            });
        let labels: Vec<_> = a.labels.iter().map(|l| (l.id, l.display_name())).collect();
        egui::ComboBox::new("stats_label", "label")
            .width(110.0)
            .selected_text(
                a.stats.label.and_then(|l| labels.iter().find(|x| x.0 == l)).map_or("any".into(), |x| x.1.clone()),
            )
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut a.stats.label, None, "any");
                for (id, name) in &labels {
                    ui.selectable_value(&mut a.stats.label, Some(*id), name);
                }
            });
        apply |= ui.button("Refresh").on_hover_text("recompute with these filters").clicked();
        if a.stats.is_computing() {
            ui.add(egui::Spinner::new());
        }
        ui.separator();
        for (title, ext) in [("Export CSV…", "csv"), ("Export JSON…", "json")] {
            let enabled = a.stats.report.is_some();
            if ui.add_enabled(enabled, egui::Button::new(title)).clicked() {
                export(a, dialogs, ext);
            }
        }
    });
    if apply || (a.stats.user, a.stats.label) != before {
        a.stats.refresh(&a.workspace);
    }
}

fn export(a: &mut Annotator, dialogs: &mut dyn FileDialogs, ext: &str) {
    let Some(report) = &a.stats.report else { return };
    let name = format!("facture-stats-{}.{ext}", report.to_date.as_deref().unwrap_or("all"));
    let Some(path) = dialogs.save_export(&name) else { return };
    let format = if ext == "json" { CliFormat::Json } else { CliFormat::Csv };
    a.status = match report.write_to(&path, format) {
        Ok(()) => Status::Info(format!("Stats exported to {}.", path.display())),
        Err(e) => Status::Error(format!("{e}. Choose another place.")),
    };
}

fn annotators_table_ui(s: &mut StatsState, ui: &mut egui::Ui) {
    let rows: Vec<AnnotatorRow> = s.sorted_annotators().into_iter().cloned().collect();
    if rows.is_empty() {
        ui.weak("No annotators in this selection.");
        return;
    }
    let mut clicked = None;
    egui::Grid::new("stats_annotators").striped(true).spacing([14.0, 4.0]).show(ui, |ui| {
        for col in Col::ALL {
            ui.horizontal(|ui| {
                ui.spacing_mut().item_spacing.x = 2.0;
                let b = egui::Button::new(RichText::new(col.title()).strong()).frame(false);
                if ui.add(b).on_hover_text(format!("{} (click to sort)", col.help())).clicked() {
                    clicked = Some(col);
                }
                if let Some((c, desc)) = s.sort
                    && c == col
                {
                    sort_arrow_ui(ui, desc);
                }
            });
        }
        ui.end_row();
        for r in &rows {
            for col in Col::ALL {
                let text = col.cell(r);
                if text == NO_DATA {
                    ui.weak(text);
                } else if col == Col::Name {
                    ui.strong(text);
                } else {
                    ui.label(text);
                }
            }
            ui.end_row();
        }
    });
    if let Some(col) = clicked {
        // first click: best first (highest, except CER, median time and rework: lowest)
        let lower_is_better = matches!(col, Col::Cer | Col::MedianDoc | Col::Rework | Col::Name);
        s.sort = Some(match s.sort {
            Some((c, desc)) if c == col => (col, !desc),
            _ => (col, !lower_is_better),
        });
    }
}

/// A small triangle: pointing down for descending order (the bundled fonts have no arrows).
fn sort_arrow_ui(ui: &mut egui::Ui, desc: bool) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(9.0, 12.0), egui::Sense::hover());
    let c = rect.center();
    let (tip, base) = if desc { (c.y + 3.0, c.y - 3.0) } else { (c.y - 3.0, c.y + 3.0) };
    let pts = vec![egui::pos2(c.x - 4.0, base), egui::pos2(c.x + 4.0, base), egui::pos2(c.x, tip)];
    ui.painter().add(egui::Shape::convex_polygon(pts, ui.visuals().strong_text_color(), egui::Stroke::NONE));
}

fn reviewers_table_ui(ui: &mut egui::Ui, rows: &[ReviewerRow]) {
    if rows.is_empty() {
        ui.weak("No reviews in this selection.");
        return;
    }
    egui::Grid::new("stats_reviewers").striped(true).spacing([14.0, 4.0]).show(ui, |ui| {
        for h in ["Reviewer", "Reviewing", "Rounds", "Rejected", "Reviews/h", "Median/doc", "Median wall"] {
            ui.strong(h);
        }
        ui.end_row();
        for r in rows {
            ui.strong(&r.name);
            for text in [
                hours(r.reviewing_secs),
                r.rounds_reviewed.to_string(),
                pct(r.share_rejected),
                num(r.reviews_per_hour),
                duration(r.median_review_secs),
                duration(r.median_review_wall_secs),
            ] {
                if text == NO_DATA {
                    ui.weak(text);
                } else {
                    ui.label(text);
                }
            }
            ui.end_row();
        }
    });
}

/// An objective a lead set or removed in the panel, to be written off the frame.
enum ObjectiveChange {
    Set { user: Option<UserId>, metric: String, op: ObjectiveOp, target: f64, said: String },
    Remove { user: Option<UserId>, metric: String },
}

impl ObjectiveChange {
    fn apply(self, session: &mut crate::app::Session) -> Result<String, String> {
        match self {
            ObjectiveChange::Set { user, metric, op, target, said } => {
                set_objective(session, user, &metric, op, target).map(|_| said).map_err(|e| e.to_string())
            }
            ObjectiveChange::Remove { user, metric } => match remove_objective(session, user, &metric) {
                Ok(true) => Ok(format!("Objective {metric} removed.")),
                Ok(false) => Ok(format!("Objective {metric} was already gone.")),
                Err(e) => Err(e.to_string()),
            },
        }
    }
}

/// The objectives table; for a lead, each row can be removed (the removal asked for).
fn objectives_ui(ui: &mut egui::Ui, report: &StatsReport, lead: bool) -> Option<ObjectiveChange> {
    if report.objectives.is_empty() {
        ui.weak("No objectives set for this selection.");
        return None;
    }
    let mut change = None;
    egui::Grid::new("stats_objectives").striped(true).spacing([14.0, 4.0]).show(ui, |ui| {
        for h in ["Person", "Objective", "Actual", "Result", "Margin"] {
            ui.strong(h);
        }
        if lead {
            ui.label("");
        }
        ui.end_row();
        for o in &report.objectives {
            ui.label(&o.name);
            let scope = if o.personal { "" } else { " (everyone)" };
            ui.label(format!("{} {} {}{scope}", o.metric, o.op.as_str(), metric_value(&o.metric, Some(o.target))));
            ui.label(metric_value(&o.metric, o.actual));
            let (text, color) = match o.status {
                ObjectiveStatus::Met => ("met", Color32::from_rgb(70, 180, 90)),
                ObjectiveStatus::Missed => ("missed", Color32::from_rgb(230, 80, 70)),
                ObjectiveStatus::NoData => (NO_DATA, ui.visuals().weak_text_color()),
            };
            ui.label(RichText::new(text).color(color).strong());
            match o.margin {
                Some(m) => {
                    let sign = if m >= 0.0 { "+" } else { "-" };
                    ui.label(format!("{sign}{}", metric_value(&o.metric, Some(m.abs()))));
                }
                None => {
                    ui.weak(NO_DATA);
                }
            }
            if lead {
                let (who, hint) = if o.personal {
                    (Some(o.user), format!("remove {}'s target for {}", o.name, o.metric))
                } else {
                    (None, format!("remove the target for {} for everyone", o.metric))
                };
                if ui.small_button("Remove").on_hover_text(hint).clicked() {
                    change = Some(ObjectiveChange::Remove { user: who, metric: o.metric.clone() });
                }
            }
            ui.end_row();
        }
    });
    change
}

/// "[everyone] person [metric] metric [>=] comparison [target] target [Set objective]", the
/// same layout as the filters above. Returns the objective to set, once the target reads.
fn objective_form_ui(
    ui: &mut egui::Ui,
    form: &mut ObjectiveForm,
    users: &[crate::domain::User],
) -> Option<ObjectiveChange> {
    let mut set = None;
    ui.horizontal_wrapped(|ui| {
        let name = |id: Option<UserId>| {
            id.and_then(|id| users.iter().find(|u| u.id == id)).map_or("everyone".to_string(), |u| u.name.clone())
        };
        egui::ComboBox::new("objective_user", "person").selected_text(name(form.user)).show_ui(ui, |ui| {
            ui.selectable_value(&mut form.user, None, "everyone");
            for u in users.iter().filter(|u| u.role != Role::Lead) {
                ui.selectable_value(&mut form.user, Some(u.id), &u.name);
            }
        });
        let metric = OBJECTIVE_METRICS.get(form.metric).map_or("", |m| m.0);
        egui::ComboBox::new("objective_metric", "metric").selected_text(metric).show_ui(ui, |ui| {
            for (i, (m, whose)) in OBJECTIVE_METRICS.iter().enumerate() {
                ui.selectable_value(&mut form.metric, i, *m).on_hover_text(format!("a figure of each {whose}"));
            }
        });
        let op = if form.at_most { ObjectiveOp::AtMost } else { ObjectiveOp::AtLeast };
        egui::ComboBox::new("objective_op", "comparison").selected_text(op.as_str()).width(48.0).show_ui(ui, |ui| {
            ui.selectable_value(&mut form.at_most, false, ">=");
            ui.selectable_value(&mut form.at_most, true, "<=");
        });
        let l = ui.label("target");
        let r = ui.add(egui::TextEdit::singleline(&mut form.target).hint_text("30, 0.9 or 90 %").desired_width(120.0));
        let r = r.labelled_by(l.id);
        let submit = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Set objective").clicked() || submit {
            match parse_target(&form.target) {
                Ok(target) => {
                    let said = format!("{} {metric} {} {target} set", name(form.user), op.as_str());
                    form.message = None; // the status line tells how it went
                    set = Some(ObjectiveChange::Set { user: form.user, metric: metric.to_string(), op, target, said });
                }
                Err(e) => form.message = Some(Err(e)),
            }
        }
    });
    match &form.message {
        Some(Ok(m)) => {
            ui.weak(m);
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        None => {}
    }
    set
}

/// A metric's value in its unit: ratios as percentages, times as durations.
fn metric_value(metric: &str, v: Option<f64>) -> String {
    match metric {
        "first_pass_acceptance"
        | "cer"
        | "gold_cer"
        | "rework_rate"
        | "suggestion_unchanged_share"
        | "label_accuracy"
        | "share_rejected" => pct(v),
        "box_f1" | "gold_f1" => fraction(v),
        "median_doc_secs" | "median_review_secs" => duration(v),
        _ => num(v),
    }
}

impl Annotator {
    /// The stats view's state (filters, the last report, the sort order).
    pub fn stats_state(&self) -> &StatsState {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::parse_target;

    #[test]
    fn targets_read_numbers_and_percentages() {
        assert_eq!(parse_target("30"), Ok(30.0));
        assert_eq!(parse_target(" 0,9 "), Ok(0.9));
        assert!((parse_target("90 %").unwrap() - 0.9).abs() < 1e-12);
        assert!(parse_target("lots").unwrap_err().contains("not a number"));
        assert!(parse_target("NaN").is_err());
        assert!(parse_target("  ").unwrap_err().contains("type a target"));
    }
}
