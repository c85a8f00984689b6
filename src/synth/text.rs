//! The embedded DejaVu fonts and a small display list: layouts emit [`Op`]s, [`Sheet::raster`]
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

pub(crate) const SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
pub(crate) const SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
pub(crate) const MONO: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    Regular,
    Bold,
    Mono,
}

struct Fonts {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
    mono: FontRef<'static>,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        // The bytes are compiled in and checked by `embedded_fonts_parse_and_cover_the_text`,
        // so a failure here is a broken build, not bad input.
        let parse = |bytes, name| FontRef::try_from_slice(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        Fonts {
            regular: parse(SANS, "DejaVuSans.ttf"),
            bold: parse(SANS_BOLD, "DejaVuSans-Bold.ttf"),
            mono: parse(MONO, "DejaVuSansMono.ttf"),
        }
    })
}

pub(crate) fn font(face: Face) -> &'static FontRef<'static> {
    let f = fonts();
    match face {
        Face::Regular => &f.regular,
        Face::Bold => &f.bold,
        Face::Mono => &f.mono,
    }
}

/// Face, size and colour of a run of text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pen {
    pub face: Face,
    pub px: f32,
    pub color: Rgb<u8>,
}

impl Pen {
    pub fn new(face: Face, px: f32, color: Rgb<u8>) -> Self {
        Pen { face, px, color }
    }

    pub fn with(self, face: Face) -> Self {
        Pen { face, ..self }
    }

    pub fn sized(self, px: f32) -> Self {
        Pen { px, ..self }
    }

    /// Ascent minus descent: from a line's top to the bottom of its deepest descender.
    pub fn height(&self) -> f32 {
        let f = font(self.face).as_scaled(PxScale::from(self.px));
        f.ascent() - f.descent()
    }

    /// From a line's top to its baseline.
    pub fn ascent(&self) -> f32 {
        font(self.face).as_scaled(PxScale::from(self.px)).ascent()
    }

    /// The font's em in pixels (what a PDF calls the font size): ab_glyph scales so that
    /// ascent minus descent is `px`.
    pub fn em(&self) -> f32 {
        let f = font(self.face);
        self.px * f.units_per_em().unwrap_or(1000.0) / f.height_unscaled()
    }

    /// Where text following `text` on the same line starts, relative to its `x`.
    pub fn advance(&self, text: &str) -> f32 {
        walk_glyphs(*self, 0.0, 0.0, text, |_| {})
    }
}

/// Lays out `text` with its line top at (`x`, `y`), kerning each pair before placing the
/// second glyph; calls `f` with every glyph that has an outline and returns the advance.
fn walk_glyphs(pen: Pen, x: f32, y: f32, text: &str, mut f: impl FnMut(OutlinedGlyph)) -> f32 {
    let scale = PxScale::from(pen.px);
    let sf = font(pen.face).as_scaled(scale);
    let mut w = 0.0;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
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

    #[test]
    fn embedded_fonts_parse_and_cover_the_text() {
        for face in [Face::Regular, Face::Bold, Face::Mono] {
            let f = font(face);
            for c in "éèàçüöäßÉ€£$°–·²".chars() {
                assert_ne!(f.glyph_id(c).0, 0, "{face:?} lacks {c}");
            }
        }
    }

    #[test]
    fn measured_cells_contain_exactly_the_ink_drawn() {
        let texts = ["Gesamtbetrag", "Total TTC: 1 234,50 €", "Façade jüngst AVATAR Wy", "£9.99 $"];
        for face in [Face::Regular, Face::Bold, Face::Mono] {
            for (i, t) in texts.iter().enumerate() {
                let pen = Pen::new(face, 17.0 + 5.3 * i as f32, Rgb([0, 0, 0]));
                let mut sheet = Sheet::new(700, 120);
                sheet.text(31.4, 22.6, pen, t, "other_text");
                let (img, inked) = sheet.raster();
                let mut ink = [i32::MAX, i32::MAX, i32::MIN, i32::MIN];
                for (x, y, p) in img.enumerate_pixels() {
                    if p.0[0] < 255 {
                        let (x, y) = (x as i32, y as i32);
                        ink = [ink[0].min(x), ink[1].min(y), ink[2].max(x + 1), ink[3].max(y + 1)];
                        assert!(inked[0].cells.iter().any(|c| x >= c[0] && x < c[2] && y >= c[1] && y < c[3]));
                    }
                }
                let b = inked[0].bounds();
                // Cells are outline bounds rounded outwards, so at most a pixel of slack per side.
                for k in 0..4 {
                    assert!((b[k] - ink[k]).abs() <= 1, "{t} {face:?}: cells {b:?} ink {ink:?}");
                }
            }
        }
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
