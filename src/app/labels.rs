//! Field-label suggestions in a workspace: which boxes get a label, from the rules and the
//! workspace's own model; training that model on reviewed documents (on demand, and in the
//! background whenever documents are accepted) and storing it with its dataset version.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::domain::{AnnId, AnnState, Annotation, DocId, DocStatus, LabelId, Link, LinkKind, TimestampMs};
use crate::labeling::{self, LabelModel, LabelScores, Page, PageBox, Suggester, TrainPage, TrainParams};
use crate::store::{DocFilter, Store, StoreError, StoredLabelModel, Workspace};

/// Below this confidence a suggested label is drawn as unsure.
pub use crate::labeling::UNSURE_BELOW;

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("no document has been accepted in review yet: the label model learns from reviewed work")]
    NothingReviewed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The suggester a workspace uses now, and what went wrong loading its model (a damaged blob
/// is ignored, with this message; retraining rebuilds it).
pub struct Loaded {
    pub suggester: Suggester,
    pub labels: HashMap<String, LabelId>,
    pub model: Option<StoredLabelModel>,
    pub warning: Option<String>,
}

impl Loaded {
    pub fn label_id(&self, name: &str) -> Option<LabelId> {
        self.labels.get(name).copied()
    }
}

pub fn load(store: &Store) -> Result<Loaded, StoreError> {
    let labels = store.labels()?;
    let names: Vec<String> = labels.iter().map(|l| l.name.clone()).collect();
    let stored = store.latest_label_model()?;
    let (model, warning) = match &stored {
        None => (None, None),
        Some(s) => match LabelModel::from_bytes(&s.model) {
            Ok(m) => (Some(m), None),
            Err(e) => (None, Some(format!("label model {} ignored: {e}; retraining rebuilds it", s.id))),
        },
    };
    Ok(Loaded {
        suggester: Suggester::new(names, model),
        labels: labels.into_iter().map(|l| (l.name, l.id)).collect(),
        model: stored.map(|s| StoredLabelModel { model: Vec::new(), ..s }),
        warning,
    })
}

/// The page as the labeller sees it: every box of the document with text (suggestions too,
/// since they are context), and its key → value links.
fn page_of(width: u32, height: u32, anns: &[&Annotation], links: &[Link]) -> Page {
    let pos: HashMap<AnnId, usize> = anns.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
    Page {
        width: width as f32,
        height: height as f32,
        boxes: anns.iter().map(|a| PageBox { rect: a.rect, text: a.text.clone() }).collect(),
        links: links
            .iter()
            .filter(|l| l.kind == LinkKind::KeyValue)
            .filter_map(|l| Some((*pos.get(&l.from)?, *pos.get(&l.to)?)))
            .collect(),
    }
}

/// Which boxes of a page may be labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Targets {
    /// Machine suggestions still awaiting a decision (after a pre-annotation pass).
    Suggestions,
    /// Every box without a label ("Label suggestions" on a page that already has boxes).
    Unlabelled,
}

/// Labels for the boxes of one page that have none: (box, label, confidence). Boxes without
/// text are left alone (a CV box gets its label once it is read).
pub fn suggest_for_page(
    loaded: &Loaded,
    width: u32,
    height: u32,
    anns: &[Annotation],
    links: &[Link],
    targets: Targets,
) -> Vec<(AnnId, LabelId, f32)> {
    let with_text: Vec<&Annotation> = anns.iter().filter(|a| !a.text.trim().is_empty()).collect();
    let page = page_of(width, height, &with_text, links);
    let got = loaded.suggester.suggest(&page);
    with_text
        .iter()
        .zip(got)
        .filter(|(a, _)| a.label.is_none())
        .filter(|(a, _)| targets == Targets::Unlabelled || a.state == AnnState::Suggested)
        .filter_map(|(a, s)| {
            let (name, conf) = s?;
            Some((a.id, loaded.label_id(&name)?, conf))
        })
        .collect()
}

/// At most this many accepted documents, the most recent, are learned from: training stays
/// seconds long on a workspace of many thousands (and the recent ones are the team's style now).
pub const MAX_TRAINING_DOCUMENTS: usize = 1000;

/// The `n` most recently added accepted documents, newest first.
pub(crate) fn recent_accepted(store: &Store, n: usize) -> Result<Vec<DocId>, StoreError> {
    let mut docs: Vec<DocId> = store
        .documents(&DocFilter { status: Some(DocStatus::Accepted), ..Default::default() })?
        .iter()
        .map(|d| d.id)
        .collect();
    docs.sort_unstable_by(|a, b| b.cmp(a));
    docs.truncate(n);
    Ok(docs)
}

/// The workspace's reviewed work as training pages: accepted documents (the most recent
/// [`MAX_TRAINING_DOCUMENTS`]), their active boxes with text, labelled by name.
pub fn reviewed_pages(store: &Store) -> Result<Vec<TrainPage>, StoreError> {
    let names: HashMap<LabelId, String> = store.labels()?.into_iter().map(|l| (l.id, l.name)).collect();
    let mut docs = recent_accepted(store, MAX_TRAINING_DOCUMENTS)?;
    docs.reverse();
    let mut pages = Vec::with_capacity(docs.len());
    for (doc, anns, links) in store.documents_with_boxes(&docs)? {
        let boxes: Vec<&Annotation> =
            anns.iter().filter(|a| a.state == AnnState::Active && !a.text.trim().is_empty()).collect();
        if boxes.is_empty() {
            continue;
        }
        pages.push(TrainPage {
            labels: boxes.iter().map(|a| a.label.and_then(|l| names.get(&l).cloned())).collect(),
            page: page_of(doc.width, doc.height, &boxes, &links),
        });
    }
    Ok(pages)
}

/// What a training run did.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    pub model_id: i64,
    pub dataset: String,
    pub documents: usize,
    pub boxes: usize,
    pub features: usize,
    /// Cross-validated by document (5 folds, fewer with fewer documents); `None` with one document.
    pub cross_validated: Option<LabelScores>,
    pub folds: usize,
}

impl TrainReport {
    pub fn to_table(&self) -> String {
        let mut s = format!(
            "label model {} trained on {} reviewed document(s), {} box(es), {} feature(s); dataset {}\n",
            self.model_id, self.documents, self.boxes, self.features, self.dataset
        );
        match &self.cross_validated {
            Some(cv) => {
                s.push_str(&format!("cross-validated by document, {} folds:\n", self.folds));
                s.push_str(&cv.to_table());
            }
            None => s.push_str("one document: no cross-validation (review more to see how well it does)\n"),
        }
        s
    }
}

/// Trains the workspace's label model on its reviewed documents and stores it.
pub fn train_workspace(store: &mut Store, now: TimestampMs) -> Result<TrainReport, LabelError> {
    let dataset = store.reviewed_dataset()?;
    train_as(store, dataset, now)
}

/// [`train_workspace`] with the dataset version already read.
fn train_as(store: &mut Store, dataset: String, now: TimestampMs) -> Result<TrainReport, LabelError> {
    crate::app::boxstyle::relearn_if_changed(store, &dataset, now);
    let pages = reviewed_pages(store)?;
    if pages.is_empty() {
        return Err(LabelError::NothingReviewed);
    }
    let params = TrainParams::default();
    let folds = pages.len().min(5);
    let cross_validated = (folds >= 2).then(|| labeling::cross_validate(&pages, folds, &params));
    let model = labeling::train(&pages, &params).ok_or(LabelError::NothingReviewed)?;
    let boxes = pages.iter().map(|p| p.page.boxes.len()).sum();
    let mut report = TrainReport {
        model_id: 0,
        dataset: dataset.clone(),
        documents: pages.len(),
        boxes,
        features: model.features(),
        cross_validated,
        folds,
    };
    let id = store.add_label_model(&StoredLabelModel {
        id: 0,
        trained_ms: now,
        dataset,
        documents: pages.len() as i64,
        examples: boxes as i64,
        model: model.to_bytes(),
        report: serde_json::to_string(&report).unwrap_or_default(),
    })?;
    report.model_id = id;
    Ok(report)
}

/// Trains unless the latest model (readable) already learned from today's reviewed dataset.
/// Returns the report when it trained.
pub fn refresh(store: &mut Store, now: TimestampMs) -> Result<Option<TrainReport>, LabelError> {
    let dataset = store.reviewed_dataset()?;
    if let Some(m) = store.latest_label_model()?
        && m.dataset == dataset
        && LabelModel::from_bytes(&m.model).is_ok()
    {
        return Ok(None);
    }
    match train_as(store, dataset, now) {
        Err(LabelError::NothingReviewed) => Ok(None),
        other => other.map(Some),
    }
}

static TRAINING: AtomicBool = AtomicBool::new(false);
/// Workspaces waiting for a retrain, each once (a window may switch workspaces).
static QUEUE: Mutex<Vec<Workspace>> = Mutex::new(Vec::new());
static LAST: Mutex<Option<String>> = Mutex::new(None);

/// Retrains `ws`'s label model on a thread of its own, never the caller's: one run at a time
/// per process; a request while one runs is queued (once per workspace) and run after it.
pub fn retrain_in_background(ws: Workspace) {
    if let Ok(mut q) = QUEUE.lock()
        && !q.iter().any(|w| w.key() == ws.key())
    {
        q.push(ws);
    }
    if TRAINING.swap(true, Ordering::SeqCst) {
        return;
    }
    std::thread::spawn(|| {
        loop {
            let next = QUEUE.lock().ok().and_then(|mut q| (!q.is_empty()).then(|| q.remove(0)));
            let Some(ws) = next else {
                TRAINING.store(false, Ordering::SeqCst);
                // a request queued between the check and the store above: take it on
                let waiting = QUEUE.lock().is_ok_and(|q| !q.is_empty());
                if waiting && !TRAINING.swap(true, Ordering::SeqCst) {
                    continue;
                }
                break;
            };
            let outcome = Store::connect(&ws)
                .map_err(LabelError::from)
                .and_then(|mut s| refresh(&mut s, crate::app::commands::system_now_ms()));
            let note = match outcome {
                Ok(Some(r)) => format!("label model {} trained on {} reviewed document(s)", r.model_id, r.documents),
                Ok(None) => "label model up to date".to_string(),
                Err(e) => format!("label model not retrained: {e}"),
            };
            if let Ok(mut last) = LAST.lock() {
                *last = Some(note);
            }
        }
    });
}

/// Whether a background training run is going on, and what the last one said.
pub fn background_state() -> (bool, Option<String>) {
    (TRAINING.load(Ordering::SeqCst), LAST.lock().ok().and_then(|l| l.clone()))
}
