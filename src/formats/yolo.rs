//! YOLO (darknet/ultralytics) detection labels: `classes.txt`, `images/…`, and per image
//! `labels/STEM.txt` with one `class cx cy w h` line per box, normalised to the image size.
//! Import also reads YOLO-OBB lines (`class x1 y1 x2 y2 x3 y3 x4 y4`) and tolerates a trailing
//! confidence column.
//!
//! Round trip keeps: boxes and labels. Loses: text, quads (written as their bounding box),
//! links, unlabelled boxes (skipped and counted). Coordinates come back within 1e-3 px.

use std::fmt::Write as _;

use super::model::{FormatError, OutFile, Page, PageBox, Skipped, file_stem, finite, utf8};
use crate::domain::{BoxFlags, Point, Rect};

pub const CLASSES_FILE: &str = "classes.txt";
pub const IMAGE_DIR: &str = "images";
pub const LABEL_DIR: &str = "labels";

pub fn write(pages: &[Page], classes: &[String]) -> (Vec<OutFile>, Skipped) {
    let mut skipped = Skipped::default();
    let mut files = Vec::with_capacity(pages.len() + 1);
    let mut names = String::new();
    for c in classes {
        names.push_str(c);
        names.push('\n');
    }
    files.push(OutFile::new(CLASSES_FILE, names.into_bytes()));
    for page in pages {
        let (w, h) = (f64::from(page.width.max(1)), f64::from(page.height.max(1)));
        let mut text = String::new();
        for b in &page.boxes {
            let Some(class) = b.label.as_deref().and_then(|l| classes.iter().position(|c| c == l)) else {
                skipped.unlabelled_boxes += 1;
                continue;
            };
            let r = b.rect;
            let (x0, y0, x1, y1) = (f64::from(r.x0), f64::from(r.y0), f64::from(r.x1), f64::from(r.y1));
            let _ = writeln!(
                text,
                "{class} {} {} {} {}",
                (x0 + x1) / 2.0 / w,
                (y0 + y1) / 2.0 / h,
                (x1 - x0) / w,
                (y1 - y0) / h
            );
        }
        files.push(OutFile::new(format!("{LABEL_DIR}/{}.txt", file_stem(&page.image)), text.into_bytes()));
    }
    (files, skipped)
}

/// Class names, one per line (blank lines at the end ignored).
pub fn read_classes(file: &str, bytes: &[u8]) -> Result<Vec<String>, FormatError> {
    let text = utf8(file, bytes)?;
    let mut names: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
    while names.last().is_some_and(|n| n.is_empty()) {
        names.pop();
    }
    if let Some(i) = names.iter().position(|n| n.is_empty()) {
        return Err(FormatError::at_line(file, i + 1, "empty class name"));
    }
    Ok(names)
}

/// The boxes of one label file for an image of `width`×`height` px. A class index past the
/// classes list becomes the label name `"N"` (reported as unknown by the importer).
pub fn read_labels(
    file: &str,
    bytes: &[u8],
    width: u32,
    height: u32,
    classes: &[String],
) -> Result<Vec<PageBox>, FormatError> {
    let text = utf8(file, bytes)?;
    let (w, h) = (f64::from(width), f64::from(height));
    let mut boxes = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |reason: &str| FormatError::at_line(file, i + 1, reason.to_string());
        let fields: Vec<&str> = line.split_whitespace().collect();
        let class: usize = fields[0].parse().map_err(|_| bad("the class is not a non-negative integer"))?;
        let nums: Vec<f64> = fields[1..]
            .iter()
            .map(|f| f.parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad("a coordinate is not a number"))?;
        let coord = |v: f64, scale: f64| -> Result<f32, FormatError> {
            if !(-0.01..=1.01).contains(&v) {
                return Err(bad("a normalised coordinate lies outside 0..1"));
            }
            finite(file, "coordinate", v * scale).map_err(|e| e.on_line(i + 1))
        };
        let label = Some(classes.get(class).cloned().unwrap_or_else(|| class.to_string()));
        let b = match nums.len() {
            4 | 5 => {
                let (cx, cy, bw, bh) = (nums[0], nums[1], nums[2], nums[3]);
                if bw < 0.0 || bh < 0.0 {
                    return Err(bad("negative width or height"));
                }
                let rect = Rect::new(
                    coord(cx - bw / 2.0, w)?,
                    coord(cy - bh / 2.0, h)?,
                    coord(cx + bw / 2.0, w)?,
                    coord(cy + bh / 2.0, h)?,
                );
                PageBox { rect, quad: None, label, text: String::new(), flags: BoxFlags::default() }
            }
            8 | 9 => {
                let mut pts = [Point::default(); 4];
                for (k, p) in pts.iter_mut().enumerate() {
                    *p = Point::new(coord(nums[2 * k], w)?, coord(nums[2 * k + 1], h)?);
                }
                PageBox::from_points(pts, label, String::new())
            }
            n => {
                return Err(bad(&format!(
                    "expected 'class cx cy w h' or 'class x1 y1 … x4 y4', found {} fields",
                    n + 1
                )));
            }
        };
        boxes.push(b);
    }
    Ok(boxes)
}
