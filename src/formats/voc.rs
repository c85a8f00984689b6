//! Pascal VOC XML: `JPEGImages/…` and one `Annotations/STEM.xml` per image, each box an
//! `<object>` with `<name>` and `<bndbox>`; the text goes in a CVAT-style
//! `<attributes><attribute><name>text</name><value>…</value></attribute></attributes>`.
//! Coordinates are written as CVAT and LabelImg do: 0-based pixels, decimals kept.
//!
//! The difficult flag is VOC's own `<difficult>1</difficult>`.
//!
//! Round trip keeps: boxes, labels, text, the difficult flag. Loses: quads (written as their
//! bounding box), links, the other flags, tags, unlabelled boxes (VOC objects need a name;
//! skipped and counted).

use std::fmt::Write as _;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::model::{FormatError, OutFile, Page, PageBox, Skipped, file_name, file_stem, finite, utf8};
use crate::domain::{BoxFlags, Rect};

pub const IMAGE_DIR: &str = "JPEGImages";
pub const ANNOTATION_DIR: &str = "Annotations";

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab/newline cannot appear in XML 1.0 at all.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

pub fn write(pages: &[Page], classes: &[String]) -> (Vec<OutFile>, Skipped) {
    let mut skipped = Skipped::default();
    let mut files = Vec::with_capacity(pages.len());
    for page in pages {
        let mut x = String::new();
        let _ = writeln!(x, "<annotation>");
        let _ = writeln!(x, "\t<folder>{IMAGE_DIR}</folder>");
        let _ = writeln!(x, "\t<filename>{}</filename>", escape(file_name(&page.image)));
        let _ = writeln!(x, "\t<source>\n\t\t<database>Facture</database>\n\t</source>");
        let _ = writeln!(
            x,
            "\t<size>\n\t\t<width>{}</width>\n\t\t<height>{}</height>\n\t\t<depth>3</depth>\n\t</size>",
            page.width, page.height
        );
        let _ = writeln!(x, "\t<segmented>0</segmented>");
        for b in &page.boxes {
            let Some(label) = b.label.as_deref().filter(|l| classes.iter().any(|c| c == l)) else {
                skipped.unlabelled_boxes += 1;
                continue;
            };
            let r = b.rect;
            let _ = writeln!(x, "\t<object>");
            let _ = writeln!(x, "\t\t<name>{}</name>", escape(label));
            let difficult = u8::from(b.flags.contains(BoxFlags::DIFFICULT));
            let _ = writeln!(
                x,
                "\t\t<pose>Unspecified</pose>\n\t\t<truncated>0</truncated>\n\t\t<difficult>{difficult}</difficult>"
            );
            let _ = writeln!(
                x,
                "\t\t<bndbox>\n\t\t\t<xmin>{}</xmin>\n\t\t\t<ymin>{}</ymin>\n\t\t\t<xmax>{}</xmax>\n\t\t\t<ymax>{}</ymax>\n\t\t</bndbox>",
                r.x0, r.y0, r.x1, r.y1
            );
            let _ = writeln!(
                x,
                "\t\t<attributes>\n\t\t\t<attribute>\n\t\t\t\t<name>text</name>\n\t\t\t\t<value>{}</value>\n\t\t\t</attribute>\n\t\t</attributes>",
                escape(&b.text)
            );
            let _ = writeln!(x, "\t</object>");
        }
        let _ = writeln!(x, "</annotation>");
        files.push(OutFile::new(format!("{ANNOTATION_DIR}/{}.xml", file_stem(&page.image)), x.into_bytes()));
    }
    (files, skipped)
}

/// A minimal element tree: enough for VOC, with the line each element starts on.
#[derive(Debug, Default)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
    line: usize,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
}

fn line_at(text: &str, pos: u64) -> usize {
    let pos = (pos as usize).min(text.len());
    text.as_bytes()[..pos].iter().filter(|&&b| b == b'\n').count() + 1
}

fn parse_tree(file: &str, text: &str) -> Result<Element, FormatError> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        let pos = reader.buffer_position();
        let err = |reason: String| FormatError::at_line(file, line_at(text, pos), reason);
        let event = reader.read_event().map_err(|e| {
            FormatError::at_line(file, line_at(text, reader.error_position()), format!("malformed XML: {e}"))
        })?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push(Element { name, line: line_at(text, pos), ..Element::default() });
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let el = Element { name, line: line_at(text, pos), ..Element::default() };
                if let Some(top) = stack.last_mut() {
                    top.children.push(el);
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| err("unbalanced closing tag".into()))?;
                let top = stack.last_mut().ok_or_else(|| err("unbalanced closing tag".into()))?;
                top.children.push(el);
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| err(format!("bad text: {e}")))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| err(format!("bad CDATA: {e}")))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref().ok().flatten()
                } else {
                    match r.decode().map_err(|e| err(format!("bad entity: {e}")))?.as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        other => return Err(err(format!("unknown entity &{other};"))),
                    }
                };
                let c = c.ok_or_else(|| err("bad character reference".into()))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if stack.len() > 64 {
            return Err(err("elements nested too deeply".into()));
        }
    }
    if stack.len() != 1 {
        return Err(FormatError::new(file, "unexpected end of file: an element is not closed"));
    }
    let mut root = stack.pop().unwrap_or_default();
    let top = root.children.pop().filter(|_| root.children.is_empty());
    top.ok_or_else(|| FormatError::new(file, "expected exactly one root element"))
}

/// Reads one VOC annotation; `Page::image` is its `<filename>`.
pub fn read(file: &str, bytes: &[u8]) -> Result<Page, FormatError> {
    let text = utf8(file, bytes)?;
    let root = parse_tree(file, text)?;
    if root.name != "annotation" {
        return Err(FormatError::at_line(
            file,
            root.line,
            format!("root element is <{}>, not <annotation>", root.name),
        ));
    }
    let filename = root
        .text_of("filename")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| FormatError::at_line(file, root.line, "<filename> is missing"))?;
    let size = root.child("size").ok_or_else(|| FormatError::at_line(file, root.line, "<size> is missing"))?;
    let dim = |name: &str| -> Result<u32, FormatError> {
        let s = size.text_of(name).ok_or_else(|| FormatError::at_line(file, size.line, format!("<{name}> missing")))?;
        // Some tools write "1240.0".
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0 && v.fract() == 0.0 && *v <= f64::from(u32::MAX))
            .map(|v| v as u32)
            .ok_or_else(|| FormatError::at_line(file, size.line, format!("<{name}> is not a whole number: '{s}'")))
    };
    let mut page =
        Page { image: filename.to_string(), width: dim("width")?, height: dim("height")?, ..Page::default() };
    for obj in root.children("object") {
        let at = |reason: String| FormatError::at_line(file, obj.line, reason);
        let name = obj.text_of("name").filter(|s| !s.is_empty()).ok_or_else(|| at("object without <name>".into()))?;
        let bb = obj.child("bndbox").ok_or_else(|| at("object without <bndbox>".into()))?;
        let coord = |n: &str| -> Result<f32, FormatError> {
            let s = bb.text_of(n).ok_or_else(|| at(format!("<bndbox> without <{n}>")))?;
            let v: f64 = s.parse().map_err(|_| at(format!("<{n}> is not a number: '{s}'")))?;
            finite(file, n, v).map_err(|e| e.on_line(bb.line))
        };
        let rect = Rect::new(coord("xmin")?, coord("ymin")?, coord("xmax")?, coord("ymax")?);
        if rect.x0 > rect.x1 || rect.y0 > rect.y1 {
            return Err(at("xmin > xmax or ymin > ymax".into()));
        }
        let text = obj
            .child("attributes")
            .into_iter()
            .flat_map(|a| a.children("attribute"))
            .find(|a| a.text_of("name") == Some("text"))
            .and_then(|a| a.child("value"))
            .map(|v| v.text.clone())
            .unwrap_or_default();
        let difficult = obj.text_of("difficult").is_some_and(|d| d.trim() == "1");
        let flags = BoxFlags::default().with(BoxFlags::DIFFICULT, difficult);
        page.boxes.push(PageBox { rect, quad: None, label: Some(name.to_string()), text, flags });
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difficult_is_voc_s_own_element() {
        let rect = Rect::new(1.0, 2.0, 30.0, 12.0);
        let b =
            PageBox { rect, quad: None, label: Some("total".into()), text: String::new(), flags: BoxFlags::DIFFICULT };
        let page = Page { image: "JPEGImages/a.png".into(), width: 40, height: 20, boxes: vec![b], ..Page::default() };
        let (files, _) = write(std::slice::from_ref(&page), &["total".into()]);
        assert!(String::from_utf8_lossy(&files[0].bytes).contains("<difficult>1</difficult>"));
        assert_eq!(read(&files[0].path, &files[0].bytes).unwrap().boxes[0].flags, BoxFlags::DIFFICULT);
    }
}
