//! Pre-annotation from the command line: prelabel, accept, eval.

use std::path::Path;

use crate::store::Workspace;

use anyhow::{Context, Result, bail};

use super::args::ModelArgs;
use super::{Reported, open_write, report_failures, say, warn};
use crate::app::Session;
use crate::domain::DocId;
use crate::store::{DocFilter, Store};

/// The documents a command works on: one, or every document still being annotated.
fn documents(store: &Store, doc: Option<i64>) -> Result<Vec<DocId>> {
    Ok(match doc {
        Some(d) => vec![store.document(DocId(d))?.id],
        None => store
            .documents(&DocFilter::default())?
            .into_iter()
            .filter(|d| d.status.is_editable_by_annotator())
            .map(|d| d.id)
            .collect(),
    })
}

/// A named person, who must exist (a typo must not create anyone).
fn person(store: &Store, name: &str) -> Result<crate::domain::User> {
    store
        .user_by_name(name)?
        .with_context(|| format!("no user named '{name}' in this workspace (see `facture users WORKSPACE list`)"))
}

pub fn prelabel(ws: &Workspace, source: &str, doc: Option<i64>, user: Option<&str>, model: &ModelArgs) -> Result<()> {
    use crate::app::prelabel_job::{JobControl, JobEvent, JobKind, run};
    let kind = match source {
        "cv" => JobKind::Cv(Default::default()),
        "model" => JobKind::Model(model.config()),
        "pdf-text" => JobKind::PdfText,
        "best" => JobKind::BestAvailable(model.config()),
        other => bail!("unknown source '{other}' (expected cv, model, pdf-text or best)"),
    };
    let store = open_write(ws)?;
    let docs = documents(&store, doc)?;
    let session = match user {
        Some(name) => {
            let u = person(&store, name)?;
            Session::new(store, u)
        }
        None => Session::machine(store),
    };
    let (tx, rx) = crossbeam_channel::unbounded();
    // progress is for a person watching; scripts get the summary and one line per failure
    let show_progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let printer = std::thread::spawn(move || {
        let mut failed = Vec::new();
        for ev in rx {
            match ev {
                JobEvent::DocFailed { doc, reason } => failed.push((format!("document {doc}"), reason)),
                JobEvent::Progress { done, total, phase } if show_progress && phase != "done" => {
                    let _ = {
                        use std::io::Write as _;
                        writeln!(std::io::stderr(), "[{}/{total}] {phase}", done + 1)
                    };
                }
                _ => {}
            }
        }
        failed
    });
    let control = JobControl::default();
    let result = run(session, &docs, kind, &control, &tx);
    drop(tx);
    let failed = printer.join().unwrap_or_default();
    let summary = result.map_err(anyhow::Error::msg)?;
    say!("{summary}");
    report_failures(&failed, "document(s)")
}

pub fn accept(ws: &Workspace, source: &str, doc: Option<i64>, min_score: f32, user: &str) -> Result<()> {
    use crate::app::accept::{SourceFilter, accept_suggestions};
    let filter: SourceFilter = source.parse().map_err(anyhow::Error::msg)?;
    if !(0.0..=1.0).contains(&min_score) {
        bail!("--min-score {min_score}: expected a confidence between 0 and 1");
    }
    let store = open_write(ws)?;
    let docs = documents(&store, doc)?;
    let u = person(&store, user)?;
    let mut session = Session::new(store, u);
    let report = accept_suggestions(&mut session, &docs, filter, min_score)?;
    say!("{}", report.summary());
    let failed: Vec<(String, String)> =
        report.failed.iter().map(|(d, why)| (format!("document {d}"), why.clone())).collect();
    report_failures(&failed, "document(s)")
}

/// `eval --labels`: where the label model learns from.
pub struct LabelEval {
    pub train: Vec<std::path::PathBuf>,
    pub leave_one_out: bool,
}

/// The ground truth of a folder as training pages, keyed by image (and page).
fn gt_pages(dir: &Path) -> Result<Vec<(String, crate::labeling::TrainPage)>> {
    use crate::formats::gt::{GroundTruth, gt_files_in};
    use crate::labeling::TrainPage;
    let files = gt_files_in(dir).with_context(|| format!("{}: cannot list ground truth", dir.display()))?;
    let mut out = Vec::new();
    for f in files {
        // unreadable files are reported by the evaluation itself; training skips them
        let Ok(gt) = GroundTruth::load(&f) else { continue };
        out.push((gt_key(&gt), TrainPage::from_gt(&gt)));
    }
    Ok(out)
}

fn gt_key(gt: &crate::formats::gt::GroundTruth) -> String {
    format!("{}#{}", gt.image, gt.page_index())
}

/// `eval --train` / `--leave-one-out`: where the box style applied to the source's boxes is
/// learned from.
pub struct StyleEval {
    pub train: Vec<std::path::PathBuf>,
    pub leave_one_out: bool,
}

/// Redraws each page's proposals in the box style learned from the `--train` folders (and with
/// `--leave-one-out`, the other pages of `gt`): lines read as a caption and its value cut in
/// two when that ground truth boxes them apart, then the padding; says on stderr what it
/// learned.
fn styler(gt: &Path, se: &StyleEval) -> Result<Box<crate::prelabel::eval::Styler<'static>>> {
    use crate::app::boxstyle::captions_learned;
    use crate::domain::box_style::{CaptionConvention, CaptionEvidence};
    use crate::prelabel::boxstyle::{MIN_SAMPLES, Sample, learn, restyle_proposals};
    use crate::prelabel::eval::{caption_evidence, page_key, style_samples};
    let own = if se.leave_one_out { style_samples(gt)? } else { Vec::new() };
    let own_captions = if se.leave_one_out { caption_evidence(gt)? } else { Vec::new() };
    let mut train: Vec<Sample> = Vec::new();
    let mut train_captions = CaptionEvidence::default();
    for dir in &se.train {
        train.extend(style_samples(dir)?.into_iter().flat_map(|(_, s)| s));
        train_captions += caption_evidence(dir)?.into_iter().map(|(_, e)| e).sum();
    }
    let all: Vec<Sample> = own.iter().flat_map(|(_, s)| s.iter().copied()).chain(train.iter().copied()).collect();
    let Some((overall, n)) = learn(&all) else {
        bail!(
            "--train/--leave-one-out: {} ground-truth box(es) with clear ink, at least {MIN_SAMPLES} are needed to learn a box style",
            all.len()
        );
    };
    let all_captions = own_captions.iter().map(|(_, e)| *e).sum::<CaptionEvidence>() + train_captions;
    if se.leave_one_out {
        warn(format_args!(
            "box style learned per page from the other pages (all pages: {overall} L,T,R,B line heights, {n} boxes; {})",
            captions_learned(&all_captions)
        ));
    } else {
        warn(format_args!(
            "box style learned from {n} boxes: {overall} (L,T,R,B in line heights); {}",
            captions_learned(&all_captions)
        ));
    }
    let leave_one_out = se.leave_one_out;
    Ok(Box::new(
        move |g: &crate::formats::gt::GroundTruth,
              img: &image::DynamicImage,
              props: &mut Vec<crate::prelabel::Proposal>| {
            let (style, captions) = if leave_one_out {
                let key = page_key(g);
                let rest: Vec<Sample> = own
                    .iter()
                    .filter(|(k, _)| *k != key)
                    .flat_map(|(_, s)| s.iter().copied())
                    .chain(train.iter().copied())
                    .collect();
                let captions = own_captions.iter().filter(|(k, _)| *k != key).map(|(_, e)| *e).sum::<CaptionEvidence>()
                    + train_captions;
                (learn(&rest).map(|(style, _)| style), captions)
            } else {
                (Some(overall), all_captions)
            };
            let split = captions.convention() == Some(CaptionConvention::Split);
            if style.is_none() && !split {
                return;
            }
            let rgb = img.to_rgb8();
            *props = restyle_proposals(&rgb, std::mem::take(props), style.as_ref(), split);
        },
    ))
}

pub fn eval(
    gt: &Path,
    source: &str,
    iou: f32,
    json: bool,
    labels: Option<LabelEval>,
    style: Option<StyleEval>,
    model: &ModelArgs,
) -> Result<()> {
    if !(iou > 0.0 && iou <= 1.0) {
        bail!("--iou {iou}: expected a threshold above 0 and at most 1");
    }
    let mut src: Box<dyn crate::prelabel::ProposalSource> = match source {
        "cv" => Box::new(crate::prelabel::cv::CvSource::default()),
        "model" => Box::new(crate::prelabel::model::ModelSource::load(&model.config())?),
        "pdf-text" => Box::new(crate::prelabel::pdftext::PdfTextSource),
        other => bail!("unknown source '{other}' (expected cv, model or pdf-text)"),
    };
    use crate::labeling::{Page, PageBox, Suggester, TrainParams};
    let mut labeller = match labels {
        None => None,
        Some(le) => {
            let own = gt_pages(gt)?;
            let mut train = Vec::new();
            for dir in &le.train {
                train.extend(gt_pages(dir)?.into_iter().map(|(_, p)| p));
            }
            if !le.train.is_empty() && train.is_empty() {
                bail!(
                    "--train: no ground truth with labelled text in {}",
                    le.train.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
                );
            }
            let names = crate::labeling::label_names(own.iter().map(|p| &p.1).chain(&train));
            let params = TrainParams::default();
            // one suggester for every page, unless each page needs a model without itself
            let fixed = (!le.leave_one_out).then(|| {
                let model = (!train.is_empty()).then(|| crate::labeling::train(&train, &params)).flatten();
                Suggester::new(names.clone(), model)
            });
            Some(move |g: &crate::formats::gt::GroundTruth, props: &[crate::prelabel::Proposal]| {
                let own_model;
                let suggester = match &fixed {
                    Some(s) => s,
                    None => {
                        let key = gt_key(g);
                        let rest: Vec<_> =
                            own.iter().filter(|(k, _)| *k != key).map(|(_, p)| p).chain(train.iter()).collect();
                        own_model = Suggester::new(names.clone(), crate::labeling::train_on(&rest, &params));
                        &own_model
                    }
                };
                let page = Page {
                    width: g.width as f32,
                    height: g.height as f32,
                    boxes: props
                        .iter()
                        .map(|p| PageBox { rect: p.rect, text: p.text.clone().unwrap_or_default() })
                        .collect(),
                    links: vec![],
                };
                suggester.suggest(&page).into_iter().map(|s| s.map(|s| s.0)).collect()
            })
        }
    };
    let mut styler = style.map(|se| styler(gt, &se)).transpose()?;
    let report = crate::prelabel::eval::evaluate_styled(
        gt,
        src.as_mut(),
        iou,
        labeller.as_mut().map(|l| l as &mut crate::prelabel::eval::Labeller<'_>),
        styler.as_deref_mut(),
    )?;
    if report.documents == 0 {
        let first = report.skipped.first().map_or(String::from("no .json files"), |(_, why)| why.clone());
        bail!(
            "{}: nothing to evaluate: no readable ground truth with its image ({} file(s) skipped; first: {first})",
            gt.display(),
            report.skipped.len()
        );
    }
    if json {
        say!("{}", report.to_json());
    } else {
        say!("{}", report.to_table().trim_end());
    }
    if !report.skipped.is_empty() {
        for (file, reason) in &report.skipped {
            warn(format_args!("skipped {file}: {reason}"));
        }
        return Err(Reported(format!("{} file(s) skipped", report.skipped.len())).into());
    }
    Ok(())
}

/// `train-labels`: trains the workspace's label model now and prints its cross-validated report.
pub fn train_labels(ws: &Workspace, json: bool) -> Result<()> {
    let mut store = open_write(ws)?;
    let report = crate::app::labels::train_workspace(&mut store, crate::app::commands::system_now_ms())?;
    if json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        say!("{}", report.to_table().trim_end());
    }
    Ok(())
}
