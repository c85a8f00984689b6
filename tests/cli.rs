//! The built binary end to end, on a workspace file and on a server (`postgres://` URL, the
//! password from `PGPASSWORD` or the URL): synth → init → import → import-gt → export, bad
//! input, a crash (SIGKILL) in the middle of a stream of edits, and every reading command
//! printing the same for the same workspace on either backend.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

use common::backend::{Backend, on_each_backend};
use facture::domain::Change;
use facture::formats::gt::GroundTruth;
use facture::store::{Store, Workspace};

on_each_backend!(
    synth_import_gt_export_round_trip_is_exact,
    bad_input_fails_with_one_line_and_nonzero_exit,
    users_and_labels_commands,
    edits_acknowledged_before_sigkill_are_all_there,
    review_list_and_show,
    dataset_export_versions_and_import_through_the_binary,
    objectives_are_set_by_leads_only_and_show_in_stats,
);

/// `facture ARGS` with the backend's environment (the server's password in `PGPASSWORD`, an
/// image cache of the test's own).
fn facture(b: &Backend, args: &[&str]) -> Output {
    run(&mut facture_cmd(b, args))
}

/// The same as a command to adjust first.
fn facture_cmd(b: &Backend, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_facture"));
    cmd.args(args).envs(b.cli_env());
    cmd
}

/// Runs a prepared command; no password ever shows in what it prints.
fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!printed.contains(common::pg::ADMIN_PASSWORD), "the password was printed: {printed}");
    out
}

fn ok(b: &Backend, args: &[&str]) -> String {
    let out = facture(b, args);
    assert!(out.status.success(), "{}: facture {args:?} failed: {}", b.name(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `facture users WS add NAME --role ROLE`, the new login's password piped in (a server
/// workspace makes one; a workspace file ignores it).
fn add_user(b: &Backend, ws: &str, name: &str, role: &str) {
    let mut cmd = facture_cmd(b, &["users", ws, "add", name, "--role", role]);
    let out = common::output_with_stdin(&mut cmd, &format!("pw-{name}-cli\n"));
    assert!(out.status.success(), "{}: users add {name} failed: {}", b.name(), String::from_utf8_lossy(&out.stderr));
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `facture synth --count N --seed S`, rendered once per test process (the slowest step of
/// these tests) and then only read, by both halves.
fn synth(b: &Backend, count: u32, seed: u64) -> PathBuf {
    static MADE: Mutex<BTreeSet<(u32, u64)>> = Mutex::new(BTreeSet::new());
    let dir = common::backend::shared_dir().join(format!("synth-{count}-{seed}"));
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    if !made.contains(&(count, seed)) {
        let _ = std::fs::remove_dir_all(&dir); // what a failed attempt left
        let out = ok(b, &["synth", "--count", &count.to_string(), "--out", s(&dir), "--seed", &seed.to_string()]);
        assert!(out.contains(&format!("wrote {count} invoice(s)")), "{out}");
        made.insert((count, seed));
    }
    dir
}

/// A new workspace address (not created): for the command line as a user types it (a URL
/// without the password), and for this process's own connections.
fn fresh(b: &Backend) -> (String, Workspace) {
    let ws = b.fresh();
    (ws.to_string(), ws)
}

fn synth_import_gt_export_round_trip_is_exact(b: &Backend) {
    let (arg, _) = fresh(b);
    let out = b.dir().join("out");
    let synth = synth(b, 5, 7);
    ok(b, &["init", &arg]);
    let imported = ok(b, &["import", &arg, s(&synth)]);
    assert!(imported.contains("5 page(s) added"), "{imported}");
    let loaded = ok(b, &["import-gt", &arg, s(&synth)]);
    assert!(loaded.contains("on 5 document(s)"), "{loaded}");
    // Nothing is accepted yet, so a default export writes nothing and says how to get everything.
    let none = facture(b, &["export", &arg, "--format", "facture-json", "--out", s(&out)]);
    assert!(String::from_utf8_lossy(&none.stderr).contains("--all"));
    ok(b, &["export", &arg, "--format", "facture-json", "--out", s(&out), "--all"]);

    let mut compared = 0;
    for entry in std::fs::read_dir(&synth).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "json") {
            let want = GroundTruth::load(&p).unwrap();
            let got = GroundTruth::load(&out.join(p.file_name().unwrap())).unwrap();
            assert_eq!(got, want, "{}", p.display());
            assert!(!want.boxes.is_empty());
            compared += 1;
        } else if p.extension().is_some_and(|e| e == "jpg") {
            // the exported image is the imported one, byte for byte (from the server's copy,
            // through the command's image cache, on a server workspace)
            let exported = std::fs::read(out.join(p.file_name().unwrap())).unwrap();
            assert!(exported == std::fs::read(&p).unwrap(), "{}: {} changed", b.name(), p.display());
            if let Some(cache) = b.cache_dir() {
                let sha = facture::imageio::sha256_hex(&exported);
                assert!(cache.join(&sha[..2]).join(&sha).is_file(), "{} was not read through the cache", p.display());
            }
        }
    }
    assert_eq!(compared, 5);
    // Importing the same folder again adds nothing.
    let again = ok(b, &["import", &arg, s(&synth)]);
    assert!(again.contains("0 page(s) added, 5 duplicate"), "{again}");
}

fn bad_input_fails_with_one_line_and_nonzero_exit(b: &Backend) {
    let (arg, _) = fresh(b);
    // a workspace that cannot be created: in a folder that is not there, a database that is not
    let nowhere = if b.is_postgres() {
        format!("{}/no_such_database", arg.rsplit_once('/').unwrap().0)
    } else {
        s(&b.dir().join("no/such/dir/ws.sqlite")).to_string()
    };
    let cases: Vec<Vec<&str>> = vec![
        vec!["import", &arg, s(b.dir())], // workspace missing (no file; an empty database)
        vec!["users", &arg, "list"],
        vec!["init", &nowhere],
    ];
    for args in cases {
        let out = facture(b, &args);
        assert!(!out.status.success(), "{}: {args:?} should fail", b.name());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("facture: "), "{err}");
    }
    ok(b, &["init", &arg]);
    let out = facture(b, &["users", &arg, "add", "zoe", "--role", "boss"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role 'boss'"));
    let out = facture(b, &["init", &arg]);
    assert!(!out.status.success());
    let already = if b.is_postgres() { "already holds a Facture workspace" } else { "already exists" };
    assert!(String::from_utf8_lossy(&out.stderr).contains(already), "{}", String::from_utf8_lossy(&out.stderr));
    // Non-images are reported by name; with nothing importable the command fails.
    let junk = b.dir().join("notes.png");
    std::fs::write(&junk, "not a picture").unwrap();
    let out = facture(b, &["import", &arg, s(&junk)]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("notes.png"));
    if b.is_postgres() {
        // A login the server refuses: a wrong password, or none at all (nothing to prompt on).
        let no_pgpass = b.dir().join("no-pgpass");
        let wrong = run(facture_cmd(b, &["users", &arg, "list"]).env("PGPASSWORD", "not-the-password"));
        let none = run(facture_cmd(b, &["users", &arg, "list"]).env_remove("PGPASSWORD").env("PGPASSFILE", &no_pgpass));
        for out in [wrong, none] {
            assert!(!out.status.success());
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(err.trim_end().lines().count(), 1, "{err}");
            assert!(err.starts_with(&format!("facture: {arg}: the server refused the login")), "{err}");
            assert!(!err.contains("not-the-password"), "{err}");
        }
    }
}

fn users_and_labels_commands(b: &Backend) {
    let (arg, _) = fresh(b);
    ok(b, &["init", &arg]);
    add_user(b, &arg, "alice", "annotator");
    add_user(b, &arg, "lea", "lead");
    let users = ok(b, &["users", &arg, "list"]);
    assert!(users.contains("alice\tannotator") && users.contains("lea\tlead"), "{users}");
    let labels = ok(b, &["labels", &arg, "list"]);
    assert_eq!(labels.lines().filter(|l| l.contains('\t')).count(), 19);
    assert_eq!(labels.lines().last(), Some("schema version 0"));
    assert!(labels.contains("total_amount"));
    if b.is_postgres() {
        // the password may also come in the URL itself (and is still never printed)
        let with_password = arg.replacen(
            &format!("{}@", common::pg::ADMIN),
            &format!("{}:{}@", common::pg::ADMIN, common::pg::ADMIN_PASSWORD),
            1,
        );
        let out = run(facture_cmd(b, &["users", &with_password, "list"]).env_remove("PGPASSWORD"));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), users);
    }
}

fn edits_acknowledged_before_sigkill_are_all_there(b: &Backend) {
    let (arg, ws) = fresh(b);
    let img = b.dir().join("page.png");
    image::RgbImage::from_pixel(900, 1200, image::Rgb([250, 250, 250])).save(&img).unwrap();
    ok(b, &["init", &arg]);
    add_user(b, &arg, "alice", "annotator");
    ok(b, &["import", &arg, s(&img)]);

    let mut child = facture_cmd(b, &["script-edits", &arg, "--doc", "1", "--count", "1000000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = Vec::new();
    for line in lines.by_ref() {
        acked.push(line.unwrap());
        if acked.len() == 120 {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix: no destructors, no flush.
    // Acks already written to the pipe before the kill count too.
    acked.extend(lines.map_while(Result::ok));
    child.wait().unwrap();
    let n = acked.len();
    assert!(n >= 120);
    assert_eq!(acked[n - 1], format!("ack {}", n - 1));

    let store = Store::connect(&ws).unwrap();
    let log = store.edits_on(facture::domain::DocId(1)).unwrap();
    assert!(log.len() >= n, "{} edits in the log, {n} acknowledged", log.len());
    for (i, edit) in log.iter().take(n).enumerate() {
        let text = edit.changes.iter().find_map(|c| match c {
            Change::Annotation { after: Some(a), .. } => Some(a.text.clone()),
            _ => None,
        });
        assert_eq!(text.as_deref(), Some(format!("edit {i}").as_str()), "edit {i} lost or changed");
    }
    let boxes = store.annotations(facture::domain::DocId(1)).unwrap();
    let adds = (0..n).filter(|i| i % 3 != 2).count();
    assert!(boxes.len() >= adds, "{} boxes, {adds} acknowledged", boxes.len());
}

fn review_list_and_show(b: &Backend) {
    use facture::app::{Command, Session};
    use facture::domain::{DocVerdict, Rect, Role, Verdict};
    let (arg, ws) = fresh(b);
    let img = b.dir().join("page.png");
    image::RgbImage::from_pixel(400, 300, image::Rgb([250, 250, 250])).save(&img).unwrap();
    ok(b, &["init", &arg]);
    ok(b, &["import", &arg, s(&img)]);
    let mut store = Store::connect(&ws).unwrap();
    let ann = store.add_user("ann", Role::Annotator).unwrap();
    let rev = store.add_user("rita", Role::Reviewer).unwrap();
    drop(store);
    let doc = facture::domain::DocId(1);
    let mut a = Session::new(Store::connect(&ws).unwrap(), ann);
    let bx = a
        .apply(Command::AddBox {
            doc,
            rect: Rect::new(5.0, 5.0, 50.0, 20.0),
            quad: None,
            label: None,
            text: "x".into(),
        })
        .unwrap()
        .created_boxes()[0];
    a.apply(Command::Submit { doc }).unwrap();
    let list = ok(b, &["review", &arg, "list"]);
    assert!(list.starts_with("1\tpage.png\tann\tround 1\t1 boxes"), "{list}");
    assert_eq!(ok(b, &["review", &arg, "list", "--annotator", "rita"]), "");
    let mut r = Session::new(Store::connect(&ws).unwrap(), rev);
    r.apply(Command::StartReview { doc }).unwrap();
    r.apply(Command::SetVerdict { doc, ann: bx, verdict: Verdict::WrongText, comment: "typo".into() }).unwrap();
    r.apply(Command::FinishReview { doc, verdict: DocVerdict::Reject, comment: "see box".into() }).unwrap();
    let show = ok(b, &["review", &arg, "show", "1"]);
    assert!(show.contains("round 1: rejected by rita"), "{show}");
    assert!(show.contains(&format!("box {bx}: wrong_text — typo")), "{show}");
    assert!(show.contains("comment: see box"), "{show}");
    let out = facture(b, &["review", &arg, "show", "99"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("document 99 does not exist"));
}

fn dataset_export_versions_and_import_through_the_binary(b: &Backend) {
    let (arg, _) = fresh(b);
    let synth = synth(b, 2, 3);
    ok(b, &["init", &arg]);
    ok(b, &["import-gt", &arg, s(&synth)]);
    let v1 = b.dir().join("v1");
    let out = ok(b, &["export", &arg, "--format", "coco", "--out", s(&v1), "--all"]);
    assert!(out.contains("dataset version 1"), "{out}");
    let versions = ok(b, &["versions", &arg]);
    assert!(versions.starts_with("v1\tcoco\t2 document(s)"), "{versions}");
    // Reproducing version 1 gives the same bytes.
    let again = b.dir().join("again");
    ok(b, &["export", &arg, "--version", "1", "--out", s(&again)]);
    assert_eq!(std::fs::read(v1.join("manifest.json")).unwrap(), std::fs::read(again.join("manifest.json")).unwrap());
    // And the COCO export imports into a fresh workspace with all its boxes.
    let (arg2, _) = fresh(b);
    ok(b, &["init", &arg2]);
    let imported = ok(b, &["import-dataset", &arg2, "--format", "coco", s(&v1)]);
    assert!(imported.starts_with("2 document(s)"), "{imported}");
    let bad = facture(b, &["export", &arg, "--format", "docx", "--out", s(&b.dir().join("x"))]);
    assert!(!bad.status.success());
}

fn objectives_are_set_by_leads_only_and_show_in_stats(b: &Backend) {
    let (arg, _) = fresh(b);
    ok(b, &["init", &arg]);
    add_user(b, &arg, "lea", "lead");
    add_user(b, &arg, "ann", "annotator");
    ok(b, &["objectives", &arg, "set", "boxes_per_hour", ">=", "40", "--lead", "lea"]);
    let refused = facture(b, &["objectives", &arg, "set", "cer", "<=", "0.02", "--lead", "ann"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("only a lead"));
    let bad = facture(b, &["objectives", &arg, "set", "happiness", ">=", "1", "--lead", "lea"]);
    assert!(!bad.status.success());
    assert_eq!(ok(b, &["objectives", &arg, "list"]), "-\tboxes_per_hour >= 40\n");
    // a personal target is listed after the one for everyone it overrides
    ok(b, &["objectives", &arg, "set", "boxes_per_hour", ">=", "55", "--user", "ann", "--lead", "lea"]);
    ok(b, &["objectives", &arg, "set", "cer", "<=", "0.02", "--lead", "lea"]);
    assert_eq!(
        ok(b, &["objectives", &arg, "list"]),
        "-\tboxes_per_hour >= 40\nann\tboxes_per_hour >= 55\n-\tcer <= 0.02\n",
        "{}",
        b.name()
    );
    let stats = ok(b, &["stats", &arg, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert!(v.get("annotators").is_some(), "{stats}");
}

/// One generated workspace (edits, activity, review rounds, verdicts, gold) written to a file
/// and to a server reads the same through every reading command, to the byte (only the time
/// the stats took may differ).
#[test]
fn both_backends_read_a_generated_workspace_the_same() {
    let Some(pg) = Backend::postgres() else { return };
    let lite = Backend::sqlite();
    let reads = |b: &Backend| -> Vec<(String, String)> {
        let (arg, _) = fresh(b);
        let ws = arg.as_str();
        let generate = ["--users", "8", "--documents", "60", "--annotations", "1500", "--days", "5", "--seed", "3"];
        ok(b, &[&["synth-workspace", ws][..], &generate[..]].concat());
        ok(b, &["objectives", ws, "set", "boxes_per_hour", ">=", "60", "--lead", "lead01"]);
        ok(b, &["objectives", ws, "set", "boxes_per_hour", ">=", "50", "--user", "annotator02", "--lead", "lead01"]);
        ok(b, &["objectives", ws, "set", "cer", "<=", "0.01", "--lead", "lead01"]);
        let commands: [&[&str]; 11] = [
            &["docs"],
            &["users", "list"],
            &["labels", "list"],
            &["review", "list"],
            &["review", "show", "3"],
            &["objectives", "list"],
            &["versions"],
            &["stats", "--json"],
            &["stats", "--csv"],
            &["stats"],
            &["stats", "--from", "2024-01-01", "--to", "2024-01-01", "--csv"],
        ];
        commands
            .into_iter()
            .map(|c| {
                let out = ok(b, &[&[c[0], ws][..], &c[1..]].concat()).replace(ws, "WS");
                (c.join(" "), if c == ["stats", "--json"] { without_timings(&out) } else { out })
            })
            .collect()
    };
    let (want, got) = (reads(&lite), reads(&pg));
    for ((cmd, w), (_, g)) in want.iter().zip(&got) {
        assert!(!w.trim().is_empty() || cmd == "versions", "facture {cmd} printed nothing");
        assert!(w == g, "facture {cmd} differs:\n--- SQLite\n{w}\n--- PostgreSQL\n{g}");
    }
}

/// The stats report as JSON without how long it took to make.
fn without_timings(json: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    let removed =
        [v["refresh"].as_object_mut().unwrap().remove("refresh_ms"), v.as_object_mut().unwrap().remove("query_ms")];
    assert!(removed.iter().all(Option::is_some), "the report's timings moved: {json}");
    serde_json::to_string_pretty(&v).unwrap()
}
