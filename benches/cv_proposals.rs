//! Full-page CV proposals: synthetic A4 invoices (150 dpi) and, when present, the SROIE dev
//! receipts (up to 4961x7016). Decoding happens outside the timed loop.
//! `cargo bench --bench cv_proposals`

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use facture::formats::gt::{GroundTruth, gt_files_in};
use facture::prelabel::cv::{CvConfig, propose};
use image::DynamicImage;

fn pages() -> Vec<(String, DynamicImage)> {
    let mut out: Vec<(String, DynamicImage)> = (1..=2)
        .map(|i| (format!("synth_{i}"), DynamicImage::ImageRgb8(facture::synth::render_page(7, i).image)))
        .collect();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/sroie-dev");
    match gt_files_in(&dir) {
        Ok(files) => {
            for json in files {
                let Ok(gt) = GroundTruth::load(&json) else { continue };
                if let Ok(img) = image::open(gt.image_path(&json)) {
                    out.push((gt.image.clone(), img));
                }
            }
        }
        Err(_) => eprintln!("{} not present: benchmarking synthetic pages only", dir.display()),
    }
    out
}

fn bench(c: &mut Criterion) {
    let cfg = CvConfig::default();
    let mut group = c.benchmark_group("cv_proposals");
    group.sample_size(10);
    for (name, img) in pages() {
        group.bench_function(format!("{name} {}x{}", img.width(), img.height()), |b| b.iter(|| propose(&img, &cfg)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
