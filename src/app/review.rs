//! Who may do what (enforced here, not only hidden in the UI), and the review and lead
//! commands: rounds, per-box verdicts, comments, assignment and gold documents.

use crate::app::commands::{Command, CommandError, Session, valid_rect};
use crate::app::scoring::{ScoredBox, agreement};
use crate::domain::{
    AnnId, AnnState, Annotation, BoxVerdict, Change, Comment, CommentId, DocMeta, DocStatus, DocVerdict, Document,
    EditKind, GoldBox, GoldScore, Label, ReviewRound, Role, RoundId, TimestampMs, UserId, Verdict,
};
use crate::store::NewEdit;

fn refuse<T>(why: impl Into<String>) -> Result<T, CommandError> {
    Err(CommandError::Refused(why.into()))
}

impl Session {
    /// The open (unfinished) review round of a document, if any.
    pub fn open_round(&self, doc: &Document) -> Result<Option<ReviewRound>, CommandError> {
        Ok(self.store().rounds(doc.id)?.into_iter().last().filter(|r| r.finished_ms.is_none()))
    }

    /// Did `user` annotate this document (as opposed to reviewing it)?
    pub fn annotated_by(&self, doc: &Document, user: UserId) -> Result<bool, CommandError> {
        if doc.assignee == Some(user) {
            return Ok(true);
        }
        let rounds = self.store().rounds(doc.id)?;
        let in_own_review = |id: i64, ts: TimestampMs| {
            rounds.iter().any(|r| r.reviewer == user && id > r.start_edit && r.finished_ms.is_none_or(|end| ts <= end))
        };
        Ok(self.store().edits_on(doc.id)?.iter().any(|e| {
            e.user == Some(user) && e.kind.is_new_work() && e.action != "import_gt" && !in_own_review(e.id.0, e.ts_ms)
        }))
    }

    /// The role and state rules, checked before any change is built.
    pub(super) fn permit(&self, doc: &Document, cmd: &Command) -> Result<(), CommandError> {
        use Command::*;
        let me = self.user().id;
        // a document set aside is read-only until a lead restores it
        if let Some(shelf) = doc.shelved
            && !matches!(cmd, Shelve { .. } | SetPriority { .. })
        {
            return refuse(format!("document {} is {}; a lead can restore it", doc.id, shelf.as_str()));
        }
        // nobody changes a document someone else is working on (their lease is live)
        if !matches!(
            cmd,
            Assign { .. }
                | AssignReviewer { .. }
                | MarkGold { .. }
                | ReissueGold { .. }
                | AddComment { .. }
                | Shelve { .. }
                | SetPriority { .. }
        ) && let Some(lease) = self.store().live_lease(doc.id)?
            && lease.holder != me
        {
            let who = self.store().user(lease.holder).map_or_else(|_| "someone else".to_string(), |u| u.name);
            return refuse(format!(
                "{who} is working on this document; it is theirs until they move on, their lease runs out or a lead \
                 breaks it"
            ));
        }
        let role = self.user().role;
        let is_reviewer = matches!(role, Role::Reviewer | Role::Lead);
        let status = doc.status;
        match cmd {
            Assign { .. } | AssignReviewer { .. } | MarkGold { .. } | ReissueGold { .. } | SetStatus { .. } => {
                if role != Role::Lead {
                    return refuse("only a lead can change assignments, gold documents or statuses");
                }
            }
            Shelve { .. } | SetPriority { .. } => {
                if role != Role::Lead {
                    return refuse("only a lead can archive, delete, restore or prioritise documents");
                }
            }
            StartReview { .. } => {
                if !is_reviewer {
                    return refuse("only reviewers and leads can review documents");
                }
                if status != DocStatus::Submitted {
                    return refuse(format!(
                        "only submitted documents can be reviewed; this one is {}",
                        status.as_str()
                    ));
                }
                if self.annotated_by(doc, me)? {
                    return refuse("you annotated this document, so someone else must review it");
                }
                if doc.reviewer.is_some_and(|r| r != me) && role != Role::Lead {
                    return refuse("this document is assigned to another reviewer");
                }
            }
            SetVerdict { .. }
            | ClearVerdict { .. }
            | AcceptRemaining { .. }
            | AddMissingBox { .. }
            | FinishReview { .. } => {
                if !is_reviewer {
                    return refuse("only the reviewer can set verdicts or accept and reject documents");
                }
                self.my_round(doc)?;
            }
            AddComment { .. } => {
                if role == Role::Annotator && doc.assignee.is_some_and(|a| a != me) {
                    return refuse("this document is assigned to someone else");
                }
            }
            Submit { .. } => {
                if role == Role::Reviewer {
                    return refuse("reviewers accept or reject documents; annotators submit them");
                }
                if role == Role::Annotator && doc.assignee.is_some_and(|a| a != me) {
                    return refuse("this document is assigned to someone else");
                }
            }
            Undo { .. } | Redo { .. } => {}
            _box_edit => {
                let ok = match role {
                    Role::Annotator => {
                        if doc.assignee.is_some_and(|a| a != me) {
                            return refuse("this document is assigned to someone else");
                        }
                        status.is_editable_by_annotator()
                    }
                    Role::Reviewer => status == DocStatus::InReview && self.my_round(doc).is_ok(),
                    Role::Lead => status != DocStatus::Accepted,
                };
                if !ok {
                    return refuse(format!(
                        "this document is {}; it cannot be edited now",
                        status.label().to_lowercase()
                    ));
                }
            }
        }
        Ok(())
    }

    fn my_round(&self, doc: &Document) -> Result<ReviewRound, CommandError> {
        if doc.status != DocStatus::InReview {
            return refuse("the document is not in review");
        }
        match self.open_round(doc)? {
            Some(r) if r.reviewer == self.user().id || self.user().role == Role::Lead => Ok(r),
            Some(_) => refuse("another reviewer is reviewing this document"),
            None => refuse("the document has no open review round"),
        }
    }

    fn verdict_of(&self, round: RoundId, ann: AnnId) -> Result<Option<BoxVerdict>, CommandError> {
        Ok(self.store().verdicts(round)?.into_iter().find(|v| v.ann == ann))
    }

    fn new_verdict(
        &self,
        round: RoundId,
        a: &Annotation,
        verdict: Verdict,
        comment: String,
        now: TimestampMs,
    ) -> BoxVerdict {
        BoxVerdict { round, ann: a.id, rect: a.rect, verdict, comment, reviewer: self.user().id, ts_ms: now }
    }

    pub(super) fn build_review_changes(
        &self,
        doc: &Document,
        cmd: Command,
        now: TimestampMs,
    ) -> Result<Vec<Change>, CommandError> {
        let me = self.user().id;
        let meta = doc.meta();
        Ok(match cmd {
            Command::StartReview { .. } => {
                let number = self.store().rounds(doc.id)?.len() as u32 + 1;
                let start_edit = self.store().last_edit_id()?.map_or(0, |e| e.0);
                let annotator = match doc.assignee {
                    Some(a) => Some(a),
                    None => {
                        self.store().edits_on(doc.id)?.iter().rev().find(|e| e.action == "submit").and_then(|e| e.user)
                    }
                };
                let round = ReviewRound {
                    id: RoundId(0),
                    doc: doc.id,
                    number,
                    reviewer: me,
                    annotator,
                    started_ms: now,
                    finished_ms: None,
                    verdict: None,
                    comment: String::new(),
                    start_edit,
                };
                let mut out = vec![
                    Change::Status { doc: doc.id, before: doc.status, after: DocStatus::InReview },
                    Change::Round { before: None, after: Some(round) },
                ];
                if doc.reviewer.is_none() {
                    out.push(Change::Meta { doc: doc.id, before: meta, after: DocMeta { reviewer: Some(me), ..meta } });
                }
                out
            }
            Command::SetVerdict { ann, verdict, comment, .. } => {
                let round = self.my_round(doc)?;
                let a = self.boxes(doc.id, &[ann])?.remove(0);
                vec![Change::BoxVerdict {
                    before: self.verdict_of(round.id, ann)?,
                    after: Some(self.new_verdict(round.id, &a, verdict, comment, now)),
                }]
            }
            Command::ClearVerdict { ann, .. } => {
                let round = self.my_round(doc)?;
                vec![Change::BoxVerdict { before: self.verdict_of(round.id, ann)?, after: None }]
            }
            Command::AcceptRemaining { .. } => {
                let round = self.my_round(doc)?;
                let done: Vec<AnnId> = self.store().verdicts(round.id)?.iter().map(|v| v.ann).collect();
                self.store()
                    .annotations(doc.id)?
                    .iter()
                    .filter(|a| a.state == AnnState::Active && !done.contains(&a.id))
                    .map(|a| Change::BoxVerdict {
                        before: None,
                        after: Some(self.new_verdict(round.id, a, Verdict::Ok, String::new(), now)),
                    })
                    .collect()
            }
            Command::AddMissingBox { rect, label, text, comment, .. } => {
                let round = self.my_round(doc)?;
                let rect = valid_rect(rect, doc.width as f32, doc.height as f32)?;
                let mut a = Annotation::new_manual(doc.id, rect, me, now);
                // A negative id is a placeholder the store replaces with the real one in this edit.
                a.id = AnnId(-1);
                a.label = label;
                a.text = text;
                let v = self.new_verdict(round.id, &a, Verdict::Missing, comment, now);
                vec![
                    Change::Annotation { before: None, after: Some(a) },
                    Change::BoxVerdict { before: None, after: Some(v) },
                ]
            }
            Command::AddComment { ann, text, .. } => {
                let text = text.trim().to_string();
                if text.is_empty() {
                    return refuse("a comment needs some text");
                }
                if let Some(a) = ann {
                    self.boxes(doc.id, &[a])?;
                }
                let round = self.store().rounds(doc.id)?.last().map(|r| r.id);
                vec![Change::Comment {
                    before: None,
                    after: Some(Comment { id: CommentId(0), doc: doc.id, round, ann, author: me, ts_ms: now, text }),
                }]
            }
            Command::FinishReview { verdict, comment, .. } => {
                let round = self.my_round(doc)?;
                let comment = comment.trim().to_string();
                if verdict == DocVerdict::Reject && comment.is_empty() {
                    return refuse("rejecting needs a comment that tells the annotator what to fix");
                }
                let after_status = match verdict {
                    DocVerdict::Accept => DocStatus::Accepted,
                    DocVerdict::Reject => DocStatus::Rejected,
                };
                let finished = ReviewRound { finished_ms: Some(now), verdict: Some(verdict), comment, ..round.clone() };
                vec![
                    Change::Round { before: Some(round), after: Some(finished) },
                    Change::Status { doc: doc.id, before: doc.status, after: after_status },
                ]
            }
            Command::Shelve { shelf, .. } => {
                if shelf.is_some() && doc.shelved.is_some() {
                    return refuse(format!(
                        "document {} is already {}",
                        doc.id,
                        doc.shelved.map_or("", |s| s.as_str())
                    ));
                }
                if shelf.is_none() && doc.shelved.is_none() {
                    return refuse(format!("document {} is not archived or deleted", doc.id));
                }
                vec![Change::Meta { doc: doc.id, before: meta, after: DocMeta { shelved: shelf, ..meta } }]
            }
            Command::SetPriority { priority, .. } => {
                vec![Change::Meta { doc: doc.id, before: meta, after: DocMeta { priority, ..meta } }]
            }
            Command::Assign { annotator, .. } => {
                if let Some(u) = annotator {
                    self.store().user(u)?;
                }
                vec![Change::Meta { doc: doc.id, before: meta, after: DocMeta { assignee: annotator, ..meta } }]
            }
            Command::AssignReviewer { reviewer, .. } => {
                if let Some(u) = reviewer {
                    let user = self.store().user(u)?;
                    if user.role == Role::Annotator {
                        return refuse(format!("{} is an annotator, not a reviewer", user.name));
                    }
                    if self.annotated_by(doc, u)? {
                        return refuse(format!("{} annotated this document and cannot review it", user.name));
                    }
                }
                vec![Change::Meta { doc: doc.id, before: meta, after: DocMeta { reviewer, ..meta } }]
            }
            Command::MarkGold { .. } => {
                let gold: Vec<GoldBox> = self
                    .store()
                    .annotations(doc.id)?
                    .into_iter()
                    .filter(|a| a.state == AnnState::Active)
                    .map(|a| GoldBox { rect: a.rect, label: a.label, text: a.text })
                    .collect();
                if gold.is_empty() {
                    return refuse("a gold document needs at least one box");
                }
                vec![
                    Change::Gold { doc: doc.id, before: self.store().gold_boxes(doc.id)?, after: gold },
                    Change::Meta { doc: doc.id, before: meta, after: DocMeta { is_gold: true, ..meta } },
                ]
            }
            Command::ReissueGold { annotator, .. } => {
                if !doc.is_gold {
                    return refuse("only gold documents can be reissued");
                }
                let mut out: Vec<Change> = self
                    .store()
                    .links(doc.id)?
                    .into_iter()
                    .map(|l| Change::Link { before: Some(l), after: None })
                    .collect();
                out.extend(
                    self.store()
                        .annotations(doc.id)?
                        .into_iter()
                        .map(|a| Change::Annotation { before: Some(a), after: None }),
                );
                out.push(Change::Status { doc: doc.id, before: doc.status, after: DocStatus::New });
                out.push(Change::Meta {
                    doc: doc.id,
                    before: meta,
                    after: DocMeta { assignee: Some(annotator), reviewer: None, is_gold: true, ..meta },
                });
                out
            }
            other => return refuse(format!("{} is not a review command", other.action())),
        })
    }

    /// On submit of a gold document: the annotator's score against the gold answer.
    pub(super) fn gold_score_change(&self, doc: &Document, now: TimestampMs) -> Result<Option<Change>, CommandError> {
        if !doc.is_gold {
            return Ok(None);
        }
        let gold = self.store().gold_boxes(doc.id)?;
        if gold.is_empty() {
            return Ok(None);
        }
        let truth: Vec<ScoredBox> =
            gold.into_iter().map(|g| ScoredBox { rect: g.rect, label: g.label, text: g.text }).collect();
        let pred: Vec<ScoredBox> = self
            .store()
            .annotations(doc.id)?
            .into_iter()
            .filter(|a| a.state == AnnState::Active)
            .map(|a| ScoredBox { rect: a.rect, label: a.label, text: a.text })
            .collect();
        let a = agreement(&truth, &pred, 0.5);
        let score = GoldScore {
            doc: doc.id,
            user: self.user().id,
            ts_ms: now,
            precision: a.boxes.precision(),
            recall: a.boxes.recall(),
            f1: a.boxes.f1(),
            label_accuracy: a.labels.accuracy(),
            cer: a.text.rate(),
        };
        Ok(Some(Change::GoldScore { before: None, after: Some(score) }))
    }

    /// Adds, changes or removes a label of the schema (leads only); logged like any edit.
    pub fn edit_label(&mut self, before: Option<Label>, after: Option<Label>) -> Result<(), CommandError> {
        if self.user().role != Role::Lead {
            return refuse("only a lead can edit the label schema");
        }
        let now = self.now();
        let user = Some(self.user().id);
        self.store_mut().apply(NewEdit {
            ts_ms: now,
            user,
            doc: None,
            action: "edit_label".into(),
            kind: EditKind::Do,
            changes: vec![Change::Label { before, after }],
        })?;
        Ok(())
    }
}

/// One line of the review queue.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewItem {
    pub doc: Document,
    /// When it was (last) submitted.
    pub submitted_ms: TimestampMs,
    pub annotator: Option<UserId>,
    /// Rounds already done on it (0 for a first review).
    pub rounds_done: usize,
    pub boxes: usize,
}

/// Submitted documents, oldest submission first, optionally only one annotator's or only those
/// with a box of a given label.
pub fn review_queue(
    store: &crate::store::Store,
    annotator: Option<UserId>,
    label: Option<crate::domain::LabelId>,
) -> Result<Vec<ReviewItem>, CommandError> {
    let filter = crate::store::DocFilter { status: Some(DocStatus::Submitted), ..Default::default() };
    let mut items = Vec::new();
    for doc in store.documents(&filter)? {
        let edits = store.edits_on(doc.id)?;
        let submit = edits.iter().rev().find(|e| e.action == "submit");
        let who = doc.assignee.or(submit.and_then(|e| e.user));
        if annotator.is_some() && who != annotator {
            continue;
        }
        let anns = store.annotations(doc.id)?;
        if label.is_some() && !anns.iter().any(|a| a.label == label) {
            continue;
        }
        items.push(ReviewItem {
            submitted_ms: submit.map_or(doc.imported_ms, |e| e.ts_ms),
            annotator: who,
            rounds_done: store.rounds(doc.id)?.len(),
            boxes: anns.len(),
            doc,
        });
    }
    items.sort_by_key(|i| (i.submitted_ms, i.doc.id));
    Ok(items)
}

/// A lead hands out unassigned submitted documents to `reviewers` in turn, never to someone who
/// annotated the document. Returns how many were assigned.
pub fn assign_round_robin(session: &mut Session, reviewers: &[UserId]) -> Result<usize, CommandError> {
    if reviewers.is_empty() {
        return refuse("choose at least one reviewer");
    }
    let queue = review_queue(session.store(), None, None)?;
    let mut next = 0;
    let mut assigned = 0;
    for item in queue.into_iter().filter(|i| i.doc.reviewer.is_none()) {
        for k in 0..reviewers.len() {
            let r = reviewers[(next + k) % reviewers.len()];
            if !session.annotated_by(&item.doc, r)? {
                session.apply(Command::AssignReviewer { doc: item.doc.id, reviewer: Some(r) })?;
                next = (next + k + 1) % reviewers.len();
                assigned += 1;
                break;
            }
        }
    }
    Ok(assigned)
}

/// Boxes whose annotation changed since the previous round ended (for diff highlighting).
pub fn changed_since_last_round(
    store: &crate::store::Store,
    doc: crate::domain::DocId,
) -> Result<Vec<AnnId>, CommandError> {
    let rounds = store.rounds(doc)?;
    let Some(prev) = rounds.iter().rev().find(|r| r.finished_ms.is_some()) else { return Ok(vec![]) };
    let end = prev.finished_ms.unwrap_or(i64::MAX);
    let mut ids: Vec<AnnId> = store
        .edits_on(doc)?
        .iter()
        .filter(|e| e.ts_ms > end)
        .flat_map(|e| e.changes.iter())
        .filter_map(|c| match c {
            Change::Annotation { before, after } => after.as_ref().or(before.as_ref()).map(|a| a.id),
            _ => None,
        })
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}
