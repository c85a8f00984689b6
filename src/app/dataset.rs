//! Dataset import: read another tool's files, resolve and check every image, map labels onto
//! the schema, and only when everything is valid write one edit per document. A malformed file
//! is reported with its position and nothing is imported.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::app::confine::{ImageRoots, dataset_root};
use crate::domain::{AnnId, Annotation, Change, DocId, EditKind, LabelId, Link, LinkId, UserId};
use crate::formats::gt::{GroundTruth, gt_files_in};
use crate::formats::model::{Format, FormatError, Page, PageBox, file_name};
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
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DatasetImportReport {
    pub documents: Vec<DocId>,
    pub boxes: usize,
    pub links: usize,
    /// Label names the schema does not have, with how many boxes carried each (kept unlabelled).
    pub unknown_labels: BTreeMap<String, usize>,
    /// Pages not imported, with why (already annotated, listed twice).
    pub skipped: Vec<(PathBuf, String)>,
}

impl DatasetImportReport {
    pub fn summary(&self) -> String {
        let mut s =
            format!("{} document(s), {} box(es), {} link(s) imported", self.documents.len(), self.boxes, self.links);
        if !self.unknown_labels.is_empty() {
            let names: Vec<String> = self.unknown_labels.iter().map(|(k, v)| format!("{k} ({v})")).collect();
            s.push_str(&format!("; labels not in the schema, boxes kept unlabelled: {}", names.join(", ")));
        }
        if !self.skipped.is_empty() {
            s.push_str(&format!("; {} page(s) skipped", self.skipped.len()));
        }
        s
    }
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
                    let gt: GroundTruth = crate::formats::model::parse_json(&name, &bytes)?;
                    let boxes = gt
                        .boxes
                        .iter()
                        .map(|b| PageBox { rect: b.rect(), quad: None, label: b.label.clone(), text: b.text.clone() })
                        .collect();
                    Page { image: gt.image.clone(), width: gt.width, height: gt.height, boxes, links: vec![] }
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
                    Page { image: img.to_string_lossy().into_owned(), width: w, height: h, boxes, links: vec![] };
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

/// Imports a dataset in one of the formats into the workspace as active boxes (source
/// `import`). Every file is read and every image checked before the first write.
#[allow(clippy::too_many_arguments)]
pub fn import_dataset(
    store: &mut Store,
    format: Format,
    path: &Path,
    images: &[PathBuf],
    user: Option<UserId>,
    now_ms: i64,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<DatasetImportReport, ImportError> {
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
    let schema = store.labels()?;
    let exact: HashMap<&str, LabelId> = schema.iter().map(|l| (l.name.as_str(), l.id)).collect();
    let folded: HashMap<String, LabelId> = schema.iter().map(|l| (l.name.to_lowercase(), l.id)).collect();
    let mut report = DatasetImportReport::default();
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
            .map(|b| {
                let name = b.label.as_deref()?;
                let id = exact.get(name).copied().or_else(|| folded.get(&name.to_lowercase()).copied());
                if id.is_none() {
                    *report.unknown_labels.entry(name.to_string()).or_default() += 1;
                }
                id
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
        let doc = store
            .documents_with_hash(&r.sha256)?
            .into_iter()
            .find(|d| d.page == 0)
            .map(|d| d.id)
            .ok_or_else(|| StoreError::Invalid(format!("{path}: could not be added")))?;
        let mut changes = Vec::with_capacity(r.page.boxes.len() + r.page.links.len());
        for (k, (b, label)) in r.page.boxes.iter().zip(&r.labels).enumerate() {
            changes.push(Change::Annotation {
                before: None,
                after: Some(Annotation {
                    // Negative ids are placeholders the links below refer to.
                    id: AnnId(-(k as i64) - 1),
                    quad: b.quad,
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
