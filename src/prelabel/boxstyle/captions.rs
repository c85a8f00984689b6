//! Caption and value: one box or two. Learns from a team's boxes whether it boxes `VAT 20 %`
//! or `BIC: COBADEFFXXX` as one box or as caption + value, and cuts a machine suggestion that
//! reads a caption and its value as one line at the blank between them. Pure functions over
//! texts, rects and page pixels.

use image::RgbImage;

use super::{BoxStyle, apply, text_ink_in};
use crate::domain::box_style::CaptionEvidence;
use crate::domain::{Quad, Rect};
use crate::labeling::rules::{later_caption, split_caption, whole_caption};
use crate::prelabel::Proposal;
use crate::prelabel::model::rec::crop_quad;
use crate::prelabel::model::split::{InkColumns, on_page};

/// A caption's value starts at most this many of the caption box's heights to its right.
/// Word spaces are a fifth to a third of a line height and the model pass reads across gaps
/// up to about one line height ([`crate::prelabel::model::split::CELL_GAP_MIN`] and a few
/// word spaces): two heights covers every caption a line can swallow, while the far columns
/// of a table or a totals block (which every convention boxes apart) stay out of the count.
pub const MAX_VALUE_GAP: f32 = 2.0;
/// Two boxes are on one line when they overlap vertically by this much of the shorter one.
const SAME_LINE: f32 = 0.5;
/// A blank run narrower than this (in ink heights) is the side bearing between two letters,
/// not a space: word spaces start at about 0.12 ink heights (`model_eval gaps`).
pub const MIN_GAP: f32 = 0.12;

/// `text` as a caption and the value after it (both trimmed; the value runs to the text's end,
/// a closing bracket included) and the value's byte offset, when [`split_caption`] splits it
/// and the value is not more caption: `Item / Service` is a header of two names for one
/// column (a slash joins captions, not a caption and its value), `Customer ID:` one caption
/// whose value is elsewhere.
fn caption_and_value(text: &str) -> Option<(&str, &str, usize)> {
    let (_, value) = split_caption(text)?;
    let at = value.as_ptr() as usize - text.as_ptr() as usize;
    let (caption, value) = (text.get(..at)?.trim(), text.get(at..)?.trim());
    let more_caption = value.starts_with('/') || value.ends_with(':') || whole_caption(value).is_some();
    let a_value = !caption.is_empty() && !value.is_empty() && !more_caption;
    a_value.then_some((caption, value, at))
}

/// What the boxes of one page show about captions and values: a box that holds a caption and
/// its value ([`caption_and_value`]) is *joined*; a box that is all caption
/// ([`whole_caption`]) with the nearest box to its right on its line, within
/// [`MAX_VALUE_GAP`] heights, holding a value (no caption of its own) is *split*. Boxes
/// without text say nothing.
pub fn evidence<'a>(boxes: impl IntoIterator<Item = (Rect, &'a str)>) -> CaptionEvidence {
    let boxes: Vec<(Rect, &str)> = boxes.into_iter().filter(|(r, t)| r.is_finite() && !t.trim().is_empty()).collect();
    let mut e = CaptionEvidence::default();
    for (i, (r, text)) in boxes.iter().enumerate() {
        if caption_and_value(text).is_some() {
            e.joined += 1;
            continue;
        }
        if whole_caption(text).is_none() {
            continue;
        }
        let h = r.height().max(1.0);
        // padded boxes of neighbouring words may overlap a little
        let right = boxes
            .iter()
            .enumerate()
            .filter(|(j, (o, _))| *j != i && o.x0 >= r.x1 - 0.5 * h && o.x1 > r.x1 && same_line(r, o))
            .min_by(|a, b| a.1.0.x0.total_cmp(&b.1.0.x0));
        if let Some((_, (o, value))) = right
            && o.x0 - r.x1 <= MAX_VALUE_GAP * h
            && whole_caption(value).is_none()
            && split_caption(value).is_none()
        {
            e.split += 1;
        }
    }
    e
}

fn same_line(a: &Rect, b: &Rect) -> bool {
    let overlap = a.y1.min(b.y1) - a.y0.max(b.y0);
    overlap >= SAME_LINE * a.height().min(b.height())
}

/// `p` cut into its caption and its value, when its text starts with a caption followed by a
/// value ([`caption_and_value`]) and the page shows a blank column between them: each part gets
/// its text, the score of the whole and the padding `p` had around its ink. The cut is found
/// where the caption's characters end as a fraction of the text's, snapped to the widest
/// blank run (at least [`MIN_GAP`] ink heights) in a window around it. A skewed line
/// (`quad`) is cut the same way in its own frame, and its parts are skewed as it is. `None`
/// (keep `p` whole) for a text without caption and value, a line without clear ink, a line
/// read turned, or no blank run near the estimate.
pub fn cut_caption(page: &RgbImage, p: &Proposal) -> Option<(Proposal, Proposal)> {
    let text = p.text.as_deref()?;
    let (caption, value, value_at) = caption_and_value(text)?;
    cut_at(page, p, (caption, value, value_at))
}

/// `p` cut before a second caption its text reads after a value ([`later_caption`]): the
/// value before it, and the caption with its value (which [`cut_caption`] then cuts), found
/// on the page as [`cut_caption`] finds its cut.
pub fn cut_before_later_caption(page: &RgbImage, p: &Proposal) -> Option<(Proposal, Proposal)> {
    let text = p.text.as_deref()?;
    let at = later_caption(text)?;
    let (before, after) = (text.get(..at)?.trim(), text.get(at..)?.trim());
    cut_at(page, p, (before, after, at))
}

/// `p`, reading `text`, cut into `left` and `right`, which starts at byte `right_at`.
fn cut_at<'t>(
    page: &RgbImage,
    p: &Proposal,
    (left, right, right_at): (&'t str, &'t str, usize),
) -> Option<(Proposal, Proposal)> {
    let text = p.text.as_deref()?;
    let part = |rect: Rect, quad: Option<Quad>, text: &str| Proposal {
        rect,
        quad,
        text: Some(text.to_string()),
        score: p.score,
        level: p.level,
    };
    match p.quad {
        None => {
            let ((caption, c), (value, v)) = cut_in(page, &p.rect, text, (left, right, right_at))?;
            Some((part(c, None, caption), part(v, None, value)))
        }
        Some(quad) => {
            let crop = crop_quad(page, &quad)?;
            if crop.turned {
                return None;
            }
            let (w, h) = (crop.image.width() as f32, crop.image.height() as f32);
            let ((caption, c), (value, v)) =
                cut_in(&crop.image, &Rect::new(0.0, 0.0, w, h), text, (left, right, right_at))?;
            let (c, v) = (on_page(&quad, w, h, &c), on_page(&quad, w, h, &v));
            Some((part(c.bounds(), Some(c), caption), part(v.bounds(), Some(v), value)))
        }
    }
}

/// A part of a line: its text and its rect.
type Part<'t> = (&'t str, Rect);

/// The axis-aligned line `r` on `page`, reading `text`, cut into the parts `caption` and
/// `value` (which starts at byte `value_at` of `text`): each part's text and rect.
fn cut_in<'t>(
    page: &RgbImage,
    r: &Rect,
    text: &str,
    (caption, value, value_at): (&'t str, &'t str, usize),
) -> Option<(Part<'t>, Part<'t>)> {
    let ink = text_ink_in(page, r)?;
    let h = ink.height();
    // where the caption ends and the value starts, in characters of the trimmed text
    let lead = text.len() - text.trim_start().len();
    let body = text.trim();
    let n = body.chars().count() as f32;
    let caption_chars = caption.chars().count() as f32;
    let value_from = text.get(lead..value_at)?.chars().count() as f32;
    let estimate = ink.x0 + ink.width() * (caption_chars + value_from) / 2.0 / n;
    // proportional type puts a caption's end a few characters off its count: the window
    // grows with the caption's length, and is never under a line height
    let half = h.max(0.3 * (estimate - ink.x0));
    let cols = InkColumns::measure(page, &ink)?;
    let gaps: Vec<(f32, f32)> = cols
        .gaps()
        .into_iter()
        .filter(|(a, z)| z - a >= MIN_GAP * h && *a <= estimate + half && *z >= estimate - half)
        .collect();
    let widest = gaps.iter().map(|(a, z)| z - a).fold(0.0f32, f32::max);
    // among the widest (to a pixel), the nearest to the estimate
    let distance = |(a, z): &(f32, f32)| ((a + z) / 2.0 - estimate).abs();
    let &(a, z) =
        gaps.iter().filter(|(a, z)| z - a >= widest - 1.0).min_by(|x, y| distance(x).total_cmp(&distance(y)))?;
    // each part keeps the padding the whole had around its ink, side by side
    let own = BoxStyle::new(
        ((ink.x0 - r.x0) / h).max(0.0),
        ((ink.y0 - r.y0) / h).max(0.0),
        ((r.x1 - ink.x1) / h).max(0.0),
        ((r.y1 - ink.y1) / h).max(0.0),
    );
    let part = |x0: f32, x1: f32| {
        let raw = Rect::new(x0, ink.y0, x1, ink.y1);
        match text_ink_in(page, &raw) {
            Some(part_ink) => apply(&part_ink, &own).clamped(page.width() as f32, page.height() as f32),
            None => raw,
        }
    };
    Some(((caption, part(ink.x0, a)), (value, part(z, ink.x1))))
}

/// Every proposal that [`cut_caption`] cuts becomes its caption and its value (in that order,
/// where the whole was); the others stay as they are.
pub fn split_captions(page: &RgbImage, proposals: Vec<Proposal>) -> Vec<Proposal> {
    let mut out = Vec::with_capacity(proposals.len());
    for p in proposals {
        split_into(page, p, &mut out, MAX_CAPTIONS_PER_LINE);
    }
    out
}

/// The most captions one line is cut at (`IBAN: … BIC: …` has two).
const MAX_CAPTIONS_PER_LINE: usize = 4;

/// `p` cut at its captions, in reading order, onto `out`: a caption leading the line first;
/// else a caption after a value, whose own caption is then cut off the same way.
fn split_into(page: &RgbImage, p: Proposal, out: &mut Vec<Proposal>, budget: usize) {
    if budget == 0 {
        out.push(p);
        return;
    }
    if let Some((caption, value)) = cut_caption(page, &p) {
        out.push(caption);
        split_into(page, value, out, budget - 1);
    } else if let Some((value, rest)) = cut_before_later_caption(page, &p) {
        split_into(page, value, out, budget - 1);
        split_into(page, rest, out, budget - 1);
    } else {
        out.push(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Point;
    use crate::domain::box_style::CaptionConvention;
    use crate::prelabel::Level;

    /// A page with solid dark "glyphs" at the given rects.
    fn page_with(ink: &[Rect]) -> RgbImage {
        super::super::tests::page_sized(400, 200, ink)
    }

    fn proposal(rect: Rect, text: &str) -> Proposal {
        Proposal { rect, quad: None, text: Some(text.into()), score: 0.8, level: Level::Line }
    }

    fn bx(x0: f32, y0: f32, x1: f32, text: &str) -> (Rect, &str) {
        (Rect::new(x0, y0, x1, y0 + 20.0), text)
    }

    #[test]
    fn caption_boxes_with_their_value_beside_them_are_split_evidence() {
        let page = [
            bx(10.0, 10.0, 60.0, "BIC:"),
            bx(70.0, 10.0, 200.0, "COBADEFFXXX"),
            bx(10.0, 40.0, 50.0, "VAT"),
            bx(60.0, 40.0, 100.0, "20 %"),
            bx(10.0, 70.0, 80.0, "Telefon:"),
            bx(88.0, 72.0, 220.0, "+49 221 714245"),
            // a value far right in a totals block says nothing about close pairs
            bx(10.0, 100.0, 60.0, "Total"),
            bx(300.0, 100.0, 380.0, "1 234,50 €"),
            // table headers are captions beside captions, not caption and value
            bx(10.0, 130.0, 60.0, "Qty"),
            bx(70.0, 130.0, 120.0, "Rate"),
            bx(130.0, 130.0, 190.0, "Amount"),
            // a caption with its value below it
            bx(10.0, 160.0, 110.0, "Invoice No:"),
            bx(10.0, 185.0, 110.0, "INV-0042"),
            bx(10.0, 210.0, 110.0, "Thank you"),
            // neither a header of two captions nor a caption that announces a value elsewhere
            // is a caption with its value
            bx(10.0, 240.0, 110.0, "Item / Service"),
            bx(10.0, 270.0, 110.0, "Customer ID:"),
            // a bank caption without a colon, and the bank's name beside it
            bx(10.0, 300.0, 120.0, "Bankverbindung"),
            bx(126.0, 300.0, 230.0, "Commerzbank"),
        ];
        assert_eq!(evidence(page.iter().copied()), CaptionEvidence { joined: 0, split: 4 });
        // two such pages are enough to decide
        let next_page = page.iter().map(|(r, t)| (r.translated(0.0, 400.0), *t));
        let e = evidence(page.iter().copied()) + evidence(next_page);
        assert_eq!(e, CaptionEvidence { joined: 0, split: 8 });
        assert_eq!(e.convention(), Some(CaptionConvention::Split));
    }

    #[test]
    fn receipts_that_keep_caption_and_value_in_one_box_are_joined_evidence() {
        // SROIE-like lines
        let page = [
            bx(10.0, 10.0, 200.0, "SUB TOTAL: 11.32"),
            bx(10.0, 40.0, 200.0, "DATE: 12/03/2018"),
            bx(10.0, 70.0, 200.0, "TEL: 03-7845 1234"),
            bx(10.0, 100.0, 200.0, "GST ID NO: 000123456789"),
            bx(10.0, 130.0, 200.0, "INVOICE NO: 10300"),
            bx(10.0, 160.0, 120.0, "TOTAL"),
            bx(300.0, 160.0, 380.0, "12.00"),
            bx(10.0, 190.0, 200.0, "THANK YOU"),
        ];
        let e = evidence(page.iter().copied());
        assert_eq!(e, CaptionEvidence { joined: 5, split: 0 });
        assert_eq!(e.convention(), Some(CaptionConvention::Joined));
        // one caption boxed apart is a slip, not the team's habit
        let slip = [bx(10.0, 220.0, 50.0, "VAT"), bx(60.0, 220.0, 100.0, "6%")];
        assert_eq!(evidence(page.iter().chain(&slip).copied()).convention(), Some(CaptionConvention::Joined));
    }

    #[test]
    fn too_few_captions_decide_nothing() {
        let page = [bx(10.0, 10.0, 60.0, "BIC:"), bx(70.0, 10.0, 200.0, "COBADEFFXXX"), bx(10.0, 40.0, 200.0, "x")];
        let e = evidence(page.iter().copied());
        assert_eq!(e, CaptionEvidence { joined: 0, split: 1 });
        assert_eq!(e.convention(), None);
        assert_eq!(evidence([]).convention(), None);
    }

    #[test]
    fn a_caption_and_its_value_read_as_one_line_are_cut_at_the_blank_between_them() {
        // "VAT" as three glyphs 12 px wide with 3 px between, a 14 px gap, "20 %" as four
        // glyphs with a 5 px word space inside: ink 20 px tall at y 50..70
        let glyph = |x: f32| Rect::new(x, 50.0, x + 12.0, 70.0);
        let caption = [glyph(100.0), glyph(115.0), glyph(130.0)]; // 100..142
        let value = [glyph(156.0), glyph(171.0), glyph(188.0), glyph(203.0)]; // 156..215
        let page = page_with(&[caption.as_slice(), value.as_slice()].concat());
        // the model's box: ink 100..215 × 50..70 padded 4 px each side
        let whole = proposal(Rect::new(96.0, 46.0, 219.0, 74.0), "VAT 20 %");
        let (c, v) = cut_caption(&page, &whole).expect("cut");
        assert_eq!(c.text.as_deref(), Some("VAT"));
        assert_eq!(v.text.as_deref(), Some("20 %"));
        // each part at its own ink plus the whole's padding (0.2 line heights)
        assert_eq!(c.rect, Rect::new(96.0, 46.0, 146.0, 74.0));
        assert_eq!(v.rect, Rect::new(152.0, 46.0, 219.0, 74.0));
        assert_eq!((c.score, v.score), (0.8, 0.8));
        assert_eq!(split_captions(&page, vec![whole.clone()]), vec![c, v]);
    }

    #[test]
    fn a_line_of_two_captions_and_their_values_is_cut_at_each() {
        // "IBAN: DE02 7098 BIC: GENODE30XXX": glyphs 10 px wide at a 12 px pitch, word
        // spaces 6 px, 16 px before and after each caption's value
        let word = |x0: f32, n: usize| -> Vec<Rect> {
            (0..n).map(|i| Rect::new(x0 + 12.0 * i as f32, 50.0, x0 + 12.0 * i as f32 + 10.0, 70.0)).collect()
        };
        let ink = [word(100.0, 5), word(174.0, 4), word(226.0, 4), word(288.0, 4), word(350.0, 11)].concat();
        let page = super::super::tests::page_sized(600, 200, &ink);
        let whole = proposal(Rect::new(96.0, 46.0, 484.0, 74.0), "IBAN: DE02 7098 BIC: GENODE30XXX");
        let parts = split_captions(&page, vec![whole]);
        let got: Vec<(&str, Rect)> = parts.iter().map(|p| (p.text.as_deref().unwrap_or(""), p.rect)).collect();
        assert_eq!(
            got,
            vec![
                ("IBAN:", Rect::new(96.0, 46.0, 162.0, 74.0)),
                ("DE02 7098", Rect::new(170.0, 46.0, 276.0, 74.0)),
                ("BIC:", Rect::new(284.0, 46.0, 338.0, 74.0)),
                ("GENODE30XXX", Rect::new(346.0, 46.0, 484.0, 74.0)),
            ]
        );
    }

    #[test]
    fn a_tilted_caption_and_value_are_cut_in_the_lines_own_frame() {
        // "VAT 20 %" as above, tilted by 3 degrees about (150, 60): its axis-aligned
        // envelope's columns overlap nowhere blank, its own frame has the 14 px gap
        let (sin, cos) = 3f32.to_radians().sin_cos();
        let to_page = |u: f32, v: f32| Point::new(150.0 + u * cos - v * sin, 60.0 + u * sin + v * cos);
        let glyphs_u = [100.0, 115.0, 130.0, 156.0, 171.0, 188.0, 203.0].map(|x: f32| x - 150.0);
        let mut page = RgbImage::from_pixel(400, 200, image::Rgb([240, 238, 232]));
        for (x, y, px) in page.enumerate_pixels_mut() {
            let (dx, dy) = (x as f32 + 0.5 - 150.0, y as f32 + 0.5 - 60.0);
            let (u, v) = (dx * cos + dy * sin, -dx * sin + dy * cos);
            if v.abs() <= 10.0 && glyphs_u.iter().any(|&g| u >= g && u <= g + 12.0) {
                *px = image::Rgb([25, 25, 40]);
            }
        }
        let quad = Quad([to_page(-54.0, -14.0), to_page(69.0, -14.0), to_page(69.0, 14.0), to_page(-54.0, 14.0)]);
        let whole = Proposal { quad: Some(quad), ..proposal(quad.bounds(), "VAT 20 %") };
        let (c, v) = cut_caption(&page, &whole).expect("cut");
        assert_eq!((c.text.as_deref(), v.text.as_deref()), (Some("VAT"), Some("20 %")));
        let (cq, vq) = (c.quad.expect("a skewed part"), v.quad.expect("a skewed part"));
        assert_eq!((c.rect, v.rect), (cq.bounds(), vq.bounds()));
        // the caption's part ends in the gap (142..156 along the line), the value's starts there
        let along = |p: Point| (p.x - 150.0) * cos + (p.y - 60.0) * sin + 150.0;
        let (c_end, v_start) = (along(cq.0[1]), along(vq.0[0]));
        assert!(c_end > 142.0 && c_end < 156.0 && v_start > 142.0 && v_start < 156.0, "{c_end} {v_start}");
        assert!(along(cq.0[0]) < 100.0 && along(vq.0[1]) > 215.0, "{cq:?} {vq:?}");
    }

    #[test]
    fn a_line_without_a_blank_near_the_captions_end_stays_whole() {
        // one solid run of ink: no blank column anywhere
        let page = page_with(&[Rect::new(100.0, 50.0, 215.0, 70.0)]);
        let whole = proposal(Rect::new(96.0, 46.0, 219.0, 74.0), "VAT 20 %");
        assert_eq!(cut_caption(&page, &whole), None);
        // a blank, but far from where "VAT" ends (at 3.5 of 8 characters)
        let far = page_with(&[Rect::new(100.0, 50.0, 195.0, 70.0), Rect::new(205.0, 50.0, 215.0, 70.0)]);
        assert_eq!(cut_caption(&far, &whole), None);
        assert_eq!(split_captions(&far, vec![whole.clone()]), vec![whole.clone()]);
        // a text without a value, and no text, are left alone
        let glyph = |x: f32| Rect::new(x, 50.0, x + 12.0, 70.0);
        let gap = page_with(&[glyph(100.0), glyph(115.0), glyph(130.0), glyph(156.0), glyph(171.0)]);
        assert_eq!(cut_caption(&gap, &proposal(whole.rect, "Total amount due")), None);
        assert_eq!(cut_caption(&gap, &Proposal { text: None, ..whole }), None);
    }
}
