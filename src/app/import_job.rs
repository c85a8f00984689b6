//! Importing pages from the window: on a worker with a connection of its own, file by file,
//! with progress and Cancel (each file goes in whole or not at all).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, unbounded};

use super::import::{ImportOptions, ImportReport, import_paths_until};
use crate::store::{Store, Workspace};

enum Event {
    Progress { done: usize, total: usize },
    Done(Result<ImportReport, String>),
}

/// A running import.
pub struct ImportJob {
    rx: Receiver<Event>,
    cancel: Arc<AtomicBool>,
    /// Files imported so far, of `total`.
    pub done: usize,
    pub total: usize,
}

impl ImportJob {
    /// Imports `paths` (files and folders) into `ws`, PDF pages at `dpi`; `wake` is called
    /// whenever there is news (to repaint).
    pub fn start(
        ws: Workspace,
        paths: Vec<PathBuf>,
        opts: ImportOptions,
        wake: impl Fn() + Send + 'static,
    ) -> std::io::Result<ImportJob> {
        let (tx, rx) = unbounded();
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = cancel.clone();
        std::thread::Builder::new().name("facture-import".into()).spawn(move || {
            let now = super::commands::system_now_ms();
            let result = Store::connect(&ws)
                .and_then(|mut store| {
                    import_paths_until(&mut store, &paths, &opts, now, |done, total| {
                        let _ = tx.send(Event::Progress { done, total });
                        wake();
                        !stop.load(Ordering::Relaxed)
                    })
                })
                .map_err(|e| e.to_string());
            let _ = tx.send(Event::Done(result));
            wake();
        })?;
        Ok(ImportJob { rx, cancel, done: 0, total: 0 })
    }

    /// Stops after the file being imported now.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelling(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Takes in progress; `Some` once the import has ended.
    pub fn poll(&mut self) -> Option<Result<ImportReport, String>> {
        loop {
            match self.rx.try_recv() {
                Ok(Event::Progress { done, total }) => (self.done, self.total) = (done, total),
                Ok(Event::Done(r)) => return Some(r),
                Err(crossbeam_channel::TryRecvError::Empty) => return None,
                // the worker is gone without an answer (it panicked)
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    return Some(Err("the import ended without an answer".into()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_reports_progress_and_stops_between_files_when_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::File(dir.path().join("ws.sqlite"));
        Store::create_at(&ws).unwrap();
        let scans = dir.path().join("scans");
        std::fs::create_dir_all(&scans).unwrap();
        for i in 0..3u8 {
            image::RgbImage::from_pixel(20, 10, image::Rgb([i, 0, 0])).save(scans.join(format!("{i}.png"))).unwrap();
        }
        let mut job = ImportJob::start(ws.clone(), vec![scans.clone()], ImportOptions::default(), || {}).unwrap();
        let report = loop {
            if let Some(r) = job.poll() {
                break r.unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        assert_eq!((report.added.len(), job.done, job.total), (3, 3, 3));
        // cancelled before it starts: nothing goes in, and it says how many were left
        let dir2 = tempfile::tempdir().unwrap();
        let ws2 = Workspace::File(dir2.path().join("ws.sqlite"));
        Store::create_at(&ws2).unwrap();
        let (gate_tx, gate_rx) = crossbeam_channel::bounded::<()>(0);
        let mut job = ImportJob::start(ws2.clone(), vec![scans], ImportOptions::default(), move || {
            let _ = gate_rx.recv_timeout(std::time::Duration::from_millis(200));
        })
        .unwrap();
        job.cancel();
        drop(gate_tx);
        let report = loop {
            if let Some(r) = job.poll() {
                break r.unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        assert!(report.added.len() < 3, "{report:?}");
        assert_eq!(report.added.len() + report.not_started, 3, "{report:?}");
        assert!(report.summary().starts_with("cancelled"), "{}", report.summary());
    }
}
