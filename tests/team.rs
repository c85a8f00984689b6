//! A team on a server workspace: each member signs in with a login of their own, and the
//! server, not only the library, holds every session to its member's rules. Plain SQL under
//! each role's own login tries each forbidden write; every one is refused with a permission
//! error (SQLSTATE 42501), and the work each role may do still goes through.

mod common;

use common::pg;
use facture::app::{Command, Session};
use facture::domain::{DocId, DocStatus, DocVerdict, Rect, Role, UserId};
use facture::store::{Store, StoreError, Workspace};
use postgres::error::SqlState;

struct Team {
    ws: Workspace,
    admin_url: String,
    docs: Vec<DocId>,
    tag: &'static str,
}

fn password(name: &str) -> String {
    format!("pw-{name}-7")
}

/// A fresh server workspace with members `TAG_lea` (lead), `TAG_ann` (annotator) and
/// `TAG_rex` (reviewer), each with a login; login names are per test (roles are server-wide).
fn team(tag: &'static str, docs: usize) -> Option<Team> {
    let admin_url = pg::fresh_database()?;
    let ws = Workspace::parse(&admin_url).unwrap();
    let docs = common::workspace(&ws, docs);
    let mut admin = Store::connect(&ws).unwrap();
    for (name, role) in [("lea", Role::Lead), ("ann", Role::Annotator), ("rex", Role::Reviewer)] {
        let login = format!("{tag}_{name}");
        let added = admin.add_member_login(&login, role, &password(&login)).unwrap();
        assert!(added.created_login, "a new login for {login}");
        assert_eq!((added.user.name.as_str(), added.user.role), (login.as_str(), role));
    }
    Some(Team { ws, admin_url, docs, tag })
}

impl Team {
    fn login(&self, who: &str) -> String {
        format!("{}_{who}", self.tag)
    }

    fn url(&self, who: &str) -> String {
        let login = self.login(who);
        let creds = format!("{}:{}@", pg::ADMIN, pg::ADMIN_PASSWORD);
        assert!(self.admin_url.contains(&creds));
        self.admin_url.replace(&creds, &format!("{login}:{}@", password(&login)))
    }

    /// A plain SQL connection under `who`'s own login, as `psql` would have.
    fn sql(&self, who: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(who), postgres::NoTls).unwrap_or_else(|e| panic!("{who}: {e}"))
    }

    /// The window's or the CLI's session: signed in as `who`, acting as the member that is.
    fn session(&self, who: &str) -> Session {
        let ws = self.ws.clone().as_user(&self.login(who)).with_password(&password(&self.login(who)));
        let store = Store::connect(&ws).unwrap_or_else(|e| panic!("{who}: {e}"));
        let me = store.signed_in_member().unwrap().expect("a member's login is that member");
        assert_eq!(me.name, self.login(who));
        assert!(!store.acts_for_anyone().unwrap());
        Session::new(store, me)
    }

    fn id(&self, who: &str) -> UserId {
        let store = Store::connect(&self.ws).unwrap();
        store.user_by_name(&self.login(who)).unwrap().unwrap().id
    }

    fn status(&self, doc: DocId) -> DocStatus {
        Store::connect(&self.ws).unwrap().document(doc).unwrap().status
    }
}

/// SQL that opens round 1 of `doc` with `reviewer` as its reviewer.
fn open_round(doc: DocId, reviewer: UserId) -> String {
    format!(
        "INSERT INTO review_rounds (doc_id, number, reviewer, annotator, started_ms, start_edit)
         VALUES ({}, 1, {}, NULL, 0, 0)",
        doc.0, reviewer.0
    )
}

/// The real window on `ws` (signed in by its login), driven headlessly, once connected.
fn window_of(ws: Workspace) -> egui_kittest::Harness<'static, facture::ui::FactureApp> {
    use facture::ui::{FactureApp, ScriptedDialogs};
    let mut app = FactureApp::new(ws, false, None, Box::new(ScriptedDialogs::default()));
    app.wait_connected();
    let mut h = egui_kittest::Harness::builder().with_size([1280.0, 800.0]).with_max_steps(200).build_ui_state(
        |ui, app: &mut FactureApp| {
            app.frame_ui(ui);
            app.wait_for_answers();
        },
        app,
    );
    h.run();
    h
}

/// `sql` is refused with a permission error.
#[track_caller]
fn refused(client: &mut postgres::Client, sql: &str) {
    match client.batch_execute(sql) {
        Ok(()) => panic!("the server let this through: {sql}"),
        Err(e) => assert_eq!(e.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{sql}: {e}"),
    }
}

fn add_box(s: &mut Session, doc: DocId, text: &str) {
    s.apply(Command::AddBox {
        doc,
        rect: Rect::new(10.0, 10.0, 90.0, 30.0),
        quad: None,
        label: None,
        text: text.into(),
    })
    .unwrap();
}

#[test]
fn each_role_is_refused_every_forbidden_write_through_plain_sql() {
    let Some(t) = team("perm", 3) else { return };
    let (a, b, c) = (t.docs[0], t.docs[1], t.docs[2]);
    let (ann, rex, lea) = (t.id("ann"), t.id("rex"), t.id("lea"));
    // the lead assigns document a to the annotator, b to the reviewer (so he annotated it)
    let mut lead = t.session("lea");
    lead.apply(Command::Assign { doc: a, annotator: Some(ann) }).unwrap();
    lead.apply(Command::Assign { doc: b, annotator: Some(rex) }).unwrap();
    // the annotator works on a under her own name and submits it
    let mut annotator = t.session("ann");
    add_box(&mut annotator, a, "INV-1");
    annotator.apply(Command::Submit { doc: a }).unwrap();
    assert_eq!(t.status(a), DocStatus::Submitted);
    let logged = Store::connect(&t.ws).unwrap().edits_on(a).unwrap();
    assert!(logged.iter().filter(|e| e.action != "assign").all(|e| e.user == Some(ann)), "{logged:?}");

    // ---- the annotator's own login ----
    let mut sql = t.sql("ann");
    // accept a document, or give a verdict
    refused(&mut sql, &format!("UPDATE documents SET status = 'accepted' WHERE id = {}", a.0));
    refused(&mut sql, &format!("UPDATE documents SET status = 'in_review' WHERE id = {}", a.0));
    refused(&mut sql, &open_round(a, ann));
    // the schema, the people, the objectives
    refused(&mut sql, "UPDATE labels SET color = '#000000'");
    refused(&mut sql, "INSERT INTO labels (name, color, guideline, position) VALUES ('x', '#000000', '', 99)");
    refused(&mut sql, "DELETE FROM labels");
    refused(&mut sql, &format!("UPDATE users SET role = 'lead' WHERE id = {}", ann.0));
    refused(&mut sql, "INSERT INTO users (name, role, created_ms) VALUES ('mallory', 'lead', 0)");
    refused(&mut sql, "INSERT INTO objectives (user_id, metric, op, target) VALUES (NULL, 'docs_per_hour', '>=', 1)");
    refused(&mut sql, "UPDATE meta SET value = 'x' WHERE key = 'workspace_id'");
    refused(&mut sql, &format!("UPDATE documents SET assignee = {} WHERE id = {}", ann.0, c.0));
    // an edit, a comment or an activity under somebody else's name
    refused(
        &mut sql,
        &format!(
            "INSERT INTO edits (ts_ms, user_id, doc_id, action, kind, changes) VALUES (0, {}, {}, 'set_text', 'do', '[]')",
            lea.0, c.0
        ),
    );
    refused(
        &mut sql,
        &format!("INSERT INTO comments (doc_id, author, ts_ms, text) VALUES ({}, {}, 0, 'fine by me')", a.0, rex.0),
    );
    refused(&mut sql, &format!("INSERT INTO activity (ts_ms, user_id, kind) VALUES (0, {}, 'open')", rex.0));
    // the log is never rewritten
    refused(&mut sql, &format!("UPDATE edits SET user_id = {}", lea.0));
    refused(&mut sql, "DELETE FROM edits");
    // submitted work is out of her hands (CVAT #10361)
    refused(&mut sql, &format!("UPDATE annotations SET text = 'changed' WHERE doc_id = {}", a.0));
    refused(&mut sql, &format!("DELETE FROM annotations WHERE doc_id = {}", a.0));
    // a document assigned to someone else
    refused(
        &mut sql,
        &format!(
            "INSERT INTO annotations (doc_id, x0, y0, x1, y1, text, source, text_source, state, author, created_ms, updated_ms)
             VALUES ({}, 0, 0, 1, 1, 'x', 'manual', 'manual', 'active', {}, 0, 0)",
            b.0, ann.0
        ),
    );
    // what she may do under her own name still goes through
    sql.batch_execute(&format!("INSERT INTO activity (ts_ms, user_id, kind) VALUES (0, {}, 'open')", ann.0)).unwrap();

    // ---- the reviewer's own login ----
    let mut sql = t.sql("rex");
    // a document he annotated (assigned to him)
    refused(&mut sql, &open_round(b, rex));
    // a round under another reviewer's name
    refused(&mut sql, &open_round(a, lea));
    refused(&mut sql, "UPDATE labels SET hotkey = 'q'");
    refused(&mut sql, "INSERT INTO objectives (user_id, metric, op, target) VALUES (NULL, 'docs_per_hour', '>=', 1)");
    refused(&mut sql, &format!("UPDATE documents SET status = 'accepted' WHERE id = {}", a.0));
    refused(
        &mut sql,
        &format!(
            "INSERT INTO edits (ts_ms, user_id, doc_id, action, kind, changes) VALUES (0, {}, {}, 'submit', 'do', '[]')",
            ann.0, a.0
        ),
    );
    // the library's path: he reviews the annotator's document and accepts it
    let mut reviewer = t.session("rex");
    reviewer.apply(Command::StartReview { doc: a }).unwrap();
    reviewer.apply(Command::AcceptRemaining { doc: a }).unwrap();
    // the annotator cannot give verdicts in his round either
    let round = Store::connect(&t.ws).unwrap().rounds(a).unwrap()[0].id;
    let mut ann_sql = t.sql("ann");
    refused(
        &mut ann_sql,
        &format!(
            "INSERT INTO box_verdicts (round_id, ann_id, x0, y0, x1, y1, verdict, comment, reviewer, ts_ms)
             VALUES ({}, 999, 0, 0, 1, 1, 'ok', '', {}, 0)",
            round.0, ann.0
        ),
    );
    refused(&mut ann_sql, &format!("UPDATE box_verdicts SET verdict = 'wrong_text' WHERE round_id = {}", round.0));
    reviewer.apply(Command::FinishReview { doc: a, verdict: DocVerdict::Accept, comment: String::new() }).unwrap();
    assert_eq!(t.status(a), DocStatus::Accepted);
    // accepted: frozen for its annotator, and nobody may quietly reopen it
    refused(&mut ann_sql, &format!("UPDATE annotations SET text = 'late' WHERE doc_id = {}", a.0));
    refused(&mut ann_sql, &format!("UPDATE documents SET status = 'in_progress' WHERE id = {}", a.0));

    // ---- the lead: a lead may shape the workspace, but never review her own work ----
    let mut sql = t.sql("lea");
    sql.batch_execute("UPDATE labels SET color = '#112233' WHERE position = 0").unwrap();
    add_box(&mut lead, c, "lead's box");
    lead.apply(Command::Submit { doc: c }).unwrap();
    refused(&mut sql, &open_round(c, lea));
    refused(
        &mut sql,
        &format!(
            "INSERT INTO edits (ts_ms, user_id, doc_id, action, kind, changes) VALUES (0, {}, {}, 'set_text', 'do', '[]')",
            ann.0, c.0
        ),
    );
}

#[test]
fn a_login_that_is_no_member_cannot_connect_and_a_removed_member_writes_nothing() {
    let Some(t) = team("stranger", 1) else { return };
    let server = pg::server().unwrap();
    server.create_role("stranger_eve", "pw-eve-7");
    let url = t.admin_url.replace(&format!("{}:{}@", pg::ADMIN, pg::ADMIN_PASSWORD), "stranger_eve:pw-eve-7@");
    // the database's CONNECT belongs to the team now
    match postgres::Client::connect(&url, postgres::NoTls) {
        Ok(_) => panic!("a login that is no member connected to the workspace"),
        Err(e) => assert_eq!(e.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{e}"),
    }
    let ws = Workspace::parse(&url).unwrap();
    assert!(matches!(Store::connect(&ws), Err(StoreError::NotAMember { .. })));
    // in the team's group role but no member (removed from the workspace, say): she may
    // connect and read, and the triggers refuse every write she tries
    let mut admin = postgres::Client::connect(&t.admin_url, postgres::NoTls).unwrap();
    let team: String = admin
        .query_one("SELECT 'facture_team_' || oid::text FROM pg_database WHERE datname = current_database()", &[])
        .unwrap()
        .get(0);
    admin.batch_execute(&format!("GRANT {team} TO stranger_eve")).unwrap();
    let mut sql = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    refused(&mut sql, "INSERT INTO activity (ts_ms, user_id, kind) VALUES (0, 1, 'open')");
    refused(&mut sql, "UPDATE documents SET status = 'accepted'");
    refused(
        &mut sql,
        "INSERT INTO documents (path, sha256, page, width, height, status, imported_ms) VALUES ('x', 'y', 0, 1, 1, 'new', 0)",
    );
    // the library says the same in its own words
    match Store::connect(&ws) {
        Err(e @ StoreError::NotAMember { .. }) => {
            let said = e.to_string();
            assert!(said.contains("stranger_eve is not a member") && !said.contains("pw-eve"), "{said}");
        }
        other => panic!("expected 'not a member', got {:?}", other.map(|_| "a store")),
    }
}

#[test]
fn the_cli_adds_a_member_whose_password_comes_from_standard_input_and_who_then_signs_in() {
    use std::process::Command as Cmd;
    let Some(t) = team("cli", 1) else { return };
    let shown = t.ws.to_string();
    let add_as = |url: &str, pgpassword: &str, name: &str, role: &str, stdin: &str| {
        let mut cmd = Cmd::new(env!("CARGO_BIN_EXE_facture"));
        cmd.args(["users", url, "add", name, "--role", role]).env("PGPASSWORD", pgpassword);
        common::output_with_stdin(&mut cmd, stdin)
    };
    let add = |name: &str, role: &str, stdin: &str| add_as(&shown, pg::ADMIN_PASSWORD, name, role, stdin);
    let out = add("cli_otto", "annotator", "otto's pass\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("added cli_otto (annotator)") && said.contains("new login"), "{said}");
    assert!(!said.contains("otto's pass"));
    // no password: nothing is added
    let out = add("cli_nopw", "annotator", "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("needs a password"), "{err}");
    assert!(Store::connect(&t.ws).unwrap().user_by_name("cli_nopw").unwrap().is_none());
    // an annotator cannot add anyone, whatever she pipes in
    let as_otto = t.ws.clone().as_user("cli_otto").to_string();
    let out = add_as(&as_otto, "otto's pass", "cli_mallory", "lead", "mallory's\n");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused") && err.trim().lines().count() == 1, "{err}");
    assert!(Store::connect(&t.ws).unwrap().user_by_name("cli_mallory").unwrap().is_none());
    let roles = pg::server().unwrap().admin().query("SELECT 1 FROM pg_roles WHERE rolname = 'cli_mallory'", &[]);
    assert_eq!(roles.unwrap().len(), 0, "no login was made either");
    // otto signs in with what was piped, and is otto
    let otto = Store::connect(&t.ws.clone().as_user("cli_otto").with_password("otto's pass")).unwrap();
    let me = otto.signed_in_member().unwrap().unwrap();
    assert_eq!((me.name.as_str(), me.role), ("cli_otto", Role::Annotator));
    // a wrong password is a refused login
    let wrong = Store::connect(&t.ws.clone().as_user("cli_otto").with_password("guess"));
    assert!(matches!(wrong, Err(StoreError::Login { .. })), "{:?}", wrong.err());
}

#[test]
fn the_owner_acts_for_anyone_and_a_member_without_a_login_gets_one() {
    let Some(t) = team("owner", 1) else { return };
    let mut admin = Store::connect(&t.ws).unwrap();
    assert!(admin.acts_for_anyone().unwrap());
    assert!(admin.signed_in_member().unwrap().is_none());
    // "ann" was added without a login (as `facture migrate` brings members from a file)
    let before = admin.user_by_name("ann").unwrap().unwrap();
    let added = admin.add_member_login("ann", Role::Annotator, "pw-ann-owner").unwrap();
    assert_eq!(added.user.id, before.id, "the same member, now with a login");
    assert!(matches!(admin.add_member_login("ann", Role::Annotator, "again"), Err(StoreError::Invalid(_))));
    let logins = admin.member_logins().unwrap();
    assert!(logins.iter().any(|(id, l)| *id == before.id && l == "ann"), "{logins:?}");
}

#[test]
fn a_live_lease_is_enforced_by_the_server_and_only_a_lead_breaks_it() {
    let Some(t) = team("lease", 1) else { return };
    let doc = t.docs[0];
    let (ann, rex) = (t.id("ann"), t.id("rex"));
    // the annotator holds the document (as her window does on opening it)
    let mut annotator = t.session("ann");
    let lease = annotator.store_mut().take_lease(ann, doc, 60_000).unwrap().unwrap();
    assert_eq!(lease.holder, ann);
    add_box(&mut annotator, doc, "INV-9");
    // another member cannot take it over, shorten it, end it, or edit beside it
    let mut sql = t.sql("rex");
    refused(&mut sql, &format!("UPDATE leases SET holder = {} WHERE doc_id = {}", rex.0, doc.0));
    refused(&mut sql, &format!("UPDATE leases SET expires_ms = 0 WHERE doc_id = {}", doc.0));
    refused(&mut sql, &format!("DELETE FROM leases WHERE doc_id = {}", doc.0));
    refused(
        &mut sql,
        &format!(
            "INSERT INTO leases (doc_id, holder, taken_ms, expires_ms) VALUES ({}, {}, 0, 0)
             ON CONFLICT (doc_id) DO UPDATE SET holder = excluded.holder",
            doc.0, ann.0
        ),
    );
    // another annotator, free to work on this unassigned new document otherwise, cannot add a
    // box while ann's lease is live, and can once it is gone
    Store::connect(&t.ws).unwrap().add_member_login("lease_bob", Role::Annotator, &password("lease_bob")).unwrap();
    let bob = t.id("bob");
    let mut bob_sql = t.sql("bob");
    let new_box = format!(
        "INSERT INTO annotations (doc_id, x0, y0, x1, y1, text, source, text_source, state, author, created_ms, updated_ms)
         VALUES ({}, 0, 0, 1, 1, 'x', 'manual', 'manual', 'active', {}, 0, 0)",
        doc.0, bob.0
    );
    refused(&mut bob_sql, &new_box);
    // a lead's own login breaks it
    let mut lead = t.sql("lea");
    lead.batch_execute(&format!("DELETE FROM leases WHERE doc_id = {}", doc.0)).unwrap();
    assert!(Store::connect(&t.ws).unwrap().live_lease(doc).unwrap().is_none());
    bob_sql.batch_execute(&new_box).unwrap();
}

#[test]
fn clients_ride_out_a_server_crash_and_every_edit_they_were_told_was_saved_is_there() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};
    let Some(server) = pg::PgServer::private(pg::Mode::Durable) else { return };
    let url = server.create_database();
    let ws = Workspace::parse(&url).unwrap();
    const CLIENTS: usize = 4;
    let docs = common::workspace(&ws, CLIENTS);
    let mut admin = Store::connect(&ws).unwrap();
    for i in 0..CLIENTS {
        admin.add_member_login(&format!("crash_{i}"), Role::Annotator, &password(&format!("crash_{i}"))).unwrap();
    }
    drop(admin);
    let stop = AtomicBool::new(false);
    let crashed_at: std::sync::Mutex<Option<Instant>> = std::sync::Mutex::new(None);
    // each client annotates its own page as fast as it can, under its own login, and keeps
    // the texts of the boxes it was told were saved; a failure is retried with a new box
    let results: Vec<(Vec<String>, usize, usize)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let (ws, docs, stop, crashed_at) = (&ws, &docs, &stop, &crashed_at);
                scope.spawn(move || {
                    let login = format!("crash_{i}");
                    let me = ws.clone().as_user(&login).with_password(&password(&login));
                    let store = Store::connect(&me).unwrap();
                    let user = store.signed_in_member().unwrap().unwrap();
                    let mut session = Session::new(store, user);
                    let (mut acked, mut failed, mut after_restart) = (Vec::new(), 0, 0);
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let text = format!("{login}-{n}");
                        let cmd = Command::AddBox {
                            doc: docs[i],
                            rect: Rect::new(1.0, 1.0 + n as f32, 50.0, 10.0 + n as f32),
                            quad: None,
                            label: None,
                            text: text.clone(),
                        };
                        match session.apply(cmd) {
                            Ok(_) => {
                                acked.push(text);
                                if crashed_at.lock().unwrap().is_some() && failed > 0 {
                                    after_restart += 1;
                                }
                            }
                            Err(_) => {
                                failed += 1;
                                std::thread::sleep(Duration::from_millis(50));
                            }
                        }
                    }
                    (acked, failed, after_restart)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(1500));
        server.kill(); // pg_ctl stop -m immediate, in the middle of it all
        *crashed_at.lock().unwrap() = Some(Instant::now());
        std::thread::sleep(Duration::from_millis(800));
        server.restart();
        std::thread::sleep(Duration::from_millis(2500));
        stop.store(true, Ordering::Relaxed);
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let store = Store::connect(&ws).unwrap();
    for (i, (acked, failed, after_restart)) in results.iter().enumerate() {
        assert!(*failed > 0, "client {i} never noticed the crash");
        assert!(*after_restart > 0, "client {i} did not resume after the restart");
        let there: std::collections::HashSet<String> =
            store.annotations(docs[i]).unwrap().into_iter().map(|a| a.text).collect();
        let lost: Vec<&String> = acked.iter().filter(|t| !there.contains(*t)).collect();
        assert!(lost.is_empty(), "client {i}: {} edits acknowledged and lost: {lost:?}", lost.len());
    }
}

#[test]
fn two_windows_on_a_server_see_each_others_work_live() {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use facture::ui::{After, FactureApp};
    use std::time::Duration;
    let Some(t) = team("live", 2) else { return };
    let window = |who: &str| {
        let h = window_of(t.ws.clone().as_user(&t.login(who)).with_password(&password(&t.login(who))));
        assert!(h.state().annotator().is_some(), "{who} signs in and works");
        h
    };
    let until = |h: &mut Harness<'_, FactureApp>, done: &dyn Fn(&FactureApp) -> bool| {
        let t0 = std::time::Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            h.step();
            if done(h.state()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        false
    };
    let mut ann = window("ann");
    let mut lead = window("lea");
    let doc = ann.state().annotator().unwrap().document().unwrap().id;
    assert_ne!(lead.state().annotator().unwrap().document().unwrap().id, doc, "each was handed a page of their own");
    // the annotator's queue learns that the lead took the other page...
    let on_it = format!("{} on it", t.login("lea"));
    let shown = |h: &mut Harness<'_, FactureApp>, want: bool| {
        let t0 = std::time::Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            h.step();
            if h.query_by_label(&on_it).is_some() == want {
                return true;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        false
    };
    assert!(shown(&mut ann, true), "the annotator's queue never showed the lead's page as taken");
    // ...and that it is free again when the lead moves to the annotator's page (read-only)
    lead.state_mut().annotator_mut().unwrap().open_document(doc);
    lead.run();
    assert!(lead.query_by_label_contains(&format!("{} is working on this page", t.login("ann"))).is_some());
    assert!(shown(&mut ann, false), "the annotator's queue never learnt the lead's page was free");
    {
        let a = ann.state_mut().annotator_mut().unwrap();
        a.push(
            Command::AddBox {
                doc,
                rect: Rect::new(5.0, 5.0, 90.0, 25.0),
                quad: None,
                label: None,
                text: "Total 12,00".into(),
            },
            After::Nothing,
        );
        a.apply_pending();
    }
    let shows = |app: &FactureApp| app.annotator().unwrap().annotations().iter().any(|b| b.text == "Total 12,00");
    assert!(until(&mut lead, &shows), "the lead's window never showed the annotator's box");
}

#[test]
fn an_edit_made_while_the_server_is_down_waits_unsaved_and_is_sent_when_it_is_back() {
    use egui_kittest::kittest::Queryable;
    use facture::ui::After;
    use std::time::Duration;
    let Some(server) = pg::PgServer::private(pg::Mode::Durable) else { return };
    let url = server.create_database();
    let ws = Workspace::parse(&url).unwrap();
    let doc = common::workspace(&ws, 1)[0];
    Store::connect(&ws).unwrap().add_member_login("down_ann", Role::Annotator, &password("down_ann")).unwrap();
    let mut h = window_of(ws.clone().as_user("down_ann").with_password(&password("down_ann")));
    assert_eq!(h.state().annotator().expect("signed in").document().unwrap().id, doc);
    server.kill();
    {
        let a = h.state_mut().annotator_mut().unwrap();
        let rect = Rect::new(10.0, 10.0, 120.0, 30.0);
        a.push(Command::AddBox { doc, rect, quad: None, label: None, text: "made offline".into() }, After::Nothing);
        a.apply_pending();
        a.wait_for_store();
        assert_eq!(a.unsent_edits(), 1, "kept, not dropped");
        assert!(a.shows_unsaved(), "the box is marked as not saved on the canvas");
        assert!(!matches!(a.status(), facture::ui::Status::Saved), "never reported as saved");
    }
    h.step();
    assert!(h.query_by_label_contains("1 edit(s) not saved yet").is_some(), "the window shows it waits");
    // closing now would lose it: the window stays and asks
    assert!(!h.state_mut().on_close_requested(), "the window does not close with an edit not saved");
    h.step();
    h.step(); // (a modal's first frame only measures it)
    assert!(h.query_by_label_contains("If you close it now, they are lost").is_some());
    h.get_by_label("Keep the window open").click();
    h.step();
    h.step();
    assert!(!h.state().is_asking_to_close());
    assert!(!h.state_mut().on_close_requested(), "asks again");
    server.restart();
    let t0 = std::time::Instant::now();
    while h.state().annotator().unwrap().edits_not_saved() > 0 && t0.elapsed() < Duration::from_secs(30) {
        h.step();
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(h.state().annotator().unwrap().unsent_edits(), 0, "sent once the server was back");
    h.step();
    assert!(!h.state().is_asking_to_close(), "saved: the window closes as it was asked to");
    assert!(h.state_mut().on_close_requested(), "nothing left to lose");
    let boxes = Store::connect(&ws).unwrap().annotations(doc).unwrap();
    assert_eq!(boxes.iter().filter(|b| b.text == "made offline").count(), 1, "saved exactly once");
}

#[test]
fn a_slow_server_never_holds_up_the_frame_and_the_edit_shows_as_saving_until_it_lands() {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use facture::ui::{After, FactureApp, ScriptedDialogs};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;
    let Some(server) = pg::PgServer::private(pg::Mode::Durable) else { return };
    let url = server.create_database();
    let ws = Workspace::parse(&url).unwrap();
    let doc = common::workspace(&ws, 1)[0];
    Store::connect(&ws).unwrap().add_member_login("slow_ann", Role::Annotator, &password("slow_ann")).unwrap();
    let member = ws.clone().as_user("slow_ann").with_password(&password("slow_ann"));
    let mut app = FactureApp::new(member, false, None, Box::new(ScriptedDialogs::default()));
    app.wait_connected();
    app.wait_for_store();
    // frames as the real window runs them: nothing here waits for the store's answers
    let mut h = Harness::builder()
        .with_size([1280.0, 800.0])
        .with_max_steps(200)
        .build_ui_state(|ui, app: &mut FactureApp| app.frame_ui(ui), app);
    h.run();
    assert_eq!(h.state().annotator().expect("signed in").document().unwrap().id, doc);

    // another session locks the boxes' table: every read and write of boxes waits for it
    let mut locker = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let pid: i32 = locker.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
    locker.batch_execute("BEGIN; LOCK TABLE annotations IN ACCESS EXCLUSIVE MODE").unwrap();
    // a watchdog ends the lock if the window ever blocks on it, so a regression fails the
    // test instead of hanging it
    let (freed, done) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let watchdog = {
        let (freed, done, url) = (freed.clone(), done.clone(), url.clone());
        std::thread::spawn(move || {
            let t0 = std::time::Instant::now();
            while !done.load(Ordering::SeqCst) {
                if t0.elapsed() > Duration::from_secs(60) {
                    freed.store(true, Ordering::SeqCst);
                    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                    admin.execute("SELECT pg_terminate_backend($1)", &[&pid]).unwrap();
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let text = "typed while the server is slow";
    {
        let a = h.state_mut().annotator_mut().unwrap();
        let rect = Rect::new(10.0, 10.0, 160.0, 30.0);
        a.push(Command::AddBox { doc, rect, quad: None, label: None, text: text.into() }, After::SelectCreated);
        a.apply_pending();
    }
    // frames keep coming while the store cannot answer, and the box is on the canvas, marked
    let mut frames = 0;
    while !h.state().annotator().unwrap().shows_unsaved() && frames < 2000 {
        h.step();
        frames += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    h.step();
    assert!(!freed.load(Ordering::SeqCst), "a frame waited for the locked store");
    {
        let a = h.state().annotator().unwrap();
        assert!(a.shows_unsaved(), "the drawn box is marked as not saved");
        assert_eq!(a.edits_not_saved(), 1);
        let drawn = a.annotations().iter().find(|b| b.text == text).expect("the drawn box shows at once");
        assert_eq!(a.selection(), vec![drawn.id], "and is selected, ready to label");
        assert!(!matches!(a.status(), facture::ui::Status::Saved), "never reported as saved");
    }
    assert!(h.query_by_label_contains("Saving…").is_some(), "the status line says it is saving");

    locker.batch_execute("COMMIT").unwrap();
    let t0 = std::time::Instant::now();
    while h.state().annotator().unwrap().edits_not_saved() > 0 && t0.elapsed() < Duration::from_secs(30) {
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    done.store(true, Ordering::SeqCst);
    watchdog.join().unwrap();
    h.step();
    let a = h.state().annotator().unwrap();
    assert_eq!(a.edits_not_saved(), 0, "saved once the lock was gone");
    assert!(!a.shows_unsaved());
    assert!(matches!(a.status(), facture::ui::Status::Saved));
    let saved = Store::connect(&ws).unwrap().annotations(doc).unwrap();
    let ours: Vec<_> = saved.iter().filter(|b| b.text == text).collect();
    assert_eq!(ours.len(), 1, "saved exactly once");
    let shown = a.annotations().iter().find(|b| b.text == text).unwrap();
    assert_eq!(shown.id, ours[0].id, "the window shows it under the store's id now");
    assert_eq!(a.selection(), vec![ours[0].id], "still selected");
}

#[test]
fn a_lead_merges_labels_used_on_accepted_documents_and_only_leads_set_documents_aside() {
    let Some(t) = team("shape", 2) else { return };
    let doc = t.docs[0];
    let currency = Store::connect(&t.ws).unwrap().labels().unwrap().into_iter().find(|l| l.name == "currency").unwrap();
    let mut ann = t.session("ann");
    ann.apply(Command::AddBox {
        doc,
        rect: Rect::new(10.0, 10.0, 90.0, 30.0),
        quad: None,
        label: Some(currency.id),
        text: "EUR".into(),
    })
    .unwrap();
    // accepted behind the app's back (the owner may): no one edits its boxes any more…
    let mut admin = postgres::Client::connect(&t.admin_url, postgres::NoTls).unwrap();
    admin.batch_execute(&format!("UPDATE documents SET status='accepted' WHERE id={}", doc.0)).unwrap();
    refused(&mut t.sql("lea"), &format!("UPDATE annotations SET text='USD' WHERE doc_id={}", doc.0));
    // …but a lead's merge relabels its box
    let into = Store::connect(&t.ws).unwrap().labels().unwrap().into_iter().find(|l| l.name == "other_text").unwrap();
    let out = facture::app::schema::apply(
        &mut t.session("lea"),
        facture::app::schema::SchemaOp::Merge { from: currency.id, into: into.id },
    )
    .unwrap();
    assert_eq!(out.boxes, 1);
    let boxes = Store::connect(&t.ws).unwrap().annotations(doc).unwrap();
    assert_eq!(boxes[0].label, Some(into.id));
    // setting documents aside is a lead's, on the server too
    refused(&mut t.sql("ann"), &format!("UPDATE documents SET shelved='deleted' WHERE id={}", t.docs[1].0));
    refused(&mut t.sql("rex"), &format!("UPDATE documents SET priority=3 WHERE id={}", t.docs[1].0));
    t.session("lea").apply(Command::Shelve { doc: t.docs[1], shelf: Some(facture::domain::Shelf::Archived) }).unwrap();
    let err = ann.apply(Command::Shelve { doc: t.docs[1], shelf: None }).unwrap_err();
    assert!(err.to_string().contains("only a lead"), "{err}");
}
