//! COCO detection JSON (one `annotations.json`, images under `images/`), with each box's text in
//! `attributes.text` as CVAT writes it, its flags as boolean attributes beside it (CVAT's
//! checkbox attributes: `"difficult": true`; only the flags set are written), its quad as a
//! 4-point polygon `segmentation`, and the document's tags in an `attributes` object on the
//! image entry (left out when there are none; COCO readers ignore it).
//!
//! Round trip keeps: boxes, quads, labels, text, flags, tags. Loses: links (COCO has none) and unlabelled
//! boxes (a COCO annotation needs a category; the exporter skips and counts them). Coordinates
//! go through `[x, y, w, h]`, so they come back within 1e-3 px, not bit for bit.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::model::{FormatError, OutFile, Page, PageBox, Skipped, file_name, finite, parse_json};
use crate::domain::{BoxFlags, Point, Rect};

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
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    attributes: &'a BTreeMap<String, String>,
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
    /// The flags set, each `true`, by name.
    #[serde(flatten)]
    flags: BTreeMap<&'static str, bool>,
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
        images.push(OutImage {
            id: i + 1,
            file_name: file_name(&page.image),
            width: page.width,
            height: page.height,
            attributes: &page.tags,
        });
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
                attributes: OutAttrs { text: &b.text, flags: b.flags.names().into_iter().map(|n| (n, true)).collect() },
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
    #[serde(default)]
    attributes: BTreeMap<String, serde_json::Value>,
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
        // tags are strings; another tool's numbers and booleans are not ours to guess at
        let tags = img.attributes.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect();
        pages.push(Page {
            image: img.file_name.clone(),
            width: img.width,
            height: img.height,
            tags,
            ..Page::default()
        });
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
        // CVAT writes checkbox attributes as booleans; "true" as text is read too
        let flags = BoxFlags::ALL.iter().fold(BoxFlags::default(), |f, (flag, name)| {
            let on = ann.attributes.get(*name).is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"));
            f.with(*flag, on)
        });
        let mut b = PageBox { rect, quad: None, label, text, flags };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn page(flags: BoxFlags, tags: &[(&str, &str)]) -> Page {
        let rect = Rect::new(1.0, 2.0, 30.0, 12.0);
        let b = PageBox { rect, quad: None, label: Some("total".into()), text: "9.00".into(), flags };
        let tags = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Page { image: "images/a.png".into(), width: 40, height: 20, boxes: vec![b], tags, ..Page::default() }
    }

    fn json(files: &[OutFile]) -> serde_json::Value {
        serde_json::from_slice(&files[0].bytes).unwrap()
    }

    #[test]
    fn flags_are_boolean_attributes_and_tags_the_image_s_attributes() {
        let flags = BoxFlags::DIFFICULT.with(BoxFlags::ILLEGIBLE, true);
        let (files, _) = write(&[page(flags, &[("language", "de")])], &["total".into()]);
        let v = json(&files);
        assert_eq!(
            v["annotations"][0]["attributes"],
            serde_json::json!({"text": "9.00", "difficult": true, "illegible": true})
        );
        assert_eq!(v["images"][0]["attributes"], serde_json::json!({"language": "de"}));
        let back = read(FILE, &files[0].bytes).unwrap();
        assert_eq!(back[0].boxes[0].flags, flags);
        assert_eq!(back[0].tags, page(flags, &[("language", "de")]).tags);
    }

    #[test]
    fn nothing_is_added_without_flags_or_tags() {
        let (files, _) = write(&[page(BoxFlags::default(), &[])], &["total".into()]);
        let text = String::from_utf8(files[0].bytes.clone()).unwrap();
        assert!(text.contains(r#"{"id":1,"file_name":"a.png","width":40,"height":20}"#), "{text}");
        assert!(text.contains(r#""attributes":{"text":"9.00"}}"#), "{text}");
    }

    #[test]
    fn cvat_style_false_attributes_and_other_tools_attributes_are_no_flags() {
        let coco = r#"{"images":[{"id":1,"file_name":"a.png","width":40,"height":20,"attributes":{"n":3}}],
            "annotations":[{"image_id":1,"category_id":1,"bbox":[1,2,3,4],
              "attributes":{"occluded":false,"difficult":false,"handwritten":"true"}}],
            "categories":[{"id":1,"name":"total"}]}"#;
        let pages = read(FILE, coco.as_bytes()).unwrap();
        assert_eq!(pages[0].boxes[0].flags, BoxFlags::HANDWRITTEN);
        assert!(pages[0].tags.is_empty(), "a number is not a tag value");
    }
}
