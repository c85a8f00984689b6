//! No two people on one page, on both backends: people asking for work at the same moment
//! never get the same document, a lease keeps everyone else's edits off a document, an
//! expired one goes back to the queue (also when its holder was killed with SIGKILL), and a
//! lead can break one.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use common::backend::{Backend, on_each_backend};
use facture::app::leases::LeaseKeeper;
use facture::app::{Command, CommandError};
use facture::domain::{DocId, Rect, Role};
use facture::store::{Store, Workspace};

on_each_backend!(
    people_asking_at_the_same_moment_never_get_the_same_document,
    a_lease_keeps_other_peoples_edits_off_a_document_until_it_ends,
    an_expired_lease_goes_back_to_the_queue_and_a_lead_can_break_one,
    a_killed_holders_document_reaches_someone_else_after_the_expiry,
    an_edit_built_on_what_someone_else_changed_meanwhile_is_refused,
    a_watching_connection_learns_what_others_changed,
);

const PEOPLE: usize = 8;

fn people(ws: &Workspace) {
    let mut s = Store::connect(ws).unwrap();
    for i in 0..PEOPLE {
        s.add_user(&format!("p{i}"), Role::Annotator).unwrap();
    }
    s.add_user("lea", Role::Lead).unwrap();
}

fn add_box(session: &mut facture::app::Session, doc: DocId) -> Result<facture::app::Outcome, CommandError> {
    session.apply(Command::AddBox {
        doc,
        rect: Rect::new(5.0, 5.0, 50.0, 20.0),
        quad: None,
        label: None,
        text: "x".into(),
    })
}

fn people_asking_at_the_same_moment_never_get_the_same_document(b: &Backend) {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 40);
    people(&ws);
    let start = std::sync::Barrier::new(PEOPLE);
    let handed: Vec<Vec<DocId>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PEOPLE)
            .map(|i| {
                let (ws, docs, start) = (&ws, &docs, &start);
                scope.spawn(move || {
                    let mut session = common::session(ws, &format!("p{i}"));
                    let me = session.user().id;
                    start.wait();
                    // each takes three documents, one after the other, as "next" would
                    (0..3)
                        .map(|_| {
                            let lease = session.store_mut().take_first_free(me, docs, 60_000).unwrap().unwrap();
                            assert_eq!(lease.holder, me);
                            // keeps it: the lease is only given back when moving on, which
                            // these workers do not do
                            lease.doc
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    // a person's own lease counts as free to them: each got the same document three times,
    // and no document went to two people
    let firsts: Vec<DocId> = handed.iter().map(|h| h[0]).collect();
    assert!(handed.iter().all(|h| h.iter().all(|d| *d == h[0])), "{handed:?}");
    let distinct: BTreeSet<DocId> = firsts.iter().copied().collect();
    assert_eq!(distinct.len(), PEOPLE, "a document went to two people: {firsts:?}");
    // and they are the first ones of the queue
    assert_eq!(distinct, docs[..PEOPLE].iter().copied().collect::<BTreeSet<_>>());
    assert_eq!(Store::connect(&ws).unwrap().live_leases().unwrap().len(), PEOPLE);
}

fn a_lease_keeps_other_peoples_edits_off_a_document_until_it_ends(b: &Backend) {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 2);
    people(&ws);
    let mut p0 = common::session(&ws, "p0");
    let mut p1 = common::session(&ws, "p1");
    let mut keeper = LeaseKeeper::default();
    let doc = p0.store().document(docs[0]).unwrap();
    let claim = keeper.claim(&mut p0, &doc, true).unwrap();
    assert!(matches!(claim, facture::app::leases::Claim::Mine(_)), "{claim:?}");
    add_box(&mut p0, docs[0]).unwrap();
    // p1 is refused, by name, and p1's own claim says who has it
    match add_box(&mut p1, docs[0]) {
        Err(CommandError::Refused(m)) => assert!(m.contains("p0 is working on this document"), "{m}"),
        other => panic!("{other:?}"),
    }
    let mut other = LeaseKeeper::default();
    match other.claim(&mut p1, &doc, true).unwrap() {
        facture::app::leases::Claim::HeldBy { name, until_ms } => {
            assert_eq!(name, "p0");
            assert!(until_ms > p1.store().clock_ms().unwrap());
        }
        c => panic!("{c:?}"),
    }
    // the other document is free
    add_box(&mut p1, docs[1]).unwrap();
    // p0 moves on (views the other document): the first is free again
    let next = p0.store().document(docs[1]).unwrap();
    assert_eq!(keeper.claim(&mut p0, &next, false).unwrap(), facture::app::leases::Claim::Viewing);
    add_box(&mut p1, docs[0]).unwrap();
    assert_eq!(p1.store().annotations(docs[0]).unwrap().len(), 2);
}

fn an_expired_lease_goes_back_to_the_queue_and_a_lead_can_break_one(b: &Backend) {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 1);
    people(&ws);
    let doc = docs[0];
    let mut s0 = Store::connect(&ws).unwrap();
    let mut s1 = Store::connect(&ws).unwrap();
    let (p0, p1) = (s0.user_by_name("p0").unwrap().unwrap().id, s0.user_by_name("p1").unwrap().unwrap().id);
    let lease = s0.take_lease(p0, doc, 600).unwrap().unwrap();
    assert!(lease.expires_ms - lease.taken_ms == 600);
    assert_eq!(s1.take_lease(p1, doc, 60_000).unwrap().unwrap_err().holder, p0);
    assert_eq!(s1.take_first_free(p1, &docs, 60_000).unwrap(), None, "nothing else to hand out");
    std::thread::sleep(Duration::from_millis(700));
    // expired: anyone's, and the renewal p0's window would send finds nothing to renew
    assert!(s1.live_lease(doc).unwrap().is_none());
    assert_eq!(s0.renew_leases(p0, 600).unwrap(), vec![]);
    assert_eq!(s1.take_lease(p1, doc, 60_000).unwrap().unwrap().holder, p1);
    // a lead breaks p1's lease and takes the document
    let lead = s0.user_by_name("lea").unwrap().unwrap().id;
    assert!(s0.break_lease(doc).unwrap());
    assert!(!s0.break_lease(doc).unwrap(), "nothing left to break");
    assert_eq!(s0.take_lease(lead, doc, 60_000).unwrap().unwrap().holder, lead);
    assert_eq!(s1.renew_leases(p1, 60_000).unwrap(), vec![], "p1 learns it is no longer theirs");
}

/// Run as a child process (`LEASE_HOLDER_WS` set): takes the lease on document 1 as p0 for
/// the given time, says so, and waits to be killed.
#[test]
fn lease_holder_child() {
    let Ok(ws) = std::env::var("LEASE_HOLDER_WS") else { return };
    let ttl: i64 = std::env::var("LEASE_HOLDER_TTL_MS").unwrap().parse().unwrap();
    let ws = Workspace::parse(&ws).unwrap();
    let mut store = Store::connect(&ws).unwrap();
    let me = store.user_by_name("p0").unwrap().unwrap().id;
    let lease = store.take_lease(me, DocId(1), ttl).unwrap().unwrap();
    println!("held {} until {}", lease.doc.0, lease.expires_ms);
    // (killed long before this; bounded so a failed parent leaves nothing running)
    std::thread::sleep(Duration::from_secs(60));
}

fn a_killed_holders_document_reaches_someone_else_after_the_expiry(b: &Backend) {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 1);
    assert_eq!(docs[0], DocId(1));
    people(&ws);
    let ttl_ms = 1500;
    let mut child = Process::new(std::env::current_exe().unwrap())
        .args(["--exact", "lease_holder_child", "--nocapture", "--test-threads=1"])
        .env("LEASE_HOLDER_WS", ws.to_string()) // its password comes in cli_env
        .env("LEASE_HOLDER_TTL_MS", ttl_ms.to_string())
        .envs(b.cli_env())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // (libtest may print "test lease_holder_child ... " on the same line first)
    let held = lines.find_map(|l| l.ok().filter(|l| l.contains("held 1 until "))).expect("the child took the lease");
    let until: i64 = held.rsplit(' ').next().unwrap().parse().unwrap();
    child.kill().unwrap(); // SIGKILL: no chance to give anything back
    child.wait().unwrap();
    let mut store = Store::connect(&ws).unwrap();
    let p1 = store.user_by_name("p1").unwrap().unwrap().id;
    // held until the expiry, then handed to the next person who asks
    let started = Instant::now();
    let lease = loop {
        match store.take_first_free(p1, &docs, 60_000).unwrap() {
            Some(l) => break l,
            None => {
                assert!(started.elapsed() < Duration::from_secs(30), "never handed on");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    };
    assert_eq!(lease.doc, docs[0]);
    assert!(lease.taken_ms >= until, "handed on at {} before the expiry at {until}", lease.taken_ms);
}

fn an_edit_built_on_what_someone_else_changed_meanwhile_is_refused(b: &Backend) {
    let ws = b.fresh();
    let doc = common::workspace(&ws, 1)[0];
    people(&ws);
    let mut p0 = common::session(&ws, "p0");
    let mut p1 = common::session(&ws, "p1");
    let id = add_box(&mut p0, doc).unwrap().created_boxes()[0];
    // both windows show the box as it is now
    p0.mark_seen(doc).unwrap();
    p1.mark_seen(doc).unwrap();
    // p1 retypes it first; p0's retype was built on the old text and is refused
    p1.apply(Command::SetText { doc, id, text: "from p1".into() }).unwrap();
    match p0.apply(Command::SetText { doc, id, text: "from p0".into() }) {
        Err(CommandError::Store(facture::store::StoreError::Conflict(m))) => {
            assert!(m.contains("p1 changed this document after you loaded it"), "{m}")
        }
        other => panic!("a stale edit went through: {other:?}"),
    }
    let store = Store::connect(&ws).unwrap();
    assert_eq!(store.annotation(id).unwrap().text, "from p1", "nothing was overwritten");
    let edits = store.edits_on(doc).unwrap().len();
    // once p0's window shows the new state, p0's edits apply, one after the other
    p0.mark_seen(doc).unwrap();
    p0.apply(Command::SetText { doc, id, text: "from p0".into() }).unwrap();
    add_box(&mut p0, doc).unwrap();
    assert_eq!(store.annotation(id).unwrap().text, "from p0");
    assert_eq!(store.edits_on(doc).unwrap().len(), edits + 2, "the refused edit left no trace");
}

fn a_watching_connection_learns_what_others_changed(b: &Backend) {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 2);
    people(&ws);
    let mut watcher = Store::connect(&ws).unwrap();
    let mut point = watcher.watch().unwrap();
    // nothing happens: nothing to report, after the time asked for
    let t0 = Instant::now();
    assert!(watcher.wait_for_changes(&mut point, Duration::from_millis(300)).unwrap().is_empty());
    assert!(t0.elapsed() >= Duration::from_millis(250));
    let mut p0 = common::session(&ws, "p0");
    let p0_id = p0.user().id;
    add_box(&mut p0, docs[1]).unwrap();
    add_box(&mut p0, docs[1]).unwrap();
    let mut seen = facture::store::Changes::default();
    let t0 = Instant::now();
    while seen.docs.is_empty() && t0.elapsed() < Duration::from_secs(10) {
        seen = watcher.wait_for_changes(&mut point, Duration::from_secs(2)).unwrap();
    }
    assert_eq!(seen.docs, vec![(docs[1], Some(p0_id))], "one entry per document and person");
    // reported once: the next wait starts after it
    assert!(watcher.wait_for_changes(&mut point, Duration::from_millis(300)).unwrap().docs.is_empty());
    // someone takes a document: no edit, but the queue must learn it
    p0.store_mut().take_lease(p0_id, docs[0], 60_000).unwrap().unwrap();
    let mut leases = false;
    let t0 = Instant::now();
    while !leases && t0.elapsed() < Duration::from_secs(10) {
        leases = watcher.wait_for_changes(&mut point, Duration::from_secs(2)).unwrap().leases;
    }
    assert!(leases, "a lease taken was never reported");
}
