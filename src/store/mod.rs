//! The workspace store: one SQLite file per workspace (WAL, foreign keys on), migrated by an
//! append-only list, with every edit applied in its own transaction and appended to the edit log.

mod datasets;
mod edits;
mod error;
mod migrations;
mod queries;
mod review;
mod rows;
mod salvage;
pub mod stats;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use error::classify;

pub use datasets::DatasetVersion;
pub use edits::{Guard, NewEdit};
pub use error::{Result, StoreError};
pub use migrations::LATEST_VERSION;
pub use queries::{DocFilter, NewDocument};
pub use salvage::{SalvageReport, salvage};

use crate::domain::{DocId, EditId};

/// How long to wait for another process's write lock before giving up.
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_millis(2500);

/// An open workspace.
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
    read_only: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).field("read_only", &self.read_only).finish()
    }
}

impl Store {
    /// Creates a new workspace file (fails if it exists) with the default invoice schema.
    pub fn create(path: &Path) -> Result<Store> {
        if path.exists() {
            return Err(StoreError::Invalid(format!("{}: already exists", path.display())));
        }
        let conn = Connection::open(path).map_err(|e| classify(e, path))?;
        Self::init(conn, Some(path.to_path_buf()), DEFAULT_BUSY_TIMEOUT)
    }

    /// Opens an existing workspace for reading and writing, migrating it to the latest schema.
    pub fn open(path: &Path) -> Result<Store> {
        Self::open_with_timeout(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// Opens a workspace for writing after SQLite's own check that the file is sound: a damaged
    /// file is refused before anything is written to it (a write into a damaged file can spread
    /// the damage to pages that were still good). Costs one read of the file (~0.7 s per 500 MB).
    pub fn open_verified(path: &Path) -> Result<Store> {
        let store = Self::open(path)?;
        store.verify()?;
        Ok(store)
    }

    pub fn open_with_timeout(path: &Path, busy_timeout: Duration) -> Result<Store> {
        if !path.is_file() {
            return Err(StoreError::NotFound { path: path.to_path_buf() });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(e, path))?;
        Self::init(conn, Some(path.to_path_buf()), busy_timeout)
    }

    /// Opens a workspace that cannot be written (a read-only disk or file, a full disk) for
    /// reading. Nothing is migrated; a workspace that needs migrating must first be opened
    /// where it can be written.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        if !path.is_file() {
            return Err(StoreError::NotFound { path: path.to_path_buf() });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let attempt = |uri: String| -> Result<Store> {
            let conn = Connection::open_with_flags(uri, flags).map_err(|e| classify(e, path))?;
            Self::init_read_only(conn, path)
        };
        match attempt(file_uri(path, "mode=ro")) {
            Ok(store) => Ok(store),
            // A WAL workspace read-only needs its -shm file, which a read-only folder (or a
            // full disk) cannot give it. Without unsaved WAL content the file alone is the
            // whole workspace, and `immutable` reads it without any side file.
            Err(e) if e.is_unwritable() && !has_wal_content(path) => attempt(file_uri(path, "immutable=1")),
            Err(e) if e.is_unwritable() => Err(StoreError::CannotOpen {
                path: path.to_path_buf(),
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
        Self::init(Connection::open_in_memory()?, None, DEFAULT_BUSY_TIMEOUT)
    }

    /// A private in-memory copy of this workspace, writable, for work that keeps derived caches
    /// (stats) on a workspace that cannot be written. Changes to it are never saved.
    pub fn copy_to_memory(&self) -> Result<Store> {
        let mut mem = Connection::open_in_memory()?;
        {
            let backup = rusqlite::backup::Backup::new(&self.conn, &mut mem)?;
            backup.run_to_completion(4096, Duration::ZERO, None)?;
        }
        mem.execute_batch("PRAGMA foreign_keys=ON;")?;
        Ok(Store { conn: mem, path: self.path.clone(), read_only: false })
    }

    /// Whether this connection can only read.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// SQLite's quick check of every page: `Damaged` with SQLite's first complaint if the file
    /// is malformed.
    pub fn verify(&self) -> Result<()> {
        let damaged = |detail: String| StoreError::Damaged { path: self.path.clone(), detail };
        let first: String = self
            .conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| StoreError::from(e).with_path(self.path.as_deref().unwrap_or(Path::new(":memory:"))))?;
        if first == "ok" { Ok(()) } else { Err(damaged(first)) }
    }

    /// Checks that an existing file is a Facture workspace whose tables match its version.
    fn check_schema(conn: &Connection, shown: &Path, version: i64) -> Result<()> {
        let fail = |e: rusqlite::Error| classify(e, shown);
        if version > LATEST_VERSION {
            return Err(StoreError::NewerSchema {
                path: shown.to_path_buf(),
                found: version,
                supported: LATEST_VERSION,
            });
        }
        let tables = table_names(conn).map_err(fail)?;
        if version == 0 && tables.is_empty() {
            return Ok(()); // a new, empty file
        }
        let has_meta = tables.iter().any(|t| t == "meta")
            && conn
                .query_row("SELECT count(*) FROM meta WHERE key='workspace_id'", [], |r| r.get::<_, i64>(0))
                .map_err(fail)?
                > 0;
        if !has_meta {
            let reason = if tables.is_empty() { "it has no tables" } else { "its tables are another program's" };
            return Err(StoreError::NotAWorkspace { path: shown.to_path_buf(), reason: reason.into() });
        }
        let mismatch = |detail: String| StoreError::SchemaMismatch { path: shown.to_path_buf(), version, detail };
        let columns = |table: &str| table_columns(conn, table).map_err(fail);
        match migrations::check_shape(version, &tables, columns)? {
            Ok(()) => Ok(()),
            Err(detail) => Err(mismatch(detail)),
        }
    }

    fn init_read_only(conn: Connection, path: &Path) -> Result<Store> {
        let fail = |e: rusqlite::Error| classify(e, path);
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(fail)?;
        Self::check_schema(&conn, path, version)?;
        if version < LATEST_VERSION {
            return Err(StoreError::Invalid(format!(
                "{}: written by an older Facture and cannot be upgraded here (it cannot be written); open it \
                 once where it can be written",
                path.display()
            )));
        }
        conn.execute_batch("PRAGMA foreign_keys=ON;").map_err(fail)?;
        Ok(Store { conn, path: Some(path.to_path_buf()), read_only: true })
    }

    fn init(conn: Connection, path: Option<PathBuf>, busy_timeout: Duration) -> Result<Store> {
        let shown = path.clone().unwrap_or_else(|| PathBuf::from(":memory:"));
        let fail = |e: rusqlite::Error| classify(e, &shown);
        conn.busy_timeout(busy_timeout).map_err(fail)?;
        // Reading the version first means a newer or foreign file is refused before we write anything.
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(fail)?;
        Self::check_schema(&conn, &shown, version)?;
        if path.is_some() {
            let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).map_err(fail)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Invalid(format!("{}: cannot switch to WAL mode ({mode})", shown.display())));
            }
            // WAL with synchronous=FULL: a committed edit survives power loss, not only a process crash.
            conn.execute_batch("PRAGMA synchronous=FULL;").map_err(fail)?;
        }
        conn.execute_batch("PRAGMA foreign_keys=ON;").map_err(fail)?;
        let mut store = Store { conn, path, read_only: false };
        store.migrate(version).map_err(|e| match e {
            // the shape matched, so a failing migration means the file was changed under us
            StoreError::Database(detail) => StoreError::SchemaMismatch { path: shown.clone(), version, detail },
            other => other.with_path(&shown),
        })?;
        Ok(store)
    }

    fn migrate(&mut self, from: i64) -> Result<()> {
        if from == LATEST_VERSION {
            return Ok(());
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Re-read inside the write lock: another process may have migrated meanwhile.
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, sql) in migrations::MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.execute_batch(sql)?;
            if i == 0 {
                queries::seed_new_workspace(&tx)?;
            }
        }
        tx.pragma_update(None, "user_version", LATEST_VERSION)?;
        tx.commit()?;
        Ok(())
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// The id of the most recent edit, or None for a workspace nobody has edited.
    pub fn last_edit_id(&self) -> Result<Option<EditId>> {
        Ok(self.conn.query_row("SELECT max(id) FROM edits", [], |r| r.get::<_, Option<i64>>(0))?.map(EditId))
    }

    fn check_doc(&self, doc: DocId) -> Result<()> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM documents WHERE id=?1", [doc.0], |r| r.get(0))?;
        if n == 0 { Err(StoreError::Missing { what: "document", id: doc.0 }) } else { Ok(()) }
    }
}

fn table_names(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

fn table_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    stmt.query_map([table], |r| r.get(0))?.collect()
}

/// Whether a workspace's `-wal` file exists and holds anything.
fn has_wal_content(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(PathBuf::from(wal)).is_ok_and(|m| m.len() > 0)
}

/// An SQLite URI for a file path with one query parameter (`?`, `#` and `%` escaped).
fn file_uri(path: &Path, param: &str) -> String {
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
