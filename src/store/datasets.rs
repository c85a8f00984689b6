//! Recorded dataset exports (`dataset_versions`) and the edit-log read that lets an export be
//! reproduced as the workspace was when it was made.

use super::db::{DbResult, Row, Sql, params};
use super::error::on_constraint;
use super::rows::{self, EDIT_COLS};
use super::{Result, Store, StoreError};
use crate::domain::{Edit, EditId, TimestampMs, UserId};

/// One recorded export. `options` and `manifest` are JSON text owned by the app layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetVersion {
    pub number: i64,
    pub created_ms: TimestampMs,
    pub user: Option<UserId>,
    pub format: String,
    pub options: String,
    pub manifest: String,
    pub manifest_sha256: String,
}

const COLS: &str = "number, created_ms, user_id, format, options, manifest, manifest_sha256";

fn version(r: &Row) -> DbResult<DatasetVersion> {
    Ok(DatasetVersion {
        number: r.get(0)?,
        created_ms: r.get(1)?,
        user: r.opt_i64(2)?.map(UserId),
        format: r.get(3)?,
        options: r.get(4)?,
        manifest: r.get(5)?,
        manifest_sha256: r.get(6)?,
    })
}

impl Store {
    /// The number the next recorded export gets (1 for the first).
    pub fn next_dataset_version(&self) -> Result<i64> {
        Ok(self.conn.int("SELECT coalesce(max(number), 0) + 1 FROM dataset_versions", params![])?)
    }

    /// Records an export; fails with `Conflict` if its number is taken meanwhile.
    pub fn add_dataset_version(&mut self, v: &DatasetVersion) -> Result<()> {
        self.conn
            .exec(
                &format!("INSERT INTO dataset_versions ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                params![
                    v.number,
                    v.created_ms,
                    v.user.map(|u| u.0),
                    v.format.as_str(),
                    v.options.as_str(),
                    v.manifest.as_str(),
                    v.manifest_sha256.as_str()
                ],
            )
            .map_err(|e| match on_constraint(e, String::new) {
                StoreError::Invalid(_) => {
                    StoreError::Conflict(format!("dataset version {} was recorded meanwhile; export again", v.number))
                }
                other => other,
            })?;
        Ok(())
    }

    /// All recorded exports, oldest first.
    pub fn dataset_versions(&self) -> Result<Vec<DatasetVersion>> {
        Ok(self.conn.rows(&format!("SELECT {COLS} FROM dataset_versions ORDER BY number"), params![], version)?)
    }

    pub fn dataset_version(&self, number: i64) -> Result<Option<DatasetVersion>> {
        Ok(self.conn.row_opt(
            &format!("SELECT {COLS} FROM dataset_versions WHERE number=?1"),
            params![number],
            version,
        )?)
    }

    /// Every edit after `after` (all edits for `None`), in log order.
    pub fn edits_after(&self, after: Option<EditId>) -> Result<Vec<Edit>> {
        Ok(self.conn.rows(
            &format!("SELECT {EDIT_COLS} FROM edits WHERE id > ?1 ORDER BY id"),
            params![after.map_or(0, |e| e.0)],
            rows::edit,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_numbered_recorded_and_unique() {
        let mut s = Store::open_in_memory().unwrap();
        assert_eq!(s.next_dataset_version().unwrap(), 1);
        let v = DatasetVersion {
            number: 1,
            created_ms: 5,
            user: None,
            format: "coco".into(),
            options: "{}".into(),
            manifest: "{}".into(),
            manifest_sha256: "ab".into(),
        };
        s.add_dataset_version(&v).unwrap();
        assert_eq!(s.next_dataset_version().unwrap(), 2);
        assert!(matches!(s.add_dataset_version(&v), Err(StoreError::Conflict(_))));
        assert_eq!(s.dataset_version(1).unwrap(), Some(v.clone()));
        assert_eq!(s.dataset_versions().unwrap(), vec![v]);
        assert!(s.edits_after(None).unwrap().is_empty());
    }
}
