//! A lead's housekeeping from the queue (egui_kittest): right-click a document to delete it
//! (soft: it leaves the queue, "set aside" shows it, Restore brings it back), raise its
//! priority (it moves to the top), and find documents by the text in their boxes.

mod common;

use egui_kittest::kittest::Queryable;
use facture::app::Command;
use facture::domain::{DocId, Rect, Role, Shelf};
use facture::store::{Store, Workspace};
use facture::ui::{FactureApp, ScriptedDialogs};

fn setup(dir: &std::path::Path) -> (Workspace, Vec<DocId>) {
    let ws = Workspace::File(dir.join("ws.sqlite"));
    let docs = common::workspace(&ws, 3);
    Store::connect(&ws).unwrap().add_user("lea", Role::Lead).unwrap();
    let mut ann = common::session(&ws, "ann");
    let rect = Rect::new(10.0, 10.0, 200.0, 60.0);
    ann.apply(Command::AddBox { doc: docs[2], rect, quad: None, label: None, text: "Rechnung RE-77".into() }).unwrap();
    (ws, docs)
}

fn window(ws: &Workspace, user: &str) -> egui_kittest::Harness<'static, FactureApp> {
    let app = FactureApp::with_user(ws.clone(), user, None, Box::new(ScriptedDialogs::default())).unwrap();
    let mut h = common::window(app, [1400.0, 900.0]);
    assert!(common::until_window(&mut h, 20, &|a| a.annotator().is_some_and(|a| a.queue().len() == 3)));
    h
}

fn queue_names(h: &egui_kittest::Harness<'static, FactureApp>) -> Vec<String> {
    h.state().annotator().unwrap().queue().iter().map(|d| d.display_name()).collect()
}

fn menu_click(h: &mut egui_kittest::Harness<'static, FactureApp>, row: &str, item: &str) {
    // the queue row is the last node of that name (the open document's title comes first)
    h.query_all_by_label(row).last().unwrap().click_secondary();
    h.run();
    h.get_by_label(item).click();
    h.run();
}

#[test]
fn a_lead_deletes_restores_and_prioritises_from_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, docs) = setup(dir.path());
    let mut h = window(&ws, "lea");

    menu_click(&mut h, "doc1.png", "Delete");
    assert!(common::until_window(&mut h, 20, &|a| a.annotator().is_some_and(|a| a.queue().len() == 2)));
    assert_eq!(Store::connect(&ws).unwrap().document(docs[1]).unwrap().shelved, Some(Shelf::Deleted));
    assert!(!queue_names(&h).contains(&"doc1.png".to_string()));

    h.get_by_label("set aside").click();
    assert!(common::until_window(&mut h, 20, &|a| a.annotator().is_some_and(|a| a.queue().len() == 1)));
    assert_eq!(queue_names(&h), ["doc1.png"]);
    menu_click(&mut h, "doc1.png", "Restore");
    assert!(common::until_window(&mut h, 20, &|a| a.annotator().is_some_and(|a| a.queue().is_empty())));
    assert_eq!(Store::connect(&ws).unwrap().document(docs[1]).unwrap().shelved, None);
    h.get_by_label("set aside").click();
    assert!(common::until_window(&mut h, 20, &|a| a.annotator().is_some_and(|a| a.queue().len() == 3)));

    menu_click(&mut h, "doc2.png", "Raise priority");
    assert!(common::until_window(&mut h, 20, &|a| {
        a.annotator().is_some_and(|a| a.queue().first().is_some_and(|d| d.display_name() == "doc2.png"))
    }));
    assert_eq!(Store::connect(&ws).unwrap().document(docs[2]).unwrap().priority, 1);
}

#[test]
fn anyone_finds_documents_by_the_text_in_their_boxes_and_annotators_get_no_housekeeping() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = setup(dir.path());
    let mut h = window(&ws, "ann");
    h.get_by_label("Find").click();
    h.run();
    h.get_by_label("Find").type_text("re-77");
    assert!(common::until_window(&mut h, 20, &|a| a.annotator().is_some_and(|a| a.queue().len() == 1)));
    assert_eq!(queue_names(&h), ["doc2.png"]);
    assert!(h.query_by_label("set aside").is_none(), "housekeeping is a lead's");
    h.query_all_by_label("doc2.png").last().unwrap().click_secondary();
    h.run();
    assert!(h.query_by_label("Delete").is_none());
}

#[test]
fn a_lead_assigns_every_document_the_queue_shows() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, docs) = setup(dir.path());
    let mut h = window(&ws, "lea");
    // filtered down to the one document with "RE-77" in a box
    h.get_by_label("Find").click();
    h.run();
    h.get_by_label("Find").type_text("re-77");
    assert!(common::until_window(&mut h, 20, &|a| a.annotator().is_some_and(|a| a.queue().len() == 1)));
    h.get_by_label("Assign 1…").click();
    h.run();
    h.get_by_label("to ann").click();
    let ann = Store::connect(&ws).unwrap().user_by_name("ann").unwrap().unwrap().id;
    let assigned = |d: DocId| Store::connect(&ws).unwrap().document(d).unwrap().assignee;
    let t0 = std::time::Instant::now();
    while assigned(docs[2]) != Some(ann) && t0.elapsed() < std::time::Duration::from_secs(20) {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!([assigned(docs[0]), assigned(docs[1]), assigned(docs[2])], [None, None, Some(ann)]);
}

#[test]
fn the_queue_shows_a_preview_of_each_page_and_says_when_one_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::File(dir.path().join("ws.sqlite"));
    let mut paths = Vec::new();
    for i in 0..2u8 {
        let p = dir.path().join(format!("scan{i}.png"));
        common::write_png(&p, 300, 400, i * 40);
        paths.push(p);
    }
    let mut store = Store::create_at(&ws).unwrap();
    facture::app::import::import_paths(&mut store, &paths, 0, |_, _| {}).unwrap();
    store.add_user("ann", Role::Annotator).unwrap();
    drop(store);
    std::fs::remove_file(&paths[1]).unwrap();
    let app = FactureApp::with_user(ws.clone(), "ann", None, Box::new(ScriptedDialogs::default())).unwrap();
    let mut h = common::window(app, [1400.0, 900.0]);
    let t0 = std::time::Instant::now();
    while (h.query_by_label("preview of scan0.png").is_none()
        || h.query_by_label("preview of scan1.png (unreadable)").is_none())
        && t0.elapsed() < std::time::Duration::from_secs(20)
    {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(h.query_by_label("preview of scan0.png").is_some(), "the first page's preview arrived");
    assert!(h.query_by_label("preview of scan1.png (unreadable)").is_some(), "a missing file is said so");
    // turned off, rows are plain again
    h.get_by_label("previews").click();
    h.run();
    assert!(h.query_all_by_label_contains("preview of").next().is_none());
}

#[test]
fn a_lead_filters_the_queue_to_documents_corrected_in_review() {
    use facture::domain::{DocVerdict, Verdict};
    let dir = tempfile::tempdir().unwrap();
    let (ws, docs) = setup(dir.path());
    Store::connect(&ws).unwrap().add_user("rob", Role::Reviewer).unwrap();
    let mut ann = common::session(&ws, "ann");
    let rect = Rect::new(300.0, 10.0, 500.0, 60.0);
    let first =
        ann.apply(Command::AddBox { doc: docs[0], rect, quad: None, label: None, text: "12,0O".into() }).unwrap();
    let wrong = first.created_boxes()[0];
    ann.apply(Command::AddBox { doc: docs[1], rect, quad: None, label: None, text: "fine".into() }).unwrap();
    for d in [docs[0], docs[1]] {
        ann.apply(Command::Submit { doc: d }).unwrap();
    }
    let mut rob = common::session(&ws, "rob");
    for d in [docs[0], docs[1]] {
        rob.apply(Command::StartReview { doc: d }).unwrap();
    }
    rob.apply(Command::SetVerdict { doc: docs[0], ann: wrong, verdict: Verdict::WrongText, comment: "12,00".into() })
        .unwrap();
    for d in [docs[0], docs[1]] {
        rob.apply(Command::AcceptRemaining { doc: d }).unwrap();
        rob.apply(Command::FinishReview { doc: d, verdict: DocVerdict::Accept, comment: String::new() }).unwrap();
    }
    let mut h = window(&ws, "lea");
    h.get_by_label("verdict").click();
    h.run();
    h.get_by_label("corrected").click();
    assert!(common::until_window(&mut h, 20, &|a| a.annotator().is_some_and(|a| a.queue().len() == 1)));
    assert_eq!(queue_names(&h), ["doc0.png"]);
}
