//! Typed reads and the writes that are not user edits (imports, users, activity).

use sha2::{Digest, Sha256};

use super::db::{DbError, Sql, Tx, params};
use super::error::on_constraint;
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
    /// Archived and deleted documents are left out unless asked for.
    pub shelved: ShelfFilter,
}

/// Which documents a listing shows by their [`Shelf`](crate::domain::Shelf).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ShelfFilter {
    /// Live documents only: what queues, exports and stats work on.
    #[default]
    Live,
    /// Every document (copying a workspace, housekeeping lists).
    All,
    /// Archived and deleted documents only.
    Shelved,
}

pub(super) fn now_ms() -> TimestampMs {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Runs once, inside the first migration's transaction.
pub(crate) fn seed_new_workspace(tx: &Tx) -> Result<(), DbError> {
    let now = now_ms();
    let mut h = Sha256::new();
    h.update(now.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(format!("{:?}", std::time::Instant::now()).as_bytes());
    let workspace_id = hex::encode(&h.finalize()[..8]);
    let now = now.to_string();
    tx.exec(
        "INSERT INTO meta (key, value) VALUES ('workspace_id', ?1), ('created_ms', ?2)",
        params![workspace_id.as_str(), now.as_str()],
    )?;
    for l in default_invoice_schema() {
        let color = rows::color_hex(l.color);
        tx.exec(
            "INSERT INTO labels (name, color, hotkey, guideline, position) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![l.name.as_str(), color.as_str(), l.hotkey.as_deref(), l.guideline.as_str(), l.position],
        )?;
    }
    Ok(())
}

impl Store {
    pub fn workspace_id(&self) -> Result<String> {
        Ok(self.conn.row("SELECT value FROM meta WHERE key='workspace_id'", params![], |r| r.text(0))?)
    }

    // ---- users ----

    pub fn add_user(&mut self, name: &str, role: Role) -> Result<User> {
        let cleaned: String = name.chars().filter(|&c| c != '\0').collect();
        let name = cleaned.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("a user needs a name".into()));
        }
        let id = self
            .conn
            .int(
                "INSERT INTO users (name, role, created_ms) VALUES (?1, ?2, ?3) RETURNING id",
                params![name, role.as_str(), now_ms()],
            )
            .map_err(|e| on_constraint(e, || format!("a user named '{name}' already exists")))?;
        Ok(User { id: UserId(id), name: name.to_string(), role })
    }

    /// The resolution PDF pages are rendered at when imported into this workspace (a lead's
    /// setting; 200 dpi unless set).
    pub fn pdf_dpi(&self) -> Result<u32> {
        let v = self.conn.row_opt("SELECT value FROM meta WHERE key='pdf_dpi'", params![], |r| r.text(0))?;
        Ok(v.and_then(|v| v.parse().ok()).unwrap_or(crate::pdf::DEFAULT_DPI))
    }

    /// Sets the resolution PDF pages are imported at from now on (pages already imported keep
    /// theirs: a page's pixel size is its resolution).
    pub fn set_pdf_dpi(&mut self, dpi: u32) -> Result<()> {
        if !crate::pdf::DPI_RANGE.contains(&dpi) {
            return Err(StoreError::Invalid(format!(
                "{dpi} dpi is outside {}–{}",
                crate::pdf::DPI_RANGE.start(),
                crate::pdf::DPI_RANGE.end()
            )));
        }
        let value = dpi.to_string();
        self.conn.write(|tx| {
            tx.exec(
                "INSERT INTO meta (key, value) VALUES ('pdf_dpi', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![value],
            )
        })?;
        Ok(())
    }

    /// Whether this workspace file asks people for their passphrase at sign-in (a server
    /// workspace has logins instead, and never does).
    pub fn sign_in_required(&self) -> Result<bool> {
        if self.is_postgres() {
            return Ok(false);
        }
        let v = self.conn.row_opt("SELECT value FROM meta WHERE key='sign_in'", params![], |r| r.text(0))?;
        Ok(v.as_deref() == Some("passphrase"))
    }

    /// Asks for passphrases at sign-in, or stops asking. Everyone must have one first, so
    /// nobody is locked out.
    pub fn set_sign_in_required(&mut self, on: bool) -> Result<()> {
        if self.is_postgres() {
            return Err(StoreError::Invalid(
                "a server workspace signs people in with their logins; passphrases are for workspace files".into(),
            ));
        }
        if on {
            let missing =
                self.conn
                    .rows("SELECT name FROM users WHERE passphrase IS NULL ORDER BY name", params![], |r| r.text(0))?;
            if !missing.is_empty() {
                return Err(StoreError::Invalid(format!(
                    "set a passphrase for {} first (facture users WS passphrase NAME); nothing was changed",
                    missing.join(", ")
                )));
            }
        }
        let value = if on { "passphrase" } else { "open" };
        self.conn.write(|tx| {
            tx.exec(
                "INSERT INTO meta (key, value) VALUES ('sign_in', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![value],
            )
        })?;
        Ok(())
    }

    /// A person's passphrase hash (a PHC string), if they have one.
    pub fn passphrase_hash(&self, user: UserId) -> Result<Option<String>> {
        if self.is_postgres() {
            return Ok(None);
        }
        Ok(self.conn.row_opt("SELECT passphrase FROM users WHERE id=?1", params![user.0], |r| r.opt_text(0))?.flatten())
    }

    /// Sets (or, with `None`, removes) a person's passphrase hash.
    pub fn set_passphrase_hash(&mut self, user: UserId, phc: Option<&str>) -> Result<()> {
        if self.is_postgres() {
            return Err(StoreError::Invalid(
                "a server workspace signs people in with their logins; passphrases are for workspace files".into(),
            ));
        }
        if phc.is_none() && self.sign_in_required()? {
            return Err(StoreError::Invalid(
                "the workspace asks everyone for a passphrase; stop asking first (facture users WS sign-in open)"
                    .into(),
            ));
        }
        let n = self.conn.exec("UPDATE users SET passphrase=?2 WHERE id=?1", params![user.0, phc])?;
        if n == 0 {
            return Err(StoreError::Missing { what: "user", id: user.0 });
        }
        Ok(())
    }

    pub fn users(&self) -> Result<Vec<User>> {
        let mut users = self.conn.rows("SELECT id, name, role FROM users", params![], rows::user)?;
        // by the name's bytes, whatever the server's collation
        users.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.0.cmp(&b.id.0)));
        Ok(users)
    }

    pub fn user(&self, id: UserId) -> Result<User> {
        self.conn
            .row_opt("SELECT id, name, role FROM users WHERE id=?1", params![id.0], rows::user)?
            .ok_or(StoreError::Missing { what: "user", id: id.0 })
    }

    pub fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        Ok(self.conn.row_opt("SELECT id, name, role FROM users WHERE name=?1", params![name], rows::user)?)
    }

    // ---- labels ----

    pub fn labels(&self) -> Result<Vec<Label>> {
        Ok(self.conn.rows(&format!("SELECT {LABEL_COLS} FROM labels ORDER BY position, id"), params![], rows::label)?)
    }

    pub fn label_by_name(&self, name: &str) -> Result<Option<Label>> {
        Ok(self.conn.row_opt(&format!("SELECT {LABEL_COLS} FROM labels WHERE name=?1"), params![name], rows::label)?)
    }

    pub fn label(&self, id: LabelId) -> Result<Label> {
        self.conn
            .row_opt(&format!("SELECT {LABEL_COLS} FROM labels WHERE id=?1"), params![id.0], rows::label)?
            .ok_or(StoreError::Missing { what: "label", id: id.0 })
    }

    // ---- documents ----

    /// Adds a page; returns `None` when this (hash, page) is already in the workspace.
    pub fn add_document(&mut self, d: &NewDocument, now: TimestampMs) -> Result<Option<DocId>> {
        Ok(self.conn.row_opt(
            "INSERT INTO documents (path, sha256, page, width, height, status, imported_ms, exif)
             VALUES (?1, ?2, ?3, ?4, ?5, 'new', ?6, 1) ON CONFLICT (sha256, page) DO NOTHING RETURNING id",
            params![d.path.as_str(), d.sha256.as_str(), d.page, d.width, d.height, now],
            |r| Ok(DocId(r.i64(0)?)),
        )?)
    }

    /// Adds the pages of one file in one transaction, so they are all there or none is. Returns,
    /// per page, its new id, or `None` where that (hash, page) was already in the workspace.
    pub fn add_pages(&mut self, pages: &[NewDocument], now: TimestampMs) -> Result<Vec<Option<DocId>>> {
        self.conn.write(|tx| {
            let mut ids = Vec::with_capacity(pages.len());
            for d in pages {
                ids.push(tx.row_opt(
                    "INSERT INTO documents (path, sha256, page, width, height, status, imported_ms, exif)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'new', ?6, 1) ON CONFLICT (sha256, page) DO NOTHING RETURNING id",
                    params![d.path.as_str(), d.sha256.as_str(), d.page, d.width, d.height, now],
                    |r| Ok(DocId(r.i64(0)?)),
                )?);
            }
            Ok(ids)
        })
    }

    pub fn document(&self, id: DocId) -> Result<Document> {
        self.conn
            .row_opt(&format!("SELECT {DOC_COLS} FROM documents WHERE id=?1"), params![id.0], rows::document)?
            .ok_or(StoreError::Missing { what: "document", id: id.0 })
    }

    pub fn documents(&self, f: &DocFilter) -> Result<Vec<Document>> {
        Ok(self.conn.rows(
            &format!(
                "SELECT {DOC_COLS} FROM documents
                 WHERE (CAST(?1 AS TEXT) IS NULL OR status=?1) AND (CAST(?2 AS BIGINT) IS NULL OR assignee=?2)
                   AND (CAST(?3 AS TEXT) IS NULL OR instr(lower(path), lower(?3)) > 0)
                   AND (?4 = 1 OR (?4 = 0 AND shelved IS NULL) OR (?4 = 2 AND shelved IS NOT NULL))
                 ORDER BY id"
            ),
            params![
                f.status.map(|s| s.as_str()),
                f.assignee.map(|u| u.0),
                f.path_contains.as_deref(),
                match f.shelved {
                    ShelfFilter::Live => 0i64,
                    ShelfFilter::All => 1,
                    ShelfFilter::Shelved => 2,
                }
            ],
            rows::document,
        )?)
    }

    /// Documents whose file has this content hash (all pages).
    pub fn documents_with_hash(&self, sha256: &str) -> Result<Vec<Document>> {
        Ok(self.conn.rows(
            &format!("SELECT {DOC_COLS} FROM documents WHERE sha256=?1 ORDER BY page"),
            params![sha256],
            rows::document,
        )?)
    }

    /// Points every page of a file at its new location (after the user moved it).
    pub fn relink(&mut self, sha256: &str, new_path: &str) -> Result<usize> {
        Ok(self.conn.exec("UPDATE documents SET path=?2 WHERE sha256=?1", params![sha256, new_path])? as usize)
    }

    pub fn set_assignee(&mut self, doc: DocId, user: Option<UserId>) -> Result<()> {
        self.check_doc(doc)?;
        self.conn.exec("UPDATE documents SET assignee=?2 WHERE id=?1", params![doc.0, user.map(|u| u.0)])?;
        Ok(())
    }

    pub fn document_count(&self) -> Result<i64> {
        Ok(self.conn.int("SELECT count(*) FROM documents", params![])?)
    }

    // ---- annotations and links ----

    pub fn annotations(&self, doc: DocId) -> Result<Vec<Annotation>> {
        Ok(self.conn.rows(
            &format!("SELECT {ANN_COLS} FROM annotations WHERE doc_id=?1 ORDER BY id"),
            params![doc.0],
            rows::annotation,
        )?)
    }

    /// The boxes that could match a search, in one query (the search then checks them in
    /// full): the text contains `text` (ASCII case folded; give `None` for other text, which
    /// SQL cannot fold as Rust does), it has `label`, it was given a review verdict
    /// (`reviewed`), and it carries every flag in `flags`.
    pub fn search_boxes(
        &self,
        text: Option<&str>,
        label: Option<LabelId>,
        reviewed: bool,
        flags: u8,
    ) -> Result<Vec<Annotation>> {
        Ok(self.conn.rows(
            &format!(
                "SELECT {} FROM annotations a
                 WHERE (CAST(?1 AS TEXT) IS NULL OR instr(lower(a.text), lower(?1)) > 0)
                   AND (CAST(?2 AS BIGINT) IS NULL OR a.label_id = ?2)
                   AND (?3 = 0 OR a.id IN (SELECT ann_id FROM box_verdicts))
                   AND (a.flags & ?4) = ?4
                 ORDER BY a.doc_id, a.id",
                ANN_COLS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ")
            ),
            params![text, label.map(|l| l.0), i64::from(reviewed), i64::from(flags)],
            rows::annotation,
        )?)
    }

    /// Every box verdict given, as (box, verdict), each document's rounds in order.
    pub fn verdict_kinds(&self) -> Result<Vec<(crate::domain::AnnId, crate::domain::Verdict)>> {
        Ok(self.conn.rows(
            "SELECT v.ann_id, v.verdict FROM box_verdicts v JOIN review_rounds r ON r.id = v.round_id
             ORDER BY r.doc_id, r.number",
            params![],
            |r| {
                let v = r.text(1)?;
                let verdict =
                    v.parse().map_err(|e: String| super::db::DbError::new(super::db::DbErrorKind::Type, e))?;
                Ok((crate::domain::AnnId(r.i64(0)?), verdict))
            },
        )?)
    }

    /// Documents with a box this person made.
    pub fn docs_with_boxes_by(&self, user: crate::domain::UserId) -> Result<std::collections::HashSet<DocId>> {
        Ok(self
            .conn
            .rows("SELECT DISTINCT doc_id FROM annotations WHERE author=?1", params![user.0], |r| Ok(DocId(r.i64(0)?)))?
            .into_iter()
            .collect())
    }

    /// Every box, in any document, that has this label or had it suggested.
    pub fn annotations_with_label(&self, label: LabelId) -> Result<Vec<Annotation>> {
        Ok(self.conn.rows(
            &format!("SELECT {ANN_COLS} FROM annotations WHERE label_id=?1 OR label_suggested=?1 ORDER BY id"),
            params![label.0],
            rows::annotation,
        )?)
    }

    pub fn annotation(&self, id: crate::domain::AnnId) -> Result<Annotation> {
        self.conn
            .row_opt(&format!("SELECT {ANN_COLS} FROM annotations WHERE id=?1"), params![id.0], rows::annotation)?
            .ok_or(StoreError::Missing { what: "box", id: id.0 })
    }

    /// The boxes of `doc` with these ids (those that exist), in id order.
    pub fn annotations_by_id(&self, doc: DocId, ids: &[crate::domain::AnnId]) -> Result<Vec<Annotation>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // integers only, from typed ids: nothing a user typed reaches the SQL text
        let list: Vec<String> = ids.iter().map(|i| i.0.to_string()).collect();
        Ok(self.conn.rows(
            &format!("SELECT {ANN_COLS} FROM annotations WHERE doc_id=?1 AND id IN ({}) ORDER BY id", list.join(",")),
            params![doc.0],
            rows::annotation,
        )?)
    }

    pub fn annotation_count(&self) -> Result<i64> {
        Ok(self.conn.int("SELECT count(*) FROM annotations", params![])?)
    }

    pub fn links(&self, doc: DocId) -> Result<Vec<Link>> {
        Ok(self.conn.rows(
            &format!("SELECT {LINK_COLS} FROM links WHERE doc_id=?1 ORDER BY id"),
            params![doc.0],
            rows::link,
        )?)
    }

    // ---- activity ----

    /// Records a UI activity event ("open", "close", "focus", "blur", "input"). A write
    /// transaction of its own, so that on a server, too, activity ids become visible in the
    /// order they were given out: the stats caches count events up to a watermark id.
    pub fn record_activity(&mut self, ts_ms: TimestampMs, user: UserId, doc: Option<DocId>, kind: &str) -> Result<()> {
        self.conn.write(|tx| -> Result<()> {
            tx.exec(
                "INSERT INTO activity (ts_ms, user_id, doc_id, kind) VALUES (?1, ?2, ?3, ?4)",
                params![ts_ms, user.0, doc.map(|d| d.0), kind],
            )?;
            Ok(())
        })
    }

    /// Activity events of one user, oldest first: (ts_ms, doc, kind).
    pub fn activity(&self, user: UserId) -> Result<Vec<(TimestampMs, Option<DocId>, String)>> {
        Ok(self.conn.rows(
            "SELECT ts_ms, doc_id, kind FROM activity WHERE user_id=?1 ORDER BY ts_ms, id",
            params![user.0],
            |r| Ok((r.i64(0)?, r.opt_i64(1)?.map(DocId), r.text(2)?)),
        )?)
    }
}
