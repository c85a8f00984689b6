//! The two stores side by side, in one run: an annotator's edit until it is durable (p50/p99),
//! edits per second with several workstations writing at once, and a COCO export of 10,000
//! documents. SQLite is a workspace file on this disk (WAL, synchronous=FULL); PostgreSQL a
//! local server with its durable defaults (fsync, synchronous_commit), started by the bench.
//! `cargo bench --bench store_backends` (FACTURE_BENCH_DOCS=2000 for a quicker run,
//! FACTURE_BENCH_PART=latency|writers|export for one part).

#[path = "../tests/common/pg.rs"]
mod pg;

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use facture::app::export::{ExportOptions, export};
use facture::app::{Command, Session};
use facture::domain::{AnnId, AnnState, Annotation, Change, DocId, DocStatus, EditKind, Rect, Role, Source};
use facture::formats::model::Format;
use facture::store::{NewDocument, NewEdit, Store, Workspace};

const EDITS: usize = 2000;
const BOXES: usize = 30;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// One annotator's edits, each timed from the call until it returned (durable).
fn edit_latency(ws: &Workspace) -> (Duration, Duration, Duration) {
    let mut store = Store::create_at(ws).expect("create");
    let ann = store.add_user("ann", Role::Annotator).expect("user");
    let nd = NewDocument { path: "/bench/a.png".into(), sha256: "a".repeat(64), page: 0, width: 2000, height: 3000 };
    let doc = store.add_document(&nd, 0).expect("doc").expect("new");
    let mut s = Session::new(store, ann);
    let b = s
        .apply(Command::AddBox {
            doc,
            rect: Rect::new(10.0, 10.0, 200.0, 40.0),
            quad: None,
            label: None,
            text: "x".into(),
        })
        .expect("box")
        .created_boxes()[0];
    let mut times = Vec::with_capacity(EDITS);
    for i in 0..EDITS {
        let cmd = match i % 3 {
            0 => Command::SetText { doc, id: b, text: format!("text {i}") },
            1 => Command::MoveBoxes { doc, ids: vec![b], dx: if i % 2 == 0 { 1.0 } else { -1.0 }, dy: 0.0 },
            _ => Command::AddBox {
                doc,
                rect: Rect::new(
                    300.0 + (i % 50) as f32 * 20.0,
                    100.0 + (i / 50) as f32 * 10.0,
                    310.0 + (i % 50) as f32 * 20.0,
                    105.0 + (i / 50) as f32 * 10.0,
                ),
                quad: None,
                label: None,
                text: String::new(),
            },
        };
        let t = Instant::now();
        s.apply(cmd).expect("edit");
        times.push(t.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99), *times.last().unwrap_or(&Duration::ZERO))
}

/// Edits per second with `writers` sessions (own connections, own documents) at once, and how
/// many edits were refused as busy.
fn throughput(ws: &Workspace, writers: usize, secs: f64) -> (f64, u64) {
    let mut store = Store::create_at(ws).expect("create");
    let mut people = Vec::new();
    for w in 0..writers {
        let u = store.add_user(&format!("a{w}"), Role::Annotator).expect("user");
        let nd = NewDocument {
            path: format!("/bench/{w}.png"),
            sha256: format!("{w:064}"),
            page: 0,
            width: 2000,
            height: 3000,
        };
        let d = store.add_document(&nd, 0).expect("doc").expect("new");
        people.push((u, d));
    }
    drop(store);
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let handles: Vec<_> = people
        .into_iter()
        .map(|(u, doc)| {
            let ws = ws.clone();
            std::thread::spawn(move || {
                let mut s = Session::new(Store::connect(&ws).expect("connect"), u);
                let first = || Command::AddBox {
                    doc,
                    rect: Rect::new(1.0, 1.0, 50.0, 20.0),
                    quad: None,
                    label: None,
                    text: String::new(),
                };
                // SQLite's writers queue on one file lock: under heavy contention a write can
                // wait past the busy timeout and is refused; try again, as a person would
                let b = loop {
                    match s.apply(first()) {
                        Ok(out) => break out.created_boxes()[0],
                        Err(facture::app::CommandError::Store(facture::store::StoreError::Busy)) => continue,
                        Err(e) => panic!("box: {e}"),
                    }
                };
                let mut n = 0u64;
                let mut busy = 0u64;
                while Instant::now() < until {
                    match s.apply(Command::SetText { doc, id: b, text: format!("t{n}") }) {
                        Ok(_) => n += 1,
                        // another writer held the file past the busy timeout: the edit was not made
                        Err(facture::app::CommandError::Store(facture::store::StoreError::Busy)) => busy += 1,
                        Err(e) => panic!("edit: {e}"),
                    }
                }
                (n, busy)
            })
        })
        .collect();
    let (mut total, mut busy) = (0, 0);
    for h in handles {
        let (n, b) = h.join().expect("writer");
        total += n;
        busy += b;
    }
    (total as f64 / secs, busy)
}

/// A COCO export of `docs` accepted documents of 30 boxes, tiny distinct images.
fn export_time(ws: &Workspace, dir: &std::path::Path, docs: usize, cache: &std::path::Path) -> (f64, f64) {
    let mut store = Store::create_at(ws).expect("create");
    let labels = store.labels().expect("labels");
    for i in 0..docs {
        let path = dir.join(format!("inv{i:05}.png"));
        if !path.exists() {
            let img =
                image::RgbImage::from_fn(16, 16, |x, y| image::Rgb([(i % 256) as u8, (i / 256) as u8, (x + y) as u8]));
            img.save(&path).expect("png");
        }
        let bytes = std::fs::read(&path).expect("read");
        let sha = facture::imageio::sha256_hex(&bytes);
        if store.is_postgres() {
            store.put_image(&sha, &bytes).expect("image");
        }
        let nd = NewDocument { path: path.to_string_lossy().into(), sha256: sha, page: 0, width: 1240, height: 1754 };
        let doc: DocId = store.add_document(&nd, 0).expect("add").expect("new");
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
    let run = |n: usize| {
        let _ = std::fs::remove_dir_all(cache);
        let out = dir.join(format!("out-{}-{n}", if ws.is_postgres() { "pg" } else { "sqlite" }));
        let t = Instant::now();
        export(
            &mut Store::connect(ws).expect("connect"),
            &ExportOptions::new(Format::Coco, &out, 0),
            &mut |_, _| {},
            &AtomicBool::new(false),
        )
        .expect("export");
        t.elapsed().as_secs_f64()
    };
    let cold = run(1);
    // a second export on this workstation: images already in its cache
    let out2 = dir.join(format!("out-{}-warm", if ws.is_postgres() { "pg" } else { "sqlite" }));
    let t = Instant::now();
    export(
        &mut Store::connect(ws).expect("connect"),
        &ExportOptions::new(Format::Coco, &out2, 0),
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
    .expect("export");
    (cold, t.elapsed().as_secs_f64())
}

fn main() {
    let docs: usize = std::env::var("FACTURE_BENCH_DOCS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("cache");
    // SAFETY of the environment: set before any thread of this process reads it
    unsafe { std::env::set_var("FACTURE_CACHE_DIR", &cache) };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    println!("machine: {cpu}, {} cores", std::thread::available_parallelism().map_or(0, |n| n.get()));
    let Some(server) = pg::PgServer::private(pg::Mode::Durable) else {
        println!("no PostgreSQL server: only the SQLite half would run; nothing to compare");
        return;
    };
    let sqlite = |name: &str| Workspace::File(dir.path().join(format!("{name}.sqlite")));
    let postgres = || Workspace::parse(&server.create_database()).expect("url");

    // FACTURE_BENCH_PART=latency|writers|export runs one part only
    let part = std::env::var("FACTURE_BENCH_PART").unwrap_or_default();
    let runs = |name: &str| part.is_empty() || part == name;

    if runs("latency") {
        let (s50, s99, smax) = edit_latency(&sqlite("latency"));
        let (p50, p99, pmax) = edit_latency(&postgres());
        println!("edit until durable, {EDITS} edits of one annotator:");
        println!("  SQLite file      p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms", ms(s50), ms(s99), ms(smax));
        println!("  PostgreSQL local p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms", ms(p50), ms(p99), ms(pmax));
        println!("  PostgreSQL/SQLite p99 ratio {:.2}", ms(p99) / ms(s99));
    }

    for writers in [1, 4, 16, 32].into_iter().filter(|_| runs("writers")) {
        let (s, s_busy) = throughput(&sqlite(&format!("tp{writers}")), writers, 4.0);
        let (p, p_busy) = throughput(&postgres(), writers, 4.0);
        println!(
            "edits/s with {writers:>2} writers at once: SQLite {s:>7.0} ({s_busy} refused busy)   PostgreSQL {p:>7.0} ({p_busy} refused busy)"
        );
    }

    if !runs("export") {
        return;
    }
    let (sc, sw) = export_time(&sqlite("export"), dir.path(), docs, &cache);
    let (pc, pw) = export_time(&postgres(), dir.path(), docs, &cache);
    println!("COCO export of {docs} documents x {BOXES} boxes, images copied:");
    println!("  SQLite {sc:.2} s (again {sw:.2} s)   PostgreSQL {pc:.2} s with an empty image cache, {pw:.2} s warm");
    println!("  PostgreSQL/SQLite ratio {:.2} cold, {:.2} warm", pc / sc, pw / sw);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
