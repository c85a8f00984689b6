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
    assert!(failed.iter().any(|(n, r)| n == "text.jpg" && r.contains("not a supported image")));
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
    assert_eq!(relink_dir(&mut store, dir.path()).unwrap(), 1);
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
