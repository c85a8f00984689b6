//! The start screen: who you are in this workspace (remembered per workstation), a new user
//! inline, and other workspaces to open or create.

use eframe::egui;

use egui::RichText;

use crate::domain::{Role, User};
use crate::store::{Store, StoreError, Workspace};

pub struct StartScreen {
    pub workspace: Workspace,
    pub store: Option<Store>,
    pub users: Vec<User>,
    pub selected: Option<String>,
    pub new_name: String,
    pub new_role: Role,
    pub error: Option<String>,
    /// A server workspace with no password known yet (none in its URL, `PGPASSWORD` or
    /// `~/.pgpass`, or the one tried was refused): the screen asks for one.
    pub needs_password: bool,
    /// What is typed into the password field (kept in memory only).
    pub password: String,
    /// The name to sign in with on a server (its login).
    pub login_name: String,
    /// On a server: the member this sign-in is (who then works without picking a name).
    pub member: Option<User>,
    /// On a server: signed in as the workspace's owner under no member's login, who may act
    /// for any member.
    pub owner_session: bool,
    /// A workspace file that asks each person for their passphrase.
    pub sign_in_required: bool,
    /// What is typed into the passphrase field (kept in memory only).
    pub passphrase: String,
    /// What is typed into the "team server" field.
    pub server_url: String,
    /// The server database is empty: offer to create the workspace in it.
    pub can_create: bool,
    /// Put the cursor in the server address field (once), for "Team workspace on a server…".
    pub focus_server: bool,
    /// A connection to a server in the making (on a worker thread).
    connecting: Option<crossbeam_channel::Receiver<Opened>>,
    /// Who to continue as once connected (the name this workstation used last time).
    pub auto: Option<String>,
    /// For a workspace nobody works in yet (one just created): the name that goes in the
    /// "new user" field, the person's who created it.
    pub suggested_name: Option<String>,
}

pub enum StartAction {
    Continue(User),
    OpenWorkspace,
    CreateWorkspace,
    OpenRecent(Workspace),
    /// A server workspace, with the password typed for it if one was asked for.
    Connect(Workspace),
    /// Create Facture's tables in this empty server database, then open it.
    CreateOnServer,
}

impl StartScreen {
    /// Opens (or, for a path that does not exist yet, creates) the workspace; a failure is shown
    /// on the screen, where another workspace can be picked.
    pub fn open(workspace: &Workspace, preselect: Option<&str>) -> Self {
        let mut s = Self::blank(workspace, preselect);
        if s.needs_password {
            return s;
        }
        s.connect();
        s
    }

    /// The screen for `workspace`, not connected.
    fn blank(workspace: &Workspace, preselect: Option<&str>) -> Self {
        Self {
            workspace: workspace.clone(),
            store: None,
            users: Vec::new(),
            selected: preselect.map(str::to_string),
            new_name: String::new(),
            new_role: Role::Annotator,
            error: None,
            needs_password: workspace.needs_password(),
            password: String::new(),
            login_name: workspace.user().unwrap_or_default().to_string(),
            member: None,
            owner_session: false,
            sign_in_required: false,
            passphrase: String::new(),
            server_url: String::new(),
            can_create: false,
            focus_server: false,
            connecting: None,
            auto: None,
            suggested_name: None,
        }
    }

    /// Opens the workspace on a worker thread (a server may not answer; a big file's
    /// integrity check takes a while), so the window never freezes; [`StartScreen::poll`]
    /// takes the result.
    fn connect(&mut self) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let ws = self.workspace.clone();
        let spawned = std::thread::Builder::new().name("facture-connect".into()).spawn(move || {
            let _ = tx.send(open_workspace(&ws));
        });
        match spawned {
            Ok(_) => self.connecting = Some(rx),
            Err(e) => self.error = Some(format!("cannot open the workspace: {e}")),
        }
    }

    /// Makes the empty server database a workspace, then opens it, on a worker thread.
    pub fn create_on_server(&mut self) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let ws = self.workspace.clone();
        let spawned = std::thread::Builder::new().name("facture-create".into()).spawn(move || {
            let opened = match Store::create_at(&ws) {
                Ok(store) => {
                    drop(store);
                    open_workspace(&ws)
                }
                Err(e) => Opened { error: Some(e.to_string()), ..Opened::nothing() },
            };
            let _ = tx.send(opened);
        });
        match spawned {
            Ok(_) => {
                self.can_create = false;
                self.error = None;
                self.connecting = Some(rx);
            }
            Err(e) => self.error = Some(format!("cannot create the workspace: {e}")),
        }
    }

    /// Whether a connection to a server is being made.
    pub fn is_connecting(&self) -> bool {
        self.connecting.is_some()
    }

    /// Takes the result of a connection in the making, if it has arrived; true when it did.
    pub fn poll(&mut self) -> bool {
        let Some(rx) = &self.connecting else { return false };
        match rx.try_recv() {
            Ok(opened) => {
                self.connecting = None;
                self.take(opened);
                true
            }
            Err(crossbeam_channel::TryRecvError::Empty) => false,
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                self.connecting = None;
                self.error = Some("the connection attempt ended without an answer; try again".into());
                true
            }
        }
    }

    fn take(&mut self, opened: Opened) {
        let s = self;
        s.users = opened.users;
        s.sign_in_required = opened.sign_in_required;
        (s.member, s.owner_session) = (opened.member, opened.owner_session);
        s.needs_password = opened.needs_password;
        s.can_create = opened.can_create;
        s.error = opened.error;
        s.store = opened.store;
        if s.selected.as_ref().is_some_and(|n| !s.users.iter().any(|u| &u.name == n)) {
            s.selected = None;
        }
        if s.users.is_empty() && s.new_name.is_empty() {
            s.new_name = s.suggested_name.take().unwrap_or_default();
        }
    }

    /// A server workspace's sign-in form, not connected yet (after "Switch user": the next
    /// person signs in with their own name and password).
    pub fn signed_out(workspace: &Workspace) -> Self {
        let mut s = Self::blank(workspace, None);
        s.needs_password = true;
        s.login_name.clear();
        s
    }

    pub fn user_named(&self, name: &str) -> Option<User> {
        self.users.iter().find(|u| u.name == name).cloned()
    }
}

/// What opening a workspace found.
struct Opened {
    store: Option<Store>,
    users: Vec<User>,
    sign_in_required: bool,
    member: Option<User>,
    owner_session: bool,
    needs_password: bool,
    can_create: bool,
    error: Option<String>,
}

/// Opens (or, for a path that does not exist yet, creates) the workspace and reads who may
/// sign in. An existing workspace is checked before anyone can write to it (a damaged file
/// is refused with the way to recover it).
impl Opened {
    fn nothing() -> Opened {
        Opened {
            store: None,
            users: Vec::new(),
            sign_in_required: false,
            member: None,
            owner_session: false,
            needs_password: false,
            can_create: false,
            error: None,
        }
    }
}

fn open_workspace(workspace: &Workspace) -> Opened {
    let mut o = Opened::nothing();
    let opened = match workspace {
        Workspace::File(p) if !p.exists() => Store::create(p),
        ws => Store::connect_verified(ws),
    };
    match opened {
        Ok(store) => {
            match store.users() {
                Ok(u) => o.users = u,
                Err(e) => o.error = Some(e.to_string()),
            }
            match store.sign_in_required() {
                Ok(required) => o.sign_in_required = required,
                Err(e) => o.error = Some(e.to_string()),
            }
            if store.is_postgres() {
                match (store.signed_in_member(), store.acts_for_anyone()) {
                    (Ok(member), Ok(owner)) => (o.member, o.owner_session) = (member, owner),
                    (Err(e), _) | (_, Err(e)) => o.error = Some(e.to_string()),
                }
            }
            o.store = Some(store);
        }
        Err(e) => {
            o.needs_password = matches!(e, StoreError::Login { .. }) && workspace.is_postgres();
            o.can_create = matches!(e, StoreError::EmptyDatabase { .. });
            o.error = Some(if o.can_create {
                "This database is empty: nobody has created a Facture workspace in it yet.".into()
            } else {
                e.to_string()
            });
        }
    }
    o
}

/// The start screen; `note` says what waits for the person once they continue (documents the
/// window was opened on).
pub fn start_ui(
    s: &mut StartScreen,
    ui: &mut egui::Ui,
    recent: &[Workspace],
    note: Option<String>,
) -> Option<StartAction> {
    let mut action = None;
    egui::CentralPanel::default().show(ui, |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.08);
            ui.heading(RichText::new("Facture").size(30.0));
            ui.label("Annotate scanned invoices for document-AI training data");
            ui.add_space(18.0);
        });
        let width = 460.0_f32.min(ui.available_width());
        let margin = ((ui.available_width() - width) / 2.0).max(0.0);
        ui.horizontal(|ui| {
            ui.add_space(margin);
            ui.vertical(|ui| {
                ui.set_width(width);
                egui::Frame::group(ui.style()).inner_margin(14.0).show(ui, |ui| {
                    ui.set_width(width - 28.0);
                    ui.label(RichText::new("Workspace").weak());
                    ui.label(RichText::new(s.workspace.to_string()).monospace());
                    if let Some(note) = note {
                        ui.add_space(6.0);
                        ui.label(RichText::new(note).color(ui.visuals().hyperlink_color));
                    }
                    if s.is_connecting() {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label(if s.workspace.is_postgres() { "Connecting…" } else { "Opening…" });
                        });
                        ui.ctx().request_repaint_after(std::time::Duration::from_millis(50));
                    }
                    if let Some(e) = &s.error {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                    if s.needs_password {
                        action = action.take().or(password_ui(s, ui));
                    }
                    if s.can_create {
                        ui.add_space(8.0);
                        if ui.button("Create a Facture workspace in this database").clicked() {
                            action = Some(StartAction::CreateOnServer);
                        }
                    }
                    if s.store.is_some() {
                        ui.add_space(10.0);
                        action = action.take().or(who_ui(s, ui));
                    }
                });
                ui.add_space(12.0);
                ui.horizontal(|ui| {
                    if ui.button("Open another workspace…").clicked() {
                        action = Some(StartAction::OpenWorkspace);
                    }
                    if ui.button("New workspace…").clicked() {
                        action = Some(StartAction::CreateWorkspace);
                    }
                });
                ui.add_space(8.0);
                action = action.take().or(server_ui(s, ui));
                let others: Vec<&Workspace> = recent.iter().filter(|p| **p != s.workspace).collect();
                if !others.is_empty() {
                    ui.add_space(8.0);
                    ui.label(RichText::new("Recent").weak());
                    for p in others {
                        if ui.link(p.to_string()).clicked() {
                            action = Some(StartAction::OpenRecent(p.clone()));
                        }
                    }
                }
            });
        });
    });
    action
}

/// Signing in to a server workspace: the name of one's login and its password. The password
/// is never stored (only kept while the window is open).
fn password_ui(s: &mut StartScreen, ui: &mut egui::Ui) -> Option<StartAction> {
    let mut action = None;
    ui.add_space(8.0);
    ui.label(RichText::new("Sign in with your own login").strong());
    egui::Grid::new("sign_in").num_columns(2).spacing([8.0, 6.0]).show(ui, |ui| {
        let name_caption = ui.label("Name");
        ui.add(egui::TextEdit::singleline(&mut s.login_name).hint_text("your login").desired_width(220.0))
            .labelled_by(name_caption.id);
        ui.end_row();
        let pw_caption = ui.label("Password");
        let field = ui
            .add(egui::TextEdit::singleline(&mut s.password).password(true).hint_text("password").desired_width(220.0))
            .labelled_by(pw_caption.id);
        ui.end_row();
        // the cursor waits where typing starts: the password when the name is known
        if ui.memory(|m| m.focused().is_none()) && s.password.is_empty() && !s.login_name.is_empty() {
            field.request_focus();
        }
        let ready = !s.password.is_empty() && !s.login_name.trim().is_empty();
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.label("");
        if (ui.add_enabled(ready, egui::Button::new("Sign in")).clicked() || enter) && ready {
            let ws = s.workspace.clone().as_user(s.login_name.trim()).with_password(&s.password);
            action = Some(StartAction::Connect(ws));
            s.password.clear();
        }
        ui.end_row();
    });
    action
}

fn server_ui(s: &mut StartScreen, ui: &mut egui::Ui) -> Option<StartAction> {
    let mut action = None;
    let caption = ui.label(RichText::new("Team workspace on a server").weak());
    ui.horizontal(|ui| {
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut s.server_url)
                    .hint_text("postgres://user@host:5432/database")
                    .desired_width(300.0),
            )
            .labelled_by(caption.id);
        if std::mem::take(&mut s.focus_server) {
            field.request_focus();
        }
        if ui.add_enabled(!s.server_url.trim().is_empty(), egui::Button::new("Connect to server")).clicked() {
            match Workspace::parse(s.server_url.trim()) {
                Ok(ws) if ws.is_postgres() => action = Some(StartAction::Connect(ws)),
                Ok(_) => s.error = Some("a server address starts with postgres://".into()),
                Err(e) => s.error = Some(e.to_string()),
            }
        }
    });
    action
}

/// Continuing as `user`, once their passphrase checks out when the workspace asks for one.
fn signed_in(s: &mut StartScreen, user: User) -> Option<StartAction> {
    use crate::app::passphrase::{SignIn, check, sign_in_for};
    let store = s.store.as_ref()?;
    let typed = std::mem::take(&mut s.passphrase);
    let verdict = sign_in_for(store, &user).and_then(|need| match need {
        SignIn::NoPassphraseYet => Ok(Err(format!(
            "{} has no passphrase yet; a lead sets one with `facture users {} passphrase {}`",
            user.name, s.workspace, user.name
        ))),
        _ => check(store, &user, &typed).map(|ok| if ok { Ok(()) } else { Err("wrong passphrase".to_string()) }),
    });
    match verdict {
        Ok(Ok(())) => Some(StartAction::Continue(user)),
        Ok(Err(why)) => {
            s.error = Some(why);
            None
        }
        Err(e) => {
            s.error = Some(e.to_string());
            None
        }
    }
}

fn who_ui(s: &mut StartScreen, ui: &mut egui::Ui) -> Option<StartAction> {
    let mut action = None;
    if s.owner_session {
        ui.label(RichText::new("Signed in as the workspace's owner: whom do you act for?").strong());
    } else {
        ui.label(RichText::new("Who are you?").strong());
    }
    if s.users.is_empty() {
        ui.weak("Nobody works in this workspace yet: add yourself below.");
    }
    for u in &s.users {
        ui.horizontal(|ui| {
            let chosen = s.selected.as_deref() == Some(u.name.as_str());
            let resp = ui.radio(chosen, &u.name);
            if resp.clicked() {
                s.selected = Some(u.name.clone());
            }
            if resp.double_clicked() && !s.sign_in_required {
                action = Some(StartAction::Continue(u.clone()));
            }
            ui.weak(u.role.as_str());
        });
    }
    ui.add_space(6.0);
    let chosen = s.selected.as_deref().and_then(|n| s.user_named(n));
    if s.sign_in_required && chosen.is_some() {
        ui.horizontal(|ui| {
            let caption = ui.label("Passphrase");
            ui.add(egui::TextEdit::singleline(&mut s.passphrase).password(true).desired_width(220.0))
                .labelled_by(caption.id);
        });
    }
    let ready = chosen.is_some() && (!s.sign_in_required || !s.passphrase.is_empty());
    let label = chosen.as_ref().map_or("Continue".to_string(), |u| format!("Continue as {}", u.name));
    if ui.add_enabled(ready, egui::Button::new(RichText::new(label).strong())).clicked()
        || (ready && ui.input(|i| i.key_pressed(egui::Key::Enter)) && s.new_name.is_empty())
    {
        action = chosen.and_then(|u| signed_in(s, u));
    }
    ui.add_space(10.0);
    ui.separator();
    if s.sign_in_required {
        ui.weak("This workspace asks everyone for a passphrase: a lead adds people and sets theirs.");
        return action;
    }
    if s.workspace.is_postgres() {
        // a member on a server is a login with a password, made by someone allowed to
        ui.weak(format!(
            "Members sign in with their own login. A lead adds one with\n`facture users {} add NAME --role ROLE`.",
            s.workspace
        ));
        return action;
    }
    let caption = ui.label(RichText::new("New user").strong());
    ui.horizontal(|ui| {
        ui.add(egui::TextEdit::singleline(&mut s.new_name).hint_text("name").desired_width(160.0))
            .labelled_by(caption.id);
        egui::ComboBox::new("new_user_role", "role").selected_text(s.new_role.as_str()).show_ui(ui, |ui| {
            for r in Role::ALL {
                ui.selectable_value(&mut s.new_role, r, r.as_str());
            }
        });
        if ui.add_enabled(!s.new_name.trim().is_empty(), egui::Button::new("Add and continue")).clicked()
            && let Some(store) = s.store.as_mut()
        {
            match crate::app::settings::add_user(store, &s.new_name, s.new_role) {
                Ok(u) => {
                    s.users.push(u.clone());
                    s.new_name.clear();
                    action = Some(StartAction::Continue(u));
                }
                Err(e) => s.error = Some(e.to_string()),
            }
        }
    });
    action
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_workspace_is_refused_on_the_start_screen_and_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ws.sqlite");
        {
            let mut store = Store::create(&path).unwrap();
            for i in 0..400 {
                store.add_user(&format!("user number {i} with a long enough name"), Role::Annotator).unwrap();
            }
        }
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2 / 4096 * 4096;
        bytes[mid..mid + 4096].iter_mut().enumerate().for_each(|(i, b)| *b = (i * 31 + 7) as u8);
        std::fs::write(&path, &bytes).unwrap();
        let mut s = StartScreen::open(&Workspace::File(path.clone()), None);
        let t0 = std::time::Instant::now();
        while !s.poll() && t0.elapsed() < std::time::Duration::from_secs(60) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(s.store.is_none());
        let error = s.error.unwrap_or_default();
        assert!(error.contains("damaged") && error.contains("facture recover"), "{error}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
    }
}
