//! The workspace store: one interface, two backends. A workspace is a SQLite file (the embedded
//! default: WAL, foreign keys on) or a database on a PostgreSQL server (for a team). Both are
//! migrated by an append-only list each and apply every edit in its own transaction, appended
//! to the edit log. Nothing above this module knows which backend it talks to: the drivers and
//! their dialects stay in `db.rs`, `sqlite.rs` and `pg.rs`.

mod box_style;
mod copy;
mod datasets;
pub(crate) mod db;
mod edits;
mod error;
mod history;
mod label_models;
mod leases;
mod location;
mod migrations;
mod pages;
mod pg;
mod pg_migrations;
mod queries;
mod review;
mod rows;
mod salvage;
mod sqlite;
pub mod stats;
mod team;
mod tls;
mod watch;

use std::time::Duration;

use db::{Conn, Sql, params};

pub use copy::CopyReport;
pub use datasets::DatasetVersion;
pub use edits::{Guard, NewEdit};
pub use error::{Result, StoreError};
pub use history::{DocHistory, DocWithBoxes};
pub use label_models::StoredLabelModel;
pub use location::{PgAddress, Workspace, is_server_url, pgpass_lookup};
pub use migrations::LATEST_VERSION;
pub use pg_migrations::PG_LATEST_VERSION;
pub use queries::{DocFilter, NewDocument, ShelfFilter};
pub use salvage::{SalvageReport, salvage};
pub use sqlite::APPLICATION_ID;
pub use team::MemberLogin;
pub use tls::TlsMode;
pub use watch::{Changes, WatchPoint};

use crate::domain::{DocId, EditId};

/// How long to wait for another process's write lock before giving up.
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_millis(2500);

/// An open workspace.
pub struct Store {
    conn: Conn,
    /// Where it is; `None` for a throw-away workspace in memory.
    workspace: Option<Workspace>,
    read_only: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("workspace", &self.workspace).field("read_only", &self.read_only).finish()
    }
}

impl Store {
    /// Opens a workspace of either kind for reading and writing, migrating it to the latest
    /// schema.
    pub fn connect(ws: &Workspace) -> Result<Store> {
        match ws {
            Workspace::File(p) => Store::open(p),
            Workspace::Postgres(pg) => pg::open(pg, false),
        }
    }

    /// [`Store::connect`] for a command that writes: a damaged SQLite file is refused first.
    pub fn connect_verified(ws: &Workspace) -> Result<Store> {
        let store = Self::connect(ws)?;
        store.verify()?;
        Ok(store)
    }

    /// [`Store::connect`] for a command that only reads: a SQLite file that cannot be written
    /// (read-only or full disk) is opened read-only.
    pub fn connect_for_reading(ws: &Workspace) -> Result<Store> {
        match ws {
            Workspace::File(p) => Store::open_for_reading(p),
            Workspace::Postgres(_) => Self::connect(ws),
        }
    }

    /// Creates a new workspace: a new file (which must not exist), or Facture's tables in an
    /// empty database on a server.
    pub fn create_at(ws: &Workspace) -> Result<Store> {
        match ws {
            Workspace::File(p) => Store::create(p),
            Workspace::Postgres(pg) => pg::open(pg, true),
        }
    }

    /// Where this workspace is (`None` in memory).
    pub fn workspace(&self) -> Option<&Workspace> {
        self.workspace.as_ref()
    }

    /// Whether the workspace is on a PostgreSQL server (images then live in the database).
    pub fn is_postgres(&self) -> bool {
        self.conn.is_postgres()
    }

    /// Whether this connection can only read.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The schema version of the workspace (each backend has its own list of migrations).
    pub fn schema_version(&self) -> Result<i64> {
        match &self.conn {
            Conn::Sqlite(c) => Ok(c.int("PRAGMA user_version", params![])?),
            Conn::Pg(c) => pg::schema_version(c).map_err(StoreError::from),
        }
    }

    /// The database's own check that the workspace is sound: SQLite's quick check of every page
    /// (`Damaged` with its first complaint); a server checks its own pages.
    pub fn verify(&self) -> Result<()> {
        match &self.conn {
            Conn::Sqlite(c) => sqlite::verify(c, self.workspace.as_ref()),
            Conn::Pg(_) => Ok(()),
        }
    }

    /// The id of the most recent edit, or None for a workspace nobody has edited.
    pub fn last_edit_id(&self) -> Result<Option<EditId>> {
        Ok(self.conn.row("SELECT max(id) FROM edits", params![], |r| r.opt_i64(0))?.map(EditId))
    }

    /// The id of the most recent edit of `doc`, or None when nobody has edited it.
    pub fn last_edit_on(&self, doc: DocId) -> Result<Option<EditId>> {
        Ok(self.conn.row("SELECT max(id) FROM edits WHERE doc_id=?1", params![doc.0], |r| r.opt_i64(0))?.map(EditId))
    }

    fn check_doc(&self, doc: DocId) -> Result<()> {
        let n = self.conn.int("SELECT count(*) FROM documents WHERE id=?1", params![doc.0])?;
        if n == 0 { Err(StoreError::Missing { what: "document", id: doc.0 }) } else { Ok(()) }
    }
}
