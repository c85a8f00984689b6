//! Classic-CV text proposals: page image → text-line and word boxes with image and imageproc
//! only, no learned model. Grey → contrast stretch → Sauvola binarisation → connected
//! components (table rules removed) → glyphs → lines split at wide gaps → words.
//!
//! Every size is relative to the character height measured on the page itself, and big
//! scans are shrunk to a working resolution first, so a 150-dpi invoice and a 600-dpi
//! receipt go through the same parameters in similar time.

mod binarize;
mod components;
pub(crate) mod gray;
mod group;
mod skew;

use image::DynamicImage;

use super::{Level, Proposal, ProposalSource};
use crate::domain::{Point, Quad, Rect};
use group::BoxF;

/// Tuning of [`propose`]. Factors named `*_k` multiply the measured character height.
#[derive(Debug, Clone, PartialEq)]
pub struct CvConfig {
    /// Pages are shrunk by an integer factor until the long side is at most this. Text
    /// stays 15–30 px high on A4 and receipts while a 7016-px scan costs what a 1750-px one does.
    pub max_side_px: u32,
    /// Sauvola half-window, in character heights (≈ 1.5 sees paper around every glyph).
    pub window_k: f32,
    /// Sauvola sensitivity: higher drops more faint ink.
    pub sauvola_k: f32,
    /// Windows whose grey-level standard deviation is below this are paper, not ink.
    pub min_contrast: f32,
    /// Components with less ink than `(speck_k · h)²` pixels are noise.
    pub speck_k: f32,
    /// Taller than this is a logo, stamp, photo or vertical rule.
    pub blob_k: f32,
    /// Wider than this and flatter than 0.6 h is a rule; ink runs this long are erased.
    pub rule_k: f32,
    /// Glyphs at least this tall carry a line; smaller ones (dots, dashes) only join one.
    pub core_k: f32,
    /// A gap wider than this ends a line segment.
    pub line_gap_k: f32,
    /// A gap wider than this (in the line's own glyph height) ends a word.
    pub word_gap_k: f32,
    /// Margin added around line boxes, since annotators draw boxes with some air around the ink.
    pub pad_x_k: f32,
    pub pad_y_k: f32,
    /// Largest skew searched, in degrees.
    pub max_skew_deg: f32,
    /// At or above this skew, proposals also carry a rotated quad.
    pub quad_min_skew_deg: f32,
    /// Proposals scoring below this are dropped.
    pub min_score: f32,
}

impl Default for CvConfig {
    fn default() -> Self {
        Self {
            max_side_px: 2000,
            window_k: 1.5,
            sauvola_k: 0.2,
            min_contrast: 8.0,
            speck_k: 0.1,
            blob_k: 4.0,
            rule_k: 6.0,
            core_k: 0.45,
            line_gap_k: 1.0,
            word_gap_k: 0.3,
            pad_x_k: 0.1,
            pad_y_k: 0.0,
            max_skew_deg: 5.0,
            quad_min_skew_deg: 1.0,
            min_score: 0.0,
        }
    }
}

/// Proposals for one page, in the page's own pixel coordinates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CvResult {
    pub lines: Vec<Proposal>,
    pub words: Vec<Proposal>,
    /// Estimated skew in degrees, positive when lines slope down to the right.
    pub skew_deg: f32,
}

/// Line and word proposals for a page. Never panics; an empty or blank page gives no boxes.
pub fn propose(img: &DynamicImage, cfg: &CvConfig) -> CvResult {
    let (w0, h0) = (img.width(), img.height());
    if w0 < 2 || h0 < 2 {
        return CvResult::default();
    }
    let factor = gray::factor_for(w0, h0, cfg.max_side_px);
    let mut work = gray::to_working(img, factor);
    gray::stretch_contrast(&mut work.img);
    let (w, h) = (work.img.width() as usize, work.img.height() as usize);

    // A global Otsu pass measures the character height; Sauvola then runs with a window and
    // rule lengths sized to it.
    let level = imageproc::contrast::otsu_level(&work.img);
    let mask: Vec<u8> = work.img.as_raw().iter().map(|&v| u8::from(v <= level)).collect();
    let comps = components::components(&mask, w, h, usize::MAX);
    let Some(ch) = group::char_height(&comps) else {
        return CvResult::default();
    };
    let radius = (cfg.window_k * ch).round().clamp(4.0, 200.0) as u32;
    let max_run = (cfg.rule_k * ch).max(8.0) as usize;
    let mut mask = binarize::sauvola(&work.img, radius, cfg.sauvola_k, cfg.min_contrast);
    components::erase_vertical_runs(&mut mask, w, h, max_run);
    let comps = components::components(&mask, w, h, max_run);
    let ch = group::char_height(&comps).unwrap_or(ch);

    let glyphs = group::glyphs(&comps, ch, (w as u32, h as u32), cfg);
    let segs = group::lines(&glyphs, ch, cfg);
    let skew_deg = skew::estimate(&segs, &glyphs, ch, cfg.max_skew_deg);

    let scale = work.factor as f32;
    let (fw, fh) = (w0 as f32, h0 as f32);
    let to_page = |b: &BoxF, hgt: f32| -> Rect {
        let (px, py) = (cfg.pad_x_k * hgt, cfg.pad_y_k * hgt);
        Rect::new((b.x0 - px) * scale, (b.y0 - py) * scale, (b.x1 + px) * scale, (b.y1 + py) * scale).clamped(fw, fh)
    };
    let with_quad = skew_deg.abs() >= cfg.quad_min_skew_deg;
    let mut out = CvResult { skew_deg, ..Default::default() };
    for s in segs.iter().filter(|s| s.score >= cfg.min_score) {
        let rect = to_page(&s.b, s.height);
        let quad = with_quad.then(|| oriented_quad(&s.glyphs, &glyphs, skew_deg, scale));
        out.lines.push(Proposal { rect, quad, text: None, score: s.score, level: Level::Line });
        for wb in group::words(s, &glyphs, cfg) {
            let rect = to_page(&wb, s.height);
            out.words.push(Proposal { rect, quad: None, text: None, score: s.score, level: Level::Word });
        }
    }
    // Reading order: top to bottom, then left to right, for stable output and UIs.
    let key = |p: &Proposal| (p.rect.y0, p.rect.x0);
    out.lines.sort_by(|a, b| key(a).partial_cmp(&key(b)).unwrap_or(std::cmp::Ordering::Equal));
    out.words.sort_by(|a, b| key(a).partial_cmp(&key(b)).unwrap_or(std::cmp::Ordering::Equal));
    out
}

/// Tightest quad around the glyphs in the page's skewed frame, in page pixels.
fn oriented_quad(members: &[usize], glyphs: &[group::Glyph], skew_deg: f32, scale: f32) -> Quad {
    let (s, c) = skew_deg.to_radians().sin_cos();
    let (mut u0, mut v0, mut u1, mut v1) = (f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY);
    for &i in members {
        let b = glyphs[i].b;
        for (x, y) in [(b.x0, b.y0), (b.x1, b.y0), (b.x1, b.y1), (b.x0, b.y1)] {
            let (u, v) = (x * c + y * s, -x * s + y * c);
            (u0, v0, u1, v1) = (u0.min(u), v0.min(v), u1.max(u), v1.max(v));
        }
    }
    let back = |u: f32, v: f32| Point::new((u * c - v * s) * scale, (u * s + v * c) * scale);
    Quad([back(u0, v0), back(u1, v0), back(u1, v1), back(u0, v1)])
}

/// [`propose`] as a [`ProposalSource`] ("cv"), returning the line level.
#[derive(Debug, Clone, Default)]
pub struct CvSource {
    pub config: CvConfig,
}

impl ProposalSource for CvSource {
    fn name(&self) -> String {
        "cv".into()
    }

    fn propose(&mut self, page: &DynamicImage) -> anyhow::Result<Vec<Proposal>> {
        Ok(propose(page, &self.config).lines)
    }
}
