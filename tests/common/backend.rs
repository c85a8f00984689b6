//! One test, both backends: [`on_each_backend!`] turns each listed `fn name(b: &Backend)` into
//! two tests, `sqlite::name` (a workspace file in a temp dir) and `postgres::name` (a fresh
//! database on the test process's own server, see `pg.rs`). Without PostgreSQL the second
//! half is skipped and says so on the terminal (not in captured output).
#![allow(dead_code)]

use std::cell::Cell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Once, OnceLock};

use facture::store::{Store, Workspace};

use super::pg;

/// The advisory lock every writer of a server workspace takes first (the key `db.rs` uses).
pub const PG_WRITE_LOCK: i64 = 0x0046_6163_7475_7265;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
}

/// One test's backend: where its workspaces go, and a temp dir for its other files (images,
/// exports), which both backends need.
pub struct Backend {
    kind: Kind,
    dir: tempfile::TempDir,
    files: Cell<usize>,
}

/// Makes `sqlite::NAME` and `postgres::NAME` tests of each `fn NAME(b: &Backend)`.
#[allow(unused_macros)] // not every test binary that shares `common` uses it
macro_rules! on_each_backend {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name(&$crate::common::backend::Backend::sqlite())
                }
            )+
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(b) = $crate::common::backend::Backend::postgres() {
                        super::$name(&b)
                    }
                }
            )+
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_each_backend;

impl Backend {
    pub fn sqlite() -> Backend {
        Backend { kind: Kind::Sqlite, dir: tempfile::tempdir().unwrap(), files: Cell::new(0) }
    }

    /// The PostgreSQL backend, or `None` (with a note on the terminal) when there is no server;
    /// with `FACTURE_REQUIRE_POSTGRES=1` a missing server fails the test instead.
    pub fn postgres() -> Option<Backend> {
        let Some(server) = pg::server() else {
            let test = std::thread::current().name().unwrap_or("a test").to_string();
            // straight to the terminal: libtest captures eprintln! of tests that pass
            let _ = writeln!(
                std::io::stderr(),
                "note: skipped {test}: no PostgreSQL server (FACTURE_REQUIRE_POSTGRES=1 makes this a failure, \
                 --nocapture shows why)"
            );
            return None;
        };
        static CACHE: Once = Once::new();
        CACHE.call_once(|| {
            // Server workspaces read their page images through a cache: keep it inside the
            // server's folder, which goes when the test process ends, never the user's.
            let cache = server.dir.join("image-cache");
            std::fs::create_dir_all(&cache).unwrap();
            // SAFETY: the tests running meanwhile read the environment through std, which locks
            // it against this write (and glibc never frees an environment it replaces).
            unsafe { std::env::set_var("FACTURE_CACHE_DIR", &cache) };
        });
        Some(Backend { kind: Kind::Postgres, dir: tempfile::tempdir().unwrap(), files: Cell::new(0) })
    }

    pub fn is_postgres(&self) -> bool {
        self.kind == Kind::Postgres
    }

    /// For assertion messages.
    pub fn name(&self) -> &'static str {
        match self.kind {
            Kind::Sqlite => "SQLite",
            Kind::Postgres => "PostgreSQL",
        }
    }

    /// The test's own folder, on either backend.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Where server workspaces of this process cache their images (`None` on SQLite).
    pub fn cache_dir(&self) -> Option<PathBuf> {
        std::env::var_os("FACTURE_CACHE_DIR").filter(|_| self.is_postgres()).map(PathBuf::from)
    }

    /// A new workspace address, not created yet: a file that does not exist, or a new empty
    /// database (its URL carries the password).
    pub fn fresh(&self) -> Workspace {
        match self.kind {
            Kind::Sqlite => {
                let n = self.files.get();
                self.files.set(n + 1);
                Workspace::File(self.dir().join(format!("ws{n}.sqlite")))
            }
            Kind::Postgres => {
                let url = pg::fresh_database().expect("the server was there a moment ago");
                Workspace::parse(&url).unwrap()
            }
        }
    }

    /// A new, empty workspace, created.
    pub fn create(&self) -> (Workspace, Store) {
        let ws = self.fresh();
        let store = Store::create_at(&ws).unwrap_or_else(|e| panic!("{}: {e}", self.name()));
        (ws, store)
    }

    /// What a spawned `facture` needs in its environment: the test server's password (a
    /// workspace's `Display`, as typed on a command line, has none), and an image cache that is
    /// not the user's.
    pub fn cli_env(&self) -> Vec<(&'static str, String)> {
        let cache = self.cache_dir().unwrap_or_else(|| self.dir().join("image-cache"));
        let mut env = vec![("FACTURE_CACHE_DIR", cache.to_string_lossy().into_owned())];
        if self.is_postgres() {
            env.push(("PGPASSWORD", pg::ADMIN_PASSWORD.to_string()));
        }
        env
    }
}

/// A connection of the test's own to a server workspace's database, as the admin (to do
/// behind the store's back what another program or another workstation would).
pub fn admin_client(ws: &Workspace) -> postgres::Client {
    let db = ws.to_string().rsplit('/').next().unwrap().to_string();
    let server = pg::server().expect("a server workspace without a server");
    postgres::Client::connect(&server.url(&db), postgres::NoTls).unwrap()
}

/// A folder shared by the tests of this process (for inputs that are slow to make and only
/// read), removed once the process has ended.
pub fn shared_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new().prefix("facture-tests-").tempdir().unwrap().keep();
        // as pg.rs does for the server: a watcher outlives the process and tidies up after it
        let watch =
            format!("while kill -0 {} 2>/dev/null; do sleep 0.5; done; rm -rf '{}'", std::process::id(), dir.display());
        let _ = std::process::Command::new("setsid")
            .args(["sh", "-c", &watch])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        dir
    })
}
