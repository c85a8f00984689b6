//! The workspace store: migrations, durability, the edit log, and refusing what it must refuse.

mod common;

use std::time::Duration;

use facture::app::{Command, CommandError, Outcome};
use facture::domain::{AnnState, Change, DocStatus, EditKind, LinkKind, Rect, Source};
use facture::store::{LATEST_VERSION, Store, StoreError};

#[test]
fn new_workspace_is_migrated_seeded_and_reopens_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.sqlite");
    let id = {
        let s = Store::create(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), LATEST_VERSION);
        assert_eq!(s.labels().unwrap().len(), 19);
        s.workspace_id().unwrap()
    };
    let s = Store::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), LATEST_VERSION);
    assert_eq!(s.labels().unwrap().len(), 19, "re-opening must not seed twice");
    assert_eq!(s.workspace_id().unwrap(), id);
    assert!(matches!(Store::create(&path), Err(StoreError::Invalid(_))), "create refuses to overwrite");
}

#[test]
fn in_memory_workspace_migrates_from_empty() {
    let s = Store::open_in_memory().unwrap();
    assert_eq!(s.schema_version().unwrap(), LATEST_VERSION);
    assert_eq!(s.edit_count().unwrap(), 0);
}

#[test]
fn newer_schema_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.sqlite");
    drop(Store::create(&path).unwrap());
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", LATEST_VERSION + 5).unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NewerSchema { found, .. } if found == LATEST_VERSION + 5), "{err}");
    assert!(err.to_string().contains("newer Facture"));
    assert_eq!(std::fs::read(&path).unwrap(), before, "file changed");
}

#[test]
fn locked_workspace_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.sqlite");
    drop(Store::create(&path).unwrap());
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder.execute_batch("PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; INSERT INTO meta VALUES ('x','y');").unwrap();
    let err = Store::open_with_timeout(&path, Duration::from_millis(100)).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("locked by another process"));
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    let s = Store::open(&path).unwrap();
    assert_eq!(s.labels().unwrap().len(), 19);
}

#[test]
fn a_file_that_is_not_a_workspace_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, b"this is not a database, just some text that is long enough to look like one").unwrap();
    let err = Store::open(&junk).unwrap_err();
    assert!(matches!(err, StoreError::NotAWorkspace { .. }), "{err}");
    let other = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE t(x)").unwrap();
    assert!(matches!(Store::open(&other), Err(StoreError::NotAWorkspace { .. })));
    assert!(matches!(Store::open(&dir.path().join("missing.sqlite")), Err(StoreError::NotFound { .. })));
}

#[test]
fn every_edit_kind_is_durable_and_logged_with_enough_to_undo() {
    let dir = tempfile::tempdir().unwrap();
    let (path, docs) = common::workspace(dir.path(), 1);
    let doc = docs[0];
    let mut s = common::session(&path, "ann");
    let total = s.store().label_by_name("total_amount").unwrap().unwrap().id;

    let a = s
        .apply(Command::AddBox {
            doc,
            rect: Rect::new(10.0, 10.0, 110.0, 40.0),
            quad: None,
            label: None,
            text: String::new(),
        })
        .unwrap()
        .created_boxes()[0];
    let b = s
        .apply(Command::AddBox {
            doc,
            rect: Rect::new(200.0, 10.0, 300.0, 40.0),
            quad: None,
            label: None,
            text: "x".into(),
        })
        .unwrap()
        .created_boxes()[0];
    s.apply(Command::MoveBoxes { doc, ids: vec![a], dx: 5.0, dy: 7.0 }).unwrap();
    s.apply(Command::SetGeometry { doc, boxes: vec![(b, Rect::new(200.0, 12.0, 320.0, 44.0), None)] }).unwrap();
    s.apply(Command::SetLabel { doc, ids: vec![a], label: Some(total) }).unwrap();
    s.apply(Command::SetText { doc, id: a, text: "1 234,50 €".into() }).unwrap();
    s.apply(Command::AddLink { doc, from: b, to: a, kind: LinkKind::KeyValue }).unwrap();
    let dup = s.apply(Command::DuplicateBoxes { doc, ids: vec![a], dx: 0.0, dy: 50.0 }).unwrap().created_boxes();
    s.apply(Command::DeleteBoxes { doc, ids: dup }).unwrap();

    // A fresh connection sees all of it, exactly as acknowledged.
    let fresh = Store::open(&path).unwrap();
    let anns = fresh.annotations(doc).unwrap();
    assert_eq!(anns.len(), 2);
    let ra = anns.iter().find(|x| x.id == a).unwrap();
    assert_eq!(ra.rect, Rect::new(15.0, 17.0, 115.0, 47.0));
    assert_eq!(ra.label, Some(total));
    assert_eq!(ra.text, "1 234,50 €");
    assert_eq!(ra.text_source, Source::Manual);
    assert_eq!(anns.iter().find(|x| x.id == b).unwrap().rect, Rect::new(200.0, 12.0, 320.0, 44.0));
    assert_eq!(fresh.links(doc).unwrap().len(), 1);
    assert_eq!(fresh.document(doc).unwrap().status, DocStatus::InProgress, "first edit starts work");

    let log = fresh.edits_on(doc).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "add_box",
            "add_box",
            "move_boxes",
            "set_geometry",
            "set_label",
            "set_text",
            "add_link",
            "duplicate_boxes",
            "delete_boxes"
        ]
    );
    assert!(log.iter().all(|e| e.user == Some(s.user().id) && e.kind == EditKind::Do));
    // The move records before and after, so it can be undone from the log alone.
    match &log[2].changes[0] {
        Change::Annotation { before: Some(b0), after: Some(a0) } => {
            assert_eq!(b0.rect, Rect::new(10.0, 10.0, 110.0, 40.0));
            assert_eq!(a0.rect, Rect::new(15.0, 17.0, 115.0, 47.0));
        }
        other => panic!("unexpected change {other:?}"),
    }
    assert!(log[0].changes.iter().any(|c| matches!(c, Change::Status { after: DocStatus::InProgress, .. })));
}

#[test]
fn undo_and_redo_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (path, docs) = common::workspace(dir.path(), 1);
    let doc = docs[0];
    let a = {
        let mut s = common::session(&path, "ann");
        let a = s
            .apply(Command::AddBox {
                doc,
                rect: Rect::new(1.0, 1.0, 50.0, 20.0),
                quad: None,
                label: None,
                text: String::new(),
            })
            .unwrap()
            .created_boxes()[0];
        s.apply(Command::SetText { doc, id: a, text: "first".into() }).unwrap();
        s.apply(Command::SetText { doc, id: a, text: "second".into() }).unwrap();
        a
    };
    let mut s = common::session(&path, "ann");
    s.apply(Command::Undo { doc }).unwrap();
    assert_eq!(s.store().annotation(a).unwrap().text, "first");
    drop(s);
    let mut s = common::session(&path, "ann");
    s.apply(Command::Undo { doc }).unwrap();
    assert_eq!(s.store().annotation(a).unwrap().text, "");
    s.apply(Command::Redo { doc }).unwrap();
    s.apply(Command::Redo { doc }).unwrap();
    assert_eq!(s.store().annotation(a).unwrap().text, "second");
    assert!(matches!(s.apply(Command::Redo { doc }), Err(CommandError::NothingToRedo)));
    // Undo everything, including the box itself, then redo it back with the same id.
    s.apply(Command::Undo { doc }).unwrap();
    s.apply(Command::Undo { doc }).unwrap();
    s.apply(Command::Undo { doc }).unwrap();
    assert!(s.store().annotations(doc).unwrap().is_empty());
    assert!(matches!(s.apply(Command::Undo { doc }), Err(CommandError::NothingToUndo)));
    s.apply(Command::Redo { doc }).unwrap();
    assert_eq!(s.store().annotation(a).unwrap().text, "");
}

#[test]
fn undoing_a_delete_restores_the_box_and_its_links() {
    let dir = tempfile::tempdir().unwrap();
    let (path, docs) = common::workspace(dir.path(), 1);
    let doc = docs[0];
    let mut s = common::session(&path, "ann");
    let add = |s: &mut facture::app::Session, x: f32| {
        s.apply(Command::AddBox {
            doc,
            rect: Rect::new(x, 1.0, x + 40.0, 20.0),
            quad: None,
            label: None,
            text: String::new(),
        })
        .unwrap()
        .created_boxes()[0]
    };
    let k = add(&mut s, 1.0);
    let v = add(&mut s, 100.0);
    s.apply(Command::AddLink { doc, from: k, to: v, kind: LinkKind::KeyValue }).unwrap();
    s.apply(Command::DeleteBoxes { doc, ids: vec![v] }).unwrap();
    assert!(s.store().links(doc).unwrap().is_empty());
    s.apply(Command::Undo { doc }).unwrap();
    assert_eq!(s.store().annotations(doc).unwrap().len(), 2);
    let links = s.store().links(doc).unwrap();
    assert_eq!((links.len(), links[0].from, links[0].to), (1, k, v));
}

#[test]
fn suggestions_never_duplicate_manual_boxes_and_accepting_is_one_undo_step() {
    let dir = tempfile::tempdir().unwrap();
    let (path, docs) = common::workspace(dir.path(), 1);
    let doc = docs[0];
    let mut s = common::session(&path, "ann");
    s.apply(Command::AddBox {
        doc,
        rect: Rect::new(10.0, 10.0, 100.0, 30.0),
        quad: None,
        label: None,
        text: "mine".into(),
    })
    .unwrap();
    let items = vec![
        facture::app::SuggestionInput {
            rect: Rect::new(11.0, 11.0, 99.0, 29.0),
            quad: None,
            text: Some("x".into()),
            score: 0.9,
        },
        facture::app::SuggestionInput {
            rect: Rect::new(10.0, 50.0, 100.0, 70.0),
            quad: None,
            text: Some("b".into()),
            score: 0.8,
        },
        facture::app::SuggestionInput { rect: Rect::new(10.0, 90.0, 100.0, 110.0), quad: None, text: None, score: 0.3 },
    ];
    let added = s
        .apply(Command::AddSuggestions { doc, source: Source::Model("m".into()), items, skip_iou: 0.3 })
        .unwrap()
        .created_boxes();
    assert_eq!(added.len(), 2, "the one over the manual box is skipped");
    assert_eq!(s.store().annotation(added[0]).unwrap().state, AnnState::Suggested);
    assert!(matches!(s.apply(Command::Submit { doc }), Err(CommandError::Refused(m)) if m.contains("suggestion")));
    s.apply(Command::AcceptSuggestions { doc, ids: added.clone() }).unwrap();
    assert!(added.iter().all(|&id| s.store().annotation(id).unwrap().state == AnnState::Active));
    s.apply(Command::Undo { doc }).unwrap();
    assert!(added.iter().all(|&id| s.store().annotation(id).unwrap().state == AnnState::Suggested));
    s.apply(Command::RejectSuggestions { doc, ids: vec![added[1]] }).unwrap();
    assert_eq!(s.store().annotations(doc).unwrap().len(), 2);
}

#[test]
fn machine_text_never_overwrites_typed_text() {
    let dir = tempfile::tempdir().unwrap();
    let (path, docs) = common::workspace(dir.path(), 1);
    let doc = docs[0];
    let mut s = common::session(&path, "ann");
    let typed = s
        .apply(Command::AddBox {
            doc,
            rect: Rect::new(1.0, 1.0, 50.0, 20.0),
            quad: None,
            label: None,
            text: String::new(),
        })
        .unwrap()
        .created_boxes()[0];
    s.apply(Command::SetText { doc, id: typed, text: "TOTAL".into() }).unwrap();
    let empty = s
        .apply(Command::AddBox {
            doc,
            rect: Rect::new(1.0, 40.0, 50.0, 60.0),
            quad: None,
            label: None,
            text: String::new(),
        })
        .unwrap()
        .created_boxes()[0];
    let src = Source::Model("ppocr".into());
    s.apply(Command::FillText {
        doc,
        texts: vec![(typed, "T0TAL".into(), 0.9), (empty, "12,00 €".into(), 0.8)],
        source: src.clone(),
    })
    .unwrap();
    assert_eq!(s.store().annotation(typed).unwrap().text, "TOTAL");
    let filled = s.store().annotation(empty).unwrap();
    assert_eq!((filled.text.as_str(), filled.text_source), ("12,00 €", src.clone()));
    // Model-made text may be refreshed by the model.
    s.apply(Command::FillText { doc, texts: vec![(empty, "12,50 €".into(), 0.9)], source: src }).unwrap();
    assert_eq!(s.store().annotation(empty).unwrap().text, "12,50 €");
}

#[test]
fn submitted_documents_are_locked_for_the_annotator() {
    let dir = tempfile::tempdir().unwrap();
    let (path, docs) = common::workspace(dir.path(), 1);
    let doc = docs[0];
    let mut s = common::session(&path, "ann");
    s.apply(Command::AddBox {
        doc,
        rect: Rect::new(1.0, 1.0, 50.0, 20.0),
        quad: None,
        label: None,
        text: String::new(),
    })
    .unwrap();
    s.apply(Command::Submit { doc }).unwrap();
    assert_eq!(s.store().document(doc).unwrap().status, DocStatus::Submitted);
    let r = s.apply(Command::AddBox {
        doc,
        rect: Rect::new(1.0, 40.0, 50.0, 60.0),
        quad: None,
        label: None,
        text: String::new(),
    });
    assert!(matches!(r, Err(CommandError::Refused(_))), "{r:?}");
    assert_eq!(s.store().annotations(doc).unwrap().len(), 1);
}

#[test]
fn a_conflicting_edit_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (path, docs) = common::workspace(dir.path(), 1);
    let doc = docs[0];
    let mut s = common::session(&path, "ann");
    let a = s
        .apply(Command::AddBox {
            doc,
            rect: Rect::new(1.0, 1.0, 50.0, 20.0),
            quad: None,
            label: None,
            text: String::new(),
        })
        .unwrap()
        .created_boxes()[0];
    let mut stale = s.store().annotation(a).unwrap();
    s.apply(Command::SetText { doc, id: a, text: "new".into() }).unwrap();
    let edits_before = s.store().edit_count().unwrap();
    let mut after = stale.clone();
    after.text = "overwrite".into();
    stale.updated_ms -= 1;
    let r = s.store_mut().apply(facture::store::NewEdit {
        ts_ms: 0,
        user: None,
        doc: Some(doc),
        action: "x".into(),
        kind: EditKind::Do,
        changes: vec![Change::Annotation { before: Some(stale), after: Some(after) }],
    });
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(s.store().annotation(a).unwrap().text, "new");
    assert_eq!(s.store().edit_count().unwrap(), edits_before);
    assert!(matches!(s.apply(Command::MoveBoxes { doc, ids: vec![a], dx: 0.0, dy: 0.0 }).unwrap(), Outcome::NoChange));
}
