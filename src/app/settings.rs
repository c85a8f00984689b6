//! Per-workstation settings: recent workspaces and who you are in each, as JSON in the user's
//! config directory. Kept apart from the workspace file: two people annotating the same
//! workspace from two machines each have their own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::{Role, User};
use crate::store::{Store, StoreError, Workspace};

/// How many recent workspaces the menu keeps.
pub const MAX_RECENT: usize = 10;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Most recent first: file paths and server URLs (never with a password).
    pub recent_workspaces: Vec<String>,
    /// Workspace (as shown in `recent_workspaces`) → the user name chosen there.
    pub users: BTreeMap<String, String>,
    /// Show label names and text on every box, not only on hover (toggled with T).
    pub always_show_text: bool,
    /// Hide the queue panel (more room for the page on small screens).
    pub hide_queue: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{path}: cannot save settings: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot encode settings: {0}")]
    Encode(#[from] serde_json::Error),
}

impl Settings {
    /// `settings.json` in the platform's config directory (e.g. `~/.config/facture/`), or None
    /// when the platform has no home directory.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("org", "facture", "facture").map(|d| d.config_dir().join("settings.json"))
    }

    /// Reads settings; a missing or unreadable file gives the defaults (settings are a
    /// convenience, never a reason not to start).
    pub fn load(path: &Path) -> Settings {
        std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
    }

    /// Writes atomically (temp file + rename) so a crash never leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        let io = |source| SettingsError::Io { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let json = serde_json::to_vec_pretty(self)?;
        super::write_atomically(path, json).map_err(io)
    }

    /// Puts a workspace at the top of the recent list.
    pub fn note_workspace(&mut self, workspace: &Workspace) {
        let key = workspace.key();
        self.recent_workspaces.retain(|p| recent_key(p) != key);
        self.recent_workspaces.insert(0, key);
        self.recent_workspaces.truncate(MAX_RECENT);
    }

    pub fn forget_workspace(&mut self, workspace: &Workspace) {
        let key = workspace.key();
        self.recent_workspaces.retain(|p| recent_key(p) != key);
    }

    /// The user name last chosen in this workspace on this workstation.
    pub fn user_for(&self, workspace: &Workspace) -> Option<&str> {
        self.users.get(&workspace.key()).map(String::as_str)
    }

    pub fn remember_user(&mut self, workspace: &Workspace, user_name: &str) {
        self.users.insert(workspace.key(), user_name.to_string());
    }

    /// The recent workspaces, as workspaces (an entry that no longer parses is left out).
    pub fn recent(&self) -> Vec<Workspace> {
        self.recent_workspaces.iter().filter_map(|r| Workspace::parse(r).ok()).collect()
    }
}

/// Adds a person to the workspace from the start screen ("new user").
pub fn add_user(store: &mut Store, name: &str, role: Role) -> Result<User, StoreError> {
    store.add_user(name, role)
}

/// The same workspace reached through different relative paths gets one entry.
fn recent_key(entry: &str) -> String {
    Workspace::parse(entry).map_or_else(|_| entry.to_string(), |w| w.key())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_a_file_and_remembers_users_per_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cfg").join("settings.json");
        let ws_a = dir.path().join("a.sqlite");
        let ws_b = dir.path().join("b.sqlite");
        std::fs::write(&ws_a, b"").unwrap();
        let mut s = Settings::load(&path);
        assert_eq!(s, Settings::default());
        let (ws_a, ws_b) = (Workspace::File(ws_a), Workspace::File(ws_b));
        s.note_workspace(&ws_a);
        s.note_workspace(&ws_b);
        s.note_workspace(&ws_a);
        s.remember_user(&ws_a, "alice");
        s.remember_user(&ws_b, "bob");
        s.save(&path).unwrap();
        let back = Settings::load(&path);
        assert_eq!(back.recent_workspaces.len(), 2);
        assert_eq!(back.user_for(&ws_a), Some("alice"));
        assert_eq!(back.user_for(&ws_b), Some("bob"));
        assert_eq!(recent_key(&back.recent_workspaces[0]), ws_a.key());
        // a server is remembered by its address, never its password
        let server = Workspace::parse("postgres://lea:secret@db.local/invoices").unwrap();
        s.note_workspace(&server);
        assert_eq!(s.recent_workspaces[0], "postgres://lea@db.local:5432/invoices");
        assert!(!serde_json::to_string(&s).unwrap().contains("secret"));
    }

    #[test]
    fn a_corrupt_file_gives_defaults_and_the_recent_list_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, b"{not json").unwrap();
        let mut s = Settings::load(&path);
        assert_eq!(s, Settings::default());
        for i in 0..(MAX_RECENT + 5) {
            s.note_workspace(&Workspace::File(dir.path().join(format!("{i}.sqlite"))));
        }
        assert_eq!(s.recent_workspaces.len(), MAX_RECENT);
        assert!(s.recent_workspaces[0].ends_with(&format!("{}.sqlite", MAX_RECENT + 4)));
    }
}
