//! Active time from a user's own timeline of events (edits and UI heartbeats): the gaps
//! between consecutive events that are no longer than an idle threshold, attributed to the
//! document and the phase of work of the event that starts each gap. Pure: the caller loads
//! and classifies events; nothing here reads a clock or a database.
//!
//! Days are UTC days (`ts_ms.div_euclid(86_400_000)`, days since 1970-01-01 UTC); a gap that
//! crosses UTC midnight is split between the two days.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{DocId, Role, TimestampMs, UserId};

/// Gaps longer than this (between two events of one user) are idle time, not work.
pub const DEFAULT_IDLE_GAP_SECS: u32 = 120;

pub const MS_PER_DAY: i64 = 86_400_000;

/// The UTC day of a timestamp, as days since 1970-01-01.
pub fn utc_day(ts_ms: TimestampMs) -> i64 {
    ts_ms.div_euclid(MS_PER_DAY)
}

/// What kind of work a stretch of active time was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// First pass on a document: drawing, labelling, transcribing, accepting suggestions.
    Annotating,
    /// Second pass: a reviewer inside their own review round (verdicts, corrections, comments).
    Reviewing,
    /// The annotator fixing a document after it was rejected at least once.
    Reworking,
    /// A lead's workspace chores: assignments, gold documents, imports, the label schema.
    Managing,
}

impl Phase {
    pub const ALL: [Phase; 4] = [Phase::Annotating, Phase::Reviewing, Phase::Reworking, Phase::Managing];

    /// Stable small integer for storage.
    pub fn code(self) -> i64 {
        match self {
            Phase::Annotating => 0,
            Phase::Reviewing => 1,
            Phase::Reworking => 2,
            Phase::Managing => 3,
        }
    }

    pub fn from_code(code: i64) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.code() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Annotating => "annotating",
            Phase::Reviewing => "reviewing",
            Phase::Reworking => "reworking",
            Phase::Managing => "managing",
        }
    }
}

/// Edit-log actions that only happen inside a review round.
pub fn is_review_action(action: &str) -> bool {
    matches!(
        action,
        "start_review" | "set_verdict" | "clear_verdict" | "accept_remaining" | "add_missing_box" | "finish_review"
    )
}

/// Edit-log actions that are a lead's management of the workspace rather than work on boxes.
pub fn is_managing_action(action: &str) -> bool {
    matches!(
        action,
        "assign" | "assign_reviewer" | "mark_gold" | "reissue_gold" | "import_gt" | "edit_label" | "set_status"
    )
}

/// UI activity kinds after which the user is gone: the following gap is never counted.
pub fn ends_activity(kind: &str) -> bool {
    matches!(kind, "blur" | "close")
}

/// One review round of a document, as phase classification needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundSpan {
    pub reviewer: UserId,
    pub started_ms: TimestampMs,
    /// None while the round is open.
    pub finished_ms: Option<TimestampMs>,
    pub rejected: bool,
}

/// The phase of one event of `user` on a document whose review rounds are `rounds`.
///
/// In order: a review action is reviewing and a management action is managing; any event
/// inside a round the user reviews (start ≤ ts ≤ finish, or still open) is reviewing; outside
/// rounds a reviewer (by role) looking at documents is reviewing too; otherwise it is
/// reworking once some round of the document was rejected before `ts_ms`, else annotating.
/// Leads who draw boxes are annotating by the same rules.
pub fn classify_phase(
    action: Option<&str>,
    user: UserId,
    role: Role,
    ts_ms: TimestampMs,
    rounds: &[RoundSpan],
) -> Phase {
    if let Some(a) = action {
        if is_review_action(a) {
            return Phase::Reviewing;
        }
        if is_managing_action(a) {
            return Phase::Managing;
        }
    }
    let in_own_round = rounds
        .iter()
        .any(|r| r.reviewer == user && r.started_ms <= ts_ms && r.finished_ms.is_none_or(|end| ts_ms <= end));
    if in_own_round || role == Role::Reviewer {
        return Phase::Reviewing;
    }
    let reworked = rounds.iter().any(|r| r.rejected && r.finished_ms.is_some_and(|end| end < ts_ms));
    if reworked { Phase::Reworking } else { Phase::Annotating }
}

/// The phase of an event that concerns no document (e.g. focus on the queue), when no earlier
/// event gives one to carry forward.
pub fn default_phase(role: Role) -> Phase {
    match role {
        Role::Annotator => Phase::Annotating,
        Role::Reviewer => Phase::Reviewing,
        Role::Lead => Phase::Managing,
    }
}

/// One event of one user's timeline, already classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineEvent {
    pub ts_ms: TimestampMs,
    pub doc: Option<DocId>,
    pub phase: Phase,
    /// A blur or close: the user left, so the gap after it is not work whatever its length.
    pub ends_activity: bool,
}

/// Active milliseconds keyed by (UTC day, document, phase).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActiveTime {
    pub spans: BTreeMap<(i64, Option<DocId>, Phase), i64>,
}

impl ActiveTime {
    pub fn total_ms(&self) -> i64 {
        self.spans.values().sum()
    }

    pub fn phase_ms(&self, phase: Phase) -> i64 {
        self.spans.iter().filter(|(k, _)| k.2 == phase).map(|(_, v)| v).sum()
    }

    pub fn doc_ms(&self, doc: Option<DocId>) -> i64 {
        self.spans.iter().filter(|(k, _)| k.1 == doc).map(|(_, v)| v).sum()
    }

    pub fn day_ms(&self, day: i64) -> i64 {
        self.spans.iter().filter(|(k, _)| k.0 == day).map(|(_, v)| v).sum()
    }

    fn add(&mut self, day: i64, doc: Option<DocId>, phase: Phase, ms: i64) {
        if ms > 0 {
            *self.spans.entry((day, doc, phase)).or_default() += ms;
        }
    }
}

/// Sums the gaps between consecutive events of one user that are at most `idle_gap_ms` long
/// (a gap exactly at the threshold counts), unless the earlier event ends activity (blur,
/// close). Each gap goes to the document and phase of the event that starts it, split at UTC
/// midnight. Only time at or after `count_from_ms` is counted, so a cache can recompute the
/// days from some point on while still seeing the event just before it. Events need not be
/// sorted; equal timestamps are fine (zero-length gaps).
pub fn active_time(events: &[TimelineEvent], idle_gap_ms: i64, count_from_ms: Option<TimestampMs>) -> ActiveTime {
    let mut sorted;
    let events = if events.windows(2).all(|w| w[0].ts_ms <= w[1].ts_ms) {
        events
    } else {
        sorted = events.to_vec();
        sorted.sort_by_key(|e| e.ts_ms);
        &sorted[..]
    };
    let mut out = ActiveTime::default();
    for w in events.windows(2) {
        let (cur, next) = (&w[0], &w[1]);
        let gap = next.ts_ms - cur.ts_ms;
        if cur.ends_activity || gap > idle_gap_ms || gap <= 0 {
            continue;
        }
        let mut start = cur.ts_ms.max(count_from_ms.unwrap_or(i64::MIN));
        let end = next.ts_ms;
        while start < end {
            let day = utc_day(start);
            let midnight = (day + 1) * MS_PER_DAY;
            let stop = end.min(midnight);
            out.add(day, cur.doc, cur.phase, stop - start);
            start = stop;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1000;
    const IDLE: i64 = 120 * S;

    fn ev(ts_ms: i64, doc: i64, phase: Phase) -> TimelineEvent {
        TimelineEvent { ts_ms, doc: Some(DocId(doc)), phase, ends_activity: false }
    }

    #[test]
    fn idle_gaps_are_excluded_and_the_threshold_itself_counts() {
        let a = Phase::Annotating;
        let t0 = 10 * MS_PER_DAY; // a UTC midnight
        let events = [
            ev(t0, 1, a),
            ev(t0 + 30 * S, 1, a),  // 30 s counted
            ev(t0 + 150 * S, 1, a), // exactly 120 s: counted
            ev(t0 + 271 * S, 1, a), // 121 s: idle
            ev(t0 + 300 * S, 1, a), // 29 s counted
        ];
        let t = active_time(&events, IDLE, None);
        assert_eq!(t.total_ms(), (30 + 120 + 29) * S);
        assert_eq!(t.day_ms(10), t.total_ms());
        // A single event, or none, is no time at all.
        assert_eq!(active_time(&events[..1], IDLE, None).total_ms(), 0);
        assert_eq!(active_time(&[], IDLE, None).total_ms(), 0);
    }

    #[test]
    fn gaps_go_to_the_document_and_phase_that_start_them() {
        let events = [
            ev(0, 1, Phase::Annotating),
            ev(60 * S, 2, Phase::Reviewing),  // 60 s on doc 1, annotating
            ev(100 * S, 2, Phase::Reviewing), // 40 s on doc 2, reviewing
            ev(110 * S, 1, Phase::Reworking), // 10 s on doc 2, reviewing
            ev(115 * S, 1, Phase::Reworking), // 5 s on doc 1, reworking
        ];
        let t = active_time(&events, IDLE, None);
        assert_eq!(t.doc_ms(Some(DocId(1))), 65 * S);
        assert_eq!(t.doc_ms(Some(DocId(2))), 50 * S);
        assert_eq!(t.phase_ms(Phase::Annotating), 60 * S);
        assert_eq!(t.phase_ms(Phase::Reviewing), 50 * S);
        assert_eq!(t.phase_ms(Phase::Reworking), 5 * S);
    }

    #[test]
    fn a_blur_ends_activity_even_when_focus_returns_soon() {
        let mut blur = ev(40 * S, 1, Phase::Annotating);
        blur.ends_activity = true;
        let events =
            [ev(0, 1, Phase::Annotating), blur, ev(70 * S, 1, Phase::Annotating), ev(80 * S, 1, Phase::Annotating)];
        // 40 s before the blur, nothing between blur and focus, 10 s after
        assert_eq!(active_time(&events, IDLE, None).total_ms(), 50 * S);
    }

    #[test]
    fn midnight_splits_a_gap_and_count_from_clips() {
        let midnight = 3 * MS_PER_DAY;
        let events = [ev(midnight - 20 * S, 1, Phase::Annotating), ev(midnight + 30 * S, 1, Phase::Annotating)];
        let t = active_time(&events, IDLE, None);
        assert_eq!((t.day_ms(2), t.day_ms(3)), (20 * S, 30 * S));
        let clipped = active_time(&events, IDLE, Some(midnight));
        assert_eq!((clipped.day_ms(2), clipped.day_ms(3)), (0, 30 * S));
    }

    #[test]
    fn unsorted_input_is_sorted_first() {
        let events = [ev(50 * S, 1, Phase::Annotating), ev(0, 1, Phase::Annotating), ev(20 * S, 1, Phase::Annotating)];
        assert_eq!(active_time(&events, IDLE, None).total_ms(), 50 * S);
        assert_eq!(utc_day(-1), -1, "before 1970 is day -1, not day 0");
    }

    #[test]
    fn phases_follow_actions_rounds_and_roles() {
        let (ann, rev) = (UserId(1), UserId(2));
        let rounds = [
            RoundSpan { reviewer: rev, started_ms: 100, finished_ms: Some(200), rejected: true },
            RoundSpan { reviewer: rev, started_ms: 400, finished_ms: None, rejected: false },
        ];
        let p = |action, user, role, ts| classify_phase(action, user, role, ts, &rounds);
        assert_eq!(p(Some("add_box"), ann, Role::Annotator, 50), Phase::Annotating);
        assert_eq!(p(Some("set_text"), rev, Role::Reviewer, 150), Phase::Reviewing, "a correction in review");
        assert_eq!(p(None, rev, Role::Reviewer, 200), Phase::Reviewing, "finish is inside the round");
        assert_eq!(p(Some("set_text"), ann, Role::Annotator, 200), Phase::Annotating, "rejection not yet after");
        assert_eq!(p(Some("set_text"), ann, Role::Annotator, 201), Phase::Reworking);
        assert_eq!(p(None, ann, Role::Annotator, 300), Phase::Reworking);
        assert_eq!(p(Some("set_verdict"), ann, Role::Lead, 10), Phase::Reviewing);
        assert_eq!(p(Some("assign"), ann, Role::Lead, 10), Phase::Managing);
        // A lead reviewing in an open round, and a lead drawing boxes outside rounds.
        let lead = UserId(3);
        let open = [RoundSpan { reviewer: lead, started_ms: 400, finished_ms: None, rejected: false }];
        assert_eq!(classify_phase(None, lead, Role::Lead, 1_000, &open), Phase::Reviewing);
        assert_eq!(classify_phase(Some("add_box"), lead, Role::Lead, 10, &[]), Phase::Annotating);
        for ph in Phase::ALL {
            assert_eq!(Phase::from_code(ph.code()), Some(ph));
        }
    }
}
