//! Importing files written in each tool's own conventions (hand-made from their docs, under
//! tests/fixtures/formats/); images are generated here at the size the files declare. Into a
//! workspace of either backend (a server workspace also stores the images).

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use common::backend::{Backend, on_each_backend};
use facture::app::dataset::{DatasetImportReport, LabelMap, import_dataset};
use facture::domain::Annotation;
use facture::formats::model::Format;
use facture::store::Store;

on_each_backend!(
    cvat_coco_with_text_attribute_and_polygon,
    labelimg_voc_with_integer_and_decimal_coordinates,
    yolo_with_unknown_class_index_keeps_the_box,
    funsd_links_are_kept_once,
    ppocrlabel_label_txt_with_folder_prefix_and_kie_class,
    label_studio_json_and_json_min_ocr_template,
);

/// A copy of fixture `name` in the test's folder, with its image; returns the copy's root.
fn fixture(b: &Backend, name: &str, image_at: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats").join(name);
    let root = b.dir().join(name);
    copy_dir(&src, &root);
    let img = root.join(image_at);
    std::fs::create_dir_all(img.parent().unwrap()).unwrap();
    image::RgbImage::from_fn(120, 80, |x, y| image::Rgb([x as u8, y as u8, 7])).save(&img).unwrap();
    root
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() { copy_dir(&p, &dest) } else { std::fs::copy(&p, &dest).map(|_| ()).unwrap() }
    }
}

/// Imports into a fresh workspace, the label names in `unlabelled` (not invoice labels) mapped
/// to no label; on a server, checks the images went in with the boxes.
fn import(
    b: &Backend,
    format: Format,
    path: &Path,
    unlabelled: &[&str],
) -> (Store, DatasetImportReport, Vec<Annotation>) {
    let (_, mut store) = b.create();
    let mut map = LabelMap::default();
    for name in unlabelled {
        map.insert(*name, None);
    }
    let report = import_dataset(&mut store, format, path, &[], &map, None, 1, &mut |_, _| {}, &AtomicBool::new(false))
        .unwrap_or_else(|e| panic!("{} {format}: {e}", b.name()));
    assert!(!report.documents.is_empty(), "{format}");
    for d in &report.documents {
        let sha = store.document(*d).unwrap().sha256;
        assert_eq!(store.has_image(&sha).unwrap(), b.is_postgres(), "{} {format}: image stored", b.name());
    }
    let anns = report.documents.iter().flat_map(|d| store.annotations(*d).unwrap()).collect();
    (store, report, anns)
}

fn label(store: &Store, a: &Annotation) -> Option<String> {
    a.label.map(|l| store.label(l).unwrap().name)
}

fn cvat_coco_with_text_attribute_and_polygon(b: &Backend) {
    let root = fixture(b, "coco", "images/sample.png");
    let (store, report, anns) = import(b, Format::Coco, &root, &["signature"]);
    assert_eq!(anns.len(), 2);
    assert_eq!(anns[0].rect, facture::domain::Rect::new(10.0, 20.0, 30.0, 30.0));
    assert_eq!(anns[0].text, "12,50 €");
    assert_eq!(label(&store, &anns[0]).as_deref(), Some("total_amount"));
    assert!(anns[1].quad.is_some() && anns[1].label.is_none());
    assert_eq!(report.unlabelled.get("signature"), Some(&1));
}

fn labelimg_voc_with_integer_and_decimal_coordinates(b: &Backend) {
    let root = fixture(b, "voc", "JPEGImages/sample.png");
    let (store, _, anns) = import(b, Format::Voc, &root, &[]);
    assert_eq!(anns.len(), 2);
    assert_eq!(anns[1].rect.x0, 70.5);
    assert_eq!(anns[1].text, "1 234,50 & co");
    assert_eq!(label(&store, &anns[0]).as_deref(), Some("invoice_number"));
}

fn yolo_with_unknown_class_index_keeps_the_box(b: &Backend) {
    let root = fixture(b, "yolo", "images/sample.png");
    let (store, report, anns) = import(b, Format::Yolo, &root, &["5"]);
    assert_eq!(anns.len(), 3);
    assert_eq!(anns[0].rect, facture::domain::Rect::new(45.0, 35.0, 75.0, 45.0));
    assert_eq!(label(&store, &anns[1]).as_deref(), Some("invoice_date"));
    assert_eq!(report.unlabelled.get("5"), Some(&1));
}

fn funsd_links_are_kept_once(b: &Backend) {
    let root = fixture(b, "funsd", "images/sample.png");
    let (store, report, anns) = import(b, Format::Funsd, &root, &["question", "answer", "header"]);
    assert_eq!(anns.len(), 3);
    assert_eq!(report.links, 1);
    assert_eq!(store.links(report.documents[0]).unwrap().len(), 1);
    assert_eq!(report.unlabelled.len(), 3, "question, answer, header are not invoice labels");
}

fn ppocrlabel_label_txt_with_folder_prefix_and_kie_class(b: &Backend) {
    let root = fixture(b, "ppocr", "imgs/sample.png");
    let (store, _, anns) = import(b, Format::Ppocr, &root.join("imgs"), &[]);
    assert_eq!(anns.len(), 2);
    assert_eq!(anns[0].text, "ACME Corp");
    assert!(anns[0].quad.is_none() && anns[1].quad.is_some());
    assert_eq!(label(&store, &anns[1]).as_deref(), Some("total_amount"));
}

fn label_studio_json_and_json_min_ocr_template(b: &Backend) {
    let root = fixture(b, "labelstudio", "sample.png");
    let (store, report, anns) = import(b, Format::LabelStudio, &root.join("export.json"), &["Stamp"]);
    assert_eq!(anns.len(), 2);
    assert_eq!(anns[0].rect, facture::domain::Rect::new(12.0, 20.0, 42.0, 30.0));
    assert_eq!(anns[0].text, "42.00");
    assert_eq!(label(&store, &anns[0]).as_deref(), Some("total_amount"));
    assert!(anns[1].quad.is_some(), "rotated rectangle becomes a quad");
    assert_eq!(report.links, 1);
    assert_eq!(report.unlabelled.get("Stamp"), Some(&1));

    // into a second fresh workspace
    let (store, _, anns) = import(b, Format::LabelStudioMin, &root.join("min.json"), &[]);
    assert_eq!(anns.len(), 1);
    assert_eq!(anns[0].text, "42.00");
    assert_eq!(label(&store, &anns[0]).as_deref(), Some("total_amount"));
}
