//! Review mode's runtime state: which view the window shows (Annotate, Review, Stats), the
//! review queue, and the current document's review facts (rounds, verdicts, comments, the diff
//! since the last round), re-read from the store whenever the boxes are.

use crate::app::Command;
use crate::app::review::ReviewItem;
use crate::domain::{AnnId, Comment, DocStatus, DocVerdict, LabelId, Role, User, UserId, Verdict};

use super::annotator::{After, Annotator, Status, ThenOpen};
use super::shortcuts::ReviewKey;

/// The window's top-level views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkView {
    Annotate,
    Review,
    Stats,
}

impl WorkView {
    pub fn name(self) -> &'static str {
        match self {
            WorkView::Annotate => "Annotate",
            WorkView::Review => "Review",
            WorkView::Stats => "Stats",
        }
    }

    /// The views a role may switch between.
    pub fn for_role(role: Role) -> &'static [WorkView] {
        match role {
            Role::Annotator => &[WorkView::Annotate],
            Role::Reviewer => &[WorkView::Annotate, WorkView::Review],
            Role::Lead => &[WorkView::Annotate, WorkView::Review, WorkView::Stats],
        }
    }
}

pub use crate::app::desk::DocReview;

impl DocReview {
    /// Notes pinned on the page for the annotator: the last round rejected the document and no
    /// new round has started.
    pub fn shows_rework_notes(&self) -> bool {
        self.open_round.is_none() && self.last_finished.as_ref().is_some_and(|r| r.verdict == Some(DocVerdict::Reject))
    }

    pub fn box_comments(&self, ann: AnnId) -> impl Iterator<Item = &Comment> {
        self.comments.iter().filter(move |c| c.ann == Some(ann))
    }

    pub fn doc_comments(&self) -> impl Iterator<Item = &Comment> {
        self.comments.iter().filter(|c| c.ann.is_none())
    }
}

/// Review mode's state, kept in the annotator.
#[derive(Debug, Clone)]
pub struct ReviewState {
    pub view: WorkView,
    pub items: Vec<ReviewItem>,
    /// Documents in review by this user (leads: by anyone), shown above the queue.
    pub in_review: Vec<crate::domain::Document>,
    pub filter_annotator: Option<UserId>,
    pub filter_label: Option<LabelId>,
    pub users: Vec<User>,
    pub doc: DocReview,
    /// The note typed for the selected box, and which box it is for.
    pub note_target: Option<AnnId>,
    pub note: String,
    pub note_focus: bool,
    pub doc_comment: String,
    pub reject_comment: String,
    /// Open the next document of the queue once the current one leaves review.
    pub advance: bool,
    /// Keep zoom and position when moving between documents.
    pub keep_view: bool,
}

impl ReviewState {
    pub fn new(role: Role, users: Vec<User>) -> Self {
        Self {
            view: if role == Role::Reviewer { WorkView::Review } else { WorkView::Annotate },
            items: Vec::new(),
            in_review: Vec::new(),
            filter_annotator: None,
            filter_label: None,
            users,
            doc: DocReview::default(),
            note_target: None,
            note: String::new(),
            note_focus: false,
            doc_comment: String::new(),
            reject_comment: String::new(),
            advance: false,
            keep_view: true,
        }
    }

    pub fn user_name(&self, id: Option<UserId>) -> String {
        match id {
            Some(id) => self.users.iter().find(|u| u.id == id).map_or_else(|| format!("user {id}"), |u| u.name.clone()),
            None => "nobody".into(),
        }
    }
}

/// The status line's sentence after a review command is applied (None: just "Saved").
pub fn done_message(cmd: &Command) -> Option<String> {
    Some(
        match cmd {
            Command::Submit { .. } | Command::SetStatus { .. } => "Submitted for review.",
            Command::StartReview { .. } => {
                "Review started: set a verdict per box (O B G X S), or Shift+O for all remaining."
            }
            Command::FinishReview { verdict: DocVerdict::Accept, .. } => "Accepted.",
            Command::FinishReview { verdict: DocVerdict::Reject, .. } => {
                "Rejected: the document goes back to its annotator with your notes."
            }
            Command::AcceptRemaining { .. } => "Every box without a verdict is now ok.",
            Command::AddMissingBox { .. } => "Missing box added: give it a label and its text.",
            Command::AddComment { .. } => "Comment saved.",
            Command::Assign { .. } | Command::AssignReviewer { .. } => "Assignment saved.",
            Command::MarkGold { .. } => "Marked as gold: its boxes are now the reference answer.",
            Command::ReissueGold { .. } => "Gold document reissued.",
            _ => return None,
        }
        .to_string(),
    )
}

/// Commands after which the review queue must be re-read.
pub fn changes_queue(cmd: &Command) -> bool {
    matches!(
        cmd,
        Command::Submit { .. }
            | Command::StartReview { .. }
            | Command::FinishReview { .. }
            | Command::Assign { .. }
            | Command::AssignReviewer { .. }
            | Command::ReissueGold { .. }
    )
}

impl Annotator {
    pub fn review_state(&self) -> &ReviewState {
        &self.review
    }

    pub fn view(&self) -> WorkView {
        self.review.view
    }

    /// Switches Annotate / Review / Stats (only to views the user's role has).
    pub fn set_view(&mut self, view: WorkView) {
        if !WorkView::for_role(self.user().role).contains(&view) || view == self.review.view {
            return;
        }
        self.commit_text_draft();
        self.apply_pending();
        self.review.view = view;
        if view == WorkView::Stats {
            return;
        }
        let then = if view == WorkView::Review { ThenOpen::FirstUnlessListed } else { ThenOpen::Nothing };
        self.read_queue(then);
    }

    /// True when this user is reviewing the current document now (its open round is theirs, or
    /// they are a lead): verdict keys work and a drawn box is a missing box.
    pub fn reviewing(&self) -> bool {
        let me = self.user();
        self.doc.as_ref().is_some_and(|d| d.status == DocStatus::InReview)
            && self.review.doc.open_round.as_ref().is_some_and(|r| r.reviewer == me.id || me.role == Role::Lead)
    }

    /// After a command that moves documents between queues: the queue is read again, and in
    /// review "save and next" opens the next document.
    pub(crate) fn after_queue_change(&mut self) {
        let was = self.doc.as_ref().map(|d| d.id);
        let then = if self.review.view == WorkView::Review && self.review.advance {
            self.review.advance = false;
            ThenOpen::Next { was }
        } else {
            ThenOpen::Nothing
        };
        self.read_queue(then);
    }

    /// Sets the selected boxes' verdict; the same verdict again clears it.
    pub(crate) fn set_verdict(&mut self, verdict: Verdict) {
        let Some(doc) = self.doc.as_ref().map(|d| d.id) else { return };
        if !self.reviewing() {
            self.status = Status::Info(review_hint(self.doc.as_ref().map(|d| d.status)));
            return;
        }
        let ids = self.selection();
        if ids.is_empty() {
            self.status = Status::Info("select a box first (click it, or Tab), then press its verdict key".into());
            return;
        }
        let all_same = ids.iter().all(|id| self.review.doc.verdicts.get(id).is_some_and(|v| v.verdict == verdict));
        for ann in ids {
            if all_same {
                self.push(Command::ClearVerdict { doc, ann }, After::Nothing);
            } else {
                let comment = self.note_for(ann);
                self.push(Command::SetVerdict { doc, ann, verdict, comment }, After::Nothing);
            }
        }
    }

    /// The note that goes with a verdict on `ann`: what is typed for it, else what it had.
    fn note_for(&self, ann: AnnId) -> String {
        if self.review.note_target == Some(ann) && !self.review.note.trim().is_empty() {
            return self.review.note.trim().to_string();
        }
        self.review.doc.verdicts.get(&ann).map(|v| v.comment.clone()).unwrap_or_default()
    }

    /// Saves the typed note on the selected box: on its verdict if it has one, else as a comment.
    pub(crate) fn save_box_note(&mut self) {
        let (Some(doc), Some(ann)) = (self.doc.as_ref().map(|d| d.id), self.review.note_target) else { return };
        let text = self.review.note.trim().to_string();
        let verdict = self.review.doc.verdicts.get(&ann).map(|v| v.verdict);
        match verdict {
            Some(verdict) if self.reviewing() => {
                self.push(Command::SetVerdict { doc, ann, verdict, comment: text }, After::Nothing)
            }
            _ => self.push(Command::AddComment { doc, ann: Some(ann), text }, After::Nothing),
        }
        self.review.note.clear();
    }

    pub(crate) fn review_key(&mut self, key: ReviewKey) {
        match key {
            ReviewKey::Verdict(v) => self.set_verdict(v),
            ReviewKey::AcceptRemaining => {
                if let (true, Some(doc)) = (self.reviewing(), self.doc.as_ref().map(|d| d.id)) {
                    self.push(Command::AcceptRemaining { doc }, After::Nothing);
                } else {
                    self.status = Status::Info(review_hint(self.doc.as_ref().map(|d| d.status)));
                }
            }
            ReviewKey::Note => {
                if self.editor.selection().len() == 1 {
                    self.review.note_focus = true;
                } else {
                    self.status = Status::Info("select one box to write a note on it".into());
                }
            }
        }
    }
}

fn review_hint(status: Option<DocStatus>) -> String {
    match status {
        Some(DocStatus::Submitted) => "Press \"Start review\" (right panel) first; then the verdict keys work.".into(),
        Some(DocStatus::InReview) => "Another reviewer is reviewing this document.".into(),
        _ => "Verdict keys work in review: open a submitted document from the Review queue.".into(),
    }
}

/// Display name and colour of a verdict.
pub fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "ok",
        Verdict::WrongBox => "wrong box",
        Verdict::WrongLabel => "wrong label",
        Verdict::WrongText => "wrong text",
        Verdict::Missing => "missing",
        Verdict::Spurious => "spurious",
    }
}

pub fn verdict_color(v: Verdict) -> eframe::egui::Color32 {
    use eframe::egui::Color32;
    match v {
        Verdict::Ok => Color32::from_rgb(70, 185, 95),
        Verdict::WrongBox => Color32::from_rgb(245, 140, 40),
        Verdict::WrongLabel => Color32::from_rgb(185, 110, 255),
        Verdict::WrongText => Color32::from_rgb(235, 70, 70),
        Verdict::Missing => Color32::from_rgb(60, 150, 255),
        Verdict::Spurious => Color32::from_rgb(230, 60, 170),
    }
}

/// The key that sets a verdict, as shown in buttons.
pub fn verdict_key(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "O",
        Verdict::WrongBox => "B",
        Verdict::WrongLabel => "G",
        Verdict::WrongText => "X",
        Verdict::Missing => "draw",
        Verdict::Spurious => "S",
    }
}
