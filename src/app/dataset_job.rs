//! Dataset export and import on a worker thread (own workspace connection), with progress and
//! cancel, for the window. The CLI calls the same `export`/`import_dataset` directly. An import
//! whose label names the schema lacks ends asking for a mapping, having written nothing.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, unbounded};

use crate::app::commands::system_now_ms;
use crate::app::dataset::{ImportError, LabelMap, import_dataset};
use crate::app::export::{ExportOptions, export};
use crate::domain::UserId;
use crate::formats::model::Format;
use crate::store::{Store, Workspace};

#[derive(Debug, Clone, PartialEq)]
pub enum DatasetEvent {
    Progress {
        done: usize,
        total: usize,
    },
    Finished(String),
    Failed(String),
    /// The import needs these foreign label names (with their box counts) mapped; nothing
    /// was written. Start it again with a [`LabelMap`] that places each.
    NeedsMapping(BTreeMap<String, usize>),
}

pub struct DatasetJob {
    pub events: Receiver<DatasetEvent>,
    cancel: Arc<AtomicBool>,
}

impl DatasetJob {
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

#[derive(Debug, Clone)]
pub enum DatasetTask {
    Export { format: Format, out: PathBuf, all: bool },
    Import { format: Format, path: PathBuf, map: LabelMap },
}

/// How a job ended, before it is told to the window.
enum Outcome {
    Done(String),
    Unmapped(BTreeMap<String, usize>),
}

pub fn spawn(workspace: Workspace, user: Option<UserId>, task: DatasetTask) -> DatasetJob {
    let (tx, rx) = unbounded();
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    std::thread::spawn(move || {
        let progress_tx = tx.clone();
        let mut progress = move |done: usize, total: usize| {
            let _ = progress_tx.send(DatasetEvent::Progress { done, total });
        };
        let result = (|| -> Result<Outcome, String> {
            let mut store = Store::connect(&workspace).map_err(|e| e.to_string())?;
            match task {
                DatasetTask::Export { format, out, all } => {
                    let mut opts = ExportOptions::new(format, out, system_now_ms());
                    opts.all = all;
                    opts.user = user;
                    export(&mut store, &opts, &mut progress, &flag)
                        .map(|r| Outcome::Done(r.summary()))
                        .map_err(|e| e.to_string())
                }
                DatasetTask::Import { format, path, map } => {
                    match import_dataset(
                        &mut store,
                        format,
                        &path,
                        &[],
                        &map,
                        user,
                        system_now_ms(),
                        &mut progress,
                        &flag,
                    ) {
                        Ok(r) => Ok(Outcome::Done(r.summary())),
                        Err(ImportError::Unmapped { labels, .. }) => Ok(Outcome::Unmapped(labels)),
                        Err(e) => Err(e.to_string()),
                    }
                }
            }
        })();
        let _ = tx.send(match result {
            Ok(Outcome::Done(s)) => DatasetEvent::Finished(s),
            Ok(Outcome::Unmapped(labels)) => DatasetEvent::NeedsMapping(labels),
            Err(e) => DatasetEvent::Failed(e),
        });
    });
    DatasetJob { events: rx, cancel }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::import::import_gt;

    #[test]
    fn export_then_import_in_the_background_reports_progress_and_results() {
        let dir = tempfile::tempdir().unwrap();
        let synth = dir.path().join("synth");
        crate::synth::write_set(&synth, 2, 4).unwrap();
        let ws = dir.path().join("ws.sqlite");
        let mut store = Store::create(&ws).unwrap();
        import_gt(&mut store, &synth, None, 0).unwrap();
        drop(store);
        let out = dir.path().join("coco");
        let job = spawn(
            Workspace::File(ws.clone()),
            None,
            DatasetTask::Export { format: Format::Coco, out: out.clone(), all: true },
        );
        let events: Vec<DatasetEvent> = job.events.iter().collect();
        assert!(events.iter().any(|e| matches!(e, DatasetEvent::Progress { .. })));
        match events.last() {
            Some(DatasetEvent::Finished(s)) => assert!(s.contains("2 document(s)"), "{s}"),
            other => panic!("{other:?}"),
        }
        let ws2 = dir.path().join("ws2.sqlite");
        drop(Store::create(&ws2).unwrap());
        let import = |path| DatasetTask::Import { format: Format::Coco, path, map: LabelMap::default() };
        let job = spawn(Workspace::File(ws2.clone()), None, import(out));
        let last = job.events.iter().last();
        assert!(matches!(&last, Some(DatasetEvent::Finished(s)) if s.starts_with("2 document(s)")), "{last:?}");
        // A folder that holds no dataset fails with a sentence, nothing imported.
        let job = spawn(
            Workspace::File(ws2.clone()),
            None,
            DatasetTask::Import { format: Format::Yolo, path: dir.path().join("nope"), map: LabelMap::default() },
        );
        assert!(matches!(job.events.iter().last(), Some(DatasetEvent::Failed(_))));
        assert_eq!(Store::open(&ws2).unwrap().document_count().unwrap(), 2);
    }

    #[test]
    fn an_import_with_foreign_label_names_asks_for_a_mapping_then_runs_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let data = crate::app::dataset::tests::foreign_coco(dir.path());
        let ws = dir.path().join("ws.sqlite");
        drop(Store::create(&ws).unwrap());
        let task = |map| DatasetTask::Import { format: Format::Coco, path: data.clone(), map };
        let job = spawn(Workspace::File(ws.clone()), None, task(LabelMap::default()));
        let asked = BTreeMap::from([("Datum".to_string(), 1), ("Stamp".to_string(), 1), ("Total".to_string(), 2)]);
        assert_eq!(job.events.iter().last(), Some(DatasetEvent::NeedsMapping(asked)));
        assert_eq!(Store::open(&ws).unwrap().document_count().unwrap(), 0, "nothing written while asking");
        let mut map = LabelMap::default();
        map.insert("Total", Some("total_amount".into()));
        map.insert("Datum", Some("invoice_date".into()));
        map.insert("Stamp", None);
        let last = spawn(Workspace::File(ws.clone()), None, task(map)).events.iter().last();
        assert!(matches!(&last, Some(DatasetEvent::Finished(s)) if s.contains("3 box(es) mapped")), "{last:?}");
    }
}
