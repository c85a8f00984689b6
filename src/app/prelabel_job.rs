//! Pre-annotation jobs: CV proposals or the OCR model over one document or a whole queue, on
//! a worker thread with its own connection to the workspace, applying suggestions through the
//! same command layer as the UI. The UI polls [`JobEvent`]s and reloads what changed.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender, unbounded};

use crate::app::{Command, Session, SuggestionInput};
use crate::domain::{AnnId, AnnState, DocId, Quad, Source, User};
use crate::prelabel::Proposal;
use crate::prelabel::cv::{CvConfig, propose};
use crate::prelabel::model::{ModelConfig, ModelSource};
use crate::store::Store;

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

/// A running job: events to poll, and a cancel switch.
pub struct JobHandle {
    pub events: Receiver<JobEvent>,
    cancel: Arc<AtomicBool>,
}

impl JobHandle {
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// Starts a job on a worker thread.
pub fn spawn(workspace: PathBuf, user: User, docs: Vec<DocId>, kind: JobKind) -> JobHandle {
    let (tx, rx) = unbounded();
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    std::thread::spawn(move || {
        let result = Store::open(&workspace)
            .map_err(|e| e.to_string())
            .and_then(|store| run(Session::new(store, user), &docs, kind, &flag, &tx));
        let _ = tx.send(match result {
            Ok(summary) => JobEvent::Finished { summary },
            Err(e) => JobEvent::Failed(e),
        });
    });
    JobHandle { events: rx, cancel }
}

fn to_inputs(ps: &[Proposal]) -> Vec<SuggestionInput> {
    ps.iter().map(|p| SuggestionInput { rect: p.rect, quad: p.quad, text: p.text.clone(), score: p.score }).collect()
}

/// Runs a job to the end (used by the worker and, synchronously, by the CLI).
pub fn run(
    mut session: Session,
    docs: &[DocId],
    kind: JobKind,
    cancel: &AtomicBool,
    events: &Sender<JobEvent>,
) -> Result<String, String> {
    let mut model = match &kind {
        JobKind::Cv(_) => None,
        JobKind::Model(cfg) | JobKind::Reread { config: cfg, .. } => {
            let _ =
                events.send(JobEvent::Progress { done: 0, total: docs.len(), phase: "loading the OCR model".into() });
            Some(ModelSource::load(cfg).map_err(|e| e.to_string())?)
        }
    };
    let source = match (&kind, &model) {
        (JobKind::Cv(_), _) => Source::Cv,
        (_, Some(m)) => Source::Model(crate::prelabel::ProposalSource::name(m)),
        (_, None) => Source::Cv,
    };
    let (mut added, mut failed) = (0usize, 0usize);
    for (i, &doc) in docs.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            return Ok(format!("cancelled after {i} of {} document(s); {added} suggestion(s) added", docs.len()));
        }
        let send = |phase: &str| {
            let _ = events.send(JobEvent::Progress { done: i, total: docs.len(), phase: phase.into() });
        };
        send("decoding the page");
        let outcome = (|| -> Result<usize, String> {
            let d = session.store().document(doc).map_err(|e| e.to_string())?;
            let page = crate::imageio::decode_page(std::path::Path::new(&d.path), d.page).map_err(|e| e.to_string())?;
            match (&kind, model.as_mut()) {
                (JobKind::Cv(cfg), _) => {
                    send("finding text lines");
                    let items = to_inputs(&propose(&page, cfg).lines);
                    let out = session
                        .apply(Command::AddSuggestions { doc, source: source.clone(), items, skip_iou: SKIP_IOU })
                        .map_err(|e| e.to_string())?;
                    Ok(out.created_boxes().len())
                }
                (JobKind::Model(_), Some(m)) => {
                    send("detecting text lines");
                    // Boxes first, so the annotator sees them while the text is being read.
                    let detected = to_inputs(&m.detect(&page).map_err(|e| e.to_string())?);
                    let first = session
                        .apply(Command::AddSuggestions {
                            doc,
                            source: source.clone(),
                            items: detected,
                            skip_iou: SKIP_IOU,
                        })
                        .map_err(|e| e.to_string())?
                        .created_boxes();
                    let _ = events.send(JobEvent::Changed(doc));
                    send("reading the text");
                    let lines = m.read_lines(&page).map_err(|e| e.to_string())?;
                    let items = to_inputs(&m.line_proposals(&page, &lines));
                    // Replace the still-untouched first boxes by the read (and split) lines.
                    let untouched: Vec<AnnId> = session
                        .store()
                        .annotations(doc)
                        .map_err(|e| e.to_string())?
                        .into_iter()
                        .filter(|a| first.contains(&a.id) && a.state == AnnState::Suggested && a.text.is_empty())
                        .map(|a| a.id)
                        .collect();
                    let out = session
                        .apply(Command::ReplaceSuggestions {
                            doc,
                            remove: untouched,
                            source: source.clone(),
                            items,
                            skip_iou: SKIP_IOU,
                        })
                        .map_err(|e| e.to_string())?;
                    Ok(out.created_boxes().len())
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
                    session
                        .apply(Command::FillText { doc, texts, source: source.clone() })
                        .map_err(|e| e.to_string())?;
                    Ok(n)
                }
                _ => Err("no model loaded".into()),
            }
        })();
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
    let mut summary = format!("{added} {what} on {} document(s)", docs.len() - failed);
    if failed > 0 {
        summary.push_str(&format!(", {failed} document(s) failed"));
    }
    Ok(summary)
}
