//! Accepting machine suggestions without the window, so a pipeline can go pre-annotate →
//! accept → export headless. Each document's accepts are one command of the accepting
//! person's session: logged as theirs, one undo step in their window, checked by the same
//! rules as a click.

use crate::app::{Command, CommandError, Outcome, Session};
use crate::domain::{AnnState, Annotation, DocId, Source};

/// Which suggestions to accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFilter {
    Cv,
    /// Any OCR model's suggestions.
    Model,
    /// A PDF's text layer.
    PdfText,
    Any,
}

impl std::str::FromStr for SourceFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cv" => Ok(SourceFilter::Cv),
            "model" => Ok(SourceFilter::Model),
            "pdf-text" => Ok(SourceFilter::PdfText),
            "any" => Ok(SourceFilter::Any),
            other => Err(format!("unknown source '{other}' (expected cv, model, pdf-text or any)")),
        }
    }
}

impl SourceFilter {
    pub fn matches(self, source: &Source) -> bool {
        match self {
            SourceFilter::Cv => *source == Source::Cv,
            SourceFilter::Model => matches!(source, Source::Model(_)),
            SourceFilter::PdfText => *source == Source::PdfText,
            SourceFilter::Any => source.is_machine(),
        }
    }
}

/// What accepting did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AcceptReport {
    /// Suggestions turned into annotations.
    pub accepted: usize,
    /// Documents on which something was accepted.
    pub documents: usize,
    /// Matching suggestions left because their confidence was below the threshold.
    pub below_threshold: usize,
    /// Documents the rules refused (assigned to someone else, submitted, …), with why.
    pub failed: Vec<(DocId, String)>,
}

impl AcceptReport {
    pub fn summary(&self) -> String {
        let mut s = format!("{} suggestion(s) accepted on {} document(s)", self.accepted, self.documents);
        if self.below_threshold > 0 {
            s.push_str(&format!(", {} below the minimum score left as suggestions", self.below_threshold));
        }
        if !self.failed.is_empty() {
            s.push_str(&format!(", {} document(s) refused", self.failed.len()));
        }
        s
    }
}

fn eligible(a: &Annotation, filter: SourceFilter) -> bool {
    a.state == AnnState::Suggested && filter.matches(&a.source)
}

/// Accepts, on each document, the suggestions from `filter` whose confidence is at least
/// `min_score` (a suggestion without a score counts as 0). A document the rules refuse is
/// reported and the rest go on; a store failure stops the run.
pub fn accept_suggestions(
    session: &mut Session,
    docs: &[DocId],
    filter: SourceFilter,
    min_score: f32,
) -> Result<AcceptReport, CommandError> {
    let mut report = AcceptReport::default();
    for &doc in docs {
        let anns = session.store().annotations(doc)?;
        let (ids, low): (Vec<&Annotation>, Vec<&Annotation>) =
            anns.iter().filter(|a| eligible(a, filter)).partition(|a| a.confidence.unwrap_or(0.0) >= min_score);
        report.below_threshold += low.len();
        if ids.is_empty() {
            continue;
        }
        let ids = ids.iter().map(|a| a.id).collect();
        match session.apply(Command::AcceptSuggestions { doc, ids }) {
            Ok(Outcome::Applied(edit)) => {
                report.accepted +=
                    edit.changes.iter().filter(|c| matches!(c, crate::domain::Change::Annotation { .. })).count();
                report.documents += 1;
            }
            Ok(Outcome::NoChange) => {}
            Err(CommandError::Refused(why)) => report.failed.push((doc, why)),
            Err(CommandError::Store(crate::store::StoreError::Conflict(why))) => report.failed.push((doc, why)),
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}
