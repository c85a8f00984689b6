//! Splitting a detected line where the recognised text has a wide gap. PP-OCR's detector
//! joins "INV No.:1030720      Cashier:Nicole" into one line; annotators (and SROIE's ground
//! truth) want two segments. The CTC time steps say where each character sits, so a run of
//! spaces much wider than the line is tall marks the cut.

use image::{GrayImage, RgbImage};

use super::rec::{CharAt, Reading};
use crate::domain::{Point, Quad, Rect};
use crate::labeling::rules::{Cue, whole_caption};

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
    match ink_extent(&grey_of(page, (x0, y0), (x1, y1))) {
        Some(e) => Rect::new(
            (x0 as f32 + e.x0 - margin_px).max(c.x0),
            (y0 as f32 + e.y0 - margin_px).max(c.y0),
            (x0 as f32 + e.x1 + margin_px).min(c.x1),
            (y0 as f32 + e.y1 + margin_px).min(c.y1),
        ),
        None => *r,
    }
}

/// Shrinks a tilted line's quad to the ink inside it, plus `margin_px`, in the quad's own
/// frame: the envelope of a tilted DB box is tall with the unclip offset turned into both
/// axes, while the ink's own envelope is what an annotator boxes. The quad is returned as it
/// is when its crop has no clear ink or was read turned.
pub fn tighten_quad_to_ink(page: &RgbImage, quad: &Quad, margin_px: f32) -> Quad {
    let Some(crop) = super::rec::crop_quad(page, quad) else { return *quad };
    if crop.turned {
        return *quad;
    }
    let grey = image::imageops::grayscale(&crop.image);
    let Some(e) = ink_extent(&grey) else { return *quad };
    let grown = Rect::new(e.x0 - margin_px, e.y0 - margin_px, e.x1 + margin_px, e.y1 + margin_px);
    on_page(quad, grey.width() as f32, grey.height() as f32, &grown)
}

/// The grey of the pixels from `(x0, y0)` to just before `(x1, y1)` of `page` (in range), as
/// every ink measure here sees them ([`crate::prelabel::cv::gray::luma`]). Only the box is
/// greyed, not the page: a 35-megapixel scan has a few hundred KB of lines.
fn grey_of(page: &RgbImage, (x0, y0): (u32, u32), (x1, y1): (u32, u32)) -> GrayImage {
    GrayImage::from_fn(x1 - x0, y1 - y0, |x, y| {
        let [r, g, b] = page.get_pixel(x0 + x, y0 + y).0;
        image::Luma([crate::prelabel::cv::gray::luma(r, g, b)])
    })
}

/// The part `r` of the `w` x `h` crop of `quad` ([`super::rec::crop_quad`]), back on the
/// page: its corners placed bilinearly between the quad's (clamped to the crop).
pub fn on_page(quad: &Quad, w: f32, h: f32, r: &Rect) -> Quad {
    let [tl, tr, br, bl] = quad.0;
    let at = |u: f32, v: f32| {
        let (s, t) = ((u / w.max(1.0)).clamp(0.0, 1.0), (v / h.max(1.0)).clamp(0.0, 1.0));
        let top = (tl.x + (tr.x - tl.x) * s, tl.y + (tr.y - tl.y) * s);
        let bottom = (bl.x + (br.x - bl.x) * s, bl.y + (br.y - bl.y) * s);
        Point::new(top.0 + (bottom.0 - top.0) * t, top.1 + (bottom.1 - top.1) * t)
    };
    Quad([at(r.x0, r.y0), at(r.x1, r.y0), at(r.x1, r.y1), at(r.x0, r.y1)])
}

/// A row inked over at least this share of a crop's width, in the crop's top or bottom
/// [`RULE_EDGE`] and set apart from the line by blank rows, is a table's rule, not text.
const RULE_ROW_SHARE: f32 = 0.5;
/// A column inked over at least this share of a crop's height, in its left or right
/// [`RULE_EDGE`], whose ink goes on above or below the line, is a table's rule (a glyph's
/// stem stays within the line).
const RULE_COLUMN_SHARE: f32 = 0.7;
/// How far into a crop from its edges a rule can lie.
const RULE_EDGE: f32 = 0.3;

/// The ink's extent in a grey crop, ignoring specks (a row or column needs a few percent of
/// the densest one's ink), the rules of a ruled table that a detected box caught at its
/// edges, and stray ink above or below the line (a fragment of a rule or of the next line,
/// set apart by blank rows): the columns are measured within the line's own rows. A tight
/// crop's own letters are never taken for rules. `None` when nothing stands out as ink.
fn ink_extent(crop: &GrayImage) -> Option<Rect> {
    let level = ink_level(crop.as_raw())?;
    let (w, h) = (crop.width() as usize, crop.height() as usize);
    let inked = |x: usize, y: usize| crop.get_pixel(x as u32, y as u32).0[0] <= level;
    let edge = |i: usize, n: usize| (i as f32) < RULE_EDGE * n as f32 || (i as f32) >= (1.0 - RULE_EDGE) * n as f32;
    let tall: Vec<bool> = (0..w)
        .map(|x| h >= 8 && edge(x, w) && (0..h).filter(|&y| inked(x, y)).count() as f32 >= RULE_COLUMN_SHARE * h as f32)
        .collect();
    // the rows' ink without tall columns (a rule down the side, or a stem: the other letters
    // still show the line's rows)
    let rows: Vec<u32> = (0..h).map(|y| (0..w).filter(|&x| !tall[x] && inked(x, y)).count() as u32).collect();
    // ...unless there are no other letters: then the tall columns are the line
    let rows = if rows.iter().all(|&n| n == 0) {
        (0..h).map(|y| (0..w).filter(|&x| inked(x, y)).count() as u32).collect()
    } else {
        rows
    };
    let rule_rows: Vec<bool> =
        rows.iter().enumerate().map(|(y, &n)| w >= 8 && edge(y, h) && n as f32 >= RULE_ROW_SHARE * w as f32).collect();
    let (y0, y1) = line_rows(&rows, &rule_rows)?;
    // a tall column whose ink goes on above or below the line is a rule
    let outside = h - (y1 - y0);
    let rule_cols: Vec<bool> = (0..w)
        .map(|x| {
            tall[x] && outside > 0 && {
                let beyond = (0..y0).chain(y1..h).filter(|&y| inked(x, y)).count();
                beyond as f32 >= 0.5 * outside as f32
            }
        })
        .collect();
    let cols: Vec<u32> =
        (0..w).map(|x| if rule_cols[x] { 0 } else { (y0..y1).filter(|&y| inked(x, y)).count() as u32 }).collect();
    let (x0, x1) = inked_span(&cols)?;
    Some(Rect::new(x0 as f32, y0 as f32, x1 as f32, y1 as f32))
}

/// First to just past the last entry of `v` with a few percent of its largest (specks are
/// not ink).
fn inked_span(v: &[u32]) -> Option<(usize, usize)> {
    let floor = (v.iter().copied().max().unwrap_or(0) / 20).max(1);
    let first = v.iter().position(|&n| n >= floor)?;
    let last = v.iter().rposition(|&n| n >= floor)?;
    Some((first, last + 1))
}

/// The rows of a crop's line of text, from its rows' ink: the inked span, less runs of rows
/// at either end that are set apart by blank rows and are rules (`rule`), or are set apart by
/// at least [`STRAY_GAP`] blank rows and hold under [`STRAY_SHARE`] of the ink (an accent sits
/// closer to its letter than that).
fn line_rows(rows: &[u32], rule: &[bool]) -> Option<(usize, usize)> {
    let (first, last) = inked_span(rows)?;
    let floor = (rows.iter().copied().max().unwrap_or(0) / 20).max(1);
    // runs of inked rows within the span: (start, end)
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (y, &n) in rows.iter().enumerate().take(last).skip(first) {
        if n < floor {
            continue;
        }
        match runs.last_mut() {
            Some(run) if run.1 == y => run.1 = y + 1,
            _ => runs.push((y, y + 1)),
        }
    }
    let ink = |r: &(usize, usize)| rows[r.0..r.1].iter().map(|&n| n as u64).sum::<u64>();
    let total: u64 = runs.iter().map(ink).sum();
    let stray = |run: &(usize, usize), gap: usize| {
        (gap >= 1 && (run.0..run.1).all(|y| rule[y]))
            || (gap >= STRAY_GAP && (ink(run) as f32) < STRAY_SHARE * total as f32)
    };
    let (mut lo, mut hi) = (0, runs.len());
    while hi - lo >= 2 && stray(&runs[lo], runs[lo + 1].0 - runs[lo].1) {
        lo += 1;
    }
    while hi - lo >= 2 && stray(&runs[hi - 1], runs[hi - 1].0 - runs[hi - 2].1) {
        hi -= 1;
    }
    Some((runs[lo].0, runs[hi - 1].1))
}

/// Blank rows that set stray ink apart from a line (see [`line_rows`]).
const STRAY_GAP: usize = 3;
/// The most of a crop's ink that stray ink above or below its line holds.
const STRAY_SHARE: f32 = 0.12;

/// The grey level at or below which a crop's pixels are ink: halfway between its background
/// (the 90th percentile: text covers less than that even in a tight box of bold type) and its
/// darkest percent, so a shaded table header or a grey panel is background, not ink (Otsu's
/// threshold would split paper from shade there). `None` when nothing stands out by 40 grey
/// levels.
pub fn ink_level(grey: &[u8]) -> Option<u8> {
    let (dark, background) = dark_and_paper(grey);
    (background.saturating_sub(dark) >= 40).then(|| dark + (background - dark) / 2)
}

/// A crop's darkest percent and its background (the 90th percentile), as grey levels.
fn dark_and_paper(grey: &[u8]) -> (u8, u8) {
    let mut hist = [0u32; 256];
    for &v in grey {
        hist[v as usize] += 1;
    }
    let at = |q: f32| {
        let want = (q * grey.len() as f32) as u32;
        let mut seen = 0;
        hist.iter()
            .position(|&n| {
                seen += n;
                seen > want
            })
            .unwrap_or(255) as u8
    };
    (at(0.01), at(0.9))
}

/// The ink of one axis-aligned line crop, column by column.
pub struct InkColumns {
    /// The crop's left edge on the page.
    pub x0: f32,
    /// Ink pixels per column.
    pub counts: Vec<u32>,
    /// Rows from the first to the last inked row (the ink's height).
    pub ink_height: f32,
    /// Column ranges (page x) of a ruled table's vertical rules that run through the crop,
    /// counted as paper (see [`vertical_rules`]; only in a line's crop).
    pub rules: Vec<(f32, f32)>,
}

impl InkColumns {
    /// Measures the ink in `r` on `page` (see [`ink_level`]); `None` when nothing in `r`
    /// stands out or `r` is empty.
    pub fn measure(page: &RgbImage, r: &Rect) -> Option<Self> {
        Self::measure_with(page, r, false)
    }

    /// Measures the ink of a detected line's whole crop, with a table rule along its top or
    /// bottom edge counted as paper ([`edge_rules`]; a detected box has paper at both ends of
    /// its text, which is what tells a rule from the flat tops of capitals).
    pub fn measure_line_crop(crop: &RgbImage) -> Option<Self> {
        let (w, h) = crop.dimensions();
        Self::measure_with(crop, &Rect::new(0.0, 0.0, w as f32, h as f32), true)
    }

    fn measure_with(page: &RgbImage, r: &Rect, drop_edge_rules: bool) -> Option<Self> {
        let c = r.clamped(page.width() as f32, page.height() as f32);
        let (x0, y0) = (c.x0.floor().max(0.0) as u32, c.y0.floor().max(0.0) as u32);
        let (x1, y1) = ((c.x1.ceil() as u32).min(page.width()), (c.y1.ceil() as u32).min(page.height()));
        if x1 <= x0 + 1 || y1 <= y0 + 1 {
            return None;
        }
        let (w, h) = ((x1 - x0) as usize, (y1 - y0) as usize);
        let grey = grey_of(page, (x0, y0), (x1, y1));
        let level = ink_level(grey.as_raw())?;
        let ink: Vec<bool> = grey.as_raw().iter().map(|&v| v <= level).collect();
        let rule = if drop_edge_rules { edge_rules(&ink, w, h) } else { None };
        let upright = if drop_edge_rules { vertical_rules(grey.as_raw(), w, h) } else { Vec::new() };
        let in_upright = |x: usize| upright.iter().any(|&(a, z)| x >= a && x < z);
        let is_rule = |i: usize| rule.as_ref().is_some_and(|r| r[i]) || (!upright.is_empty() && in_upright(i % w));
        let mut counts = vec![0u32; w];
        let mut rows = vec![0u32; h];
        for i in (0..ink.len()).filter(|&i| ink[i] && !is_rule(i)) {
            counts[i % w] += 1;
            rows[i / w] += 1;
        }
        // rows with a few percent of the densest row's ink: the text's body, not specks
        let (first, end) = inked_span(&rows)?;
        let rules = upright.iter().map(|&(a, z)| (x0 as f32 + a as f32, x0 as f32 + z as f32)).collect();
        Some(Self { x0: x0 as f32, counts, ink_height: (end - first) as f32, rules })
    }

    /// Blank runs between inked columns, as page x ranges, from left to right.
    pub fn gaps(&self) -> Vec<(f32, f32)> {
        // one inked pixel is enough: a dash or a rule is one or two pixels thin
        let inked: Vec<bool> = self.counts.iter().map(|&n| n >= 1).collect();
        let (Some(first), Some(last)) = (inked.iter().position(|&i| i), inked.iter().rposition(|&i| i)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut start = None;
        for (x, &ink) in inked.iter().enumerate().take(last + 1).skip(first) {
            match (ink, start) {
                (false, None) => start = Some(x),
                (true, Some(s)) => {
                    out.push((self.x0 + s as f32, self.x0 + x as f32));
                    start = None;
                }
                _ => {}
            }
        }
        out
    }
}

/// The pixels of a table's rule that runs along the top or bottom edge of a line's crop
/// (`ink` is `w` x `h`, row by row), so they count as paper: on a tilted page the rule a
/// detected box caught crosses rows of the crop at a slant and inks every column, leaving no
/// blank run between the cells below it. A rule is a thin straight run of ink from one end of
/// the crop to the other (a detected box has paper at both ends of its text, an underline
/// stops with its words) near an edge, set apart from the text along most of its length.
/// `None` when the crop has no such rule (most lines), so nothing is allocated for them.
fn edge_rules(ink: &[bool], w: usize, h: usize) -> Option<Vec<bool>> {
    let mut rule: Option<Vec<bool>> = None;
    if h < 6 || w < 3 * h || ink.len() != w * h {
        return rule;
    }
    for from_top in [true, false] {
        let y_at = |depth: usize| if from_top { depth } else { h - 1 - depth };
        let inked = |x: usize, depth: usize| ink[y_at(depth) * w + x];
        // per column, how far in from the edge its first ink is
        let depth: Vec<Option<usize>> = (0..w).map(|x| (0..h).find(|&d| inked(x, d))).collect();
        let Some((a, b, inliers)) = fit_edge(&depth) else { continue };
        let n = inliers.len();
        let end = (w / 10).max(1);
        let near_ends = |lo: usize, hi: usize| inliers.iter().filter(|&&x| x >= lo && x < hi).count();
        let spans = n as f32 >= 0.85 * w as f32
            && near_ends(0, end) as f32 >= 0.7 * end as f32
            && near_ends(w - end, w) as f32 >= 0.7 * end as f32;
        let near_edge = a + b * w as f32 / 2.0 <= 0.35 * h as f32;
        if !spans || !near_edge || b.abs() > 0.1 {
            continue;
        }
        // its thickness where nothing touches it, and whether that is most of its length
        let run: Vec<usize> =
            (0..w).map(|x| depth[x].map_or(0, |d| (d..h).take_while(|&e| inked(x, e)).count())).collect();
        let mut runs: Vec<usize> = inliers.iter().map(|&x| run[x]).collect();
        runs.sort_unstable();
        let thick = runs[n / 2];
        let apart = runs.iter().filter(|&&r| r <= thick + 1).count();
        if thick as f32 > (h as f32 / 5.0).max(2.0) || (apart as f32) < 0.5 * n as f32 {
            continue;
        }
        let rule = rule.get_or_insert_with(|| vec![false; ink.len()]);
        for x in 0..w {
            let at = a + b * x as f32;
            // the column's own run where it is the rule alone; where the rule meets a glyph
            // (or fades), the band the rule runs in
            let (lo, hi) = match depth[x] {
                Some(d) if (d as f32 - at).abs() <= 1.5 && run[x] <= thick + 1 => (d, d + run[x]),
                _ => ((at - 1.0).floor().max(0.0) as usize, ((at + thick as f32 + 1.0).ceil() as usize).min(h)),
            };
            for d in lo..hi {
                rule[y_at(d) * w + x] = true;
            }
        }
    }
    rule
}

/// The vertical rules of a ruled table that run through a line's crop (`grey` is `w` x `h`,
/// row by row), as column ranges (`2 │ 1 836,34`: a quantity and a price detected as one line
/// across the rule between their cells). A rule is a run of at most a few columns, any shade
/// darker than the paper (an eighth of the way to the ink: a rule printed grey is often
/// lighter than the ink threshold), almost without a break from the crop's top row to its
/// bottom row, that goes on through the blank rows above and below the text with paper on
/// both sides of it there. No glyph does that: a detected box has paper above and below its
/// letters (a crop without two such rows at either end has no rule found in it), and a shadow
/// or the dark edge of a scan darkens its neighbours too.
fn vertical_rules(grey: &[u8], w: usize, h: usize) -> Vec<(usize, usize)> {
    if h < 8 || w < 5 || grey.len() != w * h {
        return Vec::new();
    }
    let (dark, paper) = dark_and_paper(grey);
    if paper.saturating_sub(dark) < 40 {
        return Vec::new();
    }
    let (level, shade) = (dark + (paper - dark) / 2, paper - ((paper - dark) / 8).max(8));
    let shaded = |x: usize, y: usize| grey[y * w + x] <= shade;
    let through: Vec<bool> =
        (0..w).map(|x| (0..h).filter(|&y| shaded(x, y)).count() as f32 >= RULE_THROUGH * h as f32).collect();
    if !through.contains(&true) {
        return Vec::new();
    }
    // the text's rows, without the candidate columns
    let rows: Vec<u32> =
        (0..h).map(|y| (0..w).filter(|&x| !through[x] && grey[y * w + x] <= level).count() as u32).collect();
    let Some((first, end)) = inked_span(&rows) else { return Vec::new() };
    if first < 2 || h - end < 2 {
        return Vec::new();
    }
    let blank_rows = || (0..first).chain(end..h);
    let share = |f: &dyn Fn(usize) -> bool| blank_rows().filter(|&y| f(y)).count() as f32 / (h - (end - first)) as f32;
    let widest = ((h as f32 * 0.15).round() as usize).max(3);
    let mut out = Vec::new();
    let mut x = 0;
    while x < w {
        if !through[x] {
            x += 1;
            continue;
        }
        let a = x;
        while x < w && through[x] {
            x += 1;
        }
        let z = x;
        if z - a > widest || a < 2 || z + 1 >= w {
            continue;
        }
        let rule = share(&|y| (a..z).any(|c| shaded(c, y))) >= 0.9;
        let apart = share(&|y| !shaded(a - 2, y)) >= 0.8 && share(&|y| !shaded(z + 1, y)) >= 0.8;
        if rule && apart {
            out.push((a, z));
        }
    }
    out
}

/// The share of a crop's rows a vertical rule inks (a faded scan breaks it here and there).
const RULE_THROUGH: f32 = 0.95;

/// A straight line `depth = a + b x` through the columns' depths by least squares, refitted
/// twice on the columns within 1.5 px of it; with the columns it fits.
fn fit_edge(depth: &[Option<usize>]) -> Option<(f32, f32, Vec<usize>)> {
    let mut keep: Vec<usize> = (0..depth.len()).filter(|&x| depth[x].is_some()).collect();
    let mut line = None;
    for _ in 0..3 {
        let n = keep.len() as f32;
        if n < 2.0 {
            return None;
        }
        let pts = || keep.iter().filter_map(|&x| depth[x].map(|d| (x as f32, d as f32)));
        let (mx, my) = (pts().map(|p| p.0).sum::<f32>() / n, pts().map(|p| p.1).sum::<f32>() / n);
        let sxx: f32 = pts().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f32 = pts().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        let a = my - b * mx;
        line = Some((a, b));
        keep = (0..depth.len())
            .filter(|&x| depth[x].is_some_and(|d| (d as f32 - (a + b * x as f32)).abs() <= 1.5))
            .collect();
    }
    line.map(|(a, b)| (a, b, keep))
}

/// A read line's blank runs, in pixels of its crop, and which of them the recogniser read
/// a space in.
#[derive(Debug, Clone, PartialEq)]
pub struct LineGaps {
    pub ink_height: f32,
    /// Inked width (first to last inked column), without the blank runs.
    pub ink_width: f32,
    /// `(start, end, has a space)` from left to right.
    pub gaps: Vec<(f32, f32, bool)>,
    /// First inked column to just past the last, in crop pixels.
    pub ink_span: (f32, f32),
    /// Per gap, what was read around it (for [`cell_cuts`] and [`column_cuts`]).
    pub around: Vec<Around>,
    /// Crop x ranges of the vertical rules counted as paper ([`InkColumns::rules`]).
    pub rules: Vec<(f32, f32)>,
}

impl LineGaps {
    /// Whether the blank run `a`..`z` holds a table's vertical rule: a cell's edge, whatever
    /// was read around it.
    pub fn ruled(&self, a: f32, z: f32) -> bool {
        self.rules.iter().any(|&(r0, r1)| r0 >= a && r1 <= z)
    }
}

/// What was read around a blank run of a line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Around {
    /// The word before it.
    pub before: String,
    /// The word before [`Self::before`].
    pub prior: String,
    /// The first few characters after it, spaces left out.
    pub after: String,
    /// The word after it.
    pub next: String,
}

impl LineGaps {
    /// Measures the crop of a line that `reading` was read from; `None` for a crop that was
    /// read turned, has no clear ink, or was read empty.
    pub fn measure(crop: &RgbImage, reading: &Reading) -> Option<Self> {
        if reading.turned || reading.text.trim().is_empty() {
            return None;
        }
        let ink = InkColumns::measure_line_crop(crop)?;
        let runs = ink.gaps();
        let inked = ink.counts.iter().filter(|&&n| n >= 1).count() as f32;
        // a CTC step sits within a few pixels of its glyph: a space whose step lands in (or
        // next to) a blank run is that run
        let slack = 0.25 * ink.ink_height;
        let gaps: Vec<(f32, f32, bool)> = runs
            .into_iter()
            .map(|(a, z)| {
                let space = reading.chars.iter().any(|c| c.text == " " && c.x_px >= a - slack && c.x_px <= z + slack);
                (a, z, space)
            })
            .collect();
        let around = gaps
            .iter()
            .map(|&(a, z, _)| {
                let mid = (a + z) / 2.0;
                let solid = || reading.chars.iter().filter(|c| c.text != " ");
                // the words before the gap, as read, nearest first (the recogniser's space can
                // sit left of the gap's middle)
                let left: String = reading.chars.iter().filter(|c| c.x_px < mid).map(|c| c.text.as_str()).collect();
                let mut words = left.split_whitespace().rev();
                let before = words.next().unwrap_or("").to_string();
                let prior = words.next().unwrap_or("").to_string();
                let after: String = solid().filter(|c| c.x_px >= mid).take(6).map(|c| c.text.as_str()).collect();
                let right: String = reading.chars.iter().filter(|c| c.x_px >= mid).map(|c| c.text.as_str()).collect();
                let next = next_word(&right);
                Around { before, prior, after, next }
            })
            .collect();
        let first = ink.counts.iter().position(|&n| n >= 1)? as f32;
        let last = ink.counts.iter().rposition(|&n| n >= 1)? as f32 + 1.0;
        let rules = ink.rules.clone();
        Some(Self {
            ink_height: ink.ink_height.max(1.0),
            ink_width: inked,
            gaps,
            ink_span: (first, last),
            around,
            rules,
        })
    }

    /// Widths of the runs read as spaces, in ink heights.
    fn spaces(&self) -> impl Iterator<Item = f32> + '_ {
        self.gaps.iter().filter(|g| g.2).map(|(a, z, _)| (z - a) / self.ink_height)
    }
}

/// A cell gap is at least this many ink heights wide, whatever the word spaces.
pub const CELL_GAP_MIN: f32 = 0.5;

/// Where to cut each line (crop x ranges of the blank runs to cut at; empty: keep whole).
///
/// A blank run is a gap between cells when it is at least `factor` × the line's word space
/// wide (and [`CELL_GAP_MIN`] ink heights). The word space is the median run the recogniser
/// read a space in: the line's own when it has two or more and not all of them are that wide,
/// else the page's; so a receipt's wide monospaced type is not cut at every word while an
/// invoice's `VAT   20 %`, or a header whose every gap is a column gap, is.
///
/// A line read much shorter than its ink is wide (a page's median line gets one character
/// per `c` pixels; this one has fewer than half that many characters) lost characters across
/// a gap: it is cut at its widest run of at least [`CELL_GAP_MIN`], to be read again in parts.
pub fn cell_cuts(lines: &[Option<(LineGaps, usize)>], factor: f32) -> Vec<Vec<(f32, f32)>> {
    let median = |mut v: Vec<f32>| -> Option<f32> {
        v.sort_by(f32::total_cmp);
        v.get(v.len() / 2).copied()
    };
    // a line's word space is its narrower spaces: in a merged table row half of its spaces
    // can be the column gaps themselves
    let lower_quartile = |mut v: Vec<f32>| -> Option<f32> {
        v.sort_by(f32::total_cmp);
        v.get(v.len().saturating_sub(1) / 4).copied()
    };
    let page_space = median(lines.iter().flatten().flat_map(|(g, _)| g.spaces()).collect()).unwrap_or(0.35);
    // ink pixels per character, in ink heights, over lines of a few characters or more
    let page_pitch = median(
        lines.iter().flatten().filter(|(_, n)| *n >= 4).map(|(g, n)| g.ink_width / g.ink_height / *n as f32).collect(),
    );
    lines
        .iter()
        .map(|line| {
            let Some((g, chars)) = line else { return Vec::new() };
            let own: Vec<f32> = g.spaces().collect();
            // a header whose every gap is a column gap has no word space of its own to go by
            let all_wide = own.iter().all(|&g| g >= factor * page_space);
            let (space, narrow) = if own.len() >= 2 && !all_wide {
                let narrow = lower_quartile(own.clone()).unwrap_or(page_space).max(page_space);
                let space = median(own).unwrap_or(page_space);
                (space, space.min(narrow))
            } else {
                (page_space, page_space)
            };
            let min = (factor * space).max(CELL_GAP_MIN) * g.ink_height;
            // before a figure, the line's narrower spaces are the measure: a merged row of
            // amounts (`937,17 €  19%   11.246,04 €`) has as many column gaps as word spaces
            let min_figure = (factor * narrow).max(CELL_GAP_MIN) * g.ink_height;
            // between two values of a table row, any blank run of a cell gap's least width
            // (`12 2,114.31 20 % 25,371.72`, a one-row table with no rows around to show
            // its columns)
            let min_values = CELL_GAP_MIN * g.ink_height;
            let cuts: Vec<(f32, f32)> = g
                .gaps
                .iter()
                .enumerate()
                .filter(|&(k, &(a, z, spaced))| {
                    let around = g.around.get(k);
                    // a digit group's space is cut only when wider than any font sets one
                    let one_cell =
                        around.is_some_and(|r| one_cell(r, spaced)) && z - a < THOUSANDS_SPACE_MAX * g.ink_height;
                    (g.ruled(a, z) && z - a >= CELL_GAP_MIN * g.ink_height)
                        || (!one_cell
                            && (z - a >= min
                                || (z - a >= min_figure
                                    && around.is_some_and(|r| figure_starts_after(&r.before, &r.after)))
                                || (z - a >= min_values && around.is_some_and(value_boundary))))
                })
                .map(|(_, &(a, z, _))| (a, z))
                .collect();
            if !cuts.is_empty() {
                return cuts;
            }
            let short = page_pitch.is_some_and(|p| {
                let expected = g.ink_width / g.ink_height / p;
                expected >= 6.0 && (*chars as f32) < 0.5 * expected
            });
            let widest = g.gaps.iter().max_by(|x, y| (x.1 - x.0).total_cmp(&(y.1 - y.0)));
            match widest {
                Some(&(a, z, _)) if short && z - a >= CELL_GAP_MIN * g.ink_height => vec![(a, z)],
                _ => Vec::new(),
            }
        })
        .collect()
}

/// How many rows above or below a line, in its ink heights, can show it where the page's
/// columns are.
const COLUMN_REACH: f32 = 12.0;
/// The widest blank between two cells of a row that says where a column edge is, in ink
/// heights (wider is the end of a short line, which lines up with nothing).
const COLUMN_GUTTER_MAX: f32 = 4.0;
/// Other rows that must show a column gap across a blank run for it to be cut there.
const COLUMN_ROWS: usize = 3;

/// A read line's place on the page: its quad and the width of its crop (whose x runs along
/// the quad's top edge).
#[derive(Debug, Clone, Copy)]
pub struct Placed {
    pub quad: Quad,
    pub width: f32,
}

/// Cuts that the page's columns call for, added to `cuts` (pass one's, from [`cell_cuts`]).
///
/// A table row read as one line across two columns (`8 pcs $1,089.98`, qty and unit price
/// one space apart) has no gap wider than its word spaces; but the rows above and below it
/// show where the columns are: they were read (or cut) as separate cells with a blank between
/// them at that x. So a blank run of at least [`CELL_GAP_MIN`] ink heights is cut when, within
/// [`COLUMN_REACH`] ink heights above or below, at least [`COLUMN_ROWS`] other rows have a
/// gutter (at most [`COLUMN_GUTTER_MAX`] ink heights) between two of their cells that overlaps
/// it with one edge lined up with the run's. Positions are compared along the page's text
/// direction (the median slant of its long lines), so a tilted scan lines its columns up.
/// Paragraphs and addresses are not cut: their neighbouring rows are single cells.
pub fn column_cuts(placed: &[Option<Placed>], lines: &[Option<(LineGaps, usize)>], cuts: &mut [Vec<(f32, f32)>]) {
    let n = placed.len().min(lines.len()).min(cuts.len());
    // the page's text direction
    let mut slants: Vec<f32> = placed[..n]
        .iter()
        .flatten()
        .filter_map(|p| {
            let [tl, tr, _, bl] = p.quad.0;
            let (dx, dy) = (tr.x - tl.x, tr.y - tl.y);
            let h = ((bl.x - tl.x).powi(2) + (bl.y - tl.y).powi(2)).sqrt();
            (dx > 3.0 * h).then(|| dy.atan2(dx))
        })
        .collect();
    slants.sort_by(f32::total_cmp);
    let angle = slants.get(slants.len() / 2).copied().unwrap_or(0.0);
    let (sin, cos) = angle.sin_cos();
    let uv = |p: Point| (p.x * cos + p.y * sin, -p.x * sin + p.y * cos);
    // each line along the text direction: where crop x lands (u), its middle (v), its height
    struct Row {
        u0: f32,
        du: f32,
        v: f32,
        h: f32,
        ink: (f32, f32),
    }
    let rows: Vec<Option<Row>> = (0..n)
        .map(|i| {
            let (p, (g, _)) = (placed[i]?, lines[i].as_ref()?);
            let [tl, tr, br, bl] = p.quad.0;
            let mid = |a: Point, b: Point| Point::new((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
            let (l, r) = (uv(mid(tl, bl)), uv(mid(tr, br)));
            let du = (r.0 - l.0) / p.width.max(1.0);
            Some(Row { u0: l.0, du, v: (l.1 + r.1) / 2.0, h: g.ink_height, ink: g.ink_span })
        })
        .collect();
    let at = |r: &Row, x: f32| r.u0 + x * r.du;
    // every gap between two cells of one row: within a line (pass one's cuts), and between
    // two lines side by side
    let mut col_gaps: Vec<(f32, f32, f32)> = Vec::new(); // (v, from u, to u)
    for (i, r) in rows.iter().enumerate() {
        let Some(r) = r else { continue };
        col_gaps.extend(cuts[i].iter().map(|&(a, z)| (r.v, at(r, a), at(r, z))));
        let right = at(r, r.ink.1);
        let next = rows
            .iter()
            .flatten()
            .filter(|o| (o.v - r.v).abs() < 0.5 * r.h.max(o.h) && at(o, o.ink.0) > right)
            .map(|o| at(o, o.ink.0))
            .min_by(f32::total_cmp);
        if let Some(left) = next {
            col_gaps.push((r.v, right, left));
        }
    }
    for (i, r) in rows.iter().enumerate() {
        let (Some(r), Some((g, _))) = (r, &lines[i]) else { continue };
        let tol = 0.15 * r.h;
        let mut added = Vec::new();
        for (k, &(a, z, spaced)) in g.gaps.iter().enumerate() {
            if z - a < CELL_GAP_MIN * r.h || cuts[i].iter().any(|&(ca, cz)| ca <= a && cz >= z) {
                continue;
            }
            // right-aligned figures in monospaced type line their group spaces up like a column
            let grouping = |w: &Around| one_cell(w, spaced) && z - a < THOUSANDS_SPACE_MAX * r.h;
            let candidate =
                |w: &Around| (figure_starts_after(&w.before, &w.after) && !grouping(w)) || column_captions(w);
            if !g.around.get(k).is_some_and(candidate) {
                continue;
            }
            let (ua, uz) = (at(r, a), at(r, z));
            let mut vs: Vec<f32> = col_gaps
                .iter()
                .filter(|&&(v, g0, g1)| {
                    let dv = (v - r.v).abs();
                    let near = dv >= 0.8 * r.h && dv <= COLUMN_REACH * r.h;
                    // a gutter between columns, not the blank after a short line
                    let gutter = g1 - g0 <= COLUMN_GUTTER_MAX * r.h && g0.max(ua) <= g1.min(uz) + tol;
                    // one column edge lines up: the cells before end where this run starts
                    // (right-aligned figures), or the cells after start where it ends
                    let aligned = (g0 - ua).abs() <= 2.0 * tol || (g1 - uz).abs() <= 2.0 * tol;
                    near && gutter && aligned
                })
                .map(|&(v, _, _)| v)
                .collect();
            vs.sort_by(f32::total_cmp);
            // rows, not gaps: two gaps of one row count once
            let distinct = vs.windows(2).filter(|w| w[1] - w[0] > 0.5 * r.h).count() + usize::from(!vs.is_empty());
            if distinct >= COLUMN_ROWS {
                added.push((a, z));
            }
        }
        if !added.is_empty() {
            cuts[i].extend(added);
            cuts[i].sort_by(|x, y| x.0.total_cmp(&y.0));
        }
    }
}

/// Whether the blank run `r` is between the captions of two table columns read as one line
/// (`Einzelpreis | MwSt.`, `Unit price | Amount`): the word before it and the word after it
/// each name a column, and with the word before them they are not one caption (`Total
/// amount`, `Amount due`). Only the page's columns, lined up with the blank, cut there.
fn column_captions(r: &Around) -> bool {
    let column = |w: &str| {
        whole_caption(w).is_some_and(|c| {
            matches!(c, Cue::Quantity | Cue::UnitPrice | Cue::LineAmount | Cue::Tax | Cue::Description | Cue::Total)
        })
    };
    let one = |words: &[&str]| whole_caption(&words.join(" ")).is_some();
    column(&r.before)
        && column(&r.next)
        && !one(&[&r.before, &r.next])
        && (r.prior.is_empty() || !one(&[&r.prior, &r.before, &r.next]))
}

/// Whether a column of figures can start at a gap read between the word `before` and the
/// text `after`: a merged table row is a figure (amount, price, quantity) run into its
/// neighbour, so the text after the gap is a figure (`$1,089.98`, `10.557,70`, `-5`) and the
/// gap is not inside one: not after a decimal point or its first digit (`6. 00`, `6.0 0`), not
/// a thousands group (`3 862,24`), and not a percentage after its caption (`GST 6%`, which
/// teams box either way: the box style's caption convention decides that).
fn figure_starts_after(before: &str, after: &str) -> bool {
    let mut chars = after.chars();
    let figure = match chars.next() {
        Some(c) if CURRENCY.contains(&c) => true,
        Some('-' | '+') => chars.next().is_some_and(|c| c.is_ascii_digit()),
        Some(c) => c.is_ascii_digit(),
        None => false,
    };
    let tail: Vec<char> = before.chars().rev().take(2).collect();
    // after a digit and its separator (`6. 00`), not after an abbreviation (`Stk. 2.133,80`)
    let in_decimals = match tail.as_slice() {
        ['.' | ',', d] => d.is_ascii_digit(),
        ['.' | ','] => true,
        [d, '.' | ','] => d.is_ascii_digit(),
        _ => false,
    };
    let last_before = tail.first().copied().unwrap_or(' ');
    let lead_digits = after.chars().take_while(char::is_ascii_digit).count();
    let rest = after.trim_start_matches(|c: char| c.is_ascii_digit());
    let thousands = last_before.is_ascii_digit() && lead_digits == 3 && !rest.starts_with('%');
    let percent = (1..=2).contains(&lead_digits)
        && rest.trim_start_matches(['.', ',']).trim_start_matches(|c: char| c.is_ascii_digit()).starts_with('%')
        && before.chars().rev().find(|c| c.is_alphanumeric()).is_some_and(char::is_alphabetic);
    figure && !in_decimals && !thousands && !percent
}

/// The widest blank, in ink heights, that can be the space between the digit groups of one
/// figure (`5 107,13`): in monospaced type a space is a whole character cell, which with the
/// digits' side bearings measured 0.82–0.88 ink heights (DejaVu Sans Mono); Courier's lighter,
/// shorter digits leave up to about 1.3. Table columns stand further apart than that.
const THOUSANDS_SPACE_MAX: f32 = 1.5;

/// Whether the blank run `r` is read as the space inside a figure grouped by spaces: one to
/// three digits before it (maybe after a currency sign or minus) and a group of exactly three
/// digits after it that ends the figure, starts its decimals or leads to the next group
/// (`5 107,13`, `1 234 567`, `€ 12 500`). A phone number's or an IBAN's groups are not three
/// digits followed by a decimal point, so they do not count; nor do `12 2024` or `3 1500`.
fn thousands_space(r: &Around) -> bool {
    let lead = r.before.trim_start_matches(|c: char| CURRENCY.contains(&c) || c == '-');
    let before = (1..=3).contains(&lead.len()) && lead.chars().all(|c| c.is_ascii_digit());
    let mut after = r.next.chars();
    let group = after.by_ref().take(3).filter(char::is_ascii_digit).count() == 3;
    let ends = match after.next() {
        None | Some(' ') => true,
        Some('.' | ',') => after.next().is_some_and(|c| c.is_ascii_digit()),
        Some(c) => CURRENCY.contains(&c),
    };
    before && group && ends
}

/// Whether what was read around a blank run (`spaced`: read as a space) makes one cell of
/// it, when the blank is no wider than a monospaced font's space ([`THOUSANDS_SPACE_MAX`]):
/// a figure grouped by spaces ([`thousands_space`]), a figure read as one across the blank
/// ([`inside_figure`]), or a count and its unit ([`count_and_unit`]).
fn one_cell(r: &Around, spaced: bool) -> bool {
    thousands_space(r) || (!spaced && inside_figure(r)) || count_and_unit(r)
}

/// Units a count is written with in one cell (`9 pcs`, `12 Stk.`, `2,5 h`), folded to lower
/// case without their point.
const UNITS: [&str; 36] = [
    "pcs", "pc", "pce", "pces", "pieces", "piece", "pièces", "pièce", "stk", "st", "stück", "h", "hrs", "hr", "hours",
    "std", "kg", "g", "m", "m²", "m2", "l", "ea", "each", "units", "unit", "days", "day", "jours", "j", "tage", "tag",
    "km", "lfm", "psch", "x",
];

/// Whether the blank run `r` is between a count and its unit (`9 pcs`, `2,5 Std.`): a
/// monospaced font's space is as wide as a narrow column gap, but a count and its unit are
/// one cell (a table with a unit column sets them further apart).
fn count_and_unit(r: &Around) -> bool {
    let count = !r.before.is_empty()
        && r.before.len() <= 6
        && r.before.starts_with(|c: char| c.is_ascii_digit())
        && r.before.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.');
    let unit = r.next.trim_end_matches('.').to_lowercase();
    count && UNITS.contains(&unit.as_str())
}

/// Whether the blank run `r`, where the recogniser read no space, is inside one figure: the
/// word read across it is an amount whose digit groups are whole (`71.388,53`, `13.563,82`).
/// A worn or blurred scan loses a thin point or the foot of a `1`, and the blank left there
/// can be as wide as a column gap; the recogniser still reads the figure as one.
fn inside_figure(r: &Around) -> bool {
    let word = format!("{}{}", r.before, r.next);
    is_amount(&word) && whole_groups(&word)
}

/// Whether the integer part of the amount `word` ([`is_amount`]) is grouped correctly: one
/// to three digits and then groups of three, or no group separator at all.
fn whole_groups(word: &str) -> bool {
    let w = word.trim_matches(|c: char| CURRENCY.contains(&c) || c == '+' || c == '-');
    let Some(int) = w.get(..w.len().saturating_sub(3)) else { return false };
    let mut groups = int.split(['.', ',', ' ']);
    let first = groups.next().unwrap_or("");
    let rest: Vec<&str> = groups.collect();
    let digits = |g: &str| g.chars().all(|c| c.is_ascii_digit());
    digits(first)
        && !first.is_empty()
        && (rest.is_empty() || first.len() <= 3)
        && rest.iter().all(|g| g.len() == 3 && digits(g))
}

/// Currency signs, written before or after an amount.
const CURRENCY: [char; 4] = ['€', '$', '£', '¥'];

/// The first word of `text`, or the figure it starts when that is grouped by spaces
/// (`13 181,88 €` gives `13 181,88`).
fn next_word(text: &str) -> String {
    let mut words = text.split_whitespace();
    let mut next = words.next().unwrap_or("").to_string();
    let lead = next.trim_start_matches(|c: char| CURRENCY.contains(&c) || c == '-');
    if (1..=3).contains(&lead.len()) && lead.chars().all(|c| c.is_ascii_digit()) {
        for group in words {
            let digits = group.chars().take_while(char::is_ascii_digit).count();
            let rest = group.get(digits..).unwrap_or("");
            if digits != 3 || !rest.chars().all(|c| matches!(c, '.' | ',') || c.is_ascii_digit()) {
                break;
            }
            next = format!("{next} {group}");
            if !rest.is_empty() {
                break;
            }
        }
    }
    next
}

/// Whether a blank run is between two values of a table row: one ends before it (an amount,
/// with its currency sign after it; a percentage; a count, with its unit) and an amount or a
/// percentage starts after it (`12 | 2,114.31 | 20 % | 25,371.72`, `937,17 € | 19% |
/// 11.246,04 €`, `9 Stk. | 2.133,80 €`). Such a row has no wider blank at its column gaps
/// than at its word spaces when its type is set wide, but it reads as values side by side.
/// Numbers without decimals on both sides (an IBAN's or a phone number's groups, `12 24`)
/// are not enough, nor a currency sign before its amount (`Total € 12,00`).
fn value_boundary(r: &Around) -> bool {
    let currency = |w: &str| !w.is_empty() && w.chars().all(|c| CURRENCY.contains(&c));
    let count =
        |w: &str| !w.is_empty() && w.len() <= 6 && w.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.');
    let unit = |w: &str| {
        let letters = w.trim_end_matches('.');
        (1..=5).contains(&letters.chars().count()) && letters.chars().all(char::is_alphabetic)
    };
    let percent = |w: &str| w.ends_with('%') && (w.chars().any(|c| c.is_ascii_digit()) || w == "%");
    let ends_value = is_amount(&r.before)
        || percent(&r.before)
        || (currency(&r.before) && is_amount(&r.prior))
        || (unit(&r.before) && count(&r.prior))
        || count(&r.before);
    // a percentage (`19%`, `5,5%`), maybe read with its sign one word on (`20 %`)
    let digits = r.after.chars().take_while(char::is_ascii_digit).count();
    let rest = r.after.get(digits..).unwrap_or("");
    let rest = rest.strip_prefix(['.', ',']).map_or(rest, |d| d.trim_start_matches(|c: char| c.is_ascii_digit()));
    let starts_percent = (1..=3).contains(&digits) && rest.starts_with('%');
    let starts_value = is_amount(&r.next) || starts_percent;
    ends_value && starts_value && figure_starts_after(&r.before, &r.after)
}

/// An amount as read: digits (with group separators), a decimal separator and two decimals,
/// with an optional sign and currency sign (`1.234,56`, `$1,089.98`, `-5.00`, `12,50€`,
/// `13 181,88`).
fn is_amount(word: &str) -> bool {
    let w = word.trim_matches(|c: char| CURRENCY.contains(&c) || c == '+' || c == '-');
    let chars: Vec<char> = w.chars().collect();
    let n = chars.len();
    n >= 4
        && chars[0].is_ascii_digit()
        && matches!(chars[n - 3], '.' | ',')
        && chars[n - 2..].iter().all(char::is_ascii_digit)
        && chars.iter().all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ' '))
}

/// The parts of a line `quad` whose crop is `width` pixels wide, cut at `cuts` (crop x
/// ranges); each keeps blank paper on its cut sides, as the detector's boxes do: up to the
/// middle of the gap, at most 0.8 ink heights (with less, the recogniser tends to drop a
/// character at the cut, such as the colon of `IBAN:`), and short of a vertical rule in the
/// gap (`rules`, crop x ranges).
pub fn cut_quad(quad: &Quad, width: f32, ink_height: f32, cuts: &[(f32, f32)], rules: &[(f32, f32)]) -> Vec<Quad> {
    let pad = 0.8 * ink_height;
    let mut spans = Vec::with_capacity(cuts.len() + 1);
    let mut from = 0.0;
    for &(a, z) in cuts {
        let m = pad.min((z - a) / 2.0);
        // a vertical rule in the gap stays out of both parts (the recogniser reads it as `|`
        // or `1`)
        let inside = rules.iter().filter(|&&(r0, r1)| r0 >= a && r1 <= z);
        let end = inside.clone().map(|&(r0, _)| r0 - 1.0).fold(a + m, f32::min).max(a);
        let start = inside.map(|&(_, r1)| r1 + 1.0).fold(z - m, f32::max).min(z);
        spans.push((from, end));
        from = start;
    }
    spans.push((from, width));
    let [tl, tr, br, bl] = quad.0;
    let along = |p: Point, q: Point, t: f32| Point::new(p.x + (q.x - p.x) * t, p.y + (q.y - p.y) * t);
    spans
        .into_iter()
        .map(|(x0, x1)| {
            let (t0, t1) = (x0 / width.max(1.0), x1 / width.max(1.0));
            Quad([along(tl, tr, t0), along(tl, tr, t1), along(bl, br, t1), along(bl, br, t0)])
        })
        .collect()
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
    let whole = || {
        vec![Piece {
            rect: *line,
            text: reading.text.trim().to_string(),
            score: super::confidence::of_chars(&reading.chars),
        }]
    };
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
            let score = super::confidence::of_chars(span);
            Piece { rect: Rect::new(x0, line.y0, x1, line.y1), text: text.trim().to_string(), score }
        })
        .collect()
}

/// Puts back the colon that ends a caption at a cut, when the whole line's reading has it and
/// the parts read apart lost it or gave it to the wrong side: a colon belongs to the word
/// before it (`IBAN:`, and in French spacing `BIC :`), but at a part's edge a small or faint
/// colon is what a recogniser drops (`N° TVA :` read `N° TVA`) or reads at the start of the
/// next part (`:SOGEFR36XXX`). A colon counts when the whole reading has it right after the
/// last word the part before the cut read (a word ending in a letter, `.`, `°` or `)`, so a
/// time's `12:30` does not), at about the place the parts' characters put that cut. The colon
/// keeps the character the whole reading had (its probabilities feed the part's confidence)
/// and the whole reading's spacing.
pub fn restore_colons(whole: &Reading, parts: &mut [&mut Reading]) {
    let chars = &whole.chars;
    let blank = |i: usize| chars[i].text.trim().is_empty();
    // the whole reading's caption colons: (index, word before it, whether spaced from it)
    let colons: Vec<(usize, String, bool)> = (0..chars.len())
        .filter(|&i| chars[i].text == ":")
        .filter_map(|i| {
            let end = (0..i).rev().find(|&j| !blank(j))? + 1;
            let start = (0..end).rev().find(|&j| blank(j)).map_or(0, |j| j + 1);
            let word: String = chars[start..end].iter().map(|c| c.text.as_str()).collect();
            let ends_caption = word.chars().last().is_some_and(|c| c.is_alphabetic() || matches!(c, '.' | '°' | ')'));
            ends_caption.then_some((i, word, end < i))
        })
        .collect();
    if colons.is_empty() {
        return;
    }
    let mut used = vec![false; colons.len()];
    let mut read_so_far = 0usize;
    for k in 0..parts.len().saturating_sub(1) {
        read_so_far += parts[k].chars.len() + 1;
        let left = parts[k].text.trim_end();
        let Some(word) = left.split_whitespace().last() else { continue };
        if word.ends_with(':') {
            continue;
        }
        let right = parts[k + 1].text.trim_start();
        let moved = right.starts_with(':');
        let first = right.trim_start_matches(':').trim_start().chars().next();
        let near = |i: usize| i.abs_diff(read_so_far);
        let found = colons
            .iter()
            .enumerate()
            .filter(|(n, (i, w, _))| !used[*n] && same_word(w, word) && near(*i) <= 3 + read_so_far / 4)
            .filter(|(_, (i, _, _))| {
                // what follows the colon in the whole reading is what the next part starts with
                let next = chars[i + 1..].iter().map(|c| c.text.as_str()).find(|t| !t.trim().is_empty());
                first.is_none_or(|f| next.is_some_and(|t| t.starts_with(f)))
            })
            .min_by_key(|(_, (i, _, _))| near(*i));
        let Some((n, &(i, _, spaced))) = found else { continue };
        used[n] = true;
        if moved {
            let next = &mut *parts[k + 1];
            if let Some(at) = next.chars.iter().position(|c| !c.text.trim().is_empty()) {
                next.chars.remove(at);
                while next.chars.first().is_some_and(|c| c.text.trim().is_empty()) {
                    next.chars.remove(0);
                }
                next.refresh();
            }
        }
        let part = &mut *parts[k];
        while part.chars.last().is_some_and(|c| c.text.trim().is_empty()) {
            part.chars.pop();
        }
        let x = part.chars.last().map_or(0.0, |c| c.x_px);
        let step = chars[i].x_px - chars[..i].iter().rev().find(|c| !c.text.trim().is_empty()).map_or(0.0, |c| c.x_px);
        if spaced {
            part.chars.push(CharAt { text: " ".into(), x_px: x + step / 2.0, ..chars[i - 1].clone() });
        }
        part.chars.push(CharAt { x_px: x + step, ..chars[i].clone() });
        part.refresh();
    }
}

/// Whether two readings of one word agree: equal, or (four characters or more) one
/// character apart, as readings of one crop and of its part can be (`Courriel`, `Couriel`).
fn same_word(a: &str, b: &str) -> bool {
    a == b || (a.chars().count().min(b.chars().count()) >= 4 && crate::metrics::levenshtein(a, b) <= 1)
}

/// How the parts of a cut line, read as `texts` from left to right, are kept: as runs of
/// neighbouring parts, each run one cell (a run of two or more is read again as one); `None`
/// keeps the line whole.
///
/// A part that is not a cell rejoins a neighbour, and only that cut is undone: one that reads
/// as no letter or digit (a lone `%` or `:` across a wide gap, a stamp's smudge) or as a lone
/// letter (a unit or tax code: `3 h`, `9.00 Z`) joins the part before it, or the part after
/// it when it opens what follows (`$`, `£`, `(`, `#`) or is the first. So
/// `12 | 2,114.31 | 20 | % | 25,371.72` keeps four cells. A line cut into mostly lone
/// letters is letter-spaced type (`I N V O I C E`), one word: kept whole; lone digits are
/// cells (`8 | $1,195.25 | 6%`).
pub fn regroup_parts(texts: &[&str]) -> Option<Vec<std::ops::Range<usize>>> {
    let alnum = |t: &str| t.chars().filter(|c| c.is_alphanumeric()).count();
    let lone_letter = |t: &str| {
        let mut c = t.chars().filter(|c| c.is_alphanumeric());
        matches!((c.next(), c.next()), (Some(c), None) if c.is_alphabetic())
    };
    let n = texts.len();
    // a lone letter, as letter-spaced type is cut into; a lone digit is a count or a rate
    // (`8 | $1,195.25 | 6%`)
    let single = texts.iter().filter(|t| lone_letter(t)).count();
    if n < 2 || (n >= 3 && 2 * single > n) {
        return None;
    }
    let cell = |t: &str| alnum(t) > 0 && !lone_letter(t);
    let opens = |t: &str| t.trim_start().starts_with(['$', '£', '¥', '(', '#']);
    // join[k]: part k joins part k + 1 (the cut between them is undone)
    let mut join = vec![false; n.saturating_sub(1)];
    for (k, t) in texts.iter().enumerate() {
        if cell(t) {
            continue;
        }
        if k > 0 && !(opens(t) && k + 1 < n) {
            join[k - 1] = true;
        } else if k + 1 < n {
            join[k] = true;
        }
    }
    let mut runs = Vec::new();
    let mut start = 0;
    for (k, &j) in join.iter().enumerate() {
        if !j {
            runs.push(start..k + 1);
            start = k + 1;
        }
    }
    runs.push(start..n);
    (runs.len() >= 2).then_some(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(spec: &[(&str, f32)], h: f32) -> Reading {
        let chars: Vec<CharAt> =
            spec.iter().map(|&(t, x)| CharAt { text: t.into(), prob: 0.9, x_px: x, ..CharAt::default() }).collect();
        let text = chars.iter().map(|c| c.text.as_str()).collect();
        Reading { text, score: 0.9, chars, height_px: h, turned: false }
    }

    #[test]
    fn a_part_that_is_no_cell_rejoins_its_neighbour_and_the_other_cuts_stay() {
        let runs = |t: &[&str]| regroup_parts(t);
        // a lone percent sign across a wide gap rejoins its number; the other cells stay apart
        assert_eq!(runs(&["12", "2,114.31", "20", "%", "25,371.72"]), Some(vec![0..1, 1..2, 2..4, 4..5]));
        // a tax code or unit joins the amount before it
        assert_eq!(runs(&["Coffee", "9.00", "Z"]), Some(vec![0..1, 1..3]));
        // a currency sign opens the amount after it; a leading smudge joins what follows
        assert_eq!(runs(&["Total", "$", "12.00"]), Some(vec![0..1, 1..3]));
        assert_eq!(runs(&["·", "Rechnung", "2024-117"]), Some(vec![0..2, 2..3]));
        // all cells: every cut stays
        assert_eq!(runs(&["Qty", "Unit price", "Amount"]), Some(vec![0..1, 1..2, 2..3]));
        // a one-digit count and rate are cells, not letter-spaced type
        assert_eq!(runs(&["8", "$1,195.25", "6%"]), Some(vec![0..1, 1..2, 2..3]));
        assert_eq!(runs(&["1", "19,99 €", "7%", "19,99 €"]), Some(vec![0..1, 1..2, 2..3, 3..4]));
        // nothing left to cut, or letter-spaced type: whole
        assert_eq!(runs(&["TOTAL", ":"]), None);
        assert_eq!(runs(&["3", "h"]), None);
        assert_eq!(runs(&["I", "N", "V", "O", "I", "C", "E"]), None);
        assert_eq!(runs(&["one"]), None);
        assert_eq!(runs(&[]), None);
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
    fn a_cell_of_a_ruled_table_is_boxed_to_its_text_not_to_the_rules_around_it() {
        // "1 h" (two glyphs 12 x 14 px) in a cell whose rules the detected box caught: the
        // row rules above and below it, the column rule down its right side, and a stub of
        // the rule above reaching in (a fragment of ink set apart by blank rows)
        let mut page = RgbImage::from_pixel(120, 60, image::Rgb([238, 236, 230]));
        let mut fill = |x0: u32, y0: u32, x1: u32, y1: u32, grey: u8| {
            for y in y0..y1 {
                for x in x0..x1 {
                    page.put_pixel(x, y, image::Rgb([grey, grey, grey]));
                }
            }
        };
        fill(40, 22, 52, 36, 30);
        fill(60, 22, 72, 36, 30);
        fill(0, 10, 120, 12, 90); // row rule above
        fill(0, 48, 120, 50, 90); // row rule below
        fill(96, 0, 98, 60, 90); // column rule
        fill(44, 14, 50, 15, 90); // a stub of ink under the rule above
        let text = Rect::new(40.0, 22.0, 72.0, 36.0);
        let detected = Rect::new(30.0, 9.0, 100.0, 51.0);
        assert_eq!(tighten_to_ink(&page, &detected, 0.0), text);
        // a tight box of the text itself keeps all of it: its first and last strokes are
        // the line, not rules
        assert_eq!(tighten_to_ink(&page, &text, 0.0), text);
    }

    /// A line crop: "glyphs" 6 px wide and 20 px tall, 2 px apart, in words of `n` glyphs,
    /// each followed by a blank run of `gap` px; a dash (2 px thin) where `n` is 0.
    /// What was read around a gap: the text `before` it, whose last word is the word before
    /// it, and the text `after` it, whose first word is the next word.
    fn around(before: &str, after: &str) -> Around {
        let mut words = before.split_whitespace().rev();
        let (before, prior) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        Around {
            before: before.to_string(),
            prior: prior.to_string(),
            after: after.replace(' ', "").chars().take(6).collect(),
            next: next_word(after),
        }
    }

    /// What was read around each blank run of `g`: the given texts at the spaces, a digit
    /// between two glyphs elsewhere.
    fn read_around(g: &LineGaps, words: &[(&str, &str)]) -> Vec<Around> {
        let mut words = words.iter();
        g.gaps
            .iter()
            .map(|gap| match (gap.2, if gap.2 { words.next() } else { None }) {
                (true, Some(&(b, a))) => around(b, a),
                _ => around("8", "8"),
            })
            .collect()
    }

    fn crop(words: &[(u32, u32)]) -> (RgbImage, Vec<CharAt>) {
        let mut img = RgbImage::from_pixel(600, 28, image::Rgb([245, 245, 245]));
        let mut chars = Vec::new();
        let mut x = 4;
        for (k, &(n, gap)) in words.iter().enumerate() {
            if n == 0 {
                for dx in 0..10 {
                    for dy in 13..15 {
                        img.put_pixel(x + dx, dy, image::Rgb([30, 30, 30]));
                    }
                }
                chars.push(CharAt { text: "-".into(), prob: 0.9, x_px: (x + 5) as f32, ..CharAt::default() });
                x += 10;
            }
            for g in 0..n {
                for dx in 0..6 {
                    for dy in 4..24 {
                        img.put_pixel(x + g * 8 + dx, dy, image::Rgb([20, 20, 20]));
                    }
                }
                chars.push(CharAt { text: "8".into(), prob: 0.9, x_px: (x + g * 8 + 3) as f32, ..CharAt::default() });
            }
            x += if n > 0 { n * 8 - 2 } else { 0 };
            if k + 1 < words.len() {
                chars.push(CharAt { text: " ".into(), prob: 0.9, x_px: (x + gap / 2) as f32, ..CharAt::default() });
            }
            x += gap;
        }
        (img, chars)
    }

    #[test]
    fn a_tilted_rule_along_a_crops_edge_is_paper_and_the_cells_below_it_keep_their_gaps() {
        // three cells of 18 px high ink at rows 12..30, 20 and 24 px apart, in a crop 200 px
        // wide with paper at both ends
        let cells = [(10u32, 60u32), (80, 120), (144, 190)];
        let page = |rules: &[(f32, f32)]| {
            let mut img = RgbImage::from_pixel(200, 36, image::Rgb([245, 245, 245]));
            for &(x0, x1) in &cells {
                for x in x0..x1 {
                    for y in 12..30 {
                        img.put_pixel(x, y, image::Rgb([25, 25, 25]));
                    }
                }
            }
            // a rule 2 px thick across the whole crop, falling 3 px over its width
            for &(y0, y1) in rules {
                for x in 0..200u32 {
                    let y = (y0 + (y1 - y0) * x as f32 / 199.0).round() as u32;
                    for dy in 0..2 {
                        img.put_pixel(x, y + dy, image::Rgb([60, 60, 60]));
                    }
                }
            }
            img
        };
        let measure = |img: &RgbImage| InkColumns::measure_line_crop(img).expect("ink");
        let plain = measure(&page(&[]));
        assert_eq!(plain.ink_height, 18.0);
        assert_eq!(plain.gaps(), vec![(60.0, 80.0), (120.0, 144.0)]);
        // above the cells, below them, and both: the same cells and gaps
        for rules in [vec![(2.0, 5.0)], vec![(33.0, 31.0)], vec![(1.0, 4.0), (32.0, 33.0)]] {
            let ruled = measure(&page(&rules));
            assert_eq!(ruled.gaps(), plain.gaps(), "{rules:?}");
            assert_eq!(ruled.ink_height, 18.0, "{rules:?}");
            assert_eq!(ruled.counts, plain.counts, "{rules:?}");
        }
        // a straight top edge of text is no rule: one cell of flat-topped ink, paper at its ends
        let mut bar = RgbImage::from_pixel(200, 36, image::Rgb([245, 245, 245]));
        for x in 12..188 {
            for y in 12..30 {
                bar.put_pixel(x, y, image::Rgb([25, 25, 25]));
            }
        }
        let bar = measure(&bar);
        assert_eq!((bar.ink_height, bar.counts.iter().sum::<u32>()), (18.0, 176 * 18));
        // a rule is found only where there is a crop to find it in
        assert!(edge_rules(&[], 0, 0).is_none());
        assert!(edge_rules(&[true; 12], 4, 3).is_none());
    }

    #[test]
    fn capitals_whose_bars_run_together_are_no_rule_in_a_detected_lines_crop() {
        use ab_glyph::{FontRef, PxScale};
        let fonts: [&[u8]; 3] = [
            include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf"),
            include_bytes!("../../../assets/fonts/LiberationSerif-Bold.ttf"),
            include_bytes!("../../../assets/fonts/DejaVuSansMono.ttf"),
        ];
        for font in fonts.map(|f| FontRef::try_from_slice(f).expect("font")) {
            for text in ["ETTE", "TTT", "EEEE", "FFFF", "TOTAL TTC", "SETTLEMENT"] {
                let mut img = RgbImage::from_pixel(400, 60, image::Rgb([250, 250, 250]));
                let ink = image::Rgb([20, 20, 20]);
                imageproc::drawing::draw_text_mut(&mut img, ink, 8, 8, PxScale::from(28.0), &font, text);
                for img in [img.clone(), image::imageops::blur(&img, 0.8)] {
                    let e = ink_extent(&image::imageops::grayscale(&img)).expect("ink");
                    // a detected box: the ink and 0.3 ink heights of paper around it
                    let pad = 0.3 * e.height();
                    let (x0, y0) = ((e.x0 - pad).max(0.0) as u32, (e.y0 - pad).max(0.0) as u32);
                    let (x1, y1) = ((e.x1 + pad).ceil() as u32, (e.y1 + pad).ceil() as u32);
                    let crop = image::imageops::crop_imm(&img, x0, y0, x1 - x0, y1 - y0).to_image();
                    let lined = InkColumns::measure_line_crop(&crop).expect("ink");
                    let plain =
                        InkColumns::measure(&crop, &Rect::new(0.0, 0.0, crop.width() as f32, crop.height() as f32));
                    assert_eq!(Some(lined.counts), plain.map(|p| p.counts), "{text}");
                }
            }
        }
    }

    fn measured(words: &[(u32, u32)]) -> (LineGaps, usize) {
        let (img, chars) = crop(words);
        let text: String = chars.iter().map(|c| c.text.as_str()).collect();
        let n = text.trim().chars().count();
        let r = Reading { text, score: 0.9, chars, height_px: 28.0, turned: false };
        (LineGaps::measure(&img, &r).expect("ink"), n)
    }

    #[test]
    fn a_two_column_amount_line_is_cut_at_its_column_gap_but_not_at_word_spaces() {
        // "Stk. 709,73 €   5.677,84 €": word spaces of 7 px (0.35 ink heights), two column
        // gaps of 30 px
        let row = measured(&[(3, 7), (4, 30), (6, 7), (1, 30), (6, 7), (1, 0)]);
        assert_eq!(row.0.ink_height, 20.0);
        assert_eq!(row.0.gaps.iter().filter(|g| g.2).count(), 5, "{:?}", row.0.gaps);
        let plain = measured(&[(5, 7), (4, 7), (6, 7), (3, 0)]);
        let cuts = cell_cuts(&[Some(row.clone()), Some(plain.clone())], 1.8);
        assert_eq!(cuts[0].len(), 2, "{cuts:?}");
        assert!(cuts[0].iter().all(|(a, z)| z - a >= 29.0 && z - a <= 31.0), "{cuts:?}");
        assert!(cuts[1].is_empty(), "word spaces are not cells: {cuts:?}");
        // a dash between spaces is ink, not part of one wide gap
        let dash = measured(&[(5, 7), (0, 7), (6, 0)]);
        assert!(cell_cuts(&[Some(dash), Some(plain.clone())], 1.8)[0].is_empty());
        // nothing to cut in a line with no ink, or read turned
        assert!(cell_cuts(&[None, Some(plain)], 1.8)[0].is_empty());
    }

    #[test]
    fn a_merged_row_of_amounts_is_cut_before_its_figures_though_half_its_spaces_are_column_gaps() {
        // "937,17 €  19%   11.246,04 €": two word spaces of 6 px and column gaps of 16 and
        // 12 px, so the median space is a column gap and 1.8 of it cuts nothing
        let (mut row, n) = measured(&[(6, 6), (1, 16), (3, 12), (8, 6), (1, 0)]);
        let amounts = [("937,17", "€"), ("€", "19%11."), ("19%", "11.246"), ("11.246,04", "€")];
        row.around = read_around(&row, &amounts);
        let plain = measured(&[(5, 6), (4, 6), (6, 6), (3, 0)]);
        let cuts = cell_cuts(&[Some((row.clone(), n)), Some(plain.clone()), Some(plain.clone())], 1.8);
        let widths: Vec<f32> = cuts[0].iter().map(|(a, z)| z - a).collect();
        assert_eq!(widths.len(), 2, "{cuts:?}");
        assert!((widths[0] - 16.0).abs() <= 1.0 && (widths[1] - 12.0).abs() <= 1.0, "{widths:?}");
        // the same blanks between words of a sentence are word spaces, set wide or not
        let words = [("Barang", "hanya"), ("hanya", "boleh"), ("boleh", "ditukar"), ("ditukar", "dalam")];
        row.around = read_around(&row, &words);
        let cuts = cell_cuts(&[Some((row, n)), Some(plain.clone()), Some(plain)], 1.8);
        assert!(cuts[0].is_empty(), "{cuts:?}");
    }

    #[test]
    fn values_side_by_side_meet_at_a_value_boundary_but_words_and_grouped_digits_do_not() {
        let at = |before: &str, after: &str| value_boundary(&around(before, after));
        for (before, after) in [
            ("12", "2,114.31 20 % 25,371.72"),
            ("12 2,114.31", "20 % 25,371.72"),
            ("12 2,114.31 20 %", "25,371.72"),
            ("937,17 €", "19% 11.246,04 €"),
            ("937,17 € 19%", "11.246,04 €"),
            ("9 Stk.", "2.133,80 €"),
            ("1 098,49", "5,5% 13 181,88"),
            ("1 098,49 5,5%", "13 181,88"),
            ("9", "2 304,03"),
            ("0,5 h", "£1,038.34"),
        ] {
            assert!(at(before, after), "{before:?} | {after:?}");
        }
        for (before, after) in [
            // a thousands group, decimals
            ("1", "098,49"),
            ("9 2", "304,03"),
            ("2,114.", "31"),
            // groups of an IBAN or a phone number, a currency sign before its amount
            ("IBAN DE89", "3704 0044 0532"),
            ("Tel +49", "30 1234567"),
            ("Total €", "12,00"),
            // a caption before its value is the box style's to cut
            ("Summe brutto", "84.952,35 €"),
            ("Net total", "25,371.72"),
            ("VAT 20", "%"),
            ("Invoice", "2024-117"),
            ("", ""),
        ] {
            assert!(!at(before, after), "{before:?} | {after:?}");
        }
        // whatever the recogniser read, nothing panics
        let odd = ["", " ", "€", "%", "1", "1 ", " 2", "é1", "12 3é4", "1 2३4", "€€ 1 234", "٣", "1,2%", "🧾 12,00"];
        for a in odd {
            for b in odd {
                let _ = (at(a, b), next_word(b), is_amount(a));
            }
        }
        assert_eq!(next_word("13 181,88 €"), "13 181,88");
        assert_eq!(next_word("2 304,03 19%"), "2 304,03");
        assert_eq!(next_word("12 pcs"), "12");
        assert_eq!(next_word("€ 5"), "€");
    }

    #[test]
    fn a_row_of_values_set_wide_is_cut_between_them_though_its_gaps_are_no_wider_than_its_spaces() {
        // "12 2,114.31 20 % 25,371.72" in type set wide: blank runs of 14, 15, 8 and 15 px
        // (0.7, 0.75, 0.4 and 0.75 ink heights) on a page whose word space is 10 px
        let (mut row, n) = measured(&[(2, 14), (7, 15), (2, 8), (1, 15), (8, 0)]);
        let values = [("12", "2,114.31"), ("12 2,114.31", "20 %"), ("20", "% 25,371.72"), ("20 %", "25,371.72")];
        row.around = read_around(&row, &values);
        let plain = measured(&[(5, 10), (4, 10), (6, 10), (3, 0)]);
        let cuts = cell_cuts(&[Some((row.clone(), n)), Some(plain.clone()), Some(plain.clone())], 1.8);
        let widths: Vec<f32> = cuts[0].iter().map(|(a, z)| z - a).collect();
        assert_eq!(widths.len(), 3, "{cuts:?}");
        assert!(widths.iter().all(|w| (w - 14.5).abs() <= 1.5), "{widths:?}");
        // the same blanks between words are word spaces
        let words = [("Printer", "toner"), ("toner", "cartridge"), ("cartridge", "high"), ("high", "yield")];
        row.around = read_around(&row, &words);
        assert!(cell_cuts(&[Some((row, n)), Some(plain.clone()), Some(plain)], 1.8)[0].is_empty());
    }

    #[test]
    fn a_figure_grouped_by_a_monospaced_space_stays_whole_and_columns_further_apart_are_cut() {
        // `5 107,13` in monospaced type: the group's space is a whole character cell, 19 px
        // (0.95 ink heights), wider than 1.8 word spaces of the page (10 px)
        let plain = measured(&[(5, 10), (4, 10), (6, 10), (3, 0)]);
        let cut = |gap: u32, before: &str, after: &str| {
            let (mut row, n) = measured(&[(1, gap), (6, 0)]);
            row.around = read_around(&row, &[(before, after)]);
            let cuts = cell_cuts(&[Some((row, n)), Some(plain.clone()), Some(plain.clone())], 1.8);
            !cuts[0].is_empty()
        };
        assert!(!cut(19, "5", "107,13"));
        assert!(!cut(19, "€5", "107"));
        assert!(!cut(19, "12", "500 000,00"));
        // the same blank between numbers that are not one figure
        assert!(cut(19, "12", "2024"));
        assert!(cut(19, "5", "10,13"));
        assert!(cut(19, "Stk.", "107,13"));
        // a quantity and a price a column apart (1.7 ink heights) are two cells
        assert!(cut(34, "5", "107,13"));
        for (before, after, grouped) in [
            ("5", "107,13", true),
            ("1", "234 567", true),
            ("-12", "500 €", true),
            ("123", "4567", false),
            ("1234", "567", false),
        ] {
            assert_eq!(thousands_space(&around(before, after)), grouped, "{before} | {after}");
        }
    }

    #[test]
    fn a_blank_inside_a_figure_read_as_one_or_between_a_count_and_its_unit_is_not_cut() {
        let plain = measured(&[(5, 10), (4, 10), (6, 10), (3, 0)]);
        // one blank run `gap` px wide (0.05 ink heights each), read as a space or not
        let cut = |gap: u32, spaced: bool, before: &str, after: &str| {
            let (mut row, n) = measured(&[(2, gap), (6, 0)]);
            row.around = read_around(&row, &[(before, after)]);
            let wide = row.gaps.iter().position(|g| g.2).expect("the blank read as a space");
            row.gaps[wide].2 = spaced;
            let cuts = cell_cuts(&[Some((row, n)), Some(plain.clone()), Some(plain.clone())], 1.8);
            !cuts[0].is_empty()
        };
        // a worn scan lost the point of `71.388,53` or the foot of the `1` of `13.563,82`:
        // a blank as wide as a column gap that the recogniser read across
        assert!(!cut(19, false, "71.", "388,53 €"));
        assert!(!cut(19, false, "1", "3.563,82"));
        // read as two values, or wider than any space inside a figure, it is a column gap
        assert!(cut(19, true, "1", "3.563,82"));
        assert!(cut(34, false, "1", "3.563,82"));
        // run together across the gap is not one figure
        assert!(cut(19, false, "%", "3.509,18 €"));
        assert!(cut(19, false, "1", "3.56,82"));
        // a count and its unit in monospaced type, a word space as wide as a narrow gutter
        assert!(!cut(19, true, "9", "pcs"));
        assert!(!cut(19, true, "12", "Stk. 2.133,80 €"));
        assert!(!cut(19, true, "2,5", "h"));
        assert!(cut(19, true, "9", "Consulting"));
        assert!(cut(34, true, "9", "pcs"));
    }

    #[test]
    fn a_vertical_rule_between_two_cells_is_cut_at_and_kept_out_of_both_parts() {
        let plain = measured(&[(5, 10), (4, 10), (6, 10), (3, 0)]);
        assert!(plain.0.rules.is_empty());
        // `2 │ 1 836,34` read as one figure, `21836,34`: a glyph, 20 px of paper (1 ink
        // height) with a rule down its middle through the crop's whole height, seven glyphs
        for shade in [200u8, 60] {
            // a rule printed grey (lighter than the ink threshold) and a black one
            let (mut img, chars) = crop(&[(1, 20), (7, 0)]);
            for y in 0..28 {
                for x in [19, 20] {
                    img.put_pixel(x, y, image::Rgb([shade; 3]));
                }
            }
            let texts = ["2", "1", "8", "3", "6", ",", "3", "4"];
            let chars: Vec<CharAt> = chars
                .into_iter()
                .filter(|c| c.text != " ")
                .zip(texts)
                .map(|(c, t)| CharAt { text: t.into(), ..c })
                .collect();
            let text: String = chars.iter().map(|c| c.text.as_str()).collect();
            let r = Reading { text, score: 0.9, chars, height_px: 28.0, turned: false };
            let g = LineGaps::measure(&img, &r).expect("ink");
            assert_eq!(g.rules, [(19.0, 21.0)], "shade {shade}");
            let cuts = cell_cuts(&[Some((g.clone(), 8)), Some(plain.clone()), Some(plain.clone())], 1.8);
            assert_eq!(cuts[0], [(10.0, 30.0)], "shade {shade}");
            // the parts stop short of the rule on both sides
            let q = Quad::from_rect(&Rect::new(0.0, 0.0, 600.0, 28.0));
            let parts = cut_quad(&q, 600.0, g.ink_height, &cuts[0], &g.rules);
            assert_eq!(parts.len(), 2);
            assert!(parts[0].bounds().x1 <= 18.0 && parts[1].bounds().x0 >= 22.0, "{parts:?}");
            // without the rule, the blank inside what reads as one figure is no cut
            let (bare, _) = crop(&[(1, 20), (7, 0)]);
            let g = LineGaps::measure(&bare, &r).expect("ink");
            assert!(g.rules.is_empty());
            assert!(cell_cuts(&[Some((g, 8)), Some(plain.clone()), Some(plain.clone())], 1.8)[0].is_empty());
        }
    }

    #[test]
    fn a_colon_the_parts_lost_at_a_cut_goes_back_to_the_caption_before_it() {
        let read = |t: &str| {
            let chars: Vec<String> = t.chars().map(String::from).collect();
            let spec: Vec<(&str, f32)> = chars.iter().enumerate().map(|(i, c)| (c.as_str(), i as f32 * 10.0)).collect();
            reading(&spec, 28.0)
        };
        let fixed = |whole: &str, parts: &[&str]| {
            let whole = read(whole);
            let mut parts: Vec<Reading> = parts.iter().map(|t| read(t)).collect();
            let mut refs: Vec<&mut Reading> = parts.iter_mut().collect();
            restore_colons(&whole, &mut refs);
            for p in &parts {
                assert_eq!(p.text, p.chars.iter().map(|c| c.text.as_str()).collect::<String>());
                assert!((p.score - 0.9).abs() < 1e-6);
            }
            parts.into_iter().map(|p| p.text).collect::<Vec<_>>()
        };
        assert_eq!(
            fixed("IBAN: FR45 5000 603 BIC: SOGEFR36XXX", &["IBAN", "FR45 5000 603 BIC", "SOGEFR36XXX"]),
            ["IBAN:", "FR45 5000 603 BIC:", "SOGEFR36XXX"]
        );
        // French spacing, and a colon read at the start of the next part
        assert_eq!(fixed("BIC : SOGEFR36XXX", &["BIC", ":SOGEFR36XXX"]), ["BIC :", "SOGEFR36XXX"]);
        // the part read the caption one letter off
        assert_eq!(
            fixed("Couriel : contact@transports.fr", &["Courriel", "contact@transports.fr"]),
            ["Courriel :", "contact@transports.fr"]
        );
        // kept, or never there, or no caption's: nothing to put back
        assert_eq!(fixed("IBAN: FR45 5000", &["IBAN:", "FR45 5000"]), ["IBAN:", "FR45 5000"]);
        assert_eq!(fixed("IBAN FR45 5000", &["IBAN", "FR45 5000"]), ["IBAN", "FR45 5000"]);
        assert_eq!(fixed("Lieferung 12:30 Uhr", &["Lieferung 12", "30 Uhr"]), ["Lieferung 12", "30 Uhr"]);
        // a colon after another word than the one the part ends with
        assert_eq!(fixed("Tel: 0221 123 Fax 0221", &["Tel 0221 123", "Fax 0221"]), ["Tel 0221 123", "Fax 0221"]);
        assert_eq!(fixed("", &["IBAN", "FR45"]), ["IBAN", "FR45"]);
    }

    #[test]
    fn a_tilted_line_is_boxed_to_its_ink_not_to_its_detected_envelope() {
        // a 200 x 20 px bar tilted by 3 degrees about (200, 100), detected 8 px too loose on
        // every side of its own frame
        let (sin, cos) = 3f32.to_radians().sin_cos();
        let to_page = |u: f32, v: f32| Point::new(200.0 + u * cos - v * sin, 100.0 + u * sin + v * cos);
        let mut page = RgbImage::from_pixel(400, 200, image::Rgb([240, 238, 232]));
        for (x, y, p) in page.enumerate_pixels_mut() {
            let (dx, dy) = (x as f32 + 0.5 - 200.0, y as f32 + 0.5 - 100.0);
            let (u, v) = (dx * cos + dy * sin, -dx * sin + dy * cos);
            if u.abs() <= 100.0 && v.abs() <= 10.0 {
                *p = image::Rgb([25, 25, 30]);
            }
        }
        let ink = Quad([to_page(-100.0, -10.0), to_page(100.0, -10.0), to_page(100.0, 10.0), to_page(-100.0, 10.0)]);
        let loose = Quad([to_page(-108.0, -18.0), to_page(108.0, -18.0), to_page(108.0, 18.0), to_page(-108.0, 18.0)]);
        let tight = tighten_quad_to_ink(&page, &loose, 1.0).bounds();
        let (want, was) = (ink.bounds(), loose.bounds());
        for (got, want, was) in [
            (tight.x0, want.x0, was.x0),
            (tight.y0, want.y0, was.y0),
            (tight.x1, want.x1, was.x1),
            (tight.y1, want.y1, was.y1),
        ] {
            assert!((got - want).abs() <= 2.5, "{tight:?} against the ink's {want:?} (detected {was:?})");
        }
        // a blank quad stays as detected
        let blank = Quad::from_rect(&Rect::new(0.0, 0.0, 60.0, 20.0));
        let skew = Quad([blank.0[0], Point::new(60.0, 3.0), Point::new(60.0, 23.0), blank.0[3]]);
        assert_eq!(tighten_quad_to_ink(&page, &skew, 1.0), skew);
    }

    #[test]
    fn a_page_of_wide_word_spaces_is_not_cut_at_them() {
        // a receipt's monospaced type: every word space is 22 px (1.1 ink heights), wider
        // than an invoice's column gap relative to its type; one single-space line among them
        let wide = measured(&[(5, 22), (3, 22), (4, 22), (2, 0)]);
        let single = measured(&[(5, 22), (3, 0)]);
        let cuts = cell_cuts(&[Some(wide.clone()), Some(wide.clone()), Some(single)], 1.8);
        assert!(cuts.iter().all(Vec::is_empty), "{cuts:?}");
        // the same single-gap line among an invoice's narrow-spaced lines is a caption and
        // its value set apart
        let narrow = measured(&[(5, 6), (3, 6), (4, 6), (2, 0)]);
        let single = measured(&[(5, 22), (3, 0)]);
        let cuts = cell_cuts(&[Some(narrow.clone()), Some(narrow), Some(single)], 1.8);
        assert_eq!(cuts[2].len(), 1, "{cuts:?}");
    }

    #[test]
    fn a_reading_too_short_for_its_width_is_cut_at_its_widest_gap() {
        // a page whose lines read one character per 8 px of ink, and one line whose 30
        // glyphs across a 12 px gap were read as 8 characters (the recogniser lost the rest)
        let normal = measured(&[(6, 7), (5, 7), (8, 0)]);
        let (mut lost, _) = measured(&[(14, 12), (16, 0)]);
        lost.gaps.iter_mut().for_each(|g| g.2 = false);
        let cuts = cell_cuts(&[Some(normal.clone()), Some(normal.clone()), Some((lost.clone(), 8))], 1.8);
        assert_eq!(cuts[2].len(), 1, "{cuts:?}");
        // read in full, the same line is left alone
        let cuts = cell_cuts(&[Some(normal.clone()), Some(normal), Some((lost, 31))], 1.8);
        assert!(cuts[2].is_empty(), "{cuts:?}");
    }

    #[test]
    fn parts_of_a_leaning_line_follow_its_edges() {
        let q =
            Quad([Point::new(100.0, 50.0), Point::new(300.0, 60.0), Point::new(299.0, 80.0), Point::new(99.0, 70.0)]);
        let parts = cut_quad(&q, 200.0, 10.0, &[(80.0, 120.0)], &[]);
        assert_eq!(parts.len(), 2);
        // the first part ends 8 px (0.8 ink heights) into the gap, the second starts 8 px before its end
        let [tl, tr, br, bl] = parts[0].0;
        assert_eq!((tl, bl), (q.0[0], q.0[3]));
        assert!((tr.x - 188.0).abs() < 1e-3 && (tr.y - 54.4).abs() < 1e-3, "{tr:?}");
        assert!((br.x - 187.0).abs() < 1e-3 && (br.y - 74.4).abs() < 1e-3, "{br:?}");
        let [tl2, tr2, _, _] = parts[1].0;
        assert!((tl2.x - 212.0).abs() < 1e-3 && tr2 == q.0[1], "{tl2:?}");
        // a narrow gap is shared at its middle
        let narrow = cut_quad(&q, 200.0, 10.0, &[(80.0, 90.0)], &[]);
        assert!((narrow[0].0[1].x - 185.0).abs() < 1e-3 && (narrow[1].0[0].x - 185.0).abs() < 1e-3, "{narrow:?}");
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

    /// A line's place and its measure, as `column_cuts` takes them.
    type TableLine = (Option<Placed>, Option<(LineGaps, usize)>);

    /// A line on the page from `x0` to `x1` (crop = page scale) at row `y`, its ink 20 px
    /// tall, with blank runs `gaps` (page x) and what was read around each.
    fn table_line(x0: f32, x1: f32, y: f32, gaps: &[(f32, f32, &str, &str)]) -> TableLine {
        let quad = Quad([Point::new(x0, y), Point::new(x1, y), Point::new(x1, y + 24.0), Point::new(x0, y + 24.0)]);
        let g = LineGaps {
            ink_height: 20.0,
            ink_width: x1 - x0,
            gaps: gaps.iter().map(|&(a, z, _, _)| (a - x0, z - x0, true)).collect(),
            ink_span: (0.0, x1 - x0),
            around: gaps.iter().map(|&(_, _, b, a)| around(b, a)).collect(),
            rules: Vec::new(),
        };
        (Some(Placed { quad, width: x1 - x0 }), Some((g, 8)))
    }

    fn turned(lines: Vec<TableLine>, degrees: f32) -> Vec<TableLine> {
        let (sin, cos) = degrees.to_radians().sin_cos();
        let rot = |p: Point| Point::new(p.x * cos - p.y * sin, p.x * sin + p.y * cos);
        lines.into_iter().map(|(p, g)| (p.map(|p| Placed { quad: Quad(p.quad.0.map(rot)), ..p }), g)).collect()
    }

    /// Rows of a quantity column (right-aligned at 300) and a price column (from 330 on),
    /// read as two lines each, around a row whose `8 pcs $1,089.98` was read as one line.
    fn qty_price_table(after: &str) -> Vec<TableLine> {
        let mut lines = Vec::new();
        for (row, qty_from) in [(0, 280.0), (1, 290.0), (3, 270.0), (4, 285.0)] {
            let y = 100.0 + row as f32 * 30.0;
            lines.push(table_line(qty_from, 300.0, y, &[]));
            lines.push(table_line(330.0 + row as f32, 400.0, y, &[]));
        }
        // the merged row: "8 pcs" ends at 300, "$1,089.98" starts at 314
        lines.push(table_line(250.0, 400.0, 160.0, &[(258.0, 265.0, "8", "pcs"), (300.0, 314.0, "pcs", after)]));
        lines
    }

    fn column_plan(lines: &[TableLine]) -> Vec<Vec<(f32, f32)>> {
        let placed: Vec<Option<Placed>> = lines.iter().map(|l| l.0).collect();
        let gaps: Vec<Option<(LineGaps, usize)>> = lines.iter().map(|l| l.1.clone()).collect();
        let mut cuts = vec![Vec::new(); lines.len()];
        column_cuts(&placed, &gaps, &mut cuts);
        cuts
    }

    #[test]
    fn a_row_read_across_two_columns_is_cut_where_the_rows_around_it_have_their_gutter() {
        let lines = qty_price_table("$1,089");
        let cuts = column_plan(&lines);
        let merged = lines.len() - 1;
        // crop x of the page's 300..314 run; the word space inside "8 pcs" stays
        assert_eq!(cuts[merged], vec![(50.0, 64.0)]);
        assert!(cuts[..merged].iter().all(Vec::is_empty), "separate cells stay as they are");
        // the same page tilted 2.5 degrees: the columns still line up along the text
        let cuts = column_plan(&turned(qty_price_table("$1,089"), 2.5));
        assert_eq!(cuts[merged], vec![(50.0, 64.0)]);
    }

    #[test]
    fn a_figure_grouped_by_a_space_is_not_cut_where_the_column_gutter_lines_up_with_its_group_space() {
        // right-aligned figures in monospaced type put every group space at one x: the rows
        // around `5 107,13` show a "gutter" just where its group space is
        let with_merged = |gap: (f32, f32), before: &str, after: &str| {
            let mut lines = qty_price_table("$1,089");
            lines.pop();
            lines.push(table_line(290.0, 400.0, 160.0, &[(gap.0, gap.1, before, after)]));
            let cuts = column_plan(&lines);
            !cuts[lines.len() - 1].is_empty()
        };
        assert!(!with_merged((300.0, 314.0), "5", "107,13"));
        assert!(!with_merged((300.0, 314.0), "12", "500 000"));
        // a count and a price the rows show apart are cut
        assert!(with_merged((300.0, 314.0), "5", "$1,089"));
        assert!(with_merged((300.0, 314.0), "12", "5000,00"));
    }

    #[test]
    fn without_a_figure_after_the_gap_or_without_rows_to_show_the_column_nothing_is_cut() {
        // "43200 CHERAS": words after the gap are not a column of figures
        let cuts = column_plan(&qty_price_table("CHERAS"));
        assert!(cuts.iter().all(Vec::is_empty));
        // only two rows show the gutter: too little to say there is a column
        let mut lines = qty_price_table("$1,089");
        lines.drain(0..4);
        assert!(column_plan(&lines).iter().all(Vec::is_empty));
        // a short line above ends far left of the gap: the blank after it lines up with nothing
        let mut para = vec![table_line(250.0, 400.0, 160.0, &[(300.0, 314.0, "on", "12")])];
        for row in 0..4 {
            para.push(table_line(250.0, 290.0 - row as f32 * 5.0, 100.0 + row as f32 * 30.0, &[]));
        }
        assert!(column_plan(&para).iter().all(Vec::is_empty));
    }

    #[test]
    fn two_column_captions_read_as_one_line_are_cut_where_the_rows_below_have_their_gutter() {
        let header = |before: &str, after: &str| {
            let mut lines = qty_price_table("$1,089");
            lines.pop();
            // a header read across both columns, its blank at the rows' gutter
            lines.push(table_line(250.0, 400.0, 160.0, &[(300.0, 314.0, before, after)]));
            !column_plan(&lines)[lines.len() - 1].is_empty()
        };
        assert!(header("Anz. Einzelpreis", "MwSt."));
        assert!(header("Unit price", "Amount"));
        assert!(header("Qty", "Rate"));
        // one caption of two words, or words that name no column
        assert!(!header("Total", "amount due"));
        assert!(!header("Total amount", "due"));
        assert!(!header("Invoice", "Date"));
        assert!(!header("Müller", "GmbH"));
        assert!(!header("Consulting", "services"));
        // without rows to show the column, two captions stay one line
        let lines = vec![table_line(250.0, 400.0, 160.0, &[(300.0, 314.0, "Einzelpreis", "MwSt.")])];
        assert!(column_plan(&lines).iter().all(Vec::is_empty));
    }

    #[test]
    fn figures_start_after_a_gap_but_not_inside_one() {
        for (before, after) in
            [("pcs", "$1,089"), ("%", "10.557"), ("Tax", "$5,962"), ("8", "1.557,"), ("x", "-5,00"), ("Stk.", "2.133,")]
        {
            assert!(figure_starts_after(before, after), "{before:?} | {after:?}");
        }
        for (before, after) in [
            ("6.", "00"),
            ("6.0", "0"),
            ("3", "862,24"),
            ("GST", "6%"),
            ("MwSt.", "19,5%"),
            ("TERMINAL", ":C1"),
            ("43200", "CHERAS"),
        ] {
            assert!(!figure_starts_after(before, after), "{before:?} | {after:?}");
        }
        // a figure after complete decimals is the next column (an amount, then its VAT rate)
        assert!(figure_starts_after("1.557,45", "19%"));
    }
}
