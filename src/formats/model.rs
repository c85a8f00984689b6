//! The neutral page model every dataset format converts to and from, so the formats stay pure
//! (bytes in, pages out; pages in, bytes out) and never see the store.

use std::collections::BTreeMap;

use crate::domain::{BoxFlags, LinkKind, Point, Quad, Rect};

/// One page image with its boxes, as a dataset file describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    /// Image path relative to the dataset root, `/`-separated (as the format writes it).
    pub image: String,
    /// Pixel size; 0 when the format does not record it (the importer probes the image).
    pub width: u32,
    pub height: u32,
    pub boxes: Vec<PageBox>,
    pub links: Vec<PageLink>,
    /// The document's tags (tag → value), where the format has a place for them.
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PageBox {
    pub rect: Rect,
    /// Set only for boxes that are not axis-aligned rectangles.
    pub quad: Option<Quad>,
    /// Label name as written in the file (mapping onto the schema is the importer's job).
    pub label: Option<String>,
    pub text: String,
    /// Difficult, illegible, handwritten: as far as the format keeps them.
    pub flags: BoxFlags,
}

impl PageBox {
    /// The four corners, clockwise from top-left: the quad, or the rectangle's corners.
    pub fn corners(&self) -> Quad {
        self.quad.unwrap_or_else(|| Quad::from_rect(&self.rect))
    }

    /// A box from corner points: an axis-aligned rectangle stays a plain rect.
    pub fn from_points(points: [Point; 4], label: Option<String>, text: String) -> PageBox {
        let quad = Quad(points);
        let rect = quad.bounds();
        let quad = (!is_axis_aligned(&quad)).then_some(quad);
        PageBox { rect, quad, label, text, flags: BoxFlags::default() }
    }
}

/// True when the quad is exactly its bounding rectangle, corners in our order.
pub fn is_axis_aligned(q: &Quad) -> bool {
    *q == Quad::from_rect(&q.bounds())
}

/// A link between two boxes of the same page, by index into `Page::boxes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLink {
    pub from: usize,
    pub to: usize,
    pub kind: LinkKind,
}

/// A file a writer produced, relative to the dataset root.
#[derive(Debug, Clone, PartialEq)]
pub struct OutFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

impl OutFile {
    pub fn new(path: impl Into<String>, bytes: Vec<u8>) -> Self {
        OutFile { path: path.into(), bytes }
    }
}

/// What a writer left out because the format cannot hold it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skipped {
    pub unlabelled_boxes: usize,
}

/// A structural problem in a dataset file, with where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{}: {}", single_line(file), position(*line, *column), single_line(reason))]
pub struct FormatError {
    pub file: String,
    /// 1-based, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub reason: String,
}

/// Text quoted from a hostile file (a parser's excerpt, a file name) on one line: control
/// characters are shown escaped (`\n`, `\t`, `\u{1b}`), so an error stays one line.
fn single_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

impl FormatError {
    pub fn new(file: &str, reason: impl Into<String>) -> Self {
        FormatError { file: file.to_string(), line: None, column: None, reason: reason.into() }
    }

    pub fn at_line(file: &str, line: usize, reason: impl Into<String>) -> Self {
        FormatError { file: file.to_string(), line: Some(line), column: None, reason: reason.into() }
    }

    /// A serde_json error, which knows its line and column.
    pub fn json(file: &str, e: &serde_json::Error) -> Self {
        let line = (e.line() > 0).then_some(e.line());
        let column = (e.column() > 0).then_some(e.column());
        FormatError { file: file.to_string(), line, column, reason: e.to_string() }
    }

    /// Same error at a line offset (for JSON embedded in a line of a text file).
    pub fn on_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
}

/// Parses JSON, reporting the file and position on failure.
pub fn parse_json<T: serde::de::DeserializeOwned>(file: &str, bytes: &[u8]) -> Result<T, FormatError> {
    serde_json::from_slice(bytes).map_err(|e| FormatError::json(file, &e))
}

/// Decodes UTF-8 (a leading BOM is allowed, as Windows tools write one).
pub fn utf8<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, FormatError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
        FormatError::at_line(file, line, format!("not UTF-8 text (byte {})", e.valid_up_to()))
    })
}

/// Serialises a value to pretty JSON with a final newline (deterministic: struct field order,
/// maps must be `BTreeMap`).
pub fn to_json_pretty<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Serialising plain structs of strings and numbers into memory cannot fail.
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// The file name part of a `/`-separated path.
pub fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The file name without its extension.
pub fn file_stem(path: &str) -> &str {
    let name = file_name(path);
    match name.rfind('.') {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    }
}

/// Checks a number read from a file is finite.
pub fn finite(file: &str, what: &str, v: f64) -> Result<f32, FormatError> {
    if v.is_finite() && v.abs() < 1e9 {
        Ok(v as f32)
    } else {
        Err(FormatError::new(file, format!("{what} is not a finite coordinate ({v})")))
    }
}

/// The dataset formats, by their command-line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Format {
    Coco,
    Yolo,
    Voc,
    Funsd,
    Ppocr,
    PpocrKie,
    Csv,
    FactureJson,
    LabelStudio,
    /// Import only.
    LabelStudioMin,
}

impl Format {
    pub const ALL: [Format; 10] = [
        Format::Coco,
        Format::Yolo,
        Format::Voc,
        Format::Funsd,
        Format::Ppocr,
        Format::PpocrKie,
        Format::Csv,
        Format::FactureJson,
        Format::LabelStudio,
        Format::LabelStudioMin,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Format::Coco => "coco",
            Format::Yolo => "yolo",
            Format::Voc => "voc",
            Format::Funsd => "funsd",
            Format::Ppocr => "ppocr",
            Format::PpocrKie => "ppocr-kie",
            Format::Csv => "csv",
            Format::FactureJson => "facture-json",
            Format::LabelStudio => "labelstudio",
            Format::LabelStudioMin => "labelstudio-min",
        }
    }

    pub fn can_export(&self) -> bool {
        *self != Format::LabelStudioMin
    }

    /// Folder the images go to, relative to the dataset (or split) root; "" for the root.
    pub fn image_dir(&self) -> &'static str {
        match self {
            Format::Voc => "JPEGImages",
            Format::FactureJson => "",
            _ => "images",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Format::ALL.into_iter().find(|f| f.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(Format::as_str).collect();
            format!("unknown format '{s}' (expected one of {})", names.join(", "))
        })
    }
}

impl From<Format> for String {
    fn from(f: Format) -> String {
        f.as_str().to_string()
    }
}

impl TryFrom<String> for Format {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_error_quoting_a_file_stays_on_one_line() {
        let e = super::FormatError::at_line("a\nb.xml", 50, "expected `</name>`, but `</name \n\t\t<pose>` was found");
        let said = e.to_string();
        assert_eq!(said.lines().count(), 1, "{said}");
        assert!(said.contains(r"a\nb.xml:50") && said.contains(r"</name \n\t\t<pose>"), "{said}");
    }

    use super::*;

    #[test]
    fn error_shows_file_line_and_column() {
        let e = parse_json::<serde_json::Value>("a.json", b"{\n  \"x\": ,\n}").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().starts_with("a.json:2:"), "{e}");
    }

    #[test]
    fn stems_and_names() {
        assert_eq!(file_stem("images/a.b.jpg"), "a.b");
        assert_eq!(file_name("x\\y.png"), "y.png");
        assert_eq!(file_stem(".hidden"), ".hidden");
    }

    #[test]
    fn rect_points_stay_rects() {
        let r = Rect::new(1.0, 2.0, 3.0, 4.0);
        let b = PageBox::from_points(Quad::from_rect(&r).0, None, String::new());
        assert_eq!((b.rect, b.quad), (r, None));
        let skew = [Point::new(0.0, 1.0), Point::new(5.0, 0.0), Point::new(6.0, 3.0), Point::new(1.0, 4.0)];
        let b = PageBox::from_points(skew, None, String::new());
        assert_eq!(b.rect, Rect::new(0.0, 0.0, 6.0, 4.0));
        assert!(b.quad.is_some());
    }
}
