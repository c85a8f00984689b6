//! COCO detection JSON (one `annotations.json`, images under `images/`), with each box's text in
//! `attributes.text` as CVAT writes it, and its quad as a 4-point polygon `segmentation`.
//!
//! Round trip keeps: boxes, quads, labels, text. Loses: links (COCO has none) and unlabelled
//! boxes (a COCO annotation needs a category; the exporter skips and counts them). Coordinates
//! go through `[x, y, w, h]`, so they come back within 1e-3 px, not bit for bit.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::model::{FormatError, OutFile, Page, PageBox, Skipped, file_name, finite, parse_json};
use crate::domain::{Point, Rect};

pub const FILE: &str = "annotations.json";
pub const IMAGE_DIR: &str = "images";

#[derive(Serialize)]
struct Out<'a> {
    info: Info,
    licenses: [(); 0],
    images: Vec<OutImage<'a>>,
    annotations: Vec<OutAnn<'a>>,
    categories: Vec<OutCategory<'a>>,
}

#[derive(Serialize)]
struct Info {
    description: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct OutImage<'a> {
    id: usize,
    file_name: &'a str,
    width: u32,
    height: u32,
}

#[derive(Serialize)]
struct OutAnn<'a> {
    id: usize,
    image_id: usize,
    category_id: usize,
    bbox: [f64; 4],
    area: f64,
    iscrowd: u8,
    segmentation: [[f64; 8]; 1],
    attributes: OutAttrs<'a>,
}

#[derive(Serialize)]
struct OutAttrs<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct OutCategory<'a> {
    id: usize,
    name: &'a str,
    supercategory: &'static str,
}

/// Writes one COCO file. `classes` are the category names in id order (ids from 1).
pub fn write(pages: &[Page], classes: &[String]) -> (Vec<OutFile>, Skipped) {
    let class_id: HashMap<&str, usize> = classes.iter().enumerate().map(|(i, c)| (c.as_str(), i + 1)).collect();
    let mut skipped = Skipped::default();
    let mut images = Vec::with_capacity(pages.len());
    let mut annotations = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        images.push(OutImage { id: i + 1, file_name: file_name(&page.image), width: page.width, height: page.height });
        for b in &page.boxes {
            let Some(category_id) = b.label.as_deref().and_then(|l| class_id.get(l)) else {
                skipped.unlabelled_boxes += 1;
                continue;
            };
            let r = b.rect;
            let (w, h) = (f64::from(r.x1) - f64::from(r.x0), f64::from(r.y1) - f64::from(r.y0));
            let q = b.corners().0;
            let mut seg = [0.0; 8];
            for (k, p) in q.iter().enumerate() {
                seg[2 * k] = f64::from(p.x);
                seg[2 * k + 1] = f64::from(p.y);
            }
            annotations.push(OutAnn {
                id: annotations.len() + 1,
                image_id: i + 1,
                category_id: *category_id,
                bbox: [f64::from(r.x0), f64::from(r.y0), w, h],
                area: w * h,
                iscrowd: 0,
                segmentation: [seg],
                attributes: OutAttrs { text: &b.text },
            });
        }
    }
    let categories =
        classes.iter().enumerate().map(|(i, name)| OutCategory { id: i + 1, name, supercategory: "field" }).collect();
    let out = Out {
        info: Info { description: "Exported by Facture", version: "1.0" },
        licenses: [],
        images,
        annotations,
        categories,
    };
    // Compact, as COCO files usually are: a pretty 10,000-page file is four times the size.
    let mut bytes = serde_json::to_vec(&out).unwrap_or_default();
    bytes.push(b'\n');
    (vec![OutFile::new(FILE, bytes)], skipped)
}

#[derive(Deserialize)]
struct In {
    images: Vec<InImage>,
    #[serde(default)]
    annotations: Vec<InAnn>,
    categories: Vec<InCategory>,
}

#[derive(Deserialize)]
struct InImage {
    id: i64,
    file_name: String,
    width: u32,
    height: u32,
}

#[derive(Deserialize)]
struct InAnn {
    image_id: i64,
    category_id: Option<i64>,
    bbox: [f64; 4],
    #[serde(default)]
    segmentation: serde_json::Value,
    #[serde(default)]
    attributes: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct InCategory {
    id: i64,
    name: String,
}

/// Reads a COCO file; `Page::image` is the `file_name` as written.
pub fn read(file: &str, bytes: &[u8]) -> Result<Vec<Page>, FormatError> {
    let coco: In = parse_json(file, bytes)?;
    let categories: HashMap<i64, &str> = coco.categories.iter().map(|c| (c.id, c.name.as_str())).collect();
    let mut index: HashMap<i64, usize> = HashMap::new();
    let mut pages = Vec::with_capacity(coco.images.len());
    for img in &coco.images {
        if index.insert(img.id, pages.len()).is_some() {
            return Err(FormatError::new(file, format!("image id {} appears twice", img.id)));
        }
        pages.push(Page { image: img.file_name.clone(), width: img.width, height: img.height, ..Page::default() });
    }
    for (n, ann) in coco.annotations.iter().enumerate() {
        let at = |reason: String| FormatError::new(file, format!("annotation {n}: {reason}"));
        let page = index.get(&ann.image_id).ok_or_else(|| at(format!("unknown image_id {}", ann.image_id)))?;
        let label = match ann.category_id {
            Some(c) => {
                Some(categories.get(&c).map(|s| s.to_string()).ok_or_else(|| at(format!("unknown category_id {c}")))?)
            }
            None => None,
        };
        let [x, y, w, h] = ann.bbox;
        let what = format!("annotation {n} bbox");
        let (x, y) = (finite(file, &what, x)?, finite(file, &what, y)?);
        let (w, h) = (finite(file, &what, w)?, finite(file, &what, h)?);
        if w < 0.0 || h < 0.0 {
            return Err(at("bbox has a negative width or height".into()));
        }
        // Recompute in f64 as the writer did, so x0 + w lands back on x1.
        let rect = Rect::new(x, y, (f64::from(x) + f64::from(w)) as f32, (f64::from(y) + f64::from(h)) as f32);
        let text = ann
            .attributes
            .get("text")
            .or_else(|| ann.attributes.get("transcription"))
            .and_then(|v| v.as_str().map(str::to_string))
            .or_else(|| ann.text.clone())
            .unwrap_or_default();
        let mut b = PageBox { rect, quad: None, label, text };
        if let Some(points) = quad_of(&ann.segmentation) {
            let q = PageBox::from_points(points, None, String::new());
            if q.quad.is_some() {
                b.quad = q.quad;
            }
        }
        pages[*page].boxes.push(b);
    }
    Ok(pages)
}

/// A single 4-point polygon segmentation, if that is what the annotation has.
fn quad_of(seg: &serde_json::Value) -> Option<[Point; 4]> {
    let polys = seg.as_array()?;
    let [poly] = polys.as_slice() else { return None };
    let nums: Vec<f64> = poly.as_array()?.iter().map(|v| v.as_f64()).collect::<Option<_>>()?;
    if nums.len() != 8 || nums.iter().any(|v| !v.is_finite()) {
        return None;
    }
    Some([0, 1, 2, 3].map(|k| Point::new(nums[2 * k] as f32, nums[2 * k + 1] as f32)))
}
