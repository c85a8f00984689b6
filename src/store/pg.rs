//! The PostgreSQL backend's own business: connecting (password from the URL, `PGPASSWORD` or
//! `~/.pgpass`), telling an empty database from a Facture workspace and from another
//! program's, refusing a newer schema, creating and migrating the schema, and storing page
//! images by content hash.

use std::cell::RefCell;

use super::db::{Conn, DbError, DbErrorKind, PgConn, PgStatements, Sql, params};
use super::error::classify;
use super::pg_migrations::{PG_LATEST_VERSION, PG_MARKER_TABLES, PG_MIGRATIONS};
use super::{PgAddress, Result, Store, StoreError, Workspace, queries};

/// How long a writer waits for the workspace's write lock (longer than SQLite's 2.5 s: a
/// stats refresh batch on a busy server may hold it a few seconds).
const PG_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Connects; `create` makes Facture's tables in an empty database, otherwise the database
/// must already hold a Facture workspace (which is migrated to the latest version).
pub(super) fn open(address: &PgAddress, create: bool) -> Result<Store> {
    let shown = address.shown().to_string();
    let config = address.config();
    let tls = super::tls::connector(address.tls, address.root_cert.as_deref())
        .map_err(|detail| StoreError::CannotOpen { workspace: shown.clone(), detail })?;
    let not_a_member = || StoreError::NotAMember {
        workspace: shown.clone(),
        login: address.config().get_user().unwrap_or_default().to_string(),
    };
    let client = config.connect(tls.clone()).map_err(|e| match DbError::from(e) {
        // the database's CONNECT is the team's
        e if e.kind == DbErrorKind::Permission => not_a_member(),
        e if e.message.contains("certificate") => StoreError::CannotOpen {
            workspace: shown.clone(),
            detail: format!(
                "the server's TLS certificate was not accepted ({}); sslrootcert must name the authority that \
                 signed it, and verify-full needs it issued for the host the URL names",
                e.message
            ),
        },
        e => classify(e, &shown, true),
    })?;
    // a writer waits for the one ahead of it at most this long, then gets `Busy` ("try again"),
    // as SQLite's busy timeout gives: a stuck transaction never blocks everyone for good
    let session = format!("SET lock_timeout = '{}ms'", PG_LOCK_TIMEOUT.as_millis());
    let again = session.clone();
    let reconnect = move || -> Result<postgres::Client, DbError> {
        let mut client = config.connect(tls.clone())?;
        client.batch_execute(&again)?;
        Ok(client)
    };
    let pg = PgConn {
        client: RefCell::new(client),
        statements: PgStatements::default(),
        reconnect: Some(Box::new(reconnect)),
    };
    pg.batch(&session).map_err(|e| classify(e, &shown, true))?;
    let tables = table_names(&pg).map_err(|e| classify(e, &shown, true))?;
    let ours = PG_MARKER_TABLES.iter().all(|t| tables.iter().any(|x| x == t));
    let mut conn = Conn::Pg(Box::new(pg));
    if tables.is_empty() {
        if !create {
            return Err(StoreError::EmptyDatabase { workspace: shown });
        }
    } else if !ours {
        return Err(StoreError::NotAWorkspace {
            workspace: shown,
            reason: "the database holds another program's tables; use an empty database".into(),
        });
    } else if create {
        return Err(StoreError::Invalid(format!("{shown}: already holds a Facture workspace")));
    }
    let version = if tables.is_empty() {
        0
    } else {
        read_version(&conn).map_err(|e| match e.kind {
            DbErrorKind::Permission => not_a_member(),
            _ => classify(e, &shown, true),
        })?
    };
    if version > PG_LATEST_VERSION {
        return Err(StoreError::NewerSchema { workspace: shown, found: version, supported: PG_LATEST_VERSION });
    }
    if version < PG_LATEST_VERSION {
        migrate(&mut conn, version).map_err(|e| match e {
            StoreError::Database(detail) => StoreError::SchemaMismatch { workspace: shown.clone(), version, detail },
            other => other.with_workspace(&shown),
        })?;
    }
    // a login in the team's group role whose member was removed, say
    let member = conn.row("SELECT facture_role() IS NOT NULL", params![], |r| r.bool(0));
    if !member.map_err(|e| classify(e, &shown, true))? {
        return Err(not_a_member());
    }
    Ok(Store { conn, workspace: Some(Workspace::Postgres(Box::new(address.clone()))), read_only: false })
}

fn table_names(pg: &PgConn) -> Result<Vec<String>, DbError> {
    pg.rows(
        // pg_tables lists every table, whatever this login may do with it (information_schema
        // only those it has privileges on: a stranger would see an empty database)
        "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
        params![],
        |r| r.text(0),
    )
}

fn read_version(conn: &Conn) -> Result<i64, DbError> {
    let v = conn.row_opt("SELECT value FROM meta WHERE key='schema_version'", params![], |r| r.text(0))?;
    let v = v.ok_or_else(|| DbError::new(DbErrorKind::Other, "the workspace records no schema version"))?;
    v.parse().map_err(|_| DbError::new(DbErrorKind::Other, format!("schema version '{v}' is not a number")))
}

pub(super) fn schema_version(pg: &PgConn) -> Result<i64, DbError> {
    let v = pg.row_opt("SELECT value FROM meta WHERE key='schema_version'", params![], |r| r.text(0))?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn migrate(conn: &mut Conn, from: i64) -> Result<()> {
    conn.write(|tx| -> Result<()> {
        // another workstation may have created or migrated it meanwhile (we hold the write lock)
        let has_meta = tx.int(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name='meta'",
            params![],
        )? > 0;
        let current = if has_meta {
            tx.row_opt("SELECT value FROM meta WHERE key='schema_version'", params![], |r| r.text(0))?
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(from)
        } else {
            0
        };
        for (i, sql) in PG_MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.batch(sql)?;
            if i == 0 {
                queries::seed_new_workspace(tx)?;
            }
        }
        tx.exec(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![PG_LATEST_VERSION.to_string().as_str()],
        )?;
        // tables a migration added reach the team's members too
        super::team::renew_team_grants(tx)?;
        Ok(())
    })
}

impl Store {
    /// Stores a page image's bytes once per content hash (a server workspace's images travel
    /// with it). Returns whether they were new.
    pub fn put_image(&mut self, sha256: &str, bytes: &[u8]) -> Result<bool> {
        let n = self.conn.exec(
            "INSERT INTO images (sha256, bytes, size) VALUES (?1, ?2, ?3) ON CONFLICT (sha256) DO NOTHING",
            params![sha256, bytes, bytes.len()],
        )?;
        Ok(n == 1)
    }

    /// A stored page image's bytes, if the workspace holds them.
    pub fn image(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        if !self.is_postgres() {
            return Ok(None);
        }
        Ok(self.conn.row_opt("SELECT bytes FROM images WHERE sha256=?1", params![sha256], |r| r.opt_blob(0))?.flatten())
    }

    /// Sizes in bytes of the stored page images among `shas` (those the workspace holds).
    pub fn image_sizes(&self, shas: &[&str]) -> Result<Vec<(String, u64)>> {
        self.images_among(shas, "size", |r| Ok(r.i64(1)?.max(0) as u64))
    }

    /// The bytes of the stored page images among `shas` (those the workspace holds).
    pub fn images(&self, shas: &[&str]) -> Result<Vec<(String, Vec<u8>)>> {
        self.images_among(shas, "bytes", |r| Ok(r.opt_blob(1)?.unwrap_or_default()))
    }

    /// `SELECT sha256, COLUMN FROM images` for `shas`, a fixed number per statement (the list
    /// padded with its first hash) so a server's statement cache holds one statement.
    fn images_among<T>(
        &self,
        shas: &[&str],
        column: &str,
        mut f: impl FnMut(&super::db::Row) -> super::db::DbResult<T>,
    ) -> Result<Vec<(String, T)>> {
        const PER_STATEMENT: usize = 32;
        let mut out = Vec::new();
        if !self.is_postgres() {
            return Ok(out);
        }
        let marks: Vec<String> = (1..=PER_STATEMENT).map(|i| format!("?{i}")).collect();
        let sql = format!("SELECT sha256, {column} FROM images WHERE sha256 IN ({})", marks.join(", "));
        for chunk in shas.chunks(PER_STATEMENT) {
            let values: Vec<super::db::P> =
                (0..PER_STATEMENT).map(|i| super::db::P::Text(chunk.get(i).unwrap_or(&chunk[0]))).collect();
            out.extend(self.conn.rows(&sql, &values, |r| Ok((r.text(0)?, f(r)?)))?);
        }
        Ok(out)
    }

    /// Whether this connection to the server is encrypted (TLS); false for a workspace file.
    pub fn connection_is_encrypted(&self) -> Result<bool> {
        if !self.is_postgres() {
            return Ok(false);
        }
        Ok(self.conn.row("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", params![], |r| r.bool(0))?)
    }

    /// Whether the workspace holds a page image with this hash.
    pub fn has_image(&self, sha256: &str) -> Result<bool> {
        if !self.is_postgres() {
            return Ok(false);
        }
        Ok(self.conn.int("SELECT count(*) FROM images WHERE sha256=?1", params![sha256])? > 0)
    }
}
