//! The workspace's field-label models (`label_models`): every trained version with the dataset
//! it learned from, so everyone on a team gets the same suggestions. The blob is opaque here.

use super::Result;
use super::Store;
use super::db::{DbResult, Row, Sql, params};
use crate::domain::{DocStatus, TimestampMs};

/// One stored model.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredLabelModel {
    pub id: i64,
    pub trained_ms: TimestampMs,
    /// The dataset version it learned from (see [`Store::reviewed_dataset`]).
    pub dataset: String,
    pub documents: i64,
    pub examples: i64,
    pub model: Vec<u8>,
    /// JSON text owned by the app layer (its cross-validated report).
    pub report: String,
}

const COLS: &str = "id, trained_ms, dataset, documents, examples, model, report";

fn stored(r: &Row) -> DbResult<StoredLabelModel> {
    Ok(StoredLabelModel {
        id: r.get(0)?,
        trained_ms: r.get(1)?,
        dataset: r.get(2)?,
        documents: r.get(3)?,
        examples: r.get(4)?,
        model: r.opt_blob(5)?.unwrap_or_default(),
        report: r.get(6)?,
    })
}

impl Store {
    /// Stores a newly trained model; it becomes the latest. Returns its id.
    pub fn add_label_model(&mut self, m: &StoredLabelModel) -> Result<i64> {
        Ok(self.conn.int(
            "INSERT INTO label_models (trained_ms, dataset, documents, examples, model, report)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            params![m.trained_ms, m.dataset.as_str(), m.documents, m.examples, m.model.as_slice(), m.report.as_str()],
        )?)
    }

    /// The most recently trained model, if any.
    pub fn latest_label_model(&self) -> Result<Option<StoredLabelModel>> {
        Ok(self.conn.row_opt(
            &format!("SELECT {COLS} FROM label_models ORDER BY id DESC LIMIT 1"),
            params![],
            stored,
        )?)
    }

    /// Every stored model without its blob (newest first), for reports.
    pub fn label_model_history(&self) -> Result<Vec<StoredLabelModel>> {
        let sql = "SELECT id, trained_ms, dataset, documents, examples, substr(model, 1, 0), report FROM label_models ORDER BY id DESC";
        Ok(self.conn.rows(sql, params![], stored)?)
    }

    /// The version of the reviewed dataset a label model learns from: the accepted documents
    /// and the last edit made to any of them ("12 docs @ edit 3456"). It changes whenever a
    /// document is accepted, reopened, or an accepted one is edited.
    pub fn reviewed_dataset(&self) -> Result<String> {
        let (n, last) = self.conn.row(
            "SELECT count(*), coalesce((SELECT max(e.id) FROM edits e JOIN documents d ON d.id = e.doc_id
                                         WHERE d.status = ?1), 0)
             FROM documents WHERE status = ?1",
            params![DocStatus::Accepted.as_str()],
            |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?)),
        )?;
        Ok(format!("{n} docs @ edit {last}"))
    }
}

impl Store {
    /// Every machine-suggested label a person has decided on: (suggested, label now, when the
    /// box was last changed), for boxes that are part of the work (accepted suggestions and
    /// boxes a person labelled over a suggestion). Rejected suggestions are deleted boxes and
    /// not counted here. Optionally only those decided in `[from_ms, to_ms)`.
    pub fn label_suggestion_outcomes(
        &self,
        from_ms: Option<TimestampMs>,
        to_ms: Option<TimestampMs>,
    ) -> Result<Vec<(crate::domain::LabelId, Option<crate::domain::LabelId>, TimestampMs)>> {
        use crate::domain::LabelId;
        Ok(self.conn.rows(
            "SELECT label_suggested, label_id, updated_ms FROM annotations
             WHERE label_suggested IS NOT NULL AND label_conf IS NULL AND state = 'active'
               AND updated_ms >= ?1 AND updated_ms < ?2
             ORDER BY updated_ms",
            params![from_ms.unwrap_or(i64::MIN), to_ms.unwrap_or(i64::MAX)],
            |r| Ok((LabelId(r.get(0)?), r.opt_i64(1)?.map(LabelId), r.get(2)?)),
        )?)
    }
}
