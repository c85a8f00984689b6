//! PPOCRLabel's files, laid out as PPOCRLabel keeps them inside the image folder `images/`:
//! `Label.txt` (`images/NAME<TAB>[{"transcription", "points", "difficult"}]` per image),
//! `fileState.txt`, and for recognition `rec_gt.txt` + `crop_img/…` (crops cut by the app).
//! The KIE variant adds `key_cls` (PPOCRLabel) and `label` (PaddleOCR SER), `id` and `linking`.
//! Import reads `Label.txt` and `Cache.cach` (same format) and either KIE spelling.
//!
//! Round trip keeps: boxes, quads, text, the difficult flag (PPOCRLabel's `difficult`); KIE
//! also labels and links (direction kept). Loses: labels and links in plain `ppocr`; the link
//! kind in KIE (links come back key→value); the other flags and the document's tags (no place
//! for them); quads whose corners are the rectangle's own corners come back as plain rectangles.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::model::{FormatError, OutFile, Page, PageBox, PageLink, file_name, file_stem, finite, utf8};
use crate::domain::{BoxFlags, LinkKind, Point, Rect};

pub const IMAGE_DIR: &str = "images";
pub const LABEL_FILE: &str = "images/Label.txt";
pub const REC_FILE: &str = "images/rec_gt.txt";
pub const STATE_FILE: &str = "images/fileState.txt";
/// PPOCRLabel's (and PaddleOCR's) default for a box without a KIE class.
pub const NO_CLASS: &str = "None";

#[derive(Serialize)]
struct OutBox<'a> {
    transcription: &'a str,
    points: [[f32; 2]; 4],
    difficult: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_cls: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    linking: Option<Vec<[usize; 2]>>,
}

/// The crop image a box of a page goes to, relative to the dataset root.
pub fn crop_path(page: &Page, box_index: usize) -> String {
    format!("{IMAGE_DIR}/crop_img/{}_crop_{box_index}.png", file_stem(&page.image))
}

/// Line of `Label.txt`: the image as PPOCRLabel names it (`folder/file`).
fn image_key(page: &Page) -> String {
    format!("{IMAGE_DIR}/{}", file_name(&page.image))
}

/// Writes `Label.txt`, `fileState.txt` and `rec_gt.txt`; `kie` adds classes, ids and links.
/// The crops `rec_gt.txt` names ([`crop_path`]) are for the caller to cut.
pub fn write(pages: &[Page], kie: bool) -> Vec<OutFile> {
    let (mut label, mut state, mut rec) = (String::new(), String::new(), String::new());
    for page in pages {
        let boxes: Vec<OutBox> = page
            .boxes
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let cls = b.label.as_deref().unwrap_or(NO_CLASS);
                OutBox {
                    transcription: &b.text,
                    points: b.corners().0.map(|p| [p.x, p.y]),
                    difficult: b.flags.contains(BoxFlags::DIFFICULT),
                    key_cls: kie.then_some(cls),
                    label: kie.then_some(cls),
                    id: kie.then_some(i),
                    linking: kie.then(|| {
                        page.links.iter().filter(|l| l.from == i || l.to == i).map(|l| [l.from, l.to]).collect()
                    }),
                }
            })
            .collect();
        let key = image_key(page);
        // Plain structs of strings and numbers always serialise.
        let json = serde_json::to_string(&boxes).unwrap_or_default();
        label.push_str(&format!("{key}\t{json}\n"));
        state.push_str(&format!("{key}\t1\n"));
        for (i, b) in page.boxes.iter().enumerate() {
            let crop = crop_path(page, i);
            let rel = crop.strip_prefix(&format!("{IMAGE_DIR}/")).unwrap_or(&crop);
            rec.push_str(&format!("{rel}\t{}\n", b.text.replace(['\n', '\r', '\t'], " ")));
        }
    }
    vec![
        OutFile::new(LABEL_FILE, label.into_bytes()),
        OutFile::new(STATE_FILE, state.into_bytes()),
        OutFile::new(REC_FILE, rec.into_bytes()),
    ]
}

#[derive(Deserialize)]
struct InBox {
    #[serde(default)]
    transcription: String,
    points: Vec<[f64; 2]>,
    #[serde(default)]
    difficult: bool,
    #[serde(default)]
    key_cls: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    id: Option<i64>,
    #[serde(default)]
    linking: Vec<[i64; 2]>,
}

/// Reads `Label.txt` or `Cache.cach`; `Page::image` is the path as written (`folder/file`),
/// sizes are 0 (PPOCRLabel does not record them).
pub fn read(file: &str, bytes: &[u8]) -> Result<Vec<Page>, FormatError> {
    let text = utf8(file, bytes)?;
    let mut pages = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let Some((image, json)) = line.split_once('\t') else {
            return Err(FormatError::at_line(file, line_no, "expected 'image path<TAB>[boxes JSON]'"));
        };
        let boxes: Vec<InBox> = serde_json::from_str(json).map_err(|e| {
            // The column is inside the JSON; shift it past the path and the tab.
            let mut err = FormatError::json(file, &e).on_line(line_no);
            err.column = err.column.map(|c| c + image.chars().count() + 1);
            err
        })?;
        let mut page = Page { image: image.trim().to_string(), ..Page::default() };
        let mut ids: HashMap<i64, usize> = HashMap::new();
        for (i, b) in boxes.iter().enumerate() {
            let at = |reason: String| FormatError::at_line(file, line_no, format!("box {i}: {reason}"));
            if b.points.len() < 2 {
                return Err(at(format!("needs at least 2 points, has {}", b.points.len())));
            }
            let mut pts = Vec::with_capacity(b.points.len());
            for p in &b.points {
                let x = finite(file, "point", p[0]).map_err(|e| e.on_line(line_no))?;
                let y = finite(file, "point", p[1]).map_err(|e| e.on_line(line_no))?;
                pts.push(Point::new(x, y));
            }
            let label = b.key_cls.clone().or_else(|| b.label.clone()).filter(|l| !l.is_empty() && l != NO_CLASS);
            let pb = match <[Point; 4]>::try_from(pts.as_slice()) {
                Ok(four) => PageBox::from_points(four, label, b.transcription.clone()),
                Err(_) => {
                    let r = pts.iter().fold(Rect::new(f32::MAX, f32::MAX, f32::MIN, f32::MIN), |r, p| {
                        Rect::new(r.x0.min(p.x), r.y0.min(p.y), r.x1.max(p.x), r.y1.max(p.y))
                    });
                    PageBox { rect: r, quad: None, label, text: b.transcription.clone(), flags: BoxFlags::default() }
                }
            };
            let pb = PageBox { flags: BoxFlags::default().with(BoxFlags::DIFFICULT, b.difficult), ..pb };
            if let Some(id) = b.id
                && ids.insert(id, i).is_some()
            {
                return Err(at(format!("id {id} appears twice")));
            }
            page.boxes.push(pb);
        }
        let mut pairs = BTreeSet::new();
        for (i, b) in boxes.iter().enumerate() {
            for &[a, c] in &b.linking {
                let (Some(&from), Some(&to)) = (ids.get(&a), ids.get(&c)) else {
                    return Err(FormatError::at_line(
                        file,
                        line_no,
                        format!("box {i} links to an unknown id ({a}, {c})"),
                    ));
                };
                if from != to {
                    pairs.insert((from, to));
                }
            }
        }
        page.links = pairs.into_iter().map(|(from, to)| PageLink { from, to, kind: LinkKind::KeyValue }).collect();
        pages.push(page);
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(flags: BoxFlags) -> Page {
        let rect = Rect::new(1.0, 2.0, 30.0, 12.0);
        let b = PageBox { rect, quad: None, label: None, text: "TOTAL".into(), flags };
        Page { image: "images/a.png".into(), boxes: vec![b], ..Page::default() }
    }

    #[test]
    fn a_difficult_box_says_so_and_comes_back_difficult() {
        let flags = BoxFlags::DIFFICULT.with(BoxFlags::HANDWRITTEN, true);
        let files = write(&[page(flags)], false);
        let label = String::from_utf8(files[0].bytes.clone()).unwrap();
        assert_eq!(
            label,
            "images/a.png\t[{\"transcription\":\"TOTAL\",\"points\":[[1.0,2.0],[30.0,2.0],[30.0,12.0],[1.0,12.0]],\"difficult\":true}]\n"
        );
        let back = read(LABEL_FILE, &files[0].bytes).unwrap();
        assert_eq!(back[0].boxes[0].flags, BoxFlags::DIFFICULT, "PPOCR has a place for difficult only");
        let plain = write(&[page(BoxFlags::default())], false);
        assert!(String::from_utf8_lossy(&plain[0].bytes).contains("\"difficult\":false"));
        assert!(read(LABEL_FILE, &plain[0].bytes).unwrap()[0].boxes[0].flags.is_empty());
    }
}
