//! The report as CSV, JSON and a plain-text table, UTC dates as YYYY-MM-DD, and the backend of
//! `facture stats WS.sqlite [--from DATE --to DATE] [--csv|--json]`.

use std::path::Path;

use super::{AnnotatorRow, ReviewerRow, StatsError, StatsQuery, StatsReport, report};
use crate::domain::calendar::civil_from_days;
use crate::metrics::activity::MS_PER_DAY;
use crate::store::Store;

/// How the CLI prints a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CliFormat {
    Csv,
    Json,
    Table,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DD` into its UTC day (days since 1970-01-01).
pub fn parse_date(s: &str) -> Result<i64, StatsError> {
    let bad = || StatsError::Invalid(format!("'{s}' is not a date; write it as YYYY-MM-DD, e.g. 2025-03-31"));
    let parts: Vec<&str> = s.trim().split('-').collect();
    let [y, m, d] = parts.as_slice() else { return Err(bad()) };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let num = |t: &str| t.parse::<i64>().ok().filter(|_| t.bytes().all(|b| b.is_ascii_digit()));
    let (Some(y), Some(m), Some(d)) = (num(y), num(m), num(d)) else { return Err(bad()) };
    if !(1..=12).contains(&m) || d < 1 {
        return Err(bad());
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if d > month_days[(m - 1) as usize] {
        return Err(bad());
    }
    Ok(days_from_civil(y, m, d))
}

/// The UTC day as YYYY-MM-DD.
pub fn format_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |x| format!("{x:.4}"))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

const CSV_HEADER: &str = "kind,user_id,name,role,active_secs,annotating_secs,reworking_secs,reviewing_secs,\
docs_submitted,boxes,boxes_per_hour,docs_per_hour,median_doc_secs,sugg_unchanged,sugg_adjusted,sugg_replaced,\
sugg_rejected,manual_boxes,sugg_unchanged_share,sugg_adjusted_share,first_pass_reviewed,first_pass_accepted,\
first_pass_acceptance,v_ok,v_wrong_box,v_wrong_label,v_wrong_text,v_missing,v_spurious,agreement_docs,box_f1,\
label_accuracy,cer,gold_docs,gold_f1,gold_label_accuracy,gold_cer,rounds_reviewed,rounds_rejected,rework_rate,\
share_rejected,reviews_per_hour,median_review_secs,median_review_wall_secs";

fn annotator_csv(r: &AnnotatorRow) -> String {
    let s = &r.suggestions;
    let v = &r.verdicts;
    let a = &r.agreement;
    [
        "annotator".to_string(),
        r.user.to_string(),
        csv_field(&r.name),
        r.role.as_str().to_string(),
        r.active_secs.to_string(),
        r.annotating_secs.to_string(),
        r.reworking_secs.to_string(),
        String::new(),
        r.docs_submitted.to_string(),
        r.boxes.to_string(),
        opt(r.boxes_per_hour),
        opt(r.docs_per_hour),
        opt(r.median_doc_secs),
        s.unchanged.to_string(),
        s.adjusted.to_string(),
        s.replaced.to_string(),
        s.rejected.to_string(),
        s.manual.to_string(),
        opt(s.unchanged_share),
        opt(s.adjusted_share),
        r.first_pass_reviewed.to_string(),
        r.first_pass_accepted.to_string(),
        opt(r.first_pass_acceptance),
        v.ok.to_string(),
        v.wrong_box.to_string(),
        v.wrong_label.to_string(),
        v.wrong_text.to_string(),
        v.missing.to_string(),
        v.spurious.to_string(),
        a.docs.to_string(),
        opt(a.box_f1),
        opt(a.label_accuracy),
        opt(a.cer),
        r.gold_docs.to_string(),
        opt(r.gold_f1),
        opt(r.gold_label_accuracy),
        opt(r.gold_cer),
        r.rounds_reviewed.to_string(),
        r.rounds_rejected.to_string(),
        opt(r.rework_rate),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ]
    .join(",")
}

fn reviewer_csv(r: &ReviewerRow) -> String {
    let mut cols = vec![String::new(); 44];
    cols[0] = "reviewer".into();
    cols[1] = r.user.to_string();
    cols[2] = csv_field(&r.name);
    cols[3] = r.role.as_str().into();
    cols[4] = r.reviewing_secs.to_string();
    cols[7] = r.reviewing_secs.to_string();
    cols[37] = r.rounds_reviewed.to_string();
    cols[38] = r.rounds_rejected.to_string();
    cols[40] = opt(r.share_rejected);
    cols[41] = opt(r.reviews_per_hour);
    cols[42] = opt(r.median_review_secs);
    cols[43] = opt(r.median_review_wall_secs);
    cols.join(",")
}

impl StatsReport {
    /// One row per person and role in the report (`kind` annotator or reviewer); empty cells
    /// are "no data". Ratios are fractions.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(CSV_HEADER);
        out.push('\n');
        for r in &self.annotators {
            out.push_str(&annotator_csv(r));
            out.push('\n');
        }
        for r in &self.reviewers {
            out.push_str(&reviewer_csv(r));
            out.push('\n');
        }
        out
    }

    /// The daily series as CSV, for spreadsheets.
    pub fn daily_csv(&self) -> String {
        let mut out = String::from(
            "date,user_id,annotating_secs,reviewing_secs,reworking_secs,managing_secs,boxes,docs_submitted,\
             first_pass_reviewed,first_pass_accepted,rounds_reviewed_as_reviewer,verdicts,verdicts_ok,box_f1,cer\n",
        );
        for d in &self.daily {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                d.date,
                d.user,
                d.annotating_secs,
                d.reviewing_secs,
                d.reworking_secs,
                d.managing_secs,
                d.boxes,
                d.docs_submitted,
                d.first_pass_reviewed,
                d.first_pass_accepted,
                d.rounds_reviewed_as_reviewer,
                d.verdicts.total(),
                d.verdicts.ok,
                opt(d.agreement.box_f1),
                opt(d.agreement.cer)
            ));
        }
        out
    }

    /// The whole report as pretty JSON; `None` figures are `null`.
    pub fn to_json(&self) -> String {
        // Serialising plain structs of numbers and strings cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// A plain-text summary for terminals.
    pub fn to_table(&self) -> String {
        let dash = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or_else(|| "no data".to_string(), f);
        let pct = |x: f64| format!("{:.1}%", x * 100.0);
        let num = |x: f64| format!("{x:.1}");
        let hours = |s: i64| format!("{:.2}", s as f64 / 3600.0);
        let mut out = format!(
            "Stats from {} to {} (UTC days), idle gaps over {} s not counted\n\n",
            self.from_date.as_deref().unwrap_or("the beginning"),
            self.to_date.as_deref().unwrap_or("now"),
            self.query.idle_gap_secs
        );
        out.push_str(&format!(
            "{:<16} {:>8} {:>6} {:>7} {:>8} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
            "annotator",
            "hours",
            "docs",
            "boxes",
            "boxes/h",
            "median/doc",
            "first-pass",
            "box F1",
            "CER",
            "gold F1",
            "rework",
            "rew. h"
        ));
        for r in &self.annotators {
            out.push_str(&format!(
                "{:<16} {:>8} {:>6} {:>7} {:>8} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
                r.name,
                hours(r.annotating_secs + r.reworking_secs),
                r.docs_submitted,
                r.boxes,
                dash(r.boxes_per_hour, &num),
                dash(r.median_doc_secs, &|s| format!("{s:.0} s")),
                dash(r.first_pass_acceptance, &pct),
                dash(r.agreement.box_f1, &|x| format!("{x:.3}")),
                dash(r.agreement.cer, &pct),
                dash(r.gold_f1, &|x| format!("{x:.3}")),
                dash(r.rework_rate, &pct),
                hours(r.reworking_secs)
            ));
        }
        out.push_str(&format!(
            "\n{:<16} {:>8} {:>8} {:>10} {:>10} {:>12}\n",
            "reviewer", "hours", "rounds", "rejected", "rounds/h", "median/doc"
        ));
        for r in &self.reviewers {
            out.push_str(&format!(
                "{:<16} {:>8} {:>8} {:>10} {:>10} {:>12}\n",
                r.name,
                hours(r.reviewing_secs),
                r.rounds_reviewed,
                dash(r.share_rejected, &pct),
                dash(r.reviews_per_hour, &num),
                dash(r.median_review_secs, &|s| format!("{s:.0} s"))
            ));
        }
        let v = &self.verdict_mix;
        out.push_str(&format!(
            "\nverdicts: ok {}, wrong box {}, wrong label {}, wrong text {}, missing {}, spurious {}\n",
            v.ok, v.wrong_box, v.wrong_label, v.wrong_text, v.missing, v.spurious
        ));
        if !self.objectives.is_empty() {
            out.push_str("\nobjectives:\n");
            for o in &self.objectives {
                let state = match (o.status, o.margin) {
                    (super::ObjectiveStatus::Met, Some(m)) => format!("met (by {m:.3})"),
                    (super::ObjectiveStatus::Missed, Some(m)) => format!("MISSED (by {:.3})", -m),
                    _ => "no data".to_string(),
                };
                out.push_str(&format!("  {:<16} {} {} {}: {}\n", o.name, o.metric, o.op.as_str(), o.target, state));
            }
        }
        out
    }
}

impl StatsReport {
    /// Writes the report as CSV or JSON to `path` (what the panel's export buttons do): to a
    /// temporary file beside it first, renamed over `path` once complete, so a full disk or a
    /// crash never leaves a half-written export where a good one was. The error is a sentence.
    pub fn write_to(&self, path: &Path, format: CliFormat) -> Result<(), String> {
        let text = match format {
            CliFormat::Csv => self.to_csv(),
            CliFormat::Json => self.to_json(),
            CliFormat::Table => self.to_table(),
        };
        crate::app::write_atomically(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// The report for `facture stats`: dates are `YYYY-MM-DD` UTC days, both ends included.
pub fn stats_cli_output(
    store: &mut Store,
    from: Option<&str>,
    to: Option<&str>,
    format: CliFormat,
) -> Result<String, StatsError> {
    let q = StatsQuery {
        from_ms: from.map(parse_date).transpose()?.map(|d| d * MS_PER_DAY),
        to_ms: to.map(parse_date).transpose()?.map(|d| d * MS_PER_DAY),
        ..StatsQuery::default()
    };
    let r = report(store, &q)?;
    Ok(match format {
        CliFormat::Csv => r.to_csv(),
        CliFormat::Json => r.to_json(),
        CliFormat::Table => r.to_table(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bad_ones_are_refused() {
        assert_eq!(parse_date("1970-01-01").unwrap(), 0);
        assert_eq!(parse_date("2000-03-01").unwrap(), 11_017);
        for day in [-1, 0, 59, 11_016, 19_000, 20_000, 100_000] {
            assert_eq!(parse_date(&format_day(day)).unwrap(), day);
        }
        for bad in ["2024-02-30", "2023-02-29", "2024-13-01", "24-01-01", "2024-1-01", "yesterday", "2024-01-+1", ""] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert!(parse_date("2024-02-29").is_ok());
    }

    #[test]
    fn exports_are_written_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::create(&dir.path().join("ws.sqlite")).unwrap();
        let r = report(&mut store, &StatsQuery::default()).unwrap();
        let out = dir.path().join("stats.csv");
        std::fs::write(&out, "an older export").unwrap();
        r.write_to(&out, CliFormat::Csv).unwrap();
        assert!(std::fs::read_to_string(&out).unwrap().starts_with("kind,user_id,name"));
        r.write_to(&out, CliFormat::Json).unwrap();
        assert!(std::fs::read_to_string(&out).unwrap().trim_start().starts_with('{'));
        // an impossible place: a sentence naming it, and nothing left behind
        let bad = dir.path().join("no/such/dir/stats.csv");
        let err = r.write_to(&bad, CliFormat::Csv).unwrap_err();
        assert!(err.contains("cannot write") && err.contains("no/such/dir"), "{err}");
        assert!(!dir.path().join("no").exists());
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(!left.iter().any(|f| f.to_string_lossy().contains("tmp")), "{left:?}");
    }

    #[test]
    fn csv_quotes_names_with_commas() {
        assert_eq!(csv_field("Doe, Jane"), "\"Doe, Jane\"");
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(CSV_HEADER.split(',').count(), 44);
    }
}
