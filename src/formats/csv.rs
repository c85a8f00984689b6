//! CSV, one row per box (RFC 4180 quoting, `\n` line ends):
//! `image,width,height,x0,y0,x1,y1,label,text,quad` where `quad` is `x1 y1 … x4 y4` or empty.
//! Pages without boxes get one row with empty box columns, so they are not lost.
//!
//! Round trip keeps: boxes, quads, labels (empty = unlabelled), text. Loses: links.

use super::model::{FormatError, OutFile, Page, PageBox, finite, utf8};
use crate::domain::{BoxFlags, Point, Quad, Rect};

pub const FILE: &str = "annotations.csv";
pub const IMAGE_DIR: &str = "images";
const HEADER: [&str; 10] = ["image", "width", "height", "x0", "y0", "x1", "y1", "label", "text", "quad"];

fn field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

fn row(out: &mut String, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, f);
    }
    out.push('\n');
}

pub fn write(pages: &[Page]) -> Vec<OutFile> {
    let mut out = String::new();
    row(&mut out, &HEADER);
    for page in pages {
        let (w, h) = (page.width.to_string(), page.height.to_string());
        if page.boxes.is_empty() {
            row(&mut out, &[&page.image, &w, &h, "", "", "", "", "", "", ""]);
        }
        for b in &page.boxes {
            let r = b.rect;
            let quad = b
                .quad
                .map(|q| q.0.iter().map(|p| format!("{} {}", p.x, p.y)).collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            let nums = [r.x0, r.y0, r.x1, r.y1].map(|v| v.to_string());
            row(
                &mut out,
                &[
                    &page.image,
                    &w,
                    &h,
                    &nums[0],
                    &nums[1],
                    &nums[2],
                    &nums[3],
                    b.label.as_deref().unwrap_or(""),
                    &b.text,
                    &quad,
                ],
            );
        }
    }
    vec![OutFile::new(FILE, out.into_bytes())]
}

/// Splits RFC 4180 text into records, each with the line it starts on.
fn records(file: &str, text: &str) -> Result<Vec<(usize, Vec<String>)>, FormatError> {
    let mut out = Vec::new();
    let (mut rec, mut cur) = (Vec::new(), String::new());
    let (mut line, mut start, mut quoted, mut was_quoted) = (1, 1, false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cur.push('"');
                }
                '"' => quoted = false,
                c => {
                    if c == '\n' {
                        line += 1;
                    }
                    cur.push(c);
                }
            }
            continue;
        }
        match c {
            '"' if cur.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            '"' => return Err(FormatError::at_line(file, line, "a quote inside an unquoted field")),
            ',' => {
                rec.push(std::mem::take(&mut cur));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                rec.push(std::mem::take(&mut cur));
                out.push((start, std::mem::take(&mut rec)));
                was_quoted = false;
                line += 1;
                start = line;
            }
            c if was_quoted => {
                return Err(FormatError::at_line(file, line, format!("'{c}' after a closing quote")));
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(FormatError::at_line(file, start, "a quoted field is not closed"));
    }
    if !cur.is_empty() || !rec.is_empty() {
        rec.push(cur);
        out.push((start, rec));
    }
    Ok(out)
}

/// Reads our CSV back; rows of the same image (in order) form one page.
pub fn read(file: &str, bytes: &[u8]) -> Result<Vec<Page>, FormatError> {
    let text = utf8(file, bytes)?;
    let recs = records(file, text)?;
    let Some((_, header)) = recs.first() else {
        return Err(FormatError::new(file, "empty file"));
    };
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let cols: Vec<Option<usize>> = HEADER.iter().map(|h| col(h)).collect();
    for (name, c) in HEADER.iter().zip(&cols).take(7) {
        if c.is_none() {
            return Err(FormatError::at_line(file, 1, format!("the header has no '{name}' column")));
        }
    }
    let mut pages: Vec<Page> = Vec::new();
    for (line, rec) in recs.iter().skip(1) {
        let get = |i: usize| cols[i].and_then(|c| rec.get(c)).map(String::as_str).unwrap_or("");
        let bad = |reason: String| FormatError::at_line(file, *line, reason);
        let image = get(0);
        if image.is_empty() {
            return Err(bad("empty image column".into()));
        }
        let dim =
            |i: usize| get(i).trim().parse::<u32>().map_err(|_| bad(format!("{} is not a whole number", HEADER[i])));
        let (w, h) = (dim(1)?, dim(2)?);
        if pages.last().is_none_or(|p| p.image != image) {
            pages.push(Page { image: image.to_string(), width: w, height: h, ..Page::default() });
        }
        if get(3).is_empty() {
            continue;
        }
        let num = |i: usize| -> Result<f32, FormatError> {
            let v: f64 = get(i).trim().parse().map_err(|_| bad(format!("{} is not a number", HEADER[i])))?;
            finite(file, HEADER[i], v).map_err(|e| e.on_line(*line))
        };
        let rect = Rect::new(num(3)?, num(4)?, num(5)?, num(6)?);
        let quad = match get(9).trim() {
            "" => None,
            q => {
                let v: Vec<f32> = q
                    .split_whitespace()
                    .map(|s| s.parse::<f32>().ok().filter(|v| v.is_finite()))
                    .collect::<Option<_>>()
                    .ok_or_else(|| bad("quad has a value that is not a number".into()))?;
                let [a, b, c, d, e, f, g, hh] = v.as_slice() else {
                    return Err(bad("quad needs 8 numbers".into()));
                };
                Some(Quad([Point::new(*a, *b), Point::new(*c, *d), Point::new(*e, *f), Point::new(*g, *hh)]))
            }
        };
        let label = Some(get(7).to_string()).filter(|l| !l.is_empty());
        if let Some(page) = pages.last_mut() {
            page.boxes.push(PageBox { rect, quad, label, text: get(8).to_string(), flags: BoxFlags::default() });
        }
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_round_trips_commas_quotes_and_newlines() {
        let text = "a, \"b\"\nc";
        let page = Page {
            image: "images/x.png".into(),
            width: 10,
            height: 10,
            boxes: vec![PageBox {
                rect: Rect::new(1.0, 2.0, 3.0, 4.0),
                quad: None,
                label: None,
                text: text.into(),
                flags: BoxFlags::default(),
            }],
            ..Page::default()
        };
        let files = write(std::slice::from_ref(&page));
        let back = read(FILE, &files[0].bytes).unwrap();
        assert_eq!(back, vec![page]);
    }
}
