//! The leads' stats: throughput, accuracy and objectives per annotator and reviewer, derived
//! from the workspace's own edit log and activity heartbeats. [`report`] refreshes the caches
//! incrementally (see [`refresh`]) and then reads SQL aggregates only, so it is cheap enough
//! to recompute on every filter change, on a worker thread ([`spawn_report`]).
//!
//! Time ranges are whole UTC days: a query's `from_ms`/`to_ms` are widened to the UTC days
//! that contain them, and every figure (active time, boxes by creation day, submissions,
//! review rounds by finish time, gold scores) uses that same range.
//!
//! Ratios never divide by zero: a figure with nothing to count is `None` ("no data").

pub mod labels;
mod output;
pub mod refresh;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::app::Session;
use crate::domain::{LabelId, Role, TimestampMs, UserId};
use crate::metrics::activity::{DEFAULT_IDLE_GAP_SECS, MS_PER_DAY, Phase, utc_day};
use crate::metrics::{CerCounts, Counts, LabelCounts};
use crate::store::stats::{AgreementCounts, BoxFacts};
use crate::store::{Store, StoreError, Workspace};

pub use output::{CliFormat, format_day, parse_date, stats_cli_output};
pub use refresh::RefreshInfo;

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A role rule refused the change; the sentence says why.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Invalid(String),
}

/// What the panel asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsQuery {
    /// Start of the range (its UTC day is included); None: from the beginning.
    pub from_ms: Option<TimestampMs>,
    /// End of the range (its UTC day is included); None: up to now and beyond.
    pub to_ms: Option<TimestampMs>,
    /// Only these people (empty: everyone).
    pub users: Vec<UserId>,
    /// Only boxes with these labels (empty: all). Applies to box counts, suggestion outcomes
    /// and the verdict mix; time, documents and agreement are per document and ignore it.
    pub labels: Vec<LabelId>,
    /// Gaps between a person's events longer than this are idle, not work.
    pub idle_gap_secs: u32,
}

impl Default for StatsQuery {
    fn default() -> Self {
        Self { from_ms: None, to_ms: None, users: vec![], labels: vec![], idle_gap_secs: DEFAULT_IDLE_GAP_SECS }
    }
}

/// Review verdicts on boxes, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictMix {
    pub ok: i64,
    pub wrong_box: i64,
    pub wrong_label: i64,
    pub wrong_text: i64,
    pub missing: i64,
    pub spurious: i64,
}

impl VerdictMix {
    fn from_facts(f: &BoxFacts) -> Self {
        Self {
            ok: f.v_ok,
            wrong_box: f.v_wrong_box,
            wrong_label: f.v_wrong_label,
            wrong_text: f.v_wrong_text,
            missing: f.v_missing,
            spurious: f.v_spurious,
        }
    }

    pub fn total(&self) -> i64 {
        self.ok + self.wrong_box + self.wrong_label + self.wrong_text + self.missing + self.spurious
    }

    /// Share of verdicts that were `ok`; None without verdicts.
    pub fn ok_share(&self) -> Option<f64> {
        ratio(self.ok, self.total())
    }

    fn add(&mut self, o: &VerdictMix) {
        self.ok += o.ok;
        self.wrong_box += o.wrong_box;
        self.wrong_label += o.wrong_label;
        self.wrong_text += o.wrong_text;
        self.missing += o.missing;
        self.spurious += o.spurious;
    }
}

/// How pre-annotation served one person: of their final boxes, how many began as CV/model
/// suggestions accepted unchanged or adjusted, and how many suggestions they replaced or rejected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SuggestionUse {
    pub unchanged: i64,
    pub adjusted: i64,
    /// Accepted, then deleted.
    pub replaced: i64,
    /// Rejected while still a suggestion.
    pub rejected: i64,
    /// Final boxes drawn by hand.
    pub manual: i64,
    /// unchanged / final boxes.
    pub unchanged_share: Option<f64>,
    /// adjusted / final boxes.
    pub adjusted_share: Option<f64>,
    /// replaced / (suggestions accepted: unchanged + adjusted + replaced).
    pub replaced_share: Option<f64>,
}

/// Agreement figures of first submissions with their accepted versions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct AgreementStats {
    /// Accepted documents compared.
    pub docs: i64,
    pub counts: AgreementCounts,
    /// Box F1 at IoU 0.5.
    pub box_f1: Option<f64>,
    pub label_accuracy: Option<f64>,
    /// Character error rate over matched boxes (edits / reference characters).
    pub cer: Option<f64>,
}

impl AgreementStats {
    fn new(docs: i64, c: AgreementCounts) -> Self {
        let counts = Counts { matched: c.matched as usize, gt: c.gt as usize, pred: c.pred as usize };
        let labels = LabelCounts { correct: c.labels_correct as usize, total: c.labels_total as usize };
        let text = CerCounts { edits: c.cer_edits as usize, ref_chars: c.cer_ref_chars as usize };
        let has = docs > 0;
        Self {
            docs,
            counts: c,
            box_f1: has.then(|| counts.f1() as f64),
            label_accuracy: (c.labels_total > 0).then(|| labels.accuracy() as f64),
            cer: (c.cer_ref_chars > 0).then(|| text.rate() as f64),
        }
    }
}

/// One annotator's line in the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnotatorRow {
    pub user: UserId,
    pub name: String,
    pub role: Role,
    pub annotating_secs: i64,
    pub reworking_secs: i64,
    /// All active time of the person, whatever the phase.
    pub active_secs: i64,
    /// Documents whose first (not undone) submission falls in the range.
    pub docs_submitted: i64,
    /// Final boxes made (by creation day).
    pub boxes: i64,
    /// Boxes per hour of annotating + reworking time.
    pub boxes_per_hour: Option<f64>,
    pub docs_per_hour: Option<f64>,
    /// Median annotating + reworking time per submitted document.
    pub median_doc_secs: Option<f64>,
    pub suggestions: SuggestionUse,
    /// First review rounds finished in the range, and how many of them accepted.
    pub first_pass_reviewed: i64,
    pub first_pass_accepted: i64,
    pub first_pass_acceptance: Option<f64>,
    pub verdicts: VerdictMix,
    pub agreement: AgreementStats,
    pub gold_docs: i64,
    pub gold_f1: Option<f64>,
    pub gold_label_accuracy: Option<f64>,
    pub gold_cer: Option<f64>,
    /// All rounds of this person's work finished in the range, and how many rejected it.
    pub rounds_reviewed: i64,
    pub rounds_rejected: i64,
    /// rounds_rejected / rounds_reviewed.
    pub rework_rate: Option<f64>,
}

/// One reviewer's line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewerRow {
    pub user: UserId,
    pub name: String,
    pub role: Role,
    pub reviewing_secs: i64,
    /// Rounds this person finished in the range.
    pub rounds_reviewed: i64,
    pub rounds_rejected: i64,
    pub share_rejected: Option<f64>,
    /// Rounds per hour of reviewing time.
    pub reviews_per_hour: Option<f64>,
    /// Median reviewing active time per reviewed document (documents whose last round by this
    /// reviewer finished in the range).
    pub median_review_secs: Option<f64>,
    /// Median wall time per reviewed document, from opening each round to its verdict.
    pub median_review_wall_secs: Option<f64>,
}

/// One person's day, for the plots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyPoint {
    pub user: UserId,
    /// UTC day as days since 1970-01-01, and as YYYY-MM-DD.
    pub day: i64,
    pub date: String,
    pub annotating_secs: i64,
    pub reviewing_secs: i64,
    pub reworking_secs: i64,
    pub managing_secs: i64,
    pub boxes: i64,
    pub docs_submitted: i64,
    pub boxes_per_hour: Option<f64>,
    pub first_pass_reviewed: i64,
    pub first_pass_accepted: i64,
    pub rounds_reviewed_as_reviewer: i64,
    pub verdicts: VerdictMix,
    pub agreement: AgreementStats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveOp {
    AtLeast,
    AtMost,
}

impl ObjectiveOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectiveOp::AtLeast => ">=",
            ObjectiveOp::AtMost => "<=",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            ">=" => Some(ObjectiveOp::AtLeast),
            "<=" => Some(ObjectiveOp::AtMost),
            _ => None,
        }
    }
}

/// Metric names objectives may target, and whose rows they concern.
pub const OBJECTIVE_METRICS: &[(&str, &str)] = &[
    ("boxes_per_hour", "annotator"),
    ("docs_per_hour", "annotator"),
    ("median_doc_secs", "annotator"),
    ("first_pass_acceptance", "annotator"),
    ("box_f1", "annotator"),
    ("label_accuracy", "annotator"),
    ("cer", "annotator"),
    ("gold_f1", "annotator"),
    ("gold_cer", "annotator"),
    ("rework_rate", "annotator"),
    ("suggestion_unchanged_share", "annotator"),
    ("active_hours", "annotator"),
    ("reviews_per_hour", "reviewer"),
    ("share_rejected", "reviewer"),
    ("median_review_secs", "reviewer"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveStatus {
    Met,
    Missed,
    NoData,
}

/// One person against one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveResult {
    pub user: UserId,
    pub name: String,
    pub metric: String,
    pub op: ObjectiveOp,
    pub target: f64,
    /// Whether the target was set for this person (false: the target for everyone).
    pub personal: bool,
    pub actual: Option<f64>,
    pub status: ObjectiveStatus,
    /// How far past the target (positive) or short of it (negative), in the metric's unit.
    pub margin: Option<f64>,
}

/// Everything the panel shows, serialisable as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsReport {
    pub query: StatsQuery,
    /// The UTC days covered (inclusive); None when the range is open at that end.
    pub from_date: Option<String>,
    pub to_date: Option<String>,
    pub annotators: Vec<AnnotatorRow>,
    pub reviewers: Vec<ReviewerRow>,
    /// Per person and UTC day, days with anything to show, ordered by day then user.
    pub daily: Vec<DailyPoint>,
    /// Verdict mix over all annotators shown.
    pub verdict_mix: VerdictMix,
    pub objectives: Vec<ObjectiveResult>,
    /// How often people kept the labels the machine suggested, per label and week.
    #[serde(default)]
    pub label_suggestions: labels::LabelSuggestionStats,
    pub refresh: RefreshInfo,
    /// Time spent reading aggregates after the refresh.
    pub query_ms: u64,
}

fn ratio(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn per_hour(n: i64, secs: i64) -> Option<f64> {
    (secs > 0).then(|| n as f64 * 3600.0 / secs as f64)
}

/// The median (mean of the middle two for an even count); None when empty.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// Per-user accumulation while reading aggregates.
#[derive(Default)]
struct Acc {
    phase_ms: [i64; 4],
    facts: BoxFacts,
    doc_secs: Vec<f64>,
    docs_submitted: i64,
    fp_reviewed: i64,
    fp_accepted: i64,
    rounds: i64,
    rejected: i64,
    as_reviewer: i64,
    as_reviewer_rejected: i64,
    review_wall_secs: Vec<f64>,
    review_doc_secs: Vec<f64>,
    agreement_docs: i64,
    agreement: AgreementCounts,
    gold: (i64, [f64; 3]),
}

#[derive(Default)]
struct DayAcc {
    phase_ms: [i64; 4],
    facts: BoxFacts,
    docs_submitted: i64,
    fp_reviewed: i64,
    fp_accepted: i64,
    as_reviewer: i64,
    agreement_docs: i64,
    agreement: AgreementCounts,
}

/// Refreshes the caches and builds the report. Writes only to the stats caches.
pub fn report(store: &mut Store, q: &StatsQuery) -> Result<StatsReport, StatsError> {
    let idle_ms = i64::from(q.idle_gap_secs.max(1)) * 1000;
    let refresh = refresh::refresh(store, idle_ms)?;
    let started = std::time::Instant::now();

    let from_day = q.from_ms.map_or(i64::MIN / MS_PER_DAY, utc_day);
    let to_day = q.to_ms.map_or(i64::MAX / MS_PER_DAY - 1, utc_day);
    if to_day < from_day {
        return Err(StatsError::Invalid("the range ends before it starts".into()));
    }
    let (from_ms, to_ms) = (from_day * MS_PER_DAY, (to_day + 1) * MS_PER_DAY - 1);
    let wanted = |u: UserId| q.users.is_empty() || q.users.contains(&u);

    let mut acc: HashMap<UserId, Acc> = HashMap::new();
    let mut days: BTreeMap<(i64, UserId), DayAcc> = BTreeMap::new();

    for (user, day, phase, ms) in store.active_by_day(idle_ms, from_day, to_day)? {
        let Some(i) = Phase::from_code(phase).map(|p| p.code() as usize) else { continue };
        acc.entry(user).or_default().phase_ms[i] += ms;
        days.entry((day, user)).or_default().phase_ms[i] += ms;
    }
    for (user, day, f) in store.facts_by_day(from_day, to_day, &q.labels)? {
        acc.entry(user).or_default().facts += f;
        days.entry((day, user)).or_default().facts += f;
    }
    for (user, day, f) in store.rounds_by_day(from_day, to_day)? {
        let a = acc.entry(user).or_default();
        a.rounds += f.rounds_a;
        a.rejected += f.rejected_a;
        a.fp_reviewed += f.fp_a;
        a.fp_accepted += f.fp_acc_a;
        a.as_reviewer += f.rounds_r;
        a.as_reviewer_rejected += f.rejected_r;
        a.agreement_docs += f.agr_docs;
        a.agreement += f.agreement;
        let d = days.entry((day, user)).or_default();
        d.fp_reviewed += f.fp_a;
        d.fp_accepted += f.fp_acc_a;
        d.as_reviewer += f.rounds_r;
        d.agreement_docs += f.agr_docs;
        d.agreement += f.agreement;
    }
    for (user, day, work_ms, _) in store.doc_times(idle_ms, 0, from_day, to_day)? {
        let a = acc.entry(user).or_default();
        a.docs_submitted += 1;
        a.doc_secs.push(work_ms as f64 / 1000.0);
        days.entry((day, user)).or_default().docs_submitted += 1;
    }
    for (user, _day, work_ms, wall_ms) in store.doc_times(idle_ms, 1, from_day, to_day)? {
        let a = acc.entry(user).or_default();
        a.review_doc_secs.push(work_ms as f64 / 1000.0);
        a.review_wall_secs.push(wall_ms as f64 / 1000.0);
    }
    for (user, _day, n, sums) in store.gold_by_day(from_ms, to_ms)? {
        let g = &mut acc.entry(user).or_default().gold;
        g.0 += n;
        for (s, v) in g.1.iter_mut().zip(sums) {
            *s += v;
        }
    }

    let users = store.users()?;
    let mut annotators = Vec::new();
    let mut reviewers = Vec::new();
    let mut verdict_mix = VerdictMix::default();
    let empty = Acc::default();
    for u in users.iter().filter(|u| wanted(u.id)) {
        let a = acc.get(&u.id).unwrap_or(&empty);
        let [annotating, reviewing, reworking, _managing] = a.phase_ms.map(|ms| ms / 1000);
        let work_secs = annotating + reworking;
        let f = &a.facts;
        let annotated = a.docs_submitted > 0 || f.boxes > 0 || work_secs > 0 || a.rounds > 0;
        if u.role == Role::Annotator || annotated {
            let verdicts = VerdictMix::from_facts(f);
            verdict_mix.add(&verdicts);
            let from_sugg = f.sugg_unchanged + f.sugg_adjusted;
            let (gold_n, gold) = a.gold;
            annotators.push(AnnotatorRow {
                user: u.id,
                name: u.name.clone(),
                role: u.role,
                annotating_secs: annotating,
                reworking_secs: reworking,
                active_secs: a.phase_ms.iter().sum::<i64>() / 1000,
                docs_submitted: a.docs_submitted,
                boxes: f.boxes,
                boxes_per_hour: per_hour(f.boxes, work_secs),
                docs_per_hour: per_hour(a.docs_submitted, work_secs),
                median_doc_secs: median(a.doc_secs.clone()),
                suggestions: SuggestionUse {
                    unchanged: f.sugg_unchanged,
                    adjusted: f.sugg_adjusted,
                    replaced: f.sugg_replaced,
                    rejected: f.sugg_rejected,
                    manual: f.boxes - from_sugg,
                    unchanged_share: ratio(f.sugg_unchanged, f.boxes),
                    adjusted_share: ratio(f.sugg_adjusted, f.boxes),
                    replaced_share: ratio(f.sugg_replaced, from_sugg + f.sugg_replaced),
                },
                first_pass_reviewed: a.fp_reviewed,
                first_pass_accepted: a.fp_accepted,
                first_pass_acceptance: ratio(a.fp_accepted, a.fp_reviewed),
                verdicts,
                agreement: AgreementStats::new(a.agreement_docs, a.agreement),
                gold_docs: gold_n,
                gold_f1: (gold_n > 0).then(|| gold[0] / gold_n as f64),
                gold_label_accuracy: (gold_n > 0).then(|| gold[1] / gold_n as f64),
                gold_cer: (gold_n > 0).then(|| gold[2] / gold_n as f64),
                rounds_reviewed: a.rounds,
                rounds_rejected: a.rejected,
                rework_rate: ratio(a.rejected, a.rounds),
            });
        }
        if u.role == Role::Reviewer || a.as_reviewer > 0 || reviewing > 0 {
            reviewers.push(ReviewerRow {
                user: u.id,
                name: u.name.clone(),
                role: u.role,
                reviewing_secs: reviewing,
                rounds_reviewed: a.as_reviewer,
                rounds_rejected: a.as_reviewer_rejected,
                share_rejected: ratio(a.as_reviewer_rejected, a.as_reviewer),
                reviews_per_hour: per_hour(a.as_reviewer, reviewing),
                median_review_secs: median(a.review_doc_secs.clone()),
                median_review_wall_secs: median(a.review_wall_secs.clone()),
            });
        }
    }

    let daily = days
        .into_iter()
        .filter(|((_, user), _)| wanted(*user))
        .map(|((day, user), d)| {
            let [annotating, reviewing, reworking, managing] = d.phase_ms.map(|ms| ms / 1000);
            DailyPoint {
                user,
                day,
                date: format_day(day),
                annotating_secs: annotating,
                reviewing_secs: reviewing,
                reworking_secs: reworking,
                managing_secs: managing,
                boxes: d.facts.boxes,
                docs_submitted: d.docs_submitted,
                boxes_per_hour: per_hour(d.facts.boxes, annotating + reworking),
                first_pass_reviewed: d.fp_reviewed,
                first_pass_accepted: d.fp_accepted,
                rounds_reviewed_as_reviewer: d.as_reviewer,
                verdicts: VerdictMix::from_facts(&d.facts),
                agreement: AgreementStats::new(d.agreement_docs, d.agreement),
            }
        })
        .collect();

    let objectives = evaluate_objectives(store, &annotators, &reviewers)?;
    let label_suggestions =
        labels::label_suggestion_stats(store, q.from_ms.map(|_| from_ms), q.to_ms.map(|_| to_ms + 1), &q.labels)?;
    Ok(StatsReport {
        query: q.clone(),
        from_date: q.from_ms.map(|_| format_day(from_day)),
        to_date: q.to_ms.map(|_| format_day(to_day)),
        annotators,
        reviewers,
        daily,
        verdict_mix,
        objectives,
        label_suggestions,
        refresh,
        query_ms: started.elapsed().as_millis() as u64,
    })
}

/// An annotator row's value of an objective metric.
fn annotator_metric(r: &AnnotatorRow, metric: &str) -> Option<f64> {
    match metric {
        "boxes_per_hour" => r.boxes_per_hour,
        "docs_per_hour" => r.docs_per_hour,
        "median_doc_secs" => r.median_doc_secs,
        "first_pass_acceptance" => r.first_pass_acceptance,
        "box_f1" => r.agreement.box_f1,
        "label_accuracy" => r.agreement.label_accuracy,
        "cer" => r.agreement.cer,
        "gold_f1" => r.gold_f1,
        "gold_cer" => r.gold_cer,
        "rework_rate" => r.rework_rate,
        "suggestion_unchanged_share" => r.suggestions.unchanged_share,
        "active_hours" => Some((r.annotating_secs + r.reworking_secs) as f64 / 3600.0),
        _ => None,
    }
}

fn reviewer_metric(r: &ReviewerRow, metric: &str) -> Option<f64> {
    match metric {
        "reviews_per_hour" => r.reviews_per_hour,
        "share_rejected" => r.share_rejected,
        "median_review_secs" => r.median_review_secs,
        _ => None,
    }
}

/// Each shown person against the targets that apply to them (a personal target overrides
/// the target for everyone on the same metric).
fn evaluate_objectives(
    store: &Store,
    annotators: &[AnnotatorRow],
    reviewers: &[ReviewerRow],
) -> Result<Vec<ObjectiveResult>, StatsError> {
    let all = store.objectives()?;
    let mut out = Vec::new();
    for o in &all {
        let Some(op) = ObjectiveOp::parse(&o.op) else { continue };
        let Some(&(_, kind)) = OBJECTIVE_METRICS.iter().find(|(m, _)| *m == o.metric) else { continue };
        let people: Vec<(UserId, &str, Option<f64>)> = if kind == "annotator" {
            annotators.iter().map(|r| (r.user, r.name.as_str(), annotator_metric(r, &o.metric))).collect()
        } else {
            reviewers.iter().map(|r| (r.user, r.name.as_str(), reviewer_metric(r, &o.metric))).collect()
        };
        for (user, name, actual) in people {
            let personal = o.user == Some(user);
            let overridden = o.user.is_none() && all.iter().any(|p| p.user == Some(user) && p.metric == o.metric);
            if !(personal || o.user.is_none()) || overridden {
                continue;
            }
            let margin = actual.map(|a| match op {
                ObjectiveOp::AtLeast => a - o.target,
                ObjectiveOp::AtMost => o.target - a,
            });
            let status = match margin {
                None => ObjectiveStatus::NoData,
                Some(m) if m >= 0.0 => ObjectiveStatus::Met,
                Some(_) => ObjectiveStatus::Missed,
            };
            out.push(ObjectiveResult {
                user,
                name: name.to_string(),
                metric: o.metric.clone(),
                op,
                target: o.target,
                personal,
                actual,
                status,
                margin,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.metric.cmp(&b.metric)));
    Ok(out)
}

fn check_lead(session: &Session, metric: &str) -> Result<(), StatsError> {
    if session.user().role != Role::Lead {
        return Err(StatsError::Refused("only a lead can set or remove objectives".into()));
    }
    if !OBJECTIVE_METRICS.iter().any(|(m, _)| *m == metric) {
        let known: Vec<&str> = OBJECTIVE_METRICS.iter().map(|(m, _)| *m).collect();
        return Err(StatsError::Invalid(format!("unknown metric '{metric}' (known: {})", known.join(", "))));
    }
    Ok(())
}

/// Sets a target for one person (or everyone, `user` None). Leads only. Ratios are fractions
/// (90 % acceptance is 0.9, CER 2 % is 0.02).
pub fn set_objective(
    session: &mut Session,
    user: Option<UserId>,
    metric: &str,
    op: ObjectiveOp,
    target: f64,
) -> Result<(), StatsError> {
    check_lead(session, metric)?;
    if let Some(u) = user {
        session.store().user(u)?;
    }
    session.store_mut().set_objective(user, metric, op.as_str(), target)?;
    Ok(())
}

/// Removes a target. Leads only. Returns whether there was one.
pub fn remove_objective(session: &mut Session, user: Option<UserId>, metric: &str) -> Result<bool, StatsError> {
    check_lead(session, metric)?;
    Ok(session.store_mut().delete_objective(user, metric)?)
}

/// Computes a report on a worker thread with its own connection to the workspace; the
/// receiver yields exactly one result. The UI polls it with `try_recv` each frame.
pub fn spawn_report(
    workspace: Workspace,
    q: StatsQuery,
) -> crossbeam_channel::Receiver<Result<StatsReport, StatsError>> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        let result = Store::connect(&workspace).map_err(StatsError::from).and_then(|mut s| report(&mut s, &q));
        // The panel may have been closed meanwhile; nobody to tell then.
        let _ = tx.send(result);
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn no_data_is_none_not_nan() {
        assert_eq!(ratio(0, 0), None);
        assert_eq!(per_hour(5, 0), None);
        assert_eq!(per_hour(5, 1800), Some(10.0));
        let a = AgreementStats::new(0, AgreementCounts::default());
        assert_eq!((a.box_f1, a.label_accuracy, a.cer), (None, None, None));
    }
}
