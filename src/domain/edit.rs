//! The edit log's vocabulary: every change to a workspace is recorded as before/after
//! snapshots, so any edit can be undone, redone, audited and timed from the log alone.

use serde::{Deserialize, Serialize};

use super::{
    Annotation, BoxVerdict, Comment, DocId, DocMeta, DocStatus, EditId, GoldBox, GoldScore, Label, LabelExample, Link,
    ReviewRound, TimestampMs, UserId,
};

/// One row-level change. `before: None` is an insert, `after: None` a delete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// Box edits are by far the most common change and are built by the hundred per gesture; boxing
// their snapshots would add an allocation to each for the sake of the rarer variants.
#[allow(clippy::large_enum_variant)]
pub enum Change {
    Annotation {
        before: Option<Annotation>,
        after: Option<Annotation>,
    },
    Link {
        before: Option<Link>,
        after: Option<Link>,
    },
    Status {
        doc: DocId,
        before: DocStatus,
        after: DocStatus,
    },
    Label {
        before: Option<Label>,
        after: Option<Label>,
    },
    Meta {
        doc: DocId,
        before: DocMeta,
        after: DocMeta,
    },
    Round {
        before: Option<ReviewRound>,
        after: Option<ReviewRound>,
    },
    BoxVerdict {
        before: Option<BoxVerdict>,
        after: Option<BoxVerdict>,
    },
    Comment {
        before: Option<Comment>,
        after: Option<Comment>,
    },
    /// The reference answer of a gold document, replaced as a whole.
    Gold {
        doc: DocId,
        before: Vec<GoldBox>,
        after: Vec<GoldBox>,
    },
    /// Scores are only ever added (undo removes them again).
    GoldScore {
        before: Option<GoldScore>,
        after: Option<GoldScore>,
    },
    /// A document's tags (the workspace's tag schema: tag → value), replaced as a whole.
    Tags {
        doc: DocId,
        before: std::collections::BTreeMap<String, String>,
        after: std::collections::BTreeMap<String, String>,
    },
    /// A page turned by quarter turns clockwise (0–3). An odd difference swaps the page's
    /// width and height; the boxes are turned by `Annotation` changes in the same edit.
    Rotation {
        doc: DocId,
        before: u8,
        after: u8,
    },
    /// A guideline example pinned, changed or unpinned.
    Example {
        before: Option<LabelExample>,
        after: Option<LabelExample>,
    },
}

impl Change {
    /// The change that takes the workspace back to how it was before this one.
    pub fn inverse(&self) -> Change {
        match self {
            Change::Annotation { before, after } => Change::Annotation { before: after.clone(), after: before.clone() },
            Change::Link { before, after } => Change::Link { before: after.clone(), after: before.clone() },
            Change::Status { doc, before, after } => Change::Status { doc: *doc, before: *after, after: *before },
            Change::Label { before, after } => Change::Label { before: after.clone(), after: before.clone() },
            Change::Meta { doc, before, after } => Change::Meta { doc: *doc, before: *after, after: *before },
            Change::Round { before, after } => Change::Round { before: after.clone(), after: before.clone() },
            Change::BoxVerdict { before, after } => Change::BoxVerdict { before: after.clone(), after: before.clone() },
            Change::Comment { before, after } => Change::Comment { before: after.clone(), after: before.clone() },
            Change::Gold { doc, before, after } => {
                Change::Gold { doc: *doc, before: after.clone(), after: before.clone() }
            }
            Change::GoldScore { before, after } => Change::GoldScore { before: after.clone(), after: before.clone() },
            Change::Tags { doc, before, after } => {
                Change::Tags { doc: *doc, before: after.clone(), after: before.clone() }
            }
            Change::Rotation { doc, before, after } => Change::Rotation { doc: *doc, before: *after, after: *before },
            Change::Example { before, after } => Change::Example { before: after.clone(), after: before.clone() },
        }
    }

    /// True when applying it would change nothing (e.g. a move by zero pixels).
    pub fn is_noop(&self) -> bool {
        match self {
            Change::Annotation { before, after } => before == after,
            Change::Link { before, after } => before == after,
            Change::Status { before, after, .. } => before == after,
            Change::Label { before, after } => before == after,
            Change::Meta { before, after, .. } => before == after,
            Change::Round { before, after } => before == after,
            Change::BoxVerdict { before, after } => before == after,
            Change::Comment { before, after } => before == after,
            Change::Gold { before, after, .. } => before == after,
            Change::GoldScore { before, after } => before == after,
            Change::Tags { before, after, .. } => before == after,
            Change::Rotation { before, after, .. } => before == after,
            Change::Example { before, after } => before == after,
        }
    }
}

/// Whether an edit is new work or the undo/redo of an earlier edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "target", rename_all = "snake_case")]
pub enum EditKind {
    Do,
    /// New work that finishes the gesture begun by the given `Do` edit, so that undo and redo
    /// treat them as one step: a model pass writes its boxes at once and streams the read
    /// lines in afterwards, each batch durable as it lands, all undone by one Ctrl+Z.
    Continues(EditId),
    Undo(EditId),
    Redo(EditId),
}

impl EditKind {
    /// `Do` or `Continues`: work, as opposed to undoing or redoing it.
    pub fn is_new_work(self) -> bool {
        matches!(self, EditKind::Do | EditKind::Continues(_))
    }
}

/// One entry of the append-only edit log: one finished gesture, applied in one transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edit {
    pub id: EditId,
    pub ts_ms: TimestampMs,
    pub user: Option<UserId>,
    pub doc: Option<DocId>,
    /// What the user did, for history and stats: "add_box", "move_box", "set_label", …
    pub action: String,
    pub kind: EditKind,
    pub changes: Vec<Change>,
}

/// Undo and redo stacks (oldest first, top = last) of one user on one document,
/// replayed from the log so they survive restarts. Each step is a `Do` edit followed by the
/// edits that continue it, in log order; a step is named by its first edit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UndoStacks {
    pub undoable: Vec<Vec<EditId>>,
    pub redoable: Vec<Vec<EditId>>,
}

impl UndoStacks {
    /// Replays `edits` (in log order) into stacks. New work clears the redo stack. An edit
    /// that continues the step on top of the undo stack joins it; one whose step is no
    /// longer on top (the user undid it, or did something else since) is a step of its own,
    /// so undo always goes back in time.
    pub fn replay<'a>(edits: impl IntoIterator<Item = &'a Edit>) -> Self {
        let mut s = UndoStacks::default();
        for e in edits {
            match e.kind {
                EditKind::Do => {
                    s.undoable.push(vec![e.id]);
                    s.redoable.clear();
                }
                EditKind::Continues(head) => {
                    match s.undoable.last_mut() {
                        Some(step) if step.first() == Some(&head) => step.push(e.id),
                        _ => s.undoable.push(vec![e.id]),
                    }
                    s.redoable.clear();
                }
                EditKind::Undo(target) => {
                    if let Some(pos) = s.undoable.iter().rposition(|step| step.first() == Some(&target)) {
                        let step = s.undoable.remove(pos);
                        s.redoable.push(step);
                    }
                }
                EditKind::Redo(target) => {
                    if let Some(pos) = s.redoable.iter().rposition(|step| step.first() == Some(&target)) {
                        let step = s.redoable.remove(pos);
                        s.undoable.push(step);
                    }
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(id: i64, kind: EditKind) -> Edit {
        Edit { id: EditId(id), ts_ms: id, user: None, doc: None, action: "x".into(), kind, changes: vec![] }
    }

    #[test]
    fn stacks_follow_undo_redo_and_new_work() {
        let log = vec![
            edit(1, EditKind::Do),
            edit(2, EditKind::Do),
            edit(3, EditKind::Undo(EditId(2))),
            edit(4, EditKind::Undo(EditId(1))),
            edit(5, EditKind::Redo(EditId(1))),
        ];
        let s = UndoStacks::replay(&log);
        assert_eq!(s.undoable, vec![vec![EditId(1)]]);
        assert_eq!(s.redoable, vec![vec![EditId(2)]]);

        let mut log2 = log.clone();
        log2.push(edit(6, EditKind::Do));
        let s = UndoStacks::replay(&log2);
        assert_eq!(s.undoable, vec![vec![EditId(1)], vec![EditId(6)]]);
        assert!(s.redoable.is_empty(), "new work clears redo");
    }

    #[test]
    fn continuations_join_their_step_only_while_it_is_on_top() {
        let id = EditId;
        let log = vec![
            edit(1, EditKind::Do),
            edit(2, EditKind::Do),
            edit(3, EditKind::Continues(id(2))),
            edit(4, EditKind::Continues(id(2))),
        ];
        let s = UndoStacks::replay(&log);
        assert_eq!(s.undoable, vec![vec![id(1)], vec![id(2), id(3), id(4)]]);

        // the whole step is undone and redone as one
        let mut undone = log.clone();
        undone.push(edit(5, EditKind::Undo(id(2))));
        let s = UndoStacks::replay(&undone);
        assert_eq!((s.undoable.len(), s.redoable.clone()), (1, vec![vec![id(2), id(3), id(4)]]));
        undone.push(edit(6, EditKind::Redo(id(2))));
        assert_eq!(UndoStacks::replay(&undone).undoable.last(), Some(&vec![id(2), id(3), id(4)]));

        // the user did something in between: a late continuation is its own step
        let mut late = log.clone();
        late.push(edit(5, EditKind::Do));
        late.push(edit(6, EditKind::Continues(id(2))));
        let s = UndoStacks::replay(&late);
        assert_eq!(s.undoable, vec![vec![id(1)], vec![id(2), id(3), id(4)], vec![id(5)], vec![id(6)]]);
        assert!(EditKind::Continues(id(2)).is_new_work() && !EditKind::Undo(id(2)).is_new_work());
    }

    #[test]
    fn inverse_swaps_snapshots() {
        let c = Change::Status { doc: DocId(1), before: DocStatus::New, after: DocStatus::Submitted };
        assert_eq!(c.inverse().inverse(), c);
        assert!(matches!(c.inverse(), Change::Status { before: DocStatus::Submitted, .. }));
    }
}
