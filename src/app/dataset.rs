//! Dataset import: read another tool's files, resolve and check every image, map labels onto
//! the schema, and only when everything is valid write one edit per document. A malformed file
//! or a label name the schema lacks (and no mapping names) is reported and nothing is imported.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::app::confine::{ImageRoots, dataset_root};
use crate::domain::{AnnId, Annotation, Change, DocId, EditKind, Label, LabelId, Link, LinkId, UserId};
use crate::formats::gt::{self, gt_files_in};
use crate::formats::model::{Format, FormatError, Page, file_name};
use crate::formats::{coco, csv, funsd, labelstudio, ppocr, voc, yolo};
use crate::imageio::{self, has_image_extension};
use crate::store::{Guard, NewDocument, NewEdit, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Nothing was imported.
    #[error("{0} — nothing was imported")]
    Format(#[from] FormatError),
    #[error("{path}: {reason} — nothing was imported")]
    Invalid { path: PathBuf, reason: String },
    #[error("{0} is an export-only format")]
    NotImportable(Format),
    #[error("import cancelled before anything was written")]
    Cancelled,
    /// The dataset uses label names the schema lacks and no mapping names: nothing was
    /// imported. `labels` holds each name with its box count; `retired` those that name a
    /// retired label; `suggestion` one of the names and a schema label close to it, if any;
    /// `unused` the mappings that name no label of the dataset (typos, likely).
    #[error("{}", unmapped_text(.labels, .retired, .suggestion.as_ref(), .unused))]
    Unmapped {
        labels: BTreeMap<String, usize>,
        retired: BTreeSet<String>,
        suggestion: Option<(String, String)>,
        unused: Vec<String>,
    },
    /// A mapping's target is not a label of the schema.
    #[error("--map {foreign}={target}: the schema has no label named '{target}'{}", did_you_mean(.close))]
    UnknownTarget { foreign: String, target: String, close: Vec<String> },
    #[error("--map {foreign}={target}: {label} is retired; reinstate it or map elsewhere")]
    RetiredTarget { foreign: String, target: String, label: String },
    /// One foreign name mapped to two targets (as typed; empty for no label).
    #[error("--map {foreign} is given twice, as {foreign}={first} and {foreign}={second}")]
    MappedTwice { foreign: String, first: String, second: String },
}

fn unmapped_text(
    labels: &BTreeMap<String, usize>,
    retired: &BTreeSet<String>,
    suggestion: Option<&(String, String)>,
    unused: &[String],
) -> String {
    let names: Vec<String> = labels
        .iter()
        .map(|(name, n)| {
            let retired = if retired.contains(name) { "; retired here" } else { "" };
            format!("{name} ({n}{retired})")
        })
        .collect();
    let (first, target) = match suggestion {
        Some((name, label)) => (name.as_str(), label.as_str()),
        None => (labels.keys().next().map(String::as_str).unwrap_or("NAME"), "LABEL"),
    };
    let unused = match unused {
        [] => String::new(),
        [one] => format!(" (the dataset has no label named {one})"),
        more => format!(" (the dataset has no labels named {})", more.join(", ")),
    };
    format!(
        "labels not in the schema: {}; map them with --map {first}={target} (or --map {first}= to import those \
         boxes unlabelled){unused} — nothing was imported",
        names.join(", ")
    )
}

fn did_you_mean(close: &[String]) -> String {
    match close {
        [] => "; `facture labels WORKSPACE list` shows the labels".to_string(),
        [one] => format!("; did you mean {one}?"),
        [rest @ .., last] => format!("; did you mean {} or {last}?", rest.join(", ")),
    }
}

/// One `FOREIGN=LABEL` pair as typed; `FOREIGN=` imports those boxes unlabelled. The name
/// before the last `=` is the dataset's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMapping {
    pub foreign: String,
    pub target: Option<String>,
}

impl FromStr for LabelMapping {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        const FORM: &str = "expected FOREIGN=LABEL, e.g. Total=total_amount (or Total= for no label)";
        let Some((foreign, target)) = s.rsplit_once('=') else {
            return Err(format!("no '=' in it; {FORM}"));
        };
        let (foreign, target) = (foreign.trim(), target.trim());
        if foreign.is_empty() {
            return Err(format!("no name before '='; {FORM}"));
        }
        Ok(Self { foreign: foreign.to_string(), target: (!target.is_empty()).then(|| target.to_string()) })
    }
}

/// How the label names of a dataset map onto the schema: foreign name → `Some(label name)`,
/// or `None` to import that name's boxes unlabelled. A name the schema has needs no entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelMap(BTreeMap<String, Option<String>>);

impl LabelMap {
    /// The pairs as given; a name given twice with different targets is refused.
    pub fn from_pairs(pairs: impl IntoIterator<Item = LabelMapping>) -> Result<Self, ImportError> {
        let mut map = Self::default();
        for LabelMapping { foreign, target } in pairs {
            match map.0.get(&foreign) {
                Some(first) if *first != target => {
                    let (first, second) = (first.clone().unwrap_or_default(), target.unwrap_or_default());
                    return Err(ImportError::MappedTwice { foreign, first, second });
                }
                _ => map.insert(foreign, target),
            }
        }
        Ok(map)
    }

    /// Maps `foreign` to `target` (`None`: no label), replacing an earlier entry.
    pub fn insert(&mut self, foreign: impl Into<String>, target: Option<String>) {
        self.0.insert(foreign.into(), target);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_deref()))
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DatasetImportReport {
    pub documents: Vec<DocId>,
    pub boxes: usize,
    pub links: usize,
    /// Foreign label names that a mapping sent to a schema label: the label, and how many
    /// imported boxes carried the name.
    pub mapped: BTreeMap<String, (String, usize)>,
    /// Foreign label names mapped to no label, with how many imported boxes carried each.
    pub unlabelled: BTreeMap<String, usize>,
    /// Mappings whose foreign name the dataset does not use (nothing to map; ignored).
    pub unused_mappings: Vec<String>,
    /// Pages not imported, with why (already annotated, listed twice).
    pub skipped: Vec<(PathBuf, String)>,
    /// Page attributes the workspace has no document tag of (another tool's image attributes),
    /// with how many pages carried each: left out.
    pub ignored_tags: BTreeMap<String, usize>,
}

impl DatasetImportReport {
    /// Boxes whose label a mapping decided (to a label or to none).
    pub fn mapped_boxes(&self) -> usize {
        self.mapped.values().map(|(_, n)| n).sum::<usize>() + self.unlabelled.values().sum::<usize>()
    }

    pub fn summary(&self) -> String {
        let mut s =
            format!("{} document(s), {} box(es), {} link(s) imported", self.documents.len(), self.boxes, self.links);
        if !self.mapped.is_empty() {
            let n: usize = self.mapped.values().map(|(_, n)| n).sum();
            let pairs: Vec<String> = self.mapped.iter().map(|(k, (to, n))| format!("{k} as {to} ({n})")).collect();
            s.push_str(&format!("; {n} box(es) mapped: {}", pairs.join(", ")));
        }
        if !self.unlabelled.is_empty() {
            let n: usize = self.unlabelled.values().sum();
            let names: Vec<String> = self.unlabelled.iter().map(|(k, n)| format!("{k} ({n})")).collect();
            s.push_str(&format!("; {n} box(es) imported unlabelled as mapped: {}", names.join(", ")));
        }
        if !self.skipped.is_empty() {
            s.push_str(&format!("; {} page(s) skipped", self.skipped.len()));
        }
        if !self.ignored_tags.is_empty() {
            let names: Vec<String> = self.ignored_tags.iter().map(|(k, n)| format!("{k} ({n})")).collect();
            s.push_str(&format!("; page attributes that are no document tag here, left out: {}", names.join(", ")));
        }
        s
    }
}

/// A schema label found by name: an active label by exact name, then ignoring case; else a
/// retired one the same way.
enum Lookup<'a> {
    Active(&'a Label),
    Retired(&'a Label),
    Missing,
}

fn lookup<'a>(schema: &'a [Label], name: &str) -> Lookup<'a> {
    let folded = name.to_lowercase();
    let find = |retired: bool| {
        let mut of_kind = schema.iter().filter(move |l| l.retired == retired);
        of_kind.clone().find(|l| l.name == name).or_else(|| of_kind.find(|l| l.name.to_lowercase() == folded))
    };
    match (find(false), find(true)) {
        (Some(l), _) => Lookup::Active(l),
        (None, Some(l)) => Lookup::Retired(l),
        (None, None) => Lookup::Missing,
    }
}

/// Active schema labels whose names are close to `name`: the fewest edits away or, when none
/// is near, sharing a word with it (`Total` → `total_amount`); at most three.
fn close_names(schema: &[Label], name: &str) -> Vec<String> {
    let wanted = name.to_lowercase();
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 3).map(str::to_string).collect()
    };
    let wanted_words = words(&wanted);
    let mut near = Vec::new();
    let mut sharing = Vec::new();
    for l in schema.iter().filter(|l| !l.retired) {
        let have = l.name.to_lowercase();
        let d = crate::metrics::levenshtein(&wanted, &have);
        if d <= (wanted.chars().count() / 3).max(1) {
            near.push((d, l.name.as_str()));
        } else if words(&have).iter().any(|w| wanted_words.contains(w)) {
            sharing.push((d, l.name.as_str()));
        }
    }
    // of the near ones only the nearest: `totl_amount` means total_amount, not tax_amount
    let nearest = near.iter().map(|(d, _)| *d).min();
    near.retain(|(d, _)| Some(*d) == nearest);
    let mut best = if near.is_empty() { sharing } else { near };
    best.sort();
    best.into_iter().take(3).map(|(_, n)| n.to_string()).collect()
}

/// Where the boxes of one foreign label name go.
#[derive(Debug, Clone, PartialEq)]
enum Landing {
    /// The schema has the name.
    Own(LabelId),
    /// A mapping sends it to this label.
    Mapped(LabelId, String),
    /// A mapping sends it to no label.
    Unlabelled,
    /// The format's own word for "no label" (FUNSD's `other`).
    FormatUnlabelled,
}

/// The name a format writes for an unlabelled box, read back as none when the schema and the
/// mapping do not name it.
fn format_unlabelled(format: Format) -> Option<&'static str> {
    (format == Format::Funsd).then_some(funsd::UNLABELLED)
}

/// A [`LabelMap`] checked against the schema: every target is an active label.
struct CheckedMap {
    exact: HashMap<String, Option<(LabelId, String)>>,
    folded: HashMap<String, String>,
}

impl CheckedMap {
    fn new(schema: &[Label], map: &LabelMap) -> Result<Self, ImportError> {
        let mut exact = HashMap::new();
        for (foreign, target) in map.iter() {
            let to = match target {
                None => None,
                Some(target) => match lookup(schema, target) {
                    Lookup::Active(l) => Some((l.id, l.name.clone())),
                    Lookup::Retired(l) => {
                        return Err(ImportError::RetiredTarget {
                            foreign: foreign.into(),
                            target: target.into(),
                            label: l.name.clone(),
                        });
                    }
                    Lookup::Missing => {
                        return Err(ImportError::UnknownTarget {
                            foreign: foreign.into(),
                            target: target.into(),
                            close: close_names(schema, target),
                        });
                    }
                },
            };
            exact.insert(foreign.to_string(), to);
        }
        let folded = exact.keys().map(|k| (k.to_lowercase(), k.clone())).collect();
        Ok(Self { exact, folded })
    }

    /// The mapping entry for `name` (exact, then ignoring case) and its key.
    fn entry(&self, name: &str) -> Option<(&str, &Option<(LabelId, String)>)> {
        let key = if self.exact.contains_key(name) { name } else { self.folded.get(&name.to_lowercase())?.as_str() };
        self.exact.get_key_value(key).map(|(k, v)| (k.as_str(), v))
    }

    /// Where `name`'s boxes go: a mapping first, then the schema's own label, then the
    /// format's word for none; `None` when none of them says.
    fn landing(&self, schema: &[Label], format: Format, name: &str) -> Option<Landing> {
        match self.entry(name) {
            Some((_, Some((id, to)))) => {
                Some(if to == name { Landing::Own(*id) } else { Landing::Mapped(*id, to.clone()) })
            }
            Some((_, None)) => Some(Landing::Unlabelled),
            None => match lookup(schema, name) {
                Lookup::Active(l) => Some(Landing::Own(l.id)),
                _ if format_unlabelled(format) == Some(name) => Some(Landing::FormatUnlabelled),
                Lookup::Retired(_) | Lookup::Missing => None,
            },
        }
    }
}

/// Each label name the pages use, with how many boxes carry it.
fn label_counts(found: &[Found]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for b in found.iter().flat_map(|f| &f.page.boxes) {
        if let Some(name) = &b.label {
            *counts.entry(name.clone()).or_default() += 1;
        }
    }
    counts
}

/// Where every label name of the dataset goes, or the error listing those no one placed.
fn landings(
    schema: &[Label],
    format: Format,
    map: &CheckedMap,
    counts: &BTreeMap<String, usize>,
    unused: &[String],
) -> Result<HashMap<String, Landing>, ImportError> {
    let mut out = HashMap::new();
    let mut unmapped = BTreeMap::new();
    for (name, n) in counts {
        match map.landing(schema, format, name) {
            Some(l) => {
                out.insert(name.clone(), l);
            }
            None => {
                unmapped.insert(name.clone(), *n);
            }
        }
    }
    if unmapped.is_empty() {
        return Ok(out);
    }
    let retired = unmapped.keys().filter(|n| matches!(lookup(schema, n), Lookup::Retired(_))).cloned().collect();
    // the example names the first name that has a close label, if any does
    let suggestion = unmapped.keys().find_map(|n| Some((n.clone(), close_names(schema, n).into_iter().next()?)));
    Err(ImportError::Unmapped { labels: unmapped, retired, suggestion, unused: unused.to_vec() })
}

/// A page read from the dataset, with the file that described it and the folder its image
/// paths are relative to.
struct Found {
    page: Page,
    file: PathBuf,
    base: PathBuf,
}

fn rel(path: &Path) -> String {
    path.display().to_string()
}

fn read(path: &Path) -> Result<Vec<u8>, ImportError> {
    std::fs::read(path)
        .map_err(|e| ImportError::Invalid { path: path.to_path_buf(), reason: format!("cannot read: {e}") })
}

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext)))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn first_existing(candidates: &[PathBuf]) -> Option<PathBuf> {
    candidates.iter().find(|p| p.is_file()).cloned()
}

fn missing(path: &Path, what: &str) -> ImportError {
    ImportError::Invalid { path: path.to_path_buf(), reason: format!("no {what} found here") }
}

fn image_in(dir: &Path, stem: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| has_image_extension(p) && p.file_stem().is_some_and(|s| s.to_string_lossy() == stem))
        .collect();
    found.sort();
    found.into_iter().next()
}

/// Reads the annotation files of a dataset (nothing is written).
fn read_dataset(format: Format, path: &Path, roots: &ImageRoots) -> Result<Vec<Found>, ImportError> {
    let dir = if path.is_dir() { path.to_path_buf() } else { path.parent().unwrap_or(Path::new(".")).to_path_buf() };
    let mut out = Vec::new();
    let mut push_pages = |pages: Vec<Page>, file: &Path, base: &Path| {
        out.extend(pages.into_iter().map(|page| Found { page, file: file.to_path_buf(), base: base.to_path_buf() }))
    };
    match format {
        Format::Coco | Format::LabelStudio | Format::LabelStudioMin | Format::Csv => {
            let default = match format {
                Format::Coco => coco::FILE,
                Format::Csv => csv::FILE,
                _ => labelstudio::FILE,
            };
            let file = if path.is_file() {
                path.to_path_buf()
            } else {
                first_existing(&[path.join(default), path.join("annotations").join(default), path.join("result.json")])
                    .ok_or_else(|| missing(path, default))?
            };
            let bytes = read(&file)?;
            let name = rel(&file);
            let pages = match format {
                Format::Coco => coco::read(&name, &bytes)?,
                Format::Csv => csv::read(&name, &bytes)?,
                _ => labelstudio::read(&name, &bytes)?,
            };
            push_pages(pages, &file, &dir);
        }
        Format::Ppocr | Format::PpocrKie => {
            let file = if path.is_file() {
                path.to_path_buf()
            } else {
                first_existing(&[
                    path.join("Label.txt"),
                    path.join(ppocr::LABEL_FILE),
                    path.join("Cache.cach"),
                    path.join("images/Cache.cach"),
                ])
                .ok_or_else(|| missing(path, "Label.txt or Cache.cach"))?
            };
            let bytes = read(&file)?;
            let pages = ppocr::read(&rel(&file), &bytes)?;
            let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
            push_pages(pages, &file, &base);
        }
        Format::Voc => {
            let files = if path.is_file() {
                vec![path.to_path_buf()]
            } else {
                let mut f = files_with_ext(&path.join(voc::ANNOTATION_DIR), "xml");
                if f.is_empty() {
                    f = files_with_ext(path, "xml");
                }
                f
            };
            if files.is_empty() {
                return Err(missing(path, "VOC .xml files"));
            }
            for file in files {
                let page = voc::read(&rel(&file), &read(&file)?)?;
                push_pages(vec![page], &file, &dir);
            }
        }
        Format::Funsd | Format::FactureJson => {
            let files = if path.is_file() {
                vec![path.to_path_buf()]
            } else if format == Format::FactureJson {
                gt_files_in(path)
                    .map_err(|e| ImportError::Invalid { path: path.to_path_buf(), reason: e.to_string() })?
            } else {
                let mut f = files_with_ext(&path.join(funsd::ANNOTATION_DIR), "json");
                if f.is_empty() {
                    f = files_with_ext(path, "json");
                }
                f
            };
            // Our own export's manifest sits next to the annotations; it is not one of them.
            let files: Vec<PathBuf> =
                files.into_iter().filter(|f| f.file_name().is_none_or(|n| n != "manifest.json")).collect();
            if files.is_empty() {
                return Err(missing(path, "annotation .json files"));
            }
            for file in files {
                let bytes = read(&file)?;
                let name = rel(&file);
                let page = if format == Format::Funsd {
                    let mut page = funsd::read(&name, &bytes)?;
                    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                    let ann_dir = file.parent().unwrap_or(Path::new("."));
                    let root = if ann_dir.file_name().is_some_and(|n| n == funsd::ANNOTATION_DIR) {
                        ann_dir.parent().unwrap_or(Path::new(".")).to_path_buf()
                    } else {
                        ann_dir.to_path_buf()
                    };
                    let img =
                        image_in(&root.join(funsd::IMAGE_DIR), &stem).or_else(|| image_in(&root, &stem)).ok_or_else(
                            || FormatError::new(&name, format!("no image named {stem}.* next to it or in images/")),
                        )?;
                    page.image = img.to_string_lossy().into_owned();
                    page
                } else {
                    gt::read_page(&name, &bytes)?
                };
                let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
                push_pages(vec![page], &file, &base);
            }
        }
        Format::Yolo => {
            let root = if path.is_dir() { path.to_path_buf() } else { dir.clone() };
            let classes = match first_existing(&[
                root.join(yolo::CLASSES_FILE),
                root.join("obj.names"),
                root.join("classes.names"),
            ]) {
                Some(f) => yolo::read_classes(&rel(&f), &read(&f)?)?,
                None => Vec::new(),
            };
            let img_dir = if root.join(yolo::IMAGE_DIR).is_dir() { root.join(yolo::IMAGE_DIR) } else { root.clone() };
            let label_dir =
                if root.join(yolo::LABEL_DIR).is_dir() { root.join(yolo::LABEL_DIR) } else { img_dir.clone() };
            let mut imgs: Vec<PathBuf> = std::fs::read_dir(&img_dir)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| has_image_extension(p)).collect())
                .unwrap_or_default();
            imgs.sort();
            if imgs.is_empty() {
                return Err(missing(&img_dir, "images"));
            }
            for img in imgs {
                let stem = img.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                let label_file = label_dir.join(format!("{stem}.txt"));
                // a link out of the dataset is not read, not even its header
                let Some(admitted) = roots.admit(&img) else {
                    return Err(ImportError::Invalid {
                        path: img.clone(),
                        reason: format!("not an image inside {}", roots.describe()),
                    });
                };
                let probe = imageio::probe(&admitted)
                    .map_err(|e| ImportError::Invalid { path: img.clone(), reason: e.to_string() })?;
                let (w, h) = probe.pages.first().copied().unwrap_or((0, 0));
                // An image without a label file is a background image: no boxes.
                let boxes = if label_file.is_file() {
                    yolo::read_labels(&rel(&label_file), &read(&label_file)?, w, h, &classes)?
                } else {
                    Vec::new()
                };
                let page =
                    Page { image: img.to_string_lossy().into_owned(), width: w, height: h, boxes, ..Page::default() };
                push_pages(vec![page], &label_file, &root);
            }
        }
    }
    Ok(out)
}

/// Where a page's image is: as written relative to its base, or by file name in the usual
/// image folders (Label Studio's `/data/upload/3/1a2b3c4d-name.jpg` also as `name.jpg`), or in
/// a folder the user named. Only files inside `roots` count, wherever the path points.
fn resolve_image(found: &Found, roots: &ImageRoots, extra: &[PathBuf]) -> Option<PathBuf> {
    let written = found.page.image.replace('\\', "/");
    let p = Path::new(&written);
    let name = file_name(&written).to_string();
    let mut names = vec![name.clone()];
    if let Some((prefix, rest)) = name.split_once('-')
        && prefix.len() == 8
        && prefix.chars().all(|c| c.is_ascii_hexdigit())
    {
        names.push(rest.to_string());
    }
    let base = &found.base;
    let parent = base.parent().unwrap_or(base);
    let relative = written.trim_start_matches('/');
    let mut candidates = vec![p.to_path_buf(), base.join(relative), parent.join(relative)];
    for n in &names {
        for dir in ["", "images", "JPEGImages", "../images", "../JPEGImages"] {
            candidates.push(base.join(dir).join(n));
        }
        for dir in extra {
            candidates.push(dir.join(n));
        }
    }
    roots.first_admitted(&candidates)
}

/// One page ready to write.
struct Ready {
    image: PathBuf,
    sha256: String,
    sizes: Vec<(u32, u32)>,
    page: Page,
    labels: Vec<Option<LabelId>>,
}

/// Checks the paths and reads the dataset's files (nothing is written).
fn read_checked(format: Format, path: &Path, images: &[PathBuf]) -> Result<(ImageRoots, Vec<Found>), ImportError> {
    if !path.exists() {
        return Err(ImportError::Invalid { path: path.to_path_buf(), reason: "does not exist".into() });
    }
    for dir in images {
        if !dir.is_dir() {
            return Err(ImportError::Invalid { path: dir.clone(), reason: "no such image folder".into() });
        }
    }
    let roots = ImageRoots::new(std::iter::once(dataset_root(path)).chain(images.iter().cloned()));
    let found = read_dataset(format, path, &roots)?;
    Ok((roots, found))
}

/// The label names of a dataset that the schema lacks (or has only retired), each with how
/// many boxes carry it: what an import must be told how to map. Reads the annotation files
/// only; nothing is written.
pub fn foreign_labels(
    store: &Store,
    format: Format,
    path: &Path,
    images: &[PathBuf],
) -> Result<BTreeMap<String, usize>, ImportError> {
    let (_, found) = read_checked(format, path, images)?;
    let schema = store.labels()?;
    let none = CheckedMap::new(&schema, &LabelMap::default())?;
    Ok(label_counts(&found).into_iter().filter(|(name, _)| none.landing(&schema, format, name).is_none()).collect())
}

/// Imports a dataset in one of the formats into the workspace as active boxes (source
/// `import`), its label names mapped onto the schema by `map` (names the schema has map to
/// themselves). Every file is read, every label name placed and every image checked before
/// the first write.
#[allow(clippy::too_many_arguments)]
pub fn import_dataset(
    store: &mut Store,
    format: Format,
    path: &Path,
    images: &[PathBuf],
    map: &LabelMap,
    user: Option<UserId>,
    now_ms: i64,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<DatasetImportReport, ImportError> {
    let schema = store.labels()?;
    let tag_schema = store.tag_schema()?;
    // a bad mapping is said before the dataset is read
    let checked = CheckedMap::new(&schema, map)?;
    let (roots, found) = read_checked(format, path, images)?;
    let counts = label_counts(&found);
    let used: HashSet<&str> = counts.keys().filter_map(|n| checked.entry(n).map(|(key, _)| key)).collect();
    let unused: Vec<String> = map.iter().map(|(k, _)| k).filter(|k| !used.contains(k)).map(String::from).collect();
    let landings = landings(&schema, format, &checked, &counts, &unused)?;
    let mut report = DatasetImportReport { unused_mappings: unused, ..Default::default() };
    let mut ready: Vec<Ready> = Vec::with_capacity(found.len());
    let mut seen: HashSet<String> = HashSet::new();
    for (i, f) in found.into_iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            return Err(ImportError::Cancelled);
        }
        let file = rel(&f.file);
        let image = resolve_image(&f, &roots, images).ok_or_else(|| {
            let hint = if images.is_empty() { " (name other image folders with --images)" } else { "" };
            FormatError::new(&file, format!("image '{}' not found inside {}{hint}", f.page.image, roots.describe()))
        })?;
        let probe = imageio::probe(&image).map_err(|e| FormatError::new(&file, e.to_string()))?;
        imageio::decode_page(&image, 0).map_err(|e| FormatError::new(&file, e.to_string()))?;
        let (w, h) = probe.pages.first().copied().unwrap_or((0, 0));
        let mut page = f.page;
        if page.width != 0 && (page.width, page.height) != (w, h) {
            return Err(FormatError::new(
                &file,
                format!("says '{}' is {}×{} but the image is {w}×{h}", page.image, page.width, page.height),
            )
            .into());
        }
        (page.width, page.height) = (w, h);
        check_boxes(&file, &mut page)?;
        // another tool's page attributes that are no tag here are left out (and said so); a
        // tag the workspace has must carry one of its values
        page.tags.retain(|name, _| {
            let known = tag_schema.tags.iter().any(|t| &t.name == name);
            if !known {
                *report.ignored_tags.entry(name.clone()).or_default() += 1;
            }
            known
        });
        if let Some(why) = tag_schema.problem(&page.tags) {
            let hint = "the workspace's document tags are set with `facture settings WS doc-tags …`";
            return Err(FormatError::new(&file, format!("{why}; {hint}")).into());
        }
        if !seen.insert(probe.sha256.clone()) {
            report.skipped.push((image, "the same image is listed twice; imported once".into()));
            continue;
        }
        // checked again, with the write, in one transaction below; this early look only spares
        // the work for pages that are plainly done
        if let Some(doc) = store.documents_with_hash(&probe.sha256)?.into_iter().find(|d| d.page == 0)
            && !store.annotations(doc.id)?.is_empty()
        {
            report.skipped.push((image, format!("document {} already has boxes; not merged", doc.id)));
            continue;
        }
        let labels = page
            .boxes
            .iter()
            .map(|b| match landings.get(b.label.as_deref()?)? {
                Landing::Own(id) | Landing::Mapped(id, _) => Some(*id),
                Landing::Unlabelled | Landing::FormatUnlabelled => None,
            })
            .collect();
        ready.push(Ready { image, sha256: probe.sha256, sizes: probe.pages, page, labels });
        progress(i + 1, 0);
    }
    // Everything is valid: write, one edit per document.
    let total = ready.len();
    for (i, r) in ready.into_iter().enumerate() {
        let path = std::fs::canonicalize(&r.image).unwrap_or(r.image.clone()).to_string_lossy().into_owned();
        let pages: Vec<NewDocument> = r
            .sizes
            .iter()
            .enumerate()
            .map(|(page, &(width, height))| NewDocument {
                path: path.clone(),
                sha256: r.sha256.clone(),
                page: page as u32,
                width,
                height,
            })
            .collect();
        if store.is_postgres() {
            // the server workspace keeps the image itself; it must still be the file checked above
            let bytes = std::fs::read(&r.image)
                .map_err(|e| ImportError::Invalid { path: r.image.clone(), reason: format!("cannot read: {e}") })?;
            if imageio::sha256_hex(&bytes) != r.sha256 {
                return Err(ImportError::Invalid {
                    path: r.image.clone(),
                    reason: "the file changed while it was being imported; import again".into(),
                });
            }
            store.put_image(&r.sha256, &bytes)?;
        }
        // adds what is missing (nothing when the file is known; a concurrent import may also
        // have added it meanwhile), then takes page 0 whoever added it
        store.add_pages(&pages, now_ms)?;
        let row = store
            .documents_with_hash(&r.sha256)?
            .into_iter()
            .find(|d| d.page == 0)
            .ok_or_else(|| StoreError::Invalid(format!("{path}: could not be added")))?;
        let doc = row.id;
        let mut changes = Vec::with_capacity(r.page.boxes.len() + r.page.links.len());
        for (k, (b, label)) in r.page.boxes.iter().zip(&r.labels).enumerate() {
            changes.push(Change::Annotation {
                before: None,
                after: Some(Annotation {
                    // Negative ids are placeholders the links below refer to.
                    id: AnnId(-(k as i64) - 1),
                    quad: b.quad,
                    flags: b.flags,
                    ..Annotation::new_imported(doc, b.rect, *label, b.text.clone(), user, now_ms)
                }),
            });
        }
        for l in &r.page.links {
            changes.push(Change::Link {
                before: None,
                after: Some(Link {
                    id: LinkId(0),
                    doc,
                    from: AnnId(-(l.from as i64) - 1),
                    to: AnnId(-(l.to as i64) - 1),
                    kind: l.kind,
                }),
            });
        }
        // the dataset's tags join those the document has (the dataset's value wins)
        let mut tags = row.tags.clone();
        tags.extend(r.page.tags.clone());
        if tags != row.tags {
            changes.push(Change::Tags { doc, before: row.tags, after: tags });
        }
        let edit = NewEdit {
            ts_ms: now_ms,
            user,
            doc: Some(doc),
            action: "import_dataset".into(),
            kind: EditKind::Do,
            changes,
        };
        // the "no boxes yet" check and the write are one transaction: two imports running at
        // once cannot both write the same page's boxes
        if store.apply_guarded(edit, Guard::DocumentHasNoBoxes(doc))?.is_none() {
            report.skipped.push((r.image, format!("document {doc} already has boxes; not merged")));
            continue;
        }
        for name in r.page.boxes.iter().filter_map(|b| b.label.as_deref()) {
            match landings.get(name) {
                Some(Landing::Mapped(_, to)) => report.mapped.entry(name.to_string()).or_insert((to.clone(), 0)).1 += 1,
                Some(Landing::Unlabelled) => *report.unlabelled.entry(name.to_string()).or_default() += 1,
                Some(Landing::Own(_) | Landing::FormatUnlabelled) | None => {}
            }
        }
        report.boxes += r.page.boxes.len();
        report.links += r.page.links.len();
        report.documents.push(doc);
        progress(i + 1, total);
    }
    Ok(report)
}

/// Boxes must be finite and inside the image; a small overshoot (rounding in other tools) is
/// clamped, a box far outside is an error.
fn check_boxes(file: &str, page: &mut Page) -> Result<(), FormatError> {
    let (w, h) = (page.width as f32, page.height as f32);
    let slack = 2.0f32.max(0.01 * w.max(h));
    for (i, b) in page.boxes.iter_mut().enumerate() {
        let r = b.rect;
        if !r.is_finite() {
            return Err(FormatError::new(file, format!("{}: box {i} has a non-finite coordinate", page.image)));
        }
        if r.x0 < -slack || r.y0 < -slack || r.x1 > w + slack || r.y1 > h + slack {
            return Err(FormatError::new(
                file,
                format!(
                    "{}: box {i} ({}, {}, {}, {}) lies outside the {w}×{h} image",
                    page.image, r.x0, r.y0, r.x1, r.y1
                ),
            ));
        }
        b.rect = r.normalized().clamped(w, h);
        if let Some(q) = b.quad.as_mut() {
            for p in q.0.iter_mut() {
                p.x = p.x.clamp(0.0, w);
                p.y = p.y.clamp(0.0, h);
            }
        }
    }
    let n = page.boxes.len();
    if let Some(l) = page.links.iter().find(|l| l.from >= n || l.to >= n) {
        return Err(FormatError::new(
            file,
            format!("{}: a link refers to box {} of {n}", page.image, l.from.max(l.to)),
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A COCO dataset in `dir` with one 120×80 page: two `Total` boxes, one `Datum`, one
    /// `Stamp` and one `total_amount` (a name the schema has).
    pub(crate) fn foreign_coco(dir: &Path) -> PathBuf {
        let root = dir.join("foreign-coco");
        std::fs::create_dir_all(root.join("images")).unwrap();
        image::RgbImage::from_fn(120, 80, |x, y| image::Rgb([x as u8, y as u8, 3]))
            .save(root.join("images/p.png"))
            .unwrap();
        let ann = |id: u32, cat: u32, x: f32| {
            let bbox = [x, 10.0, 10.0, 10.0];
            serde_json::json!({"id": id, "image_id": 1, "category_id": cat, "bbox": bbox})
        };
        let coco = serde_json::json!({
            "categories": [{"id": 1, "name": "Total"}, {"id": 2, "name": "Datum"}, {"id": 3, "name": "Stamp"},
                           {"id": 4, "name": "total_amount"}],
            "images": [{"id": 1, "width": 120, "height": 80, "file_name": "p.png"}],
            "annotations": [ann(1, 1, 0.0), ann(2, 1, 20.0), ann(3, 2, 40.0), ann(4, 3, 60.0), ann(5, 4, 80.0)],
        });
        std::fs::write(root.join("annotations.json"), coco.to_string()).unwrap();
        root
    }

    fn run(store: &mut Store, path: &Path, map: &LabelMap) -> Result<DatasetImportReport, ImportError> {
        import_dataset(store, Format::Coco, path, &[], map, None, 1, &mut |_, _| {}, &AtomicBool::new(false))
    }

    fn map(pairs: &[&str]) -> LabelMap {
        LabelMap::from_pairs(pairs.iter().map(|p| p.parse::<LabelMapping>().unwrap())).unwrap()
    }

    /// The label names of the document's boxes, in box order.
    fn names(store: &Store, doc: DocId) -> Vec<Option<String>> {
        let mut anns = store.annotations(doc).unwrap();
        anns.sort_by(|a, b| a.rect.x0.total_cmp(&b.rect.x0));
        anns.iter().map(|a| a.label.map(|l| store.label(l).unwrap().name)).collect()
    }

    #[test]
    fn pairs_parse_from_the_command_line_form() {
        let p = |s: &str| s.parse::<LabelMapping>();
        assert_eq!(
            p("Total=total_amount"),
            Ok(LabelMapping { foreign: "Total".into(), target: Some("total_amount".into()) })
        );
        assert_eq!(p("Stamp="), Ok(LabelMapping { foreign: "Stamp".into(), target: None }));
        assert_eq!(p(" a=b =c"), Ok(LabelMapping { foreign: "a=b".into(), target: Some("c".into()) }));
        assert!(p("Total").unwrap_err().starts_with("no '=' in it; expected FOREIGN=LABEL"));
        assert!(p("=total_amount").unwrap_err().starts_with("no name before '='"));
        let twice = ["a=b", "a=c"].iter().map(|s| s.parse::<LabelMapping>().unwrap());
        let err = LabelMap::from_pairs(twice).unwrap_err().to_string();
        assert_eq!(err, "--map a is given twice, as a=b and a=c");
        assert!(LabelMap::from_pairs(["a=b", "a=b"].iter().map(|s| s.parse().unwrap())).is_ok());
    }

    #[test]
    fn an_unmapped_name_is_listed_with_its_count_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let data = foreign_coco(dir.path());
        let mut store = Store::open_in_memory().unwrap();
        let foreign = foreign_labels(&store, Format::Coco, &data, &[]).unwrap();
        assert_eq!(foreign, BTreeMap::from([("Datum".into(), 1), ("Stamp".into(), 1), ("Total".into(), 2)]));
        let err = run(&mut store, &data, &map(&["Stamp="])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "labels not in the schema: Datum (1), Total (2); map them with --map Total=total_amount (or --map \
             Total= to import those boxes unlabelled) — nothing was imported"
        );
        assert!(matches!(&err, ImportError::Unmapped { labels, .. } if labels.len() == 2));
        assert_eq!(store.document_count().unwrap(), 0);
        // without a close schema label the example says LABEL
        let err = run(&mut store, &data, &map(&["Total=total_amount", "Stamp="])).unwrap_err().to_string();
        assert!(err.contains("Datum (1); map them with --map Datum=LABEL (or --map Datum= "), "{err}");
        // a mapping the dataset has no use for is most likely a typo: said too
        let err = run(&mut store, &data, &map(&["Total=total_amount", "Stamp=", "Dat=invoice_date"])).unwrap_err();
        assert!(err.to_string().ends_with("unlabelled) (the dataset has no label named Dat) — nothing was imported"));
    }

    #[test]
    fn mapped_names_get_their_labels_and_the_summary_counts_them() {
        let dir = tempfile::tempdir().unwrap();
        let data = foreign_coco(dir.path());
        let mut store = Store::open_in_memory().unwrap();
        // targets and keys match ignoring case too
        let report =
            run(&mut store, &data, &map(&["total=Total_Amount", "Datum=invoice_date", "Stamp=", "Gone=iban"])).unwrap();
        let t = || Some("total_amount".to_string());
        assert_eq!(names(&store, report.documents[0]), vec![t(), t(), Some("invoice_date".into()), None, t()]);
        assert_eq!(report.mapped_boxes(), 4);
        assert_eq!(report.unused_mappings, vec!["Gone".to_string()]);
        assert_eq!(
            report.summary(),
            "1 document(s), 5 box(es), 0 link(s) imported; 3 box(es) mapped: Datum as invoice_date (1), Total as \
             total_amount (2); 1 box(es) imported unlabelled as mapped: Stamp (1)"
        );
    }

    #[test]
    fn a_target_must_be_a_label_that_can_be_given() {
        let dir = tempfile::tempdir().unwrap();
        let data = foreign_coco(dir.path());
        let mut store = Store::open_in_memory().unwrap();
        let err = run(&mut store, &data, &map(&["Total=totl_amount"])).unwrap_err().to_string();
        assert_eq!(
            err,
            "--map Total=totl_amount: the schema has no label named 'totl_amount'; did you mean total_amount?"
        );
        let err = run(&mut store, &data, &map(&["Total=zzz"])).unwrap_err().to_string();
        assert!(err.ends_with("no label named 'zzz'; `facture labels WORKSPACE list` shows the labels"), "{err}");
        let mut retire = |name: &str| {
            let l = store.labels().unwrap().into_iter().find(|l| l.name == name).unwrap();
            let retired = Label { retired: true, ..l.clone() };
            let edit = NewEdit {
                ts_ms: 0,
                user: None,
                doc: None,
                action: "label_retire".into(),
                kind: EditKind::Do,
                changes: vec![Change::Label { before: Some(l), after: Some(retired) }],
            };
            store.apply(edit).unwrap();
        };
        retire("invoice_date");
        retire("total_amount");
        let err = run(&mut store, &data, &map(&["Total=Invoice_Date"])).unwrap_err().to_string();
        assert_eq!(err, "--map Total=Invoice_Date: invoice_date is retired; reinstate it or map elsewhere");
        // a dataset name that only a retired label has needs a mapping too
        let err = run(&mut store, &data, &map(&["Total=", "Datum=", "Stamp="])).unwrap_err().to_string();
        assert!(err.starts_with("labels not in the schema: total_amount (1; retired here); map them with"), "{err}");
        assert_eq!(store.document_count().unwrap(), 0);
    }
}
