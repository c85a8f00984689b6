//! Holding the document one works on: the window takes a lease when a document opens for
//! editing, renews it on a heartbeat, gives it back when moving on, and learns when it was
//! lost (a workstation that slept past the expiry, a lead who broke it).

use std::time::{Duration, Instant};

use super::commands::Session;
use crate::domain::{DocId, Document, Lease};
use crate::store::StoreError;

/// How long a lease lasts without a heartbeat: a crashed or disconnected workstation's
/// document goes back to the queue after this.
pub const LEASE_TTL: Duration = Duration::from_secs(180);
/// How often the window renews its lease.
pub const HEARTBEAT: Duration = Duration::from_secs(30);

/// Whether this person may work on a document now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Theirs until they move on.
    Mine(Lease),
    /// Someone else's: `name` is working on it until `until_ms` (the store's clock).
    HeldBy { name: String, until_ms: i64 },
    /// Nothing to hold: they only look at it.
    Viewing,
}

/// The lease one window holds.
#[derive(Debug)]
pub struct LeaseKeeper {
    held: Option<DocId>,
    last_beat: Instant,
    ttl: Duration,
    heartbeat: Duration,
}

impl Default for LeaseKeeper {
    fn default() -> Self {
        Self::new(LEASE_TTL)
    }
}

impl LeaseKeeper {
    pub fn new(ttl: Duration) -> Self {
        Self { held: None, last_beat: Instant::now(), ttl, heartbeat: HEARTBEAT.min(ttl / 3) }
    }

    /// How often [`LeaseKeeper::heartbeat`] renews (a third of the lease's life by default).
    pub fn with_heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = every;
        self
    }

    pub fn heartbeat_interval(&self) -> Duration {
        self.heartbeat
    }

    fn ttl_ms(&self) -> i64 {
        self.ttl.as_millis() as i64
    }

    pub fn held(&self) -> Option<DocId> {
        self.held
    }

    /// Opens `doc`: gives back the lease on the previous one, and takes one on this one when
    /// `to_edit` (a document they may change now).
    pub fn claim(&mut self, session: &mut Session, doc: &Document, to_edit: bool) -> Result<Claim, StoreError> {
        let me = session.user().id;
        let keep = to_edit.then_some(doc.id);
        if self.held.is_some() && self.held != keep {
            session.store_mut().release_leases(me, keep)?;
            self.held = None;
        }
        if !to_edit {
            return Ok(Claim::Viewing);
        }
        let ttl = self.ttl_ms();
        match session.store_mut().take_lease(me, doc.id, ttl)? {
            Ok(lease) => {
                self.held = Some(doc.id);
                self.last_beat = Instant::now();
                Ok(Claim::Mine(lease))
            }
            Err(theirs) => {
                let name = session.store().user(theirs.holder).map_or_else(|_| "someone else".into(), |u| u.name);
                Ok(Claim::HeldBy { name, until_ms: theirs.expires_ms })
            }
        }
    }

    /// The first of `candidates` nobody else is working on, now leased to this person.
    pub fn claim_first_free(
        &mut self,
        session: &mut Session,
        candidates: &[DocId],
    ) -> Result<Option<Lease>, StoreError> {
        let me = session.user().id;
        let ttl = self.ttl_ms();
        let lease = session.store_mut().take_first_free(me, candidates, ttl)?;
        if let Some(l) = &lease {
            if self.held.is_some_and(|d| d != l.doc) {
                session.store_mut().release_leases(me, Some(l.doc))?;
            }
            self.held = Some(l.doc);
            self.last_beat = Instant::now();
        }
        Ok(lease)
    }

    /// Renews the lease when a heartbeat is due. `Ok(false)`: it was lost meanwhile (expired
    /// and taken, or broken by a lead); the document is no longer this person's.
    pub fn heartbeat(&mut self, session: &mut Session, now: Instant) -> Result<bool, StoreError> {
        let Some(doc) = self.held else { return Ok(true) };
        if now.duration_since(self.last_beat) < self.heartbeat {
            return Ok(true);
        }
        let ttl = self.ttl_ms();
        let me = session.user().id;
        let renewed = session.store_mut().renew_leases(me, ttl)?;
        self.last_beat = now;
        if renewed.iter().any(|l| l.doc == doc) {
            return Ok(true);
        }
        self.held = None;
        Ok(false)
    }

    /// Gives everything back (leaving the workspace).
    pub fn release_all(&mut self, session: &mut Session) -> Result<(), StoreError> {
        self.held = None;
        let me = session.user().id;
        session.store_mut().release_leases(me, None)
    }
}
