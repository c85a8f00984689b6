//! Commands: everything a user can do to a workspace, applied in one place. Each command is
//! one finished gesture → one edit in the log → one undo step.

use std::collections::HashSet;

use crate::domain::{
    AnnId, AnnState, Annotation, BoxFlags, Change, DocId, DocStatus, DocVerdict, Document, Edit, EditId, EditKind,
    LabelId, Link, LinkId, LinkKind, Quad, Rect, Shelf, Source, TimestampMs, UndoStacks, User, UserId, Verdict,
};
use crate::store::{NewEdit, Store, StoreError};

/// A suggestion from a pre-annotation source, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SuggestionInput {
    pub rect: Rect,
    pub quad: Option<Quad>,
    pub text: Option<String>,
    pub score: f32,
    /// The field label suggested with the box, and its confidence.
    pub label: Option<(LabelId, f32)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    AddBox {
        doc: DocId,
        rect: Rect,
        quad: Option<Quad>,
        label: Option<LabelId>,
        text: String,
    },
    /// Move/resize/nudge: new geometry for some boxes, one gesture.
    SetGeometry {
        doc: DocId,
        boxes: Vec<(AnnId, Rect, Option<Quad>)>,
    },
    MoveBoxes {
        doc: DocId,
        ids: Vec<AnnId>,
        dx: f32,
        dy: f32,
    },
    SetLabel {
        doc: DocId,
        ids: Vec<AnnId>,
        label: Option<LabelId>,
    },
    SetText {
        doc: DocId,
        id: AnnId,
        text: String,
    },
    DeleteBoxes {
        doc: DocId,
        ids: Vec<AnnId>,
    },
    DuplicateBoxes {
        doc: DocId,
        ids: Vec<AnnId>,
        dx: f32,
        dy: f32,
    },
    AddLink {
        doc: DocId,
        from: AnnId,
        to: AnnId,
        kind: LinkKind,
    },
    DeleteLinks {
        doc: DocId,
        ids: Vec<LinkId>,
    },
    /// Adds machine suggestions, skipping any that overlap an existing box (IoU ≥ `skip_iou`).
    AddSuggestions {
        doc: DocId,
        source: Source,
        items: Vec<SuggestionInput>,
        skip_iou: f32,
    },
    /// Removes machine suggestions and adds new ones in one step (a model pass refining its
    /// first, unread boxes into read and split lines). New items do not avoid the boxes in
    /// `pass_boxes` (the same pass's boxes that are still to be replaced).
    ReplaceSuggestions {
        doc: DocId,
        remove: Vec<AnnId>,
        pass_boxes: Vec<AnnId>,
        source: Source,
        items: Vec<SuggestionInput>,
        skip_iou: f32,
    },
    AcceptSuggestions {
        doc: DocId,
        ids: Vec<AnnId>,
    },
    RejectSuggestions {
        doc: DocId,
        ids: Vec<AnnId>,
    },
    /// Fill text from a recogniser, only where the text is empty or was machine-made.
    FillText {
        doc: DocId,
        texts: Vec<(AnnId, String, f32)>,
        source: Source,
    },
    /// Machine-suggested field labels (label, confidence) for boxes that have no label yet;
    /// a box that has one, from anyone, keeps it.
    SuggestLabels {
        doc: DocId,
        labels: Vec<(AnnId, LabelId, f32)>,
    },
    Submit {
        doc: DocId,
    },
    SetStatus {
        doc: DocId,
        to: DocStatus,
    },
    Undo {
        doc: DocId,
    },
    Redo {
        doc: DocId,
    },
    // ---- review (reviewers and leads) ----
    /// Takes a submitted document into review, opening a new round.
    StartReview {
        doc: DocId,
    },
    SetVerdict {
        doc: DocId,
        ann: AnnId,
        verdict: Verdict,
        comment: String,
    },
    ClearVerdict {
        doc: DocId,
        ann: AnnId,
    },
    /// Marks every box without a verdict in this round as ok.
    AcceptRemaining {
        doc: DocId,
    },
    /// The reviewer draws a box the annotator missed (verdict `missing`).
    AddMissingBox {
        doc: DocId,
        rect: Rect,
        label: Option<LabelId>,
        text: String,
        comment: String,
    },
    AddComment {
        doc: DocId,
        ann: Option<AnnId>,
        text: String,
    },
    /// Accept, or reject with a required comment (back to the annotator).
    FinishReview {
        doc: DocId,
        verdict: DocVerdict,
        comment: String,
    },
    // ---- leads ----
    Assign {
        doc: DocId,
        annotator: Option<UserId>,
    },
    AssignReviewer {
        doc: DocId,
        reviewer: Option<UserId>,
    },
    /// Makes the document's current boxes its gold answer.
    MarkGold {
        doc: DocId,
    },
    /// Clears a gold document's boxes and hands it, unmarked, to an annotator.
    ReissueGold {
        doc: DocId,
        annotator: UserId,
    },
    /// Archives or deletes a document (a soft delete), or restores it (`shelf: None`).
    Shelve {
        doc: DocId,
        shelf: Option<Shelf>,
    },
    /// Where the document comes in the annotation queue: higher first, 0 normal.
    SetPriority {
        doc: DocId,
        priority: i64,
    },
    /// Sets or clears a flag (difficult, illegible, handwritten) on boxes.
    SetFlags {
        doc: DocId,
        ids: Vec<AnnId>,
        flag: BoxFlags,
        on: bool,
    },
    /// Replaces the document's tags (checked against the workspace's tag schema).
    SetTags {
        doc: DocId,
        tags: std::collections::BTreeMap<String, String>,
    },
    /// Turns the page `quarters` quarter turns clockwise (1–3); its boxes turn with it.
    RotatePage {
        doc: DocId,
        quarters: u8,
    },
}

impl Command {
    /// Whether the command is work on the document's annotation, which starts (re)work on a
    /// fresh or rejected document. Setting a page up (turning it upright, tagging it) and a
    /// lead's housekeeping are not: the document's status stays.
    pub fn is_annotation_work(&self) -> bool {
        use Command::*;
        !matches!(
            self,
            Assign { .. }
                | AssignReviewer { .. }
                | Shelve { .. }
                | SetPriority { .. }
                | RotatePage { .. }
                | SetTags { .. }
        )
    }

    pub fn doc(&self) -> DocId {
        use Command::*;
        match self {
            AddBox { doc, .. }
            | SetGeometry { doc, .. }
            | MoveBoxes { doc, .. }
            | SetLabel { doc, .. }
            | SetText { doc, .. }
            | DeleteBoxes { doc, .. }
            | DuplicateBoxes { doc, .. }
            | AddLink { doc, .. }
            | DeleteLinks { doc, .. }
            | AddSuggestions { doc, .. }
            | ReplaceSuggestions { doc, .. }
            | AcceptSuggestions { doc, .. }
            | RejectSuggestions { doc, .. }
            | FillText { doc, .. }
            | SuggestLabels { doc, .. }
            | Submit { doc }
            | SetStatus { doc, .. }
            | Undo { doc }
            | Redo { doc }
            | StartReview { doc }
            | SetVerdict { doc, .. }
            | ClearVerdict { doc, .. }
            | AcceptRemaining { doc }
            | AddMissingBox { doc, .. }
            | AddComment { doc, .. }
            | FinishReview { doc, .. }
            | Assign { doc, .. }
            | AssignReviewer { doc, .. }
            | MarkGold { doc }
            | ReissueGold { doc, .. }
            | Shelve { doc, .. }
            | SetPriority { doc, .. }
            | SetFlags { doc, .. }
            | SetTags { doc, .. }
            | RotatePage { doc, .. } => *doc,
        }
    }

    /// Rewrites every box id the command names with `f` (a window's provisional ids for
    /// boxes it drew before the store numbered them).
    pub fn map_boxes(&mut self, f: impl Fn(AnnId) -> AnnId) {
        use Command::*;
        let all = |ids: &mut Vec<AnnId>| ids.iter_mut().for_each(|id| *id = f(*id));
        match self {
            SetGeometry { boxes, .. } => boxes.iter_mut().for_each(|b| b.0 = f(b.0)),
            MoveBoxes { ids, .. }
            | SetLabel { ids, .. }
            | DeleteBoxes { ids, .. }
            | DuplicateBoxes { ids, .. }
            | AcceptSuggestions { ids, .. }
            | RejectSuggestions { ids, .. }
            | SetFlags { ids, .. } => all(ids),
            ReplaceSuggestions { remove, pass_boxes, .. } => {
                all(remove);
                all(pass_boxes);
            }
            SetText { id, .. } => *id = f(*id),
            AddLink { from, to, .. } => {
                *from = f(*from);
                *to = f(*to);
            }
            FillText { texts, .. } => texts.iter_mut().for_each(|t| t.0 = f(t.0)),
            SuggestLabels { labels, .. } => labels.iter_mut().for_each(|t| t.0 = f(t.0)),
            SetVerdict { ann, .. } | ClearVerdict { ann, .. } => *ann = f(*ann),
            AddComment { ann, .. } => *ann = ann.map(&f),
            AddBox { .. }
            | DeleteLinks { .. }
            | AddSuggestions { .. }
            | Submit { .. }
            | SetStatus { .. }
            | Undo { .. }
            | Redo { .. }
            | StartReview { .. }
            | AcceptRemaining { .. }
            | AddMissingBox { .. }
            | FinishReview { .. }
            | Assign { .. }
            | AssignReviewer { .. }
            | MarkGold { .. }
            | ReissueGold { .. }
            | Shelve { .. }
            | SetPriority { .. }
            | SetTags { .. }
            | RotatePage { .. } => {}
        }
    }

    /// The name recorded in the edit log.
    pub fn action(&self) -> &'static str {
        use Command::*;
        match self {
            AddBox { .. } => "add_box",
            SetGeometry { .. } => "set_geometry",
            MoveBoxes { .. } => "move_boxes",
            SetLabel { .. } => "set_label",
            SetText { .. } => "set_text",
            DeleteBoxes { .. } => "delete_boxes",
            DuplicateBoxes { .. } => "duplicate_boxes",
            AddLink { .. } => "add_link",
            DeleteLinks { .. } => "delete_links",
            AddSuggestions { .. } => "add_suggestions",
            ReplaceSuggestions { .. } => "replace_suggestions",
            AcceptSuggestions { .. } => "accept_suggestions",
            RejectSuggestions { .. } => "reject_suggestions",
            FillText { .. } => "fill_text",
            SuggestLabels { .. } => "suggest_labels",
            Submit { .. } => "submit",
            SetStatus { .. } => "set_status",
            Undo { .. } => "undo",
            Redo { .. } => "redo",
            StartReview { .. } => "start_review",
            SetVerdict { .. } => "set_verdict",
            ClearVerdict { .. } => "clear_verdict",
            AcceptRemaining { .. } => "accept_remaining",
            AddMissingBox { .. } => "add_missing_box",
            AddComment { .. } => "add_comment",
            FinishReview { .. } => "finish_review",
            Assign { .. } => "assign",
            AssignReviewer { .. } => "assign_reviewer",
            MarkGold { .. } => "mark_gold",
            ReissueGold { .. } => "reissue_gold",
            Shelve { shelf: Some(Shelf::Archived), .. } => "doc_archive",
            Shelve { shelf: Some(Shelf::Deleted), .. } => "doc_delete",
            Shelve { shelf: None, .. } => "doc_restore",
            SetPriority { .. } => "doc_priority",
            SetFlags { .. } => "set_flags",
            SetTags { .. } => "set_tags",
            RotatePage { .. } => "rotate_page",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A rule refused the command; the sentence says why.
    #[error("{0}")]
    Refused(String),
    #[error("nothing to undo")]
    NothingToUndo,
    #[error("nothing to redo")]
    NothingToRedo,
}

/// What applying a command did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Applied(Edit),
    /// The command changed nothing (e.g. a move by zero pixels) and was not logged.
    NoChange,
}

impl Outcome {
    /// Ids of boxes the command created, in order.
    pub fn created_boxes(&self) -> Vec<AnnId> {
        match self {
            Outcome::Applied(e) => e
                .changes
                .iter()
                .filter_map(|c| match c {
                    Change::Annotation { before: None, after: Some(a) } => Some(a.id),
                    _ => None,
                })
                .collect(),
            Outcome::NoChange => vec![],
        }
    }
}

/// A user's working session on a workspace: the one place commands are applied.
pub struct Session {
    store: Store,
    user: User,
    /// Machine work (pre-annotation run from the command line) rather than a person's.
    machine: bool,
    clock: Box<dyn Fn() -> TimestampMs + Send>,
    /// Per document, the newest edit of it the person has seen (see [`Session::mark_seen`]).
    seen: std::collections::HashMap<DocId, Option<EditId>>,
}

/// The name shown for edits no person made (`Session::machine`).
pub const MACHINE_NAME: &str = "machine";

pub fn system_now_ms() -> TimestampMs {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl Session {
    pub fn new(store: Store, user: User) -> Self {
        Self { store, user, machine: false, clock: Box::new(system_now_ms), seen: Default::default() }
    }

    /// A session for machine work: pre-annotation that no person asked for in the window (the
    /// command line's `prelabel` without `--user`). Its edits are logged under no user and its
    /// suggestions have no author, so no person's throughput, undo history or role is touched;
    /// it may only add suggestions and fill machine text on documents still being annotated,
    /// and never changes a document's status.
    pub fn machine(store: Store) -> Self {
        // a placeholder that is never written: every write uses `actor()`, which is None here
        let user = User { id: UserId(0), name: MACHINE_NAME.into(), role: crate::domain::Role::Annotator };
        Self { store, user, machine: true, clock: Box::new(system_now_ms), seen: Default::default() }
    }

    pub fn is_machine(&self) -> bool {
        self.machine
    }

    /// Who the log records for this session's edits: the person, or no one for machine work.
    pub fn actor(&self) -> Option<UserId> {
        (!self.machine).then_some(self.user.id)
    }

    /// Replaces the clock (tests and replays).
    pub fn with_clock(mut self, clock: impl Fn() -> TimestampMs + Send + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    pub fn into_store(self) -> Store {
        self.store
    }

    pub fn user(&self) -> &User {
        &self.user
    }

    pub fn now(&self) -> TimestampMs {
        (self.clock)()
    }

    /// Records that the person is about to be shown `doc` as it stands now: from here on, an
    /// edit of theirs on it is refused (a conflict, nothing written) if anyone else's edit
    /// reached the document first. Call it before reading what is shown. Without it (scripts,
    /// the command line) edits apply to the document as it is when they arrive.
    pub fn mark_seen(&mut self, doc: DocId) -> Result<(), CommandError> {
        let last = self.store.last_edit_on(doc)?;
        self.seen.insert(doc, last);
        Ok(())
    }

    /// Undo/redo stacks of this user on a document, from the persisted log.
    pub fn undo_stacks(&self, doc: DocId) -> Result<UndoStacks, CommandError> {
        Ok(UndoStacks::replay(&self.store.edits_for(doc, self.user.id)?))
    }

    /// Applies one command: checks the rules, builds the changes, writes them in one transaction.
    pub fn apply(&mut self, cmd: Command) -> Result<Outcome, CommandError> {
        self.apply_as(cmd, EditKind::Do)
    }

    /// Applies `cmd` as part of the step that edit `head` began (see [`EditKind::Continues`]):
    /// written and durable on its own, undone and redone together with `head`.
    pub fn continue_edit(&mut self, head: EditId, cmd: Command) -> Result<Outcome, CommandError> {
        if matches!(cmd, Command::Undo { .. } | Command::Redo { .. }) {
            return Err(CommandError::Refused("undo and redo cannot continue an edit".into()));
        }
        self.apply_as(cmd, EditKind::Continues(head))
    }

    fn apply_as(&mut self, cmd: Command, new_work: EditKind) -> Result<Outcome, CommandError> {
        let doc_id = cmd.doc();
        let doc = self.store.document(doc_id)?;
        let now = self.now();
        let action = cmd.action();
        let starts_work = cmd.is_annotation_work();
        let (kind, mut changes) = match cmd {
            Command::Undo { .. } | Command::Redo { .. } if self.machine => {
                return Err(CommandError::Refused("machine work has no undo history; reject its suggestions".into()));
            }
            Command::Undo { .. } => {
                let stacks = self.undo_stacks(doc_id)?;
                let step = stacks.undoable.last().ok_or(CommandError::NothingToUndo)?;
                // the step's edits undone newest first, each one's changes in reverse
                let mut changes = Vec::new();
                for &id in step.iter().rev() {
                    changes.extend(self.store.edit(id)?.changes.iter().rev().map(Change::inverse));
                }
                (EditKind::Undo(step[0]), changes)
            }
            Command::Redo { .. } => {
                let stacks = self.undo_stacks(doc_id)?;
                let step = stacks.redoable.last().ok_or(CommandError::NothingToRedo)?;
                let mut changes = Vec::new();
                for &id in step {
                    changes.extend(self.store.edit(id)?.changes);
                }
                (EditKind::Redo(step[0]), changes)
            }
            other => {
                if self.machine {
                    permit_machine(&doc, &other)?;
                } else {
                    self.permit(&doc, &other)?;
                }
                (new_work, self.build_changes(&doc, other, now)?)
            }
        };
        changes.retain(|c| !c.is_noop());
        if changes.is_empty() {
            return Ok(Outcome::NoChange);
        }
        // The first edit of a fresh or rejected document starts (re)work on it, in the same step.
        // Machine suggestions are not work: the document stays as it is.
        if kind.is_new_work()
            && !self.machine
            && starts_work
            && !changes.iter().any(|c| matches!(c, Change::Status { .. }))
        {
            let next = match doc.status {
                DocStatus::New => Some(DocStatus::InProgress),
                DocStatus::Rejected => Some(DocStatus::Rework),
                _ => None,
            };
            if let Some(after) = next {
                changes.push(Change::Status { doc: doc_id, before: doc.status, after });
            }
        }
        let edit =
            NewEdit { ts_ms: now, user: self.actor(), doc: Some(doc_id), action: action.to_string(), kind, changes };
        let edit = match self.seen.get(&doc_id) {
            Some(&seen) => {
                let guard = crate::store::Guard::UnchangedSince { doc: doc_id, seen, by: self.actor() };
                self.store.apply_guarded(edit, guard)?.ok_or_else(|| StoreError::Invalid("edit refused".into()))?
            }
            None => self.store.apply(edit)?,
        };
        // what this person sees next includes their own edit
        if let Some(seen) = self.seen.get_mut(&doc_id) {
            *seen = Some(edit.id);
        }
        Ok(Outcome::Applied(edit))
    }

    /// Suggestion boxes for `items`, skipping any that overlap `existing` boxes or each other.
    #[allow(clippy::too_many_arguments)]
    fn suggestion_changes(
        &self,
        d: DocId,
        existing: &[Rect],
        source: Source,
        items: Vec<SuggestionInput>,
        skip_iou: f32,
        w: f32,
        h: f32,
        now: TimestampMs,
        // a retired label is never suggested anew: such a box comes without one
        retired: &HashSet<LabelId>,
    ) -> Vec<Change> {
        let mut added: Vec<Rect> = Vec::new();
        let mut out = Vec::new();
        for mut s in items {
            if s.label.is_some_and(|(l, _)| retired.contains(&l)) {
                s.label = None;
            }
            let Ok(rect) = valid_rect(s.rect, w, h) else {
                continue;
            };
            let overlaps = |r: &Rect| r.iou(&rect) >= skip_iou || contains_most(r, &rect);
            if existing.iter().any(overlaps) || added.iter().any(overlaps) {
                continue;
            }
            added.push(rect);
            out.push(Change::Annotation {
                before: None,
                after: Some(Annotation {
                    id: AnnId(0),
                    doc: d,
                    rect,
                    quad: s.quad,
                    label: s.label.map(|l| l.0),
                    text: s.text.unwrap_or_default(),
                    source: source.clone(),
                    // Machine-made (or still empty) text: re-recognition may refresh it.
                    text_source: source.clone(),
                    confidence: Some(s.score),
                    label_suggested: s.label.map(|l| l.0),
                    label_conf: s.label.map(|l| l.1),
                    state: AnnState::Suggested,
                    author: self.actor(),
                    created_ms: now,
                    updated_ms: now,
                    flags: Default::default(),
                }),
            });
        }
        out
    }

    pub(super) fn boxes(&self, doc: DocId, ids: &[AnnId]) -> Result<Vec<Annotation>, CommandError> {
        let wanted: HashSet<AnnId> = ids.iter().copied().collect();
        // only the boxes asked for: on a server, a page of hundreds of boxes is not sent per edit
        let found = self.store.annotations_by_id(doc, ids)?;
        if found.len() != wanted.len() {
            return Err(CommandError::Refused("some of these boxes no longer exist on this document".into()));
        }
        Ok(found)
    }

    fn retired_labels(&self) -> Result<HashSet<LabelId>, CommandError> {
        Ok(self.store.labels()?.into_iter().filter(|l| l.retired).map(|l| l.id).collect())
    }

    /// A label a person may give a box now: one of the schema, not retired.
    fn givable(&self, label: LabelId) -> Result<(), CommandError> {
        let l = self.store.label(label)?;
        if l.retired {
            return Err(CommandError::Refused(format!(
                "{} is retired: it stays on the boxes that have it but cannot be given anew",
                l.name
            )));
        }
        Ok(())
    }

    fn build_changes(&self, doc: &Document, cmd: Command, now: TimestampMs) -> Result<Vec<Change>, CommandError> {
        let (w, h) = (doc.width as f32, doc.height as f32);
        let update = |before: &Annotation, f: &dyn Fn(&mut Annotation)| {
            let mut after = before.clone();
            f(&mut after);
            if after != *before {
                after.updated_ms = now;
            }
            Change::Annotation { before: Some(before.clone()), after: Some(after) }
        };
        let changes = match cmd {
            Command::AddBox { doc: d, rect, quad, label, text } => {
                let rect = valid_rect(rect, w, h)?;
                if let Some(l) = label {
                    self.givable(l)?;
                }
                let mut a = Annotation::new_manual(d, rect, self.user.id, now);
                a.quad = quad;
                a.label = label;
                a.text = text;
                vec![Change::Annotation { before: None, after: Some(a) }]
            }
            Command::SetGeometry { doc: d, boxes } => {
                let ids: Vec<AnnId> = boxes.iter().map(|b| b.0).collect();
                let current = self.boxes(d, &ids)?;
                let mut out = Vec::new();
                for (id, rect, quad) in boxes {
                    let rect = valid_rect(rect, w, h)?;
                    if let Some(before) = current.iter().find(|a| a.id == id) {
                        out.push(update(before, &|a| {
                            a.rect = rect;
                            a.quad = quad;
                        }));
                    }
                }
                out
            }
            Command::MoveBoxes { doc: d, ids, dx, dy } => self
                .boxes(d, &ids)?
                .iter()
                .map(|b| {
                    // Clamp the shift so the box stays on the page rather than shrinking it.
                    let dx = dx.clamp(-b.rect.x0, w - b.rect.x1);
                    let dy = dy.clamp(-b.rect.y0, h - b.rect.y1);
                    update(b, &|a| {
                        a.rect = a.rect.translated(dx, dy);
                        a.quad = a.quad.map(|q| q.translated(dx, dy));
                    })
                })
                .collect(),
            Command::SetLabel { doc: d, ids, label } => {
                if let Some(l) = label {
                    self.givable(l)?;
                }
                // a person's label: no longer the machine's suggestion, whatever it was
                self.boxes(d, &ids)?
                    .iter()
                    .map(|b| {
                        update(b, &|a| {
                            a.label = label;
                            a.label_conf = None;
                        })
                    })
                    .collect()
            }
            Command::SetText { doc: d, id, text } => self
                .boxes(d, &[id])?
                .iter()
                .map(|b| {
                    update(b, &|a| {
                        a.text = text.clone();
                        a.text_source = Source::Manual;
                    })
                })
                .collect(),
            Command::DeleteBoxes { doc: d, ids } => {
                let doomed: HashSet<AnnId> = ids.iter().copied().collect();
                let boxes = self.boxes(d, &ids)?;
                // Links go first so the foreign keys hold; undo restores them after the boxes.
                let mut out: Vec<Change> = self
                    .store
                    .links(d)?
                    .into_iter()
                    .filter(|l| doomed.contains(&l.from) || doomed.contains(&l.to))
                    .map(|l| Change::Link { before: Some(l), after: None })
                    .collect();
                out.extend(boxes.into_iter().map(|b| Change::Annotation { before: Some(b), after: None }));
                out
            }
            Command::DuplicateBoxes { doc: d, ids, dx, dy } => self
                .boxes(d, &ids)?
                .into_iter()
                .map(|b| {
                    let mut a = b.clone();
                    a.id = AnnId(0);
                    a.rect = a.rect.translated(dx, dy).clamped(w, h);
                    a.quad = a.quad.map(|q| q.translated(dx, dy));
                    a.source = Source::Manual;
                    a.label_suggested = None;
                    a.label_conf = None;
                    a.author = Some(self.user.id);
                    a.created_ms = now;
                    a.updated_ms = now;
                    Change::Annotation { before: None, after: Some(a) }
                })
                .collect(),
            Command::AddLink { doc: d, from, to, kind } => {
                if from == to {
                    return Err(CommandError::Refused("a box cannot be linked to itself".into()));
                }
                self.boxes(d, &[from, to])?;
                let exists = self.store.links(d)?.iter().any(|l| l.from == from && l.to == to && l.kind == kind);
                if exists {
                    vec![]
                } else {
                    vec![Change::Link { before: None, after: Some(Link { id: LinkId(0), doc: d, from, to, kind }) }]
                }
            }
            Command::DeleteLinks { doc: d, ids } => self
                .store
                .links(d)?
                .into_iter()
                .filter(|l| ids.contains(&l.id))
                .map(|l| Change::Link { before: Some(l), after: None })
                .collect(),
            Command::ReplaceSuggestions { doc: d, remove, pass_boxes, source, items, skip_iou } => {
                let mut out: Vec<Change> = self
                    .boxes(d, &remove)?
                    .into_iter()
                    .filter(|b| b.state == AnnState::Suggested)
                    .map(|b| Change::Annotation { before: Some(b), after: None })
                    .collect();
                let removed: HashSet<AnnId> = remove.iter().chain(&pass_boxes).copied().collect();
                let existing: Vec<Rect> =
                    self.store.annotations(d)?.iter().filter(|a| !removed.contains(&a.id)).map(|a| a.rect).collect();
                let retired = self.retired_labels()?;
                out.extend(self.suggestion_changes(d, &existing, source, items, skip_iou, w, h, now, &retired));
                out
            }
            Command::AddSuggestions { doc: d, source, items, skip_iou } => {
                let existing: Vec<Rect> = self.store.annotations(d)?.iter().map(|a| a.rect).collect();
                let retired = self.retired_labels()?;
                self.suggestion_changes(d, &existing, source, items, skip_iou, w, h, now, &retired)
            }
            Command::AcceptSuggestions { doc: d, ids } => self
                .boxes(d, &ids)?
                .iter()
                .filter(|b| b.state == AnnState::Suggested)
                .map(|b| {
                    update(b, &|a| {
                        a.state = AnnState::Active;
                        // accepting a suggestion accepts its label
                        a.label_conf = None;
                        // machine work nobody owned becomes the accepting person's box
                        if a.author.is_none() {
                            a.author = self.actor();
                        }
                    })
                })
                .collect(),
            Command::RejectSuggestions { doc: d, ids } => self
                .boxes(d, &ids)?
                .into_iter()
                .filter(|b| b.state == AnnState::Suggested)
                .map(|b| Change::Annotation { before: Some(b), after: None })
                .collect(),
            Command::FillText { doc: d, texts, source } => {
                let ids: Vec<AnnId> = texts.iter().map(|t| t.0).collect();
                let current = self.boxes(d, &ids)?;
                let mut out = Vec::new();
                for (id, text, conf) in texts {
                    let Some(b) = current.iter().find(|a| a.id == id) else {
                        continue;
                    };
                    // Never over what a person typed.
                    let machine_owned = b.text.is_empty() || b.text_source.is_machine();
                    if machine_owned && b.text != text {
                        out.push(update(b, &|a| {
                            a.text = text.clone();
                            a.text_source = source.clone();
                            a.confidence = Some(conf);
                        }));
                    }
                }
                out
            }
            Command::SuggestLabels { doc: d, labels } => {
                let ids: Vec<AnnId> = labels.iter().map(|l| l.0).collect();
                let current = self.boxes(d, &ids)?;
                let mut out = Vec::new();
                for (id, label, conf) in labels {
                    if self.store.label(label)?.retired {
                        // a retired label is not suggested anew
                        continue;
                    }
                    let Some(b) = current.iter().find(|a| a.id == id) else {
                        continue;
                    };
                    if b.label.is_none() {
                        out.push(update(b, &|a| {
                            a.label = Some(label);
                            a.label_suggested = Some(label);
                            a.label_conf = Some(conf.clamp(0.0, 1.0));
                        }));
                    }
                }
                out
            }
            Command::Submit { doc: d } => {
                if !matches!(
                    doc.status,
                    DocStatus::New | DocStatus::InProgress | DocStatus::Rework | DocStatus::Rejected
                ) {
                    return Err(CommandError::Refused(format!(
                        "cannot submit: the document is {}",
                        doc.status.label().to_lowercase()
                    )));
                }
                let anns = self.store.annotations(d)?;
                let pending = anns.iter().filter(|a| a.state == AnnState::Suggested).count();
                if pending > 0 {
                    return Err(CommandError::Refused(format!(
                        "cannot submit: {pending} suggestion(s) still need accepting or rejecting"
                    )));
                }
                let mut out = vec![Change::Status { doc: d, before: doc.status, after: DocStatus::Submitted }];
                // a submitted page's labels are the annotator's: suggested ones left as they
                // were are confirmed now (and count as kept in the stats)
                out.extend(anns.iter().filter(|a| a.label_conf.is_some()).map(|b| update(b, &|a| a.label_conf = None)));
                out.extend(self.gold_score_change(doc, now)?);
                out
            }
            Command::SetStatus { doc: d, to } => {
                if !doc.status.can_become(to) {
                    return Err(CommandError::Refused(format!(
                        "a document that is {} cannot become {}",
                        doc.status.label().to_lowercase(),
                        to.label().to_lowercase()
                    )));
                }
                vec![Change::Status { doc: d, before: doc.status, after: to }]
            }
            Command::SetFlags { doc: d, ids, flag, on } => {
                self.boxes(d, &ids)?.iter().map(|b| update(b, &|a| a.flags = a.flags.with(flag, on))).collect()
            }
            Command::SetTags { doc: d, tags } => {
                let tags: std::collections::BTreeMap<String, String> =
                    tags.into_iter().filter(|(_, v)| !v.trim().is_empty()).collect();
                if let Some(why) = self.store.tag_schema()?.problem(&tags) {
                    return Err(CommandError::Refused(why));
                }
                vec![Change::Tags { doc: d, before: doc.tags.clone(), after: tags }]
            }
            Command::RotatePage { doc: d, quarters } => {
                let q = quarters % 4;
                if q == 0 {
                    return Ok(vec![]);
                }
                let mut out: Vec<Change> = self
                    .store
                    .annotations(d)?
                    .iter()
                    .map(|b| {
                        update(b, &|a| {
                            a.rect = a.rect.turned(q, w, h);
                            a.quad = a.quad.map(|x| x.turned(q, w, h));
                        })
                    })
                    .collect();
                if doc.is_gold {
                    let before = self.store.gold_boxes(d)?;
                    let after = before
                        .iter()
                        .map(|g| crate::domain::GoldBox { rect: g.rect.turned(q, w, h), ..g.clone() })
                        .collect();
                    out.push(Change::Gold { doc: d, before, after });
                }
                out.push(Change::Rotation { doc: d, before: doc.rotation, after: (doc.rotation + q) % 4 });
                out
            }
            Command::Undo { .. } | Command::Redo { .. } => vec![],
            review => self.build_review_changes(doc, review, now)?,
        };
        Ok(changes)
    }
}

/// What machine work may do: add suggestions and fill machine text, on documents still being
/// annotated.
fn permit_machine(doc: &crate::domain::Document, cmd: &Command) -> Result<(), CommandError> {
    if !matches!(
        cmd,
        Command::AddSuggestions { .. }
            | Command::ReplaceSuggestions { .. }
            | Command::FillText { .. }
            | Command::SuggestLabels { .. }
    ) {
        return Err(CommandError::Refused(format!("machine work cannot {}", cmd.action().replace('_', " "))));
    }
    if !doc.status.is_editable_by_annotator() {
        return Err(CommandError::Refused(format!(
            "document {} is {}; suggestions are only added while a document is being annotated",
            doc.id,
            doc.status.label().to_lowercase()
        )));
    }
    Ok(())
}

/// True when `inner` lies mostly (≥ 80 % of its area) inside `outer` or vice versa.
fn contains_most(outer: &Rect, inner: &Rect) -> bool {
    let inter = outer.intersection(inner).map_or(0.0, |r| r.area());
    let smaller = outer.area().min(inner.area());
    smaller > 0.0 && inter / smaller >= 0.8
}

pub(super) fn valid_rect(rect: Rect, w: f32, h: f32) -> Result<Rect, CommandError> {
    if !rect.is_finite() {
        return Err(CommandError::Refused("a box coordinate is not a number".into()));
    }
    let r = rect.normalized().clamped(w, h);
    if r.width() < 1.0 || r.height() < 1.0 {
        return Err(CommandError::Refused("a box must be at least 1 px wide and high, inside the page".into()));
    }
    Ok(r)
}
