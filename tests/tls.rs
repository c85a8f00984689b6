//! TLS to a workspace server that refuses plain connections, with certificates made here by
//! `openssl` (a team's own authority, and a stranger's): each `sslmode` connects, or is
//! refused with one clear line, as libpq's would.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::pg::{self, PgServer, Tls};
use facture::store::{Store, StoreError, Workspace};

/// An authority (`NAME-ca.pem`) and, when `server` is set, a key and certificate it signed
/// for `localhost` only (`NAME-server.pem`, `NAME-server.key`).
fn authority(dir: &Path, name: &str, server: bool) -> PathBuf {
    let p = |f: &str| dir.join(format!("{name}-{f}")).to_string_lossy().into_owned();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).output().expect("openssl is installed (.ci/run installs it)");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let (ca_key, ca_pem, subject) = (p("ca.key"), p("ca.pem"), format!("/CN={name} authority"));
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend(["-keyout", &ca_key, "-out", &ca_pem, "-days", "2", "-subj", &subject]);
    args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
    openssl(&args);
    if server {
        let (key, csr, pem, ext) = (p("server.key"), p("server.csr"), p("server.pem"), p("ext"));
        let mut args = vec!["req", "-new"];
        args.extend(ec);
        args.extend(["-keyout", &key, "-out", &csr, "-subj", "/CN=localhost"]);
        openssl(&args);
        let extensions = "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
        std::fs::write(&ext, extensions).unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            &ext,
        ]);
    }
    PathBuf::from(ca_pem)
}

struct TlsSetup {
    server: PgServer,
    ca: PathBuf,
    stranger_ca: PathBuf,
    db: String,
    _dir: tempfile::TempDir,
}

fn setup() -> Option<TlsSetup> {
    let dir = tempfile::tempdir().unwrap();
    let ca = authority(dir.path(), "team", true);
    let stranger_ca = authority(dir.path(), "stranger", false);
    let cert = std::fs::read_to_string(dir.path().join("team-server.pem")).unwrap();
    let key = std::fs::read_to_string(dir.path().join("team-server.key")).unwrap();
    let server = PgServer::private_tls(Tls { cert_pem: &cert, key_pem: &key })?;
    let db = "tls_ws".to_string();
    server.admin().batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
    Some(TlsSetup { server, ca, stranger_ca, db, _dir: dir })
}

impl TlsSetup {
    fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://{}:{}@{host}:{}/{}{query}", pg::ADMIN, pg::ADMIN_PASSWORD, self.server.port, self.db)
    }

    fn connect(&self, host: &str, query: &str) -> Result<Store, StoreError> {
        Store::connect_verified(&Workspace::parse(&self.url(host, query)).unwrap())
    }
}

fn refused_certificate(r: Result<Store, StoreError>, what: &str) {
    match r {
        Err(e @ StoreError::CannotOpen { .. }) => {
            let said = e.to_string();
            assert!(said.contains("certificate"), "{what}: {said}");
            assert_eq!(said.lines().count(), 1, "{said}");
            assert!(!said.contains(pg::ADMIN_PASSWORD), "{said}");
        }
        other => panic!("{what}: expected the certificate refused, got {:?}", other.map(|_| "a connection")),
    }
}

#[test]
fn each_sslmode_connects_or_is_refused_as_libpq_would() {
    let Some(t) = setup() else { return };
    let ca = t.ca.to_str().unwrap();
    // the workspace is made over TLS, the authority checked
    let full = format!("?sslmode=verify-full&sslrootcert={ca}");
    let ws = Workspace::parse(&t.url("localhost", &full)).unwrap();
    let store = Store::create_at(&ws).unwrap();
    assert!(store.connection_is_encrypted().unwrap(), "verify-full is encrypted");
    drop(store);
    // what the workspace is shown and remembered as keeps its TLS settings, and connects again
    let shown = ws.to_string();
    assert!(shown.contains("sslmode=verify-full") && shown.contains("sslrootcert="), "{shown}");
    assert!(!shown.contains(pg::ADMIN_PASSWORD));
    let again = Workspace::parse(&shown).unwrap().with_password(pg::ADMIN_PASSWORD);
    assert_eq!(again, ws);
    assert!(Store::connect(&again).unwrap().connection_is_encrypted().unwrap());

    // require: encrypted, the certificate taken as it comes
    assert!(t.connect("127.0.0.1", "?sslmode=require").unwrap().connection_is_encrypted().unwrap());
    // prefer (the default): TLS because the server offers it
    assert!(t.connect("127.0.0.1", "").unwrap().connection_is_encrypted().unwrap());
    // verify-ca: the authority, whatever the name
    assert!(
        t.connect("127.0.0.1", &format!("?sslmode=verify-ca&sslrootcert={ca}"))
            .unwrap()
            .connection_is_encrypted()
            .unwrap()
    );

    // disable: this server refuses plain connections
    match t.connect("127.0.0.1", "?sslmode=disable") {
        Err(StoreError::Login { .. }) => {}
        other => panic!("a plain connection got through: {:?}", other.map(|_| "a connection")),
    }
    // verify-full to an address the certificate was not issued for
    refused_certificate(t.connect("127.0.0.1", &full), "verify-full by IP address");
    // a certificate from another authority
    let stranger = format!("?sslmode=verify-full&sslrootcert={}", t.stranger_ca.display());
    refused_certificate(t.connect("localhost", &stranger), "verify-full, another authority");
    refused_certificate(
        t.connect("localhost", &format!("?sslmode=verify-ca&sslrootcert={}", t.stranger_ca.display())),
        "verify-ca, another authority",
    );
    // checking without an authority to check against
    if !std::env::var_os("HOME").is_some_and(|h| Path::new(&h).join(".postgresql/root.crt").exists()) {
        match t.connect("localhost", "?sslmode=verify-full") {
            Err(e @ StoreError::CannotOpen { .. }) => assert!(e.to_string().contains("sslrootcert=PATH"), "{e}"),
            other => panic!("{:?}", other.map(|_| "a connection")),
        }
    }
    // a mode nobody knows
    assert!(matches!(Workspace::parse(&t.url("localhost", "?sslmode=sometimes")), Err(StoreError::Invalid(_))));
}

#[test]
fn the_command_line_speaks_tls_with_the_urls_own_settings() {
    let Some(t) = setup() else { return };
    let url = format!(
        "postgres://{}@localhost:{}/{}?sslmode=verify-full&sslrootcert={}",
        pg::ADMIN,
        t.server.port,
        t.db,
        t.ca.display()
    );
    let facture = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_facture")).args(args).env("PGPASSWORD", pg::ADMIN_PASSWORD).output().unwrap()
    };
    let out = facture(&["init", &url]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = facture(&["labels", &url, "list"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(listed.lines().filter(|l| l.contains('\t')).count(), 19, "{listed}");
    assert_eq!(listed.lines().last(), Some("schema version 0"));
    let wrong = url.replace(t.ca.to_str().unwrap(), t.stranger_ca.to_str().unwrap());
    let out = facture(&["labels", &wrong, "list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("certificate was not accepted"), "{err}");
}
