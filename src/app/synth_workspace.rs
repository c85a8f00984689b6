//! A large, realistic workspace for benchmarks and demos of the stats panel: annotators who
//! draw boxes or accept (and adjust, or reject) CV/model suggestions, reviewers who set
//! verdicts and sometimes reject, rework rounds, gold scores, and input heartbeats, all with
//! an edit log whose before/after snapshots replay to the stored boxes. Written through the
//! store's bulk API (one transaction per batch, synchronous off), so a million boxes take
//! about a minute rather than hours of single edits.

use std::time::Instant;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::domain::{
    AnnId, AnnState, Annotation, BoxVerdict, Change, DocId, DocStatus, DocVerdict, LabelId, Rect, ReviewRound, Role,
    RoundId, Source, TimestampMs, UserId, Verdict,
};
use crate::store::stats::{BulkAnnotation, BulkBatch, BulkEdit};
use crate::store::{NewDocument, Store, StoreError, Workspace};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthWorkspaceSpec {
    /// People: about 80 % annotators, 16 % reviewers, the rest leads (at least one of each).
    pub users: usize,
    pub documents: usize,
    /// Final boxes wanted overall (spread over the documents, ±50 % per document).
    pub annotations_target: usize,
    /// Working days the work is spread over, from 2024-01-01 UTC.
    pub days: u32,
    pub seed: u64,
}

impl Default for SynthWorkspaceSpec {
    fn default() -> Self {
        Self { users: 50, documents: 40_000, annotations_target: 1_000_000, days: 60, seed: 7 }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SynthWorkspaceReport {
    pub documents: usize,
    pub annotations: usize,
    pub edits: usize,
    pub activity: usize,
    pub rounds: usize,
    pub elapsed_ms: u64,
}

const DAY_MS: i64 = 86_400_000;
/// 2024-01-01 00:00 UTC.
const EPOCH_MS: i64 = 19_723 * DAY_MS;
const DOCS_PER_BATCH: usize = 2_000;

struct Gen {
    rng: SmallRng,
    next_ann: i64,
    next_edit: i64,
    next_round: i64,
    batch: BulkBatch,
    report: SynthWorkspaceReport,
}

fn rect(a: &Annotation) -> [f32; 4] {
    [a.rect.x0, a.rect.y0, a.rect.x1, a.rect.y1]
}

impl Gen {
    fn edit(&mut self, ts: TimestampMs, user: UserId, doc: DocId, action: &'static str, changes: &[Change]) -> i64 {
        self.next_edit += 1;
        // Serialising our own plain types cannot fail; an empty list would still be a valid log.
        let changes = serde_json::to_string(changes).unwrap_or_else(|_| "[]".into());
        self.batch.edits.push(BulkEdit {
            id: self.next_edit,
            ts_ms: ts,
            user: Some(user),
            doc: Some(doc),
            action,
            changes,
        });
        self.report.edits += 1;
        self.next_edit
    }

    fn activity(&mut self, ts: TimestampMs, user: UserId, doc: DocId, kind: &'static str) {
        self.batch.activity.push((ts, user, Some(doc), kind));
        self.report.activity += 1;
    }

    /// Advances a user's clock by `secs` of work, with a heartbeat every 30 s of it.
    fn work(&mut self, t: &mut TimestampMs, secs: i64, user: UserId, doc: DocId) {
        let end = *t + secs * 1000;
        let mut beat = *t + 30_000;
        while beat < end {
            self.activity(beat, user, doc, "input");
            beat += 30_000;
        }
        *t = end;
    }

    fn text(&mut self) -> String {
        match self.rng.random_range(0..4) {
            0 => format!("INV-{}", self.rng.random_range(1000..99_999)),
            1 => format!("{},{:02}", self.rng.random_range(1..9_999), self.rng.random_range(0..100)),
            2 => format!("2024-{:02}-{:02}", self.rng.random_range(1..13), self.rng.random_range(1..29)),
            _ => ["TOTAL", "TVA", "ACME SARL", "Net 30", "EUR", "Qty"][self.rng.random_range(0..6)].to_string(),
        }
    }
}

/// Moves a clock to the next working moment: 08:00–17:00 UTC, skipping to the next morning.
fn next_working(t: TimestampMs, rng: &mut SmallRng) -> TimestampMs {
    let tod = t.rem_euclid(DAY_MS);
    if tod < 8 * 3_600_000 {
        t - tod + 8 * 3_600_000 + rng.random_range(0..1_800_000)
    } else if tod > 17 * 3_600_000 {
        t - tod + DAY_MS + 8 * 3_600_000 + rng.random_range(0..1_800_000)
    } else {
        t
    }
}

/// Writes a new workspace at `workspace` (a file that must not exist, or an empty database).
pub fn generate(
    workspace: impl Into<Workspace>,
    spec: &SynthWorkspaceSpec,
) -> Result<SynthWorkspaceReport, StoreError> {
    let started = Instant::now();
    let mut store = Store::create_at(&workspace.into())?;
    store.set_bulk_mode(true)?;
    let n_users = spec.users.max(3);
    let n_reviewers = (n_users * 16 / 100).max(1);
    let n_leads = (n_users / 25).max(1);
    let n_annotators = n_users.saturating_sub(n_reviewers + n_leads).max(1);
    let mut annotators = Vec::new();
    let mut reviewers = Vec::new();
    for i in 0..n_annotators {
        annotators.push(store.add_user(&format!("annotator{:02}", i + 1), Role::Annotator)?.id);
    }
    for i in 0..n_reviewers {
        reviewers.push(store.add_user(&format!("reviewer{:02}", i + 1), Role::Reviewer)?.id);
    }
    for i in 0..n_leads {
        store.add_user(&format!("lead{:02}", i + 1), Role::Lead)?;
    }
    let labels: Vec<LabelId> = store.labels()?.into_iter().map(|l| l.id).collect();
    let new_docs: Vec<NewDocument> = (0..spec.documents)
        .map(|i| NewDocument {
            path: format!("/synth/invoice{i:07}.png"),
            sha256: format!("{:064x}", i as u128 + ((spec.seed as u128) << 64)),
            page: 0,
            width: 1240,
            height: 1754,
        })
        .collect();
    let docs = store.bulk_add_documents(&new_docs, EPOCH_MS)?;

    let mut g = Gen {
        rng: SmallRng::seed_from_u64(spec.seed),
        next_ann: 0,
        next_edit: 0,
        next_round: 0,
        batch: BulkBatch::default(),
        report: SynthWorkspaceReport { documents: docs.len(), ..Default::default() },
    };
    let mean_boxes = (spec.annotations_target / docs.len().max(1)).max(1);
    let boxes_per_annotator = spec.annotations_target / n_annotators;
    let work_secs = i64::from(spec.days.max(1)) * 9 * 3600 * 85 / 100;
    let secs_per_box = (work_secs / boxes_per_annotator.max(1) as i64).clamp(4, 60);
    let mut clock: Vec<TimestampMs> = (0..n_users + 1).map(|_| EPOCH_MS + 8 * 3_600_000).collect();
    let slot = |u: UserId| u.0 as usize;
    let unreviewed_from = docs.len() * 95 / 100;

    for (k, &doc) in docs.iter().enumerate() {
        let ann = annotators[k % annotators.len()];
        let rev = reviewers[k % reviewers.len()];
        let mut t = next_working(clock[slot(ann)], &mut g.rng);
        let n = (mean_boxes / 2 + g.rng.random_range(0..=mean_boxes)).max(1);
        g.activity(t, ann, doc, "open");
        g.work(&mut t, 3, ann, doc);
        let mut boxes: Vec<Annotation> = Vec::with_capacity(n);
        let new_box = |g: &mut Gen, i: usize, t: TimestampMs, source: Source, state: AnnState, text: String| {
            g.next_ann += 1;
            let (col, row) = ((i % 4) as f32, (i / 4) as f32);
            Annotation {
                id: AnnId(g.next_ann),
                doc,
                rect: Rect::new(20.0 + col * 300.0, 20.0 + row * 28.0, 260.0 + col * 300.0, 42.0 + row * 28.0),
                quad: None,
                label: None,
                text,
                text_source: if state == AnnState::Suggested { source.clone() } else { Source::Manual },
                source,
                confidence: None,
                label_suggested: None,
                label_conf: None,
                state,
                author: Some(ann),
                created_ms: t,
                updated_ms: t,
                flags: Default::default(),
            }
        };
        let first_edit;
        if g.rng.random_bool(0.5) {
            // Pre-annotated: suggestions, accept most, reject the extras, label, adjust some.
            let source = if g.rng.random_bool(0.5) { Source::Cv } else { Source::Model("ppocr-v5".into()) };
            let extra = n / 10 + 1;
            let sugg: Vec<Annotation> = (0..n + extra)
                .map(|i| {
                    let text = if i % 3 == 0 { String::new() } else { g.text() };
                    new_box(&mut g, i, t, source.clone(), AnnState::Suggested, text)
                })
                .collect();
            let ch: Vec<Change> =
                sugg.iter().map(|a| Change::Annotation { before: None, after: Some(a.clone()) }).collect();
            first_edit = g.edit(t, ann, doc, "add_suggestions", &ch);
            g.work(&mut t, 4, ann, doc);
            let mut ch = Vec::with_capacity(n);
            for s in &sugg[..n] {
                let mut a = s.clone();
                a.state = AnnState::Active;
                a.updated_ms = t;
                ch.push(Change::Annotation { before: Some(s.clone()), after: Some(a.clone()) });
                boxes.push(a);
            }
            g.edit(t, ann, doc, "accept_suggestions", &ch);
            g.work(&mut t, 3, ann, doc);
            let ch: Vec<Change> =
                sugg[n..].iter().map(|s| Change::Annotation { before: Some(s.clone()), after: None }).collect();
            g.edit(t, ann, doc, "reject_suggestions", &ch);
            for b in boxes.iter_mut() {
                let secs = g.rng.random_range(secs_per_box / 2..=secs_per_box * 3 / 2);
                g.work(&mut t, secs, ann, doc);
                let before = b.clone();
                b.label = Some(labels[g.rng.random_range(0..labels.len())]);
                let mut action = "set_label";
                if g.rng.random_bool(0.15) {
                    b.rect = before.rect.translated(0.0, 2.0);
                    action = "set_geometry";
                }
                b.updated_ms = t;
                g.edit(t, ann, doc, action, &[Change::Annotation { before: Some(before), after: Some(b.clone()) }]);
            }
        } else {
            first_edit = g.next_edit + 1;
            for i in 0..n {
                let secs = g.rng.random_range(secs_per_box / 2..=secs_per_box * 3 / 2);
                g.work(&mut t, secs, ann, doc);
                let text = g.text();
                let mut a = new_box(&mut g, i, t, Source::Manual, AnnState::Active, text);
                a.label = Some(labels[g.rng.random_range(0..labels.len())]);
                g.edit(t, ann, doc, "add_box", &[Change::Annotation { before: None, after: Some(a.clone()) }]);
                boxes.push(a);
            }
        }
        let _ = first_edit;
        g.work(&mut t, 5, ann, doc);
        let submit = g.edit(
            t,
            ann,
            doc,
            "submit",
            &[Change::Status { doc, before: DocStatus::InProgress, after: DocStatus::Submitted }],
        );
        let submitted_ms = t;
        g.activity(t + 2_000, ann, doc, "close");
        let is_gold = k % 50 == 7;
        if is_gold {
            let f1 = g.rng.random_range(0.8f32..1.0);
            let cer = g.rng.random_range(0.0f32..0.05);
            g.batch.gold_scores.push((doc, ann, t, [f1, f1, f1, 0.97, cer]));
        }
        // A short pause, and now and then a real break (idle time).
        let pause = if g.rng.random_bool(0.1) { g.rng.random_range(300..1_200) } else { g.rng.random_range(5..40) };
        clock[slot(ann)] = t + pause * 1000 + 2_000;

        let mut status = DocStatus::Submitted;
        let mut reviewer = None;
        if k < unreviewed_from {
            reviewer = Some(rev);
            let mut number = 1;
            let mut start_edit = submit;
            loop {
                let mut rt = next_working(clock[slot(rev)].max(submitted_ms + 600_000), &mut g.rng);
                g.next_round += 1;
                let round = ReviewRound {
                    id: RoundId(g.next_round),
                    doc,
                    number,
                    reviewer: rev,
                    annotator: Some(ann),
                    started_ms: rt,
                    finished_ms: None,
                    verdict: None,
                    comment: String::new(),
                    start_edit,
                };
                g.activity(rt, rev, doc, "open");
                g.edit(
                    rt,
                    rev,
                    doc,
                    "start_review",
                    &[
                        Change::Status { doc, before: DocStatus::Submitted, after: DocStatus::InReview },
                        Change::Round { before: None, after: Some(round.clone()) },
                    ],
                );
                let mut verdicts = Vec::with_capacity(boxes.len());
                let mut wrong = Vec::new();
                for (i, b) in boxes.iter().enumerate() {
                    let v = if number == 1 && g.rng.random_bool(0.04) {
                        wrong.push(i);
                        [Verdict::WrongText, Verdict::WrongLabel, Verdict::WrongBox][g.rng.random_range(0..3)]
                    } else {
                        Verdict::Ok
                    };
                    verdicts.push(BoxVerdict {
                        round: round.id,
                        ann: b.id,
                        rect: b.rect,
                        verdict: v,
                        comment: String::new(),
                        reviewer: rev,
                        ts_ms: rt,
                    });
                }
                for v in verdicts.iter().filter(|v| v.verdict != Verdict::Ok) {
                    g.work(&mut rt, 6, rev, doc);
                    g.edit(rt, rev, doc, "set_verdict", &[Change::BoxVerdict { before: None, after: Some(v.clone()) }]);
                }
                let secs = (boxes.len() as i64 * 2).max(5);
                g.work(&mut rt, secs, rev, doc);
                let ok: Vec<Change> = verdicts
                    .iter()
                    .filter(|v| v.verdict == Verdict::Ok)
                    .map(|v| Change::BoxVerdict { before: None, after: Some(v.clone()) })
                    .collect();
                g.edit(rt, rev, doc, "accept_remaining", &ok);
                for v in &verdicts {
                    g.batch.verdicts.push((
                        v.round,
                        v.ann.0,
                        [v.rect.x0, v.rect.y0, v.rect.x1, v.rect.y1],
                        v.verdict.as_str(),
                        rev,
                        rt,
                    ));
                }
                g.work(&mut rt, 4, rev, doc);
                let reject = number == 1 && !wrong.is_empty() && g.rng.random_bool(0.5);
                let verdict = if reject { DocVerdict::Reject } else { DocVerdict::Accept };
                let done = ReviewRound {
                    finished_ms: Some(rt),
                    verdict: Some(verdict),
                    comment: if reject { "see the marked boxes".into() } else { String::new() },
                    ..round.clone()
                };
                let after = if reject { DocStatus::Rejected } else { DocStatus::Accepted };
                g.edit(
                    rt,
                    rev,
                    doc,
                    "finish_review",
                    &[
                        Change::Round { before: Some(round), after: Some(done.clone()) },
                        Change::Status { doc, before: DocStatus::InReview, after },
                    ],
                );
                g.activity(rt + 1_000, rev, doc, "close");
                g.batch.rounds.push(done);
                g.report.rounds += 1;
                clock[slot(rev)] = rt + g.rng.random_range(5_000..30_000);
                if !reject {
                    status = DocStatus::Accepted;
                    break;
                }
                // Rework: the annotator fixes the marked boxes later that day and resubmits.
                let mut at = rt + g.rng.random_range(600_000..3_600_000);
                g.activity(at, ann, doc, "open");
                for &i in &wrong {
                    g.work(&mut at, secs_per_box, ann, doc);
                    let before = boxes[i].clone();
                    boxes[i].text = g.text();
                    boxes[i].updated_ms = at;
                    g.edit(
                        at,
                        ann,
                        doc,
                        "set_text",
                        &[Change::Annotation { before: Some(before), after: Some(boxes[i].clone()) }],
                    );
                }
                g.work(&mut at, 5, ann, doc);
                start_edit = g.edit(
                    at,
                    ann,
                    doc,
                    "submit",
                    &[Change::Status { doc, before: DocStatus::Rework, after: DocStatus::Submitted }],
                );
                g.activity(at + 1_000, ann, doc, "close");
                number += 1;
            }
        }
        for b in &boxes {
            g.batch.annotations.push(BulkAnnotation {
                id: b.id.0,
                doc,
                rect: rect(b),
                label: b.label,
                text: b.text.clone(),
                source: b.source.to_string(),
                text_source: b.text_source.to_string(),
                state: "active",
                author: b.author,
                created_ms: b.created_ms,
                updated_ms: b.updated_ms,
            });
        }
        g.report.annotations += boxes.len();
        g.batch.doc_states.push((doc, status.as_str(), Some(ann), reviewer, is_gold));
        if (k + 1) % DOCS_PER_BATCH == 0 {
            store.bulk_insert(&g.batch)?;
            g.batch = BulkBatch::default();
        }
    }
    store.bulk_insert(&g.batch)?;
    store.analyze()?;
    store.set_bulk_mode(false)?;
    g.report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(g.report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_workspace_replays_to_its_boxes_and_has_stats() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("synth.sqlite");
        let spec = SynthWorkspaceSpec { users: 10, documents: 60, annotations_target: 1_200, days: 3, seed: 1 };
        let r = generate(path.clone(), &spec).unwrap();
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.annotation_count().unwrap() as usize, r.annotations);
        assert_eq!(store.document_count().unwrap(), 60);
        // The log replays to exactly the stored boxes.
        let doc = DocId(1);
        let mut live = std::collections::HashMap::new();
        for e in store.edits_on(doc).unwrap() {
            for c in e.changes {
                if let Change::Annotation { before, after } = c {
                    match (before, after) {
                        (_, Some(a)) => {
                            live.insert(a.id, a);
                        }
                        (Some(b), None) => {
                            live.remove(&b.id);
                        }
                        _ => {}
                    }
                }
            }
        }
        let mut replayed: Vec<Annotation> = live.into_values().collect();
        replayed.sort_by_key(|a| a.id);
        assert_eq!(replayed, store.annotations(doc).unwrap());
        let rep = crate::app::stats::report(&mut store, &crate::app::stats::StatsQuery::default()).unwrap();
        let boxes: i64 = rep.annotators.iter().map(|a| a.boxes).sum();
        assert_eq!(boxes as usize, r.annotations);
        assert!(rep.annotators.iter().all(|a| a.active_secs > 0 && a.boxes_per_hour.is_some()));
        assert!(rep.reviewers.iter().any(|r| r.rounds_reviewed > 0));
    }
}
