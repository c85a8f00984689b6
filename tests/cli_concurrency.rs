//! Real `facture` processes at once on one workspace, and killed mid-import: every importer
//! writes each page and each box exactly once, and an interrupted import completes when run
//! again.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use facture::store::Store;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_facture")).args(args).output().unwrap();
    assert!(out.status.success(), "facture {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs the same command in two processes started together.
fn twice_at_once(args: &[&str]) -> [Output; 2] {
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_facture"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()]
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The number after `word` in a summary line ("12 page(s) added" → 12 for "page(s) added").
fn count_before(line: &str, words: &str) -> usize {
    let at = line.find(words).unwrap_or_else(|| panic!("'{words}' not in '{line}'"));
    line[..at].split_whitespace().last().and_then(|n| n.trim_start_matches(',').parse().ok()).unwrap_or(0)
}

struct Set {
    dir: tempfile::TempDir,
    boxes: usize,
}

fn synth(count: u32) -> Set {
    let dir = tempfile::tempdir().unwrap();
    ok(&["synth", "--count", &count.to_string(), "--out", s(&dir.path().join("synth")), "--seed", "9"]);
    let boxes = facture::formats::gt::gt_files_in(&dir.path().join("synth"))
        .unwrap()
        .iter()
        .map(|f| facture::formats::gt::GroundTruth::load(f).unwrap().boxes.len())
        .sum();
    Set { dir, boxes }
}

#[test]
fn two_imports_at_once_add_each_page_once_and_count_every_file() {
    let set = synth(12);
    let ws = set.dir.path().join("ws.sqlite");
    ok(&["init", s(&ws)]);
    let outs = twice_at_once(&["import", s(&ws), s(&set.dir.path().join("synth"))]);
    for o in &outs {
        assert!(o.status.success(), "{}", text(o));
        let line = String::from_utf8_lossy(&o.stdout).into_owned();
        let (added, dups) = (count_before(&line, "page(s) added"), count_before(&line, "duplicate file(s)"));
        assert_eq!(added + dups, 12, "every file is counted once: {line}");
    }
    let total: usize = outs.iter().map(|o| count_before(&String::from_utf8_lossy(&o.stdout), "page(s) added")).sum();
    assert_eq!(total, 12);
    assert_eq!(Store::open(&ws).unwrap().document_count().unwrap(), 12);
}

#[test]
fn two_ground_truth_imports_at_once_write_each_box_once() {
    let set = synth(6);
    let ws = set.dir.path().join("ws.sqlite");
    ok(&["init", s(&ws)]);
    let outs = twice_at_once(&["import-gt", s(&ws), s(&set.dir.path().join("synth"))]);
    for o in &outs {
        assert!(o.status.success(), "{}", text(o));
    }
    let store = Store::open(&ws).unwrap();
    assert_eq!(store.annotation_count().unwrap() as usize, set.boxes);
    assert_eq!(store.document_count().unwrap(), 6);
}

#[test]
fn two_dataset_imports_at_once_write_each_box_once() {
    let set = synth(6);
    let src = set.dir.path().join("src.sqlite");
    ok(&["init", s(&src)]);
    ok(&["import-gt", s(&src), s(&set.dir.path().join("synth"))]);
    let coco = set.dir.path().join("coco");
    ok(&["export", s(&src), "--all", "--format", "coco", "--out", s(&coco)]);
    let exported = Store::open(&src).unwrap().annotation_count().unwrap();
    let ws = set.dir.path().join("ws.sqlite");
    ok(&["init", s(&ws)]);
    let outs = twice_at_once(&["import-dataset", s(&ws), "--format", "coco", s(&coco)]);
    for o in &outs {
        assert!(o.status.success(), "{}", text(o));
    }
    let docs: usize = outs.iter().map(|o| count_before(&String::from_utf8_lossy(&o.stdout), "document(s),")).sum();
    assert_eq!(docs, 6, "{}\n{}", text(&outs[0]), text(&outs[1]));
    let store = Store::open(&ws).unwrap();
    assert_eq!(store.annotation_count().unwrap(), exported, "each box once");
    assert_eq!(store.document_count().unwrap(), 6);
}

#[test]
fn an_import_killed_mid_way_completes_when_run_again() {
    use tiff::encoder::{TiffEncoder, colortype};
    let dir = tempfile::tempdir().unwrap();
    let tif = dir.path().join("batch.tif");
    const PAGES: u32 = 1500;
    {
        let f = std::io::BufWriter::new(std::fs::File::create(&tif).unwrap());
        let mut enc = TiffEncoder::new(f).unwrap();
        for i in 0..PAGES {
            let px: Vec<u8> = (0..400 * 300u32).map(|k| ((k + i) % 251) as u8).collect();
            enc.write_image::<colortype::Gray8>(400, 300, &px).unwrap();
        }
    }
    // kill at growing delays, so that some kills land while the import runs, whatever this
    // machine's speed
    let mut interrupted = 0;
    for (round, delay_ms) in [5u64, 15, 30, 60, 100, 160, 250, 400].into_iter().enumerate() {
        let ws = dir.path().join(format!("ws{round}.sqlite"));
        ok(&["init", s(&ws)]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_facture"))
            .args(["import", s(&ws), s(&tif)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let running = child.try_wait().unwrap().is_none();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let before = Store::open(&ws).unwrap().document_count().unwrap();
        assert!(before == 0 || before == PAGES as i64, "a file's pages are all there or none: {before}");
        if running && before == 0 {
            interrupted += 1;
        }
        let out = ok(&["import", s(&ws), s(&tif)]);
        let store = Store::open(&ws).unwrap();
        assert_eq!(store.document_count().unwrap(), PAGES as i64, "{out}");
        let pages: std::collections::BTreeSet<u32> =
            store.documents(&Default::default()).unwrap().iter().map(|d| d.page).collect();
        assert_eq!(pages.len(), PAGES as usize, "each page once");
        let again = ok(&["import", s(&ws), s(&tif)]);
        assert!(again.starts_with("0 page(s) added, 1 duplicate"), "{again}");
    }
    assert!(interrupted > 0, "no kill landed while an import ran");
}
