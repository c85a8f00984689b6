//! Splitting a detected line where the recognised text has a wide gap. PP-OCR's detector
//! joins "INV No.:1030720      Cashier:Nicole" into one line; annotators (and SROIE's ground
//! truth) want two segments. The CTC time steps say where each character sits, so a run of
//! spaces much wider than the line is tall marks the cut.

use image::{GrayImage, RgbImage};

use super::rec::Reading;
use crate::domain::Rect;

/// Shrinks a detected box to the ink inside it, plus `margin_px`. DB boxes are grown by the
/// unclip offset (good for the recogniser, too loose for an annotation); a box without clear
/// ink (contrast under 40 grey levels) is returned as it is.
pub fn tighten_to_ink(page: &RgbImage, r: &Rect, margin_px: f32) -> Rect {
    let c = r.clamped(page.width() as f32, page.height() as f32);
    let (x0, y0) = (c.x0.floor() as u32, c.y0.floor() as u32);
    let (x1, y1) = ((c.x1.ceil() as u32).min(page.width()), (c.y1.ceil() as u32).min(page.height()));
    if x1 <= x0 + 1 || y1 <= y0 + 1 {
        return *r;
    }
    // grey only the box, not the page: a 35-megapixel scan has a few hundred KB of lines
    let crop = GrayImage::from_fn(x1 - x0, y1 - y0, |x, y| {
        let [r, g, b] = page.get_pixel(x0 + x, y0 + y).0;
        image::Luma([crate::prelabel::cv::gray::luma(r, g, b)])
    });
    let (lo, hi) = crop.pixels().fold((255u8, 0u8), |(lo, hi), p| (lo.min(p.0[0]), hi.max(p.0[0])));
    if hi.saturating_sub(lo) < 40 {
        return *r;
    }
    let level = imageproc::contrast::otsu_level(&crop);
    let (w, h) = crop.dimensions();
    let mut rows = vec![0u32; h as usize];
    let mut cols = vec![0u32; w as usize];
    for (x, y, p) in crop.enumerate_pixels() {
        if p.0[0] <= level {
            rows[y as usize] += 1;
            cols[x as usize] += 1;
        }
    }
    // ignore specks: a row or column needs a few percent of the densest one's ink
    let span = |v: &[u32]| {
        let floor = (v.iter().copied().max().unwrap_or(0) / 20).max(1);
        let first = v.iter().position(|&n| n >= floor)?;
        let last = v.iter().rposition(|&n| n >= floor)?;
        Some((first as f32, last as f32 + 1.0))
    };
    match (span(&cols), span(&rows)) {
        (Some((cx0, cx1)), Some((cy0, cy1))) => Rect::new(
            (x0 as f32 + cx0 - margin_px).max(c.x0),
            (y0 as f32 + cy0 - margin_px).max(c.y0),
            (x0 as f32 + cx1 + margin_px).min(c.x1),
            (y0 as f32 + cy1 + margin_px).min(c.y1),
        ),
        _ => *r,
    }
}

/// One piece of a line.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub rect: Rect,
    pub text: String,
    pub score: f32,
}

/// Splits the axis-aligned `line` (whose crop gave `reading`) wherever two neighbouring
/// characters, with a space between them, are more than `gap_factor` × line height apart
/// (centre to centre). Returns the whole line as one piece when there is no such gap.
pub fn split_at_wide_gaps(line: &Rect, reading: &Reading, gap_factor: f32) -> Vec<Piece> {
    let h = reading.height_px.max(1.0);
    let whole = || vec![Piece { rect: *line, text: reading.text.trim().to_string(), score: reading.score }];
    if reading.turned || reading.chars.is_empty() {
        return whole();
    }
    // groups of character indices, cut at wide space runs
    let mut groups: Vec<Vec<usize>> = vec![Vec::new()];
    let mut last_solid: Option<usize> = None;
    let mut space_since = false;
    for (i, c) in reading.chars.iter().enumerate() {
        if c.text.trim().is_empty() {
            space_since = true;
            continue;
        }
        if let Some(j) = last_solid
            && space_since
            && c.x_px - reading.chars[j].x_px > gap_factor * h
        {
            groups.push(Vec::new());
        }
        if let Some(g) = groups.last_mut() {
            g.push(i);
        }
        last_solid = Some(i);
        space_since = false;
    }
    groups.retain(|g| !g.is_empty());
    if groups.len() < 2 {
        return whole();
    }
    // a character's box reaches about half a line height around its CTC step
    let pad = 0.5 * h;
    let n = groups.len();
    groups
        .iter()
        .enumerate()
        .map(|(k, g)| {
            let (first, last) = (&reading.chars[g[0]], &reading.chars[g[g.len() - 1]]);
            let x0 = if k == 0 { line.x0 } else { (line.x0 + first.x_px - pad).max(line.x0) };
            let x1 = if k + 1 == n { line.x1 } else { (line.x0 + last.x_px + pad).min(line.x1) };
            let span = &reading.chars[g[0]..=g[g.len() - 1]];
            let text: String = span.iter().map(|c| c.text.as_str()).collect();
            let score = g.iter().map(|&i| reading.chars[i].prob).sum::<f32>() / g.len() as f32;
            Piece { rect: Rect::new(x0, line.y0, x1, line.y1), text: text.trim().to_string(), score }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelabel::model::rec::CharAt;

    fn reading(spec: &[(&str, f32)], h: f32) -> Reading {
        let chars: Vec<CharAt> = spec.iter().map(|&(t, x)| CharAt { text: t.into(), prob: 0.9, x_px: x }).collect();
        let text = chars.iter().map(|c| c.text.as_str()).collect();
        Reading { text, score: 0.9, chars, height_px: h, turned: false }
    }

    #[test]
    fn splits_at_a_wide_space_run_only() {
        // "AB CD" with a normal space, then a wide gap before "EF"
        let r = reading(
            &[("A", 5.0), ("B", 15.0), (" ", 22.0), ("C", 30.0), ("D", 40.0), (" ", 60.0), ("E", 120.0), ("F", 130.0)],
            20.0,
        );
        let line = Rect::new(100.0, 50.0, 240.0, 70.0);
        let pieces = split_at_wide_gaps(&line, &r, 1.5);
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert_eq!((pieces[0].text.as_str(), pieces[1].text.as_str()), ("AB CD", "EF"));
        assert_eq!(pieces[0].rect, Rect::new(100.0, 50.0, 150.0, 70.0));
        assert_eq!(pieces[1].rect, Rect::new(210.0, 50.0, 240.0, 70.0));
    }

    #[test]
    fn boxes_shrink_to_the_ink_and_blank_boxes_stay() {
        let mut page = RgbImage::from_pixel(100, 60, image::Rgb([240, 235, 230]));
        for y in 20..32 {
            for x in 30..70 {
                page.put_pixel(x, y, image::Rgb([20, 30, 60]));
            }
        }
        let loose = Rect::new(20.0, 10.0, 80.0, 45.0);
        assert_eq!(tighten_to_ink(&page, &loose, 1.0), Rect::new(29.0, 19.0, 71.0, 33.0));
        let blank = Rect::new(0.0, 40.0, 20.0, 60.0);
        assert_eq!(tighten_to_ink(&page, &blank, 1.0), blank);
    }

    #[test]
    fn wide_letter_spacing_without_a_space_is_not_cut() {
        let r = reading(&[("A", 5.0), ("B", 100.0)], 20.0);
        let line = Rect::new(0.0, 0.0, 120.0, 20.0);
        assert_eq!(split_at_wide_gaps(&line, &r, 1.5).len(), 1);
        let mut turned = reading(&[("A", 5.0), (" ", 50.0), ("B", 100.0)], 20.0);
        assert_eq!(split_at_wide_gaps(&line, &turned, 1.5).len(), 2);
        turned.turned = true;
        assert_eq!(split_at_wide_gaps(&line, &turned, 1.5).len(), 1);
    }
}
