//! The store's errors: the cases callers branch on, each a one-line sentence that says what
//! happened and what to do, for either backend. The drivers' errors are classified in
//! `db.rs` and here, and no driver type or SQL text ever reaches a message.

use super::db::{DbError, DbErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{workspace}: no such workspace")]
    NotFound { workspace: String },
    #[error(
        "{workspace}: written by a newer Facture (schema version {found}, this build knows up to {supported}); \
         update Facture to open it — nothing was changed"
    )]
    NewerSchema { workspace: String, found: i64, supported: i64 },
    #[error(
        "{workspace}: the workspace is locked by another process (another Facture window or command?); \
         close it and try again — nothing was changed"
    )]
    Locked { workspace: String },
    #[error("{workspace}: not a Facture workspace ({reason})")]
    NotAWorkspace { workspace: String, reason: String },
    /// A server database with no tables at all: a workspace can be created in it.
    #[error("{workspace}: the database is empty; create the workspace with `facture init {workspace}`")]
    EmptyDatabase { workspace: String },
    /// SQLite reports the file as malformed. Nothing is written to such a file.
    #[error(
        "{}the workspace file is damaged ({detail}); nothing was written to it. Save what can still be read into \
         a new file with `facture recover {} NEW.sqlite` and open that one",
        prefix(workspace.as_deref()), workspace.as_deref().unwrap_or("WORKSPACE")
    )]
    Damaged { workspace: Option<String>, detail: String },
    /// The tables do not match the schema version the workspace records (edited by another tool?).
    #[error(
        "{workspace}: the workspace's tables do not match its schema version {version} ({detail}); it may have \
         been changed by another program — nothing was changed"
    )]
    SchemaMismatch { workspace: String, version: i64, detail: String },
    #[error("{workspace}: cannot open the workspace ({detail})")]
    CannotOpen { workspace: String, detail: String },
    /// The server refused the login (wrong or missing password, unknown user).
    #[error("{workspace}: the server refused the login ({detail}); check the user name and password")]
    Login { workspace: String, detail: String },
    /// The login is valid on the server but is no member of this workspace.
    #[error(
        "{workspace}: {login} is not a member of this workspace; a lead adds members with \
         `facture users {workspace} add NAME --role ROLE`"
    )]
    NotAMember { workspace: String, login: String },
    /// The connection to a workspace server failed or was lost.
    #[error(
        "{}the connection to the workspace server failed ({detail}); what was saved before stays saved — \
         check the server and try again",
        prefix(workspace.as_deref())
    )]
    Connection { workspace: Option<String>, detail: String },
    /// The workspace server refused something this login may not do (its rules, not a fault).
    #[error("the workspace server refused this: {0}; nothing was changed")]
    Forbidden(String),
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

fn prefix(workspace: Option<&str>) -> String {
    workspace.map_or_else(String::new, |w| format!("{w}: "))
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        match e.kind {
            DbErrorKind::Busy => StoreError::Busy,
            DbErrorKind::ReadOnly => StoreError::ReadOnly,
            DbErrorKind::DiskFull => StoreError::DiskFull,
            DbErrorKind::Io => StoreError::Io(e.message),
            DbErrorKind::Corrupt | DbErrorKind::NotADatabase => {
                StoreError::Damaged { workspace: None, detail: e.message }
            }
            DbErrorKind::Type => StoreError::Corrupt(e.message),
            DbErrorKind::Connection => StoreError::Connection { workspace: None, detail: e.message },
            DbErrorKind::Permission => StoreError::Forbidden(e.message),
            DbErrorKind::CannotOpen
            | DbErrorKind::Constraint
            | DbErrorKind::Auth
            | DbErrorKind::NoDatabase
            | DbErrorKind::NoRows
            | DbErrorKind::Other => StoreError::Database(e.message),
        }
    }
}

/// Turns a driver's error at open time into the cases callers act on, naming the workspace.
pub(crate) fn classify(e: DbError, workspace: &str, exists: bool) -> StoreError {
    let workspace = workspace.to_string();
    match e.kind {
        DbErrorKind::Busy => StoreError::Locked { workspace },
        DbErrorKind::NotADatabase => StoreError::NotAWorkspace { workspace, reason: "not an SQLite database".into() },
        DbErrorKind::Corrupt => StoreError::Damaged { workspace: Some(workspace), detail: e.message },
        DbErrorKind::CannotOpen => {
            let detail = if exists {
                // it is there, so what failed is writing beside it (the -wal and -shm files)
                "it or its folder cannot be written here: a read-only disk or folder, or no permission; \
                 commands that only read still work"
            } else {
                "its folder is missing or not permitted"
            };
            StoreError::CannotOpen { workspace, detail: detail.into() }
        }
        DbErrorKind::Auth => StoreError::Login { workspace, detail: e.message },
        DbErrorKind::NoDatabase => StoreError::NotFound { workspace },
        DbErrorKind::Connection => StoreError::Connection { workspace: Some(workspace), detail: e.message },
        _ => StoreError::from(e).with_workspace(&workspace),
    }
}

impl StoreError {
    /// Attaches the workspace's name to an error that does not name it yet.
    pub fn with_workspace(self, workspace: &str) -> StoreError {
        match self {
            StoreError::Damaged { workspace: None, detail } => {
                StoreError::Damaged { workspace: Some(workspace.into()), detail }
            }
            StoreError::Connection { workspace: None, detail } => {
                StoreError::Connection { workspace: Some(workspace.into()), detail }
            }
            other => other,
        }
    }

    /// True when the workspace could be read but not written (read-only disk or file, full disk).
    pub fn is_unwritable(&self) -> bool {
        matches!(self, StoreError::ReadOnly | StoreError::DiskFull | StoreError::Io(_) | StoreError::CannotOpen { .. })
    }

    /// True for errors about the workspace as a whole that do not name it themselves.
    pub fn lacks_workspace_name(&self) -> bool {
        matches!(
            self,
            StoreError::Busy
                | StoreError::ReadOnly
                | StoreError::DiskFull
                | StoreError::Io(_)
                | StoreError::Database(_)
                | StoreError::Corrupt(_)
                | StoreError::Damaged { workspace: None, .. }
                | StoreError::Connection { workspace: None, .. }
        )
    }
}

/// A constraint failure as the sentence a caller chose, any other error as itself.
pub(crate) fn on_constraint(e: DbError, sentence: impl FnOnce() -> String) -> StoreError {
    if e.kind == DbErrorKind::Constraint { StoreError::Invalid(sentence()) } else { StoreError::from(e) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_text_never_reaches_the_message() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let e = conn.execute_batch("CREATE TABLE t(x);\nCREATE TABLE t(y);").unwrap_err();
        let msg = StoreError::from(DbError::from(e)).to_string();
        assert_eq!(msg.lines().count(), 1, "{msg}");
        assert!(!msg.contains("CREATE"), "{msg}");
        assert!(msg.contains("already exists"), "{msg}");
    }

    #[test]
    fn driver_codes_become_the_cases_callers_branch_on() {
        let sqlite = |code: i32, msg: Option<&str>| {
            DbError::from(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), msg.map(str::to_string)))
        };
        assert!(matches!(StoreError::from(sqlite(5, Some("database is locked"))), StoreError::Busy));
        assert!(matches!(StoreError::from(sqlite(13, None)), StoreError::DiskFull));
        assert!(matches!(StoreError::from(sqlite(8, None)), StoreError::ReadOnly));
        let e = classify(sqlite(11, Some("malformed")), "/w/ws.sqlite", true);
        assert!(e.to_string().starts_with("/w/ws.sqlite: the workspace file is damaged (malformed)"), "{e}");
        assert!(e.to_string().contains("facture recover /w/ws.sqlite NEW.sqlite"), "{e}");
        let lost = classify(DbError::new(DbErrorKind::Connection, "connection refused"), "postgres://a@h/db", true);
        assert!(lost.to_string().starts_with("postgres://a@h/db: the connection"), "{lost}");
        let login =
            classify(DbError::new(DbErrorKind::Auth, "password authentication failed"), "postgres://a@h/db", true);
        assert!(matches!(login, StoreError::Login { .. }), "{login}");
    }
}
