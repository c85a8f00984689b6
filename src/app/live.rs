//! Live updates for a window: a worker with its own connection waits for what other people
//! change (see [`crate::store::Store::wait_for_changes`]) and hands it over by channel, so the
//! frame never waits on the network. It also notices when the workspace cannot be reached,
//! keeps trying, and says when it is back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, unbounded};

use crate::store::{Changes, Store, Workspace};

/// How long the worker waits per round (also how quickly it stops when the window closes).
const ROUND: Duration = Duration::from_millis(400);
/// Between attempts to reach a workspace that went away.
const RETRY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// Others changed these documents, or who holds which.
    Changed(Changes),
    /// The workspace cannot be reached (a sentence for the window).
    Lost(String),
    /// It can be reached again; what changed meanwhile is unknown, so reload.
    Back,
}

/// The worker of one window; stops when dropped.
pub struct LiveFeed {
    rx: Receiver<LiveEvent>,
    stop: Arc<AtomicBool>,
}

impl LiveFeed {
    /// Starts watching `ws`; `wake` is called whenever an event is ready (to repaint).
    pub fn start(ws: &Workspace, wake: impl Fn() + Send + 'static) -> LiveFeed {
        let (tx, rx) = unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let (ws, flag) = (ws.clone(), stop.clone());
        let spawned =
            std::thread::Builder::new().name("facture-live".into()).spawn(move || run(&ws, &tx, &flag, &wake));
        if let Err(e) = spawned {
            let (tx, rx) = unbounded();
            let _ = tx.send(LiveEvent::Lost(format!("live updates are off: {e}")));
            return LiveFeed { rx, stop };
        }
        LiveFeed { rx, stop }
    }

    /// Everything that arrived since the last call (never blocks).
    pub fn poll(&self) -> Vec<LiveEvent> {
        self.rx.try_iter().collect()
    }
}

impl Drop for LiveFeed {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn run(ws: &Workspace, tx: &Sender<LiveEvent>, stop: &AtomicBool, wake: &dyn Fn()) {
    let mut lost = false;
    while !stop.load(Ordering::Relaxed) {
        let watched = Store::connect(ws).and_then(|mut s| s.watch().map(|p| (s, p)));
        let (mut store, mut point) = match watched {
            Ok(w) => w,
            Err(e) => {
                if !lost {
                    lost = true;
                    let _ = tx.send(LiveEvent::Lost(e.to_string()));
                    wake();
                }
                std::thread::sleep(RETRY);
                continue;
            }
        };
        if lost {
            lost = false;
            let _ = tx.send(LiveEvent::Back);
            wake();
        }
        while !stop.load(Ordering::Relaxed) {
            match store.wait_for_changes(&mut point, ROUND) {
                Ok(c) if c.is_empty() => {}
                Ok(c) => {
                    if tx.send(LiveEvent::Changed(c)).is_err() {
                        return; // the window is gone
                    }
                    wake();
                }
                Err(e) => {
                    lost = true;
                    let _ = tx.send(LiveEvent::Lost(e.to_string()));
                    wake();
                    break;
                }
            }
        }
    }
}
