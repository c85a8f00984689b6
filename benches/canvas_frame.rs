//! CPU time to build one whole annotator frame (all panels, the page, 2,000 boxes in view at
//! fit-page zoom on a 4961×7016 scan) through a bare `egui::Context`, including tessellation,
//! against the same frame on an empty page. No GPU: texture uploads become deltas that nothing
//! consumes, so this measures our frame building and egui's, not rasterisation.

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use eframe::egui;
use facture::app::{Command, Session, SuggestionInput};
use facture::domain::{Rect, Role, Source};
use facture::store::{NewDocument, Store};
use facture::ui::{FactureApp, ScriptedDialogs};

const PAGE_W: u32 = 4961;
const PAGE_H: u32 = 7016;

/// A workspace with one full-size white page and `n` labelled boxes in a grid.
fn workspace(dir: &Path, n: usize) -> std::path::PathBuf {
    let png = dir.join("page.png");
    image::GrayImage::from_pixel(PAGE_W, PAGE_H, image::Luma([250])).save(&png).unwrap();
    let ws = dir.join("ws.sqlite");
    let mut store = Store::create(&ws).unwrap();
    let sha = facture::imageio::sha256_file(&png).unwrap();
    let doc = store
        .add_document(
            &NewDocument { path: png.to_string_lossy().into(), sha256: sha, page: 0, width: PAGE_W, height: PAGE_H },
            0,
        )
        .unwrap()
        .unwrap();
    let alice = store.add_user("alice", Role::Annotator).unwrap();
    let labels = store.labels().unwrap();
    let mut session = Session::new(store, alice);
    if n > 0 {
        // 40 columns × 50 rows of word-sized boxes, as one suggestion batch, then accepted
        let items: Vec<SuggestionInput> = (0..n)
            .map(|i| {
                let (col, row) = ((i % 40) as f32, (i / 40) as f32);
                let (x, y) = (60.0 + col * 120.0, 60.0 + row * 135.0);
                SuggestionInput {
                    rect: Rect::new(x, y, x + 100.0, y + 40.0),
                    quad: None,
                    text: Some(format!("w{i}")),
                    score: 0.9,
                    label: None,
                }
            })
            .collect();
        session.apply(Command::AddSuggestions { doc, source: Source::Cv, items, skip_iou: 0.5 }).unwrap();
        let ids: Vec<_> = session.store().annotations(doc).unwrap().iter().map(|a| a.id).collect();
        assert_eq!(ids.len(), n);
        session.apply(Command::AcceptSuggestions { doc, ids: ids.clone() }).unwrap();
        for (k, chunk) in ids.chunks(n.div_ceil(8)).enumerate() {
            let label = Some(labels[k % labels.len()].id);
            session.apply(Command::SetLabel { doc, ids: chunk.to_vec(), label }).unwrap();
        }
    }
    ws
}

fn input(frame: u64) -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1600.0, 1000.0))),
        time: Some(frame as f64 / 60.0),
        max_texture_side: Some(8192),
        ..Default::default()
    }
}

struct Bench {
    _dir: tempfile::TempDir,
    ctx: egui::Context,
    app: FactureApp,
    frame: u64,
}

impl Bench {
    fn new(n: usize, always_show_text: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path(), n);
        let mut app = FactureApp::with_user(&ws, "alice", None, Box::new(ScriptedDialogs::default())).unwrap();
        if let Some(a) = app.annotator_mut() {
            a.set_always_show_text(always_show_text);
        }
        let mut b = Self { _dir: dir, ctx: egui::Context::default(), app, frame: 0 };
        // wait for the worker to decode the page, then let textures and layout settle
        for _ in 0..2000 {
            b.frame();
            if b.app.annotator().is_some_and(|a| a.page_settled()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        for _ in 0..10 {
            b.frame();
        }
        assert!(matches!(b.app.annotator().map(|a| a.page()), Some(facture::ui::PageState::Ready(_))));
        b
    }

    fn frame(&mut self) -> usize {
        self.frame += 1;
        let app = &mut self.app;
        let out = self.ctx.run_ui(input(self.frame), |ui| app.frame_ui(ui));
        let prims = self.ctx.tessellate(out.shapes, out.pixels_per_point);
        prims.len()
    }
}

fn canvas_frame(c: &mut Criterion) {
    let mut g = c.benchmark_group("canvas_frame");
    g.sample_size(60).measurement_time(Duration::from_secs(6));
    let mut empty = Bench::new(0, false);
    g.bench_function("empty_page", |b| b.iter(|| empty.frame()));
    let mut full = Bench::new(2000, false);
    g.bench_function("2000_boxes", |b| b.iter(|| full.frame()));
    let mut text = Bench::new(2000, true);
    g.bench_function("2000_boxes_with_text", |b| b.iter(|| text.frame()));
    g.finish();
}

criterion_group!(benches, canvas_frame);
criterion_main!(benches);
