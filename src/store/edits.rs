//! Applying edits: each one a single transaction that checks every change's `before` against
//! the current row, applies it, and appends the edit (with assigned ids) to the log.

use std::collections::HashMap;

use super::db::{DbError, Sql, Tx, params};
use super::error::on_constraint;
use super::rows::{self, ANN_COLS, LABEL_COLS, LINK_COLS};
use super::{Result, Store, StoreError};
use crate::domain::{
    AnnId, Annotation, Change, DocId, Edit, EditId, EditKind, Label, LabelId, Link, LinkId, TimestampMs, UserId,
};

/// An edit to be applied; the store assigns its id and the ids of inserted rows.
#[derive(Debug, Clone)]
pub struct NewEdit {
    pub ts_ms: TimestampMs,
    pub user: Option<UserId>,
    pub doc: Option<DocId>,
    pub action: String,
    pub kind: EditKind,
    pub changes: Vec<Change>,
}

/// A condition checked inside an edit's own write transaction, so that no other process can
/// make it false between the check and the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// The document has no boxes at all (importers never merge into existing work).
    DocumentHasNoBoxes(DocId),
    /// Nobody but `by` has edited the document since edit `seen` (`None`: ever): what the
    /// person saw is what the edit was built on (their own other windows and jobs aside).
    /// Failing it is a [`StoreError::Conflict`].
    UnchangedSince { doc: DocId, seen: Option<EditId>, by: Option<UserId> },
}

impl Store {
    /// Applies an edit atomically. When this returns `Ok`, the edit is durable on disk.
    /// Fails with `Conflict` (changing nothing) if a row no longer matches its `before`.
    pub fn apply(&mut self, edit: NewEdit) -> Result<Edit> {
        self.apply_inner(edit, None)?.ok_or_else(|| StoreError::Invalid("an unguarded edit was refused".into()))
    }

    /// Applies an edit only if `guard` holds when its transaction has the write lock; returns
    /// `None` (writing nothing) when it does not.
    pub fn apply_guarded(&mut self, edit: NewEdit, guard: Guard) -> Result<Option<Edit>> {
        self.apply_inner(edit, Some(guard))
    }

    fn apply_inner(&mut self, edit: NewEdit, guard: Option<Guard>) -> Result<Option<Edit>> {
        if let Some(doc) = edit.doc {
            self.check_doc(doc)?;
        }
        self.conn.write(|tx| -> Result<Option<Edit>> {
            match guard {
                Some(Guard::DocumentHasNoBoxes(doc))
                    if tx.int("SELECT count(*) FROM annotations WHERE doc_id=?1", params![doc.0])? > 0 =>
                {
                    return Ok(None);
                }
                Some(Guard::UnchangedSince { doc, seen, by }) => {
                    let after = seen.map_or(0, |e| e.0);
                    let newer = tx.row_opt(
                        "SELECT u.name FROM edits e LEFT JOIN users u ON u.id = e.user_id
                         WHERE e.doc_id = ?1 AND e.id > ?2 AND (e.user_id IS NULL OR e.user_id <> ?3)
                         ORDER BY e.id DESC LIMIT 1",
                        params![doc.0, after, by.map_or(0, |u| u.0)],
                        |r| r.opt_text(0),
                    )?;
                    if let Some(who) = newer {
                        let who = who.unwrap_or_else(|| "a pre-annotation pass".into());
                        return Err(StoreError::Conflict(format!(
                            "{who} changed this document after you loaded it; nothing of yours was written and the \
                             page shows their version now — check it and redo your change"
                        )));
                    }
                }
                _ => {}
            }
            let mut applied = Vec::with_capacity(edit.changes.len());
            // Negative ids are placeholders for rows inserted earlier in this same edit.
            let mut placeholders: HashMap<i64, i64> = HashMap::new();
            for mut change in edit.changes.into_iter().map(without_nul).filter(|c| !c.is_noop()) {
                let placeholder = resolve_placeholders(&mut change, &placeholders);
                let done = apply_change(tx, change)?;
                if let (Some(p), Change::Annotation { after: Some(a), .. }) = (placeholder, &done) {
                    placeholders.insert(p, a.id.0);
                }
                applied.push(done);
            }
            let (kind, target) = rows::kind_parts(edit.kind);
            let json = serde_json::to_string(&applied).map_err(|e| StoreError::Invalid(e.to_string()))?;
            let id = EditId(tx.int(
                "INSERT INTO edits (ts_ms, user_id, doc_id, action, kind, target, changes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                params![
                    edit.ts_ms,
                    edit.user.map(|u| u.0),
                    edit.doc.map(|d| d.0),
                    edit.action.as_str(),
                    kind,
                    target,
                    json.as_str()
                ],
            )?);
            Ok(Some(Edit {
                id,
                ts_ms: edit.ts_ms,
                user: edit.user,
                doc: edit.doc,
                action: edit.action,
                kind: edit.kind,
                changes: applied,
            }))
        })
    }

    /// Edits that belong to no document (the label schema's, settings'), oldest first.
    pub fn workspace_edits(&self) -> Result<Vec<Edit>> {
        Ok(self.conn.rows(
            &format!("SELECT {} FROM edits WHERE doc_id IS NULL ORDER BY id", rows::EDIT_COLS),
            params![],
            rows::edit,
        )?)
    }

    pub fn edit(&self, id: EditId) -> Result<Edit> {
        self.conn
            .row_opt(&format!("SELECT {} FROM edits WHERE id=?1", rows::EDIT_COLS), params![id.0], rows::edit)?
            .ok_or(StoreError::Missing { what: "edit", id: id.0 })
    }

    /// The log of one user's edits on one document, oldest first (for undo/redo stacks).
    pub fn edits_for(&self, doc: DocId, user: UserId) -> Result<Vec<Edit>> {
        Ok(self.conn.rows(
            &format!("SELECT {} FROM edits WHERE doc_id=?1 AND user_id=?2 ORDER BY id", rows::EDIT_COLS),
            params![doc.0, user.0],
            rows::edit,
        )?)
    }

    /// Every edit on a document by anyone, oldest first (review history).
    pub fn edits_on(&self, doc: DocId) -> Result<Vec<Edit>> {
        Ok(self.conn.rows(
            &format!("SELECT {} FROM edits WHERE doc_id=?1 ORDER BY id", rows::EDIT_COLS),
            params![doc.0],
            rows::edit,
        )?)
    }

    /// Number of entries in the edit log.
    pub fn edit_count(&self) -> Result<i64> {
        Ok(self.conn.int("SELECT count(*) FROM edits", params![])?)
    }
}

/// Replaces placeholder (negative) box ids by the ids assigned earlier in the edit. Returns the
/// placeholder of a box this change inserts, so later changes can refer to it.
fn resolve_placeholders(change: &mut Change, map: &HashMap<i64, i64>) -> Option<i64> {
    let fix = |id: &mut AnnId| {
        if let Some(real) = map.get(&id.0) {
            id.0 = *real;
        }
    };
    match change {
        Change::Annotation { before: None, after: Some(a) } if a.id.0 < 0 => {
            let p = a.id.0;
            a.id = AnnId(0);
            return Some(p);
        }
        Change::Link { after: Some(l), .. } => {
            fix(&mut l.from);
            fix(&mut l.to);
        }
        Change::BoxVerdict { after: Some(v), .. } => fix(&mut v.ann),
        Change::Comment { after: Some(c), .. } => {
            if let Some(a) = c.ann.as_mut() {
                fix(a);
            }
        }
        _ => {}
    }
    None
}

/// PostgreSQL cannot store U+0000 in text, and no invoice holds one: it is dropped from new
/// values on both backends, before the change is applied and logged, so the log always says
/// what the rows hold (and undo finds them as it left them).
fn without_nul(change: Change) -> Change {
    fn clean(s: &mut String) {
        if s.contains('\0') {
            s.retain(|c| c != '\0');
        }
    }
    match change {
        Change::Annotation { before, mut after } => {
            if let Some(a) = after.as_mut() {
                clean(&mut a.text);
            }
            Change::Annotation { before, after }
        }
        Change::Label { before, mut after } => {
            if let Some(l) = after.as_mut() {
                clean(&mut l.name);
                clean(&mut l.guideline);
                if let Some(h) = l.hotkey.as_mut() {
                    clean(h);
                }
            }
            Change::Label { before, after }
        }
        Change::Round { before, mut after } => {
            if let Some(r) = after.as_mut() {
                clean(&mut r.comment);
            }
            Change::Round { before, after }
        }
        Change::BoxVerdict { before, mut after } => {
            if let Some(v) = after.as_mut() {
                clean(&mut v.comment);
            }
            Change::BoxVerdict { before, after }
        }
        Change::Comment { before, mut after } => {
            if let Some(c) = after.as_mut() {
                clean(&mut c.text);
            }
            Change::Comment { before, after }
        }
        Change::Gold { doc, before, mut after } => {
            for g in &mut after {
                clean(&mut g.text);
            }
            Change::Gold { doc, before, after }
        }
        other => other,
    }
}

fn conflict(what: &str, id: i64) -> StoreError {
    StoreError::Conflict(format!("{what} {id} was changed by someone else meanwhile; reload and try again"))
}

fn apply_change(tx: &Tx, change: Change) -> Result<Change> {
    Ok(match change {
        Change::Annotation { before, after } => {
            if let Some(b) = &before {
                let current = load_annotation(tx, b.id)?;
                if current.as_ref() != Some(b) {
                    return Err(conflict("box", b.id.0));
                }
            }
            let after = match (before.as_ref(), after) {
                (_, None) => {
                    if let Some(b) = &before {
                        tx.exec("DELETE FROM annotations WHERE id=?1", params![b.id.0])?;
                    }
                    None
                }
                (None, Some(a)) => Some(insert_annotation(tx, a)?),
                (Some(b), Some(a)) => {
                    if a.id != b.id {
                        return Err(StoreError::Invalid("an update cannot change a box's id".into()));
                    }
                    write_annotation(tx, &a, false)?;
                    Some(a)
                }
            };
            Change::Annotation { before, after }
        }
        Change::Link { before, after } => {
            if let Some(b) = &before {
                let current = load_link(tx, b.id)?;
                if current.as_ref() != Some(b) {
                    return Err(conflict("link", b.id.0));
                }
            }
            let after = match (before.as_ref(), after) {
                (_, None) => {
                    if let Some(b) = &before {
                        tx.exec("DELETE FROM links WHERE id=?1", params![b.id.0])?;
                    }
                    None
                }
                (_, Some(mut l)) => {
                    if before.is_some() {
                        tx.exec(
                            "UPDATE links SET from_id=?2, to_id=?3, kind=?4 WHERE id=?1",
                            params![l.id.0, l.from.0, l.to.0, l.kind.as_str()],
                        )?;
                    } else if l.id.0 != 0 {
                        // a link restored by undo keeps its id
                        tx.exec(
                            "INSERT INTO links (id, doc_id, from_id, to_id, kind) VALUES (?1, ?2, ?3, ?4, ?5)",
                            params![l.id.0, l.doc.0, l.from.0, l.to.0, l.kind.as_str()],
                        )?;
                    } else {
                        l.id = LinkId(tx.int(
                            "INSERT INTO links (doc_id, from_id, to_id, kind) VALUES (?1, ?2, ?3, ?4) RETURNING id",
                            params![l.doc.0, l.from.0, l.to.0, l.kind.as_str()],
                        )?);
                    }
                    Some(l)
                }
            };
            Change::Link { before, after }
        }
        Change::Status { doc, before, after } => {
            let current = tx.row_opt("SELECT status FROM documents WHERE id=?1", params![doc.0], |r| r.text(0))?;
            let current = current.ok_or(StoreError::Missing { what: "document", id: doc.0 })?;
            if current != before.as_str() {
                return Err(StoreError::Conflict(format!(
                    "document {doc} is {current}, not {}; reload and try again",
                    before.as_str()
                )));
            }
            tx.exec("UPDATE documents SET status=?2 WHERE id=?1", params![doc.0, after.as_str()])?;
            Change::Status { doc, before, after }
        }
        Change::Label { before, after } => {
            if let Some(b) = &before {
                let current = load_label(tx, b.id)?;
                if current.as_ref() != Some(b) {
                    return Err(conflict("label", b.id.0));
                }
            }
            let after = match (before.as_ref(), after) {
                (_, None) => {
                    if let Some(b) = &before {
                        let used = tx.int("SELECT count(*) FROM annotations WHERE label_id=?1", params![b.id.0])?;
                        if used > 0 {
                            return Err(StoreError::Invalid(format!(
                                "label '{}' is used by {used} boxes; relabel them first",
                                b.name
                            )));
                        }
                        tx.exec("DELETE FROM labels WHERE id=?1", params![b.id.0])?;
                    }
                    None
                }
                (b, Some(mut l)) => {
                    let taken = |e: DbError| on_constraint(e, || format!("a label named '{}' already exists", l.name));
                    let color = rows::color_hex(l.color);
                    if b.is_some() || l.id.0 != 0 {
                        tx.exec(
                            "INSERT INTO labels (id, name, color, hotkey, guideline, position, retired)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                             ON CONFLICT (id) DO UPDATE SET name=excluded.name, color=excluded.color,
                             hotkey=excluded.hotkey, guideline=excluded.guideline, position=excluded.position,
                             retired=excluded.retired",
                            params![
                                l.id.0,
                                l.name.as_str(),
                                color.as_str(),
                                l.hotkey.as_deref(),
                                l.guideline.as_str(),
                                l.position,
                                l.retired
                            ],
                        )
                        .map_err(taken)?;
                    } else {
                        l.id = LabelId(
                            tx.int(
                                "INSERT INTO labels (name, color, hotkey, guideline, position, retired)
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                                params![
                                    l.name.as_str(),
                                    color.as_str(),
                                    l.hotkey.as_deref(),
                                    l.guideline.as_str(),
                                    l.position,
                                    l.retired
                                ],
                            )
                            .map_err(taken)?,
                        );
                    }
                    Some(l)
                }
            };
            Change::Label { before, after }
        }
        review @ (Change::Meta { .. }
        | Change::Round { .. }
        | Change::BoxVerdict { .. }
        | Change::Comment { .. }
        | Change::Gold { .. }
        | Change::GoldScore { .. }) => super::review::apply_review_change(tx, review)?,
        page @ (Change::Tags { .. } | Change::Rotation { .. } | Change::Example { .. }) => {
            super::pages::apply_page_change(tx, page)?
        }
    })
}

fn insert_annotation(tx: &Tx, mut a: Annotation) -> Result<Annotation> {
    if !a.rect.is_finite() {
        return Err(StoreError::Invalid("a box coordinate is not a finite number".into()));
    }
    if a.id.0 != 0 {
        // a box restored by undo (or copied between stores) keeps its id
        write_annotation(tx, &a, true)?;
    } else {
        a.id = AnnId(tx.int(
            &format!(
                "INSERT INTO annotations ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
                 RETURNING id",
                ANN_COLS.trim_start_matches("id, ")
            ),
            &annotation_params(&a)[1..],
        )?);
    }
    Ok(a)
}

/// The parameters `?1` (id) to `?19` of an annotation row, in [`ANN_COLS`] order (a new box
/// takes them without the id).
fn annotation_params(a: &Annotation) -> Vec<super::db::P<'_>> {
    use super::db::P;
    let (source, text_source, quad) = (a.source.to_string(), a.text_source.to_string(), rows::quad_json(&a.quad));
    let mut v = vec![
        P::Int(a.id.0),
        P::Int(a.doc.0),
        P::Real(a.rect.x0 as f64),
        P::Real(a.rect.y0 as f64),
        P::Real(a.rect.x1 as f64),
        P::Real(a.rect.y1 as f64),
    ];
    v.push(quad.map_or(P::Null, P::Owned));
    v.push(P::from(a.label.map(|l| l.0)));
    v.push(P::Text(&a.text));
    v.push(P::Owned(source));
    v.push(P::Owned(text_source));
    v.push(P::from(a.confidence.map(|c| c as f64)));
    v.push(P::Text(rows::state_str(a.state)));
    v.push(P::from(a.author.map(|u| u.0)));
    v.push(P::Int(a.created_ms));
    v.push(P::Int(a.updated_ms));
    v.push(P::from(a.label_suggested.map(|l| l.0)));
    v.push(P::from(a.label_conf.map(|c| c as f64)));
    v.push(P::Int(i64::from(a.flags.0)));
    v
}

fn write_annotation(tx: &Tx, a: &Annotation, insert: bool) -> Result<()> {
    if !a.rect.is_finite() {
        return Err(StoreError::Invalid("a box coordinate is not a finite number".into()));
    }
    let sql = if insert {
        format!(
            "INSERT INTO annotations ({ANN_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
        )
    } else {
        "UPDATE annotations SET doc_id=?2, x0=?3, y0=?4, x1=?5, y1=?6, quad=?7, label_id=?8, text=?9, source=?10,
         text_source=?11, confidence=?12, state=?13, author=?14, created_ms=?15, updated_ms=?16,
         label_suggested=?17, label_conf=?18, flags=?19 WHERE id=?1"
            .to_string()
    };
    tx.exec(&sql, &annotation_params(a))?;
    Ok(())
}

fn load_annotation(tx: &Tx, id: AnnId) -> Result<Option<Annotation>> {
    Ok(tx.row_opt(&format!("SELECT {ANN_COLS} FROM annotations WHERE id=?1"), params![id.0], rows::annotation)?)
}

fn load_link(tx: &Tx, id: LinkId) -> Result<Option<Link>> {
    Ok(tx.row_opt(&format!("SELECT {LINK_COLS} FROM links WHERE id=?1"), params![id.0], rows::link)?)
}

fn load_label(tx: &Tx, id: LabelId) -> Result<Option<Label>> {
    Ok(tx.row_opt(&format!("SELECT {LABEL_COLS} FROM labels WHERE id=?1"), params![id.0], rows::label)?)
}
