//! The one place that talks to a database driver: a connection to SQLite (rusqlite) or to
//! PostgreSQL (the synchronous `postgres` client), behind the same small interface. The store
//! writes its SQL once, in the portable subset both understand, with `?N` placeholders; for
//! PostgreSQL they become `$N` and SQLite-only hints (`INDEXED BY`) are dropped. Values go in
//! as [`P`] and come out through [`Row`], which reads any integer column as `i64`, so
//! `BIGINT` and SQLite's `INTEGER` look the same above this file.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;

use postgres::types::{IsNull, ToSql, Type};
use rusqlite::ErrorCode;

/// A parameter of a statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum P<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    /// Text made for the statement (a formatted value).
    Owned(String),
    Blob(&'a [u8]),
}

impl From<i64> for P<'_> {
    fn from(v: i64) -> Self {
        P::Int(v)
    }
}
impl From<i32> for P<'_> {
    fn from(v: i32) -> Self {
        P::Int(v.into())
    }
}
impl From<u32> for P<'_> {
    fn from(v: u32) -> Self {
        P::Int(v.into())
    }
}
impl From<usize> for P<'_> {
    fn from(v: usize) -> Self {
        P::Int(v as i64)
    }
}
impl From<bool> for P<'_> {
    fn from(v: bool) -> Self {
        P::Int(v.into())
    }
}
impl From<f64> for P<'_> {
    fn from(v: f64) -> Self {
        P::Real(v)
    }
}
impl From<f32> for P<'_> {
    fn from(v: f32) -> Self {
        P::Real(v.into())
    }
}
impl<'a> From<&'a str> for P<'a> {
    fn from(v: &'a str) -> Self {
        P::Text(v)
    }
}
impl From<String> for P<'_> {
    fn from(v: String) -> Self {
        P::Owned(v)
    }
}
impl<'a> From<&'a String> for P<'a> {
    fn from(v: &'a String) -> Self {
        P::Text(v)
    }
}
impl<'a> From<&'a [u8]> for P<'a> {
    fn from(v: &'a [u8]) -> Self {
        P::Blob(v)
    }
}
impl<'a, T: Into<P<'a>>> From<Option<T>> for P<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(P::Null, Into::into)
    }
}

/// `[p!(a), p!(b)]` without spelling out the conversions.
macro_rules! params {
    () => { &[] as &[$crate::store::db::P] };
    ($($v:expr),+ $(,)?) => { &[$($crate::store::db::P::from($v)),+] as &[$crate::store::db::P] };
}
pub(crate) use params;

impl rusqlite::ToSql for P<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            P::Null => ValueRef::Null,
            P::Int(v) => ValueRef::Integer(*v),
            P::Real(v) => ValueRef::Real(*v),
            P::Text(v) => ValueRef::Text(v.as_bytes()),
            P::Owned(v) => ValueRef::Text(v.as_bytes()),
            P::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

impl ToSql for P<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        // PostgreSQL infers each parameter's type from the statement; convert to what it asked
        match (self, ty) {
            (P::Null, _) => Ok(IsNull::Yes),
            (P::Int(v), &Type::INT8) => v.to_sql(ty, out),
            (P::Int(v), &Type::INT4) => i32::try_from(*v)?.to_sql(ty, out),
            (P::Int(v), &Type::INT2) => i16::try_from(*v)?.to_sql(ty, out),
            (P::Int(v), &Type::FLOAT8) => (*v as f64).to_sql(ty, out),
            (P::Int(v), &Type::BOOL) => (*v != 0).to_sql(ty, out),
            (P::Int(v), &Type::TEXT | &Type::VARCHAR) => v.to_string().as_str().to_sql(ty, out),
            (P::Real(v), &Type::FLOAT8) => v.to_sql(ty, out),
            (P::Real(v), &Type::FLOAT4) => (*v as f32).to_sql(ty, out),
            (P::Text(v), &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME | &Type::UNKNOWN) => {
                v.to_sql(ty, out)
            }
            (P::Owned(v), &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME | &Type::UNKNOWN) => {
                v.as_str().to_sql(ty, out)
            }
            (P::Blob(v), &Type::BYTEA) => v.to_sql(ty, out),
            (p, ty) => Err(format!("cannot pass {p:?} as {ty}").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// What went wrong, in the cases the store branches on; `message` is the driver's sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DbError {
    pub kind: DbErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DbErrorKind {
    Busy,
    ReadOnly,
    DiskFull,
    Io,
    Corrupt,
    NotADatabase,
    CannotOpen,
    /// A unique, check or foreign-key constraint refused the row.
    Constraint,
    /// The server closed the connection (or was never reached).
    Connection,
    /// The server refused the login.
    Auth,
    /// The server refused a write this login may not make (its rules or grants).
    Permission,
    /// The named database does not exist on the server.
    NoDatabase,
    /// A query expected a row and got none.
    NoRows,
    /// A value could not be read as the type asked for.
    Type,
    Other,
}

impl DbError {
    pub fn new(kind: DbErrorKind, message: impl Into<String>) -> Self {
        DbError { kind, message: message.into() }
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub(crate) type DbResult<T> = std::result::Result<T, DbError>;

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        let kind = match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => DbErrorKind::Busy,
            Some(ErrorCode::ReadOnly) => DbErrorKind::ReadOnly,
            Some(ErrorCode::DiskFull) => DbErrorKind::DiskFull,
            Some(ErrorCode::SystemIoFailure) => DbErrorKind::Io,
            Some(ErrorCode::DatabaseCorrupt) => DbErrorKind::Corrupt,
            Some(ErrorCode::NotADatabase) => DbErrorKind::NotADatabase,
            Some(ErrorCode::CannotOpen) => DbErrorKind::CannotOpen,
            Some(ErrorCode::ConstraintViolation) => DbErrorKind::Constraint,
            _ => match e {
                rusqlite::Error::QueryReturnedNoRows => DbErrorKind::NoRows,
                rusqlite::Error::FromSqlConversionFailure(..)
                | rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::IntegralValueOutOfRange(..) => DbErrorKind::Type,
                _ => DbErrorKind::Other,
            },
        };
        DbError { kind, message: sqlite_message(&e) }
    }
}

/// SQLite's own sentence, without the SQL text rusqlite appends to input errors or the
/// "Error code N" it repeats.
fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(err, Some(msg)) if !msg.is_empty() => msg.clone(),
        rusqlite::Error::SqliteFailure(err, _) => err.to_string(),
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string().lines().next().unwrap_or_default().to_string(),
    }
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        use postgres::error::SqlState;
        if let Some(db) = e.as_db_error() {
            let code = db.code();
            let kind = if *code == SqlState::UNIQUE_VIOLATION
                || *code == SqlState::FOREIGN_KEY_VIOLATION
                || *code == SqlState::CHECK_VIOLATION
                || *code == SqlState::NOT_NULL_VIOLATION
            {
                DbErrorKind::Constraint
            } else if *code == SqlState::INVALID_PASSWORD || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
                DbErrorKind::Auth
            } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
                DbErrorKind::Permission
            } else if *code == SqlState::INVALID_CATALOG_NAME {
                DbErrorKind::NoDatabase
            } else if *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
                || *code == SqlState::LOCK_NOT_AVAILABLE
                || *code == SqlState::QUERY_CANCELED
            {
                DbErrorKind::Busy
            } else if *code == SqlState::DISK_FULL {
                DbErrorKind::DiskFull
            } else if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
                DbErrorKind::ReadOnly
            } else if *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || code.code().starts_with("08")
            {
                DbErrorKind::Connection
            } else {
                DbErrorKind::Other
            };
            return DbError { kind, message: db.message().to_string() };
        }
        if e.is_closed() {
            return DbError::new(DbErrorKind::Connection, "the connection to the server was lost");
        }
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            let text = s.to_string();
            if !message.contains(&text) {
                message = format!("{message}: {text}");
            }
            source = s.source();
        }
        let kind = if message.contains("error connecting")
            || message.contains("connection closed")
            || message.contains("Connection refused")
            || message.contains("failed to lookup")
            || message.contains("timed out")
        {
            DbErrorKind::Connection
        } else if message.contains("password") {
            DbErrorKind::Auth
        } else if e.source().is_some_and(|s| s.is::<std::io::Error>()) {
            DbErrorKind::Connection
        } else {
            DbErrorKind::Other
        };
        DbError { kind, message }
    }
}

/// One result row, whichever the backend.
pub(crate) enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Pg(&'a postgres::Row),
}

fn type_error(i: usize, what: &str, e: impl std::fmt::Display) -> DbError {
    DbError::new(DbErrorKind::Type, format!("column {i}: expected {what}: {e}"))
}

/// A value a [`Row`] can be read as (`row.get(i)`, with the type inferred).
pub(crate) trait FromDb: Sized {
    fn read(r: &Row, i: usize) -> DbResult<Self>;
}

impl FromDb for i64 {
    fn read(r: &Row, i: usize) -> DbResult<Self> {
        r.i64(i)
    }
}
impl FromDb for Option<i64> {
    fn read(r: &Row, i: usize) -> DbResult<Self> {
        r.opt_i64(i)
    }
}
impl FromDb for u32 {
    fn read(r: &Row, i: usize) -> DbResult<Self> {
        let v = r.i64(i)?;
        u32::try_from(v).map_err(|e| type_error(i, "a small positive integer", e))
    }
}
impl FromDb for i32 {
    fn read(r: &Row, i: usize) -> DbResult<Self> {
        let v = r.i64(i)?;
        i32::try_from(v).map_err(|e| type_error(i, "a small integer", e))
    }
}
impl FromDb for bool {
    fn read(r: &Row, i: usize) -> DbResult<Self> {
        Ok(r.i64(i)? != 0)
    }
}
impl FromDb for f64 {
    fn read(r: &Row, i: usize) -> DbResult<Self> {
        r.f64(i)
    }
}
impl FromDb for Option<f64> {
    fn read(r: &Row, i: usize) -> DbResult<Self> {
        r.opt_f64(i)
    }
}
impl FromDb for String {
    fn read(r: &Row, i: usize) -> DbResult<Self> {
        r.text(i)
    }
}
impl FromDb for Option<String> {
    fn read(r: &Row, i: usize) -> DbResult<Self> {
        r.opt_text(i)
    }
}

impl Row<'_> {
    /// A column as any [`FromDb`] type.
    pub fn get<T: FromDb>(&self, i: usize) -> DbResult<T> {
        T::read(self, i)
    }

    pub fn opt_i64(&self, i: usize) -> DbResult<Option<i64>> {
        match self {
            Row::Sqlite(r) => r.get::<_, Option<i64>>(i).map_err(|e| type_error(i, "an integer", e)),
            Row::Pg(r) => {
                let ty = r.columns().get(i).map(|c| c.type_().clone()).unwrap_or(Type::INT8);
                let got = match ty {
                    Type::INT8 => r.try_get::<_, Option<i64>>(i),
                    Type::INT4 => r.try_get::<_, Option<i32>>(i).map(|v| v.map(i64::from)),
                    Type::INT2 => r.try_get::<_, Option<i16>>(i).map(|v| v.map(i64::from)),
                    Type::BOOL => r.try_get::<_, Option<bool>>(i).map(|v| v.map(i64::from)),
                    _ => r.try_get::<_, Option<i64>>(i),
                };
                got.map_err(|e| type_error(i, "an integer", e))
            }
        }
    }

    pub fn bool(&self, i: usize) -> DbResult<bool> {
        Ok(self.i64(i)? != 0)
    }

    pub fn i64(&self, i: usize) -> DbResult<i64> {
        self.opt_i64(i)?.ok_or_else(|| type_error(i, "an integer", "NULL"))
    }

    /// An integer column, or 0 where it is NULL (sums over no rows).
    pub fn i64_or_0(&self, i: usize) -> DbResult<i64> {
        Ok(self.opt_i64(i)?.unwrap_or(0))
    }

    pub fn opt_f64(&self, i: usize) -> DbResult<Option<f64>> {
        match self {
            Row::Sqlite(r) => r.get::<_, Option<f64>>(i).map_err(|e| type_error(i, "a number", e)),
            Row::Pg(r) => {
                let ty = r.columns().get(i).map(|c| c.type_().clone()).unwrap_or(Type::FLOAT8);
                let got = match ty {
                    Type::FLOAT4 => r.try_get::<_, Option<f32>>(i).map(|v| v.map(f64::from)),
                    Type::INT8 => r.try_get::<_, Option<i64>>(i).map(|v| v.map(|v| v as f64)),
                    Type::INT4 => r.try_get::<_, Option<i32>>(i).map(|v| v.map(f64::from)),
                    _ => r.try_get::<_, Option<f64>>(i),
                };
                got.map_err(|e| type_error(i, "a number", e))
            }
        }
    }

    pub fn f64(&self, i: usize) -> DbResult<f64> {
        self.opt_f64(i)?.ok_or_else(|| type_error(i, "a number", "NULL"))
    }

    pub fn opt_text(&self, i: usize) -> DbResult<Option<String>> {
        match self {
            Row::Sqlite(r) => r.get::<_, Option<String>>(i).map_err(|e| type_error(i, "text", e)),
            Row::Pg(r) => r.try_get::<_, Option<String>>(i).map_err(|e| type_error(i, "text", e)),
        }
    }

    pub fn text(&self, i: usize) -> DbResult<String> {
        self.opt_text(i)?.ok_or_else(|| type_error(i, "text", "NULL"))
    }

    pub fn opt_blob(&self, i: usize) -> DbResult<Option<Vec<u8>>> {
        match self {
            Row::Sqlite(r) => r.get::<_, Option<Vec<u8>>>(i).map_err(|e| type_error(i, "bytes", e)),
            Row::Pg(r) => r.try_get::<_, Option<Vec<u8>>>(i).map_err(|e| type_error(i, "bytes", e)),
        }
    }

    /// Any value, for copying rows between stores.
    pub fn value(&self, i: usize) -> DbResult<Value> {
        match self {
            Row::Sqlite(r) => {
                use rusqlite::types::ValueRef;
                Ok(match r.get_ref(i).map_err(|e| type_error(i, "a value", e))? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Real(v),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                })
            }
            Row::Pg(r) => {
                let ty = r.columns().get(i).map(|c| c.type_().clone()).unwrap_or(Type::TEXT);
                Ok(match ty {
                    Type::INT2 | Type::INT4 | Type::INT8 | Type::BOOL => {
                        self.opt_i64(i)?.map_or(Value::Null, Value::Int)
                    }
                    Type::FLOAT4 | Type::FLOAT8 => self.opt_f64(i)?.map_or(Value::Null, Value::Real),
                    Type::BYTEA => self.opt_blob(i)?.map_or(Value::Null, Value::Blob),
                    _ => self.opt_text(i)?.map_or(Value::Null, Value::Text),
                })
            }
        }
    }
}

/// An owned value (a copied row's cell).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    pub fn as_param(&self) -> P<'_> {
        match self {
            Value::Null => P::Null,
            Value::Int(v) => P::Int(*v),
            Value::Real(v) => P::Real(*v),
            Value::Text(v) => P::Text(v),
            Value::Blob(v) => P::Blob(v),
        }
    }
}

/// `?N` → `$N` (outside quoted strings), and SQLite-only hints dropped.
pub(crate) fn to_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted && chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            _ => out.push(c),
        }
    }
    // `INDEXED BY name` is SQLite's planner hint; PostgreSQL plans on its own
    while let Some(at) = out.find("INDEXED BY ") {
        let rest = &out[at + "INDEXED BY ".len()..];
        let name_len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        out.replace_range(at..at + "INDEXED BY ".len() + name_len, "");
    }
    out
}

/// How many prepared statements one PostgreSQL session keeps.
const MAX_PG_STATEMENTS: usize = 256;

/// Prepared statements of one PostgreSQL session, by the SQL they were written as.
#[derive(Default)]
pub(crate) struct PgStatements(RefCell<HashMap<String, postgres::Statement>>);

impl PgStatements {
    fn get(
        &self,
        prepare: impl FnOnce(&str) -> DbResult<postgres::Statement>,
        sql: &str,
    ) -> DbResult<postgres::Statement> {
        if let Some(s) = self.0.borrow().get(sql) {
            return Ok(s.clone());
        }
        let stmt = prepare(&to_postgres(sql))?;
        let mut cache = self.0.borrow_mut();
        // statements with inlined id lists differ each time: keep the cache (and the server's
        // prepared statements, closed as they drop) bounded
        if cache.len() >= MAX_PG_STATEMENTS {
            cache.clear();
        }
        cache.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    /// After a failed transaction the server may have forgotten statements prepared in it.
    pub fn forget(&self) {
        self.0.borrow_mut().clear();
    }
}

fn pg_params<'a>(params: &'a [P<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// What the store's SQL runs on: a connection or a write transaction of either backend.
pub(crate) trait Sql {
    /// Runs a statement; returns how many rows it changed.
    fn exec(&self, sql: &str, params: &[P]) -> DbResult<u64>;
    /// Runs several statements separated by `;` (no parameters).
    fn batch(&self, sql: &str) -> DbResult<()>;
    /// Every row, mapped.
    fn rows<T>(&self, sql: &str, params: &[P], f: impl FnMut(&Row) -> DbResult<T>) -> DbResult<Vec<T>>;

    /// The first row, if any.
    fn row_opt<T>(&self, sql: &str, params: &[P], mut f: impl FnMut(&Row) -> DbResult<T>) -> DbResult<Option<T>> {
        // small queries only (by id, aggregates): reading the whole result costs nothing
        Ok(self.rows(sql, params, |r| f(r))?.into_iter().next())
    }

    /// The first row; `NoRows` if there is none.
    fn row<T>(&self, sql: &str, params: &[P], f: impl FnMut(&Row) -> DbResult<T>) -> DbResult<T> {
        self.row_opt(sql, params, f)?.ok_or_else(|| DbError::new(DbErrorKind::NoRows, "no row"))
    }

    /// One integer (a count, an id from `RETURNING id`).
    fn int(&self, sql: &str, params: &[P]) -> DbResult<i64> {
        self.row(sql, params, |r| r.i64_or_0(0))
    }

    /// Inserts rows of `width` values each (`values` holds them one after the other), many
    /// rows per statement: `head` is `INSERT INTO t (a, b)`, `tail` what follows the values
    /// (an `ON CONFLICT` clause, or nothing). A server costs a round trip per statement, not per
    /// row. Statements come in a few fixed sizes, so a server's statement cache holds a handful
    /// of them; the rows of one statement must not conflict with each other.
    fn insert_rows(&self, head: &str, tail: &str, width: usize, values: &[P]) -> DbResult<()> {
        const SIZES: [usize; 4] = [128, 32, 8, 1];
        if width == 0 || !values.len().is_multiple_of(width) {
            return Err(DbError::new(
                DbErrorKind::Other,
                format!("{} values do not make rows of {width}", values.len()),
            ));
        }
        let mut rest = values;
        while !rest.is_empty() {
            let rows = rest.len() / width;
            let n = SIZES.into_iter().find(|&s| s <= rows).unwrap_or(1);
            let (now, later) = rest.split_at(n * width);
            let mut sql = String::with_capacity(head.len() + tail.len() + n * width * 6);
            sql.push_str(head);
            sql.push_str(" VALUES ");
            for r in 0..n {
                sql.push_str(if r == 0 { "(" } else { ", (" });
                for c in 0..width {
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!("?{}", r * width + c + 1));
                }
                sql.push(')');
            }
            sql.push(' ');
            sql.push_str(tail);
            self.exec(&sql, now)?;
            rest = later;
        }
        Ok(())
    }
}

impl Sql for rusqlite::Connection {
    fn exec(&self, sql: &str, params: &[P]) -> DbResult<u64> {
        Ok(self.prepare_cached(sql)?.execute(rusqlite::params_from_iter(params))? as u64)
    }

    fn batch(&self, sql: &str) -> DbResult<()> {
        Ok(self.execute_batch(sql)?)
    }

    fn rows<T>(&self, sql: &str, params: &[P], mut f: impl FnMut(&Row) -> DbResult<T>) -> DbResult<Vec<T>> {
        let mut stmt = self.prepare_cached(sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(f(&Row::Sqlite(r))?);
        }
        Ok(out)
    }
}

/// A PostgreSQL session: the client and its prepared statements.
pub(crate) struct PgConn {
    pub client: RefCell<postgres::Client>,
    pub statements: PgStatements,
    /// Connects again, as the store first did, after the server went away (a restart, a
    /// network cut): work resumes when it is back, without reopening the workspace.
    pub reconnect: Option<Box<dyn Fn() -> DbResult<postgres::Client> + Send>>,
}

impl PgConn {
    /// Replaces a connection the server closed with a new one.
    fn reopen(&self) -> DbResult<()> {
        let Some(connect) = &self.reconnect else {
            return Err(DbError::new(DbErrorKind::Connection, "the connection to the server was lost"));
        };
        let fresh = connect()?;
        *self.client.borrow_mut() = fresh;
        self.statements.forget();
        Ok(())
    }

    /// Before a statement: a connection known to be closed is opened again first.
    fn ensure_open(&self) -> DbResult<()> {
        if self.client.borrow().is_closed() { self.reopen() } else { Ok(()) }
    }

    /// Runs a read; when the connection turns out to be lost, once more on a new one (a read
    /// may be repeated; a write is never repeated behind the caller's back).
    fn read<T>(&self, run: impl Fn(&mut postgres::Client) -> DbResult<T>) -> DbResult<T> {
        self.ensure_open()?;
        let first = run(&mut self.client.borrow_mut());
        match first {
            Err(e) if e.kind == DbErrorKind::Connection && self.reconnect.is_some() => {
                self.reopen()?;
                run(&mut self.client.borrow_mut())
            }
            other => other,
        }
    }
}

impl PgConn {
    /// Waits up to `timeout` for a notification on a channel this connection listens on, then
    /// takes every one already there; returns their payloads (empty when none came).
    pub fn notifications(&self, timeout: std::time::Duration) -> DbResult<Vec<String>> {
        self.ensure_open()?;
        use postgres::fallible_iterator::FallibleIterator;
        let mut client = self.client.borrow_mut();
        let mut notes = client.notifications();
        let mut out = Vec::new();
        let first = notes.timeout_iter(timeout).next()?;
        if let Some(first) = first {
            out.push(first.payload().to_string());
            let mut waiting = notes.iter();
            while let Some(n) = waiting.next()? {
                out.push(n.payload().to_string());
            }
        }
        Ok(out)
    }
}

impl Sql for PgConn {
    fn exec(&self, sql: &str, params: &[P]) -> DbResult<u64> {
        self.ensure_open()?;
        let mut c = self.client.borrow_mut();
        let stmt = self.statements.get(|s| Ok(c.prepare(s)?), sql)?;
        Ok(c.execute(&stmt, &pg_params(params))?)
    }

    fn batch(&self, sql: &str) -> DbResult<()> {
        self.ensure_open()?;
        Ok(self.client.borrow_mut().batch_execute(&to_postgres(sql))?)
    }

    fn rows<T>(&self, sql: &str, params: &[P], mut f: impl FnMut(&Row) -> DbResult<T>) -> DbResult<Vec<T>> {
        let rows = self.read(|c| {
            let stmt = self.statements.get(|s| Ok(c.prepare(s)?), sql)?;
            Ok(c.query(&stmt, &pg_params(params))?)
        })?;
        rows.iter().map(|r| f(&Row::Pg(r))).collect()
    }
}

/// A write transaction on PostgreSQL.
pub(crate) struct PgTx<'a> {
    pub tx: RefCell<postgres::Transaction<'a>>,
    pub statements: &'a PgStatements,
}

impl Sql for PgTx<'_> {
    fn exec(&self, sql: &str, params: &[P]) -> DbResult<u64> {
        let mut t = self.tx.borrow_mut();
        let stmt = self.statements.get(|s| Ok(t.prepare(s)?), sql)?;
        Ok(t.execute(&stmt, &pg_params(params))?)
    }

    fn batch(&self, sql: &str) -> DbResult<()> {
        Ok(self.tx.borrow_mut().batch_execute(&to_postgres(sql))?)
    }

    fn rows<T>(&self, sql: &str, params: &[P], mut f: impl FnMut(&Row) -> DbResult<T>) -> DbResult<Vec<T>> {
        let mut t = self.tx.borrow_mut();
        let stmt = self.statements.get(|s| Ok(t.prepare(s)?), sql)?;
        let rows = t.query(&stmt, &pg_params(params))?;
        rows.iter().map(|r| f(&Row::Pg(r))).collect()
    }
}

/// Either backend's write transaction, for code that writes.
pub(crate) enum Tx<'a> {
    Sqlite(rusqlite::Transaction<'a>),
    Pg(PgTx<'a>),
}

impl Tx<'_> {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Tx::Pg(_))
    }
}

impl Sql for Tx<'_> {
    fn exec(&self, sql: &str, params: &[P]) -> DbResult<u64> {
        match self {
            Tx::Sqlite(t) => t.exec(sql, params),
            Tx::Pg(t) => t.exec(sql, params),
        }
    }

    fn batch(&self, sql: &str) -> DbResult<()> {
        match self {
            Tx::Sqlite(t) => t.batch(sql),
            Tx::Pg(t) => t.batch(sql),
        }
    }

    fn rows<T>(&self, sql: &str, params: &[P], f: impl FnMut(&Row) -> DbResult<T>) -> DbResult<Vec<T>> {
        match self {
            Tx::Sqlite(t) => t.rows(sql, params, f),
            Tx::Pg(t) => t.rows(sql, params, f),
        }
    }
}

/// A connection of either backend.
pub(crate) enum Conn {
    Sqlite(rusqlite::Connection),
    Pg(Box<PgConn>),
}

/// The advisory lock every PostgreSQL write transaction takes first, so writers of one
/// workspace run one after another, as SQLite's `BEGIN IMMEDIATE` makes them: a check and the
/// write it guards (no boxes yet → import; `before` still current → edit) can never interleave
/// with another writer's. Writes are a few milliseconds each, so this costs little.
const PG_WRITE_LOCK: i64 = 0x0046_6163_7475_7265; // "Facture"

impl Conn {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }

    /// Runs `f` in a write transaction (serialised with every other writer of the workspace)
    /// and commits it; nothing of it stays when `f` or the commit fails.
    pub fn write<T, E: From<DbError>>(&mut self, f: impl FnOnce(&Tx) -> Result<T, E>) -> Result<T, E> {
        match self {
            Conn::Sqlite(c) => {
                let tx =
                    c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(DbError::from)?;
                let tx = Tx::Sqlite(tx);
                let out = f(&tx)?;
                match tx {
                    Tx::Sqlite(t) => t.commit().map_err(DbError::from)?,
                    Tx::Pg(_) => {}
                }
                Ok(out)
            }
            Conn::Pg(pg) => {
                pg.ensure_open()?;
                // BEGIN on a connection that turns out to be lost: nothing was sent that could
                // have been committed, so it is safe to begin once more on a new one
                let begin_failed = match pg.client.borrow_mut().transaction() {
                    Ok(t) => {
                        let tx = Tx::Pg(PgTx { tx: RefCell::new(t), statements: &pg.statements });
                        return run_pg_write(tx, f);
                    }
                    Err(e) => DbError::from(e),
                };
                if begin_failed.kind == DbErrorKind::Connection && pg.reconnect.is_some() {
                    pg.reopen()?;
                    let mut client = pg.client.borrow_mut();
                    let t = client.transaction().map_err(DbError::from)?;
                    return run_pg_write(Tx::Pg(PgTx { tx: RefCell::new(t), statements: &pg.statements }), f);
                }
                pg.statements.forget();
                Err(begin_failed.into())
            }
        }
    }
}

/// The body of a PostgreSQL write transaction: the workspace's write lock, `f`, commit.
fn run_pg_write<T, E: From<DbError>>(tx: Tx, f: impl FnOnce(&Tx) -> Result<T, E>) -> Result<T, E> {
    let result = tx.exec("SELECT pg_advisory_xact_lock(?1)", params![PG_WRITE_LOCK]).map_err(E::from);
    let out = result.and_then(|_| f(&tx));
    match (out, tx) {
        (Ok(v), Tx::Pg(t)) => {
            t.tx.into_inner().commit().map_err(DbError::from)?;
            Ok(v)
        }
        (Err(e), _) => Err(e),
        (Ok(v), Tx::Sqlite(_)) => Ok(v),
    }
}

impl Sql for Conn {
    fn exec(&self, sql: &str, params: &[P]) -> DbResult<u64> {
        match self {
            Conn::Sqlite(c) => c.exec(sql, params),
            Conn::Pg(c) => c.exec(sql, params),
        }
    }

    fn batch(&self, sql: &str) -> DbResult<()> {
        match self {
            Conn::Sqlite(c) => c.batch(sql),
            Conn::Pg(c) => c.batch(sql),
        }
    }

    fn rows<T>(&self, sql: &str, params: &[P], f: impl FnMut(&Row) -> DbResult<T>) -> DbResult<Vec<T>> {
        match self {
            Conn::Sqlite(c) => c.rows(sql, params, f),
            Conn::Pg(c) => c.rows(sql, params, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_rows_go_in_few_statements_of_fixed_sizes() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (7, 'old')").unwrap();
        // 301 rows: 128 + 128 + 32 + 8 + 1 + 1 + 1 + 1 + 1
        let texts: Vec<String> = (0..301).map(|i| format!("v{i}")).collect();
        let values: Vec<P> = (0..301i64).flat_map(|i| [P::Int(i), P::Text(&texts[i as usize])]).collect();
        db.insert_rows("INSERT INTO t (k, v)", "ON CONFLICT (k) DO UPDATE SET v=excluded.v", 2, &values).unwrap();
        assert_eq!(db.int("SELECT count(*) FROM t", params![]).unwrap(), 301);
        let v = |k: i64| db.row("SELECT v FROM t WHERE k=?1", params![k], |r| r.text(0)).unwrap();
        assert_eq!((v(0), v(7), v(255), v(300)), ("v0".into(), "v7".into(), "v255".into(), "v300".into()));
        // nothing to insert is nothing done; values that are not whole rows are refused
        db.insert_rows("INSERT INTO t (k, v)", "", 2, &[]).unwrap();
        assert!(db.insert_rows("INSERT INTO t (k, v)", "", 2, &[P::Int(1000)]).is_err());
        assert_eq!(db.int("SELECT count(*) FROM t", params![]).unwrap(), 301);
    }

    #[test]
    fn placeholders_and_hints_become_postgres() {
        assert_eq!(to_postgres("SELECT a FROM t WHERE x=?1 AND y=?12"), "SELECT a FROM t WHERE x=$1 AND y=$12");
        assert_eq!(to_postgres("SELECT '?1' WHERE a=?2"), "SELECT '?1' WHERE a=$2");
        assert_eq!(
            to_postgres("SELECT ts FROM edits INDEXED BY edits_stats_events WHERE user_id=?1"),
            "SELECT ts FROM edits  WHERE user_id=$1"
        );
    }

    #[test]
    fn sqlite_rows_read_through_the_common_interface() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.batch("CREATE TABLE t (id INTEGER PRIMARY KEY, x REAL, s TEXT, b BLOB)").unwrap();
        let id = c.int("INSERT INTO t (x, s, b) VALUES (?1, ?2, ?3) RETURNING id", params![1.5, "é", &b"\x00\x01"[..]]);
        assert_eq!(id.unwrap(), 1);
        c.exec("INSERT INTO t (x, s, b) VALUES (?1, ?2, ?3)", params![None::<f64>, None::<&str>, None::<&[u8]>])
            .unwrap();
        let rows = c
            .rows("SELECT id, x, s, b FROM t ORDER BY id", params![], |r| {
                Ok((r.i64(0)?, r.opt_f64(1)?, r.opt_text(2)?, r.opt_blob(3)?))
            })
            .unwrap();
        assert_eq!(rows[0], (1, Some(1.5), Some("é".to_string()), Some(vec![0, 1])));
        assert_eq!(rows[1], (2, None, None, None));
        let err = c.exec("INSERT INTO t (id) VALUES (1)", params![]).unwrap_err();
        assert_eq!(err.kind, DbErrorKind::Constraint);
        assert_eq!(c.row_opt("SELECT id FROM t WHERE id=99", params![], |r| r.i64(0)).unwrap(), None);
    }
}
