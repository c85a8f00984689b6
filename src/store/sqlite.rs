//! The SQLite backend's own business: opening a workspace file (WAL, `synchronous=FULL`,
//! foreign keys), refusing foreign, newer, set-back or damaged files before anything is
//! written, read-only opening for read-only or full disks, and `PRAGMA user_version`
//! migrations.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::db::{Conn, DbError, Sql, params};
use super::error::classify;
use super::migrations::LATEST_VERSION;
use super::{DEFAULT_BUSY_TIMEOUT, Result, Store, StoreError, Workspace, migrations, queries};

impl Store {
    /// Creates a new workspace file (fails if it exists) with the default invoice schema.
    pub fn create(path: &Path) -> Result<Store> {
        if path.exists() {
            return Err(StoreError::Invalid(format!("{}: already exists", path.display())));
        }
        let conn = Connection::open(path).map_err(|e| classify(e.into(), &path.display().to_string(), false))?;
        init(conn, Some(path.to_path_buf()), DEFAULT_BUSY_TIMEOUT)
    }

    /// Opens an existing workspace file for reading and writing, migrating it to the latest
    /// schema.
    pub fn open(path: &Path) -> Result<Store> {
        Self::open_with_timeout(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// Opens a workspace file for writing after SQLite's own check that the file is sound: a
    /// damaged file is refused before anything is written to it (a write into a damaged file
    /// can spread the damage to pages that were still good). Costs one read of the file
    /// (~0.7 s per 500 MB).
    pub fn open_verified(path: &Path) -> Result<Store> {
        let store = Self::open(path)?;
        store.verify()?;
        Ok(store)
    }

    pub fn open_with_timeout(path: &Path, busy_timeout: Duration) -> Result<Store> {
        if !path.is_file() {
            return Err(StoreError::NotFound { workspace: path.display().to_string() });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| classify(e.into(), &path.display().to_string(), true))?;
        init(conn, Some(path.to_path_buf()), busy_timeout)
    }

    /// Opens a workspace file that cannot be written (a read-only disk or file, a full disk)
    /// for reading. Nothing is migrated; a workspace that needs migrating must first be opened
    /// where it can be written.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        if !path.is_file() {
            return Err(StoreError::NotFound { workspace: path.display().to_string() });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let attempt = |uri: String| -> Result<Store> {
            let conn = Connection::open_with_flags(uri, flags)
                .map_err(|e| classify(e.into(), &path.display().to_string(), true))?;
            init_read_only(conn, path)
        };
        match attempt(file_uri(path, "mode=ro")) {
            Ok(store) => Ok(store),
            // A WAL workspace read-only needs its -shm file, which a read-only folder (or a
            // full disk) cannot give it. Without unsaved WAL content the file alone is the
            // whole workspace, and `immutable` reads it without any side file.
            Err(e) if e.is_unwritable() && !has_wal_content(path) => attempt(file_uri(path, "immutable=1")),
            Err(e) if e.is_unwritable() => Err(StoreError::CannotOpen {
                workspace: path.display().to_string(),
                detail: "it cannot be written here and its -wal file holds changes not yet merged into it; \
                         copy it together with its -wal file to a writable disk and open it there"
                    .into(),
            }),
            Err(e) => Err(e),
        }
    }

    /// Opens for a command that only reads: read-write when possible, else read-only (a
    /// read-only or full disk must not keep anyone from reading their work).
    pub fn open_for_reading(path: &Path) -> Result<Store> {
        match Self::open(path) {
            Ok(store) => Ok(store),
            Err(e) if e.is_unwritable() => Self::open_read_only(path).map_err(|ro| match ro {
                // the read-only attempt's reason is the more useful one only when it says more
                StoreError::CannotOpen { .. } => e,
                other => other,
            }),
            Err(e) => Err(e),
        }
    }

    /// A throw-away workspace in memory, for tests and benchmarks.
    pub fn open_in_memory() -> Result<Store> {
        init(Connection::open_in_memory().map_err(DbError::from)?, None, DEFAULT_BUSY_TIMEOUT)
    }

    /// A private in-memory copy of this SQLite workspace, writable, for work that keeps
    /// derived caches (stats) on a workspace that cannot be written. Changes to it are never
    /// saved.
    pub fn copy_to_memory(&self) -> Result<Store> {
        let Conn::Sqlite(conn) = &self.conn else {
            return Err(StoreError::Invalid("only a workspace file can be copied into memory".into()));
        };
        let mut mem = Connection::open_in_memory().map_err(DbError::from)?;
        {
            let backup = rusqlite::backup::Backup::new(conn, &mut mem).map_err(DbError::from)?;
            backup.run_to_completion(4096, Duration::ZERO, None).map_err(DbError::from)?;
        }
        mem.batch("PRAGMA foreign_keys=ON;")?;
        Ok(Store { conn: Conn::Sqlite(mem), workspace: self.workspace.clone(), read_only: false })
    }
}

/// SQLite's quick check of every page.
pub(super) fn verify(c: &Connection, ws: Option<&Workspace>) -> Result<()> {
    let shown = ws.map_or_else(|| ":memory:".to_string(), ToString::to_string);
    let first = c
        .row("PRAGMA quick_check(1)", params![], |r| r.text(0))
        .map_err(|e| StoreError::from(e).with_workspace(&shown))?;
    if first == "ok" { Ok(()) } else { Err(StoreError::Damaged { workspace: Some(shown), detail: first }) }
}

/// Checks that an existing file is a Facture workspace whose tables match its version.
fn check_schema(conn: &Connection, shown: &str, version: i64) -> Result<()> {
    let fail = |e: DbError| classify(e, shown, true);
    if version > LATEST_VERSION {
        return Err(StoreError::NewerSchema { workspace: shown.into(), found: version, supported: LATEST_VERSION });
    }
    let tables = table_names(conn).map_err(fail)?;
    if version == 0 && tables.is_empty() {
        return Ok(()); // a new, empty file
    }
    let has_meta = tables.iter().any(|t| t == "meta")
        && conn.int("SELECT count(*) FROM meta WHERE key='workspace_id'", params![]).map_err(fail)? > 0;
    if !has_meta {
        let reason = if tables.is_empty() { "it has no tables" } else { "its tables are another program's" };
        return Err(StoreError::NotAWorkspace { workspace: shown.into(), reason: reason.into() });
    }
    let columns = |table: &str| table_columns(conn, table).map_err(fail);
    match migrations::check_shape(version, &tables, columns)? {
        Ok(()) => Ok(()),
        Err(detail) => Err(StoreError::SchemaMismatch { workspace: shown.into(), version, detail }),
    }
}

fn init_read_only(conn: Connection, path: &Path) -> Result<Store> {
    let shown = path.display().to_string();
    let fail = |e: DbError| classify(e, &shown, true);
    let version = conn.int("PRAGMA user_version", params![]).map_err(fail)?;
    check_schema(&conn, &shown, version)?;
    if version < LATEST_VERSION {
        return Err(StoreError::Invalid(format!(
            "{shown}: written by an older Facture and cannot be upgraded here (it cannot be written); open it \
             once where it can be written"
        )));
    }
    conn.batch("PRAGMA foreign_keys=ON;").map_err(fail)?;
    Ok(Store { conn: Conn::Sqlite(conn), workspace: Some(Workspace::File(path.to_path_buf())), read_only: true })
}

fn init(conn: Connection, path: Option<PathBuf>, busy_timeout: Duration) -> Result<Store> {
    let shown = path.as_ref().map_or_else(|| ":memory:".to_string(), |p| p.display().to_string());
    let fail = |e: DbError| classify(e, &shown, true);
    conn.busy_timeout(busy_timeout).map_err(|e| fail(e.into()))?;
    // Reading the version first means a newer or foreign file is refused before we write anything.
    let version = conn.int("PRAGMA user_version", params![]).map_err(fail)?;
    check_schema(&conn, &shown, version)?;
    if path.is_some() {
        let mode = conn.row("PRAGMA journal_mode=WAL", params![], |r| r.text(0)).map_err(fail)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Invalid(format!("{shown}: cannot switch to WAL mode ({mode})")));
        }
        // WAL with synchronous=FULL: a committed edit survives power loss, not only a process crash.
        conn.batch("PRAGMA synchronous=FULL;").map_err(fail)?;
    }
    conn.batch("PRAGMA foreign_keys=ON;").map_err(fail)?;
    if path.is_some() {
        stamp_application_id(&conn).map_err(fail)?;
    }
    let mut conn = Conn::Sqlite(conn);
    migrate(&mut conn, version).map_err(|e| match e {
        // the shape matched, so a failing migration means the file was changed under us
        StoreError::Database(detail) => StoreError::SchemaMismatch { workspace: shown.clone(), version, detail },
        other => other.with_workspace(&shown),
    })?;
    Ok(Store { conn, workspace: path.map(Workspace::File), read_only: false })
}

/// Facture's SQLite `application_id` ("FACT"), at offset 68 of the file: a file manager's MIME
/// sniffing (packaging/linux/org.facture.Facture.mime.xml) tells a workspace from any other
/// SQLite file by it, whatever the file is named.
pub const APPLICATION_ID: i64 = 0x4641_4354;

/// Marks the file as a Facture workspace (files made before the mark get it on their next
/// writable open; a no-op read afterwards).
fn stamp_application_id(conn: &Connection) -> Result<(), DbError> {
    if conn.int("PRAGMA application_id", params![])? == APPLICATION_ID {
        return Ok(());
    }
    conn.batch(&format!("PRAGMA application_id = {APPLICATION_ID}"))
}

fn migrate(conn: &mut Conn, from: i64) -> Result<()> {
    if from == LATEST_VERSION {
        return Ok(());
    }
    conn.write(|tx| -> Result<()> {
        // Re-read inside the write lock: another process may have migrated meanwhile.
        let current = tx.int("PRAGMA user_version", params![])?;
        for (i, sql) in migrations::MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.batch(sql)?;
            if i == 0 {
                queries::seed_new_workspace(tx)?;
            }
        }
        tx.batch(&format!("PRAGMA user_version = {LATEST_VERSION}"))?;
        Ok(())
    })
}

fn table_names(conn: &Connection) -> Result<Vec<String>, DbError> {
    conn.rows("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'", params![], |r| {
        r.text(0)
    })
}

fn table_columns(conn: &Connection, table: &str) -> Result<Vec<String>, DbError> {
    conn.rows("SELECT name FROM pragma_table_info(?1)", params![table], |r| r.text(0))
}

/// Whether a workspace's `-wal` file exists and holds anything.
fn has_wal_content(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(PathBuf::from(wal)).is_ok_and(|m| m.len() > 0)
}

/// An SQLite URI for a file path with one query parameter (`?`, `#` and `%` escaped).
pub(super) fn file_uri(path: &Path, param: &str) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::from("file:");
    for c in abs.to_string_lossy().chars() {
        match c {
            '?' | '#' | '%' => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('?');
    out.push_str(param);
    out
}
