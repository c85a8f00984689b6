//! Guidelines with examples: a lead pins crops of boxes to a label's guideline ("this is
//! one", "this is not"), and the guideline texts with their examples become a small guide,
//! Markdown (with its crops as files) or one self-contained HTML page, that travels with every
//! dataset so an outsourcing partner reads what the annotators read.
//!
//! Pins, unpins and note changes are edits of the log on the example's document (action
//! `pin_example`, `unpin_example`, `example_note`), so the lead undoes them like any other
//! edit of that page (`Command::Undo { doc }`).

use std::collections::BTreeMap;
use std::io::Cursor;

use crate::domain::{
    AnnId, AnnState, Change, DocId, Document, EditKind, ExampleId, Label, LabelExample, LabelId, Rect, Role,
};
use crate::store::{NewEdit, Store, StoreError};

use super::commands::{CommandError, Session};
use super::pages::PageRef;

/// A crop's longest side at most (bigger boxes are scaled down): enough to read a line of
/// text, small enough for the edit log and a guide page.
pub const MAX_CROP_SIDE_PX: u32 = 600;
/// How much of the page around the box the crop shows, in box heights and within bounds:
/// more along the line (what stands beside a field is what annotators confuse it with).
const MARGIN_X_BOX_HEIGHTS: f32 = 2.0;
const MARGIN_X_PX: (f32, f32) = (8.0, 96.0);
const MARGIN_Y_BOX_HEIGHTS: f32 = 0.6;
const MARGIN_Y_PX: (f32, f32) = (4.0, 32.0);
/// How thick the box's outline is drawn on its crop.
const OUTLINE_PX: u32 = 2;

/// The guide's file names in a dataset (beside the manifest).
pub const GUIDE_MARKDOWN: &str = "GUIDE.md";
pub const GUIDE_HTML: &str = "guide.html";
/// The folder the Markdown guide's crops are in.
pub const GUIDE_CROPS_DIR: &str = "guide";

/// The edit log's actions.
pub const PIN_ACTION: &str = "pin_example";
pub const UNPIN_ACTION: &str = "unpin_example";
pub const NOTE_ACTION: &str = "example_note";

fn lead_only(session: &Session, what: &str) -> Result<(), CommandError> {
    if session.is_machine() || session.user().role != Role::Lead {
        return Err(CommandError::Refused(format!("only a lead can {what} guideline examples")));
    }
    Ok(())
}

/// Pins box `ann` to its label's guideline as an example (`good`) or a counter-example, with
/// a crop of the page around it; one edit on the box's document. Leads only; the box needs a
/// label and must not be a suggestion still.
pub fn pin_example(session: &mut Session, ann: AnnId, good: bool, note: &str) -> Result<ExampleId, CommandError> {
    lead_only(session, "pin")?;
    let store = session.store();
    let a = store.annotation(ann)?;
    let Some(label) = a.label else {
        return Err(CommandError::Refused(format!(
            "box {ann} has no label: give it one before pinning it to a guideline"
        )));
    };
    if a.state == AnnState::Suggested {
        return Err(CommandError::Refused(format!("box {ann} is still a suggestion: accept it before pinning it")));
    }
    let color = store.label(label)?.color;
    let doc = store.document(a.doc)?;
    let crop_png = crop_png(store, &doc, &a.rect, color)?;
    let example = LabelExample {
        id: ExampleId(0),
        label,
        doc: Some(doc.id),
        rect: a.rect,
        text: a.text.clone(),
        good,
        note: note.trim().to_string(),
        crop_png,
        author: Some(session.user().id),
        created_ms: session.now(),
    };
    let edit = write(session, Some(doc.id), PIN_ACTION, Change::Example { before: None, after: Some(example) })?;
    edit.changes
        .iter()
        .find_map(|c| match c {
            Change::Example { after: Some(e), .. } => Some(e.id),
            _ => None,
        })
        .ok_or_else(|| CommandError::Refused("the example was not stored".into()))
}

/// Takes a pinned example off its label's guideline (undoable on its document).
pub fn unpin_example(session: &mut Session, id: ExampleId) -> Result<(), CommandError> {
    lead_only(session, "unpin")?;
    let e = example(session.store(), id)?;
    write(session, e.doc, UNPIN_ACTION, Change::Example { before: Some(e), after: None })?;
    Ok(())
}

/// Changes what an example's note says.
pub fn set_example_note(session: &mut Session, id: ExampleId, note: &str) -> Result<(), CommandError> {
    lead_only(session, "change")?;
    let e = example(session.store(), id)?;
    let after = LabelExample { note: note.trim().to_string(), ..e.clone() };
    if after == e {
        return Err(CommandError::Refused("that changes nothing".into()));
    }
    write(session, e.doc, NOTE_ACTION, Change::Example { before: Some(e), after: Some(after) })?;
    Ok(())
}

fn example(store: &Store, id: ExampleId) -> Result<LabelExample, CommandError> {
    store
        .all_label_examples()?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| CommandError::Refused(format!("there is no guideline example {id}")))
}

/// One edit by the session's lead. With a document it is one step of their undo history on
/// that page; an example whose document is gone is changed by a document-less edit.
fn write(
    session: &mut Session,
    doc: Option<DocId>,
    action: &str,
    change: Change,
) -> Result<crate::domain::Edit, CommandError> {
    let edit = NewEdit {
        ts_ms: session.now(),
        user: Some(session.user().id),
        doc,
        action: action.into(),
        kind: EditKind::Do,
        changes: vec![change],
    };
    Ok(session.store_mut().apply(edit)?)
}

/// The page around `rect` as PNG bytes: a margin of page around the box, the box outlined in
/// its label's colour, scaled down to [`MAX_CROP_SIDE_PX`].
fn crop_png(store: &Store, doc: &Document, rect: &Rect, color: [u8; 3]) -> Result<Vec<u8>, CommandError> {
    // decoded upright and turned as the document is: its pixels are where the boxes are
    let page = PageRef::of(store, doc)
        .decode(Some(store))
        .map_err(|e| CommandError::Refused(format!("cannot cut the example from its page: {e}")))?
        .to_rgb8();
    Ok(encode_png(&crop(&page, doc.width, doc.height, rect, color)))
}

/// Cuts `rect` (in a `doc_w`×`doc_h` page's pixels; `page` may have been decoded at another
/// size) with a margin out of `page`, outlines it and scales it to fit [`MAX_CROP_SIDE_PX`].
fn crop(page: &image::RgbImage, doc_w: u32, doc_h: u32, rect: &Rect, color: [u8; 3]) -> image::RgbImage {
    let (sx, sy) = (page.width() as f32 / doc_w.max(1) as f32, page.height() as f32 / doc_h.max(1) as f32);
    let r = Rect::new(rect.x0 * sx, rect.y0 * sy, rect.x1 * sx, rect.y1 * sy).normalized();
    let mx = (r.height() * MARGIN_X_BOX_HEIGHTS).clamp(MARGIN_X_PX.0, MARGIN_X_PX.1);
    let my = (r.height() * MARGIN_Y_BOX_HEIGHTS).clamp(MARGIN_Y_PX.0, MARGIN_Y_PX.1);
    let (pw, ph) = (page.width() as f32, page.height() as f32);
    let x0 = (r.x0 - mx).floor().clamp(0.0, (pw - 1.0).max(0.0)) as u32;
    let y0 = (r.y0 - my).floor().clamp(0.0, (ph - 1.0).max(0.0)) as u32;
    let x1 = ((r.x1 + mx).ceil().clamp(0.0, pw) as u32).max(x0 + 1);
    let y1 = ((r.y1 + my).ceil().clamp(0.0, ph) as u32).max(y0 + 1);
    let mut out = if page.width() == 0 || page.height() == 0 {
        image::RgbImage::from_pixel(1, 1, image::Rgb([255, 255, 255]))
    } else {
        image::imageops::crop_imm(page, x0, y0, x1.min(page.width()) - x0, y1.min(page.height()) - y0).to_image()
    };
    let longest = out.width().max(out.height());
    let scale = if longest > MAX_CROP_SIDE_PX { MAX_CROP_SIDE_PX as f32 / longest as f32 } else { 1.0 };
    if scale < 1.0 {
        let w = ((out.width() as f32 * scale).round() as u32).max(1);
        let h = ((out.height() as f32 * scale).round() as u32).max(1);
        out = image::imageops::resize(&out, w, h, image::imageops::FilterType::Triangle);
    }
    // the box itself, just outside its edges so the ink stays visible
    let bx0 = ((r.x0 - x0 as f32) * scale).floor() as i64 - OUTLINE_PX as i64;
    let by0 = ((r.y0 - y0 as f32) * scale).floor() as i64 - OUTLINE_PX as i64;
    let bx1 = ((r.x1 - x0 as f32) * scale).ceil() as i64 + OUTLINE_PX as i64 - 1;
    let by1 = ((r.y1 - y0 as f32) * scale).ceil() as i64 + OUTLINE_PX as i64 - 1;
    outline(&mut out, (bx0, by0, bx1, by1), OUTLINE_PX as i64, image::Rgb(color));
    out
}

/// Draws a `thick` frame whose outer edges are the inclusive box `(x0, y0, x1, y1)`, clipped.
fn outline(img: &mut image::RgbImage, (x0, y0, x1, y1): (i64, i64, i64, i64), thick: i64, px: image::Rgb<u8>) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    for y in y0.max(0)..=y1.min(h - 1) {
        for x in x0.max(0)..=x1.min(w - 1) {
            let edge = x - x0 < thick || x1 - x < thick || y - y0 < thick || y1 - y < thick;
            if edge {
                img.put_pixel(x as u32, y as u32, px);
            }
        }
    }
}

fn encode_png(img: &image::RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    // encoding an in-memory image cannot fail short of running out of memory
    let _ = img.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png);
    bytes
}

/// An example with its crop decoded, for a window to show.
#[derive(Debug, Clone)]
pub struct ExampleImage {
    pub example: LabelExample,
    /// Width and height of `rgba` (0×0 when the crop cannot be decoded).
    pub size: [usize; 2],
    pub rgba: Vec<u8>,
}

/// A label's examples, good ones first, their crops decoded (a worker's job, not a frame's).
pub fn example_images(store: &Store, label: LabelId) -> Result<Vec<ExampleImage>, StoreError> {
    Ok(store
        .label_examples(label)?
        .into_iter()
        .map(|e| {
            let decoded = image::load_from_memory_with_format(&e.crop_png, image::ImageFormat::Png).ok();
            let (size, rgba) = match decoded.map(|i| i.to_rgba8()) {
                Some(i) => ([i.width() as usize, i.height() as usize], i.into_raw()),
                None => ([0, 0], Vec::new()),
            };
            ExampleImage { example: e, size, rgba }
        })
        .collect())
}

/// A file of the guide: its path relative to the guide's folder, and its bytes.
pub type GuideFile = (String, Vec<u8>);

/// The guide: labels in palette order, each with its examples.
#[derive(Debug, Clone, PartialEq)]
pub struct Guide {
    pub labels: Vec<GuideLabel>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GuideLabel {
    pub label: Label,
    /// "This is one", oldest first.
    pub good: Vec<LabelExample>,
    /// "This is not", oldest first.
    pub bad: Vec<LabelExample>,
}

impl Guide {
    /// `labels` (any order) with `examples` sorted onto them; examples of other labels are left out.
    pub fn new(labels: &[Label], examples: Vec<LabelExample>) -> Guide {
        let mut by_label: BTreeMap<LabelId, Vec<LabelExample>> = BTreeMap::new();
        for e in examples {
            by_label.entry(e.label).or_default().push(e);
        }
        let mut labels = labels.to_vec();
        labels.sort_by_key(|l| (l.position, l.id));
        let labels = labels
            .into_iter()
            .map(|label| {
                let mut examples = by_label.remove(&label.id).unwrap_or_default();
                examples.sort_by_key(|e| e.id);
                let (good, bad) = examples.into_iter().partition(|e| e.good);
                GuideLabel { label, good, bad }
            })
            .collect();
        Guide { labels }
    }

    /// The workspace's guide as it is now.
    pub fn current(store: &Store) -> Result<Guide, StoreError> {
        Ok(Guide::new(&store.labels()?, store.all_label_examples()?))
    }

    /// The guide of `labels` with the examples as they were right after edit `as_of` (the
    /// current ones with every later example change undone, newest first), so an old dataset
    /// version's guide is rebuilt byte for byte.
    pub fn as_of(store: &Store, labels: &[Label], as_of: Option<i64>) -> Result<Guide, StoreError> {
        let mut examples: BTreeMap<ExampleId, LabelExample> =
            store.all_label_examples()?.into_iter().map(|e| (e.id, e)).collect();
        let later = store.edits_after(as_of.map(crate::domain::EditId))?;
        for edit in later.iter().rev() {
            for change in edit.changes.iter().rev() {
                if let Change::Example { before, after } = change {
                    if let Some(a) = after {
                        examples.remove(&a.id);
                    }
                    if let Some(b) = before {
                        examples.insert(b.id, b.clone());
                    }
                }
            }
        }
        Ok(Guide::new(labels, examples.into_values().collect()))
    }

    pub fn example_count(&self) -> usize {
        self.labels.iter().map(|l| l.good.len() + l.bad.len()).sum()
    }

    /// The Markdown guide, its crops referred to as `guide/…png`, and those crops' (relative
    /// path, PNG bytes).
    pub fn markdown(&self) -> (String, Vec<GuideFile>) {
        let mut md = String::from("# Annotation guide\n\n");
        md.push_str(INTRO);
        md.push_str("\n\n");
        let mut crops = Vec::new();
        for gl in &self.labels {
            let l = &gl.label;
            md.push_str(&format!("## {} (`{}`)\n\n", md_text(&l.display_name()), l.name));
            let mut facts = vec![format!("colour `{}`", hex_color(l.color))];
            if let Some(k) = &l.hotkey {
                facts.push(format!("hotkey `{}`", hotkey_words(k)));
            }
            if l.retired {
                facts.push("**retired**: boxes keep it, but it is not given anew".into());
            }
            md.push_str(&facts.join(" · "));
            md.push_str("\n\n");
            if l.guideline.trim().is_empty() {
                md.push_str("*No guideline written yet.*\n\n");
            } else {
                md.push_str(&md_text(l.guideline.trim()));
                md.push_str("\n\n");
            }
            for (heading, examples) in [("This is one", &gl.good), ("This is not", &gl.bad)] {
                if examples.is_empty() {
                    continue;
                }
                md.push_str(&format!("### {heading}\n\n"));
                for e in examples {
                    let path = crop_path(l, e);
                    let alt: String = caption_text(e).chars().filter(|c| !matches!(c, '[' | ']' | '\n')).collect();
                    md.push_str(&format!("![{}]({path})\n", md_text(&alt)));
                    md.push_str(&format!("{}\n\n", md_caption(e)));
                    crops.push((path, e.crop_png.clone()));
                }
            }
        }
        (md, crops)
    }

    /// The guide as one HTML page that needs nothing else: crops inline as `data:` URIs.
    pub fn html(&self) -> String {
        let mut h = String::from(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Annotation guide</title>\n",
        );
        h.push_str(HTML_STYLE);
        h.push_str("</head>\n<body>\n<h1>Annotation guide</h1>\n");
        h.push_str(&format!("<p class=\"intro\">{}</p>\n", esc(INTRO)));
        h.push_str("<nav><ul>\n");
        for gl in &self.labels {
            let l = &gl.label;
            h.push_str(&format!(
                "<li><a href=\"#{}\"><span class=\"swatch\" style=\"background:{}\"></span>{}</a></li>\n",
                anchor(l),
                hex_color(l.color),
                esc(&l.display_name())
            ));
        }
        h.push_str("</ul></nav>\n");
        for gl in &self.labels {
            let l = &gl.label;
            let retired = if l.retired { " retired" } else { "" };
            h.push_str(&format!("<section id=\"{}\" class=\"label{retired}\">\n", anchor(l)));
            h.push_str(&format!(
                "<h2><span class=\"swatch\" style=\"background:{}\"></span>{} <code>{}</code></h2>\n",
                hex_color(l.color),
                esc(&l.display_name()),
                esc(&l.name)
            ));
            let mut facts = vec![format!("colour <code>{}</code>", hex_color(l.color))];
            if let Some(k) = &l.hotkey {
                facts.push(format!("hotkey <kbd>{}</kbd>", esc(&hotkey_words(k))));
            }
            if l.retired {
                facts.push("<strong>retired</strong>: boxes keep it, but it is not given anew".into());
            }
            h.push_str(&format!("<p class=\"facts\">{}</p>\n", facts.join(" · ")));
            if l.guideline.trim().is_empty() {
                h.push_str("<p class=\"guideline none\">No guideline written yet.</p>\n");
            } else {
                h.push_str(&format!(
                    "<p class=\"guideline\">{}</p>\n",
                    esc(l.guideline.trim()).replace('\n', "<br>\n")
                ));
            }
            for (heading, class, examples) in [("This is one", "good", &gl.good), ("This is not", "bad", &gl.bad)] {
                if examples.is_empty() {
                    continue;
                }
                h.push_str(&format!("<h3 class=\"{class}\">{heading}</h3>\n<div class=\"examples {class}\">\n"));
                for e in examples {
                    h.push_str(&format!(
                        "<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"><figcaption>{}</figcaption></figure>\n",
                        esc(&caption_text(e)),
                        base64(&e.crop_png),
                        html_caption(e)
                    ));
                }
                h.push_str("</div>\n");
            }
            h.push_str("</section>\n");
        }
        h.push_str("</body>\n</html>\n");
        h
    }

    /// What a dataset carries: `GUIDE.md`, its crops under `guide/`, and `guide.html`, as
    /// (relative path, bytes), in that order.
    pub fn dataset_files(&self) -> Vec<GuideFile> {
        let (md, crops) = self.markdown();
        let mut files = vec![(GUIDE_MARKDOWN.to_string(), md.into_bytes())];
        files.extend(crops);
        files.push((GUIDE_HTML.to_string(), self.html().into_bytes()));
        files
    }
}

/// The workspace's guide now, as Markdown and its crops (see [`Guide::markdown`]).
pub fn guide_markdown(store: &Store) -> Result<(String, Vec<GuideFile>), StoreError> {
    Ok(Guide::current(store)?.markdown())
}

/// The workspace's guide now, as one self-contained HTML page.
pub fn guide_html(store: &Store) -> Result<String, StoreError> {
    Ok(Guide::current(store)?.html())
}

const INTRO: &str = "What to box and what to type, label by label, in the order of the annotation palette, \
with examples pinned by the workspace's leads: a crop of the page with the box outlined in the label's colour.";

const HTML_STYLE: &str = "<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
nav ul { columns: 3; list-style: none; padding: 0; }
section { border-top: 1px solid #ddd; padding-top: .5rem; margin-top: 1.5rem; }
section.retired h2 { color: #888; text-decoration: line-through; }
.swatch { display: inline-block; width: .9em; height: .9em; border: 1px solid #0006; border-radius: 3px; margin-right: .4em; vertical-align: -0.1em; }
.facts { color: #555; font-size: .9em; }
.guideline.none { color: #888; font-style: italic; }
h3.good { color: #1a7f37; } h3.bad { color: #b42318; }
.examples { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; max-width: 100%; }
figure img { max-width: 100%; border: 1px solid #ccc; }
.examples.bad figure img { border-color: #b42318; }
figcaption { font-size: .9em; max-width: 32rem; }
</style>
";

/// "The box's text — note" as plain text.
fn caption_text(e: &LabelExample) -> String {
    match (e.text.trim(), e.note.trim()) {
        ("", "") => if e.good { "an example" } else { "a counter-example" }.to_string(),
        (t, "") => format!("\u{201c}{t}\u{201d}"),
        ("", n) => n.to_string(),
        (t, n) => format!("\u{201c}{t}\u{201d} \u{2014} {n}"),
    }
}

fn md_caption(e: &LabelExample) -> String {
    let mut parts = Vec::new();
    if !e.text.trim().is_empty() {
        parts.push(format!("Text: `{}`", e.text.trim().replace('`', "'")));
    }
    if !e.note.trim().is_empty() {
        parts.push(md_text(e.note.trim()));
    }
    if parts.is_empty() { "".into() } else { parts.join(" \u{2014} ") }
}

fn html_caption(e: &LabelExample) -> String {
    let mut parts = Vec::new();
    if !e.text.trim().is_empty() {
        parts.push(format!("<q>{}</q>", esc(e.text.trim())));
    }
    if !e.note.trim().is_empty() {
        parts.push(esc(e.note.trim()));
    }
    parts.join(" \u{2014} ")
}

/// `guide/total_amount-12.png`: the label's name (file-name safe) and the example's id.
fn crop_path(l: &Label, e: &LabelExample) -> String {
    let safe: String =
        l.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    format!("{GUIDE_CROPS_DIR}/{safe}-{}.png", e.id)
}

/// An HTML id for the label's section (label names are unique, ids only need to be).
fn anchor(l: &Label) -> String {
    format!("label-{}", l.id)
}

fn hex_color(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// "shift+3" → "Shift+3".
fn hotkey_words(k: &str) -> String {
    k.replace("shift+", "Shift+")
}

/// Text for HTML: the five characters that could end a text node or an attribute escaped.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text for Markdown: no HTML gets through (Markdown renderers pass tags on), the rest is
/// left as the lead wrote it.
fn md_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Standard base64 with padding (RFC 4648), for `data:` URIs.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded, "{plain:?}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn html_escapes_every_special_character() {
        assert_eq!(esc(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(md_text("<script>a&b</script>"), "&lt;script&gt;a&amp;b&lt;/script&gt;");
    }

    #[test]
    fn a_crop_has_a_margin_an_outline_and_a_bounded_size() {
        let page = image::RgbImage::from_pixel(2000, 1000, image::Rgb([255, 255, 255]));
        let c = crop(&page, 2000, 1000, &Rect::new(100.0, 100.0, 300.0, 140.0), [200, 0, 0]);
        // 40 px high: 80 px of the line on either side, 24 px above and below
        assert_eq!(c.dimensions(), (360, 88));
        assert_eq!(c.get_pixel(78, 50), &image::Rgb([200, 0, 0]), "outline just outside the box");
        assert_eq!(c.get_pixel(80, 50), &image::Rgb([255, 255, 255]), "the box's own pixels stay");
        assert_eq!(c.get_pixel(10, 50), &image::Rgb([255, 255, 255]), "the margin stays");
        let big = crop(&page, 2000, 1000, &Rect::new(0.0, 0.0, 1500.0, 300.0), [0, 0, 0]);
        assert_eq!(big.width().max(big.height()), MAX_CROP_SIDE_PX);
        // a page decoded at half the size it was measured at
        let half = image::RgbImage::from_pixel(1000, 500, image::Rgb([255, 255, 255]));
        assert_eq!(crop(&half, 2000, 1000, &Rect::new(100.0, 100.0, 300.0, 140.0), [0, 0, 0]).dimensions(), (180, 44));
        // a box on the page's edge stays inside it
        let edge = crop(&page, 2000, 1000, &Rect::new(1990.0, 990.0, 2000.0, 1000.0), [0, 0, 0]);
        assert!(edge.width() >= 1 && edge.height() >= 1);
    }
}
