//! Export integrity: every document gets files of its own whatever it is called, the manifest
//! tells the truth about what is on disk, exports racing for one version number both get a
//! truthful one, a failed export leaves nothing behind, and versions recorded before unique
//! naming still reproduce byte for byte.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use facture::app::dataset::import_dataset;
use facture::app::export::{ExportError, ExportOptions, export, reproduce};
use facture::app::{Command, Session};
use facture::domain::{DocId, Rect, Role};
use facture::formats::augment::AugmentOptions;
use facture::formats::model::Format;
use facture::store::{DatasetVersion, NewDocument, Store};
use serde_json::Value;

const NOW: i64 = 1_700_000_000_000;

#[derive(Clone, Copy)]
enum Kind {
    Png,
    Jpeg,
    /// A multi-page TIFF with this many pages.
    Tiff(u32),
}

/// Pixels unique to `seed`, so no two test images share a hash (import would merge them).
fn pixels(w: u32, h: u32, seed: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        let v = x.wrapping_mul(7).wrapping_add(y.wrapping_mul(13)).wrapping_add(seed.wrapping_mul(53));
        image::Rgb([(v % 251) as u8, (seed * 31 % 256) as u8, ((x + seed) % 256) as u8])
    })
}

/// Writes the image file; returns the size of each page.
fn write_image(path: &Path, kind: Kind, seed: u32) -> Vec<(u32, u32)> {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let (w, h) = (120 + seed % 7, 90 + seed % 5);
    match kind {
        Kind::Png => pixels(w, h, seed).save_with_format(path, image::ImageFormat::Png).unwrap(),
        Kind::Jpeg => pixels(w, h, seed).save_with_format(path, image::ImageFormat::Jpeg).unwrap(),
        Kind::Tiff(pages) => {
            use tiff::encoder::{TiffEncoder, colortype};
            let f = std::fs::File::create(path).unwrap();
            let mut enc = TiffEncoder::new(f).unwrap();
            for p in 0..pages {
                let img = pixels(w, h, seed * 10 + p);
                enc.write_image::<colortype::RGB8>(w, h, img.as_raw()).unwrap();
            }
            return vec![(w, h); pages as usize];
        }
    }
    vec![(w, h)]
}

/// What a test expects back for one document: (rect, label, text) per box.
type Boxes = Vec<(Rect, String, String)>;

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    ws: PathBuf,
    /// Every document with its boxes, by doc id.
    expected: BTreeMap<i64, Boxes>,
}

/// A workspace with one document per page of `files` (paths relative to the fixture's scans
/// folder), each with a different number of labelled boxes with text, added through commands.
fn fixture(files: &[(&str, Kind)]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let ws = root.join("ws.sqlite");
    let mut store = Store::create(&ws).unwrap();
    let user = store.add_user("lead", Role::Lead).unwrap();
    let mut docs: Vec<(DocId, u32, u32)> = Vec::new();
    for (i, (rel, kind)) in files.iter().enumerate() {
        let path = root.join("scans").join(rel);
        let sizes = write_image(&path, *kind, i as u32 + 1);
        let sha256 = facture::imageio::sha256_file(&path).unwrap();
        for (page, &(width, height)) in sizes.iter().enumerate() {
            let nd = NewDocument {
                path: path.to_string_lossy().into_owned(),
                sha256: sha256.clone(),
                page: page as u32,
                width,
                height,
            };
            docs.push((store.add_document(&nd, 0).unwrap().unwrap(), width, height));
        }
    }
    let labels: Vec<_> = store.labels().unwrap().into_iter().take(3).collect();
    let clock = std::sync::atomic::AtomicI64::new(NOW);
    let mut session = Session::new(store, user).with_clock(move || clock.fetch_add(1000, Ordering::Relaxed));
    let mut expected = BTreeMap::new();
    for (n, &(doc, w, h)) in docs.iter().enumerate() {
        let mut boxes = Vec::new();
        for k in 0..(n % 3 + 1) {
            let x0 = (5 + 30 * k as u32) as f32;
            let rect = Rect::new(x0, 10.0 + k as f32 * 20.0, x0 + 25.0, 25.0 + k as f32 * 20.0);
            assert!(rect.x1 < w as f32 && rect.y1 < h as f32);
            let label = &labels[(n + k) % labels.len()];
            let text = format!("doc {} box {k}", doc.0);
            session
                .apply(Command::AddBox { doc, rect, quad: None, label: Some(label.id), text: text.clone() })
                .unwrap();
            boxes.push((rect, label.name.clone(), text));
        }
        expected.insert(doc.0, boxes);
    }
    Fixture { _dir: dir, root, ws, expected }
}

fn no_progress() -> impl FnMut(usize, usize) {
    |_, _| {}
}

fn all_docs(format: Format, out: &Path) -> ExportOptions {
    let mut opts = ExportOptions::new(format, out, NOW);
    opts.all = true;
    opts
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() && !p.is_symlink() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out.sort();
    out
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/")
}

fn stem(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap();
    name.rsplit_once('.').map_or(name, |(s, _)| s).to_string()
}

fn is_image(p: &str) -> bool {
    [".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"].iter().any(|e| p.to_lowercase().ends_with(e))
}

/// A path relative to an export, split into its split folder (`""` or `"train/"` …) and the rest.
fn split_prefix(path: &str) -> (&str, &str) {
    ["train/", "val/", "test/"].iter().find_map(|s| path.strip_prefix(s).map(|rest| (*s, rest))).unwrap_or(("", path))
}

fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// The annotation file a per-image format writes for a page image, if it writes one.
fn annotation_file(format: Format, image: &str) -> Option<String> {
    let (split, _) = split_prefix(image);
    let s = stem(image);
    let file = match format {
        Format::Yolo => format!("labels/{s}.txt"),
        Format::Voc => format!("Annotations/{s}.xml"),
        Format::Funsd => format!("annotations/{s}.json"),
        Format::FactureJson => format!("{s}.json"),
        _ => return None,
    };
    Some(format!("{split}{file}"))
}

/// What a format keeps of a box: (label, text).
fn keeps(format: Format) -> (bool, bool) {
    match format {
        Format::Yolo => (true, false),
        Format::Ppocr => (false, true),
        _ => (true, true),
    }
}

fn manifest(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap()
}

/// Checks an export on disk against the fixture: one image per document (plus `aug` copies
/// each), no shared annotation files, manifest counts and hashes equal to the files, and the
/// boxes of every document back after importing the folder (each split) into a new workspace.
fn check_export(fx: &Fixture, format: Format, out: &Path, aug: u32) {
    let page_images = check_files(fx, format, out, aug);
    check_import(fx, format, out, &page_images);
}

/// The files half of [`check_export`]; returns every page image (documents and copies).
fn check_files(fx: &Fixture, format: Format, out: &Path, aug: u32) -> Vec<String> {
    let m = manifest(out);
    let docs = m["documents"].as_array().unwrap();
    let ctx = format!("{format} in {}", out.display());
    assert_eq!(docs.len(), fx.expected.len(), "{ctx}: documents in the manifest");
    assert!(m["dataset_version"].as_i64().unwrap() > 0);
    let sum = |key: &str| m[key].as_object().unwrap().values().map(|v| v.as_u64().unwrap() as usize).sum::<usize>();
    assert_eq!(sum("label_counts"), fx.expected.values().map(Vec::len).sum::<usize>(), "{ctx}: label counts");
    assert_eq!(sum("split_counts"), fx.expected.len(), "{ctx}: split counts");

    // The manifest lists exactly the files on disk, with their hashes.
    let on_disk: BTreeMap<String, PathBuf> =
        walk(out).into_iter().map(|p| (rel(out, &p), p)).filter(|(r, _)| r != "manifest.json").collect();
    let files = m["files"].as_object().unwrap();
    let listed: BTreeSet<&str> = files.keys().map(String::as_str).collect();
    let disk: BTreeSet<&str> = on_disk.keys().map(String::as_str).collect();
    assert_eq!(listed, disk, "{ctx}: manifest files vs disk");
    for (r, p) in &on_disk {
        let sha = facture::imageio::sha256_hex(&std::fs::read(p).unwrap());
        assert_eq!(files[r].as_str().unwrap(), sha, "{ctx}: {r}");
    }

    // One image per document and augmented copy, each with a stem of its own (all splits).
    let mut page_images: Vec<String> = Vec::new();
    for d in docs {
        let id = d["doc_id"].as_i64().unwrap();
        assert_eq!(d["boxes"].as_u64().unwrap() as usize, fx.expected[&id].len(), "{ctx}: doc {id} box count");
        page_images.push(d["image"].as_str().unwrap().to_string());
        let augmented = d["augmented"].as_array().unwrap();
        assert_eq!(augmented.len() as u32, aug, "{ctx}: doc {id} augmented copies");
        page_images.extend(augmented.iter().map(|a| a["image"].as_str().unwrap().to_string()));
    }
    let images_on_disk: Vec<&String> =
        on_disk.keys().filter(|r| is_image(r) && folder(split_prefix(r).1) == format.image_dir()).collect();
    assert_eq!(images_on_disk.len(), fx.expected.len() * (1 + aug as usize), "{ctx}: image files {images_on_disk:?}");
    let mut stems = BTreeSet::new();
    for img in &page_images {
        assert!(on_disk.contains_key(img), "{ctx}: {img} is in the manifest but not on disk");
        assert!(stems.insert(stem(img).to_lowercase()), "{ctx}: two pages share the stem of {img}");
    }
    let mut annotation_files = BTreeSet::new();
    for img in &page_images {
        if let Some(a) = annotation_file(format, img) {
            assert!(on_disk.contains_key(&a), "{ctx}: {a} missing for {img}");
            assert!(annotation_files.insert(a.clone()), "{ctx}: {a} shared");
        }
    }
    if matches!(format, Format::Ppocr | Format::PpocrKie) {
        let crops = on_disk.keys().filter(|r| r.contains("/crop_img/")).count();
        let total: usize = fx.expected.values().map(Vec::len).sum::<usize>() * (1 + aug as usize);
        assert_eq!(crops, total, "{ctx}: one crop per box");
    }

    page_images
}

/// The import half of [`check_export`].
fn check_import(fx: &Fixture, format: Format, out: &Path, page_images: &[String]) {
    let m = manifest(out);
    let docs = m["documents"].as_array().unwrap();
    let ctx = format!("{format} in {}", out.display());
    // Import every split folder into a new workspace; each document's boxes come back.
    let roots: Vec<PathBuf> = {
        let splits: Vec<PathBuf> =
            ["train", "val", "test"].iter().map(|s| out.join(s)).filter(|p| p.is_dir()).collect();
        if splits.is_empty() { vec![out.to_path_buf()] } else { splits }
    };
    let fresh_path = fx.root.join(format!("fresh-{}.sqlite", out.file_name().unwrap().to_string_lossy()));
    let mut fresh = Store::create(&fresh_path).unwrap();
    let mut imported = Vec::new();
    for r in &roots {
        let rep = import_dataset(
            &mut fresh,
            format,
            r,
            &[],
            &Default::default(),
            None,
            1,
            &mut no_progress(),
            &AtomicBool::new(false),
        )
        .unwrap_or_else(|e| panic!("{ctx}: import {}: {e}", r.display()));
        assert!(rep.skipped.is_empty(), "{ctx}: {:?}", rep.skipped);
        imported.extend(rep.documents);
    }
    assert_eq!(imported.len(), page_images.len(), "{ctx}: documents imported");
    let names: HashMap<_, _> = fresh.labels().unwrap().into_iter().map(|l| (l.id, l.name)).collect();
    let by_path: HashMap<PathBuf, DocId> =
        imported.iter().map(|&d| (std::fs::canonicalize(fresh.document(d).unwrap().path).unwrap(), d)).collect();
    let (keep_label, keep_text) = keeps(format);
    let flat = |boxes: &[(Rect, String, String)]| {
        let mut v: Vec<(i64, i64, i64, i64, String, String)> = boxes
            .iter()
            .map(|(r, l, t)| {
                let q = |v: f32| (v * 10.0).round() as i64;
                (
                    q(r.x0),
                    q(r.y0),
                    q(r.x1),
                    q(r.y1),
                    if keep_label { l.clone() } else { String::new() },
                    if keep_text { t.clone() } else { String::new() },
                )
            })
            .collect();
        v.sort();
        v
    };
    for d in docs {
        let id = d["doc_id"].as_i64().unwrap();
        let image = std::fs::canonicalize(out.join(d["image"].as_str().unwrap())).unwrap();
        let back = by_path.get(&image).unwrap_or_else(|| panic!("{ctx}: doc {id} not imported"));
        let got: Boxes = fresh
            .annotations(*back)
            .unwrap()
            .into_iter()
            .map(|a| (a.rect, a.label.map(|l| names[&l].clone()).unwrap_or_default(), a.text))
            .collect();
        assert_eq!(flat(&got), flat(&fx.expected[&id]), "{ctx}: boxes of doc {id} ({image:?})");
        for a in d["augmented"].as_array().unwrap() {
            let image = std::fs::canonicalize(out.join(a["image"].as_str().unwrap())).unwrap();
            let back = by_path.get(&image).unwrap_or_else(|| panic!("{ctx}: {image:?} not imported"));
            let mut got: Vec<(String, String)> = fresh
                .annotations(*back)
                .unwrap()
                .into_iter()
                .map(|a| {
                    let l = a.label.map(|l| names[&l].clone()).unwrap_or_default();
                    (if keep_label { l } else { String::new() }, if keep_text { a.text } else { String::new() })
                })
                .collect();
            let mut want: Vec<(String, String)> = fx.expected[&id]
                .iter()
                .map(|(_, l, t)| {
                    (
                        if keep_label { l.clone() } else { String::new() },
                        if keep_text { t.clone() } else { String::new() },
                    )
                })
                .collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{ctx}: boxes of {image:?}");
        }
    }
}

fn exportable() -> impl Iterator<Item = Format> {
    Format::ALL.into_iter().filter(|f| f.can_export())
}

fn export_every_format(fx: &Fixture, tag: &str, aug: Option<AugmentOptions>) {
    let mut store = Store::open(&fx.ws).unwrap();
    for format in exportable() {
        let out = fx.root.join(format!("{tag}-{format}"));
        let mut opts = all_docs(format, &out);
        opts.augment = aug;
        let report = export(&mut store, &opts, &mut no_progress(), &AtomicBool::new(false))
            .unwrap_or_else(|e| panic!("{format}: {e}"));
        let copies = aug.map_or(0, |a| a.count);
        assert_eq!(report.documents, fx.expected.len(), "{format}");
        assert_eq!(report.images, fx.expected.len() * (1 + copies as usize), "{format}");
        assert_eq!(report.boxes, fx.expected.values().map(Vec::len).sum::<usize>(), "{format}");
        assert_eq!(report.files, walk(&out).len(), "{format}: files in the report vs on disk");
        check_export(fx, format, &out, copies);
    }
}

#[test]
fn same_stem_different_extension_keeps_every_box_in_every_format() {
    let fx = fixture(&[("invoice_0001.jpg", Kind::Jpeg), ("invoice_0001.png", Kind::Png), ("other.png", Kind::Png)]);
    export_every_format(&fx, "ext", None);
}

#[test]
fn image_and_multipage_tiff_of_one_stem_keep_every_box_in_every_format() {
    // inv.tif's first page has the stem `inv` too; its second is `inv_p2`, which inv_p2.png has.
    let fx = fixture(&[("inv.jpg", Kind::Jpeg), ("inv.tif", Kind::Tiff(2)), ("inv_p2.png", Kind::Png)]);
    export_every_format(&fx, "tif", None);
}

#[test]
fn fallback_names_are_checked_too_in_every_format() {
    // Doc 3's old fallback `a_3` is doc 2's own name; case alone does not make names differ.
    let fx =
        fixture(&[("A/a.png", Kind::Png), ("B/a_3.png", Kind::Png), ("C/a.png", Kind::Png), ("D/A.png", Kind::Png)]);
    export_every_format(&fx, "fallback", None);
}

#[test]
fn augmented_copies_never_collide_with_documents() {
    // `a_aug0` is both doc 4's own name and the name of doc 1's first augmented copy.
    let fx = fixture(&[
        ("A/a.png", Kind::Png),
        ("B/a.jpg", Kind::Jpeg),
        ("C/a_3.png", Kind::Png),
        ("a_aug0.png", Kind::Png),
        ("scan.tif", Kind::Tiff(2)),
    ]);
    export_every_format(&fx, "aug", Some(AugmentOptions { count: 2, seed: 5 }));
}

#[test]
fn names_are_unique_across_splits_and_stable_when_documents_are_added() {
    // Doc 3's old fallback `a_3` is doc 2's name, doc 4's is doc 5's, whatever split each is in.
    let files = [
        ("A/a.png", Kind::Png),
        ("B/a_3.png", Kind::Png),
        ("C/a.png", Kind::Png),
        ("D/a.png", Kind::Png),
        ("a_4.png", Kind::Png),
        ("a_doc3.png", Kind::Png),
    ];
    let fx = fixture(&files);
    let mut store = Store::open(&fx.ws).unwrap();
    for format in [Format::Yolo, Format::FactureJson] {
        let out = fx.root.join(format!("split-{format}"));
        let mut opts = all_docs(format, &out);
        opts.split = Some(facture::app::export::Split { train: 34, val: 33, test: 33 });
        export(&mut store, &opts, &mut no_progress(), &AtomicBool::new(false)).unwrap();
        assert!(manifest(&out)["split_counts"].as_object().unwrap().len() > 1);
        check_export(&fx, format, &out, 0);
    }
    // A later document (higher id) does not rename the earlier ones.
    let names = |out: &Path| -> BTreeMap<i64, String> {
        manifest(out)["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["doc_id"].as_i64().unwrap(), stem(d["image"].as_str().unwrap())))
            .collect()
    };
    let before = names(&fx.root.join("split-yolo"));
    let extra = fx.root.join("scans/E/a.png");
    write_image(&extra, Kind::Png, 99);
    let sha256 = facture::imageio::sha256_file(&extra).unwrap();
    let nd = NewDocument { path: extra.to_string_lossy().into_owned(), sha256, page: 0, width: 120, height: 90 };
    store.add_document(&nd, 0).unwrap().unwrap();
    let out = fx.root.join("later");
    export(&mut store, &all_docs(Format::Yolo, &out), &mut no_progress(), &AtomicBool::new(false)).unwrap();
    let after = names(&out);
    for (id, name) in &before {
        assert_eq!(&after[id], name, "doc {id} was renamed by a later document");
    }
    let unique: BTreeSet<String> = after.values().map(|s| s.to_lowercase()).collect();
    assert_eq!(unique.len(), after.len(), "{after:?}");
}

#[test]
fn only_the_manifest_names_the_version() {
    // What makes renumbering a raced export a manifest rewrite: no format writer embeds it.
    let fx = fixture(&[("a.png", Kind::Png), ("b.tif", Kind::Tiff(2))]);
    let mut store = Store::open(&fx.ws).unwrap();
    for format in exportable() {
        let outs = [fx.root.join(format!("{format}-first")), fx.root.join(format!("{format}-second"))];
        let mut versions = vec![];
        for out in &outs {
            let mut opts = all_docs(format, out);
            opts.augment = Some(AugmentOptions { count: 1, seed: 2 });
            versions.push(export(&mut store, &opts, &mut no_progress(), &AtomicBool::new(false)).unwrap().version);
        }
        assert_ne!(versions[0], versions[1]);
        let files = |out: &Path| -> Vec<(String, Vec<u8>)> {
            walk(out)
                .iter()
                .map(|p| (rel(out, p), std::fs::read(p).unwrap()))
                .filter(|(r, _)| r != "manifest.json")
                .collect()
        };
        assert!(files(&outs[0]) == files(&outs[1]), "{format}: a file other than the manifest differs");
        let (a, b) = (manifest(&outs[0]), manifest(&outs[1]));
        assert_eq!(a["files"], b["files"], "{format}");
    }
}

fn staging_dirs(parent: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".facture-export-"))
        .collect()
}

#[test]
fn two_exports_racing_for_one_number_both_get_their_own() {
    let fx = fixture(&[("a.png", Kind::Png), ("b.png", Kind::Png), ("c.tif", Kind::Tiff(3))]);
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = ["race-1", "race-2"]
        .into_iter()
        .map(|name| {
            let (ws, out, barrier) = (fx.ws.clone(), fx.root.join(name), barrier.clone());
            std::thread::spawn(move || {
                let mut store = Store::open(&ws).unwrap();
                let mut opts = all_docs(Format::Coco, &out);
                opts.augment = Some(AugmentOptions { count: 1, seed: 1 });
                barrier.wait();
                let report = export(&mut store, &opts, &mut no_progress(), &AtomicBool::new(false));
                (out, report)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let store = Store::open(&fx.ws).unwrap();
    let mut numbers = BTreeSet::new();
    for (out, report) in results {
        let report = report.unwrap_or_else(|e| panic!("{}: {e}", out.display()));
        let text = std::fs::read_to_string(out.join("manifest.json")).unwrap();
        let m: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(m["dataset_version"].as_i64(), report.version);
        let recorded = store.dataset_version(report.version.unwrap()).unwrap().unwrap();
        assert_eq!(recorded.manifest, text, "the recorded manifest is the one on disk");
        assert_eq!(recorded.manifest_sha256, facture::imageio::sha256_hex(text.as_bytes()));
        assert_eq!(report.manifest_sha256, recorded.manifest_sha256);
        assert!(numbers.insert(report.version));
        check_export(&fx, Format::Coco, &out, 1);
    }
    assert_eq!(numbers, BTreeSet::from([Some(1), Some(2)]));
    assert!(staging_dirs(&fx.root).is_empty());
}

#[test]
fn a_cancelled_export_leaves_nothing_behind() {
    let fx = fixture(&[("a.png", Kind::Png), ("b.png", Kind::Png), ("c.png", Kind::Png)]);
    let mut store = Store::open(&fx.ws).unwrap();
    // Cancelled after the first document was written.
    let cancel = AtomicBool::new(false);
    let out = fx.root.join("cancelled");
    let err =
        export(&mut store, &all_docs(Format::Yolo, &out), &mut |_, _| cancel.store(true, Ordering::Relaxed), &cancel)
            .unwrap_err();
    assert!(matches!(err, ExportError::Cancelled), "{err}");
    assert!(!err.to_string().contains("incomplete"), "{err}");
    assert!(!out.exists(), "{:?}", walk(&out));
    assert!(staging_dirs(&fx.root).is_empty());
    // A folder the user made beforehand stays, empty.
    let made = fx.root.join("made");
    std::fs::create_dir(&made).unwrap();
    let cancel = AtomicBool::new(false);
    let err =
        export(&mut store, &all_docs(Format::Voc, &made), &mut |_, _| cancel.store(true, Ordering::Relaxed), &cancel)
            .unwrap_err();
    assert!(matches!(err, ExportError::Cancelled), "{err}");
    assert!(made.is_dir() && walk(&made).is_empty(), "{:?}", walk(&made));
    assert!(staging_dirs(&fx.root).is_empty());
    assert!(store.dataset_versions().unwrap().is_empty());
    // And the same folder then takes a complete export.
    let r = export(&mut store, &all_docs(Format::Voc, &made), &mut no_progress(), &AtomicBool::new(false)).unwrap();
    assert_eq!(r.version, Some(1));
    check_export(&fx, Format::Voc, &made, 0);
}

#[test]
fn an_unreadable_image_fails_the_export_and_leaves_nothing_behind() {
    let fx = fixture(&[("a.png", Kind::Png), ("b.png", Kind::Png), ("c.tif", Kind::Tiff(2))]);
    let mut store = Store::open(&fx.ws).unwrap();
    for (victim, format) in [("c.tif", Format::Funsd), ("b.png", Format::Ppocr)] {
        std::fs::rename(fx.root.join("scans").join(victim), fx.root.join("moved")).unwrap();
        let out = fx.root.join(format!("fail-{format}"));
        let err = export(&mut store, &all_docs(format, &out), &mut no_progress(), &AtomicBool::new(false))
            .expect_err("a missing image must fail the export");
        assert!(!out.exists(), "{err}: {:?}", walk(&out));
        assert!(staging_dirs(&fx.root).is_empty(), "{err}");
        std::fs::rename(fx.root.join("moved"), fx.root.join("scans").join(victim)).unwrap();
    }
    assert!(store.dataset_versions().unwrap().is_empty());
}

#[test]
fn linked_images_still_resolve_after_the_move_into_place() {
    let fx = fixture(&[("a.png", Kind::Png), ("a.jpg", Kind::Jpeg)]);
    let mut store = Store::open(&fx.ws).unwrap();
    let out = fx.root.join("linked");
    let mut opts = all_docs(Format::Yolo, &out);
    opts.link_images = true;
    export(&mut store, &opts, &mut no_progress(), &AtomicBool::new(false)).unwrap();
    // (Import does not follow links out of a dataset, so only the files are checked.)
    check_files(&fx, Format::Yolo, &out, 0);
    for d in manifest(&out)["documents"].as_array().unwrap() {
        let img = out.join(d["image"].as_str().unwrap());
        #[cfg(unix)]
        assert!(std::fs::read_link(&img).unwrap().is_absolute(), "{}", img.display());
        assert!(std::fs::read(&img).is_ok(), "{} does not resolve", img.display());
    }
}

#[test]
fn a_failed_reproduction_leaves_nothing_behind() {
    let fx = fixture(&[("a.png", Kind::Png), ("b.tif", Kind::Tiff(2))]);
    let mut store = Store::open(&fx.ws).unwrap();
    let v1 =
        export(&mut store, &all_docs(Format::Csv, &fx.root.join("v1")), &mut no_progress(), &AtomicBool::new(false))
            .unwrap();
    // A version whose recorded manifest hash no rebuild can match.
    let recorded = store.dataset_version(v1.version.unwrap()).unwrap().unwrap();
    let forged = DatasetVersion { number: 2, manifest_sha256: "0".repeat(64), ..recorded };
    store.add_dataset_version(&forged).unwrap();
    let out = fx.root.join("again");
    let err = reproduce(&store, 2, &out, &mut no_progress(), &AtomicBool::new(false)).unwrap_err();
    assert!(matches!(err, ExportError::NotReproducible { number: 2, .. }), "{err}");
    assert!(!out.exists(), "{:?}", walk(&out));
    assert!(staging_dirs(&fx.root).is_empty());
    // The real one reproduces in place.
    let r = reproduce(&store, 1, &out, &mut no_progress(), &AtomicBool::new(false)).unwrap();
    assert_eq!(r.manifest_sha256, v1.manifest_sha256);
    assert_eq!(
        std::fs::read(out.join("manifest.json")).unwrap(),
        std::fs::read(fx.root.join("v1/manifest.json")).unwrap()
    );
    assert!(staging_dirs(&fx.root).is_empty());
}

// ---- a version recorded before file stems were made unique ----

/// The recorded options and manifest of a VOC export of [`legacy_fixture`], as the export
/// before unique file stems wrote them (captured from that code). Placeholders: workspace id,
/// Facture version, and the two images' sha256 (the PNG encoder may change between releases).
const LEGACY_OPTIONS: &str = r#"{"format":"voc","all":true,"split":null,"seed":0,"link_images":false,"augment":null,"as_of_edit":3,"doc_ids":[1,2]}"#;
const LEGACY_MANIFEST: &str = r#"{
  "facture_version": "{FACTURE}",
  "dataset_version": 1,
  "created_ms": 1700000000000,
  "workspace_id": "{WORKSPACE}",
  "format": "voc",
  "filters": {
    "status": "all"
  },
  "options": {
    "format": "voc",
    "all": true,
    "split": null,
    "seed": 0,
    "link_images": false,
    "augment": null,
    "as_of_edit": 3,
    "doc_ids": [
      1,
      2
    ]
  },
  "documents": [
    {
      "doc_id": 1,
      "source_sha256": "{SHA_A}",
      "page": 0,
      "split": "",
      "image": "JPEGImages/a.png",
      "image_sha256": "{SHA_A}",
      "boxes": 1,
      "augmented": []
    },
    {
      "doc_id": 2,
      "source_sha256": "{SHA_B}",
      "page": 0,
      "split": "",
      "image": "JPEGImages/a_2.png",
      "image_sha256": "{SHA_B}",
      "boxes": 2,
      "augmented": []
    }
  ],
  "label_counts": {
    "due_date": 1,
    "invoice_date": 1,
    "invoice_number": 1
  },
  "split_counts": {
    "all": 2
  },
  "skipped_unlabelled_boxes": 0,
  "files": {
    "Annotations/a.xml": "86ad6755be0692d1e683ec503d2b7e254e62b42dbf1c47a7807e3c545182a985",
    "Annotations/a_2.xml": "335c9457464eee1963ad38fa22361d2461bf1c8e1e970453110987837e0d894e",
    "JPEGImages/a.png": "{SHA_A}",
    "JPEGImages/a_2.png": "{SHA_B}"
  }
}
"#;

fn legacy_fixture() -> Fixture {
    fixture(&[("A/a.png", Kind::Png), ("B/a.png", Kind::Png)])
}

#[test]
fn a_version_recorded_with_the_old_names_reproduces_byte_for_byte() {
    let fx = legacy_fixture();
    let mut store = Store::open(&fx.ws).unwrap();
    let sha = |rel: &str| facture::imageio::sha256_file(&fx.root.join("scans").join(rel)).unwrap();
    let manifest = LEGACY_MANIFEST
        .replace("{WORKSPACE}", &store.workspace_id().unwrap())
        .replace("{FACTURE}", env!("CARGO_PKG_VERSION"))
        .replace("{SHA_A}", &sha("A/a.png"))
        .replace("{SHA_B}", &sha("B/a.png"));
    assert!(!LEGACY_OPTIONS.contains("naming"));
    store
        .add_dataset_version(&DatasetVersion {
            number: 1,
            created_ms: NOW,
            user: None,
            format: "voc".into(),
            options: LEGACY_OPTIONS.into(),
            manifest_sha256: facture::imageio::sha256_hex(manifest.as_bytes()),
            manifest: manifest.clone(),
        })
        .unwrap();
    let out = fx.root.join("reproduced");
    let r = reproduce(&store, 1, &out, &mut no_progress(), &AtomicBool::new(false)).unwrap();
    assert_eq!(std::fs::read_to_string(out.join("manifest.json")).unwrap(), manifest);
    assert_eq!(r.manifest_sha256, facture::imageio::sha256_hex(manifest.as_bytes()));
    let files: Vec<String> = walk(&out).iter().map(|p| rel(&out, p)).collect();
    assert_eq!(
        files,
        ["Annotations/a.xml", "Annotations/a_2.xml", "JPEGImages/a.png", "JPEGImages/a_2.png", "manifest.json"]
    );
    // A new export of the same workspace records the new scheme, and still reproduces.
    let new = fx.root.join("new");
    let r2 = export(&mut store, &all_docs(Format::Voc, &new), &mut no_progress(), &AtomicBool::new(false)).unwrap();
    assert_eq!(r2.version, Some(2));
    let options: Value = serde_json::from_str(&store.dataset_version(2).unwrap().unwrap().options).unwrap();
    assert!(options.get("naming").is_some(), "{options}");
    let again = fx.root.join("new-again");
    let r3 = reproduce(&store, 2, &again, &mut no_progress(), &AtomicBool::new(false)).unwrap();
    assert_eq!(r3.manifest_sha256, r2.manifest_sha256);
}

#[test]
fn a_workspace_that_cannot_be_written_exports_whole_but_unrecorded() {
    let fx = fixture(&[("a.png", Kind::Png), ("b.png", Kind::Png)]);
    let mut store = Store::open_read_only(&fx.ws).unwrap();
    assert!(store.is_read_only());
    let out = fx.root.join("out");
    let r = export(&mut store, &all_docs(Format::Coco, &out), &mut no_progress(), &AtomicBool::new(false)).unwrap();
    assert_eq!(r.version, None);
    assert!(r.summary().starts_with("unrecorded dataset"), "{}", r.summary());
    assert_eq!(manifest(&out)["dataset_version"], Value::Null, "the manifest claims no version");
    assert_eq!(r.boxes, fx.expected.values().map(Vec::len).sum::<usize>());
    drop(store);
    assert!(Store::open(&fx.ws).unwrap().dataset_versions().unwrap().is_empty(), "nothing recorded");
}

#[test]
fn a_version_made_by_an_older_facture_still_reproduces_byte_for_byte() {
    let fx = fixture(&[("a.png", Kind::Png), ("b.png", Kind::Png)]);
    let mut store = Store::open(&fx.ws).unwrap();
    let v1 = fx.root.join("v1");
    export(&mut store, &all_docs(Format::Yolo, &v1), &mut no_progress(), &AtomicBool::new(false)).unwrap();
    drop(store);
    // as if Facture 0.0.9 had written it: its manifest names that version
    let old = std::fs::read_to_string(v1.join("manifest.json")).unwrap();
    let current = format!("\"facture_version\": \"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(old.contains(&current), "{old}");
    let older = old.replace(&current, "\"facture_version\": \"0.0.9\"");
    let conn = rusqlite::Connection::open(&fx.ws).unwrap();
    conn.execute(
        "UPDATE dataset_versions SET manifest=?1, manifest_sha256=?2 WHERE number=1",
        rusqlite::params![older, facture::imageio::sha256_hex(older.as_bytes())],
    )
    .unwrap();
    drop(conn);
    let again = fx.root.join("again");
    let store = Store::open(&fx.ws).unwrap();
    reproduce(&store, 1, &again, &mut no_progress(), &AtomicBool::new(false)).unwrap();
    assert_eq!(std::fs::read_to_string(again.join("manifest.json")).unwrap(), older);
}
