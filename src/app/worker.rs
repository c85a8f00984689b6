//! One thread that owns some state (a person's [`super::desk::Desk`]: their connection to
//! the workspace) and runs jobs on it in the order they were given. A job returns a *reply*:
//! a closure the window applies to its own state when it polls, on its own thread. So the
//! frame never waits on the store, and everything the window shows arrives by channel.
//!
//! Order is the point: edits, reads after them and lease changes run one after another,
//! exactly as the window asked, so a read never overtakes the edit before it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};

/// What a job hands back to the window: applied to the window's state `T` when it polls.
pub type Reply<T> = Box<dyn FnOnce(&mut T) + Send>;
type Job<S, T> = Box<dyn FnOnce(&mut S) -> Reply<T> + Send>;
type Waker = Arc<Mutex<Option<Box<dyn Fn() + Send>>>>;

/// The handle the window keeps. Dropping it lets the thread finish the jobs already given
/// and end.
pub struct Worker<S, T> {
    jobs: Option<Sender<Job<S, T>>>,
    replies: Receiver<Reply<T>>,
    /// Jobs given whose reply has not been polled yet.
    outstanding: usize,
    /// When the oldest outstanding job was given (a window shows "saving…" after a while).
    since: Option<Instant>,
    waker: Waker,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl<S: Send + 'static, T: 'static> Worker<S, T> {
    /// Starts the thread with `state`; `name` shows in debuggers and panics.
    pub fn start(name: &str, mut state: S) -> std::io::Result<Self> {
        let (jobs, job_rx) = unbounded::<Job<S, T>>();
        let (reply_tx, replies) = unbounded::<Reply<T>>();
        let waker: Waker = Arc::new(Mutex::new(None));
        let wake = waker.clone();
        let thread = std::thread::Builder::new().name(name.into()).spawn(move || {
            for job in job_rx {
                let reply = job(&mut state);
                if reply_tx.send(reply).is_err() {
                    break; // the window is gone
                }
                if let Ok(w) = wake.lock()
                    && let Some(w) = w.as_ref()
                {
                    w();
                }
            }
        })?;
        Ok(Self { jobs: Some(jobs), replies, outstanding: 0, since: None, waker, thread: Some(thread) })
    }
}

impl<S, T> Worker<S, T> {
    /// Called from the worker thread whenever a reply is ready (the window repaints).
    pub fn set_waker(&self, wake: impl Fn() + Send + 'static) {
        if let Ok(mut w) = self.waker.lock() {
            *w = Some(Box::new(wake));
        }
    }

    /// Gives the thread a job. Returns false when the thread is gone (it panicked), in which
    /// case the job did not run.
    pub fn submit(&mut self, job: impl FnOnce(&mut S) -> Reply<T> + Send + 'static) -> bool {
        let Some(tx) = &self.jobs else { return false };
        if tx.send(Box::new(job)).is_err() {
            return false;
        }
        self.outstanding += 1;
        self.since.get_or_insert_with(Instant::now);
        true
    }

    /// The replies that arrived, in order (never blocks).
    pub fn poll(&mut self) -> Vec<Reply<T>> {
        let got: Vec<_> = self.replies.try_iter().collect();
        self.took(got.len());
        got
    }

    /// Waits until every job given so far has replied, or `timeout` passed, and returns the
    /// replies. For leaving a workspace, scripts and tests; the window never calls it per frame.
    pub fn wait_idle(&mut self, timeout: Duration) -> Vec<Reply<T>> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        while got.len() < self.outstanding {
            match self.replies.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(r) => got.push(r),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    self.outstanding = got.len(); // the thread died: nothing more will come
                    break;
                }
            }
        }
        self.took(got.len());
        got
    }

    /// Waits until the answers to every job given so far are there (or `timeout`), without
    /// taking them: the next [`Worker::poll`] does. Tests use it to make each frame of a
    /// kittest run deterministic.
    pub fn wait_answered(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.replies.len() < self.outstanding && Instant::now() < deadline {
            if self.jobs.is_none() || self.thread.as_ref().is_some_and(|t| t.is_finished()) {
                return;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    fn took(&mut self, n: usize) {
        self.outstanding = self.outstanding.saturating_sub(n);
        if self.outstanding == 0 {
            self.since = None;
        } else if n > 0 {
            self.since = Some(Instant::now());
        }
    }

    /// Jobs given whose replies have not been taken yet.
    pub fn outstanding(&self) -> usize {
        self.outstanding
    }

    /// How long the window has been waiting for the oldest reply, if it waits.
    pub fn waiting_for(&self) -> Option<Duration> {
        self.since.map(|t| t.elapsed())
    }
}

impl<S, T> Drop for Worker<S, T> {
    fn drop(&mut self) {
        self.jobs = None; // the thread ends after the jobs it has
        if let Ok(mut w) = self.waker.lock() {
            *w = None;
        }
        // not joined: a job stuck on a dead network must not hold up closing the window
        drop(self.thread.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Shown(Vec<u32>);

    #[test]
    fn jobs_run_in_order_and_replies_arrive_in_order() {
        let mut w: Worker<Vec<u32>, Shown> = Worker::start("test-worker", Vec::new()).unwrap();
        for i in 0..50u32 {
            assert!(w.submit(move |log: &mut Vec<u32>| {
                log.push(i);
                let seen = log.clone();
                Box::new(move |shown: &mut Shown| {
                    // the state the job saw holds every earlier job, in order
                    assert_eq!(seen, (0..=i).collect::<Vec<_>>());
                    shown.0.push(i);
                })
            }));
        }
        let mut shown = Shown::default();
        for r in w.wait_idle(Duration::from_secs(10)) {
            r(&mut shown);
        }
        assert_eq!(shown.0, (0..50).collect::<Vec<_>>());
        assert_eq!(w.outstanding(), 0);
        assert!(w.waiting_for().is_none());
    }

    #[test]
    fn poll_never_blocks_on_a_slow_job_and_the_waker_fires() {
        let woke = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut w: Worker<(), Shown> = Worker::start("test-worker", ()).unwrap();
        let counter = woke.clone();
        w.set_waker(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        let (gate_tx, gate_rx) = crossbeam_channel::bounded::<()>(1);
        w.submit(move |_| {
            let _ = gate_rx.recv(); // the "network" answers when the test says so
            Box::new(|s: &mut Shown| s.0.push(1))
        });
        let t0 = Instant::now();
        assert!(w.poll().is_empty());
        assert!(t0.elapsed() < Duration::from_secs(1));
        assert_eq!(w.outstanding(), 1);
        assert!(w.waiting_for().is_some());
        gate_tx.send(()).unwrap();
        let got = w.wait_idle(Duration::from_secs(10));
        assert_eq!(got.len(), 1);
        // the waker runs just after the answer is sent: give it its moment
        let t0 = Instant::now();
        while woke.load(std::sync::atomic::Ordering::SeqCst) == 0 && t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(woke.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn a_panicking_job_ends_the_wait_instead_of_hanging_it() {
        let mut w: Worker<(), Shown> = Worker::start("test-worker", ()).unwrap();
        w.submit(|_| panic!("boom"));
        let got = w.wait_idle(Duration::from_secs(10));
        assert!(got.is_empty());
        assert_eq!(w.outstanding(), 0);
        assert!(!w.submit(|_| Box::new(|_: &mut Shown| {})), "a dead worker refuses new jobs");
    }
}
