//! Moving a whole workspace between a file and a server, either way (`facture migrate FROM
//! TO`): the rows go through the store's copy (one transaction, checksummed on both sides),
//! the page images by content hash: from their files into the server's database, or out of
//! the database into a folder beside the new workspace file. The source is only read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::imageio;
use crate::store::{CopyReport, Store, StoreError, Workspace};

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{count} image file(s) of {from} cannot be read (first: {first}); re-link them (`facture relink`) and \
         migrate again — nothing was copied"
    )]
    MissingImages { from: String, count: usize, first: String },
    #[error(
        "{path}: the file's content no longer matches the workspace (sha256 {sha256}); re-import it — nothing was copied"
    )]
    ImageChanged { path: PathBuf, sha256: String },
    #[error("{from}: holds no image with sha256 {sha256}; nothing was copied")]
    ImageNotStored { from: String, sha256: String },
    #[error("{from}: the stored image {sha256} does not match its hash; nothing was copied")]
    ImageDamaged { from: String, sha256: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}: already exists; migrate into a new file")]
    TargetExists(String),
}

/// What a migration copied.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrateReport {
    pub copy: CopyReport,
    /// Distinct page images carried over.
    pub images: usize,
    /// Where the images went, for a server → file migration.
    pub image_dir: Option<PathBuf>,
    /// The target's own checksum, computed again after the copy (equal to the source's).
    pub target_checksum: String,
}

impl MigrateReport {
    pub fn lines(&self, from: &Workspace, to: &Workspace) -> Vec<String> {
        let mut out: Vec<String> = self.copy.tables.iter().map(|(t, n)| format!("{t}\t{n}")).collect();
        out.push(format!("images\t{}", self.images));
        if let Some(dir) = &self.image_dir {
            out.push(format!("images written to {}", dir.display()));
        }
        out.push(format!("checksum {from}\t{}", self.copy.checksum));
        out.push(format!("checksum {to}\t{}", self.target_checksum));
        out
    }
}

/// Opens the source without changing it: a file read-only (an older file must be opened once
/// first so it is upgraded), a server as it is.
fn open_source(from: &Workspace) -> Result<Store, StoreError> {
    match from {
        Workspace::File(p) => Store::open_read_only(p),
        ws => Store::connect(ws),
    }
}

/// The target: a new file, or a server database that is empty (or holds an empty workspace).
fn open_target(to: &Workspace) -> Result<Store, MigrateError> {
    match to {
        Workspace::File(p) if p.exists() => Err(MigrateError::TargetExists(p.display().to_string())),
        Workspace::File(p) => Ok(Store::create(p)?),
        ws => match Store::create_at(ws) {
            Ok(s) => Ok(s),
            // `facture init` already made the tables: fine while nothing is in it yet
            Err(StoreError::Invalid(_)) => Ok(Store::connect(ws)?),
            Err(e) => Err(e.into()),
        },
    }
}

/// The first path of each image, by hash.
fn images_of(store: &Store) -> Result<BTreeMap<String, String>, StoreError> {
    let mut out = BTreeMap::new();
    let every = crate::store::DocFilter { shelved: crate::store::ShelfFilter::All, ..Default::default() };
    for d in store.documents(&every)? {
        out.entry(d.sha256).or_insert(d.path);
    }
    Ok(out)
}

/// Copies `from` into `to` (a new file, or an empty server database).
pub fn migrate(from: &Workspace, to: &Workspace) -> Result<MigrateReport, MigrateError> {
    let source = open_source(from)?;
    let images = images_of(&source)?;
    let shown = from.to_string();
    // carry the images first (content-addressed, so a retry finds them there); only then the
    // rows, all at once
    let mut new_paths: BTreeMap<String, String> = BTreeMap::new();
    let mut target_created_file = None;
    let mut image_dir = None;
    let result = (|| -> Result<(Store, usize), MigrateError> {
        let mut target = open_target(to)?;
        if let Workspace::File(p) = to {
            target_created_file = Some(p.clone());
        }
        match (source.is_postgres(), target.is_postgres()) {
            (false, true) => {
                let missing: Vec<&String> = images.values().filter(|p| !Path::new(p).is_file()).collect();
                if let Some(first) = missing.first() {
                    return Err(MigrateError::MissingImages {
                        from: shown.clone(),
                        count: missing.len(),
                        first: (*first).clone(),
                    });
                }
                for (sha, path) in &images {
                    let bytes =
                        std::fs::read(path).map_err(|source| MigrateError::Io { path: PathBuf::from(path), source })?;
                    if imageio::sha256_hex(&bytes) != *sha {
                        return Err(MigrateError::ImageChanged { path: PathBuf::from(path), sha256: sha.clone() });
                    }
                    target.put_image(sha, &bytes)?;
                }
            }
            (true, false) => {
                let file = target_created_file.clone().unwrap_or_default();
                let dir = file.with_extension("images");
                for (sha, path) in &images {
                    let bytes = stored(&source, &shown, sha)?;
                    let name = Path::new(path)
                        .file_name()
                        .map_or_else(|| format!("{sha}.img"), |n| n.to_string_lossy().into_owned());
                    // by hash prefix: two scans of one name from different folders stay apart
                    let dest = dir.join(&sha[..12.min(sha.len())]).join(name);
                    if let Some(parent) = dest.parent() {
                        std::fs::create_dir_all(parent)
                            .map_err(|source| MigrateError::Io { path: parent.to_path_buf(), source })?;
                    }
                    crate::app::write_atomically(&dest, &bytes)
                        .map_err(|source| MigrateError::Io { path: dest.clone(), source })?;
                    let abs = std::fs::canonicalize(&dest).unwrap_or(dest);
                    new_paths.insert(sha.clone(), abs.to_string_lossy().into_owned());
                }
                image_dir = Some(dir);
            }
            (true, true) => {
                for sha in images.keys() {
                    let bytes = stored(&source, &shown, sha)?;
                    target.put_image(sha, &bytes)?;
                }
            }
            (false, false) => {}
        }
        Ok((target, images.len()))
    })();
    let (mut target, count) = match result {
        Ok(t) => t,
        Err(e) => {
            cleanup(target_created_file.as_deref(), image_dir.as_deref());
            return Err(e);
        }
    };
    let copy = target.copy_from(&source, &|sha, path| new_paths.get(sha).cloned().unwrap_or_else(|| path.to_string()));
    let copy = match copy {
        Ok(c) => c,
        Err(e) => {
            drop(target);
            cleanup(target_created_file.as_deref(), image_dir.as_deref());
            return Err(e.into());
        }
    };
    let target_checksum = target.content_checksum()?;
    Ok(MigrateReport { copy, images: count, image_dir, target_checksum })
}

fn stored(source: &Store, shown: &str, sha: &str) -> Result<Vec<u8>, MigrateError> {
    let bytes = source
        .image(sha)?
        .ok_or_else(|| MigrateError::ImageNotStored { from: shown.to_string(), sha256: sha.to_string() })?;
    if imageio::sha256_hex(&bytes) != sha {
        return Err(MigrateError::ImageDamaged { from: shown.to_string(), sha256: sha.to_string() });
    }
    Ok(bytes)
}

/// A failed migration into a new file leaves no file behind.
fn cleanup(file: Option<&Path>, image_dir: Option<&Path>) {
    if let Some(f) = file {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = f.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
    }
    if let Some(d) = image_dir {
        let _ = std::fs::remove_dir_all(d);
    }
}
