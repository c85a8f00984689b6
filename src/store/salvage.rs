//! Saving what can still be read from a damaged workspace into a new one: every table, row by
//! row, stepping over pages SQLite cannot read; then rows that point at lost rows are dropped
//! so the new file is consistent. The damaged file is only read. Derived caches (the stats
//! tables) are not copied: they are rebuilt from the log.

use std::path::Path;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, params_from_iter};

use super::db::{Conn, DbError};
use super::{Result, Store, StoreError};

/// rusqlite's errors become the store's here, as everywhere: through [`DbError`].
trait OrStore<T> {
    fn db(self) -> Result<T>;
}

impl<T> OrStore<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T> {
        self.map_err(|e| StoreError::from(DbError::from(e)))
    }
}

/// What a salvage copied and what it could not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SalvageReport {
    /// (table, rows copied, rows that could not be read)
    pub tables: Vec<(String, u64, u64)>,
    /// Rows dropped because what they referred to was lost (table, rows).
    pub orphans: Vec<(String, u64)>,
}

impl SalvageReport {
    pub fn summary(&self) -> String {
        let copied: u64 = self.tables.iter().map(|t| t.1).sum();
        let lost: Vec<String> =
            self.tables.iter().filter(|t| t.2 > 0).map(|(name, _, lost)| format!("{name} ~{lost}")).collect();
        let orphans: Vec<String> = self.orphans.iter().map(|(name, n)| format!("{name} {n}")).collect();
        let mut s = format!("{copied} row(s) saved");
        s.push_str(&if lost.is_empty() {
            "; nothing unreadable".to_string()
        } else {
            format!("; rows skipped as unreadable (estimate): {}", lost.join(", "))
        });
        if !orphans.is_empty() {
            s.push_str(&format!("; dropped as they referred to lost rows: {}", orphans.join(", ")));
        }
        s
    }
}

/// Tables rebuilt from the log rather than copied.
fn is_derived(table: &str) -> bool {
    table.starts_with("stats_") || table.starts_with("sqlite_")
}

/// How many rows a probe skips at first when a read fails; it doubles until reads succeed.
const FIRST_SKIP: i64 = 1;

/// Copies what can be read of `damaged` into a new workspace at `into` (which must not exist).
pub fn salvage(damaged: &Path, into: &Path) -> Result<SalvageReport> {
    if !damaged.is_file() {
        return Err(StoreError::NotFound { workspace: damaged.display().to_string() });
    }
    if into.exists() {
        return Err(StoreError::Invalid(format!("{}: already exists; name a new file", into.display())));
    }
    let old = open_damaged(damaged)?;
    let version: i64 = old
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| unreadable(damaged, &format!("its header cannot be read ({})", DbError::from(e).message)))?;
    if version > super::LATEST_VERSION {
        return Err(StoreError::NewerSchema {
            workspace: damaged.display().to_string(),
            found: version,
            supported: super::LATEST_VERSION,
        });
    }
    let tables: Vec<String> = {
        let mut stmt = old.prepare("SELECT name FROM sqlite_master WHERE type='table'").map_err(|e| {
            unreadable(damaged, &format!("its table list cannot be read ({})", DbError::from(e).message))
        })?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).and_then(|r| r.collect::<rusqlite::Result<Vec<_>>>());
        rows.map_err(|e| unreadable(damaged, &format!("its table list cannot be read ({})", DbError::from(e).message)))?
    };
    if !tables.iter().any(|t| t == "meta") || !tables.iter().any(|t| t == "edits") {
        return Err(StoreError::NotAWorkspace {
            workspace: damaged.display().to_string(),
            reason: "no Facture tables can be read in it".into(),
        });
    }
    let mut report = SalvageReport::default();
    let mut store = Store::create(into)?;
    let result = (|| -> Result<()> {
        let Conn::Sqlite(conn) = &mut store.conn else {
            return Err(StoreError::Invalid("a salvage writes a workspace file".into()));
        };
        let tx = conn.transaction().db()?;
        tx.execute_batch("PRAGMA defer_foreign_keys=ON;").db()?;
        let fresh_id: String =
            tx.query_row("SELECT value FROM meta WHERE key='workspace_id'", [], |r| r.get(0)).db()?;
        // the new file's seed rows give way to the old ones
        tx.execute_batch("DELETE FROM meta; DELETE FROM labels;").db()?;
        for table in tables.iter().filter(|t| !is_derived(t)) {
            let new_cols = columns(&tx, table).db()?;
            if new_cols.is_empty() {
                continue; // a table this version does not have
            }
            let old_cols = columns(&old, table).unwrap_or_default();
            let cols: Vec<String> = old_cols.into_iter().filter(|c| new_cols.contains(c)).collect();
            if cols.is_empty() {
                continue;
            }
            let (copied, lost) = copy_table(&old, &tx, table, &cols).db()?;
            report.tables.push((table.clone(), copied, lost));
        }
        report.orphans = drop_orphans(&tx).db()?;
        // a workspace needs its id; if the old one is lost, the new file keeps its own
        tx.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('workspace_id', ?1)", [fresh_id]).db()?;
        tx.commit().db()?;
        Ok(())
    })();
    if let Err(e) = result {
        drop(store);
        let _ = std::fs::remove_file(into);
        return Err(e);
    }
    store.verify()?;
    Ok(report)
}

/// Damage Facture cannot step over: without the header or the table list no row can be found.
fn unreadable(path: &Path, what: &str) -> StoreError {
    StoreError::Invalid(format!(
        "{}: {what}, so no row can be found in it; nothing was saved — restore the workspace from a backup",
        path.display()
    ))
}

fn open_damaged(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(super::sqlite::file_uri(path, "mode=ro"), flags)
        .or_else(|_| Connection::open_with_flags(super::sqlite::file_uri(path, "immutable=1"), flags))
        .map_err(|e| super::error::classify(DbError::from(e), &path.display().to_string(), true))?;
    Ok(conn)
}

fn columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let cols = stmt.query_map([table], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(cols)
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Copies a table's readable rows in rowid order. When a read fails, the rows from there are
/// probed with growing skips until reads succeed again. Returns (copied, unreadable estimate).
fn copy_table(old: &Connection, new: &Connection, table: &str, cols: &[String]) -> rusqlite::Result<(u64, u64)> {
    let list = cols.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", ");
    let marks = (1..=cols.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
    let insert = format!("INSERT OR IGNORE INTO {} ({list}) VALUES ({marks})", quoted(table));
    let select = format!("SELECT rowid, {list} FROM {} WHERE rowid >= ?1 ORDER BY rowid", quoted(table));
    // the highest rowid, if the index of the table can tell (it may not, when damaged)
    let max_rowid: Option<i64> =
        old.query_row(&format!("SELECT max(rowid) FROM {}", quoted(table)), [], |r| r.get(0)).ok().flatten();
    let mut ins = new.prepare(&insert)?;
    let (mut copied, mut lost) = (0u64, 0u64);
    let mut next = i64::MIN;
    let mut skip = FIRST_SKIP;
    loop {
        let mut failed_at = None;
        let mut last = None;
        match old.prepare(&select) {
            Ok(mut stmt) => match stmt.query([next]) {
                Ok(mut rows) => loop {
                    match rows.next() {
                        Ok(Some(row)) => {
                            let rowid: i64 = row.get(0)?;
                            let values: Vec<Value> =
                                (1..=cols.len()).map(|i| row.get::<_, Value>(i)).collect::<rusqlite::Result<_>>()?;
                            ins.execute(params_from_iter(values))?;
                            copied += 1;
                            last = Some(rowid);
                            skip = FIRST_SKIP;
                        }
                        Ok(None) => break,
                        Err(_) => {
                            failed_at = Some(last.map_or(next, |l| l + 1));
                            break;
                        }
                    }
                },
                Err(_) => failed_at = Some(next),
            },
            Err(_) => return Ok((copied, 0)), // the table's root cannot be read at all
        }
        let Some(at) = failed_at else { break };
        // step over what cannot be read, a growing stride at a time
        let from = if at == i64::MIN { 1 } else { at };
        let beyond = max_rowid.is_some_and(|m| from > m);
        if beyond || skip > (1 << 40) {
            break;
        }
        next = from.saturating_add(skip);
        lost += skip as u64;
        skip = skip.saturating_mul(2);
    }
    Ok((copied, lost))
}

/// Mends references to rows that were lost, repeatedly (one removal can orphan another row):
/// an optional reference (a box's label, a document's assignee) is cleared, a row that cannot
/// stand without its parent (a box whose document is lost) is removed. Returns the rows
/// removed per table.
fn drop_orphans(conn: &Connection) -> rusqlite::Result<Vec<(String, u64)>> {
    let mut removed: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    loop {
        let bad: Vec<(String, i64, i64)> = {
            let mut stmt = conn.prepare("SELECT \"table\", rowid, fkid FROM pragma_foreign_key_check")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?
        };
        if bad.is_empty() {
            break;
        }
        for (table, rowid, fkid) in bad {
            let column: Option<String> = conn
                .query_row(
                    "SELECT \"from\" FROM pragma_foreign_key_list(?1) WHERE id=?2",
                    rusqlite::params![table, fkid],
                    |r| r.get(0),
                )
                .ok();
            let nullable = column.as_ref().is_some_and(|c| {
                conn.query_row("SELECT \"notnull\" FROM pragma_table_info(?1) WHERE name=?2", [&table, c], |r| {
                    r.get::<_, i64>(0)
                })
                .is_ok_and(|notnull| notnull == 0)
            });
            match column {
                Some(c) if nullable => {
                    conn.execute(
                        &format!("UPDATE {} SET {} = NULL WHERE rowid=?1", quoted(&table), quoted(&c)),
                        [rowid],
                    )?;
                }
                _ => {
                    let n = conn.execute(&format!("DELETE FROM {} WHERE rowid=?1", quoted(&table)), [rowid])?;
                    *removed.entry(table).or_default() += n as u64;
                }
            }
        }
    }
    Ok(removed.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    #[test]
    fn a_workspace_with_a_damaged_middle_gives_up_only_what_cannot_be_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ws.sqlite");
        {
            let mut store = Store::create(&path).unwrap();
            for i in 0..3000 {
                store.add_user(&format!("user {i:05} with a name long enough to fill pages"), Role::Annotator).unwrap();
            }
        }
        let mut bytes = std::fs::read(&path).unwrap();
        let pages = bytes.len() / 4096;
        // two pages of the users table's leaves, well after the schema page
        let at = pages / 2 * 4096;
        bytes[at..at + 8192].iter_mut().enumerate().for_each(|(i, b)| *b = (i * 13 + 5) as u8);
        std::fs::write(&path, &bytes).unwrap();
        assert!(Store::open(&path).unwrap().verify().is_err());

        let into = dir.path().join("saved.sqlite");
        let report = salvage(&path, &into).unwrap();
        let users = report.tables.iter().find(|t| t.0 == "users").unwrap();
        assert!(users.1 > 2000 && users.1 < 3000, "{report:?}");
        let saved = Store::open(&into).unwrap();
        saved.verify().unwrap();
        assert_eq!(saved.users().unwrap().len() as u64, users.1);
        assert_eq!(saved.labels().unwrap().len(), 19, "the schema's labels are saved, not seeded twice");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "the damaged file is only read");
        assert!(report.summary().contains("row(s) saved"), "{}", report.summary());
        // a second salvage never overwrites the first
        assert!(matches!(salvage(&path, &into), Err(StoreError::Invalid(_))));
    }
}
