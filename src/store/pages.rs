//! Document tags, page rotation and guideline examples: applying their changes inside the
//! edit transaction, and reading examples back.

use std::collections::BTreeMap;

use super::db::{DbResult, P, Row, Sql, Tx, params};
use super::{Result, Store, StoreError};
use crate::domain::{Change, DocId, ExampleId, LabelExample, LabelId, Rect, UserId};

fn conflict(what: &str) -> StoreError {
    StoreError::Conflict(format!("the {what} was changed by someone else meanwhile; reload and try again"))
}

const EXAMPLE_COLS: &str = "id, label_id, doc_id, x0, y0, x1, y1, text, good, note, crop, author, created_ms";

fn example(r: &Row) -> DbResult<LabelExample> {
    Ok(LabelExample {
        id: ExampleId(r.i64(0)?),
        label: LabelId(r.i64(1)?),
        doc: r.opt_i64(2)?.map(DocId),
        rect: Rect::new(r.f64(3)? as f32, r.f64(4)? as f32, r.f64(5)? as f32, r.f64(6)? as f32),
        text: r.text(7)?,
        good: r.bool(8)?,
        note: r.text(9)?,
        crop_png: r.opt_blob(10)?.unwrap_or_default(),
        author: r.opt_i64(11)?.map(UserId),
        created_ms: r.i64(12)?,
    })
}

fn load_example(tx: &Tx, id: ExampleId) -> Result<Option<LabelExample>> {
    Ok(tx.row_opt(&format!("SELECT {EXAMPLE_COLS} FROM label_examples WHERE id=?1"), params![id.0], example)?)
}

/// Applies `Tags`, `Rotation` and `Example` changes (called from the edit transaction).
pub(crate) fn apply_page_change(tx: &Tx, change: Change) -> Result<Change> {
    Ok(match change {
        Change::Tags { doc, before, after } => {
            let current = tx.row_opt("SELECT tags FROM documents WHERE id=?1", params![doc.0], |r| r.text(0))?;
            let current = current.ok_or(StoreError::Missing { what: "document", id: doc.0 })?;
            let current: BTreeMap<String, String> = serde_json::from_str(&current).unwrap_or_default();
            if current != before {
                return Err(conflict("document's tags"));
            }
            let text = serde_json::to_string(&after).map_err(|e| StoreError::Invalid(e.to_string()))?;
            tx.exec("UPDATE documents SET tags=?2 WHERE id=?1", params![doc.0, text.as_str()])?;
            Change::Tags { doc, before, after }
        }
        Change::Rotation { doc, before, after } => {
            if after > 3 {
                return Err(StoreError::Invalid(format!("{after} quarter turns is not a rotation (0–3)")));
            }
            let current = tx.row_opt("SELECT rotation FROM documents WHERE id=?1", params![doc.0], |r| r.i64(0))?;
            if current.ok_or(StoreError::Missing { what: "document", id: doc.0 })? != i64::from(before) {
                return Err(conflict("page's rotation"));
            }
            let swap = (i64::from(after) - i64::from(before)).rem_euclid(2) == 1;
            let sql = if swap {
                "UPDATE documents SET rotation=?2, width=height, height=width WHERE id=?1"
            } else {
                "UPDATE documents SET rotation=?2 WHERE id=?1"
            };
            tx.exec(sql, params![doc.0, i64::from(after)])?;
            Change::Rotation { doc, before, after }
        }
        Change::Example { before, after } => {
            if let Some(b) = &before
                && load_example(tx, b.id)?.as_ref() != Some(b)
            {
                return Err(conflict("guideline example"));
            }
            if let Some(b) = &before {
                tx.exec("DELETE FROM label_examples WHERE id=?1", params![b.id.0])?;
            }
            let after = match after {
                None => None,
                Some(mut e) => {
                    let vals = [
                        P::Int(e.label.0),
                        P::from(e.doc.map(|d| d.0)),
                        P::Real(e.rect.x0 as f64),
                        P::Real(e.rect.y0 as f64),
                        P::Real(e.rect.x1 as f64),
                        P::Real(e.rect.y1 as f64),
                        P::Text(&e.text),
                        P::from(e.good),
                        P::Text(&e.note),
                        P::Blob(&e.crop_png),
                        P::from(e.author.map(|u| u.0)),
                        P::Int(e.created_ms),
                    ];
                    if e.id.0 != 0 {
                        // restored by undo, or changed: keeps its id
                        let mut with_id = vec![P::Int(e.id.0)];
                        with_id.extend(vals);
                        tx.exec(
                            &format!(
                                "INSERT INTO label_examples ({EXAMPLE_COLS})
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                            ),
                            &with_id,
                        )?;
                    } else {
                        let id = tx.int(
                            &format!(
                                "INSERT INTO label_examples ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                                 RETURNING id",
                                EXAMPLE_COLS.trim_start_matches("id, ")
                            ),
                            &vals,
                        )?;
                        e.id = ExampleId(id);
                    }
                    Some(e)
                }
            };
            Change::Example { before, after }
        }
        other => return Err(StoreError::Invalid(format!("not a page change: {other:?}"))),
    })
}

impl Store {
    /// A label's pinned examples, good ones first, oldest first.
    pub fn label_examples(&self, label: LabelId) -> Result<Vec<LabelExample>> {
        Ok(self.conn.rows(
            &format!("SELECT {EXAMPLE_COLS} FROM label_examples WHERE label_id=?1 ORDER BY good DESC, id"),
            params![label.0],
            example,
        )?)
    }

    /// Every pinned example, by label then good ones first.
    pub fn all_label_examples(&self) -> Result<Vec<LabelExample>> {
        Ok(self.conn.rows(
            &format!("SELECT {EXAMPLE_COLS} FROM label_examples ORDER BY label_id, good DESC, id"),
            params![],
            example,
        )?)
    }
}
