//! Facture's ground-truth JSON, the one format for all ground truth in the project:
//! `{"image","width","height","boxes":[{"x0","y0","x1","y1","text","label"}]}`
//! (the format of ../shared/data/sroie-dev and of `facture synth`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::Rect;

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
}
