//! Leases: who is working on which document, until when, on the store's clock (the server's
//! for a team workspace, so workstations whose clocks differ agree). Every lease change is a
//! write transaction, and writers follow each other (the workspace's write lock), so two
//! people asking for work at the same moment are never handed the same document.

use super::db::{Row, Sql, params};
use super::{Result, Store};
use crate::domain::{DocId, Lease, TimestampMs, UserId};

const COLS: &str = "doc_id, holder, taken_ms, expires_ms";

fn lease(r: &Row) -> super::db::DbResult<Lease> {
    Ok(Lease { doc: DocId(r.i64(0)?), holder: UserId(r.i64(1)?), taken_ms: r.i64(2)?, expires_ms: r.i64(3)? })
}

impl Store {
    /// The store's clock, as SQL.
    fn now_sql(&self) -> &'static str {
        if self.is_postgres() {
            "facture_now_ms()"
        } else {
            "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
        }
    }

    /// The store's clock in ms since 1970 (the server's, for a team workspace).
    pub fn clock_ms(&self) -> Result<TimestampMs> {
        Ok(self.conn.row(&format!("SELECT {}", self.now_sql()), params![], |r| r.i64(0))?)
    }

    /// The live lease on `doc`, if anyone holds one.
    pub fn live_lease(&self, doc: DocId) -> Result<Option<Lease>> {
        Ok(self.conn.row_opt(&self.lease_sql().0, params![doc.0], lease)?)
    }

    /// Every live lease.
    pub fn live_leases(&self) -> Result<Vec<Lease>> {
        let sql = format!("SELECT {COLS} FROM leases WHERE expires_ms > {} ORDER BY doc_id", self.now_sql());
        Ok(self.conn.rows(&sql, params![], lease)?)
    }

    /// Takes the lease on `doc` for `user` for `ttl_ms` (renews it if theirs already). When
    /// someone else holds a live one, nothing changes and theirs is returned as the error.
    pub fn take_lease(&mut self, user: UserId, doc: DocId, ttl_ms: i64) -> Result<Result<Lease, Lease>> {
        let (held, take) = self.lease_sql();
        self.conn.write(|tx| -> Result<Result<Lease, Lease>> {
            match tx.row_opt(&held, params![doc.0], lease)? {
                Some(theirs) if theirs.holder != user => Ok(Err(theirs)),
                _ => Ok(Ok(tx.row(&take, params![doc.0, user.0, ttl_ms], lease)?)),
            }
        })
    }

    /// The live lease on a document (`?1`), and taking one (`?1` doc, `?2` holder, `?3` ttl).
    fn lease_sql(&self) -> (String, String) {
        let now = self.now_sql();
        let held = format!("SELECT {COLS} FROM leases WHERE doc_id = ?1 AND expires_ms > {now}");
        let take = format!(
            "INSERT INTO leases ({COLS}) VALUES (?1, ?2, {now}, {now} + ?3)
             ON CONFLICT (doc_id) DO UPDATE SET
                 taken_ms = CASE WHEN leases.holder = excluded.holder AND leases.expires_ms > excluded.taken_ms
                                 THEN leases.taken_ms ELSE excluded.taken_ms END,
                 holder = excluded.holder, expires_ms = excluded.expires_ms
             RETURNING {COLS}"
        );
        (held, take)
    }

    /// Takes the lease on the first of `candidates` that nobody else holds (a lease of
    /// `user`'s own counts as free, and is renewed), in one transaction. `None` when every
    /// candidate is someone else's.
    pub fn take_first_free(&mut self, user: UserId, candidates: &[DocId], ttl_ms: i64) -> Result<Option<Lease>> {
        let (held, take) = self.lease_sql();
        self.conn.write(|tx| -> Result<Option<Lease>> {
            for &doc in candidates {
                match tx.row_opt(&held, params![doc.0], lease)? {
                    Some(theirs) if theirs.holder != user => continue,
                    _ => return Ok(Some(tx.row(&take, params![doc.0, user.0, ttl_ms], lease)?)),
                }
            }
            Ok(None)
        })
    }

    /// Renews every live lease `user` holds for another `ttl_ms`; returns them.
    pub fn renew_leases(&mut self, user: UserId, ttl_ms: i64) -> Result<Vec<Lease>> {
        let now = self.now_sql();
        let sql = format!(
            "UPDATE leases SET expires_ms = {now} + ?2 WHERE holder = ?1 AND expires_ms > {now} RETURNING {COLS}"
        );
        let mut renewed = self.conn.write(|tx| tx.rows(&sql, params![user.0, ttl_ms], lease))?;
        renewed.sort_by_key(|l| l.doc.0);
        Ok(renewed)
    }

    /// Gives back `user`'s leases, all of them or all but `keep`'s.
    pub fn release_leases(&mut self, user: UserId, keep: Option<DocId>) -> Result<()> {
        let keep = keep.map_or(-1, |d| d.0);
        self.conn
            .write(|tx| tx.exec("DELETE FROM leases WHERE holder = ?1 AND doc_id <> ?2", params![user.0, keep]))?;
        Ok(())
    }

    /// Ends whoever's lease on `doc` (a lead's "break lease"); returns whether there was one.
    pub fn break_lease(&mut self, doc: DocId) -> Result<bool> {
        Ok(self.conn.write(|tx| tx.exec("DELETE FROM leases WHERE doc_id = ?1", params![doc.0]))? > 0)
    }
}
