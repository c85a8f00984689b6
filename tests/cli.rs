//! The built binary end to end: synth → init → import → import-gt → export, bad input, and a
//! crash (SIGKILL) in the middle of a stream of edits.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use facture::domain::Change;
use facture::formats::gt::GroundTruth;
use facture::store::Store;

fn facture(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_facture")).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = facture(args);
    assert!(out.status.success(), "facture {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn synth_import_gt_export_round_trip_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let synth = dir.path().join("synth");
    let ws = dir.path().join("ws.sqlite");
    let out = dir.path().join("out");
    ok(&["synth", "--count", "5", "--out", s(&synth), "--seed", "7"]);
    ok(&["init", s(&ws)]);
    let imported = ok(&["import", s(&ws), s(&synth)]);
    assert!(imported.contains("5 page(s) added"), "{imported}");
    let loaded = ok(&["import-gt", s(&ws), s(&synth)]);
    assert!(loaded.contains("on 5 document(s)"), "{loaded}");
    // Nothing is accepted yet, so a default export writes nothing and says how to get everything.
    let none = facture(&["export", s(&ws), "--format", "facture-json", "--out", s(&out)]);
    assert!(String::from_utf8_lossy(&none.stderr).contains("--all"));
    ok(&["export", s(&ws), "--format", "facture-json", "--out", s(&out), "--all"]);

    let mut compared = 0;
    for entry in std::fs::read_dir(&synth).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "json") {
            let want = GroundTruth::load(&p).unwrap();
            let got = GroundTruth::load(&out.join(p.file_name().unwrap())).unwrap();
            assert_eq!(got, want, "{}", p.display());
            assert!(!want.boxes.is_empty());
            compared += 1;
        }
    }
    assert_eq!(compared, 5);
    // Importing the same folder again adds nothing.
    let again = ok(&["import", s(&ws), s(&synth)]);
    assert!(again.contains("0 page(s) added, 5 duplicate"), "{again}");
}

#[test]
fn bad_input_fails_with_one_line_and_nonzero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.sqlite");
    let cases: Vec<Vec<String>> = vec![
        vec!["import".into(), s(&ws).into(), s(dir.path()).into()], // workspace missing
        vec!["users".into(), s(&ws).into(), "list".into()],
        vec!["init".into(), s(&dir.path().join("no/such/dir/ws.sqlite")).into()],
    ];
    for args in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = facture(&args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("facture: "), "{err}");
    }
    ok(&["init", s(&ws)]);
    let out = facture(&["users", s(&ws), "add", "zoe", "--role", "boss"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role 'boss'"));
    let out = facture(&["init", s(&ws)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    // Non-images are reported by name; with nothing importable the command fails.
    let junk = dir.path().join("notes.png");
    std::fs::write(&junk, "not a picture").unwrap();
    let out = facture(&["import", s(&ws), s(&junk)]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("notes.png"));
}

#[test]
fn users_and_labels_commands() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.sqlite");
    ok(&["init", s(&ws)]);
    ok(&["users", s(&ws), "add", "alice", "--role", "annotator"]);
    ok(&["users", s(&ws), "add", "lea", "--role", "lead"]);
    let users = ok(&["users", s(&ws), "list"]);
    assert!(users.contains("alice\tannotator") && users.contains("lea\tlead"), "{users}");
    let labels = ok(&["labels", s(&ws), "list"]);
    assert_eq!(labels.lines().count(), 19);
    assert!(labels.contains("total_amount"));
}

#[test]
fn edits_acknowledged_before_sigkill_are_all_there() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.sqlite");
    let img = dir.path().join("page.png");
    image::RgbImage::from_pixel(900, 1200, image::Rgb([250, 250, 250])).save(&img).unwrap();
    ok(&["init", s(&ws)]);
    ok(&["users", s(&ws), "add", "alice", "--role", "annotator"]);
    ok(&["import", s(&ws), s(&img)]);

    let mut child = Command::new(env!("CARGO_BIN_EXE_facture"))
        .args(["script-edits", s(&ws), "--doc", "1", "--count", "1000000"])
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

    let store = Store::open(&ws).unwrap();
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

#[test]
fn review_list_and_show() {
    use facture::app::{Command, Session};
    use facture::domain::{DocVerdict, Rect, Role, Verdict};
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.sqlite");
    let img = dir.path().join("page.png");
    image::RgbImage::from_pixel(400, 300, image::Rgb([250, 250, 250])).save(&img).unwrap();
    ok(&["init", s(&ws)]);
    ok(&["import", s(&ws), s(&img)]);
    let mut store = Store::open(&ws).unwrap();
    let ann = store.add_user("ann", Role::Annotator).unwrap();
    let rev = store.add_user("rita", Role::Reviewer).unwrap();
    drop(store);
    let doc = facture::domain::DocId(1);
    let mut a = Session::new(Store::open(&ws).unwrap(), ann);
    let b = a
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
    let list = ok(&["review", s(&ws), "list"]);
    assert!(list.starts_with("1\tpage.png\tann\tround 1\t1 boxes"), "{list}");
    assert_eq!(ok(&["review", s(&ws), "list", "--annotator", "rita"]), "");
    let mut r = Session::new(Store::open(&ws).unwrap(), rev);
    r.apply(Command::StartReview { doc }).unwrap();
    r.apply(Command::SetVerdict { doc, ann: b, verdict: Verdict::WrongText, comment: "typo".into() }).unwrap();
    r.apply(Command::FinishReview { doc, verdict: DocVerdict::Reject, comment: "see box".into() }).unwrap();
    let show = ok(&["review", s(&ws), "show", "1"]);
    assert!(show.contains("round 1: rejected by rita"), "{show}");
    assert!(show.contains(&format!("box {b}: wrong_text — typo")), "{show}");
    assert!(show.contains("comment: see box"), "{show}");
    let out = facture(&["review", s(&ws), "show", "99"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("document 99 does not exist"));
}

#[test]
fn dataset_export_versions_and_import_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let synth = dir.path().join("synth");
    let ws = dir.path().join("ws.sqlite");
    ok(&["synth", "--count", "2", "--out", s(&synth), "--seed", "3"]);
    ok(&["init", s(&ws)]);
    ok(&["import-gt", s(&ws), s(&synth)]);
    let v1 = dir.path().join("v1");
    let out = ok(&["export", s(&ws), "--format", "coco", "--out", s(&v1), "--all"]);
    assert!(out.contains("dataset version 1"), "{out}");
    let versions = ok(&["versions", s(&ws)]);
    assert!(versions.starts_with("v1\tcoco\t2 document(s)"), "{versions}");
    // Reproducing version 1 gives the same bytes.
    let again = dir.path().join("again");
    ok(&["export", s(&ws), "--version", "1", "--out", s(&again)]);
    assert_eq!(std::fs::read(v1.join("manifest.json")).unwrap(), std::fs::read(again.join("manifest.json")).unwrap());
    // And the COCO export imports into a fresh workspace with all its boxes.
    let ws2 = dir.path().join("ws2.sqlite");
    ok(&["init", s(&ws2)]);
    let imported = ok(&["import-dataset", s(&ws2), "--format", "coco", s(&v1)]);
    assert!(imported.starts_with("2 document(s)"), "{imported}");
    let bad = facture(&["export", s(&ws), "--format", "docx", "--out", s(&dir.path().join("x"))]);
    assert!(!bad.status.success());
}

#[test]
fn objectives_are_set_by_leads_only_and_show_in_stats() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.sqlite");
    ok(&["init", s(&ws)]);
    ok(&["users", s(&ws), "add", "lea", "--role", "lead"]);
    ok(&["users", s(&ws), "add", "ann", "--role", "annotator"]);
    ok(&["objectives", s(&ws), "set", "boxes_per_hour", ">=", "40", "--lead", "lea"]);
    let refused = facture(&["objectives", s(&ws), "set", "cer", "<=", "0.02", "--lead", "ann"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("only a lead"));
    let bad = facture(&["objectives", s(&ws), "set", "happiness", ">=", "1", "--lead", "lea"]);
    assert!(!bad.status.success());
    assert_eq!(ok(&["objectives", s(&ws), "list"]), "-\tboxes_per_hour >= 40\n");
    let stats = ok(&["stats", s(&ws), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert!(v.get("annotators").is_some(), "{stats}");
}
