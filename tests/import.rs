//! Importing page images: good, duplicate, moved, corrupt, empty and non-image files.

mod common;

use std::path::PathBuf;

use facture::app::import::{import_gt, import_paths, relink_dir};
use facture::store::{DocFilter, Store};

#[test]
fn good_files_go_in_and_bad_ones_are_reported_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let scans = dir.path().join("scans");
    std::fs::create_dir_all(scans.join("sub")).unwrap();
    common::write_png(&scans.join("a.png"), 64, 48, 1);
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(40, 30, image::Rgb([9, 9, 9])))
        .save(scans.join("sub/b.jpg"))
        .unwrap();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(20, 10, image::Rgb([1, 2, 3])))
        .save(scans.join("c.bmp"))
        .unwrap();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(21, 11, image::Rgb([1, 2, 3])))
        .save(scans.join("e.webp"))
        .unwrap();
    std::fs::write(scans.join("empty.png"), b"").unwrap();
    std::fs::write(scans.join("text.jpg"), b"just some words").unwrap();
    let mut truncated = std::fs::read(scans.join("a.png")).unwrap();
    truncated.truncate(truncated.len() / 2);
    truncated[30] ^= 0xff;
    std::fs::write(scans.join("broken.png"), &truncated).unwrap();
    std::fs::write(scans.join("readme.txt"), b"ignored: not an image extension").unwrap();

    let mut store = Store::open_in_memory().unwrap();
    let mut calls = 0;
    let report = import_paths(&mut store, std::slice::from_ref(&scans), 5, |_, _| calls += 1).unwrap();
    assert_eq!(report.added.len(), 4, "{report:?}");
    assert_eq!(calls, 7, "progress once per image file");
    let failed: Vec<(String, String)> =
        report.failed.iter().map(|(p, r)| (p.file_name().unwrap().to_string_lossy().into_owned(), r.clone())).collect();
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert!(failed.iter().any(|(n, r)| n == "empty.png" && r.contains("empty file")));
    assert!(failed.iter().any(|(n, r)| n == "text.jpg" && r.contains("not a supported page file")));
    assert!(failed.iter().any(|(n, r)| n == "broken.png" && r.contains("unreadable")));

    let docs = store.documents(&DocFilter::default()).unwrap();
    let a = docs.iter().find(|d| d.path.ends_with("a.png")).unwrap();
    assert_eq!((a.width, a.height), (64, 48));
    assert_eq!(a.sha256, facture::imageio::sha256_file(&scans.join("a.png")).unwrap());

    // The same content under another name is a duplicate, not a second document.
    std::fs::copy(scans.join("a.png"), dir.path().join("copy.png")).unwrap();
    let again = import_paths(&mut store, &[dir.path().join("copy.png")], 6, |_, _| {}).unwrap();
    assert!(again.added.is_empty());
    assert_eq!(again.duplicates.len(), 1);
    assert_eq!(store.document_count().unwrap(), 4);
}

#[test]
fn multipage_tiff_becomes_one_document_per_page() {
    use tiff::encoder::{TiffEncoder, colortype};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.tif");
    {
        let f = std::fs::File::create(&path).unwrap();
        let mut enc = TiffEncoder::new(f).unwrap();
        for i in 0..3u32 {
            enc.write_image::<colortype::Gray8>(50 + i, 70, &vec![200u8; ((50 + i) * 70) as usize]).unwrap();
        }
    }
    let mut store = Store::open_in_memory().unwrap();
    let report = import_paths(&mut store, &[path], 0, |_, _| {}).unwrap();
    assert_eq!(report.added.len(), 3);
    let docs = store.documents(&DocFilter::default()).unwrap();
    let pages: Vec<(u32, u32)> = docs.iter().map(|d| (d.page, d.width)).collect();
    assert_eq!(pages, vec![(0, 50), (1, 51), (2, 52)]);
    assert_eq!(docs[2].display_name(), "batch.tif p3");
}

#[test]
fn moved_files_are_relinked_by_hash() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old");
    let new = dir.path().join("new/deeper");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::create_dir_all(&new).unwrap();
    common::write_png(&old.join("p.png"), 30, 30, 3);
    common::write_png(&old.join("q.png"), 30, 30, 4);
    let mut store = Store::open_in_memory().unwrap();
    import_paths(&mut store, std::slice::from_ref(&old), 0, |_, _| {}).unwrap();
    std::fs::rename(old.join("p.png"), new.join("renamed.png")).unwrap();
    std::fs::rename(old.join("q.png"), new.join("q.png")).unwrap();
    // Re-importing a moved file re-links it instead of duplicating it.
    let r = import_paths(&mut store, &[new.join("q.png")], 1, |_, _| {}).unwrap();
    assert_eq!((r.added.len(), r.relinked.len()), (0, 1));
    // And a whole folder can be searched for the rest.
    let found = relink_dir(&mut store, dir.path()).unwrap();
    assert_eq!((found.relinked, found.still_missing), (1, 0));
    let paths: Vec<PathBuf> =
        store.documents(&DocFilter::default()).unwrap().iter().map(|d| PathBuf::from(&d.path)).collect();
    assert!(paths.iter().all(|p| p.exists() && p.starts_with(std::fs::canonicalize(&new).unwrap())), "{paths:?}");
}

#[test]
fn malformed_ground_truth_is_reported_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    common::write_png(&dir.path().join("a.png"), 100, 50, 1);
    common::write_png(&dir.path().join("b.png"), 100, 50, 2);
    std::fs::write(
        dir.path().join("a.json"),
        r#"{"image":"a.png","width":100,"height":50,"boxes":[{"x0":1,"y0":2,"x1":40,"y1":20,"text":"TOTAL","label":"total_amount"},{"x0":50,"y0":2,"x1":90,"y1":20,"text":"x","label":"company"}]}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("b.json"), r#"{"image":"b.png","width":100,"#).unwrap();
    std::fs::write(dir.path().join("c.json"), r#"{"image":"missing.png","width":1,"height":1,"boxes":[]}"#).unwrap();
    let mut store = Store::open_in_memory().unwrap();
    let r = import_gt(&mut store, dir.path(), None, 0).unwrap();
    assert_eq!((r.documents, r.boxes), (1, 2));
    assert_eq!(r.unknown_labels, vec!["company".to_string()]);
    let names: Vec<String> =
        r.failed.iter().map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, vec!["b.json", "c.json"]);
    let doc = store.documents(&DocFilter::default()).unwrap()[0].clone();
    let anns = store.annotations(doc.id).unwrap();
    assert_eq!(anns[0].label, store.label_by_name("total_amount").unwrap().map(|l| l.id));
    assert_eq!(anns[1].label, None);
}

#[cfg(unix)]
#[test]
fn folders_that_link_to_themselves_are_walked_once() {
    let dir = tempfile::tempdir().unwrap();
    let scans = dir.path().join("scans");
    std::fs::create_dir_all(scans.join("sub")).unwrap();
    common::write_png(&scans.join("a.png"), 40, 30, 1);
    common::write_png(&scans.join("sub/b.png"), 40, 30, 2);
    // a loop (`ln -s . a; ln -s . b`), a link to a parent, and a second link to one file
    std::os::unix::fs::symlink(".", scans.join("self_a")).unwrap();
    std::os::unix::fs::symlink(".", scans.join("self_b")).unwrap();
    std::os::unix::fs::symlink("..", scans.join("sub/up")).unwrap();
    std::os::unix::fs::symlink("a.png", scans.join("alias.png")).unwrap();
    let (files, failed) = facture::app::import::collect_image_files(std::slice::from_ref(&scans));
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(files.len(), 2, "each real file once: {files:?}");
    let mut store = Store::open_in_memory().unwrap();
    let mut decoded = 0;
    let report = import_paths(&mut store, &[scans.clone(), scans.join("self_a")], 0, |_, _| decoded += 1).unwrap();
    assert_eq!(report.added.len(), 2, "{report:?}");
    assert_eq!(decoded, 2, "each file is read once, not once per path to it");
}

#[test]
fn an_interrupted_multipage_import_is_completed_by_importing_again() {
    use facture::store::NewDocument;
    use tiff::encoder::{TiffEncoder, colortype};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.tif");
    {
        let f = std::fs::File::create(&path).unwrap();
        let mut enc = TiffEncoder::new(f).unwrap();
        for i in 0..6u32 {
            enc.write_image::<colortype::Gray8>(30 + i, 20, &vec![100u8; ((30 + i) * 20) as usize]).unwrap();
        }
    }
    let mut store = Store::open_in_memory().unwrap();
    // what an earlier version left when it was killed after two of six pages
    let sha = facture::imageio::sha256_file(&path).unwrap();
    let abs = std::fs::canonicalize(&path).unwrap().to_string_lossy().into_owned();
    for page in 0..2u32 {
        let d = NewDocument { path: abs.clone(), sha256: sha.clone(), page, width: 30 + page, height: 20 };
        store.add_document(&d, 0).unwrap().unwrap();
    }
    let report = import_paths(&mut store, std::slice::from_ref(&path), 1, |_, _| {}).unwrap();
    assert_eq!(report.added.len(), 4, "{report:?}");
    assert_eq!(report.completed.len(), 1);
    assert!(report.summary().contains("4 page(s) added, 1 interrupted import(s) completed"), "{}", report.summary());
    let pages: Vec<(u32, u32)> =
        store.documents(&DocFilter::default()).unwrap().iter().map(|d| (d.page, d.width)).collect();
    assert_eq!(pages, (0..6).map(|p| (p, 30 + p)).collect::<Vec<_>>());
    // once complete, the file is a plain duplicate
    let again = import_paths(&mut store, &[path], 2, |_, _| {}).unwrap();
    assert_eq!((again.added.len(), again.duplicates.len(), again.completed.len()), (0, 1, 0));
}

#[test]
fn a_corrupt_page_in_a_multipage_file_adds_none_of_its_pages() {
    use tiff::encoder::{TiffEncoder, colortype};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.tif");
    {
        let f = std::fs::File::create(&path).unwrap();
        let mut enc = TiffEncoder::new(f).unwrap();
        for _ in 0..3 {
            enc.write_image::<colortype::Gray8>(64, 64, &[7u8; 64 * 64]).unwrap();
        }
    }
    // cut into the last page's pixels: its header still reads, its data does not
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 64 * 40]).unwrap();
    let mut store = Store::open_in_memory().unwrap();
    let report = import_paths(&mut store, std::slice::from_ref(&path), 1, |_, _| {}).unwrap();
    if report.failed.is_empty() {
        // the cut fell into the IFD chain instead; then every readable page must be there
        assert_eq!(report.added.len() as i64, store.document_count().unwrap());
    } else {
        assert_eq!(store.document_count().unwrap(), 0, "all or nothing: {report:?}");
    }
}

#[test]
fn ground_truth_takes_images_only_from_its_own_folder() {
    let dir = tempfile::tempdir().unwrap();
    let gt = dir.path().join("gt");
    std::fs::create_dir_all(&gt).unwrap();
    common::write_png(&dir.path().join("outside.png"), 100, 50, 1);
    common::write_png(&gt.join("inside.png"), 100, 50, 2);
    let outside = dir.path().join("outside.png");
    let entries = [
        ("a.json", "../outside.png".to_string()),
        ("b.json", outside.to_string_lossy().into_owned()),
        ("c.json", "../no-such-file.png".to_string()),
        ("d.json", "inside.png".to_string()),
    ];
    for (name, image) in &entries {
        let json = serde_json::json!({"image": image, "width": 100, "height": 50,
            "boxes": [{"x0": 1, "y0": 1, "x1": 20, "y1": 10, "text": "x"}]});
        std::fs::write(gt.join(name), json.to_string()).unwrap();
    }
    let mut store = Store::open_in_memory().unwrap();
    let r = import_gt(&mut store, &gt, None, 0).unwrap();
    assert_eq!((r.documents, r.boxes), (1, 1), "{r:?}");
    assert_eq!(r.failed.len(), 3, "{r:?}");
    for (_, reason) in &r.failed {
        assert!(reason.contains("not found inside"), "{reason}");
    }
    // an outside file that exists and one that does not read the same
    let strip = |i: usize| r.failed[i].1.replace(&entries[i].1, "X");
    assert_eq!(strip(0), strip(2), "the message must not reveal whether a file outside exists");
    let docs = store.documents(&DocFilter::default()).unwrap();
    assert!(docs.iter().all(|d| !d.path.contains("outside")), "{docs:?}");
}

#[test]
fn two_ground_truth_imports_at_once_load_each_box_once() {
    let dir = tempfile::tempdir().unwrap();
    let synth = dir.path().join("synth");
    facture::synth::write_set(&synth, 4, 11).unwrap();
    let ws = dir.path().join("ws.sqlite");
    drop(Store::create(&ws).unwrap());
    let want: usize = facture::formats::gt::gt_files_in(&synth)
        .unwrap()
        .iter()
        .map(|f| facture::formats::gt::GroundTruth::load(f).unwrap().boxes.len())
        .sum();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (ws, synth, barrier) = (ws.clone(), synth.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut store = Store::open(&ws).unwrap();
                barrier.wait();
                import_gt(&mut store, &synth, None, 0).unwrap()
            })
        })
        .collect();
    let reports: Vec<_> = runs.into_iter().map(|t| t.join().unwrap()).collect();
    let store = Store::open(&ws).unwrap();
    assert_eq!(store.annotation_count().unwrap() as usize, want, "{reports:?}");
    assert_eq!(store.document_count().unwrap(), 4);
    // every file is counted once, as loaded by one import and skipped by the other
    assert_eq!(reports.iter().map(|r| r.documents).sum::<usize>(), 4, "{reports:?}");
    assert_eq!(reports.iter().map(|r| r.skipped.len()).sum::<usize>(), 4, "{reports:?}");
}
