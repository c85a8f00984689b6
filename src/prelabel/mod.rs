//! Pre-annotation: machine suggestions of boxes (and text) that annotators accept or fix.
//! [`cv`] is classic computer vision with imageproc; [`model`] runs ONNX text detection and
//! recognition through ONNX Runtime. Both produce [`Proposal`]s; [`eval`] scores any source
//! against ground truth with the one metrics module.

pub mod boxstyle;
pub mod cv;
pub mod eval;
pub mod model;
pub mod pdftext;

use crate::domain::{Quad, Rect};

/// Granularity of a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Line,
    Word,
}

/// One suggested box, in image pixels of the page it was computed on.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub rect: Rect,
    /// Set when the text is skewed enough that a quad describes it better than `rect`.
    pub quad: Option<Quad>,
    /// Recognised text, for sources that read text (the model); `None` for CV.
    pub text: Option<String>,
    /// Confidence in [0, 1]: higher is more likely a real text line.
    pub score: f32,
    pub level: Level,
}

/// Anything that turns a page image into proposals (CV, an ONNX model, …).
pub trait ProposalSource {
    /// Short name used in reports and as the annotation source ("cv", "model:ppocr-v6").
    fn name(&self) -> String;
    /// Line-level proposals for one page.
    fn propose(&mut self, page: &image::DynamicImage) -> anyhow::Result<Vec<Proposal>>;
    /// Proposals for page `page` of a PDF, read from the file itself, in the pixels of the page
    /// rendered at `size`; `None` for a source that only sees pixels (it is given the page
    /// rendered instead).
    fn propose_pdf(&mut self, _pdf: &[u8], _page: u32, _size: (u32, u32)) -> Option<anyhow::Result<Vec<Proposal>>> {
        None
    }
}
