//! Where a workspace lives: a SQLite file, or a database on a PostgreSQL server named by a
//! libpq-style URL (`postgres://USER@HOST:PORT/DBNAME?sslmode=…`). The password is never part
//! of how a workspace is shown, compared or remembered: it comes from the URL (kept in memory
//! only), `PGPASSWORD`, `~/.pgpass` or a prompt.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::StoreError;
use super::tls::TlsMode;

/// A workspace's address. `Display` and [`Workspace::key`] never include a password.
#[derive(Clone)]
pub enum Workspace {
    File(PathBuf),
    /// Boxed: an address with its driver configuration is much larger than a path.
    Postgres(Box<PgAddress>),
}

/// A PostgreSQL database and how to log in to it.
#[derive(Clone)]
pub struct PgAddress {
    config: postgres::Config,
    shown: String,
    /// libpq's `sslmode` (the driver's own knows three of its five).
    pub(crate) tls: TlsMode,
    /// libpq's `sslrootcert`: the authorities to check the server's certificate against.
    pub(crate) root_cert: Option<String>,
}

impl PartialEq for Workspace {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Workspace {}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the password, not even in a debug print
        write!(f, "Workspace({self})")
    }
}

impl std::fmt::Display for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Workspace::File(p) => write!(f, "{}", p.display()),
            Workspace::Postgres(pg) => f.write_str(&pg.shown),
        }
    }
}

/// Whether a workspace argument names a server rather than a file.
pub fn is_server_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

impl std::str::FromStr for Workspace {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        Workspace::parse(s)
    }
}

impl From<PathBuf> for Workspace {
    fn from(p: PathBuf) -> Self {
        Workspace::File(p)
    }
}

impl From<&PathBuf> for Workspace {
    fn from(p: &PathBuf) -> Self {
        Workspace::File(p.clone())
    }
}

impl From<&Path> for Workspace {
    fn from(p: &Path) -> Self {
        Workspace::File(p.to_path_buf())
    }
}

impl Workspace {
    /// A file path, or a `postgres://` / `postgresql://` URL.
    pub fn parse(s: &str) -> Result<Workspace, StoreError> {
        if !is_server_url(s) {
            return Ok(Workspace::File(PathBuf::from(s)));
        }
        let (rest, sslmode, root_cert) = take_tls_params(s);
        let sslmode = sslmode.or_else(|| std::env::var("PGSSLMODE").ok());
        let tls = match sslmode.as_deref() {
            None => TlsMode::default(),
            Some(m) => TlsMode::parse(m).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "{}: unknown sslmode '{m}' (disable, prefer, require, verify-ca or verify-full)",
                    redact(s)
                ))
            })?,
        };
        let mut config: postgres::Config = rest.parse().map_err(|e: postgres::Error| {
            StoreError::Invalid(format!(
                "{}: not a valid PostgreSQL URL ({e}); expected postgres://USER@HOST:PORT/DBNAME",
                redact(s)
            ))
        })?;
        let user = config
            .get_user()
            .map(str::to_string)
            .or_else(|| std::env::var("PGUSER").ok())
            .or_else(|| std::env::var("USER").ok());
        let Some(user) = user else {
            return Err(StoreError::Invalid(format!(
                "{}: the URL names no user (postgres://USER@HOST/DBNAME)",
                redact(s)
            )));
        };
        config.user(&user);
        let Some(db) = config.get_dbname().map(str::to_string) else {
            return Err(StoreError::Invalid(format!(
                "{}: the URL names no database (postgres://USER@HOST/DBNAME)",
                redact(s)
            )));
        };
        if config.get_hosts().is_empty() {
            config.host("localhost");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("facture");
        config.ssl_mode(tls.driver_mode());
        let mut address = PgAddress { config, shown: String::new(), tls, root_cert };
        address.shown = address.show(&user, &db);
        Ok(Workspace::Postgres(Box::new(address)))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Workspace::Postgres(_))
    }

    /// The file, for a SQLite workspace.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Workspace::File(p) => Some(p),
            Workspace::Postgres(_) => None,
        }
    }

    /// What identifies the workspace across runs (recent list, per-workspace settings): the
    /// canonical file path, or the URL without its password.
    pub fn key(&self) -> String {
        match self {
            Workspace::File(p) => std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()).to_string_lossy().into_owned(),
            Workspace::Postgres(pg) => pg.shown.clone(),
        }
    }

    /// Whether a password is still to be found for this server (none in the URL, `PGPASSWORD`
    /// or `~/.pgpass`): the window then asks for one.
    pub fn needs_password(&self) -> bool {
        match self {
            Workspace::File(_) => false,
            Workspace::Postgres(pg) => pg.config.get_password().is_none() && pg.lookup_password().is_none(),
        }
    }

    /// The same workspace with this password (kept in memory only).
    pub fn with_password(mut self, password: &str) -> Workspace {
        if let Workspace::Postgres(pg) = &mut self {
            pg.config.password(password);
        }
        self
    }

    /// The same workspace as the user `user` logs in.
    pub fn as_user(mut self, user: &str) -> Workspace {
        if let Workspace::Postgres(pg) = &mut self {
            pg.config.user(user);
            let db = pg.config.get_dbname().unwrap_or_default().to_string();
            pg.shown = pg.show(user, &db);
        }
        self
    }

    /// The login name on a server.
    pub fn user(&self) -> Option<&str> {
        match self {
            Workspace::File(_) => None,
            Workspace::Postgres(pg) => pg.config.get_user(),
        }
    }
}

impl PgAddress {
    /// The driver's configuration with the password filled in from `PGPASSWORD` or
    /// `~/.pgpass` when the URL has none.
    pub(crate) fn config(&self) -> postgres::Config {
        let mut config = self.config.clone();
        if config.get_password().is_none()
            && let Some(pw) = self.lookup_password()
        {
            config.password(pw);
        }
        config
    }

    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    fn lookup_password(&self) -> Option<String> {
        if let Ok(pw) = std::env::var("PGPASSWORD") {
            return Some(pw);
        }
        let file = std::env::var_os("PGPASSFILE")
            .map(PathBuf::from)
            .or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().join(".pgpass")))?;
        let text = std::fs::read_to_string(file).ok()?;
        let host = match self.config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432).to_string();
        let db = self.config.get_dbname().unwrap_or_default();
        let user = self.config.get_user().unwrap_or_default();
        pgpass_lookup(&text, &host, &port, db, user)
    }
}

impl PgAddress {
    /// `postgres://user@host:port/db`, with the TLS parameters that are not the defaults: what
    /// the workspace is shown as, remembered as, and parsed back from.
    fn show(&self, user: &str, db: &str) -> String {
        let host = match self.config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        };
        let port = self.config.get_ports().first().map(|p| format!(":{p}")).unwrap_or_default();
        let mut query = Vec::new();
        if self.tls != TlsMode::Prefer {
            query.push(format!("sslmode={}", self.tls.as_str()));
        }
        if let Some(root) = &self.root_cert {
            query.push(format!("sslrootcert={}", percent_encode(root)));
        }
        let query = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
        format!("postgres://{user}@{host}{port}/{db}{query}")
    }
}

/// Takes `sslmode` and `sslrootcert` out of a URL's query (decoded), leaving the rest for the
/// driver, whose own parser knows neither `verify-ca`/`verify-full` nor `sslrootcert`.
fn take_tls_params(url: &str) -> (String, Option<String>, Option<String>) {
    let Some((base, query)) = url.split_once('?') else { return (url.to_string(), None, None) };
    let (mut mode, mut root, mut kept) = (None, None, Vec::new());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", v)) => mode = Some(percent_decode(v)),
            Some(("sslrootcert", v)) => root = Some(percent_decode(v)),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
    (rest, mode, root)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URL with any password replaced, for messages about a URL that did not parse.
fn redact(s: &str) -> String {
    let Some((scheme, rest)) = s.split_once("://") else { return s.to_string() };
    match rest.split_once('@') {
        Some((userinfo, after)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{after}")
        }
        None => s.to_string(),
    }
}

/// The password a `~/.pgpass` file gives for a login: the first line whose fields
/// (`host:port:database:user:password`, `*` matching anything, `\:` and `\\` escaped) match.
pub fn pgpass_lookup(text: &str, host: &str, port: &str, db: &str, user: &str) -> Option<String> {
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let mut fields = Vec::new();
        let mut cur = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                }
                ':' if fields.len() < 4 => fields.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        fields.push(cur);
        let [h, p, d, u, pw] = fields.as_slice() else { continue };
        let ok = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        if ok(h, host) && ok(p, port) && ok(d, db) && ok(u, user) {
            return Some(pw.clone());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_and_remembered_without_their_password() {
        let w = Workspace::parse("postgres://lea:s3cret@db.local:5433/invoices?sslmode=disable").unwrap();
        assert!(w.is_postgres());
        assert_eq!(w.to_string(), "postgres://lea@db.local:5433/invoices?sslmode=disable");
        assert_eq!(w.key(), w.to_string());
        assert!(!format!("{w:?}").contains("s3cret"));
        assert!(!w.needs_password());
        let plain = Workspace::parse("postgresql://lea@db.local/invoices").unwrap();
        assert_eq!(plain.to_string(), "postgres://lea@db.local:5432/invoices");
        assert_eq!(Workspace::parse("ws.sqlite").unwrap(), Workspace::File("ws.sqlite".into()));
        assert!(Workspace::parse("postgres://lea@db.local/").is_err(), "no database");
        let bad = Workspace::parse("postgres://lea:pw@db.local:notaport/x").unwrap_err().to_string();
        assert!(!bad.contains(":pw@"), "{bad}");
    }

    #[test]
    fn pgpass_lines_match_with_wildcards_and_escapes() {
        let text = "# comment\nother:5432:*:lea:nope\ndb.local:*:invoices:lea:pa\\:ss\\\\x\n*:*:*:*:fallback\n";
        assert_eq!(pgpass_lookup(text, "db.local", "5433", "invoices", "lea").as_deref(), Some("pa:ss\\x"));
        assert_eq!(pgpass_lookup(text, "elsewhere", "1", "a", "b").as_deref(), Some("fallback"));
        assert_eq!(pgpass_lookup("h:1:d:u:p", "h", "2", "d", "u"), None);
    }
}
