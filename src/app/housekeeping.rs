//! A lead's housekeeping over many documents at once: archive, delete (soft), restore,
//! prioritise, bulk-assign by filter, and search documents by what their boxes and reviews
//! say. Each document's change is one command through [`Session::apply`] (one edit, undoable
//! on that document); a batch stops at the first refusal and says how far it got.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::domain::{AnnState, BoxFlags, DocId, DocStatus, Document, Shelf, UserId, Verdict};
use crate::store::{DocFilter, ShelfFilter, Store};

use super::commands::{Command, CommandError, Outcome, Session};

/// Runs one command per document; returns how many changed something. Stops at the first
/// refusal, naming the document and how many were done before it.
pub fn for_each_doc(
    session: &mut Session,
    docs: &[DocId],
    cmd: impl Fn(DocId) -> Command,
) -> Result<usize, CommandError> {
    let mut changed = 0;
    for (i, &d) in docs.iter().enumerate() {
        match session.apply(cmd(d)) {
            Ok(Outcome::Applied(_)) => changed += 1,
            Ok(_) => {}
            Err(e) => {
                let done = if i > 0 { format!(" ({i} before it done)") } else { String::new() };
                return Err(CommandError::Refused(format!("document {d}: {e}{done}")));
            }
        }
    }
    Ok(changed)
}

/// Archives, deletes or restores (`None`) documents.
pub fn shelve(session: &mut Session, docs: &[DocId], shelf: Option<Shelf>) -> Result<usize, CommandError> {
    for_each_doc(session, docs, |doc| Command::Shelve { doc, shelf })
}

/// Which documents a bulk assignment takes.
#[derive(Debug, Clone, Default)]
pub struct AssignFilter {
    pub status: Option<DocStatus>,
    /// Documents whose file lies in this folder (or below it).
    pub folder: Option<PathBuf>,
    /// Only documents nobody is assigned to yet.
    pub unassigned: bool,
    /// Only documents whose vendor_name box reads like this (case, spacing and punctuation
    /// ignored; a part of the name is enough).
    pub vendor: Option<String>,
    /// Only documents imported on this UTC day (days since 1970-01-01): one import batch.
    pub imported_day: Option<i64>,
    /// At most this many, in queue order (priority, then import order).
    pub limit: Option<usize>,
}

/// Whether the document's file lies under `folder` (paths compared after resolving relative
/// ones against the workspace's folder and, where the files exist, symlinks).
fn in_folder(doc: &Document, folder: &Path, base: Option<&Path>) -> bool {
    let p = Path::new(&doc.path);
    let p = match (p.is_relative(), base) {
        (true, Some(b)) => b.join(p),
        _ => p.to_path_buf(),
    };
    let p = p.canonicalize().unwrap_or(p);
    p.starts_with(folder)
}

/// The documents a bulk assignment would take, in queue order.
pub fn assign_candidates(store: &Store, f: &AssignFilter) -> Result<Vec<Document>, CommandError> {
    let mut docs = store.documents(&DocFilter { status: f.status, ..Default::default() })?;
    if f.status.is_none() {
        // finished work is not handed out again unless asked for by status
        docs.retain(|d| d.status != DocStatus::Accepted);
    }
    if f.unassigned {
        docs.retain(|d| d.assignee.is_none());
    }
    if let Some(day) = f.imported_day {
        docs.retain(|d| d.imported_ms.div_euclid(86_400_000) == day);
    }
    if let Some(v) = &f.vendor {
        let want = super::export::normalise_vendor(v);
        let vendor_label = store.labels()?.into_iter().find(|l| l.name == "vendor_name").map(|l| l.id);
        let mut keep = Vec::with_capacity(docs.len());
        for d in docs {
            let names: Vec<String> = store
                .annotations(d.id)?
                .into_iter()
                .filter(|a| a.label.is_some() && a.label == vendor_label)
                .map(|a| a.text)
                .collect();
            if !want.is_empty() && super::export::normalise_vendor(&names.join(" ")).contains(&want) {
                keep.push(d);
            }
        }
        docs = keep;
    }
    if let Some(folder) = &f.folder {
        let folder = folder.canonicalize().unwrap_or_else(|_| folder.clone());
        let base = store.workspace().and_then(|w| w.file()).and_then(|p| p.parent().map(Path::to_path_buf));
        docs.retain(|d| in_folder(d, &folder, base.as_deref()));
    }
    docs.sort_by_key(|d| std::cmp::Reverse(d.priority));
    if let Some(n) = f.limit {
        docs.truncate(n);
    }
    Ok(docs)
}

/// Assigns every document the filter takes to `to`; returns how many changed hands.
pub fn assign_matching(session: &mut Session, to: Option<UserId>, f: &AssignFilter) -> Result<usize, CommandError> {
    let ids: Vec<DocId> = assign_candidates(session.store(), f)?.iter().map(|d| d.id).collect();
    for_each_doc(session, &ids, |doc| Command::Assign { doc, annotator: to })
}

/// A review verdict to search for: one kind, or any correction (every verdict but ok).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictQuery {
    Is(Verdict),
    Corrected,
}

impl VerdictQuery {
    pub fn parse(s: &str) -> Result<VerdictQuery, String> {
        if s == "corrected" {
            return Ok(VerdictQuery::Corrected);
        }
        Verdict::ALL.iter().find(|v| v.as_str() == s).map(|v| VerdictQuery::Is(*v)).ok_or_else(|| {
            let names: Vec<&str> = Verdict::ALL.iter().map(|v| v.as_str()).collect();
            format!("'{s}' is not a verdict: use corrected (any but ok) or one of {}", names.join(", "))
        })
    }

    fn matches(self, v: Verdict) -> bool {
        match self {
            VerdictQuery::Is(want) => v == want,
            VerdictQuery::Corrected => v != Verdict::Ok,
        }
    }
}

/// What to find. Every part given must hold; box-level parts (text, label, verdict, flags)
/// must hold for one and the same box.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Case-insensitive substring of a box's text.
    pub text: Option<String>,
    /// A label name (exact, case-insensitive).
    pub label: Option<String>,
    pub status: Option<DocStatus>,
    /// A verdict some review round gave the box.
    pub verdict: Option<VerdictQuery>,
    /// Documents assigned to this person, or with boxes they drew.
    pub annotator: Option<UserId>,
    /// Document tags the document must carry (each tag with this value).
    pub tags: std::collections::BTreeMap<String, String>,
    /// Flags a box must have (all of them).
    pub flags: BoxFlags,
    /// Search archived and deleted documents too.
    pub shelved: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchBox {
    pub id: i64,
    pub label: Option<String>,
    pub text: String,
    /// Verdicts the box was given, oldest round first.
    pub verdicts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub doc: i64,
    pub name: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shelved: Option<String>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tags: std::collections::BTreeMap<String, String>,
    /// The boxes that matched (empty when the query has no box-level part).
    pub boxes: Vec<SearchBox>,
}

/// The boxes that match the box-level part of `q` (text, label, verdict, flags), by
/// document; `None` when `q` has no box-level part. A fixed handful of queries, however many
/// documents: the boxes that could match, and the verdicts when asked about; the boxes are
/// then checked in full here (Unicode case folding).
pub fn matching_boxes(
    store: &Store,
    q: &SearchQuery,
) -> Result<Option<std::collections::HashMap<crate::domain::DocId, Vec<SearchBox>>>, CommandError> {
    let labels = store.labels()?;
    let label = match &q.label {
        None => None,
        Some(name) => Some(
            labels
                .iter()
                .find(|l| l.name.to_lowercase() == name.trim().to_lowercase())
                .ok_or_else(|| CommandError::Refused(format!("there is no label named {name}")))?
                .id,
        ),
    };
    let name_of = |id| labels.iter().find(|l| l.id == id).map(|l| l.name.clone());
    let text = q.text.as_ref().map(|t| t.to_lowercase());
    let box_level = text.is_some() || label.is_some() || q.verdict.is_some() || !q.flags.is_empty();
    if !box_level {
        return Ok(None);
    }
    let mut boxes_of: std::collections::HashMap<crate::domain::DocId, Vec<SearchBox>> = Default::default();
    let mut verdicts: std::collections::HashMap<crate::domain::AnnId, Vec<Verdict>> = Default::default();
    if q.verdict.is_some() {
        for (ann, v) in store.verdict_kinds()? {
            verdicts.entry(ann).or_default().push(v);
        }
    }
    let ascii = text.as_deref().filter(|t| t.is_ascii());
    for a in store.search_boxes(ascii, label, q.verdict.is_some(), q.flags.0)? {
        if a.state != AnnState::Active && q.verdict.is_none() {
            continue;
        }
        if let Some(t) = &text
            && !a.text.to_lowercase().contains(t)
        {
            continue;
        }
        let given = verdicts.get(&a.id).map(Vec::as_slice).unwrap_or(&[]);
        if let Some(vq) = q.verdict
            && !given.iter().any(|v| vq.matches(*v))
        {
            continue;
        }
        boxes_of.entry(a.doc).or_default().push(SearchBox {
            id: a.id.0,
            label: a.label.and_then(name_of),
            text: a.text.clone(),
            verdicts: given.iter().map(|v| v.as_str().to_string()).collect(),
            flags: a.flags.names().into_iter().map(String::from).collect(),
        });
    }
    Ok(Some(boxes_of))
}

/// Documents matching `q`, in id order.
pub fn search(store: &Store, q: &SearchQuery) -> Result<Vec<SearchHit>, CommandError> {
    // a tag or value the workspace does not have is a typo, not an empty answer
    if let Some(why) = store.tag_schema()?.problem(&q.tags) {
        return Err(CommandError::Refused(why));
    }
    let mut boxes_of = matching_boxes(store, q)?;
    let shelved = if q.shelved { ShelfFilter::All } else { ShelfFilter::Live };
    let drew = match q.annotator {
        Some(u) => store.docs_with_boxes_by(u)?,
        None => Default::default(),
    };
    let mut hits = Vec::new();
    for doc in store.documents(&DocFilter { status: q.status, shelved, ..Default::default() })? {
        if q.tags.iter().any(|(k, v)| doc.tags.get(k) != Some(v)) {
            continue;
        }
        if let Some(u) = q.annotator
            && doc.assignee != Some(u)
            && !drew.contains(&doc.id)
        {
            continue;
        }
        let boxes = match boxes_of.as_mut() {
            Some(of) => match of.remove(&doc.id) {
                Some(b) => b,
                None => continue,
            },
            None => Vec::new(),
        };
        hits.push(SearchHit {
            doc: doc.id.0,
            name: doc.display_name(),
            status: doc.status.as_str().to_string(),
            shelved: doc.shelved.map(|s| s.as_str().to_string()),
            tags: doc.tags.clone(),
            boxes,
        });
    }
    Ok(hits)
}
