//! The eframe application: the start screen or the annotator, the workspace menu actions,
//! documents the window was opened on, per-workstation settings and the window title.

use eframe::egui;

use std::path::PathBuf;

use crate::app::settings::Settings;
use crate::store::{Store, Workspace};

use super::annotator::Annotator;
use super::annotator_ui::{AppRequest, annotator_ui};
use super::dialogs::FileDialogs;
use super::extension::Extension;
use super::open_offer_ui::{OfferAnswer, OfferView, OpenOffer, import_refusal, open_offer_ui, workspace_name};
use super::start_ui::{StartAction, StartScreen, start_ui};

enum Screen {
    Start(Box<StartScreen>),
    Annotate(Box<Annotator>),
}

pub struct FactureApp {
    settings: Settings,
    settings_path: Option<PathBuf>,
    dialogs: Box<dyn FileDialogs>,
    screen: Screen,
    extensions: Vec<Box<dyn Extension>>,
    title: String,
    /// Closing was asked for while edits were not in the store: the window asks first.
    close_asked: bool,
    /// The person chose to close anyway.
    close_anyway: bool,
    /// Opened on the demo workspace (no other was named or used before).
    demo: bool,
    /// Documents the window was opened on, waiting for the person to say where they go.
    offer: Option<OpenOffer>,
    /// Those documents are being imported: once they are in, the first page opens if none is.
    open_first_when_imported: bool,
}

impl FactureApp {
    /// Opens `workspace`; goes straight to work as the user remembered for it on this
    /// workstation (or "alice" in the demo), else shows the start screen.
    /// `settings_path: None` keeps settings in memory only (tests).
    pub fn new(
        workspace: impl Into<Workspace>,
        demo: bool,
        settings_path: Option<PathBuf>,
        dialogs: Box<dyn FileDialogs>,
    ) -> Self {
        let workspace = &workspace.into();
        let settings = settings_path.as_deref().map(Settings::load).unwrap_or_default();
        let remembered = settings.user_for(workspace).map(str::to_string);
        let preselect = remembered.clone().or(demo.then(|| "alice".to_string()));
        let mut start = StartScreen::open(workspace, preselect.as_deref());
        start.auto = remembered;
        let mut app = Self {
            settings,
            settings_path,
            dialogs,
            screen: Screen::Start(Box::new(start)),
            extensions: Vec::new(),
            title: String::new(),
            close_asked: false,
            close_anyway: false,
            demo,
            offer: None,
            open_first_when_imported: false,
        };
        app.after_connect();
        app
    }

    /// Once the start screen has its workspace open: a member signed in with their own login
    /// goes to work as who they are; otherwise the name this workstation used last time does,
    /// unless the workspace asks for passphrases.
    fn after_connect(&mut self) {
        let Screen::Start(start) = &self.screen else { return };
        if start.is_connecting() || start.store.is_none() {
            return;
        }
        let remembered = start.auto.clone().filter(|_| !start.sign_in_required);
        if let Some(user) = start.member.clone().or_else(|| remembered.and_then(|n| start.user_named(&n))) {
            self.continue_as(user);
        }
    }

    /// Blocks until the start screen's connection to a server has an answer (scripts and
    /// tests; the window itself never waits).
    pub fn wait_connected(&mut self) {
        let t0 = std::time::Instant::now();
        while let Screen::Start(s) = &mut self.screen {
            if s.poll() {
                self.after_connect();
                return;
            }
            if !s.is_connecting() || t0.elapsed() > std::time::Duration::from_secs(60) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// Blocks until the window's store worker has answered everything asked of it and the
    /// answers are taken in (scripts and tests; the window itself never waits).
    pub fn wait_for_store(&mut self) {
        if let Some(a) = self.annotator_mut() {
            a.wait_for_store();
        }
    }

    /// Blocks until the answers to everything the window asked of its store worker have
    /// arrived; the next frame takes them in. A kittest harness calls it after each frame so
    /// that a run ends with the store's answers shown; the window itself never waits.
    pub fn wait_for_answers(&mut self) {
        if let Some(a) = self.annotator() {
            a.wait_for_answers();
        } else if self.is_connecting() {
            self.wait_connected();
        }
    }

    /// Whether the start screen is still connecting to a server (tests wait for it).
    pub fn is_connecting(&self) -> bool {
        matches!(&self.screen, Screen::Start(s) if s.is_connecting())
    }

    /// Straight into the annotator as `user_name` (tests, scripted sessions).
    pub fn with_user(
        workspace: impl Into<Workspace>,
        user_name: &str,
        settings_path: Option<PathBuf>,
        dialogs: Box<dyn FileDialogs>,
    ) -> anyhow::Result<Self> {
        let workspace = &workspace.into();
        let mut app = Self::new(workspace.clone(), false, settings_path, dialogs);
        app.wait_connected();
        if app.annotator().is_none() {
            let user = match &app.screen {
                Screen::Start(s) => s.user_named(user_name),
                Screen::Annotate(_) => None,
            };
            let user = user.ok_or_else(|| anyhow::anyhow!("no user named '{user_name}' in {workspace}"))?;
            app.continue_as(user);
        }
        if app.annotator().is_none_or(|a| a.user().name != user_name) {
            anyhow::bail!("could not open {workspace} as {user_name}");
        }
        app.wait_for_store();
        Ok(app)
    }

    /// Offers to import `documents` (files and folders, as a file manager passes them): as soon
    /// as a work view is up, the window asks whether they go into its workspace, into a new
    /// one, or nowhere. Opened on the demo workspace, it says none was used here yet.
    pub fn offer_import(&mut self, documents: Vec<PathBuf>) {
        if documents.is_empty() {
            return;
        }
        // looked at once, here: the question says which are folders
        let is_folder = documents.iter().map(|p| p.is_dir()).collect();
        let fallback = self.demo.then(|| self.current_workspace());
        self.offer = Some(OpenOffer::new(documents, is_folder, fallback));
    }

    /// Whether documents the window was opened on still wait for an answer.
    pub fn is_offering_import(&self) -> bool {
        self.offer.is_some()
    }

    /// Adds a feature panel (pre-annotation jobs, review, stats).
    pub fn add_extension(&mut self, ext: Box<dyn Extension>) {
        self.extensions.push(ext);
    }

    pub fn annotator(&self) -> Option<&Annotator> {
        match &self.screen {
            Screen::Annotate(a) => Some(a),
            Screen::Start(_) => None,
        }
    }

    pub fn annotator_mut(&mut self) -> Option<&mut Annotator> {
        match &mut self.screen {
            Screen::Annotate(a) => Some(a),
            Screen::Start(_) => None,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The window is asked to close: `true` when it may. With edits the store does not have
    /// yet (the workspace cannot be reached, or has not confirmed them), it stays open and asks
    /// first; it closes by itself once they are saved.
    pub fn on_close_requested(&mut self) -> bool {
        if self.close_anyway || self.annotator().is_none_or(|a| a.edits_not_saved() == 0) {
            return true;
        }
        self.close_asked = true;
        false
    }

    /// Work that must not draw: page loader results, extension jobs. eframe calls it before
    /// each frame; [`FactureApp::frame_ui`] calls it for tests.
    pub fn logic_step(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested()) && !self.on_close_requested() {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
        }
        if self.close_asked && self.annotator().is_none_or(|a| a.edits_not_saved() == 0) {
            // what waited is saved now: close as asked
            self.close_asked = false;
            self.close_anyway = true;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if let Screen::Start(s) = &mut self.screen
            && s.poll()
        {
            self.after_connect();
            ctx.request_repaint();
        }
        if let Screen::Annotate(a) = &mut self.screen {
            a.logic(ctx);
            // the queue has followed the import (nothing left to ask the store): show a page
            if self.open_first_when_imported && a.bg.importing.is_none() && !a.is_waiting_for_store() {
                self.open_first_when_imported = false;
                if a.document().is_none()
                    && let Some(first) = a.queue().first().map(|d| d.id)
                {
                    a.open_document(first);
                }
            }
            for ext in &mut self.extensions {
                super::annotator_ui::with_ext_ctx(a, ctx, |cx| ext.logic(cx));
            }
        }
    }

    /// One whole frame as tests drive it: logic, then UI.
    pub fn frame_ui(&mut self, ui: &mut egui::Ui) {
        self.logic_step(ui.ctx());
        self.draw_ui(ui);
    }

    /// Whether the window is asking whether to close with edits not saved.
    pub fn is_asking_to_close(&self) -> bool {
        self.close_asked
    }

    fn close_question_ui(&mut self, ui: &mut egui::Ui) {
        let waiting = self.annotator().map_or(0, |a| a.edits_not_saved());
        let modal = egui::Modal::new(egui::Id::unique("close_unsaved")).show(ui.ctx(), |ui| {
            ui.set_max_width(420.0);
            ui.heading("Edits not saved yet");
            ui.label(format!(
                "{waiting} edit(s) are not in the workspace yet: it cannot be reached, or has not confirmed them. \
                 The window closes by itself as soon as they are saved. If you close it now, they are lost."
            ));
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui.button("Keep the window open").clicked() {
                    self.close_asked = false;
                }
                if ui.button("Close and lose them").clicked() {
                    self.close_asked = false;
                    self.close_anyway = true;
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
        });
        if modal.should_close() {
            self.close_asked = false;
        }
    }

    fn draw_ui(&mut self, ui: &mut egui::Ui) {
        if self.close_asked {
            self.close_question_ui(ui);
        }
        let title = match &self.screen {
            Screen::Start(s) => format!("Facture — {}", s.workspace),
            Screen::Annotate(a) => format!("Facture — {}", a.workspace()),
        };
        if title != self.title {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        let recent = self.settings.recent();
        self.offer_ui(ui.ctx());
        match &mut self.screen {
            Screen::Start(s) => match start_ui(s, ui, &recent, self.offer.as_ref().map(|o| o.start_note(&s.workspace)))
            {
                Some(StartAction::Continue(user)) => self.continue_as(user),
                Some(StartAction::OpenWorkspace) => self.request(AppRequest::OpenWorkspace, ui.ctx()),
                Some(StartAction::CreateWorkspace) => self.request(AppRequest::CreateWorkspace, ui.ctx()),
                Some(StartAction::OpenRecent(p)) => self.request(AppRequest::OpenRecent(p), ui.ctx()),
                Some(StartAction::Connect(ws)) => self.request(AppRequest::OpenRecent(ws), ui.ctx()),
                Some(StartAction::CreateOnServer) => s.create_on_server(),
                None => {}
            },
            Screen::Annotate(a) => {
                let req = annotator_ui(a, ui, self.dialogs.as_mut(), &mut self.extensions, &recent);
                if a.view.always_show_text != self.settings.always_show_text
                    || a.view.show_queue == self.settings.hide_queue
                {
                    self.settings.always_show_text = a.view.always_show_text;
                    self.settings.hide_queue = !a.view.show_queue;
                    self.save_settings();
                }
                if let Some(r) = req {
                    self.request(r, ui.ctx());
                }
            }
        }
    }

    /// The documents the window was opened on, once a work view is up: into the workspace
    /// created for them without asking again, else the question.
    fn offer_ui(&mut self, ctx: &egui::Context) {
        let (Some(offer), Screen::Annotate(a)) = (&mut self.offer, &mut self.screen) else { return };
        if self.close_asked {
            return; // one question at a time: closing first
        }
        let refusal = import_refusal(a.user().role, a.offline.as_deref(), a.bg.importing.is_some());
        // created for them: straight in (if it cannot be now, the question says why)
        if offer.destination.take().is_some_and(|d| &d == a.workspace()) && refusal.is_none() {
            a.import_pages(offer.documents().to_vec(), ctx);
            self.open_first_when_imported = a.bg.importing.is_some();
            self.offer = None;
            return;
        }
        let fell_back_to_demo = offer.fallback.as_ref() == Some(a.workspace());
        let name = workspace_name(a.workspace(), fell_back_to_demo);
        let view = OfferView {
            workspace_name: &name,
            workspace_place: a.workspace().to_string(),
            fell_back_to_demo,
            refusal: refusal.as_deref(),
        };
        match open_offer_ui(offer, ctx, &view) {
            Some(OfferAnswer::Import) => {
                a.import_pages(offer.documents().to_vec(), ctx);
                self.open_first_when_imported = a.bg.importing.is_some();
                self.offer = None;
            }
            Some(OfferAnswer::NewWorkspace) => {
                // a cancelled dialog leaves the question up
                if let Some(path) = self.dialogs.create_workspace() {
                    let ws = Workspace::File(path);
                    offer.destination = Some(ws.clone());
                    self.open_screen(ws, true);
                }
            }
            Some(OfferAnswer::Cancel) => self.offer = None,
            None => {}
        }
    }

    fn continue_as(&mut self, user: crate::domain::User) {
        let Screen::Start(start) = &mut self.screen else { return };
        let Some(store) = start.store.take() else { return };
        let workspace = start.workspace.clone();
        match Annotator::new(&workspace, store, user.clone()) {
            Ok(mut a) => {
                a.view.always_show_text = self.settings.always_show_text;
                a.view.show_queue = !self.settings.hide_queue;
                self.settings.note_workspace(&workspace);
                self.settings.remember_user(&workspace, &user.name);
                self.save_settings();
                self.screen = Screen::Annotate(Box::new(a));
            }
            Err(e) => {
                start.error = Some(e.to_string());
                start.store = Store::connect(&workspace).ok();
            }
        }
    }

    fn request(&mut self, r: AppRequest, ctx: &egui::Context) {
        let to_server = matches!(r, AppRequest::ConnectToServer);
        let created = matches!(r, AppRequest::CreateWorkspace);
        let target = match r {
            AppRequest::OpenWorkspace => self.dialogs.open_workspace().map(Workspace::File),
            AppRequest::CreateWorkspace => self.dialogs.create_workspace().map(Workspace::File),
            AppRequest::OpenRecent(p) => Some(p),
            AppRequest::SwitchUser | AppRequest::ConnectToServer => {
                let ws = self.current_workspace();
                self.leave();
                // on a server, the next person signs in as themselves
                let mut start = if ws.is_postgres() && !to_server {
                    StartScreen::signed_out(&ws)
                } else {
                    StartScreen::open(&ws, None)
                };
                start.focus_server = to_server;
                self.screen = Screen::Start(Box::new(start));
                return;
            }
            AppRequest::ImportPages | AppRequest::ImportFolder => {
                let paths = match r {
                    AppRequest::ImportPages => self.dialogs.pick_pages(),
                    _ => self.dialogs.pick_import_folder().into_iter().collect(),
                };
                if let Screen::Annotate(a) = &mut self.screen {
                    a.import_pages(paths, ctx);
                }
                return;
            }
        };
        let Some(path) = target else { return }; // cancelled
        self.open_screen(path, created);
    }

    /// Leaves the open workspace for `ws`'s start screen (going on as the person this
    /// workstation remembers there). In a workspace just `created`, the name of who created it
    /// waits in the "new user" field.
    fn open_screen(&mut self, ws: Workspace, created: bool) {
        let creator = self.annotator().filter(|_| created).map(|a| a.user().name.clone());
        self.leave();
        let remembered = self.settings.user_for(&ws).map(str::to_string);
        let mut start = StartScreen::open(&ws, remembered.as_deref());
        start.auto = remembered;
        start.suggested_name = creator;
        self.screen = Screen::Start(Box::new(start));
        self.after_connect();
    }

    fn current_workspace(&self) -> Workspace {
        match &self.screen {
            Screen::Start(s) => s.workspace.clone(),
            Screen::Annotate(a) => a.workspace().clone(),
        }
    }

    /// Closes the current workspace cleanly (pending text, activity "close").
    fn leave(&mut self) {
        self.open_first_when_imported = false;
        if let Screen::Annotate(a) = &mut self.screen {
            a.shutdown();
        }
    }

    fn save_settings(&mut self) {
        if let Some(p) = &self.settings_path
            && let Err(e) = self.settings.save(p)
            && let Screen::Annotate(a) = &mut self.screen
        {
            a.status = super::annotator::Status::Error(e.to_string());
        }
    }

    /// Closing the window.
    pub fn shutdown(&mut self) {
        self.leave();
    }
}

impl eframe::App for FactureApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.logic_step(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.draw_ui(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.shutdown();
    }
}
