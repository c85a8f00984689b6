//! Plain domain types shared by every layer: no I/O here, serde only.

pub mod box_style;
pub mod calendar;
pub mod edit;
pub mod geometry;
pub mod review;
pub mod schema;
pub mod status;

pub use box_style::{BoxStyle, LearnedBoxStyle, WorkspaceBoxStyle};
pub use edit::{Change, Edit, EditKind, UndoStacks};
pub use geometry::{Point, Quad, Rect};
pub use review::{BoxVerdict, Comment, DocMeta, GoldBox, GoldScore, ReviewRound, Shelf};
pub use schema::{Label, LabelExample, TagDef, TagSchema, default_invoice_schema};
pub use status::{DocStatus, DocVerdict, Role, Verdict};

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($name:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(DocId);
id_type!(AnnId);
id_type!(UserId);
id_type!(LabelId);
id_type!(LinkId);
id_type!(EditId);
id_type!(RoundId);
id_type!(CommentId);
id_type!(ExampleId);

/// Milliseconds since the Unix epoch (UTC). All timestamps in the workspace use this.
pub type TimestampMs = i64;

/// A person working in the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub role: Role,
}

/// One page image. A multi-page TIFF becomes one document per page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub id: DocId,
    /// Path of the image file as last seen (absolute, or relative to the workspace file).
    pub path: String,
    /// sha256 of the whole file, lower-case hex: how a moved file is found again.
    pub sha256: String,
    /// 0-based page within the file (always 0 except for multi-page TIFF).
    pub page: u32,
    pub width: u32,
    pub height: u32,
    pub status: DocStatus,
    /// The annotator this document is assigned to, if any.
    pub assignee: Option<UserId>,
    /// The reviewer assigned to check it, if any.
    pub reviewer: Option<UserId>,
    pub is_gold: bool,
    pub imported_ms: TimestampMs,
    /// Archived or deleted by a lead (see [`Shelf`]); `None` for a live document.
    pub shelved: Option<Shelf>,
    /// Higher first in the annotation queue; 0 is normal.
    pub priority: i64,
    /// The workspace's document tags (document type, language, scan quality…): tag → value.
    pub tags: std::collections::BTreeMap<String, String>,
    /// Quarter turns clockwise applied to the file's pixels (0–3); `width` and `height` are
    /// those of the page as turned, and so are box coordinates.
    pub rotation: u8,
    /// The file's EXIF (or TIFF) orientation is applied to its pixels: pages imported since
    /// schema 8. Pages imported earlier were measured and boxed as stored, and keep being
    /// decoded so (their `width`, `height` and boxes are those of the stored pixels).
    #[serde(default)]
    pub exif: bool,
}

impl Document {
    /// The lead-set fields, as the edit log records them.
    pub fn meta(&self) -> DocMeta {
        DocMeta {
            assignee: self.assignee,
            reviewer: self.reviewer,
            is_gold: self.is_gold,
            shelved: self.shelved,
            priority: self.priority,
        }
    }

    /// Short display name: file name plus page for multi-page files.
    pub fn display_name(&self) -> String {
        let name = std::path::Path::new(&self.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.clone());
        if self.page > 0 { format!("{name} p{}", self.page + 1) } else { name }
    }
}

/// Where a box (or its text) came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Source {
    Manual,
    /// Classic computer-vision proposals.
    Cv,
    /// An ONNX model pass, by model name.
    Model(String),
    /// A PDF page's own text layer (born-digital invoices).
    PdfText,
    /// Loaded from a ground-truth file or imported dataset.
    Import,
}

impl Source {
    /// A model source by name; a name that already carries the `model:` prefix (as model specs
    /// write it) is not prefixed twice.
    pub fn model(name: &str) -> Source {
        let mut name = name;
        while let Some(rest) = name.strip_prefix("model:") {
            name = rest;
        }
        Source::Model(name.to_string())
    }

    pub fn is_machine(&self) -> bool {
        matches!(self, Source::Cv | Source::Model(_) | Source::PdfText)
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Manual => f.write_str("manual"),
            Source::Cv => f.write_str("cv"),
            Source::Model(name) => write!(f, "model:{name}"),
            Source::PdfText => f.write_str("pdf-text"),
            Source::Import => f.write_str("import"),
        }
    }
}

impl From<Source> for String {
    fn from(s: Source) -> String {
        s.to_string()
    }
}

impl TryFrom<String> for Source {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl std::str::FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "manual" => Ok(Source::Manual),
            "cv" => Ok(Source::Cv),
            "pdf-text" => Ok(Source::PdfText),
            "import" => Ok(Source::Import),
            // earlier versions stored "model:model:NAME"; read it as the model it names
            _ => match s.strip_prefix("model:") {
                Some(name) if !name.trim_start_matches("model:").is_empty() => Ok(Source::model(name)),
                _ => Err(format!("unknown source '{s}' (expected manual, cv, pdf-text, import or model:<name>)")),
            },
        }
    }
}

/// Whether a box is part of the work or still a machine suggestion awaiting a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnState {
    Suggested,
    Active,
}

/// A box on a document with its field label and text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    pub id: AnnId,
    pub doc: DocId,
    pub rect: Rect,
    pub quad: Option<Quad>,
    pub label: Option<LabelId>,
    pub text: String,
    /// Who made the box: never changes after creation, so stats can tell where work came from.
    pub source: Source,
    /// Who last set the text (a model may fill it; re-recognition never overwrites a person's text).
    pub text_source: Source,
    pub confidence: Option<f32>,
    /// The field label a machine suggested for this box, kept after a person confirms or
    /// changes it, so the stats can say how often suggestions were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_suggested: Option<LabelId>,
    /// Set while `label` is still a machine's unconfirmed suggestion: its confidence in [0, 1].
    /// `None` once a person gave, changed or accepted the label, which no machine overwrites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_conf: Option<f32>,
    pub state: AnnState,
    pub author: Option<UserId>,
    pub created_ms: TimestampMs,
    pub updated_ms: TimestampMs,
    /// Difficult, illegible, handwritten (absent in edit logs written before schema 8).
    #[serde(default, skip_serializing_if = "BoxFlags::is_empty")]
    pub flags: BoxFlags,
}

/// What an annotator says about a box beyond its label and text; exported where a format has
/// a place for it (PPOCR `difficult`, COCO attributes, Facture JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BoxFlags(pub u8);

impl BoxFlags {
    /// Hard to box or read; training may weigh or skip it (PPOCR's `difficult`).
    pub const DIFFICULT: BoxFlags = BoxFlags(1);
    /// The text cannot be read with confidence.
    pub const ILLEGIBLE: BoxFlags = BoxFlags(2);
    /// Written by hand rather than printed.
    pub const HANDWRITTEN: BoxFlags = BoxFlags(4);
    /// Every flag, with its name as exported and typed on the command line.
    pub const ALL: [(BoxFlags, &'static str); 3] = [
        (BoxFlags::DIFFICULT, "difficult"),
        (BoxFlags::ILLEGIBLE, "illegible"),
        (BoxFlags::HANDWRITTEN, "handwritten"),
    ];

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, f: BoxFlags) -> bool {
        self.0 & f.0 == f.0 && f.0 != 0
    }

    pub fn with(self, f: BoxFlags, on: bool) -> BoxFlags {
        if on { BoxFlags(self.0 | f.0) } else { BoxFlags(self.0 & !f.0) }
    }

    /// The names of the flags set, in [`BoxFlags::ALL`] order.
    pub fn names(self) -> Vec<&'static str> {
        BoxFlags::ALL.iter().filter(|(f, _)| self.contains(*f)).map(|(_, n)| *n).collect()
    }

    pub fn from_name(name: &str) -> Option<BoxFlags> {
        BoxFlags::ALL.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }
}

impl Annotation {
    /// An active box brought in from ground truth or another tool (source `import`); the
    /// store assigns the id on insert.
    pub fn new_imported(
        doc: DocId,
        rect: Rect,
        label: Option<LabelId>,
        text: String,
        author: Option<UserId>,
        now: TimestampMs,
    ) -> Self {
        Self {
            id: AnnId(0),
            doc,
            rect,
            quad: None,
            label,
            text,
            source: Source::Import,
            text_source: Source::Import,
            confidence: None,
            label_suggested: None,
            label_conf: None,
            state: AnnState::Active,
            author,
            created_ms: now,
            updated_ms: now,
            flags: BoxFlags::default(),
        }
    }

    /// A new manual box; the store assigns the id on insert.
    pub fn new_manual(doc: DocId, rect: Rect, author: UserId, now: TimestampMs) -> Self {
        Self {
            id: AnnId(0),
            doc,
            rect: rect.normalized(),
            quad: None,
            label: None,
            text: String::new(),
            source: Source::Manual,
            text_source: Source::Manual,
            confidence: None,
            label_suggested: None,
            label_conf: None,
            state: AnnState::Active,
            author: Some(author),
            created_ms: now,
            updated_ms: now,
            flags: BoxFlags::default(),
        }
    }
}

/// What a link between two boxes means (FUNSD/XFUND style).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// A key box ("Total:") pointing at its value box.
    KeyValue,
    /// Two cells of the same line-item row.
    Row,
}

impl LinkKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            LinkKind::KeyValue => "key_value",
            LinkKind::Row => "row",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "key_value" => Some(LinkKind::KeyValue),
            "row" => Some(LinkKind::Row),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub id: LinkId,
    pub doc: DocId,
    pub from: AnnId,
    pub to: AnnId,
    pub kind: LinkKind,
}

/// A document held by one person while they work on it: nobody else is handed it, or may
/// edit it, until it is released or expires (renewed by the window's heartbeat).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub doc: DocId,
    pub holder: UserId,
    pub taken_ms: TimestampMs,
    /// On the store's clock (the server's, for a team workspace).
    pub expires_ms: TimestampMs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_round_trips_through_text() {
        for s in [Source::Manual, Source::Cv, Source::Import, Source::Model("ppocr-v6".into())] {
            let text = s.to_string();
            assert_eq!(text.parse::<Source>().unwrap(), s);
        }
        assert!("model:".parse::<Source>().is_err());
        assert!("model:model:".parse::<Source>().is_err());
        // the prefix is never doubled, and rows written doubled by earlier versions read right
        assert_eq!(Source::model("model:ppocr-v6-small").to_string(), "model:ppocr-v6-small");
        assert_eq!("model:model:ppocr-v6-small".parse::<Source>().unwrap(), Source::model("ppocr-v6-small"));
        assert!("robot".parse::<Source>().is_err());
    }

    #[test]
    fn display_name_shows_page_of_multipage_files() {
        let mut d = Document {
            id: DocId(1),
            path: "/scans/batch/a.tif".into(),
            sha256: String::new(),
            page: 0,
            width: 1,
            height: 1,
            status: DocStatus::New,
            assignee: None,
            reviewer: None,
            is_gold: false,
            imported_ms: 0,
            shelved: None,
            priority: 0,
            tags: Default::default(),
            rotation: 0,
            exif: true,
        };
        assert_eq!(d.display_name(), "a.tif");
        d.page = 2;
        assert_eq!(d.display_name(), "a.tif p3");
    }
}
