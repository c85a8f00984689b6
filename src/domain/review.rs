//! Second-pass review: rounds, per-box verdicts, comments, and gold-standard boxes.

use serde::{Deserialize, Serialize};

use super::{AnnId, DocId, DocVerdict, LabelId, Rect, RoundId, TimestampMs, UserId, Verdict};

/// One review of one submission. Every round is kept; round numbers start at 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewRound {
    pub id: RoundId,
    pub doc: DocId,
    pub number: u32,
    pub reviewer: UserId,
    /// Whose work is reviewed (the document's assignee at the time).
    pub annotator: Option<UserId>,
    pub started_ms: TimestampMs,
    pub finished_ms: Option<TimestampMs>,
    pub verdict: Option<DocVerdict>,
    pub comment: String,
    /// Last edit id before the round started: what changed since is the diff the next round sees.
    pub start_edit: i64,
}

/// A reviewer's verdict on one box in one round. Keeps the box's geometry so the verdict can
/// still be shown (pinned) after the box was deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoxVerdict {
    pub round: RoundId,
    pub ann: AnnId,
    pub rect: Rect,
    pub verdict: Verdict,
    pub comment: String,
    pub reviewer: UserId,
    pub ts_ms: TimestampMs,
}

/// A comment on a document or one of its boxes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub id: super::CommentId,
    pub doc: DocId,
    pub round: Option<RoundId>,
    pub ann: Option<AnnId>,
    pub author: UserId,
    pub ts_ms: TimestampMs,
    pub text: String,
}

/// Per-document fields only leads change: assignment, gold status, housekeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DocMeta {
    pub assignee: Option<UserId>,
    pub reviewer: Option<UserId>,
    pub is_gold: bool,
    /// Archived or deleted (soft): out of queues, exports and stats until restored.
    /// (Absent in edit logs written before schema 8.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shelved: Option<Shelf>,
    /// Higher first in the annotation queue; 0 is normal.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub priority: i64,
}

fn is_zero(p: &i64) -> bool {
    *p == 0
}

/// Where a lead put a document that should no longer be worked on. Both keep the document,
/// its boxes and its history; restoring brings it back as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shelf {
    /// Done with, kept for the record (e.g. a batch from last year).
    Archived,
    /// Should not have been imported (a duplicate, a blank page, not an invoice).
    Deleted,
}

impl Shelf {
    pub fn as_str(self) -> &'static str {
        match self {
            Shelf::Archived => "archived",
            Shelf::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Shelf> {
        match s {
            "archived" => Some(Shelf::Archived),
            "deleted" => Some(Shelf::Deleted),
            _ => None,
        }
    }
}

/// One box of a gold document's reference answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldBox {
    pub rect: Rect,
    pub label: Option<LabelId>,
    pub text: String,
}

/// An annotator's result on a gold document, scored on submit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldScore {
    pub doc: DocId,
    pub user: UserId,
    pub ts_ms: TimestampMs,
    pub precision: f32,
    pub recall: f32,
    pub f1: f32,
    pub label_accuracy: f32,
    pub cer: f32,
}
