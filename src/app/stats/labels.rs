//! How good the field-label suggestions are: per label, the share of suggested labels people
//! kept or changed, week by week, so a lead sees the model learning.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{LabelId, TimestampMs};
use crate::metrics::activity::utc_day;
use crate::store::{Store, StoreError};

/// One label's suggestions that a person decided on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelSuggestionRow {
    pub label: String,
    pub decided: i64,
    pub kept: i64,
    pub changed: i64,
    pub kept_share: Option<f64>,
}

/// One week (Monday, UTC) of decided suggestions for one label (or "all").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelSuggestionWeek {
    /// YYYY-MM-DD of the week's Monday, and days since 1970-01-01.
    pub week: String,
    pub day: i64,
    pub label: String,
    pub decided: i64,
    pub kept: i64,
    pub kept_share: Option<f64>,
}

/// The workspace's label model, as the panel describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelModelInfo {
    pub id: i64,
    pub trained_ms: TimestampMs,
    pub dataset: String,
    pub documents: i64,
    /// Its cross-validated macro F1, when it had enough documents for one.
    pub cross_validated_macro_f1: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LabelSuggestionStats {
    /// Labels by number decided, most first; "all" is not a row.
    pub per_label: Vec<LabelSuggestionRow>,
    pub kept_share: Option<f64>,
    pub decided: i64,
    /// Week by week: one point per label with decisions that week, plus label "all".
    pub weekly: Vec<LabelSuggestionWeek>,
    pub model: Option<LabelModelInfo>,
}

pub const ALL: &str = "all";

fn share(kept: i64, n: i64) -> Option<f64> {
    (n > 0).then(|| kept as f64 / n as f64)
}

pub fn label_suggestion_stats(
    store: &Store,
    from_ms: Option<TimestampMs>,
    to_ms: Option<TimestampMs>,
    only: &[LabelId],
) -> Result<LabelSuggestionStats, StoreError> {
    let names: BTreeMap<LabelId, String> = store.labels()?.into_iter().map(|l| (l.id, l.name)).collect();
    let name = |id: LabelId| names.get(&id).cloned().unwrap_or_else(|| format!("label {id}"));
    let mut per: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut weeks: BTreeMap<(i64, String), (i64, i64)> = BTreeMap::new();
    let (mut decided, mut kept_all) = (0, 0);
    for (suggested, now, ts) in store.label_suggestion_outcomes(from_ms, to_ms)? {
        if !only.is_empty() && !only.contains(&suggested) {
            continue;
        }
        let kept = i64::from(now == Some(suggested));
        let label = name(suggested);
        let day = utc_day(ts);
        // 1970-01-01 was a Thursday: Monday-based weeks start 3 days later
        let monday = day - (day + 3).rem_euclid(7);
        for key in [label.clone(), ALL.to_string()] {
            let w = weeks.entry((monday, key)).or_default();
            w.0 += 1;
            w.1 += kept;
        }
        let p = per.entry(label).or_default();
        p.0 += 1;
        p.1 += kept;
        decided += 1;
        kept_all += kept;
    }
    let mut per_label: Vec<LabelSuggestionRow> = per
        .into_iter()
        .map(|(label, (n, k))| LabelSuggestionRow {
            label,
            decided: n,
            kept: k,
            changed: n - k,
            kept_share: share(k, n),
        })
        .collect();
    per_label.sort_by(|a, b| b.decided.cmp(&a.decided).then(a.label.cmp(&b.label)));
    let weekly = weeks
        .into_iter()
        .map(|((day, label), (n, k))| LabelSuggestionWeek {
            week: super::output::format_day(day),
            day,
            label,
            decided: n,
            kept: k,
            kept_share: share(k, n),
        })
        .collect();
    let model = store.label_model_history()?.into_iter().next().map(|m| LabelModelInfo {
        id: m.id,
        trained_ms: m.trained_ms,
        documents: m.documents,
        cross_validated_macro_f1: serde_json::from_str::<serde_json::Value>(&m.report)
            .ok()
            .and_then(|v| v.get("cross_validated")?.get("label_macro_f1")?.as_f64()),
        dataset: m.dataset,
    });
    Ok(LabelSuggestionStats { per_label, kept_share: share(kept_all, decided), decided, weekly, model })
}
