//! The window opened on documents (`facture a.png b.png`, as a file manager starts it), driven
//! headlessly (egui_kittest): once a work view is up it asks where they go, imports them into
//! the open workspace or a new one, and imports nothing when cancelled.

mod common;

use std::path::{Path, PathBuf};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use facture::domain::Role;
use facture::store::{DocFilter, Store, Workspace};
use facture::ui::{FactureApp, ScriptedDialogs};

/// A workspace file with one person in it and no documents, and two scans beside it.
fn setup(dir: &Path, user: &str, role: Role) -> (Workspace, Vec<PathBuf>) {
    let ws = Workspace::File(dir.join("ws.sqlite"));
    Store::create_at(&ws).unwrap().add_user(user, role).unwrap();
    let scans = dir.join("scans");
    std::fs::create_dir_all(&scans).unwrap();
    let pages: Vec<PathBuf> = ["first-invoice.png", "second-invoice.png"].iter().map(|n| scans.join(n)).collect();
    for (i, p) in pages.iter().enumerate() {
        common::write_png(p, 64, 48, i as u8 * 40 + 7);
    }
    (ws, pages)
}

fn documents_in(ws: &Workspace) -> usize {
    Store::connect(ws).unwrap().documents(&DocFilter::default()).unwrap().len()
}

/// The window working in `ws` as `user`, opened on `pages`.
fn opened_on(ws: &Workspace, user: &str, pages: &[PathBuf], dialogs: ScriptedDialogs) -> Harness<'static, FactureApp> {
    let mut app = FactureApp::with_user(ws.clone(), user, None, Box::new(dialogs)).unwrap();
    app.offer_import(pages.to_vec());
    let mut h = common::window(app, [1280.0, 800.0]);
    h.run();
    h
}

fn until(h: &mut Harness<'static, FactureApp>, done: &dyn Fn(&FactureApp) -> bool) -> bool {
    common::until_window(h, 30, done)
}

/// Some frames for whatever a wrong answer might have started (an import on its worker).
fn settle(h: &mut Harness<'static, FactureApp>) {
    for _ in 0..20 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    h.run();
}

fn offer_shown(h: &Harness<'static, FactureApp>) -> bool {
    h.query_by_label_contains("Import 2 documents?").is_some()
}

#[test]
fn the_offer_names_the_documents_and_import_brings_them_into_the_open_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, pages) = setup(dir.path(), "ann", Role::Annotator);
    let mut h = opened_on(&ws, "ann", &pages, ScriptedDialogs::default());
    assert!(offer_shown(&h), "the window asks what to do with the documents");
    assert!(h.query_by_label("first-invoice.png").is_some());
    assert!(h.query_by_label("second-invoice.png").is_some());
    assert!(h.query_by_label_contains("No workspace used yet").is_none(), "not the demo workspace");
    assert!(h.state().annotator().unwrap().queue().is_empty());

    h.get_by_label("Import into ws").click();
    h.run();
    assert!(!offer_shown(&h), "the question is gone once answered");
    assert!(!h.state().is_offering_import());
    assert!(
        until(&mut h, &|a| a.annotator().unwrap().queue().len() == 2),
        "the two scans never reached the queue: {:?}",
        h.state().annotator().unwrap().status()
    );
    let status = format!("{:?}", h.state().annotator().unwrap().status());
    assert!(status.contains("2 page(s) added"), "{status}");
    assert_eq!(documents_in(&ws), 2);
    // the view was empty: the first imported page opens
    assert!(until(&mut h, &|a| a.annotator().unwrap().document().is_some()), "no page opened after the import");
    // answered once: not asked again
    settle(&mut h);
    assert!(!offer_shown(&h));
    assert_eq!(documents_in(&ws), 2);
}

#[test]
fn cancel_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, pages) = setup(dir.path(), "ann", Role::Annotator);
    let mut h = opened_on(&ws, "ann", &pages, ScriptedDialogs::default());
    assert!(offer_shown(&h));
    h.get_by_label("Cancel").click();
    h.run();
    assert!(!h.state().is_offering_import());
    assert!(!h.state().annotator().unwrap().is_busy(), "no import started");
    settle(&mut h);
    assert!(!offer_shown(&h));
    assert_eq!(documents_in(&ws), 0);
    assert!(h.state().annotator().unwrap().queue().is_empty());
}

#[test]
fn escape_closes_the_offer_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, pages) = setup(dir.path(), "ann", Role::Annotator);
    let mut h = opened_on(&ws, "ann", &pages, ScriptedDialogs::default());
    assert!(offer_shown(&h));
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(!h.state().is_offering_import());
    assert!(!offer_shown(&h));
    settle(&mut h);
    assert_eq!(documents_in(&ws), 0);
}

#[test]
fn new_workspace_creates_one_and_the_documents_land_there_not_in_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let (first, pages) = setup(dir.path(), "ann", Role::Annotator);
    let created = dir.path().join("clients").join("acme.sqlite");
    std::fs::create_dir_all(created.parent().unwrap()).unwrap();
    let mut h = opened_on(&first, "ann", &pages, ScriptedDialogs::new([Some(created.clone())]));
    h.get_by_label("New workspace…").click();
    h.run();
    // the new workspace's start screen: nobody works there yet; the creator's name is ready
    assert!(h.state().annotator().is_none(), "on the new workspace's start screen");
    assert!(created.exists(), "the workspace file is created");
    assert!(h.query_by_label_contains("will be imported into this workspace once you continue").is_some());
    assert_eq!(h.get_by_label("New user").value().as_deref(), Some("ann"));
    h.get_by_label("Add and continue").click();
    h.run();
    let new_ws = Workspace::File(created.clone());
    assert_eq!(h.state().annotator().map(|a| a.workspace().clone()), Some(new_ws.clone()));
    // no second question: they go straight in
    assert!(!offer_shown(&h));
    assert!(
        until(&mut h, &|a| a.annotator().unwrap().queue().len() == 2),
        "the scans never reached the new workspace's queue: {:?}",
        h.state().annotator().unwrap().status()
    );
    assert_eq!(documents_in(&new_ws), 2);
    assert_eq!(documents_in(&first), 0, "nothing went into the first workspace");
    assert!(until(&mut h, &|a| a.annotator().unwrap().document().is_some()), "no page opened after the import");
    assert!(!h.state().is_offering_import());
}

#[test]
fn a_cancelled_save_dialog_leaves_the_question_up() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, pages) = setup(dir.path(), "ann", Role::Annotator);
    let mut h = opened_on(&ws, "ann", &pages, ScriptedDialogs::new([None]));
    h.get_by_label("New workspace…").click();
    h.run();
    assert!(offer_shown(&h), "still asked");
    assert_eq!(h.state().annotator().map(|a| a.workspace().clone()), Some(ws.clone()));
}

#[test]
fn a_reviewer_gets_the_same_offer_and_enter_imports() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, pages) = setup(dir.path(), "rita", Role::Reviewer);
    let mut h = opened_on(&ws, "rita", &pages, ScriptedDialogs::default());
    assert!(offer_shown(&h));
    assert!(h.query_by_label("Import into ws").is_some(), "reviewers may import");
    h.key_press(egui::Key::Enter);
    h.run();
    assert!(!h.state().is_offering_import());
    assert!(until(&mut h, &|a| !a.annotator().unwrap().is_busy()), "the import never ended");
    assert!(until(&mut h, &|_| documents_in(&ws) == 2), "got {} documents", documents_in(&ws));
}

#[test]
fn on_the_demo_fallback_the_offer_waits_for_the_start_screen_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, pages) = setup(dir.path(), "alice", Role::Annotator);
    // opened as when no workspace was used on this computer yet: the demo, alice preselected
    let mut app = FactureApp::new(ws.clone(), true, None, Box::new(ScriptedDialogs::default()));
    app.offer_import(pages.clone());
    let mut h = common::window(app, [1280.0, 800.0]);
    h.run();
    assert!(h.state().annotator().is_none(), "the start screen asks who is working first");
    assert!(!offer_shown(&h), "not asked before a work view is up");
    assert!(h.query_by_label_contains("Opened with 2 documents").is_some(), "the start screen says they wait");
    h.get_by_label("Continue as alice").click();
    h.run();
    assert!(offer_shown(&h));
    assert!(h.query_by_label_contains("No workspace used yet on this computer").is_some());
    h.get_by_label("Import into the demo workspace").click();
    h.run();
    assert!(until(&mut h, &|a| a.annotator().unwrap().queue().len() == 2), "the scans never reached the queue");
    assert_eq!(documents_in(&ws), 2);
}
