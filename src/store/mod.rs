//! The workspace store: one SQLite file per workspace (WAL, foreign keys on), migrated by an
//! append-only list, with every edit applied in its own transaction and appended to the edit log.

mod datasets;
mod edits;
mod migrations;
mod queries;
mod review;
mod rows;
pub mod stats;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

pub use datasets::DatasetVersion;
pub use edits::NewEdit;
pub use migrations::LATEST_VERSION;
pub use queries::{DocFilter, NewDocument};

use crate::domain::{DocId, EditId};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: no such workspace file")]
    NotFound { path: PathBuf },
    #[error(
        "{path}: written by a newer Facture (schema version {found}, this build knows up to {supported}); \
         update Facture to open it — nothing was changed"
    )]
    NewerSchema { path: PathBuf, found: i64, supported: i64 },
    #[error(
        "{path}: the workspace is locked by another process (another Facture window or command?); \
         close it and try again — nothing was changed"
    )]
    Locked { path: PathBuf },
    #[error("{path}: not a Facture workspace ({reason})")]
    NotAWorkspace { path: PathBuf, reason: String },
    #[error("{what} {id} does not exist")]
    Missing { what: &'static str, id: i64 },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("corrupt record in the workspace: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How long to wait for another process's write lock before giving up.
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_millis(2500);

/// An open workspace.
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Creates a new workspace file (fails if it exists) with the default invoice schema.
    pub fn create(path: &Path) -> Result<Store> {
        if path.exists() {
            return Err(StoreError::Invalid(format!("{}: already exists", path.display())));
        }
        let conn = Connection::open(path)?;
        Self::init(conn, Some(path.to_path_buf()), DEFAULT_BUSY_TIMEOUT)
    }

    /// Opens an existing workspace, migrating it to the latest schema.
    pub fn open(path: &Path) -> Result<Store> {
        Self::open_with_timeout(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// Opens a workspace, creating it when the file does not exist yet.
    pub fn open_or_create(path: &Path) -> Result<Store> {
        if path.exists() { Self::open(path) } else { Self::create(path) }
    }

    pub fn open_with_timeout(path: &Path, busy_timeout: Duration) -> Result<Store> {
        if !path.is_file() {
            return Err(StoreError::NotFound { path: path.to_path_buf() });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(e, path))?;
        Self::init(conn, Some(path.to_path_buf()), busy_timeout)
    }

    /// A throw-away workspace in memory, for tests and benchmarks.
    pub fn open_in_memory() -> Result<Store> {
        Self::init(Connection::open_in_memory()?, None, DEFAULT_BUSY_TIMEOUT)
    }

    fn init(conn: Connection, path: Option<PathBuf>, busy_timeout: Duration) -> Result<Store> {
        let shown = path.clone().unwrap_or_else(|| PathBuf::from(":memory:"));
        let fail = |e: rusqlite::Error| classify(e, &shown);
        conn.busy_timeout(busy_timeout).map_err(fail)?;
        // Reading the version first means a newer or foreign file is refused before we write anything.
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(fail)?;
        if version > LATEST_VERSION {
            return Err(StoreError::NewerSchema { path: shown, found: version, supported: LATEST_VERSION });
        }
        if version > 0 || has_tables(&conn).map_err(fail)? {
            let is_ours: bool = conn
                .query_row("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='edits'", [], |r| {
                    r.get::<_, i64>(0)
                })
                .map_err(fail)?
                > 0;
            if !is_ours {
                return Err(StoreError::NotAWorkspace { path: shown, reason: "it has no Facture tables".into() });
            }
        }
        if path.is_some() {
            let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).map_err(fail)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Invalid(format!("{}: cannot switch to WAL mode ({mode})", shown.display())));
            }
            // WAL with synchronous=FULL: a committed edit survives power loss, not only a process crash.
            conn.execute_batch("PRAGMA synchronous=FULL;").map_err(fail)?;
        }
        conn.execute_batch("PRAGMA foreign_keys=ON;").map_err(fail)?;
        let mut store = Store { conn, path };
        store.migrate(version).map_err(|e| match e {
            StoreError::Sqlite(e) => classify(e, &shown),
            other => other,
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

fn has_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).map(|n| n > 0)
}

/// Turns SQLite's codes into the cases callers act on.
fn classify(e: rusqlite::Error, path: &Path) -> StoreError {
    let path = path.to_path_buf();
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked { path },
        Some(ErrorCode::NotADatabase) => StoreError::NotAWorkspace { path, reason: "not an SQLite database".into() },
        Some(ErrorCode::DatabaseCorrupt) => {
            StoreError::NotAWorkspace { path, reason: "the database is corrupt".into() }
        }
        _ => StoreError::Sqlite(e),
    }
}
