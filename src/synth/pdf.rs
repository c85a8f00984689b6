//! Synthetic invoices as PDFs, with exact ground truth per page:
//! - born-digital: the layout's text written into the PDF as text, in the same embedded
//!   fonts (DejaVu, or a hard page's family) at the same places, so the text layer is exactly
//!   the invoice's text;
//! - scanned: the synthetic scan's JPEG as the page, as a scanner's PDF wraps it (no text).
//!
//! Ground truth is in the ground-truth JSON format with `"image": "NAME.pdf", "page": 1`, in
//! the pixels of the page rendered at [`crate::pdf::DEFAULT_DPI`] (born-digital) or at the
//! scan's own 150 dpi (scanned: its pixels are the JPEG's).

use std::path::{Path, PathBuf};

use super::text::{Face, Op};
use super::{PAGE_HEIGHT_PX, PAGE_WIDTH_PX, SynthError, Variety, clean_page, file_stem, render_page_with};
use crate::formats::gt::{GroundTruth, GtBox};
use crate::pdf::write::{Page, PageContent, TextRun};

/// The layout's resolution (A4 at 150 dpi).
const LAYOUT_DPI: f32 = 150.0;

fn pt(px: f32) -> f32 {
    px * 72.0 / LAYOUT_DPI
}

/// Page `index` of seed `seed` as a born-digital PDF, and its ground truth. A hard page is
/// neither tilted nor blurred here (nothing is scanned); its fonts and packed figures remain.
pub fn born_digital(seed: u64, index: u32, variety: Variety) -> Result<(Vec<u8>, GroundTruth), crate::pdf::PdfError> {
    let page = clean_page(seed, index, variety);
    let runs: Vec<TextRun<'_>> = page
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Text { x, y, pen, text, .. } => Some(TextRun {
                x_pt: pt(*x),
                baseline_pt: pt(y + pen.ascent()),
                size_pt: pt(pen.em()),
                font: match pen.face {
                    Face::Regular => 0,
                    Face::Bold => 1,
                    Face::Mono => 2,
                },
                rgb: pen.color.0,
                text,
            }),
            _ => None,
        })
        .collect();
    let (w_pt, h_pt) = (pt(PAGE_WIDTH_PX as f32), pt(PAGE_HEIGHT_PX as f32));
    let bytes = crate::pdf::write::pdf(
        &[Page { width_pt: w_pt, height_pt: h_pt, content: PageContent::Text { runs } }],
        &[Face::Regular, Face::Bold, Face::Mono].map(|face| page.family.file(face)),
    )?;
    // the layout's glyph cells, in the pixels of the page rendered at the default resolution
    let dpi = crate::pdf::DEFAULT_DPI as f32;
    let k = dpi / LAYOUT_DPI;
    let size = crate::pdf::PageSize { width_pt: w_pt, height_pt: h_pt }.pixels(crate::pdf::DEFAULT_DPI);
    let boxes = page
        .inked
        .iter()
        .filter_map(|t| {
            let b = t.cells.iter().fold([i32::MAX, i32::MAX, i32::MIN, i32::MIN], |b, c| {
                [b[0].min(c[0]), b[1].min(c[1]), b[2].max(c[2]), b[3].max(c[3])]
            });
            (b[2] > b[0] && b[3] > b[1]).then(|| GtBox {
                x0: b[0] as f32 * k,
                y0: b[1] as f32 * k,
                x1: b[2] as f32 * k,
                y1: b[3] as f32 * k,
                text: t.text.clone(),
                label: Some(t.label.to_string()),
            })
        })
        .collect();
    let gt = GroundTruth {
        image: format!("{}.pdf", file_stem(index)),
        page: Some(1),
        width: size.0 as u32,
        height: size.1 as u32,
        boxes,
    };
    Ok((bytes, gt))
}

/// The same page as [`render_page_with`]'s scan, wrapped in a PDF; its ground truth is the
/// scan's.
pub fn scanned(seed: u64, index: u32, variety: Variety) -> Result<(Vec<u8>, GroundTruth), crate::pdf::PdfError> {
    let scan = render_page_with(seed, index, variety);
    let (w, h) = (scan.image.width() as f32, scan.image.height() as f32);
    let bytes = crate::pdf::write::pdf(
        &[Page { width_pt: pt(w), height_pt: pt(h), content: PageContent::Scan { jpeg: &scan.jpeg } }],
        &[],
    )?;
    let gt = GroundTruth { image: format!("{}_scan.pdf", file_stem(index)), page: Some(1), ..scan.gt };
    Ok((bytes, gt))
}

/// Writes pages `1..=count` as PDFs (`STEM.pdf` born-digital, or `STEM_scan.pdf` when
/// `scanned`) with their ground-truth JSON beside them; returns the JSON paths.
pub fn write_set(out: &Path, count: u32, seed: u64, scanned_pages: bool) -> Result<Vec<PathBuf>, SynthError> {
    write_set_with(out, count, seed, scanned_pages, Variety::Standard)
}

/// [`write_set`] in the given variety.
pub fn write_set_with(
    out: &Path,
    count: u32,
    seed: u64,
    scanned_pages: bool,
    variety: Variety,
) -> Result<Vec<PathBuf>, SynthError> {
    std::fs::create_dir_all(out).map_err(|source| SynthError::CreateDir { path: out.into(), source })?;
    let mut written = Vec::with_capacity(count as usize);
    for index in 1..=count {
        let made = if scanned_pages { scanned(seed, index, variety) } else { born_digital(seed, index, variety) };
        let (bytes, gt) = made.map_err(|e| SynthError::Pdf { index, reason: e.to_string() })?;
        let pdf_path = out.join(&gt.image);
        std::fs::write(&pdf_path, &bytes).map_err(|source| SynthError::Write { path: pdf_path, source })?;
        let stem = gt.image.trim_end_matches(".pdf").to_string();
        let json_path = out.join(format!("{stem}.json"));
        std::fs::write(&json_path, gt.to_json_pretty())
            .map_err(|source| SynthError::Write { path: json_path.clone(), source })?;
        written.push(json_path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::text::Family;

    /// PDFium is provisioned by the build; CI requires it (FACTURE_REQUIRE_MODELS=1).
    fn pdfium() -> bool {
        match crate::pdf::available() {
            Ok(()) => true,
            Err(e) if std::env::var("FACTURE_REQUIRE_MODELS").is_ok_and(|v| v == "1") => panic!("{e}"),
            Err(e) => {
                eprintln!("skipped: {e}");
                false
            }
        }
    }

    #[test]
    fn hard_born_digital_pages_embed_their_family_and_keep_text_in_its_boxes() {
        if !pdfium() {
            return;
        }
        let mut families = Vec::new();
        for index in 1..=3 {
            let family = clean_page(1901, index, Variety::Hard).family;
            let (bytes, gt) = born_digital(1901, index, Variety::Hard).unwrap();
            let name: &[u8] = match family {
                Family::DejaVu => b"/BaseFont/DejaVuSans",
                Family::LiberationSans => b"/BaseFont/LiberationSans",
                Family::LiberationSerif => b"/BaseFont/LiberationSerif",
            };
            assert!(bytes.windows(name.len()).any(|w| w == name), "page {index}: {family:?} not embedded");
            families.push(family);
            let chars = crate::pdf::text_chars(&bytes, 0, (gt.width, gt.height)).unwrap();
            let drawn: Vec<_> = chars.iter().filter(|c| !c.generated && !c.ch.is_whitespace()).collect();
            assert_eq!(
                drawn.len(),
                gt.boxes.iter().map(|b| b.text.chars().filter(|c| !c.is_whitespace()).count()).sum::<usize>()
            );
            for c in drawn {
                let (x, y) = ((c.x0 + c.x1) / 2.0, (c.y0 + c.y1) / 2.0);
                let inside = |b: &&GtBox| b.x0 <= x && x <= b.x1 && b.y0 <= y && y <= b.y1 && b.text.contains(c.ch);
                if !gt.boxes.iter().any(|b| inside(&b)) {
                    let near: Vec<_> =
                        gt.boxes.iter().filter(|b| b.text.contains(c.ch) && (b.y0 - y).abs() < 40.0).collect();
                    panic!(
                        "page {index} {family:?}: {:?} {:?} in no box; near {near:?}",
                        c.ch,
                        (c.x0, c.y0, c.x1, c.y1)
                    );
                }
            }
        }
        assert!(families.iter().any(|f| *f != Family::DejaVu), "pick pages set in Liberation: {families:?}");
    }
}
