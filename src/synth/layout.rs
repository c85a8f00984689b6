//! Where the parts of an [`Invoice`] go on the page, in five house styles built from shared
//! blocks (letterhead, addresses, meta data, item table, totals, footer).

use image::Rgb;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::content::{Invoice, Lang, Party, pick};
use super::text::{Face, Family, Pen, Sheet, wrap};

mod tight;

pub(crate) const PAGE_W: i32 = 1240;
pub(crate) const PAGE_H: i32 = 1754;
pub(crate) const LAYOUTS: usize = 5;

const OTHER: &str = "other_text";

/// Sizes and colours of one page; `shrink` scales everything when a page overflows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub body: Pen,
    pub small: Pen,
    pub head: Pen,
    pub title: Pen,
    pub caption: Pen,
    pub figures: Pen,
    pub muted: Pen,
    pub accent: Rgb<u8>,
    pub tint: Rgb<u8>,
    pub rule: Rgb<u8>,
    pub logo: Rgb<u8>,
    pub margin: f32,
    pub lead: f32,
    /// Set on hard pages: figures packed tightly (see [`tight`]).
    pub hard: Option<HardLayout>,
}

/// How a hard page packs its figures.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HardLayout {
    /// Blank between adjacent figure columns, and between totals captions and their amounts,
    /// in digit advances of the pen the figures are set in.
    pub gap_digits: f32,
    /// Totals rows as runs ("Zwischensumme 18.469,39 €", each caption just left of its own
    /// amount) rather than captions right-aligned in a column left of all amounts.
    pub totals_as_runs: bool,
}

impl Style {
    pub fn random(rng: &mut ChaCha8Rng) -> Style {
        let ink = Rgb([rng.random_range(5..45), rng.random_range(5..45), rng.random_range(5..50)]);
        let accent = pick(
            rng,
            &[Rgb([20, 50, 110]), Rgb([20, 90, 60]), Rgb([120, 20, 40]), Rgb([50, 50, 60]), Rgb([0, 90, 100])],
        );
        let tint = Rgb(accent.0.map(|c| 255 - (255 - c) / 9));
        let logo = Rgb(accent.0.map(|c| 255 - (255 - c) / 2));
        let body_px = rng.random_range(19.0..24.0);
        let body = Pen::new(Face::Regular, body_px, ink);
        let caption_face = if rng.random_bool(0.5) { Face::Bold } else { Face::Regular };
        let grey = rng.random_range(70..95);
        Style {
            body,
            small: body.sized(body_px * rng.random_range(0.72..0.85)),
            head: Pen::new(
                Face::Bold,
                body_px * rng.random_range(1.5..2.1),
                if rng.random_bool(0.5) { accent } else { ink },
            ),
            title: Pen::new(
                if rng.random_bool(0.7) { Face::Bold } else { Face::Regular },
                body_px * rng.random_range(1.7..2.6),
                if rng.random_bool(0.6) { accent } else { ink },
            ),
            caption: body.with(caption_face),
            figures: if rng.random_bool(0.25) { body.with(Face::Mono) } else { body },
            muted: Pen::new(Face::Regular, body_px * 0.8, Rgb([grey, grey, grey + 5])),
            accent,
            tint,
            rule: Rgb([rng.random_range(130..175); 3]),
            logo,
            margin: rng.random_range(80.0..130.0),
            lead: rng.random_range(1.18..1.4),
            hard: None,
        }
    }

    /// The same style set in `family`, unkerned as most invoicing software sets text, with
    /// figures packed as `hard` says.
    pub fn hardened(&self, family: Family, hard: HardLayout) -> Style {
        let f = |p: Pen| p.in_family(family).unkerned();
        Style {
            body: f(self.body),
            small: f(self.small),
            head: f(self.head),
            title: f(self.title),
            caption: f(self.caption),
            figures: f(self.figures),
            muted: f(self.muted),
            hard: Some(hard),
            ..*self
        }
    }

    pub fn shrunk(&self, f: f32) -> Style {
        let s = |p: Pen| p.sized(p.px * f);
        Style {
            body: s(self.body),
            small: s(self.small),
            head: s(self.head),
            title: s(self.title),
            caption: s(self.caption),
            figures: s(self.figures),
            muted: s(self.muted),
            lead: 1.0 + (self.lead - 1.0) * f,
            ..*self
        }
    }

    fn line(&self, pen: Pen) -> f32 {
        pen.height() * self.lead
    }
}

/// One run of text in a line of several (caption, value, …).
#[derive(Clone)]
struct Seg {
    pen: Pen,
    text: String,
    label: &'static str,
}

fn seg(pen: Pen, text: &str, label: &'static str) -> Seg {
    Seg { pen, text: text.to_string(), label }
}

fn segs_width(segs: &[Seg]) -> f32 {
    let gaps: f32 = segs.iter().skip(1).map(|s| s.pen.advance(" ") * 1.6).sum();
    segs.iter().map(|s| s.pen.advance(&s.text)).sum::<f32>() + gaps
}

#[derive(Clone, Copy)]
enum Align {
    Left(f32),
    Right(f32),
    Center(f32),
}

/// Draws segments on one line separated by wide spaces; returns the line height used.
fn put_segs(s: &mut Sheet, st: &Style, align: Align, y: f32, segs: &[Seg]) -> f32 {
    let w = segs_width(segs);
    let mut x = match align {
        Align::Left(x) => x,
        Align::Right(x) => x - w,
        Align::Center(x) => x - w / 2.0,
    };
    for (i, g) in segs.iter().enumerate() {
        if i > 0 {
            x += g.pen.advance(" ") * 1.6;
        }
        x = s.text(x, y, g.pen, &g.text, g.label);
    }
    segs.iter().map(|g| st.line(g.pen)).fold(0.0, f32::max)
}

fn put(s: &mut Sheet, st: &Style, align: Align, y: f32, pen: Pen, text: &str, label: &'static str) -> f32 {
    put_segs(s, st, align, y, &[seg(pen, text, label)])
}

/// Name, address and contact lines of the issuer; `labelled` is false where the vendor is
/// only repeated (footers), so each field has one labelled instance per page.
fn vendor_lines(inv: &Invoice, st: &Style, labelled: bool, contact: bool, max_w: f32) -> Vec<Vec<Seg>> {
    let (vn, va, vt) =
        if labelled { ("vendor_name", "vendor_address", "vendor_tax_id") } else { (OTHER, OTHER, OTHER) };
    let v = &inv.vendor;
    let mut lines: Vec<Vec<Seg>> = wrap(st.head, &v.name, max_w).iter().map(|l| vec![seg(st.head, l, vn)]).collect();
    lines.extend(v.address.iter().map(|a| vec![seg(st.body, a, va)]));
    if contact {
        if let Some(p) = &v.phone {
            lines.push(vec![seg(st.small, inv.cap.phone, OTHER), seg(st.small, p, OTHER)]);
        }
        if let Some(e) = &v.email {
            lines.push(vec![seg(st.small, inv.cap.email, OTHER), seg(st.small, e, OTHER)]);
        }
    }
    if let Some(t) = &v.tax_id {
        lines.push(vec![seg(st.small, inv.cap.vat_id, OTHER), seg(st.small, t, vt)]);
    }
    lines
}

fn put_lines(s: &mut Sheet, st: &Style, align: Align, mut y: f32, lines: &[Vec<Seg>]) -> f32 {
    for l in lines {
        y += put_segs(s, st, align, y, l);
    }
    y
}

fn customer_lines(p: &Party, inv: &Invoice, st: &Style, caption: bool) -> Vec<Vec<Seg>> {
    let mut lines = Vec::new();
    if caption {
        lines.push(vec![seg(st.caption, inv.cap.bill_to, OTHER)]);
    }
    lines.push(vec![seg(st.body.with(Face::Bold), &p.name, "customer_name")]);
    lines.extend(p.address.iter().map(|a| vec![seg(st.body, a, "customer_address")]));
    if let Some(t) = &p.tax_id {
        lines.push(vec![seg(st.small, inv.cap.vat_id, OTHER), seg(st.small, t, OTHER)]);
    }
    lines
}

/// (caption, value, label) rows of the invoice's identifying data.
fn meta_rows(inv: &Invoice, with_currency: bool) -> Vec<(&'static str, String, &'static str)> {
    let mut rows =
        vec![(inv.cap.number, inv.number.clone(), "invoice_number"), (inv.cap.date, inv.date.clone(), "invoice_date")];
    if let Some(d) = &inv.due {
        rows.push((inv.cap.due, d.clone(), "due_date"));
    }
    if let Some(c) = &inv.customer_no {
        rows.push((inv.cap.customer_no, c.clone(), OTHER));
    }
    if with_currency {
        rows.push((inv.cap.currency, inv.currency_code.to_string(), "currency"));
    }
    rows
}

/// Captions in one column, values in the next; `value_right` right-aligns values there instead.
fn meta_table(
    s: &mut Sheet,
    st: &Style,
    rows: &[(&str, String, &'static str)],
    x: f32,
    value_right: Option<f32>,
    mut y: f32,
) -> f32 {
    let cap_w = rows.iter().map(|r| st.caption.advance(r.0)).fold(0.0, f32::max);
    for (cap, val, label) in rows {
        s.text(x, y, st.caption, cap, OTHER);
        match value_right {
            Some(r) => s.text_right(r, y, st.body, val, label),
            None => {
                s.text(x + cap_w + st.body.px, y, st.body, val, label);
            }
        }
        y += st.line(st.body);
    }
    y
}

fn meta_width(st: &Style, rows: &[(&str, String, &'static str)]) -> f32 {
    let cap_w = rows.iter().map(|r| st.caption.advance(r.0)).fold(0.0, f32::max);
    cap_w + st.body.px + rows.iter().map(|r| st.body.advance(&r.1)).fold(0.0, f32::max)
}

#[derive(Clone, Copy, PartialEq)]
enum Rules {
    Grid,
    HeaderBand,
    HeaderRule,
    Zebra,
    Bare,
}

fn random_rules(rng: &mut ChaCha8Rng) -> Rules {
    pick(rng, &[Rules::Grid, Rules::HeaderBand, Rules::HeaderRule, Rules::Zebra, Rules::Bare])
}

fn items_table(
    s: &mut Sheet,
    inv: &Invoice,
    st: &Style,
    (x0, x1): (f32, f32),
    mut y: f32,
    rules: Rules,
    pos: bool,
) -> f32 {
    if let Some(hard) = st.hard {
        return tight::items_table(s, inv, st, (x0, x1), y, rules, pos, hard);
    }
    let pad = (st.body.px * 0.45).round();
    let vpad = (st.body.px * 0.3).round();
    let line = st.line(st.body);
    let cap = &inv.cap;
    let num_w = |head: &str, cells: &mut dyn Iterator<Item = &String>| {
        let cells_w = cells.map(|c| st.figures.advance(c)).fold(0.0, f32::max);
        st.caption.advance(head).max(cells_w) + 2.0 * pad
    };
    let pos_w = if pos { st.caption.advance(cap.pos).max(st.figures.advance("12")) + 2.0 * pad } else { 0.0 };
    let qty_w = num_w(cap.quantity, &mut inv.items.iter().map(|i| &i.quantity));
    let unit_w = num_w(cap.unit_price, &mut inv.items.iter().map(|i| &i.unit_price));
    let amt_w = num_w(cap.amount, &mut inv.items.iter().map(|i| &i.amount));
    let desc_x = x0 + pos_w;
    let (qty_r, unit_r, amt_r) = (x1 - amt_w - unit_w, x1 - amt_w, x1);
    let desc_w = qty_r - qty_w - desc_x;
    let col_edges = [desc_x, qty_r - qty_w, qty_r, unit_r];

    let top = y;
    let header_h = line + 2.0 * vpad;
    if rules == Rules::HeaderBand {
        s.fill(x0, y, x1 - x0, header_h, st.tint);
    }
    if pos {
        s.text(x0 + pad, y + vpad, st.caption, cap.pos, OTHER);
    }
    s.text(desc_x + pad, y + vpad, st.caption, cap.description, OTHER);
    s.text_right(qty_r - pad, y + vpad, st.caption, cap.quantity, OTHER);
    s.text_right(unit_r - pad, y + vpad, st.caption, cap.unit_price, OTHER);
    s.text_right(amt_r - pad, y + vpad, st.caption, cap.amount, OTHER);
    y += header_h;
    if matches!(rules, Rules::HeaderRule | Rules::Grid | Rules::Zebra) {
        s.hline(x0, x1, y, 2.0, st.rule);
    }
    let items = &inv.items;
    let figures: [FigureColumn; 3] = [
        (qty_r - pad, items.iter().map(|i| i.quantity.as_str()).collect(), "line_item_quantity"),
        (unit_r - pad, items.iter().map(|i| i.unit_price.as_str()).collect(), "line_item_unit_price"),
        (amt_r - pad, items.iter().map(|i| i.amount.as_str()).collect(), "line_item_amount"),
    ];
    let y = item_rows(s, inv, st, (x0, x1), y, rules, pos, (desc_x, desc_w - 2.0 * pad), &figures);
    table_rules(s, st, rules, (x0, x1), (top, y), &col_edges);
    y
}

/// A figure column of the line-item table: the x its cells' right edges stand at, the cells
/// (one per item) and their label.
type FigureColumn<'a> = (f32, Vec<&'a str>, &'static str);

/// The line-item rows of a table, from `y` down: zebra fill, position number, the wrapped
/// description (from `desc_x`, `desc_w` wide) and the figure cells; a grid's rule between
/// rows. Returns the y under the last row.
#[allow(clippy::too_many_arguments)]
fn item_rows(
    s: &mut Sheet,
    inv: &Invoice,
    st: &Style,
    (x0, x1): (f32, f32),
    mut y: f32,
    rules: Rules,
    pos: bool,
    (desc_x, desc_w): (f32, f32),
    figures: &[FigureColumn<'_>],
) -> f32 {
    let pad = (st.body.px * 0.45).round();
    let vpad = (st.body.px * 0.3).round();
    let line = st.line(st.body);
    for (i, item) in inv.items.iter().enumerate() {
        let lines = wrap(st.body, &item.description, desc_w);
        let row_h = line * lines.len().max(1) as f32 + 2.0 * vpad;
        if rules == Rules::Zebra && i % 2 == 1 {
            s.fill(x0, y, x1 - x0, row_h, st.tint);
        }
        let ty = y + vpad;
        if pos {
            s.text(x0 + pad, ty, st.figures, &(i + 1).to_string(), OTHER);
        }
        for (k, l) in lines.iter().enumerate() {
            s.text(desc_x + pad, ty + k as f32 * line, st.body, l, "line_item_description");
        }
        for (right, cells, label) in figures {
            s.text_right(*right, ty, st.figures, cells[i], label);
        }
        y += row_h;
        if rules == Rules::Grid && i + 1 < inv.items.len() {
            s.hline(x0, x1, y, 1.0, st.rule);
        }
    }
    y
}

/// The rules a table style draws once its rows are down: a grid's frame and column lines
/// (at `col_edges`), or the closing rule under the last row.
fn table_rules(s: &mut Sheet, st: &Style, rules: Rules, (x0, x1): (f32, f32), (top, y): (f32, f32), col_edges: &[f32]) {
    match rules {
        Rules::Grid => {
            s.hline(x0, x1, top, 1.5, st.rule);
            s.hline(x0, x1, y, 1.5, st.rule);
            s.vline(x0, top, y, 1.5, st.rule);
            s.vline(x1 - 1.5, top, y, 1.5, st.rule);
            for &e in col_edges {
                if e > x0 + 1.0 {
                    s.vline(e, top, y, 1.0, st.rule);
                }
            }
        }
        Rules::HeaderRule | Rules::Zebra => s.hline(x0, x1, y, 1.5, st.rule),
        Rules::HeaderBand | Rules::Bare => {}
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Emphasis {
    RuleAbove,
    Band,
    Boxed,
    DoubleRule,
}

/// Subtotal, tax (caption, rate, amount) and total, right-aligned at `right`.
fn totals(s: &mut Sheet, inv: &Invoice, st: &Style, right: f32, mut y: f32, emph: Emphasis) -> f32 {
    if let Some(hard) = st.hard {
        return tight::totals(s, inv, st, right, y, emph, hard);
    }
    let bold = st.body.with(Face::Bold);
    let total_pen = bold.sized(st.body.px * 1.12);
    let cap = &inv.cap;
    let tax_caps = [seg(st.caption, cap.tax, OTHER), seg(st.body, &inv.tax_rate, "tax_rate")];
    let cap_w = [st.caption.advance(cap.subtotal), segs_width(&tax_caps), total_pen.advance(cap.total)]
        .into_iter()
        .fold(0.0, f32::max);
    let val_w = [st.body.advance(&inv.subtotal), st.body.advance(&inv.tax_amount), total_pen.advance(&inv.total)]
        .into_iter()
        .fold(0.0, f32::max);
    let pad = st.body.px * 0.5;
    let x = right - val_w - cap_w - 2.5 * st.body.px;
    let vr = right - pad;
    let top = y;
    let line = st.line(st.body);
    y += pad * 0.5;
    s.text(x + pad, y, st.caption, cap.subtotal, OTHER);
    s.text_right(vr, y, st.body, &inv.subtotal, "subtotal");
    y += line;
    put_segs(s, st, Align::Left(x + pad), y, &tax_caps);
    s.text_right(vr, y, st.body, &inv.tax_amount, "tax_amount");
    y += line + pad * 0.5;
    let total_h = st.line(total_pen) + pad;
    emphasis_before_total(s, st, emph, x, right, y, total_h);
    s.text(x + pad, y + pad * 0.5, total_pen, cap.total, OTHER);
    s.text_right(vr, y + pad * 0.5, total_pen, &inv.total, "total_amount");
    y += total_h;
    emphasis_after_total(s, st, emph, (x, right), top, y);
    y + pad
}

/// The rule or band under the total row that starts at `y`.
fn emphasis_before_total(s: &mut Sheet, st: &Style, emph: Emphasis, x: f32, right: f32, y: f32, total_h: f32) {
    match emph {
        Emphasis::RuleAbove | Emphasis::DoubleRule => s.hline(x, right, y, 2.0, st.rule),
        Emphasis::Band => s.fill(x, y, right - x, total_h, st.tint),
        Emphasis::Boxed => {}
    }
}

/// The rules below the total row, which ends at `y`, or the box around the block from `top`.
fn emphasis_after_total(s: &mut Sheet, st: &Style, emph: Emphasis, (x, right): (f32, f32), top: f32, y: f32) {
    match emph {
        Emphasis::DoubleRule => {
            s.hline(x, right, y, 1.5, st.rule);
            s.hline(x, right, y + 4.0, 1.5, st.rule);
        }
        Emphasis::Boxed => {
            s.hline(x, right, top, 1.5, st.rule);
            s.hline(x, right, y, 1.5, st.rule);
            s.vline(x, top, y, 1.5, st.rule);
            s.vline(right - 1.5, top, y, 1.5, st.rule);
        }
        _ => {}
    }
}

/// Payment terms and thanks, wrapped to the width.
fn notes(s: &mut Sheet, inv: &Invoice, st: &Style, align: Align, width: f32, mut y: f32) -> f32 {
    for l in wrap(st.small, &inv.cap.terms, width) {
        y += put(s, st, align, y, st.small, &l, OTHER);
    }
    y + put(s, st, align, y, st.small.with(Face::Bold), inv.cap.thanks, OTHER)
}

fn bank_lines(inv: &Invoice, pen: Pen) -> Vec<Vec<Seg>> {
    let cap = &inv.cap;
    let mut lines = vec![vec![seg(pen.with(Face::Bold), cap.bank, OTHER), seg(pen, &inv.bank_name, OTHER)]];
    let mut l = Vec::new();
    if let Some(iban) = &inv.iban {
        l.extend([seg(pen, cap.iban, OTHER), seg(pen, iban, "iban")]);
    }
    if let Some(bic) = &inv.bic {
        l.extend([seg(pen, cap.bic, OTHER), seg(pen, bic, OTHER)]);
    }
    if let Some(ach) = &inv.ach {
        l.push(seg(pen, ach, OTHER));
    }
    lines.push(l);
    lines
}

fn lines_height(st: &Style, lines: &[Vec<Seg>]) -> f32 {
    lines.iter().map(|l| l.iter().map(|g| st.line(g.pen)).fold(0.0, f32::max)).sum()
}

/// Centered footer (bank, legal, page) at the bottom; returns its top.
fn footer_center(s: &mut Sheet, inv: &Invoice, st: &Style) -> f32 {
    let p = st.small;
    let mut lines = bank_lines(inv, p);
    if let Some(legal) = &inv.legal {
        lines.push(vec![seg(p, legal, OTHER)]);
    }
    lines.push(vec![seg(p, inv.cap.page, OTHER)]);
    let top = PAGE_H as f32 - st.margin * 0.7 - lines_height(st, &lines);
    s.hline(st.margin, PAGE_W as f32 - st.margin, top - p.px * 0.6, 1.0, st.rule);
    put_lines(s, st, Align::Center(PAGE_W as f32 / 2.0), top, &lines);
    top - p.px
}

/// Three footer columns: vendor, bank, registration; returns its top.
fn footer_columns(s: &mut Sheet, inv: &Invoice, st: &Style, labelled: bool) -> f32 {
    let p = st.small;
    let v = &inv.vendor;
    let (vn, va, vt) =
        if labelled { ("vendor_name", "vendor_address", "vendor_tax_id") } else { (OTHER, OTHER, OTHER) };
    let mut col1 = vec![vec![seg(p.with(Face::Bold), &v.name, vn)]];
    col1.extend(v.address.iter().map(|a| vec![seg(p, a, va)]));
    let cap = &inv.cap;
    let mut col2 = vec![vec![seg(p.with(Face::Bold), cap.bank, OTHER)], vec![seg(p, &inv.bank_name, OTHER)]];
    if let Some(iban) = &inv.iban {
        col2.push(vec![seg(p, cap.iban, OTHER)]);
        col2.push(vec![seg(p, iban, "iban")]);
    }
    if let Some(bic) = &inv.bic {
        col2.push(vec![seg(p, cap.bic, OTHER), seg(p, bic, OTHER)]);
    }
    if let Some(ach) = &inv.ach {
        col2.push(vec![seg(p, ach, OTHER)]);
    }
    let mut col3 = Vec::new();
    if let Some(t) = &v.tax_id {
        col3.push(vec![seg(p, cap.vat_id, OTHER)]);
        col3.push(vec![seg(p, t, vt)]);
    }
    if let Some(ph) = &v.phone {
        col3.push(vec![seg(p, cap.phone, OTHER), seg(p, ph, OTHER)]);
    }
    if let Some(e) = &v.email {
        col3.push(vec![seg(p, e, OTHER)]);
    }
    col3.push(vec![seg(p, cap.page, OTHER)]);
    let h = [&col1, &col2, &col3].iter().map(|c| lines_height(st, c)).fold(0.0, f32::max);
    let top = PAGE_H as f32 - st.margin * 0.7 - h;
    let (l, r) = (st.margin, PAGE_W as f32 - st.margin);
    s.hline(l, r, top - p.px * 0.6, 1.0, st.rule);
    let w = (r - l) / 3.0;
    put_lines(s, st, Align::Left(l), top, &col1);
    put_lines(s, st, Align::Left(l + w + p.px), top, &col2);
    put_lines(s, st, Align::Left(l + 2.0 * w + 2.0 * p.px), top, &col3);
    top - p.px
}

fn outline(s: &mut Sheet, st: &Style, x0: f32, y0: f32, x1: f32, y1: f32) {
    s.hline(x0, x1, y0, 1.0, st.rule);
    s.hline(x0, x1, y1, 1.0, st.rule);
    s.vline(x0, y0, y1, 1.0, st.rule);
    s.vline(x1 - 1.0, y0, y1 + 1.0, 1.0, st.rule);
}

/// A laid-out page and whether it fits: all text on the page and the body clear of the footer.
pub(crate) fn compose(inv: &Invoice, st: &Style, layout: usize, rng: &mut ChaCha8Rng) -> (Sheet, bool) {
    let mut s = Sheet::new(PAGE_W, PAGE_H);
    let (body_end, footer_top) = match layout % LAYOUTS {
        0 => classic(&mut s, inv, st, rng),
        1 => letter(&mut s, inv, st, rng),
        2 => centered(&mut s, inv, st, rng),
        3 => modern(&mut s, inv, st, rng),
        _ => sidebar(&mut s, inv, st, rng),
    };
    let ok = s.fits(24) && body_end <= footer_top && !s.collides();
    (s, ok)
}

fn emphasis(rng: &mut ChaCha8Rng) -> Emphasis {
    pick(rng, &[Emphasis::RuleAbove, Emphasis::Band, Emphasis::Boxed, Emphasis::DoubleRule])
}

/// Letterhead top left, title and meta top right, customer below, grid or ruled table.
fn classic(s: &mut Sheet, inv: &Invoice, st: &Style, rng: &mut ChaCha8Rng) -> (f32, f32) {
    let (l, r) = (st.margin, PAGE_W as f32 - st.margin);
    let mut x = l;
    if rng.random_bool(0.5) {
        let rad = st.head.px * 0.9;
        s.disc(l + rad, st.margin + rad * 0.9, rad, st.logo);
        x += 2.0 * rad + st.body.px;
    }
    let rows = meta_rows(inv, rng.random_bool(0.3));
    let mw = meta_width(st, &rows).max(st.title.advance(inv.cap.title));
    let lh = vendor_lines(inv, st, true, true, r - mw - x - st.body.px * 2.0);
    let y_lh = put_lines(s, st, Align::Left(x), st.margin, &lh);
    let mut y_meta =
        st.margin + put(s, st, Align::Right(r), st.margin, st.title, inv.cap.title, OTHER) + st.body.px * 0.5;
    let mw = meta_width(st, &rows);
    y_meta = meta_table(s, st, &rows, r - mw, rng.random_bool(0.5).then_some(r), y_meta);
    let mut y = y_lh.max(y_meta) + st.body.px * 2.0;
    let cx = if rng.random_bool(0.5) { l } else { PAGE_W as f32 * 0.55 };
    y = put_lines(s, st, Align::Left(cx), y, &customer_lines(&inv.customer, inv, st, true)) + st.body.px * 2.0;
    let rules = if rng.random_bool(0.5) { Rules::Grid } else { random_rules(rng) };
    y = items_table(s, inv, st, (l, r), y, rules, rng.random_bool(0.4)) + st.body.px;
    y = totals(s, inv, st, r, y, emphasis(rng)) + st.body.px;
    y = notes(s, inv, st, Align::Left(l), r - l, y);
    (y, footer_center(s, inv, st))
}

/// Business-letter style (DIN 5008-like): letterhead right, return line above the address window.
fn letter(s: &mut Sheet, inv: &Invoice, st: &Style, rng: &mut ChaCha8Rng) -> (f32, f32) {
    let (l, r) = (st.margin, PAGE_W as f32 - st.margin);
    let y_lh =
        put_lines(s, st, Align::Right(r), st.margin, &vendor_lines(inv, st, true, rng.random_bool(0.5), (r - l) * 0.6));
    let mut y = y_lh.max(300.0) + st.body.px;
    let v = &inv.vendor;
    let mut ret = vec![seg(st.muted.sized(st.small.px * 0.9), &v.name, OTHER)];
    ret.extend(v.address.iter().map(|a| seg(st.muted.sized(st.small.px * 0.9), a, OTHER)));
    let ret_h = put_segs(s, st, Align::Left(l), y, &ret);
    s.hline(l, l + segs_width(&ret), y + ret_h * 0.95, 1.0, st.rule);
    let y_addr = put_lines(s, st, Align::Left(l), y + ret_h * 1.3, &customer_lines(&inv.customer, inv, st, false));
    let rows = meta_rows(inv, rng.random_bool(0.3));
    let mx = (PAGE_W as f32 * 0.58).min(r - meta_width(st, &rows));
    let y_meta = meta_table(s, st, &rows, mx, None, y);
    y = y_addr.max(y_meta) + st.body.px * 2.0;
    y += put(s, st, Align::Left(l), y, st.title.sized(st.body.px * 1.5).with(Face::Bold), inv.cap.title, OTHER);
    if rng.random_bool(0.6) {
        let (hello, intro) = match inv.lang {
            Lang::Fr => ("Madame, Monsieur,", "Veuillez trouver ci-dessous le détail de nos prestations."),
            Lang::De => (
                "Sehr geehrte Damen und Herren,",
                "wir erlauben uns, Ihnen folgende Leistungen in Rechnung zu stellen:",
            ),
            Lang::Uk | Lang::Us => {
                ("Dear Sir or Madam,", "please find below the details of the goods and services supplied.")
            }
        };
        y += st.body.px * 0.5;
        y += put(s, st, Align::Left(l), y, st.body, hello, OTHER);
        y += put(s, st, Align::Left(l), y, st.body, intro, OTHER);
    }
    y += st.body.px;
    let rules = pick(rng, &[Rules::HeaderRule, Rules::Bare, Rules::Zebra]);
    y = items_table(s, inv, st, (l, r), y, rules, rng.random_bool(0.7)) + st.body.px;
    y = totals(s, inv, st, r, y, pick(rng, &[Emphasis::RuleAbove, Emphasis::DoubleRule])) + st.body.px;
    y = notes(s, inv, st, Align::Left(l), r - l, y);
    (y, footer_columns(s, inv, st, false))
}

/// Centered letterhead with an accent band, customer and meta in outlined boxes.
fn centered(s: &mut Sheet, inv: &Invoice, st: &Style, rng: &mut ChaCha8Rng) -> (f32, f32) {
    let (l, r) = (st.margin, PAGE_W as f32 - st.margin);
    let c = PAGE_W as f32 / 2.0;
    s.fill(0.0, 0.0, PAGE_W as f32, st.margin * 0.35, st.logo);
    let mut y = st.margin;
    if rng.random_bool(0.4) {
        s.disc(c, y + st.head.px * 0.6, st.head.px * 0.6, st.logo);
        y += st.head.px * 1.5;
    }
    let v = &inv.vendor;
    for line in wrap(st.head, &v.name, r - l) {
        y += put(s, st, Align::Center(c), y, st.head, &line, "vendor_name");
    }
    let addr: Vec<Seg> = v.address.iter().map(|a| seg(st.body, a, "vendor_address")).collect();
    y += put_segs(s, st, Align::Center(c), y, &addr);
    let mut contact = Vec::new();
    if let Some(p) = &v.phone {
        contact.extend([seg(st.small, inv.cap.phone, OTHER), seg(st.small, p, OTHER)]);
    }
    if let Some(t) = &v.tax_id {
        contact.extend([seg(st.small, inv.cap.vat_id, OTHER), seg(st.small, t, "vendor_tax_id")]);
    }
    if !contact.is_empty() {
        y += put_segs(s, st, Align::Center(c), y, &contact);
    }
    y += st.body.px * 0.8;
    s.hline(l, r, y, 2.0, st.accent);
    y += st.body.px * 1.2;
    y += put(s, st, Align::Center(c), y, st.title, inv.cap.title, OTHER) + st.body.px * 0.8;
    let pad = st.body.px;
    let cust = customer_lines(&inv.customer, inv, st, true);
    let y_c = put_lines(s, st, Align::Left(l + pad), y + pad, &cust);
    let rows = meta_rows(inv, rng.random_bool(0.4));
    let mx = c + pad * 2.0;
    let y_m = meta_table(s, st, &rows, mx + pad, Some(r - pad), y + pad);
    let bottom = y_c.max(y_m) + pad * 0.6;
    outline(s, st, l, y, c - pad, bottom);
    outline(s, st, mx, y, r, bottom);
    y = bottom + st.body.px * 1.8;
    let rules = pick(rng, &[Rules::Zebra, Rules::Grid, Rules::HeaderBand]);
    y = items_table(s, inv, st, (l, r), y, rules, false) + st.body.px;
    y = totals(s, inv, st, r, y, Emphasis::Boxed) + st.body.px;
    y = notes(s, inv, st, Align::Center(c), r - l, y);
    (y, footer_center(s, inv, st))
}

/// Big title top left, meta in a row of columns, vendor only in the footer.
fn modern(s: &mut Sheet, inv: &Invoice, st: &Style, rng: &mut ChaCha8Rng) -> (f32, f32) {
    let (l, r) = (st.margin, PAGE_W as f32 - st.margin);
    let title = st.title.sized(st.title.px * 1.25).with(Face::Bold);
    let mut y = st.margin + put(s, st, Align::Left(l), st.margin, title, inv.cap.title, OTHER);
    let cx = PAGE_W as f32 * 0.58;
    let y_c = put_lines(s, st, Align::Left(cx), st.margin, &customer_lines(&inv.customer, inv, st, true));
    y = y.max(y_c) + st.body.px * 1.5;
    let rows = meta_rows(inv, rng.random_bool(0.4));
    let col_w = (r - l) / rows.len().max(1) as f32;
    let cap_pen = st.muted;
    let mut y_m = y;
    for (i, (cap, val, label)) in rows.iter().enumerate() {
        let x = l + i as f32 * col_w;
        let h = put(s, st, Align::Left(x), y, cap_pen, cap, OTHER);
        y_m = y_m.max(y + h + put(s, st, Align::Left(x), y + h, st.body.with(Face::Bold), val, label));
    }
    y = y_m + st.body.px * 0.6;
    s.hline(l, r, y, 3.0, st.accent);
    y += st.body.px * 1.5;
    let rules = pick(rng, &[Rules::HeaderBand, Rules::Bare, Rules::HeaderRule]);
    y = items_table(s, inv, st, (l, r), y, rules, false) + st.body.px;
    y = totals(s, inv, st, r, y, Emphasis::Band) + st.body.px;
    y = notes(s, inv, st, Align::Left(l), r - l, y);
    (y, footer_columns(s, inv, st, true))
}

/// Vendor, contact and bank details in a tinted left column; the invoice on the right.
fn sidebar(s: &mut Sheet, inv: &Invoice, st: &Style, rng: &mut ChaCha8Rng) -> (f32, f32) {
    let side_w = 420.0;
    s.fill(0.0, 0.0, side_w, PAGE_H as f32, st.tint);
    // Hard scans tilt by up to 3°, which would swing text this near the edge off the page.
    let sl = if st.hard.is_some() { 64.0 } else { 40.0 };
    let sw = side_w - 2.0 * sl;
    // The sidebar is narrow: shrink its pen until the longest unbreakable string (the IBAN) fits.
    let mut p = st.small;
    let widest = inv.iban.as_deref().unwrap_or("");
    while p.advance(widest) > sw && p.px > 11.0 {
        p = p.sized(p.px * 0.95);
    }
    let v = &inv.vendor;
    let mut y = st.margin;
    for line in wrap(st.head.sized(st.head.px.min(34.0)), &v.name, sw) {
        y += put(s, st, Align::Left(sl), y, st.head.sized(st.head.px.min(34.0)), &line, "vendor_name");
    }
    y += p.px * 0.5;
    for a in &v.address {
        for line in wrap(p, a, sw) {
            y += put(s, st, Align::Left(sl), y, p, &line, "vendor_address");
        }
    }
    y += p.px;
    for (cap, val, label) in [
        (inv.cap.phone, v.phone.as_deref(), OTHER),
        (inv.cap.email, v.email.as_deref(), OTHER),
        (inv.cap.vat_id, v.tax_id.as_deref(), "vendor_tax_id"),
    ] {
        if let Some(val) = val {
            y += put(s, st, Align::Left(sl), y, p.with(Face::Bold), cap, OTHER);
            y += put(s, st, Align::Left(sl), y, p, val, label);
        }
    }
    let mut bank: Vec<Vec<Seg>> =
        vec![vec![seg(p.with(Face::Bold), inv.cap.bank, OTHER)], vec![seg(p, &inv.bank_name, OTHER)]];
    if let Some(iban) = &inv.iban {
        bank.push(vec![seg(p, inv.cap.iban, OTHER)]);
        bank.push(vec![seg(p, iban, "iban")]);
    }
    if let Some(bic) = &inv.bic {
        bank.push(vec![seg(p, inv.cap.bic, OTHER), seg(p, bic, OTHER)]);
    }
    if let Some(ach) = &inv.ach {
        bank.extend(wrap(p, ach, sw).iter().map(|l| vec![seg(p, l, OTHER)]));
    }
    let bank_top = PAGE_H as f32 - st.margin - lines_height(st, &bank);
    put_lines(s, st, Align::Left(sl), bank_top, &bank);
    let side_ok = y <= bank_top;

    let (l, r) = (side_w + 50.0, PAGE_W as f32 - st.margin * 0.7);
    let mut y = st.margin;
    y += put(s, st, Align::Right(r), y, st.title, inv.cap.title, OTHER) + st.body.px;
    let rows = meta_rows(inv, rng.random_bool(0.3));
    let y_m = meta_table(s, st, &rows, r - meta_width(st, &rows), None, y);
    let y_c = put_lines(s, st, Align::Left(l), y, &customer_lines(&inv.customer, inv, st, true));
    y = y_m.max(y_c) + st.body.px * 2.0;
    y = items_table(s, inv, st, (l, r), y, random_rules(rng), false) + st.body.px;
    y = totals(s, inv, st, r, y, emphasis(rng)) + st.body.px;
    y = notes(s, inv, st, Align::Left(l), r - l, y);
    let page = put(s, st, Align::Right(r), PAGE_H as f32 - st.margin * 0.8, st.small, inv.cap.page, OTHER);
    let footer_top = PAGE_H as f32 - st.margin * 0.8 - if side_ok { page } else { PAGE_H as f32 };
    (y, footer_top)
}
