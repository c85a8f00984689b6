//! Typed reads and the writes that are not user edits (imports, users, activity).

use rusqlite::{OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use super::rows::{self, ANN_COLS, DOC_COLS, LABEL_COLS, LINK_COLS};
use super::{Result, Store, StoreError};
use crate::domain::{
    Annotation, DocId, DocStatus, Document, Label, LabelId, Link, Role, TimestampMs, User, UserId,
    default_invoice_schema,
};

/// A page image to add to the workspace.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub path: String,
    pub sha256: String,
    pub page: u32,
    pub width: u32,
    pub height: u32,
}

/// Which documents a list shows.
#[derive(Debug, Clone, Default)]
pub struct DocFilter {
    pub status: Option<DocStatus>,
    pub assignee: Option<UserId>,
    /// Case-insensitive substring of the path.
    pub path_contains: Option<String>,
}

fn now_ms() -> TimestampMs {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Runs once, inside the first migration's transaction.
pub(crate) fn seed_new_workspace(tx: &Transaction) -> rusqlite::Result<()> {
    let now = now_ms();
    let mut h = Sha256::new();
    h.update(now.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(format!("{:?}", std::time::Instant::now()).as_bytes());
    let workspace_id = hex::encode(&h.finalize()[..8]);
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('workspace_id', ?1), ('created_ms', ?2)",
        params![workspace_id, now.to_string()],
    )?;
    for l in default_invoice_schema() {
        tx.execute(
            "INSERT INTO labels (name, color, hotkey, guideline, position) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![l.name, rows::color_hex(l.color), l.hotkey, l.guideline, l.position],
        )?;
    }
    Ok(())
}

impl Store {
    pub fn workspace_id(&self) -> Result<String> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key='workspace_id'", [], |r| r.get(0))?)
    }

    // ---- users ----

    pub fn add_user(&mut self, name: &str, role: Role) -> Result<User> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("a user needs a name".into()));
        }
        self.conn
            .execute(
                "INSERT INTO users (name, role, created_ms) VALUES (?1, ?2, ?3)",
                params![name, role.as_str(), now_ms()],
            )
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => {
                    StoreError::Invalid(format!("a user named '{name}' already exists"))
                }
                _ => StoreError::from(e),
            })?;
        Ok(User { id: UserId(self.conn.last_insert_rowid()), name: name.to_string(), role })
    }

    pub fn users(&self) -> Result<Vec<User>> {
        let mut stmt = self.conn.prepare_cached("SELECT id, name, role FROM users ORDER BY name")?;
        let users = stmt.query_map([], rows::user)?.collect::<rusqlite::Result<_>>()?;
        Ok(users)
    }

    pub fn user(&self, id: UserId) -> Result<User> {
        self.conn
            .query_row("SELECT id, name, role FROM users WHERE id=?1", [id.0], rows::user)
            .optional()?
            .ok_or(StoreError::Missing { what: "user", id: id.0 })
    }

    pub fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        Ok(self.conn.query_row("SELECT id, name, role FROM users WHERE name=?1", [name], rows::user).optional()?)
    }

    // ---- labels ----

    pub fn labels(&self) -> Result<Vec<Label>> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {LABEL_COLS} FROM labels ORDER BY position, id"))?;
        let labels = stmt.query_map([], rows::label)?.collect::<rusqlite::Result<_>>()?;
        Ok(labels)
    }

    pub fn label_by_name(&self, name: &str) -> Result<Option<Label>> {
        Ok(self
            .conn
            .query_row(&format!("SELECT {LABEL_COLS} FROM labels WHERE name=?1"), [name], rows::label)
            .optional()?)
    }

    pub fn label(&self, id: LabelId) -> Result<Label> {
        self.conn
            .query_row(&format!("SELECT {LABEL_COLS} FROM labels WHERE id=?1"), [id.0], rows::label)
            .optional()?
            .ok_or(StoreError::Missing { what: "label", id: id.0 })
    }

    // ---- documents ----

    /// Adds a page; returns `None` when this (hash, page) is already in the workspace.
    pub fn add_document(&mut self, d: &NewDocument, now: TimestampMs) -> Result<Option<DocId>> {
        let n = self.conn.execute(
            "INSERT INTO documents (path, sha256, page, width, height, status, imported_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, 'new', ?6) ON CONFLICT(sha256, page) DO NOTHING",
            params![d.path, d.sha256, d.page, d.width, d.height, now],
        )?;
        Ok((n == 1).then(|| DocId(self.conn.last_insert_rowid())))
    }

    /// Adds the pages of one file in one transaction, so they are all there or none is. Returns,
    /// per page, its new id, or `None` where that (hash, page) was already in the workspace.
    pub fn add_pages(&mut self, pages: &[NewDocument], now: TimestampMs) -> Result<Vec<Option<DocId>>> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut ids = Vec::with_capacity(pages.len());
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO documents (path, sha256, page, width, height, status, imported_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'new', ?6) ON CONFLICT(sha256, page) DO NOTHING",
            )?;
            for d in pages {
                let n = ins.execute(params![d.path, d.sha256, d.page, d.width, d.height, now])?;
                ids.push((n == 1).then(|| DocId(tx.last_insert_rowid())));
            }
        }
        tx.commit()?;
        Ok(ids)
    }

    pub fn document(&self, id: DocId) -> Result<Document> {
        self.conn
            .query_row(&format!("SELECT {DOC_COLS} FROM documents WHERE id=?1"), [id.0], rows::document)
            .optional()?
            .ok_or(StoreError::Missing { what: "document", id: id.0 })
    }

    pub fn documents(&self, f: &DocFilter) -> Result<Vec<Document>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {DOC_COLS} FROM documents
             WHERE (?1 IS NULL OR status=?1) AND (?2 IS NULL OR assignee=?2)
               AND (?3 IS NULL OR instr(lower(path), lower(?3)) > 0)
             ORDER BY id"
        ))?;
        let docs = stmt
            .query_map(
                params![f.status.map(|s| s.as_str()), f.assignee.map(|u| u.0), f.path_contains.as_deref()],
                rows::document,
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(docs)
    }

    /// Documents whose file has this content hash (all pages).
    pub fn documents_with_hash(&self, sha256: &str) -> Result<Vec<Document>> {
        let mut stmt =
            self.conn.prepare_cached(&format!("SELECT {DOC_COLS} FROM documents WHERE sha256=?1 ORDER BY page"))?;
        let docs = stmt.query_map([sha256], rows::document)?.collect::<rusqlite::Result<_>>()?;
        Ok(docs)
    }

    /// Points every page of a file at its new location (after the user moved it).
    pub fn relink(&mut self, sha256: &str, new_path: &str) -> Result<usize> {
        Ok(self.conn.execute("UPDATE documents SET path=?2 WHERE sha256=?1", params![sha256, new_path])?)
    }

    pub fn set_assignee(&mut self, doc: DocId, user: Option<UserId>) -> Result<()> {
        self.check_doc(doc)?;
        self.conn.execute("UPDATE documents SET assignee=?2 WHERE id=?1", params![doc.0, user.map(|u| u.0)])?;
        Ok(())
    }

    pub fn document_count(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT count(*) FROM documents", [], |r| r.get(0))?)
    }

    // ---- annotations and links ----

    pub fn annotations(&self, doc: DocId) -> Result<Vec<Annotation>> {
        let mut stmt =
            self.conn.prepare_cached(&format!("SELECT {ANN_COLS} FROM annotations WHERE doc_id=?1 ORDER BY id"))?;
        let anns = stmt.query_map([doc.0], rows::annotation)?.collect::<rusqlite::Result<_>>()?;
        Ok(anns)
    }

    pub fn annotation(&self, id: crate::domain::AnnId) -> Result<Annotation> {
        self.conn
            .query_row(&format!("SELECT {ANN_COLS} FROM annotations WHERE id=?1"), [id.0], rows::annotation)
            .optional()?
            .ok_or(StoreError::Missing { what: "box", id: id.0 })
    }

    pub fn annotation_count(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT count(*) FROM annotations", [], |r| r.get(0))?)
    }

    pub fn links(&self, doc: DocId) -> Result<Vec<Link>> {
        let mut stmt =
            self.conn.prepare_cached(&format!("SELECT {LINK_COLS} FROM links WHERE doc_id=?1 ORDER BY id"))?;
        let links = stmt.query_map([doc.0], rows::link)?.collect::<rusqlite::Result<_>>()?;
        Ok(links)
    }

    // ---- activity ----

    /// Records a UI activity event ("open", "close", "focus", "blur", "input").
    pub fn record_activity(&mut self, ts_ms: TimestampMs, user: UserId, doc: Option<DocId>, kind: &str) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO activity (ts_ms, user_id, doc_id, kind) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![ts_ms, user.0, doc.map(|d| d.0), kind])?;
        Ok(())
    }

    /// Activity events of one user, oldest first: (ts_ms, doc, kind).
    pub fn activity(&self, user: UserId) -> Result<Vec<(TimestampMs, Option<DocId>, String)>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT ts_ms, doc_id, kind FROM activity WHERE user_id=?1 ORDER BY ts_ms, id")?;
        let rows = stmt
            .query_map([user.0], |r| Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.map(DocId), r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
