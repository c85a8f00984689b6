//! A server workspace given bad input: a wrong URL, host, password or database, a database
//! of another program, a newer schema, a server that goes away mid-command, an image whose
//! bytes no longer match their hash. Each is one line on stderr and a non-zero exit, and what
//! was committed stays committed.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn facture(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_facture"))
        .args(args)
        .env("FACTURE_CACHE_DIR", cache)
        .env_remove("PGPASSWORD")
        .output()
        .unwrap()
}

fn ok(args: &[&str], cache: &Path) -> String {
    let out = facture(args, cache);
    assert!(out.status.success(), "facture {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Fails unless the command failed with one line on stderr; returns that line.
fn one_line_error(args: &[&str], cache: &Path) -> String {
    let out = facture(args, cache);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "facture {args:?} should fail");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "facture {args:?}:\n{err}");
    assert!(!err.contains(common::pg::ADMIN_PASSWORD), "a password in a message: {err}");
    err
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn wrong_addresses_logins_and_databases_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let Some(server) = common::pg::server() else { return };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = one_line_error(&["docs", &format!("postgres://x@127.0.0.1:{closed}/db")], &cache);
    assert!(err.contains("connection to the workspace server failed"), "{err}");
    let err = one_line_error(&["docs", "postgres://x@no-such-host.invalid/db"], &cache);
    assert!(err.contains("connection to the workspace server failed"), "{err}");
    let err = one_line_error(&["docs", "postgres://x:hunter2@127.0.0.1:notaport/db"], &cache);
    assert!(err.contains("not a valid PostgreSQL URL") && !err.contains("hunter2"), "{err}");
    let wrong = format!("postgres://{}:wrong-password@127.0.0.1:{}/postgres", common::pg::ADMIN, server.port);
    let err = one_line_error(&["docs", &wrong], &cache);
    assert!(err.contains("refused the login") && !err.contains("wrong-password"), "{err}");
    let no_pw = server.url_without_password("postgres");
    let err = one_line_error(&["docs", &no_pw], &cache);
    assert!(err.contains("refused the login") || err.contains("password"), "{err}");
    let err = one_line_error(&["docs", &server.url("no_such_database")], &cache);
    assert!(err.contains("no such workspace"), "{err}");
    // the password may come from PGPASSWORD instead of the URL
    let url = server.create_database();
    ok(&["init", &url], &cache);
    let out = Command::new(env!("CARGO_BIN_EXE_facture"))
        .args(["users", &server.url_without_password(url.rsplit('/').next().unwrap()), "list"])
        .env("PGPASSWORD", common::pg::ADMIN_PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // init twice, and a database that is empty but never initialised
    let err = one_line_error(&["init", &url], &cache);
    assert!(err.contains("already holds a Facture workspace"), "{err}");
    let empty = server.create_database();
    let err = one_line_error(&["docs", &empty], &cache);
    assert!(err.contains("the database is empty") && err.contains("facture init"), "{err}");
}

#[test]
fn another_programs_database_and_a_newer_schema_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let Some(server) = common::pg::server() else { return };
    let foreign = server.create_database();
    let mut c = postgres::Client::connect(&foreign, postgres::NoTls).unwrap();
    c.batch_execute("CREATE TABLE orders (id INT PRIMARY KEY); INSERT INTO orders VALUES (1);").unwrap();
    for args in [vec!["init", &foreign], vec!["docs", &foreign]] {
        let err = one_line_error(&args, &cache);
        assert!(err.contains("another program's tables"), "{err}");
    }
    let tables: i64 =
        c.query_one("SELECT count(*) FROM information_schema.tables WHERE table_schema='public'", &[]).unwrap().get(0);
    assert_eq!(tables, 1, "nothing was created in another program's database");

    let url = server.create_database();
    ok(&["init", &url], &cache);
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute("UPDATE meta SET value='99' WHERE key='schema_version'").unwrap();
    let err = one_line_error(&["users", &url, "add", "zoe", "--role", "annotator"], &cache);
    assert!(err.contains("newer Facture") && err.contains("99"), "{err}");
    let users: i64 = c.query_one("SELECT count(*) FROM users", &[]).unwrap().get(0);
    assert_eq!(users, 0);
}

#[test]
fn an_image_whose_bytes_no_longer_match_is_refused_not_exported() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let Some(url) = common::pg::fresh_database() else { return };
    ok(&["synth", "--count", "1", "--out", s(&dir.path().join("synth"))], &cache);
    ok(&["init", &url], &cache);
    ok(&["import-gt", &url, s(&dir.path().join("synth"))], &cache);
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute("UPDATE images SET bytes = overlay(bytes placing '\\x00ff00'::bytea from 200)").unwrap();
    let out = dir.path().join("out");
    let err = one_line_error(&["export", &url, "--all", "--format", "coco", "--out", s(&out)], &cache);
    assert!(err.contains("does not match its hash"), "{err}");
    assert!(!out.exists(), "nothing written");
    assert!(!cache.exists() || std::fs::read_dir(&cache).unwrap().count() == 0, "a damaged image is never cached");
}

#[test]
fn a_server_that_goes_away_mid_import_fails_the_command_and_keeps_what_was_committed() {
    use facture::store::{Store, Workspace};
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let Some(server) = common::pg::PgServer::private(common::pg::Mode::Durable) else { return };
    let url = server.create_database();
    ok(&["init", &url], &cache);
    let scans = dir.path().join("scans");
    std::fs::create_dir_all(&scans).unwrap();
    for i in 0..120u32 {
        let img = image::RgbImage::from_fn(900, 700, |x, y| image::Rgb([(x ^ i) as u8, (y + i) as u8, (x * y) as u8]));
        img.save(scans.join(format!("p{i:03}.png"))).unwrap();
    }
    let child = Command::new(env!("CARGO_BIN_EXE_facture"))
        .args(["import", &url, s(&scans)])
        .env("FACTURE_CACHE_DIR", &cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ws = Workspace::parse(&url).unwrap();
    let t0 = std::time::Instant::now();
    loop {
        let n = Store::connect(&ws).map(|s| s.document_count().unwrap_or(0)).unwrap_or(0);
        if n >= 5 || t0.elapsed().as_secs() > 60 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    server.kill();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the import cannot have finished: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("connection") && err.contains("stays saved"), "{err}");
    server.restart();
    let store = Store::connect(&ws).unwrap();
    let docs = store.documents(&Default::default()).unwrap();
    assert!(docs.len() >= 5 && docs.len() < 120, "{} documents", docs.len());
    for d in &docs {
        assert!(store.has_image(&d.sha256).unwrap(), "document {} lost its image", d.id);
    }
    drop(store);
    let again = ok(&["import", &url, s(&scans)], &cache);
    assert!(again.contains(&format!("{} duplicate", docs.len())), "{again}");
    assert_eq!(Store::connect(&ws).unwrap().document_count().unwrap(), 120);
}
