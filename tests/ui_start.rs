//! The start screen with a team workspace on a real PostgreSQL server, driven headlessly
//! (egui_kittest): a password is asked for and never remembered, an empty database can be made
//! a workspace, and a server address typed in connects.

mod common;

use eframe::egui::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable, by};
use facture::domain::Role as UserRole;
use facture::store::{Store, Workspace};
use facture::ui::{FactureApp, ScriptedDialogs};

fn harness(mut app: FactureApp) -> Harness<'static, FactureApp> {
    app.wait_connected();
    let mut h = Harness::builder().with_size([1280.0, 800.0]).with_max_steps(200).build_ui_state(
        |ui, app: &mut FactureApp| {
            app.frame_ui(ui);
            app.wait_for_answers();
        },
        app,
    );
    h.run();
    h
}

/// Steps until a connection the window started (on its worker) has its answer, then runs.
fn settle(h: &mut Harness<'static, FactureApp>) {
    h.step(); // the frame that takes the click
    let t0 = std::time::Instant::now();
    while h.state().is_connecting() && t0.elapsed() < std::time::Duration::from_secs(30) {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    h.step();
    h.run();
}

/// Focuses the field labelled `label` and types `text` into it.
fn type_into(h: &mut Harness<'static, FactureApp>, role: Role, label: &str, text: &str) {
    h.get_by_role_and_label(role, label).focus();
    h.run();
    h.get_by_role_and_label(role, label).type_text(text);
    h.run();
}

#[test]
fn a_server_workspace_asks_for_a_password_and_never_keeps_it() {
    let Some(server) = common::pg::server() else { return };
    let url = server.create_database();
    let mut store = Store::create_at(&Workspace::parse(&url).unwrap()).unwrap();
    store.add_user("lea", UserRole::Lead).unwrap();
    drop(store);
    let db = url.rsplit('/').next().unwrap().to_string();
    let without = Workspace::parse(&server.url_without_password(&db)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("settings.json");
    let app = FactureApp::new(without.clone(), false, Some(settings.clone()), Box::new(ScriptedDialogs::default()));
    let mut h = harness(app);
    // a wrong password first: refused, and asked again
    assert_eq!(h.get_by_role_and_label(Role::TextInput, "Name").value().as_deref(), Some("facture_admin"));
    type_into(&mut h, Role::PasswordInput, "Password", "not-it");
    h.get_by_label("Sign in").click();
    settle(&mut h);
    assert!(h.query_by_label("lea").is_none(), "a wrong password must not get in");
    assert!(h.query_by_label_contains("refused the login").is_some(), "the refusal is shown");
    type_into(&mut h, Role::PasswordInput, "Password", common::pg::ADMIN_PASSWORD);
    h.get_by_label("Sign in").click();
    settle(&mut h);
    // the owner's login is no member's: it acts for one
    assert!(h.query_by_label_contains("whom do you act for").is_some());
    h.get_by_label("lea").click();
    h.run();
    h.get_by_label("Continue as lea").click();
    h.run();
    let a = h.state().annotator().expect("working now");
    assert_eq!(a.user().name, "lea");
    assert!(a.workspace().is_postgres());
    // remembered by address, never by password
    let saved = std::fs::read_to_string(&settings).unwrap();
    assert!(saved.contains(&without.to_string()), "{saved}");
    assert!(!saved.contains(common::pg::ADMIN_PASSWORD), "{saved}");
}

#[test]
fn an_empty_database_becomes_a_workspace_from_the_start_screen() {
    let Some(server) = common::pg::server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("local.sqlite");
    Store::create(&file).unwrap();
    let app = FactureApp::new(file, false, None, Box::new(ScriptedDialogs::default()));
    let mut h = harness(app);
    // typed into the start screen's server field
    let url = server.create_database();
    type_into(&mut h, Role::TextInput, "Team workspace on a server", &url);
    h.get_by_label("Connect to server").click();
    settle(&mut h);
    h.get_by_label("Create a Facture workspace in this database").click();
    settle(&mut h);
    assert!(h.query_by_label_contains("Nobody works in this workspace yet").is_some());
    let store = Store::connect(&Workspace::parse(&url).unwrap()).unwrap();
    assert_eq!(store.labels().unwrap().len(), 19, "a workspace with the default schema");
}

#[test]
fn the_workspace_menu_leads_to_a_team_server_ready_for_its_address() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("local.sqlite");
    Store::create(&file).unwrap().add_user("ann", UserRole::Annotator).unwrap();
    let app = FactureApp::new(file, false, None, Box::new(ScriptedDialogs::default()));
    let mut h = harness(app);
    h.get_by_label("ann").click();
    h.run();
    h.get_by_label("Continue as ann").click();
    h.run();
    assert!(h.state().annotator().is_some());
    h.get_by_label("Workspace").click();
    h.run();
    h.get_by_label("Team workspace on a server…").click();
    h.run();
    assert!(h.state().annotator().is_none(), "back on the start screen");
    // the address goes straight in: the field already has the cursor
    h.get_by_role_and_label(Role::TextInput, "Team workspace on a server")
        .type_text("postgres://ann:secret@127.0.0.1:1/invoices");
    h.run();
    h.get_by_label("Connect to server").click();
    settle(&mut h);
    // nothing listens on port 1: the address that was tried is named, without its password
    let messages: Vec<String> = h
        .query_all(by().role(Role::Label).predicate(|n| n.value().is_some_and(|v| v.contains("127.0.0.1:1"))))
        .filter_map(|n| n.accesskit_node().value())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("failed")),
        "the server that could not be reached is named: {messages:?}"
    );
    assert!(messages.iter().all(|m| !m.contains("secret")), "{messages:?}");
    assert!(h.state().annotator().is_none());
}

#[test]
fn a_member_signs_in_with_name_and_password_and_is_nobody_else() {
    let Some(server) = common::pg::server() else { return };
    let url = server.create_database();
    let ws = Workspace::parse(&url).unwrap();
    let mut store = Store::create_at(&ws).unwrap();
    store.add_user("lea", UserRole::Lead).unwrap();
    store.add_member_login("ui_ann", UserRole::Annotator, "ann's secret").unwrap();
    drop(store);
    let db = url.rsplit('/').next().unwrap().to_string();
    let without = Workspace::parse(&server.url_without_password(&db)).unwrap();
    let app = FactureApp::new(without, false, None, Box::new(ScriptedDialogs::default()));
    let mut h = harness(app);
    // no list of people to pick from: a name and a password
    assert!(h.query_by_label("lea").is_none());
    h.get_by_role_and_label(Role::TextInput, "Name").focus();
    h.run();
    h.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::A);
    h.run();
    h.get_by_role_and_label(Role::TextInput, "Name").type_text("ui_ann");
    h.run();
    type_into(&mut h, Role::PasswordInput, "Password", "ann's secret");
    h.get_by_label("Sign in").click();
    settle(&mut h);
    let a = h.state().annotator().expect("straight to work, as the member this login is");
    assert_eq!(a.user().name, "ui_ann");
    assert_eq!(a.workspace().user(), Some("ui_ann"));
    // "Switch user" asks the next person to sign in, rather than offering ui_ann again
    h.get_by_label("Workspace").click();
    h.run();
    h.get_by_label("Switch user (ui_ann)…").click();
    h.run();
    assert!(h.state().annotator().is_none());
    assert_eq!(h.get_by_role_and_label(Role::TextInput, "Name").value().as_deref(), Some(""));
    assert!(h.query_by_label("ui_ann").is_none());
}

/// `facture ARGS` with `stdin` piped in.
fn facture_with_stdin(args: &[&str], stdin: &str) -> std::process::Output {
    common::output_with_stdin(std::process::Command::new(env!("CARGO_BIN_EXE_facture")).args(args), stdin)
}

#[test]
fn a_shared_workstations_file_asks_each_person_for_their_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shared.sqlite");
    let ws = file.to_str().unwrap();
    let mut store = Store::create(&file).unwrap();
    store.add_user("ann", UserRole::Annotator).unwrap();
    store.add_user("lea", UserRole::Lead).unwrap();
    drop(store);
    // asking before everyone has one is refused, naming who lacks one
    let out = facture_with_stdin(&["users", ws, "sign-in", "required"], "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ann, lea") && err.trim().lines().count() == 1, "{err}");
    for (name, pass) in [("ann", "ann's long phrase"), ("lea", "lea's long phrase")] {
        let out = facture_with_stdin(&["users", ws, "passphrase", name], &format!("{pass}\n"));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let out = facture_with_stdin(&["users", ws, "sign-in", "required"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // stored as salted argon2id hashes, never as typed
    let store = Store::open(&file).unwrap();
    let ann = store.user_by_name("ann").unwrap().unwrap();
    let phc = store.passphrase_hash(ann.id).unwrap().unwrap();
    assert!(phc.starts_with("$argon2id$") && !phc.contains("long phrase"), "{phc}");
    assert!(std::fs::read(&file).unwrap().windows(4).all(|w| w != b"ann'"), "the passphrase is nowhere in the file");
    drop(store);

    // the window remembers ann on this workstation, but does not let her in without it
    let settings = dir.path().join("settings.json");
    std::fs::write(&settings, format!(r#"{{"users": {{"{}": "ann"}}}}"#, file.canonicalize().unwrap().display()))
        .unwrap();
    let app = FactureApp::new(file.clone(), false, Some(settings), Box::new(ScriptedDialogs::default()));
    let mut h = harness(app);
    assert!(h.state().annotator().is_none(), "no way in without the passphrase");
    h.get_by_label("ann").click();
    h.run();
    type_into(&mut h, Role::PasswordInput, "Passphrase", "lea's long phrase");
    h.get_by_label("Continue as ann").click();
    h.run();
    assert!(h.state().annotator().is_none(), "someone else's passphrase does not open ann's session");
    assert!(h.query_by_label_contains("wrong passphrase").is_some());
    type_into(&mut h, Role::PasswordInput, "Passphrase", "ann's long phrase");
    h.get_by_label("Continue as ann").click();
    h.run();
    assert_eq!(h.state().annotator().expect("signed in").user().name, "ann");
    // a server workspace has logins instead
    if let Some(server) = common::pg::server() {
        let url = server.create_database();
        Store::create_at(&Workspace::parse(&url).unwrap()).unwrap();
        let out = facture_with_stdin(&["users", &url, "sign-in", "required"], "");
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("logins"));
    }
}

#[test]
fn a_server_that_does_not_answer_never_freezes_the_window() {
    // a port that accepts connections and then says nothing, as a server behind a dead link
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let ws = Workspace::parse(&format!("postgres://ann:pw@127.0.0.1:{port}/invoices")).unwrap();
    let app = FactureApp::new(ws, false, None, Box::new(ScriptedDialogs::default()));
    // new() returned while the connection is still being made, on a worker
    assert!(app.is_connecting());
    // frames as the window runs them: nothing waits for the connection
    let mut h =
        Harness::builder().with_size([1280.0, 800.0]).build_ui_state(|ui, app: &mut FactureApp| app.frame_ui(ui), app);
    for _ in 0..5 {
        h.step();
    }
    assert!(h.query_by_label("Connecting…").is_some(), "the window draws and says what it is doing");
    assert!(h.state().is_connecting());
    // the rest of the start screen stays usable meanwhile
    assert!(h.query_by_label("Open another workspace…").is_some());
    drop(silent);
}
