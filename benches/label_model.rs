//! Field-label suggestions on synthetic invoices: training the workspace model on 50 reviewed
//! pages, and suggesting labels for one page with the trained model. The baseline, measured in
//! the same run, is the day-one rules alone on the same page (layout analysis included), so
//! the figures read as ratios on any machine.

use criterion::{Criterion, criterion_group, criterion_main};
use facture::labeling::{self, Suggester, TrainPage, TrainParams};

fn pages(seed: u64, count: u32) -> Vec<TrainPage> {
    (1..=count).map(|i| TrainPage::from_gt(&facture::synth::render_page(seed, i).gt)).collect()
}

fn bench(c: &mut Criterion) {
    let train = pages(4242, 50);
    let boxes: usize = train.iter().map(|p| p.page.boxes.len()).sum();
    let page = pages(777, 1).remove(0).page;
    let names: Vec<String> = facture::domain::default_invoice_schema().into_iter().map(|l| l.name).collect();
    let params = TrainParams::default();
    let model = labeling::train(&train, &params).expect("a model");
    eprintln!("training set: 50 pages, {boxes} boxes; the model keeps {} features", model.features());
    let rules = Suggester::new(names.clone(), None);
    let learned = Suggester::new(names, Some(model));
    let mut g = c.benchmark_group("label_model");
    g.sample_size(10);
    g.bench_function("rules_alone_one_page (baseline)", |b| b.iter(|| rules.suggest(&page)));
    g.bench_function("model_one_page", |b| b.iter(|| learned.suggest(&page)));
    g.bench_function("train_50_pages", |b| b.iter(|| labeling::train(&train, &params)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
