//! Field-label suggestions: day-one rules for the default invoice schema (FR/DE/EN) and a
//! small classifier that learns the workspace's own labels from its reviewed documents.
//! Pure: pages in, (label name, confidence) out; the app maps names to the workspace's labels.

pub mod features;
pub mod model;
pub mod page;
pub mod rules;

use std::collections::BTreeMap;

use serde::Serialize;

pub use model::{LabelModel, ModelBlobError, TrainParams};
pub use page::{Layout, Page, PageBox};

/// Names other teams and datasets give the default schema's fields (SROIE, FUNSD-style
/// exports, …): a rule's answer is given under the workspace's name for it.
const ALIASES: &[(&str, &[&str])] = &[
    ("vendor_name", &["company", "vendor", "seller", "supplier", "merchant", "store_name"]),
    ("vendor_address", &["address", "seller_address", "store_address", "merchant_address"]),
    ("invoice_date", &["date", "issue_date", "receipt_date"]),
    ("total_amount", &["total", "amount_due", "grand_total"]),
    ("invoice_number", &["invoice_no", "invoice_id", "receipt_number", "bill_no"]),
    ("tax_amount", &["tax", "vat_amount"]),
    ("subtotal", &["net_amount", "sub_total"]),
    ("vendor_tax_id", &["vat_id", "tax_id", "gst_id"]),
];

/// The workspace's name for a rule's label, if the workspace has one.
fn workspace_name<'a>(rule: &str, labels: &'a [String]) -> Option<&'a String> {
    labels.iter().find(|l| l.as_str() == rule).or_else(|| {
        let aliases = ALIASES.iter().find(|(n, _)| *n == rule)?.1;
        labels.iter().find(|l| aliases.contains(&l.to_lowercase().as_str()))
    })
}

/// One page of reviewed work to learn from: each box's label name (`None`: no label).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainPage {
    pub page: Page,
    pub labels: Vec<Option<String>>,
}

impl TrainPage {
    /// A ground-truth page as if it had been reviewed: its boxes with text and their labels.
    pub fn from_gt(gt: &crate::formats::gt::GroundTruth) -> TrainPage {
        let boxes: Vec<_> = gt.boxes.iter().filter(|b| !b.text.trim().is_empty()).collect();
        TrainPage {
            page: Page {
                width: gt.width as f32,
                height: gt.height as f32,
                boxes: boxes.iter().map(|b| PageBox { rect: b.rect(), text: b.text.clone() }).collect(),
                links: vec![],
            },
            labels: boxes.iter().map(|b| b.label.clone().filter(|l| !l.is_empty())).collect(),
        }
    }
}

/// Every label name `pages` use, sorted, once each.
pub fn label_names<'a>(pages: impl IntoIterator<Item = &'a TrainPage>) -> Vec<String> {
    let mut names: Vec<String> = pages.into_iter().flat_map(|p| p.labels.iter().flatten().cloned()).collect();
    names.sort();
    names.dedup();
    names
}

/// Suggests labels with the rules and, when the workspace has one, its trained model.
#[derive(Debug, Clone)]
pub struct Suggester {
    /// The workspace's label names (retired ones excluded by the caller).
    labels: Vec<String>,
    model: Option<LabelModel>,
}

/// Below this, a suggested label is shown as unsure.
pub const UNSURE_BELOW: f32 = 0.6;

/// How many reviewed documents the rules weigh as, next to the model (see [`Suggester::suggest`]).
const RULE_PRIOR_DOCS: f32 = 2.0;

impl Suggester {
    pub fn new(labels: Vec<String>, model: Option<LabelModel>) -> Self {
        Self { labels, model }
    }

    pub fn has_model(&self) -> bool {
        self.model.is_some()
    }

    /// For each box of `page`: the label name and confidence suggested, or `None`.
    pub fn suggest(&self, page: &Page) -> Vec<Option<(String, f32)>> {
        let layout = Layout::of(page);
        let rules: Vec<Option<(&str, f32)>> =
            (0..page.boxes.len()).map(|i| features::rule_label(page, &layout, i)).collect();
        let rule_names: Vec<Option<&str>> = rules.iter().map(|r| r.map(|r| r.0)).collect();
        (0..page.boxes.len())
            .map(|i| {
                let by_rule = rules[i].and_then(|(r, c)| workspace_name(r, &self.labels).map(|n| (n.clone(), c)));
                let Some(model) = &self.model else {
                    return by_rule;
                };
                let mut probs = model.predict(&features::features(page, &layout, i, &rule_names));
                // a model that has seen few documents leans on the rules: mixed in with a weight
                // that fades as the reviewed set grows
                if let Some((name, c)) = &by_rule
                    && let Some(k) = model.classes.iter().position(|x| x == name)
                {
                    let alpha = RULE_PRIOR_DOCS / (RULE_PRIOR_DOCS + model.documents as f32);
                    probs.iter_mut().for_each(|p| *p *= 1.0 - alpha);
                    probs[k] += alpha * c;
                    probs[0] += alpha * (1.0 - c);
                }
                let (best, p) = probs
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map(|(k, p)| (model.classes[k].as_str(), *p))
                    .unwrap_or(("", 0.0));
                // a label the model never saw (the team has not reviewed one yet): the rules
                // speak for it when the model is unsure
                if let Some((name, c)) = &by_rule
                    && !model.classes.contains(name)
                    && *c > p
                {
                    return by_rule;
                }
                if best.is_empty() || !self.labels.iter().any(|l| l == best) {
                    return None;
                }
                Some((best.to_string(), p))
            })
            .collect()
    }
}

/// Trains a model on `pages` (every label name they use becomes a class).
pub fn train(pages: &[TrainPage], params: &TrainParams) -> Option<LabelModel> {
    train_on(&pages.iter().collect::<Vec<_>>(), params)
}

/// [`train`] on borrowed pages (a fold of a cross-validation, all pages but one).
pub fn train_on(pages: &[&TrainPage], params: &TrainParams) -> Option<LabelModel> {
    let mut classes: Vec<String> = vec![String::new()];
    classes.extend(label_names(pages.iter().copied()));
    let mut examples = Vec::new();
    for tp in pages {
        let layout = Layout::of(&tp.page);
        let rules: Vec<Option<&str>> =
            (0..tp.page.boxes.len()).map(|i| features::rule_label(&tp.page, &layout, i).map(|r| r.0)).collect();
        for (i, label) in tp.labels.iter().enumerate().take(tp.page.boxes.len()) {
            let class = label.as_ref().and_then(|l| classes.iter().position(|c| c == l)).unwrap_or(0);
            examples.push(model::Example { feats: features::features(&tp.page, &layout, i, &rules), class });
        }
    }
    if examples.is_empty() {
        return None;
    }
    let mut model = LabelModel::train(&examples, classes, params);
    model.documents = pages.len() as u32;
    Some(model)
}

/// Precision, recall, F1 and support of one label.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Prf {
    pub precision: f32,
    pub recall: f32,
    pub f1: f32,
    pub support: usize,
}

/// How well predicted labels match reference labels, box by box.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct LabelScores {
    /// Per label present in the reference or the predictions.
    pub labels: BTreeMap<String, Prf>,
    /// Mean F1 over the labels present in the reference.
    pub label_macro_f1: f32,
    /// Share of boxes whose label (or absence of one) is right.
    pub label_accuracy: f32,
    pub label_boxes: usize,
}

impl LabelScores {
    /// Scores (reference, predicted) pairs; `None` is "no label".
    pub fn of(pairs: &[(Option<String>, Option<String>)]) -> LabelScores {
        let mut tp: BTreeMap<&str, usize> = BTreeMap::new();
        let mut fp: BTreeMap<&str, usize> = BTreeMap::new();
        let mut support: BTreeMap<&str, usize> = BTreeMap::new();
        let mut right = 0;
        for (gt, pred) in pairs {
            if gt == pred {
                right += 1;
            }
            if let Some(g) = gt {
                *support.entry(g).or_default() += 1;
                if pred.as_ref() == Some(g) {
                    *tp.entry(g).or_default() += 1;
                }
            }
            if let Some(p) = pred
                && gt.as_ref() != Some(p)
            {
                *fp.entry(p).or_default() += 1;
            }
        }
        let mut labels = BTreeMap::new();
        let names: std::collections::BTreeSet<&str> = support.keys().chain(fp.keys()).copied().collect();
        for name in names {
            let (t, f, s) = (
                tp.get(name).copied().unwrap_or(0),
                fp.get(name).copied().unwrap_or(0),
                support.get(name).copied().unwrap_or(0),
            );
            let precision = if t + f == 0 { 0.0 } else { t as f32 / (t + f) as f32 };
            let recall = if s == 0 { 0.0 } else { t as f32 / s as f32 };
            let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
            labels.insert(name.to_string(), Prf { precision, recall, f1, support: s });
        }
        let present: Vec<f32> = labels.values().filter(|p| p.support > 0).map(|p| p.f1).collect();
        LabelScores {
            label_macro_f1: if present.is_empty() { 0.0 } else { present.iter().sum::<f32>() / present.len() as f32 },
            label_accuracy: if pairs.is_empty() { 0.0 } else { right as f32 / pairs.len() as f32 },
            labels,
            label_boxes: pairs.len(),
        }
    }

    /// Restricted to the given reference labels (e.g. SROIE's four fields): other labels count
    /// as "no label" on both sides.
    pub fn only(pairs: &[(Option<String>, Option<String>)], keep: &[String]) -> LabelScores {
        let k = |l: &Option<String>| l.clone().filter(|l| keep.contains(l));
        LabelScores::of(&pairs.iter().map(|(g, p)| (k(g), k(p))).collect::<Vec<_>>())
    }

    pub fn to_table(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "{:<24} {:>6} {:>6} {:>6} {:>7}", "label", "prec", "rec", "f1", "support");
        for (name, p) in &self.labels {
            let _ = writeln!(s, "{:<24} {:>6.3} {:>6.3} {:>6.3} {:>7}", name, p.precision, p.recall, p.f1, p.support);
        }
        let _ = writeln!(
            s,
            "macro F1 {:.3} over the labels present | accuracy {:.3} over {} box(es)",
            self.label_macro_f1, self.label_accuracy, self.label_boxes
        );
        s
    }
}

/// Cross-validation by document: each page is labelled by a model trained on the others
/// (k folds, k = min(`folds`, pages)). Returns the scores over every box.
pub fn cross_validate(pages: &[TrainPage], folds: usize, params: &TrainParams) -> LabelScores {
    let k = folds.min(pages.len()).max(1);
    let labels = label_names(pages);
    let mut pairs = Vec::new();
    for fold in 0..k {
        let train_set: Vec<&TrainPage> =
            pages.iter().enumerate().filter(|(i, _)| i % k != fold || k == 1).map(|(_, p)| p).collect();
        let model = if k == 1 { None } else { train_on(&train_set, params) };
        let s = Suggester::new(labels.clone(), model);
        for tp in pages.iter().enumerate().filter(|(i, _)| i % k == fold).map(|(_, p)| p) {
            let got = s.suggest(&tp.page);
            for (gt, pred) in tp.labels.iter().zip(got) {
                pairs.push((gt.clone(), pred.map(|p| p.0)));
            }
        }
    }
    LabelScores::of(&pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Rect;

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn scores_count_labels_and_no_label() {
        let pairs =
            vec![(s("total"), s("total")), (s("total"), None), (None, s("date")), (None, None), (s("date"), s("date"))];
        let r = LabelScores::of(&pairs);
        assert_eq!(r.labels["total"], Prf { precision: 1.0, recall: 0.5, f1: 2.0 / 3.0, support: 2 });
        assert_eq!(r.labels["date"].precision, 0.5);
        assert_eq!(r.labels["date"].support, 1);
        assert!((r.label_macro_f1 - (2.0 / 3.0 + 2.0 / 3.0) / 2.0).abs() < 1e-6);
        assert!((r.label_accuracy - 3.0 / 5.0).abs() < 1e-6);
        let only = LabelScores::only(&pairs, &["total".to_string()]);
        assert!(!only.labels.contains_key("date"));
    }

    #[test]
    fn rules_answer_under_the_workspaces_own_names() {
        let page = Page {
            width: 1000.0,
            height: 1000.0,
            boxes: vec![
                PageBox { rect: Rect::new(600.0, 500.0, 700.0, 520.0), text: "TOTAL".into() },
                PageBox { rect: Rect::new(800.0, 500.0, 900.0, 520.0), text: "15.00".into() },
            ],
            links: vec![],
        };
        let sroie = Suggester::new(vec!["company".into(), "date".into(), "total".into()], None);
        assert_eq!(sroie.suggest(&page)[1].as_ref().map(|s| s.0.as_str()), Some("total"));
        let invoice = Suggester::new(vec!["total_amount".into(), "other_text".into()], None);
        assert_eq!(invoice.suggest(&page)[1].as_ref().map(|s| s.0.as_str()), Some("total_amount"));
        // a team without such a label gets nothing rather than a name it does not have
        assert_eq!(Suggester::new(vec!["x".into()], None).suggest(&page), vec![None, None]);
    }
}
