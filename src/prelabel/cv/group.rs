//! Components → characters → words and lines. Every distance is a multiple of the measured
//! character height, so the same parameters serve a 150-dpi invoice and a 600-dpi receipt.

use super::CvConfig;
use super::components::Comp;

/// Axis-aligned box in working pixels (f32 so padding and scaling stay exact).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct BoxF {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl BoxF {
    fn of(c: &Comp) -> Self {
        Self { x0: c.x0 as f32, y0: c.y0 as f32, x1: c.x1 as f32, y1: c.y1 as f32 }
    }
    fn union(&self, o: &BoxF) -> Self {
        Self { x0: self.x0.min(o.x0), y0: self.y0.min(o.y0), x1: self.x1.max(o.x1), y1: self.y1.max(o.y1) }
    }
    pub fn w(&self) -> f32 {
        self.x1 - self.x0
    }
    pub fn h(&self) -> f32 {
        self.y1 - self.y0
    }
    fn cy(&self) -> f32 {
        (self.y0 + self.y1) * 0.5
    }
}

/// A glyph: one component, or several stacked ones merged (i, é, :, =).
#[derive(Debug, Clone, Copy)]
pub(super) struct Glyph {
    pub b: BoxF,
    pub ink: u32,
}

/// One line segment: its glyphs (indices into the glyph list), box and typical glyph height.
#[derive(Debug, Clone)]
pub(super) struct Line {
    pub b: BoxF,
    pub glyphs: Vec<usize>,
    pub height: f32,
    pub score: f32,
}

/// Typical character height: the median height of letter-shaped components. Dots, dashes,
/// rules and blobs fall outside the shape window and do not pull it.
pub(super) fn char_height(comps: &[Comp]) -> Option<f32> {
    let mut hs: Vec<u32> = comps
        .iter()
        .filter(|c| {
            let (w, h) = (c.w() as f32, c.h() as f32);
            c.h() >= 5 && c.h() <= 400 && w >= 0.1 * h && w <= 2.0 * h && c.ink as f32 >= 0.1 * w * h
        })
        .map(|c| c.h())
        .collect();
    if hs.is_empty() {
        return None;
    }
    let mid = hs.len() / 2;
    let (_, m, _) = hs.select_nth_unstable(mid);
    Some(*m as f32)
}

struct Dsu(Vec<usize>);

impl Dsu {
    fn new(n: usize) -> Self {
        Self((0..n).collect())
    }
    fn find(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.0[a.max(b)] = a.min(b);
        }
    }
    fn groups(&mut self) -> Vec<Vec<usize>> {
        let n = self.0.len();
        let mut slot = vec![usize::MAX; n];
        let mut out: Vec<Vec<usize>> = Vec::new();
        for i in 0..n {
            let r = self.find(i);
            if slot[r] == usize::MAX {
                slot[r] = out.len();
                out.push(Vec::new());
            }
            out[slot[r]].push(i);
        }
        out
    }
}

/// Drops specks, rules and blobs, and merges vertically stacked parts of one character.
/// Components touching the page edge are dropped too: they are scanner shadows and the
/// edges of the paper far more often than text.
pub(super) fn glyphs(comps: &[Comp], ch: f32, (w, h): (u32, u32), cfg: &CvConfig) -> Vec<Glyph> {
    let min_ink = (cfg.speck_k * ch).powi(2).max(2.0);
    let keep: Vec<Glyph> = comps
        .iter()
        .filter(|c| c.x0 > 0 && c.y0 > 0 && c.x1 < w && c.y1 < h)
        .filter(|c| {
            let (w, h) = (c.w() as f32, c.h() as f32);
            let speck = (c.ink as f32) < min_ink;
            let blob = h > cfg.blob_k * ch;
            let rule = w > cfg.rule_k * ch && h < 0.6 * ch;
            // What run erasure leaves of a slightly skewed rule: long and one stroke thin.
            let rule_piece = (h > 1.5 * ch && w < 0.3 * ch) || (w > 1.5 * ch && h < 0.3 * ch);
            !(speck || blob || rule || rule_piece)
        })
        .map(|c| Glyph { b: BoxF::of(c), ink: c.ink })
        .collect();
    let mut order: Vec<usize> = (0..keep.len()).collect();
    order.sort_by(|&a, &b| keep[a].b.x0.total_cmp(&keep[b].b.x0));
    let mut dsu = Dsu::new(keep.len());
    let small = |g: &Glyph| g.b.h() < 0.5 * ch;
    for (oi, &a) in order.iter().enumerate() {
        let ga = keep[a].b;
        for &b in &order[oi + 1..] {
            let gb = keep[b].b;
            if gb.x0 >= ga.x1 {
                break;
            }
            if !(small(&keep[a]) || small(&keep[b])) {
                continue;
            }
            let x_ov = ga.x1.min(gb.x1) - ga.x0.max(gb.x0);
            let y_gap = ga.y0.max(gb.y0) - ga.y1.min(gb.y1);
            let merged = ga.union(&gb);
            if x_ov >= 0.5 * ga.w().min(gb.w()) && y_gap <= 0.35 * ch && merged.h() <= 1.5 * ch {
                dsu.union(a, b);
            }
        }
    }
    dsu.groups()
        .into_iter()
        .map(|g| {
            let b = g.iter().skip(1).fold(keep[g[0]].b, |acc, &i| acc.union(&keep[i].b));
            Glyph { b, ink: g.iter().map(|&i| keep[i].ink).sum() }
        })
        .collect()
}

/// Chains glyphs left to right into line segments. Each letter-sized glyph links to its
/// nearest compatible neighbour on the right; a gap wider than `line_gap_k` character heights
/// ends the segment, which is how receipts' "CASHIER    : HASSAN" become two boxes.
/// Punctuation-sized glyphs then join the nearest segment in their band, or are dropped
/// (rows of dashes are separators, not text).
pub(super) fn lines(gl: &[Glyph], ch: f32, cfg: &CvConfig) -> Vec<Line> {
    let letter_min = cfg.core_k * ch;
    let mut order: Vec<usize> = (0..gl.len()).collect();
    order.sort_by(|&a, &b| gl[a].b.x0.total_cmp(&gl[b].b.x0));
    let mut dsu = Dsu::new(gl.len());
    let max_h = 3.0 * ch;
    let scale = |a: &BoxF, b: &BoxF| a.h().max(b.h()).clamp(0.75 * ch, max_h);
    for (oi, &a) in order.iter().enumerate() {
        let ga = gl[a].b;
        let reach = cfg.line_gap_k * max_h;
        let mut best: Option<(f32, usize)> = None;
        for &b in &order[oi + 1..] {
            let gb = gl[b].b;
            if gb.x0 > ga.x1 + reach {
                break;
            }
            if !compatible(&ga, &gb, letter_min) {
                continue;
            }
            let gap = gb.x0 - ga.x1;
            if gap <= 0.0 {
                dsu.union(a, b);
            } else if gap <= cfg.line_gap_k * scale(&ga, &gb) && best.is_none_or(|(g, _)| gap < g) {
                best = Some((gap, b));
            }
        }
        if let Some((_, b)) = best {
            dsu.union(a, b);
        }
    }
    let mut segs: Vec<Line> = dsu
        .groups()
        .into_iter()
        .filter_map(|g| {
            let b = g.iter().skip(1).fold(gl[g[0]].b, |acc, &i| acc.union(&gl[i].b));
            let mut hs: Vec<f32> = g.iter().map(|&i| gl[i].b.h()).filter(|&h| h >= letter_min).collect();
            hs.sort_by(f32::total_cmp);
            // Rows of dashes, dots or "=" carry no letter-sized glyph: separators, not text.
            let height = *hs.get(hs.len() / 2)?;
            // A lone glyph must look like a digit or letter (a quantity "1"), not a colon,
            // an asterisk or the corner of a frame.
            if g.len() == 1 {
                let gl1 = &gl[g[0]];
                let density = gl1.ink as f32 / (b.w() * b.h()).max(1.0);
                let letter = b.h() >= 0.75 * ch && b.h() <= 1.5 * ch && b.w() <= 1.2 * b.h();
                if !letter || density < 0.2 {
                    return None;
                }
            }
            Some(Line { b, glyphs: g, height, score: 0.0 })
        })
        .collect();
    for s in &mut segs {
        s.score = line_score(s, gl, ch, |g: &Glyph| g.b.h() >= letter_min);
    }
    segs
}

/// Whether two glyphs can sit next to each other on one line: letters of similar height
/// sharing a band, or punctuation inside a letter's band (a comma dips a little below it).
fn compatible(a: &BoxF, b: &BoxF, letter_min: f32) -> bool {
    let (la, lb) = (a.h() >= letter_min, b.h() >= letter_min);
    match (la, lb) {
        (true, true) => same_band(a, b),
        (true, false) => inside_band(b, a),
        (false, true) => inside_band(a, b),
        (false, false) => false,
    }
}

fn inside_band(small: &BoxF, letter: &BoxF) -> bool {
    let slack = 0.3 * letter.h();
    small.y0 >= letter.y0 - slack && small.y1 <= letter.y1 + slack
}

fn same_band(a: &BoxF, b: &BoxF) -> bool {
    let ov = a.y1.min(b.y1) - a.y0.max(b.y0);
    let (lo, hi) = (a.h().min(b.h()), a.h().max(b.h()));
    ov >= 0.5 * lo && hi <= 2.2 * lo && (a.cy() - b.cy()).abs() <= 0.4 * hi
}

/// How much a segment looks like printed text: several glyphs of even height, wider than
/// tall, at a plausible size. Lone glyphs (a stray "1", or a speck that got through) score low.
fn line_score(s: &Line, gl: &[Glyph], ch: f32, is_core: impl Fn(&Glyph) -> bool) -> f32 {
    let hs: Vec<f32> = s.glyphs.iter().filter(|&&i| is_core(&gl[i])).map(|&i| gl[i].b.h()).collect();
    let n = hs.len() as f32;
    let mean = hs.iter().sum::<f32>() / n.max(1.0);
    let sd = (hs.iter().map(|h| (h - mean).powi(2)).sum::<f32>() / n.max(1.0)).sqrt();
    let count = 1.0 - (-n / 2.5).exp();
    let evenness = (1.0 - sd / mean.max(1.0)).clamp(0.0, 1.0);
    let shape = (s.b.w() / s.b.h().max(1.0) / 3.0).clamp(0.0, 1.0);
    let size = (1.0 - ((s.height / ch).ln().abs() / 1.5)).clamp(0.0, 1.0);
    (0.4 * count + 0.2 * evenness + 0.2 * shape + 0.2 * size).clamp(0.0, 1.0)
}

/// Splits a line into words at gaps wider than `word_gap_k` times the line's glyph height.
pub(super) fn words(line: &Line, gl: &[Glyph], cfg: &CvConfig) -> Vec<BoxF> {
    let mut g: Vec<BoxF> = line.glyphs.iter().map(|&i| gl[i].b).collect();
    g.sort_by(|a, b| a.x0.total_cmp(&b.x0));
    let mut out: Vec<BoxF> = Vec::new();
    let limit = cfg.word_gap_k * line.height;
    for b in g {
        match out.last_mut() {
            Some(w) if b.x0 - w.x1 <= limit => *w = w.union(&b),
            _ => out.push(b),
        }
    }
    out
}
