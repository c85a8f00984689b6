//! Drives the real annotator UI headlessly (egui_kittest, no display, no GPU) and checks the
//! workspace in SQLite after each step through a fresh connection.

use std::path::{Path, PathBuf};
use std::time::Duration;

use eframe::egui::{self, Event, Key, Modifiers, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use facture::app::import::import_paths;
use facture::domain::{Annotation, DocStatus, Point, Role};
use facture::store::{DocFilter, Store};
use facture::ui::{FactureApp, PageState, ScriptedDialogs};

/// A workspace with one 800×600 page and the users alice (annotator) and bob (reviewer).
fn workspace(dir: &Path) -> PathBuf {
    let png = dir.join("page.png");
    image::RgbImage::from_fn(800, 600, |x, y| {
        if y % 40 < 2 || x % 97 == 0 { image::Rgb([120, 120, 120]) } else { image::Rgb([250, 250, 245]) }
    })
    .save(&png)
    .unwrap();
    let ws = dir.join("ws.sqlite");
    let mut store = Store::create(&ws).unwrap();
    let report = import_paths(&mut store, &[png], 0, |_, _| {}).unwrap();
    assert_eq!(report.added.len(), 1, "{report:?}");
    store.add_user("alice", Role::Annotator).unwrap();
    store.add_user("bob", Role::Reviewer).unwrap();
    ws
}

fn harness(app: FactureApp) -> Harness<'static, FactureApp> {
    let mut h = Harness::builder().with_size([1280.0, 800.0]).with_max_steps(200).build_ui_state(
        |ui, app: &mut FactureApp| {
            app.frame_ui(ui);
            app.wait_for_answers();
        },
        app,
    );
    // the page decodes on a worker thread: step until it has arrived
    for _ in 0..500 {
        h.step();
        if h.state().annotator().is_some_and(|a| a.page_settled()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run();
    h
}

fn open(ws: &Path, user: &str) -> Harness<'static, FactureApp> {
    let app = FactureApp::with_user(ws, user, None, Box::new(ScriptedDialogs::default())).unwrap();
    harness(app)
}

fn boxes(ws: &Path) -> Vec<Annotation> {
    let store = Store::open(ws).unwrap();
    let doc = store.documents(&DocFilter::default()).unwrap()[0].id;
    store.annotations(doc).unwrap()
}

fn screen(h: &Harness<'_, FactureApp>, x: f32, y: f32) -> Pos2 {
    let p = h.state().annotator().unwrap().editor().viewport.to_screen(Point::new(x, y));
    Pos2::new(p.x, p.y)
}

/// Press at image point `from`, move in a few steps, release at `to`.
fn drag(h: &mut Harness<'_, FactureApp>, from: (f32, f32), to: (f32, f32)) {
    let a = screen(h, from.0, from.1);
    let b = screen(h, to.0, to.1);
    h.event(Event::PointerMoved(a));
    h.event(Event::PointerButton {
        pos: a,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::NONE,
    });
    for t in [0.25, 0.5, 0.75, 1.0] {
        h.event(Event::PointerMoved(a + (b - a) * t));
    }
    h.event(Event::PointerButton {
        pos: b,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    h.run();
}

fn near(a: f32, b: f32) -> bool {
    (a - b).abs() <= 1.5
}

#[test]
fn draw_label_type_undo_redo_move_resize_submit() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    let mut h = open(&ws, "alice");
    assert!(matches!(h.state().annotator().unwrap().page(), PageState::Ready(_)));

    // draw a box by dragging on empty page
    drag(&mut h, (100.0, 100.0), (300.0, 140.0));
    let b = boxes(&ws);
    assert_eq!(b.len(), 1);
    let r = b[0].rect;
    assert!(near(r.x0, 100.0) && near(r.y0, 100.0) && near(r.x1, 300.0) && near(r.y1, 140.0), "{r:?}");
    assert_eq!(b[0].label, None);

    // label hotkey 1 = invoice_number; the text field then takes the keyboard
    h.key_press(Key::Num1);
    h.run();
    let store = Store::open(&ws).unwrap();
    let label = store.label_by_name("invoice_number").unwrap().unwrap();
    assert_eq!(boxes(&ws)[0].label, Some(label.id));

    h.event(Event::Text("INV-2024-001".into()));
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(boxes(&ws)[0].text, "INV-2024-001");

    // undo the text, then redo it (both spellings of redo)
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    assert_eq!(boxes(&ws)[0].text, "");
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run();
    assert_eq!(boxes(&ws)[0].text, "INV-2024-001");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    h.key_press_modifiers(Modifiers::COMMAND, Key::Y);
    h.run();
    assert_eq!(boxes(&ws)[0].text, "INV-2024-001");

    // move by dragging the body
    drag(&mut h, (200.0, 120.0), (250.0, 150.0));
    let r = boxes(&ws)[0].rect;
    assert!(near(r.x0, 150.0) && near(r.y0, 130.0) && near(r.x1, 350.0) && near(r.y1, 170.0), "moved: {r:?}");

    // resize by dragging the bottom-right handle
    drag(&mut h, (r.x1, r.y1), (r.x1 + 40.0, r.y1 + 20.0));
    let r2 = boxes(&ws)[0].rect;
    assert!(near(r2.x0, r.x0) && near(r2.y0, r.y0), "resized: {r2:?}");
    assert!(near(r2.x1, r.x1 + 40.0) && near(r2.y1, r.y1 + 20.0), "resized: {r2:?}");
    assert_eq!(boxes(&ws)[0].text, "INV-2024-001", "geometry edits keep the text");

    // the status line says it is saved
    let a = h.state().annotator().unwrap();
    assert_eq!(*a.status(), facture::ui::Status::Saved);

    // submit
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run();
    let store = Store::open(&ws).unwrap();
    let doc = &store.documents(&DocFilter::default()).unwrap()[0];
    assert_eq!(doc.status, DocStatus::Submitted);

    // a submitted document is read-only for the annotator: a drag is refused with a sentence
    drag(&mut h, (500.0, 400.0), (600.0, 450.0));
    assert_eq!(boxes(&ws).len(), 1);
    match h.state().annotator().unwrap().status() {
        facture::ui::Status::Error(s) => assert!(s.contains("cannot be edited"), "{s}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn tab_in_the_text_field_saves_and_moves_to_the_next_box_and_del_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    let mut h = open(&ws, "alice");
    drag(&mut h, (50.0, 50.0), (200.0, 80.0));
    drag(&mut h, (50.0, 300.0), (200.0, 330.0));
    assert_eq!(boxes(&ws).len(), 2);
    // the second box is selected: F2 puts the cursor in its text field
    h.key_press(Key::F2);
    h.run();
    h.event(Event::Text("second".into()));
    h.key_press(Key::Tab);
    h.run();
    h.event(Event::Text("first".into()));
    h.key_press(Key::Tab);
    h.run();
    let b = boxes(&ws);
    assert_eq!(b[1].text, "second");
    assert_eq!(b[0].text, "first");
    // Esc leaves the field unsaved-free; Del deletes the selected box
    h.key_press(Key::Escape);
    h.run();
    h.key_press(Key::Delete);
    h.run();
    assert_eq!(boxes(&ws).len(), 1);
}

#[test]
fn a_burst_of_arrow_nudges_is_saved_each_time_and_undone_in_one_step() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    let mut h = open(&ws, "alice");
    drag(&mut h, (50.0, 50.0), (200.0, 80.0));
    let start = boxes(&ws)[0].rect;
    for i in 1..=4 {
        h.key_press(Key::ArrowRight);
        h.run();
        // every nudge is on disk as soon as it is drawn
        assert!(near(boxes(&ws)[0].rect.x0, start.x0 + i as f32), "after {i}: {:?}", boxes(&ws)[0].rect);
    }
    h.key_press(Key::ArrowDown);
    h.run();
    assert!(near(boxes(&ws)[0].rect.y0, start.y0 + 1.0));
    // one undo takes the whole burst back; the box itself stays
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    let r = boxes(&ws)[0].rect;
    assert!(near(r.x0, start.x0) && near(r.y0, start.y0), "{r:?} vs {start:?}");
    // one redo brings it all back
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run();
    let r = boxes(&ws)[0].rect;
    assert!(near(r.x0, start.x0 + 4.0) && near(r.y0, start.y0 + 1.0), "{r:?}");
    // the next undo is the box itself
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    assert!(boxes(&ws).is_empty());
}

#[test]
fn ctrl_enter_in_the_text_field_saves_the_text_and_submits() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    let mut h = open(&ws, "alice");
    drag(&mut h, (50.0, 50.0), (200.0, 80.0));
    h.key_press(Key::F2);
    h.run();
    h.event(Event::Text("TOTAL".into()));
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run();
    assert_eq!(boxes(&ws)[0].text, "TOTAL", "typed text saved before submitting");
    let store = Store::open(&ws).unwrap();
    assert_eq!(store.documents(&DocFilter::default()).unwrap()[0].status, DocStatus::Submitted);
}

#[test]
fn start_screen_picks_a_user_and_a_missing_image_is_relinked() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    // move the image away: the document's file is now missing
    let moved = dir.path().join("moved");
    std::fs::create_dir(&moved).unwrap();
    std::fs::rename(dir.path().join("page.png"), moved.join("renamed.png")).unwrap();

    let dialogs = ScriptedDialogs::new([Some(moved.join("renamed.png"))]);
    let app = FactureApp::new(&ws, false, None, Box::new(dialogs));
    assert!(app.annotator().is_none(), "no remembered user: the start screen shows");
    let mut h = Harness::builder().with_size([1280.0, 800.0]).with_max_steps(200).build_ui_state(
        |ui, app: &mut FactureApp| {
            app.frame_ui(ui);
            app.wait_for_answers();
        },
        app,
    );
    h.run();
    h.get_by_label("bob").click();
    h.run();
    h.get_by_label("Continue as bob").click();
    h.run();
    assert_eq!(h.state().annotator().unwrap().user().name, "bob");
    for _ in 0..500 {
        h.step();
        if h.state().annotator().unwrap().page_settled() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run();
    assert!(matches!(h.state().annotator().unwrap().page(), PageState::Failed(_)));
    h.get_by_label("Locate the file…").click();
    h.step(); // the page reloads now, with a spinner: step rather than run
    let store = Store::open(&ws).unwrap();
    let doc = &store.documents(&DocFilter::default()).unwrap()[0];
    assert!(doc.path.ends_with("renamed.png"), "{}", doc.path);
    for _ in 0..500 {
        h.step();
        if matches!(h.state().annotator().unwrap().page(), PageState::Ready(_)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(matches!(h.state().annotator().unwrap().page(), PageState::Ready(_)));
    // activity: the document was opened
    let bob = store.user_by_name("bob").unwrap().unwrap();
    assert!(store.activity(bob.id).unwrap().iter().any(|(_, d, k)| k == "open" && *d == Some(doc.id)));
}

#[test]
fn right_click_menu_removes_a_link_and_deletes_the_box() {
    use facture::app::{Command, Session};
    use facture::domain::{LinkKind, Rect};
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    {
        let store = Store::open(&ws).unwrap();
        let doc = store.documents(&DocFilter::default()).unwrap()[0].id;
        let alice = store.user_by_name("alice").unwrap().unwrap();
        let mut s = Session::new(store, alice);
        for (y, text) in [(100.0, "Total"), (200.0, "42.00")] {
            let rect = Rect::new(100.0, y, 300.0, y + 30.0);
            s.apply(Command::AddBox { doc, rect, quad: None, label: None, text: text.into() }).unwrap();
        }
        let ids: Vec<_> = s.store().annotations(doc).unwrap().iter().map(|a| a.id).collect();
        s.apply(Command::AddLink { doc, from: ids[0], to: ids[1], kind: LinkKind::KeyValue }).unwrap();
    }
    let links = |ws: &Path| {
        let store = Store::open(ws).unwrap();
        let doc = store.documents(&DocFilter::default()).unwrap()[0].id;
        store.links(doc).unwrap()
    };
    assert_eq!(links(&ws).len(), 1);
    let mut h = open(&ws, "alice");
    let right_click = |h: &mut Harness<'static, FactureApp>, x: f32, y: f32| {
        let p = screen(h, x, y);
        h.event(Event::PointerMoved(p));
        for pressed in [true, false] {
            h.event(Event::PointerButton {
                pos: p,
                button: egui::PointerButton::Secondary,
                pressed,
                modifiers: Modifiers::NONE,
            });
        }
        h.run();
    };

    // on the key: its value is named, and the link goes
    right_click(&mut h, 200.0, 115.0);
    h.get_by_label("Remove link to value \"42.00\"").click();
    h.run();
    assert!(links(&ws).is_empty());
    assert_eq!(boxes(&ws).len(), 2);

    // the menu again: no links now; delete the box
    right_click(&mut h, 200.0, 115.0);
    assert!(h.query_by_label_contains("No links").is_some());
    h.get_by_label("Delete box").click();
    h.run();
    let left = boxes(&ws);
    assert_eq!(left.iter().map(|b| b.text.as_str()).collect::<Vec<_>>(), vec!["42.00"]);
}

/// Two annotators and a lead on one workspace with two pages.
fn two_page_workspace(dir: &Path) -> PathBuf {
    let pages: Vec<PathBuf> = (1..=2)
        .map(|i| {
            let png = dir.join(format!("page{i}.png"));
            image::RgbImage::from_fn(600, 400, |x, y| image::Rgb([250, (x * i) as u8, (y * i) as u8]))
                .save(&png)
                .unwrap();
            png
        })
        .collect();
    let ws = dir.join("ws.sqlite");
    let mut store = Store::create(&ws).unwrap();
    assert_eq!(import_paths(&mut store, &pages, 0, |_, _| {}).unwrap().added.len(), 2);
    for (name, role) in [("alice", Role::Annotator), ("carl", Role::Annotator), ("lea", Role::Lead)] {
        store.add_user(name, role).unwrap();
    }
    ws
}

fn current_doc(h: &Harness<'_, FactureApp>) -> facture::domain::DocId {
    h.state().annotator().unwrap().document().unwrap().id
}

#[test]
fn two_windows_never_work_on_the_same_page_and_a_lead_can_take_one_over() {
    let dir = tempfile::tempdir().unwrap();
    let ws = two_page_workspace(dir.path());
    let mut alice = open(&ws, "alice");
    let mut carl = open(&ws, "carl");
    let (a_doc, c_doc) = (current_doc(&alice), current_doc(&carl));
    assert_ne!(a_doc, c_doc, "the second window was handed the other page");
    let a_name = Store::open(&ws).unwrap().document(a_doc).unwrap().display_name();
    // carl opens alice's page from his queue: he can look, not edit, and is told why
    carl.state_mut().annotator_mut().unwrap().refresh_queue();
    carl.run();
    assert!(carl.query_by_label("alice on it").is_some(), "the queue says who is on which page");
    carl.get_by_label(&a_name).click();
    carl.run();
    {
        let c = carl.state().annotator().unwrap();
        assert_eq!(c.document().unwrap().id, a_doc);
        assert_eq!(c.held_by().map(|h| h.0.as_str()), Some("alice"));
        assert!(!c.editable());
    }
    assert!(carl.query_by_label_contains("alice is working on this page").is_some());
    assert!(carl.query_by_label("Break lease").is_none(), "only a lead breaks leases");
    // the lead takes it over; alice's window learns it at its next heartbeat
    alice.state_mut().annotator_mut().unwrap().set_lease_timing(Duration::from_secs(60), Duration::from_millis(1));
    let mut lea = open(&ws, "lea");
    lea.state_mut().annotator_mut().unwrap().open_document(a_doc);
    lea.run();
    lea.get_by_label("Break lease").click();
    lea.run();
    assert!(lea.state().annotator().unwrap().editable(), "the page is the lead's now");
    // the heartbeat is answered by the window's worker thread: step until it has been (a
    // plain `run` keeps repainting for the 1 ms heartbeat until then, and on a loaded machine
    // gives up first)
    assert!(until(&mut alice, |app| !app.annotator().unwrap().editable()), "alice's window kept the page");
    let a = alice.state().annotator().unwrap();
    match a.status() {
        facture::ui::Status::Error(s) => assert!(s.contains("lea is working on it now"), "{s}"),
        other => panic!("alice was not told: {other:?}"),
    }
}

/// Steps `h` (its live-update worker delivers from another thread) until `done` holds, for at
/// most 10 s; whether it did.
fn until(h: &mut Harness<'_, FactureApp>, done: impl Fn(&FactureApp) -> bool) -> bool {
    let t0 = std::time::Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        h.step();
        if done(h.state()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

#[test]
fn an_edit_in_one_window_shows_up_in_another_and_so_does_a_submit() {
    let dir = tempfile::tempdir().unwrap();
    let ws = two_page_workspace(dir.path());
    let mut alice = open(&ws, "alice");
    let mut lea = open(&ws, "lea");
    let doc = current_doc(&alice);
    // the lead looks at alice's page (read-only: alice holds it)
    lea.state_mut().annotator_mut().unwrap().open_document(doc);
    lea.run();
    assert!(!lea.state().annotator().unwrap().editable());
    {
        let a = alice.state_mut().annotator_mut().unwrap();
        a.push(
            facture::app::Command::AddBox {
                doc,
                rect: facture::domain::Rect::new(20.0, 20.0, 200.0, 50.0),
                quad: None,
                label: None,
                text: "INV-2026-114".into(),
            },
            facture::ui::After::Nothing,
        );
        a.apply_pending();
    }
    let shows = |app: &FactureApp| app.annotator().unwrap().annotations().iter().any(|b| b.text == "INV-2026-114");
    assert!(until(&mut lea, shows), "the lead's window never showed alice's new box");
    // alice submits: the lead's queue follows
    alice.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    alice.run();
    assert_eq!(Store::open(&ws).unwrap().document(doc).unwrap().status, DocStatus::Submitted);
    let submitted = |app: &FactureApp| {
        app.annotator().unwrap().queue().iter().any(|d| d.id == doc && d.status == DocStatus::Submitted)
    };
    assert!(until(&mut lea, submitted), "the lead's queue never showed the submit");
}

#[test]
fn a_moved_scan_is_found_again_by_searching_a_folder_without_freezing_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    // the scans moved to another folder after the import
    let moved = dir.path().join("archive");
    std::fs::create_dir_all(&moved).unwrap();
    std::fs::rename(dir.path().join("page.png"), moved.join("page.png")).unwrap();
    let mut h = open(&ws, "alice");
    assert!(matches!(h.state().annotator().unwrap().page(), PageState::Failed(_)), "the image is missing");
    h.state_mut().annotator_mut().unwrap().relink_folder(&moved);
    // the search runs on a worker: the window keeps drawing meanwhile
    h.step();
    let found = until(
        &mut h,
        |app| matches!(app.annotator().unwrap().status(), facture::ui::Status::Info(s) if s.contains("re-linked 1 file")),
    );
    assert!(found, "the folder search never reported");
    assert!(until(&mut h, |app| matches!(app.annotator().unwrap().page(), PageState::Ready(_))), "the page loads");
    let store = Store::open(&ws).unwrap();
    let doc = &store.documents(&DocFilter::default()).unwrap()[0];
    assert_eq!(Path::new(&doc.path), moved.join("page.png"));
}

#[test]
fn round_robin_assignment_runs_in_the_background_and_reports_when_done() {
    let dir = tempfile::tempdir().unwrap();
    let ws = two_page_workspace(dir.path());
    {
        let mut store = Store::open(&ws).unwrap();
        store.add_user("rex", Role::Reviewer).unwrap();
        store.add_user("rita", Role::Reviewer).unwrap();
        let alice = store.user_by_name("alice").unwrap().unwrap();
        let docs: Vec<_> = store.documents(&DocFilter::default()).unwrap().into_iter().map(|d| d.id).collect();
        let mut s = facture::app::Session::new(store, alice);
        for doc in docs {
            s.apply(facture::app::Command::AddBox {
                doc,
                rect: facture::domain::Rect::new(5.0, 5.0, 60.0, 20.0),
                quad: None,
                label: None,
                text: "x".into(),
            })
            .unwrap();
            s.apply(facture::app::Command::Submit { doc }).unwrap();
        }
    }
    let mut lea = open(&ws, "lea");
    lea.get_by_label("Assign reviewers round-robin").click();
    lea.step();
    let done = until(
        &mut lea,
        |app| matches!(app.annotator().unwrap().status(), facture::ui::Status::Info(s) if s.contains("assigned to 2 reviewer")),
    );
    assert!(done, "never reported: {:?}", lea.state().annotator().unwrap().status());
    assert!(!lea.state().annotator().unwrap().is_busy());
    let store = Store::open(&ws).unwrap();
    let reviewers: std::collections::BTreeSet<_> =
        store.documents(&DocFilter::default()).unwrap().into_iter().map(|d| d.reviewer).collect();
    assert_eq!(reviewers.len(), 2, "one document each: {reviewers:?}");
    assert!(reviewers.iter().all(Option::is_some));
}
