//! Storage of review rounds, box verdicts, comments, assignments and gold answers.

use super::db::{DbError, DbErrorKind, DbResult, Row, Sql, Tx, params};
use super::{Result, Store, StoreError};
use crate::domain::{
    AnnId, BoxVerdict, Change, Comment, CommentId, DocId, DocMeta, DocVerdict, GoldBox, GoldScore, LabelId, Rect,
    ReviewRound, RoundId, UserId,
};

fn corrupt(col: usize, msg: String) -> DbError {
    DbError::new(DbErrorKind::Type, format!("column {col}: {msg}"))
}

pub(crate) const ROUND_COLS: &str =
    "id, doc_id, number, reviewer, annotator, started_ms, finished_ms, verdict, comment, start_edit";

pub(crate) fn round(r: &Row) -> DbResult<ReviewRound> {
    let verdict = r.opt_text(7)?;
    Ok(ReviewRound {
        id: RoundId(r.get(0)?),
        doc: DocId(r.get(1)?),
        number: r.get(2)?,
        reviewer: UserId(r.get(3)?),
        annotator: r.opt_i64(4)?.map(UserId),
        started_ms: r.get(5)?,
        finished_ms: r.get(6)?,
        verdict: match verdict.as_deref() {
            None => None,
            Some("accept") => Some(DocVerdict::Accept),
            Some("reject") => Some(DocVerdict::Reject),
            Some(other) => return Err(corrupt(7, format!("bad verdict {other}"))),
        },
        comment: r.get(8)?,
        start_edit: r.get(9)?,
    })
}

fn doc_verdict_str(v: Option<DocVerdict>) -> Option<&'static str> {
    v.map(|v| match v {
        DocVerdict::Accept => "accept",
        DocVerdict::Reject => "reject",
    })
}

pub(crate) const VERDICT_COLS: &str = "round_id, ann_id, x0, y0, x1, y1, verdict, comment, reviewer, ts_ms";

fn rect_at(r: &Row, i: usize) -> DbResult<Rect> {
    Ok(Rect::new(r.f64(i)? as f32, r.f64(i + 1)? as f32, r.f64(i + 2)? as f32, r.f64(i + 3)? as f32))
}

pub(crate) fn box_verdict(r: &Row) -> DbResult<BoxVerdict> {
    let v = r.text(6)?;
    Ok(BoxVerdict {
        round: RoundId(r.get(0)?),
        ann: AnnId(r.get(1)?),
        rect: rect_at(r, 2)?,
        verdict: v.parse().map_err(|e: String| corrupt(6, e))?,
        comment: r.get(7)?,
        reviewer: UserId(r.get(8)?),
        ts_ms: r.get(9)?,
    })
}

const COMMENT_COLS: &str = "id, doc_id, round_id, ann_id, author, ts_ms, text";

fn comment(r: &Row) -> DbResult<Comment> {
    Ok(Comment {
        id: CommentId(r.get(0)?),
        doc: DocId(r.get(1)?),
        round: r.opt_i64(2)?.map(RoundId),
        ann: r.opt_i64(3)?.map(AnnId),
        author: UserId(r.get(4)?),
        ts_ms: r.get(5)?,
        text: r.get(6)?,
    })
}

fn gold_score(r: &Row) -> DbResult<GoldScore> {
    Ok(GoldScore {
        doc: DocId(r.get(0)?),
        user: UserId(r.get(1)?),
        ts_ms: r.get(2)?,
        precision: r.f64(3)? as f32,
        recall: r.f64(4)? as f32,
        f1: r.f64(5)? as f32,
        label_accuracy: r.f64(6)? as f32,
        cer: r.f64(7)? as f32,
    })
}

fn conflict(what: &str) -> StoreError {
    StoreError::Conflict(format!("the {what} was changed by someone else meanwhile; reload and try again"))
}

fn load_meta(tx: &Tx, doc: DocId) -> Result<DocMeta> {
    Ok(tx
        .row_opt(
            &format!("SELECT {} FROM documents WHERE id=?1", super::rows::DOC_COLS),
            params![doc.0],
            super::rows::document,
        )?
        .ok_or(StoreError::Missing { what: "document", id: doc.0 })?
        .meta())
}

fn load_gold(conn: &impl Sql, doc: DocId) -> Result<Vec<GoldBox>> {
    Ok(conn.rows(
        "SELECT x0, y0, x1, y1, label_id, text FROM gold_boxes WHERE doc_id=?1 ORDER BY position",
        params![doc.0],
        |r| Ok(GoldBox { rect: rect_at(r, 0)?, label: r.opt_i64(4)?.map(LabelId), text: r.text(5)? }),
    )?)
}

/// Applies the review-related change variants (called from the edit transaction).
pub(crate) fn apply_review_change(tx: &Tx, change: Change) -> Result<Change> {
    Ok(match change {
        Change::Meta { doc, before, after } => {
            if load_meta(tx, doc)? != before {
                return Err(conflict("document assignment"));
            }
            tx.exec(
                "UPDATE documents SET assignee=?2, reviewer=?3, is_gold=?4, shelved=?5, priority=?6 WHERE id=?1",
                params![
                    doc.0,
                    after.assignee.map(|u| u.0),
                    after.reviewer.map(|u| u.0),
                    after.is_gold,
                    after.shelved.map(|s| s.as_str()),
                    after.priority
                ],
            )?;
            Change::Meta { doc, before, after }
        }
        Change::Round { before, after } => {
            let mut after = after;
            if let Some(b) = &before {
                let cur =
                    tx.row_opt(&format!("SELECT {ROUND_COLS} FROM review_rounds WHERE id=?1"), params![b.id.0], round)?;
                if cur.as_ref() != Some(b) {
                    return Err(conflict("review round"));
                }
            }
            match (&before, &mut after) {
                (Some(b), None) => {
                    tx.exec("DELETE FROM review_rounds WHERE id=?1", params![b.id.0])?;
                }
                (b, Some(a)) => {
                    let values = params![
                        a.id.0,
                        a.doc.0,
                        a.number,
                        a.reviewer.0,
                        a.annotator.map(|u| u.0),
                        a.started_ms,
                        a.finished_ms,
                        doc_verdict_str(a.verdict),
                        a.comment.as_str(),
                        a.start_edit
                    ];
                    if b.is_some() || a.id.0 != 0 {
                        tx.exec(
                            &format!(
                                "INSERT INTO review_rounds ({ROUND_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                                 ON CONFLICT (id) DO UPDATE SET finished_ms=excluded.finished_ms,
                                 verdict=excluded.verdict, comment=excluded.comment, reviewer=excluded.reviewer"
                            ),
                            values,
                        )?;
                    } else {
                        a.id = RoundId(tx.int(
                            &format!(
                                "INSERT INTO review_rounds ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
                                ROUND_COLS.trim_start_matches("id, ")
                            ),
                            &values[1..],
                        )?);
                    }
                }
                (None, None) => {}
            }
            Change::Round { before, after }
        }
        Change::BoxVerdict { before, after } => {
            let key = before.as_ref().or(after.as_ref()).map(|v| (v.round.0, v.ann.0));
            if let Some((round_id, ann)) = key {
                let cur = tx.row_opt(
                    &format!("SELECT {VERDICT_COLS} FROM box_verdicts WHERE round_id=?1 AND ann_id=?2"),
                    params![round_id, ann],
                    box_verdict,
                )?;
                if cur != before {
                    return Err(conflict("box verdict"));
                }
                tx.exec("DELETE FROM box_verdicts WHERE round_id=?1 AND ann_id=?2", params![round_id, ann])?;
            }
            if let Some(v) = &after {
                tx.exec(
                    &format!(
                        "INSERT INTO box_verdicts ({VERDICT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                    ),
                    params![
                        v.round.0,
                        v.ann.0,
                        v.rect.x0 as f64,
                        v.rect.y0 as f64,
                        v.rect.x1 as f64,
                        v.rect.y1 as f64,
                        v.verdict.as_str(),
                        v.comment.as_str(),
                        v.reviewer.0,
                        v.ts_ms
                    ],
                )?;
            }
            Change::BoxVerdict { before, after }
        }
        Change::Comment { before, after } => {
            let mut after = after;
            if let Some(b) = &before {
                let cur =
                    tx.row_opt(&format!("SELECT {COMMENT_COLS} FROM comments WHERE id=?1"), params![b.id.0], comment)?;
                if cur.as_ref() != Some(b) {
                    return Err(conflict("comment"));
                }
                tx.exec("DELETE FROM comments WHERE id=?1", params![b.id.0])?;
            }
            if let Some(c) = &mut after {
                let values = params![
                    c.id.0,
                    c.doc.0,
                    c.round.map(|r| r.0),
                    c.ann.map(|a| a.0),
                    c.author.0,
                    c.ts_ms,
                    c.text.as_str()
                ];
                if before.is_some() || c.id.0 != 0 {
                    tx.exec(
                        &format!("INSERT INTO comments ({COMMENT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                        values,
                    )?;
                } else {
                    c.id = CommentId(tx.int(
                        &format!(
                            "INSERT INTO comments ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                            COMMENT_COLS.trim_start_matches("id, ")
                        ),
                        &values[1..],
                    )?);
                }
            }
            Change::Comment { before, after }
        }
        Change::Gold { doc, before, after } => {
            if load_gold(tx, doc)? != before {
                return Err(conflict("gold answer"));
            }
            tx.exec("DELETE FROM gold_boxes WHERE doc_id=?1", params![doc.0])?;
            for (i, g) in after.iter().enumerate() {
                tx.exec(
                    "INSERT INTO gold_boxes (doc_id, position, x0, y0, x1, y1, label_id, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        doc.0,
                        i as i64,
                        g.rect.x0 as f64,
                        g.rect.y0 as f64,
                        g.rect.x1 as f64,
                        g.rect.y1 as f64,
                        g.label.map(|l| l.0),
                        g.text.as_str()
                    ],
                )?;
            }
            Change::Gold { doc, before, after }
        }
        Change::GoldScore { before, after } => {
            if let Some(b) = &before {
                tx.exec(
                    "DELETE FROM gold_scores WHERE doc_id=?1 AND user_id=?2 AND ts_ms=?3",
                    params![b.doc.0, b.user.0, b.ts_ms],
                )?;
            }
            if let Some(s) = &after {
                tx.exec(
                    "INSERT INTO gold_scores (doc_id, user_id, ts_ms, precision, recall, f1, label_accuracy, cer)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        s.doc.0,
                        s.user.0,
                        s.ts_ms,
                        s.precision as f64,
                        s.recall as f64,
                        s.f1 as f64,
                        s.label_accuracy as f64,
                        s.cer as f64
                    ],
                )?;
            }
            Change::GoldScore { before, after }
        }
        other => return Err(StoreError::Invalid(format!("not a review change: {other:?}"))),
    })
}

impl Store {
    /// All review rounds of a document, first round first.
    pub fn rounds(&self, doc: DocId) -> Result<Vec<ReviewRound>> {
        Ok(self.conn.rows(
            &format!("SELECT {ROUND_COLS} FROM review_rounds WHERE doc_id=?1 ORDER BY number"),
            params![doc.0],
            round,
        )?)
    }

    pub fn verdicts(&self, round_id: RoundId) -> Result<Vec<BoxVerdict>> {
        Ok(self.conn.rows(
            &format!("SELECT {VERDICT_COLS} FROM box_verdicts WHERE round_id=?1 ORDER BY ann_id"),
            params![round_id.0],
            box_verdict,
        )?)
    }

    pub fn comments(&self, doc: DocId) -> Result<Vec<Comment>> {
        Ok(self.conn.rows(
            &format!("SELECT {COMMENT_COLS} FROM comments WHERE doc_id=?1 ORDER BY id"),
            params![doc.0],
            comment,
        )?)
    }

    /// Gold documents whose reference answer has a box of this label.
    pub fn gold_docs_with_label(&self, label: LabelId) -> Result<Vec<DocId>> {
        Ok(self.conn.rows(
            "SELECT DISTINCT doc_id FROM gold_boxes WHERE label_id=?1 ORDER BY doc_id",
            params![label.0],
            |r| Ok(DocId(r.i64(0)?)),
        )?)
    }

    pub fn gold_boxes(&self, doc: DocId) -> Result<Vec<GoldBox>> {
        load_gold(&self.conn, doc)
    }

    pub fn gold_scores(&self, user: Option<UserId>) -> Result<Vec<GoldScore>> {
        Ok(self.conn.rows(
            "SELECT doc_id, user_id, ts_ms, precision, recall, f1, label_accuracy, cer FROM gold_scores
             WHERE (CAST(?1 AS BIGINT) IS NULL OR user_id=?1) ORDER BY ts_ms",
            params![user.map(|u| u.0)],
            gold_score,
        )?)
    }

    pub fn doc_meta(&self, doc: DocId) -> Result<DocMeta> {
        Ok(self.document(doc)?.meta())
    }
}
