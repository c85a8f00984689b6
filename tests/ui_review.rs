//! Drives review mode headlessly (egui_kittest): a reviewer marks a box wrong-text with a note,
//! corrects another, rejects; the annotator sees the notes, fixes and resubmits; the reviewer
//! accepts. After each step the workspace is read back through a fresh connection.

use std::path::{Path, PathBuf};
use std::time::Duration;

use eframe::egui::{self, Event, Key, Modifiers, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use facture::app::import::import_paths;
use facture::app::{Command, Session};
use facture::domain::{AnnId, Annotation, DocId, DocStatus, DocVerdict, Point, Rect, Role, Verdict};
use facture::store::{DocFilter, Store};
use facture::ui::{FactureApp, ScriptedDialogs, Status, WorkView};

/// One or more 800×600 pages; alice (annotator), bob (reviewer), lea (lead).
fn workspace(dir: &Path, pages: usize) -> PathBuf {
    let mut paths = Vec::new();
    for i in 0..pages {
        let png = dir.join(format!("page{i}.png"));
        image::RgbImage::from_fn(800, 600, |x, y| {
            if y % 40 < 2 || x % (97 + i as u32) == 0 {
                image::Rgb([120, 120, 120])
            } else {
                image::Rgb([250, 250, 245])
            }
        })
        .save(&png)
        .unwrap();
        paths.push(png);
    }
    let ws = dir.join("ws.sqlite");
    let mut store = Store::create(&ws).unwrap();
    let report = import_paths(&mut store, &paths, 0, |_, _| {}).unwrap();
    assert_eq!(report.added.len(), pages, "{report:?}");
    store.add_user("alice", Role::Annotator).unwrap();
    store.add_user("bob", Role::Reviewer).unwrap();
    store.add_user("lea", Role::Lead).unwrap();
    ws
}

fn session(ws: &Path, name: &str) -> Session {
    let store = Store::open(ws).unwrap();
    let user = store.user_by_name(name).unwrap().unwrap();
    Session::new(store, user)
}

fn first_doc(ws: &Path) -> DocId {
    Store::open(ws).unwrap().documents(&DocFilter::default()).unwrap()[0].id
}

/// Alice's first pass: two boxes, the second with a typo, submitted.
fn alice_submits(ws: &Path, doc: DocId) -> (AnnId, AnnId) {
    let mut s = session(ws, "alice");
    let mut add = |rect: Rect, text: &str| {
        s.apply(Command::AddBox { doc, rect, quad: None, label: None, text: text.into() }).unwrap().created_boxes()[0]
    };
    let total = add(Rect::new(100.0, 100.0, 300.0, 140.0), "TOTAL");
    let amount = add(Rect::new(400.0, 100.0, 600.0, 140.0), "12,0O");
    s.apply(Command::Submit { doc }).unwrap();
    (total, amount)
}

fn harness(app: FactureApp) -> Harness<'static, FactureApp> {
    let mut h = Harness::builder().with_size([1400.0, 900.0]).with_max_steps(200).build_ui_state(
        |ui, app: &mut FactureApp| {
            app.frame_ui(ui);
            app.wait_for_answers();
        },
        app,
    );
    settle(&mut h);
    h
}

/// Steps until the page image has arrived from the loader thread.
fn settle(h: &mut Harness<'static, FactureApp>) {
    for _ in 0..500 {
        h.step();
        if h.state().annotator().is_some_and(|a| a.page_settled()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run();
}

fn open(ws: &Path, user: &str) -> Harness<'static, FactureApp> {
    harness(FactureApp::with_user(ws, user, None, Box::new(ScriptedDialogs::default())).unwrap())
}

fn screen(h: &Harness<'_, FactureApp>, x: f32, y: f32) -> Pos2 {
    let p = h.state().annotator().unwrap().editor().viewport.to_screen(Point::new(x, y));
    Pos2::new(p.x, p.y)
}

/// Clicks the middle of a box on the canvas.
fn click_box(h: &mut Harness<'_, FactureApp>, r: Rect) {
    let p = screen(h, (r.x0 + r.x1) / 2.0, (r.y0 + r.y1) / 2.0);
    h.event(Event::PointerMoved(p));
    for pressed in [true, false] {
        h.event(Event::PointerButton {
            pos: p,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        });
    }
    h.run();
}

/// F2 into the box's text field, replace everything, Enter.
fn retype(h: &mut Harness<'_, FactureApp>, text: &str) {
    h.key_press(Key::F2);
    h.run();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.run();
    h.event(Event::Text(text.into()));
    h.key_press(Key::Enter);
    h.run();
}

fn type_into(h: &mut Harness<'_, FactureApp>, field: &str, text: &str) {
    h.get_by_label(field).click();
    h.run();
    h.event(Event::Text(text.into()));
    h.run();
}

fn ann(ws: &Path, id: AnnId) -> Annotation {
    Store::open(ws).unwrap().annotation(id).unwrap()
}

fn status(ws: &Path, doc: DocId) -> DocStatus {
    Store::open(ws).unwrap().document(doc).unwrap().status
}

#[test]
fn review_reject_rework_resubmit_accept() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), 1);
    let doc = first_doc(&ws);
    let (total, amount) = alice_submits(&ws, doc);
    let (total_rect, amount_rect) = (ann(&ws, total).rect, ann(&ws, amount).rect);

    // ---- bob reviews: the Review view lists the submitted document and opens it
    let mut h = open(&ws, "bob");
    {
        let a = h.state().annotator().unwrap();
        assert_eq!(a.view(), WorkView::Review);
        assert_eq!(a.queue().iter().map(|d| d.id).collect::<Vec<_>>(), vec![doc]);
        assert_eq!(a.document().map(|d| d.id), Some(doc));
    }
    // a verdict key before the review has started only explains
    click_box(&mut h, amount_rect);
    h.key_press(Key::X);
    h.run();
    assert!(matches!(h.state().annotator().unwrap().status(), Status::Info(s) if s.contains("Start review")));

    h.get_by_label("Start review").click();
    h.run();
    assert_eq!(status(&ws, doc), DocStatus::InReview);
    let store = Store::open(&ws).unwrap();
    let round1 = store.rounds(doc).unwrap();
    assert_eq!(round1.len(), 1);
    let bob = store.user_by_name("bob").unwrap().unwrap();
    assert_eq!(round1[0].reviewer, bob.id);

    // X on the amount box: wrong text; then a note on it
    click_box(&mut h, amount_rect);
    h.key_press(Key::X);
    h.run();
    let verdicts = Store::open(&ws).unwrap().verdicts(round1[0].id).unwrap();
    assert_eq!(verdicts.len(), 1);
    assert_eq!((verdicts[0].ann, verdicts[0].verdict), (amount, Verdict::WrongText));
    type_into(&mut h, "Note on this box (C)", "it is 12,00");
    h.get_by_label("Save note").click();
    h.run();
    let verdicts = Store::open(&ws).unwrap().verdicts(round1[0].id).unwrap();
    assert_eq!(verdicts[0].comment, "it is 12,00");

    // a direct correction of the other box, recorded as bob's
    click_box(&mut h, total_rect);
    retype(&mut h, "TOTAL:");
    assert_eq!(ann(&ws, total).text, "TOTAL:");
    let edits = Store::open(&ws).unwrap().edits_on(doc).unwrap();
    let fix = edits.iter().rev().find(|e| e.action == "set_text").unwrap();
    assert_eq!(fix.user, Some(bob.id));

    // reject without a reason: refused with a sentence, nothing changes
    h.get_by_label("Reject document").click();
    h.run();
    match h.state().annotator().unwrap().status() {
        Status::Error(s) => assert!(s.contains("comment"), "{s}"),
        other => panic!("expected the refusal, got {other:?}"),
    }
    assert_eq!(status(&ws, doc), DocStatus::InReview);
    type_into(&mut h, "What must be fixed (required to reject)", "Amount misread; see the note.");
    h.get_by_label("Reject document").click();
    h.run();
    assert_eq!(status(&ws, doc), DocStatus::Rejected);
    let rounds = Store::open(&ws).unwrap().rounds(doc).unwrap();
    assert_eq!(rounds[0].verdict, Some(DocVerdict::Reject));
    assert_eq!(rounds[0].comment, "Amount misread; see the note.");
    assert!(h.state().annotator().unwrap().queue().is_empty(), "nothing left to review");
    drop(h);

    // ---- alice sees the notes pinned to the box and the reason above the page
    let mut h = open(&ws, "alice");
    {
        let a = h.state().annotator().unwrap();
        assert_eq!(a.document().map(|d| d.id), Some(doc));
        assert!(a.review_state().doc.shows_rework_notes());
        assert_eq!(a.review_state().doc.pinned.len(), 1);
    }
    assert!(!h.query_all_by_label_contains("it is 12,00").collect::<Vec<_>>().is_empty());
    assert!(!h.query_all_by_label_contains("Amount misread").collect::<Vec<_>>().is_empty());
    click_box(&mut h, amount_rect);
    retype(&mut h, "12,00");
    assert_eq!(ann(&ws, amount).text, "12,00");
    assert_eq!(status(&ws, doc), DocStatus::Rework);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run();
    assert_eq!(status(&ws, doc), DocStatus::Submitted);
    drop(h);

    // ---- bob's second round sees what changed, accepts the rest with Shift+O, accepts
    let mut h = open(&ws, "bob");
    assert_eq!(h.state().annotator().unwrap().document().map(|d| d.id), Some(doc));
    h.get_by_label("Start review").click();
    h.run();
    assert_eq!(status(&ws, doc), DocStatus::InReview);
    assert!(h.state().annotator().unwrap().review_state().doc.changed.contains(&amount));
    h.key_press_modifiers(Modifiers::SHIFT, Key::O);
    h.run();
    let rounds = Store::open(&ws).unwrap().rounds(doc).unwrap();
    assert_eq!(rounds.len(), 2);
    let v2 = Store::open(&ws).unwrap().verdicts(rounds[1].id).unwrap();
    assert_eq!(v2.len(), 2);
    assert!(v2.iter().all(|v| v.verdict == Verdict::Ok));
    h.get_by_label("Accept document").click();
    h.run();
    assert_eq!(status(&ws, doc), DocStatus::Accepted);
    let rounds = Store::open(&ws).unwrap().rounds(doc).unwrap();
    assert_eq!(
        rounds.iter().map(|r| r.verdict).collect::<Vec<_>>(),
        vec![Some(DocVerdict::Reject), Some(DocVerdict::Accept)]
    );
    // the acceptance grew the reviewed dataset: the label model retrains on its own thread
    // (the frame above never waited for it) and lands in the workspace with that dataset
    let t0 = std::time::Instant::now();
    let model = loop {
        if let Some(m) = Store::open(&ws).unwrap().latest_label_model().unwrap() {
            break m;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "no label model after the acceptance");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(model.documents, 1);
    assert_eq!(model.dataset, Store::open(&ws).unwrap().reviewed_dataset().unwrap());
}

#[test]
fn a_drawn_box_in_review_is_a_missing_box_and_zoom_survives_next_document() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), 2);
    let docs: Vec<DocId> =
        Store::open(&ws).unwrap().documents(&DocFilter::default()).unwrap().iter().map(|d| d.id).collect();
    for d in &docs {
        alice_submits(&ws, *d);
    }
    let mut h = open(&ws, "bob");
    h.get_by_label("Start review").click();
    h.run();
    let doc = h.state().annotator().unwrap().document().unwrap().id;
    // drag on empty page: a missing box with its verdict
    let (a, b) = (screen(&h, 100.0, 300.0), screen(&h, 250.0, 340.0));
    h.event(Event::PointerMoved(a));
    h.event(Event::PointerButton {
        pos: a,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::NONE,
    });
    for t in [0.3, 0.6, 1.0] {
        h.event(Event::PointerMoved(a + (b - a) * t));
    }
    h.event(Event::PointerButton {
        pos: b,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    h.run();
    let store = Store::open(&ws).unwrap();
    let round = store.rounds(doc).unwrap().pop().unwrap();
    let verdicts = store.verdicts(round.id).unwrap();
    assert_eq!(verdicts.len(), 1);
    assert_eq!(verdicts[0].verdict, Verdict::Missing);
    assert_eq!(store.annotations(doc).unwrap().len(), 3);

    // zoom in, go to the next document: same zoom and position
    let vp = &mut h.state_mut().annotator_mut().unwrap().editor_mut().viewport;
    let c = vp.screen_rect().center();
    vp.zoom_at(c, 2.0);
    let (zoom, pan) = (vp.zoom(), vp.pan());
    h.key_press(Key::D);
    h.step(); // the next page loads behind a spinner
    settle(&mut h);
    let a = h.state().annotator().unwrap();
    assert_ne!(a.document().map(|d| d.id), Some(doc));
    let vp = &a.editor().viewport;
    assert!((vp.zoom() - zoom).abs() < 1e-4, "zoom {} → {}", zoom, vp.zoom());
    assert!((vp.pan().x - pan.x).abs() < 0.5 && (vp.pan().y - pan.y).abs() < 0.5);
}
