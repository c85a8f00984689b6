//! The "Label schema" window in the real annotator UI (egui_kittest, headless): a lead adds,
//! renames (and undoes it), reorders, retires, reinstates and merges labels and edits a
//! guideline; a hotkey that is taken is refused with a sentence; the palette follows at once
//! and the store has each change; a non-lead is not offered the window.

mod common;

use std::path::{Path, PathBuf};

use eframe::egui::Key;
use eframe::egui::accesskit::Role as AkRole;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use facture::app::import::import_paths;
use facture::app::{Command, Session};
use facture::domain::{Annotation, Rect, Role};
use facture::store::{DocFilter, Store};
use facture::ui::{FactureApp, ScriptedDialogs};

/// One 800×600 page with a box per `labels` entry (labelled so), alice (annotator) and lea (lead).
fn workspace(dir: &Path, labels: &[&str]) -> PathBuf {
    let png = dir.join("page.png");
    image::RgbImage::from_fn(800, 600, |x, y| {
        if y % 40 < 2 || x % 97 == 0 { image::Rgb([120, 120, 120]) } else { image::Rgb([250, 250, 245]) }
    })
    .save(&png)
    .unwrap();
    let ws = dir.join("ws.sqlite");
    let mut store = Store::create(&ws).unwrap();
    import_paths(&mut store, &[png], 0, |_, _| {}).unwrap();
    store.add_user("alice", Role::Annotator).unwrap();
    let lea = store.add_user("lea", Role::Lead).unwrap();
    let doc = store.documents(&DocFilter::default()).unwrap()[0].id;
    let mut s = Session::new(store, lea);
    for (i, name) in labels.iter().enumerate() {
        let label = s.store().label_by_name(name).unwrap().map(|l| l.id);
        assert!(label.is_some(), "{name} is not in the default schema");
        let y = 50.0 + 60.0 * i as f32;
        s.apply(Command::AddBox {
            doc,
            rect: Rect::new(100.0, y, 300.0, y + 30.0),
            quad: None,
            label,
            text: "x".into(),
        })
        .unwrap();
    }
    ws
}

fn open(ws: &Path, user: &str) -> Harness<'static, FactureApp> {
    let app = FactureApp::with_user(ws, user, None, Box::new(ScriptedDialogs::default())).unwrap();
    let mut h = common::window(app, [1280.0, 900.0]);
    assert!(common::until_window(&mut h, 30, &|app| app.annotator().is_some_and(|a| a.page_settled())));
    h
}

/// Steps until the schema window has its answers and the store worker is idle.
fn settle(h: &mut Harness<'static, FactureApp>) {
    h.run();
    let done = common::until_window(h, 30, &|app| {
        app.annotator().is_some_and(|a| a.schema_settled() && !a.is_waiting_for_store())
    });
    assert!(done, "the schema window did not settle");
}

fn open_schema(h: &mut Harness<'static, FactureApp>) {
    h.get_by_label("Workspace").click();
    h.run();
    h.get_by_label("Label schema…").click();
    settle(h);
}

fn click(h: &mut Harness<'static, FactureApp>, label: &str) {
    h.get_by_label(label).click();
    settle(h);
}

/// Picks `option` in the combo box named `combo`.
fn choose(h: &mut Harness<'static, FactureApp>, combo: &str, option: &str) {
    h.get_by_role_and_label(AkRole::ComboBox, combo).click();
    h.run();
    h.get_by_label(option).click();
    settle(h);
}

/// Puts `text` into the field named `field` and presses Enter.
fn type_and_enter(h: &mut Harness<'static, FactureApp>, field: &str, text: &str) {
    h.get_by_label(field).focus();
    h.run();
    h.get_by_label(field).set_text_value_accesskit(text);
    h.run();
    h.key_press(Key::Enter);
    settle(h);
}

/// The labels the palette offers (its buttons, by display name).
fn in_palette(h: &Harness<'static, FactureApp>, display: &str) -> bool {
    h.query_by_role_and_label(AkRole::Button, display).is_some()
}

fn store_label(ws: &Path, name: &str) -> Option<facture::domain::Label> {
    Store::open(ws).unwrap().label_by_name(name).unwrap()
}

fn boxes(ws: &Path) -> Vec<Annotation> {
    let store = Store::open(ws).unwrap();
    let doc = store.documents(&DocFilter::default()).unwrap()[0].id;
    store.annotations(doc).unwrap()
}

#[test]
fn a_lead_adds_a_label_and_the_palette_shows_it_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), &[]);
    let mut h = open(&ws, "lea");
    assert!(!in_palette(&h, "Due amount"));
    open_schema(&mut h);
    assert!(h.query_by_label("Schema version 0").is_some());
    // the table lists the default schema in palette order
    assert!(h.query_by_label("Name of invoice_number").is_some());
    assert!(h.query_by_label("Name of other_text").is_some());

    h.get_by_label("New label name").focus();
    h.run();
    h.get_by_label("New label name").type_text("due_amount");
    h.run();
    h.get_by_role_and_label(AkRole::Button, "Add label").click();
    settle(&mut h);

    let added = store_label(&ws, "due_amount").expect("the label is in the store");
    assert_eq!((added.hotkey, added.retired, added.position), (None, false, 19));
    assert!(in_palette(&h, "Due amount"), "the palette shows the new label");
    assert_eq!(h.state().annotator().unwrap().labels().last().unwrap().name, "due_amount");
    assert!(h.query_by_label("Schema version 1").is_some());
    assert!(h.query_by_label("Added due_amount.").is_some());
    assert!(h.query_by_label("Name of due_amount").is_some(), "and so does the table");

    // a name a dataset cannot carry is refused, in words, and nothing is added
    h.get_by_label("New label name").focus();
    h.run();
    h.get_by_label("New label name").set_text_value_accesskit("due amount");
    h.run();
    h.get_by_role_and_label(AkRole::Button, "Add label").click();
    settle(&mut h);
    assert!(h.query_by_label_contains("'due amount' has ' ' in it").is_some());
    assert_eq!(Store::open(&ws).unwrap().labels().unwrap().len(), 20);
}

#[test]
fn a_rename_is_undone_and_redone_and_a_label_moves_up() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), &["invoice_date"]);
    let mut h = open(&ws, "lea");
    open_schema(&mut h);
    let id = store_label(&ws, "invoice_date").unwrap().id;

    type_and_enter(&mut h, "Name of invoice_date", "issue_date");
    assert_eq!(Store::open(&ws).unwrap().label(id).unwrap().name, "issue_date");
    assert!(in_palette(&h, "Issue date") && !in_palette(&h, "Invoice date"));
    assert!(h.query_by_label("Schema version 1").is_some());
    assert_eq!(boxes(&ws)[0].label, Some(id), "the box keeps its label under the new name");

    click(&mut h, "Undo schema change");
    assert_eq!(Store::open(&ws).unwrap().label(id).unwrap().name, "invoice_date", "the name is back in the store");
    assert!(in_palette(&h, "Invoice date") && !in_palette(&h, "Issue date"));
    assert!(h.query_by_label("Undone: renaming a label.").is_some());
    assert!(h.query_by_label("Schema version 2").is_some(), "an undo is a change of the schema too");

    click(&mut h, "Redo schema change");
    assert_eq!(Store::open(&ws).unwrap().label(id).unwrap().name, "issue_date");
    assert!(in_palette(&h, "Issue date"));

    click(&mut h, "Move due_date up");
    let names: Vec<String> = Store::open(&ws).unwrap().labels().unwrap().into_iter().map(|l| l.name).collect();
    assert_eq!(&names[..3], ["invoice_number", "due_date", "issue_date"]);
    let shown: Vec<&str> = h.state().annotator().unwrap().labels().iter().map(|l| l.name.as_str()).collect();
    assert_eq!(&shown[..3], ["invoice_number", "due_date", "issue_date"], "the palette follows the order");
}

#[test]
fn a_hotkey_that_is_taken_is_refused_with_whose_it_is_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), &[]);
    let mut h = open(&ws, "lea");
    open_schema(&mut h);
    choose(&mut h, "Hotkey of due_date", "2 (invoice_date)");
    assert!(h.query_by_label("Hotkey 2 is already invoice_date's").is_some(), "the error is shown in the window");
    assert_eq!(store_label(&ws, "due_date").unwrap().hotkey.as_deref(), Some("3"), "the store is unchanged");
    assert!(h.query_by_label("Schema version 0").is_some());

    // taking it away works, and the key is then free for another label
    choose(&mut h, "Hotkey of invoice_date", "none");
    assert_eq!(store_label(&ws, "invoice_date").unwrap().hotkey, None);
    choose(&mut h, "Hotkey of due_date", "2");
    assert_eq!(store_label(&ws, "due_date").unwrap().hotkey.as_deref(), Some("2"));
    assert_eq!(h.state().annotator().unwrap().labels()[2].hotkey.as_deref(), Some("2"));
}

#[test]
fn a_retired_label_stays_on_its_boxes_but_leaves_the_palette_until_reinstated() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), &["invoice_date", "due_date"]);
    let mut h = open(&ws, "lea");
    let id = store_label(&ws, "invoice_date").unwrap().id;
    assert!(in_palette(&h, "Invoice date"));
    open_schema(&mut h);

    click(&mut h, "Retire invoice_date");
    let stored = store_label(&ws, "invoice_date").unwrap();
    assert!(stored.retired && stored.hotkey.is_none(), "{stored:?}");
    assert_eq!(boxes(&ws)[0].label, Some(id), "the box keeps its label");
    assert!(!in_palette(&h, "Invoice date"), "a retired label cannot be given from the palette");
    assert!(in_palette(&h, "Due date"));
    let a = h.state().annotator().unwrap();
    assert!(a.label(id).is_some_and(|l| l.retired), "boxes are still drawn with it");
    assert_eq!(a.annotations()[0].label, Some(id));
    assert!(h.query_by_label("Reinstate invoice_date").is_some());

    // its old hotkey assigns nothing now: the selected box keeps its label
    let box_id = boxes(&ws)[0].id;
    h.state_mut().annotator_mut().unwrap().editor_mut().select_only(box_id);
    h.run();
    h.key_press(Key::Num2);
    h.run();
    h.state_mut().annotator_mut().unwrap().wait_for_store();
    assert_eq!(boxes(&ws)[0].label, Some(id));

    click(&mut h, "Reinstate invoice_date");
    assert!(!store_label(&ws, "invoice_date").unwrap().retired);
    assert!(in_palette(&h, "Invoice date"));
}

#[test]
fn merging_relabels_the_boxes_and_removes_the_label() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), &["invoice_date", "invoice_date", "invoice_number"]);
    let mut h = open(&ws, "lea");
    let (from, into) = (store_label(&ws, "invoice_date").unwrap().id, store_label(&ws, "invoice_number").unwrap().id);
    open_schema(&mut h);

    choose(&mut h, "Merge from", "invoice_date");
    choose(&mut h, "Merge into", "invoice_number");
    // the button says how many boxes it relabels
    click(&mut h, "Merge, relabelling 2 box(es)");
    assert!(boxes(&ws).iter().all(|b| b.label == Some(into)), "{:?}", boxes(&ws));
    assert!(store_label(&ws, "invoice_date").is_none(), "the merged label is gone");
    assert!(h.query_by_label("Merged into invoice_number: 2 box(es) relabelled.").is_some());
    let a = h.state().annotator().unwrap();
    assert!(a.label(from).is_none() && !in_palette(&h, "Invoice date"));
    assert!(a.annotations().iter().all(|b| b.label == Some(into)), "the open page shows the boxes relabelled");

    // one undo brings the label and its boxes back
    click(&mut h, "Undo schema change");
    assert_eq!(boxes(&ws).iter().filter(|b| b.label == Some(from)).count(), 2);
    assert!(in_palette(&h, "Invoice date"));
    assert_eq!(h.state().annotator().unwrap().annotations().iter().filter(|b| b.label == Some(from)).count(), 2);
}

#[test]
fn a_guideline_is_edited_below_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), &[]);
    let mut h = open(&ws, "lea");
    open_schema(&mut h);
    click(&mut h, "Guideline of invoice_number");
    h.get_by_label("Guideline text of invoice_number").focus();
    h.run();
    h.get_by_label("Guideline text of invoice_number").set_text_value_accesskit("Box the number only.");
    h.run();
    // choosing another label saves what was typed
    click(&mut h, "Guideline of invoice_date");
    assert_eq!(store_label(&ws, "invoice_number").unwrap().guideline, "Box the number only.");
    assert!(h.query_by_label("Guideline text of invoice_date").is_some());
}

#[test]
fn a_non_lead_is_not_offered_the_schema_window() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), &[]);
    let mut h = open(&ws, "alice");
    h.get_by_label("Workspace").click();
    h.run();
    assert!(h.query_by_label("Import pages…").is_some(), "the menu is open");
    assert!(h.query_by_label("Label schema…").is_none());
    h.key_press(Key::Escape);
    h.run();
    // nor does asking for it open it
    h.state_mut().annotator_mut().unwrap().open_schema();
    h.run();
    assert!(h.query_by_label("Schema version 0").is_none());
    assert!(h.query_by_label("New label name").is_none());
}
