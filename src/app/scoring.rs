//! Agreement between two versions of a page's boxes (gold vs annotator, reviewed vs first
//! pass), composed from the one metrics module.

use crate::domain::{LabelId, Rect};
use crate::metrics::{CerCounts, Counts, LabelCounts, cer_counts, label_accuracy, match_boxes};

/// One box reduced to what agreement compares.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredBox {
    pub rect: Rect,
    pub label: Option<LabelId>,
    pub text: String,
}

/// Summable agreement counts: box matching, labels and text over matched pairs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Agreement {
    pub boxes: Counts,
    pub labels: LabelCounts,
    pub text: CerCounts,
}

impl std::ops::AddAssign for Agreement {
    fn add_assign(&mut self, o: Agreement) {
        self.boxes += o.boxes;
        self.labels = self.labels + o.labels;
        self.text += o.text;
    }
}

/// Compares `pred` against the reference `truth` at an IoU threshold (0.5 throughout Facture).
pub fn agreement(truth: &[ScoredBox], pred: &[ScoredBox], iou: f32) -> Agreement {
    let t: Vec<Rect> = truth.iter().map(|b| b.rect).collect();
    let p: Vec<Rect> = pred.iter().map(|b| b.rect).collect();
    let m = match_boxes(&t, &p, iou);
    let tl: Vec<_> = truth.iter().map(|b| b.label).collect();
    let pl: Vec<_> = pred.iter().map(|b| b.label).collect();
    let text = m.pairs.iter().map(|pair| cer_counts(&truth[pair.gt].text, &pred[pair.pred].text)).sum();
    Agreement { boxes: m.counts(), labels: label_accuracy(&m, &tl, &pl), text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32, label: i64, text: &str) -> ScoredBox {
        ScoredBox { rect: Rect::new(x, 0.0, x + 50.0, 20.0), label: Some(LabelId(label)), text: text.into() }
    }

    #[test]
    fn agreement_counts_boxes_labels_and_text() {
        let truth = vec![b(0.0, 1, "TOTAL"), b(100.0, 2, "12,00"), b(200.0, 3, "x")];
        let pred = vec![b(1.0, 1, "TOTAL"), b(101.0, 9, "12,50"), b(400.0, 3, "y")];
        let a = agreement(&truth, &pred, 0.5);
        assert_eq!((a.boxes.matched, a.boxes.gt, a.boxes.pred), (2, 3, 3));
        assert_eq!((a.labels.correct, a.labels.total), (1, 2));
        assert_eq!((a.text.edits, a.text.ref_chars), (1, 10));
    }
}
