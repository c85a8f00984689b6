//! A lead's verbs through the binary, on a workspace file and on a server: the label schema
//! (add, rename + undo/redo, set, move, retire while in use, merge + undo, hotkey conflicts),
//! soft-deleted documents leaving exports and stats and coming back on restore, priorities,
//! bulk assignment by folder/status/limit, and search by text, label and review verdict.

mod common;

use std::path::Path;
use std::process::{Command as Proc, Output};

use common::backend::{Backend, on_each_backend};
use facture::app::stats::{StatsQuery, report};
use facture::app::{Command, Session};
use facture::domain::{AnnId, DocId, DocStatus, DocVerdict, Label, Rect, Role, Shelf, User, Verdict};
use facture::store::{DocFilter, ShelfFilter, Store, Workspace};

on_each_backend!(
    schema_verbs_change_the_schema_one_undoable_edit_at_a_time,
    soft_deleted_documents_leave_exports_and_stats_until_restored,
    assign_takes_the_documents_a_filter_names,
    search_finds_documents_by_text_label_and_corrected_verdict,
);

fn facture(b: &Backend, args: &[&str]) -> Output {
    Proc::new(env!("CARGO_BIN_EXE_facture")).args(args).envs(b.cli_env()).output().unwrap()
}

fn ok(b: &Backend, args: &[&str]) -> String {
    let out = facture(b, args);
    assert!(out.status.success(), "{}: facture {args:?} failed: {}", b.name(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Fails with exactly one line on stderr that contains `wanted`.
fn fails(b: &Backend, args: &[&str], wanted: &str) {
    let out = facture(b, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{}: facture {args:?} succeeded", b.name());
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(wanted), "{}: {args:?}: wanted '{wanted}' in: {err}", b.name());
}

fn add_user(b: &Backend, ws: &str, name: &str, role: &str) {
    let mut cmd = Proc::new(env!("CARGO_BIN_EXE_facture"));
    cmd.args(["users", ws, "add", name, "--role", role]).envs(b.cli_env());
    let out = common::output_with_stdin(&mut cmd, &format!("pw-{name}-lead\n"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn page(dir: &Path, name: &str) -> String {
    if let Some(p) = Path::new(name).parent() {
        std::fs::create_dir_all(dir.join(p)).unwrap();
    }
    let path = dir.join(name);
    // a different shade per page: documents are told apart by content
    let shade = 200 + (name.bytes().map(u32::from).sum::<u32>() % 50) as u8;
    image::RgbImage::from_pixel(400, 300, image::Rgb([shade, shade, 250])).save(&path).unwrap();
    path.to_string_lossy().into_owned()
}

/// A workspace with lea (lead), alice (annotator), rob (reviewer) and the given pages.
fn workspace(b: &Backend, pages: &[&str]) -> (String, Workspace) {
    let wsp = b.fresh();
    let ws = wsp.to_string();
    ok(b, &["init", &ws]);
    add_user(b, &ws, "lea", "lead");
    add_user(b, &ws, "alice", "annotator");
    add_user(b, &ws, "rob", "reviewer");
    for p in pages {
        ok(b, &["import", &ws, &page(b.dir(), p)]);
    }
    (ws, wsp)
}

fn store(ws: &Workspace) -> Store {
    Store::connect(ws).unwrap()
}

fn user(store: &Store, name: &str) -> User {
    store.user_by_name(name).unwrap().unwrap()
}

fn session(ws: &Workspace, name: &str) -> Session {
    let s = store(ws);
    let u = user(&s, name);
    Session::new(s, u)
}

fn label(store: &Store, name: &str) -> Option<Label> {
    store.labels().unwrap().into_iter().find(|l| l.name == name)
}

/// alice boxes `text` with `label` on `doc`; returns the box.
fn add_box(ws: &Workspace, doc: i64, label_name: &str, text: &str) -> AnnId {
    let mut s = session(ws, "alice");
    let label = label(s.store(), label_name).map(|l| l.id);
    let out = s
        .apply(Command::AddBox {
            doc: DocId(doc),
            rect: Rect { x0: 10.0, y0: 10.0, x1: 120.0, y1: 40.0 },
            quad: None,
            label,
            text: text.into(),
        })
        .unwrap();
    let facture::app::Outcome::Applied(edit) = out else { panic!("no box added") };
    let facture::domain::Change::Annotation { after: Some(a), .. } = &edit.changes[0] else { panic!() };
    a.id
}

fn schema_verbs_change_the_schema_one_undoable_edit_at_a_time(b: &Backend) {
    let (ws, wsp) = workspace(b, &["p1.png"]);
    let list = ok(b, &["labels", &ws, "list"]);
    assert!(list.ends_with("schema version 0\n"), "{list}");

    ok(b, &["labels", &ws, "add", "po_number", "--hotkey", "Shift+0", "--color", "#123456", "--guideline", "The PO."]);
    let s = store(&wsp);
    let po = label(&s, "po_number").expect("added");
    assert_eq!(
        (po.hotkey.as_deref(), po.color, po.guideline.as_str()),
        (Some("shift+0"), [0x12, 0x34, 0x56], "The PO.")
    );
    assert!(ok(b, &["labels", &ws, "list"]).ends_with("schema version 1\n"));

    // conflicts and bad input are refused with one line, and change nothing
    fails(b, &["labels", &ws, "add", "dup", "--hotkey", "3"], "hotkey 3 is already due_date's");
    fails(b, &["labels", &ws, "add", "Total_Amount"], "already a label named total_amount");
    fails(b, &["labels", &ws, "add", "two words"], "has ' ' in it");
    fails(b, &["labels", &ws, "set", "iban", "--hotkey", "1"], "hotkey 1 is already invoice_number's");
    fails(b, &["labels", &ws, "set", "iban", "--color", "blue"], "not a colour");
    fails(b, &["labels", &ws, "rename", "totl_amount", "x"], "did you mean total_amount");
    fails(b, &["labels", &ws, "add", "x", "--as", "alice"], "alice is annotator, not a lead");
    assert!(label(&store(&wsp), "dup").is_none());
    assert!(ok(b, &["labels", &ws, "list"]).ends_with("schema version 1\n"));

    // rename, undo, redo
    ok(b, &["labels", &ws, "rename", "po_number", "purchase_order"]);
    assert_eq!(label(&store(&wsp), "purchase_order").map(|l| l.id), Some(po.id));
    assert_eq!(ok(b, &["labels", &ws, "undo"]).trim(), "undid label rename");
    assert_eq!(label(&store(&wsp), "po_number").map(|l| l.id), Some(po.id));
    assert!(label(&store(&wsp), "purchase_order").is_none());
    ok(b, &["labels", &ws, "redo"]);
    assert_eq!(label(&store(&wsp), "purchase_order").map(|l| l.id), Some(po.id));

    // set and move
    ok(b, &["labels", &ws, "set", "total_amount", "--hotkey", "none", "--guideline", "Amount due only."]);
    let total = label(&store(&wsp), "total_amount").unwrap();
    assert_eq!((total.hotkey, total.guideline.as_str()), (None, "Amount due only."));
    ok(b, &["labels", &ws, "move", "purchase_order", "1"]);
    let first = ok(b, &["labels", &ws, "list"]).lines().next().unwrap().to_string();
    assert!(first.contains("purchase_order"), "{first}");
    let positions: Vec<i64> = store(&wsp).labels().unwrap().iter().map(|l| l.position).collect();
    assert_eq!(positions, (0..positions.len() as i64).collect::<Vec<_>>(), "positions close up");

    // retiring a label in use: the box keeps it, nobody can give it anew, its hotkey is free
    let boxed = add_box(&wsp, 1, "iban", "DE02 1203 0000 0000 2020 51");
    ok(b, &["labels", &ws, "retire", "iban"]);
    let s = store(&wsp);
    let iban = label(&s, "iban").unwrap();
    assert!(iban.retired && iban.hotkey.is_none(), "{iban:?}");
    assert_eq!(s.annotation(boxed).unwrap().label, Some(iban.id));
    assert!(ok(b, &["labels", &ws, "list"]).lines().any(|l| l.contains("iban") && l.ends_with("retired")));
    let mut alice = session(&wsp, "alice");
    let err = alice.apply(Command::SetLabel { doc: DocId(1), ids: vec![boxed], label: Some(iban.id) });
    assert!(err.is_err_and(|e| e.to_string().contains("retired")));
    fails(b, &["labels", &ws, "retire", "iban"], "already retired");
    // nor does a machine suggest it: the suggestion comes without a label
    let mut machine = Session::machine(store(&wsp));
    let suggest = |label| facture::app::SuggestionInput {
        rect: Rect { x0: 200.0, y0: 200.0, x1: 300.0, y1: 230.0 },
        quad: None,
        text: Some("DE02".into()),
        score: 0.9,
        label: Some((label, 0.8)),
    };
    let out = machine
        .apply(Command::AddSuggestions {
            doc: DocId(1),
            source: facture::domain::Source::Cv,
            items: vec![suggest(iban.id)],
            skip_iou: 0.5,
        })
        .unwrap();
    let facture::app::Outcome::Applied(edit) = out else { panic!("nothing suggested") };
    let facture::domain::Change::Annotation { after: Some(sugg), .. } = &edit.changes[0] else { panic!() };
    assert_eq!((sugg.label, sugg.label_suggested), (None, None));
    ok(b, &["labels", &ws, "add", "bank", "--hotkey", &old_iban_hotkey()]);

    // merge relabels every box and removes the label; undo brings both back
    let cur = add_box(&wsp, 1, "currency", "EUR");
    let out = ok(b, &["labels", &ws, "merge", "currency", "other_text"]);
    assert!(out.contains("1 box(es) relabelled"), "{out}");
    let s = store(&wsp);
    let other = label(&s, "other_text").unwrap();
    assert_eq!(s.annotation(cur).unwrap().label, Some(other.id));
    assert!(label(&s, "currency").is_none());
    ok(b, &["labels", &ws, "undo"]);
    let s = store(&wsp);
    let currency = label(&s, "currency").expect("merge undone");
    assert_eq!(s.annotation(cur).unwrap().label, Some(currency.id));

    // every change is an edit of the log, and exports record the schema's version
    let version: i64 = ok(b, &["labels", &ws, "list"])
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("schema version "))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert_eq!(version, 11, "add, rename, undo, redo, set×2, move, retire, add, merge, undo");
    let out = b.dir().join("export");
    ok(b, &["export", &ws, "--format", "coco", "--out", out.to_str().unwrap(), "--all"]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["schema_version"], serde_json::json!(version));

    // guideline examples pinned from boxes, listed, unpinned; a lead's
    let cur_id = cur.0.to_string();
    let pinned = ok(b, &["labels", &ws, "pin", &cur_id, "--note", "the code alone"]);
    let example = pinned.trim().strip_prefix("pinned example ").expect(&pinned).to_string();
    ok(b, &["labels", &ws, "pin", &cur_id, "--not", "--note", "again, as a counter-example"]);
    let listed = ok(b, &["labels", &ws, "examples", "currency"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(lines[0].starts_with(&format!("{example}\texample\t1\tEUR\tthe code alone")), "{listed}");
    assert!(lines[1].contains("\tnot\t"), "{listed}");
    fails(b, &["labels", &ws, "pin", &cur_id, "--as", "alice"], "not a lead");
    ok(b, &["labels", &ws, "unpin", &example]);
    assert_eq!(ok(b, &["labels", &ws, "examples", "currency"]).lines().count(), 1);
    fails(b, &["labels", &ws, "unpin", "999"], "999");
    assert_eq!(store(&wsp).label_examples(currency.id).unwrap().len(), 1);
}

/// iban's default hotkey (the 14th label): free once iban is retired.
fn old_iban_hotkey() -> String {
    "shift+4".into()
}

fn soft_deleted_documents_leave_exports_and_stats_until_restored(b: &Backend) {
    let (ws, wsp) = workspace(b, &["d1.png", "d2.png", "d3.png"]);
    add_box(&wsp, 1, "total_amount", "10,00 €");
    add_box(&wsp, 2, "total_amount", "20,00 €");
    let boxes_in_stats = || {
        let mut s = store(&wsp);
        let r = report(&mut s, &StatsQuery::default()).unwrap();
        r.annotators.iter().find(|a| a.name == "alice").map_or(0, |a| a.boxes)
    };
    let exported = |name: &str| -> Vec<i64> {
        let out = b.dir().join(name);
        ok(b, &["export", &ws, "--format", "facture-json", "--out", out.to_str().unwrap(), "--all"]);
        let m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        m["documents"].as_array().unwrap().iter().map(|d| d["doc_id"].as_i64().unwrap()).collect()
    };
    assert_eq!(boxes_in_stats(), 2);

    assert_eq!(ok(b, &["docs", &ws, "delete", "2"]).trim(), "deleted: 1 document(s)");
    ok(b, &["docs", &ws, "archive", "3"]);
    let live = ok(b, &["docs", &ws]);
    assert_eq!(live.lines().count(), 1, "{live}");
    let shelved = ok(b, &["docs", &ws, "list", "--shelved"]);
    assert!(shelved.contains("\tdeleted") && shelved.contains("\tarchived"), "{shelved}");
    assert_eq!(exported("e1"), [1]);
    assert_eq!(boxes_in_stats(), 1, "the deleted document's box left the stats");
    // nobody works on a document set aside
    let mut alice = session(&wsp, "alice");
    let refused = alice.apply(Command::DeleteBoxes { doc: DocId(2), ids: vec![] });
    assert!(refused.is_err_and(|e| e.to_string().contains("deleted")));
    fails(b, &["docs", &ws, "delete", "2"], "already deleted");
    // importing its file again says where it is instead of calling it a duplicate
    let again = ok(b, &["import", &ws, b.dir().join("d2.png").to_str().unwrap()]);
    assert!(
        again.contains("1 file(s) are here already but archived or deleted (restore: facture docs WS restore 2)"),
        "{again}"
    );
    fails(b, &["docs", &ws, "archive", "99"], "there is no document 99");
    fails(b, &["docs", &ws, "restore", "1"], "not archived or deleted");

    ok(b, &["docs", &ws, "restore", "2", "3"]);
    assert_eq!(exported("e2"), [1, 2, 3]);
    assert_eq!(boxes_in_stats(), 2, "back in the stats");
    let s = store(&wsp);
    assert!(s.documents(&DocFilter { shelved: ShelfFilter::Shelved, ..Default::default() }).unwrap().is_empty());
    // the soft delete is an ordinary edit: the lead's undo on that document takes it back
    ok(b, &["docs", &ws, "delete", "3"]);
    let mut lea = session(&wsp, "lea");
    lea.apply(Command::Undo { doc: DocId(3) }).unwrap();
    assert_eq!(store(&wsp).document(DocId(3)).unwrap().shelved, None);
    ok(b, &["docs", &ws, "archive", "3"]);
    assert_eq!(store(&wsp).document(DocId(3)).unwrap().shelved, Some(Shelf::Archived));

    // priorities: the queue's order; shown by docs
    ok(b, &["docs", &ws, "priority", "5", "2"]);
    assert!(ok(b, &["docs", &ws]).lines().any(|l| l.starts_with("2\t") && l.ends_with("priority 5")));
    ok(b, &["docs", &ws, "priority", "-1", "1"]);
    assert_eq!(store(&wsp).document(DocId(1)).unwrap().priority, -1);
    assert_eq!(store(&wsp).document(DocId(1)).unwrap().status, DocStatus::InProgress, "status untouched");
}

fn assign_takes_the_documents_a_filter_names(b: &Backend) {
    let (ws, wsp) = workspace(b, &["batch-a/1.png", "batch-a/2.png", "batch-b/3.png", "batch-b/4.png"]);
    add_user(b, &ws, "ann", "annotator");
    let assignee = |d: i64| store(&wsp).document(DocId(d)).unwrap().assignee;
    let folder_a = b.dir().join("batch-a");
    let out = ok(b, &["assign", &ws, "--to", "alice", "--folder", folder_a.to_str().unwrap()]);
    assert_eq!(out.trim(), "assigned 2 document(s) to alice");
    let alice = user(&store(&wsp), "alice").id;
    assert_eq!([assignee(1), assignee(2), assignee(3), assignee(4)], [Some(alice), Some(alice), None, None]);
    // the queue's order: higher priority first
    ok(b, &["docs", &ws, "priority", "3", "4"]);
    ok(b, &["assign", &ws, "--to", "ann", "--unassigned", "--limit", "1"]);
    let ann = user(&store(&wsp), "ann").id;
    assert_eq!([assignee(3), assignee(4)], [None, Some(ann)]);
    assert_eq!(store(&wsp).document(DocId(4)).unwrap().status, DocStatus::New, "assigning is not work");
    ok(b, &["assign", &ws, "--to", "nobody", "--status", "new"]);
    assert!((1..=4).all(|d| assignee(d).is_none()));
    // by vendor (as its vendor_name box reads) and by import batch (the day)
    add_box(&wsp, 3, "vendor_name", "ACME  Büro-Bedarf GmbH");
    let out = ok(b, &["assign", &ws, "--to", "ann", "--vendor", "acme büro"]);
    assert_eq!(out.trim(), "assigned 1 document(s) to ann");
    assert_eq!(assignee(3), Some(ann));
    let today = {
        let d = store(&wsp).document(DocId(1)).unwrap().imported_ms.div_euclid(86_400_000);
        facture::app::stats::format_day(d)
    };
    let out = ok(b, &["assign", &ws, "--to", "alice", "--imported", &today, "--unassigned"]);
    assert_eq!(out.trim(), "assigned 3 document(s) to alice");
    let out = ok(b, &["assign", &ws, "--to", "alice", "--imported", "2001-01-01"]);
    assert_eq!(out.trim(), "assigned 0 document(s) to alice");
    fails(b, &["assign", &ws, "--to", "alice", "--imported", "yesterday"], "--imported yesterday");
    fails(b, &["assign", &ws, "--to", "rob"], "rob is a reviewer");
    fails(b, &["assign", &ws, "--to", "zed"], "no user named zed");
    fails(b, &["assign", &ws, "--to", "alice", "--status", "done"], "done");
    fails(b, &["assign", &ws, "--to", "alice", "--folder", "/no/such/folder"], "no such folder");
}

fn search_finds_documents_by_text_label_and_corrected_verdict(b: &Backend) {
    let (ws, wsp) = workspace(b, &["s1.png", "s2.png"]);
    let total1 = add_box(&wsp, 1, "total_amount", "1.234,50 €");
    add_box(&wsp, 2, "total_amount", "99,00 €");
    add_box(&wsp, 2, "invoice_number", "RE-2024-0042");
    // alice submits both; rob reviews: doc 1's total has the wrong text, doc 2 is fine
    let mut alice = session(&wsp, "alice");
    for d in [1, 2] {
        alice.apply(Command::Submit { doc: DocId(d) }).unwrap();
    }
    let mut rob = session(&wsp, "rob");
    for d in [1, 2] {
        rob.apply(Command::StartReview { doc: DocId(d) }).unwrap();
    }
    rob.apply(Command::SetVerdict {
        doc: DocId(1),
        ann: total1,
        verdict: Verdict::WrongText,
        comment: "1.234,56 €".into(),
    })
    .unwrap();
    for d in [1, 2] {
        rob.apply(Command::AcceptRemaining { doc: DocId(d) }).unwrap();
        rob.apply(Command::FinishReview { doc: DocId(d), verdict: DocVerdict::Accept, comment: String::new() })
            .unwrap();
    }
    assert_eq!(user(&store(&wsp), "rob").role, Role::Reviewer);

    let json = ok(b, &["search", &ws, "--label", "total_amount", "--verdict", "corrected", "--json"]);
    let hits: serde_json::Value = serde_json::from_str(&json).unwrap();
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 1, "{json}");
    assert_eq!(hits[0]["doc"], 1);
    assert_eq!(hits[0]["boxes"][0]["verdicts"], serde_json::json!(["wrong_text"]));

    let by_text = ok(b, &["search", &ws, "--text", "re-2024"]);
    assert!(by_text.starts_with("2\taccepted\t") && by_text.contains("invoice_number\tRE-2024-0042"), "{by_text}");
    let ok_verdicts = ok(b, &["search", &ws, "--verdict", "ok", "--json"]);
    let n = serde_json::from_str::<serde_json::Value>(&ok_verdicts).unwrap().as_array().unwrap().len();
    assert_eq!(n, 1, "only doc 2's boxes were all ok: {ok_verdicts}");
    assert_eq!(ok(b, &["search", &ws, "--status", "new", "--json"]).trim(), "[]");
    // a deleted document is found only when asked for
    ok(b, &["docs", &ws, "delete", "1"]);
    assert!(ok(b, &["search", &ws, "--label", "total_amount", "--verdict", "corrected"]).is_empty());
    let shelved = ok(b, &["search", &ws, "--label", "total_amount", "--verdict", "corrected", "--shelved"]);
    assert!(shelved.starts_with("1\taccepted\ts1.png (deleted)"), "{shelved}");
    fails(b, &["search", &ws, "--verdict", "meh"], "not a verdict");
    fails(b, &["search", &ws, "--label", "totl"], "no label named totl");
}
