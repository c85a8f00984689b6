//! Native file dialogs behind a trait, so tests script the answers and never open a window.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

pub trait FileDialogs {
    /// An existing workspace file.
    fn open_workspace(&mut self) -> Option<PathBuf>;
    /// Where to create a new workspace file.
    fn create_workspace(&mut self) -> Option<PathBuf>;
    /// A moved image file (to re-link one document), starting near its old place.
    fn pick_image(&mut self, near: &Path) -> Option<PathBuf>;
    /// A folder to search for moved image files by content hash.
    fn pick_folder(&mut self, near: &Path) -> Option<PathBuf>;
    /// Where to save an export (stats as CSV or JSON), proposing `file_name`.
    fn save_export(&mut self, file_name: &str) -> Option<PathBuf> {
        let _ = file_name;
        None
    }
    /// Page files to import (images and PDFs); empty when cancelled.
    fn pick_pages(&mut self) -> Vec<PathBuf> {
        Vec::new()
    }
    /// A folder to import (walked for images and PDFs).
    fn pick_import_folder(&mut self) -> Option<PathBuf> {
        None
    }
}

/// The real dialogs (rfd, through the desktop portal).
#[derive(Debug, Default)]
pub struct RfdDialogs;

fn existing_dir(p: &Path) -> Option<&Path> {
    p.ancestors().find(|a| a.is_dir())
}

impl FileDialogs for RfdDialogs {
    fn open_workspace(&mut self) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title("Open a Facture workspace")
            .add_filter("Facture workspace", &["sqlite", "facture", "db"])
            .add_filter("All files", &["*"])
            .pick_file()
    }

    fn create_workspace(&mut self) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title("Create a Facture workspace")
            .set_file_name("workspace.sqlite")
            .add_filter("Facture workspace", &["sqlite"])
            .save_file()
    }

    fn pick_image(&mut self, near: &Path) -> Option<PathBuf> {
        let mut d = rfd::FileDialog::new()
            .set_title("Where is this image now?")
            .add_filter("Images", &["png", "jpg", "jpeg", "tif", "tiff", "bmp", "webp"]);
        if let Some(dir) = existing_dir(near) {
            d = d.set_directory(dir);
        }
        d.pick_file()
    }

    fn pick_pages(&mut self) -> Vec<PathBuf> {
        rfd::FileDialog::new()
            .set_title("Import pages")
            .add_filter("Scans and PDFs", &["pdf", "png", "jpg", "jpeg", "tif", "tiff", "bmp", "webp"])
            .pick_files()
            .unwrap_or_default()
    }

    fn pick_import_folder(&mut self) -> Option<PathBuf> {
        rfd::FileDialog::new().set_title("Import a folder of scans and PDFs").pick_folder()
    }

    fn pick_folder(&mut self, near: &Path) -> Option<PathBuf> {
        let mut d = rfd::FileDialog::new().set_title("Folder holding the moved images");
        if let Some(dir) = existing_dir(near) {
            d = d.set_directory(dir);
        }
        d.pick_folder()
    }

    fn save_export(&mut self, file_name: &str) -> Option<PathBuf> {
        let ext = Path::new(file_name).extension().and_then(|e| e.to_str()).unwrap_or("*").to_string();
        rfd::FileDialog::new()
            .set_title("Export the stats")
            .set_file_name(file_name)
            .add_filter(ext.to_uppercase(), &[ext.as_str()])
            .save_file()
    }
}

/// Answers from a script, in order; `None` once the script runs out (like a cancelled dialog).
/// Records what was asked, for assertions.
#[derive(Debug, Default)]
pub struct ScriptedDialogs {
    pub answers: VecDeque<Option<PathBuf>>,
    pub asked: Vec<&'static str>,
}

impl ScriptedDialogs {
    pub fn new(answers: impl IntoIterator<Item = Option<PathBuf>>) -> Self {
        Self { answers: answers.into_iter().collect(), asked: Vec::new() }
    }

    fn next(&mut self, what: &'static str) -> Option<PathBuf> {
        self.asked.push(what);
        self.answers.pop_front().flatten()
    }
}

impl FileDialogs for ScriptedDialogs {
    fn open_workspace(&mut self) -> Option<PathBuf> {
        self.next("open_workspace")
    }
    fn create_workspace(&mut self) -> Option<PathBuf> {
        self.next("create_workspace")
    }
    fn pick_image(&mut self, _near: &Path) -> Option<PathBuf> {
        self.next("pick_image")
    }
    fn pick_folder(&mut self, _near: &Path) -> Option<PathBuf> {
        self.next("pick_folder")
    }
    fn save_export(&mut self, _file_name: &str) -> Option<PathBuf> {
        self.next("save_export")
    }
    fn pick_pages(&mut self) -> Vec<PathBuf> {
        self.next("pick_pages").into_iter().collect()
    }
    fn pick_import_folder(&mut self) -> Option<PathBuf> {
        self.next("pick_import_folder")
    }
}
