//! Suggestions from a PDF's own text layer: every character with its exact text and box, as
//! born-digital invoices carry them. Characters become lines at the granularity of the model
//! pass: a line is cut where two neighbouring characters' centres are more than
//! [`GAP_FACTOR`] line heights apart, the rule the model pass uses on its readings, or where
//! the blank between them is wider than [`BLANK_FACTOR`] font sizes, so the cells of a
//! line-item table and a key beside its value come out one box each.

use crate::domain::Rect;
use crate::pdf::TextChar;

use super::{Level, Proposal};

/// The model pass's split rule (`split_gap_factor` 1.5): centre-to-centre distance in line
/// heights above which a line is two boxes.
pub const GAP_FACTOR: f32 = 1.5;
/// A blank wider than this many font sizes between two characters also cuts: the text layer
/// knows exactly where ink is, so a gap of three spaces or more separates a key from its
/// value even where the model pass, which sees only pixels, cannot be that sure. A word
/// space is 0.25–0.35 of the font size.
pub const BLANK_FACTOR: f32 = 0.9;
/// How far (in font sizes) a character's baseline may lie from its line's and still be in it:
/// sub- and superscripts stay, the next line (a line height, over 1 font size away) does not.
pub const BASELINE_SLACK: f32 = 0.4;
/// Between two separately placed runs of text (PDFium reports the join as a generated space)
/// the cut depends on how the page writes its words. A page that writes spaces (an invoice
/// generator writing "Telefon:" and "+49 …", "MwSt." and "19 %" as two strings) places runs
/// apart on purpose: a blank of [`RUN_SPACE_RATIO`] of its own spaces cuts. A page that places
/// every word on its own (TeX, many report writers) has no spaces: its run gaps are its word
/// spaces, and only a blank [`RUN_WORD_RATIO`] times its typical one cuts. Either way the cut
/// lies within [`RUN_BLANK_RANGE`] font sizes.
pub const RUN_SPACE_RATIO: f32 = 1.2;
pub const RUN_WORD_RATIO: f32 = 1.8;
pub const RUN_BLANK_RANGE: (f32, f32) = (0.35, 0.9);
/// With nothing to learn from: half a font size.
pub const RUN_BLANK_DEFAULT: f32 = 0.5;

/// What a page's text layer is good for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// Visible text with readable characters: the best suggestions there are.
    Usable,
    /// No text at all (a scan wrapped in a PDF).
    Empty,
    /// Only invisible text: the OCR layer a scanner or another program laid under the image.
    /// Its quality is unknown, so "best available" prefers the model pass.
    InvisibleOnly,
    /// Mostly characters without a meaning (replacement characters, private-use glyphs, control
    /// codes): a font without a usable Unicode map.
    Garbled,
}

impl Layer {
    /// A sentence for summaries: why the text layer was not used.
    pub fn why_not(self) -> &'static str {
        match self {
            Layer::Usable => "",
            Layer::Empty => "no text layer",
            Layer::InvisibleOnly => "only an invisible OCR layer",
            Layer::Garbled => "a text layer without readable characters",
        }
    }
}

fn meaningless(c: char) -> bool {
    c == '\u{FFFD}' || ('\u{E000}'..='\u{F8FF}').contains(&c) || (c.is_control() && !c.is_whitespace())
}

/// Judges a page's text layer.
pub fn assess(chars: &[TextChar]) -> Layer {
    let solid: Vec<&TextChar> = chars.iter().filter(|c| !c.ch.is_whitespace() && !c.generated).collect();
    if solid.is_empty() {
        return Layer::Empty;
    }
    let bad = solid.iter().filter(|c| meaningless(c.ch)).count();
    if bad * 10 > solid.len() {
        return Layer::Garbled;
    }
    if solid.iter().all(|c| c.invisible) {
        return Layer::InvisibleOnly;
    }
    Layer::Usable
}

/// Line proposals from a page's characters (boxes in page pixels), in reading order.
pub fn lines(chars: &[TextChar]) -> Vec<Proposal> {
    let run_blank = run_blank(chars);
    let mut out = Vec::new();
    for line in group_lines(chars) {
        for piece in split_line(&line, run_blank) {
            if let Some(p) = proposal(&piece) {
                out.push(p);
            }
        }
    }
    out
}

/// Characters in content order, cut into lines where the text moves to another line: a line
/// break, or a character whose baseline is more than [`BASELINE_SLACK`] font sizes off the
/// line's (so a comma or a quote mark, whose ink hangs low or sits high, stays in its line).
fn group_lines(chars: &[TextChar]) -> Vec<Vec<&TextChar>> {
    let mut lines: Vec<Vec<&TextChar>> = Vec::new();
    let mut line: Option<(f32, f32)> = None; // (baseline, font size)
    for c in chars {
        if c.ch == '\n' || c.ch == '\r' {
            line = None;
            continue;
        }
        let solid = !c.ch.is_whitespace() && c.y1 > c.y0;
        if !solid {
            // a space belongs to the line it is in
            if let Some(l) = lines.last_mut()
                && line.is_some()
            {
                l.push(c);
            }
            continue;
        }
        let size = em(c);
        let same = line.is_some_and(|(base, s)| (c.baseline - base).abs() <= BASELINE_SLACK * s.max(size));
        if !same {
            lines.push(Vec::new());
            line = Some((c.baseline, size));
        }
        if let Some(l) = lines.last_mut() {
            l.push(c);
        }
    }
    lines
        .into_iter()
        .map(|mut l| {
            l.sort_by(|a, b| a.x0.total_cmp(&b.x0));
            l
        })
        .filter(|l| l.iter().any(|c| !c.ch.is_whitespace()))
        .collect()
}

/// A character's font size in pixels. PDFium's figure is right for most files, but a file that
/// sets its font at size 1 and scales the text matrix reports 1 pt: the ink says more then
/// (a capital or a letter with a descender is about 0.7 of the size, a lower-case letter 0.5).
fn em(c: &TextChar) -> f32 {
    let ink = c.y1 - c.y0;
    if c.size_px >= 0.8 * ink { c.size_px.max(1.0) } else { (ink * 1.4).max(1.0) }
}

fn median(mut v: Vec<f32>) -> Option<f32> {
    v.sort_by(f32::total_cmp);
    v.get(v.len() / 2).copied()
}

/// How wide (in font sizes) a blank between two separately placed runs must be to cut, from
/// how this page writes its words (see [`RUN_SPACE_RATIO`]).
fn run_blank(chars: &[TextChar]) -> f32 {
    let spaces: Vec<f32> = chars
        .iter()
        .filter(|c| c.ch == ' ' && !c.generated && c.x1 > c.x0 && c.size_px > 1.0)
        .map(|c| (c.x1 - c.x0) / c.size_px)
        .collect();
    let factor = if spaces.len() >= 5 {
        median(spaces).map(|s| s * RUN_SPACE_RATIO)
    } else {
        // the gaps at run joins on one baseline, in content order
        let mut gaps = Vec::new();
        let mut last: Option<&TextChar> = None;
        let mut joined = false;
        for c in chars {
            if c.ch == '\n' || c.ch == '\r' {
                (last, joined) = (None, false);
            } else if c.ch.is_whitespace() {
                joined |= c.generated;
            } else {
                if let Some(p) = last
                    && joined
                    && (c.baseline - p.baseline).abs() <= BASELINE_SLACK * em(c)
                    && c.x0 > p.x1
                {
                    gaps.push((c.x0 - p.x1) / em(p).max(em(c)));
                }
                (last, joined) = (Some(c), false);
            }
        }
        if gaps.len() >= 5 { median(gaps).map(|g| g * RUN_WORD_RATIO) } else { None }
    };
    factor.unwrap_or(RUN_BLANK_DEFAULT).clamp(RUN_BLANK_RANGE.0, RUN_BLANK_RANGE.1)
}

/// Cuts a line (sorted by x) where neighbouring solid characters are far apart.
fn split_line<'a>(line: &[&'a TextChar], run_blank: f32) -> Vec<Vec<&'a TextChar>> {
    // the scale of a pair is the larger of its two characters: a title and small print can
    // share a line's band, and neither's size should judge the other's gaps
    let size = em;
    let mut pieces: Vec<Vec<&TextChar>> = vec![Vec::new()];
    let mut last: Option<&TextChar> = None;
    let mut joined = false;
    for &c in line {
        if c.ch.is_whitespace() {
            joined |= c.generated;
        } else {
            if let Some(p) = last {
                let centres = (c.x0 + c.x1) / 2.0 - (p.x0 + p.x1) / 2.0;
                let blank = c.x0 - p.x1;
                let factor = if joined { run_blank } else { BLANK_FACTOR };
                let height = size(p).max(size(c));
                if centres > GAP_FACTOR * height || blank > factor * height {
                    pieces.push(Vec::new());
                }
            }
            last = Some(c);
            joined = false;
        }
        if let Some(piece) = pieces.last_mut() {
            piece.push(c);
        }
    }
    pieces
}

fn proposal(piece: &[&TextChar]) -> Option<Proposal> {
    let solid: Vec<&&TextChar> = piece.iter().filter(|c| !c.ch.is_whitespace()).collect();
    let first = solid.first()?;
    let mut r = Rect::new(first.x0, first.y0, first.x1, first.y1);
    for c in &solid {
        r = Rect::new(r.x0.min(c.x0), r.y0.min(c.y0), r.x1.max(c.x1), r.y1.max(c.y1));
    }
    // text as written, spaces collapsed (PDFium also reports the gaps it infers as spaces)
    let mut text = String::new();
    for c in piece {
        if c.ch.is_whitespace() {
            if !text.is_empty() && !text.ends_with(' ') {
                text.push(' ');
            }
        } else {
            text.push(c.ch);
        }
    }
    let text = text.trim_end().to_string();
    Some(Proposal { rect: r, quad: None, text: Some(text), score: 1.0, level: Level::Line })
}

/// The text-layer source for `eval` and scripts: reads PDFs only.
#[derive(Debug, Default)]
pub struct PdfTextSource;

impl super::ProposalSource for PdfTextSource {
    fn name(&self) -> String {
        "pdf-text".into()
    }

    fn propose(&mut self, _page: &image::DynamicImage) -> anyhow::Result<Vec<Proposal>> {
        anyhow::bail!("an image has no text layer; pdf-text reads PDF pages (the model pass reads images)")
    }

    fn propose_pdf(&mut self, pdf: &[u8], page: u32, size: (u32, u32)) -> Option<anyhow::Result<Vec<Proposal>>> {
        Some((|| {
            let chars = crate::pdf::text_chars(pdf, page, size)?;
            match assess(&chars) {
                Layer::Usable | Layer::InvisibleOnly => Ok(lines(&chars)),
                other => anyhow::bail!("{}", other.why_not()),
            }
        })())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Characters of `text` set in a 10 px monospace from (x, y), 6 px per character.
    fn run(text: &str, x: f32, y: f32) -> Vec<TextChar> {
        text.chars()
            .enumerate()
            .map(|(i, ch)| TextChar {
                ch,
                x0: x + 6.0 * i as f32,
                x1: x + 6.0 * i as f32 + 5.0,
                y0: if ch == ' ' { y + 10.0 } else { y },
                y1: y + 10.0,
                size_px: 10.0,
                baseline: y + 10.0,
                invisible: false,
                generated: false,
            })
            .collect()
    }

    fn nl() -> TextChar {
        TextChar {
            ch: '\n',
            x0: 0.0,
            x1: 0.0,
            y0: 0.0,
            y1: 0.0,
            size_px: 10.0,
            baseline: 0.0,
            invisible: false,
            generated: true,
        }
    }

    #[test]
    fn a_table_row_comes_out_as_one_box_per_cell_with_its_exact_text() {
        // "Câble Cat. 6" at x=100, "12" at x=400, "1 263,49" at x=500 on one baseline
        let mut chars = run("Câble Cat. 6", 100.0, 50.0);
        chars.extend(run("12", 400.0, 50.0));
        chars.extend(run("1 263,49", 500.0, 50.0));
        chars.push(nl());
        chars.extend(run("Total", 100.0, 80.0));
        let got = lines(&chars);
        let texts: Vec<&str> = got.iter().map(|p| p.text.as_deref().unwrap()).collect();
        assert_eq!(texts, vec!["Câble Cat. 6", "12", "1 263,49", "Total"]);
        assert_eq!(got[1].rect, Rect::new(400.0, 50.0, 411.0, 60.0));
        assert!(got.iter().all(|p| p.level == Level::Line && p.score == 1.0));
    }

    /// Words placed one by one at `gap` px apart (PDFium joins them with generated spaces).
    fn placed(words: &[&str], x: f32, y: f32, gap: f32) -> Vec<TextChar> {
        let mut out = Vec::new();
        let mut at = x;
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                out.push(TextChar { ch: ' ', x0: at, x1: at, generated: true, ..run(" ", at, y)[0].clone() });
                at += gap;
            }
            let chars = run(w, at, y);
            at = chars.last().map_or(at, |c| c.x1);
            out.extend(chars);
        }
        out
    }

    #[test]
    fn a_page_that_places_every_word_keeps_its_sentences_whole() {
        // no written spaces: word gaps of 4.1 px (0.41 of the 10 px font) are word spaces
        let mut chars = Vec::new();
        for row in 0..6 {
            chars.extend(placed(&["Shared", "MIME-info", "Database", "spec"], 100.0, 20.0 * row as f32, 4.1));
            chars.push(nl());
        }
        let texts: Vec<String> = lines(&chars).into_iter().filter_map(|p| p.text).collect();
        assert_eq!(texts.len(), 6, "{texts:?}");
        assert!(texts.iter().all(|t| t == "Shared MIME-info Database spec"), "{texts:?}");
    }

    #[test]
    fn a_page_that_writes_its_spaces_cuts_separately_placed_fields() {
        // real spaces 3 px wide (0.3 font sizes); "VAT" and "20%" placed 4.5 px apart
        let mut chars = Vec::new();
        for row in 0..6 {
            let mut spaced = run("Total due now", 100.0, 20.0 * row as f32);
            for c in spaced.iter_mut().filter(|c| c.ch == ' ') {
                c.x1 = c.x0 + 3.0;
            }
            chars.extend(spaced);
            chars.push(nl());
        }
        chars.extend(placed(&["VAT", "20%"], 100.0, 200.0, 4.5));
        let texts: Vec<String> = lines(&chars).into_iter().filter_map(|p| p.text).collect();
        assert_eq!(texts.last().map(String::as_str), Some("20%"), "{texts:?}");
        assert!(texts.contains(&"VAT".to_string()), "{texts:?}");
    }

    #[test]
    fn a_comma_hanging_below_the_baseline_stays_in_its_line() {
        let mut chars = run("Total 12", 100.0, 50.0);
        // the comma's ink sits from the baseline down, its baseline is the line's
        chars.push(TextChar { ch: ',', x0: 148.0, x1: 150.0, y0: 58.0, y1: 63.0, ..chars[0].clone() });
        chars.extend(run("00", 154.0, 50.0));
        let texts: Vec<String> = lines(&chars).into_iter().filter_map(|p| p.text).collect();
        assert_eq!(texts, vec!["Total 12,00"]);
    }

    #[test]
    fn lines_follow_the_baseline_even_without_line_breaks() {
        let mut chars = run("Invoice No", 100.0, 20.0);
        chars.extend(run("INV-7", 100.0, 40.0)); // next line, no '\n' between
        let texts: Vec<String> = lines(&chars).into_iter().filter_map(|p| p.text).collect();
        assert_eq!(texts, vec!["Invoice No", "INV-7"]);
    }

    #[test]
    fn a_layer_is_judged_before_it_is_trusted() {
        assert_eq!(assess(&[]), Layer::Empty);
        assert_eq!(assess(&run("   ", 0.0, 0.0)), Layer::Empty);
        assert_eq!(assess(&run("Total 12,00", 0.0, 0.0)), Layer::Usable);
        let hidden: Vec<TextChar> =
            run("Total 12,00", 0.0, 0.0).into_iter().map(|c| TextChar { invisible: true, ..c }).collect();
        assert_eq!(assess(&hidden), Layer::InvisibleOnly);
        let garbled: Vec<TextChar> =
            run("abcdefgh", 0.0, 0.0).into_iter().map(|c| TextChar { ch: '\u{E012}', ..c }).collect();
        assert_eq!(assess(&garbled), Layer::Garbled);
    }
}
