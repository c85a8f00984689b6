//! The command line as a contract scripts can trust: every command exits non-zero with one
//! line on stderr when it did not do what was asked, nothing panics when its output is
//! closed, a mistyped command is not taken for a workspace, and a workspace that is damaged,
//! foreign, set back, read-only or on a full disk gets a clear one-line answer.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use facture::store::Store;

fn facture(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_facture")).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = facture(args);
    assert!(out.status.success(), "facture {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Fails unless the command failed with exactly one line on stderr, starting `facture: `.
fn fails_in_one_line(args: &[&str]) -> String {
    let out = facture(args);
    let err = stderr(&out);
    assert!(!out.status.success(), "facture {args:?} should fail; stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert!(!err.contains("panicked"), "facture {args:?} panicked: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "facture {args:?}: one line expected, got:\n{err}");
    assert!(err.starts_with("facture: "), "{err}");
    err
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    ws: PathBuf,
}

/// A workspace with users and three synthetic invoices imported, and their ground truth.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let ws = root.join("ws.sqlite");
    ok(&["synth", "--count", "3", "--out", s(&root.join("synth")), "--seed", "5"]);
    ok(&["init", s(&ws)]);
    ok(&["users", s(&ws), "add", "ann", "--role", "annotator"]);
    ok(&["users", s(&ws), "add", "lea", "--role", "lead"]);
    ok(&["import", s(&ws), s(&root.join("synth"))]);
    Fixture { _dir: dir, root, ws }
}

#[test]
fn every_subcommand_fails_in_one_line_on_bad_input() {
    let f = fixture();
    let ws = s(&f.ws);
    let notes = f.root.join("notes.png");
    std::fs::write(&notes, "not a picture").unwrap();
    let bad_gt = f.root.join("bad_gt");
    std::fs::create_dir_all(&bad_gt).unwrap();
    std::fs::write(bad_gt.join("a.json"), "{\"image\": \"a.png\", \"width\": ").unwrap();
    let foreign = f.root.join("foreign.sqlite");
    rusqlite::Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE edits(x); CREATE TABLE t(y);").unwrap();
    let a_file = f.root.join("plain.txt");
    std::fs::write(&a_file, "x").unwrap();
    let missing_ws = f.root.join("missing.sqlite");
    // a COCO dataset whose label name the schema lacks, and no --map for it
    let unmapped = f.root.join("unmapped");
    std::fs::create_dir_all(&unmapped).unwrap();
    image::RgbImage::new(40, 30).save(unmapped.join("p.png")).unwrap();
    let coco = r#"{"categories": [{"id": 1, "name": "Gesamt"}], "images": [{"id": 1, "file_name": "p.png", "width": 40, "height": 30}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}]}"#;
    std::fs::write(unmapped.join("annotations.json"), coco).unwrap();
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("open", vec!["open".into(), s(&missing_ws).into()]),
        ("init", vec!["init".into(), s(&f.root.join("no/such/dir/ws.sqlite")).into()]),
        ("import", vec!["import".into(), ws.into(), s(&notes).into()]),
        ("settings", vec!["settings".into(), ws.into(), "pdf-dpi".into(), "9000".into()]),
        ("settings", vec!["settings".into(), ws.into(), "box-padding".into(), "0.1,0.2,x,0.1".into()]),
        ("settings", vec!["settings".into(), ws.into(), "box-captions".into(), "sometimes".into()]),
        ("synth", vec!["synth".into(), "--count".into(), "1".into(), "--out".into(), s(&a_file.join("sub")).into()]),
        ("users", vec!["users".into(), ws.into(), "add".into(), "zoe".into(), "--role".into(), "boss".into()]),
        ("labels", vec!["labels".into(), s(&missing_ws).into(), "list".into()]),
        ("docs", vec!["docs".into(), s(&foreign).into()]),
        ("docs", vec!["docs".into(), ws.into(), "delete".into(), "99".into()]),
        ("labels", vec!["labels".into(), ws.into(), "add".into(), "two words".into()]),
        ("labels", vec!["labels".into(), ws.into(), "merge".into(), "total_amount".into(), "total_amount".into()]),
        ("assign", vec!["assign".into(), ws.into(), "--to".into(), "nobody-known".into()]),
        ("rotate", vec!["rotate".into(), ws.into(), "1".into(), "--quarters".into(), "4".into()]),
        ("search", vec!["search".into(), ws.into(), "--verdict".into(), "meh".into()]),
        ("export", vec!["export".into(), ws.into(), "--format".into(), "docx".into(), "--out".into(), "x".into()]),
        (
            "import-dataset",
            vec!["import-dataset".into(), ws.into(), "--format".into(), "coco".into(), "/no/such".into()],
        ),
        (
            "import-dataset",
            vec!["import-dataset".into(), ws.into(), "--format".into(), "coco".into(), s(&unmapped).into()],
        ),
        ("versions", vec!["versions".into(), s(&foreign).into()]),
        ("guide", vec!["guide".into(), ws.into(), "--out".into(), s(&f.root.join("guide.txt")).into()]),
        ("import-gt", vec!["import-gt".into(), ws.into(), s(&bad_gt).into()]),
        ("prelabel", vec!["prelabel".into(), ws.into(), "--source".into(), "telepathy".into()]),
        ("accept", vec!["accept".into(), ws.into(), "--source".into(), "cv".into(), "--user".into(), "nobody".into()]),
        ("eval", vec!["eval".into(), "--gt".into(), s(&bad_gt).into(), "--source".into(), "cv".into()]),
        ("stats", vec!["stats".into(), ws.into(), "--from".into(), "2024-13-01".into()]),
        (
            "objectives",
            vec![
                "objectives".into(),
                ws.into(),
                "set".into(),
                "happiness".into(),
                ">=".into(),
                "1".into(),
                "--lead".into(),
                "lea".into(),
            ],
        ),
        ("synth-workspace", vec!["synth-workspace".into(), ws.into()]),
        ("review", vec!["review".into(), ws.into(), "show".into(), "99".into()]),
        ("relink", vec!["relink".into(), ws.into(), "/no/such/dir".into()]),
        ("recover", vec!["recover".into(), s(&missing_ws).into(), s(&f.root.join("saved.sqlite")).into()]),
        ("migrate", vec!["migrate".into(), ws.into(), s(&foreign).into()]),
        // nothing has been reviewed in the fixture: said, and no model is stored
        ("train-labels", vec!["train-labels".into(), ws.into()]),
        ("completions", vec!["completions".into(), "cmd.exe".into()]),
        ("manpage", vec!["manpage".into(), "extra".into()]),
    ];
    let covered: Vec<&str> = cases.iter().map(|c| c.0).collect();
    for name in facture::cli::command_names() {
        assert!(covered.contains(&name.as_str()), "no bad-input case for `facture {name}`");
    }
    let before = std::fs::read(&f.ws).unwrap();
    for (name, args) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = fails_in_one_line(&args);
        assert!(!err.contains("CREATE TABLE") && !err.contains("Error code"), "{name}: {err}");
    }
    // clap's own errors are one line too, and the eval of nothing readable says why
    fails_in_one_line(&["users", ws]);
    fails_in_one_line(&["import", ws, "--bogus"]);
    let none = fails_in_one_line(&["eval", "--gt", s(&bad_gt), "--source", "cv"]);
    assert!(none.contains("nothing to evaluate"), "{none}");
    let unreviewed = fails_in_one_line(&["train-labels", ws]);
    assert!(unreviewed.contains("no document has been accepted in review"), "{unreviewed}");
    assert_eq!(std::fs::read(&f.ws).unwrap().len(), before.len(), "bad input left the workspace alone");
}

#[test]
fn a_mistyped_command_is_not_a_workspace_and_open_reaches_one_named_like_a_command() {
    let err = fails_in_one_line(&["imprt"]);
    assert!(err.contains("'imprt' is not a facture command") && err.contains("did you mean import"), "{err}");
    let err = fails_in_one_line(&["frobnicate"]);
    assert!(err.contains("not a facture command") && err.contains("facture open frobnicate"), "{err}");
    // a path with a folder or an extension is taken as a workspace and said to be missing
    let err = fails_in_one_line(&["nowhere/ws.sqlite"]);
    assert!(err.contains("no such workspace"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let named = dir.path().join("docs");
    ok(&["init", s(&named)]);
    // `open` reaches it (the window cannot open here, so only the workspace check is seen)
    let out = Command::new(env!("CARGO_BIN_EXE_facture"))
        .args(["open", s(&dir.path().join("also-missing"))])
        .output()
        .unwrap();
    assert!(stderr(&out).contains("no such workspace"), "{}", stderr(&out));
}

#[test]
fn documents_given_to_the_window_must_exist_and_one_workspace_at_most() {
    let dir = tempfile::tempdir().unwrap();
    let scan = dir.path().join("scan.png");
    std::fs::write(&scan, b"\x89PNG").unwrap();
    let err = fails_in_one_line(&[s(&scan), s(&dir.path().join("gone.pdf"))]);
    assert!(err.contains("gone.pdf") && err.contains("no such file"), "{err}");
    let (a, b) = (dir.path().join("a.sqlite"), dir.path().join("b.sqlite"));
    ok(&["init", s(&a)]);
    ok(&["init", s(&b)]);
    let err = fails_in_one_line(&[s(&a), s(&b)]);
    assert!(err.contains("only one workspace"), "{err}");
}

#[test]
fn a_lead_sets_the_caption_convention_from_the_command_line_and_can_hand_it_back() {
    let f = fixture();
    let ws = s(&f.ws);
    let settings = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_facture")).arg("settings").arg(ws).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(settings(&[]).contains("box-captions undecided"), "nothing accepted yet");
    assert!(settings(&["box-captions", "split"]).contains("set by hand"));
    assert!(settings(&[]).contains("box-captions split (set by hand)"));
    settings(&["box-captions", "learned"]);
    assert!(settings(&[]).contains("box-captions undecided"));
}

#[test]
fn version_names_the_commit_and_the_runtime_it_will_use() {
    let out = Command::new(env!("CARGO_BIN_EXE_facture")).arg("--version").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with(&format!("facture {} (commit ", env!("CARGO_PKG_VERSION"))), "{text}");
    for part in
        ["ONNX Runtime 1.31.1", "OCR models ppocr-v6-small from rapidocr 3.10.0", "PDFium from pypdfium2", "int8"]
    {
        assert!(text.contains(part), "no '{part}' in:\n{text}");
    }
    // an explicit runtime that does not exist is reported as such, and --version still answers
    let out = Command::new(env!("CARGO_BIN_EXE_facture"))
        .args(["--version", "--ort-lib", "/no/such/libonnxruntime.so"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("ONNX Runtime 1.31.1: not found") && text.contains("/no/such/libonnxruntime.so"), "{text}");
}

#[test]
fn completions_and_the_manual_come_from_the_grammar() {
    for (shell, marker) in [("bash", "_facture()"), ("zsh", "#compdef facture"), ("fish", "complete -c facture")] {
        let out = Command::new(env!("CARGO_BIN_EXE_facture")).args(["completions", shell]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success() && text.contains(marker), "{shell}: {}", stderr(&out));
        // every subcommand is completed
        assert!(text.contains("import-dataset") && text.contains("synth-workspace"), "{shell}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_facture")).arg("manpage").output().unwrap();
    let man = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success() && man.contains(".TH facture 1") && man.contains("import\\-dataset"), "{man}");
}

#[test]
fn closed_output_ends_the_command_quietly() {
    let f = fixture();
    // enough lines that writing them cannot finish before the reader is gone
    let mut store = Store::open(&f.ws).unwrap();
    for i in 0..3000 {
        let d = facture::store::NewDocument {
            path: format!("/nowhere/{i}.png"),
            sha256: format!("{i:064}"),
            page: 0,
            width: 10,
            height: 10,
        };
        store.add_document(&d, 0).unwrap();
    }
    drop(store);
    for args in [vec!["docs", s(&f.ws)], vec!["review", s(&f.ws), "list"], vec!["labels", s(&f.ws), "list"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_facture"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // `| head -0`: the reader is gone before the first line
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(out.status.success(), "{args:?}: {:?} {err}", out.status);
    }
}

#[test]
fn foreign_set_back_and_newer_workspaces_get_one_line_and_stay_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("foreign.sqlite");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE edits(x); CREATE TABLE other(y); INSERT INTO other VALUES (1);")
        .unwrap();
    let before = std::fs::read(&foreign).unwrap();
    let err = fails_in_one_line(&["import", s(&foreign), s(dir.path())]);
    assert!(err.contains("not a Facture workspace"), "{err}");
    assert_eq!(std::fs::read(&foreign).unwrap(), before);

    let ws = dir.path().join("ws.sqlite");
    ok(&["init", s(&ws)]);
    rusqlite::Connection::open(&ws).unwrap().pragma_update(None, "user_version", 1).unwrap();
    let err = fails_in_one_line(&["docs", s(&ws)]);
    assert!(err.contains("do not match its schema version 1") && err.contains(s(&ws)), "{err}");
    assert!(!err.contains("duplicate column"), "{err}");
}

#[test]
fn a_damaged_workspace_is_refused_before_anything_is_written() {
    let f = fixture();
    // plenty of pages, then 8 KB of garbage in the middle of the file
    ok(&["import-gt", s(&f.ws), s(&f.root.join("synth"))]);
    let mut bytes = std::fs::read(&f.ws).unwrap();
    assert!(bytes.len() > 64 * 1024, "{}", bytes.len());
    let mid = bytes.len() / 2 / 4096 * 4096;
    for (i, b) in bytes[mid..mid + 8192].iter_mut().enumerate() {
        *b = (i * 7 + 13) as u8;
    }
    std::fs::write(&f.ws, &bytes).unwrap();
    let extra = f.root.join("extra.png");
    image::RgbImage::from_pixel(50, 40, image::Rgb([1, 2, 3])).save(&extra).unwrap();
    let err = fails_in_one_line(&["import", s(&f.ws), s(&extra)]);
    assert!(err.contains("damaged") && err.contains("facture recover"), "{err}");
    assert_eq!(std::fs::read(&f.ws).unwrap(), bytes, "nothing may be written to a damaged workspace");
    // the way out the message names works: a sound workspace with what could be read
    let saved = f.root.join("saved.sqlite");
    let out = ok(&["recover", s(&f.ws), s(&saved)]);
    assert!(out.contains("row(s) saved"), "{out}");
    let docs = ok(&["docs", s(&saved)]);
    assert!(docs.lines().count() >= 2, "{docs}");
    ok(&["import", s(&saved), s(&extra)]);
    assert_eq!(std::fs::read(&f.ws).unwrap(), bytes, "recovering only reads the damaged file");
}

#[test]
fn prelabel_records_machine_work_and_refuses_unknown_people() {
    let f = fixture();
    let ws = s(&f.ws);
    let err = fails_in_one_line(&["prelabel", ws, "--source", "cv", "--user", "typo"]);
    assert!(err.contains("no user named 'typo'"), "{err}");
    let out = ok(&["prelabel", ws, "--source", "cv"]);
    assert!(out.contains("suggestion(s) added on 3 document(s)"), "{out}");
    let store = Store::open(&f.ws).unwrap();
    let names: Vec<String> = store.users().unwrap().into_iter().map(|u| u.name).collect();
    assert_eq!(names, vec!["ann", "lea"], "no person is created by a typo or by machine work");
    for d in store.documents(&Default::default()).unwrap() {
        assert_eq!(d.status, facture::domain::DocStatus::New, "machine suggestions start no one's work");
        for a in store.annotations(d.id).unwrap() {
            assert_eq!((a.author, a.source.to_string().as_str()), (None, "cv"));
        }
        for e in store.edits_on(d.id).unwrap() {
            assert_eq!(e.user, None, "machine edits are no person's");
        }
    }
}

#[test]
fn a_pipeline_prelabels_accepts_and_exports_without_the_window() {
    let f = fixture();
    let ws = s(&f.ws);
    ok(&["prelabel", ws, "--source", "cv"]);
    let empty = f.root.join("empty");
    let out = ok(&["export", ws, "--all", "--format", "coco", "--out", s(&empty)]);
    assert!(out.contains(" 0 box(es)"), "suggestions are not annotations yet: {out}");
    // a document assigned to someone else is refused, and the command says which
    let mut store = Store::open(&f.ws).unwrap();
    let other = store.add_user("bea", facture::domain::Role::Annotator).unwrap();
    let third = store.documents(&Default::default()).unwrap()[2].id;
    store.set_assignee(third, Some(other.id)).unwrap();
    drop(store);
    let err = fails_in_one_line(&["accept", ws, "--source", "cv", "--user", "ann"]);
    assert!(err.contains(&format!("document {third}: this document is assigned to someone else")), "{err}");
    let mut store = Store::open(&f.ws).unwrap();
    store.set_assignee(third, None).unwrap();
    drop(store);
    let store = Store::open(&f.ws).unwrap();
    let suggested: usize =
        store.documents(&Default::default()).unwrap().iter().map(|d| store.annotations(d.id).unwrap().len()).sum();
    let mut scores: Vec<f32> = store
        .documents(&Default::default())
        .unwrap()
        .iter()
        .flat_map(|d| store.annotations(d.id).unwrap())
        .map(|a| a.confidence.unwrap_or(0.0))
        .collect();
    drop(store);
    scores.sort_by(f32::total_cmp);
    let threshold = scores[scores.len() / 2];
    let strong = scores.iter().filter(|&&c| c >= threshold).count();
    assert!(suggested > 0 && strong > 0 && strong < suggested, "{strong} of {suggested}");
    // (the refused run above accepted on the two other documents already; reject those to start over)
    let store = Store::open(&f.ws).unwrap();
    let ann = store.user_by_name("ann").unwrap().unwrap();
    let mut session = facture::app::Session::new(store, ann.clone());
    for d in [facture::domain::DocId(1), facture::domain::DocId(2)] {
        session.apply(facture::app::Command::Undo { doc: d }).unwrap();
    }
    drop(session);
    let out = ok(&["accept", ws, "--source", "cv", "--min-score", &threshold.to_string(), "--user", "ann"]);
    assert!(out.starts_with(&format!("{strong} suggestion(s) accepted on 3 document(s)")), "{out}");
    let out = ok(&["accept", ws, "--source", "cv", "--user", "ann"]);
    assert!(out.starts_with(&format!("{} suggestion(s) accepted", suggested - strong)), "{out}");
    let full = f.root.join("full");
    let out = ok(&["export", ws, "--all", "--format", "coco", "--out", s(&full)]);
    assert!(out.contains(&format!(" {suggested} box(es)")), "{out}");
    // machine suggestions accepted by ann count as her boxes, accepted unchanged
    let stats: serde_json::Value = serde_json::from_str(&ok(&["stats", ws, "--json"])).unwrap();
    let ann_row = stats["annotators"].as_array().unwrap().iter().find(|a| a["name"] == "ann").unwrap().clone();
    assert_eq!(ann_row["boxes"].as_u64(), Some(suggested as u64), "{ann_row}");
    assert_eq!(ann_row["suggestions"]["unchanged"].as_u64(), Some(suggested as u64), "{ann_row}");
    // recorded as ann's accepts, so her window can undo them
    let store = Store::open(&f.ws).unwrap();
    let ann = store.user_by_name("ann").unwrap().unwrap();
    let doc = store.documents(&Default::default()).unwrap()[0].id;
    let session = facture::app::Session::new(store, ann.clone());
    let stacks = session.undo_stacks(doc).unwrap();
    assert_eq!(stacks.undoable.len(), 2, "one undo step per accept run on this document");
    assert_eq!(session.store().document(doc).unwrap().status, facture::domain::DocStatus::InProgress);
}

#[test]
fn relink_eval_and_prelabel_fail_when_they_did_nothing_of_what_was_asked() {
    let f = fixture();
    let ws = s(&f.ws);
    let err = fails_in_one_line(&["relink", ws, s(&f.root.join("no-such-dir"))]);
    assert!(err.contains("no such folder"), "{err}");
    // every page's file is gone: each document fails and the command says which
    for e in std::fs::read_dir(f.root.join("synth")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    let out = facture(&["prelabel", ws, "--source", "cv"]);
    assert!(!out.status.success(), "prelabel with every document failing must not exit 0");
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 3, "one line per failed document: {err}");
    assert!(err.lines().all(|l| l.starts_with("facture: document ")), "{err}");
}

#[test]
fn model_suggestions_name_their_model_once() {
    assert_eq!(facture::domain::Source::model("model:ppocr-v6-small").to_string(), "model:ppocr-v6-small");
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// A small tmpfs mounted at `dir` (root only), unmounted on drop.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(dir).unwrap();
        let st = Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs", s(dir)]).status();
        st.is_ok_and(|st| st.success()).then(|| Mount(dir.to_path_buf()))
    }

    fn read_only(&self) {
        let st = Command::new("mount").args(["-o", "remount,ro", s(&self.0)]).status().unwrap();
        assert!(st.success());
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_workspace_on_a_read_only_disk_can_still_be_read_and_exported_elsewhere() {
    let f = fixture();
    ok(&["import-gt", s(&f.ws), s(&f.root.join("synth"))]);
    let mnt = f.root.join("ro");
    let Some(mount) = (if is_root() { Mount::tmpfs(&mnt, "64m") } else { None }) else {
        eprintln!("skipped: mounting a read-only disk needs root and a tmpfs");
        return;
    };
    let ws = mnt.join("ws.sqlite");
    std::fs::copy(&f.ws, &ws).unwrap();
    mount.read_only();
    let ws = s(&ws);
    let docs = ok(&["docs", ws]);
    assert_eq!(docs.lines().count(), 3, "{docs}");
    assert!(ok(&["stats", ws, "--json"]).contains("annotators"));
    ok(&["review", ws, "list"]);
    ok(&["versions", ws]);
    let out = f.root.join("export");
    let done = ok(&["export", ws, "--all", "--format", "coco", "--out", s(&out)]);
    assert!(done.contains("3 document(s)"), "{done}");
    assert!(out.join("manifest.json").is_file());
    let err = fails_in_one_line(&["users", ws, "add", "zoe", "--role", "annotator"]);
    assert!(err.contains(ws) && (err.contains("read-only") || err.contains("cannot be written")), "{err}");
    // a lead's verbs are writes too: refused in one line; searching and listing still work
    for args in [
        vec!["labels", ws, "add", "po_number"],
        vec!["labels", ws, "retire", "iban"],
        vec!["docs", ws, "delete", "1"],
        vec!["assign", ws, "--to", "nobody"],
    ] {
        let err = fails_in_one_line(&args);
        assert!(err.contains("read-only") || err.contains("cannot be written"), "{args:?}: {err}");
    }
    assert!(ok(&["labels", ws, "list"]).ends_with("schema version 0\n"));
    assert_eq!(ok(&["search", ws, "--json"]).matches("\"doc\"").count(), 3);
}

#[test]
fn a_full_disk_refuses_writes_in_one_line_and_still_reads() {
    let f = fixture();
    let mnt = f.root.join("full");
    let Some(_mount) = (if is_root() { Mount::tmpfs(&mnt, "4m") } else { None }) else {
        eprintln!("skipped: a full disk needs root and a tmpfs");
        return;
    };
    let ws = mnt.join("ws.sqlite");
    std::fs::copy(&f.ws, &ws).unwrap();
    // fill what is left
    let filler = mnt.join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while std::io::Write::write_all(&mut file, &chunk).is_ok() {}
    drop(file);
    let out = facture(&["import-gt", s(&ws), s(&f.root.join("synth"))]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("full"), "{err}");
    let docs = ok(&["docs", s(&ws)]);
    assert_eq!(docs.lines().count(), 3, "{docs}");
    // whatever SQLite managed to write is whole: the workspace still checks out
    std::fs::remove_file(&filler).unwrap();
    Store::open(&ws).unwrap().verify().unwrap();
}

#[test]
fn a_busy_workspace_and_a_malformed_dataset_each_say_so_once() {
    let f = fixture();
    let ws = s(&f.ws);
    let holder = rusqlite::Connection::open(&f.ws).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE; INSERT INTO meta VALUES ('x', 'y');").unwrap();
    let err = fails_in_one_line(&["users", ws, "add", "zoe", "--role", "annotator"]);
    assert!(err.starts_with(&format!("facture: {ws}: another process")), "{err}");
    assert_eq!(err.matches("busy").count(), 1, "said once: {err}");
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);

    let data = f.root.join("coco");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("annotations.json"), "{\"images\": [{\"id\": 1, \"file_name\": 7}]}").unwrap();
    let err = fails_in_one_line(&["import-dataset", ws, "--format", "coco", s(&data)]);
    assert!(err.contains("annotations.json") && err.contains("nothing was imported"), "{err}");
    let reason = err.trim_end().trim_end_matches(" — nothing was imported");
    let tail = &reason[reason.len().saturating_sub(20)..];
    assert_eq!(err.matches(tail).count(), 1, "the reason is said once: {err}");
}
