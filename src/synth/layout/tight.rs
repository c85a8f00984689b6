//! The hard variety's figures: right-aligned numeric columns (quantity, unit price, VAT rate,
//! amount) and totals whose texts stand only a few digit widths apart, as on dense real
//! invoices. Each cell is still its own string, so its own ground-truth box.
//!
//! Gaps are blanks between ink (exact outline bounds), in digit advances of the pen on the
//! right: what a reader, or a text detector, sees between two numbers.

use super::{
    Align, Emphasis, HardLayout, OTHER, Rules, Seg, Style, emphasis_after_total, emphasis_before_total, item_rows,
    put_segs, seg, segs_width, table_rules,
};
use crate::synth::content::{Invoice, Lang};
use crate::synth::text::{Face, Pen, Sheet, wrap};

/// The caption of the per-item VAT column (the totals keep the invoice's own tax caption).
fn vat_caption(inv: &Invoice) -> &'static str {
    match inv.lang {
        Lang::Fr => "TVA",
        Lang::De if inv.cap.tax.starts_with("USt") => "USt.",
        Lang::De => "MwSt.",
        Lang::Uk => "VAT",
        Lang::Us => "Tax",
    }
}

/// Where the ink of `texts` reaches when each is set right-aligned at 0: leftmost, rightmost.
fn ink_envelope<'a>(pen: Pen, texts: impl IntoIterator<Item = &'a str>) -> (f32, f32) {
    let spans =
        texts.into_iter().filter_map(|t| pen.ink_span(t).map(|(a, b)| (a - pen.advance(t), b - pen.advance(t))));
    spans.reduce(|(l, r), (a, b)| (l.min(a), r.max(b))).unwrap_or((0.0, 0.0))
}

/// Where text set right-aligned must end so that its ink ends at `ink_right`.
fn right_edge_for_ink(pen: Pen, text: &str, ink_right: f32) -> f32 {
    ink_right + pen.advance(text) - pen.ink_span(text).map_or(pen.advance(text), |s| s.1)
}

/// A header wrapped at spaces to fit over its figures, in at most two lines.
fn header_lines(pen: Pen, text: &str, width: f32) -> Vec<String> {
    let mut w = width;
    loop {
        let lines = wrap(pen, text, w);
        if lines.len() <= 2 {
            return lines;
        }
        w += pen.px * 0.5;
    }
}

/// Like the standard item table, plus a VAT-rate column, with each figure column's ink only
/// `hard.gap_digits` digit advances from its neighbours' (in the rows where they come
/// closest; other rows have more room). Headers too wide for their figures wrap onto a second
/// line, keep the same distance from each other and sit right-aligned over their figures.
#[allow(clippy::too_many_arguments)]
pub(super) fn items_table(
    s: &mut Sheet,
    inv: &Invoice,
    st: &Style,
    (x0, x1): (f32, f32),
    mut y: f32,
    rules: Rules,
    pos: bool,
    hard: HardLayout,
) -> f32 {
    let pad = (st.body.px * 0.45).round();
    let vpad = (st.body.px * 0.3).round();
    let line = st.line(st.body);
    let cap = &inv.cap;
    let gap = hard.gap_digits * st.figures.digit_advance();
    let items = &inv.items;
    let columns: [(&str, Vec<&str>, &'static str); 4] = [
        (cap.quantity, items.iter().map(|i| i.quantity.as_str()).collect(), "line_item_quantity"),
        (cap.unit_price, items.iter().map(|i| i.unit_price.as_str()).collect(), "line_item_unit_price"),
        (vat_caption(inv), items.iter().map(|_| inv.tax_rate.as_str()).collect(), OTHER),
        (cap.amount, items.iter().map(|i| i.amount.as_str()).collect(), "line_item_amount"),
    ];
    let mut heads = Vec::with_capacity(columns.len());
    // Ink of the cells and of the header lines relative to the column's right edge.
    let (mut cells_ink, mut heads_ink) = ([(0.0f32, 0.0f32); 4], [(0.0f32, 0.0f32); 4]);
    for (c, (head, cells, _)) in columns.iter().enumerate() {
        cells_ink[c] = ink_envelope(st.figures, cells.iter().copied());
        let lines = header_lines(st.caption, head, cells_ink[c].1 - cells_ink[c].0);
        heads_ink[c] = ink_envelope(st.caption, lines.iter().map(String::as_str));
        heads.push(lines);
    }
    // Right edges of the figure columns, from the table's right edge leftwards.
    let mut rights = [x1 - pad; 4];
    for c in (0..3).rev() {
        let cells_at = rights[c + 1] + cells_ink[c + 1].0 - gap - cells_ink[c].1;
        let heads_at = rights[c + 1] + heads_ink[c + 1].0 - gap - heads_ink[c].1;
        rights[c] = cells_at.min(heads_at);
    }
    let pos_w = if pos { st.caption.advance(cap.pos).max(st.figures.advance("12")) + 2.0 * pad } else { 0.0 };
    let desc_x = x0 + pos_w;
    let desc_r = rights[0] + cells_ink[0].0.min(heads_ink[0].0) - pad;
    let desc_text_w = desc_r - desc_x - 2.0 * pad;
    // Grid rules halfway across the narrowest blank between neighbouring columns.
    let between = |c: usize| rights[c] + cells_ink[c].1 + gap / 2.0;
    let col_edges = [desc_x, desc_r, between(0), between(1), between(2)];

    let top = y;
    let head_n = heads.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let header_h = line * head_n as f32 + 2.0 * vpad;
    if rules == Rules::HeaderBand {
        s.fill(x0, y, x1 - x0, header_h, st.tint);
    }
    let last_head_y = y + vpad + (head_n - 1) as f32 * line;
    if pos {
        s.text(x0 + pad, last_head_y, st.caption, cap.pos, OTHER);
    }
    s.text(desc_x + pad, last_head_y, st.caption, cap.description, OTHER);
    for (c, lines) in heads.iter().enumerate() {
        let first = y + vpad + (head_n - lines.len()) as f32 * line;
        for (k, l) in lines.iter().enumerate() {
            s.text_right(rights[c], first + k as f32 * line, st.caption, l, OTHER);
        }
    }
    y += header_h;
    if matches!(rules, Rules::HeaderRule | Rules::Grid | Rules::Zebra) {
        s.hline(x0, x1, y, 2.0, st.rule);
    }
    let figures: Vec<_> =
        columns.iter().enumerate().map(|(c, (_, cells, label))| (rights[c], cells.clone(), *label)).collect();
    let y = item_rows(s, inv, st, (x0, x1), y, rules, pos, (desc_x, desc_text_w), &figures);
    table_rules(s, st, rules, (x0, x1), (top, y), &col_edges);
    y
}

/// Subtotal, tax (caption, rate, amount) and total with each caption's ink `hard.gap_digits`
/// digit advances left of the amounts' ink: of its own amount (runs) or of the widest one (a
/// column).
pub(super) fn totals(
    s: &mut Sheet,
    inv: &Invoice,
    st: &Style,
    right: f32,
    mut y: f32,
    emph: Emphasis,
    hard: HardLayout,
) -> f32 {
    let total_pen = st.body.with(Face::Bold).sized(st.body.px * 1.12);
    let cap = &inv.cap;
    let rows: [(Vec<Seg>, Seg); 3] = [
        (vec![seg(st.caption, cap.subtotal, OTHER)], seg(st.body, &inv.subtotal, "subtotal")),
        (
            vec![seg(st.caption, cap.tax, OTHER), seg(st.body, &inv.tax_rate, "tax_rate")],
            seg(st.body, &inv.tax_amount, "tax_amount"),
        ),
        (vec![seg(total_pen, cap.total, OTHER)], seg(total_pen, &inv.total, "total_amount")),
    ];
    // In digit advances of the amount's pen, which is larger on the total row.
    let gap = |v: &Seg| hard.gap_digits * v.pen.digit_advance();
    let widest_gap = rows.iter().map(|(_, v)| gap(v)).fold(0.0, f32::max);
    let pad = st.body.px * 0.5;
    let vr = right - pad;
    let ink_left = |v: &Seg| vr - v.pen.advance(&v.text) + v.pen.ink_span(&v.text).map_or(0.0, |s| s.0);
    let leftmost = rows.iter().map(|(_, v)| ink_left(v)).fold(f32::MAX, f32::min);
    let caps_right = |(caps, v): &(Vec<Seg>, Seg)| {
        let ink_right = if hard.totals_as_runs { ink_left(v) - gap(v) } else { leftmost - widest_gap };
        caps.last().map_or(ink_right, |last| right_edge_for_ink(last.pen, &last.text, ink_right))
    };
    let x = rows.iter().map(|r| caps_right(r) - segs_width(&r.0)).fold(f32::MAX, f32::min) - pad;
    let row = |s: &mut Sheet, y: f32, r: &(Vec<Seg>, Seg)| {
        put_segs(s, st, Align::Right(caps_right(r)), y, &r.0);
        s.text_right(vr, y, r.1.pen, &r.1.text, r.1.label);
    };
    let top = y;
    let line = st.line(st.body);
    y += pad * 0.5;
    row(s, y, &rows[0]);
    y += line;
    row(s, y, &rows[1]);
    y += line + pad * 0.5;
    let total_h = st.line(total_pen) + pad;
    emphasis_before_total(s, st, emph, x, right, y, total_h);
    row(s, y + pad * 0.5, &rows[2]);
    y += total_h;
    emphasis_after_total(s, st, emph, (x, right), top, y);
    y + pad
}
