//! Export of 10,000 documents (30 boxes each) to COCO, images copied; prints documents/s.
//! Goal: under 5 s. Run with `cargo bench --bench export_coco`.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use facture::app::export::{ExportOptions, export};
use facture::domain::{AnnId, AnnState, Annotation, Change, DocStatus, EditKind, Rect, Source};
use facture::formats::model::Format;
use facture::store::{NewDocument, NewEdit, Store};

const DOCS: usize = 10_000;
const BOXES: usize = 30;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open_in_memory().expect("store");
    let labels = store.labels().expect("labels");
    let t0 = Instant::now();
    for i in 0..DOCS {
        // Tiny distinct PNGs: the bench measures export, not image I/O of full scans.
        let path = dir.path().join(format!("inv{i:05}.png"));
        let img =
            image::RgbImage::from_fn(16, 16, |x, y| image::Rgb([(i % 256) as u8, (i / 256) as u8, (x + y) as u8]));
        img.save(&path).expect("png");
        let sha = facture::imageio::sha256_file(&path).expect("hash");
        let nd = NewDocument { path: path.to_string_lossy().into(), sha256: sha, page: 0, width: 1240, height: 1754 };
        let doc = store.add_document(&nd, 0).expect("add").expect("new");
        let mut changes: Vec<Change> = (0..BOXES)
            .map(|k| Change::Annotation {
                before: None,
                after: Some(Annotation {
                    id: AnnId(0),
                    doc,
                    rect: Rect::new(10.0 + k as f32 * 3.0, 20.0 * k as f32, 300.0 + k as f32, 20.0 * k as f32 + 15.0),
                    quad: None,
                    label: Some(labels[k % labels.len()].id),
                    text: format!("text {i} {k}"),
                    source: Source::Manual,
                    text_source: Source::Manual,
                    confidence: None,
                    label_suggested: None,
                    label_conf: None,
                    state: AnnState::Active,
                    author: None,
                    created_ms: 0,
                    updated_ms: 0,
                    flags: Default::default(),
                }),
            })
            .collect();
        changes.push(Change::Status { doc, before: DocStatus::New, after: DocStatus::Accepted });
        store
            .apply(NewEdit {
                ts_ms: 0,
                user: None,
                doc: Some(doc),
                action: "bench".into(),
                kind: EditKind::Do,
                changes,
            })
            .expect("apply");
    }
    eprintln!("built {DOCS} documents in {:.1} s", t0.elapsed().as_secs_f64());
    let out = dir.path().join("out");
    let t = Instant::now();
    let report =
        export(&mut store, &ExportOptions::new(Format::Coco, &out, 0), &mut |_, _| {}, &AtomicBool::new(false))
            .expect("export");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "export_coco: {} documents, {} boxes in {secs:.2} s = {:.0} documents/s (goal: < 5 s)",
        report.documents,
        report.boxes,
        report.documents as f64 / secs
    );
}
