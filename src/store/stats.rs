//! Typed queries of the stats panel: the caches it keeps (per-document facts replayed from the
//! log, active time per user/day/document/phase), the SQL aggregates it reads, objectives, and
//! a bulk writer for generated workspaces. Every cache table is derived data: wiping it loses
//! nothing (see `reset_stats_cache`).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::db::{Conn, DbResult, P, Row, Sql, Tx, params};
use super::{Result, Store, StoreError};
use crate::domain::{DocId, DocVerdict, LabelId, ReviewRound, RoundId, TimestampMs, UserId};

/// Box counts of one (user, day, label): what was made and how review judged it. Summable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoxFacts {
    /// Final (active, still existing) boxes the user made, by creation day.
    pub boxes: i64,
    /// Final boxes that began as a CV/model suggestion and were accepted as they were.
    pub sugg_unchanged: i64,
    /// Final boxes that began as a suggestion and whose geometry or machine text a person changed.
    pub sugg_adjusted: i64,
    /// Suggestions accepted and later deleted (the person replaced them).
    pub sugg_replaced: i64,
    /// Suggestions rejected without being accepted.
    pub sugg_rejected: i64,
    /// Review verdicts on the user's boxes (the round's annotator), by round-finish day.
    pub v_ok: i64,
    pub v_wrong_box: i64,
    pub v_wrong_label: i64,
    pub v_wrong_text: i64,
    pub v_missing: i64,
    pub v_spurious: i64,
}

const FACT_COLS: &str = "boxes, sugg_unchanged, sugg_adjusted, sugg_replaced, sugg_rejected, \
                         v_ok, v_wrong_box, v_wrong_label, v_wrong_text, v_missing, v_spurious";
// PostgreSQL sums BIGINTs as NUMERIC: cast back, in SQL both backends read.
const SUM_FACT_COLS: &str = "CAST(sum(boxes) AS BIGINT), CAST(sum(sugg_unchanged) AS BIGINT), \
                             CAST(sum(sugg_adjusted) AS BIGINT), CAST(sum(sugg_replaced) AS BIGINT), \
                             CAST(sum(sugg_rejected) AS BIGINT), CAST(sum(v_ok) AS BIGINT), \
                             CAST(sum(v_wrong_box) AS BIGINT), CAST(sum(v_wrong_label) AS BIGINT), \
                             CAST(sum(v_wrong_text) AS BIGINT), CAST(sum(v_missing) AS BIGINT), \
                             CAST(sum(v_spurious) AS BIGINT)";

impl BoxFacts {
    pub fn to_array(self) -> [i64; 11] {
        [
            self.boxes,
            self.sugg_unchanged,
            self.sugg_adjusted,
            self.sugg_replaced,
            self.sugg_rejected,
            self.v_ok,
            self.v_wrong_box,
            self.v_wrong_label,
            self.v_wrong_text,
            self.v_missing,
            self.v_spurious,
        ]
    }

    pub fn from_array(a: [i64; 11]) -> Self {
        let [
            boxes,
            sugg_unchanged,
            sugg_adjusted,
            sugg_replaced,
            sugg_rejected,
            v_ok,
            v_wrong_box,
            v_wrong_label,
            v_wrong_text,
            v_missing,
            v_spurious,
        ] = a;
        Self {
            boxes,
            sugg_unchanged,
            sugg_adjusted,
            sugg_replaced,
            sugg_rejected,
            v_ok,
            v_wrong_box,
            v_wrong_label,
            v_wrong_text,
            v_missing,
            v_spurious,
        }
    }

    /// Number of box verdicts of every kind.
    pub fn verdicts(&self) -> i64 {
        self.v_ok + self.v_wrong_box + self.v_wrong_label + self.v_wrong_text + self.v_missing + self.v_spurious
    }

    fn read(r: &Row, first: usize) -> DbResult<Self> {
        let mut a = [0i64; 11];
        for (i, v) in a.iter_mut().enumerate() {
            *v = r.i64_or_0(first + i)?;
        }
        Ok(Self::from_array(a))
    }
}

impl std::ops::AddAssign for BoxFacts {
    fn add_assign(&mut self, o: Self) {
        let mut a = self.to_array();
        for (x, y) in a.iter_mut().zip(o.to_array()) {
            *x += y;
        }
        *self = Self::from_array(a);
    }
}

/// One document's contribution to [`BoxFacts`] of one (user, UTC day, label); label 0 = none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactRow {
    pub user: UserId,
    pub day: i64,
    pub label: i64,
    pub facts: BoxFacts,
}

/// Agreement of an accepted document's first submission with its accepted version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementCounts {
    pub matched: i64,
    pub gt: i64,
    pub pred: i64,
    pub labels_correct: i64,
    pub labels_total: i64,
    pub cer_edits: i64,
    pub cer_ref_chars: i64,
}

impl std::ops::AddAssign for AgreementCounts {
    fn add_assign(&mut self, o: Self) {
        self.matched += o.matched;
        self.gt += o.gt;
        self.pred += o.pred;
        self.labels_correct += o.labels_correct;
        self.labels_total += o.labels_total;
        self.cer_edits += o.cer_edits;
        self.cer_ref_chars += o.cer_ref_chars;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgreementRow {
    pub annotator: Option<UserId>,
    pub round_number: u32,
    pub accepted_ms: TimestampMs,
    pub counts: AgreementCounts,
}

/// Review rounds and agreement of one (user, UTC day): as the annotator whose work was
/// reviewed (`_a`, by finish day), as the reviewer (`_r`), and agreement of first submissions
/// with accepted versions (by acceptance day). Summable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundFacts {
    pub rounds_a: i64,
    pub rejected_a: i64,
    /// First rounds (first pass), and how many accepted.
    pub fp_a: i64,
    pub fp_acc_a: i64,
    pub rounds_r: i64,
    pub rejected_r: i64,
    pub agr_docs: i64,
    pub agreement: AgreementCounts,
}

const ROUND_COLS: &str = "rounds_a, rejected_a, fp_a, fp_acc_a, rounds_r, rejected_r, agr_docs, matched, gt, pred, \
                          labels_correct, labels_total, cer_edits, cer_ref_chars";

impl RoundFacts {
    fn to_array(self) -> [i64; 14] {
        let a = self.agreement;
        [
            self.rounds_a,
            self.rejected_a,
            self.fp_a,
            self.fp_acc_a,
            self.rounds_r,
            self.rejected_r,
            self.agr_docs,
            a.matched,
            a.gt,
            a.pred,
            a.labels_correct,
            a.labels_total,
            a.cer_edits,
            a.cer_ref_chars,
        ]
    }

    fn from_array(v: [i64; 14]) -> Self {
        Self {
            rounds_a: v[0],
            rejected_a: v[1],
            fp_a: v[2],
            fp_acc_a: v[3],
            rounds_r: v[4],
            rejected_r: v[5],
            agr_docs: v[6],
            agreement: AgreementCounts {
                matched: v[7],
                gt: v[8],
                pred: v[9],
                labels_correct: v[10],
                labels_total: v[11],
                cer_edits: v[12],
                cer_ref_chars: v[13],
            },
        }
    }

    fn read(r: &Row, first: usize) -> DbResult<Self> {
        let mut a = [0i64; 14];
        for (i, v) in a.iter_mut().enumerate() {
            *v = r.i64_or_0(first + i)?;
        }
        Ok(Self::from_array(a))
    }
}

impl std::ops::AddAssign for RoundFacts {
    fn add_assign(&mut self, o: Self) {
        let mut a = self.to_array();
        for (x, y) in a.iter_mut().zip(o.to_array()) {
            *x += y;
        }
        *self = Self::from_array(a);
    }
}

/// Who worked on a document, for per-document times: the first submitter (role 0, day of the
/// first submission that was not undone) and each reviewer of finished rounds (role 1, day of
/// their last finished round, `wall_ms` summed over their rounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocPerson {
    pub role: i64,
    pub user: UserId,
    pub day: i64,
    pub wall_ms: i64,
}

/// A recomputed document: its fact rows, round rows, people and (if accepted) agreement.
#[derive(Debug, Clone, PartialEq)]
pub struct DocFactsUpdate {
    pub doc: DocId,
    pub rows: Vec<FactRow>,
    pub rounds: Vec<(UserId, i64, RoundFacts)>,
    pub people: Vec<DocPerson>,
    pub agreement: Option<AgreementRow>,
}

/// One event of a user's timeline as stored: an edit (with its action) or a UI activity event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    pub ts_ms: TimestampMs,
    pub doc: Option<DocId>,
    pub is_edit: bool,
    /// The edit's action, or the activity kind.
    pub what: String,
}

/// Recomputed active time of one user from `from_day` on: (day, doc, phase code, ms).
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveUpdate {
    pub user: UserId,
    pub from_day: i64,
    pub rows: Vec<(i64, Option<DocId>, i64, i64)>,
}

/// A lead's target for one metric, for one user or (user None) for everyone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveRow {
    pub id: i64,
    pub user: Option<UserId>,
    pub metric: String,
    /// ">=" or "<=".
    pub op: String,
    pub target: f64,
}

/// A box verdict to bulk-insert: (round, box id, rect, verdict, reviewer, ts).
pub type BulkVerdict = (RoundId, i64, [f32; 4], &'static str, UserId, TimestampMs);
/// A document's final state to bulk-write: (doc, status, assignee, reviewer, is_gold).
pub type BulkDocState = (DocId, &'static str, Option<UserId>, Option<UserId>, bool);
/// Gold results of one (user, day): count and sums of f1, label accuracy and CER.
pub type GoldDay = (UserId, i64, i64, [f64; 3]);

/// Rows for [`Store::bulk_insert`]: ids are given, so edits can refer to boxes and rounds.
#[derive(Debug, Clone, Default)]
pub struct BulkBatch {
    /// (id, doc, x0, y0, x1, y1, label, text, source, text_source, state, author, created, updated)
    pub annotations: Vec<BulkAnnotation>,
    pub edits: Vec<BulkEdit>,
    pub activity: Vec<(TimestampMs, UserId, Option<DocId>, &'static str)>,
    pub rounds: Vec<ReviewRound>,
    /// (round, ann, x0, y0, x1, y1, verdict, reviewer, ts)
    pub verdicts: Vec<BulkVerdict>,
    /// (doc, status, assignee, reviewer, is_gold)
    pub doc_states: Vec<BulkDocState>,
    /// (doc, user, ts, precision, recall, f1, label accuracy, cer)
    pub gold_scores: Vec<(DocId, UserId, TimestampMs, [f32; 5])>,
}

#[derive(Debug, Clone)]
pub struct BulkAnnotation {
    pub id: i64,
    pub doc: DocId,
    pub rect: [f32; 4],
    pub label: Option<LabelId>,
    pub text: String,
    pub source: String,
    pub text_source: String,
    pub state: &'static str,
    pub author: Option<UserId>,
    pub created_ms: TimestampMs,
    pub updated_ms: TimestampMs,
}

#[derive(Debug, Clone)]
pub struct BulkEdit {
    pub id: i64,
    pub ts_ms: TimestampMs,
    pub user: Option<UserId>,
    pub doc: Option<DocId>,
    pub action: &'static str,
    /// The `changes` JSON, already serialised.
    pub changes: String,
}

fn labels_clause(labels: &[LabelId]) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        // Integers only, formatted from typed ids: nothing user-typed reaches the SQL text.
        let list: Vec<String> = labels.iter().map(|l| l.0.to_string()).collect();
        format!(" AND label_id IN ({})", list.join(","))
    }
}

fn get_state(c: &impl Sql, key: &str) -> DbResult<Option<i64>> {
    c.row_opt("SELECT value FROM stats_state WHERE key=?1", params![key], |r| r.i64(0))
}

fn set_state(c: &impl Sql, key: &str, value: i64) -> DbResult<()> {
    c.exec(
        "INSERT INTO stats_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value=excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// `c = t.c + excluded.c` for each column: what an upsert adds to a summed row.
fn sum_sets(table: &str, cols: &str) -> String {
    cols.split(',').map(str::trim).map(|c| format!("{c}={table}.{c}+excluded.{c}")).collect::<Vec<_>>().join(", ")
}

/// Rebuilds pre-joined per-document times from `stats_doc_people` rows (filtered by the
/// caller's WHERE) for every idle threshold the active-time cache holds.
const DOC_TIME_INSERT: &str = "INSERT INTO stats_doc_time (idle_ms, role, day, user_id, doc_id, work_ms, wall_ms)
     SELECT s.idle_ms, p.role, p.day, p.user_id, p.doc_id,
       coalesce((SELECT CAST(sum(a.active_ms) AS BIGINT) FROM stats_active_doc a WHERE a.idle_ms=s.idle_ms
                 AND a.user_id=p.user_id AND a.doc_id=p.doc_id
                 AND ((p.role=0 AND a.phase IN (0, 2)) OR (p.role=1 AND a.phase=1))), 0),
       p.wall_ms
     FROM stats_doc_people p, stats_active_state s";

impl Store {
    // ---- cache bookkeeping ----

    /// The version of the code that filled the caches (None: never filled).
    pub fn stats_cache_version(&self) -> Result<Option<i64>> {
        Ok(get_state(&self.conn, "version")?)
    }

    /// Empties every stats cache and records which code version will refill them.
    pub fn reset_stats_cache(&mut self, version: i64) -> Result<()> {
        Ok(self.conn.write(|tx| -> DbResult<()> {
            tx.batch(
                "DELETE FROM stats_state; DELETE FROM stats_doc_facts; DELETE FROM stats_facts;
                 DELETE FROM stats_agreement; DELETE FROM stats_active; DELETE FROM stats_active_day;
                 DELETE FROM stats_active_doc; DELETE FROM stats_active_state; DELETE FROM stats_doc_rounds;
                 DELETE FROM stats_rounds; DELETE FROM stats_doc_people; DELETE FROM stats_doc_time;",
            )?;
            set_state(tx, "version", version)
        })?)
    }

    /// The newest edit id and activity id (0 when empty): the watermarks caches compare with.
    pub fn log_heads(&self) -> Result<(i64, i64)> {
        Ok(self.conn.row(
            "SELECT (SELECT coalesce(max(id), 0) FROM edits), (SELECT coalesce(max(id), 0) FROM activity)",
            params![],
            |r| Ok((r.i64(0)?, r.i64(1)?)),
        )?)
    }

    /// The last edit id the per-document facts include.
    pub fn facts_watermark(&self) -> Result<i64> {
        Ok(get_state(&self.conn, "facts_edit_wm")?.unwrap_or(0))
    }

    /// Documents with edits after `edit_id`, ascending.
    pub fn docs_edited_after(&self, edit_id: i64) -> Result<Vec<DocId>> {
        Ok(self.conn.rows(
            "SELECT DISTINCT doc_id FROM edits WHERE id > ?1 AND doc_id IS NOT NULL ORDER BY doc_id",
            params![edit_id],
            |r| Ok(DocId(r.i64(0)?)),
        )?)
    }

    /// Replaces the facts of the given documents (subtracting their old contribution from the
    /// aggregate and adding the new one) and moves the watermark, all in one transaction.
    pub fn write_doc_facts(&mut self, updates: &[DocFactsUpdate], watermark: i64) -> Result<()> {
        Ok(self.conn.write(|tx| -> DbResult<()> {
            write_docs_facts(tx, updates)?;
            tx.exec("DELETE FROM stats_rounds WHERE rounds_a=0 AND rounds_r=0 AND agr_docs=0", params![])?;
            tx.exec(
                "DELETE FROM stats_facts WHERE boxes=0 AND sugg_unchanged=0 AND sugg_adjusted=0 AND sugg_replaced=0
                 AND sugg_rejected=0 AND v_ok=0 AND v_wrong_box=0 AND v_wrong_label=0 AND v_wrong_text=0
                 AND v_missing=0 AND v_spurious=0",
                params![],
            )?;
            set_state(tx, "facts_edit_wm", watermark)
        })?)
    }

    /// Every review round of the workspace (for phase classification and rework).
    pub fn all_rounds(&self) -> Result<Vec<ReviewRound>> {
        Ok(self.conn.rows(
            "SELECT id, doc_id, number, reviewer, annotator, started_ms, finished_ms, verdict, comment, start_edit
             FROM review_rounds ORDER BY doc_id, number",
            params![],
            super::review::round,
        )?)
    }

    // ---- active time ----

    /// (edit watermark, activity watermark) of the active-time cache for this idle threshold.
    pub fn active_watermarks(&self, idle_ms: i64) -> Result<Option<(i64, i64)>> {
        Ok(self.conn.row_opt(
            "SELECT edit_wm, activity_wm FROM stats_active_state WHERE idle_ms=?1",
            params![idle_ms],
            |r| Ok((r.i64(0)?, r.i64(1)?)),
        )?)
    }

    /// Users with events after the watermarks, and the earliest timestamp of those new events.
    pub fn users_with_events_after(&self, edit_wm: i64, activity_wm: i64) -> Result<Vec<(UserId, TimestampMs)>> {
        Ok(self.conn.rows(
            "SELECT user_id, min(ts_ms) FROM (
               SELECT user_id, ts_ms FROM edits WHERE id > ?1 AND user_id IS NOT NULL
               UNION ALL SELECT user_id, ts_ms FROM activity WHERE id > ?2) AS news
             GROUP BY user_id ORDER BY user_id",
            params![edit_wm, activity_wm],
            |r| Ok((UserId(r.i64(0)?), r.i64(1)?)),
        )?)
    }

    /// A user's edits and activity events from `from_ms` on, merged by time (edits first on ties).
    /// Reads covering indexes only, never the edits' JSON.
    pub fn user_events(&self, user: UserId, from_ms: TimestampMs) -> Result<Vec<RawEvent>> {
        let event = |is_edit: bool| {
            move |r: &Row| -> DbResult<RawEvent> {
                Ok(RawEvent { ts_ms: r.i64(0)?, doc: r.opt_i64(1)?.map(DocId), is_edit, what: r.text(2)? })
            }
        };
        let e = self.conn.rows(
            // ties in the index's own order, spelled out, so a server returns them the same way
            "SELECT ts_ms, doc_id, action FROM edits INDEXED BY edits_stats_events
             WHERE user_id=?1 AND ts_ms>=?2 ORDER BY ts_ms, doc_id NULLS FIRST, action, id",
            params![user.0, from_ms],
            event(true),
        )?;
        let a = self.conn.rows(
            "SELECT ts_ms, doc_id, kind FROM activity INDEXED BY activity_stats_events
             WHERE user_id=?1 AND ts_ms>=?2 ORDER BY ts_ms, doc_id NULLS FIRST, kind, id",
            params![user.0, from_ms],
            event(false),
        )?;
        let mut out = Vec::with_capacity(e.len() + a.len());
        let (mut i, mut j) = (0, 0);
        while i < e.len() || j < a.len() {
            let take_edit = j >= a.len() || (i < e.len() && e[i].ts_ms <= a[j].ts_ms);
            if take_edit {
                out.push(e[i].clone());
                i += 1;
            } else {
                out.push(a[j].clone());
                j += 1;
            }
        }
        Ok(out)
    }

    /// Replaces each user's active time from their `from_day` on, refreshes the per-day and
    /// per-document totals of those users, and moves the watermarks; one transaction.
    pub fn write_active(
        &mut self,
        idle_ms: i64,
        updates: &[ActiveUpdate],
        edit_wm: i64,
        activity_wm: i64,
    ) -> Result<()> {
        Ok(self.conn.write(|tx| -> DbResult<()> {
            for u in updates {
                let user = u.user.0;
                tx.exec(
                    "DELETE FROM stats_active WHERE idle_ms=?1 AND user_id=?2 AND day>=?3",
                    params![idle_ms, user, u.from_day],
                )?;
                // one row per (day, document, phase): no two rows of one statement conflict
                let values: Vec<P> = u
                    .rows
                    .iter()
                    .flat_map(|&(day, doc, phase, ms)| {
                        [
                            P::Int(idle_ms),
                            P::Int(user),
                            P::Int(day),
                            P::Int(doc.map_or(0, |d| d.0)),
                            P::Int(phase),
                            P::Int(ms),
                        ]
                    })
                    .collect();
                tx.insert_rows(
                    "INSERT INTO stats_active (idle_ms, user_id, day, doc_id, phase, active_ms)",
                    "ON CONFLICT (idle_ms, user_id, day, doc_id, phase)
                     DO UPDATE SET active_ms=stats_active.active_ms+excluded.active_ms",
                    6,
                    &values,
                )?;
                tx.exec(
                    "DELETE FROM stats_active_day WHERE idle_ms=?1 AND user_id=?2 AND day>=?3",
                    params![idle_ms, user, u.from_day],
                )?;
                tx.exec(
                    "INSERT INTO stats_active_day (idle_ms, user_id, day, phase, active_ms)
                     SELECT idle_ms, user_id, day, phase, CAST(sum(active_ms) AS BIGINT) FROM stats_active
                     WHERE idle_ms=?1 AND user_id=?2 AND day>=?3 GROUP BY idle_ms, user_id, day, phase",
                    params![idle_ms, user, u.from_day],
                )?;
                tx.exec("DELETE FROM stats_active_doc WHERE idle_ms=?1 AND user_id=?2", params![idle_ms, user])?;
                tx.exec(
                    "INSERT INTO stats_active_doc (idle_ms, user_id, doc_id, phase, active_ms)
                     SELECT idle_ms, user_id, doc_id, phase, CAST(sum(active_ms) AS BIGINT) FROM stats_active
                     WHERE idle_ms=?1 AND user_id=?2 AND doc_id<>0 GROUP BY idle_ms, user_id, doc_id, phase",
                    params![idle_ms, user],
                )?;
            }
            tx.exec(
                "INSERT INTO stats_active_state (idle_ms, edit_wm, activity_wm) VALUES (?1, ?2, ?3)
                 ON CONFLICT (idle_ms) DO UPDATE SET edit_wm=excluded.edit_wm, activity_wm=excluded.activity_wm",
                params![idle_ms, edit_wm, activity_wm],
            )?;
            for u in updates {
                tx.exec("DELETE FROM stats_doc_time WHERE idle_ms=?1 AND user_id=?2", params![idle_ms, u.user.0])?;
                tx.exec(&format!("{DOC_TIME_INSERT} WHERE p.user_id=?1 AND s.idle_ms=?2"), params![u.user.0, idle_ms])?;
            }
            Ok(())
        })?)
    }

    /// Active ms per (user, day, phase code) for days in `[from_day, to_day]`.
    pub fn active_by_day(&self, idle_ms: i64, from_day: i64, to_day: i64) -> Result<Vec<(UserId, i64, i64, i64)>> {
        Ok(self.conn.rows(
            "SELECT user_id, day, phase, active_ms FROM stats_active_day WHERE idle_ms=?1 AND day BETWEEN ?2 AND ?3",
            params![idle_ms, from_day, to_day],
            |r| Ok((UserId(r.i64(0)?), r.i64(1)?, r.i64(2)?, r.i64(3)?)),
        )?)
    }

    // ---- aggregates read by the report ----

    /// Box facts per (user, day) for days in `[from_day, to_day]`, summed over `labels` (all when empty).
    pub fn facts_by_day(&self, from_day: i64, to_day: i64, labels: &[LabelId]) -> Result<Vec<(UserId, i64, BoxFacts)>> {
        let sql = format!(
            "SELECT user_id, day, {SUM_FACT_COLS} FROM stats_facts WHERE day BETWEEN ?1 AND ?2{} GROUP BY user_id, day",
            labels_clause(labels)
        );
        Ok(self
            .conn
            .rows(&sql, params![from_day, to_day], |r| Ok((UserId(r.i64(0)?), r.i64(1)?, BoxFacts::read(r, 2)?)))?)
    }

    /// Round and agreement facts per (user, day) for days in `[from_day, to_day]`.
    pub fn rounds_by_day(&self, from_day: i64, to_day: i64) -> Result<Vec<(UserId, i64, RoundFacts)>> {
        Ok(self.conn.rows(
            &format!("SELECT user_id, day, {ROUND_COLS} FROM stats_rounds WHERE day BETWEEN ?1 AND ?2"),
            params![from_day, to_day],
            |r| Ok((UserId(r.i64(0)?), r.i64(1)?, RoundFacts::read(r, 2)?)),
        )?)
    }

    /// Per-document times (user, day, work ms, wall ms) of one role — 0: first submitter's
    /// annotating + reworking time, 1: reviewer's reviewing time — for days in the range.
    pub fn doc_times(
        &self,
        idle_ms: i64,
        role: i64,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<(UserId, i64, i64, i64)>> {
        Ok(self.conn.rows(
            "SELECT user_id, day, work_ms, wall_ms FROM stats_doc_time
             WHERE idle_ms=?1 AND role=?2 AND day BETWEEN ?3 AND ?4",
            params![idle_ms, role, from_day, to_day],
            |r| Ok((UserId(r.i64(0)?), r.i64(1)?, r.i64(2)?, r.i64(3)?)),
        )?)
    }

    /// Gold results per (user, day): count and sums of f1, label accuracy and CER.
    pub fn gold_by_day(&self, from_ms: i64, to_ms: i64) -> Result<Vec<GoldDay>> {
        Ok(self.conn.rows(
            "SELECT user_id, ts_ms / 86400000 AS day, count(*), sum(f1), sum(label_accuracy), sum(cer)
             FROM gold_scores WHERE ts_ms BETWEEN ?1 AND ?2
               AND doc_id NOT IN (SELECT id FROM documents WHERE shelved IS NOT NULL)
             GROUP BY user_id, ts_ms / 86400000",
            params![from_ms, to_ms],
            |r| Ok((UserId(r.i64(0)?), r.i64(1)?, r.i64(2)?, [r.f64(3)?, r.f64(4)?, r.f64(5)?])),
        )?)
    }

    // ---- objectives ----

    pub fn objectives(&self) -> Result<Vec<ObjectiveRow>> {
        Ok(self.conn.rows(
            // the target for everyone (no user) first: PostgreSQL sorts NULL last unless told
            "SELECT id, user_id, metric, op, target FROM objectives ORDER BY metric, user_id NULLS FIRST",
            params![],
            |r| {
                Ok(ObjectiveRow {
                    id: r.i64(0)?,
                    user: r.opt_i64(1)?.map(UserId),
                    metric: r.text(2)?,
                    op: r.text(3)?,
                    target: r.f64(4)?,
                })
            },
        )?)
    }

    /// Sets (replacing) the target of `metric` for `user` (None: everyone). Callers check roles.
    pub fn set_objective(&mut self, user: Option<UserId>, metric: &str, op: &str, target: f64) -> Result<()> {
        if !matches!(op, ">=" | "<=") {
            return Err(StoreError::Invalid(format!("objective operator must be >= or <=, not '{op}'")));
        }
        if !target.is_finite() {
            return Err(StoreError::Invalid("an objective's target must be a number".into()));
        }
        Ok(self.conn.write(|tx| -> DbResult<()> {
            // UNIQUE treats NULL users as distinct, so replace by hand.
            tx.exec(
                "DELETE FROM objectives WHERE user_id IS NOT DISTINCT FROM ?1 AND metric=?2",
                params![user.map(|u| u.0), metric],
            )?;
            tx.exec(
                "INSERT INTO objectives (user_id, metric, op, target) VALUES (?1, ?2, ?3, ?4)",
                params![user.map(|u| u.0), metric, op, target],
            )?;
            Ok(())
        })?)
    }

    /// Removes a target; returns whether there was one.
    pub fn delete_objective(&mut self, user: Option<UserId>, metric: &str) -> Result<bool> {
        let n = self.conn.exec(
            "DELETE FROM objectives WHERE user_id IS NOT DISTINCT FROM ?1 AND metric=?2",
            params![user.map(|u| u.0), metric],
        )?;
        Ok(n > 0)
    }

    // ---- bulk writes (generated workspaces) ----

    /// Writes many rows in one transaction, bypassing the edit checks: for generators and
    /// benchmarks that produce a consistent log themselves. Not for user data.
    pub fn bulk_insert(&mut self, b: &BulkBatch) -> Result<()> {
        Ok(self.conn.write(|tx| -> DbResult<()> {
            for a in &b.annotations {
                tx.exec(
                    "INSERT INTO annotations (id, doc_id, x0, y0, x1, y1, quad, label_id, text, source, text_source,
                     confidence, state, author, created_ms, updated_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8, ?9, ?10, NULL, ?11, ?12, ?13, ?14)",
                    params![
                        a.id,
                        a.doc.0,
                        a.rect[0] as f64,
                        a.rect[1] as f64,
                        a.rect[2] as f64,
                        a.rect[3] as f64,
                        a.label.map(|l| l.0),
                        a.text.as_str(),
                        a.source.as_str(),
                        a.text_source.as_str(),
                        a.state,
                        a.author.map(|u| u.0),
                        a.created_ms,
                        a.updated_ms
                    ],
                )?;
            }
            for e in &b.edits {
                tx.exec(
                    "INSERT INTO edits (id, ts_ms, user_id, doc_id, action, kind, target, changes)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'do', NULL, ?6)",
                    params![e.id, e.ts_ms, e.user.map(|u| u.0), e.doc.map(|d| d.0), e.action, e.changes.as_str()],
                )?;
            }
            for (ts, user, doc, kind) in &b.activity {
                tx.exec(
                    "INSERT INTO activity (ts_ms, user_id, doc_id, kind) VALUES (?1, ?2, ?3, ?4)",
                    params![*ts, user.0, doc.map(|d| d.0), *kind],
                )?;
            }
            for r in &b.rounds {
                let verdict = r.verdict.map(|v| match v {
                    DocVerdict::Accept => "accept",
                    DocVerdict::Reject => "reject",
                });
                tx.exec(
                    "INSERT INTO review_rounds (id, doc_id, number, reviewer, annotator, started_ms, finished_ms,
                     verdict, comment, start_edit) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        r.id.0,
                        r.doc.0,
                        r.number,
                        r.reviewer.0,
                        r.annotator.map(|u| u.0),
                        r.started_ms,
                        r.finished_ms,
                        verdict,
                        r.comment.as_str(),
                        r.start_edit
                    ],
                )?;
            }
            for (round, ann, r, v, reviewer, ts) in &b.verdicts {
                tx.exec(
                    "INSERT INTO box_verdicts (round_id, ann_id, x0, y0, x1, y1, verdict, comment, reviewer, ts_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '', ?8, ?9)",
                    params![round.0, *ann, r[0] as f64, r[1] as f64, r[2] as f64, r[3] as f64, *v, reviewer.0, *ts],
                )?;
            }
            for (doc, status, assignee, reviewer, gold) in &b.doc_states {
                tx.exec(
                    "UPDATE documents SET status=?2, assignee=?3, reviewer=?4, is_gold=?5 WHERE id=?1",
                    params![doc.0, *status, assignee.map(|u| u.0), reviewer.map(|u| u.0), *gold],
                )?;
            }
            for (doc, user, ts, s) in &b.gold_scores {
                tx.exec(
                    "INSERT INTO gold_scores (doc_id, user_id, ts_ms, precision, recall, f1, label_accuracy, cer)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![doc.0, user.0, *ts, s[0] as f64, s[1] as f64, s[2] as f64, s[3] as f64, s[4] as f64],
                )?;
            }
            sync_id_sequences(tx)
        })?)
    }

    /// Adds many documents in one transaction (generated workspaces); returns their ids in order.
    pub fn bulk_add_documents(&mut self, docs: &[super::NewDocument], now: TimestampMs) -> Result<Vec<DocId>> {
        Ok(self.conn.write(|tx| -> DbResult<Vec<DocId>> {
            let mut ids = Vec::with_capacity(docs.len());
            for d in docs {
                ids.push(DocId(tx.int(
                    "INSERT INTO documents (path, sha256, page, width, height, status, imported_ms, exif)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'new', ?6, 1) RETURNING id",
                    params![d.path.as_str(), d.sha256.as_str(), d.page, d.width, d.height, now],
                )?));
            }
            Ok(ids)
        })?)
    }

    /// Faster, less durable writes for a throw-away generated workspace.
    pub fn set_bulk_mode(&mut self, on: bool) -> Result<()> {
        let sql = match (&self.conn, on) {
            (Conn::Sqlite(_), true) => "PRAGMA synchronous=OFF;",
            (Conn::Sqlite(_), false) => "PRAGMA synchronous=FULL;",
            (Conn::Pg(_), true) => "SET synchronous_commit = off;",
            (Conn::Pg(_), false) => "SET synchronous_commit = on;",
        };
        Ok(self.conn.batch(sql)?)
    }

    /// Runs `ANALYZE` so the planner knows the shape of a freshly generated workspace.
    pub fn analyze(&mut self) -> Result<()> {
        Ok(self.conn.batch("ANALYZE;")?)
    }
}

/// Rows written with explicit ids leave PostgreSQL's identity sequences behind; move each to
/// its table's largest id so the next row gets a fresh one (SQLite needs nothing).
pub(crate) fn sync_id_sequences(tx: &Tx) -> DbResult<()> {
    if !tx.is_postgres() {
        return Ok(());
    }
    for table in [
        "users",
        "labels",
        "documents",
        "annotations",
        "links",
        "edits",
        "activity",
        "review_rounds",
        "comments",
        "objectives",
        "dataset_versions",
    ] {
        tx.exec(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            ),
            params![],
        )?;
    }
    Ok(())
}

/// Replaces the per-document rows of `updates` and moves their old and new contributions in
/// and out of the aggregates, in a fixed number of statements for the whole batch (a server
/// costs a round trip per statement). A document listed twice counts once, as its last entry.
fn write_docs_facts(tx: &Tx, updates: &[DocFactsUpdate]) -> DbResult<()> {
    let mut latest: HashMap<DocId, &DocFactsUpdate> = HashMap::with_capacity(updates.len());
    for u in updates {
        latest.insert(u.doc, u);
    }
    if latest.is_empty() {
        return Ok(());
    }
    let mut docs: Vec<DocId> = latest.keys().copied().collect();
    docs.sort();
    let updates: Vec<&DocFactsUpdate> = docs.iter().map(|d| latest[d]).collect();
    // integers from typed ids only: nothing a user typed reaches the SQL text
    let list = docs.iter().map(|d| d.0.to_string()).collect::<Vec<_>>().join(",");

    // box facts: old contributions out, new in, summed per aggregate row before writing
    let mut facts: BTreeMap<(i64, i64, i64), [i64; 11]> = BTreeMap::new();
    let mut add = |key, f: [i64; 11], sign: i64| {
        let sum = facts.entry(key).or_insert([0; 11]);
        for (x, y) in sum.iter_mut().zip(f) {
            *x += sign * y;
        }
    };
    for (user, day, label, f) in tx.rows(
        &format!("SELECT user_id, day, label_id, {FACT_COLS} FROM stats_doc_facts WHERE doc_id IN ({list})"),
        params![],
        |r| Ok((r.i64(0)?, r.i64(1)?, r.i64(2)?, BoxFacts::read(r, 3)?)),
    )? {
        add((user, day, label), f.to_array(), -1);
    }
    tx.exec(&format!("DELETE FROM stats_doc_facts WHERE doc_id IN ({list})"), params![])?;
    let mut values: Vec<P> = Vec::new();
    for u in &updates {
        for row in &u.rows {
            let a = row.facts.to_array();
            values.extend([P::Int(u.doc.0), P::Int(row.user.0), P::Int(row.day), P::Int(row.label)]);
            values.extend(a.map(P::Int));
            add((row.user.0, row.day, row.label), a, 1);
        }
    }
    tx.insert_rows(
        &format!("INSERT INTO stats_doc_facts (doc_id, user_id, day, label_id, {FACT_COLS})"),
        "",
        15,
        &values,
    )?;
    let values: Vec<P> = facts
        .into_iter()
        .filter(|(_, f)| f.iter().any(|&v| v != 0))
        .flat_map(|((user, day, label), f)| [P::Int(user), P::Int(day), P::Int(label)].into_iter().chain(f.map(P::Int)))
        .collect();
    tx.insert_rows(
        &format!("INSERT INTO stats_facts (user_id, day, label_id, {FACT_COLS})"),
        &format!("ON CONFLICT (day, user_id, label_id) DO UPDATE SET {}", sum_sets("stats_facts", FACT_COLS)),
        14,
        &values,
    )?;

    // review rounds, the same way
    let mut rounds: BTreeMap<(i64, i64), [i64; 14]> = BTreeMap::new();
    let mut add = |key, f: [i64; 14], sign: i64| {
        let sum = rounds.entry(key).or_insert([0; 14]);
        for (x, y) in sum.iter_mut().zip(f) {
            *x += sign * y;
        }
    };
    for (user, day, f) in tx.rows(
        &format!("SELECT user_id, day, {ROUND_COLS} FROM stats_doc_rounds WHERE doc_id IN ({list})"),
        params![],
        |r| Ok((r.i64(0)?, r.i64(1)?, RoundFacts::read(r, 2)?)),
    )? {
        add((user, day), f.to_array(), -1);
    }
    tx.exec(&format!("DELETE FROM stats_doc_rounds WHERE doc_id IN ({list})"), params![])?;
    let mut values: Vec<P> = Vec::new();
    for u in &updates {
        for &(user, day, f) in &u.rounds {
            let a = f.to_array();
            values.extend([P::Int(u.doc.0), P::Int(user.0), P::Int(day)]);
            values.extend(a.map(P::Int));
            add((user.0, day), a, 1);
        }
    }
    tx.insert_rows(&format!("INSERT INTO stats_doc_rounds (doc_id, user_id, day, {ROUND_COLS})"), "", 17, &values)?;
    let values: Vec<P> = rounds
        .into_iter()
        .filter(|(_, f)| f.iter().any(|&v| v != 0))
        .flat_map(|((user, day), f)| [P::Int(user), P::Int(day)].into_iter().chain(f.map(P::Int)))
        .collect();
    tx.insert_rows(
        &format!("INSERT INTO stats_rounds (user_id, day, {ROUND_COLS})"),
        &format!("ON CONFLICT (day, user_id) DO UPDATE SET {}", sum_sets("stats_rounds", ROUND_COLS)),
        16,
        &values,
    )?;

    // who worked on each document, and their per-document times
    tx.exec(
        &format!(
            "DELETE FROM stats_doc_time WHERE (role, day, user_id, doc_id) IN
             (SELECT role, day, user_id, doc_id FROM stats_doc_people WHERE doc_id IN ({list}))"
        ),
        params![],
    )?;
    tx.exec(&format!("DELETE FROM stats_doc_people WHERE doc_id IN ({list})"), params![])?;
    let values: Vec<P> = updates
        .iter()
        .flat_map(|u| {
            u.people.iter().flat_map(move |p| {
                [P::Int(u.doc.0), P::Int(p.role), P::Int(p.user.0), P::Int(p.day), P::Int(p.wall_ms)]
            })
        })
        .collect();
    tx.insert_rows("INSERT INTO stats_doc_people (doc_id, role, user_id, day, wall_ms)", "", 5, &values)?;
    tx.exec(&format!("{DOC_TIME_INSERT} WHERE p.doc_id IN ({list})"), params![])?;

    // agreement of accepted documents
    tx.exec(&format!("DELETE FROM stats_agreement WHERE doc_id IN ({list})"), params![])?;
    let values: Vec<P> = updates
        .iter()
        .filter_map(|u| u.agreement.as_ref().map(|a| (u.doc, a)))
        .flat_map(|(doc, a)| {
            let c = a.counts;
            [
                P::Int(doc.0),
                P::from(a.annotator.map(|x| x.0)),
                P::from(a.round_number),
                P::from(a.accepted_ms),
                P::Int(c.matched),
                P::Int(c.gt),
                P::Int(c.pred),
                P::Int(c.labels_correct),
                P::Int(c.labels_total),
                P::Int(c.cer_edits),
                P::Int(c.cer_ref_chars),
            ]
        })
        .collect();
    tx.insert_rows(
        "INSERT INTO stats_agreement (doc_id, annotator, round_number, accepted_ms, matched, gt, pred,
         labels_correct, labels_total, cer_edits, cer_ref_chars)",
        "",
        11,
        &values,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    #[test]
    fn doc_facts_replace_their_old_contribution() {
        let mut s = Store::open_in_memory().unwrap();
        let u = s.add_user("ann", Role::Annotator).unwrap().id;
        let row = |boxes| FactRow { user: u, day: 5, label: 1, facts: BoxFacts { boxes, ..Default::default() } };
        let upd = |doc, rows| DocFactsUpdate { doc: DocId(doc), rows, rounds: vec![], people: vec![], agreement: None };
        s.write_doc_facts(&[upd(1, vec![row(3)]), upd(2, vec![row(4)])], 10).unwrap();
        assert_eq!(s.facts_by_day(0, 9, &[]).unwrap()[0].2.boxes, 7);
        s.write_doc_facts(&[upd(1, vec![row(1)])], 11).unwrap();
        assert_eq!(s.facts_by_day(0, 9, &[]).unwrap()[0].2.boxes, 5);
        assert_eq!(s.facts_by_day(0, 9, &[LabelId(2)]).unwrap(), vec![]);
        assert_eq!(s.facts_watermark().unwrap(), 11);
        s.reset_stats_cache(9).unwrap();
        assert_eq!(s.facts_by_day(0, 9, &[]).unwrap(), vec![]);
        assert_eq!((s.stats_cache_version().unwrap(), s.facts_watermark().unwrap()), (Some(9), 0));
    }

    #[test]
    fn objectives_for_everyone_are_replaced_not_duplicated() {
        let mut s = Store::open_in_memory().unwrap();
        let u = s.add_user("ann", Role::Annotator).unwrap().id;
        s.set_objective(None, "cer", "<=", 0.02).unwrap();
        s.set_objective(None, "cer", "<=", 0.03).unwrap();
        s.set_objective(Some(u), "cer", "<=", 0.01).unwrap();
        let o = s.objectives().unwrap();
        assert_eq!(o.len(), 2);
        assert!(o.iter().any(|o| o.user.is_none() && o.target == 0.03));
        assert!(s.set_objective(None, "cer", "<", 0.1).is_err());
        assert!(s.delete_objective(Some(u), "cer").unwrap());
        assert!(!s.delete_objective(Some(u), "cer").unwrap());
    }
}
