//! Export → import into a fresh workspace → the same annotations, modulo what each format
//! cannot hold (listed per format in its module's doc comment); plus versions and reproduction.
//! On both backends: a server workspace exports the page images it holds itself.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use common::backend::{Backend, on_each_backend};
use facture::app::dataset::import_dataset;
use facture::app::export::{ExportError, ExportOptions, Split, export, list_versions, reproduce};
use facture::domain::{
    AnnId, AnnState, Annotation, Change, DocId, DocStatus, EditKind, LinkKind, Point, Quad, Rect, Source,
};
use facture::formats::augment::AugmentOptions;
use facture::formats::model::Format;
use facture::store::{DocFilter, NewDocument, NewEdit, Store};

on_each_backend!(
    every_format_round_trips_what_it_can_hold,
    export_is_recorded_and_reproduced_byte_for_byte_after_later_edits,
    one_vendor_never_spans_two_splits,
    only_accepted_documents_unless_all_and_out_dir_must_be_empty,
    augmented_copies_carry_transformed_boxes_and_are_recorded,
    malformed_file_imports_nothing_and_says_where,
);

fn ann(
    doc: DocId,
    k: i64,
    rect: Rect,
    quad: Option<Quad>,
    label: Option<facture::domain::LabelId>,
    text: &str,
) -> Change {
    Change::Annotation {
        before: None,
        after: Some(Annotation {
            id: AnnId(-k),
            doc,
            rect,
            quad,
            label,
            text: text.into(),
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
    }
}

/// A workspace with `n` accepted 200×150 pages, each with a labelled box, a quad, an unlabelled
/// box with awkward text, and a key→value and a row link; vendor names repeat every 3 pages.
/// The images are files in the test's folder; a server workspace also holds them itself, as
/// an import would have stored them.
fn workspace(b: &Backend, n: usize) -> Store {
    let dir = b.dir();
    let (_, mut store) = b.create();
    let l = |name: &str| store.label_by_name(name).unwrap().unwrap().id;
    let (vendor, total, desc) = (l("vendor_name"), l("total_amount"), l("line_item_description"));
    std::fs::create_dir_all(dir.join("scans")).unwrap();
    for i in 0..n {
        let path = dir.join("scans").join(format!("inv{i}.png"));
        common::write_png(&path, 200, 150, i as u8);
        let sha = facture::imageio::sha256_file(&path).unwrap();
        if store.is_postgres() {
            store.put_image(&sha, &std::fs::read(&path).unwrap()).unwrap();
        }
        let nd = NewDocument { path: path.to_string_lossy().into(), sha256: sha, page: 0, width: 200, height: 150 };
        let doc = store.add_document(&nd, 0).unwrap().unwrap();
        let q =
            Quad([Point::new(20.0, 60.0), Point::new(120.0, 55.0), Point::new(121.5, 70.0), Point::new(21.0, 75.25)]);
        let changes = vec![
            ann(doc, 1, Rect::new(10.5, 5.0, 90.25, 18.0), None, Some(vendor), &format!("Vendor {} GmbH", i % 3)),
            ann(doc, 2, q.bounds(), Some(q), Some(desc), "Widget, \"large\"\tx2"),
            ann(doc, 3, Rect::new(130.0, 100.0, 190.0, 112.0), None, Some(total), "1 234,50 €"),
            ann(doc, 4, Rect::new(5.0, 120.0, 60.0, 140.0), None, None, "note <&> ünïcode"),
            Change::Link {
                before: None,
                after: Some(facture::domain::Link {
                    id: facture::domain::LinkId(0),
                    doc,
                    from: AnnId(-4),
                    to: AnnId(-3),
                    kind: LinkKind::KeyValue,
                }),
            },
            Change::Link {
                before: None,
                after: Some(facture::domain::Link {
                    id: facture::domain::LinkId(0),
                    doc,
                    from: AnnId(-2),
                    to: AnnId(-3),
                    kind: LinkKind::Row,
                }),
            },
            Change::Status { doc, before: DocStatus::New, after: DocStatus::Accepted },
        ];
        store
            .apply(NewEdit { ts_ms: 1, user: None, doc: Some(doc), action: "test".into(), kind: EditKind::Do, changes })
            .unwrap();
    }
    store
}

/// What a format keeps, to compare like with like.
#[derive(Clone, Copy)]
struct Keeps {
    text: bool,
    quad: bool,
    label: bool,
    unlabelled: bool,
    links: bool,
    link_kind: bool,
    tol: f32,
}

fn keeps(f: Format) -> Keeps {
    let all = Keeps { text: true, quad: true, label: true, unlabelled: true, links: true, link_kind: true, tol: 1e-3 };
    match f {
        Format::Coco => Keeps { unlabelled: false, links: false, ..all },
        Format::Yolo => Keeps { text: false, quad: false, unlabelled: false, links: false, tol: 1e-2, ..all },
        Format::Voc => Keeps { quad: false, unlabelled: false, links: false, ..all },
        Format::Funsd => Keeps { quad: false, link_kind: false, ..all },
        Format::Ppocr => Keeps { label: false, links: false, ..all },
        Format::PpocrKie => Keeps { link_kind: false, ..all },
        Format::Csv => Keeps { links: false, ..all },
        Format::FactureJson => Keeps { quad: false, links: false, ..all },
        Format::LabelStudio | Format::LabelStudioMin => all,
    }
}

type Flat = (Rect, Option<Quad>, Option<String>, String);
type FlatLink = (usize, usize, Option<LinkKind>);

fn flat(store: &Store, doc: DocId, k: Keeps) -> (Vec<Flat>, Vec<FlatLink>) {
    let names: std::collections::HashMap<_, _> = store.labels().unwrap().into_iter().map(|l| (l.id, l.name)).collect();
    let anns: Vec<Annotation> =
        store.annotations(doc).unwrap().into_iter().filter(|a| k.unlabelled || a.label.is_some()).collect();
    let boxes = anns
        .iter()
        .map(|a| {
            let quad = if k.quad { a.quad } else { None };
            let rect = if k.quad { a.rect } else { a.quad.map_or(a.rect, |q| q.bounds()) };
            let label = if k.label { a.label.map(|l| names[&l].clone()) } else { None };
            (rect, quad, label, if k.text { a.text.clone() } else { String::new() })
        })
        .collect();
    let idx = |id: AnnId| anns.iter().position(|a| a.id == id);
    let mut links: Vec<_> = if k.links {
        store
            .links(doc)
            .unwrap()
            .into_iter()
            .filter_map(|l| Some((idx(l.from)?, idx(l.to)?, k.link_kind.then_some(l.kind))))
            .collect()
    } else {
        vec![]
    };
    links.sort_by_key(|l| (l.0, l.1, l.2.map(|k| k.as_str())));
    (boxes, links)
}

fn close(a: &Flat, b: &Flat, tol: f32) -> bool {
    let r = |x: Rect, y: Rect| {
        (x.x0 - y.x0).abs() <= tol
            && (x.y0 - y.y0).abs() <= tol
            && (x.x1 - y.x1).abs() <= tol
            && (x.y1 - y.y1).abs() <= tol
    };
    let q = match (a.1, b.1) {
        (None, None) => true,
        (Some(p), Some(q)) => {
            p.0.iter().zip(q.0.iter()).all(|(p, q)| (p.x - q.x).abs() <= tol && (p.y - q.y).abs() <= tol)
        }
        _ => false,
    };
    r(a.0, b.0) && q && a.2 == b.2 && a.3 == b.3
}

fn no_progress() -> impl FnMut(usize, usize) {
    |_, _| {}
}

fn every_format_round_trips_what_it_can_hold(b: &Backend) {
    let mut store = workspace(b, 2);
    if b.is_postgres() {
        // a server workspace exports the images it holds, also where the importer's files are not
        std::fs::remove_dir_all(b.dir().join("scans")).unwrap();
    }
    let cancel = AtomicBool::new(false);
    for format in Format::ALL.into_iter().filter(|f| f.can_export()) {
        let out = b.dir().join(format!("out-{format}"));
        let opts = ExportOptions::new(format, &out, 1000);
        let report = export(&mut store, &opts, &mut no_progress(), &cancel).unwrap();
        assert_eq!(report.documents, 2, "{format}");
        let (_, mut fresh) = b.create();
        let imported =
            import_dataset(&mut fresh, format, &out, &[], &Default::default(), None, 5, &mut no_progress(), &cancel)
                .unwrap_or_else(|e| panic!("{format}: {e}"));
        assert_eq!(imported.documents.len(), 2, "{format}: {}", imported.summary());
        let k = keeps(format);
        for (orig, new) in store.documents(&DocFilter::default()).unwrap().iter().zip(imported.documents.iter()) {
            let new_doc = fresh.document(*new).unwrap();
            assert_eq!(new_doc.sha256, orig.sha256, "{format}: images are copied unchanged");
            if b.is_postgres() {
                let held = fresh.image(&orig.sha256).unwrap().expect("the imported image is stored on the server");
                assert_eq!(facture::imageio::sha256_hex(&held), orig.sha256);
            }
            let (want, want_links) = flat(&store, orig.id, k);
            let (got, got_links) = flat(&fresh, *new, k);
            assert_eq!(want.len(), got.len(), "{} {format}: {want:?} vs {got:?}", b.name());
            for (x, y) in want.iter().zip(&got) {
                assert!(close(x, y, k.tol), "{} {format}: {x:?} != {y:?}", b.name());
            }
            assert_eq!(want_links, got_links, "{} {format}: links", b.name());
        }
    }
    if let Some(cache) = b.cache_dir() {
        for d in store.documents(&DocFilter::default()).unwrap() {
            let cached = cache.join(&d.sha256[..2]).join(&d.sha256);
            assert!(cached.is_file(), "{} was read through the process's own cache", d.sha256);
        }
    }
}

fn export_is_recorded_and_reproduced_byte_for_byte_after_later_edits(b: &Backend) {
    let mut store = workspace(b, 6);
    let cancel = AtomicBool::new(false);
    let mut opts = ExportOptions::new(Format::Coco, b.dir().join("v1"), 1234);
    opts.split = Some(Split { train: 60, val: 20, test: 20 });
    opts.seed = 3;
    let r1 = export(&mut store, &opts, &mut no_progress(), &cancel).unwrap();
    assert_eq!(r1.version, Some(1));
    // Later work: a box is deleted and a label changes.
    let doc = store.documents(&DocFilter::default()).unwrap()[0].id;
    let a = store.annotations(doc).unwrap()[0].clone();
    store
        .apply(NewEdit {
            ts_ms: 2,
            user: None,
            doc: Some(doc),
            action: "delete".into(),
            kind: EditKind::Do,
            changes: vec![Change::Annotation { before: Some(a), after: None }],
        })
        .unwrap();
    let r2 =
        export(&mut store, &ExportOptions::new(Format::Coco, b.dir().join("v2"), 5678), &mut no_progress(), &cancel)
            .unwrap();
    assert_eq!(r2.version, Some(2));
    assert_eq!(r2.boxes + 1, r1.boxes);

    let again = b.dir().join("again");
    let r = reproduce(&store, 1, &again, &mut no_progress(), &cancel).unwrap();
    assert_eq!(r.manifest_sha256, r1.manifest_sha256);
    for entry in walk(&b.dir().join("v1")) {
        let rel = entry.strip_prefix(b.dir().join("v1")).unwrap();
        assert_eq!(std::fs::read(&entry).unwrap(), std::fs::read(again.join(rel)).unwrap(), "{}", rel.display());
    }
    let versions = list_versions(&store).unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].changes, "first version");
    assert!(versions[1].changes.contains("vendor_name -1"), "{}", versions[1].changes);
    assert!(matches!(
        reproduce(&store, 9, &b.dir().join("x"), &mut no_progress(), &cancel),
        Err(ExportError::NoSuchVersion(9))
    ));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

fn one_vendor_never_spans_two_splits(b: &Backend) {
    let mut store = workspace(b, 9);
    let mut opts = ExportOptions::new(Format::FactureJson, b.dir().join("out"), 1);
    opts.split = Some(Split { train: 34, val: 33, test: 33 });
    let report = export(&mut store, &opts, &mut no_progress(), &AtomicBool::new(false)).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.dir().join("out/manifest.json")).unwrap()).unwrap();
    let mut split_of_vendor = std::collections::HashMap::new();
    for d in manifest["documents"].as_array().unwrap() {
        let vendor = d["doc_id"].as_i64().unwrap() % 3; // doc ids start at 1, vendors repeat every 3
        let split = d["split"].as_str().unwrap().to_string();
        assert_eq!(split_of_vendor.entry(vendor).or_insert(split.clone()), &split);
    }
    assert_eq!(report.per_split.len(), 3, "{:?}", report.per_split);
}

fn only_accepted_documents_unless_all_and_out_dir_must_be_empty(b: &Backend) {
    let mut store = workspace(b, 2);
    let doc = store.documents(&DocFilter::default()).unwrap()[1].id;
    store
        .apply(NewEdit {
            ts_ms: 2,
            user: None,
            doc: Some(doc),
            action: "reopen".into(),
            kind: EditKind::Do,
            changes: vec![Change::Status { doc, before: DocStatus::Accepted, after: DocStatus::InReview }],
        })
        .unwrap();
    let cancel = AtomicBool::new(false);
    let r = export(&mut store, &ExportOptions::new(Format::Csv, b.dir().join("a"), 1), &mut no_progress(), &cancel)
        .unwrap();
    assert_eq!(r.documents, 1);
    let mut all = ExportOptions::new(Format::Csv, b.dir().join("b"), 1);
    all.all = true;
    assert_eq!(export(&mut store, &all, &mut no_progress(), &cancel).unwrap().documents, 2);
    assert!(matches!(export(&mut store, &all, &mut no_progress(), &cancel), Err(ExportError::OutNotEmpty { .. })));
}

fn augmented_copies_carry_transformed_boxes_and_are_recorded(b: &Backend) {
    let mut store = workspace(b, 1);
    let mut opts = ExportOptions::new(Format::LabelStudio, b.dir().join("aug"), 1);
    opts.augment = Some(AugmentOptions { count: 2, seed: 11 });
    let r = export(&mut store, &opts, &mut no_progress(), &AtomicBool::new(false)).unwrap();
    assert_eq!(r.images, 3);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.dir().join("aug/manifest.json")).unwrap()).unwrap();
    assert_eq!(m["documents"][0]["augmented"].as_array().unwrap().len(), 2);
    let (_, mut fresh) = b.create();
    let imp = import_dataset(
        &mut fresh,
        Format::LabelStudio,
        &b.dir().join("aug"),
        &[],
        &Default::default(),
        None,
        1,
        &mut no_progress(),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(imp.documents.len(), 3);
    for d in imp.documents {
        let doc = fresh.document(d).unwrap();
        for a in fresh.annotations(d).unwrap() {
            assert!(
                a.rect.x0 >= 0.0 && a.rect.y0 >= 0.0 && a.rect.x1 <= doc.width as f32 && a.rect.y1 <= doc.height as f32
            );
        }
    }
}

fn malformed_file_imports_nothing_and_says_where(b: &Backend) {
    let mut store = workspace(b, 2);
    let out = b.dir().join("funsd");
    export(&mut store, &ExportOptions::new(Format::Funsd, &out, 1), &mut no_progress(), &AtomicBool::new(false))
        .unwrap();
    // Break the second file only: the first must not be imported either.
    let second = out.join("annotations/inv1.json");
    std::fs::write(&second, "{\"form\": [\n  {\"id\": 0, \"box\": [1, 2, 3]}\n]}").unwrap();
    let (_, mut fresh) = b.create();
    let err = import_dataset(
        &mut fresh,
        Format::Funsd,
        &out,
        &[],
        &Default::default(),
        None,
        1,
        &mut no_progress(),
        &AtomicBool::new(false),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("inv1.json:2:"), "{err}");
    assert_eq!(fresh.document_count().unwrap(), 0);
    assert_eq!(fresh.annotation_count().unwrap(), 0);
}

/// The same workspace in a file and on a server exports the same bytes in every format, split
/// and augmented too (each manifest names its own workspace; nothing else may differ).
#[test]
fn both_backends_export_the_same_bytes() {
    let Some(pg) = Backend::postgres() else { return };
    let lite = Backend::sqlite();
    let exports = |b: &Backend| -> BTreeMap<String, Vec<u8>> {
        let mut store = workspace(b, 6);
        let mut files = BTreeMap::new();
        for format in Format::ALL.into_iter().filter(|f| f.can_export()) {
            let out = b.dir().join(format!("out-{format}"));
            let mut opts = ExportOptions::new(format, &out, 1000);
            opts.split = Some(Split { train: 50, val: 25, test: 25 });
            opts.seed = 5;
            if format == Format::LabelStudio {
                opts.augment = Some(AugmentOptions { count: 1, seed: 2 });
            }
            export(&mut store, &opts, &mut no_progress(), &AtomicBool::new(false)).unwrap();
            for path in walk(&out) {
                let mut bytes = std::fs::read(&path).unwrap();
                if path.ends_with("manifest.json") {
                    let mut m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                    assert!(m.as_object_mut().unwrap().remove("workspace_id").is_some());
                    bytes = serde_json::to_vec_pretty(&m).unwrap();
                }
                files.insert(format!("{format}/{}", path.strip_prefix(&out).unwrap().display()), bytes);
            }
        }
        files
    };
    let (want, got) = (exports(&lite), exports(&pg));
    assert!(want.len() > 100, "{} files", want.len());
    assert_eq!(want.keys().collect::<Vec<_>>(), got.keys().collect::<Vec<_>>(), "the same files");
    for (name, bytes) in &want {
        assert!(bytes == &got[name], "{name} differs between SQLite and PostgreSQL");
    }
}
