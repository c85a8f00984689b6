//! Many documents' rows, read in a few statements.
//!
//! The stats refresh derives each document's facts from its whole history, and an export
//! writes every selected document with its boxes and links. Read one document at a time that
//! is several statements per document, which costs little on an embedded file and a network
//! round trip each on a server; read per batch it is the same few statements per batch.

use std::collections::HashMap;

use super::db::{Sql, params};
use super::review::{ROUND_COLS, VERDICT_COLS, box_verdict, round};
use super::rows::{self, ANN_COLS, DOC_COLS, EDIT_COLS, LINK_COLS};
use super::{Result, Store, StoreError};
use crate::domain::{Annotation, BoxVerdict, DocId, DocStatus, Document, Edit, Link, ReviewRound, RoundId};

/// A document with its boxes and links, each in id order.
pub type DocWithBoxes = (Document, Vec<Annotation>, Vec<Link>);

/// Documents per statement of a batch read.
const IDS_PER_READ: usize = 1000;

/// One document's history: its status, log, current boxes, review rounds and the verdicts of
/// its finished rounds (in the order of those rounds).
#[derive(Debug, Clone, PartialEq)]
pub struct DocHistory {
    pub doc: DocId,
    pub status: DocStatus,
    /// Archived or deleted: stats leave it out (its facts are withdrawn until it is restored).
    pub shelved: bool,
    /// In log (id) order.
    pub edits: Vec<Edit>,
    /// In id order.
    pub boxes: Vec<Annotation>,
    /// First round first.
    pub rounds: Vec<ReviewRound>,
    /// One list per finished round, in the order of `rounds`; each in box id order.
    pub verdicts: Vec<Vec<BoxVerdict>>,
}

/// Ids as an SQL list. Integers from typed ids only: nothing a user typed reaches the SQL text.
fn id_list(ids: impl Iterator<Item = i64>) -> String {
    ids.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

impl Store {
    /// `docs` with their boxes and links (each in id order), in the order asked; a document
    /// asked twice comes once. A document that does not exist is an error, as
    /// [`Store::document`] gives.
    pub fn documents_with_boxes(&self, docs: &[DocId]) -> Result<Vec<DocWithBoxes>> {
        let db = &self.conn;
        let mut found: HashMap<DocId, DocWithBoxes> = HashMap::with_capacity(docs.len());
        for chunk in docs.chunks(IDS_PER_READ) {
            let list = id_list(chunk.iter().map(|d| d.0));
            for d in
                db.rows(&format!("SELECT {DOC_COLS} FROM documents WHERE id IN ({list})"), params![], rows::document)?
            {
                found.insert(d.id, (d, Vec::new(), Vec::new()));
            }
            if let Some(missing) = chunk.iter().find(|d| !found.contains_key(d)) {
                return Err(StoreError::Missing { what: "document", id: missing.0 });
            }
            let sql = format!("SELECT {ANN_COLS} FROM annotations WHERE doc_id IN ({list}) ORDER BY id");
            for a in db.rows(&sql, params![], rows::annotation)? {
                if let Some(f) = found.get_mut(&a.doc) {
                    f.1.push(a);
                }
            }
            let sql = format!("SELECT {LINK_COLS} FROM links WHERE doc_id IN ({list}) ORDER BY id");
            for l in db.rows(&sql, params![], rows::link)? {
                if let Some(f) = found.get_mut(&l.doc) {
                    f.2.push(l);
                }
            }
        }
        Ok(docs.iter().filter_map(|d| found.remove(d)).collect())
    }

    /// The histories of `docs`, in the order asked. A document that does not exist is an
    /// error, as [`Store::document`] gives. Like reading document by document, this is not one
    /// snapshot: a refresh that races an edit sees it in the log and redoes the document later.
    pub fn doc_histories(&self, docs: &[DocId]) -> Result<Vec<DocHistory>> {
        if docs.is_empty() {
            return Ok(Vec::new());
        }
        let db = &self.conn;
        let list = id_list(docs.iter().map(|d| d.0));
        let mut by_doc: HashMap<DocId, DocHistory> = HashMap::with_capacity(docs.len());
        for d in
            db.rows(&format!("SELECT {DOC_COLS} FROM documents WHERE id IN ({list})"), params![], rows::document)?
        {
            let h = DocHistory {
                doc: d.id,
                status: d.status,
                shelved: d.shelved.is_some(),
                edits: Vec::new(),
                boxes: Vec::new(),
                rounds: Vec::new(),
                verdicts: Vec::new(),
            };
            by_doc.insert(d.id, h);
        }
        if let Some(missing) = docs.iter().find(|d| !by_doc.contains_key(d)) {
            return Err(StoreError::Missing { what: "document", id: missing.0 });
        }
        for e in db.rows(
            &format!("SELECT {EDIT_COLS} FROM edits WHERE doc_id IN ({list}) ORDER BY id"),
            params![],
            rows::edit,
        )? {
            if let Some(h) = e.doc.and_then(|d| by_doc.get_mut(&d)) {
                h.edits.push(e);
            }
        }
        for a in db.rows(
            &format!("SELECT {ANN_COLS} FROM annotations WHERE doc_id IN ({list}) ORDER BY id"),
            params![],
            rows::annotation,
        )? {
            if let Some(h) = by_doc.get_mut(&a.doc) {
                h.boxes.push(a);
            }
        }
        // where each finished round's verdicts go: its document, and its place among that
        // document's finished rounds
        let mut slot: HashMap<RoundId, (DocId, usize)> = HashMap::new();
        for r in db.rows(
            &format!("SELECT {ROUND_COLS} FROM review_rounds WHERE doc_id IN ({list}) ORDER BY doc_id, number"),
            params![],
            round,
        )? {
            if let Some(h) = by_doc.get_mut(&r.doc) {
                if r.finished_ms.is_some() {
                    slot.insert(r.id, (r.doc, h.verdicts.len()));
                    h.verdicts.push(Vec::new());
                }
                h.rounds.push(r);
            }
        }
        if !slot.is_empty() {
            let rounds = id_list(slot.keys().map(|r| r.0));
            for v in db.rows(
                &format!(
                    "SELECT {VERDICT_COLS} FROM box_verdicts WHERE round_id IN ({rounds}) ORDER BY round_id, ann_id"
                ),
                params![],
                box_verdict,
            )? {
                if let Some(&(doc, i)) = slot.get(&v.round)
                    && let Some(h) = by_doc.get_mut(&doc)
                {
                    h.verdicts[i].push(v);
                }
            }
        }
        Ok(docs.iter().filter_map(|d| by_doc.remove(d)).collect())
    }
}
