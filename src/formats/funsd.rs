//! FUNSD-style form JSON: `images/…` and one `annotations/STEM.json` per image holding
//! `{"form": [{"id", "text", "box": [x0, y0, x1, y1], "label", "words": [...], "linking": [[from, to]]}]}`.
//! Labels are our schema's names; unlabelled boxes are written as FUNSD's `"other"`.
//!
//! Round trip keeps: boxes, labels, text, links (direction kept). Loses: quads (bounding box
//! only), the link kind (FUNSD links have none: every link comes back as key→value), word
//! boxes (we write one word per entity), and the difference between unlabelled and a label
//! literally named `other`.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::model::{FormatError, OutFile, Page, PageBox, PageLink, file_stem, finite, parse_json, to_json_pretty};
use crate::domain::{BoxFlags, LinkKind, Rect};

pub const IMAGE_DIR: &str = "images";
pub const ANNOTATION_DIR: &str = "annotations";
/// FUNSD's label for text that is none of its classes; ours for unlabelled boxes.
pub const UNLABELLED: &str = "other";

#[derive(Serialize)]
struct Out<'a> {
    form: Vec<OutEntity<'a>>,
}

#[derive(Serialize)]
struct OutEntity<'a> {
    id: usize,
    text: &'a str,
    #[serde(rename = "box")]
    bbox: [f32; 4],
    label: &'a str,
    words: [OutWord<'a>; 1],
    linking: Vec<[usize; 2]>,
}

#[derive(Serialize)]
struct OutWord<'a> {
    text: &'a str,
    #[serde(rename = "box")]
    bbox: [f32; 4],
}

pub fn write(pages: &[Page]) -> Vec<OutFile> {
    pages
        .iter()
        .map(|page| {
            let form = page
                .boxes
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let r = b.rect;
                    let bbox = [r.x0, r.y0, r.x1, r.y1];
                    let linking =
                        page.links.iter().filter(|l| l.from == i || l.to == i).map(|l| [l.from, l.to]).collect();
                    OutEntity {
                        id: i,
                        text: &b.text,
                        bbox,
                        label: b.label.as_deref().unwrap_or(UNLABELLED),
                        words: [OutWord { text: &b.text, bbox }],
                        linking,
                    }
                })
                .collect();
            let path = format!("{ANNOTATION_DIR}/{}.json", file_stem(&page.image));
            OutFile::new(path, to_json_pretty(&Out { form }))
        })
        .collect()
}

#[derive(Deserialize)]
struct In {
    form: Vec<InEntity>,
}

#[derive(Deserialize)]
struct InEntity {
    id: i64,
    #[serde(default)]
    text: String,
    #[serde(rename = "box")]
    bbox: [f64; 4],
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    linking: Vec<[i64; 2]>,
}

/// Reads one FUNSD file; `Page::image` is left empty and the size 0 (FUNSD records neither:
/// the image is the same stem under `images/`).
pub fn read(file: &str, bytes: &[u8]) -> Result<Page, FormatError> {
    let doc: In = parse_json(file, bytes)?;
    let mut index: HashMap<i64, usize> = HashMap::new();
    let mut page = Page::default();
    for (n, e) in doc.form.iter().enumerate() {
        if index.insert(e.id, n).is_some() {
            return Err(FormatError::new(file, format!("entity id {} appears twice", e.id)));
        }
        let what = format!("entity {} box", e.id);
        let [x0, y0, x1, y1] = e.bbox;
        let rect = Rect::new(
            finite(file, &what, x0)?,
            finite(file, &what, y0)?,
            finite(file, &what, x1)?,
            finite(file, &what, y1)?,
        );
        if rect.x0 > rect.x1 || rect.y0 > rect.y1 {
            return Err(FormatError::new(file, format!("{what} has x0 > x1 or y0 > y1")));
        }
        page.boxes.push(PageBox {
            rect,
            quad: None,
            label: e.label.clone().filter(|l| !l.is_empty()),
            text: e.text.clone(),
            flags: BoxFlags::default(),
        });
    }
    let mut pairs = BTreeSet::new();
    for e in &doc.form {
        for &[a, b] in &e.linking {
            let (Some(&from), Some(&to)) = (index.get(&a), index.get(&b)) else {
                return Err(FormatError::new(file, format!("entity {} links to an unknown id ({a}, {b})", e.id)));
            };
            if from != to {
                pairs.insert((from, to));
            }
        }
    }
    page.links = pairs.into_iter().map(|(from, to)| PageLink { from, to, kind: LinkKind::KeyValue }).collect();
    Ok(page)
}
