//! Dataset export: select documents, snapshot their boxes (now, or as of an earlier export's
//! last edit), split by vendor, augment, hand pages to a format writer, write images and a
//! manifest with every file's sha256, and record the export as a numbered dataset version.
//! Everything written is a function of the recorded options and the edit log, so
//! [`reproduce`] rebuilds an old version byte for byte.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::domain::{
    AnnId, AnnState, Annotation, Change, DocId, DocStatus, Document, EditId, Label, LabelId, Link, LinkId, UserId,
};
use crate::formats::augment::{self, AugmentOptions, Augmentation};
use crate::formats::gt::{GroundTruth, GtBox};
use crate::formats::model::{Format, OutFile, Page, PageBox, PageLink, Skipped, file_stem, to_json_pretty};
use crate::formats::{coco, csv, funsd, labelstudio, ppocr, voc, yolo};
use crate::imageio::{self, ImageError};
use crate::store::{DatasetVersion, DocFilter, Store, StoreError};

pub use crate::formats::model::Format as DatasetFormat;

/// Relative sizes of train/val/test, e.g. 80/10/10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub train: u32,
    pub val: u32,
    pub test: u32,
}

impl std::str::FromStr for Split {
    type Err = String;
    /// "80,10,10", "80/10/10" or "0.8,0.1,0.1".
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<f64> = s
            .split([',', '/', ':'])
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("split '{s}': expected three numbers like 80,10,10"))?;
        let [a, b, c] = parts.as_slice() else {
            return Err(format!("split '{s}': expected three numbers like 80,10,10"));
        };
        let scale = if a + b + c <= 1.0 + 1e-9 { 100.0 } else { 1.0 };
        let w = |v: f64| (v * scale).round();
        if [*a, *b, *c].iter().any(|v| !v.is_finite() || *v < 0.0) || w(*a) + w(*b) + w(*c) <= 0.0 {
            return Err(format!("split '{s}': parts must be non-negative and not all zero"));
        }
        Ok(Split { train: w(*a) as u32, val: w(*b) as u32, test: w(*c) as u32 })
    }
}

/// What to export and how.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: Format,
    /// Must not exist or be an empty folder.
    pub out: PathBuf,
    /// Every document, not only accepted ones.
    pub all: bool,
    pub split: Option<Split>,
    pub seed: u64,
    /// Symlink images instead of copying them.
    pub link_images: bool,
    pub augment: Option<AugmentOptions>,
    pub user: Option<UserId>,
    pub now_ms: i64,
}

impl ExportOptions {
    pub fn new(format: Format, out: impl Into<PathBuf>, now_ms: i64) -> Self {
        ExportOptions {
            format,
            out: out.into(),
            all: false,
            split: None,
            seed: 0,
            link_images: false,
            augment: None,
            user: None,
            now_ms,
        }
    }
}

/// The options as recorded with a version: everything needed to redo the export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedOptions {
    pub format: Format,
    pub all: bool,
    pub split: Option<Split>,
    pub seed: u64,
    pub link_images: bool,
    pub augment: Option<AugmentOptions>,
    /// The edit the snapshot was taken at (None: a workspace without edits).
    pub as_of_edit: Option<i64>,
    pub doc_ids: Vec<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("{path}: the output folder is not empty; choose a new or empty folder")]
    OutNotEmpty { path: PathBuf },
    #[error("{0} cannot be exported (it is an import-only format)")]
    NotExportable(Format),
    #[error("nothing to export: no {0} documents")]
    NoDocuments(&'static str),
    #[error(
        "{path}: the image changed since it was imported (sha256 {found}, expected {expected}); re-import or relink it"
    )]
    ImageChanged { path: PathBuf, expected: String, found: String },
    #[error("dataset version {0} does not exist")]
    NoSuchVersion(i64),
    #[error("dataset version {number}: its recorded options are unreadable: {reason}")]
    BadRecord { number: i64, reason: String },
    #[error(
        "dataset version {number} could not be reproduced exactly: {} file(s) differ (first: {}); \
         an image was probably edited on disk",
        differing.len(), differing.first().map(String::as_str).unwrap_or("manifest.json")
    )]
    NotReproducible { number: i64, differing: Vec<String> },
    #[error("export cancelled; the output folder is incomplete")]
    Cancelled,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportReport {
    pub version: i64,
    pub out: PathBuf,
    pub documents: usize,
    /// Including augmented copies.
    pub images: usize,
    pub boxes: usize,
    pub files: usize,
    /// Boxes the format could not hold (e.g. unlabelled boxes in COCO/YOLO/VOC).
    pub skipped: Skipped,
    pub per_split: BTreeMap<String, usize>,
    pub manifest_sha256: String,
}

impl ExportReport {
    pub fn summary(&self) -> String {
        let splits: Vec<String> = self.per_split.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let mut s = format!(
            "dataset version {}: {} document(s), {} image(s), {} box(es), {} file(s) in {}",
            self.version,
            self.documents,
            self.images,
            self.boxes,
            self.files,
            self.out.display()
        );
        if splits.len() > 1 {
            s.push_str(&format!(" (split: {})", splits.join(", ")));
        }
        if self.skipped.unlabelled_boxes > 0 {
            s.push_str(&format!(
                "; {} unlabelled box(es) left out (the format needs a label)",
                self.skipped.unlabelled_boxes
            ));
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestDoc {
    pub doc_id: i64,
    pub source_sha256: String,
    pub page: u32,
    pub split: String,
    /// The exported image, relative to the output folder.
    pub image: String,
    pub image_sha256: String,
    pub boxes: usize,
    pub augmented: Vec<ManifestAug>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestAug {
    pub image: String,
    pub image_sha256: String,
    pub params: Augmentation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub facture_version: String,
    pub dataset_version: i64,
    pub created_ms: i64,
    pub workspace_id: String,
    pub format: Format,
    pub filters: BTreeMap<String, String>,
    pub options: RecordedOptions,
    pub documents: Vec<ManifestDoc>,
    pub label_counts: BTreeMap<String, usize>,
    pub split_counts: BTreeMap<String, usize>,
    pub skipped_unlabelled_boxes: usize,
    /// sha256 of every file written (images included), by path relative to the output folder.
    pub files: BTreeMap<String, String>,
}

pub const MANIFEST_FILE: &str = "manifest.json";
pub const UNLABELLED: &str = "(unlabelled)";

/// Exports a new dataset version and records it in the workspace.
pub fn export(
    store: &mut Store,
    opts: &ExportOptions,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<ExportReport, ExportError> {
    if !opts.format.can_export() {
        return Err(ExportError::NotExportable(opts.format));
    }
    let filter = DocFilter { status: (!opts.all).then_some(DocStatus::Accepted), ..DocFilter::default() };
    let docs = store.documents(&filter)?;
    if docs.is_empty() {
        return Err(ExportError::NoDocuments(if opts.all { "" } else { "accepted" }));
    }
    let recorded = RecordedOptions {
        format: opts.format,
        all: opts.all,
        split: opts.split,
        seed: opts.seed,
        link_images: opts.link_images,
        augment: opts.augment.filter(|a| a.count > 0),
        as_of_edit: store.last_edit_id()?.map(|e| e.0),
        doc_ids: docs.iter().map(|d| d.id.0).collect(),
    };
    let number = store.next_dataset_version()?;
    let (report, manifest_text) = run(store, &recorded, number, opts.now_ms, &opts.out, progress, cancel)?;
    store.add_dataset_version(&DatasetVersion {
        number,
        created_ms: opts.now_ms,
        user: opts.user,
        format: opts.format.as_str().to_string(),
        // Serialising plain data cannot fail.
        options: serde_json::to_string(&recorded).unwrap_or_default(),
        manifest: manifest_text,
        manifest_sha256: report.manifest_sha256.clone(),
    })?;
    Ok(report)
}

/// Writes dataset version `number` again into `out`, byte for byte as it was first written,
/// from the edit log; fails with `NotReproducible` (naming the files) if anything differs.
pub fn reproduce(
    store: &Store,
    number: i64,
    out: &Path,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<ExportReport, ExportError> {
    let v = store.dataset_version(number)?.ok_or(ExportError::NoSuchVersion(number))?;
    let recorded: RecordedOptions =
        serde_json::from_str(&v.options).map_err(|e| ExportError::BadRecord { number, reason: e.to_string() })?;
    let (report, manifest_text) = run(store, &recorded, number, v.created_ms, out, progress, cancel)?;
    if report.manifest_sha256 != v.manifest_sha256 {
        let old: Manifest =
            serde_json::from_str(&v.manifest).map_err(|e| ExportError::BadRecord { number, reason: e.to_string() })?;
        let new: Manifest = serde_json::from_str(&manifest_text)
            .map_err(|e| ExportError::BadRecord { number, reason: e.to_string() })?;
        let mut differing: Vec<String> = old
            .files
            .iter()
            .filter(|(k, v)| new.files.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .chain(new.files.keys().filter(|k| !old.files.contains_key(*k)).cloned())
            .collect();
        differing.push(MANIFEST_FILE.to_string());
        return Err(ExportError::NotReproducible { number, differing });
    }
    Ok(report)
}

/// Documents with their boxes and links, as of an edit.
struct Snapshot {
    labels: Vec<Label>,
    docs: Vec<(Document, Vec<Annotation>, Vec<Link>)>,
}

/// The selected documents as they were right after edit `as_of`: the current rows with every
/// later edit undone in memory (newest first).
fn snapshot(store: &Store, doc_ids: &[i64], as_of: Option<i64>) -> Result<Snapshot, ExportError> {
    let mut labels: BTreeMap<LabelId, Label> = store.labels()?.into_iter().map(|l| (l.id, l)).collect();
    let wanted: HashSet<DocId> = doc_ids.iter().map(|&d| DocId(d)).collect();
    let mut docs: BTreeMap<DocId, Document> = BTreeMap::new();
    let mut anns: HashMap<DocId, BTreeMap<AnnId, Annotation>> = HashMap::new();
    let mut links: HashMap<DocId, BTreeMap<LinkId, Link>> = HashMap::new();
    for &id in &wanted {
        docs.insert(id, store.document(id)?);
        anns.insert(id, store.annotations(id)?.into_iter().map(|a| (a.id, a)).collect());
        links.insert(id, store.links(id)?.into_iter().map(|l| (l.id, l)).collect());
    }
    let later = store.edits_after(as_of.map(EditId))?;
    for edit in later.iter().rev() {
        for change in edit.changes.iter().rev() {
            match change {
                Change::Annotation { before, after } => {
                    if let Some(a) = after
                        && let Some(m) = anns.get_mut(&a.doc)
                    {
                        m.remove(&a.id);
                    }
                    if let Some(b) = before
                        && let Some(m) = anns.get_mut(&b.doc)
                    {
                        m.insert(b.id, b.clone());
                    }
                }
                Change::Link { before, after } => {
                    if let Some(l) = after
                        && let Some(m) = links.get_mut(&l.doc)
                    {
                        m.remove(&l.id);
                    }
                    if let Some(l) = before
                        && let Some(m) = links.get_mut(&l.doc)
                    {
                        m.insert(l.id, l.clone());
                    }
                }
                Change::Status { doc, before, .. } => {
                    if let Some(d) = docs.get_mut(doc) {
                        d.status = *before;
                    }
                }
                Change::Label { before, after } => {
                    if let Some(l) = after {
                        labels.remove(&l.id);
                    }
                    if let Some(l) = before {
                        labels.insert(l.id, l.clone());
                    }
                }
                _ => {}
            }
        }
    }
    let mut labels: Vec<Label> = labels.into_values().collect();
    labels.sort_by_key(|l| (l.position, l.id));
    let docs = doc_ids
        .iter()
        .filter_map(|&id| {
            let id = DocId(id);
            let d = docs.remove(&id)?;
            let a = anns.remove(&id).unwrap_or_default().into_values().collect();
            let l = links.remove(&id).unwrap_or_default().into_values().collect();
            Some((d, a, l))
        })
        .collect();
    Ok(Snapshot { labels, docs })
}

/// "ACME  Corp." → "acme corp": what decides that two invoices share a vendor.
pub fn normalise_vendor(text: &str) -> String {
    text.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Assigns each group (key, size) to train/val/test: groups shuffled by `seed`, then each goes
/// where the split is furthest below its share. The same inputs give the same answer.
pub fn assign_splits(groups: &[(String, usize)], split: &Split, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| groups[a].0.cmp(&groups[b].0));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Our own Fisher–Yates on the raw stream, so a rand upgrade cannot change old splits.
    for i in (1..order.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let weights = [split.train, split.val, split.test].map(f64::from);
    let total_w: f64 = weights.iter().sum();
    let mut counts = [0usize; 3];
    let mut assigned = vec![0; groups.len()];
    let mut done = 0usize;
    for g in order {
        let size = groups[g].1;
        let after = (done + size) as f64;
        let best = (0..3)
            .filter(|&s| weights[s] > 0.0)
            .max_by(|&a, &b| {
                let da = weights[a] / total_w * after - counts[a] as f64;
                let db = weights[b] / total_w * after - counts[b] as f64;
                da.partial_cmp(&db).unwrap_or(std::cmp::Ordering::Equal).then(b.cmp(&a))
            })
            .unwrap_or(0);
        counts[best] += size;
        done += size;
        assigned[g] = best;
    }
    assigned
}

const SPLIT_NAMES: [&str; 3] = ["train", "val", "test"];

/// One document on its way out: its page (geometry in the source image) and where it goes.
struct Item {
    doc: Document,
    page: Page,
    split: String,
    /// Exported image file name (no folder).
    name: String,
    /// Whether the source file can be copied as is (else the page is decoded and saved as PNG).
    copy_as_is: bool,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io { path: path.to_path_buf(), source }
}

fn check_out_dir(out: &Path) -> Result<(), ExportError> {
    if out.exists() {
        let mut entries = std::fs::read_dir(out).map_err(io_err(out))?;
        if entries.next().is_some() {
            return Err(ExportError::OutNotEmpty { path: out.to_path_buf() });
        }
    }
    std::fs::create_dir_all(out).map_err(io_err(out))
}

fn join_rel(dir: &str, name: &str) -> String {
    if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") }
}

fn build_items(snap: &Snapshot, split: Option<&Split>, seed: u64, format: Format) -> Vec<Item> {
    let names: HashMap<LabelId, &str> = snap.labels.iter().map(|l| (l.id, l.name.as_str())).collect();
    let mut used: HashSet<String> = HashSet::new();
    let mut items = Vec::with_capacity(snap.docs.len());
    for (doc, anns, links) in &snap.docs {
        let active: Vec<&Annotation> = anns.iter().filter(|a| a.state == AnnState::Active).collect();
        let index: HashMap<AnnId, usize> = active.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
        let boxes = active
            .iter()
            .map(|a| PageBox {
                rect: a.rect,
                quad: a.quad,
                label: a.label.and_then(|l| names.get(&l).map(|s| s.to_string())),
                text: a.text.clone(),
            })
            .collect();
        let links = links
            .iter()
            .filter_map(|l| Some(PageLink { from: *index.get(&l.from)?, to: *index.get(&l.to)?, kind: l.kind }))
            .collect();
        let file = Path::new(&doc.path);
        let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let copy_as_is = doc.page == 0 && ["png", "jpg", "jpeg", "bmp", "webp"].contains(&ext.as_str());
        let stem =
            file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| format!("doc{}", doc.id));
        let stem = if doc.page > 0 { format!("{stem}_p{}", doc.page + 1) } else { stem };
        let ext = if copy_as_is { ext } else { "png".to_string() };
        let mut name = format!("{stem}.{ext}");
        if !used.insert(name.to_lowercase()) {
            name = format!("{stem}_{}.{ext}", doc.id);
            used.insert(name.to_lowercase());
        }
        let page =
            Page { image: join_rel(format.image_dir(), &name), width: doc.width, height: doc.height, boxes, links };
        items.push(Item { doc: doc.clone(), page, split: String::new(), name, copy_as_is });
    }
    if let Some(split) = split {
        // Group by vendor; documents without one are their own group.
        let mut group_of: Vec<String> = Vec::with_capacity(items.len());
        for it in &items {
            let vendor: Vec<&str> = it
                .page
                .boxes
                .iter()
                .filter(|b| b.label.as_deref() == Some("vendor_name"))
                .map(|b| b.text.as_str())
                .collect();
            let key = normalise_vendor(&vendor.join(" "));
            group_of.push(if key.is_empty() { format!("\u{0}doc {}", it.doc.id) } else { key });
        }
        let mut groups: Vec<(String, usize)> = Vec::new();
        let mut gindex: HashMap<&str, usize> = HashMap::new();
        for key in &group_of {
            match gindex.get(key.as_str()) {
                Some(&g) => groups[g].1 += 1,
                None => {
                    gindex.insert(key, groups.len());
                    groups.push((key.clone(), 1));
                }
            }
        }
        let assigned = assign_splits(&groups, split, seed);
        for (it, key) in items.iter_mut().zip(&group_of) {
            it.split = SPLIT_NAMES[assigned[gindex[key.as_str()]]].to_string();
        }
    }
    items
}

fn write_format(format: Format, pages: &[Page], classes: &[String]) -> (Vec<OutFile>, Skipped) {
    match format {
        Format::Coco => coco::write(pages, classes),
        Format::Yolo => yolo::write(pages, classes),
        Format::Voc => voc::write(pages, classes),
        Format::Funsd => (funsd::write(pages), Skipped::default()),
        Format::Ppocr => (ppocr::write(pages, false), Skipped::default()),
        Format::PpocrKie => (ppocr::write(pages, true), Skipped::default()),
        Format::Csv => (csv::write(pages), Skipped::default()),
        Format::LabelStudio | Format::LabelStudioMin => (labelstudio::write(pages), Skipped::default()),
        Format::FactureJson => {
            // Facture's own ground truth, byte-identical to `app::import::export_gt`.
            let files = pages
                .iter()
                .map(|p| {
                    let gt = GroundTruth {
                        image: p.image.clone(),
                        width: p.width,
                        height: p.height,
                        boxes: p
                            .boxes
                            .iter()
                            .map(|b| GtBox {
                                x0: b.rect.x0,
                                y0: b.rect.y0,
                                x1: b.rect.x1,
                                y1: b.rect.y1,
                                text: b.text.clone(),
                                label: b.label.clone(),
                            })
                            .collect(),
                    };
                    OutFile::new(format!("{}.json", file_stem(&p.image)), (gt.to_json_pretty() + "\n").into_bytes())
                })
                .collect();
            (files, Skipped::default())
        }
    }
}

fn encode_png(img: &image::RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Encoding an in-memory RGB image to PNG cannot fail short of running out of memory.
    let _ = img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png);
    bytes
}

/// Writes a file under `root`, recording its sha256 under its relative path.
fn put(root: &Path, rel: &str, bytes: &[u8], files: &mut BTreeMap<String, String>) -> Result<(), ExportError> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    std::fs::write(&path, bytes).map_err(io_err(&path))?;
    files.insert(rel.to_string(), imageio::sha256_hex(bytes));
    Ok(())
}

fn run(
    store: &Store,
    rec: &RecordedOptions,
    number: i64,
    created_ms: i64,
    out: &Path,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<(ExportReport, String), ExportError> {
    check_out_dir(out)?;
    let snap = snapshot(store, &rec.doc_ids, rec.as_of_edit)?;
    let classes: Vec<String> = snap.labels.iter().map(|l| l.name.clone()).collect();
    let items = build_items(&snap, rec.split.as_ref(), rec.seed, rec.format);
    let needs_pixels = rec.augment.is_some() || matches!(rec.format, Format::Ppocr | Format::PpocrKie);
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut by_split: BTreeMap<String, Vec<Page>> = BTreeMap::new();
    let mut mdocs = Vec::with_capacity(items.len());
    let mut label_counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut split_counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut crops: Vec<(String, String, image::RgbImage, Vec<PageBox>)> = Vec::new();
    let (mut boxes, mut images) = (0, 0);
    let image_dir = rec.format.image_dir();
    for (i, it) in items.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            return Err(ExportError::Cancelled);
        }
        let src = Path::new(&it.doc.path);
        let rel = join_rel(&it.split, &it.page.image);
        let mut decoded = None;
        let image_sha = if it.copy_as_is && rec.link_images {
            let dest = out.join(&rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            let target = std::fs::canonicalize(src).map_err(io_err(src))?;
            symlink(&target, &dest).map_err(io_err(&dest))?;
            files.insert(rel.clone(), it.doc.sha256.clone());
            it.doc.sha256.clone()
        } else if it.copy_as_is {
            let bytes = std::fs::read(src).map_err(io_err(src))?;
            let found = imageio::sha256_hex(&bytes);
            if found != it.doc.sha256 {
                return Err(ExportError::ImageChanged {
                    path: src.to_path_buf(),
                    expected: it.doc.sha256.clone(),
                    found,
                });
            }
            put(out, &rel, &bytes, &mut files)?;
            found
        } else {
            let img = imageio::decode_page(src, it.doc.page)?.to_rgb8();
            let bytes = encode_png(&img);
            put(out, &rel, &bytes, &mut files)?;
            decoded = Some(img);
            imageio::sha256_hex(&bytes)
        };
        if needs_pixels && decoded.is_none() {
            decoded = Some(imageio::decode_page(src, it.doc.page)?.to_rgb8());
        }
        let pages = by_split.entry(it.split.clone()).or_default();
        pages.push(it.page.clone());
        if let Some(img) = &decoded
            && matches!(rec.format, Format::Ppocr | Format::PpocrKie)
        {
            crops.push((it.split.clone(), it.page.image.clone(), img.clone(), it.page.boxes.clone()));
        }
        let mut augmented = Vec::new();
        if let (Some(aug), Some(img)) = (rec.augment, &decoded) {
            for k in 0..aug.count {
                let plan = augment::plan(&aug, it.doc.id.0 as u64, k, it.doc.width, it.doc.height, &it.page.boxes);
                let out_img = augment::apply_image(&plan, img);
                let name = format!("{}_aug{k}.png", file_stem(&it.name));
                let page = Page {
                    image: join_rel(image_dir, &name),
                    width: out_img.width(),
                    height: out_img.height(),
                    boxes: it.page.boxes.iter().map(|b| augment::transform_box(&plan, b)).collect(),
                    links: it.page.links.clone(),
                };
                let arel = join_rel(&it.split, &page.image);
                let bytes = encode_png(&out_img);
                put(out, &arel, &bytes, &mut files)?;
                if matches!(rec.format, Format::Ppocr | Format::PpocrKie) {
                    crops.push((it.split.clone(), page.image.clone(), out_img, page.boxes.clone()));
                }
                augmented.push(ManifestAug { image: arel, image_sha256: imageio::sha256_hex(&bytes), params: plan });
                by_split.entry(it.split.clone()).or_default().push(page);
                images += 1;
            }
        }
        for b in &it.page.boxes {
            *label_counts.entry(b.label.clone().unwrap_or_else(|| UNLABELLED.to_string())).or_default() += 1;
        }
        *split_counts.entry(if it.split.is_empty() { "all".into() } else { it.split.clone() }).or_default() += 1;
        boxes += it.page.boxes.len();
        images += 1;
        mdocs.push(ManifestDoc {
            doc_id: it.doc.id.0,
            source_sha256: it.doc.sha256.clone(),
            page: it.doc.page,
            split: it.split.clone(),
            image: rel,
            image_sha256: image_sha,
            boxes: it.page.boxes.len(),
            augmented,
        });
        progress(i + 1, items.len());
    }
    // Line crops for PPOCR recognition training, named as `rec_gt.txt` lists them.
    for (split, image, img, page_boxes) in &crops {
        let page = Page { image: image.clone(), ..Page::default() };
        for (k, b) in page_boxes.iter().enumerate() {
            let r = b.rect.clamped(img.width() as f32, img.height() as f32);
            let (x0, y0) = (r.x0.floor() as u32, r.y0.floor() as u32);
            let x1 = (r.x1.ceil() as u32).clamp(x0 + 1, img.width().max(x0 + 1));
            let y1 = (r.y1.ceil() as u32).clamp(y0 + 1, img.height().max(y0 + 1));
            let crop = if x0 < img.width() && y0 < img.height() {
                image::imageops::crop_imm(img, x0, y0, x1.min(img.width()) - x0, y1.min(img.height()) - y0).to_image()
            } else {
                image::RgbImage::from_pixel(1, 1, image::Rgb([255, 255, 255]))
            };
            put(out, &join_rel(split, &ppocr::crop_path(&page, k)), &encode_png(&crop), &mut files)?;
        }
    }
    let mut skipped = Skipped::default();
    for (split, pages) in &by_split {
        let (written, s) = write_format(rec.format, pages, &classes);
        skipped.unlabelled_boxes += s.unlabelled_boxes;
        for f in written {
            put(out, &join_rel(split, &f.path), &f.bytes, &mut files)?;
        }
    }
    let mut filters = BTreeMap::new();
    filters.insert("status".to_string(), if rec.all { "all".to_string() } else { "accepted".to_string() });
    let manifest = Manifest {
        facture_version: env!("CARGO_PKG_VERSION").to_string(),
        dataset_version: number,
        created_ms,
        workspace_id: store.workspace_id()?,
        format: rec.format,
        filters,
        options: rec.clone(),
        documents: mdocs,
        label_counts,
        split_counts: split_counts.clone(),
        skipped_unlabelled_boxes: skipped.unlabelled_boxes,
        files,
    };
    let bytes = to_json_pretty(&manifest);
    let manifest_path = out.join(MANIFEST_FILE);
    std::fs::write(&manifest_path, &bytes).map_err(io_err(&manifest_path))?;
    let report = ExportReport {
        version: number,
        out: out.to_path_buf(),
        documents: items.len(),
        images,
        boxes,
        files: manifest.files.len() + 1,
        skipped,
        per_split: split_counts,
        manifest_sha256: imageio::sha256_hex(&bytes),
    };
    Ok((report, String::from_utf8_lossy(&bytes).into_owned()))
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    // Without symlinks (or the right to make them), a copy is the honest fallback.
    std::fs::copy(target, link).map(|_| ())
}

/// One recorded export, for `facture versions`.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionSummary {
    pub number: i64,
    pub created_ms: i64,
    pub user: Option<UserId>,
    pub format: String,
    pub documents: usize,
    pub boxes: usize,
    pub manifest_sha256: String,
    /// What changed since the previous version, in words ("first version" for the first).
    pub changes: String,
}

/// Every recorded export with what changed since the one before.
pub fn list_versions(store: &Store) -> Result<Vec<VersionSummary>, ExportError> {
    let mut out = Vec::new();
    let mut prev: Option<Manifest> = None;
    for v in store.dataset_versions()? {
        let m: Manifest = serde_json::from_str(&v.manifest)
            .map_err(|e| ExportError::BadRecord { number: v.number, reason: e.to_string() })?;
        let changes = match &prev {
            None => "first version".to_string(),
            Some(p) => describe_changes(p, &m),
        };
        out.push(VersionSummary {
            number: v.number,
            created_ms: v.created_ms,
            user: v.user,
            format: v.format,
            documents: m.documents.len(),
            boxes: m.label_counts.values().sum(),
            manifest_sha256: v.manifest_sha256,
            changes,
        });
        prev = Some(m);
    }
    Ok(out)
}

/// "+3 docs, −1 doc; total_amount +3, vendor_name −1; format coco → yolo".
pub fn describe_changes(old: &Manifest, new: &Manifest) -> String {
    let ids = |m: &Manifest| m.documents.iter().map(|d| d.doc_id).collect::<HashSet<_>>();
    let (a, b) = (ids(old), ids(new));
    let added = b.difference(&a).count();
    let removed = a.difference(&b).count();
    let mut parts = Vec::new();
    if added > 0 || removed > 0 {
        parts.push(format!("{added} document(s) added, {removed} removed"));
    }
    let mut deltas = Vec::new();
    let labels: std::collections::BTreeSet<&String> = old.label_counts.keys().chain(new.label_counts.keys()).collect();
    for l in labels {
        let d = *new.label_counts.get(l).unwrap_or(&0) as i64 - *old.label_counts.get(l).unwrap_or(&0) as i64;
        if d != 0 {
            deltas.push(format!("{l} {d:+}"));
        }
    }
    if !deltas.is_empty() {
        parts.push(format!("boxes: {}", deltas.join(", ")));
    }
    if old.format != new.format {
        parts.push(format!("format {} → {}", old.format, new.format));
    }
    if old.options.split != new.options.split || old.options.seed != new.options.seed {
        parts.push("split changed".to_string());
    }
    if old.options.augment != new.options.augment {
        parts.push("augmentation changed".to_string());
    }
    if parts.is_empty() {
        let changed = old.files.iter().filter(|(k, v)| new.files.get(*k) != Some(*v)).count();
        if changed == 0 { "no change".to_string() } else { format!("{changed} file(s) changed (box edits)") }
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_parses_percent_and_fractions() {
        assert_eq!("80,10,10".parse::<Split>().unwrap(), Split { train: 80, val: 10, test: 10 });
        assert_eq!("0.7/0.2/0.1".parse::<Split>().unwrap(), Split { train: 70, val: 20, test: 10 });
        assert!("80,20".parse::<Split>().is_err());
        assert!("0,0,0".parse::<Split>().is_err());
    }

    #[test]
    fn splits_are_deterministic_and_roughly_proportional() {
        let groups: Vec<(String, usize)> = (0..100).map(|i| (format!("v{i}"), 1 + i % 3)).collect();
        let split = Split { train: 80, val: 10, test: 10 };
        let a = assign_splits(&groups, &split, 7);
        assert_eq!(a, assign_splits(&groups, &split, 7));
        assert_ne!(a, assign_splits(&groups, &split, 8));
        let mut counts = [0; 3];
        for (g, s) in groups.iter().zip(&a) {
            counts[*s] += g.1;
        }
        let total: usize = counts.iter().sum();
        assert!((counts[0] as f64 / total as f64 - 0.8).abs() < 0.05, "{counts:?}");
    }

    #[test]
    fn vendor_names_normalise() {
        assert_eq!(normalise_vendor("  ACME  Corp. "), "acme corp");
        assert_eq!(normalise_vendor("Müller-GmbH"), "müller gmbh");
    }
}
