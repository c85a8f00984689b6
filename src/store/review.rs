//! Storage of review rounds, box verdicts, comments, assignments and gold answers.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::{Result, Store, StoreError};
use crate::domain::{
    AnnId, BoxVerdict, Change, Comment, CommentId, DocId, DocMeta, DocVerdict, GoldBox, GoldScore, LabelId, Rect,
    ReviewRound, RoundId, UserId,
};

fn corrupt(col: usize, msg: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, msg.into())
}

pub(crate) const ROUND_COLS: &str =
    "id, doc_id, number, reviewer, annotator, started_ms, finished_ms, verdict, comment, start_edit";

pub(crate) fn round(r: &Row) -> rusqlite::Result<ReviewRound> {
    let verdict: Option<String> = r.get(7)?;
    Ok(ReviewRound {
        id: RoundId(r.get(0)?),
        doc: DocId(r.get(1)?),
        number: r.get(2)?,
        reviewer: UserId(r.get(3)?),
        annotator: r.get::<_, Option<i64>>(4)?.map(UserId),
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

const VERDICT_COLS: &str = "round_id, ann_id, x0, y0, x1, y1, verdict, comment, reviewer, ts_ms";

fn rect_at(r: &Row, i: usize) -> rusqlite::Result<Rect> {
    Ok(Rect::new(
        r.get::<_, f64>(i)? as f32,
        r.get::<_, f64>(i + 1)? as f32,
        r.get::<_, f64>(i + 2)? as f32,
        r.get::<_, f64>(i + 3)? as f32,
    ))
}

fn box_verdict(r: &Row) -> rusqlite::Result<BoxVerdict> {
    let v: String = r.get(6)?;
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

fn comment(r: &Row) -> rusqlite::Result<Comment> {
    Ok(Comment {
        id: CommentId(r.get(0)?),
        doc: DocId(r.get(1)?),
        round: r.get::<_, Option<i64>>(2)?.map(RoundId),
        ann: r.get::<_, Option<i64>>(3)?.map(AnnId),
        author: UserId(r.get(4)?),
        ts_ms: r.get(5)?,
        text: r.get(6)?,
    })
}

fn gold_score(r: &Row) -> rusqlite::Result<GoldScore> {
    Ok(GoldScore {
        doc: DocId(r.get(0)?),
        user: UserId(r.get(1)?),
        ts_ms: r.get(2)?,
        precision: r.get::<_, f64>(3)? as f32,
        recall: r.get::<_, f64>(4)? as f32,
        f1: r.get::<_, f64>(5)? as f32,
        label_accuracy: r.get::<_, f64>(6)? as f32,
        cer: r.get::<_, f64>(7)? as f32,
    })
}

fn conflict(what: &str) -> StoreError {
    StoreError::Conflict(format!("the {what} was changed by someone else meanwhile; reload and try again"))
}

fn load_meta(tx: &Transaction, doc: DocId) -> Result<DocMeta> {
    tx.query_row("SELECT assignee, reviewer, is_gold FROM documents WHERE id=?1", [doc.0], |r| {
        Ok(DocMeta {
            assignee: r.get::<_, Option<i64>>(0)?.map(UserId),
            reviewer: r.get::<_, Option<i64>>(1)?.map(UserId),
            is_gold: r.get(2)?,
        })
    })
    .optional()?
    .ok_or(StoreError::Missing { what: "document", id: doc.0 })
}

fn load_gold(conn: &rusqlite::Connection, doc: DocId) -> Result<Vec<GoldBox>> {
    let mut stmt =
        conn.prepare_cached("SELECT x0, y0, x1, y1, label_id, text FROM gold_boxes WHERE doc_id=?1 ORDER BY position")?;
    let boxes = stmt
        .query_map([doc.0], |r| {
            Ok(GoldBox { rect: rect_at(r, 0)?, label: r.get::<_, Option<i64>>(4)?.map(LabelId), text: r.get(5)? })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(boxes)
}

/// Applies the review-related change variants (called from the edit transaction).
pub(crate) fn apply_review_change(tx: &Transaction, change: Change) -> Result<Change> {
    Ok(match change {
        Change::Meta { doc, before, after } => {
            if load_meta(tx, doc)? != before {
                return Err(conflict("document assignment"));
            }
            tx.execute(
                "UPDATE documents SET assignee=?2, reviewer=?3, is_gold=?4 WHERE id=?1",
                params![doc.0, after.assignee.map(|u| u.0), after.reviewer.map(|u| u.0), after.is_gold],
            )?;
            Change::Meta { doc, before, after }
        }
        Change::Round { before, after } => {
            let mut after = after;
            if let Some(b) = &before {
                let cur = tx
                    .query_row(&format!("SELECT {ROUND_COLS} FROM review_rounds WHERE id=?1"), [b.id.0], round)
                    .optional()?;
                if cur.as_ref() != Some(b) {
                    return Err(conflict("review round"));
                }
            }
            match (&before, &mut after) {
                (Some(b), None) => {
                    tx.execute("DELETE FROM review_rounds WHERE id=?1", [b.id.0])?;
                }
                (b, Some(a)) => {
                    let id = if b.is_some() || a.id.0 != 0 { Some(a.id.0) } else { None };
                    tx.execute(
                        &format!(
                            "INSERT INTO review_rounds ({ROUND_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                             ON CONFLICT(id) DO UPDATE SET finished_ms=excluded.finished_ms,
                             verdict=excluded.verdict, comment=excluded.comment, reviewer=excluded.reviewer"
                        ),
                        params![
                            id,
                            a.doc.0,
                            a.number,
                            a.reviewer.0,
                            a.annotator.map(|u| u.0),
                            a.started_ms,
                            a.finished_ms,
                            doc_verdict_str(a.verdict),
                            a.comment,
                            a.start_edit
                        ],
                    )?;
                    if id.is_none() {
                        a.id = RoundId(tx.last_insert_rowid());
                    }
                }
                (None, None) => {}
            }
            Change::Round { before, after }
        }
        Change::BoxVerdict { before, after } => {
            let key = before.as_ref().or(after.as_ref()).map(|v| (v.round.0, v.ann.0));
            if let Some((round_id, ann)) = key {
                let cur = tx
                    .query_row(
                        &format!("SELECT {VERDICT_COLS} FROM box_verdicts WHERE round_id=?1 AND ann_id=?2"),
                        [round_id, ann],
                        box_verdict,
                    )
                    .optional()?;
                if cur != before {
                    return Err(conflict("box verdict"));
                }
                tx.execute("DELETE FROM box_verdicts WHERE round_id=?1 AND ann_id=?2", [round_id, ann])?;
            }
            if let Some(v) = &after {
                tx.execute(
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
                        v.comment,
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
                let cur = tx
                    .query_row(&format!("SELECT {COMMENT_COLS} FROM comments WHERE id=?1"), [b.id.0], comment)
                    .optional()?;
                if cur.as_ref() != Some(b) {
                    return Err(conflict("comment"));
                }
                tx.execute("DELETE FROM comments WHERE id=?1", [b.id.0])?;
            }
            if let Some(c) = &mut after {
                let id = if before.is_some() || c.id.0 != 0 { Some(c.id.0) } else { None };
                tx.execute(
                    &format!("INSERT INTO comments ({COMMENT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                    params![id, c.doc.0, c.round.map(|r| r.0), c.ann.map(|a| a.0), c.author.0, c.ts_ms, c.text],
                )?;
                if id.is_none() {
                    c.id = CommentId(tx.last_insert_rowid());
                }
            }
            Change::Comment { before, after }
        }
        Change::Gold { doc, before, after } => {
            if load_gold(tx, doc)? != before {
                return Err(conflict("gold answer"));
            }
            tx.execute("DELETE FROM gold_boxes WHERE doc_id=?1", [doc.0])?;
            for (i, g) in after.iter().enumerate() {
                tx.execute(
                    "INSERT INTO gold_boxes (doc_id, position, x0, y0, x1, y1, label_id, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        doc.0,
                        i as i64,
                        g.rect.x0 as f64,
                        g.rect.y0 as f64,
                        g.rect.x1 as f64,
                        g.rect.y1 as f64,
                        g.label.map(|l| l.0),
                        g.text
                    ],
                )?;
            }
            Change::Gold { doc, before, after }
        }
        Change::GoldScore { before, after } => {
            if let Some(b) = &before {
                tx.execute(
                    "DELETE FROM gold_scores WHERE doc_id=?1 AND user_id=?2 AND ts_ms=?3",
                    params![b.doc.0, b.user.0, b.ts_ms],
                )?;
            }
            if let Some(s) = &after {
                tx.execute(
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
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {ROUND_COLS} FROM review_rounds WHERE doc_id=?1 ORDER BY number"))?;
        let rounds = stmt.query_map([doc.0], round)?.collect::<rusqlite::Result<_>>()?;
        Ok(rounds)
    }

    pub fn verdicts(&self, round_id: RoundId) -> Result<Vec<BoxVerdict>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {VERDICT_COLS} FROM box_verdicts WHERE round_id=?1 ORDER BY ann_id"))?;
        let v = stmt.query_map([round_id.0], box_verdict)?.collect::<rusqlite::Result<_>>()?;
        Ok(v)
    }

    pub fn comments(&self, doc: DocId) -> Result<Vec<Comment>> {
        let mut stmt =
            self.conn.prepare_cached(&format!("SELECT {COMMENT_COLS} FROM comments WHERE doc_id=?1 ORDER BY id"))?;
        let v = stmt.query_map([doc.0], comment)?.collect::<rusqlite::Result<_>>()?;
        Ok(v)
    }

    pub fn gold_boxes(&self, doc: DocId) -> Result<Vec<GoldBox>> {
        load_gold(&self.conn, doc)
    }

    pub fn gold_scores(&self, user: Option<UserId>) -> Result<Vec<GoldScore>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT doc_id, user_id, ts_ms, precision, recall, f1, label_accuracy, cer FROM gold_scores
             WHERE (?1 IS NULL OR user_id=?1) ORDER BY ts_ms",
        )?;
        let v = stmt.query_map([user.map(|u| u.0)], gold_score)?.collect::<rusqlite::Result<_>>()?;
        Ok(v)
    }

    pub fn doc_meta(&self, doc: DocId) -> Result<DocMeta> {
        let d = self.document(doc)?;
        Ok(DocMeta { assignee: d.assignee, reviewer: d.reviewer, is_gold: d.is_gold })
    }
}
