//! Bringing page images and ground truth into a workspace, and ground truth back out.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::domain::{AnnState, Annotation, Change, DocId, Document, EditKind, UserId};
use crate::formats::gt::{GroundTruth, GtBox, gt_files_in};
use crate::imageio::{self, has_image_extension};
use crate::store::{DocFilter, NewDocument, NewEdit, Store, StoreError};

/// What an import did, file by file.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ImportReport {
    pub added: Vec<DocId>,
    /// Files whose content is already in the workspace (same sha256).
    pub duplicates: Vec<PathBuf>,
    /// Known files found at a new place; their documents now point here.
    pub relinked: Vec<PathBuf>,
    /// Files that could not be imported, with the reason.
    pub failed: Vec<(PathBuf, String)>,
}

impl ImportReport {
    pub fn summary(&self) -> String {
        format!(
            "{} page(s) added, {} duplicate file(s) skipped, {} moved file(s) re-linked, {} file(s) failed",
            self.added.len(),
            self.duplicates.len(),
            self.relinked.len(),
            self.failed.len()
        )
    }
}

/// Expands folders (recursively, image extensions only, sorted) and keeps named files as given.
pub fn collect_image_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if has_image_extension(&p) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() { walk(p, &mut out) } else { out.push(p.clone()) }
    }
    out
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Imports files and folders. Unreadable files are reported and skipped; the rest go in.
/// `progress(done, total)` is called after each file.
pub fn import_paths(
    store: &mut Store,
    paths: &[PathBuf],
    now_ms: i64,
    mut progress: impl FnMut(usize, usize),
) -> Result<ImportReport, StoreError> {
    let files = collect_image_files(paths);
    let mut report = ImportReport::default();
    for (i, file) in files.iter().enumerate() {
        import_one(store, file, now_ms, &mut report)?;
        progress(i + 1, files.len());
    }
    Ok(report)
}

fn import_one(store: &mut Store, file: &Path, now_ms: i64, report: &mut ImportReport) -> Result<(), StoreError> {
    let probe = match imageio::probe(file) {
        Ok(p) => p,
        Err(e) => {
            report.failed.push((file.to_path_buf(), e.to_string()));
            return Ok(());
        }
    };
    // Decode every page once now, so a corrupt file is reported at import and not mid-work.
    for page in 0..probe.pages.len() as u32 {
        if let Err(e) = imageio::decode_page(file, page) {
            report.failed.push((file.to_path_buf(), e.to_string()));
            return Ok(());
        }
    }
    let path = absolute(file);
    let path_str = path.to_string_lossy().into_owned();
    let known = store.documents_with_hash(&probe.sha256)?;
    if let Some(existing) = known.first() {
        if existing.path != path_str && !Path::new(&existing.path).exists() {
            store.relink(&probe.sha256, &path_str)?;
            report.relinked.push(path);
        } else {
            report.duplicates.push(path);
        }
        return Ok(());
    }
    for (page, &(width, height)) in probe.pages.iter().enumerate() {
        let doc =
            NewDocument { path: path_str.clone(), sha256: probe.sha256.clone(), page: page as u32, width, height };
        if let Some(id) = store.add_document(&doc, now_ms)? {
            report.added.push(id);
        }
    }
    Ok(())
}

/// Finds moved image files under `dir` by content hash and points their documents there.
/// Returns how many files were re-linked.
pub fn relink_dir(store: &mut Store, dir: &Path) -> Result<usize, StoreError> {
    let missing: HashMap<String, Document> = store
        .documents(&DocFilter::default())?
        .into_iter()
        .filter(|d| !Path::new(&d.path).exists())
        .map(|d| (d.sha256.clone(), d))
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }
    let mut n = 0;
    for file in collect_image_files(&[dir.to_path_buf()]) {
        let Ok(hash) = imageio::sha256_file(&file) else {
            continue;
        };
        if missing.contains_key(&hash) {
            store.relink(&hash, &absolute(&file).to_string_lossy())?;
            n += 1;
        }
    }
    Ok(n)
}

/// What loading ground truth did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct GtImportReport {
    pub documents: usize,
    pub boxes: usize,
    /// Label names in the files that the schema does not have (boxes kept, unlabelled).
    pub unknown_labels: Vec<String>,
    pub failed: Vec<(PathBuf, String)>,
}

/// Loads ground-truth JSONs from `dir` as active annotations (source `import`), importing each
/// image first if needed. A document that already has boxes is skipped, never merged into.
pub fn import_gt(
    store: &mut Store,
    dir: &Path,
    user: Option<UserId>,
    now_ms: i64,
) -> Result<GtImportReport, StoreError> {
    let mut report = GtImportReport::default();
    let files = gt_files_in(dir).map_err(|e| StoreError::Invalid(format!("{}: {e}", dir.display())))?;
    let labels: HashMap<String, crate::domain::LabelId> = store.labels()?.into_iter().map(|l| (l.name, l.id)).collect();
    for json in files {
        let gt = match GroundTruth::load(&json) {
            Ok(gt) => gt,
            Err(e) => {
                report.failed.push((json.clone(), e.to_string()));
                continue;
            }
        };
        let image = gt.image_path(&json);
        let probe = match imageio::probe(&image) {
            Ok(p) => p,
            Err(e) => {
                report.failed.push((json.clone(), e.to_string()));
                continue;
            }
        };
        if probe.pages.first() != Some(&(gt.width, gt.height)) {
            report.failed.push((
                json.clone(),
                format!("says {}×{} but the image is {:?}", gt.width, gt.height, probe.pages.first()),
            ));
            continue;
        }
        let mut sub = ImportReport::default();
        import_one(store, &image, now_ms, &mut sub)?;
        let Some(doc) = store.documents_with_hash(&probe.sha256)?.into_iter().find(|d| d.page == 0) else {
            report.failed.extend(sub.failed);
            continue;
        };
        if !store.annotations(doc.id)?.is_empty() {
            report.failed.push((json.clone(), format!("document {} already has boxes; not merged", doc.id)));
            continue;
        }
        let mut changes = Vec::with_capacity(gt.boxes.len());
        for b in &gt.boxes {
            let label = match &b.label {
                Some(name) => match labels.get(name) {
                    Some(id) => Some(*id),
                    None => {
                        if !report.unknown_labels.contains(name) {
                            report.unknown_labels.push(name.clone());
                        }
                        None
                    }
                },
                None => None,
            };
            changes.push(Change::Annotation {
                before: None,
                after: Some(Annotation::new_imported(doc.id, b.rect(), label, b.text.clone(), user, now_ms)),
            });
        }
        report.boxes += changes.len();
        store.apply(NewEdit {
            ts_ms: now_ms,
            user,
            doc: Some(doc.id),
            action: "import_gt".into(),
            kind: EditKind::Do,
            changes,
        })?;
        report.documents += 1;
    }
    Ok(report)
}

/// A document's active boxes in the ground-truth format (reading order as stored: by id).
pub fn document_gt(store: &Store, doc: &Document) -> Result<GroundTruth, StoreError> {
    let labels: HashMap<_, _> = store.labels()?.into_iter().map(|l| (l.id, l.name)).collect();
    let boxes = store
        .annotations(doc.id)?
        .into_iter()
        .filter(|a| a.state == AnnState::Active)
        .map(|a| GtBox {
            x0: a.rect.x0,
            y0: a.rect.y0,
            x1: a.rect.x1,
            y1: a.rect.y1,
            text: a.text,
            label: a.label.and_then(|l| labels.get(&l).cloned()),
        })
        .collect();
    let image = Path::new(&doc.path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(GroundTruth { image, width: doc.width, height: doc.height, boxes })
}

/// Writes one ground-truth JSON per document into `out` (named after the image, plus the page
/// for multi-page files). Returns the files written.
pub fn export_gt(store: &Store, docs: &[Document], out: &Path) -> Result<Vec<PathBuf>, StoreError> {
    std::fs::create_dir_all(out).map_err(|e| StoreError::Invalid(format!("{}: {e}", out.display())))?;
    let mut written = Vec::new();
    for doc in docs {
        let gt = document_gt(store, doc)?;
        let stem = Path::new(&gt.image).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let name = if doc.page > 0 { format!("{stem}_p{}.json", doc.page + 1) } else { format!("{stem}.json") };
        let path = out.join(name);
        std::fs::write(&path, gt.to_json_pretty() + "\n")
            .map_err(|e| StoreError::Invalid(format!("{}: {e}", path.display())))?;
        written.push(path);
    }
    Ok(written)
}
