//! Bringing page images and ground truth into a workspace, and ground truth back out.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::app::confine::ImageRoots;
use crate::domain::{AnnState, Annotation, Change, DocId, Document, EditKind, UserId};
use crate::formats::gt::{GroundTruth, GtBox, gt_files_in};
use crate::imageio::{self, ImageError};
use crate::store::{DocFilter, Guard, NewDocument, NewEdit, Store, StoreError};

/// How files are imported.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The resolution PDF pages are rendered at; `None`: the workspace's setting.
    pub dpi: Option<u32>,
    /// For password-protected PDFs: used to make an unprotected copy the workspace keeps
    /// (beside a workspace file, or in a server workspace); the password itself is never
    /// stored.
    pub password: Option<String>,
}

/// What an import did, file by file: every file named or found lands in exactly one list.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ImportReport {
    /// Pages added.
    pub added: Vec<DocId>,
    /// Files whose pages were all in the workspace already (same sha256).
    pub duplicates: Vec<PathBuf>,
    /// Files whose pages are all in the workspace but archived or deleted there, with those
    /// documents: importing again does not bring them back, restoring does.
    pub set_aside: Vec<(PathBuf, Vec<DocId>)>,
    /// Files of which an earlier, interrupted import had added only some pages; the missing
    /// pages are now added.
    pub completed: Vec<PathBuf>,
    /// Known files found at a new place; their documents now point here.
    pub relinked: Vec<PathBuf>,
    /// Files that could not be imported, with the reason.
    pub failed: Vec<(PathBuf, String)>,
    /// Files not looked at because the import was cancelled (each file before it went in
    /// whole, or not at all).
    pub not_started: usize,
    /// Password-protected PDFs imported without a password (also in `failed`): the window
    /// asks for one and tries them again.
    pub locked: Vec<PathBuf>,
}

impl ImportReport {
    pub fn summary(&self) -> String {
        let mut s = format!("{} page(s) added", self.added.len());
        if self.not_started > 0 {
            s = format!("cancelled, {} file(s) not imported; {s}", self.not_started);
        }
        if !self.completed.is_empty() {
            s.push_str(&format!(", {} interrupted import(s) completed", self.completed.len()));
        }
        s.push_str(&format!(
            ", {} duplicate file(s) skipped, {} moved file(s) re-linked, {} file(s) failed",
            self.duplicates.len(),
            self.relinked.len(),
            self.failed.len()
        ));
        if !self.set_aside.is_empty() {
            let ids: Vec<String> = self.set_aside.iter().flat_map(|(_, d)| d).map(|d| d.to_string()).collect();
            s.push_str(&format!(
                "; {} file(s) are here already but archived or deleted (restore: facture docs WS restore {})",
                self.set_aside.len(),
                ids.join(" ")
            ));
        }
        s
    }
}

/// Image files under `paths`: folders are walked recursively (image extensions only, sorted),
/// named files are kept as given. Each real file comes once however many links lead to it, and
/// a folder reached again through a symlink (a loop) is not walked again. Folders that cannot
/// be read are returned with the reason.
pub fn collect_image_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    struct Walk {
        dirs: HashSet<PathBuf>,
        files: HashSet<PathBuf>,
        out: Vec<PathBuf>,
        failed: Vec<(PathBuf, String)>,
    }
    impl Walk {
        fn file(&mut self, p: &Path) {
            // a file that cannot be resolved is kept, so import reports why it cannot be read
            let key = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            if self.files.insert(key) {
                self.out.push(p.to_path_buf());
            }
        }
        fn dir(&mut self, dir: &Path) {
            let Ok(real) = std::fs::canonicalize(dir) else {
                self.failed.push((dir.to_path_buf(), "cannot resolve this folder".into()));
                return;
            };
            if !self.dirs.insert(real) {
                return; // seen before: a symlink loop or a second link to the same folder
            }
            let entries = match std::fs::read_dir(dir) {
                Ok(e) => e,
                Err(e) => {
                    self.failed.push((dir.to_path_buf(), format!("cannot read this folder: {e}")));
                    return;
                }
            };
            let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    self.dir(&p);
                } else if imageio::has_page_extension(&p) {
                    self.file(&p);
                }
            }
        }
    }
    let mut w = Walk { dirs: HashSet::new(), files: HashSet::new(), out: Vec::new(), failed: Vec::new() };
    for p in paths {
        if p.is_dir() { w.dir(p) } else { w.file(p) }
    }
    (w.out, w.failed)
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
    progress: impl FnMut(usize, usize),
) -> Result<ImportReport, StoreError> {
    import_paths_at(store, paths, &ImportOptions::default(), now_ms, progress)
}

/// [`import_paths`] with options (PDF resolution, a password for protected PDFs).
pub fn import_paths_at(
    store: &mut Store,
    paths: &[PathBuf],
    opts: &ImportOptions,
    now_ms: i64,
    mut progress: impl FnMut(usize, usize),
) -> Result<ImportReport, StoreError> {
    import_paths_until(store, paths, opts, now_ms, |done, total| {
        if done > 0 {
            progress(done, total); // after each file, as promised
        }
        true
    })
}

/// [`import_paths_at`] that stops between files when `keep_going(done, total)` says so (a
/// person pressed Cancel): each file is in whole or not at all.
pub fn import_paths_until(
    store: &mut Store,
    paths: &[PathBuf],
    opts: &ImportOptions,
    now_ms: i64,
    mut keep_going: impl FnMut(usize, usize) -> bool,
) -> Result<ImportReport, StoreError> {
    let (files, unreadable) = collect_image_files(paths);
    let mut report = ImportReport { failed: unreadable, ..ImportReport::default() };
    let opts = &ImportOptions { dpi: Some(opts.dpi.map_or_else(|| store.pdf_dpi(), Ok)?), ..opts.clone() };
    if !keep_going(0, files.len()) {
        report.not_started = files.len();
        return Ok(report);
    }
    for (i, file) in files.iter().enumerate() {
        import_one(store, file, opts, now_ms, &mut report)?;
        if !keep_going(i + 1, files.len()) {
            report.not_started = files.len() - i - 1;
            break;
        }
    }
    Ok(report)
}

fn read_image_file(path: &Path) -> Result<Vec<u8>, ImageError> {
    let bytes = std::fs::read(path).map_err(|source| ImageError::Io { path: path.into(), source })?;
    if bytes.is_empty() {
        return Err(ImageError::Empty { path: path.into() });
    }
    Ok(bytes)
}

/// Imports one file: all its pages, or, when an earlier import was interrupted, the pages
/// still missing. Every page is decoded first, so a corrupt file is reported now and adds
/// nothing; the pages then go in with one transaction.
fn import_one(
    store: &mut Store,
    file: &Path,
    opts: &ImportOptions,
    now_ms: i64,
    report: &mut ImportReport,
) -> Result<(), StoreError> {
    let dpi = opts.dpi.unwrap_or(crate::pdf::DEFAULT_DPI);
    let checked = read_image_file(file).map(|bytes| (imageio::probe_bytes_at(file, &bytes, dpi), bytes));
    let (probe, bytes, path) = match checked {
        Ok((Ok(probe), bytes)) => (probe, bytes, absolute(file)),
        Ok((Err(ImageError::Pdf { source: crate::pdf::PdfError::Encrypted, .. }), bytes)) => {
            let Some(password) = &opts.password else {
                report.failed.push((
                    file.to_path_buf(),
                    ImageError::Pdf { path: file.into(), source: crate::pdf::PdfError::Encrypted }.to_string(),
                ));
                report.locked.push(file.to_path_buf());
                return Ok(());
            };
            match unlock(store, file, &bytes, password, dpi) {
                Ok(unlocked) => unlocked,
                Err(why) => {
                    report.failed.push((file.to_path_buf(), why));
                    return Ok(());
                }
            }
        }
        Ok((Err(e), _)) | Err(e) => {
            report.failed.push((file.to_path_buf(), e.to_string()));
            return Ok(());
        }
    };
    let path_str = path.to_string_lossy().into_owned();
    let known = store.documents_with_hash(&probe.sha256)?;
    let known_pages: HashSet<u32> = known.iter().map(|d| d.page).collect();
    let missing: Vec<u32> = (0..probe.pages.len() as u32).filter(|p| !known_pages.contains(p)).collect();
    // the known pages' file has moved (or this is the first place it is seen again)
    let moved = known.first().is_some_and(|d| d.path != path_str && !Path::new(&d.path).exists());
    if missing.is_empty() {
        let shelved: Vec<DocId> = known.iter().filter(|d| d.shelved.is_some()).map(|d| d.id).collect();
        if moved {
            store.relink(&probe.sha256, &path_str)?;
            report.relinked.push(path);
        } else if !shelved.is_empty() {
            report.set_aside.push((path, shelved));
        } else {
            report.duplicates.push(path);
        }
        return Ok(());
    }
    if let Err(e) = imageio::check_pages(file, &bytes, &missing) {
        report.failed.push((file.to_path_buf(), e.to_string()));
        return Ok(());
    }
    // a server workspace carries its images: stored (once per content) before any page
    // refers to them
    if store.is_postgres() {
        store.put_image(&probe.sha256, &bytes)?;
    }
    drop(bytes);
    // new pages point where the file's other pages do, unless those moved
    let doc_path = match known.first() {
        Some(d) if !moved => d.path.clone(),
        _ => path_str.clone(),
    };
    if moved {
        store.relink(&probe.sha256, &path_str)?;
    }
    let pages: Vec<NewDocument> = missing
        .iter()
        .map(|&page| {
            let (width, height) = probe.pages[page as usize];
            NewDocument { path: doc_path.clone(), sha256: probe.sha256.clone(), page, width, height }
        })
        .collect();
    let ids = store.add_pages(&pages, now_ms)?;
    let added: Vec<DocId> = ids.into_iter().flatten().collect();
    if added.is_empty() {
        // another process added them between our look and our write
        report.duplicates.push(path);
        return Ok(());
    }
    if !known.is_empty() {
        report.completed.push(path);
    }
    report.added.extend(added);
    Ok(())
}

/// A password-protected PDF's unprotected copy (the same bytes every time for the same file):
/// beside a workspace file in `<workspace>.unlocked/<sha256>.pdf`, where its pages are read
/// from; a server workspace stores it like any page file. Returns it measured, and the path
/// its documents point at.
fn unlock(
    store: &Store,
    file: &Path,
    bytes: &[u8],
    password: &str,
    dpi: u32,
) -> Result<(imageio::Probe, Vec<u8>, PathBuf), String> {
    let named = |e: crate::pdf::PdfError| format!("{}: {e}", file.display());
    let copy = crate::pdf::unlocked_copy(bytes, password).map_err(named)?;
    let probe = imageio::probe_bytes_at(file, &copy, dpi).map_err(|e| e.to_string())?;
    if store.is_postgres() {
        return Ok((probe, copy, absolute(file)));
    }
    let Some(crate::store::Workspace::File(ws)) = store.workspace() else {
        return Err(format!(
            "{}: a protected PDF needs a workspace file to keep its unlocked copy beside",
            file.display()
        ));
    };
    let mut dir = ws.clone().into_os_string();
    dir.push(".unlocked");
    let dir = PathBuf::from(dir);
    let target = dir.join(format!("{}.pdf", probe.sha256));
    if !target.exists() {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        crate::app::write_atomically(&target, &copy).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok((probe, copy, target))
}

/// What re-linking found.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RelinkReport {
    /// Files found again by content; their documents now point there.
    pub relinked: usize,
    /// Files of documents still missing after the search.
    pub still_missing: usize,
}

/// Finds moved image files under `dir` by content hash and points their documents there.
pub fn relink_dir(store: &mut Store, dir: &Path) -> Result<RelinkReport, StoreError> {
    if !dir.is_dir() {
        return Err(StoreError::Invalid(format!("{}: no such folder", dir.display())));
    }
    let mut missing: HashMap<String, Document> = store
        .documents(&DocFilter::default())?
        .into_iter()
        .filter(|d| !Path::new(&d.path).exists())
        .map(|d| (d.sha256.clone(), d))
        .collect();
    let mut report = RelinkReport::default();
    if !missing.is_empty() {
        let (files, _) = collect_image_files(&[dir.to_path_buf()]);
        for file in files {
            let Ok(hash) = imageio::sha256_file(&file) else {
                continue;
            };
            if missing.remove(&hash).is_some() {
                store.relink(&hash, &absolute(&file).to_string_lossy())?;
                report.relinked += 1;
            }
        }
    }
    report.still_missing = missing.len();
    Ok(report)
}

/// What loading ground truth did: every JSON file lands in one list.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct GtImportReport {
    pub documents: usize,
    pub boxes: usize,
    /// Label names in the files that the schema does not have (boxes kept, unlabelled).
    pub unknown_labels: Vec<String>,
    /// Files not loaded because their document already has boxes (never merged into).
    pub skipped: Vec<(PathBuf, String)>,
    /// Files that could not be loaded, with the reason.
    pub failed: Vec<(PathBuf, String)>,
}

/// Loads ground-truth JSONs from `dir` as active annotations (source `import`), importing each
/// image first if needed. Images are taken only from inside `dir`. A document that already has
/// boxes is skipped, never merged into; that check and the write are one transaction, so two
/// imports running at once cannot both write.
pub fn import_gt(
    store: &mut Store,
    dir: &Path,
    user: Option<UserId>,
    now_ms: i64,
) -> Result<GtImportReport, StoreError> {
    let mut report = GtImportReport::default();
    let files = gt_files_in(dir).map_err(|e| StoreError::Invalid(format!("{}: {e}", dir.display())))?;
    let roots = ImageRoots::new([dir]);
    let labels: HashMap<String, crate::domain::LabelId> = store.labels()?.into_iter().map(|l| (l.name, l.id)).collect();
    for json in files {
        let gt = match GroundTruth::load(&json) {
            Ok(gt) => gt,
            Err(e) => {
                report.failed.push((json.clone(), e.to_string()));
                continue;
            }
        };
        let Some(image) = roots.admit(&gt.image_path(&json)) else {
            let reason = format!("image '{}' not found inside {}", gt.image, roots.describe());
            report.failed.push((json.clone(), reason));
            continue;
        };
        let page = gt.page_index();
        let probe = match probe_for_gt(&image, &gt) {
            Ok(p) => p,
            Err(e) => {
                report.failed.push((json.clone(), e.to_string()));
                continue;
            }
        };
        if probe.0.pages.get(page as usize) != Some(&(gt.width, gt.height)) {
            let size = probe.0.pages.get(page as usize).map_or("missing".into(), |(w, h)| format!("{w}×{h}"));
            report.failed.push((json.clone(), format!("says {}×{} but the page is {size}", gt.width, gt.height)));
            continue;
        }
        let (probe, dpi) = probe;
        let mut sub = ImportReport::default();
        import_one(store, &image, &ImportOptions { dpi: Some(dpi), password: None }, now_ms, &mut sub)?;
        let Some(doc) = store.documents_with_hash(&probe.sha256)?.into_iter().find(|d| d.page == page) else {
            report.failed.extend(sub.failed);
            continue;
        };
        let mut changes = Vec::with_capacity(gt.boxes.len());
        let mut unknown = Vec::new();
        for b in &gt.boxes {
            let label = match &b.label {
                Some(name) => match labels.get(name) {
                    Some(id) => Some(*id),
                    None => {
                        unknown.push(name.clone());
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
        let n = changes.len();
        let edit =
            NewEdit { ts_ms: now_ms, user, doc: Some(doc.id), action: "import_gt".into(), kind: EditKind::Do, changes };
        if store.apply_guarded(edit, Guard::DocumentHasNoBoxes(doc.id))?.is_none() {
            report.skipped.push((json.clone(), format!("document {} already has boxes; not merged", doc.id)));
            continue;
        }
        for name in unknown {
            if !report.unknown_labels.contains(&name) {
                report.unknown_labels.push(name);
            }
        }
        report.boxes += n;
        report.documents += 1;
    }
    Ok(report)
}

/// The file's pages measured as the ground truth was: a PDF at the resolution its width
/// implies (ground truth is in the pixels of the page rendered at some dpi), an image as is.
fn probe_for_gt(image: &Path, gt: &GroundTruth) -> Result<(imageio::Probe, u32), ImageError> {
    let bytes = read_image_file(image)?;
    let mut dpi = crate::pdf::DEFAULT_DPI;
    if crate::pdf::is_pdf(&bytes) {
        let pdf = |source| ImageError::Pdf { path: image.into(), source };
        let sizes = crate::pdf::page_sizes(&bytes).map_err(pdf)?;
        let page = sizes
            .get(gt.page_index() as usize)
            .ok_or(ImageError::NoSuchPage { path: image.into(), page: gt.page_index() })?;
        dpi = (f64::from(gt.width) * 72.0 / f64::from(page.width_pt)).round() as u32;
        dpi = dpi.clamp(*crate::pdf::DPI_RANGE.start(), *crate::pdf::DPI_RANGE.end());
    }
    Ok((imageio::probe_bytes_at(image, &bytes, dpi)?, dpi))
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
    Ok(GroundTruth { image, page: None, width: doc.width, height: doc.height, boxes })
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
