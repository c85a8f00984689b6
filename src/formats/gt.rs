//! Facture's ground-truth JSON, the one format for all ground truth in the project:
//! `{"image","width","height","boxes":[{"x0","y0","x1","y1","text","label"}]}`
//! (the format of ../shared/data/sroie-dev and of `facture synth`). As a dataset format
//! (`facture-json`) a file also carries the document's tags (`"tags": {"language": "de"}`) and
//! each box's flags (`"flags": ["difficult"]`), both left out when empty.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::model::{FormatError, OutFile, Page, PageBox, file_stem, parse_json};
use crate::domain::{BoxFlags, Rect};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GtBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl GtBox {
    pub fn rect(&self) -> Rect {
        Rect::new(self.x0, self.y0, self.x1, self.y1)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// Image file name, relative to the JSON file's folder (an image, or a PDF).
    pub image: String,
    /// Which page of a multi-page file (a PDF, a multi-page TIFF), counted from 1; absent for
    /// a single-page image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// The page's size in pixels (a PDF page's at the resolution it was rendered at).
    pub width: u32,
    pub height: u32,
    pub boxes: Vec<GtBox>,
}

/// A box of a `facture-json` dataset file: the ground-truth box and the names of its flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DatasetBox {
    #[serde(flatten)]
    gt: GtBox,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    flags: Vec<String>,
}

/// A `facture-json` dataset file: [`GroundTruth`] with the document's tags and the boxes'
/// flags. Without either it is written byte for byte as [`GroundTruth::to_json_pretty`] writes
/// the same page, which older dataset versions were made with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DatasetPage {
    image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page: Option<u32>,
    width: u32,
    height: u32,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    tags: BTreeMap<String, String>,
    boxes: Vec<DatasetBox>,
}

/// Writes a page as a `facture-json` dataset file, `{image stem}.json` (pretty, final newline).
pub fn write_page(p: &Page) -> OutFile {
    let boxes = p
        .boxes
        .iter()
        .map(|b| DatasetBox {
            gt: GtBox {
                x0: b.rect.x0,
                y0: b.rect.y0,
                x1: b.rect.x1,
                y1: b.rect.y1,
                text: b.text.clone(),
                label: b.label.clone(),
            },
            flags: b.flags.names().into_iter().map(String::from).collect(),
        })
        .collect();
    let page = DatasetPage {
        image: p.image.clone(),
        page: None,
        width: p.width,
        height: p.height,
        tags: p.tags.clone(),
        boxes,
    };
    // Serialising plain structs of strings and numbers cannot fail.
    let mut bytes = serde_json::to_vec_pretty(&page).unwrap_or_default();
    bytes.push(b'\n');
    OutFile::new(format!("{}.json", file_stem(&p.image)), bytes)
}

/// Reads a `facture-json` dataset file (plain ground truth too); `Page::image` as written.
/// A flag name Facture does not know is an error: the file is our own.
pub fn read_page(file: &str, bytes: &[u8]) -> Result<Page, FormatError> {
    let gt: DatasetPage = parse_json(file, bytes)?;
    let mut boxes = Vec::with_capacity(gt.boxes.len());
    for (i, b) in gt.boxes.into_iter().enumerate() {
        let mut flags = BoxFlags::default();
        for name in &b.flags {
            let flag = BoxFlags::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = BoxFlags::ALL.iter().map(|(_, n)| *n).collect();
                FormatError::new(file, format!("box {i}: unknown flag '{name}' (expected {})", known.join(", ")))
            })?;
            flags = flags.with(flag, true);
        }
        boxes.push(PageBox { rect: b.gt.rect(), quad: None, label: b.gt.label, text: b.gt.text, flags });
    }
    Ok(Page { image: gt.image, width: gt.width, height: gt.height, boxes, links: vec![], tags: gt.tags })
}

#[derive(Debug, thiserror::Error)]
pub enum GtError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not valid ground-truth JSON: {source}")]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("{path}: box {index} {reason}")]
    BadBox { path: PathBuf, index: usize, reason: String },
}

impl GroundTruth {
    /// Reads and checks one ground-truth file (boxes finite, ordered and inside the image).
    pub fn load(path: &Path) -> Result<Self, GtError> {
        let bytes = std::fs::read(path).map_err(|source| GtError::Io { path: path.into(), source })?;
        let gt: GroundTruth =
            serde_json::from_slice(&bytes).map_err(|source| GtError::Parse { path: path.into(), source })?;
        gt.validate(path)?;
        Ok(gt)
    }

    fn validate(&self, path: &Path) -> Result<(), GtError> {
        let (w, h) = (self.width as f32, self.height as f32);
        for (index, b) in self.boxes.iter().enumerate() {
            let bad = |reason: &str| GtError::BadBox { path: path.into(), index, reason: reason.into() };
            if !b.rect().is_finite() {
                return Err(bad("has a non-finite coordinate"));
            }
            if b.x0 > b.x1 || b.y0 > b.y1 {
                return Err(bad("has x0 > x1 or y0 > y1"));
            }
            if b.x0 < 0.0 || b.y0 < 0.0 || b.x1 > w + 1.0 || b.y1 > h + 1.0 {
                return Err(bad("lies outside the image"));
            }
        }
        Ok(())
    }

    pub fn to_json_pretty(&self) -> String {
        // Serialising plain structs of strings and numbers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The image path next to the JSON file.
    /// The page, counted from 0 as documents count them.
    pub fn page_index(&self) -> u32 {
        self.page.unwrap_or(1).saturating_sub(1)
    }

    pub fn image_path(&self, json_path: &Path) -> PathBuf {
        json_path.parent().unwrap_or(Path::new(".")).join(&self.image)
    }
}

/// All `*.json` files in `dir` (not recursive), sorted by name.
pub fn gt_files_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")))
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sroie_style_json_with_extra_fields_and_optional_label() {
        let json = r#"{"image":"a.jpg","width":100,"height":50,"boxes":[
            {"x0":1,"y0":2,"x1":30,"y1":10,"text":"TOTAL","label":"total"},
            {"x0":5,"y0":20,"x1":60,"y1":30,"text":"THANK YOU"}],
            "fields":{"total":"9.00"},"source":{}}"#;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        std::fs::write(&p, json).unwrap();
        let gt = GroundTruth::load(&p).unwrap();
        assert_eq!(gt.boxes.len(), 2);
        assert_eq!(gt.boxes[0].label.as_deref(), Some("total"));
        assert_eq!(gt.boxes[1].label, None);
        assert_eq!(gt.image_path(&p), dir.path().join("a.jpg"));
    }

    #[test]
    fn rejects_boxes_outside_the_image_and_says_which() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.json");
        std::fs::write(
            &p,
            r#"{"image":"b.png","width":10,"height":10,"boxes":[{"x0":0,"y0":0,"x1":50,"y1":5,"text":"x"}]}"#,
        )
        .unwrap();
        let err = GroundTruth::load(&p).unwrap_err().to_string();
        assert!(err.contains("box 0") && err.contains("outside"), "{err}");
        std::fs::write(&p, "{not json").unwrap();
        assert!(matches!(GroundTruth::load(&p), Err(GtError::Parse { .. })));
    }

    fn gt_page() -> GroundTruth {
        let b = |x0, text: &str, label: Option<&str>| GtBox {
            x0,
            y0: 2.0,
            x1: x0 + 20.5,
            y1: 10.0,
            text: text.into(),
            label: label.map(String::from),
        };
        GroundTruth {
            image: "a.png".into(),
            page: None,
            width: 100,
            height: 50,
            boxes: vec![b(1.0, "TOTAL", None), b(30.0, "9.00", Some("total_amount"))],
        }
    }

    fn as_page(gt: &GroundTruth) -> Page {
        let boxes = gt
            .boxes
            .iter()
            .map(|b| PageBox {
                rect: b.rect(),
                quad: None,
                label: b.label.clone(),
                text: b.text.clone(),
                flags: BoxFlags::default(),
            })
            .collect();
        Page { image: gt.image.clone(), width: gt.width, height: gt.height, boxes, ..Page::default() }
    }

    #[test]
    fn a_page_without_tags_or_flags_is_written_as_plain_ground_truth() {
        let gt = gt_page();
        let out = write_page(&as_page(&gt));
        assert_eq!(out.path, "a.json");
        assert_eq!(String::from_utf8(out.bytes).unwrap(), gt.to_json_pretty() + "\n");
    }

    #[test]
    fn tags_and_flags_are_written_and_read_back() {
        let mut page = as_page(&gt_page());
        page.tags.insert("language".into(), "de".into());
        page.boxes[1].flags = BoxFlags::DIFFICULT.with(BoxFlags::HANDWRITTEN, true);
        let out = write_page(&page);
        let text = String::from_utf8(out.bytes.clone()).unwrap();
        assert!(
            text.contains("  \"height\": 50,\n  \"tags\": {\n    \"language\": \"de\"\n  },\n  \"boxes\""),
            "{text}"
        );
        assert!(
            text.contains("\"label\": \"total_amount\",\n      \"flags\": [\n        \"difficult\",\n        \"handwritten\"\n      ]"),
            "{text}"
        );
        assert_eq!(read_page("a.json", &out.bytes).unwrap(), page);
        // plain ground truth reads as a page without either
        assert_eq!(read_page("a.json", gt_page().to_json_pretty().as_bytes()).unwrap(), as_page(&gt_page()));
    }

    #[test]
    fn an_unknown_flag_is_refused_with_the_box_and_the_known_ones() {
        let json = r#"{"image":"a.png","width":10,"height":10,"boxes":[{"x0":0,"y0":0,"x1":5,"y1":5,"text":"x","flags":["blurry"]}]}"#;
        let e = read_page("a.json", json.as_bytes()).unwrap_err().to_string();
        assert_eq!(e, "a.json: box 0: unknown flag 'blurry' (expected difficult, illegible, handwritten)");
    }
}
