//! A server workspace's team: members who sign in as themselves. Each member may have a
//! PostgreSQL login role; a group role per workspace carries the table privileges, and the
//! schema's triggers (migration 2) hold every session to its member's rules. A session whose
//! login is no member's but owns the workspace (its creator, or a superuser) is
//! administrative: it may act for anyone, as a workspace file's user may.

use super::db::{DbError, Sql, Tx, params};
use super::rows;
use super::{Result, Store, StoreError};
use crate::domain::{Role, User, UserId};

/// PostgreSQL truncates longer role names; a login name must fit.
const MAX_LOGIN_BYTES: usize = 63;

/// What adding a member with a login did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberLogin {
    pub user: User,
    /// The login role was made now (false: the server already had a login of that name, whose
    /// password was left as it is).
    pub created_login: bool,
}

/// `"name"` as an SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'` as an SQL string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The grants a workspace's group role holds, renewed after every migration: read and write
/// the work tables, append to the edit log (never rewrite it), delete no document or image.
fn team_grants(team: &str) -> String {
    let t = ident(team);
    format!(
        "DO $$ BEGIN
             EXECUTE format('GRANT CONNECT ON DATABASE %I TO {t}', current_database());
             -- only the team (and the owner) may connect at all
             EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', current_database());
         EXCEPTION WHEN insufficient_privilege THEN NULL; -- not the database's owner: its CONNECT stays as it is
         END $$;
         DO $$ BEGIN
             EXECUTE format('GRANT USAGE ON SCHEMA %I TO {t}', current_schema());
             EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO {t}', current_schema());
             EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO {t}', current_schema());
         END $$;
         REVOKE UPDATE, DELETE, TRUNCATE ON edits FROM {t};
         REVOKE DELETE, TRUNCATE ON documents, images FROM {t};"
    )
}

/// The workspace's group role: `facture_team_<database oid>` (unique on its server).
fn team_role(tx: &impl Sql) -> Result<String, DbError> {
    tx.row("SELECT 'facture_team_' || oid::text FROM pg_database WHERE datname = current_database()", params![], |r| {
        r.text(0)
    })
}

fn role_exists(tx: &impl Sql, name: &str) -> Result<bool, DbError> {
    Ok(tx.int("SELECT count(*) FROM pg_roles WHERE rolname = ?1", params![name])? > 0)
}

/// Renews the group role's grants if the workspace has one (after a migration added tables).
pub(super) fn renew_team_grants(tx: &Tx) -> Result<(), DbError> {
    let team = team_role(tx)?;
    if role_exists(tx, &team)? {
        tx.batch(&team_grants(&team))?;
    }
    Ok(())
}

fn check_login_name(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().any(|c| c == '\0' || c.is_control()) {
        return Err(StoreError::Invalid("a login needs a name without control characters".into()));
    }
    if name.len() > MAX_LOGIN_BYTES {
        return Err(StoreError::Invalid(format!(
            "a login name has at most {MAX_LOGIN_BYTES} bytes; '{name}' is longer"
        )));
    }
    if name.starts_with("pg_") || name.starts_with("facture_team_") {
        return Err(StoreError::Invalid(format!("'{name}' is reserved on the server; choose another name")));
    }
    Ok(())
}

impl Store {
    /// The member this session is signed in as: on a server, the member whose login the
    /// session uses. `None` for a workspace file, and for the owner's administrative sessions.
    pub fn signed_in_member(&self) -> Result<Option<User>> {
        if !self.is_postgres() {
            return Ok(None);
        }
        Ok(self.conn.row_opt("SELECT id, name, role FROM users WHERE login = current_user", params![], rows::user)?)
    }

    /// Whether this session may act for any member: a workspace file (its rules are the
    /// library's), or the owner of a server workspace signed in under no member's login.
    pub fn acts_for_anyone(&self) -> Result<bool> {
        if !self.is_postgres() {
            return Ok(true);
        }
        Ok(self.conn.row("SELECT facture_role() IS NOT DISTINCT FROM 'owner'", params![], |r| r.bool(0))?)
    }

    /// The members who can sign in as themselves, with their login names.
    pub fn member_logins(&self) -> Result<Vec<(UserId, String)>> {
        if !self.is_postgres() {
            return Ok(Vec::new());
        }
        Ok(self.conn.rows("SELECT id, login FROM users WHERE login IS NOT NULL ORDER BY id", params![], |r| {
            Ok((UserId(r.i64(0)?), r.text(1)?))
        })?)
    }

    /// Adds a member who signs in as themselves: a login role named `name` with `password`
    /// (sent to the server only as a SCRAM verifier, never in clear), in the workspace's group
    /// role, and the member's row. A member of that name without a login gets this one; a
    /// login the server already has (another workspace's member) keeps its password. Needs a
    /// session allowed to create roles (`CREATEROLE`), as a lead or the workspace's owner.
    pub fn add_member_login(&mut self, name: &str, role: Role, password: &str) -> Result<MemberLogin> {
        if !self.is_postgres() {
            return Err(StoreError::Invalid(
                "logins are for workspaces on a server; a workspace file's users sign in with a passphrase".into(),
            ));
        }
        let name = name.trim();
        check_login_name(name)?;
        if password.is_empty() {
            return Err(StoreError::Invalid(format!("{name} needs a password")));
        }
        let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
        let now = super::queries::now_ms();
        self.conn
            .write(|tx| -> Result<MemberLogin> {
                let team = team_role(tx)?;
                if !role_exists(tx, &team)? {
                    tx.batch(&format!(
                        "DO $$ BEGIN CREATE ROLE {} NOLOGIN;
                         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
                        ident(&team)
                    ))?;
                }
                tx.batch(&team_grants(&team))?;
                let created_login = !role_exists(tx, name)?;
                if created_login {
                    tx.batch(&format!(
                        "DO $$ BEGIN CREATE ROLE {} LOGIN PASSWORD {};
                         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
                        ident(name),
                        literal(&verifier)
                    ))?;
                } else {
                    let (is_team, can_log_in) = tx.row(
                        "SELECT rolname LIKE 'facture\\_team\\_%', rolcanlogin FROM pg_roles WHERE rolname = ?1",
                        params![name],
                        |r| Ok((r.bool(0)?, r.bool(1)?)),
                    )?;
                    if is_team || !can_log_in {
                        return Err(StoreError::Invalid(format!(
                            "'{name}' is a role on the server that cannot sign in; choose another name"
                        )));
                    }
                }
                tx.batch(&format!("GRANT {} TO {}", ident(&team), ident(name)))?;
                let existing = tx.row_opt(
                    "SELECT id, name, role, login FROM users WHERE name = ?1 OR login = ?1",
                    params![name],
                    |r| Ok((rows::user(r)?, r.opt_text(3)?)),
                )?;
                let user = match existing {
                    Some((_, Some(_))) => {
                        return Err(StoreError::Invalid(format!("{name} is a member with a login already")));
                    }
                    Some((u, None)) => {
                        tx.exec(
                            "UPDATE users SET login = ?2, role = ?3 WHERE id = ?1",
                            params![u.id.0, name, role.as_str()],
                        )?;
                        User { role, ..u }
                    }
                    None => {
                        let id = tx.int(
                            "INSERT INTO users (name, role, created_ms, login) VALUES (?1, ?2, ?3, ?1) RETURNING id",
                            params![name, role.as_str(), now],
                        )?;
                        User { id: UserId(id), name: name.to_string(), role }
                    }
                };
                Ok(MemberLogin { user, created_login })
            })
            .map_err(|e| match e {
                StoreError::Forbidden(detail) if detail.contains("create role") || detail.contains("CREATEROLE") => {
                    StoreError::Forbidden(format!(
                        "{detail} (adding a login needs a server role with CREATEROLE; ask the server's administrator)"
                    ))
                }
                other => other,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_texts_are_quoted_for_sql() {
        assert_eq!(ident("ann"), "\"ann\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's"), "'it''s'");
    }

    #[test]
    fn login_names_the_server_would_mangle_or_reserves_are_refused() {
        assert!(check_login_name("ann").is_ok());
        assert!(check_login_name("Anna Schmidt").is_ok());
        assert!(check_login_name("").is_err());
        assert!(check_login_name("a\nb").is_err());
        assert!(check_login_name(&"x".repeat(64)).is_err());
        assert!(check_login_name("pg_monitor").is_err());
        assert!(check_login_name("facture_team_1").is_err());
    }
}
