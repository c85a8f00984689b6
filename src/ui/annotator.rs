//! The annotator's runtime state for one workspace and user: queue, current document, its
//! boxes, the canvas editor, the page loader, the command queue and the status line. Panels
//! draw from it and push commands; [`Annotator::apply_pending`] applies them, once per frame.

use eframe::egui;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::app::activity::ActivityTracker;
use crate::app::canvas::{CanvasBox, Editor, Intent, ScreenRect, Viewport};
use crate::app::commands::system_now_ms;
use crate::app::leases::{Claim, LeaseKeeper};
use crate::app::live::{LiveEvent, LiveFeed};
use crate::app::loader::{LoadError, LoadEvent, LoadedPage, PageLoader};
use crate::app::{Command, CommandError, Outcome, Session};
use crate::domain::{
    AnnId, AnnState, Annotation, DocId, DocStatus, Document, EditId, Label, LabelId, Link, Role, User,
};
use crate::store::{DocFilter, Store, Workspace};

use super::tiles_ui::TileCache;

/// The page image of the current document.
#[derive(Debug, Clone)]
pub enum PageState {
    NoDocument,
    /// Waiting for the worker; boxes are already shown on a blank page.
    Loading {
        fraction: f32,
        stage: &'static str,
    },
    Ready(Arc<LoadedPage>),
    Failed(LoadError),
}

/// The status line's message.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Idle,
    Saved,
    Info(String),
    Error(String),
}

/// Queue filter: by status and by part of the file name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueFilter {
    pub status: Option<DocStatus>,
    pub name: String,
}

/// Text being typed into the floating field beside the primary box.
#[derive(Debug, Clone, Default)]
pub struct TextDraft {
    pub target: Option<AnnId>,
    pub buffer: String,
    pub original: String,
    /// Give the field keyboard focus on the next frame.
    pub focus_request: bool,
}

/// Panels toggled by keys.
#[derive(Debug, Clone)]
pub struct ViewFlags {
    pub always_show_text: bool,
    pub show_guideline: bool,
    pub show_shortcuts: bool,
    pub show_queue: bool,
    /// "Accept all ≥ score".
    pub accept_threshold: f32,
}

/// What to do once a queued command is applied.
/// How often edits that could not be sent are tried again.
const UNSENT_RETRY: std::time::Duration = std::time::Duration::from_secs(3);

/// Nudges of the same boxes less than this apart are one undo step (each is saved at once).
pub const NUDGE_MERGE: std::time::Duration = std::time::Duration::from_millis(1500);

/// A nudge that later nudges may continue: which boxes, the step's first edit, when.
struct LastNudge {
    boxes: (DocId, Vec<AnnId>),
    head: EditId,
    at: std::time::Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Nothing,
    /// An arrow-key nudge: saved at once, and one undo step with the nudges of the same boxes
    /// just before it (see [`NUDGE_MERGE`]).
    Nudge,
    /// Select the boxes the command created (new box, duplicates).
    SelectCreated,
    /// Select the created box and put the cursor in its text field.
    SelectCreatedAndEdit,
}

pub struct Annotator {
    pub(crate) workspace: Workspace,
    pub(crate) session: Session,
    pub(crate) labels: Vec<Label>,
    pub(crate) queue: Vec<Document>,
    pub(crate) filter: QueueFilter,
    pub(crate) doc: Option<Document>,
    /// Annotations of the current document, in the same order as the editor's boxes.
    pub(crate) anns: Vec<Annotation>,
    pub(crate) links: Vec<Link>,
    pub(crate) editor: Editor,
    pub(crate) page: PageState,
    pub(crate) tiles: TileCache,
    loader: PageLoader,
    load_wanted: bool,
    /// Fit the page to the canvas on the next canvas frame (after opening a document).
    pub(crate) fit_pending: bool,
    pub(crate) pending: Vec<(Command, After)>,
    /// The last applied nudge, so the next one of the same boxes joins its undo step.
    last_nudge: Option<LastNudge>,
    pub(crate) status: Status,
    pub(crate) edits_saved: u64,
    pub(crate) activity: ActivityTracker,
    pub(crate) text: TextDraft,
    pub(crate) view: ViewFlags,
    /// Pointer position in image pixels, for the status line.
    pub(crate) cursor_img: Option<crate::domain::Point>,
    pub(crate) relink_message: Option<String>,
    /// Review mode and the Annotate / Review / Stats switch.
    pub(crate) review: super::review_state::ReviewState,
    pub(crate) stats: super::stats_ui::StatsState,
    /// The lease on the document being worked on.
    pub(crate) lease: LeaseKeeper,
    /// Someone else is working on the open document: their name, and until when (the store's
    /// clock); it is read-only here meanwhile.
    pub(crate) held_by: Option<(String, i64)>,
    /// Documents of the queue other people are working on, with their names.
    pub(crate) leased: std::collections::HashMap<DocId, String>,
    /// What other people change, as they change it (started with the first frame).
    live: Option<LiveFeed>,
    /// The workspace cannot be reached: why (the page stays; edits are not saved meanwhile).
    pub(crate) offline: Option<String>,
    /// Another person changed the open document while this one was mid-gesture or typing:
    /// reload it once they are done.
    reload_deferred: bool,
    /// When the queue (and stats) were last refreshed for others' changes.
    last_live_refresh: Option<std::time::Instant>,
    live_refresh_due: bool,
    /// Edits that could not be sent (the workspace could not be reached), oldest first: not
    /// saved, shown as such, and sent again when it is back.
    pub(crate) unsent: Vec<(Command, After)>,
    /// When edits were last sent (unsent ones are retried every few seconds).
    last_send: Option<std::time::Instant>,
    /// Work started from the window that writes many rows (assignments, objectives), running
    /// on a worker with its own session; each result is a sentence for the status line.
    jobs: Vec<crossbeam_channel::Receiver<Result<String, String>>>,
    /// A folder being searched for missing images (on a worker), and where its answer comes.
    relinking: Option<(
        PathBuf,
        crossbeam_channel::Receiver<Result<crate::app::import::RelinkReport, crate::store::StoreError>>,
    )>,
}

impl Annotator {
    /// Opens the workspace as `user` and shows the first document of their queue.
    pub fn new(workspace: &Workspace, store: Store, user: User) -> Result<Self, CommandError> {
        let labels = store.labels()?;
        let users = store.users()?;
        let session = Session::new(store, user.clone());
        let mut a = Self {
            workspace: workspace.clone(),
            session,
            labels,
            queue: Vec::new(),
            filter: QueueFilter::default(),
            doc: None,
            anns: Vec::new(),
            links: Vec::new(),
            editor: Editor::new(Viewport::new(1, 1, ScreenRect::new(0.0, 0.0, 800.0, 600.0))),
            page: PageState::NoDocument,
            tiles: TileCache::default(),
            loader: PageLoader::new(),
            load_wanted: false,
            fit_pending: true,
            pending: Vec::new(),
            last_nudge: None,
            status: Status::Idle,
            edits_saved: 0,
            activity: ActivityTracker::new(user.id),
            text: TextDraft::default(),
            view: ViewFlags {
                always_show_text: false,
                show_guideline: false,
                show_shortcuts: false,
                show_queue: true,
                accept_threshold: 0.8,
            },
            cursor_img: None,
            relink_message: None,
            review: super::review_state::ReviewState::new(user.role, users),
            stats: super::stats_ui::StatsState::default(),
            lease: LeaseKeeper::default(),
            held_by: None,
            leased: Default::default(),
            live: None,
            offline: None,
            reload_deferred: false,
            last_live_refresh: None,
            live_refresh_due: false,
            relinking: None,
            jobs: Vec::new(),
            unsent: Vec::new(),
            last_send: None,
        };
        a.refresh_queue();
        // Reviewers start in the review queue, unless nothing waits there.
        if a.review.view == super::review_state::WorkView::Review && a.queue.is_empty() {
            a.review.view = super::review_state::WorkView::Annotate;
            a.refresh_queue();
        }
        // Resume where work is: the first document not yet submitted that nobody else is
        // working on (taken at once, so two people starting together get different ones),
        // else the first.
        let open: Vec<DocId> = a.queue.iter().filter(|d| d.status.is_editable_by_annotator()).map(|d| d.id).collect();
        let free = match a.lease.claim_first_free(&mut a.session, &open) {
            Ok(lease) => lease.map(|l| l.doc),
            Err(e) => {
                a.status = Status::Error(format!("cannot take a document to work on: {e}"));
                None
            }
        };
        if let Some(id) = free.or(a.queue.first().map(|d| d.id)) {
            a.open_document(id);
        }
        Ok(a)
    }

    // ---- read access for panels, tests and extensions ----------------------------------------

    pub fn user(&self) -> &User {
        self.session.user()
    }

    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    pub fn document(&self) -> Option<&Document> {
        self.doc.as_ref()
    }

    pub fn annotations(&self) -> &[Annotation] {
        &self.anns
    }

    pub fn labels(&self) -> &[Label] {
        &self.labels
    }

    pub fn queue(&self) -> &[Document] {
        &self.queue
    }

    pub fn editor(&self) -> &Editor {
        &self.editor
    }

    /// The canvas editor, e.g. to select boxes or set the zoom from a script.
    pub fn editor_mut(&mut self) -> &mut Editor {
        &mut self.editor
    }

    /// Shows label and text on every box (what T toggles).
    pub fn set_always_show_text(&mut self, on: bool) {
        self.view.always_show_text = on;
    }

    pub fn page(&self) -> &PageState {
        &self.page
    }

    pub fn status(&self) -> &Status {
        &self.status
    }

    /// True once the page image is decoded (or failed): nothing more will arrive from the loader.
    pub fn page_settled(&self) -> bool {
        matches!(self.page, PageState::Ready(_) | PageState::Failed(_) | PageState::NoDocument)
    }

    pub fn annotation(&self, id: AnnId) -> Option<&Annotation> {
        self.anns.iter().find(|a| a.id == id)
    }

    pub fn label(&self, id: LabelId) -> Option<&Label> {
        self.labels.iter().find(|l| l.id == id)
    }

    /// Whether the current document can be edited by this user now (its state allows it, and
    /// nobody else is working on it).
    pub fn editable(&self) -> bool {
        self.held_by.is_none() && self.editable_status()
    }

    /// Who else is working on the open document (their name, until when on the store's clock).
    pub fn held_by(&self) -> Option<&(String, i64)> {
        self.held_by.as_ref()
    }

    /// Whether the open document's state lets this user edit it.
    fn editable_status(&self) -> bool {
        let Some(d) = &self.doc else { return false };
        match self.user().role {
            Role::Annotator => d.status.is_editable_by_annotator(),
            Role::Reviewer => d.status == DocStatus::InReview || d.status.is_editable_by_annotator(),
            Role::Lead => d.status != DocStatus::Accepted,
        }
    }

    // ---- queue and documents -------------------------------------------------------------

    /// Annotators see their documents and unassigned ones; reviewers and leads see all.
    pub fn refresh_queue(&mut self) {
        if self.review.view == super::review_state::WorkView::Review {
            self.refresh_review_queue();
            return;
        }
        let filter = DocFilter {
            status: self.filter.status,
            assignee: None,
            path_contains: Some(self.filter.name.trim().to_string()).filter(|s| !s.is_empty()),
        };
        let me = self.user().id;
        let annotator = self.user().role == Role::Annotator;
        match self.session.store().documents(&filter) {
            Ok(docs) => {
                self.queue = docs.into_iter().filter(|d| !annotator || d.assignee.is_none_or(|u| u == me)).collect();
            }
            Err(e) => self.status = Status::Error(format!("cannot list documents: {e}")),
        }
        self.refresh_leases();
    }

    /// Who else is working on what, for the queue.
    pub(crate) fn refresh_leases(&mut self) {
        let me = self.user().id;
        let store = self.session.store();
        match store.live_leases() {
            Ok(leases) => {
                // names from the people the window already knows; the store only for a newcomer
                let users = &self.review.users;
                let name = |id| match users.iter().find(|u| u.id == id) {
                    Some(u) => u.name.clone(),
                    None => store.user(id).map_or_else(|_| "someone".into(), |u| u.name),
                };
                self.leased = leases.into_iter().filter(|l| l.holder != me).map(|l| (l.doc, name(l.holder))).collect();
            }
            Err(e) => self.status = Status::Error(format!("cannot tell who works on what: {e}")),
        }
    }

    /// Takes the lease on the open document when this user may work on it; read-only while
    /// someone else holds it.
    fn claim_current(&mut self) {
        let Some(doc) = self.doc.clone() else { return };
        // in review: the documents waiting for it or in it; else what this person may edit
        let to_edit = if self.review.view == super::review_state::WorkView::Review {
            matches!(doc.status, DocStatus::Submitted | DocStatus::InReview)
        } else {
            self.editable_status()
        };
        self.held_by = None;
        match self.lease.claim(&mut self.session, &doc, to_edit) {
            Ok(Claim::HeldBy { name, until_ms }) => self.held_by = Some((name, until_ms)),
            Ok(Claim::Mine(_) | Claim::Viewing) => {}
            Err(e) => self.status = Status::Error(format!("cannot hold this document for you: {e}")),
        }
    }

    /// How long this window's leases last and how often it renews them (tests, and teams that
    /// want a shorter hand-back after a crash). Takes effect with the next document opened.
    pub fn set_lease_timing(&mut self, ttl: std::time::Duration, heartbeat: std::time::Duration) {
        self.lease = LeaseKeeper::new(ttl).with_heartbeat(heartbeat);
        self.claim_current();
    }

    /// A lead ends whoever's lease is on the open document, and takes it.
    pub fn break_lease(&mut self) {
        let Some(doc) = self.doc.as_ref().map(|d| d.id) else { return };
        if self.user().role != Role::Lead {
            return;
        }
        match self.session.store_mut().break_lease(doc) {
            Ok(_) => {
                self.claim_current();
                self.refresh_leases();
                self.status = Status::Info("Lease broken: the document is yours now.".into());
            }
            Err(e) => self.status = Status::Error(format!("cannot break the lease: {e}")),
        }
    }

    /// Shows a document: boxes at once, the page image when the worker has decoded it.
    pub fn open_document(&mut self, id: DocId) {
        if self.doc.as_ref().is_some_and(|d| d.id == id) {
            return;
        }
        self.commit_text_draft();
        self.apply_pending();
        let doc = match self.session.store().document(id) {
            Ok(d) => d,
            Err(e) => {
                self.status = Status::Error(format!("cannot open document {id}: {e}"));
                return;
            }
        };
        self.activity.show_document(Some(id), system_now_ms());
        // Keep the zoom and position from the previous document (unless it was just fitted).
        let vp = &self.editor.viewport;
        let mut fitted = vp.clone();
        fitted.fit_page();
        let keep = (self.review.keep_view && self.doc.is_some() && !self.fit_pending && fitted != *vp)
            .then(|| (vp.zoom(), vp.pan()));
        self.editor.viewport.set_image_size(doc.width, doc.height);
        if let Some((zoom, pan)) = keep {
            let vp = &mut self.editor.viewport;
            vp.set_zoom_at(vp.pan(), zoom);
            let now = vp.pan();
            vp.pan_by(pan.x - now.x, pan.y - now.y);
        }
        self.editor.set_selection([], None);
        self.editor.set_tool(crate::app::canvas::Tool::Select);
        self.doc = Some(doc);
        self.text = TextDraft::default();
        self.tiles.clear();
        self.page = PageState::Loading { fraction: 0.0, stage: "queued" };
        self.load_wanted = true;
        self.fit_pending = keep.is_none();
        self.relink_message = None;
        self.review.note_target = None;
        self.review.note.clear();
        self.review.reject_comment.clear();
        self.review.doc_comment.clear();
        self.claim_current();
        self.reload_boxes();
    }

    /// Next (+1) or previous (-1) document in the filtered queue.
    pub fn step_document(&mut self, delta: i32) {
        if self.queue.is_empty() {
            return;
        }
        let n = self.queue.len() as i32;
        let cur = self.doc.as_ref().and_then(|d| self.queue.iter().position(|q| q.id == d.id));
        let mut next = match cur {
            Some(i) => (i as i32 + delta).clamp(0, n - 1),
            None => 0,
        } as usize;
        // past the documents other people are working on
        while self.leased.contains_key(&self.queue[next].id) && (0..n).contains(&(next as i32 + delta.signum())) {
            next = (next as i32 + delta.signum()) as usize;
        }
        if Some(next) == cur {
            self.status = Status::Info(
                if delta > 0 { "last document of the queue" } else { "first document of the queue" }.into(),
            );
            return;
        }
        let id = self.queue[next].id;
        self.open_document(id);
    }

    /// The document's image file (what a missing-file prompt names; a server workspace's
    /// images come from the workspace, see [`crate::app::pages`]).
    pub(crate) fn image_path(&self, doc: &Document) -> PathBuf {
        PathBuf::from(&doc.path)
    }

    /// Starts a wanted page load and takes in what the worker reported. Runs before the UI.
    pub fn logic(&mut self, ctx: &egui::Context) {
        self.stats.poll(ctx);
        self.keep_lease(ctx);
        self.follow_others(ctx);
        self.poll_relink();
        self.poll_jobs();
        if !self.unsent.is_empty() {
            let due = self.last_send.is_none_or(|t| t.elapsed() >= UNSENT_RETRY);
            if due {
                self.apply_pending();
            }
            ctx.request_repaint_after(UNSENT_RETRY);
        }
        if self.relinking.is_some() || !self.jobs.is_empty() {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
        if self.load_wanted {
            self.load_wanted = false;
            if let Some(doc) = self.doc.clone() {
                let max_side = ctx.input(|i| i.max_texture_side) as u32;
                let waker = ctx.clone();
                let source = crate::app::pages::PageRef::of(self.session.store(), &doc);
                self.loader.request(doc.id, source, max_side, move || waker.request_repaint());
            }
        }
        for event in self.loader.poll() {
            let current = self.doc.as_ref().map(|d| d.id);
            match event {
                LoadEvent::Progress { doc, fraction, stage } if Some(doc) == current => {
                    self.page = PageState::Loading { fraction, stage };
                }
                LoadEvent::Done(page) if Some(page.doc) == current => {
                    if let Some(d) = &self.doc
                        && (d.width, d.height) != (page.width, page.height)
                    {
                        self.status = Status::Error(format!(
                            "the image is {}×{} px but the workspace recorded {}×{}; boxes may be misplaced",
                            page.width, page.height, d.width, d.height
                        ));
                    }
                    self.tiles.clear();
                    self.page = PageState::Ready(page);
                }
                LoadEvent::Failed { doc, error } if Some(doc) == current => self.page = PageState::Failed(error),
                _ => {}
            }
        }
    }

    /// Takes in what other people changed: the open document reloads (once any gesture or
    /// typing of this person's is finished), the queue, statuses and stats follow, at most
    /// once a second.
    fn follow_others(&mut self, ctx: &egui::Context) {
        let live = self.live.get_or_insert_with(|| {
            let waker = ctx.clone();
            LiveFeed::start(&self.workspace, move || waker.request_repaint())
        });
        let me = self.session.user().id;
        let current = self.doc.as_ref().map(|d| d.id);
        for event in live.poll() {
            match event {
                LiveEvent::Changed(c) => {
                    if c.docs.iter().any(|&(d, by)| Some(d) == current && by != Some(me)) {
                        self.reload_deferred = true;
                    }
                    self.live_refresh_due = true;
                }
                LiveEvent::Lost(why) => {
                    self.offline = Some(format!(
                        "The workspace cannot be reached ({why}). The page stays; nothing you do is saved until it \
                         is back."
                    ));
                }
                LiveEvent::Back => {
                    self.offline = None;
                    self.apply_pending(); // what waited is sent first
                    self.reload_deferred = true;
                    self.live_refresh_due = true;
                    self.status = Status::Info("The workspace is back.".into());
                }
            }
        }
        let busy = self.editor.is_gesture_active() || self.text.target.is_some() || !self.pending.is_empty();
        if self.reload_deferred && !busy {
            self.reload_deferred = false;
            self.reload_boxes();
            self.refresh_current_doc();
        }
        let recent = self.last_live_refresh.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(1));
        if self.live_refresh_due && !recent {
            self.live_refresh_due = false;
            self.last_live_refresh = Some(std::time::Instant::now());
            self.refresh_queue();
            if self.review.view == super::review_state::WorkView::Stats && !self.stats.is_computing() {
                self.stats.refresh(&self.workspace);
            }
        } else if self.live_refresh_due {
            ctx.request_repaint_after(std::time::Duration::from_secs(1));
        }
    }

    /// The heartbeat: renews the lease on the open document, and says so when it was lost.
    fn keep_lease(&mut self, ctx: &egui::Context) {
        ctx.request_repaint_after(self.lease.heartbeat_interval());
        match self.lease.heartbeat(&mut self.session, std::time::Instant::now()) {
            Ok(true) => {}
            Ok(false) => {
                self.claim_current();
                self.refresh_leases();
                self.status = Status::Error(match &self.held_by {
                    Some((name, _)) => format!("Your hold on this page ran out and {name} is working on it now."),
                    None => "Your hold on this page ran out; it is yours again.".into(),
                });
            }
            Err(e) => self.status = Status::Error(format!("cannot renew your hold on this page: {e}")),
        }
    }

    /// Retries loading the current page (after a re-link).
    pub fn reload_page(&mut self) {
        if self.doc.is_some() {
            self.page = PageState::Loading { fraction: 0.0, stage: "queued" };
            self.tiles.clear();
            self.load_wanted = true;
        }
    }

    // ---- commands ----------------------------------------------------------------------------

    pub fn push(&mut self, cmd: Command, after: After) {
        self.pending.push((cmd, after));
    }

    /// Turns the canvas editor's intents into commands (one undo step each).
    pub fn handle_intents(&mut self, intents: Vec<Intent>) {
        let Some(doc) = self.doc.as_ref().map(|d| d.id) else { return };
        for intent in intents {
            match intent {
                // In review, a drawn box is one the annotator missed.
                Intent::AddBox { rect } if self.reviewing() => self.push(
                    Command::AddMissingBox { doc, rect, label: None, text: String::new(), comment: String::new() },
                    After::SelectCreated,
                ),
                Intent::AddBox { rect } => self.push(
                    Command::AddBox { doc, rect, quad: None, label: None, text: String::new() },
                    After::SelectCreated,
                ),
                Intent::AddQuad { quad } => self.push(
                    Command::AddBox { doc, rect: quad.bounds(), quad: Some(quad), label: None, text: String::new() },
                    After::SelectCreated,
                ),
                Intent::MoveBoxes { ids, dx, dy } => self.push(Command::MoveBoxes { doc, ids, dx, dy }, After::Nothing),
                Intent::Nudge { ids, dx, dy } => self.push(Command::MoveBoxes { doc, ids, dx, dy }, After::Nudge),
                Intent::ResizeBox { id, rect } => {
                    self.push(Command::SetGeometry { doc, boxes: vec![(id, rect, None)] }, After::Nothing)
                }
                Intent::EditQuad { id, quad } => self
                    .push(Command::SetGeometry { doc, boxes: vec![(id, quad.bounds(), Some(quad))] }, After::Nothing),
                Intent::DeleteBoxes { ids } => {
                    // Del on a suggestion rejects it (the stats count rejections apart from deletions).
                    let (suggested, active): (Vec<AnnId>, Vec<AnnId>) = ids
                        .into_iter()
                        .partition(|id| self.annotation(*id).is_some_and(|a| a.state == AnnState::Suggested));
                    if !suggested.is_empty() {
                        self.push(Command::RejectSuggestions { doc, ids: suggested }, After::Nothing);
                    }
                    if !active.is_empty() {
                        self.push(Command::DeleteBoxes { doc, ids: active }, After::Nothing);
                    }
                }
                Intent::DuplicateBoxes { ids, dx, dy } => {
                    self.push(Command::DuplicateBoxes { doc, ids, dx, dy }, After::SelectCreated)
                }
                Intent::AddLink { from, to, kind } => {
                    self.push(Command::AddLink { doc, from, to, kind }, After::Nothing)
                }
                Intent::SelectionChanged { .. } => {}
            }
        }
    }

    /// Selected box ids, in id order.
    pub fn selection(&self) -> Vec<AnnId> {
        self.editor.selection().iter().copied().collect()
    }

    pub fn assign_label(&mut self, label: Option<LabelId>) {
        let Some(doc) = self.doc.as_ref().map(|d| d.id) else { return };
        let ids = self.selection();
        if ids.is_empty() {
            self.status = Status::Info("select a box first, then pick its label".into());
            return;
        }
        // A fresh box with no text yet: go straight on to typing it.
        let then_type = ids.len() == 1 && self.annotation(ids[0]).is_some_and(|a| a.text.is_empty());
        self.push(Command::SetLabel { doc, ids, label }, After::Nothing);
        if then_type {
            self.text.focus_request = true;
        }
    }

    /// The selected suggestions (Enter accepts them).
    pub fn selected_suggestions(&self) -> Vec<AnnId> {
        self.editor
            .selection()
            .iter()
            .copied()
            .filter(|id| self.annotation(*id).is_some_and(|a| a.state == AnnState::Suggested))
            .collect()
    }

    /// Commits the text field if it holds an unsaved change.
    pub fn commit_text_draft(&mut self) {
        let (Some(id), Some(doc)) = (self.text.target, self.doc.as_ref().map(|d| d.id)) else { return };
        if self.text.buffer != self.text.original && self.annotation(id).is_some() {
            let text = self.text.buffer.clone();
            self.text.original = text.clone();
            self.push(Command::SetText { doc, id, text }, After::Nothing);
        }
    }

    /// Applies queued commands in order: the one place edits happen. Each is durable in SQLite
    /// when this returns; the editor is then refreshed from the store.
    pub fn apply_pending(&mut self) {
        if self.pending.is_empty() && self.unsent.is_empty() {
            return;
        }
        self.last_send = Some(std::time::Instant::now());
        let mut select: Option<(Vec<AnnId>, bool)> = None;
        let mut queue_changed = false;
        // what could not be sent before goes first, in order
        let mut queue = std::mem::take(&mut self.unsent);
        queue.append(&mut self.pending);
        let mut queue = queue.into_iter();
        while let Some((cmd, after)) = queue.next() {
            let kept = cmd.clone();
            let message = super::review_state::done_message(&cmd);
            let changes_queue = super::review_state::changes_queue(&cmd);
            let nudged = match (&cmd, after) {
                (Command::MoveBoxes { doc, ids, .. }, After::Nudge) => Some((*doc, ids.clone())),
                _ => None,
            };
            // a nudge right after a nudge of the same boxes continues its undo step
            let head = self
                .last_nudge
                .as_ref()
                .filter(|n| nudged.as_ref() == Some(&n.boxes) && n.at.elapsed() <= NUDGE_MERGE)
                .map(|n| n.head);
            let result = match head {
                Some(head) => self.session.continue_edit(head, cmd),
                None => self.session.apply(cmd),
            };
            match result {
                Ok(Outcome::Applied(edit)) => {
                    self.last_nudge = nudged.map(|boxes| LastNudge {
                        boxes,
                        head: head.unwrap_or(edit.id),
                        at: std::time::Instant::now(),
                    });
                    self.edits_saved += 1;
                    queue_changed |= changes_queue;
                    self.status = message.map_or(Status::Saved, Status::Info);
                    if after != After::Nothing {
                        let created = Outcome::Applied(edit).created_boxes();
                        if !created.is_empty() {
                            select = Some((created, after == After::SelectCreatedAndEdit));
                        }
                    }
                }
                Ok(Outcome::NoChange) => {}
                // the workspace cannot be reached: nothing of it was saved; it waits here, with
                // everything after it, and is sent when the workspace is back
                Err(CommandError::Store(crate::store::StoreError::Connection { .. })) => {
                    self.unsent.push((kept, after));
                    self.unsent.extend(queue.by_ref());
                }
                Err(e) => self.status = Status::Error(sentence(&e)),
            }
        }
        if !self.unsent.is_empty() {
            // (the count of what waits is shown beside the status line)
            self.status = Status::Error("The workspace cannot be reached: your latest edits are not saved yet.".into());
            return;
        }
        self.reload_boxes();
        self.refresh_current_doc();
        if queue_changed {
            self.after_queue_change();
        }
        if let Some((ids, edit)) = select {
            let primary = ids.last().copied();
            self.editor.set_selection(ids, primary);
            if edit {
                self.text.focus_request = true;
            }
        }
    }

    /// Reloads the current document's boxes and links from the store into the editor.
    pub fn reload_boxes(&mut self) {
        let Some(doc) = self.doc.as_ref().map(|d| d.id) else {
            self.anns.clear();
            self.links.clear();
            self.editor.set_boxes(Vec::new());
            self.reload_review();
            return;
        };
        // first: anything another person writes from here on is newer than what is shown
        if let Err(e) = self.session.mark_seen(doc) {
            self.status = Status::Error(sentence(&e));
        }
        let store = self.session.store();
        match (store.annotations(doc), store.links(doc)) {
            (Ok(anns), Ok(links)) => {
                let boxes = anns
                    .iter()
                    .map(|a| match a.quad {
                        Some(q) => CanvasBox::with_quad(a.id, q),
                        None => CanvasBox::new(a.id, a.rect),
                    })
                    .collect();
                self.editor.set_boxes(boxes);
                self.anns = anns;
                self.links = links;
            }
            (Err(e), _) | (_, Err(e)) => self.status = Status::Error(format!("cannot read the boxes: {e}")),
        }
        self.reload_review();
        // the text field follows the store (e.g. after undo of a text change)
        if let Some(id) = self.text.target
            && self.text.buffer == self.text.original
        {
            let text = self.annotation(id).map(|a| a.text.clone()).unwrap_or_default();
            self.text.buffer = text.clone();
            self.text.original = text;
        }
    }

    /// Re-reads the current document's row (its status changes with edits and submit).
    pub(crate) fn refresh_current_doc(&mut self) {
        let Some(id) = self.doc.as_ref().map(|d| d.id) else { return };
        if let Ok(d) = self.session.store().document(id) {
            if let Some(q) = self.queue.iter_mut().find(|q| q.id == id) {
                *q = d.clone();
            }
            let status_changed = self.doc.as_ref().is_some_and(|old| old.status != d.status);
            self.doc = Some(d);
            // submitted, accepted, rejected: done with it here, so it is free for the next
            // person (a reviewer taking it into review keeps it)
            if status_changed && self.held_by.is_none() {
                self.claim_current();
            }
        }
    }

    // ---- activity and re-linking ---------------------------------------------------------------

    pub fn flush_activity(&mut self) {
        if let Err(e) = self.activity.flush(self.session.store_mut()) {
            self.status = Status::Error(format!("cannot record activity: {e}"));
        }
    }

    /// Leaving the workspace or closing the window.
    pub fn shutdown(&mut self) {
        self.commit_text_draft();
        self.apply_pending();
        self.activity.close(system_now_ms());
        self.flush_activity();
        if let Err(e) = self.lease.release_all(&mut self.session) {
            self.status = Status::Error(format!("cannot give back your documents: {e}"));
        }
        self.loader.cancel();
    }

    /// Points the current document's file at `file` if its content hash matches.
    pub fn relink_file(&mut self, file: &Path) {
        let Some(doc) = self.doc.clone() else { return };
        match crate::app::loader::relink_file(self.session.store_mut(), &doc, file) {
            Ok(()) => {
                self.relink_message = None;
                self.status = Status::Info(format!("re-linked to {}", file.display()));
                self.refresh_current_doc();
                self.refresh_queue();
                self.reload_page();
            }
            Err(e) => self.relink_message = Some(e),
        }
    }

    /// Searches a folder for moved images of this workspace by content hash.
    /// Looks through `dir` (hashing every image in it, which takes a while for a big folder)
    /// for the content of missing files, on a worker with its own connection; the result
    /// arrives in [`Annotator::logic`].
    pub fn relink_folder(&mut self, dir: &Path) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let (ws, folder) = (self.workspace.clone(), dir.to_path_buf());
        let spawned = std::thread::Builder::new().name("facture-relink".into()).spawn(move || {
            let found =
                crate::store::Store::connect(&ws).and_then(|mut s| crate::app::import::relink_dir(&mut s, &folder));
            let _ = tx.send(found);
        });
        match spawned {
            Ok(_) => {
                self.relink_message = Some(format!("Looking for the missing images in {}…", dir.display()));
                self.relinking = Some((dir.to_path_buf(), rx));
            }
            Err(e) => self.relink_message = Some(format!("cannot re-link: {e}")),
        }
    }

    /// Runs `job` on a worker, as this person, with a connection of its own, so the window
    /// never waits for it; its sentence shows in the status line when it is done, and the
    /// queue, the document and the stats then follow.
    pub fn run_in_background(&mut self, job: impl FnOnce(&mut Session) -> Result<String, String> + Send + 'static) {
        self.apply_pending();
        let (tx, rx) = crossbeam_channel::bounded(1);
        let (ws, user) = (self.workspace.clone(), self.session.user().clone());
        let spawned = std::thread::Builder::new().name("facture-job".into()).spawn(move || {
            let result = match crate::store::Store::connect(&ws) {
                Ok(store) => job(&mut Session::new(store, user)),
                Err(e) => Err(e.to_string()),
            };
            let _ = tx.send(result);
        });
        match spawned {
            Ok(_) => {
                self.jobs.push(rx);
                self.status = Status::Info("Working on it…".into());
            }
            Err(e) => self.status = Status::Error(format!("cannot start: {e}")),
        }
    }

    /// How many edits wait to be sent (the workspace could not be reached); none are saved.
    pub fn unsent_edits(&self) -> usize {
        self.unsent.len()
    }

    /// Whether work started with [`Annotator::run_in_background`] is still running.
    pub fn is_busy(&self) -> bool {
        !self.jobs.is_empty() || self.relinking.is_some()
    }

    fn poll_jobs(&mut self) {
        let mut finished = Vec::new();
        self.jobs.retain(|rx| match rx.try_recv() {
            Ok(r) => {
                finished.push(r);
                false
            }
            Err(crossbeam_channel::TryRecvError::Empty) => true,
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                finished.push(Err("the work ended without an answer".into()));
                false
            }
        });
        for r in finished {
            self.status = match r {
                Ok(m) => Status::Info(m),
                Err(e) => Status::Error(e),
            };
            self.refresh_queue();
            self.refresh_current_doc();
            self.reload_boxes();
            if self.review.view == super::review_state::WorkView::Stats {
                self.stats.refresh(&self.workspace);
            }
        }
    }

    /// Takes a folder search's result when it has arrived.
    fn poll_relink(&mut self) {
        let Some((dir, rx)) = &self.relinking else { return };
        let found = match rx.try_recv() {
            Ok(found) => found,
            Err(crossbeam_channel::TryRecvError::Empty) => return,
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                Err(crate::store::StoreError::Invalid("the search ended without an answer".into()))
            }
        };
        let dir = dir.clone();
        self.relinking = None;
        match found {
            Ok(r) if r.relinked == 0 => {
                self.relink_message = Some(format!("no image in {} matches a missing file's content", dir.display()))
            }
            Ok(r) => {
                self.relink_message = None;
                let left =
                    if r.still_missing > 0 { format!("; {} still missing", r.still_missing) } else { String::new() };
                self.status =
                    Status::Info(format!("re-linked {} file(s) found in {}{left}", r.relinked, dir.display()));
                self.refresh_current_doc();
                self.refresh_queue();
                self.reload_page();
            }
            Err(e) => self.relink_message = Some(format!("cannot re-link: {e}")),
        }
    }
}

/// The user-facing sentence for a failed command.
fn sentence(e: &CommandError) -> String {
    match e {
        CommandError::NothingToUndo => "Nothing to undo on this document.".into(),
        CommandError::NothingToRedo => "Nothing to redo on this document.".into(),
        CommandError::Refused(s) => capitalise(s),
        CommandError::Store(s) => format!("Not saved: {s}"),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
