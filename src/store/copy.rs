//! Copying a whole workspace between stores of either kind (`facture migrate`): every table
//! that holds work, row for row with its ids, in one transaction on the target, checked by a
//! content checksum computed the same way on both sides. Derived caches (the stats tables) are
//! not copied: the target rebuilds them from the log.

use sha2::{Digest, Sha256};

use super::db::{DbResult, Sql, Value, params};
use super::{Result, Store, StoreError};

/// The tables that hold a workspace's content, parents before children, each with the
/// columns that order its rows (a unique key).
const TABLES: &[(&str, &[&str])] = &[
    ("meta", &["key"]),
    ("users", &["id"]),
    ("labels", &["id"]),
    ("documents", &["id"]),
    ("annotations", &["id"]),
    ("links", &["id"]),
    ("edits", &["id"]),
    ("activity", &["id"]),
    ("review_rounds", &["id"]),
    ("box_verdicts", &["round_id", "ann_id"]),
    ("comments", &["id"]),
    ("gold_boxes", &["doc_id", "position"]),
    ("gold_scores", &["doc_id", "user_id", "ts_ms"]),
    ("objectives", &["id"]),
    ("dataset_versions", &["id"]),
    ("label_models", &["id"]),
    ("label_examples", &["id"]),
];

/// Each backend's own bookkeeping in `meta`, which is not workspace content.
const OWN_META_KEYS: &[&str] = &["schema_version"];

/// Rows read (and written) at a time.
const CHUNK_ROWS: i64 = 2000;

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CopyReport {
    /// Rows copied per table, in copy order.
    pub tables: Vec<(String, u64)>,
    /// The content checksum of the source, and of the target after the copy (equal).
    pub checksum: String,
}

impl CopyReport {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.1).sum()
    }
}

/// Columns that are not workspace content: a member's server login belongs to the server, a
/// passphrase to one workstation's file; neither is copied nor part of the checksum.
const NOT_CONTENT: &[(&str, &str)] = &[("users", "login"), ("users", "passphrase")];

fn columns(conn: &impl Sql, table: &str, postgres: bool) -> DbResult<Vec<String>> {
    let mut cols = all_columns(conn, table, postgres)?;
    cols.retain(|c| !NOT_CONTENT.contains(&(table, c.as_str())));
    Ok(cols)
}

fn all_columns(conn: &impl Sql, table: &str, postgres: bool) -> DbResult<Vec<String>> {
    if postgres {
        conn.rows(
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = ?1 ORDER BY ordinal_position",
            params![table],
            |r| r.text(0),
        )
    } else {
        conn.rows("SELECT name FROM pragma_table_info(?1)", params![table], |r| r.text(0))
    }
}

/// The rows of `table` after `after` (by `key`), at most `limit`, as values of `cols`.
fn chunk(
    conn: &impl Sql,
    table: &str,
    cols: &[String],
    key: &[&str],
    after: Option<&[Value]>,
    limit: i64,
) -> DbResult<Vec<Vec<Value>>> {
    let list = cols.join(", ");
    let order = key.join(", ");
    let (cond, mut values): (String, Vec<super::db::P>) = match after {
        None => (String::new(), Vec::new()),
        Some(last) => {
            let marks: Vec<String> = (1..=key.len()).map(|i| format!("?{i}")).collect();
            (format!(" WHERE ({order}) > ({})", marks.join(", ")), last.iter().map(Value::as_param).collect())
        }
    };
    values.push(super::db::P::Int(limit));
    let sql = format!("SELECT {list} FROM {table}{cond} ORDER BY {order} LIMIT ?{}", values.len());
    conn.rows(&sql, &values, |r| (0..cols.len()).map(|i| r.value(i)).collect())
}

/// The digest of one row's canonical text, its columns in name order (paths left out: they
/// say where the images were, not what the workspace holds).
fn hash_row(table: &str, cols: &[String], row: &[Value]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(table.as_bytes());
    let mut order: Vec<usize> = (0..cols.len()).collect();
    order.sort_by(|&a, &b| cols[a].cmp(&cols[b]));
    for (c, v) in order.into_iter().map(|i| (&cols[i], &row[i])) {
        if table == "documents" && c == "path" {
            continue;
        }
        h.update(c.as_bytes());
        match v {
            Value::Null => h.update(b"\x00N"),
            Value::Int(i) => h.update(format!("\x00I{i}").as_bytes()),
            Value::Real(f) => h.update(format!("\x00R{:016x}", f.to_bits()).as_bytes()),
            Value::Text(t) => {
                h.update(b"\x00T");
                h.update((t.len() as u64).to_le_bytes());
                h.update(t.as_bytes());
            }
            Value::Blob(b) => {
                h.update(b"\x00B");
                h.update((b.len() as u64).to_le_bytes());
                h.update(b);
            }
        }
    }
    h.finalize().into()
}

fn key_of(cols: &[String], key: &[&str], row: &[Value]) -> Vec<Value> {
    key.iter().filter_map(|k| cols.iter().position(|c| c == k).map(|i| row[i].clone())).collect()
}

fn keep_row(table: &str, cols: &[String], row: &[Value]) -> bool {
    if table != "meta" {
        return true;
    }
    let key = cols.iter().position(|c| c == "key").and_then(|i| match &row[i] {
        Value::Text(t) => Some(t.as_str()),
        _ => None,
    });
    !key.is_some_and(|k| OWN_META_KEYS.contains(&k))
}

/// The content checksum of a workspace: the digests of every content row, sorted (so neither
/// a backend's column order nor its text collation matters), table by table.
fn checksum_of(conn: &impl Sql, postgres: bool) -> DbResult<String> {
    let mut h = Sha256::new();
    for (table, key) in TABLES {
        let cols = columns(conn, table, postgres)?;
        let mut digests: Vec<[u8; 32]> = Vec::new();
        let mut after: Option<Vec<Value>> = None;
        loop {
            let rows = chunk(conn, table, &cols, key, after.as_deref(), CHUNK_ROWS)?;
            digests.extend(rows.iter().filter(|r| keep_row(table, &cols, r)).map(|r| hash_row(table, &cols, r)));
            match rows.last() {
                Some(last) if rows.len() as i64 == CHUNK_ROWS => after = Some(key_of(&cols, key, last)),
                _ => break,
            }
        }
        digests.sort_unstable();
        h.update(table.as_bytes());
        h.update((digests.len() as u64).to_le_bytes());
        for d in digests {
            h.update(d);
        }
    }
    Ok(hex::encode(h.finalize()))
}

impl Store {
    /// The checksum `facture migrate` prints: equal for two workspaces with the same content,
    /// whichever their backends.
    pub fn content_checksum(&self) -> Result<String> {
        Ok(checksum_of(&self.conn, self.is_postgres())?)
    }

    /// Whether nobody has put anything in this workspace yet (a target a copy may fill).
    pub fn is_empty_workspace(&self) -> Result<bool> {
        let n = self.conn.int(
            "SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM users) + (SELECT count(*) FROM edits)
                    + (SELECT count(*) FROM dataset_versions)",
            params![],
        )?;
        Ok(n == 0)
    }

    /// Copies every content row of `from` into this workspace, which must be empty, in one
    /// transaction: all of it or nothing. `doc_path(sha256, path)` gives each document's path
    /// in the target (images a copy moved elsewhere). Returns the rows copied and the checksum,
    /// which is checked to be the same on both sides before anything is committed.
    pub fn copy_from(&mut self, from: &Store, doc_path: &dyn Fn(&str, &str) -> String) -> Result<CopyReport> {
        if !self.is_empty_workspace()? {
            return Err(StoreError::Invalid(format!(
                "{}: the target workspace is not empty; copy into a new file or an empty database",
                self.workspace.as_ref().map_or(":memory:".to_string(), ToString::to_string)
            )));
        }
        let source_sum = from.content_checksum()?;
        let from_pg = from.is_postgres();
        let to_pg = self.is_postgres();
        let mut report = CopyReport::default();
        let source = &from.conn;
        self.conn.write(|tx| -> Result<()> {
            if !to_pg {
                // rows arrive parents first, but the edit log refers to itself
                tx.batch("PRAGMA defer_foreign_keys=ON;")?;
            }
            // the new workspace's seeds give way to the source's rows
            tx.exec("DELETE FROM labels", params![])?;
            tx.exec("DELETE FROM meta WHERE key <> 'schema_version'", params![])?;
            for (table, key) in TABLES {
                let target_cols = columns(tx, table, to_pg)?;
                let source_cols = columns(source, table, from_pg)?;
                let cols: Vec<String> = target_cols.into_iter().filter(|c| source_cols.contains(c)).collect();
                let path_at = (*table == "documents").then(|| cols.iter().position(|c| c == "path")).flatten();
                let sha_at = cols.iter().position(|c| c == "sha256");
                let mut copied = 0u64;
                let mut after: Option<Vec<Value>> = None;
                loop {
                    let mut rows = chunk(source, table, &cols, key, after.as_deref(), CHUNK_ROWS)?;
                    let next = match rows.last() {
                        Some(last) if rows.len() as i64 == CHUNK_ROWS => Some(key_of(&cols, key, last)),
                        _ => None,
                    };
                    rows.retain(|r| keep_row(table, &cols, r));
                    if let (Some(p), Some(s)) = (path_at, sha_at) {
                        for row in &mut rows {
                            if let (Value::Text(path), Value::Text(sha)) = (&row[p], &row[s]) {
                                row[p] = Value::Text(doc_path(sha, path));
                            }
                        }
                    }
                    insert_rows(tx, table, &cols, &rows)?;
                    copied += rows.len() as u64;
                    match next {
                        Some(k) => after = Some(k),
                        None => break,
                    }
                }
                report.tables.push((table.to_string(), copied));
            }
            super::stats::sync_id_sequences(tx)?;
            let target_sum = checksum_of(tx, to_pg)?;
            if target_sum != source_sum {
                return Err(StoreError::Invalid(format!(
                    "the copy's content checksum {target_sum} differs from the source's {source_sum}; nothing was \
                     written"
                )));
            }
            Ok(())
        })?;
        report.checksum = source_sum;
        Ok(report)
    }
}

/// Inserts rows with multi-row statements (a round trip per few hundred rows, not per row).
fn insert_rows(tx: &super::db::Tx, table: &str, cols: &[String], rows: &[Vec<Value>]) -> DbResult<()> {
    if rows.is_empty() || cols.is_empty() {
        return Ok(());
    }
    let per = (900 / cols.len()).max(1);
    for part in rows.chunks(per) {
        let mut marks = Vec::with_capacity(part.len());
        let mut values = Vec::with_capacity(part.len() * cols.len());
        for (r, row) in part.iter().enumerate() {
            let ph: Vec<String> = (1..=cols.len()).map(|c| format!("?{}", r * cols.len() + c)).collect();
            marks.push(format!("({})", ph.join(", ")));
            values.extend(row.iter().map(Value::as_param));
        }
        tx.exec(&format!("INSERT INTO {table} ({}) VALUES {}", cols.join(", "), marks.join(", ")), &values)?;
    }
    Ok(())
}
