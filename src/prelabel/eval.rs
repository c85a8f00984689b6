//! Scores a proposal source against a folder of ground-truth JSON files with the one metrics
//! module: per-document and micro-averaged precision/recall/F1 at an IoU threshold, CER over
//! matched boxes when the source reads text, and source time per page.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::ProposalSource;
use crate::domain::Rect;
use crate::domain::box_style::CaptionEvidence;
use crate::formats::gt::{GroundTruth, gt_files_in};
use crate::labeling::LabelScores;
use crate::metrics::{CerCounts, Counts, auroc, cer_counts, cer_folded_counts, match_boxes};

/// Gives a label name (or none) to each proposal of the page `gt` describes: how `evaluate`
/// scores field-label suggestions.
pub type Labeller<'a> = dyn FnMut(&GroundTruth, &[super::Proposal]) -> Vec<Option<String>> + 'a;

/// Redraws the proposals of the page `gt` describes (its pixels given) before they are scored:
/// how `evaluate_styled` applies a learned box style.
pub type Styler<'a> = dyn FnMut(&GroundTruth, &image::DynamicImage, &mut Vec<super::Proposal>) + 'a;

/// Scores of one page.
#[derive(Debug, Clone, Serialize)]
pub struct DocReport {
    /// The image file name from the ground truth.
    pub name: String,
    pub gt: usize,
    pub pred: usize,
    pub matched: usize,
    pub precision: f32,
    pub recall: f32,
    pub f1: f32,
    pub mean_iou: f32,
    /// `None` when the source gave no text for this page.
    pub cer: Option<f32>,
    pub cer_folded: Option<f32>,
    /// Time spent inside the source, excluding image decoding.
    pub ms: f64,
}

/// Result of [`evaluate`]; totals are micro-averaged (summed counts, not mean of ratios).
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub source: String,
    pub iou: f32,
    /// Pages evaluated (skipped ones not counted).
    pub documents: usize,
    pub gt: usize,
    pub pred: usize,
    pub matched: usize,
    pub precision: f32,
    pub recall: f32,
    pub f1: f32,
    /// Total edits / total reference characters over matched boxes with text; `None` when
    /// the source produced no text at all.
    pub cer: Option<f32>,
    pub cer_folded: Option<f32>,
    /// How well the suggestions' scores rank lines read exactly right above lines read wrong
    /// (matched boxes with text; `None` when all are right, or all wrong).
    pub score_auroc: Option<f64>,
    /// Median IoU of the matched boxes.
    pub median_iou: Option<f32>,
    /// Mean source time per evaluated page, excluding image decoding.
    pub ms_per_page: f64,
    pub per_document: Vec<DocReport>,
    /// Files that could not be evaluated: (file name, reason).
    pub skipped: Vec<(String, String)>,
    /// With a labeller: per-label scores on matched boxes, macro F1 and accuracy.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub label_scores: Option<LabelScores>,
}

impl EvalReport {
    pub fn to_json(&self) -> String {
        // Plain numbers and strings (no maps with non-string keys) always serialise; a
        // non-finite float would become null rather than fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    pub fn to_table(&self) -> String {
        use std::fmt::Write;
        let opt = |v: Option<f32>| v.map_or("-".to_string(), |v| format!("{:.2}%", v * 100.0));
        let mut s = String::new();
        let _ = writeln!(
            s,
            "source {} | IoU {:.2} | {} documents | {:.1} ms/page (source only, decoding excluded)",
            self.source, self.iou, self.documents, self.ms_per_page
        );
        let _ = writeln!(
            s,
            "{:<28} {:>5} {:>5} {:>5} {:>6} {:>6} {:>6} {:>7} {:>7} {:>8}",
            "document", "gt", "pred", "match", "prec", "rec", "f1", "cer", "cer_f", "ms"
        );
        for d in &self.per_document {
            let _ = writeln!(
                s,
                "{:<28} {:>5} {:>5} {:>5} {:>6.3} {:>6.3} {:>6.3} {:>7} {:>7} {:>8.1}",
                truncate(&d.name, 28),
                d.gt,
                d.pred,
                d.matched,
                d.precision,
                d.recall,
                d.f1,
                opt(d.cer),
                opt(d.cer_folded),
                d.ms
            );
        }
        let _ = writeln!(
            s,
            "{:<28} {:>5} {:>5} {:>5} {:>6.3} {:>6.3} {:>6.3} {:>7} {:>7} {:>8.1}",
            "TOTAL",
            self.gt,
            self.pred,
            self.matched,
            self.precision,
            self.recall,
            self.f1,
            opt(self.cer),
            opt(self.cer_folded),
            self.ms_per_page
        );
        if let Some(l) = &self.label_scores {
            let _ = writeln!(s, "\nfield labels on matched boxes:");
            s.push_str(&l.to_table());
        }
        let _ = writeln!(
            s,
            "median IoU of matched boxes {} | score AUROC (exactly right vs not) {}",
            self.median_iou.map_or("-".into(), |v| format!("{v:.3}")),
            self.score_auroc.map_or("-".into(), |v| format!("{v:.3}"))
        );
        for (name, why) in &self.skipped {
            let _ = writeln!(s, "skipped {name}: {why}");
        }
        s
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { s.chars().take(n - 1).chain(['…']).collect() }
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Runs `source` over every image in `dir` that has a ground-truth JSON beside it and scores
/// its line proposals at `iou`. Unreadable JSON, missing or undecodable images and source
/// failures are listed in `skipped` by file name; only an unreadable `dir` is an error.
pub fn evaluate(dir: &Path, source: &mut dyn ProposalSource, iou: f32) -> anyhow::Result<EvalReport> {
    evaluate_labels(dir, source, iou, None)
}

/// [`evaluate`], and with `labeller`, the field labels it gives the proposals, scored on the
/// boxes matched to ground truth (unmatched boxes are the detector's score, not the labels').
pub fn evaluate_labels(
    dir: &Path,
    source: &mut dyn ProposalSource,
    iou: f32,
    labeller: Option<&mut Labeller<'_>>,
) -> anyhow::Result<EvalReport> {
    evaluate_styled(dir, source, iou, labeller, None)
}

/// [`evaluate_labels`], with each page's proposals first redrawn by `styler` (a box style
/// learned from other ground truth); styling is not counted in the source's time.
pub fn evaluate_styled(
    dir: &Path,
    source: &mut dyn ProposalSource,
    iou: f32,
    mut labeller: Option<&mut Labeller<'_>>,
    mut styler: Option<&mut Styler<'_>>,
) -> anyhow::Result<EvalReport> {
    let mut label_pairs: Vec<(Option<String>, Option<String>)> = Vec::new();
    let mut scored: Vec<(f32, bool)> = Vec::new();
    let mut ious: Vec<f32> = Vec::new();
    let files = gt_files_in(dir).map_err(|e| anyhow::anyhow!("{}: cannot list ground truth: {e}", dir.display()))?;
    let mut per_document = Vec::new();
    let mut skipped = Vec::new();
    let (mut total, mut total_ms) = (Counts::default(), 0.0f64);
    let (mut cer_all, mut cer_fold_all, mut any_text) = (CerCounts::default(), CerCounts::default(), false);
    for json in files {
        let gt = match GroundTruth::load(&json) {
            Ok(gt) => gt,
            Err(e) => {
                skipped.push((file_name(&json), e.to_string()));
                continue;
            }
        };
        let name = match gt.page {
            Some(p) => format!("{} p{p}", gt.image),
            None => gt.image.clone(),
        };
        let (mut props, ms, img) = match run_source(source, &gt, &gt.image_path(&json), &json) {
            Ok(r) => r,
            Err(why) => {
                skipped.push((name, why));
                continue;
            }
        };
        if let Some(styler) = styler.as_mut() {
            // a PDF read by the source itself was not rendered yet
            let img = match img {
                Some(img) => img,
                None => match page_image(&gt, &json) {
                    Ok(img) => img,
                    Err(why) => {
                        skipped.push((name, why));
                        continue;
                    }
                },
            };
            styler(&gt, &img, &mut props);
        }
        let gt_rects: Vec<Rect> = gt.boxes.iter().map(|b| b.rect()).collect();
        let pred_rects: Vec<Rect> = props.iter().map(|p| p.rect).collect();
        let m = match_boxes(&gt_rects, &pred_rects, iou);
        let c = m.counts();
        if let Some(labeller) = labeller.as_mut() {
            let got = labeller(&gt, &props);
            for pair in &m.pairs {
                let gt_label = gt.boxes[pair.gt].label.clone().filter(|l| !l.is_empty());
                let pred = got.get(pair.pred).cloned().flatten();
                label_pairs.push((gt_label, pred));
            }
        }
        let has_text = props.iter().any(|p| p.text.is_some());
        let (mut dc, mut dcf) = (CerCounts::default(), CerCounts::default());
        if has_text {
            for pair in &m.pairs {
                let hyp = props[pair.pred].text.as_deref().unwrap_or("");
                let reference = &gt.boxes[pair.gt].text;
                scored.push((props[pair.pred].score, crate::metrics::fold(hyp) == crate::metrics::fold(reference)));
                dc += cer_counts(reference, hyp);
                dcf += cer_folded_counts(reference, hyp);
            }
            cer_all += dc;
            cer_fold_all += dcf;
            any_text = true;
        }
        ious.extend(m.pairs.iter().map(|p| p.iou));
        total += c;
        total_ms += ms;
        per_document.push(DocReport {
            name,
            gt: c.gt,
            pred: c.pred,
            matched: c.matched,
            precision: c.precision(),
            recall: c.recall(),
            f1: c.f1(),
            mean_iou: m.mean_iou(),
            cer: has_text.then(|| dc.rate()),
            cer_folded: has_text.then(|| dcf.rate()),
            ms,
        });
    }
    let documents = per_document.len();
    Ok(EvalReport {
        source: source.name(),
        iou,
        documents,
        gt: total.gt,
        pred: total.pred,
        matched: total.matched,
        precision: total.precision(),
        recall: total.recall(),
        f1: total.f1(),
        cer: any_text.then(|| cer_all.rate()),
        cer_folded: any_text.then(|| cer_fold_all.rate()),
        score_auroc: auroc(&scored),
        median_iou: {
            ious.sort_by(f32::total_cmp);
            ious.get(ious.len() / 2).copied()
        },
        ms_per_page: if documents == 0 { 0.0 } else { total_ms / documents as f64 },
        per_document,
        skipped,
        label_scores: labeller.is_some().then(|| LabelScores::of(&label_pairs)),
    })
}

/// Runs `source` on the page `gt` describes: a source that reads PDFs itself gets the file,
/// any other the page as pixels (a PDF page rendered at the ground truth's size). Returns the
/// proposals, the time spent in the source alone (decoding and rendering excluded) and the
/// page's pixels when they were decoded.
fn run_source(
    source: &mut dyn ProposalSource,
    gt: &GroundTruth,
    path: &Path,
    json: &Path,
) -> Result<(Vec<super::Proposal>, f64, Option<image::DynamicImage>), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot open: {e}"))?;
    if crate::pdf::is_pdf(&bytes) {
        let start = Instant::now();
        if let Some(r) = source.propose_pdf(&bytes, gt.page_index(), (gt.width, gt.height)) {
            let props = r.map_err(|e| format!("source failed: {e:#}"))?;
            return Ok((props, start.elapsed().as_secs_f64() * 1000.0, None));
        }
    }
    let img = decode_page(&bytes, gt, json)?;
    let start = Instant::now();
    let props = source.propose(&img).map_err(|e| format!("source failed: {e:#}"))?;
    Ok((props, start.elapsed().as_secs_f64() * 1000.0, Some(img)))
}

/// The pixels of the page the ground truth `json` describes (a PDF page rendered at its size).
pub fn page_image(gt: &GroundTruth, json: &Path) -> Result<image::DynamicImage, String> {
    let bytes = std::fs::read(gt.image_path(json)).map_err(|e| format!("cannot open: {e}"))?;
    decode_page(&bytes, gt, json)
}

fn decode_page(bytes: &[u8], gt: &GroundTruth, json: &Path) -> Result<image::DynamicImage, String> {
    let (page, size) = (gt.page_index(), (gt.width, gt.height));
    let img = if crate::pdf::is_pdf(bytes) {
        crate::pdf::render(bytes, page, size).map_err(|e| format!("cannot render: {e}"))?
    } else {
        // upright, as import measures it (ground truth is drawn on the page as it is shown)
        use image::ImageDecoder;
        let mut dec = image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| format!("cannot open: {e}"))?
            .into_decoder()
            .map_err(|e| format!("cannot decode: {e}"))?;
        let orientation = dec.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
        let mut img = image::DynamicImage::from_decoder(dec).map_err(|e| format!("cannot decode: {e}"))?;
        img.apply_orientation(orientation);
        img
    };
    if (img.width(), img.height()) != size {
        return Err(format!(
            "image is {}x{} but {} says {}x{}",
            img.width(),
            img.height(),
            file_name(json),
            gt.width,
            gt.height
        ));
    }
    Ok(img)
}

/// Every readable ground-truth page in `dir` as (page key, its boxes measured against their
/// ink): what a box style is learned from. Pages whose image cannot be read are left out
/// (the evaluation reports them).
pub fn style_samples(dir: &Path) -> anyhow::Result<Vec<(String, Vec<super::boxstyle::Sample>)>> {
    let files = gt_files_in(dir).map_err(|e| anyhow::anyhow!("{}: cannot list ground truth: {e}", dir.display()))?;
    let mut out = Vec::new();
    for json in files {
        let Ok(gt) = GroundTruth::load(&json) else { continue };
        let Ok(img) = page_image(&gt, &json) else { continue };
        let rects: Vec<Rect> = gt.boxes.iter().map(|b| b.rect()).collect();
        out.push((page_key(&gt), super::boxstyle::measure(&img.into_rgb8(), &rects)));
    }
    Ok(out)
}

/// Every readable ground-truth page in `dir` as (page key, what its boxes show about captions
/// and values, see [`super::boxstyle::captions::evidence`]): what the caption convention is
/// learned from. Only texts and places are read, no images.
pub fn caption_evidence(dir: &Path) -> anyhow::Result<Vec<(String, CaptionEvidence)>> {
    let files = gt_files_in(dir).map_err(|e| anyhow::anyhow!("{}: cannot list ground truth: {e}", dir.display()))?;
    let mut out = Vec::new();
    for json in files {
        let Ok(gt) = GroundTruth::load(&json) else { continue };
        let e = super::boxstyle::captions::evidence(gt.boxes.iter().map(|b| (b.rect(), b.text.as_str())));
        out.push((page_key(&gt), e));
    }
    Ok(out)
}

/// How a ground-truth page is named among others: its image (and page).
pub fn page_key(gt: &GroundTruth) -> String {
    format!("{}#{}", gt.image, gt.page_index())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelabel::{Level, Proposal};

    #[test]
    fn scores_a_folder_and_names_what_it_skipped() {
        let dir = tempfile::tempdir().unwrap();
        image::RgbImage::new(100, 50).save(dir.path().join("a.png")).unwrap();
        std::fs::write(
            dir.path().join("a.json"),
            r#"{"image":"a.png","width":100,"height":50,"boxes":[
                {"x0":1,"y0":1,"x1":40,"y1":10,"text":"TOTAL"},
                {"x0":1,"y0":20,"x1":40,"y1":30,"text":"12,50 €"}]}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("b.json"), r#"{"image":"missing.png","width":1,"height":1,"boxes":[]}"#)
            .unwrap();
        std::fs::write(dir.path().join("c.json"), "{oops").unwrap();
        let mut src = Scored(vec![
            (Rect::new(1.0, 1.0, 40.0, 10.0), "Total".into(), 1.0),
            (Rect::new(1.0, 20.0, 40.0, 30.0), "12,50 €".into(), 1.0),
            (Rect::new(60.0, 20.0, 90.0, 30.0), "x".into(), 1.0),
        ]);
        let r = evaluate(dir.path(), &mut src, 0.5).unwrap();
        assert_eq!(r.documents, 1);
        assert_eq!((r.gt, r.pred, r.matched), (2, 3, 2));
        assert!((r.precision - 2.0 / 3.0).abs() < 1e-6 && r.recall == 1.0);
        assert_eq!(r.cer_folded, Some(0.0));
        assert!((r.cer.unwrap() - 4.0 / 12.0).abs() < 1e-6, "OTAL vs otal over 12 chars");
        let names: Vec<&str> = r.skipped.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(names, ["missing.png", "c.json"]);

        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        for key in ["source", "documents", "precision", "recall", "f1", "cer", "cer_folded", "ms_per_page"] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert_eq!(json["per_document"][0]["name"], "a.png");
        assert!(r.to_table().contains("TOTAL"));
    }

    /// Reads what it is given, each line with its own score.
    struct Scored(Vec<(Rect, String, f32)>);

    impl ProposalSource for Scored {
        fn name(&self) -> String {
            "scored".into()
        }
        fn propose(&mut self, _: &image::DynamicImage) -> anyhow::Result<Vec<Proposal>> {
            Ok(self
                .0
                .iter()
                .map(|(r, t, s)| Proposal {
                    rect: *r,
                    quad: None,
                    text: Some(t.clone()),
                    score: *s,
                    level: Level::Line,
                })
                .collect())
        }
    }

    #[test]
    fn scores_that_rank_wrong_readings_last_have_an_auroc_of_one_and_ious_a_median() {
        let dir = tempfile::tempdir().unwrap();
        image::RgbImage::new(100, 60).save(dir.path().join("a.png")).unwrap();
        std::fs::write(
            dir.path().join("a.json"),
            r#"{"image":"a.png","width":100,"height":60,"boxes":[
                {"x0":0,"y0":0,"x1":40,"y1":10,"text":"TOTAL"},
                {"x0":0,"y0":20,"x1":40,"y1":30,"text":"12,50"},
                {"x0":0,"y0":40,"x1":40,"y1":50,"text":"Datum"}]}"#,
        )
        .unwrap();
        let (a, b, c) =
            (Rect::new(0.0, 0.0, 40.0, 10.0), Rect::new(0.0, 20.0, 40.0, 30.0), Rect::new(0.0, 40.0, 40.0, 52.0));
        // "Total" is right once case is folded; "12,60" is wrong and scored lowest
        let mut src = Scored(vec![(a, "Total".into(), 0.9), (b, "12,60".into(), 0.4), (c, "Datum".into(), 0.8)]);
        let r = evaluate(dir.path(), &mut src, 0.5).unwrap();
        assert_eq!(r.score_auroc, Some(1.0));
        assert_eq!(r.median_iou, Some(1.0));
        let mut inverted = Scored(vec![(a, "Total".into(), 0.1), (b, "12,60".into(), 0.9), (c, "Datum".into(), 0.2)]);
        assert_eq!(evaluate(dir.path(), &mut inverted, 0.5).unwrap().score_auroc, Some(0.0));
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(json["score_auroc"], 1.0);
    }

    #[test]
    fn a_source_without_text_reports_null_cer() {
        let dir = tempfile::tempdir().unwrap();
        image::GrayImage::new(10, 10).save(dir.path().join("p.png")).unwrap();
        std::fs::write(dir.path().join("p.json"), r#"{"image":"p.png","width":10,"height":10,"boxes":[]}"#).unwrap();
        let r = evaluate(dir.path(), &mut crate::prelabel::cv::CvSource::default(), 0.5).unwrap();
        assert_eq!(r.documents, 1);
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert!(json["cer"].is_null() && json["cer_folded"].is_null());
    }
}
