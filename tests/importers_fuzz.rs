//! Every importer fed mutated real files (truncated, bytes flipped, numbers made huge): it
//! never panics, a failure is one line naming the file, and a failed import leaves the
//! workspace exactly as it was.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;

use facture::app::dataset::import_dataset;
use facture::app::export::{ExportOptions, export};
use facture::app::import::{import_gt, import_paths};
use facture::app::{Command, Session};
use facture::domain::{LinkKind, Rect, Role};
use facture::formats::model::Format;
use facture::store::{NewDocument, Store};
use proptest::prelude::*;

/// How a file is damaged.
#[derive(Debug, Clone)]
enum Mutation {
    /// Keep this fraction of the bytes.
    Truncate(f64),
    /// Set the byte at each fraction of the length to a value.
    Flip(Vec<(f64, u8)>),
    /// Replace the n-th run of digits by a huge or odd number.
    Number(usize, &'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0.0..1.0f64).prop_map(Mutation::Truncate),
        prop::collection::vec((0.0..1.0f64, any::<u8>()), 1..6).prop_map(Mutation::Flip),
        (0usize..40, prop::sample::select(vec!["99999999999999999999999", "-1", "1e308", "NaN", "4294967296", "0"]))
            .prop_map(|(n, s)| Mutation::Number(n, s)),
    ]
}

fn apply(bytes: &[u8], m: &Mutation) -> Vec<u8> {
    match m {
        Mutation::Truncate(f) => {
            bytes[..((bytes.len() as f64 * f) as usize).min(bytes.len().saturating_sub(1))].to_vec()
        }
        Mutation::Flip(flips) => {
            let mut b = bytes.to_vec();
            for (at, v) in flips {
                let i = ((b.len() as f64 * at) as usize).min(b.len().saturating_sub(1));
                if let Some(x) = b.get_mut(i) {
                    *x = *v;
                }
            }
            b
        }
        Mutation::Number(n, with) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let mut runs = Vec::new();
            let mut start = None;
            for (i, c) in text.char_indices() {
                match (c.is_ascii_digit(), start) {
                    (true, None) => start = Some(i),
                    (false, Some(s)) => {
                        runs.push((s, i));
                        start = None;
                    }
                    _ => {}
                }
            }
            match runs.get(n % runs.len().max(1)) {
                Some(&(s, e)) => format!("{}{}{}", &text[..s], with, &text[e..]).into_bytes(),
                None => bytes.to_vec(),
            }
        }
    }
}

/// One real dataset per importable format, exported once from a small workspace.
struct Sources {
    _dir: tempfile::TempDir,
    datasets: Vec<(Format, PathBuf)>,
    gt: PathBuf,
    images: PathBuf,
}

fn sources() -> &'static Sources {
    static SOURCES: OnceLock<Sources> = OnceLock::new();
    SOURCES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("scans");
        std::fs::create_dir_all(&images).unwrap();
        let ws = dir.path().join("src.sqlite");
        let mut store = Store::create(&ws).unwrap();
        let lead = store.add_user("lea", Role::Lead).unwrap();
        let mut docs = Vec::new();
        for i in 0..2u8 {
            let path = images.join(format!("page{i}.png"));
            image::RgbImage::from_fn(160, 120, |x, y| image::Rgb([x as u8 ^ i, y as u8, 200])).save(&path).unwrap();
            let sha256 = facture::imageio::sha256_file(&path).unwrap();
            let nd = NewDocument { path: path.display().to_string(), sha256, page: 0, width: 160, height: 120 };
            docs.push(store.add_document(&nd, 0).unwrap().unwrap());
        }
        let labels = store.labels().unwrap();
        let mut session = Session::new(store, lead);
        for (n, &doc) in docs.iter().enumerate() {
            let mut made = Vec::new();
            for k in 0..3 {
                let x = 5.0 + 45.0 * k as f32;
                let rect = Rect::new(x, 10.0 + 10.0 * n as f32, x + 40.0, 30.0 + 10.0 * n as f32);
                let out = session
                    .apply(Command::AddBox {
                        doc,
                        rect,
                        quad: None,
                        label: Some(labels[k % labels.len()].id),
                        text: format!("Réf. {n}-{k} 1.234,50 €"),
                    })
                    .unwrap();
                made.extend(out.created_boxes());
            }
            session.apply(Command::AddLink { doc, from: made[0], to: made[1], kind: LinkKind::KeyValue }).unwrap();
        }
        let mut store = session.into_store();
        let mut datasets = Vec::new();
        for format in Format::ALL.into_iter().filter(Format::can_export) {
            let out = dir.path().join(format.as_str());
            let mut opts = ExportOptions::new(format, &out, 1);
            opts.all = true;
            export(&mut store, &opts, &mut |_, _| {}, &AtomicBool::new(false)).unwrap();
            datasets.push((format, out));
        }
        let gt = dir.path().join("gt");
        let docs = store.documents(&Default::default()).unwrap();
        facture::app::import::export_gt(&store, &docs, &gt).unwrap();
        for d in &docs {
            std::fs::copy(&d.path, gt.join(Path::new(&d.path).file_name().unwrap())).unwrap();
        }
        Sources { _dir: dir, datasets, gt, images }
    })
}

/// Annotation files of a dataset (what a person or tool wrote), not its images or manifest.
fn annotation_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !facture::imageio::has_image_extension(&p) && !p.ends_with("manifest.json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() { copy_dir(&p, &dest) } else { std::fs::copy(&p, &dest).map(|_| ()).unwrap() }
    }
}

/// A workspace that already holds work, so "unchanged" means something.
fn workspace(dir: &Path) -> Store {
    let mut store = Store::create(&dir.join("ws.sqlite")).unwrap();
    let u = store.add_user("ann", Role::Annotator).unwrap();
    let nd = NewDocument { path: "/x/y.png".into(), sha256: "f".repeat(64), page: 0, width: 10, height: 10 };
    let doc = store.add_document(&nd, 0).unwrap().unwrap();
    let mut s = Session::new(store, u);
    s.apply(Command::AddBox { doc, rect: Rect::new(1.0, 1.0, 5.0, 5.0), quad: None, label: None, text: "x".into() })
        .unwrap();
    s.into_store()
}

/// Everything in the workspace a failed import must leave alone.
fn state(store: &Store) -> (i64, i64, i64, Vec<String>) {
    let docs = store.documents(&Default::default()).unwrap().into_iter().map(|d| format!("{d:?}")).collect();
    (store.document_count().unwrap(), store.annotation_count().unwrap(), store.edit_count().unwrap(), docs)
}

fn one_line(msg: &str) -> bool {
    !msg.is_empty() && !msg.contains('\n')
}

proptest! {
    // about 30 mutations per format
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn dataset_importers_survive_mutated_files(which in 0usize..64, file_pick in 0usize..64, m in mutation()) {
        let src = sources();
        let (format, dataset) = &src.datasets[which % src.datasets.len()];
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("data");
        copy_dir(dataset, &copy);
        let files = annotation_files(&copy);
        prop_assume!(!files.is_empty());
        let victim = &files[file_pick % files.len()];
        let bytes = std::fs::read(victim).unwrap();
        std::fs::write(victim, apply(&bytes, &m)).unwrap();
        let mut store = workspace(dir.path());
        let before = state(&store);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            import_dataset(&mut store, *format, &copy, &[], &Default::default(), None, 2, &mut |_, _| {}, &AtomicBool::new(false))
        }));
        let Ok(result) = run else {
            return Err(TestCaseError::fail(format!("{format} panicked on {m:?} of {}", victim.display())));
        };
        if let Err(e) = result {
            let msg = e.to_string();
            prop_assert!(one_line(&msg), "{format}: {msg}");
            prop_assert_eq!(state(&store), before, "{} left the workspace changed after: {}", format, msg);
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn ground_truth_import_survives_mutated_files(file_pick in 0usize..8, m in mutation()) {
        let src = sources();
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("gt");
        copy_dir(&src.gt, &copy);
        let files = annotation_files(&copy);
        let victim = &files[file_pick % files.len()];
        let bytes = std::fs::read(victim).unwrap();
        std::fs::write(victim, apply(&bytes, &m)).unwrap();
        let mut store = workspace(dir.path());
        let before = state(&store);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| import_gt(&mut store, &copy, None, 2)));
        let Ok(result) = run else {
            return Err(TestCaseError::fail(format!("import-gt panicked on {m:?}")));
        };
        let report = result.map_err(|e| TestCaseError::fail(e.to_string()))?;
        // the mutated file either loads as a valid file or is reported; the other one loads
        prop_assert_eq!(report.documents + report.failed.len() + report.skipped.len(), files.len(), "{:?}", report);
        for (path, reason) in &report.failed {
            prop_assert!(path == victim && one_line(reason), "{}: {}", path.display(), reason);
        }
        if report.failed.is_empty() {
            prop_assert!(store.annotation_count().unwrap() > before.1);
        } else {
            prop_assert_eq!(store.document_count().unwrap(), before.0 + 1, "only the good file's page went in");
        }
    }

    #[test]
    fn image_import_survives_mutated_files(pick in 0usize..2, m in mutation()) {
        let src = sources();
        let dir = tempfile::tempdir().unwrap();
        let name = format!("page{pick}.png");
        let path = dir.path().join(&name);
        let bytes = std::fs::read(src.images.join(&name)).unwrap();
        let damaged = apply(&bytes, &m);
        std::fs::write(&path, &damaged).unwrap();
        let mut store = workspace(dir.path());
        let before = state(&store);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            import_paths(&mut store, std::slice::from_ref(&path), 2, |_, _| {})
        }));
        let Ok(result) = run else {
            return Err(TestCaseError::fail(format!("import panicked on {m:?}")));
        };
        let report = result.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(report.added.len() + report.failed.len(), 1, "{:?}", report);
        if let Some((_, reason)) = report.failed.first() {
            prop_assert!(one_line(reason) && reason.contains(&name), "{}", reason);
            prop_assert_eq!(state(&store), before);
        }
        // a PNG ends with a 12-byte IEND chunk after its pixels; a cut inside the pixels must fail
        if matches!(m, Mutation::Truncate(_)) && damaged.len() + 12 < bytes.len() {
            prop_assert!(report.added.is_empty(), "a truncated image was accepted: {:?}", m);
        }
    }
}
