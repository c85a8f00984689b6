//! Page skew from the baselines of the detected lines: within a line, the slope between the
//! bottoms of two glyphs far apart is the text angle (Theil–Sen: the median of those slopes
//! ignores descenders and punctuation); the page angle is the width-weighted median over lines.
//! A whole-page projection profile was tried first; on pages with few lines it let the mix of
//! capital, lower-case and descender heights pull the answer a degree off.

use super::group::{Glyph, Line};

/// Skew in degrees within ±`max_deg`, positive when lines slope down to the right (clockwise
/// as displayed); 0 when no line is long enough to tell.
pub(super) fn estimate(lines: &[Line], glyphs: &[Glyph], ch: f32, max_deg: f32) -> f32 {
    if !(max_deg > 0.0 && ch > 0.0) {
        return 0.0;
    }
    let mut per_line: Vec<(f32, f32)> = Vec::new();
    for line in lines.iter().filter(|l| l.glyphs.len() >= 5 && l.b.w() >= 6.0 * ch) {
        let pts: Vec<(f32, f32)> = line
            .glyphs
            .iter()
            .map(|&i| glyphs[i].b)
            .filter(|b| b.h() >= 0.5 * ch)
            .map(|b| ((b.x0 + b.x1) * 0.5, b.y1))
            .collect();
        let mut slopes = Vec::new();
        // Every pair of a long line is O(n²); a stride keeps it to a few hundred pairs.
        let stride = (pts.len() / 24).max(1);
        for (i, a) in pts.iter().enumerate().step_by(stride) {
            for b in pts[i + 1..].iter().step_by(stride) {
                let dx = b.0 - a.0;
                if dx.abs() >= 2.0 * ch {
                    slopes.push((b.1 - a.1) / dx);
                }
            }
        }
        if slopes.len() >= 3 {
            let mid = slopes.len() / 2;
            let (_, m, _) = slopes.select_nth_unstable_by(mid, f32::total_cmp);
            per_line.push((*m, line.b.w()));
        }
    }
    if per_line.is_empty() {
        return 0.0;
    }
    per_line.sort_by(|a, b| a.0.total_cmp(&b.0));
    let half = per_line.iter().map(|p| p.1).sum::<f32>() * 0.5;
    let mut acc = 0.0;
    let slope = per_line
        .iter()
        .find(|p| {
            acc += p.1;
            acc >= half
        })
        .map_or(0.0, |p| p.0);
    let deg = slope.atan().to_degrees();
    if deg.is_finite() { deg.clamp(-max_deg, max_deg) } else { 0.0 }
}
