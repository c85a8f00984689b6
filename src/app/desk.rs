//! A person's desk: their [`Session`] on the workspace and the lease they hold, with the
//! reads and writes a window makes, each in one call. The window's [`super::worker::Worker`]
//! owns the desk on its own thread, so none of this ever runs on the frame.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::leases::{Claim, LeaseKeeper};
use super::review::{ReviewItem, changed_since_last_round, review_queue};
use super::{Command, CommandError, Outcome, Session};
use crate::domain::{
    AnnId, Annotation, BoxVerdict, Comment, DocId, DocStatus, Document, EditId, Label, LabelId, Link, ReviewRound,
    Role, User, UserId, Verdict,
};
use crate::store::{DocFilter, ShelfFilter, StoreError};

/// Nudges of the same boxes less than this apart are one undo step (each is saved at once).
pub const NUDGE_MERGE: Duration = Duration::from_millis(1500);

/// Whether `role` may change a document in `status` (in the Annotate view).
pub fn may_edit(role: Role, status: DocStatus) -> bool {
    match role {
        Role::Annotator => status.is_editable_by_annotator(),
        Role::Reviewer => status == DocStatus::InReview || status.is_editable_by_annotator(),
        Role::Lead => status != DocStatus::Accepted,
    }
}

/// Whether opening `doc` takes it to work on (a lease): in the Review view the documents that
/// wait for review or are in it, elsewhere what this person may edit.
pub fn works_on(role: Role, doc: &Document, reviewing_view: bool) -> bool {
    if reviewing_view {
        matches!(doc.status, DocStatus::Submitted | DocStatus::InReview)
    } else {
        may_edit(role, doc.status)
    }
}

/// Review facts of one document.
#[derive(Debug, Clone, Default)]
pub struct DocReview {
    pub doc: Option<DocId>,
    pub rounds: Vec<ReviewRound>,
    /// The unfinished round, if the document is in review.
    pub open_round: Option<ReviewRound>,
    /// Verdicts of the open round, by box.
    pub verdicts: HashMap<AnnId, BoxVerdict>,
    /// The last finished round, and its verdicts that were not ok (pinned for the annotator).
    pub last_finished: Option<ReviewRound>,
    pub pinned: Vec<BoxVerdict>,
    /// Comments of the round that matters now (the open one, else the last finished one).
    pub comments: Vec<Comment>,
    /// Boxes changed since the previous round ended (diff highlighting).
    pub changed: HashSet<AnnId>,
}

/// Everything a window shows of one document, read in one go.
#[derive(Debug, Clone)]
pub struct DocSnapshot {
    pub doc: Document,
    pub anns: Vec<Annotation>,
    pub links: Vec<Link>,
    pub review: DocReview,
}

/// A document opened to work on.
#[derive(Debug, Clone)]
pub struct Opened {
    pub snapshot: DocSnapshot,
    /// Someone else holds it: their name, until when (the store's clock).
    pub held_by: Option<(String, i64)>,
}

/// Which queue to read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueQuery {
    /// The review queue (documents in review by this person, then the submitted ones) instead
    /// of the annotation queue.
    pub review: bool,
    pub status: Option<DocStatus>,
    pub name_contains: String,
    pub annotator: Option<UserId>,
    pub label: Option<LabelId>,
    /// Archived and deleted documents instead of live ones (a lead's housekeeping view).
    pub shelved: bool,
    /// Only documents with a box holding this text (case-insensitive).
    pub text: String,
    /// Only documents with a box given this verdict in review.
    pub verdict: Option<crate::app::housekeeping::VerdictQuery>,
}

/// A queue as read.
#[derive(Debug, Clone, Default)]
pub struct QueueView {
    pub docs: Vec<Document>,
    /// Review queue only: the documents in review by this person, and the waiting items.
    pub in_review: Vec<Document>,
    pub items: Vec<ReviewItem>,
    /// Who else works on what: document → their name.
    pub leased: HashMap<DocId, String>,
}

/// The first read of a window.
pub struct Start {
    pub labels: Vec<Label>,
    pub users: Vec<User>,
    pub queue: QueueView,
    /// Whether the queue is the review queue (a reviewer with nothing to review starts in the
    /// annotation queue).
    pub review: bool,
    pub opened: Option<Result<Opened, CommandError>>,
    /// A lease could not be taken (the sentence); the person still sees their queue.
    pub lease_error: Option<String>,
}

/// What became of one edit.
#[derive(Debug)]
pub enum Sent {
    /// Saved (or refused by a rule): the store's answer.
    Answered(Result<Outcome, CommandError>),
    /// The workspace could not be reached; nothing of it was saved. Later edits are held
    /// back too (they are not even tried), so they are sent in order once it is back.
    Unsent,
}

/// A nudge that later nudges may continue: which boxes, the step's first edit, when.
struct LastNudge {
    boxes: (DocId, Vec<AnnId>),
    head: EditId,
    at: Instant,
}

pub struct Desk {
    pub session: Session,
    pub leases: LeaseKeeper,
    last_nudge: Option<LastNudge>,
    held_back: bool,
    /// The window's provisional ids (negative) of boxes it drew → the ids the store gave them.
    aliases: HashMap<AnnId, AnnId>,
}

impl Desk {
    pub fn new(session: Session) -> Self {
        Self { session, leases: LeaseKeeper::default(), last_nudge: None, held_back: false, aliases: HashMap::new() }
    }

    fn me(&self) -> &User {
        self.session.user()
    }

    /// Applies one edit. `nudge`: an arrow-key nudge, one undo step with the nudges of the same
    /// boxes just before it (see [`NUDGE_MERGE`]). `provisional`: the id the window gave the
    /// box this command creates until the store numbers it; later commands may name it.
    pub fn edit(&mut self, mut cmd: Command, nudge: bool, provisional: Option<AnnId>) -> Sent {
        if self.held_back {
            return Sent::Unsent;
        }
        if !self.aliases.is_empty() {
            let aliases = &self.aliases;
            cmd.map_boxes(|id| aliases.get(&id).copied().unwrap_or(id));
        }
        let nudged = match (&cmd, nudge) {
            (Command::MoveBoxes { doc, ids, .. }, true) => Some((*doc, ids.clone())),
            _ => None,
        };
        let head = self
            .last_nudge
            .as_ref()
            .filter(|n| nudged.as_ref() == Some(&n.boxes) && n.at.elapsed() <= NUDGE_MERGE)
            .map(|n| n.head);
        let is_acceptance = matches!(cmd, Command::FinishReview { verdict: crate::domain::DocVerdict::Accept, .. });
        let result = match head {
            Some(head) => self.session.continue_edit(head, cmd),
            None => self.session.apply(cmd),
        };
        match result {
            Err(CommandError::Store(StoreError::Connection { .. })) => {
                self.held_back = true;
                Sent::Unsent
            }
            result => {
                if let Ok(Outcome::Applied(_)) = &result
                    && is_acceptance
                    && let Some(ws) = self.session.store().workspace()
                {
                    // the reviewed dataset grew: the label model learns from it, off this thread
                    crate::app::labels::retrain_in_background(ws.clone());
                }
                if let Ok(outcome @ Outcome::Applied(edit)) = &result {
                    self.last_nudge =
                        nudged.map(|boxes| LastNudge { boxes, head: head.unwrap_or(edit.id), at: Instant::now() });
                    if let (Some(p), Some(&made)) = (provisional, outcome.created_boxes().first()) {
                        self.aliases.insert(p, made);
                    }
                }
                Sent::Answered(result)
            }
        }
    }

    /// The window sends what was held back: try edits again.
    pub fn resume(&mut self) {
        self.held_back = false;
    }

    /// The document as it is now; from here on, whatever another person writes to it is
    /// newer than what this person saw (the stale-edit guard).
    pub fn snapshot(&mut self, doc: DocId) -> Result<DocSnapshot, CommandError> {
        self.session.mark_seen(doc)?;
        let store = self.session.store();
        Ok(DocSnapshot {
            doc: store.document(doc)?,
            anns: store.annotations(doc)?,
            links: store.links(doc)?,
            review: load_doc_review(store, doc)?,
        })
    }

    /// Opens `doc`: gives back the previous lease and takes one on this document when the
    /// person works on it (see [`works_on`]), then reads it.
    pub fn open(&mut self, doc: DocId, reviewing_view: bool) -> Result<Opened, CommandError> {
        let held_by = self.claim(doc, reviewing_view)?;
        Ok(Opened { snapshot: self.snapshot(doc)?, held_by })
    }

    /// Takes (or gives back) the lease on `doc` as [`Desk::open`] does, without reading it:
    /// `Some` when someone else holds it.
    pub fn claim(&mut self, doc: DocId, reviewing_view: bool) -> Result<Option<(String, i64)>, CommandError> {
        let row = self.session.store().document(doc)?;
        let to_edit = works_on(self.me().role, &row, reviewing_view);
        Ok(match self.leases.claim(&mut self.session, &row, to_edit)? {
            Claim::HeldBy { name, until_ms } => Some((name, until_ms)),
            Claim::Mine(_) | Claim::Viewing => None,
        })
    }

    /// Reads a queue, and who else works on what.
    pub fn queue(&self, q: &QueueQuery) -> Result<QueueView, String> {
        let store = self.session.store();
        let me = self.me().clone();
        let mut view = QueueView::default();
        if q.review {
            let in_review = store
                .documents(&DocFilter { status: Some(DocStatus::InReview), ..Default::default() })
                .map_err(|e| format!("cannot list documents: {e}"))?;
            let items =
                review_queue(store, q.annotator, q.label).map_err(|e| format!("cannot read the review queue: {e}"))?;
            let mut mine = Vec::new();
            for d in in_review {
                let reviewer = store.rounds(d.id).map_err(|e| format!("cannot read the review queue: {e}"))?;
                if me.role == Role::Lead || reviewer.last().map(|r| r.reviewer) == Some(me.id) {
                    mine.push(d);
                }
            }
            view.docs = mine.iter().cloned().chain(items.iter().map(|i| i.doc.clone())).collect();
            view.in_review = mine;
            view.items = items;
        } else {
            let filter = DocFilter {
                status: q.status,
                assignee: None,
                path_contains: Some(q.name_contains.trim().to_string()).filter(|s| !s.is_empty()),
                shelved: if q.shelved { ShelfFilter::Shelved } else { ShelfFilter::Live },
            };
            let annotator = me.role == Role::Annotator;
            view.docs = store
                .documents(&filter)
                .map_err(|e| format!("cannot list documents: {e}"))?
                .into_iter()
                .filter(|d| !annotator || d.assignee.is_none_or(|u| u == me.id))
                .collect();
            if !q.text.trim().is_empty() || q.verdict.is_some() {
                let query = crate::app::housekeeping::SearchQuery {
                    text: Some(q.text.trim().to_string()).filter(|t| !t.is_empty()),
                    verdict: q.verdict,
                    ..Default::default()
                };
                let found = crate::app::housekeeping::matching_boxes(store, &query)
                    .map_err(|e| format!("cannot search the documents: {e}"))?;
                if let Some(found) = found {
                    view.docs.retain(|d| found.contains_key(&d.id));
                }
            }
            // the leads' priorities first; within one priority, import order
            view.docs.sort_by_key(|d| std::cmp::Reverse(d.priority));
        }
        view.leased = self.leased().map_err(|e| format!("cannot tell who works on what: {e}"))?;
        Ok(view)
    }

    /// Who else works on what: document → their name.
    pub fn leased(&self) -> Result<HashMap<DocId, String>, StoreError> {
        let store = self.session.store();
        let leases = store.live_leases()?;
        let me = self.me().id;
        let mut names: HashMap<UserId, String> = HashMap::new();
        let mut out = HashMap::new();
        for l in leases.into_iter().filter(|l| l.holder != me) {
            let name = match names.get(&l.holder) {
                Some(n) => n.clone(),
                None => {
                    let n = store.user(l.holder).map_or_else(|_| "someone".into(), |u| u.name);
                    names.insert(l.holder, n.clone());
                    n
                }
            };
            out.insert(l.doc, name);
        }
        Ok(out)
    }

    /// The first read of a window: labels, people, the queue, and the document to start on:
    /// the first one not yet submitted that nobody else is working on (taken at once, so two
    /// people starting together get different ones), else the first of the queue.
    pub fn start(&mut self, mut q: QueueQuery) -> Result<Start, String> {
        let store = self.session.store();
        let labels = store.labels().map_err(|e| format!("cannot read the labels: {e}"))?;
        let users = store.users().map_err(|e| format!("cannot read the people: {e}"))?;
        let mut queue = self.queue(&q)?;
        if q.review && queue.docs.is_empty() {
            q.review = false;
            queue = self.queue(&q)?;
        }
        let open: Vec<DocId> =
            queue.docs.iter().filter(|d| d.status.is_editable_by_annotator()).map(|d| d.id).collect();
        let (free, lease_error) = match self.leases.claim_first_free(&mut self.session, &open) {
            Ok(lease) => (lease.map(|l| l.doc), None),
            Err(e) => (None, Some(format!("cannot take a document to work on: {e}"))),
        };
        let first = free.or(queue.docs.first().map(|d| d.id));
        let opened = first.map(|id| self.open(id, q.review));
        Ok(Start { labels, users, queue, review: q.review, opened, lease_error })
    }
}

pub fn load_doc_review(store: &crate::store::Store, doc: DocId) -> Result<DocReview, CommandError> {
    let rounds = store.rounds(doc)?;
    let open_round = rounds.last().filter(|r| r.finished_ms.is_none()).cloned();
    let last_finished = rounds.iter().rev().find(|r| r.finished_ms.is_some()).cloned();
    let verdicts = match &open_round {
        Some(r) => store.verdicts(r.id)?.into_iter().map(|v| (v.ann, v)).collect(),
        None => HashMap::new(),
    };
    let pinned = match &last_finished {
        Some(r) => store.verdicts(r.id)?.into_iter().filter(|v| v.verdict != Verdict::Ok).collect(),
        None => Vec::new(),
    };
    let round_now = open_round.as_ref().or(last_finished.as_ref()).map(|r| r.id);
    let comments = store.comments(doc)?.into_iter().filter(|c| round_now.is_none() || c.round == round_now).collect();
    let changed = if last_finished.is_some() {
        changed_since_last_round(store, doc)?.into_iter().collect()
    } else {
        HashSet::new()
    };
    Ok(DocReview { doc: Some(doc), rounds, open_round, verdicts, last_finished, pinned, comments, changed })
}

/// Shows an edit on the window's copy of the boxes before the store has answered (the
/// store's answer replaces the copy). Returns the boxes it touches, which the canvas marks as
/// not saved until then. Edits whose result only the store knows (new boxes, review steps)
/// change nothing here.
pub fn preview(
    cmd: &Command,
    anns: &mut Vec<Annotation>,
    links: &mut Vec<Link>,
    provisional: Option<(AnnId, &User)>,
) -> Vec<AnnId> {
    use crate::domain::{AnnState, Source};
    // a drawn box shows at once under its provisional id
    let drawn = match cmd {
        Command::AddBox { doc, rect, quad, label, text } => Some((*doc, *rect, *quad, *label, text)),
        Command::AddMissingBox { doc, rect, label, text, .. } => Some((*doc, *rect, None, *label, text)),
        _ => None,
    };
    if let (Some((doc, rect, quad, label, text)), Some((id, me))) = (drawn, provisional) {
        let mut a = Annotation::new_imported(doc, rect, label, text.clone(), Some(me.id), 0);
        a.id = id;
        a.quad = quad;
        a.source = Source::Manual;
        a.text_source = Source::Manual;
        anns.push(a);
        return vec![id];
    }
    let mut touched = Vec::new();
    let mut each = |ids: &[AnnId], anns: &mut Vec<Annotation>, f: &dyn Fn(&mut Annotation)| {
        for a in anns.iter_mut().filter(|a| ids.contains(&a.id)) {
            f(a);
            touched.push(a.id);
        }
    };
    match cmd {
        Command::MoveBoxes { ids, dx, dy, .. } => each(ids, anns, &|a| {
            a.rect = a.rect.translated(*dx, *dy);
            a.quad = a.quad.map(|q| q.translated(*dx, *dy));
        }),
        Command::SetGeometry { boxes, .. } => {
            for (id, rect, quad) in boxes {
                each(&[*id], anns, &|a| {
                    a.rect = *rect;
                    a.quad = *quad;
                });
            }
        }
        Command::SetLabel { ids, label, .. } => each(ids, anns, &|a| a.label = *label),
        Command::SetText { id, text, .. } => each(&[*id], anns, &|a| a.text = text.clone()),
        Command::AcceptSuggestions { ids, .. } => each(ids, anns, &|a| a.state = AnnState::Active),
        Command::DeleteBoxes { ids, .. } | Command::RejectSuggestions { ids, .. } => {
            anns.retain(|a| !ids.contains(&a.id));
            links.retain(|l| !ids.contains(&l.from) && !ids.contains(&l.to));
            touched.extend(ids.iter().copied());
        }
        _ => {}
    }
    touched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Rect, Source};

    fn boxes() -> Vec<Annotation> {
        (1..=3)
            .map(|i| {
                let mut a = Annotation::new_imported(
                    DocId(1),
                    Rect::new(10.0 * i as f32, 0.0, 10.0 * i as f32 + 5.0, 5.0),
                    None,
                    format!("b{i}"),
                    None,
                    0,
                );
                a.id = AnnId(i);
                a.source = Source::Manual;
                a
            })
            .collect()
    }

    #[test]
    fn a_preview_shows_the_edit_on_the_boxes_it_names_and_only_those() {
        let mut anns = boxes();
        let mut links = Vec::new();
        let touched = preview(
            &Command::MoveBoxes { doc: DocId(1), ids: vec![AnnId(2)], dx: 3.0, dy: -1.0 },
            &mut anns,
            &mut links,
            None,
        );
        assert_eq!(touched, vec![AnnId(2)]);
        assert_eq!(anns[1].rect, Rect::new(23.0, -1.0, 28.0, 4.0));
        assert_eq!(anns[0].rect, boxes()[0].rect);
        preview(&Command::SetText { doc: DocId(1), id: AnnId(3), text: "Total".into() }, &mut anns, &mut links, None);
        assert_eq!(anns[2].text, "Total");
        let touched =
            preview(&Command::DeleteBoxes { doc: DocId(1), ids: vec![AnnId(1)] }, &mut anns, &mut links, None);
        assert_eq!(touched, vec![AnnId(1)]);
        assert_eq!(anns.iter().map(|a| a.id).collect::<Vec<_>>(), vec![AnnId(2), AnnId(3)]);
        // a box that is not there (deleted meanwhile by someone else) is left alone
        let touched = preview(
            &Command::SetLabel { doc: DocId(1), ids: vec![AnnId(9)], label: Some(LabelId(1)) },
            &mut anns,
            &mut links,
            None,
        );
        assert!(touched.is_empty());
        // a drawn box shows under the window's provisional id
        let me = User { id: UserId(4), name: "ann".into(), role: Role::Annotator };
        let rect = Rect::new(1.0, 1.0, 9.0, 9.0);
        let cmd = Command::AddBox { doc: DocId(1), rect, quad: None, label: None, text: "x".into() };
        let touched = preview(&cmd, &mut anns, &mut links, Some((AnnId(-1), &me)));
        assert_eq!(touched, vec![AnnId(-1)]);
        let drawn = anns.iter().find(|a| a.id == AnnId(-1)).unwrap();
        assert_eq!((drawn.rect, drawn.text.as_str(), drawn.author), (rect, "x", Some(UserId(4))));
    }

    #[test]
    fn what_may_be_edited_follows_role_and_status() {
        assert!(may_edit(Role::Annotator, DocStatus::New));
        assert!(!may_edit(Role::Annotator, DocStatus::Submitted));
        assert!(may_edit(Role::Reviewer, DocStatus::InReview));
        assert!(!may_edit(Role::Lead, DocStatus::Accepted));
        assert!(may_edit(Role::Lead, DocStatus::Submitted));
    }
}

#[cfg(test)]
mod provisional_ids {
    use super::*;
    use crate::domain::Rect;

    #[test]
    fn commands_naming_a_drawn_box_reach_the_store_under_the_id_it_gave() {
        let mut store = crate::store::Store::open_in_memory().unwrap();
        let user = store.add_user("ann", Role::Annotator).unwrap();
        let nd = crate::store::NewDocument {
            path: "a.png".into(),
            sha256: "00".repeat(32),
            page: 0,
            width: 100,
            height: 80,
        };
        let doc = store.add_document(&nd, 0).unwrap().unwrap();
        let mut desk = Desk::new(Session::new(store, user));
        let rect = Rect::new(10.0, 10.0, 60.0, 30.0);
        let add = Command::AddBox { doc, rect, quad: None, label: None, text: String::new() };
        let Sent::Answered(Ok(made)) = desk.edit(add, false, Some(AnnId(-1))) else { panic!("not saved") };
        let real = made.created_boxes()[0];
        assert!(real.0 > 0);
        // typed before the store had numbered the box: it still reaches that box
        let typed = Command::SetText { doc, id: AnnId(-1), text: "INV-7".into() };
        assert!(matches!(desk.edit(typed, false, None), Sent::Answered(Ok(Outcome::Applied(_)))));
        let anns = desk.session.store().annotations(doc).unwrap();
        assert_eq!(anns.iter().find(|a| a.id == real).map(|a| a.text.as_str()), Some("INV-7"));
    }
}
