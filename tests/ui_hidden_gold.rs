//! Gold documents are honeypots: in an annotator's queue a gold document's row is exactly like
//! any other (no italics, no tag); only a lead's queue tags it "gold".

mod common;

use egui_kittest::kittest::Queryable;
use facture::app::Command;
use facture::domain::{Rect, Role};
use facture::store::{Store, Workspace};
use facture::ui::{FactureApp, ScriptedDialogs};

fn gold_workspace(dir: &std::path::Path) -> Workspace {
    let ws = Workspace::File(dir.join("ws.sqlite"));
    let docs = common::workspace(&ws, 2);
    Store::connect(&ws).unwrap().add_user("lea", Role::Lead).unwrap();
    let mut ann = common::session(&ws, "ann");
    let rect = Rect::new(10.0, 10.0, 200.0, 60.0);
    ann.apply(Command::AddBox { doc: docs[1], rect, quad: None, label: None, text: "TOTAL".into() }).unwrap();
    common::session(&ws, "lea").apply(Command::MarkGold { doc: docs[1] }).unwrap();
    assert!(Store::connect(&ws).unwrap().document(docs[1]).unwrap().is_gold);
    ws
}

fn queue_as(ws: &Workspace, user: &str) -> egui_kittest::Harness<'static, FactureApp> {
    let app = FactureApp::with_user(ws.clone(), user, None, Box::new(ScriptedDialogs::default())).unwrap();
    let mut h = common::window(app, [1400.0, 900.0]);
    assert!(common::until_window(&mut h, 20, &|a| a.annotator().is_some_and(|a| a.queue().len() == 2)));
    h
}

#[test]
fn an_annotator_cannot_tell_a_gold_document_from_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let ws = gold_workspace(dir.path());
    let h = queue_as(&ws, "ann");
    // both rows are there, named alike, and nothing says gold
    assert!(h.query_all_by_label("doc0.png").count() >= 1);
    assert!(h.query_all_by_label("doc1.png").count() >= 1);
    assert!(h.query_all_by_label_contains("gold").next().is_none(), "an annotator sees 'gold'");
}

#[test]
fn a_lead_sees_which_document_is_gold() {
    let dir = tempfile::tempdir().unwrap();
    let ws = gold_workspace(dir.path());
    let h = queue_as(&ws, "lea");
    assert_eq!(h.query_all_by_label("gold").count(), 1, "one gold tag in the lead's queue");
}
