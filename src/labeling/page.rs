//! The layout around each box of a page: its neighbours on the line and in the column, the
//! line-item table (header words and which column a cell sits under), where the amounts are,
//! and who the vendor is. Features and rules both read it.

use super::rules::{self, Cue, Pattern, Patterns};
use crate::domain::Rect;

/// One box of a page as the labeller sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PageBox {
    pub rect: Rect,
    pub text: String,
}

/// A page: its size in pixels and its boxes; `links` are key → value pairs (box indices).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub width: f32,
    pub height: f32,
    pub boxes: Vec<PageBox>,
    pub links: Vec<(usize, usize)>,
}

/// What is known about one box from its own text.
#[derive(Debug, Clone, Default)]
pub struct Own {
    pub patterns: Patterns,
    pub cues: Vec<Cue>,
    /// A caption and value in the same box ("Total: 12,00"): the caption's cue and the value's patterns.
    pub caption: Option<(Cue, Patterns)>,
    pub amount: Option<f64>,
    pub folded: String,
}

/// What is known about one box from the page around it.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub left: Option<usize>,
    pub right: Option<usize>,
    pub above: Option<usize>,
    pub below: Option<usize>,
    /// The table header cue of the column the box sits in, when it is below a header row.
    pub column: Option<Cue>,
    /// Inside the line-item table (below its header, above the totals).
    pub in_table: bool,
    /// Below the table (the totals block and footer), when there is a table.
    pub below_table: bool,
    /// Rank of the box's amount among the page's amounts, largest first (0 = the largest).
    pub amount_rank: Option<usize>,
    /// Index of the box among the page's boxes in reading order (top to bottom).
    pub order: usize,
    /// Height relative to the page's median box height.
    pub rel_height: f32,
    /// A key box linked to this one.
    pub key: Option<usize>,
    /// The nearest cue to the left on the line or just above (the caption this value answers).
    pub cue: Option<Cue>,
}

/// Everything the labeller knows about a page.
#[derive(Debug, Clone)]
pub struct Layout {
    pub own: Vec<Own>,
    pub ctx: Vec<Context>,
    pub line_height: f32,
    /// A key for the vendor (folded text of the page's most prominent header line).
    pub vendor: Option<String>,
    /// The box that names the vendor.
    pub vendor_box: Option<usize>,
    /// Boxes whose text already appears higher on the page (a footer repeating the letterhead).
    pub repeated: Vec<bool>,
}

const TABLE_CUES: [Cue; 4] = [Cue::Description, Cue::Quantity, Cue::UnitPrice, Cue::LineAmount];

/// A caption a value to its right or below answers: caption words only, or with a rate
/// ("MwSt. 19 %", "VAT 20%", read as one box) in front of the amount it explains.
fn is_caption(own: &Own) -> bool {
    let rate_only = |p: Patterns| p.iter().all(|x| x == Pattern::Percent);
    !own.cues.is_empty() && own.patterns.is_empty() && own.caption.is_none_or(|(_, p)| rate_only(p))
}

fn v_overlap(a: &Rect, b: &Rect) -> f32 {
    (a.y1.min(b.y1) - a.y0.max(b.y0)).max(0.0)
}

fn h_overlap(a: &Rect, b: &Rect) -> f32 {
    (a.x1.min(b.x1) - a.x0.max(b.x0)).max(0.0)
}

impl Layout {
    pub fn of(page: &Page) -> Layout {
        let n = page.boxes.len();
        let own: Vec<Own> = page
            .boxes
            .iter()
            .map(|b| {
                let text = b.text.trim();
                Own {
                    patterns: rules::patterns(text),
                    cues: rules::cues(text),
                    // "Total: 12,00" is a caption with its value; "TOTAL INCL. 6% GST" only a caption
                    caption: rules::split_caption(text)
                        .map(|(c, v)| (c, rules::patterns(v)))
                        .filter(|(_, p)| !p.is_empty()),
                    amount: rules::amount_value(text)
                        .or_else(|| rules::split_caption(text).and_then(|(_, v)| rules::amount_value(v))),
                    folded: rules::fold(text),
                }
            })
            .collect();
        let mut heights: Vec<f32> = page.boxes.iter().map(|b| b.rect.height()).filter(|h| *h > 0.0).collect();
        heights.sort_by(f32::total_cmp);
        let line_height = heights.get(heights.len() / 2).copied().unwrap_or(12.0).max(1.0);
        let mut ctx: Vec<Context> = vec![Context::default(); n];
        let rects: Vec<Rect> = page.boxes.iter().map(|b| b.rect).collect();
        let lh = line_height;

        let mut reading: Vec<usize> = (0..n).collect();
        reading.sort_by(|&a, &b| rects[a].y0.total_cmp(&rects[b].y0).then(rects[a].x0.total_cmp(&rects[b].x0)));
        for (k, &i) in reading.iter().enumerate() {
            ctx[i].order = k;
        }
        for i in 0..n {
            let r = rects[i];
            ctx[i].rel_height = r.height() / lh;
            let (mut left, mut right, mut above, mut below) = (None, None, None, None);
            let (mut dl, mut dr, mut da, mut db) = (f32::MAX, f32::MAX, f32::MAX, f32::MAX);
            for (j, o) in rects.iter().enumerate() {
                if j == i {
                    continue;
                }
                // a box much taller than this one (a stamp, a logo, a misread smear) is no
                // neighbour on its line
                let comparable =
                    o.height() <= 2.0 * r.height().max(0.5 * lh) && r.height() <= 2.0 * o.height().max(0.5 * lh);
                let same_line = comparable && v_overlap(&r, o) >= 0.5 * r.height().min(o.height());
                if same_line {
                    let gap = r.x0 - o.x1;
                    if o.x1 <= r.x0 + 0.3 * lh && gap < dl && gap < page.width * 0.6 {
                        dl = gap;
                        left = Some(j);
                    }
                    let gap = o.x0 - r.x1;
                    if o.x0 >= r.x1 - 0.3 * lh && gap < dr && gap < page.width * 0.6 {
                        dr = gap;
                        right = Some(j);
                    }
                } else {
                    let aligned = h_overlap(&r, o) > 0.0 || (o.x0 - r.x0).abs() < lh || (o.x1 - r.x1).abs() < lh;
                    if !aligned {
                        continue;
                    }
                    let gap = r.y0 - o.y1;
                    if o.y1 <= r.y0 + 0.3 * lh && gap < da && gap < 4.0 * lh {
                        da = gap;
                        above = Some(j);
                    }
                    let gap = o.y0 - r.y1;
                    if o.y0 >= r.y1 - 0.3 * lh && gap < db && gap < 4.0 * lh {
                        db = gap;
                        below = Some(j);
                    }
                }
            }
            ctx[i].left = left;
            ctx[i].right = right;
            ctx[i].above = above;
            ctx[i].below = below;
        }
        // the caption a value answers: on its line to the left (past other values, as the rate
        // between "MwSt." and its amount), else just above it
        for i in 0..n {
            let from = |j: Option<usize>| j.and_then(|j| own[j].cues.first().copied().filter(|_| is_caption(&own[j])));
            let mut left = ctx[i].left;
            let mut cue = None;
            for _ in 0..3 {
                let Some(j) = left else { break };
                if let Some(c) = from(Some(j)) {
                    cue = Some(c);
                    break;
                }
                if own[j].patterns.is_empty() {
                    break;
                }
                left = ctx[j].left;
            }
            ctx[i].cue = cue.or_else(|| from(ctx[i].above));
        }
        for &(k, v) in &page.links {
            if k < n && v < n {
                ctx[v].key = Some(k);
            }
        }

        // the table: the line holding the most header words (at least two kinds)
        let mut header: Vec<usize> = Vec::new();
        for i in 0..n {
            if !own[i].cues.iter().any(|c| TABLE_CUES.contains(c)) || own[i].amount.is_some() {
                continue;
            }
            let line: Vec<usize> = (0..n)
                .filter(|&j| {
                    v_overlap(&rects[i], &rects[j]) >= 0.5 * rects[i].height().min(rects[j].height())
                        && own[j].cues.iter().any(|c| TABLE_CUES.contains(c))
                        && own[j].amount.is_none()
                })
                .collect();
            let mut kinds: Vec<Cue> =
                line.iter().filter_map(|&j| own[j].cues.iter().find(|c| TABLE_CUES.contains(c)).copied()).collect();
            kinds.sort();
            kinds.dedup();
            if kinds.len() >= 2 && line.len() > header.len() {
                header = line;
            }
        }
        if !header.is_empty() {
            let top = header.iter().map(|&j| rects[j].y1).fold(f32::MIN, f32::max);
            // the table ends at the first totals caption below it
            let end = (0..n)
                .filter(|&j| rects[j].y0 > top)
                .filter(|&j| own[j].cues.iter().any(|c| matches!(c, Cue::Subtotal | Cue::Total | Cue::Tax)))
                .map(|j| rects[j].y0)
                .fold(f32::MAX, f32::min);
            for i in 0..n {
                let r = rects[i];
                if r.y0 > top - 0.2 * lh && r.y1 < end + 0.3 * lh && !header.contains(&i) {
                    ctx[i].in_table = true;
                    // the header cell it overlaps most, else the one whose edge it shares
                    let mut best: Option<(f32, usize)> = None;
                    for &h in &header {
                        let hr = rects[h];
                        let score = h_overlap(&r, &hr) / r.width().max(1.0)
                            + if (hr.x1 - r.x1).abs() < 1.5 * lh || (hr.x0 - r.x0).abs() < 1.5 * lh {
                                0.5
                            } else {
                                0.0
                            };
                        if score > 0.0 && best.is_none_or(|(s, _)| score > s) {
                            best = Some((score, h));
                        }
                    }
                    ctx[i].column =
                        best.and_then(|(_, h)| own[h].cues.iter().find(|c| TABLE_CUES.contains(c)).copied());
                } else if r.y0 >= end - 0.3 * lh {
                    ctx[i].below_table = true;
                }
            }
        }

        let mut amounts: Vec<(f64, usize)> = (0..n).filter_map(|i| own[i].amount.map(|a| (a.abs(), i))).collect();
        amounts.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut rank = 0;
        for k in 0..amounts.len() {
            if k > 0 && amounts[k].0 < amounts[k - 1].0 {
                rank = k;
            }
            ctx[amounts[k].1].amount_rank = Some(rank);
        }

        // the vendor: the tallest text in the top fifth of the page, else the first line
        // (a line naming a legal form wins; else the tallest, the topmost of near-equals)
        let name_like = |i: usize| {
            rects[i].y1 < page.height * 0.2
                && own[i].folded.chars().filter(|c| c.is_alphabetic()).count() >= 3
                && own[i].patterns.is_empty()
                && own[i].cues.iter().all(|c| *c == Cue::Company)
                && own[i].caption.is_none()
        };
        let candidates: Vec<usize> = reading.iter().copied().filter(|&i| name_like(i)).collect();
        let tallest = candidates.iter().map(|&i| rects[i].height()).fold(0.0f32, f32::max);
        let vendor_box = candidates
            .iter()
            .copied()
            .find(|&i| own[i].cues.contains(&Cue::Company))
            .or_else(|| candidates.iter().copied().find(|&i| rects[i].height() >= 0.9 * tallest))
            .or_else(|| reading.first().copied());
        let vendor = vendor_box
            .map(|i| own[i].folded.chars().filter(|c| c.is_alphabetic() || *c == ' ').collect::<String>())
            .filter(|v| !v.trim().is_empty());
        // letters and digits only, so two readings of one line that differ in a space or a
        // dot still count as the same text
        let bare: Vec<String> =
            own.iter().map(|o| o.folded.chars().filter(|c| c.is_alphanumeric()).collect()).collect();
        let mut repeated = vec![false; n];
        for i in 0..n {
            let t = &bare[i];
            if t.chars().count() >= 4 && own[i].amount.is_none() && !own[i].patterns.contains(Pattern::Integer) {
                repeated[i] = (0..n).any(|j| j != i && bare[j] == *t && rects[j].y0 < rects[i].y0 - 0.5 * lh);
            }
        }
        Layout { own, ctx, line_height, vendor, vendor_box, repeated }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x0: f32, y0: f32, x1: f32, y1: f32, text: &str) -> PageBox {
        PageBox { rect: Rect::new(x0, y0, x1, y1), text: text.into() }
    }

    #[test]
    fn finds_neighbours_the_caption_and_the_table_columns() {
        let page = Page {
            width: 1000.0,
            height: 1400.0,
            boxes: vec![
                b(50.0, 40.0, 400.0, 80.0, "Müller Bau GmbH"),
                b(600.0, 200.0, 720.0, 220.0, "Rechnungsnr.:"),
                b(740.0, 200.0, 860.0, 220.0, "RE-2024-0117"),
                b(50.0, 400.0, 300.0, 420.0, "Beschreibung"),
                b(600.0, 400.0, 660.0, 420.0, "Menge"),
                b(820.0, 400.0, 940.0, 420.0, "Betrag"),
                b(50.0, 440.0, 420.0, 460.0, "Montage der Anlage"),
                b(630.0, 440.0, 660.0, 460.0, "3"),
                b(850.0, 440.0, 940.0, 460.0, "1.234,50 €"),
                b(600.0, 520.0, 760.0, 540.0, "Gesamtbetrag"),
                b(830.0, 520.0, 940.0, 540.0, "1.468,06 €"),
            ],
            links: vec![],
        };
        let l = Layout::of(&page);
        assert_eq!(l.ctx[2].left, Some(1));
        assert_eq!(l.ctx[2].cue, Some(Cue::InvoiceNumber));
        assert_eq!(l.ctx[6].column, Some(Cue::Description));
        assert_eq!(l.ctx[7].column, Some(Cue::Quantity));
        assert_eq!(l.ctx[8].column, Some(Cue::LineAmount));
        assert!(l.ctx[8].in_table && !l.ctx[10].in_table && l.ctx[10].below_table);
        assert_eq!(l.ctx[10].cue, Some(Cue::Total));
        assert_eq!(l.ctx[10].amount_rank, Some(0));
        assert_eq!(l.ctx[8].amount_rank, Some(1));
        assert_eq!(l.vendor.as_deref(), Some("muller bau gmbh"));
        assert_eq!(l.vendor_box, Some(0));
        assert_eq!(l.ctx[0].order, 0);
    }

    #[test]
    fn an_empty_page_and_degenerate_boxes_do_not_panic() {
        let l = Layout::of(&Page::default());
        assert!(l.own.is_empty() && l.vendor.is_none());
        let page = Page {
            width: 0.0,
            height: 0.0,
            boxes: vec![b(5.0, 5.0, 5.0, 5.0, ""), b(1.0, 1.0, 2.0, 2.0, "€")],
            links: vec![(0, 9)],
        };
        let l = Layout::of(&page);
        assert_eq!(l.ctx.len(), 2);
    }
}
