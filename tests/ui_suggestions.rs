//! The suggestion panel, driven headlessly (egui_kittest): "Least confident first" (and N)
//! walks the model's suggestions from the lowest confidence up, selecting each and bringing
//! it into view, and the panel shows confidences as percentages.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use eframe::egui::Key;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use facture::app::import::import_paths;
use facture::app::{Command, Session, SuggestionInput};
use facture::domain::{AnnId, Rect, Role, Source};
use facture::store::{DocFilter, Store};
use facture::ui::{FactureApp, ScriptedDialogs};

/// A 1600×2000 page with five suggestions on it, scored 0.9, 0.3, 0.6, 0.1 and 0.3 (two
/// alike, so ties go by id); returns the workspace and their ids in that order.
fn workspace(dir: &Path) -> (PathBuf, Vec<AnnId>) {
    let png = dir.join("page.png");
    image::RgbImage::from_pixel(1600, 2000, image::Rgb([250, 250, 245])).save(&png).unwrap();
    let ws = dir.join("ws.sqlite");
    let mut store = Store::create(&ws).unwrap();
    import_paths(&mut store, &[png], 0, |_, _| {}).unwrap();
    store.add_user("alice", Role::Annotator).unwrap();
    let doc = store.documents(&DocFilter::default()).unwrap()[0].id;
    let user = store.user_by_name("alice").unwrap().unwrap();
    let mut alice = Session::new(store, user);
    let scores = [0.9, 0.3, 0.6, 0.1, 0.3];
    let items = scores
        .iter()
        .enumerate()
        .map(|(i, &score)| {
            let y = 100.0 + 380.0 * i as f32;
            SuggestionInput {
                rect: Rect::new(100.0, y, 700.0, y + 24.0),
                quad: None,
                text: Some(format!("line {i}")),
                score,
                label: None,
            }
        })
        .collect();
    alice
        .apply(Command::AddSuggestions { doc, source: Source::Model("ppocr-v6-small".into()), items, skip_iou: 0.3 })
        .unwrap();
    let ids = alice.store().annotations(doc).unwrap().iter().map(|a| a.id).collect();
    (ws, ids)
}

fn open(ws: &Path) -> Harness<'static, FactureApp> {
    let app = FactureApp::with_user(ws, "alice", None, Box::new(ScriptedDialogs::default())).unwrap();
    let mut h = common::window(app, [1280.0, 800.0]);
    for _ in 0..500 {
        h.step();
        if h.state().annotator().is_some_and(|a| a.page_settled() && a.annotations().len() == 5) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run();
    h
}

fn selected(h: &Harness<'_, FactureApp>) -> Vec<AnnId> {
    h.state().annotator().unwrap().editor().selection().iter().copied().collect()
}

/// True when box `id` lies wholly inside the canvas's view.
fn in_view(h: &Harness<'_, FactureApp>, id: AnnId) -> bool {
    let a = h.state().annotator().unwrap();
    let r = a.annotation(id).unwrap().rect;
    let v = a.editor().viewport.visible_image_rect();
    r.x0 >= v.x0 && r.x1 <= v.x1 && r.y0 >= v.y0 && r.y1 <= v.y1
}

#[test]
fn least_confident_first_walks_suggestions_by_ascending_score_and_shows_each() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, ids) = workspace(dir.path());
    let mut h = open(&ws);
    h.get_by_label("5 suggestions to review");
    // 0.1, then the two 0.3 by id, 0.6, 0.9, and round again
    let expected = [ids[3], ids[1], ids[4], ids[2], ids[0], ids[3]];
    for (step, want) in expected.iter().enumerate() {
        if step == 2 {
            // the shortcut does the same as the button
            h.key_press(Key::N);
        } else {
            h.get_by_label("Least confident first").click();
        }
        h.run();
        assert_eq!(selected(&h), vec![*want], "step {step}");
        assert!(in_view(&h, *want), "step {step}: box {want} is not in view");
    }
    // the selected suggestion's confidence reads as a percentage
    assert!(h.query_by_label_contains("confidence 10 %").is_some());
}

#[test]
fn accepting_the_least_confident_one_moves_on_to_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, ids) = workspace(dir.path());
    let mut h = open(&ws);
    h.get_by_label("Least confident first").click();
    h.run();
    assert_eq!(selected(&h), vec![ids[3]]);
    h.key_press(Key::Enter);
    h.run();
    h.get_by_label("4 suggestions to review");
    h.get_by_label("Least confident first").click();
    h.run();
    assert_eq!(selected(&h), vec![ids[1]]);
}
