//! A real PostgreSQL server for tests and benchmarks, started by the test process itself:
//! Debian's `postgresql` binaries, `initdb` into a temp dir as an unprivileged user, listening
//! on 127.0.0.1 on a free port, with password (SCRAM) logins. A watchdog stops it and removes
//! its files when the test process exits. Each caller gets a fresh database.
//!
//! Without PostgreSQL the tests that need it say so and pass, unless
//! `FACTURE_REQUIRE_POSTGRES=1` (CI), where they fail.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The superuser the server is created with, and its password.
pub const ADMIN: &str = "facture_admin";
pub const ADMIN_PASSWORD: &str = "admin-secret-1";

pub struct PgServer {
    pub port: u16,
    pub dir: PathBuf,
    bin: PathBuf,
    user: Option<String>,
    /// The server's options (`pg_ctl -o`), for a restart.
    opts: String,
}

/// A server certificate and key (PEM) to serve TLS with; plain connections are then refused.
pub struct Tls<'a> {
    pub cert_pem: &'a str,
    pub key_pem: &'a str,
}

/// How the server is tuned: tests trade durability for speed; benchmarks keep PostgreSQL's
/// durable defaults, so an edit is measured as an annotator waits for it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Fast,
    Durable,
}

static SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

fn required() -> bool {
    std::env::var("FACTURE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// The test process's server, started on first use (`None`, with a note, when PostgreSQL is
/// not installed and not required).
pub fn server() -> Option<&'static PgServer> {
    server_with(Mode::Fast)
}

pub fn server_with(mode: Mode) -> Option<&'static PgServer> {
    match SERVER.get_or_init(|| PgServer::start(mode)) {
        Ok(s) => Some(s),
        Err(e) if required() => panic!("FACTURE_REQUIRE_POSTGRES=1 but no PostgreSQL server could be started: {e}"),
        Err(e) => {
            eprintln!("note: skipping the PostgreSQL half of this test: {e}");
            None
        }
    }
}

/// A fresh, empty database on the test server, as a URL with the admin's password in it.
pub fn fresh_database() -> Option<String> {
    let s = server()?;
    Some(s.create_database())
}

fn find_bin() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("FACTURE_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .map_err(|_| "PostgreSQL is not installed (no /usr/lib/postgresql; apt-get install postgresql)".to_string())?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|v| v.1).ok_or_else(|| "no initdb under /usr/lib/postgresql/*/bin".into())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// `initdb` refuses to run as root: run the server as an unprivileged user then.
fn unprivileged_user() -> Option<String> {
    if !is_root() {
        return None;
    }
    for name in ["postgres", "nobody"] {
        if Command::new("id").arg(name).output().is_ok_and(|o| o.status.success()) {
            return Some(name.to_string());
        }
    }
    None
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // the shared server lives in a static and is never dropped: its watchdog stops it
        self.kill();
    }
}

impl PgServer {
    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bin.join(program);
        let mut cmd = match &self.user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = cmd.args(args).env("LC_ALL", "C.UTF-8").output().map_err(|e| format!("{program}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("{program} failed: {}", String::from_utf8_lossy(&out.stderr).trim()))
        }
    }

    fn start(mode: Mode) -> Result<PgServer, String> {
        Self::start_with(mode, None)
    }

    fn start_with(mode: Mode, tls: Option<Tls>) -> Result<PgServer, String> {
        let bin = find_bin()?;
        let user = unprivileged_user();
        let dir = tempfile::Builder::new().prefix("facture-pg-").tempdir().map_err(|e| e.to_string())?.keep();
        let mut server = PgServer { port: free_port()?, dir, bin, user, opts: String::new() };
        // the watchdog first, so the files go even if starting fails half-way
        server.watch();
        #[cfg(unix)]
        if let Some(u) = &server.user {
            let owner = Command::new("chown").args(["-R", u]).arg(&server.dir).status();
            if !owner.is_ok_and(|s| s.success()) {
                return Err(format!("cannot hand {} to {u}", server.dir.display()));
            }
        }
        let pwfile = server.dir.join("pw");
        std::fs::write(&pwfile, ADMIN_PASSWORD).map_err(|e| e.to_string())?;
        #[cfg(unix)]
        if let Some(u) = &server.user {
            let _ = Command::new("chown").arg(u).arg(&pwfile).status();
        }
        let data = server.dir.join("data");
        let (data_s, pw_s) = (data.to_string_lossy().into_owned(), pwfile.to_string_lossy().into_owned());
        server.run(
            "initdb",
            &[
                "-D",
                &data_s,
                "-U",
                ADMIN,
                "--pwfile",
                &pw_s,
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        let _ = std::fs::remove_file(&pwfile);
        let mut opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c max_connections=200",
            server.port,
            server.dir.display()
        );
        if mode == Mode::Fast {
            opts.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        if let Some(tls) = tls {
            server.serve_tls(&data, &tls)?;
            opts.push_str(" -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key");
        }
        server.opts = opts;
        let log = server.dir.join("log").to_string_lossy().into_owned();
        server.run("pg_ctl", &["-D", &data_s, "-o", &server.opts, "-l", &log, "-w", "-t", "60", "start"])?;
        Ok(server)
    }

    /// Puts the certificate and key in the data folder (the key readable by the server's user
    /// only, as PostgreSQL insists) and refuses every TCP connection without TLS.
    fn serve_tls(&self, data: &Path, tls: &Tls) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        let (cert, key) = (data.join("server.crt"), data.join("server.key"));
        std::fs::write(&cert, tls.cert_pem).map_err(|e| e.to_string())?;
        std::fs::write(&key, tls.key_pem).map_err(|e| e.to_string())?;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).map_err(|e| e.to_string())?;
        if let Some(u) = &self.user {
            let _ = Command::new("chown").arg(u).arg(&cert).arg(&key).status();
        }
        let hba = data.join("pg_hba.conf");
        let rules = std::fs::read_to_string(&hba).map_err(|e| e.to_string())?;
        let plain_refused = "hostnossl all all 0.0.0.0/0 reject\nhostnossl all all ::/0 reject\n";
        std::fs::write(&hba, format!("{plain_refused}{rules}")).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Stops the server and removes its files once this process has exited.
    fn watch(&self) {
        let pid = std::process::id();
        let data = self.dir.join("data");
        let stop = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {} {} -D '{}' -m immediate stop >/dev/null 2>&1; rm -rf '{}'",
            self.user.as_ref().map_or(String::new(), |u| format!("runuser -u {u} --")),
            self.bin.join("pg_ctl").display(),
            data.display(),
            self.dir.display()
        );
        let _ = Command::new("setsid")
            .args(["sh", "-c", &stop])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }

    /// A server of this test's own (not shared with other tests in the process): for tests
    /// that stop it. Stopped and removed on drop, or by the watchdog if the process dies.
    pub fn private(mode: Mode) -> Option<PgServer> {
        match PgServer::start(mode) {
            Ok(s) => Some(s),
            Err(e) if required() => panic!("FACTURE_REQUIRE_POSTGRES=1 but no PostgreSQL server could be started: {e}"),
            Err(e) => {
                eprintln!("note: skipping the PostgreSQL half of this test: {e}");
                None
            }
        }
    }

    /// A server of this test's own that speaks only TLS, with `tls`'s certificate.
    pub fn private_tls(tls: Tls) -> Option<PgServer> {
        match PgServer::start_with(Mode::Fast, Some(tls)) {
            Ok(s) => Some(s),
            Err(e) if required() => panic!("FACTURE_REQUIRE_POSTGRES=1 but no PostgreSQL server could be started: {e}"),
            Err(e) => {
                eprintln!("note: skipping the PostgreSQL half of this test: {e}");
                None
            }
        }
    }

    fn data_dir(&self) -> String {
        self.dir.join("data").to_string_lossy().into_owned()
    }

    /// Stops the server at once, as a crash or a pulled cable would (no clean shutdown).
    pub fn kill(&self) {
        let _ = self.run("pg_ctl", &["-D", &self.data_dir(), "-m", "immediate", "stop"]);
    }

    /// Starts it again after [`PgServer::kill`] (crash recovery runs first).
    pub fn restart(&self) {
        let log = self.dir.join("log").to_string_lossy().into_owned();
        self.run("pg_ctl", &["-D", &self.data_dir(), "-o", &self.opts, "-l", &log, "-w", "-t", "60", "start"])
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// The admin's URL for database `db`, password included.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{ADMIN}:{ADMIN_PASSWORD}@127.0.0.1:{}/{db}", self.port)
    }

    /// The same URL without the password (as a user types it; the password comes from
    /// PGPASSWORD or a prompt).
    pub fn url_without_password(&self, db: &str) -> String {
        format!("postgres://{ADMIN}@127.0.0.1:{}/{db}", self.port)
    }

    /// The admin's connection, through the server's Unix socket (so it works whatever the
    /// server asks of TCP connections, TLS included).
    pub fn admin(&self) -> postgres::Client {
        let local = format!("host={} port={} user={ADMIN} dbname=postgres", self.dir.display(), self.port);
        postgres::Client::connect(&local, postgres::NoTls).unwrap_or_else(|e| panic!("admin connection: {e}"))
    }

    /// A new empty database; returns its URL.
    pub fn create_database(&self) -> String {
        let name = format!("t{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::Relaxed));
        self.admin().batch_execute(&format!("CREATE DATABASE {name}")).unwrap_or_else(|e| panic!("{e}"));
        self.url(&name)
    }

    /// A login role with a password (for tests of other people's logins).
    pub fn create_role(&self, name: &str, password: &str) {
        self.admin()
            .batch_execute(&format!("CREATE ROLE {name} LOGIN PASSWORD '{password}'"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
