//! The stats panel's report on a generated workspace of 1,000,000 boxes and 50 people.
//! Generated once into a temp file; prints generation and cold-cache times, then measures the
//! warm report (what opening the panel or changing a filter costs).
//! The same workspace is then copied to a local PostgreSQL server and measured again, in the
//! same run. `FACTURE_BENCH_ANNOTATIONS=100000 cargo bench --bench stats_queries` for a quicker run.

use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use facture::app::stats::{StatsQuery, report};
use facture::app::synth_workspace::{SynthWorkspaceSpec, generate};
use facture::store::{Store, Workspace};

#[path = "../tests/common/pg.rs"]
mod pg;

fn bench(c: &mut Criterion) {
    let target: usize =
        std::env::var("FACTURE_BENCH_ANNOTATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    // FACTURE_BENCH_WORKSPACE=path keeps the generated file (and its warm caches) for later runs.
    let dir = tempfile::tempdir().expect("temp dir");
    let kept = std::env::var_os("FACTURE_BENCH_WORKSPACE").map(std::path::PathBuf::from);
    let path = kept.unwrap_or_else(|| dir.path().join("stats-bench.sqlite"));
    let spec =
        SynthWorkspaceSpec { annotations_target: target, documents: target / 25, ..SynthWorkspaceSpec::default() };
    let r = if path.exists() { Default::default() } else { generate(path.clone(), &spec).expect("generate") };
    eprintln!(
        "generated {} boxes, {} documents, {} edits, {} activity rows, {} rounds in {:.1} s ({:.0} MB)",
        r.annotations,
        r.documents,
        r.edits,
        r.activity,
        r.rounds,
        r.elapsed_ms as f64 / 1000.0,
        std::fs::metadata(&path).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0)
    );
    let mut store = Store::open(&path).expect("open");
    measure(c, "sqlite", &mut store);
    // the same workspace on a local PostgreSQL server (durable settings), in the same run
    let Some(server) = pg::PgServer::private(pg::Mode::Durable) else { return };
    let ws = Workspace::parse(&server.create_database()).expect("url");
    let mut on_server = Store::create_at(&ws).expect("create");
    let t = Instant::now();
    let copied = on_server.copy_from(&store, &|_, p| p.to_string()).expect("copy");
    on_server.analyze().expect("analyze");
    eprintln!("copied {} rows to PostgreSQL in {:.1} s", copied.rows(), t.elapsed().as_secs_f64());
    measure(c, "postgres", &mut on_server);
}

/// The cold report (building the caches), then the warm reports criterion times.
fn measure(c: &mut Criterion, backend: &str, store: &mut Store) {
    let t = Instant::now();
    let cold = report(store, &StatsQuery::default()).expect("cold report");
    eprintln!(
        "{backend}: cold report (first refresh, {} docs replayed, {} users): {:.2} s",
        cold.refresh.docs_recomputed,
        cold.refresh.users_recomputed,
        t.elapsed().as_secs_f64()
    );
    let mut g = c.benchmark_group(format!("stats_{backend}"));
    g.sample_size(20);
    g.bench_function("report_all_1M", |b| b.iter(|| report(store, &StatsQuery::default()).expect("report")));
    let labels = store.labels().expect("labels").into_iter().take(3).map(|l| l.id).collect();
    let users = store.users().expect("users").into_iter().take(5).map(|u| u.id).collect();
    let day0 = 19_723 * 86_400_000i64;
    let q = StatsQuery {
        from_ms: Some(day0 + 10 * 86_400_000),
        to_ms: Some(day0 + 20 * 86_400_000),
        labels,
        users,
        ..StatsQuery::default()
    };
    g.bench_function("report_filtered_1M", |b| b.iter(|| report(store, &q).expect("report")));
    let idle = StatsQuery { idle_gap_secs: 300, ..StatsQuery::default() };
    report(store, &idle).expect("second threshold");
    g.bench_function("report_idle300_1M", |b| b.iter(|| report(store, &idle).expect("report")));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
