//! Page thumbnails for the queue: decoded off the UI thread by one worker, the most recently
//! asked-for first (the rows on screen now), shrunk to fit a small box, and kept for the
//! session. A page that cannot be read gets an error instead, asked for once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crossbeam_channel::{Receiver, Sender};
use image::RgbaImage;

use crate::domain::{DocId, Document};
use crate::store::Workspace;

use super::pages::PageRef;

/// The longest side of a thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 96;

/// A thumbnail is of one page as turned: a rotation asks for a new one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ThumbKey {
    pub doc: DocId,
    pub sha256: String,
    pub page: u32,
    pub rotation: u8,
}

impl ThumbKey {
    pub fn of(doc: &Document) -> ThumbKey {
        ThumbKey { doc: doc.id, sha256: doc.sha256.clone(), page: doc.page, rotation: doc.rotation }
    }
}

pub type Thumb = Result<RgbaImage, String>;

/// Requests waiting for the worker, newest last (taken from the end).
type Waiting = Arc<Mutex<Vec<(ThumbKey, PageRef)>>>;

pub struct Thumbnails {
    waiting: Waiting,
    wake_worker: Sender<()>,
    done: Receiver<(ThumbKey, Thumb)>,
    asked: HashSet<ThumbKey>,
    /// Set when the worker could not start: every request is answered with this error.
    unstarted: Option<(String, Sender<(ThumbKey, Thumb)>)>,
}

/// `page` decoded (upright, turned as its document is) and shrunk to fit `THUMB_SIDE`.
pub fn render(page: &PageRef) -> Thumb {
    let img = page.decode(None).map_err(|e| e.to_string())?;
    let (w, h) = (img.width().max(1), img.height().max(1));
    let scale = THUMB_SIDE as f32 / w.max(h) as f32;
    let (tw, th) = (((w as f32 * scale).round() as u32).max(1), ((h as f32 * scale).round() as u32).max(1));
    Ok(image::imageops::thumbnail(&img.to_rgba8(), tw, th))
}

impl Thumbnails {
    /// Starts the worker; `wake` is called whenever a thumbnail is ready (to repaint).
    pub fn new(wake: impl Fn() + Send + 'static) -> Thumbnails {
        let waiting: Waiting = Arc::default();
        let (wake_worker, woken) = crossbeam_channel::unbounded::<()>();
        let (send, done) = crossbeam_channel::unbounded();
        let answer = send.clone();
        let queue = waiting.clone();
        let spawned = std::thread::Builder::new().name("facture-thumbs".into()).spawn(move || {
            while woken.recv().is_ok() {
                loop {
                    let next = queue.lock().map(|mut q| q.pop()).unwrap_or(None);
                    let Some((key, page)) = next else { break };
                    if send.send((key, render(&page))).is_err() {
                        return;
                    }
                    wake();
                }
            }
        });
        let unstarted = spawned.err().map(|e| (format!("no preview: cannot start its worker: {e}"), answer));
        Thumbnails { waiting, wake_worker, done, asked: HashSet::new(), unstarted }
    }

    /// Asks for `doc`'s thumbnail in `workspace` unless it was asked for already.
    pub fn request(&mut self, workspace: &Workspace, doc: &Document) {
        let key = ThumbKey::of(doc);
        if !self.asked.insert(key.clone()) {
            return;
        }
        if let Some((why, answer)) = &self.unstarted {
            let _ = answer.send((key, Err(why.clone())));
            return;
        }
        if let Ok(mut q) = self.waiting.lock() {
            q.push((key, PageRef::in_workspace(workspace, doc)));
        }
        let _ = self.wake_worker.send(());
    }

    /// The thumbnails finished since the last call.
    pub fn poll(&mut self) -> Vec<(ThumbKey, Thumb)> {
        self.done.try_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DocStatus;

    fn doc(path: &std::path::Path, w: u32, h: u32, rotation: u8) -> Document {
        Document {
            id: DocId(1),
            path: path.to_string_lossy().into_owned(),
            sha256: "0".repeat(64),
            page: 0,
            width: if rotation % 2 == 1 { h } else { w },
            height: if rotation % 2 == 1 { w } else { h },
            status: DocStatus::New,
            assignee: None,
            reviewer: None,
            is_gold: false,
            imported_ms: 0,
            shelved: None,
            priority: 0,
            tags: Default::default(),
            rotation,
            exif: true,
        }
    }

    #[test]
    fn a_thumbnail_fits_the_box_keeps_the_aspect_and_follows_the_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("page.png");
        // 400×200, left half black, right half white
        image::RgbImage::from_fn(400, 200, |x, _| if x < 200 { image::Rgb([0, 0, 0]) } else { image::Rgb([255; 3]) })
            .save(&path)
            .unwrap();
        let ws = Workspace::File(dir.path().join("ws.sqlite"));
        let t = render(&PageRef::in_workspace(&ws, &doc(&path, 400, 200, 0))).unwrap();
        assert_eq!((t.width(), t.height()), (96, 48));
        assert!(t.get_pixel(5, 24)[0] < 30 && t.get_pixel(90, 24)[0] > 225);
        // turned a quarter clockwise: the black half is on top
        let t = render(&PageRef::in_workspace(&ws, &doc(&path, 400, 200, 1))).unwrap();
        assert_eq!((t.width(), t.height()), (48, 96));
        assert!(t.get_pixel(24, 5)[0] < 30 && t.get_pixel(24, 90)[0] > 225);
    }

    #[test]
    fn the_worker_answers_each_page_once_and_a_missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("page.png");
        image::RgbImage::from_pixel(50, 80, image::Rgb([200, 10, 10])).save(&path).unwrap();
        let ws = Workspace::File(dir.path().join("ws.sqlite"));
        let mut thumbs = Thumbnails::new(|| {});
        let good = doc(&path, 50, 80, 0);
        let mut missing = doc(&dir.path().join("gone.png"), 50, 80, 0);
        missing.id = DocId(2);
        thumbs.request(&ws, &good);
        thumbs.request(&ws, &good);
        thumbs.request(&ws, &missing);
        let mut got = Vec::new();
        let t0 = std::time::Instant::now();
        while got.len() < 2 && t0.elapsed() < std::time::Duration::from_secs(20) {
            got.extend(thumbs.poll());
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        got.extend(thumbs.poll());
        assert_eq!(got.len(), 2, "one answer per page");
        let ok = got.iter().find(|(k, _)| k.doc == DocId(1)).unwrap();
        assert_eq!(ok.1.as_ref().map(|t| (t.width(), t.height())).unwrap(), (60, 96));
        let err = got.iter().find(|(k, _)| k.doc == DocId(2)).unwrap();
        assert!(err.1.as_ref().is_err_and(|e| e.contains("gone.png")), "{:?}", err.1.as_ref().err());
    }
}
