//! Activity heartbeats: document open/close, window focus/blur and input at most every 30 s,
//! recorded in the workspace so active time can be derived honestly later. The tracker is pure
//! (times are passed in), so its throttling is tested without waiting.

use crate::domain::{DocId, TimestampMs, UserId};
use crate::store::{Store, StoreError};

/// At most one "input" heartbeat per this many milliseconds.
pub const INPUT_HEARTBEAT_MS: TimestampMs = 30_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    Open,
    Close,
    Focus,
    Blur,
    Input,
}

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Open => "open",
            ActivityKind::Close => "close",
            ActivityKind::Focus => "focus",
            ActivityKind::Blur => "blur",
            ActivityKind::Input => "input",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityEvent {
    pub ts_ms: TimestampMs,
    pub doc: Option<DocId>,
    pub kind: ActivityKind,
}

/// Turns what the window sees into throttled activity events, buffered until [`flush`](Self::flush).
#[derive(Debug, Clone)]
pub struct ActivityTracker {
    user: UserId,
    doc: Option<DocId>,
    focused: bool,
    last_input_ms: Option<TimestampMs>,
    pending: Vec<ActivityEvent>,
}

impl ActivityTracker {
    pub fn new(user: UserId) -> Self {
        Self { user, doc: None, focused: true, last_input_ms: None, pending: Vec::new() }
    }

    pub fn current_doc(&self) -> Option<DocId> {
        self.doc
    }

    /// The shown document changed (None: nothing shown any more).
    pub fn show_document(&mut self, doc: Option<DocId>, now: TimestampMs) {
        if doc == self.doc {
            return;
        }
        if let Some(old) = self.doc {
            self.push(now, Some(old), ActivityKind::Close);
        }
        self.doc = doc;
        if doc.is_some() {
            self.push(now, doc, ActivityKind::Open);
            // opening counts as input: the next heartbeat is due 30 s from now
            self.last_input_ms = Some(now);
        }
    }

    pub fn focus_changed(&mut self, focused: bool, now: TimestampMs) {
        if focused == self.focused {
            return;
        }
        self.focused = focused;
        let kind = if focused { ActivityKind::Focus } else { ActivityKind::Blur };
        self.push(now, self.doc, kind);
        if focused {
            self.last_input_ms = Some(now);
        }
    }

    /// The user did something (key, click, pointer move) at `now`.
    pub fn input(&mut self, now: TimestampMs) {
        let due = self.last_input_ms.is_none_or(|last| now - last >= INPUT_HEARTBEAT_MS || now < last);
        if due {
            self.last_input_ms = Some(now);
            self.push(now, self.doc, ActivityKind::Input);
        }
    }

    /// Closing the window: closes the open document.
    pub fn close(&mut self, now: TimestampMs) {
        self.show_document(None, now);
    }

    pub fn pending(&self) -> &[ActivityEvent] {
        &self.pending
    }

    /// Writes buffered events; on error they stay buffered and are retried on the next flush.
    pub fn flush(&mut self, store: &mut Store) -> Result<usize, StoreError> {
        let n = self.pending.len();
        write(store, self.user, &mut self.pending)?;
        Ok(n)
    }

    /// The buffered events, to be written elsewhere (the window's store worker).
    pub fn take_pending(&mut self) -> Vec<ActivityEvent> {
        std::mem::take(&mut self.pending)
    }

    /// Events that could not be written go back in front of newer ones, for the next flush.
    pub fn put_back(&mut self, mut events: Vec<ActivityEvent>) {
        events.append(&mut self.pending);
        self.pending = events;
    }

    fn push(&mut self, ts_ms: TimestampMs, doc: Option<DocId>, kind: ActivityKind) {
        self.pending.push(ActivityEvent { ts_ms, doc, kind });
    }
}

/// Writes `events` as `user`'s, oldest first; each one written leaves `events`, so on an error
/// what is left is exactly what is still to be written.
pub fn write(store: &mut Store, user: UserId, events: &mut Vec<ActivityEvent>) -> Result<(), StoreError> {
    let mut done = 0;
    let result = events.iter().try_for_each(|e| {
        store.record_activity(e.ts_ms, user, e.doc, e.kind.as_str())?;
        done += 1;
        Ok(())
    });
    events.drain(..done);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActivityKind::*;

    fn kinds(t: &ActivityTracker) -> Vec<(TimestampMs, ActivityKind)> {
        t.pending().iter().map(|e| (e.ts_ms, e.kind)).collect()
    }

    #[test]
    fn input_heartbeats_are_throttled_to_one_per_30_seconds() {
        let mut t = ActivityTracker::new(UserId(1));
        t.show_document(Some(DocId(7)), 1_000);
        // continuous input for two minutes, one event every 100 ms
        for now in (1_000..121_000).step_by(100) {
            t.input(now);
        }
        let ev = kinds(&t);
        assert_eq!(ev, vec![(1_000, Open), (31_000, Input), (61_000, Input), (91_000, Input)]);
        // a quiet minute, then input: heartbeat at once
        t.input(200_000);
        assert_eq!(kinds(&t).last(), Some(&(200_000, Input)));
        assert!(t.pending().iter().all(|e| e.doc == Some(DocId(7))));
    }

    #[test]
    fn open_close_focus_blur_and_a_clock_going_backwards() {
        let mut t = ActivityTracker::new(UserId(1));
        t.input(0);
        t.show_document(Some(DocId(1)), 10);
        t.show_document(Some(DocId(1)), 20); // same doc: nothing
        t.focus_changed(false, 30);
        t.focus_changed(false, 31);
        t.focus_changed(true, 40);
        t.show_document(Some(DocId(2)), 50);
        t.input(5); // clock stepped back: do not go silent for 30 s
        t.close(60);
        assert_eq!(
            kinds(&t),
            vec![(0, Input), (10, Open), (30, Blur), (40, Focus), (50, Close), (50, Open), (5, Input), (60, Close)]
        );
        assert_eq!(t.pending()[4].doc, Some(DocId(1)));
        assert_eq!(t.pending()[5].doc, Some(DocId(2)));
    }

    #[test]
    fn flush_writes_to_the_store() {
        let mut store = Store::open_in_memory().unwrap();
        let user = store.add_user("alice", crate::domain::Role::Annotator).unwrap();
        let mut t = ActivityTracker::new(user.id);
        t.input(100);
        t.focus_changed(false, 200);
        assert_eq!(t.flush(&mut store).unwrap(), 2);
        assert!(t.pending().is_empty());
        let rows = store.activity(user.id).unwrap();
        assert_eq!(rows, vec![(100, None, "input".to_string()), (200, None, "blur".to_string())]);
    }
}
