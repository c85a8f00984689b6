//! The embedded fonts and a small display list: layouts emit [`Op`]s, [`Sheet::raster`]
//! draws them with ab_glyph and reports each string's ink as per-glyph pixel cells taken from
//! the very outlines it rasterised.
//!
//! Text is rasterised here rather than with `imageproc::drawing::draw_text_mut` because 0.27
//! applies kerning after placing each glyph and with the pair reversed, which visibly
//! collides letters ("Please", "Pénalités") and would teach OCR models a defect.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, OutlinedGlyph, PxScale, ScaleFont, point};
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_circle_mut, draw_filled_rect_mut};
use imageproc::rect::Rect;

const SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
const MONO: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");
const LIBERATION_SANS: &[u8] = include_bytes!("../../assets/fonts/LiberationSans-Regular.ttf");
const LIBERATION_SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/LiberationSans-Bold.ttf");
const LIBERATION_SERIF: &[u8] = include_bytes!("../../assets/fonts/LiberationSerif-Regular.ttf");
const LIBERATION_SERIF_BOLD: &[u8] = include_bytes!("../../assets/fonts/LiberationSerif-Bold.ttf");

/// Every embedded file with its name, in the order [`slot`] indexes.
const FILES: [(&[u8], &str); 7] = [
    (SANS, "DejaVuSans.ttf"),
    (SANS_BOLD, "DejaVuSans-Bold.ttf"),
    (MONO, "DejaVuSansMono.ttf"),
    (LIBERATION_SANS, "LiberationSans-Regular.ttf"),
    (LIBERATION_SANS_BOLD, "LiberationSans-Bold.ttf"),
    (LIBERATION_SERIF, "LiberationSerif-Regular.ttf"),
    (LIBERATION_SERIF_BOLD, "LiberationSerif-Bold.ttf"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    Regular,
    Bold,
    Mono,
}

/// The typeface a page is set in. Standard pages are all DejaVu; hard pages pick one. Figures
/// set in [`Face::Mono`] are DejaVu Sans Mono in every family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    DejaVu,
    LiberationSans,
    LiberationSerif,
}

impl Family {
    pub const ALL: [Family; 3] = [Family::DejaVu, Family::LiberationSans, Family::LiberationSerif];

    /// The TrueType file of `face` in this family (what a born-digital PDF embeds).
    pub fn file(self, face: Face) -> &'static [u8] {
        FILES[slot(self, face)].0
    }
}

fn slot(family: Family, face: Face) -> usize {
    match (family, face) {
        (_, Face::Mono) => 2,
        (Family::DejaVu, Face::Regular) => 0,
        (Family::DejaVu, Face::Bold) => 1,
        (Family::LiberationSans, Face::Regular) => 3,
        (Family::LiberationSans, Face::Bold) => 4,
        (Family::LiberationSerif, Face::Regular) => 5,
        (Family::LiberationSerif, Face::Bold) => 6,
    }
}

fn fonts() -> &'static [FontRef<'static>; 7] {
    static FONTS: OnceLock<[FontRef<'static>; 7]> = OnceLock::new();
    FONTS.get_or_init(|| {
        // The bytes are compiled in and checked by `embedded_fonts_parse_and_cover_the_text`,
        // so a failure here is a broken build, not bad input.
        FILES.map(|(bytes, name)| FontRef::try_from_slice(bytes).unwrap_or_else(|e| panic!("{name}: {e}")))
    })
}

pub(crate) fn font(family: Family, face: Face) -> &'static FontRef<'static> {
    &fonts()[slot(family, face)]
}

/// Face, size and colour of a run of text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pen {
    pub face: Face,
    pub family: Family,
    pub px: f32,
    pub color: Rgb<u8>,
    /// Whether pairs are kerned (the font's `kern` table). A born-digital PDF places glyphs by
    /// their advances alone, so only unkerned text lies in the PDF exactly where it was laid out.
    pub kerning: bool,
}

impl Pen {
    pub fn new(face: Face, px: f32, color: Rgb<u8>) -> Self {
        Pen { face, family: Family::DejaVu, px, color, kerning: true }
    }

    pub fn in_family(self, family: Family) -> Self {
        Pen { family, ..self }
    }

    pub fn unkerned(self) -> Self {
        Pen { kerning: false, ..self }
    }

    fn font(&self) -> &'static FontRef<'static> {
        font(self.family, self.face)
    }

    pub fn with(self, face: Face) -> Self {
        Pen { face, ..self }
    }

    pub fn sized(self, px: f32) -> Self {
        Pen { px, ..self }
    }

    /// Ascent minus descent: from a line's top to the bottom of its deepest descender.
    pub fn height(&self) -> f32 {
        let f = self.font().as_scaled(PxScale::from(self.px));
        f.ascent() - f.descent()
    }

    /// From a line's top to its baseline.
    pub fn ascent(&self) -> f32 {
        self.font().as_scaled(PxScale::from(self.px)).ascent()
    }

    /// The font's em in pixels (what a PDF calls the font size): ab_glyph scales so that
    /// ascent minus descent is `px`.
    pub fn em(&self) -> f32 {
        let f = self.font();
        self.px * f.units_per_em().unwrap_or(1000.0) / f.height_unscaled()
    }

    /// Where text following `text` on the same line starts, relative to its `x`.
    pub fn advance(&self, text: &str) -> f32 {
        walk_glyphs(*self, 0.0, 0.0, text, |_| {})
    }

    /// Where the ink of `text` starts and ends, relative to where the text starts: exact
    /// outline bounds, not whole pixels. None for text without ink.
    pub fn ink_span(&self, text: &str) -> Option<(f32, f32)> {
        let f = self.font();
        let sx = f.as_scaled(PxScale::from(self.px)).h_scale_factor();
        let mut span: Option<(f32, f32)> = None;
        walk_glyphs(*self, 0.0, 0.0, text, |g| {
            if let Some(o) = f.outline(g.glyph().id) {
                let x = g.glyph().position.x;
                let (a, b) = (x + o.bounds.min.x * sx, x + o.bounds.max.x * sx);
                span = Some(span.map_or((a, b), |(l, r)| (l.min(a), r.max(b))));
            }
        });
        span
    }

    /// The mean advance of the digits 0–9: the unit the hard variety's column gaps are set in.
    pub fn digit_advance(&self) -> f32 {
        let sf = self.font().as_scaled(PxScale::from(self.px));
        ('0'..='9').map(|c| sf.h_advance(sf.glyph_id(c))).sum::<f32>() / 10.0
    }
}

/// Lays out `text` with its line top at (`x`, `y`), kerning each pair before placing the
/// second glyph; calls `f` with every glyph that has an outline and returns the advance.
fn walk_glyphs(pen: Pen, x: f32, y: f32, text: &str, mut f: impl FnMut(OutlinedGlyph)) -> f32 {
    let scale = PxScale::from(pen.px);
    let sf = pen.font().as_scaled(scale);
    let mut w = 0.0;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev.filter(|_| pen.kerning) {
            w += sf.kern(p, id);
        }
        let glyph = id.with_scale_and_position(scale, point(x + w, y + sf.ascent()));
        w += sf.h_advance(id);
        prev = Some(id);
        if let Some(g) = sf.outline_glyph(glyph) {
            f(g);
        }
    }
    w
}

/// The pixel cells `[x0, y0, x1, y1)` a glyph's coverage can touch.
fn cell(g: &OutlinedGlyph) -> [i32; 4] {
    let b = g.px_bounds();
    [b.min.x as i32, b.min.y as i32, b.max.x as i32, b.max.y as i32]
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    Text { x: f32, y: f32, pen: Pen, text: String, label: &'static str },
    Fill { x: i32, y: i32, w: u32, h: u32, color: Rgb<u8> },
    Disc { x: i32, y: i32, r: i32, color: Rgb<u8> },
}

/// A drawn string with the pixel cells `[x0, y0, x1, y1)` its glyphs may ink.
#[derive(Debug, Clone)]
pub(crate) struct Inked {
    pub text: String,
    pub label: &'static str,
    pub cells: Vec<[i32; 4]>,
}

impl Inked {
    #[cfg(test)]
    pub fn bounds(&self) -> [i32; 4] {
        self.cells.iter().fold([i32::MAX, i32::MAX, i32::MIN, i32::MIN], |b, c| {
            [b[0].min(c[0]), b[1].min(c[1]), b[2].max(c[2]), b[3].max(c[3])]
        })
    }
}

/// A page being laid out. Layouts only append; nothing is drawn until [`Sheet::raster`].
pub(crate) struct Sheet {
    pub width: i32,
    pub height: i32,
    pub ops: Vec<Op>,
    /// Union of all ink so far, to detect text that ran off the page.
    ink: [i32; 4],
    /// Ink bounds of each string, to detect collisions.
    boxes: Vec<[i32; 4]>,
}

impl Sheet {
    pub fn new(width: i32, height: i32) -> Self {
        Sheet { width, height, ops: Vec::new(), ink: [i32::MAX, i32::MAX, i32::MIN, i32::MIN], boxes: Vec::new() }
    }

    /// Draws `text` with its line top at `y`; returns the x where following text would start.
    pub fn text(&mut self, x: f32, y: f32, pen: Pen, text: &str, label: &'static str) -> f32 {
        // Whole-pixel baselines keep text crisp; x stays fractional so alignment is exact.
        let y = y.round();
        let mut b = [i32::MAX, i32::MAX, i32::MIN, i32::MIN];
        let end = walk_glyphs(pen, x, y, text, |g| {
            let c = cell(&g);
            b = [b[0].min(c[0]), b[1].min(c[1]), b[2].max(c[2]), b[3].max(c[3])];
        });
        if !text.trim().is_empty() {
            self.ink = [self.ink[0].min(b[0]), self.ink[1].min(b[1]), self.ink[2].max(b[2]), self.ink[3].max(b[3])];
            self.boxes.push(b);
            self.ops.push(Op::Text { x, y, pen, text: text.to_string(), label });
        }
        x + end
    }

    pub fn text_right(&mut self, right: f32, y: f32, pen: Pen, text: &str, label: &'static str) {
        self.text(right - pen.advance(text), y, pen, text, label);
    }

    pub fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb<u8>) {
        if w >= 1.0 && h >= 1.0 {
            let (x, y) = (x.round() as i32, y.round() as i32);
            self.ops.push(Op::Fill { x, y, w: w.round() as u32, h: h.round() as u32, color });
        }
    }

    pub fn hline(&mut self, x0: f32, x1: f32, y: f32, thickness: f32, color: Rgb<u8>) {
        self.fill(x0, y, x1 - x0, thickness.max(1.0), color);
    }

    pub fn vline(&mut self, x: f32, y0: f32, y1: f32, thickness: f32, color: Rgb<u8>) {
        self.fill(x, y0, thickness.max(1.0), y1 - y0, color);
    }

    pub fn disc(&mut self, x: f32, y: f32, r: f32, color: Rgb<u8>) {
        self.ops.push(Op::Disc { x: x.round() as i32, y: y.round() as i32, r: r.round() as i32, color });
    }

    /// True when all text ink lies at least `margin` pixels inside the page.
    pub fn fits(&self, margin: i32) -> bool {
        self.ink[0] >= margin
            && self.ink[1] >= margin
            && self.ink[2] <= self.width - margin
            && self.ink[3] <= self.height - margin
    }

    /// True when the ink of two strings touches.
    pub fn collides(&self) -> bool {
        let b = &self.boxes;
        (0..b.len()).any(|i| {
            (i + 1..b.len()).any(|j| b[i][0] < b[j][2] && b[j][0] < b[i][2] && b[i][1] < b[j][3] && b[j][1] < b[i][3])
        })
    }

    /// Draws the display list on white paper.
    pub fn raster(&self) -> (RgbImage, Vec<Inked>) {
        let mut img = RgbImage::from_pixel(self.width as u32, self.height as u32, Rgb([255, 255, 255]));
        let mut inked = Vec::new();
        for op in &self.ops {
            match op {
                Op::Fill { x, y, w, h, color } => {
                    draw_filled_rect_mut(&mut img, Rect::at(*x, *y).of_size(*w, *h), *color)
                }
                Op::Disc { x, y, r, color } => draw_filled_circle_mut(&mut img, (*x, *y), *r, *color),
                Op::Text { x, y, pen, text, label } => {
                    let mut cells = Vec::with_capacity(text.len());
                    let (w, h) = (img.width() as i32, img.height() as i32);
                    walk_glyphs(*pen, *x, *y, text, |g| {
                        let c = cell(&g);
                        cells.push(c);
                        g.draw(|gx, gy, cov| {
                            let (px, py) = (c[0] + gx as i32, c[1] + gy as i32);
                            if (0..w).contains(&px) && (0..h).contains(&py) {
                                let p = img.get_pixel_mut(px as u32, py as u32);
                                let a = cov.clamp(0.0, 1.0);
                                for k in 0..3 {
                                    let v = f32::from(p.0[k]) * (1.0 - a) + f32::from(pen.color.0[k]) * a;
                                    p.0[k] = v.round() as u8;
                                }
                            }
                        });
                    });
                    inked.push(Inked { text: text.clone(), label, cells });
                }
            }
        }
        (img, inked)
    }
}

/// Greedy word wrap to `max_w` pixels; a single over-long word gets a line of its own.
pub(crate) fn wrap(pen: Pen, text: &str, max_w: f32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if !line.is_empty() && pen.advance(&candidate) > max_w {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character inside a string literal of the content and layout sources, and all of
    /// printable ASCII: what any page, in any family, can be asked to draw.
    fn characters_the_content_uses() -> std::collections::BTreeSet<char> {
        let sources = [include_str!("content.rs"), include_str!("layout.rs"), include_str!("layout/tight.rs")];
        let mut chars: std::collections::BTreeSet<char> = (' '..='~').collect();
        for line in sources.iter().flat_map(|s| s.lines()) {
            chars.extend(line.split('"').skip(1).step_by(2).flat_map(str::chars).filter(|c| !c.is_control()));
        }
        chars
    }

    #[test]
    fn embedded_fonts_parse_and_cover_the_text() {
        let chars = characters_the_content_uses();
        for c in "éèàçüöäßÉ€£$°–·²".chars() {
            assert!(chars.contains(&c), "the content no longer uses {c}: is the scan of the sources broken?");
        }
        for family in Family::ALL {
            for face in [Face::Regular, Face::Bold, Face::Mono] {
                let f = font(family, face);
                let missing: String = chars.iter().filter(|&&c| f.glyph_id(c).0 == 0).collect();
                assert!(missing.is_empty(), "{family:?} {face:?} lacks {missing:?}");
                assert!(Pen::new(face, 20.0, Rgb([0, 0, 0])).in_family(family).digit_advance() > 5.0);
            }
        }
    }

    #[test]
    fn measured_cells_contain_exactly_the_ink_drawn() {
        let texts = ["Gesamtbetrag", "Total TTC: 1 234,50 €", "Façade jüngst AVATAR Wy", "£9.99 $", "fiffl Qj ß²°"];
        for family in Family::ALL {
            for face in [Face::Regular, Face::Bold, Face::Mono] {
                for (i, t) in texts.iter().enumerate() {
                    let pen = Pen::new(face, 17.0 + 5.3 * i as f32, Rgb([0, 0, 0])).in_family(family);
                    // hard pages set text unkerned
                    let pen = if i % 2 == 1 { pen.unkerned() } else { pen };
                    let mut sheet = Sheet::new(700, 120);
                    sheet.text(31.4, 22.6, pen, t, "other_text");
                    let (img, inked) = sheet.raster();
                    let mut ink = [i32::MAX, i32::MAX, i32::MIN, i32::MIN];
                    for (x, y, p) in img.enumerate_pixels() {
                        if p.0[0] < 255 {
                            let (x, y) = (x as i32, y as i32);
                            ink = [ink[0].min(x), ink[1].min(y), ink[2].max(x + 1), ink[3].max(y + 1)];
                            let inside = inked[0].cells.iter().any(|c| x >= c[0] && x < c[2] && y >= c[1] && y < c[3]);
                            assert!(inside, "{t} {family:?} {face:?}: ink at ({x}, {y}) outside every cell");
                        }
                    }
                    let b = inked[0].bounds();
                    // Cells are outline bounds rounded outwards, so at most a pixel of slack per side.
                    for k in 0..4 {
                        assert!((b[k] - ink[k]).abs() <= 1, "{t} {family:?} {face:?}: cells {b:?} ink {ink:?}");
                    }
                    // the exact ink span is what the cells round outwards
                    let (a, z) = pen.ink_span(t).unwrap();
                    let (a, z) = (31.4 + a, 31.4 + z);
                    assert!(b[0] as f32 <= a && a < b[0] as f32 + 1.0, "{t} {family:?} {face:?}: {a} vs {b:?}");
                    assert!(b[2] as f32 - 1.0 < z && z <= b[2] as f32, "{t} {family:?} {face:?}: {z} vs {b:?}");
                }
            }
        }
    }

    #[test]
    fn families_differ_in_shape_and_mono_figures_stay_dejavu() {
        let pen = Pen::new(Face::Regular, 22.0, Rgb([0, 0, 0]));
        let widths: Vec<f32> =
            Family::ALL.iter().map(|&f| pen.in_family(f).advance("Rechnungsbetrag 1.234,50")).collect();
        assert!(widths[0] != widths[1] && widths[1] != widths[2] && widths[0] != widths[2], "{widths:?}");
        let mono = pen.with(Face::Mono);
        assert_eq!(mono.in_family(Family::LiberationSerif).advance("1.234,50"), mono.advance("1.234,50"));
    }

    #[test]
    fn wrap_respects_the_width() {
        let pen = Pen::new(Face::Regular, 20.0, Rgb([0, 0, 0]));
        let lines = wrap(pen, "Maintenance annuelle du système de chauffage collectif", 250.0);
        assert!(lines.len() >= 2);
        assert!(lines.iter().all(|l| pen.advance(l) <= 250.0));
        assert_eq!(lines.join(" "), "Maintenance annuelle du système de chauffage collectif");
    }
}
