//! The workspace store on both backends: migrations, durability, the edit log, and refusing
//! what it must refuse (a locked or foreign SQLite file; on a server, another program's
//! database, a missing one, a wrong password; on both, a newer schema).

mod common;

use std::time::Duration;

use common::backend::{Backend, PG_WRITE_LOCK, admin_client, on_each_backend};
use facture::app::{Command, CommandError, Outcome};
use facture::domain::{AnnState, Change, DocStatus, EditKind, LinkKind, Rect, Source};
use facture::store::{LATEST_VERSION, PG_LATEST_VERSION, Store, StoreError, Workspace};

on_each_backend!(
    new_workspace_is_migrated_seeded_and_reopens_unchanged,
    newer_schema_is_refused_and_left_untouched,
    every_edit_kind_is_durable_and_logged_with_enough_to_undo,
    undo_and_redo_survive_a_restart,
    undoing_a_delete_restores_the_box_and_its_links,
    suggestions_never_duplicate_manual_boxes_and_accepting_is_one_undo_step,
    machine_text_never_overwrites_typed_text,
    submitted_documents_are_locked_for_the_annotator,
    a_conflicting_edit_changes_nothing,
    text_with_nul_characters_is_stored_without_them,
    many_documents_read_at_once_are_each_as_read_alone,
    prefetching_brings_stored_pages_into_the_cache_in_bulk,
);

/// One box of 50×20 at (1, 1) on `doc`, with this text.
fn add_box(s: &mut facture::app::Session, doc: facture::domain::DocId, text: &str) -> facture::domain::AnnId {
    let cmd =
        Command::AddBox { doc, rect: Rect::new(1.0, 1.0, 50.0, 20.0), quad: None, label: None, text: text.into() };
    s.apply(cmd).unwrap().created_boxes()[0]
}

fn latest(b: &Backend) -> i64 {
    if b.is_postgres() { PG_LATEST_VERSION } else { LATEST_VERSION }
}

fn new_workspace_is_migrated_seeded_and_reopens_unchanged(b: &Backend) {
    let ws = b.fresh();
    let id = {
        let s = Store::create_at(&ws).unwrap();
        assert_eq!(s.schema_version().unwrap(), latest(b));
        assert_eq!(s.labels().unwrap().len(), 19);
        assert_eq!(s.is_postgres(), b.is_postgres());
        s.workspace_id().unwrap()
    };
    let s = Store::connect(&ws).unwrap();
    assert_eq!(s.schema_version().unwrap(), latest(b));
    assert_eq!(s.labels().unwrap().len(), 19, "{}: re-opening must not seed twice", b.name());
    assert_eq!(s.workspace_id().unwrap(), id);
    assert_eq!(s.workspace(), Some(&ws));
    drop(s);
    let again = Store::create_at(&ws);
    assert!(matches!(again, Err(StoreError::Invalid(_))), "{}: create refuses to overwrite: {again:?}", b.name());
    assert_eq!(Store::connect(&ws).unwrap().workspace_id().unwrap(), id, "{}: and leaves it alone", b.name());
}

#[test]
fn in_memory_workspace_migrates_from_empty() {
    let s = Store::open_in_memory().unwrap();
    assert_eq!(s.schema_version().unwrap(), LATEST_VERSION);
    assert_eq!(s.edit_count().unwrap(), 0);
}

/// Sets the schema version a workspace records, behind the store's back, as a newer Facture
/// would have written it: `PRAGMA user_version` in a file, the `meta` row on a server.
fn set_schema_version(ws: &Workspace, version: i64) {
    match ws.file() {
        Some(path) => rusqlite::Connection::open(path).unwrap().pragma_update(None, "user_version", version).unwrap(),
        None => {
            let n = admin_client(ws)
                .execute("UPDATE meta SET value = $1 WHERE key = 'schema_version'", &[&version.to_string()])
                .unwrap();
            assert_eq!(n, 1);
        }
    }
}

/// Everything a refused open could have touched: the file's bytes, or the server database's
/// tables with their rows.
fn snapshot(ws: &Workspace) -> Vec<String> {
    match ws.file() {
        Some(path) => vec![format!("{:?}", std::fs::read(path).unwrap())],
        None => {
            let mut c = admin_client(ws);
            let tables: Vec<String> = c
                .query(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
                     ORDER BY 1",
                    &[],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            let mut out = vec![];
            for t in tables {
                // every row, as text, in a stable order
                let rows = c.query(&format!("SELECT t::text FROM {t} t ORDER BY 1"), &[]).unwrap();
                out.push(format!("{t}: {:?}", rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>()));
            }
            out
        }
    }
}

fn newer_schema_is_refused_and_left_untouched(b: &Backend) {
    let ws = b.fresh();
    common::workspace(&ws, 2);
    let newer = latest(b) + 5;
    set_schema_version(&ws, newer);
    let before = snapshot(&ws);
    let err = Store::connect(&ws).unwrap_err();
    assert!(matches!(err, StoreError::NewerSchema { found, .. } if found == newer), "{}: {err}", b.name());
    assert!(err.to_string().contains("newer Facture"), "{err}");
    assert!(err.to_string().starts_with(&ws.to_string()), "names the workspace: {err}");
    for open in [Store::connect_for_reading(&ws), Store::connect_verified(&ws), Store::create_at(&ws)] {
        assert!(open.is_err(), "{}: opened a workspace of a newer Facture", b.name());
    }
    assert!(snapshot(&ws) == before, "{}: the refused workspace changed", b.name());
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

/// The server's counterparts of a file that is not a workspace: another program's database,
/// an empty one (a workspace can be made in it), one that does not exist, and a login the
/// server refuses.
#[test]
fn a_database_that_is_not_a_workspace_is_refused() {
    let Some(_b) = Backend::postgres() else { return };
    let server = common::pg::server().unwrap();

    let other = Workspace::parse(&common::pg::fresh_database().unwrap()).unwrap();
    admin_client(&other).batch_execute("CREATE TABLE invoices (id BIGINT PRIMARY KEY, total TEXT)").unwrap();
    let before = snapshot(&other);
    for open in [Store::connect(&other), Store::create_at(&other)] {
        let err = open.unwrap_err();
        assert!(
            matches!(&err, StoreError::NotAWorkspace { reason, .. } if reason.contains("another program")),
            "{err}"
        );
    }
    assert!(snapshot(&other) == before, "another program's database was changed");

    let empty = Workspace::parse(&common::pg::fresh_database().unwrap()).unwrap();
    let err = Store::connect(&empty).unwrap_err();
    assert!(matches!(err, StoreError::EmptyDatabase { .. }), "{err}");
    assert!(err.to_string().contains(&format!("facture init {empty}")), "says how to create it: {err}");
    assert!(snapshot(&empty).is_empty(), "opening an empty database must not create the workspace");

    let missing = Workspace::parse(&server.url("no_such_database")).unwrap();
    for open in [Store::connect(&missing), Store::create_at(&missing)] {
        let err = open.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    }

    let ws = Workspace::parse(&common::pg::fresh_database().unwrap()).unwrap();
    drop(Store::create_at(&ws).unwrap());
    let wrong = ws.clone().with_password("not-the-password");
    let err = Store::connect(&wrong).unwrap_err();
    assert!(matches!(err, StoreError::Login { .. }), "{err}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("not-the-password") && !shown.contains(common::pg::ADMIN_PASSWORD), "{shown}");
    assert!(Store::connect(&ws).is_ok(), "the right password still works");
}

/// The server's counterpart of a locked file: writers of one workspace take turns (an
/// advisory lock), so a write waits for the writer ahead of it and
/// then lands; opening and reading never wait.
#[test]
fn on_a_server_a_write_waits_for_the_writer_ahead_of_it() {
    let Some(b) = Backend::postgres() else { return };
    let ws = b.fresh();
    let doc = common::workspace(&ws, 1)[0];
    let mut holder = admin_client(&ws);
    let mut tx = holder.transaction().unwrap();
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PG_WRITE_LOCK]).unwrap();
    let store = Store::connect(&ws).expect("opening does not wait for writers");
    assert_eq!(store.document_count().unwrap(), 1, "reading does not wait for writers");
    let (done_tx, done) = std::sync::mpsc::channel();
    let writer = std::thread::spawn(move || {
        let mut store = store;
        let r = store.apply(facture::store::NewEdit {
            ts_ms: 1,
            user: None,
            doc: Some(doc),
            action: "late".into(),
            kind: EditKind::Do,
            changes: vec![Change::Status { doc, before: DocStatus::New, after: DocStatus::InProgress }],
        });
        done_tx.send(()).unwrap();
        r
    });
    assert!(done.recv_timeout(Duration::from_millis(400)).is_err(), "the write did not wait for the lock");
    tx.commit().unwrap();
    done.recv_timeout(Duration::from_secs(10)).expect("the write went on once the lock was free");
    writer.join().unwrap().unwrap();
    assert_eq!(Store::connect(&ws).unwrap().document(doc).unwrap().status, DocStatus::InProgress);
}

/// A writer stuck holding the lock never blocks everyone for good: after 10 s the next write
/// is told "busy, try again" (as a locked file's is), and changes nothing.
#[test]
fn on_a_server_a_write_stuck_behind_another_gives_up_busy() {
    let Some(b) = Backend::postgres() else { return };
    let ws = b.fresh();
    let doc = common::workspace(&ws, 1)[0];
    let mut holder = admin_client(&ws);
    let mut tx = holder.transaction().unwrap();
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PG_WRITE_LOCK]).unwrap();
    let mut store = Store::connect(&ws).unwrap();
    let edits = store.edit_count().unwrap();
    let t0 = std::time::Instant::now();
    let r = store.apply(facture::store::NewEdit {
        ts_ms: 1,
        user: None,
        doc: Some(doc),
        action: "late".into(),
        kind: EditKind::Do,
        changes: vec![Change::Status { doc, before: DocStatus::New, after: DocStatus::InProgress }],
    });
    assert!(matches!(r, Err(StoreError::Busy)), "{r:?}");
    assert!(t0.elapsed() >= Duration::from_secs(9), "it waited for the writer ahead first");
    tx.rollback().unwrap();
    assert_eq!(store.document(doc).unwrap().status, DocStatus::New);
    assert_eq!(store.edit_count().unwrap(), edits);
    assert!(store.document_count().is_ok(), "the connection still works");
}

fn every_edit_kind_is_durable_and_logged_with_enough_to_undo(b: &Backend) {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 1);
    let doc = docs[0];
    let mut s = common::session(&ws, "ann");
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
    let fresh = Store::connect(&ws).unwrap();
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

fn undo_and_redo_survive_a_restart(b: &Backend) {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 1);
    let doc = docs[0];
    let a = {
        let mut s = common::session(&ws, "ann");
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
    let mut s = common::session(&ws, "ann");
    s.apply(Command::Undo { doc }).unwrap();
    assert_eq!(s.store().annotation(a).unwrap().text, "first");
    drop(s);
    let mut s = common::session(&ws, "ann");
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

fn undoing_a_delete_restores_the_box_and_its_links(b: &Backend) {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 1);
    let doc = docs[0];
    let mut s = common::session(&ws, "ann");
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

fn suggestions_never_duplicate_manual_boxes_and_accepting_is_one_undo_step(b: &Backend) {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 1);
    let doc = docs[0];
    let mut s = common::session(&ws, "ann");
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
            label: None,
        },
        facture::app::SuggestionInput {
            rect: Rect::new(10.0, 50.0, 100.0, 70.0),
            quad: None,
            text: Some("b".into()),
            score: 0.8,
            label: None,
        },
        facture::app::SuggestionInput {
            rect: Rect::new(10.0, 90.0, 100.0, 110.0),
            quad: None,
            text: None,
            score: 0.3,
            label: None,
        },
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

fn machine_text_never_overwrites_typed_text(b: &Backend) {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 1);
    let doc = docs[0];
    let mut s = common::session(&ws, "ann");
    let typed = add_box(&mut s, doc, "");
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

fn submitted_documents_are_locked_for_the_annotator(b: &Backend) {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 1);
    let doc = docs[0];
    let mut s = common::session(&ws, "ann");
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

fn a_conflicting_edit_changes_nothing(b: &Backend) {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 1);
    let doc = docs[0];
    let mut s = common::session(&ws, "ann");
    let a = add_box(&mut s, doc, "");
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

/// A NUL pasted from a broken PDF text layer cannot be stored on PostgreSQL; both backends drop it
/// the same way, before the edit is logged, so undo and redo still find what they left.
fn text_with_nul_characters_is_stored_without_them(b: &Backend) {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 1);
    let doc = docs[0];
    let mut s = common::session(&ws, "ann");
    let a = add_box(&mut s, doc, "INV\0-001");
    assert_eq!(s.store().annotation(a).unwrap().text, "INV-001", "{}", b.name());
    s.apply(Command::SetText { doc, id: a, text: "\0TOTAL\0 12.50".into() }).unwrap();
    assert_eq!(s.store().annotation(a).unwrap().text, "TOTAL 12.50");
    s.apply(Command::Undo { doc }).unwrap();
    assert_eq!(s.store().annotation(a).unwrap().text, "INV-001");
    s.apply(Command::Redo { doc }).unwrap();
    drop(s);
    let s = common::session(&ws, "ann");
    assert_eq!(s.store().annotation(a).unwrap().text, "TOTAL 12.50", "{}: survives a restart", b.name());
}

/// Exports read their documents a batch at a time: each must come back exactly as reading it
/// alone gives it, in the order asked, once.
fn many_documents_read_at_once_are_each_as_read_alone(b: &Backend) {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 3);
    let mut s = common::session(&ws, "ann");
    for (i, &doc) in docs.iter().enumerate() {
        let mut ids = Vec::new();
        for n in 0..=i {
            ids.push(add_box(&mut s, doc, &format!("doc {} box {n}", doc.0)));
        }
        if ids.len() > 1 {
            s.apply(Command::AddLink { doc, from: ids[0], to: ids[1], kind: LinkKind::KeyValue }).unwrap();
        }
    }
    let store = s.store();
    let asked = [docs[2], docs[0], docs[1], docs[2]];
    let got = store.documents_with_boxes(&asked).unwrap();
    assert_eq!(got.iter().map(|(d, _, _)| d.id).collect::<Vec<_>>(), vec![docs[2], docs[0], docs[1]], "{}", b.name());
    for (d, boxes, links) in &got {
        assert_eq!(d, &store.document(d.id).unwrap());
        assert_eq!(boxes, &store.annotations(d.id).unwrap());
        assert_eq!(links, &store.links(d.id).unwrap());
    }
    assert_eq!(got[0].1.len(), 3);
    assert_eq!(got[0].2.len(), 1);
    assert!(got[1].2.is_empty());
    match store.documents_with_boxes(&[docs[0], facture::domain::DocId(9_999)]) {
        Err(StoreError::Missing { id: 9_999, .. }) => {}
        other => panic!("{}: a missing document is named: {other:?}", b.name()),
    }
}

/// An export reads a server workspace's pages ahead, many per statement, into the image cache:
/// only what the cache lacks, never bytes that do not match their hash, nothing for a file.
fn prefetching_brings_stored_pages_into_the_cache_in_bulk(b: &Backend) {
    use facture::app::pages::{BlobCache, prefetch};
    let (ws, mut store) = b.create();
    // bytes no other test stores: this workspace's own address in them
    let blobs: Vec<Vec<u8>> = (0..70).map(|i| format!("page {i} of {ws:?}").repeat(50 + i).into_bytes()).collect();
    let shas: Vec<String> = blobs.iter().map(|b| facture::imageio::sha256_hex(b)).collect();
    let Some(dir) = b.cache_dir() else {
        let asked: Vec<&str> = shas.iter().map(String::as_str).collect();
        assert_eq!(prefetch(&store, &asked).unwrap(), 0, "a workspace file has nothing to fetch");
        return;
    };
    for (sha, bytes) in shas.iter().zip(&blobs) {
        store.put_image(sha, bytes).unwrap();
    }
    let cache = BlobCache::new(dir, u64::MAX);
    // one page was read before; one is damaged in the database; one hash is unknown
    assert!(cache.get(&shas[0]).unwrap().is_none());
    facture::app::pages::PageRef::Stored { workspace: ws.clone(), sha256: shas[0].clone(), page: 0, size: None }
        .bytes(Some(&store))
        .unwrap();
    admin_client(&ws).execute("UPDATE images SET bytes = '\\x00'::bytea WHERE sha256 = $1", &[&shas[1]]).unwrap();
    let unknown = "0".repeat(64);
    let mut asked: Vec<&str> = shas.iter().map(String::as_str).collect();
    asked.push(&unknown);
    asked.push(&shas[5]); // asked twice, fetched once
    assert_eq!(prefetch(&store, &asked).unwrap(), 68);
    for (i, (sha, bytes)) in shas.iter().zip(&blobs).enumerate() {
        let got = cache.get(sha).unwrap();
        if i == 1 {
            assert_eq!(got, None, "damaged bytes are never cached");
        } else {
            assert_eq!(got.as_deref(), Some(bytes.as_slice()), "page {i}");
        }
    }
    assert_eq!(prefetch(&store, &asked).unwrap(), 0, "all there already");
}
