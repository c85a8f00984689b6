//! The question asked when the window was opened on documents (from a file manager, `facture
//! invoice.pdf`): import them into the open workspace, into a new one, or not at all.

use eframe::egui;

use std::path::PathBuf;

use egui::RichText;

use crate::domain::Role;
use crate::store::Workspace;

/// Names listed in the question; the rest are counted ("and 4 more").
const NAMES_SHOWN: usize = 6;

/// Documents and folders waiting for the person to say where they go.
#[derive(Debug, Clone)]
pub struct OpenOffer {
    documents: Vec<PathBuf>,
    /// Which of `documents` are folders (looked at once, when the offer is made).
    is_folder: Vec<bool>,
    /// The demo workspace the window fell back to because none was used on this computer yet.
    pub fallback: Option<Workspace>,
    /// The workspace the person created for these documents: they go in as soon as its work
    /// view is up, without asking again.
    pub destination: Option<Workspace>,
}

/// What the person answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferAnswer {
    Import,
    NewWorkspace,
    Cancel,
}

impl OpenOffer {
    pub fn new(documents: Vec<PathBuf>, is_folder: Vec<bool>, fallback: Option<Workspace>) -> Self {
        debug_assert_eq!(documents.len(), is_folder.len());
        Self { documents, is_folder, fallback, destination: None }
    }

    pub fn documents(&self) -> &[PathBuf] {
        &self.documents
    }

    /// "3 documents", "1 folder", "2 documents and 1 folder".
    fn counted(&self) -> String {
        let folders = self.is_folder.iter().filter(|f| **f).count();
        let files = self.documents.len() - folders;
        let plural = |n: usize, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
        match (files, folders) {
            (_, 0) => plural(files, "document"),
            (0, _) => plural(folders, "folder"),
            _ => format!("{} and {}", plural(files, "document"), plural(folders, "folder")),
        }
    }

    /// The question's title: "Import 3 documents?".
    pub fn title(&self) -> String {
        format!("Import {}?", self.counted())
    }

    /// The names to list (files by name, folders marked as such), and how many more there are.
    fn names(&self) -> (Vec<String>, usize) {
        let shown = self
            .documents
            .iter()
            .zip(&self.is_folder)
            .take(NAMES_SHOWN)
            .map(|(p, folder)| {
                let name = p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned());
                if *folder { format!("{name} (folder)") } else { name }
            })
            .collect();
        (shown, self.documents.len().saturating_sub(NAMES_SHOWN))
    }

    /// What the start screen of `ws` says while the documents wait for someone to continue.
    pub fn start_note(&self, ws: &Workspace) -> String {
        if self.destination.as_ref() == Some(ws) {
            format!("{} will be imported into this workspace once you continue.", self.counted())
        } else {
            format!("Opened with {}: you choose where they go once you continue.", self.counted())
        }
    }
}

/// A workspace as a person calls it: its file's name ("acme" for `acme.sqlite`, the folder's
/// name for a generic `workspace.sqlite`), its database's name on a server.
pub fn workspace_name(ws: &Workspace, demo: bool) -> String {
    if demo {
        return "the demo workspace".into();
    }
    match ws.file() {
        Some(p) => {
            let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let folder = p.parent().and_then(|d| d.file_name()).map(|s| s.to_string_lossy().into_owned());
            match folder {
                Some(folder) if stem.is_empty() || stem.eq_ignore_ascii_case("workspace") => folder,
                _ if stem.is_empty() => p.display().to_string(),
                _ => stem,
            }
        }
        None => {
            let shown = ws.to_string();
            let address = shown.split('?').next().unwrap_or(&shown);
            address.rsplit('/').next().filter(|db| !db.is_empty()).unwrap_or(address).to_string()
        }
    }
}

/// `name` cut to `max` characters (an ellipsis marks the cut), so the buttons fit.
fn shortened(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_string();
    }
    let mut s: String = name.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// Why this person cannot import into the open workspace now, if they cannot.
///
/// The app layer lets every role import pages (File → Import has no role check, and a server
/// workspace's rules let any member add documents and images), so the role never refuses;
/// what can is the workspace itself.
pub fn import_refusal(role: Role, offline: Option<&str>, importing: bool) -> Option<String> {
    match role {
        Role::Annotator | Role::Reviewer | Role::Lead => {}
    }
    if let Some(why) = offline {
        return Some(format!("The workspace cannot be reached right now ({why}), so nothing can be imported into it."));
    }
    importing.then(|| "An import is already running in this workspace; wait for it to finish or cancel it.".into())
}

/// What the question shows besides the documents.
pub struct OfferView<'a> {
    /// The open workspace as a person calls it.
    pub workspace_name: &'a str,
    /// Where it is (file path or server address).
    pub workspace_place: String,
    /// The window fell back to the demo workspace: say so.
    pub fell_back_to_demo: bool,
    /// Why importing here is not possible now, if it is not.
    pub refusal: Option<&'a str>,
}

/// The question, as a modal window; `Some` once the person answered. Enter picks the primary
/// button (Import, or New workspace… when importing here is not possible), Escape cancels.
/// While it is shown, no key reaches the work view below.
pub fn open_offer_ui(offer: &OpenOffer, ctx: &egui::Context, view: &OfferView<'_>) -> Option<OfferAnswer> {
    let mut answer = None;
    let can_import = view.refusal.is_none();
    let modal = egui::Modal::new(egui::Id::unique("open_offer")).show(ctx, |ui| {
        ui.set_width(460.0);
        ui.heading(offer.title());
        ui.add_space(4.0);
        if view.fell_back_to_demo {
            ui.label("No workspace used yet on this computer; import into the demo workspace or create a new one.");
            ui.add_space(4.0);
        }
        let (names, more) = offer.names();
        egui::Frame::group(ui.style()).inner_margin(8.0).show(ui, |ui| {
            ui.set_width(ui.available_width());
            for name in names {
                ui.add(egui::Label::new(RichText::new(name).monospace()).truncate());
            }
            if more > 0 {
                ui.weak(format!("and {more} more"));
            }
        });
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.weak("Workspace:");
            ui.add(egui::Label::new(RichText::new(&view.workspace_place).weak().monospace()).truncate());
        });
        if let Some(why) = view.refusal {
            ui.add_space(4.0);
            ui.colored_label(ui.visuals().warn_fg_color, why);
        }
        ui.add_space(10.0);
        ui.horizontal(|ui| {
            let primary = |text: String, ui: &egui::Ui| {
                egui::Button::new(RichText::new(text).strong().color(ui.visuals().selection.stroke.color))
                    .fill(ui.visuals().selection.bg_fill)
            };
            if can_import {
                let import = ui.add(primary(format!("Import into {}", shortened(view.workspace_name, 30)), ui));
                if import.on_hover_text("Enter").clicked() {
                    answer = Some(OfferAnswer::Import);
                }
            }
            let new_ws = if can_import {
                ui.button("New workspace…")
            } else {
                ui.add(primary("New workspace…".into(), ui)).on_hover_text("Enter")
            };
            if new_ws.on_hover_text("create a workspace for these documents and import them there").clicked() {
                answer = Some(OfferAnswer::NewWorkspace);
            }
            if ui.button("Cancel").on_hover_text("Esc: import nothing").clicked() {
                answer = Some(OfferAnswer::Cancel);
            }
        });
    });
    if modal.is_top_modal {
        ctx.input_mut(|i| {
            if i.consume_key(egui::Modifiers::NONE, egui::Key::Escape) {
                answer = answer.or(Some(OfferAnswer::Cancel));
            }
            if i.consume_key(egui::Modifiers::NONE, egui::Key::Enter) {
                let primary = if can_import { OfferAnswer::Import } else { OfferAnswer::NewWorkspace };
                answer = answer.or(Some(primary));
            }
            // the work view below must not act on keys meant for the question
            i.events.retain(|e| !matches!(e, egui::Event::Key { .. } | egui::Event::Text(_)));
        });
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(names: &[&str], folders: &[bool]) -> OpenOffer {
        OpenOffer::new(names.iter().map(PathBuf::from).collect(), folders.to_vec(), None)
    }

    #[test]
    fn the_title_counts_documents_and_folders() {
        assert_eq!(offer(&["/a/x.pdf"], &[false]).title(), "Import 1 document?");
        assert_eq!(offer(&["/a/x.pdf", "/a/y.png", "/a/z.jpg"], &[false; 3]).title(), "Import 3 documents?");
        assert_eq!(offer(&["/a/scans"], &[true]).title(), "Import 1 folder?");
        assert_eq!(
            offer(&["/a/x.pdf", "/a/y", "/a/z"], &[false, true, true]).title(),
            "Import 1 document and 2 folders?"
        );
    }

    #[test]
    fn the_first_names_are_listed_and_the_rest_counted() {
        let paths: Vec<String> = (0..9).map(|i| format!("/scans/p{i}.png")).collect();
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let (names, more) = offer(&refs, &[false; 9]).names();
        assert_eq!(names.len(), NAMES_SHOWN);
        assert_eq!(names[0], "p0.png");
        assert_eq!(more, 3);
        let (names, more) = offer(&["/x/scans"], &[true]).names();
        assert_eq!((names, more), (vec!["scans (folder)".to_string()], 0));
    }

    #[test]
    fn workspaces_are_called_by_their_names() {
        assert_eq!(workspace_name(&Workspace::File("/w/acme.sqlite".into()), false), "acme");
        assert_eq!(workspace_name(&Workspace::File("/w/clients/workspace.sqlite".into()), false), "clients");
        assert_eq!(workspace_name(&Workspace::File("/w/acme.sqlite".into()), true), "the demo workspace");
        let pg = Workspace::parse("postgres://ann@db.example:5432/invoices?sslmode=require").unwrap();
        assert_eq!(workspace_name(&pg, false), "invoices");
        assert_eq!(shortened("acme", 30), "acme");
        assert_eq!(shortened("abcdefghij", 5), "abcd…");
    }

    #[test]
    fn every_role_may_import_but_not_into_a_workspace_out_of_reach() {
        for role in Role::ALL {
            assert_eq!(import_refusal(role, None, false), None, "{role:?}");
        }
        let why = import_refusal(Role::Reviewer, Some("connection refused"), false).unwrap();
        assert!(why.contains("cannot be reached") && why.contains("connection refused"), "{why}");
        assert!(import_refusal(Role::Lead, None, true).unwrap().contains("already running"));
    }
}
