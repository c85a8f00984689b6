//! The box style in the window (egui_kittest, headless): a drawn box snaps to the ink it
//! encloses plus the workspace's padding, Shift at the end of the drag keeps it as drawn, a box
//! on blank paper stays, and a lead's "Box style" window goes back to the learned style and
//! sets whether a caption and its value are one box or two.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use eframe::egui::accesskit;
use eframe::egui::{self, Event, Modifiers, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use facture::app::import::import_paths;
use facture::domain::box_style::{CaptionConvention, CaptionEvidence};
use facture::domain::{BoxStyle, LearnedBoxStyle, Point, Rect, Role};
use facture::store::{DocFilter, Store};
use facture::ui::{FactureApp, ScriptedDialogs};

/// Two lines of "text" (16 px tall glyph blocks): (100..316, 100..116) and (100..316, 200..216).
fn workspace(dir: &Path) -> PathBuf {
    let png = dir.join("page.png");
    let inked =
        |x: u32, y: u32| (100..316).contains(&x) && (x - 100) % 12 < 9 && y % 100 < 16 && (100..300).contains(&y);
    image::RgbImage::from_fn(800, 600, |x, y| {
        if inked(x, y) { image::Rgb([25, 25, 40]) } else { image::Rgb([248, 246, 240]) }
    })
    .save(&png)
    .unwrap();
    let ws = dir.join("ws.sqlite");
    let mut store = Store::create(&ws).unwrap();
    import_paths(&mut store, &[png], 0, |_, _| {}).unwrap();
    store.add_user("alice", Role::Annotator).unwrap();
    store.add_user("lea", Role::Lead).unwrap();
    ws
}

fn open(ws: &Path, user: &str) -> Harness<'static, FactureApp> {
    let app = FactureApp::with_user(ws, user, None, Box::new(ScriptedDialogs::default())).unwrap();
    let mut h = common::window(app, [1280.0, 800.0]);
    settle(&mut h);
    h
}

/// Steps until the page has arrived and the box style has been read.
fn settle(h: &mut Harness<'static, FactureApp>) {
    for _ in 0..500 {
        h.step();
        if h.state().annotator().is_some_and(|a| a.page_settled() && a.box_style_settled()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run();
}

fn boxes(ws: &Path) -> Vec<Rect> {
    let store = Store::open(ws).unwrap();
    let doc = store.documents(&DocFilter::default()).unwrap()[0].id;
    let mut r: Vec<Rect> = store.annotations(doc).unwrap().iter().map(|a| a.rect).collect();
    r.sort_by(|a, b| a.y0.total_cmp(&b.y0));
    r
}

fn screen(h: &Harness<'_, FactureApp>, x: f32, y: f32) -> Pos2 {
    let p = h.state().annotator().unwrap().editor().viewport.to_screen(Point::new(x, y));
    Pos2::new(p.x, p.y)
}

/// Press at image point `from`, move, release at `to` with `at_release` held.
fn drag(h: &mut Harness<'_, FactureApp>, from: (f32, f32), to: (f32, f32), at_release: Modifiers) {
    let (a, b) = (screen(h, from.0, from.1), screen(h, to.0, to.1));
    let button = egui::PointerButton::Primary;
    h.event(Event::PointerMoved(a));
    h.event(Event::PointerButton { pos: a, button, pressed: true, modifiers: Modifiers::NONE });
    for t in [0.25, 0.5, 0.75, 1.0] {
        h.event(Event::PointerMoved(a + (b - a) * t));
    }
    h.event(Event::PointerButton { pos: b, button, pressed: false, modifiers: at_release });
    h.run();
}

fn near(a: &Rect, b: &Rect) -> bool {
    [(a.x0, b.x0), (a.y0, b.y0), (a.x1, b.x1), (a.y1, b.y1)].iter().all(|(p, q)| (p - q).abs() <= 1.5)
}

#[test]
fn a_drawn_box_snaps_to_its_ink_with_the_workspace_padding_and_shift_keeps_it_as_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    Store::open(&ws).unwrap().set_box_style(Some(BoxStyle::new(0.25, 0.25, 0.5, 0.25))).unwrap();
    let mut h = open(&ws, "alice");
    assert_eq!(
        h.state().annotator().unwrap().box_style().and_then(|s| s.set),
        Some(BoxStyle::new(0.25, 0.25, 0.5, 0.25))
    );

    // loosely around the first line: the ink (100..313, 100..116) plus 4 / 4 / 8 / 4 px
    drag(&mut h, (80.0, 85.0), (340.0, 135.0), Modifiers::NONE);
    let b = boxes(&ws);
    assert_eq!(b.len(), 1);
    assert!(near(&b[0], &Rect::new(96.0, 96.0, 321.0, 120.0)), "snapped: {:?}", b[0]);

    // Shift held while finishing the drag: exactly as drawn
    drag(&mut h, (80.0, 185.0), (340.0, 235.0), Modifiers::SHIFT);
    let b = boxes(&ws);
    assert_eq!(b.len(), 2);
    assert!(near(&b[1], &Rect::new(80.0, 185.0, 340.0, 235.0)), "as drawn: {:?}", b[1]);

    // blank paper: as drawn
    drag(&mut h, (400.0, 400.0), (500.0, 450.0), Modifiers::NONE);
    let b = boxes(&ws);
    assert!(near(&b[2], &Rect::new(400.0, 400.0, 500.0, 450.0)), "blank: {:?}", b[2]);
}

#[test]
fn without_a_style_a_drawn_box_snaps_with_the_default_padding() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    let mut h = open(&ws, "alice");
    drag(&mut h, (80.0, 85.0), (340.0, 135.0), Modifiers::NONE);
    // 0.15 line heights of 16 px: 2.4 px, on whole pixels outwards
    let b = boxes(&ws);
    assert!(near(&b[0], &Rect::new(97.0, 97.0, 316.0, 119.0)), "default: {:?}", b[0]);
}

#[test]
fn a_lead_opens_the_box_style_window_and_goes_back_to_the_learned_style() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    {
        let mut store = Store::open(&ws).unwrap();
        let learned = LearnedBoxStyle {
            style: BoxStyle::new(0.1, 0.05, 0.1, 0.05),
            samples: 120,
            dataset: "4 docs @ edit 9".into(),
            learned_ms: 1,
            captions: None,
        };
        store.set_learned_box_style(&learned).unwrap();
        store.set_box_style(Some(BoxStyle::new(0.4, 0.4, 0.4, 0.4))).unwrap();
    }
    let mut h = open(&ws, "lea");
    h.get_by_label("Workspace").click();
    h.run();
    h.get_by_label("Box style…").click();
    settle(&mut h);
    assert!(h.query_by_label_contains("Set by hand (learned from 120 accepted boxes").is_some());
    h.get_by_label("Reset to learned").click();
    h.run();
    settle(&mut h);
    assert_eq!(Store::open(&ws).unwrap().box_style().unwrap().set, None, "the hand-set style is dropped");
    assert!(h.query_by_label_contains("Learned: learned from 120 accepted boxes").is_some());
    // drawn boxes follow the learned style now: 1.6 px left and right, 0.8 above and below
    drag(&mut h, (80.0, 85.0), (340.0, 135.0), Modifiers::NONE);
    let b = boxes(&ws);
    assert_eq!(b.len(), 1, "the window stays clear of the page");
    assert!(near(&b[0], &Rect::new(98.0, 99.0, 315.0, 117.0)), "learned: {:?}", b[0]);
}

#[test]
fn a_lead_sees_the_learned_caption_convention_and_sets_it_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    Store::open(&ws)
        .unwrap()
        .set_learned_box_style(&LearnedBoxStyle {
            style: BoxStyle::new(0.1, 0.05, 0.1, 0.05),
            samples: 120,
            dataset: "4 docs @ edit 9".into(),
            learned_ms: 1,
            captions: Some(CaptionEvidence { joined: 12, split: 1 }),
        })
        .unwrap();
    let mut h = open(&ws, "lea");
    h.get_by_label("Workspace").click();
    h.run();
    h.get_by_label("Box style…").click();
    settle(&mut h);
    assert!(h.query_by_label_contains("Learned: one box per caption and value (from 12 joined, 1 split)").is_some());
    let choose = |h: &mut Harness<'static, FactureApp>, option: &str| {
        h.get_by_role_and_label(accesskit::Role::ComboBox, "Caption and value").click();
        h.run();
        h.get_by_label(option).click();
        h.run();
        settle(h);
    };
    choose(&mut h, "two boxes");
    let stored = Store::open(&ws).unwrap().box_style().unwrap();
    assert_eq!(stored.set_captions, Some(CaptionConvention::Split), "the lead's choice is stored");
    assert_eq!(stored.captions(), Some(CaptionConvention::Split), "and wins over the learned one");
    assert!(
        h.query_by_label_contains(
            "Set by hand: caption and value in boxes of their own (learned: one box per caption and value"
        )
        .is_some()
    );
    assert_eq!(h.state().annotator().unwrap().box_style().and_then(|s| s.set_captions), Some(CaptionConvention::Split));
    choose(&mut h, "as learned");
    let stored = Store::open(&ws).unwrap().box_style().unwrap();
    assert_eq!((stored.set_captions, stored.captions()), (None, Some(CaptionConvention::Joined)));
    assert!(h.query_by_label_contains("Learned: one box per caption and value").is_some());
}
