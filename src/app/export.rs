//! Dataset export: select documents, snapshot their boxes (now, or as of an earlier export's
//! last edit), split by vendor, augment, hand pages to a format writer, write images and a
//! manifest with every file's sha256, and record the export as a numbered dataset version.
//! Everything written is a function of the recorded options and the edit log, so
//! [`reproduce`] rebuilds an old version byte for byte. An export is written into a fresh
//! hidden folder and moved into place only once it is complete and recorded, so a failed or
//! cancelled export never leaves a partial dataset behind.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::app::pages::{self, PageError, PageRef};
use crate::domain::{
    AnnId, AnnState, Annotation, Change, DocId, DocStatus, Document, EditId, Label, LabelId, Link, LinkId, UserId,
};
use crate::formats::augment::{self, AugmentOptions, Augmentation};
use crate::formats::model::{Format, OutFile, Page, PageBox, PageLink, Skipped, file_stem, to_json_pretty};
use crate::formats::{coco, csv, funsd, gt, labelstudio, ppocr, voc, yolo};
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
    /// Absent (legacy) in versions recorded before file stems were made unique, and left out
    /// when legacy, so those versions' options and manifests stay byte for byte what they were.
    #[serde(default, skip_serializing_if = "Naming::is_legacy")]
    pub naming: Naming,
    /// Whether the manifest records the label schema's version (false, and absent, in versions
    /// recorded before schema versions existed, so they reproduce byte for byte).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub records_schema: bool,
    /// Whether the dataset carries the annotation guide (`GUIDE.md`, its crops, `guide.html`);
    /// false, and absent, in versions recorded before guides existed, so they reproduce byte
    /// for byte.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub writes_guide: bool,
}

/// How exported files are named.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Naming {
    /// The file stem, or `{stem}_{doc id}` if that was taken, unchecked: two documents could
    /// end up sharing an image or annotation file. Only for reproducing old versions.
    #[default]
    Legacy,
    /// Every page image, augmented copies included, has a stem no other has (ignoring case,
    /// across all splits); see `unique_stems`.
    UniqueStems,
}

impl Naming {
    fn is_legacy(&self) -> bool {
        *self == Naming::Legacy
    }
}

/// Why an export or reproduction failed. Unless the error is [`ExportError::NotMoved`],
/// nothing was written to the output folder (a folder that existed stays as it was, empty).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}; nothing was written to the output folder")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}; nothing was written to the output folder")]
    Image(#[from] ImageError),
    #[error("{path}: the output folder is not empty; choose a new or empty folder")]
    OutNotEmpty { path: PathBuf },
    #[error("{0} cannot be exported (it is an import-only format)")]
    NotExportable(Format),
    #[error("nothing to export: no {0} documents")]
    NoDocuments(&'static str),
    #[error(
        "{path}: the image changed since it was imported (sha256 {found}, expected {expected}); re-import or \
         relink it. Nothing was written to the output folder"
    )]
    ImageChanged { path: PathBuf, expected: String, found: String },
    #[error("dataset version {0} does not exist")]
    NoSuchVersion(i64),
    #[error("dataset version {number}: its recorded options are unreadable: {reason}")]
    BadRecord { number: i64, reason: String },
    #[error(
        "dataset version {number} could not be reproduced exactly: {} file(s) differ (first: {}); \
         an image was probably edited on disk. Nothing was written to the output folder",
        differing.len(), differing.first().map(String::as_str).unwrap_or("manifest.json")
    )]
    NotReproducible { number: i64, differing: Vec<String> },
    #[error("export cancelled; nothing was written to the output folder")]
    Cancelled,
    #[error(
        "--link-images links to image files on this disk; a server workspace keeps its images in the database, \
         so export without --link-images (they are copied). Nothing was written to the output folder"
    )]
    LinkFromServer,
    #[error("{path}: {reason}; nothing was written to the output folder")]
    Page { path: PathBuf, reason: String },
    /// A naming bug: the export was about to write one path twice.
    #[error(
        "internal error: the export would write {path} twice and lose one of them; nothing was written to the \
         output folder. Please report this"
    )]
    Collision { path: String },
    #[error(
        "dataset version {number} cannot be rebuilt: the older Facture that exported it gave two files the name \
         {path}, so one overwrote the other and its boxes were lost. Export a new version instead; nothing was \
         written to the output folder"
    )]
    LegacyCollision { number: i64, path: String },
    /// The dataset is complete (and, for an export, recorded) but could not be put in place.
    #[error(
        "dataset version {number} is complete in {}, but it could not be moved to {}: {source}. Move its \
         contents there yourself",
        staged.display(), out.display()
    )]
    NotMoved { number: i64, staged: PathBuf, out: PathBuf, source: std::io::Error },
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportReport {
    /// The recorded dataset version; `None` when the workspace could not be written.
    pub version: Option<i64>,
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
        let what = match self.version {
            Some(n) => format!("dataset version {n}"),
            None => "unrecorded dataset (the workspace is read-only, so this export has no version number)".into(),
        };
        let mut s = format!(
            "{what}: {} document(s), {} image(s), {} box(es), {} file(s) in {}",
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
    /// `None` (null) for an export from a workspace that could not be written, so it could not
    /// be recorded (and cannot be reproduced with `--version`).
    pub dataset_version: Option<i64>,
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
    /// The label schema's version the export used: how many times leads had changed the
    /// schema by then (`facture labels WS list` shows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<i64>,
}

pub const MANIFEST_FILE: &str = "manifest.json";
pub const UNLABELLED: &str = "(unlabelled)";

/// How often an export renumbers itself when other exports record the number it was about to
/// take; each round costs one manifest rewrite, and only exports finishing together collide.
const RECORD_ATTEMPTS: usize = 20;

/// Exports a new dataset version and records it in the workspace.
pub fn export(
    store: &mut Store,
    opts: &ExportOptions,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<ExportReport, ExportError> {
    export_with(store, opts, progress, cancel, &mut |_| Ok(()))
}

/// [`export`], calling `before_record` just before each attempt to record the version (tests
/// use it to record a competing version at the worst moment).
fn export_with(
    store: &mut Store,
    opts: &ExportOptions,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
    before_record: &mut dyn FnMut(&mut Store) -> Result<(), StoreError>,
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
        naming: Naming::UniqueStems,
        records_schema: true,
        writes_guide: true,
    };
    let staging = Staging::new(&opts.out)?;
    // Only the manifest names the version (no format writer embeds it), so a number taken
    // while the files were written costs a manifest rewrite, not a second export.
    let mut number = store.next_dataset_version()?;
    let mut staged = run(store, &recorded, number, opts.now_ms, staging.path(), progress, cancel)?;
    if store.is_read_only() {
        // Nothing can be recorded in a workspace that cannot be written: the dataset is still
        // whole, and its manifest does not claim a version number.
        staged.manifest.dataset_version = None;
        let manifest_text = write_manifest(staging.path(), &staged.manifest, recorded.naming, true)?;
        if cancel.load(Ordering::Relaxed) {
            return Err(ExportError::Cancelled);
        }
        staging.finish(0)?;
        return Ok(staged.report(&opts.out, &manifest_text));
    }
    let mut manifest_text = write_manifest(staging.path(), &staged.manifest, recorded.naming, true)?;
    let mut attempt = 1;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(ExportError::Cancelled);
        }
        before_record(store)?;
        let version = DatasetVersion {
            number,
            created_ms: opts.now_ms,
            user: opts.user,
            format: opts.format.as_str().to_string(),
            // Serialising plain data cannot fail.
            options: serde_json::to_string(&recorded).unwrap_or_default(),
            manifest: manifest_text.clone(),
            manifest_sha256: imageio::sha256_hex(manifest_text.as_bytes()),
        };
        match store.add_dataset_version(&version) {
            Ok(()) => break,
            // A conflict on a number that is free was not another export: give up at once.
            Err(StoreError::Conflict(_)) if attempt < RECORD_ATTEMPTS && store.dataset_version(number)?.is_some() => {
                attempt += 1;
                number = store.next_dataset_version()?;
                staged.manifest.dataset_version = Some(number);
                manifest_text = write_manifest(staging.path(), &staged.manifest, recorded.naming, false)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    staging.finish(number)?;
    Ok(staged.report(&opts.out, &manifest_text))
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
    let staging = Staging::new(out)?;
    let mut staged = run(store, &recorded, number, v.created_ms, staging.path(), progress, cancel)?;
    // the version of Facture that made it, so a newer Facture still rebuilds it byte for byte
    let made_by = serde_json::from_str::<serde_json::Value>(&v.manifest)
        .ok()
        .and_then(|m| m.get("facture_version").and_then(|f| f.as_str()).map(str::to_string));
    if let Some(made_by) = made_by {
        staged.manifest.facture_version = made_by;
    }
    let manifest_text = write_manifest(staging.path(), &staged.manifest, recorded.naming, true)?;
    if imageio::sha256_hex(manifest_text.as_bytes()) != v.manifest_sha256 {
        let old: Manifest =
            serde_json::from_str(&v.manifest).map_err(|e| ExportError::BadRecord { number, reason: e.to_string() })?;
        let new = &staged.manifest;
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
    if cancel.load(Ordering::Relaxed) {
        return Err(ExportError::Cancelled);
    }
    staging.finish(number)?;
    Ok(staged.report(out, &manifest_text))
}

/// Serialises the manifest into `dir`: the first time as a new file like every other, later
/// over the first (renumbering). Returns its text.
fn write_manifest(dir: &Path, manifest: &Manifest, naming: Naming, first: bool) -> Result<String, ExportError> {
    let bytes = to_json_pretty(manifest);
    let path = dir.join(MANIFEST_FILE);
    if first {
        create_new(&path, &bytes).map_err(|e| written_twice(e, &path, MANIFEST_FILE, naming, manifest))?;
    } else {
        std::fs::write(&path, &bytes).map_err(io_err(&path))?;
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn written_twice(e: std::io::Error, path: &Path, rel: &str, naming: Naming, manifest: &Manifest) -> ExportError {
    if e.kind() != std::io::ErrorKind::AlreadyExists {
        return ExportError::Io { path: path.to_path_buf(), source: e };
    }
    match naming {
        Naming::Legacy => {
            ExportError::LegacyCollision { number: manifest.dataset_version.unwrap_or(0), path: rel.to_string() }
        }
        Naming::UniqueStems => ExportError::Collision { path: rel.to_string() },
    }
}

/// A dataset being written into a fresh hidden folder, put in place by [`Staging::finish`].
/// Dropped unfinished, it removes that folder and any parent folders it had to create, so
/// the output is as it was.
struct Staging {
    dir: Option<tempfile::TempDir>,
    out: PathBuf,
    /// `out` existed (empty): the dataset is staged inside it and its entries are moved up, so
    /// the user's folder itself (permissions, a shell or file manager open in it, a mount
    /// point) stays. Otherwise it is staged beside `out` and renamed to it.
    fill: bool,
    /// Folders above `out` that were created for it, deepest first.
    created: Vec<PathBuf>,
}

impl Staging {
    fn new(out: &Path) -> Result<Staging, ExportError> {
        // A link to an (empty) folder is followed, as writing into it did before staging.
        let out = if out.is_symlink() { std::fs::canonicalize(out).map_err(io_err(out))? } else { out.to_path_buf() };
        let fill = out.exists();
        if fill {
            let mut entries = std::fs::read_dir(&out).map_err(io_err(&out))?;
            if entries.next().is_some() {
                return Err(ExportError::OutNotEmpty { path: out });
            }
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut created = Vec::new();
        if !fill {
            let mut missing = parent.as_path();
            while !missing.as_os_str().is_empty() && !missing.exists() {
                created.push(missing.to_path_buf());
                missing = missing.parent().unwrap_or(Path::new(""));
            }
        }
        let mut staging = Staging { dir: None, out, fill, created };
        let within = if fill { staging.out.clone() } else { parent };
        std::fs::create_dir_all(&within).map_err(io_err(&within))?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".facture-export-");
        // A temp folder is private by default; the dataset gets the folder mode a plain
        // `mkdir` would give it (the umask still applies).
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o777));
        staging.dir = Some(builder.tempdir_in(&within).map_err(io_err(&within))?);
        Ok(staging)
    }

    fn path(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new(""), |d| d.path())
    }

    /// Puts the complete dataset in place. On failure the staged folder is kept, and named.
    fn finish(mut self, number: i64) -> Result<(), ExportError> {
        let Some(dir) = self.dir.take() else {
            return Ok(());
        };
        let moved =
            if self.fill { move_entries(dir.path(), &self.out) } else { std::fs::rename(dir.path(), &self.out) };
        match moved {
            Ok(()) => {
                // The staged folder is gone (renamed) or now empty (its entries moved up).
                let left = dir.keep();
                if self.fill {
                    let _ = std::fs::remove_dir(&left);
                }
                self.created.clear();
                Ok(())
            }
            Err(source) => {
                // Its parent folders hold it now: they stay too.
                self.created.clear();
                Err(ExportError::NotMoved { number, staged: dir.keep(), out: self.out.clone(), source })
            }
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // The temp folder goes first: the parents it sits in are removed only when empty.
        drop(self.dir.take());
        for dir in &self.created {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Moves every entry of `from` into `to`, the manifest last, so a folder holding a manifest is
/// complete; if a move fails the entries already moved are moved back.
fn move_entries(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut names: Vec<std::ffi::OsString> =
        std::fs::read_dir(from)?.map(|e| e.map(|e| e.file_name())).collect::<std::io::Result<_>>()?;
    names.sort_by_key(|n| (n == MANIFEST_FILE, n.clone()));
    for (i, name) in names.iter().enumerate() {
        let dest = to.join(name);
        // `rename` would replace a file that appeared meanwhile.
        let taken = dest.symlink_metadata().is_ok();
        let result = if taken {
            Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} appeared meanwhile", dest.display()),
            ))
        } else {
            std::fs::rename(from.join(name), &dest)
        };
        if let Err(e) = result {
            for back in &names[..i] {
                let _ = std::fs::rename(to.join(back), from.join(back));
            }
            return Err(e);
        }
    }
    Ok(())
}

/// Pages of a server workspace brought into the image cache together, ahead of writing them.
const PREFETCH_PAGES: usize = 64;

/// Documents with their boxes and links, as of an edit.
struct Snapshot {
    labels: Vec<Label>,
    docs: Vec<(Document, Vec<Annotation>, Vec<Link>)>,
}

/// The selected documents as they were right after edit `as_of`: the current rows with every
/// later edit undone in memory (newest first).
fn snapshot(store: &Store, doc_ids: &[i64], as_of: Option<i64>) -> Result<Snapshot, ExportError> {
    let mut labels: BTreeMap<LabelId, Label> = store.labels()?.into_iter().map(|l| (l.id, l)).collect();
    let wanted: Vec<DocId> = doc_ids.iter().map(|&d| DocId(d)).collect();
    let mut docs: BTreeMap<DocId, Document> = BTreeMap::new();
    let mut anns: HashMap<DocId, BTreeMap<AnnId, Annotation>> = HashMap::new();
    let mut links: HashMap<DocId, BTreeMap<LinkId, Link>> = HashMap::new();
    for (d, a, l) in store.documents_with_boxes(&wanted)? {
        anns.insert(d.id, a.into_iter().map(|a| (a.id, a)).collect());
        links.insert(d.id, l.into_iter().map(|l| (l.id, l)).collect());
        docs.insert(d.id, d);
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
                Change::Tags { doc, before, .. } => {
                    if let Some(d) = docs.get_mut(doc) {
                        d.tags = before.clone();
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

fn join_rel(dir: &str, name: &str) -> String {
    if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") }
}

/// Gives each document a file stem no other page of the export has, ignoring case (a file
/// system that ignores case would merge them; splits do not count, the stems are unique across
/// all of them). Documents in id order: the first to want a stem gets it, a later one
/// `{stem}_doc{id}` (then `_2`, `_3`, …) that is also no document's own stem. A document's
/// augmented copies `{stem}_aug{k}` are its names too. So a document that keeps its own stem
/// keeps it whatever documents with higher ids are added, and `reserved` stems go to nobody.
fn unique_stems(wanted: &[(DocId, String)], copies: u32, reserved: &[&str]) -> HashMap<DocId, String> {
    let names = |stem: &str| -> Vec<String> {
        let stem = stem.to_lowercase();
        let mut v: Vec<String> = (0..copies).map(|k| format!("{stem}_aug{k}")).collect();
        v.push(stem);
        v
    };
    let mut given: HashSet<String> = reserved.iter().map(|r| r.to_lowercase()).collect();
    let own: HashSet<String> = wanted.iter().flat_map(|(_, s)| names(s)).chain(given.iter().cloned()).collect();
    let mut order: Vec<&(DocId, String)> = wanted.iter().collect();
    order.sort_by_key(|(id, _)| *id);
    let mut out = HashMap::with_capacity(wanted.len());
    for (id, stem) in order {
        let free = |cand: &str, avoid_own: bool| {
            !names(cand).iter().any(|n| given.contains(n) || (avoid_own && own.contains(n)))
        };
        let chosen = if free(stem, false) {
            stem.clone()
        } else {
            (1u64..)
                .map(|n| if n == 1 { format!("{stem}_doc{id}") } else { format!("{stem}_doc{id}_{n}") })
                .find(|c| free(c, true))
                .unwrap_or_default()
        };
        given.extend(names(&chosen));
        out.insert(*id, chosen);
    }
    out
}

/// A stem the format writers can use as is: they split paths at `\` as well as `/`, and
/// PPOCR's `Label.txt` is a tab-separated line per image.
fn clean_stem(stem: &str) -> String {
    stem.chars().map(|c| if c == '\\' || c.is_control() { '_' } else { c }).collect()
}

fn build_items(snap: &Snapshot, rec: &RecordedOptions) -> Vec<Item> {
    let names: HashMap<LabelId, &str> = snap.labels.iter().map(|l| (l.id, l.name.as_str())).collect();
    let mut items = Vec::with_capacity(snap.docs.len());
    // Each item's stem and extension as its source file suggests them.
    let mut natural: Vec<(String, String)> = Vec::with_capacity(snap.docs.len());
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
                flags: a.flags,
            })
            .collect();
        let links = links
            .iter()
            .filter_map(|l| Some(PageLink { from: *index.get(&l.from)?, to: *index.get(&l.to)?, kind: l.kind }))
            .collect();
        let file = Path::new(&doc.path);
        let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        // a turned page's file holds its pixels unturned: it is written as the boxes see it
        let copy_as_is =
            doc.page == 0 && doc.rotation == 0 && ["png", "jpg", "jpeg", "bmp", "webp"].contains(&ext.as_str());
        let stem =
            file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| format!("doc{}", doc.id));
        let stem = if doc.page > 0 { format!("{stem}_p{}", doc.page + 1) } else { stem };
        let ext = if copy_as_is { ext } else { "png".to_string() };
        natural.push((stem, ext));
        let page =
            Page { image: String::new(), width: doc.width, height: doc.height, boxes, links, tags: doc.tags.clone() };
        items.push(Item { doc: doc.clone(), page, split: String::new(), name: String::new(), copy_as_is });
    }
    match rec.naming {
        Naming::Legacy => {
            let mut used: HashSet<String> = HashSet::new();
            for (it, (stem, ext)) in items.iter_mut().zip(&natural) {
                it.name = format!("{stem}.{ext}");
                if !used.insert(it.name.to_lowercase()) {
                    it.name = format!("{stem}_{}.{ext}", it.doc.id);
                    used.insert(it.name.to_lowercase());
                }
            }
        }
        Naming::UniqueStems => {
            let wanted: Vec<(DocId, String)> =
                items.iter().zip(&natural).map(|(it, (stem, _))| (it.doc.id, clean_stem(stem))).collect();
            let copies = rec.augment.map_or(0, |a| a.count);
            // Facture JSON writes `{stem}.json` beside `manifest.json`.
            let reserved: &[&str] = if rec.format == Format::FactureJson { &["manifest"] } else { &[] };
            let unique = unique_stems(&wanted, copies, reserved);
            for (it, (_, ext)) in items.iter_mut().zip(&natural) {
                it.name = format!("{}.{ext}", unique.get(&it.doc.id).map_or("", String::as_str));
            }
        }
    }
    for it in &mut items {
        it.page.image = join_rel(rec.format.image_dir(), &it.name);
    }
    if let Some(split) = rec.split.as_ref() {
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
        let assigned = assign_splits(&groups, split, rec.seed);
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
        // Facture's own ground truth (byte-identical to `app::import::export_gt` for pages
        // without tags and flags), with the tags and flags
        Format::FactureJson => (pages.iter().map(gt::write_page).collect(), Skipped::default()),
    }
}

fn encode_png(img: &image::RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Encoding an in-memory RGB image to PNG cannot fail short of running out of memory.
    let _ = img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png);
    bytes
}

/// `img` in the format the exported file name `name` says (JPEG at quality 95): a page written
/// upright under the name its copy would have had.
fn encode_as(img: &image::RgbImage, name: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    // as in `encode_png`: encoding an in-memory RGB image cannot fail short of memory
    match image::ImageFormat::from_path(name) {
        Ok(image::ImageFormat::Jpeg) => {
            let _ = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95).encode_image(img);
        }
        Ok(format) => {
            let _ = img.write_to(&mut std::io::Cursor::new(&mut bytes), format);
        }
        Err(_) => return encode_png(img),
    }
    bytes
}

/// Writes a new file under `root`, recording its sha256 under its relative path. It never
/// replaces a file: a second write to one path means two pages were given one name.
fn put(root: &Path, rel: &str, bytes: &[u8], files: &mut BTreeMap<String, String>) -> Result<(), ExportError> {
    if files.contains_key(rel) {
        return Err(ExportError::Collision { path: rel.to_string() });
    }
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    // Also catches two names that differ only in case on a file system that ignores case.
    create_new(&path, bytes).map_err(|e| collision_or_io(e, &path, rel))?;
    files.insert(rel.to_string(), imageio::sha256_hex(bytes));
    Ok(())
}

fn create_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(path)?.write_all(bytes)
}

fn collision_or_io(e: std::io::Error, path: &Path, rel: &str) -> ExportError {
    if e.kind() == std::io::ErrorKind::AlreadyExists {
        ExportError::Collision { path: rel.to_string() }
    } else {
        ExportError::Io { path: path.to_path_buf(), source: e }
    }
}

/// What [`run`] staged: the manifest (not yet written) and the report's figures.
struct Staged {
    manifest: Manifest,
    documents: usize,
    images: usize,
    boxes: usize,
    skipped: Skipped,
    per_split: BTreeMap<String, usize>,
}

impl Staged {
    fn report(&self, out: &Path, manifest_text: &str) -> ExportReport {
        ExportReport {
            version: self.manifest.dataset_version,
            out: out.to_path_buf(),
            documents: self.documents,
            images: self.images,
            boxes: self.boxes,
            files: self.manifest.files.len() + 1,
            skipped: self.skipped,
            per_split: self.per_split.clone(),
            manifest_sha256: imageio::sha256_hex(manifest_text.as_bytes()),
        }
    }
}

/// Writes every file of version `number` but the manifest into `out` (a fresh folder).
fn run(
    store: &Store,
    rec: &RecordedOptions,
    number: i64,
    created_ms: i64,
    out: &Path,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<Staged, ExportError> {
    write_files(store, rec, number, created_ms, out, progress, cancel).map_err(|e| match (e, rec.naming) {
        (ExportError::Collision { path }, Naming::Legacy) => ExportError::LegacyCollision { number, path },
        (e, _) => e,
    })
}

fn write_files(
    store: &Store,
    rec: &RecordedOptions,
    number: i64,
    created_ms: i64,
    out: &Path,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<Staged, ExportError> {
    let snap = snapshot(store, &rec.doc_ids, rec.as_of_edit)?;
    let classes: Vec<String> = snap.labels.iter().map(|l| l.name.clone()).collect();
    let items = build_items(&snap, rec);
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
        if i % PREFETCH_PAGES == 0 {
            // a server workspace's next pages come in a few statements, not one each
            let next: Vec<&str> = items[i..].iter().take(PREFETCH_PAGES).map(|it| it.doc.sha256.as_str()).collect();
            pages::prefetch(store, &next).map_err(|e| page_error(e, Path::new(&it.doc.path)))?;
        }
        let source = PageRef::of(store, &it.doc);
        let src = Path::new(&it.doc.path);
        let rel = join_rel(&it.split, &it.page.image);
        let mut decoded = None;
        // a file whose EXIF orientation turns or flips its pixels is written in its own format as
        // its document decodes it (upright when the orientation applies, as stored for a page
        // imported before schema 8, the tag left out either way), never copied or linked: a
        // program that treats the tag otherwise than the document does would misplace the boxes
        let mut read = None;
        if it.copy_as_is && !(rec.link_images && store.is_postgres()) {
            read = Some(source.bytes(Some(store)).map_err(|e| page_error(e, src))?);
        }
        let image_sha = if let Some(bytes) = read.as_deref().filter(|b| !imageio::stored_upright(b)) {
            let img = source.decode_bytes(bytes).map_err(|e| page_error(e, src))?.to_rgb8();
            let bytes = encode_as(&img, &it.name);
            put(out, &rel, &bytes, &mut files)?;
            decoded = Some(img);
            imageio::sha256_hex(&bytes)
        } else if it.copy_as_is && rec.link_images {
            if store.is_postgres() {
                return Err(ExportError::LinkFromServer);
            }
            if files.contains_key(&rel) {
                return Err(ExportError::Collision { path: rel });
            }
            let dest = out.join(&rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            // Absolute, so the link still resolves once the folder is moved into place.
            let target = std::fs::canonicalize(src).map_err(io_err(src))?;
            symlink(&target, &dest).map_err(|e| collision_or_io(e, &dest, &rel))?;
            files.insert(rel.clone(), it.doc.sha256.clone());
            it.doc.sha256.clone()
        } else if it.copy_as_is {
            let bytes = match read.take() {
                Some(b) => b,
                None => source.bytes(Some(store)).map_err(|e| page_error(e, src))?,
            };
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
            let img = source.decode(Some(store)).map_err(|e| page_error(e, src))?.to_rgb8();
            let bytes = encode_png(&img);
            put(out, &rel, &bytes, &mut files)?;
            decoded = Some(img);
            imageio::sha256_hex(&bytes)
        };
        if needs_pixels && decoded.is_none() {
            decoded = Some(source.decode(Some(store)).map_err(|e| page_error(e, src))?.to_rgb8());
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
                    tags: it.page.tags.clone(),
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
    if rec.writes_guide {
        let guide = crate::app::guidelines::Guide::as_of(store, &snap.labels, rec.as_of_edit)?;
        for (rel, bytes) in guide.dataset_files() {
            put(out, &rel, &bytes, &mut files)?;
        }
    }
    let mut filters = BTreeMap::new();
    filters.insert("status".to_string(), if rec.all { "all".to_string() } else { "accepted".to_string() });
    let manifest = Manifest {
        facture_version: env!("CARGO_PKG_VERSION").to_string(),
        dataset_version: Some(number),
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
        schema_version: if rec.records_schema {
            Some(crate::app::schema::schema_version_as_of(store, Some(rec.as_of_edit.unwrap_or(0)))?)
        } else {
            None
        },
    };
    Ok(Staged { manifest, documents: items.len(), images, boxes, skipped, per_split: split_counts })
}

/// A page that could not be read, as the export error that says why.
fn page_error(e: PageError, src: &Path) -> ExportError {
    match e {
        PageError::Image(e) => ExportError::Image(e),
        PageError::Store(e) => ExportError::Store(e),
        PageError::Missing { path } => ExportError::Io {
            path,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "the image file is missing (moved or renamed?)"),
        },
        other => ExportError::Page { path: src.to_path_buf(), reason: other.to_string() },
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    // Without symlinks (or the right to make them), a copy is the honest fallback; like a
    // link, it never replaces a file.
    let mut to = std::fs::OpenOptions::new().write(true).create_new(true).open(link)?;
    std::io::copy(&mut std::fs::File::open(target)?, &mut to).map(|_| ())
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

    fn stems(wanted: &[(i64, &str)], copies: u32, reserved: &[&str]) -> Vec<String> {
        let wanted: Vec<(DocId, String)> = wanted.iter().map(|(id, s)| (DocId(*id), s.to_string())).collect();
        let got = unique_stems(&wanted, copies, reserved);
        wanted.iter().map(|(id, _)| got[id].clone()).collect()
    }

    #[test]
    fn fallback_stems_are_checked_against_every_stem() {
        // The old fallback gave doc 3 `a_3`, doc 2's own stem.
        assert_eq!(stems(&[(1, "a"), (2, "a_3"), (3, "a")], 0, &[]), ["a", "a_3", "a_doc3"]);
        // A fallback is never another document's own stem, even a later one's.
        assert_eq!(stems(&[(1, "a"), (2, "a"), (3, "a_doc2")], 0, &[]), ["a", "a_doc2_2", "a_doc2"]);
        // Case alone does not make two stems differ.
        assert_eq!(stems(&[(1, "Inv"), (2, "inv")], 0, &[]), ["Inv", "inv_doc2"]);
        // Ids decide, not the order given.
        assert_eq!(stems(&[(7, "a"), (3, "a")], 0, &[]), ["a_doc7", "a"]);
        assert_eq!(stems(&[(1, "manifest")], 0, &["manifest"]), ["manifest_doc1"]);
    }

    #[test]
    fn augmented_copies_are_names_too() {
        // Doc 1's first copy would be `a_aug0`, doc 2's own stem.
        let got = stems(&[(1, "a"), (2, "a_aug0"), (3, "a_doc3_aug1")], 2, &[]);
        assert_eq!(got, ["a", "a_aug0_doc2", "a_doc3_aug1"]);
        let all: Vec<String> = got.iter().flat_map(|s| [s.clone(), format!("{s}_aug0"), format!("{s}_aug1")]).collect();
        assert_eq!(all.iter().map(|s| s.to_lowercase()).collect::<HashSet<_>>().len(), all.len(), "{all:?}");
    }

    #[test]
    fn stems_stay_when_later_documents_come() {
        let before = stems(&[(1, "a"), (2, "b"), (3, "a")], 1, &[]);
        let after = stems(&[(1, "a"), (2, "b"), (3, "a"), (4, "a"), (5, "b"), (6, "B")], 1, &[]);
        assert_eq!(before[..], after[..3]);
        assert_eq!(after[3..], ["a_doc4", "b_doc5", "B_doc6"]);
    }

    #[test]
    fn options_recorded_before_unique_naming_read_as_legacy_and_write_back_the_same() {
        let old = r#"{"format":"voc","all":true,"split":null,"seed":0,"link_images":false,"augment":null,"as_of_edit":3,"doc_ids":[1,2]}"#;
        let rec: RecordedOptions = serde_json::from_str(old).unwrap();
        assert_eq!(rec.naming, Naming::Legacy);
        assert_eq!(serde_json::to_string(&rec).unwrap(), old);
        let new = RecordedOptions { naming: Naming::UniqueStems, ..rec };
        let text = serde_json::to_string(&new).unwrap();
        assert!(text.ends_with(r#","naming":"unique-stems"}"#), "{text}");
        assert_eq!(serde_json::from_str::<RecordedOptions>(&text).unwrap(), new);
    }

    #[test]
    fn put_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = BTreeMap::new();
        put(dir.path(), "labels/a.txt", b"one", &mut files).unwrap();
        let again = put(dir.path(), "labels/a.txt", b"two", &mut files).unwrap_err();
        assert!(matches!(&again, ExportError::Collision { path } if path == "labels/a.txt"), "{again}");
        // Even one this export did not record (as a case-insensitive file system would report).
        std::fs::write(dir.path().join("labels/b.txt"), b"other").unwrap();
        let e = put(dir.path(), "labels/b.txt", b"two", &mut files).unwrap_err();
        assert!(matches!(e, ExportError::Collision { .. }), "{e}");
        assert_eq!(std::fs::read(dir.path().join("labels/a.txt")).unwrap(), b"one");
        assert_eq!(std::fs::read(dir.path().join("labels/b.txt")).unwrap(), b"other");
    }

    #[test]
    fn a_failed_move_puts_back_what_it_moved() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("from"), dir.path().join("to"));
        for f in ["a", "c", MANIFEST_FILE] {
            std::fs::create_dir_all(&from).unwrap();
            std::fs::write(from.join(f), f).unwrap();
        }
        std::fs::create_dir_all(&to).unwrap();
        std::fs::write(to.join("c"), "someone else's").unwrap();
        assert!(move_entries(&from, &to).is_err());
        let names = |d: &Path| {
            let mut v: Vec<String> =
                std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
            v.sort();
            v
        };
        assert_eq!(names(&from), ["a", "c", MANIFEST_FILE]);
        assert_eq!(names(&to), ["c"]);
        std::fs::remove_file(to.join("c")).unwrap();
        move_entries(&from, &to).unwrap();
        assert_eq!(names(&to), ["a", "c", MANIFEST_FILE]);
    }

    /// A workspace of documents on real PNG files named `names` (under the temp dir), each
    /// with one labelled box.
    fn workspace(dir: &Path, names: &[&str]) -> Store {
        use crate::domain::{EditKind, Rect};
        let mut store = Store::open_in_memory().unwrap();
        let label = store.labels().unwrap()[0].id;
        for (i, name) in names.iter().enumerate() {
            let path = dir.join("scans").join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8, y as u8, i as u8])).save(&path).unwrap();
            let nd = crate::store::NewDocument {
                path: path.to_string_lossy().into_owned(),
                sha256: imageio::sha256_file(&path).unwrap(),
                page: 0,
                width: 40,
                height: 30,
            };
            let doc = store.add_document(&nd, 0).unwrap().unwrap();
            let a = Annotation::new_imported(doc, Rect::new(1.0, 1.0, 20.0, 10.0), Some(label), "x".into(), None, 0);
            let change = Change::Annotation { before: None, after: Some(Annotation { id: AnnId(-1), ..a }) };
            store
                .apply(crate::store::NewEdit {
                    ts_ms: 0,
                    user: None,
                    doc: Some(doc),
                    action: "test".into(),
                    kind: EditKind::Do,
                    changes: vec![change],
                })
                .unwrap();
        }
        store
    }

    fn all(format: Format, out: &Path) -> ExportOptions {
        ExportOptions { all: true, ..ExportOptions::new(format, out, 7) }
    }

    fn staging_left(dir: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".facture-export-"))
            .collect()
    }

    /// The version number read at the start is taken while the files are written.
    #[test]
    fn a_number_taken_meanwhile_is_renumbered_in_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = workspace(dir.path(), &["a.png", "b.png"]);
        let out = dir.path().join("out");
        let mut competitor = None;
        let report =
            export_with(&mut store, &all(Format::Yolo, &out), &mut |_, _| {}, &AtomicBool::new(false), &mut |s| {
                if competitor.is_none() {
                    let v = DatasetVersion {
                        number: s.next_dataset_version()?,
                        created_ms: 1,
                        user: None,
                        format: "coco".into(),
                        options: "{}".into(),
                        manifest: "{}".into(),
                        manifest_sha256: "x".into(),
                    };
                    s.add_dataset_version(&v)?;
                    competitor = Some(v);
                }
                Ok(())
            })
            .unwrap();
        let competitor = competitor.unwrap();
        assert_eq!((competitor.number, report.version), (1, Some(2)));
        assert_eq!(store.dataset_version(1).unwrap(), Some(competitor));
        let text = std::fs::read_to_string(out.join(MANIFEST_FILE)).unwrap();
        let m: Manifest = serde_json::from_str(&text).unwrap();
        assert_eq!(m.dataset_version, Some(2));
        let mine = store.dataset_version(2).unwrap().unwrap();
        assert_eq!((mine.manifest, mine.manifest_sha256), (text.clone(), imageio::sha256_hex(text.as_bytes())));
        assert_eq!(report.manifest_sha256, imageio::sha256_hex(text.as_bytes()));
        assert!(staging_left(dir.path()).is_empty());
        // And it reproduces under its new number.
        let again = dir.path().join("again");
        reproduce(&store, 2, &again, &mut |_, _| {}, &AtomicBool::new(false)).unwrap();
        assert_eq!(std::fs::read_to_string(again.join(MANIFEST_FILE)).unwrap(), text);
    }

    #[test]
    fn an_export_that_can_never_record_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = workspace(dir.path(), &["a.png"]);
        let out = dir.path().join("deeper/still/out");
        let mut attempts = 0;
        let err =
            export_with(&mut store, &all(Format::Coco, &out), &mut |_, _| {}, &AtomicBool::new(false), &mut |s| {
                attempts += 1;
                let number = s.next_dataset_version()?;
                s.add_dataset_version(&DatasetVersion {
                    number,
                    created_ms: 1,
                    user: None,
                    format: "coco".into(),
                    options: "{}".into(),
                    manifest: "{}".into(),
                    manifest_sha256: "x".into(),
                })
            })
            .unwrap_err();
        assert!(matches!(err, ExportError::Store(StoreError::Conflict(_))), "{err}");
        assert_eq!(attempts, RECORD_ATTEMPTS);
        // The folders made for it are gone too.
        assert!(!dir.path().join("deeper").exists());
        assert!(staging_left(dir.path()).is_empty());
    }

    /// Someone writes into the output folder while the export runs: the recorded, complete
    /// dataset is kept where it was staged, and the error says where.
    #[test]
    fn a_dataset_that_cannot_be_moved_into_place_is_kept_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = workspace(dir.path(), &["a.png"]);
        let (fresh, made) = (dir.path().join("fresh"), dir.path().join("made"));
        std::fs::create_dir(&made).unwrap();
        for (out, intruder) in [(&fresh, "x.txt"), (&made, MANIFEST_FILE)] {
            let err =
                export_with(&mut store, &all(Format::Coco, out), &mut |_, _| {}, &AtomicBool::new(false), &mut |_| {
                    std::fs::create_dir_all(out).unwrap();
                    std::fs::write(out.join(intruder), "not ours").unwrap();
                    Ok(())
                })
                .unwrap_err();
            let ExportError::NotMoved { number, staged, .. } = &err else { panic!("{err}") };
            assert!(err.to_string().contains(&staged.display().to_string()), "{err}");
            let m: Manifest = serde_json::from_slice(&std::fs::read(staged.join(MANIFEST_FILE)).unwrap()).unwrap();
            // the page, its annotations, and the guide (GUIDE.md, guide.html; no examples pinned)
            assert_eq!((m.dataset_version, m.files.len()), (Some(*number), 4));
            assert!(store.dataset_version(*number).unwrap().is_some());
            // What was moved before the clash went back: the output holds only the intruder.
            let names: Vec<_> = std::fs::read_dir(out)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .filter(|n| !n.to_string_lossy().starts_with(".facture-export-"))
                .collect();
            assert_eq!(names, [intruder]);
        }
    }

    #[test]
    fn a_legacy_version_whose_names_collided_is_refused_not_rebuilt_with_losses() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = workspace(dir.path(), &["A/a.png", "B/a_3.png", "C/a.png"]);
        let rec = RecordedOptions {
            format: Format::Coco,
            all: true,
            split: None,
            seed: 0,
            link_images: false,
            augment: None,
            as_of_edit: store.last_edit_id().unwrap().map(|e| e.0),
            doc_ids: vec![1, 2, 3],
            naming: Naming::Legacy,
            records_schema: false,
            writes_guide: false,
        };
        store
            .add_dataset_version(&DatasetVersion {
                number: 1,
                created_ms: 1,
                user: None,
                format: "coco".into(),
                options: serde_json::to_string(&rec).unwrap(),
                manifest: "{}".into(),
                manifest_sha256: "x".into(),
            })
            .unwrap();
        let out = dir.path().join("out");
        let err = reproduce(&store, 1, &out, &mut |_, _| {}, &AtomicBool::new(false)).unwrap_err();
        assert!(matches!(&err, ExportError::LegacyCollision { number: 1, path } if path == "images/a_3.png"), "{err}");
        assert!(!out.exists());
        assert!(staging_left(dir.path()).is_empty());
    }
}
