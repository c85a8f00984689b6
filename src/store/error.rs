//! The store's errors: the cases callers branch on, each a one-line sentence that says what
//! happened and what to do. SQLite's own errors are classified here and nowhere else, and no
//! SQL text ever reaches a message.

use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

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
    /// SQLite reports the file as malformed. Nothing is written to such a file.
    #[error(
        "{}the workspace file is damaged ({detail}); nothing was written to it. Save what can still be read into \
         a new file with `facture recover {} NEW.sqlite` and open that one",
        prefix(path.as_deref()), path.as_deref().map_or("WORKSPACE".into(), |p| p.display().to_string())
    )]
    Damaged { path: Option<PathBuf>, detail: String },
    /// The tables do not match the schema version the file records (edited by another tool?).
    #[error(
        "{path}: the workspace's tables do not match its schema version {version} ({detail}); it may have been \
         changed by another program — nothing was changed"
    )]
    SchemaMismatch { path: PathBuf, version: i64, detail: String },
    #[error("{path}: cannot open the workspace file ({detail})")]
    CannotOpen { path: PathBuf, detail: String },
    #[error("another process kept the workspace busy for too long; nothing was changed — try again")]
    Busy,
    #[error(
        "the workspace cannot be written (read-only file, folder or disk); nothing was changed — \
         reading commands still work"
    )]
    ReadOnly,
    #[error("the disk holding the workspace is full; nothing was changed — free some space and try again")]
    DiskFull,
    /// The operating system failed a read or write (a full or failing disk, a lost network share).
    #[error("the disk holding the workspace failed a read or write ({0}); nothing was changed")]
    Io(String),
    #[error("{what} {id} does not exist")]
    Missing { what: &'static str, id: i64 },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("corrupt record in the workspace: {0}")]
    Corrupt(String),
}

fn prefix(path: Option<&Path>) -> String {
    path.map_or_else(String::new, |p| format!("{}: ", p.display()))
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy,
            Some(ErrorCode::ReadOnly) => StoreError::ReadOnly,
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::SystemIoFailure) => StoreError::Io(short_message(&e)),
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                StoreError::Damaged { path: None, detail: short_message(&e) }
            }
            _ => match e {
                rusqlite::Error::FromSqlConversionFailure(col, _, cause) => {
                    StoreError::Corrupt(format!("column {col}: {cause}"))
                }
                other => StoreError::Database(short_message(&other)),
            },
        }
    }
}

/// SQLite's own sentence, without the SQL text rusqlite appends to input errors or the
/// "Error code N" it repeats.
pub(crate) fn short_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(err, Some(msg)) => {
            if msg.is_empty() {
                err.to_string()
            } else {
                msg.clone()
            }
        }
        rusqlite::Error::SqliteFailure(err, None) => err.to_string(),
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string().lines().next().unwrap_or_default().to_string(),
    }
}

/// Turns SQLite's codes at open time into the cases callers act on, naming the file.
pub(crate) fn classify(e: rusqlite::Error, path: &Path) -> StoreError {
    let path = path.to_path_buf();
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked { path },
        Some(ErrorCode::NotADatabase) => StoreError::NotAWorkspace { path, reason: "not an SQLite database".into() },
        Some(ErrorCode::DatabaseCorrupt) => StoreError::Damaged { path: Some(path), detail: short_message(&e) },
        Some(ErrorCode::CannotOpen) => {
            let detail = if path.is_file() {
                // it is there, so what failed is writing beside it (the -wal and -shm files)
                "it or its folder cannot be written here: a read-only disk or folder, or no permission; \
                 commands that only read still work"
            } else {
                "its folder is missing or not permitted"
            };
            StoreError::CannotOpen { path, detail: detail.into() }
        }
        _ => StoreError::from(e).with_path(&path),
    }
}

impl StoreError {
    /// Attaches the workspace's path to an error that does not name it yet.
    pub fn with_path(self, path: &Path) -> StoreError {
        match self {
            StoreError::Damaged { path: None, detail } => StoreError::Damaged { path: Some(path.into()), detail },
            other => other,
        }
    }

    /// True when the workspace could be read but not written (read-only disk or file, full disk).
    pub fn is_unwritable(&self) -> bool {
        matches!(self, StoreError::ReadOnly | StoreError::DiskFull | StoreError::Io(_) | StoreError::CannotOpen { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_text_never_reaches_the_message() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let e = conn.execute_batch("CREATE TABLE t(x);\nCREATE TABLE t(y);").unwrap_err();
        let msg = StoreError::from(e).to_string();
        assert_eq!(msg.lines().count(), 1, "{msg}");
        assert!(!msg.contains("CREATE"), "{msg}");
        assert!(msg.contains("already exists"), "{msg}");
    }

    #[test]
    fn sqlite_codes_become_the_cases_callers_branch_on() {
        let busy = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(5), Some("database is locked".into()));
        assert!(matches!(StoreError::from(busy), StoreError::Busy));
        let full = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(13), None);
        assert!(matches!(StoreError::from(full), StoreError::DiskFull));
        let ro = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(8), None);
        assert!(matches!(StoreError::from(ro), StoreError::ReadOnly));
        let corrupt = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(11), Some("malformed".into()));
        let e = classify(corrupt, Path::new("/w/ws.sqlite"));
        assert!(e.to_string().starts_with("/w/ws.sqlite: the workspace file is damaged (malformed)"), "{e}");
        assert!(e.to_string().contains("facture recover /w/ws.sqlite NEW.sqlite"), "{e}");
    }
}
