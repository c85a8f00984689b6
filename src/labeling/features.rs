//! Features of one box for the learner (hashed strings → sparse ids) and the day-one rules
//! that label a box of the default invoice schema without any training.

use super::page::{Layout, Page};
use super::rules::{Cue, Pattern, shape};

/// FNV-1a, 32 bits: stable across runs and platforms (a stored model depends on it).
fn hash(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

struct Bag(Vec<(u32, f32)>);

impl Bag {
    fn add(&mut self, name: &str) {
        self.0.push((hash(name), 1.0));
    }
    fn addw(&mut self, name: &str, w: f32) {
        self.0.push((hash(name), w));
    }
}

/// Lower-case word tokens with digits as '0', at most `max`.
fn words(folded: &str, max: usize) -> Vec<String> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(max)
        .map(|w| w.chars().map(|c| if c.is_ascii_digit() { '0' } else { c }).collect())
        .collect()
}

fn bin(v: f32, bins: usize) -> usize {
    ((v.clamp(0.0, 0.9999)) * bins as f32) as usize
}

/// The features of box `i`. `rules` are the day-one rules' labels for every box of the page,
/// given as features (the box's own and its neighbours') so the learner can decide how far to
/// trust them.
pub fn features(page: &Page, layout: &Layout, i: usize, rules: &[Option<&str>]) -> Vec<(u32, f32)> {
    let rule = rules.get(i).copied().flatten();
    let mut f = Bag(Vec::with_capacity(96));
    let (own, ctx) = (&layout.own[i], &layout.ctx[i]);
    let r = page.boxes[i].rect;
    let text = page.boxes[i].text.trim();
    f.add("bias");
    if text.is_empty() {
        f.add("empty");
    }
    // the text itself
    for w in words(&own.folded, 8) {
        f.add(&format!("w:{w}"));
    }
    let norm: Vec<char> =
        own.folded.chars().map(|c| if c.is_ascii_digit() { '0' } else { c }).take(40).collect::<Vec<_>>();
    let padded: Vec<char> = std::iter::once('^').chain(norm.iter().copied()).chain(std::iter::once('$')).collect();
    let grams = padded.windows(3).count().max(1) as f32;
    for g in padded.windows(3) {
        let g: String = g.iter().collect();
        f.addw(&format!("g:{g}"), 1.0 / grams.sqrt());
    }
    f.add(&format!("s:{}", shape(text)));
    let len = text.chars().count();
    f.add(&format!(
        "len:{}",
        match len {
            0..=2 => 0,
            3..=6 => 1,
            7..=12 => 2,
            13..=24 => 3,
            _ => 4,
        }
    ));
    let main = own.patterns.main();
    for p in own.patterns.iter() {
        f.add(&format!("p:{}", p.as_str()));
    }
    if let Some(p) = main {
        f.add(&format!("pm:{}", p.as_str()));
    }
    for c in &own.cues {
        f.add(&format!("c:{}", c.as_str()));
    }
    if let Some((cue, pats)) = own.caption {
        f.add(&format!("cap:{}", cue.as_str()));
        if let Some(p) = pats.main() {
            f.add(&format!("cap:{}&{}", cue.as_str(), p.as_str()));
        }
    }
    if text.chars().any(char::is_alphabetic) && !text.chars().any(char::is_lowercase) {
        f.add("upper");
    }
    // a value inside a longer line ("24-11-17 13:11 SH01", "RM 15.00 ZR")
    if main.is_none() {
        for tok in text.split_whitespace().take(6) {
            if let Some(p) = super::rules::patterns(tok.trim_start_matches(':')).main() {
                f.add(&format!("tok:{}", p.as_str()));
            }
        }
    }
    // the letterhead: the vendor's name and the lines under it
    if Some(i) == layout.vendor_box {
        f.add("vendor_box");
    } else if let Some(v) = layout.vendor_box {
        let mut up = ctx.above;
        let mut step = 1;
        while let Some(a) = up {
            if a == v {
                f.add(&format!("vstep:{step}"));
                break;
            }
            if step >= 6 {
                break;
            }
            up = layout.ctx[a].above;
            step += 1;
        }
        if page.boxes[v].rect.y0 > r.y1 {
            f.add("above_vendor");
        }
    }
    // where it is
    let (w, h) = (page.width.max(1.0), page.height.max(1.0));
    let (xc, yc) = (r.center().x / w, r.center().y / h);
    let (xb, yb) = (bin(xc, 6), bin(yc, 10));
    f.add(&format!("x:{xb}"));
    f.add(&format!("y:{yb}"));
    f.add(&format!("xy:{}_{}", bin(xc, 3), bin(yc, 5)));
    f.add(&format!("x0:{}", bin(r.x0 / w, 8)));
    f.add(&format!("x1:{}", bin(r.x1 / w, 8)));
    f.add(&format!("wd:{}", bin(r.width() / w, 10)));
    f.add(&format!("ht:{}", (ctx.rel_height * 2.0).round().clamp(0.0, 8.0) as i32));
    f.add(&format!("ord:{}", ctx.order.min(8)));
    if let Some(p) = main {
        f.add(&format!("py:{}&{yb}", p.as_str()));
        f.add(&format!("px:{}&{xb}", p.as_str()));
    }
    // the page around it
    let near = |f: &mut Bag, tag: &str, j: Option<usize>| match j {
        None => f.add(&format!("{tag}:none")),
        Some(j) => {
            if let Some(r) = rules.get(j).copied().flatten() {
                f.add(&format!("{tag}r:{r}"));
            }
            let o = &layout.own[j];
            for c in &o.cues {
                f.add(&format!("{tag}c:{}", c.as_str()));
            }
            if let Some(p) = o.patterns.main() {
                f.add(&format!("{tag}p:{}", p.as_str()));
            }
            for w in words(&o.folded, 4) {
                f.add(&format!("{tag}w:{w}"));
            }
        }
    };
    near(&mut f, "L", ctx.left);
    near(&mut f, "A", ctx.above);
    near(&mut f, "R", ctx.right);
    near(&mut f, "B", ctx.below);
    if let Some(k) = ctx.key {
        for w in words(&layout.own[k].folded, 4) {
            f.add(&format!("Kw:{w}"));
        }
    }
    if let Some(c) = ctx.cue {
        f.add(&format!("cue:{}", c.as_str()));
        if let Some(p) = main {
            f.add(&format!("cue:{}&{}", c.as_str(), p.as_str()));
        }
    }
    if let Some(c) = ctx.column {
        f.add(&format!("col:{}", c.as_str()));
        f.add(&format!("col:{}&{}", c.as_str(), main.map_or("text", |p| p.as_str())));
    }
    if ctx.in_table {
        f.add("in_table");
    }
    if ctx.below_table {
        f.add("below_table");
        if let Some(p) = main {
            f.add(&format!("below_table&{}", p.as_str()));
        }
    }
    if let Some(rank) = ctx.amount_rank {
        f.add(&format!("arank:{}", rank.min(3)));
        if let Some(c) = ctx.cue {
            f.add(&format!("arank:{}&{}", rank.min(2), c.as_str()));
        }
    }
    // the same vendor prints the same field in the same place
    if let Some(v) = &layout.vendor {
        f.add(&format!("v:{v}&{}_{}", bin(xc, 12), bin(yc, 24)));
        if let Some(p) = main {
            f.add(&format!("v:{v}&{}", p.as_str()));
        }
    }
    if let Some(rule) = rule {
        f.add(&format!("rule:{rule}"));
        if let Some(p) = main {
            f.add(&format!("rule:{rule}&{}", p.as_str()));
        }
    } else {
        f.add("rule:none");
    }
    f.0
}

/// The default invoice schema's label for box `i` by rule, with a confidence, or `None`.
pub fn rule_label(page: &Page, layout: &Layout, i: usize) -> Option<(&'static str, f32)> {
    use Pattern as P;
    let (own, ctx) = (&layout.own[i], &layout.ctx[i]);
    let text = page.boxes[i].text.trim();
    if text.is_empty() {
        return None;
    }
    let pats = own.patterns;
    let has = |p: P| pats.contains(p);
    // a caption on its own, and the letterhead repeated in the footer, are other text
    let caption_only = !own.cues.is_empty() && own.caption.is_none() && pats.is_empty();
    if layout.repeated[i] {
        return Some(("other_text", 0.55));
    }
    if has(P::Iban) {
        return Some(("iban", 0.95));
    }
    if has(P::VatId) && !has(P::Date) && !has(P::Amount) {
        return Some(("vendor_tax_id", 0.75));
    }
    // caption and value in one box
    if let Some((cue, vp)) = own.caption {
        let label = match cue {
            Cue::InvoiceNumber => Some("invoice_number"),
            Cue::InvoiceDate | Cue::Date if vp.contains(P::Date) => Some("invoice_date"),
            Cue::DueDate if vp.contains(P::Date) => Some("due_date"),
            Cue::Subtotal if vp.contains(P::Amount) => Some("subtotal"),
            Cue::Tax if vp.contains(P::Percent) => Some("tax_rate"),
            Cue::Tax if vp.contains(P::Amount) => Some("tax_amount"),
            Cue::Total if vp.contains(P::Amount) => Some("total_amount"),
            Cue::Iban => Some("iban"),
            Cue::VatId => Some("vendor_tax_id"),
            Cue::Currency => Some("currency"),
            _ => None,
        };
        if let Some(l) = label {
            return Some((l, 0.6));
        }
    }
    // a value after its caption
    let digit = text.chars().any(|c| c.is_ascii_digit());
    if let Some(cue) = ctx.cue.filter(|_| own.cues.is_empty() || !caption_only) {
        let label = match cue {
            Cue::InvoiceNumber if digit && !has(P::Date) && !has(P::Amount) => Some(("invoice_number", 0.85)),
            Cue::InvoiceDate | Cue::Date if has(P::Date) => Some(("invoice_date", 0.85)),
            Cue::DueDate if has(P::Date) => Some(("due_date", 0.85)),
            Cue::Subtotal if has(P::Amount) => Some(("subtotal", 0.85)),
            Cue::Tax if has(P::Percent) => Some(("tax_rate", 0.85)),
            Cue::Tax if has(P::Amount) => Some(("tax_amount", 0.8)),
            Cue::Total if has(P::Amount) => Some(("total_amount", 0.85)),
            Cue::Iban if digit && !has(P::Email) && text.chars().filter(char::is_ascii_alphanumeric).count() >= 15 => {
                Some(("iban", 0.7))
            }
            Cue::VatId if digit && !has(P::Date) && !has(P::Amount) => Some(("vendor_tax_id", 0.75)),
            Cue::Currency if has(P::Currency) => Some(("currency", 0.8)),
            Cue::Customer if !has(P::Date) && !has(P::Amount) => Some(("customer_name", 0.55)),
            _ => None,
        };
        if label.is_some() {
            return label;
        }
    }
    // a cell of the line-item table
    if ctx.in_table && own.cues.is_empty() {
        match ctx.column {
            Some(Cue::Description) if !has(P::Amount) => return Some(("line_item_description", 0.7)),
            Some(Cue::Quantity) if has(P::Integer) || text.chars().next().is_some_and(|c| c.is_ascii_digit()) => {
                return Some(("line_item_quantity", 0.75));
            }
            Some(Cue::UnitPrice) if has(P::Amount) => return Some(("line_item_unit_price", 0.75)),
            Some(Cue::LineAmount) if has(P::Amount) => return Some(("line_item_amount", 0.75)),
            _ => {}
        }
    }
    if has(P::Percent) {
        return Some(("tax_rate", 0.45));
    }
    if has(P::Amount) && ctx.below_table && ctx.amount_rank == Some(0) {
        return Some(("total_amount", 0.55));
    }
    if has(P::Currency) && !has(P::Amount) {
        return Some(("currency", 0.5));
    }
    // address blocks: the lines under the customer's caption, and under the vendor's name
    if !caption_only && !has(P::Date) && !has(P::Amount) && !has(P::Email) && !has(P::Phone) {
        let mut up = ctx.above;
        for step in 1..=5 {
            let Some(a) = up else { break };
            let o = &layout.own[a];
            if o.cues.contains(&Cue::Customer) && o.patterns.is_empty() {
                return Some(if step == 1 { ("customer_name", 0.55) } else { ("customer_address", 0.5) });
            }
            if Some(a) == layout.vendor_box && page.boxes[i].rect.y1 < page.height * 0.3 {
                return Some(("vendor_address", 0.5));
            }
            if !o.cues.is_empty() && o.caption.is_none() {
                break;
            }
            up = layout.ctx[a].above;
        }
    }
    let top = page.boxes[i].rect.y1 < page.height * 0.25;
    if Some(i) == layout.vendor_box && !caption_only && top {
        return Some(("vendor_name", 0.55));
    }
    if top && own.cues.contains(&Cue::Company) {
        return Some(("vendor_name", 0.6));
    }
    if top && has(P::Postcode) {
        return Some(("vendor_address", 0.45));
    }
    if has(P::Date) {
        return Some(("invoice_date", 0.4));
    }
    if caption_only {
        return Some(("other_text", 0.6));
    }
    Some(("other_text", 0.3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Rect;
    use crate::labeling::page::PageBox;

    fn page(boxes: &[(f32, f32, f32, f32, &str)]) -> Page {
        Page {
            width: 1000.0,
            height: 1400.0,
            boxes: boxes
                .iter()
                .map(|&(x0, y0, x1, y1, t)| PageBox { rect: Rect::new(x0, y0, x1, y1), text: t.into() })
                .collect(),
            links: vec![],
        }
    }

    #[test]
    fn rules_label_values_after_their_captions_in_three_languages() {
        let p = page(&[
            (600.0, 200.0, 720.0, 220.0, "Facture n°"),
            (740.0, 200.0, 860.0, 220.0, "F2024-00123"),
            (600.0, 240.0, 720.0, 260.0, "Rechnungsdatum:"),
            (740.0, 240.0, 860.0, 260.0, "03.11.2024"),
            (600.0, 900.0, 720.0, 920.0, "Total TTC"),
            (830.0, 900.0, 940.0, 920.0, "1 234,50 €"),
            (600.0, 940.0, 720.0, 960.0, "VAT"),
            (700.0, 940.0, 760.0, 960.0, "20 %"),
            (50.0, 1300.0, 400.0, 1320.0, "DE89 3704 0044 0532 0130 00"),
        ]);
        let l = Layout::of(&p);
        let got: Vec<Option<&str>> = (0..p.boxes.len()).map(|i| rule_label(&p, &l, i).map(|r| r.0)).collect();
        assert_eq!(got[1], Some("invoice_number"));
        assert_eq!(got[3], Some("invoice_date"));
        assert_eq!(got[5], Some("total_amount"));
        assert_eq!(got[7], Some("tax_rate"));
        assert_eq!(got[8], Some("iban"));
        assert_eq!(got[0], Some("other_text"));
    }

    #[test]
    fn features_are_deterministic_and_see_the_neighbourhood() {
        let p = page(&[(600.0, 200.0, 720.0, 220.0, "Invoice No."), (740.0, 200.0, 860.0, 220.0, "INV-478434")]);
        let l = Layout::of(&p);
        let a = features(&p, &l, 1, &[None, Some("invoice_number")]);
        assert_eq!(a, features(&p, &l, 1, &[None, Some("invoice_number")]));
        assert!(a.contains(&(hash("cue:invoice_number"), 1.0)), "the caption to the left is a feature");
        assert!(a.contains(&(hash("rule:invoice_number"), 1.0)));
        assert!(!features(&p, &l, 0, &[None, None]).contains(&(hash("cue:invoice_number"), 1.0)));
    }
}
