//! Boxes in a team's own style: measure the ink inside a box, learn from accepted boxes how far
//! the team pads beyond it (per side, in line heights), and put any box at its ink plus that
//! padding. Pure functions over page pixels; the app stores the style and applies it.
//! Whether a caption and its value are one box or two is [`captions`].

pub mod captions;

use image::RgbImage;

use super::Proposal;
use super::model::split::tighten_to_ink;
use crate::domain::{BoxStyle, Rect};

/// Fewer usable boxes than this and nothing is learned: a median of a handful says little.
pub const MIN_SAMPLES: usize = 20;

/// How a drawn box snaps when the workspace has no style yet: 0.15 line heights on every
/// side. Enough to keep ascenders, descenders and anti-aliasing inside the box without
/// reaching the neighbouring line (lines sit 1.2–1.5 line heights apart on invoices), and
/// near what annotation guidelines that pad at all ask for ("a few pixels" at 20–30 px lines).
pub const DEFAULT_DRAWN: BoxStyle = BoxStyle::new(0.15, 0.15, 0.15, 0.15);

/// Ink shorter than this (px) is a rule, a speck or a dot: no line height to scale by.
pub const MIN_INK_HEIGHT_PX: f32 = 4.0;
/// A box this many times taller than the typical line's ink holds more than one line.
const MAX_HEIGHT_IN_LINES: f32 = 3.0;

/// One accepted box and the ink inside it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub boxed: Rect,
    pub ink: Rect,
}

/// The ink inside `r` (clamped to the page), or `None` when the box has no clear ink (blank
/// paper, or too little contrast). Measured by the model pass's own [`tighten_to_ink`]: with a
/// small negative margin every side of found ink moves inwards, so only a box without clear
/// ink comes back exactly as it went in.
pub fn ink_in(page: &RgbImage, r: &Rect) -> Option<Rect> {
    const PROBE: f32 = 0.5;
    let c = r.normalized().clamped(page.width() as f32, page.height() as f32);
    if c.width() < 2.0 || c.height() < 2.0 {
        return None;
    }
    let t = tighten_to_ink(page, &c, -PROBE);
    if t == c {
        return None;
    }
    let ink = Rect::new(
        (t.x0 - PROBE).max(c.x0),
        (t.y0 - PROBE).max(c.y0),
        (t.x1 + PROBE).min(c.x1),
        (t.y1 + PROBE).min(c.y1),
    );
    (ink.width() > 0.0 && ink.height() > 0.0).then_some(ink)
}

/// The ink of the one line of text inside `r`: [`ink_in`] without the descenders of the line
/// above or the tops of the line below that a loose box (a detector's, or a hand's) catches at
/// its top or bottom edge. Such a strip is told from the line's own ink by the blank rows that
/// part them: cutting ever deeper (up to 45 % of the ink's height) into the top, the ink left
/// below the cut starts lower than the cut only if a blank band lay there. `None` without
/// clear ink, or with ink too short to be text ([`MIN_INK_HEIGHT_PX`]: a rule or a speck, and a
/// box around it is not about that ink).
pub fn text_ink_in(page: &RgbImage, r: &Rect) -> Option<Rect> {
    const CUTS: [f32; 3] = [0.15, 0.3, 0.45];
    let ink = ink_in(page, r)?;
    let h = ink.height();
    let (mut y0, mut y1) = (ink.y0, ink.y1);
    for frac in CUTS {
        let cut = ink.y0 + (frac * h).round().max(1.0);
        if let Some(rest) = ink_in(page, &Rect::new(ink.x0, cut, ink.x1, ink.y1))
            && rest.y0 >= cut + 1.0
        {
            y0 = rest.y0;
            break;
        }
    }
    for frac in CUTS {
        let cut = ink.y1 - (frac * h).round().max(1.0);
        if let Some(rest) = ink_in(page, &Rect::new(ink.x0, ink.y0, ink.x1, cut))
            && rest.y1 <= cut - 1.0
        {
            y1 = rest.y1;
            break;
        }
    }
    let line = if (y0, y1) == (ink.y0, ink.y1) {
        ink
    } else {
        // what the strips added at the sides goes with them
        ink_in(page, &Rect::new(ink.x0, y0, ink.x1, y1))?
    };
    (line.height() >= MIN_INK_HEIGHT_PX).then_some(line)
}

/// The box `style` puts around `ink` (not clamped: see [`restyle`]).
pub fn apply(ink: &Rect, style: &BoxStyle) -> Rect {
    let h = ink.height();
    Rect::new(ink.x0 - style.left * h, ink.y0 - style.top * h, ink.x1 + style.right * h, ink.y1 + style.bottom * h)
}

/// `rect` redrawn in `style`: the ink found inside it plus the style's padding, clamped to the
/// page. A rect without clear text ink (see [`text_ink_in`]) is returned unchanged.
pub fn restyle(page: &RgbImage, rect: &Rect, style: &BoxStyle) -> Rect {
    match text_ink_in(page, rect) {
        Some(ink) => apply(&ink, style).clamped(page.width() as f32, page.height() as f32),
        None => *rect,
    }
}

/// Proposals in a team's style: with `split_captions`, each line that reads a caption and its
/// value is cut into the two ([`captions::split_captions`]); then, with a `padding`, every
/// axis-aligned rect is [`restyle`]d. Skewed lines (with a quad) keep their geometry.
pub fn restyle_proposals(
    page: &RgbImage,
    mut proposals: Vec<Proposal>,
    padding: Option<&BoxStyle>,
    split_captions: bool,
) -> Vec<Proposal> {
    if split_captions {
        proposals = captions::split_captions(page, proposals);
    }
    if let Some(style) = padding {
        for p in proposals.iter_mut().filter(|p| p.quad.is_none()) {
            p.rect = restyle(page, &p.rect, style);
        }
    }
    proposals
}

/// Measures each box's line of ink on `page` ([`text_ink_in`]); boxes without clear ink are
/// left out.
pub fn measure(page: &RgbImage, boxes: &[Rect]) -> Vec<Sample> {
    boxes.iter().filter_map(|b| Some(Sample { boxed: *b, ink: text_ink_in(page, b)? })).collect()
}

/// The padding a set of accepted boxes shows: per side, the median over the boxes of (box
/// edge − ink edge) / ink height. Boxes with ink too short to be text, degenerate boxes and
/// boxes taller than [`MAX_HEIGHT_IN_LINES`] typical lines (several lines in one box) are
/// ignored. `None` with fewer than [`MIN_SAMPLES`] usable boxes.
pub fn learn(samples: &[Sample]) -> Option<(BoxStyle, usize)> {
    let usable: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.boxed.is_finite() && s.ink.is_finite())
        .filter(|s| s.boxed.width() >= 2.0 && s.boxed.height() >= 2.0 && s.ink.height() >= MIN_INK_HEIGHT_PX)
        .collect();
    let typical = median(usable.iter().map(|s| s.ink.height()).collect())?;
    let usable: Vec<&Sample> =
        usable.into_iter().filter(|s| s.boxed.height() <= MAX_HEIGHT_IN_LINES * typical).collect();
    if usable.len() < MIN_SAMPLES {
        return None;
    }
    let side = |f: fn(&Sample) -> f32| {
        let v = median(usable.iter().map(|s| f(s) / s.ink.height()).collect()).unwrap_or(0.0);
        v.clamp(0.0, BoxStyle::MAX_PADDING)
    };
    let style = BoxStyle::new(
        side(|s| s.ink.x0 - s.boxed.x0),
        side(|s| s.ink.y0 - s.boxed.y0),
        side(|s| s.boxed.x1 - s.ink.x1),
        side(|s| s.boxed.y1 - s.ink.y1),
    );
    Some((style, usable.len()))
}

fn median(mut v: Vec<f32>) -> Option<f32> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) * 0.5 })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAPER: image::Rgb<u8> = image::Rgb([245, 240, 232]);

    /// A page with solid dark "lines of text" at the given rects.
    fn page_with(ink: &[Rect]) -> RgbImage {
        page_sized(400, 300, ink)
    }

    /// A `w` × `h` page of off-white paper with solid dark ink at the given rects.
    pub(super) fn page_sized(w: u32, h: u32, ink: &[Rect]) -> RgbImage {
        let mut page = RgbImage::from_pixel(w, h, PAPER);
        for r in ink {
            for y in r.y0 as u32..r.y1 as u32 {
                for x in r.x0 as u32..r.x1 as u32 {
                    page.put_pixel(x, y, image::Rgb([25, 25, 40]));
                }
            }
        }
        page
    }

    #[test]
    fn ink_is_found_exactly_and_blank_paper_has_none() {
        let ink = Rect::new(50.0, 40.0, 150.0, 60.0);
        let page = page_with(&[ink]);
        assert_eq!(ink_in(&page, &Rect::new(30.0, 30.0, 200.0, 80.0)), Some(ink));
        // a box every side of which touches ink still has ink
        let two = page_with(&[Rect::new(50.0, 40.0, 60.0, 60.0), Rect::new(140.0, 40.0, 150.0, 60.0)]);
        assert_eq!(ink_in(&two, &ink), Some(ink));
        assert_eq!(ink_in(&page, &Rect::new(200.0, 100.0, 300.0, 150.0)), None);
        // a box over the page's edge is measured on the page
        assert_eq!(ink_in(&page, &Rect::new(-20.0, 30.0, 160.0, 70.0)), Some(ink));
    }

    #[test]
    fn apply_pads_each_side_by_its_fraction_of_the_line_height() {
        let ink = Rect::new(100.0, 50.0, 200.0, 70.0); // 20 px tall
        let r = apply(&ink, &BoxStyle::new(0.5, 0.25, 0.1, 0.0));
        assert_eq!(r, Rect::new(90.0, 45.0, 202.0, 70.0));
    }

    #[test]
    fn restyle_puts_a_loose_box_at_its_ink_plus_padding_and_leaves_blank_ones() {
        let ink = Rect::new(50.0, 40.0, 150.0, 60.0);
        let page = page_with(&[ink]);
        let style = BoxStyle::new(0.2, 0.1, 0.2, 0.1);
        assert_eq!(restyle(&page, &Rect::new(20.0, 20.0, 220.0, 90.0), &style), Rect::new(46.0, 38.0, 154.0, 62.0));
        let blank = Rect::new(200.0, 100.0, 300.0, 150.0);
        assert_eq!(restyle(&page, &blank, &style), blank);
        // clamped to the page
        let at_edge = page_with(&[Rect::new(0.0, 0.0, 80.0, 20.0)]);
        assert_eq!(restyle(&at_edge, &Rect::new(0.0, 0.0, 100.0, 40.0), &style), Rect::new(0.0, 0.0, 84.0, 22.0));
        // a box across a table rule is not about the rule
        let ruled = page_with(&[Rect::new(0.0, 100.0, 400.0, 102.0)]);
        let across = Rect::new(50.0, 90.0, 200.0, 120.0);
        assert_eq!(restyle(&ruled, &across, &style), across);
    }

    #[test]
    fn strips_of_the_neighbouring_lines_caught_at_the_edges_are_not_the_lines_ink() {
        // the line (40..60) with the line above's descenders (30..34, narrower) and the line
        // below's tops (66..70, wider) inside a loose box
        let line = Rect::new(50.0, 40.0, 150.0, 60.0);
        let page = page_with(&[line, Rect::new(60.0, 30.0, 90.0, 34.0), Rect::new(40.0, 66.0, 170.0, 70.0)]);
        let loose = Rect::new(30.0, 30.0, 190.0, 70.0);
        assert_eq!(text_ink_in(&page, &loose), Some(line));
        // set apart by blank rows, the narrow strip and the rule-wide one are left out of
        // the ink itself too
        assert_eq!(ink_in(&page, &loose), Some(line));
        // a line whose own ink has a gap (a colon, an accent) keeps it
        let colon = page_with(&[
            Rect::new(50.0, 40.0, 54.0, 44.0),
            Rect::new(50.0, 52.0, 54.0, 56.0),
            Rect::new(60.0, 40.0, 120.0, 56.0),
        ]);
        assert_eq!(text_ink_in(&colon, &loose), Some(Rect::new(50.0, 40.0, 120.0, 56.0)));
    }

    #[test]
    fn learning_takes_the_median_per_side_and_ignores_outliers() {
        // 24 lines, 10..30 px tall, padded 0.3 left, 0.1 top, 0.5 right, 0.2 bottom
        let style = BoxStyle::new(0.3, 0.1, 0.5, 0.2);
        let mut samples: Vec<Sample> = (0..24)
            .map(|i| {
                let h = 10.0 + (i % 5) as f32 * 5.0;
                let ink = Rect::new(10.0, 40.0 * i as f32, 200.0, 40.0 * i as f32 + h);
                Sample { boxed: apply(&ink, &style), ink }
            })
            .collect();
        // a sloppy box, a paragraph box and a speck: none moves the medians
        let ink = Rect::new(0.0, 0.0, 100.0, 20.0);
        samples.push(Sample { boxed: apply(&ink, &BoxStyle::new(0.8, 0.8, 0.8, 0.8)), ink });
        samples.push(Sample { boxed: Rect::new(0.0, 0.0, 300.0, 200.0), ink: Rect::new(5.0, 5.0, 290.0, 190.0) });
        samples.push(Sample { boxed: Rect::new(0.0, 0.0, 50.0, 20.0), ink: Rect::new(10.0, 9.0, 12.0, 11.0) });
        let (got, n) = learn(&samples).unwrap();
        assert_eq!(n, 25, "the paragraph box and the speck are left out");
        for (g, want) in got.sides().into_iter().zip(style.sides()) {
            assert!((g - want).abs() < 1e-4, "{got:?} vs {style:?}");
        }
        assert_eq!(learn(&samples[..10]), None, "too few boxes");
    }

    #[test]
    fn boxes_measured_on_a_page_teach_their_padding() {
        let inks: Vec<Rect> = (0..MIN_SAMPLES)
            .map(|i| {
                let y = 12.0 * i as f32 + 2.0;
                Rect::new(40.0, y, 120.0 + i as f32, y + 8.0)
            })
            .collect();
        let page = RgbImage::from_fn(400, 300, |x, y| {
            let inside =
                inks.iter().any(|r| (x as f32) >= r.x0 && (x as f32) < r.x1 && (y as f32) >= r.y0 && (y as f32) < r.y1);
            if inside { image::Rgb([20, 20, 20]) } else { PAPER }
        });
        // 2 px left and right, 1 px above and below, on 8 px ink: 0.25 and 0.125 line heights
        let boxes: Vec<Rect> = inks.iter().map(|r| Rect::new(r.x0 - 2.0, r.y0 - 1.0, r.x1 + 2.0, r.y1 + 1.0)).collect();
        let samples = measure(&page, &boxes);
        assert_eq!(samples.len(), MIN_SAMPLES);
        let (style, _) = learn(&samples).unwrap();
        assert_eq!(style, BoxStyle::new(0.25, 0.125, 0.25, 0.125));
    }
}
