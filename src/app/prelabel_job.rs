//! Pre-annotation jobs: CV proposals or the OCR model over one document or a whole queue, on
//! a worker thread with its own connection to the workspace, applying suggestions through the
//! same command layer as the UI. The UI polls [`JobEvent`]s and reloads what changed.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, unbounded};

use crate::app::boxstyle::SuggestionStyle;
use crate::app::labels::{Loaded, Targets, suggest_for_page};
use crate::app::{Command, Outcome, Session, SuggestionInput};
use crate::domain::{AnnId, AnnState, Annotation, Change, DocId, Edit, EditId, Quad, Rect, Source, User};
use crate::prelabel::Proposal;
use crate::prelabel::cv::{CvConfig, propose};
use crate::prelabel::model::det::DetectedBox;
use crate::prelabel::model::{Line, ModelConfig, ModelSource, RecPrecision, cell_plan, line_proposals, may_cut};
use crate::store::{Store, Workspace};

/// Suggestions overlapping an existing box this much (IoU) are not added.
pub const SKIP_IOU: f32 = 0.3;

/// Which pre-annotation to run.
#[derive(Debug, Clone)]
pub enum JobKind {
    Cv(CvConfig),
    Model(ModelConfig),
    /// Re-read the text of these boxes (all machine-made or empty ones if empty list).
    Reread {
        config: ModelConfig,
        boxes: Vec<AnnId>,
    },
    /// A PDF page's own text layer: exact text and boxes, no model.
    PdfText,
    /// Per page, the best there is: the text layer of a born-digital PDF page, else the model
    /// pass (a scan, a PDF without text, or one with only an invisible OCR layer).
    BestAvailable(ModelConfig),
    /// Field labels for the boxes that have none, from the rules and the workspace's model
    /// (each page one undoable step).
    Labels,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    /// `done` of `total` documents finished; `phase` says what runs now.
    Progress {
        done: usize,
        total: usize,
        phase: String,
    },
    /// Suggestions or text on this document changed: reload it.
    Changed(DocId),
    /// A document could not be processed (the job goes on with the next).
    DocFailed {
        doc: DocId,
        reason: String,
    },
    Finished {
        summary: String,
    },
    /// The job could not run at all (e.g. the model pass is not available).
    Failed(String),
}

/// What the UI tells a running job: stop, and which boxes the annotator has in hand.
#[derive(Debug, Default)]
pub struct JobControl {
    cancel: AtomicBool,
    held: Mutex<Vec<AnnId>>,
}

impl JobControl {
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Boxes the annotator has selected (and may be typing into): a model pass leaves them
    /// as they are instead of replacing them with its read lines.
    pub fn hold(&self, ids: &[AnnId]) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.as_slice() != ids {
            *held = ids.to_vec();
        }
    }

    fn held(&self) -> Vec<AnnId> {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A running job: events to poll, and its control.
pub struct JobHandle {
    pub events: Receiver<JobEvent>,
    pub control: Arc<JobControl>,
}

impl JobHandle {
    pub fn cancel(&self) {
        self.control.cancel();
    }
}

/// Starts a job on a worker thread.
pub fn spawn(workspace: Workspace, user: User, docs: Vec<DocId>, kind: JobKind) -> JobHandle {
    let (tx, rx) = unbounded();
    let control = Arc::new(JobControl::default());
    let worker = control.clone();
    std::thread::spawn(move || {
        let result = Store::connect(&workspace)
            .map_err(|e| e.to_string())
            .and_then(|store| run(Session::new(store, user), &docs, kind, &worker, &tx));
        let _ = tx.send(match result {
            Ok(summary) => JobEvent::Finished { summary },
            Err(e) => JobEvent::Failed(e),
        });
    });
    JobHandle { events: rx, control }
}

fn to_inputs(ps: &[Proposal]) -> Vec<SuggestionInput> {
    ps.iter()
        .map(|p| SuggestionInput { rect: p.rect, quad: p.quad, text: p.text.clone(), score: p.score, label: None })
        .collect()
}

/// Proposals redrawn in the workspace's box style: with the caption convention *split*, a line
/// read as a caption and its value cut in two at the blank between them; then each
/// axis-aligned rect at the ink inside it plus the style's padding (a skewed line keeps its
/// quad; no style changes nothing).
fn styled(ps: Vec<Proposal>, page: &image::DynamicImage, style: SuggestionStyle) -> Vec<Proposal> {
    style.apply(page, ps)
}

/// Read lines are written to the workspace in batches of this many lines (or sooner, see
/// [`STREAM_EVERY`]): each batch is a durable edit, so text fills the page as it is read.
pub const STREAM_LINES: usize = 12;
/// …or when this much time has passed since the last batch.
pub const STREAM_EVERY: Duration = Duration::from_millis(150);

/// The model pass on one page, streamed: the detected boxes are written at once (one `Do`
/// edit, `shown` is called so the UI can draw them), then each batch of read lines replaces
/// its boxes by the final ones (split at wide gaps, shrunk to the ink, with text) in an edit
/// that continues the first, so one undo removes the whole pass. A detected box the
/// annotator touched meanwhile (moved, typed in, labelled, accepted or rejected) is left as
/// it is and its reading dropped. Returns the number of line suggestions the pass left.
fn stream_model_pass(
    session: &mut Session,
    model: &mut ModelSource,
    (doc, page): (DocId, &image::DynamicImage),
    (source, style): (&Source, SuggestionStyle),
    control: &JobControl,
    shown: &dyn Fn(),
) -> Result<(usize, Option<EditId>), String> {
    // detection, reading and every batch's ink tightening want RGB: convert a grey or 16-bit
    // scan once here, not in each of them
    let converted;
    let page = match page {
        image::DynamicImage::ImageRgb8(_) => page,
        other => {
            converted = image::DynamicImage::ImageRgb8(other.to_rgb8());
            &converted
        }
    };
    let boxes = model.detect_boxes(page).map_err(|e| e.to_string())?;
    let proposals: Vec<Proposal> = boxes.iter().map(DetectedBox::proposal).collect();
    // Machine suggestions an earlier pass (CV, or another model) left untouched are taken over
    // where this pass found lines: replaced by the read lines in the same step. Those a person
    // touched, and those no line overlaps, keep their geometry and get their text read below.
    let existing = session.store().annotations(doc).map_err(|e| e.to_string())?;
    let held = control.held();
    let taken_over: Vec<AnnId> = existing
        .iter()
        .filter(|a| is_untouched_suggestion(a) && !held.contains(&a.id))
        .filter(|a| proposals.iter().any(|p| overlaps(&a.rect, &p.rect)))
        .map(|a| a.id)
        .collect();
    let items = to_inputs(&proposals);
    let first_step = if taken_over.is_empty() {
        Command::AddSuggestions { doc, source: source.clone(), items, skip_iou: SKIP_IOU }
    } else {
        Command::ReplaceSuggestions {
            doc,
            remove: taken_over,
            pass_boxes: vec![],
            source: source.clone(),
            items,
            skip_iou: SKIP_IOU,
        }
    };
    let first = session.apply(first_step).map_err(|e| e.to_string())?;
    let Outcome::Applied(head) = first else {
        // every detected line overlaps a box that is already there
        return read_machine_suggestions(session, model, doc, page, source, &held, None).map(|n| (n, None));
    };
    let created = created_for(&proposals, &head);
    shown();

    let config = model.config().clone();
    let mut pending: Vec<(usize, Line)> = Vec::new();
    let mut last_write = Instant::now();
    let mut written = 0usize;
    let mut failure: Option<String> = None;
    let mut write = |session: &mut Session, pending: &mut Vec<(usize, Line)>| -> Result<(), String> {
        let current = session.store().annotations(doc).map_err(|e| e.to_string())?;
        let (remove, lines) = untouched_lines(&created, &current, &control.held(), std::mem::take(pending));
        if remove.is_empty() {
            return Ok(());
        }
        // the pass's other boxes still waiting for their text do not block these lines
        let pass_boxes: Vec<AnnId> = created.iter().flatten().filter(|a| current.contains(a)).map(|a| a.id).collect();
        let items = to_inputs(&styled(line_proposals(&config, page, &lines), page, style));
        let cmd =
            Command::ReplaceSuggestions { doc, remove, pass_boxes, source: source.clone(), items, skip_iou: SKIP_IOU };
        let out = session.continue_edit(head.id, cmd).map_err(|e| e.to_string())?;
        written += out.created_boxes().len();
        shown();
        Ok(())
    };
    // lines with a gap that may be between cells wait until the whole page is read: whether
    // they are cut depends on the page's word space, and their parts are read once the model
    // is free. The rest are written as they come.
    let mut streamed: Vec<Line> = Vec::new();
    let mut may_cut_lines: Vec<(usize, Line)> = Vec::new();
    model
        .read_boxes(page, &boxes, &mut |done| {
            for (i, line) in done.iter().cloned() {
                if may_cut(&config, page, &line) {
                    may_cut_lines.push((i, line));
                } else {
                    streamed.push(line.clone());
                    pending.push((i, line));
                }
            }
            if pending.len() >= STREAM_LINES || last_write.elapsed() >= STREAM_EVERY {
                if let Err(e) = write(session, &mut pending) {
                    failure = Some(e);
                    return ControlFlow::Break(());
                }
                last_write = Instant::now();
            }
            if control.is_cancelled() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })
        .map_err(|e| e.to_string())?;
    if let Some(e) = failure {
        return Err(e);
    }
    let (index, mut lines): (Vec<usize>, Vec<Line>) = may_cut_lines.into_iter().unzip();
    if !control.is_cancelled() && !lines.is_empty() {
        let plan = cell_plan(&config, page, &lines, &streamed);
        model.read_parts(page, &mut lines, plan).map_err(|e| e.to_string())?;
    }
    pending.extend(index.into_iter().zip(lines));
    write(session, &mut pending)?;
    if control.is_cancelled() {
        return Ok((written, Some(head.id)));
    }
    let read = read_machine_suggestions(session, model, doc, page, source, &control.held(), Some(head.id))?;
    Ok((written + read, Some(head.id)))
}

fn applied_id(out: &Outcome) -> Option<EditId> {
    match out {
        Outcome::Applied(e) => Some(e.id),
        Outcome::NoChange => None,
    }
}

/// Suggests labels for the page's boxes that have none, continuing `head`'s step when given.
/// Returns how many boxes got one.
fn label_page(
    session: &mut Session,
    labeller: &Loaded,
    doc: DocId,
    targets: Targets,
    head: Option<EditId>,
) -> Result<usize, String> {
    let d = session.store().document(doc).map_err(|e| e.to_string())?;
    let anns = session.store().annotations(doc).map_err(|e| e.to_string())?;
    let links = session.store().links(doc).map_err(|e| e.to_string())?;
    let labels = suggest_for_page(labeller, d.width, d.height, &anns, &links, targets);
    if labels.is_empty() {
        return Ok(0);
    }
    let cmd = Command::SuggestLabels { doc, labels };
    let out = match head {
        Some(h) => session.continue_edit(h, cmd),
        None => session.apply(cmd),
    }
    .map_err(|e| e.to_string())?;
    Ok(match out {
        Outcome::Applied(e) => e.changes.iter().filter(|c| matches!(c, Change::Annotation { .. })).count(),
        Outcome::NoChange => 0,
    })
}

/// A suggestion exactly as a machine made it: not accepted, no label but a machine's, text empty or
/// machine-read, and never moved or edited (a person's change bumps `updated_ms`).
fn is_untouched_suggestion(a: &Annotation) -> bool {
    a.state == AnnState::Suggested
        && a.source.is_machine()
        // no label, or only the one a machine suggested
        && (a.label.is_none() || a.label_conf.is_some())
        && (a.text.is_empty() || a.text_source.is_machine())
        && a.updated_ms == a.created_ms
}

/// The overlap test suggestions use to avoid existing boxes.
fn overlaps(a: &Rect, b: &Rect) -> bool {
    if a.iou(b) >= SKIP_IOU {
        return true;
    }
    let inter = a.intersection(b).map_or(0.0, |r| r.area());
    let smaller = a.area().min(b.area());
    smaller > 0.0 && inter / smaller >= 0.8
}

/// Reads the text of machine suggestions whose text is still empty (a CV box, or one a person
/// moved but did not type into), in their own geometry, as part of the step `head` began
/// (or as a step of its own). Never touches a person's box or typed text. Returns how many
/// got text.
fn read_machine_suggestions(
    session: &mut Session,
    model: &mut ModelSource,
    doc: DocId,
    page: &image::DynamicImage,
    source: &Source,
    held: &[AnnId],
    head: Option<crate::domain::EditId>,
) -> Result<usize, String> {
    let current = session.store().annotations(doc).map_err(|e| e.to_string())?;
    let targets: Vec<&Annotation> = current
        .iter()
        .filter(|a| a.state == AnnState::Suggested && a.source.is_machine() && a.text.is_empty())
        .filter(|a| !held.contains(&a.id))
        .collect();
    if targets.is_empty() {
        return Ok(0);
    }
    let quads: Vec<Quad> = targets.iter().map(|a| a.quad.unwrap_or_else(|| Quad::from_rect(&a.rect))).collect();
    let texts = model.recognize(page, &quads).map_err(|e| e.to_string())?;
    let texts: Vec<(AnnId, String, f32)> =
        targets.iter().zip(texts).filter(|(_, (t, _))| !t.trim().is_empty()).map(|(a, (t, c))| (a.id, t, c)).collect();
    let cmd = Command::FillText { doc, texts, source: source.clone() };
    let out = match head {
        Some(h) => session.continue_edit(h, cmd),
        None => session.apply(cmd),
    }
    .map_err(|e| e.to_string())?;
    Ok(match out {
        Outcome::Applied(e) => e.changes.len(),
        Outcome::NoChange => 0,
    })
}

/// For each proposal, the suggestion the first edit created for it (`None` where it was
/// skipped because it overlapped an existing box).
fn created_for(proposals: &[Proposal], head: &Edit) -> Vec<Option<Annotation>> {
    let mut made: Vec<&Annotation> = head
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::Annotation { before: None, after: Some(a) } => Some(a),
            _ => None,
        })
        .collect();
    proposals
        .iter()
        .map(|p| {
            // suggestions are created in proposal order, each at its (page-clamped) rect
            let at = made.iter().position(|a| a.rect.iou(&p.rect) > 0.9)?;
            Some(made.remove(at).clone())
        })
        .collect()
}

/// Which read lines may replace their detected box: those whose box is still exactly as the
/// pass created it and not `held` (selected) by the annotator. Returns the boxes to remove
/// and the lines to turn into suggestions.
fn untouched_lines(
    created: &[Option<Annotation>],
    current: &[Annotation],
    held: &[AnnId],
    lines: Vec<(usize, Line)>,
) -> (Vec<AnnId>, Vec<Line>) {
    let mut remove = Vec::new();
    let mut keep = Vec::new();
    for (i, line) in lines {
        let Some(Some(made)) = created.get(i) else { continue };
        if !held.contains(&made.id) && current.iter().any(|a| a == made) {
            remove.push(made.id);
            keep.push(line);
        }
    }
    (remove, keep)
}

/// The models the last job loaded, kept for the next one: loading three ONNX Runtime
/// sessions takes about half a second, which would otherwise precede the first boxes of every
/// "Suggest (model)" click. Models on disk are read again when the configuration changes or
/// a model or spec file changed on disk.
static KEPT_MODEL: Mutex<Option<ModelSource>> = Mutex::new(None);

/// A job's models, handed back to [`KEPT_MODEL`] however the job ends.
/// A page's text-layer lines, or why it has none worth using (`Err` outside: it could not be
/// read at all).
/// `invisible`: an invisible OCR layer counts (asked for by name, not for "best available").
fn text_layer(
    bytes: &[u8],
    d: &crate::domain::Document,
    invisible: bool,
) -> Result<Result<Vec<Proposal>, &'static str>, String> {
    use crate::prelabel::pdftext::{Layer, assess, lines};
    if !crate::pdf::is_pdf(bytes) {
        return Ok(Err("not a PDF page"));
    }
    // the layer's lines are found on the page as the file holds it, then turned as the
    // document is
    let (w, h) = crate::app::pages::file_page_size(d);
    let chars = crate::pdf::text_chars(bytes, d.page, (w, h)).map_err(|e| format!("{}: {e}", d.display_name()))?;
    let turned = |ps: Vec<Proposal>| -> Vec<Proposal> {
        let q = d.rotation % 4;
        if q == 0 {
            return ps;
        }
        let (w, h) = (w as f32, h as f32);
        ps.into_iter()
            .map(|p| Proposal { rect: p.rect.turned(q, w, h), quad: p.quad.map(|x| x.turned(q, w, h)), ..p })
            .collect()
    };
    match assess(&chars) {
        Layer::Usable => Ok(Ok(turned(lines(&chars)))),
        Layer::InvisibleOnly if invisible => Ok(Ok(turned(lines(&chars)))),
        other => Ok(Err(other.why_not())),
    }
}

struct LoadedModel(Option<ModelSource>);

impl LoadedModel {
    /// The kept models if they were loaded the way `cfg` asks, else freshly loaded ones.
    fn take(cfg: &ModelConfig) -> Result<ModelSource, crate::prelabel::model::ModelError> {
        let kept = KEPT_MODEL.lock().unwrap_or_else(|p| p.into_inner()).take();
        match kept {
            Some(mut m) if m.config().loads_like(cfg) && m.is_current() => {
                m.set_config(cfg.clone());
                Ok(m)
            }
            _ => {
                MODEL_LOADS.fetch_add(1, Ordering::Relaxed);
                ModelSource::load(cfg)
            }
        }
    }
}

static MODEL_LOADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many times jobs in this process have loaded the models (the rest reused kept ones).
pub fn model_loads() -> usize {
    MODEL_LOADS.load(Ordering::Relaxed)
}

impl Drop for LoadedModel {
    fn drop(&mut self) {
        if let Some(m) = self.0.take() {
            *KEPT_MODEL.lock().unwrap_or_else(|p| p.into_inner()) = Some(m);
        }
    }
}

/// Runs a job to the end (used by the worker and, synchronously, by the CLI).
pub fn run(
    mut session: Session,
    docs: &[DocId],
    kind: JobKind,
    control: &JobControl,
    events: &Sender<JobEvent>,
) -> Result<String, String> {
    let mut model = match &kind {
        JobKind::Cv(_) | JobKind::PdfText | JobKind::BestAvailable(_) | JobKind::Labels => LoadedModel(None),
        JobKind::Model(cfg) | JobKind::Reread { config: cfg, .. } => {
            let _ =
                events.send(JobEvent::Progress { done: 0, total: docs.len(), phase: "loading the OCR model".into() });
            LoadedModel(Some(LoadedModel::take(cfg).map_err(|e| e.to_string())?))
        }
    };
    let model = &mut model.0;
    // field labels for what the pass suggests: the rules, and the workspace's model if any
    let labeller = crate::app::labels::load(session.store()).map_err(|e| e.to_string())?;
    // every machine box in the team's own style, when it has one
    let style = SuggestionStyle::of(&session.store().box_style().map_err(|e| e.to_string())?);
    let mut labelled = 0usize;
    let mut source = match (&kind, &*model) {
        (JobKind::Cv(_), _) => Source::Cv,
        (JobKind::PdfText, _) => Source::PdfText,
        (_, Some(m)) => Source::model(&crate::prelabel::ProposalSource::name(m)),
        (_, None) => Source::Cv,
    };
    // "best available": which source each page used, and why not the text layer
    let mut from_layer = 0usize;
    let mut by_model: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let (mut added, mut failed) = (0usize, 0usize);
    for (i, &doc) in docs.iter().enumerate() {
        if control.is_cancelled() {
            return Ok(format!("cancelled after {i} of {} document(s); {added} suggestion(s) added", docs.len()));
        }
        let send = |phase: &str| {
            let _ = events.send(JobEvent::Progress { done: i, total: docs.len(), phase: phase.into() });
        };
        let outcome = (|| -> Result<(usize, Option<EditId>), String> {
            let d = session.store().document(doc).map_err(|e| e.to_string())?;
            if let JobKind::Labels = kind {
                send("suggesting labels");
                return Ok((0, None));
            }
            let page_ref = crate::app::pages::PageRef::of(session.store(), &d);
            let reads_layer = matches!(kind, JobKind::PdfText | JobKind::BestAvailable(_));
            send(if reads_layer { "reading the text layer" } else { "decoding the page" });
            // read once: the text layer and, if it is not enough, the pixels come from it
            let bytes = page_ref.bytes(Some(session.store())).map_err(|e| e.to_string())?;
            if reads_layer {
                match text_layer(&bytes, &d, matches!(kind, JobKind::PdfText))? {
                    Ok(proposals) => {
                        from_layer += 1;
                        // the text layer's boxes are the font's, not the ink's: restyling
                        // them needs the page's pixels
                        let proposals = if style.changes_nothing() {
                            proposals
                        } else {
                            send("drawing the boxes in the workspace's style");
                            let page = page_ref.decode_bytes(&bytes).map_err(|e| e.to_string())?;
                            styled(proposals, &page, style)
                        };
                        let items = to_inputs(&proposals);
                        let out = session
                            .apply(Command::AddSuggestions { doc, source: Source::PdfText, items, skip_iou: SKIP_IOU })
                            .map_err(|e| e.to_string())?;
                        return Ok((out.created_boxes().len(), applied_id(&out)));
                    }
                    Err(why) if matches!(kind, JobKind::PdfText) => {
                        return Err(format!("{why}: nothing to read (the model pass reads such pages)"));
                    }
                    Err(why) => *by_model.entry(why).or_default() += 1,
                }
                if let (JobKind::BestAvailable(cfg), None) = (&kind, model.as_ref()) {
                    send("loading the OCR model");
                    let m = LoadedModel::take(cfg).map_err(|e| e.to_string())?;
                    source = Source::model(&crate::prelabel::ProposalSource::name(&m));
                    *model = Some(m);
                }
                send("decoding the page");
            }
            let page = page_ref.decode_bytes(&bytes).map_err(|e| e.to_string())?;
            match (&kind, model.as_mut()) {
                (JobKind::Cv(cfg), _) => {
                    send("finding text lines");
                    let items = to_inputs(&styled(propose(&page, cfg).lines, &page, style));
                    let out = session
                        .apply(Command::AddSuggestions { doc, source: source.clone(), items, skip_iou: SKIP_IOU })
                        .map_err(|e| e.to_string())?;
                    Ok((out.created_boxes().len(), applied_id(&out)))
                }
                (JobKind::Model(_) | JobKind::BestAvailable(_), Some(m)) => {
                    send("detecting text lines");
                    stream_model_pass(&mut session, m, (doc, &page), (&source, style), control, &|| {
                        let _ = events.send(JobEvent::Changed(doc));
                        send("reading the text");
                    })
                }
                (JobKind::Reread { boxes, .. }, Some(m)) => {
                    send("reading the text");
                    let anns = session.store().annotations(doc).map_err(|e| e.to_string())?;
                    let targets: Vec<_> = anns
                        .iter()
                        .filter(|a| {
                            if boxes.is_empty() {
                                a.text.is_empty() || a.text_source.is_machine()
                            } else {
                                boxes.contains(&a.id)
                            }
                        })
                        .collect();
                    let quads: Vec<Quad> =
                        targets.iter().map(|a| a.quad.unwrap_or_else(|| Quad::from_rect(&a.rect))).collect();
                    let texts = m.recognize(&page, &quads).map_err(|e| e.to_string())?;
                    let texts: Vec<(AnnId, String, f32)> =
                        targets.iter().zip(texts).map(|(a, (t, c))| (a.id, t, c)).collect();
                    let n = texts.len();
                    let out = session
                        .apply(Command::FillText { doc, texts, source: source.clone() })
                        .map_err(|e| e.to_string())?;
                    Ok((n, applied_id(&out)))
                }
                _ => Err("no model loaded".into()),
            }
        })();
        // then the labels, as part of the pass's step when there is one
        let outcome = outcome.and_then(|(n, head)| {
            let targets = if matches!(kind, JobKind::Labels) { Targets::Unlabelled } else { Targets::Suggestions };
            labelled += label_page(&mut session, &labeller, doc, targets, head)?;
            Ok(n)
        });
        match outcome {
            Ok(n) => {
                added += n;
                let _ = events.send(JobEvent::Changed(doc));
            }
            Err(reason) => {
                failed += 1;
                let _ = events.send(JobEvent::DocFailed { doc, reason });
            }
        }
    }
    let _ = events.send(JobEvent::Progress { done: docs.len(), total: docs.len(), phase: "done".into() });
    let what = if matches!(kind, JobKind::Reread { .. }) { "box(es) re-read" } else { "suggestion(s) added" };
    let mut summary = if matches!(kind, JobKind::Labels) {
        format!("{labelled} label(s) suggested on {} document(s)", docs.len() - failed)
    } else {
        format!("{added} {what} on {} document(s), {labelled} with a suggested label", docs.len() - failed)
    };
    if let Some(w) = &labeller.warning {
        summary.push_str(&format!(" ({w})"));
    }
    if let JobKind::BestAvailable(_) = &kind {
        let modelled: usize = by_model.values().sum();
        let why: Vec<String> = by_model.iter().map(|(why, n)| format!("{why}: {n}")).collect();
        summary.push_str(&format!(": {from_layer} page(s) from the PDF text layer, {modelled} by the model"));
        if !why.is_empty() {
            summary.push_str(&format!(" ({})", why.join(", ")));
        }
    }
    if failed > 0 {
        summary.push_str(&format!(", {failed} document(s) failed"));
    }
    // a spec that asked for int8 but got float is slower, not wrong: say so where the job ends
    if let Some(RecPrecision::FloatFallback(why)) = model.as_ref().map(ModelSource::recognizer_precision) {
        summary.push_str(&format!(" (recogniser ran in float: {why})"));
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelabel::Level;
    use crate::prelabel::model::rec::Reading;

    fn ann(id: i64, x: f32) -> Annotation {
        Annotation {
            id: AnnId(id),
            doc: DocId(1),
            rect: Rect::new(x, 10.0, x + 50.0, 30.0),
            quad: None,
            label: None,
            text: String::new(),
            source: Source::Model("m".into()),
            text_source: Source::Model("m".into()),
            confidence: Some(0.9),
            label_suggested: None,
            label_conf: None,
            state: AnnState::Suggested,
            author: None,
            created_ms: 5,
            updated_ms: 5,
            flags: Default::default(),
        }
    }

    fn line(text: &str) -> Line {
        Line {
            quad: Quad::from_rect(&Rect::new(0.0, 0.0, 10.0, 10.0)),
            det_score: 0.9,
            reading: Reading { text: text.into(), score: 0.9, ..Reading::default() },
            parts: Vec::new(),
        }
    }

    #[test]
    fn detected_boxes_map_to_the_suggestions_made_for_them_skipping_overlaps() {
        let proposal = |x: f32| Proposal {
            rect: Rect::new(x, 10.0, x + 50.0, 30.0),
            quad: None,
            text: None,
            score: 0.9,
            level: Level::Line,
        };
        // the middle proposal was skipped (it overlapped a box already there)
        let head = Edit {
            id: crate::domain::EditId(7),
            ts_ms: 5,
            user: None,
            doc: Some(DocId(1)),
            action: "add_suggestions".into(),
            kind: crate::domain::EditKind::Do,
            changes: [ann(1, 0.0), ann(2, 200.0)]
                .into_iter()
                .map(|a| Change::Annotation { before: None, after: Some(a) })
                .collect(),
        };
        let created = created_for(&[proposal(0.0), proposal(100.0), proposal(200.0)], &head);
        let ids: Vec<Option<AnnId>> = created.iter().map(|a| a.as_ref().map(|a| a.id)).collect();
        assert_eq!(ids, vec![Some(AnnId(1)), None, Some(AnnId(2))]);
    }

    #[test]
    fn only_boxes_left_as_the_pass_made_them_are_replaced() {
        let created = vec![Some(ann(1, 0.0)), Some(ann(2, 100.0)), Some(ann(3, 200.0)), None, Some(ann(5, 400.0))];
        let mut moved = ann(2, 100.0);
        moved.rect = Rect::new(105.0, 10.0, 155.0, 30.0);
        moved.updated_ms = 9;
        let mut typed = ann(3, 200.0);
        typed.text = "typed".into();
        // box 5 was rejected (deleted) by the annotator
        let current = vec![ann(1, 0.0), moved, typed, ann(9, 600.0), ann(6, 500.0)];
        let created = [created, vec![Some(ann(6, 500.0))]].concat();
        let lines: Vec<_> = (0..6).map(|i| (i, line(&format!("line {i}")))).collect();
        let (remove, keep) = untouched_lines(&created, &current, &[], lines.clone());
        assert_eq!(remove, vec![AnnId(1), AnnId(6)]);
        assert_eq!(keep.iter().map(|l| l.reading.text.as_str()).collect::<Vec<_>>(), vec!["line 0", "line 5"]);
        // box 6 is selected in the UI (the annotator may be typing into it): left alone
        let (remove, _) = untouched_lines(&created, &current, &[AnnId(6)], lines);
        assert_eq!(remove, vec![AnnId(1)]);
    }
}
