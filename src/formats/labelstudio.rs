//! Label Studio: the JSON export (tasks with `annotations[].result[]`, OCR template: a
//! `rectanglelabels`/`polygonlabels` region plus a `textarea` with the same `id`, `relation`s
//! between regions) and JSON_MIN (one flat object per task, regions under their control's
//! name). All geometry is in percent of the image; rectangles may carry a `rotation` in degrees
//! around their top-left corner.
//!
//! Round trip (JSON) keeps: boxes, quads (as polygons), labels, text, links and their kind
//! (relation label `row` or `key_value`). Coordinates come back within 1e-3 px.
//! JSON_MIN is import only and has no relations.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::model::{FormatError, OutFile, Page, PageBox, PageLink, parse_json, to_json_pretty};
use crate::domain::{LinkKind, Point, Quad, Rect};

pub const FILE: &str = "labelstudio.json";
pub const IMAGE_DIR: &str = "images";

#[derive(Serialize)]
struct Task {
    id: usize,
    data: TaskData,
    annotations: [TaskAnnotation; 1],
}

#[derive(Serialize)]
struct TaskData {
    image: String,
}

#[derive(Serialize)]
struct TaskAnnotation {
    id: usize,
    result: Vec<Value>,
}

fn pct(v: f32, of: u32) -> f64 {
    f64::from(v) * 100.0 / f64::from(of.max(1))
}

pub fn write(pages: &[Page]) -> Vec<OutFile> {
    let tasks: Vec<Task> = pages
        .iter()
        .enumerate()
        .map(|(t, page)| {
            let (w, h) = (page.width, page.height);
            let mut result = Vec::new();
            for (i, b) in page.boxes.iter().enumerate() {
                let id = format!("b{i}");
                let labels: Vec<&str> = b.label.iter().map(String::as_str).collect();
                let mut value = match b.quad {
                    Some(q) => json!({ "points": q.0.map(|p| [pct(p.x, w), pct(p.y, h)]), "closed": true }),
                    None => json!({
                        "x": pct(b.rect.x0, w),
                        "y": pct(b.rect.y0, h),
                        "width": pct(b.rect.x1, w) - pct(b.rect.x0, w),
                        "height": pct(b.rect.y1, h) - pct(b.rect.y0, h),
                        "rotation": 0,
                    }),
                };
                let (kind, key) =
                    if b.quad.is_some() { ("polygon", "polygonlabels") } else { ("rectangle", "rectanglelabels") };
                let mut region = value.clone();
                region[key] = json!(labels);
                let region_type = if labels.is_empty() { kind.to_string() } else { key.to_string() };
                result.push(json!({
                    "id": id, "type": region_type, "from_name": "label", "to_name": "image",
                    "original_width": w, "original_height": h, "image_rotation": 0, "value": region,
                }));
                value["text"] = json!([b.text]);
                result.push(json!({
                    "id": id, "type": "textarea", "from_name": "transcription", "to_name": "image",
                    "original_width": w, "original_height": h, "image_rotation": 0, "value": value,
                }));
            }
            for l in &page.links {
                result.push(json!({
                    "from_id": format!("b{}", l.from), "to_id": format!("b{}", l.to), "type": "relation",
                    "direction": "right", "labels": [l.kind.as_str()],
                }));
            }
            Task {
                id: t + 1,
                data: TaskData { image: page.image.clone() },
                annotations: [TaskAnnotation { id: t + 1, result }],
            }
        })
        .collect();
    vec![OutFile::new(FILE, to_json_pretty(&tasks))]
}

/// A region being assembled from the results that share its id.
#[derive(Default)]
struct Region {
    quad: Option<[Point; 4]>,
    label: Option<String>,
    text: Option<String>,
}

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64).filter(|x| x.is_finite())
}

/// The region's corners in pixels from a `value` object, if it has geometry.
fn geometry(value: &Value, w: f64, h: f64) -> Result<Option<[Point; 4]>, String> {
    let px = |x: f64, y: f64| Point::new((x * w / 100.0) as f32, (y * h / 100.0) as f32);
    if let Some(points) = value.get("points").and_then(Value::as_array) {
        let pts: Vec<Point> = points
            .iter()
            .map(|p| Some(px(p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
            .collect::<Option<_>>()
            .ok_or("a polygon point is not [x, y]")?;
        if pts.iter().any(|p| !p.x.is_finite() || !p.y.is_finite()) {
            return Err("a polygon point is not finite".into());
        }
        return Ok(Some(match <[Point; 4]>::try_from(pts.as_slice()) {
            Ok(four) => four,
            Err(_) if pts.len() >= 2 => {
                let r = pts.iter().fold(Rect::new(f32::MAX, f32::MAX, f32::MIN, f32::MIN), |r, p| {
                    Rect::new(r.x0.min(p.x), r.y0.min(p.y), r.x1.max(p.x), r.y1.max(p.y))
                });
                Quad::from_rect(&r).0
            }
            Err(_) => return Err("a polygon needs at least 2 points".into()),
        }));
    }
    let (Some(x), Some(y), Some(bw), Some(bh)) =
        (num(value, "x"), num(value, "y"), num(value, "width"), num(value, "height"))
    else {
        return Ok(None);
    };
    if bw < 0.0 || bh < 0.0 {
        return Err("negative width or height".into());
    }
    let rot = num(value, "rotation").unwrap_or(0.0);
    if rot == 0.0 {
        let (x0, y0) = (x * w / 100.0, y * h / 100.0);
        let (x1, y1) = ((x + bw) * w / 100.0, (y + bh) * h / 100.0);
        return Ok(Some(Quad::from_rect(&Rect::new(x0 as f32, y0 as f32, x1 as f32, y1 as f32)).0));
    }
    // Rotation is clockwise around the top-left corner, in pixel space.
    let (x0, y0, pw, ph) = (x * w / 100.0, y * h / 100.0, bw * w / 100.0, bh * h / 100.0);
    let (s, c) = rot.to_radians().sin_cos();
    let corner = |dx: f64, dy: f64| Point::new((x0 + dx * c - dy * s) as f32, (y0 + dx * s + dy * c) as f32);
    Ok(Some([corner(0.0, 0.0), corner(pw, 0.0), corner(pw, ph), corner(0.0, ph)]))
}

fn first_label(value: &Value) -> Option<String> {
    for key in ["rectanglelabels", "polygonlabels", "labels", "choices"] {
        if let Some(l) = value.get(key).and_then(Value::as_array).and_then(|a| a.first()).and_then(Value::as_str) {
            return Some(l.to_string());
        }
    }
    None
}

fn text_of(value: &Value) -> Option<String> {
    match value.get("text")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => Some(a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("\n")),
        _ => None,
    }
}

fn image_of(data: &Map<String, Value>) -> Option<String> {
    ["image", "ocr", "img", "url"]
        .iter()
        .find_map(|k| data.get(*k).and_then(Value::as_str))
        .or_else(|| {
            data.values()
                .filter_map(Value::as_str)
                .find(|s| crate::imageio::has_image_extension(std::path::Path::new(s)))
        })
        .map(str::to_string)
}

/// Reads either Label Studio export; which one is decided by the shape of the first task.
/// `Page::image` is the task's image reference as written (often `/data/upload/…`).
pub fn read(file: &str, bytes: &[u8]) -> Result<Vec<Page>, FormatError> {
    let tasks: Vec<Map<String, Value>> = parse_json(file, bytes)?;
    tasks
        .iter()
        .enumerate()
        .map(|(t, task)| {
            let at = |reason: String| FormatError::new(file, format!("task {t}: {reason}"));
            if task.contains_key("annotations") || task.contains_key("data") {
                read_full(task).map_err(at)
            } else {
                read_min(task).map_err(at)
            }
        })
        .collect()
}

fn read_full(task: &Map<String, Value>) -> Result<Page, String> {
    let data = task.get("data").and_then(Value::as_object).ok_or("no 'data' object")?;
    let image = image_of(data).ok_or("'data' names no image")?;
    let anns = task.get("annotations").and_then(Value::as_array).ok_or("no 'annotations' list")?;
    // Use the latest annotation that was not cancelled (Label Studio keeps every annotator's).
    let ann = anns.iter().rev().find(|a| a.get("was_cancelled").and_then(Value::as_bool) != Some(true));
    let results = match ann {
        Some(a) => a.get("result").and_then(Value::as_array).ok_or("an annotation has no 'result' list")?.as_slice(),
        None => &[],
    };
    let mut page = Page { image, ..Page::default() };
    let mut order: Vec<String> = Vec::new();
    let mut regions: HashMap<String, Region> = HashMap::new();
    let mut relations = Vec::new();
    for (i, r) in results.iter().enumerate() {
        let kind = r.get("type").and_then(Value::as_str).unwrap_or("");
        if kind == "relation" {
            let from = r.get("from_id").and_then(Value::as_str).ok_or(format!("relation {i} has no from_id"))?;
            let to = r.get("to_id").and_then(Value::as_str).ok_or(format!("relation {i} has no to_id"))?;
            let rel_kind = r
                .get("labels")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .and_then(LinkKind::parse)
                .unwrap_or(LinkKind::KeyValue);
            relations.push((from.to_string(), to.to_string(), rel_kind));
            continue;
        }
        let value = r.get("value").ok_or(format!("result {i} has no 'value'"))?;
        let w = r.get("original_width").and_then(Value::as_u64).unwrap_or(0);
        let h = r.get("original_height").and_then(Value::as_u64).unwrap_or(0);
        if w > 0 && h > 0 {
            if page.width == 0 {
                (page.width, page.height) = (w as u32, h as u32);
            } else if (page.width, page.height) != (w as u32, h as u32) {
                return Err(format!("result {i} gives a different original size ({w}×{h})"));
            }
        }
        let id = r.get("id").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| format!("#{i}"));
        let geom =
            geometry(value, f64::from(page.width), f64::from(page.height)).map_err(|e| format!("result {i}: {e}"))?;
        if geom.is_some() && (page.width == 0 || page.height == 0) {
            return Err(format!("result {i} has no original_width/original_height"));
        }
        if !regions.contains_key(&id) {
            order.push(id.clone());
        }
        let region = regions.entry(id).or_default();
        if region.quad.is_none() {
            region.quad = geom;
        }
        if let Some(l) = first_label(value) {
            region.label = Some(l);
        }
        if let Some(t) = text_of(value) {
            region.text = Some(t);
        }
    }
    let mut index = HashMap::new();
    for id in &order {
        let Some(region) = regions.remove(id) else { continue };
        let Some(q) = region.quad else {
            continue; // a per-task choice or text without a region: nothing to box
        };
        index.insert(id.clone(), page.boxes.len());
        page.boxes.push(PageBox::from_points(q, region.label, region.text.unwrap_or_default()));
    }
    for (from, to, kind) in relations {
        let (Some(&from), Some(&to)) = (index.get(&from), index.get(&to)) else {
            return Err(format!("a relation names an unknown region ({from} → {to})"));
        };
        page.links.push(PageLink { from, to, kind });
    }
    Ok(page)
}

fn read_min(task: &Map<String, Value>) -> Result<Page, String> {
    let image = image_of(task).ok_or("names no image")?;
    let mut page = Page { image, ..Page::default() };
    // Regions of all controls, merged by identical geometry (a rectangle and its textarea).
    let mut regions: Vec<(Value, Region)> = Vec::new();
    let mut loose_texts: Vec<String> = Vec::new();
    let mut keys: Vec<&String> = task.keys().collect();
    keys.sort();
    for key in keys {
        let Some(items) = task.get(key).and_then(Value::as_array) else { continue };
        for item in items {
            match item {
                Value::Object(o) => {
                    let w = o.get("original_width").and_then(Value::as_u64).unwrap_or(0);
                    let h = o.get("original_height").and_then(Value::as_u64).unwrap_or(0);
                    if w > 0 && h > 0 && page.width == 0 {
                        (page.width, page.height) = (w as u32, h as u32);
                    }
                    let (pw, ph) = (f64::from(page.width), f64::from(page.height));
                    let Some(q) = geometry(item, pw, ph).map_err(|e| format!("'{key}': {e}"))? else { continue };
                    if page.width == 0 || page.height == 0 {
                        return Err(format!("a region under '{key}' has no original_width/original_height"));
                    }
                    let mut shape = item.clone();
                    if let Some(m) = shape.as_object_mut() {
                        m.retain(|k, _| ["x", "y", "width", "height", "rotation", "points"].contains(&k.as_str()));
                    }
                    let pos = match regions.iter().position(|(s, _)| *s == shape) {
                        Some(p) => p,
                        None => {
                            regions.push((shape, Region { quad: Some(q), ..Region::default() }));
                            regions.len() - 1
                        }
                    };
                    let region = &mut regions[pos].1;
                    if let Some(l) = first_label(item) {
                        region.label = Some(l);
                    }
                    if let Some(t) = text_of(item) {
                        region.text = Some(t);
                    }
                }
                Value::String(s) if key == "transcription" || key == "text" => loose_texts.push(s.clone()),
                _ => {}
            }
        }
    }
    // A plain list of strings as long as the region list is the per-region transcription.
    let loose = loose_texts.len() == regions.len();
    for (i, (_, region)) in regions.into_iter().enumerate() {
        let Some(q) = region.quad else { continue };
        let text = region.text.or_else(|| loose.then(|| loose_texts[i].clone())).unwrap_or_default();
        page.boxes.push(PageBox::from_points(q, region.label, text));
    }
    Ok(page)
}
