//! Live updates: what other windows changed, as soon as they commit. On a server the watching
//! connection LISTENs on the workspace's `facture` channel and sleeps until a notification
//! (the whole workspace is never polled); on a workspace file, where SQLite has no
//! notifications, it checks the file's change counter (`PRAGMA data_version`, a read of
//! SQLite's own header) a few times a second. Either way it then reads only the edits after
//! the last one it reported.

use std::time::{Duration, Instant};

use super::db::{Conn, Sql, params};
use super::{Result, Store};
use crate::domain::{DocId, EditId, UserId};

/// Where a watch stands: the last edit reported, and the file's change counter.
#[derive(Debug, Clone, Default)]
pub struct WatchPoint {
    last_edit: i64,
    data_version: i64,
}

/// What others changed since the previous report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Documents whose edit log grew, each with who edited it (None: machine work), in the
    /// order of their newest edit.
    pub docs: Vec<(DocId, Option<UserId>)>,
    /// Someone took, gave back or lost a document (a lease), or something else changed that is
    /// not in the edit log.
    pub leases: bool,
    /// The newest edit reported.
    pub last_edit: Option<EditId>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty() && !self.leases
    }
}

const FILE_CHECK: Duration = Duration::from_millis(200);

impl Store {
    /// Starts watching: from now on [`Store::wait_for_changes`] reports what others change.
    /// Use a connection of its own (it sleeps while it waits).
    pub fn watch(&mut self) -> Result<WatchPoint> {
        if self.is_postgres() {
            self.conn.batch("LISTEN facture")?;
        }
        let last_edit = self.last_edit_id()?.map_or(0, |e| e.0);
        Ok(WatchPoint { last_edit, data_version: self.data_version()? })
    }

    fn data_version(&self) -> Result<i64> {
        if self.is_postgres() {
            return Ok(0);
        }
        Ok(self.conn.row("PRAGMA data_version", params![], |r| r.i64(0))?)
    }

    /// Waits up to `timeout` for others' changes and reports them (empty when none came).
    pub fn wait_for_changes(&mut self, point: &mut WatchPoint, timeout: Duration) -> Result<Changes> {
        let mut changes = Changes::default();
        let edits_grew = match &self.conn {
            Conn::Pg(pg) => {
                let notes = pg.notifications(timeout)?;
                changes.leases = notes.iter().any(|n| n == "leases");
                notes.iter().any(|n| n == "edits")
            }
            Conn::Sqlite(_) => {
                let until = Instant::now() + timeout;
                loop {
                    let v = self.data_version()?;
                    if v != point.data_version {
                        point.data_version = v;
                        changes.leases = true;
                        break true;
                    }
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break false;
                    }
                    std::thread::sleep(left.min(FILE_CHECK));
                }
            }
        };
        if edits_grew {
            let rows = self.conn.rows(
                "SELECT doc_id, user_id, max(id) FROM edits WHERE id > ?1 AND doc_id IS NOT NULL
                 GROUP BY doc_id, user_id ORDER BY max(id)",
                params![point.last_edit],
                |r| Ok((DocId(r.i64(0)?), r.opt_i64(1)?.map(UserId), r.i64(2)?)),
            )?;
            for (doc, user, last) in rows {
                point.last_edit = point.last_edit.max(last);
                changes.docs.retain(|d| d.0 != doc);
                changes.docs.push((doc, user));
            }
        }
        changes.last_edit = (point.last_edit > 0).then_some(EditId(point.last_edit));
        Ok(changes)
    }
}
