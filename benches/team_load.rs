//! A team on one local PostgreSQL server (durable defaults, started by the bench): 20
//! simulated clients, each signed in with its own login, for 60 s. Annotators take the next
//! free document (a lease), add boxes and submit; reviewers take submitted documents into
//! review and accept them; leads read the stats report. Reports edits/s, p50/p99 edit latency,
//! conflicts and refusals, acknowledged edits lost (must be 0) and documents handed to two
//! people at once (must be 0).
//!
//! `cargo bench --bench team_load` (FACTURE_BENCH_SECS=20 for a shorter run,
//! FACTURE_BENCH_CLIENTS=N for another team size).

#[path = "../tests/common/pg.rs"]
mod pg;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use facture::app::stats::{StatsQuery, report};
use facture::app::{Command, CommandError, Session};
use facture::domain::{DocId, DocStatus, DocVerdict, Rect, Role};
use facture::store::{DocFilter, NewDocument, Store, StoreError, Workspace};

const DOCS: usize = 3000;
const BOXES_PER_DOC: usize = 12;
const LEASE_MS: i64 = 60_000;

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    /// (doc, box text) of every edit the client was told was saved.
    acked: Vec<(DocId, String)>,
    /// (doc, leased from, leased until) on the client's clock of the run.
    holds: Vec<(DocId, Instant, Instant)>,
    conflicts: usize,
    refusals: usize,
    errors: usize,
    docs_done: usize,
    reviews_done: usize,
    reports: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn password(login: &str) -> String {
    format!("bench-{login}-pw")
}

fn timed(t: &mut Tally, session: &mut Session, cmd: Command) -> Result<(), CommandError> {
    let started = Instant::now();
    let r = session.apply(cmd);
    match &r {
        Ok(_) => t.latencies.push(started.elapsed()),
        Err(CommandError::Store(StoreError::Conflict(_))) => t.conflicts += 1,
        Err(CommandError::Refused(_)) => t.refusals += 1,
        Err(_) => t.errors += 1,
    }
    r.map(|_| ())
}

/// The first document in `status` nobody else holds, now held by this client (after a short
/// pause, none, when there is none).
fn take_next(session: &mut Session, status: DocStatus, t: &mut Tally) -> Option<DocId> {
    let me = session.user().id;
    let filter = DocFilter { status: Some(status), ..Default::default() };
    let Ok(waiting) = session.store().documents(&filter) else {
        t.errors += 1;
        return None;
    };
    let candidates: Vec<DocId> = waiting.iter().take(64).map(|d| d.id).collect();
    match session.store_mut().take_first_free(me, &candidates, LEASE_MS) {
        Ok(Some(l)) => Some(l.doc),
        Ok(None) => {
            std::thread::sleep(Duration::from_millis(50));
            None
        }
        Err(_) => {
            t.errors += 1;
            None
        }
    }
}

fn annotate(session: &mut Session, stop: &AtomicBool, t: &mut Tally) {
    let me = session.user().id;
    while !stop.load(Ordering::Relaxed) {
        let Some(doc) = take_next(session, DocStatus::New, t) else { continue };
        let from = Instant::now();
        if session.mark_seen(doc).is_err() {
            t.errors += 1;
        }
        for b in 0..BOXES_PER_DOC {
            let text = format!("{}-{}-{b}", session.user().name, doc.0);
            let y = 20.0 + b as f32 * 30.0;
            let rect = Rect::new(10.0, y, 300.0, y + 20.0);
            let cmd = Command::AddBox { doc, rect, quad: None, label: None, text: text.clone() };
            if timed(t, session, cmd).is_ok() {
                t.acked.push((doc, text));
            }
        }
        if timed(t, session, Command::Submit { doc }).is_ok() {
            t.docs_done += 1;
        }
        let _ = session.store_mut().release_leases(me, None);
        t.holds.push((doc, from, Instant::now()));
    }
}

fn review(session: &mut Session, stop: &AtomicBool, t: &mut Tally) {
    let me = session.user().id;
    while !stop.load(Ordering::Relaxed) {
        let Some(doc) = take_next(session, DocStatus::Submitted, t) else { continue };
        let from = Instant::now();
        let _ = session.mark_seen(doc);
        let done = timed(t, session, Command::StartReview { doc })
            .and_then(|_| timed(t, session, Command::AcceptRemaining { doc }))
            .and_then(|_| {
                let finish = Command::FinishReview { doc, verdict: DocVerdict::Accept, comment: String::new() };
                timed(t, session, finish)
            });
        if done.is_ok() {
            t.reviews_done += 1;
        }
        let _ = session.store_mut().release_leases(me, None);
        t.holds.push((doc, from, Instant::now()));
    }
}

fn read_stats(session: &mut Session, stop: &AtomicBool, t: &mut Tally) {
    while !stop.load(Ordering::Relaxed) {
        match report(session.store_mut(), &StatsQuery::default()) {
            Ok(_) => t.reports += 1,
            Err(_) => t.errors += 1,
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn main() {
    // `cargo bench` passes --bench; nothing to parse
    let secs: u64 = std::env::var("FACTURE_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let clients: usize = std::env::var("FACTURE_BENCH_CLIENTS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let Some(server) = pg::server_with(pg::Mode::Durable) else {
        eprintln!("team_load: no PostgreSQL server; skipped");
        return;
    };
    let url = server.create_database();
    let ws = Workspace::parse(&url).expect("url");
    let mut admin = Store::create_at(&ws).expect("create");
    let pages: Vec<NewDocument> = (0..DOCS)
        .map(|i| NewDocument {
            path: format!("/bench/p{i}.png"),
            sha256: format!("{i:064x}"),
            page: 0,
            width: 2480,
            height: 3508,
        })
        .collect();
    admin.add_pages(&pages, 0).expect("pages");
    // 70 % annotators, 20 % reviewers, the rest leads
    let reviewers = (clients / 5).max(1);
    let leads = (clients / 10).max(1);
    let annotators = clients.saturating_sub(reviewers + leads).max(1);
    let mut team = Vec::new();
    for i in 0..clients {
        let (role, name) = if i < annotators {
            (Role::Annotator, format!("ann{i}"))
        } else if i < annotators + reviewers {
            (Role::Reviewer, format!("rev{i}"))
        } else {
            (Role::Lead, format!("lead{i}"))
        };
        admin.add_member_login(&name, role, &password(&name)).expect("member");
        team.push((name, role));
    }
    drop(admin);
    println!(
        "team_load: {clients} clients ({annotators} annotators, {reviewers} reviewers, {leads} leads), each its own \
         login, {secs} s, PostgreSQL with durable defaults on 127.0.0.1"
    );
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let tallies: Vec<(Role, Tally)> = std::thread::scope(|scope| {
        let workers: Vec<_> = team
            .iter()
            .map(|(name, role)| {
                let (ws, stop) = (&ws, &stop);
                scope.spawn(move || {
                    let me = ws.clone().as_user(name).with_password(&password(name));
                    let store = Store::connect(&me).expect("sign in");
                    let user = store.signed_in_member().expect("member").expect("a member's login");
                    let mut session = Session::new(store, user);
                    let mut t = Tally::default();
                    match role {
                        Role::Annotator => annotate(&mut session, stop, &mut t),
                        Role::Reviewer => review(&mut session, stop, &mut t),
                        Role::Lead => read_stats(&mut session, stop, &mut t),
                    }
                    (*role, t)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(secs));
        stop.store(true, Ordering::Relaxed);
        workers.into_iter().map(|w| w.join().expect("client")).collect()
    });
    let wall = started.elapsed();

    // ---- what the clients were told, against what the workspace holds ----
    let store = Store::connect(&ws).expect("connect");
    let mut by_doc: HashMap<DocId, Vec<String>> = HashMap::new();
    for (_, t) in &tallies {
        for (doc, text) in &t.acked {
            by_doc.entry(*doc).or_default().push(text.clone());
        }
    }
    let mut lost = 0;
    for (doc, texts) in &by_doc {
        let there: std::collections::HashSet<String> =
            store.annotations(*doc).expect("boxes").into_iter().map(|a| a.text).collect();
        lost += texts.iter().filter(|t| !there.contains(*t)).count();
    }
    // the same document held by two clients at overlapping times
    let mut holds: Vec<(DocId, Instant, Instant, usize)> = Vec::new();
    for (c, (_, t)) in tallies.iter().enumerate() {
        holds.extend(t.holds.iter().map(|&(d, a, b)| (d, a, b, c)));
    }
    holds.sort_by_key(|h| (h.0.0, h.1));
    let double = holds.windows(2).filter(|w| w[0].0 == w[1].0 && w[0].3 != w[1].3 && w[1].1 < w[0].2).count();

    let mut lat: Vec<Duration> = tallies.iter().flat_map(|(_, t)| t.latencies.iter().copied()).collect();
    lat.sort();
    let sum = |f: fn(&Tally) -> usize| tallies.iter().map(|(_, t)| f(t)).sum::<usize>();
    let edits = lat.len();
    println!("  edits saved        {edits} ({:.0}/s)", edits as f64 / wall.as_secs_f64());
    println!(
        "  edit latency       p50 {:.2} ms, p99 {:.2} ms (call until durable)",
        percentile(&lat, 0.50).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "  documents          {} annotated and submitted, {} reviewed and accepted",
        sum(|t| t.docs_done),
        sum(|t| t.reviews_done)
    );
    println!("  stats reports      {}", sum(|t| t.reports));
    println!(
        "  conflicts          {}, refusals {}, other errors {}",
        sum(|t| t.conflicts),
        sum(|t| t.refusals),
        sum(|t| t.errors)
    );
    println!("  acknowledged lost  {lost}");
    println!("  handed to two      {double}");
    let accepted =
        store.documents(&DocFilter { status: Some(DocStatus::Accepted), ..Default::default() }).map_or(0, |d| d.len());
    println!("  accepted in store  {accepted}");
    assert_eq!(lost, 0, "acknowledged edits were lost");
    assert_eq!(double, 0, "a document was handed to two people at once");
}
