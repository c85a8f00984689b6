//! The annotator's runtime state for one workspace and user: queue, current document, its
//! boxes, the canvas editor, the page loader, the command queue and the status line. Panels
//! draw from it and push commands; [`Annotator::apply_pending`] applies them, once per frame.

use eframe::egui;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::app::activity::ActivityTracker;
use crate::app::canvas::{CanvasBox, Editor, Intent, ScreenRect, Viewport};
use crate::app::commands::system_now_ms;
use crate::app::desk::{Desk, DocSnapshot, Opened, QueueQuery, QueueView, Sent, Start};
use crate::app::leases::LeaseKeeper;
use crate::app::live::{LiveEvent, LiveFeed};
use crate::app::loader::{LoadError, LoadEvent, LoadedPage, PageLoader};
use crate::app::worker::Worker;
use crate::app::{Command, CommandError, Outcome, Session};
use crate::domain::{AnnId, AnnState, Annotation, DocId, DocStatus, Document, Label, LabelId, Link, Role, User};
use crate::store::{Store, Workspace};

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
    /// Text one of the document's boxes holds.
    pub text: String,
    /// A verdict one of its boxes was given in review.
    pub verdict: Option<crate::app::housekeeping::VerdictQuery>,
    /// A lead's view of archived and deleted documents.
    pub shelved: bool,
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

/// How often edits that could not be sent are tried again.
const UNSENT_RETRY: std::time::Duration = std::time::Duration::from_secs(3);

/// What to do once a queued command is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Nothing,
    /// An arrow-key nudge: saved at once, and one undo step with the nudges of the same boxes
    /// just before it (see [`crate::app::desk::NUDGE_MERGE`]).
    Nudge,
    /// Select the boxes the command created (new box, duplicates).
    SelectCreated,
    /// Select the created box and put the cursor in its text field.
    SelectCreatedAndEdit,
}

/// An edit the window made, with what to do once it is saved and the batch it was sent in
/// (batches are numbered in the order they were made; what waits is sent in that order).
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    pub batch: u64,
    pub cmd: Command,
    pub after: After,
    /// The id the window shows the box this command draws under until the store numbers it.
    pub provisional: Option<AnnId>,
}

/// This window's edits on their way to the store.
struct Outbox {
    /// Commands made this frame, sent after the UI pass.
    pending: Vec<(Command, After)>,
    /// Batches made so far; a read taken before the newest batch shows boxes that are older
    /// than the screen, so it does not replace them.
    batches: u64,
    /// Edits sent to the store worker and not answered yet.
    sending: usize,
    /// The next provisional id for a drawn box (negative; the store's ids are positive).
    next_provisional: i64,
    /// Edits that could not be sent (the workspace could not be reached), in order; nothing
    /// of them is saved. Sent again every few seconds and when the workspace is back.
    unsent: Vec<Queued>,
    last_send: Option<std::time::Instant>,
}

impl Default for Outbox {
    fn default() -> Self {
        Self { pending: Vec::new(), batches: 0, sending: 0, next_provisional: -1, unsent: Vec::new(), last_send: None }
    }
}

/// The open document's page image.
pub(crate) struct PageView {
    pub(crate) page: PageState,
    pub(crate) tiles: TileCache,
    loader: PageLoader,
    load_wanted: bool,
    /// Fit the page to the view once the canvas rect is known.
    pub(crate) fit_pending: bool,
}

/// Work on workers with connections of their own, and what the window asks about it.
#[derive(Default)]
pub(crate) struct Background {
    /// Assignment, objectives: the sentence for the status line when done.
    jobs: Vec<crossbeam_channel::Receiver<Result<String, String>>>,
    /// A folder search for moved images: the folder, and the answer.
    relinking: Option<(
        PathBuf,
        crossbeam_channel::Receiver<Result<crate::app::import::RelinkReport, crate::store::StoreError>>,
    )>,
    /// Pages being imported (files and folders from the Workspace menu), with progress.
    pub(crate) importing: Option<crate::app::import_job::ImportJob>,
    /// Password-protected PDFs the last import skipped; the window asks for their password.
    pub(crate) locked_pdfs: Vec<PathBuf>,
    /// What is typed into that question (never kept after the import it is for).
    pub(crate) pdf_password: String,
}

/// Keeping up with the team: the lease's heartbeat and what other people change.
struct TeamPulse {
    /// How often the lease on the open document is renewed, and when it last was.
    lease_beat: std::time::Duration,
    last_beat: std::time::Instant,
    /// What other people change, as it happens (started with the first frame).
    live: Option<LiveFeed>,
    /// Others changed the open document; reload once this person's gesture is finished.
    reload_deferred: bool,
    /// Others changed something: the queue (and stats) follow, at most once a second.
    live_refresh_due: bool,
    last_live_refresh: Option<std::time::Instant>,
}

impl TeamPulse {
    fn new(lease_beat: std::time::Duration) -> Self {
        Self {
            lease_beat,
            last_beat: std::time::Instant::now(),
            live: None,
            reload_deferred: false,
            live_refresh_due: false,
            last_live_refresh: None,
        }
    }
}

/// The store's answer to one edit of a batch.
struct Answer {
    after: After,
    provisional: Option<AnnId>,
    message: Option<String>,
    changes_queue: bool,
    result: Result<Outcome, CommandError>,
}

/// What to do once a queue has been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ThenOpen {
    Nothing,
    /// In the Review view: the first document when the open one is not in the queue.
    FirstUnlessListed,
    /// Review's "save and next": the next document after `was`.
    Next {
        was: Option<DocId>,
    },
}

/// The window's store worker: jobs on the person's desk, replies applied to the annotator.
type DeskWorker = Worker<Desk, Annotator>;

pub struct Annotator {
    pub(crate) workspace: Workspace,
    user: User,
    /// The person's connection to the workspace, on its own thread: every read and write.
    desk: DeskWorker,
    pub(crate) labels: Vec<Label>,
    pub(crate) queue: Vec<Document>,
    pub(crate) filter: QueueFilter,
    pub(crate) doc: Option<Document>,
    /// The document asked for and not read yet.
    opening: Option<DocId>,
    /// Boxes and links of `doc`.
    pub(crate) anns: Vec<Annotation>,
    pub(crate) links: Vec<Link>,
    pub(crate) editor: Editor,
    /// Edits on their way to the store.
    outbox: Outbox,
    /// Boxes with an edit the store has not confirmed yet (drawn as not saved).
    pub(crate) unsaved: std::collections::HashSet<AnnId>,
    pub(crate) status: Status,
    pub(crate) edits_saved: u64,
    pub(crate) activity: ActivityTracker,
    /// Activity events on their way to the store.
    activity_sending: bool,
    pub(crate) text: TextDraft,
    pub(crate) view: ViewFlags,
    /// Image coordinates under the mouse, for the status line.
    pub(crate) cursor_img: Option<crate::domain::Point>,
    pub(crate) relink_message: Option<String>,
    /// Review mode: the active view, the review queue and the open document's review.
    pub(crate) review: super::review_state::ReviewState,
    pub(crate) stats: super::stats_ui::StatsState,
    /// Someone else holds the open document: their name, until when (the store's clock).
    /// The page is read-only meanwhile.
    pub(crate) held_by: Option<(String, i64)>,
    /// Documents other people are working on (shown in the queue).
    pub(crate) leased: std::collections::HashMap<DocId, String>,
    /// The workspace cannot be reached (the sentence for the banner).
    pub(crate) offline: Option<String>,
    /// Keeping up with the team: the lease's heartbeat and other people's changes.
    team: TeamPulse,
    /// The page image: its load, its tiles, whether to fit it.
    pub(crate) pv: PageView,
    /// Work on workers of its own: assignment and objectives, folder re-linking, imports.
    pub(crate) bg: Background,
    /// The workspace's box style (drawn boxes snap to it) and its settings window.
    pub(crate) box_style: super::boxstyle_ui::BoxStyleState,
    /// The label schema window (leads).
    pub(crate) schema: super::schema_ui::SchemaState,
}

impl Annotator {
    /// Opens the workspace as `user`: the window shows at once, and the labels, the queue and
    /// the first document to work on arrive from the store worker.
    pub fn new(workspace: &Workspace, store: Store, user: User) -> Result<Self, CommandError> {
        let desk = Desk::new(Session::new(store, user.clone()));
        let lease_beat = desk.leases.heartbeat_interval();
        let desk = Worker::start("facture-store", desk)
            .map_err(|e| CommandError::Refused(format!("cannot start the store worker: {e}")))?;
        let mut a = Self {
            workspace: workspace.clone(),
            user: user.clone(),
            desk,
            labels: Vec::new(),
            queue: Vec::new(),
            filter: QueueFilter::default(),
            doc: None,
            opening: None,
            anns: Vec::new(),
            links: Vec::new(),
            editor: Editor::new(Viewport::new(1, 1, ScreenRect::new(0.0, 0.0, 800.0, 600.0))),
            outbox: Outbox::default(),
            pv: PageView {
                page: PageState::NoDocument,
                tiles: TileCache::default(),
                loader: PageLoader::new(),
                load_wanted: false,
                fit_pending: true,
            },
            bg: Background::default(),
            box_style: Default::default(),
            schema: Default::default(),
            unsaved: Default::default(),
            status: Status::Info("Opening the workspace…".into()),
            edits_saved: 0,
            activity: ActivityTracker::new(user.id),
            activity_sending: false,
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
            review: super::review_state::ReviewState::new(user.role, Vec::new()),
            stats: super::stats_ui::StatsState::default(),
            held_by: None,
            leased: Default::default(),
            offline: None,
            team: TeamPulse::new(lease_beat),
        };
        // Reviewers start in the review queue, unless nothing waits there.
        let query = a.queue_query();
        let opening = a.outbox.batches;
        a.desk.submit(move |desk| {
            let start = desk.start(query);
            Box::new(move |a: &mut Annotator| a.started(start, opening))
        });
        Ok(a)
    }

    fn started(&mut self, start: Result<Start, String>, batch: u64) {
        let start = match start {
            Ok(s) => s,
            Err(e) => {
                self.status = Status::Error(e);
                return;
            }
        };
        if matches!(self.status, Status::Info(ref s) if s == "Opening the workspace…") {
            self.status = Status::Idle;
        }
        self.labels = start.labels;
        self.review.users = start.users;
        if !start.review && self.review.view == super::review_state::WorkView::Review {
            self.review.view = super::review_state::WorkView::Annotate;
        }
        self.took_queue(start.queue);
        if let Some(e) = start.lease_error {
            self.status = Status::Error(e);
        }
        match start.opened {
            Some(Ok(opened)) if self.doc.is_none() && self.opening.is_none() => {
                self.show_document(opened.snapshot.doc.clone());
                self.opened(opened, batch);
            }
            Some(Err(e)) => self.status = Status::Error(format!("cannot open the first document: {e}")),
            _ => {}
        }
    }

    /// Waits until the store worker has answered everything asked of it so far, and takes the
    /// answers in (scripts and tests; the window itself never waits).
    pub fn wait_for_store(&mut self) {
        self.drain(std::time::Duration::from_secs(60));
    }

    /// Takes in answers until nothing is outstanding (answers may ask for more) or `limit`.
    fn drain(&mut self, limit: std::time::Duration) {
        let t0 = std::time::Instant::now();
        while self.desk.outstanding() > 0 && t0.elapsed() < limit {
            for reply in self.desk.wait_idle(limit.saturating_sub(t0.elapsed())) {
                reply(self);
            }
        }
    }

    /// Blocks until the answers to everything asked so far have arrived, without taking them
    /// in (the next frame does). Tests call it after each frame so a kittest run is
    /// deterministic; the window never does.
    pub fn wait_for_answers(&self) {
        self.desk.wait_answered(std::time::Duration::from_secs(60));
    }

    /// Whether the store worker still has work the window waits for (edits being saved,
    /// reads on their way).
    pub fn is_waiting_for_store(&self) -> bool {
        self.desk.outstanding() > 0
    }

    /// Takes in the store worker's answers. Runs first in each frame.
    fn take_answers(&mut self, ctx: &egui::Context) {
        let waker = ctx.clone();
        self.desk.set_waker(move || waker.request_repaint());
        for reply in self.desk.poll() {
            reply(self);
        }
        if self.desk.outstanding() > 0 {
            // the waker repaints when an answer arrives; this is only a safety net
            ctx.request_repaint_after(std::time::Duration::from_millis(250));
        }
    }

    // ---- read access for panels, tests and extensions ----------------------------------------

    pub fn user(&self) -> &User {
        &self.user
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
        &self.pv.page
    }

    pub fn status(&self) -> &Status {
        &self.status
    }

    /// True once the page image is decoded (or failed): nothing more will arrive from the loader.
    pub fn page_settled(&self) -> bool {
        matches!(self.pv.page, PageState::Ready(_) | PageState::Failed(_) | PageState::NoDocument)
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
        self.doc.as_ref().is_some_and(|d| crate::app::desk::may_edit(self.user.role, d.status))
    }

    // ---- queue and documents -------------------------------------------------------------

    /// The queue the window shows now: its view and filters.
    pub(crate) fn queue_query(&self) -> QueueQuery {
        QueueQuery {
            review: self.review.view == super::review_state::WorkView::Review,
            status: self.filter.status,
            name_contains: self.filter.name.clone(),
            annotator: self.review.filter_annotator,
            label: self.review.filter_label,
            shelved: self.filter.shelved && self.user.role == crate::domain::Role::Lead,
            text: self.filter.text.clone(),
            verdict: self.filter.verdict,
        }
    }

    /// Re-reads the queue (annotators see their documents and unassigned ones; reviewers and
    /// leads see all; the Review view shows the review queue), and who works on what.
    pub fn refresh_queue(&mut self) {
        self.read_queue(ThenOpen::Nothing);
    }

    pub(crate) fn read_queue(&mut self, then: ThenOpen) {
        let q = self.queue_query();
        self.desk.submit(move |desk| {
            let read = desk.queue(&q);
            Box::new(move |a: &mut Annotator| {
                match read {
                    Ok(view) if q == a.queue_query() => a.took_queue(view),
                    Ok(_) => {} // the view or filter changed meanwhile: a newer read follows
                    Err(e) => a.status = Status::Error(e),
                }
                a.then_open(then);
            })
        });
    }

    fn took_queue(&mut self, view: QueueView) {
        self.queue = view.docs;
        if self.review.view == super::review_state::WorkView::Review {
            self.review.in_review = view.in_review;
            self.review.items = view.items;
        }
        self.leased = view.leased;
    }

    fn then_open(&mut self, then: ThenOpen) {
        let current = self.doc.as_ref().map(|d| d.id).or(self.opening);
        match then {
            ThenOpen::Nothing => {}
            ThenOpen::FirstUnlessListed => {
                if !self.queue.iter().any(|d| Some(d.id) == current)
                    && let Some(first) = self.queue.first().map(|d| d.id)
                {
                    self.open_document(first);
                }
            }
            ThenOpen::Next { was } => {
                let next = self.queue.iter().find(|d| Some(d.id) != was).map(|d| d.id);
                if let Some(id) = next {
                    self.open_document(id);
                } else if let Status::Info(s) = &self.status {
                    self.status = Status::Info(format!("{s} The review queue is empty."));
                }
            }
        }
    }

    /// Re-reads the label schema (changed by a lead, here or in another window): the palette,
    /// the hotkeys and the boxes' colours follow.
    pub fn reload_labels(&mut self) {
        self.desk.submit(|desk| {
            let read = desk.session.store().labels();
            Box::new(move |a: &mut Annotator| match read {
                Ok(labels) => a.labels = labels,
                Err(e) => a.status = Status::Error(format!("cannot read the labels: {e}")),
            })
        });
    }

    /// Runs `job` on the store worker, after what was asked of it before; its reply is applied
    /// to the window when it arrives. For panels in files of their own (the schema window).
    pub(crate) fn on_desk(
        &mut self,
        job: impl FnOnce(&mut Desk) -> crate::app::worker::Reply<Annotator> + Send + 'static,
    ) -> bool {
        self.desk.submit(job)
    }

    /// Who else is working on what, for the queue.
    pub(crate) fn refresh_leases(&mut self) {
        self.desk.submit(|desk| {
            let read = desk.leased();
            Box::new(move |a: &mut Annotator| match read {
                Ok(leased) => a.leased = leased,
                Err(e) => a.status = Status::Error(format!("cannot tell who works on what: {e}")),
            })
        });
    }

    /// Takes the lease on the open document when this user may work on it; read-only while
    /// someone else holds it.
    fn claim_current(&mut self) {
        self.claim(false);
    }

    /// `lost`: the hold ran out (the heartbeat said so); the status line tells what became of it.
    fn claim(&mut self, lost: bool) {
        let Some(doc) = self.doc.as_ref().map(|d| d.id) else { return };
        let reviewing_view = self.review.view == super::review_state::WorkView::Review;
        self.desk.submit(move |desk| {
            let claim = desk.claim(doc, reviewing_view);
            Box::new(move |a: &mut Annotator| a.claimed(doc, claim, lost))
        });
    }

    fn claimed(&mut self, doc: DocId, claim: Result<Option<(String, i64)>, CommandError>, lost: bool) {
        if self.doc.as_ref().map(|d| d.id) != Some(doc) {
            return;
        }
        match claim {
            Ok(held_by) => {
                if lost {
                    self.status = Status::Error(match &held_by {
                        Some((name, _)) => format!("Your hold on this page ran out and {name} is working on it now."),
                        None => "Your hold on this page ran out; it is yours again.".into(),
                    });
                }
                self.held_by = held_by;
            }
            Err(e) => self.status = Status::Error(format!("cannot hold this document for you: {e}")),
        }
    }

    /// How long this window's leases last and how often it renews them (tests, and teams that
    /// want a shorter hand-back after a crash). Takes effect with the next document opened.
    pub fn set_lease_timing(&mut self, ttl: std::time::Duration, heartbeat: std::time::Duration) {
        self.team.lease_beat = heartbeat;
        self.desk.submit(move |desk| {
            desk.leases = LeaseKeeper::new(ttl).with_heartbeat(heartbeat);
            Box::new(|_: &mut Annotator| {})
        });
        self.claim_current();
    }

    /// A lead ends whoever's lease is on the open document, and takes it.
    pub fn break_lease(&mut self) {
        let Some(doc) = self.doc.as_ref().map(|d| d.id) else { return };
        if self.user.role != Role::Lead {
            return;
        }
        self.desk.submit(move |desk| {
            let broken = desk.session.store_mut().break_lease(doc);
            Box::new(move |a: &mut Annotator| match broken {
                Ok(_) => {
                    a.claim_current();
                    a.refresh_leases();
                    a.status = Status::Info("Lease broken: the document is yours now.".into());
                }
                Err(e) => a.status = Status::Error(format!("cannot break the lease: {e}")),
            })
        });
    }

    /// Opens a document: the page and its boxes arrive from the store worker (at once when it
    /// is in the queue: its size is known, so the view is set before they come).
    pub fn open_document(&mut self, id: DocId) {
        if self.doc.as_ref().is_some_and(|d| d.id == id) && self.opening.is_none() || self.opening == Some(id) {
            return;
        }
        self.commit_text_draft();
        self.apply_pending();
        let known = self.queue.iter().find(|d| d.id == id).cloned();
        self.opening = Some(id);
        if let Some(doc) = known {
            self.show_document(doc);
        }
        let reviewing_view = self.review.view == super::review_state::WorkView::Review;
        let batch = self.outbox.batches;
        self.desk.submit(move |desk| {
            let opened = desk.open(id, reviewing_view);
            Box::new(move |a: &mut Annotator| {
                if a.opening != Some(id) {
                    return; // another document was asked for since
                }
                match opened {
                    Ok(o) => {
                        if a.doc.as_ref().map(|d| d.id) != Some(id) {
                            a.show_document(o.snapshot.doc.clone());
                        }
                        a.opened(o, batch);
                    }
                    Err(e) => {
                        a.opening = None;
                        a.status = Status::Error(format!("cannot open document {id}: {e}"));
                    }
                }
            })
        });
    }

    fn opened(&mut self, o: Opened, batch: u64) {
        self.opening = None;
        self.held_by = o.held_by;
        self.took_snapshot(o.snapshot, batch);
    }

    /// Shows `doc` with no boxes yet: the view, the page load, the panels' per-document state.
    fn show_document(&mut self, doc: Document) {
        self.activity.show_document(Some(doc.id), system_now_ms());
        // Keep the zoom and position from the previous document (unless it was just fitted).
        let vp = &self.editor.viewport;
        let mut fitted = vp.clone();
        fitted.fit_page();
        let keep = (self.review.keep_view && self.doc.is_some() && !self.pv.fit_pending && fitted != *vp)
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
        self.editor.set_boxes(Vec::new());
        self.anns.clear();
        self.links.clear();
        self.unsaved.clear();
        self.review.doc = Default::default();
        self.held_by = None;
        self.doc = Some(doc);
        self.text = TextDraft::default();
        self.pv.tiles.clear();
        self.pv.page = PageState::Loading { fraction: 0.0, stage: "queued" };
        self.pv.load_wanted = true;
        self.pv.fit_pending = keep.is_none();
        self.relink_message = None;
        self.review.note_target = None;
        self.review.note.clear();
        self.review.reject_comment.clear();
        self.review.doc_comment.clear();
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
        self.take_answers(ctx);
        self.stats.poll(ctx);
        self.keep_lease(ctx);
        self.follow_others(ctx);
        self.poll_relink();
        self.poll_import();
        self.poll_jobs();
        if !self.outbox.unsent.is_empty() {
            let due = self.outbox.last_send.is_none_or(|t| t.elapsed() >= UNSENT_RETRY);
            if due {
                self.send_unsent();
            }
            ctx.request_repaint_after(UNSENT_RETRY);
        }
        if self.bg.relinking.is_some() || !self.bg.jobs.is_empty() {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
        if self.pv.load_wanted {
            self.pv.load_wanted = false;
            if let Some(doc) = self.doc.clone() {
                let max_side = ctx.input(|i| i.max_texture_side) as u32;
                let waker = ctx.clone();
                let source = crate::app::pages::PageRef::in_workspace(&self.workspace, &doc);
                self.pv.loader.request(doc.id, source, max_side, move || waker.request_repaint());
            }
        }
        for event in self.pv.loader.poll() {
            let current = self.doc.as_ref().map(|d| d.id);
            match event {
                LoadEvent::Progress { doc, fraction, stage } if Some(doc) == current => {
                    self.pv.page = PageState::Loading { fraction, stage };
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
                    self.pv.tiles.clear();
                    self.pv.page = PageState::Ready(page);
                }
                LoadEvent::Failed { doc, error } if Some(doc) == current => self.pv.page = PageState::Failed(error),
                _ => {}
            }
        }
    }

    /// Takes in what other people changed: the open document reloads (once any gesture or
    /// typing of this person's is finished), the queue, statuses and stats follow, at most
    /// once a second.
    fn follow_others(&mut self, ctx: &egui::Context) {
        let live = self.team.live.get_or_insert_with(|| {
            let waker = ctx.clone();
            LiveFeed::start(&self.workspace, move || waker.request_repaint())
        });
        let me = self.user.id;
        let current = self.doc.as_ref().map(|d| d.id);
        for event in live.poll() {
            match event {
                LiveEvent::Changed(c) => {
                    if c.docs.iter().any(|&(d, by)| Some(d) == current && by != Some(me)) {
                        self.team.reload_deferred = true;
                    }
                    self.team.live_refresh_due = true;
                }
                LiveEvent::Lost(why) => {
                    self.offline = Some(format!(
                        "The workspace cannot be reached ({why}). The page stays; nothing you do is saved until it \
                         is back."
                    ));
                }
                LiveEvent::Back => {
                    self.offline = None;
                    self.send_unsent(); // what waited is sent first
                    self.team.reload_deferred = true;
                    self.team.live_refresh_due = true;
                    self.status = Status::Info("The workspace is back.".into());
                }
            }
        }
        let busy = self.editor.is_gesture_active() || self.text.target.is_some() || !self.outbox.pending.is_empty();
        if self.team.reload_deferred && !busy {
            self.team.reload_deferred = false;
            self.reload_boxes();
        }
        let recent = self.team.last_live_refresh.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(1));
        if self.team.live_refresh_due && !recent {
            self.team.live_refresh_due = false;
            self.team.last_live_refresh = Some(std::time::Instant::now());
            self.refresh_queue();
            self.reload_labels(); // another lead may have changed the schema
            if self.review.view == super::review_state::WorkView::Stats && !self.stats.is_computing() {
                self.stats.refresh(&self.workspace);
            }
        } else if self.team.live_refresh_due {
            ctx.request_repaint_after(std::time::Duration::from_secs(1));
        }
    }

    /// The heartbeat: renews the lease on the open document, and says so when it was lost.
    fn keep_lease(&mut self, ctx: &egui::Context) {
        ctx.request_repaint_after(self.team.lease_beat);
        if self.team.last_beat.elapsed() < self.team.lease_beat {
            return;
        }
        self.team.last_beat = std::time::Instant::now();
        self.desk.submit(|desk| {
            let kept = desk.leases.heartbeat(&mut desk.session, std::time::Instant::now());
            Box::new(move |a: &mut Annotator| match kept {
                Ok(true) => {}
                Ok(false) => {
                    a.claim(true);
                    a.refresh_leases();
                }
                Err(e) => a.status = Status::Error(format!("cannot renew your hold on this page: {e}")),
            })
        });
    }

    /// Whether this person may turn the open page: leads and annotators, while they may edit it
    /// (reviewers judge pages as they were annotated).
    pub fn may_rotate(&self) -> bool {
        self.editable() && self.user.role != Role::Reviewer
    }

    /// Turns the open page `quarters` quarter turns clockwise (3: one counter-clockwise); its
    /// boxes follow, and the page is decoded again once the store has it. One undo step.
    pub fn rotate_page(&mut self, quarters: u8) {
        let Some(doc) = self.doc.as_ref().map(|d| d.id) else { return };
        if !self.may_rotate() {
            self.status = Status::Info("this page cannot be turned now (only its annotator or a lead can)".into());
            return;
        }
        self.commit_text_draft();
        self.push(Command::RotatePage { doc, quarters }, After::Nothing);
    }

    /// Retries loading the current page (after a re-link).
    pub fn reload_page(&mut self) {
        if self.doc.is_some() {
            self.pv.page = PageState::Loading { fraction: 0.0, stage: "queued" };
            self.pv.tiles.clear();
            self.pv.load_wanted = true;
        }
    }

    // ---- commands ----------------------------------------------------------------------------

    pub fn push(&mut self, cmd: Command, after: After) {
        self.outbox.pending.push((cmd, after));
    }

    /// Turns the canvas editor's intents into commands (one undo step each).
    pub fn handle_intents(&mut self, intents: Vec<Intent>) {
        let Some(doc) = self.doc.as_ref().map(|d| d.id) else { return };
        for intent in intents {
            match intent {
                // In review, a drawn box is one the annotator missed.
                Intent::AddBox { rect, as_drawn } if self.reviewing() => self.push(
                    Command::AddMissingBox {
                        doc,
                        rect: self.snapped(rect, as_drawn),
                        label: None,
                        text: String::new(),
                        comment: String::new(),
                    },
                    After::SelectCreated,
                ),
                Intent::AddBox { rect, as_drawn } => self.push(
                    Command::AddBox {
                        doc,
                        rect: self.snapped(rect, as_drawn),
                        quad: None,
                        label: None,
                        text: String::new(),
                    },
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

    /// A drawn box snapped to the ink it encloses plus the workspace's padding, unless Shift
    /// kept it `as_drawn` (or the page's pixels are not here yet).
    fn snapped(&self, rect: crate::domain::Rect, as_drawn: bool) -> crate::domain::Rect {
        match &self.pv.page {
            PageState::Ready(page) if !as_drawn => {
                crate::app::boxstyle::snap_drawn(page, &rect, self.box_style.effective())
            }
            _ => rect,
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

    /// Sends the commands made this frame to the store worker, in order, as one batch: the one
    /// place edits go. The canvas shows them at once, marked as not saved until the store has
    /// them; the worker's answer then refreshes the document from the store.
    pub fn apply_pending(&mut self) {
        if self.outbox.pending.is_empty() {
            return;
        }
        self.outbox.batches += 1;
        let batch = self.outbox.batches;
        let shown = self.doc.as_ref().map(|d| d.id);
        let mut made = Vec::new();
        let mut select = None;
        for (cmd, after) in std::mem::take(&mut self.outbox.pending) {
            let on_page = Some(cmd.doc()) == shown;
            let draws = matches!(cmd, Command::AddBox { .. } | Command::AddMissingBox { .. });
            let provisional = (draws && on_page).then(|| {
                self.outbox.next_provisional -= 1;
                AnnId(self.outbox.next_provisional + 1)
            });
            if on_page {
                let touched = crate::app::desk::preview(
                    &cmd,
                    &mut self.anns,
                    &mut self.links,
                    provisional.map(|p| (p, &self.user)),
                );
                self.unsaved.extend(touched);
            }
            if let Some(p) = provisional
                && after != After::Nothing
            {
                select = Some((p, after == After::SelectCreatedAndEdit));
            }
            made.push(Queued { batch, cmd, after, provisional });
        }
        self.show_boxes();
        // a drawn box is selected at once (and its text field opened), before the store answers
        if let Some((p, edit)) = select {
            self.editor.set_selection([p], Some(p));
            if edit {
                self.text.focus_request = true;
            }
        }
        if self.outbox.unsent.is_empty() {
            self.send(made);
        } else {
            // the workspace could not be reached: this waits behind what already waits
            self.outbox.unsent.extend(made);
        }
    }

    fn send(&mut self, edits: Vec<Queued>) {
        let batch = self.outbox.batches;
        let shown = self.doc.as_ref().map(|d| d.id);
        self.outbox.last_send = Some(std::time::Instant::now());
        let count = edits.len();
        let sent = self.desk.submit(move |desk| {
            desk.resume();
            let mut answers = Vec::new();
            let mut unsent = Vec::new();
            for q in edits {
                if !unsent.is_empty() {
                    unsent.push(q);
                    continue;
                }
                let message = super::review_state::done_message(&q.cmd);
                let changes_queue = super::review_state::changes_queue(&q.cmd);
                match desk.edit(q.cmd.clone(), q.after == After::Nudge, q.provisional) {
                    Sent::Unsent => unsent.push(q),
                    Sent::Answered(result) => answers.push(Answer {
                        after: q.after,
                        provisional: q.provisional,
                        message,
                        changes_queue,
                        result,
                    }),
                }
            }
            let snapshot = match shown {
                Some(doc) if unsent.is_empty() => Some(desk.snapshot(doc)),
                _ => None,
            };
            Box::new(move |a: &mut Annotator| a.answered(answers, unsent, snapshot, batch))
        });
        if sent {
            self.outbox.sending += count;
        } else {
            self.status = Status::Error("Not saved: the store worker stopped; reopen the workspace.".into());
        }
    }

    /// Sends the edits that wait (the workspace could not be reached), in the order they were
    /// made.
    fn send_unsent(&mut self) {
        if self.outbox.unsent.is_empty() {
            return;
        }
        let waiting = std::mem::take(&mut self.outbox.unsent);
        self.send(waiting);
    }

    /// The store's answers to a batch.
    fn answered(
        &mut self,
        answers: Vec<Answer>,
        unsent: Vec<Queued>,
        snapshot: Option<Result<DocSnapshot, CommandError>>,
        batch: u64,
    ) {
        self.outbox.sending = self.outbox.sending.saturating_sub(answers.len() + unsent.len());
        let mut select: Option<(Vec<AnnId>, bool)> = None;
        let mut queue_changed = false;
        for answer in answers {
            match answer.result {
                Ok(outcome @ Outcome::Applied(_)) => {
                    self.edits_saved += 1;
                    queue_changed |= answer.changes_queue;
                    self.status = answer.message.map_or(Status::Saved, Status::Info);
                    let created = outcome.created_boxes();
                    if let (Some(p), Some(&made)) = (answer.provisional, created.first()) {
                        self.renumber(p, made); // already selected under its provisional id
                    } else if answer.after != After::Nothing && !created.is_empty() {
                        select = Some((created, answer.after == After::SelectCreatedAndEdit));
                    }
                }
                Ok(Outcome::NoChange) => {}
                Err(e) => self.status = Status::Error(sentence(&e)),
            }
        }
        if !unsent.is_empty() {
            // nothing of these was saved: they wait, in order, and are sent when the workspace
            // is back (the count shows beside the status line, the boxes as not saved)
            self.outbox.unsent.extend(unsent);
            self.outbox.unsent.sort_by_key(|q| q.batch);
            self.status = Status::Error("The workspace cannot be reached: your latest edits are not saved yet.".into());
            return;
        }
        match snapshot {
            Some(Ok(snap)) => self.took_snapshot(snap, batch),
            Some(Err(e)) => self.status = Status::Error(format!("cannot read the boxes: {e}")),
            None => {}
        }
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

    /// Re-reads the current document (its row, boxes, links and review) from the store.
    pub fn reload_boxes(&mut self) {
        let Some(doc) = self.doc.as_ref().map(|d| d.id) else {
            self.anns.clear();
            self.links.clear();
            self.editor.set_boxes(Vec::new());
            self.review.doc = Default::default();
            return;
        };
        let batch = self.outbox.batches;
        self.desk.submit(move |desk| {
            let snap = desk.snapshot(doc);
            Box::new(move |a: &mut Annotator| match snap {
                Ok(snap) => a.took_snapshot(snap, batch),
                Err(e) => a.status = Status::Error(format!("cannot read the boxes: {e}")),
            })
        });
    }

    /// Shows what the store holds of the open document. Boxes read before this window's
    /// newest edits, or while edits wait to be sent, are older than the screen: those stay.
    fn took_snapshot(&mut self, snap: DocSnapshot, batch: u64) {
        let id = snap.doc.id;
        if self.doc.as_ref().map(|d| d.id) != Some(id) {
            return; // another document is open now
        }
        if let Some(q) = self.queue.iter_mut().find(|q| q.id == id) {
            *q = snap.doc.clone();
        }
        let status_changed = self.doc.as_ref().is_some_and(|old| old.status != snap.doc.status);
        // re-linked (here or by someone else): the page comes from its new file
        let moved = self.doc.as_ref().is_some_and(|old| old.path != snap.doc.path);
        // turned (here, by an undo, or by someone else): the page is decoded again and fitted
        let turned = self.doc.as_ref().is_some_and(|old| {
            old.rotation != snap.doc.rotation || (old.width, old.height) != (snap.doc.width, snap.doc.height)
        });
        if turned {
            self.editor.viewport.set_image_size(snap.doc.width, snap.doc.height);
            self.pv.fit_pending = true;
        }
        self.doc = Some(snap.doc);
        if turned || moved && !matches!(self.pv.page, PageState::Ready(_)) {
            self.reload_page();
        }
        self.review.doc = snap.review;
        if batch == self.outbox.batches && self.outbox.unsent.is_empty() {
            self.anns = snap.anns;
            self.links = snap.links;
            self.unsaved.clear();
            self.show_boxes();
            // the text field follows the store (e.g. after undo of a text change)
            if let Some(id) = self.text.target
                && self.text.buffer == self.text.original
            {
                let text = self.annotation(id).map(|a| a.text.clone()).unwrap_or_default();
                self.text.buffer = text.clone();
                self.text.original = text;
            }
        }
        // submitted, accepted, rejected: done with it here, so it is free for the next
        // person (a reviewer taking it into review keeps it)
        if status_changed && self.held_by.is_none() {
            self.claim_current();
        }
    }

    /// A drawn box got its id from the store: the canvas, the selection and the text field
    /// follow it from the provisional one.
    fn renumber(&mut self, provisional: AnnId, made: AnnId) {
        let Some(a) = self.anns.iter_mut().find(|a| a.id == provisional) else { return };
        a.id = made;
        if self.unsaved.remove(&provisional) {
            self.unsaved.insert(made);
        }
        let selection: Vec<AnnId> =
            self.editor.selection().iter().map(|&id| if id == provisional { made } else { id }).collect();
        let primary = self.editor.primary().map(|id| if id == provisional { made } else { id });
        self.show_boxes();
        self.editor.set_selection(selection, primary);
        if self.text.target == Some(provisional) {
            self.text.target = Some(made);
        }
    }

    /// The canvas follows `anns`.
    fn show_boxes(&mut self) {
        let boxes = self
            .anns
            .iter()
            .map(|a| match a.quad {
                Some(q) => CanvasBox::with_quad(a.id, q),
                None => CanvasBox::new(a.id, a.rect),
            })
            .collect();
        self.editor.set_boxes(boxes);
    }

    // ---- activity and re-linking ---------------------------------------------------------------

    /// Sends the activity events gathered so far (one batch in flight at a time; what cannot
    /// be written goes back, in order, and is tried with the next flush).
    pub fn flush_activity(&mut self) {
        if self.activity_sending || self.activity.pending().is_empty() {
            return;
        }
        let mut events = self.activity.take_pending();
        let user = self.user.id;
        self.activity_sending = true;
        self.desk.submit(move |desk| {
            let written = crate::app::activity::write(desk.session.store_mut(), user, &mut events);
            Box::new(move |a: &mut Annotator| {
                a.activity_sending = false;
                if let Err(e) = written {
                    a.activity.put_back(events);
                    a.status = Status::Error(format!("cannot record activity: {e}"));
                }
            })
        });
    }

    /// Leaving the workspace or closing the window: what was typed is sent, the open document
    /// closed, the leases given back; waits (a few seconds at most) for the store to have it.
    pub fn shutdown(&mut self) {
        self.commit_text_draft();
        self.apply_pending();
        self.send_unsent();
        self.activity.close(system_now_ms());
        self.flush_activity();
        self.desk.submit(|desk| {
            let released = desk.leases.release_all(&mut desk.session);
            Box::new(move |a: &mut Annotator| {
                if let Err(e) = released {
                    a.status = Status::Error(format!("cannot give back your documents: {e}"));
                }
            })
        });
        self.drain(std::time::Duration::from_secs(10));
        self.pv.loader.cancel();
    }

    /// Edits this window has made that the store does not have yet: waiting to be sent, or
    /// sent and not confirmed. Closing the window now would lose them.
    pub fn edits_not_saved(&self) -> usize {
        self.outbox.unsent.len() + self.outbox.pending.len() + self.outbox.sending
    }

    /// Points the current document's file at `file` if its content hash matches.
    pub fn relink_file(&mut self, file: &Path) {
        let Some(doc) = self.doc.clone() else { return };
        let file = file.to_path_buf();
        self.desk.submit(move |desk| {
            let relinked = crate::app::loader::relink_file(desk.session.store_mut(), &doc, &file);
            Box::new(move |a: &mut Annotator| match relinked {
                Ok(()) => {
                    a.relink_message = None;
                    a.status = Status::Info(format!("re-linked to {}", file.display()));
                    a.reload_boxes(); // the page follows its new file (see took_snapshot)
                    a.refresh_queue();
                }
                Err(e) => a.relink_message = Some(e),
            })
        });
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
                self.bg.relinking = Some((dir.to_path_buf(), rx));
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
        let (ws, user) = (self.workspace.clone(), self.user.clone());
        let spawned = std::thread::Builder::new().name("facture-job".into()).spawn(move || {
            let result = match crate::store::Store::connect(&ws) {
                Ok(store) => job(&mut Session::new(store, user)),
                Err(e) => Err(e.to_string()),
            };
            let _ = tx.send(result);
        });
        match spawned {
            Ok(_) => {
                self.bg.jobs.push(rx);
                self.status = Status::Info("Working on it…".into());
            }
            Err(e) => self.status = Status::Error(format!("cannot start: {e}")),
        }
    }

    /// Whether boxes with unconfirmed edits are marked on the canvas: while edits wait to be
    /// sent, or the store has taken noticeably long to confirm (a quick save is not worth a
    /// flicker).
    pub fn shows_unsaved(&self) -> bool {
        !self.unsaved.is_empty() && (!self.outbox.unsent.is_empty() || self.saving_for().is_some())
    }

    /// How long the store has been taking to confirm this window's edits, once that is longer
    /// than a moment (the status line says "Saving…").
    pub fn saving_for(&self) -> Option<std::time::Duration> {
        const MOMENT: std::time::Duration = std::time::Duration::from_millis(300);
        self.desk.waiting_for().filter(|t| self.outbox.sending > 0 && *t >= MOMENT)
    }

    /// How many edits wait to be sent (the workspace could not be reached); none are saved.
    pub fn unsent_edits(&self) -> usize {
        self.outbox.unsent.len()
    }

    /// Whether work started with [`Annotator::run_in_background`] (or an import) is still
    /// running.
    pub fn is_busy(&self) -> bool {
        !self.bg.jobs.is_empty() || self.bg.relinking.is_some() || self.bg.importing.is_some()
    }

    /// Imports page files and folders (images and PDFs, PDF pages at the default resolution)
    /// on a worker; progress and Cancel show in the status area, the queue follows when done.
    pub fn import_pages(&mut self, paths: Vec<PathBuf>, ctx: &egui::Context) {
        self.import_with(paths, crate::app::import::ImportOptions::default(), ctx);
    }

    /// [`Annotator::import_pages`] with options (a password for protected PDFs).
    pub fn import_with(&mut self, paths: Vec<PathBuf>, opts: crate::app::import::ImportOptions, ctx: &egui::Context) {
        if paths.is_empty() {
            return;
        }
        if self.bg.importing.is_some() {
            self.status = Status::Info("An import is already running; wait for it or cancel it.".into());
            return;
        }
        let waker = ctx.clone();
        let started = crate::app::import_job::ImportJob::start(self.workspace.clone(), paths, opts, move || {
            waker.request_repaint()
        });
        match started {
            Ok(job) => {
                self.bg.importing = Some(job);
                self.status = Status::Info("Importing…".into());
            }
            Err(e) => self.status = Status::Error(format!("cannot start the import: {e}")),
        }
    }

    /// The password typed for the protected PDFs an import skipped: they are imported again
    /// with it (the password goes to that import only and is then dropped).
    pub fn import_locked_with(&mut self, password: String, ctx: &egui::Context) {
        let files = std::mem::take(&mut self.bg.locked_pdfs);
        let opts = crate::app::import::ImportOptions { password: Some(password), ..Default::default() };
        self.import_with(files, opts, ctx);
    }

    fn poll_import(&mut self) {
        let Some(job) = self.bg.importing.as_mut() else { return };
        let Some(result) = job.poll() else { return };
        self.bg.importing = None;
        self.status = match result {
            Ok(report) => {
                // protected PDFs: the window asks for their password
                self.bg.locked_pdfs = report.locked.clone();
                let mut s = format!("Import: {}.", report.summary());
                if let Some((file, why)) = report.failed.first() {
                    let name =
                        file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into());
                    s.push_str(&format!(" First failure: {name}: {why}"));
                }
                if report.failed.is_empty() { Status::Info(s) } else { Status::Error(s) }
            }
            Err(e) => Status::Error(format!("Import failed: {e}")),
        };
        self.refresh_queue();
    }

    fn poll_jobs(&mut self) {
        let mut finished = Vec::new();
        self.bg.jobs.retain(|rx| match rx.try_recv() {
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
            self.reload_boxes();
            if self.review.view == super::review_state::WorkView::Stats {
                self.stats.refresh(&self.workspace);
            }
        }
    }

    /// Takes a folder search's result when it has arrived.
    fn poll_relink(&mut self) {
        let Some((dir, rx)) = &self.bg.relinking else { return };
        let found = match rx.try_recv() {
            Ok(found) => found,
            Err(crossbeam_channel::TryRecvError::Empty) => return,
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                Err(crate::store::StoreError::Invalid("the search ended without an answer".into()))
            }
        };
        let dir = dir.clone();
        self.bg.relinking = None;
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
                self.reload_boxes(); // the page follows its new file (see took_snapshot)
                self.refresh_queue();
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
