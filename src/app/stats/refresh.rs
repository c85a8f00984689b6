//! Keeping the stats caches current, incrementally.
//!
//! Two caches, two invalidation keys:
//! - **Per-document facts** (boxes made, suggestion outcomes, verdict mix, review rounds, who
//!   submitted and reviewed, agreement of the first submission with the accepted version) need
//!   the edit log's JSON. They are recomputed only
//!   for documents with edits after the facts watermark, each by replaying that document's own
//!   log; aggregates are kept by subtracting the old contribution and adding the new one. The
//!   first refresh of a big workspace replays everything once; afterwards a refresh costs what
//!   changed since the last one.
//! - **Active time** (per idle threshold) needs only timestamps, documents and actions, read
//!   from covering indexes. A user's days are recomputed from the earliest day that has new
//!   events; older days are final. Per-document work times (for medians) are the two joined,
//!   rebuilt for the users and documents that changed, so the report reads them in one scan.

use std::collections::HashMap;
use std::time::Instant;

use crate::app::scoring::{ScoredBox, agreement};
use crate::domain::{
    AnnId, AnnState, Annotation, BoxVerdict, Change, DocId, DocStatus, DocVerdict, Edit, EditKind, LabelId, Rect,
    ReviewRound, Role, Source, UserId, Verdict,
};
use crate::metrics::activity::{self, MS_PER_DAY, Phase, RoundSpan, TimelineEvent, active_time, classify_phase};
use crate::store::stats::{
    ActiveUpdate, AgreementCounts, AgreementRow, BoxFacts, DocFactsUpdate, DocPerson, FactRow, RoundFacts,
};
use crate::store::{Store, StoreError};

/// Bump when the derivation changes: caches filled by older code are then rebuilt.
pub const CACHE_VERSION: i64 = 2;

/// Documents read per batch (five statements) and written per transaction during a refresh.
const DOCS_PER_BATCH: usize = 500;

/// What a refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefreshInfo {
    pub docs_recomputed: usize,
    pub users_recomputed: usize,
    pub refresh_ms: u64,
}

/// Brings both caches up to the end of the log.
pub fn refresh(store: &mut Store, idle_ms: i64) -> Result<RefreshInfo, StoreError> {
    let started = Instant::now();
    if store.stats_cache_version()? != Some(CACHE_VERSION) {
        store.reset_stats_cache(CACHE_VERSION)?;
    }
    let (edit_head, activity_head) = store.log_heads()?;
    let mut info = RefreshInfo::default();

    let wm = store.facts_watermark()?;
    if edit_head > wm {
        let docs = store.docs_edited_after(wm)?;
        // every statement is a round trip to a server: there, smaller write transactions keep
        // the write lock (which annotators' edits wait for) short
        let per_write = if store.is_postgres() { DOCS_PER_BATCH / 10 } else { DOCS_PER_BATCH };
        let mut updates: Vec<DocFactsUpdate> = Vec::with_capacity(docs.len().min(DOCS_PER_BATCH));
        for (i, chunk) in docs.chunks(DOCS_PER_BATCH).enumerate() {
            let histories = store.doc_histories(chunk)?;
            let last_read = (i + 1) * DOCS_PER_BATCH >= docs.len();
            updates.clear();
            updates.extend(histories.iter().map(|h| {
                if h.shelved {
                    // archived or deleted: its contribution is withdrawn until it is restored
                    return derive_doc_facts(h.doc, false, &[], &[], &[], &[]);
                }
                let accepted = h.status == DocStatus::Accepted;
                derive_doc_facts(h.doc, accepted, &h.edits, &h.boxes, &h.rounds, &h.verdicts)
            }));
            let writes: Vec<&[DocFactsUpdate]> = updates.chunks(per_write).collect();
            for (j, w) in writes.iter().enumerate() {
                // Only the last write moves the watermark: an interrupted refresh redoes the rest.
                let mark = if last_read && j + 1 == writes.len() { edit_head } else { wm };
                store.write_doc_facts(w, mark)?;
            }
        }
        if docs.is_empty() {
            store.write_doc_facts(&[], edit_head)?;
        }
        info.docs_recomputed = docs.len();
    }

    let (ewm, awm) = store.active_watermarks(idle_ms)?.unwrap_or((0, 0));
    if (ewm, awm) != (edit_head, activity_head) {
        let users = store.users_with_events_after(ewm, awm)?;
        let mut updates = Vec::with_capacity(users.len());
        if !users.is_empty() {
            let roles: HashMap<UserId, Role> = store.users()?.into_iter().map(|u| (u.id, u.role)).collect();
            let mut spans: HashMap<DocId, Vec<RoundSpan>> = HashMap::new();
            for r in store.all_rounds()? {
                spans.entry(r.doc).or_default().push(RoundSpan {
                    reviewer: r.reviewer,
                    started_ms: r.started_ms,
                    finished_ms: r.finished_ms,
                    rejected: r.verdict == Some(DocVerdict::Reject),
                });
            }
            for (user, first_new_ms) in users {
                let role = roles.get(&user).copied().unwrap_or(Role::Annotator);
                let from_day = activity::utc_day(first_new_ms);
                let from_ms = from_day * MS_PER_DAY;
                let events = store.user_events(user, from_ms - idle_ms)?;
                let mut last_phase = activity::default_phase(role);
                let timeline: Vec<TimelineEvent> = events
                    .iter()
                    .map(|e| {
                        let action = e.is_edit.then_some(e.what.as_str());
                        let phase = match e.doc {
                            Some(d) => classify_phase(
                                action,
                                user,
                                role,
                                e.ts_ms,
                                spans.get(&d).map(Vec::as_slice).unwrap_or(&[]),
                            ),
                            None => match action {
                                Some(a) if activity::is_managing_action(a) => Phase::Managing,
                                _ => last_phase,
                            },
                        };
                        last_phase = phase;
                        TimelineEvent {
                            ts_ms: e.ts_ms,
                            doc: e.doc,
                            phase,
                            ends_activity: !e.is_edit && activity::ends_activity(&e.what),
                        }
                    })
                    .collect();
                let at = active_time(&timeline, idle_ms, Some(from_ms));
                let rows = at.spans.into_iter().map(|((day, doc, phase), ms)| (day, doc, phase.code(), ms)).collect();
                updates.push(ActiveUpdate { user, from_day, rows });
            }
        }
        info.users_recomputed = updates.len();
        store.write_active(idle_ms, &updates, edit_head, activity_head)?;
    }
    info.refresh_ms = started.elapsed().as_millis() as u64;
    Ok(info)
}

/// What the log says about one box over its life.
#[derive(Debug, Clone)]
struct Track {
    author: Option<UserId>,
    machine: bool,
    label: Option<LabelId>,
    created_ms: i64,
    /// Geometry and text when a machine suggestion was first accepted.
    accepted: Option<(Rect, String)>,
    /// Still a suggestion when it was deleted (a rejection), or an accepted box (a replacement).
    deleted_as: Option<AnnState>,
}

/// Derives a document's facts from its log (in id order), current boxes, rounds and the
/// verdicts of its finished rounds (in the same order as the finished rounds). Pure.
///
/// - Final boxes are the current active boxes, counted for their author on their creation day;
///   boxes a reviewer drew inside their own review round are corrections, not boxes made.
/// - A final box from a CV/model suggestion is *adjusted* when its geometry differs from the
///   geometry at acceptance, or a person changed the machine's (non-empty) text; otherwise
///   *unchanged*. Typing text into a suggestion that came without text is not adjusting it.
/// - A suggestion deleted after acceptance is *replaced*; deleted before, *rejected*.
/// - Verdicts of finished rounds count for the round's annotator on the round's finish day,
///   under the box's label.
/// - When the document is accepted (`accepted`, its current status), the boxes as first submitted (the log replayed
///   up to the last submit before round 1) are scored against the accepted boxes with
///   [`agreement`] at IoU 0.5.
pub fn derive_doc_facts(
    doc: DocId,
    accepted: bool,
    edits: &[Edit],
    boxes: &[Annotation],
    rounds: &[ReviewRound],
    verdicts: &[Vec<BoxVerdict>],
) -> DocFactsUpdate {
    let mut tracks: HashMap<AnnId, Track> = HashMap::new();
    for e in edits {
        for c in &e.changes {
            let Change::Annotation { before, after } = c else {
                continue;
            };
            match (before, after) {
                (_, Some(a)) => {
                    let t = tracks.entry(a.id).or_insert_with(|| Track {
                        author: a.author,
                        machine: a.source.is_machine(),
                        label: a.label,
                        created_ms: a.created_ms,
                        accepted: None,
                        deleted_as: None,
                    });
                    t.label = a.label;
                    t.deleted_as = None;
                    // a machine suggestion a person accepted is theirs from then on
                    if t.author.is_none() {
                        t.author = a.author;
                    }
                    if t.machine && t.accepted.is_none() && a.state == AnnState::Active {
                        t.accepted = Some((a.rect, a.text.clone()));
                    }
                }
                (Some(b), None) => {
                    if let Some(t) = tracks.get_mut(&b.id) {
                        t.deleted_as = Some(b.state);
                        // a machine suggestion nobody owned is counted for who rejected it
                        if t.author.is_none() {
                            t.author = e.user;
                        }
                    }
                }
                (None, None) => {}
            }
        }
    }

    let mut facts: HashMap<(UserId, i64, i64), BoxFacts> = HashMap::new();
    let label_key = |l: Option<LabelId>| l.map_or(0, |l| l.0);
    let alive: HashMap<AnnId, &Annotation> = boxes.iter().map(|a| (a.id, a)).collect();
    let in_own_review = |author: UserId, ts: i64| {
        rounds.iter().any(|r| r.reviewer == author && r.started_ms <= ts && r.finished_ms.is_none_or(|end| ts <= end))
    };
    for a in boxes.iter().filter(|a| a.state == AnnState::Active) {
        let Some(author) = a.author else { continue };
        if in_own_review(author, a.created_ms) {
            continue;
        }
        let f = facts.entry((author, activity::utc_day(a.created_ms), label_key(a.label))).or_default();
        f.boxes += 1;
        if a.source.is_machine() {
            let adjusted = tracks.get(&a.id).and_then(|t| t.accepted.as_ref()).is_some_and(|(rect, text)| {
                a.rect != *rect || (a.text_source == Source::Manual && !text.is_empty() && a.text != *text)
            });
            if adjusted {
                f.sugg_adjusted += 1;
            } else {
                f.sugg_unchanged += 1;
            }
        }
    }
    for (id, t) in &tracks {
        if !t.machine || alive.contains_key(id) {
            continue;
        }
        let (Some(author), Some(state)) = (t.author, t.deleted_as) else { continue };
        let f = facts.entry((author, activity::utc_day(t.created_ms), label_key(t.label))).or_default();
        match (state, t.accepted.is_some()) {
            (AnnState::Active, _) | (AnnState::Suggested, true) => f.sugg_replaced += 1,
            (AnnState::Suggested, false) => f.sugg_rejected += 1,
        }
    }

    let finished: Vec<&ReviewRound> = rounds.iter().filter(|r| r.finished_ms.is_some()).collect();
    for (r, vs) in finished.iter().zip(verdicts) {
        let (Some(annotator), Some(end)) = (r.annotator, r.finished_ms) else { continue };
        for v in vs {
            let label = alive.get(&v.ann).map(|a| a.label).or_else(|| tracks.get(&v.ann).map(|t| t.label)).flatten();
            let f = facts.entry((annotator, activity::utc_day(end), label_key(label))).or_default();
            match v.verdict {
                Verdict::Ok => f.v_ok += 1,
                Verdict::WrongBox => f.v_wrong_box += 1,
                Verdict::WrongLabel => f.v_wrong_label += 1,
                Verdict::WrongText => f.v_wrong_text += 1,
                Verdict::Missing => f.v_missing += 1,
                Verdict::Spurious => f.v_spurious += 1,
            }
        }
    }

    let mut rows: Vec<FactRow> =
        facts.into_iter().map(|((user, day, label), facts)| FactRow { user, day, label, facts }).collect();
    rows.sort_by_key(|r| (r.user, r.day, r.label));
    let agreement = if accepted { first_pass_agreement(edits, boxes, rounds) } else { None };

    // Rounds per (user, finish day), as annotator and as reviewer; agreement by acceptance day.
    let mut per_day: HashMap<(UserId, i64), RoundFacts> = HashMap::new();
    let mut reviewed: HashMap<UserId, (i64, i64)> = HashMap::new();
    for r in &finished {
        let Some(end) = r.finished_ms else { continue };
        let (day, rejected) = (activity::utc_day(end), i64::from(r.verdict == Some(DocVerdict::Reject)));
        if let Some(a) = r.annotator {
            let f = per_day.entry((a, day)).or_default();
            f.rounds_a += 1;
            f.rejected_a += rejected;
            if r.number == 1 {
                f.fp_a += 1;
                f.fp_acc_a += 1 - rejected;
            }
        }
        let f = per_day.entry((r.reviewer, day)).or_default();
        f.rounds_r += 1;
        f.rejected_r += rejected;
        let e = reviewed.entry(r.reviewer).or_insert((day, 0));
        e.0 = e.0.max(day);
        e.1 += end - r.started_ms;
    }
    if let Some(ag) = &agreement
        && let Some(a) = ag.annotator
    {
        let f = per_day.entry((a, activity::utc_day(ag.accepted_ms))).or_default();
        f.agr_docs += 1;
        f.agreement += ag.counts;
    }
    let mut rounds: Vec<(UserId, i64, RoundFacts)> = per_day.into_iter().map(|((u, d), f)| (u, d, f)).collect();
    rounds.sort_by_key(|r| (r.0, r.1));

    // The first submission that was not undone (an odd number of undo/redo edits targets it).
    let toggles =
        |id| edits.iter().filter(|e| matches!(e.kind, EditKind::Undo(t) | EditKind::Redo(t) if t == id)).count();
    let mut people: Vec<DocPerson> = edits
        .iter()
        .filter(|e| e.action == "submit" && e.kind == EditKind::Do && toggles(e.id) % 2 == 0)
        .find_map(|e| e.user.map(|u| DocPerson { role: 0, user: u, day: activity::utc_day(e.ts_ms), wall_ms: 0 }))
        .into_iter()
        .collect();
    let mut reviewers: Vec<_> = reviewed.into_iter().collect();
    reviewers.sort_by_key(|r| r.0);
    people.extend(reviewers.into_iter().map(|(user, (day, wall_ms))| DocPerson { role: 1, user, day, wall_ms }));
    DocFactsUpdate { doc, rows, rounds, people, agreement }
}

/// Agreement of the first submission with the accepted version, when the last round accepted.
fn first_pass_agreement(edits: &[Edit], boxes: &[Annotation], rounds: &[ReviewRound]) -> Option<AgreementRow> {
    let last = rounds.last()?;
    let accepted_ms = last.finished_ms.filter(|_| last.verdict == Some(DocVerdict::Accept))?;
    let first = rounds.iter().min_by_key(|r| r.number)?;
    let submit = edits
        .iter()
        .filter(|e| e.action == "submit" && e.id.0 <= first.start_edit)
        .map(|e| e.id.0)
        .max()
        .unwrap_or(first.start_edit);
    let mut submitted: HashMap<AnnId, Annotation> = HashMap::new();
    for e in edits.iter().filter(|e| e.id.0 <= submit) {
        for c in &e.changes {
            if let Change::Annotation { before, after } = c {
                match (before, after) {
                    (_, Some(a)) => {
                        submitted.insert(a.id, a.clone());
                    }
                    (Some(b), None) => {
                        submitted.remove(&b.id);
                    }
                    (None, None) => {}
                }
            }
        }
    }
    let scored = |a: &Annotation| ScoredBox { rect: a.rect, label: a.label, text: a.text.clone() };
    let mut pred: Vec<&Annotation> = submitted.values().filter(|a| a.state == AnnState::Active).collect();
    pred.sort_by_key(|a| a.id);
    let pred: Vec<ScoredBox> = pred.into_iter().map(scored).collect();
    let truth: Vec<ScoredBox> = boxes.iter().filter(|a| a.state == AnnState::Active).map(scored).collect();
    let a = agreement(&truth, &pred, 0.5);
    Some(AgreementRow {
        annotator: first.annotator,
        round_number: last.number,
        accepted_ms,
        counts: AgreementCounts {
            matched: a.boxes.matched as i64,
            gt: a.boxes.gt as i64,
            pred: a.boxes.pred as i64,
            labels_correct: a.labels.correct as i64,
            labels_total: a.labels.total as i64,
            cer_edits: a.text.edits as i64,
            cer_ref_chars: a.text.ref_chars as i64,
        },
    })
}
