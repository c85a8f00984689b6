//! Where a document's page image comes from. A workspace file points at image files on this
//! machine's disk (moved ones are re-linked by hash). A server workspace holds its images
//! itself, content-addressed, so a workstation that cannot see the importer's disk can still
//! annotate: each workstation keeps a read-through cache of them, bounded in size, every file
//! in it checked against its hash before use.

use std::path::{Path, PathBuf};

use image::DynamicImage;

use crate::domain::Document;
use crate::imageio::{self, ImageError};
use crate::store::{Store, StoreError, Workspace};

/// How much the image cache may hold before the least recently used images go.
pub const DEFAULT_CACHE_BYTES: u64 = 4 << 30;

/// Why a page's pixels could not be had.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The file is not where the workspace says: offer to re-link it.
    #[error("{}: the image file is missing (moved or renamed?)", path.display())]
    Missing { path: PathBuf },
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("the workspace holds no page image with sha256 {sha256}; import the file again")]
    NotStored { sha256: String },
    #[error(
        "the workspace's page image {sha256} does not match its hash (damaged in the database); import the file again"
    )]
    HashMismatch { sha256: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{}: cannot use the image cache: {source}", path.display())]
    Cache { path: PathBuf, source: std::io::Error },
}

/// A page's source: a file, or an image stored in a server workspace; decoded as stored when
/// its document predates EXIF orientation, turned when its document is.
#[derive(Debug, Clone, PartialEq)]
pub enum PageRef {
    /// `size`: the pixels the page was measured at on import (how a PDF page is rendered).
    File {
        path: PathBuf,
        page: u32,
        size: Option<(u32, u32)>,
    },
    Stored {
        workspace: Workspace,
        sha256: String,
        page: u32,
        size: Option<(u32, u32)>,
    },
    /// `source`'s page turned `quarters` quarter turns clockwise (1–3): a document's page as
    /// the lead or annotator turned it.
    Turned {
        source: Box<PageRef>,
        quarters: u8,
    },
    /// `source`'s page with its file's EXIF (or TIFF) orientation left out: the pixels as
    /// stored, where the boxes of a page imported before schema 8 are
    /// ([`Document::exif`] false).
    AsStored {
        source: Box<PageRef>,
    },
}

/// The size of `doc`'s page as its file is decoded for it, before the document's own rotation
/// (upright for a page imported since schema 8, as stored for one imported earlier: the size
/// import measured either way): what a PDF page is rendered at.
pub fn file_page_size(doc: &Document) -> (u32, u32) {
    if doc.rotation % 2 == 1 { (doc.height, doc.width) } else { (doc.width, doc.height) }
}

impl PageRef {
    /// Where `doc`'s page is, in `store`'s workspace.
    pub fn of(store: &Store, doc: &Document) -> PageRef {
        match store.workspace() {
            Some(ws) => Self::in_workspace(ws, doc),
            None => {
                let file =
                    PageRef::File { path: PathBuf::from(&doc.path), page: doc.page, size: Some(file_page_size(doc)) };
                file.for_document(doc)
            }
        }
    }

    /// `doc`'s page in workspace `ws`: in the database on a server, else in its file.
    pub fn in_workspace(ws: &Workspace, doc: &Document) -> PageRef {
        let size = Some(file_page_size(doc));
        let source = match ws {
            Workspace::Postgres(_) => {
                PageRef::Stored { workspace: ws.clone(), sha256: doc.sha256.clone(), page: doc.page, size }
            }
            _ => PageRef::File { path: PathBuf::from(&doc.path), page: doc.page, size },
        };
        source.for_document(doc)
    }

    /// This file's page as `doc` sees it: as stored unless its EXIF orientation applies, then
    /// turned by its rotation.
    fn for_document(self, doc: &Document) -> PageRef {
        let page = if doc.exif { self } else { PageRef::AsStored { source: Box::new(self) } };
        page.turned(doc.rotation)
    }

    /// This page turned `quarters` more quarter turns clockwise.
    pub fn turned(self, quarters: u8) -> PageRef {
        match (self, quarters % 4) {
            (page, 0) => page,
            (PageRef::Turned { source, quarters: q }, more) => source.turned((q + more) % 4),
            (page, q) => PageRef::Turned { source: Box::new(page), quarters: q },
        }
    }

    pub fn page(&self) -> u32 {
        match self {
            PageRef::File { page, .. } | PageRef::Stored { page, .. } => *page,
            PageRef::Turned { source, .. } | PageRef::AsStored { source } => source.page(),
        }
    }

    /// The image file's bytes. A stored image comes from the cache, or from the workspace
    /// (through `store` when given, else a connection of its own) into the cache.
    pub fn bytes(&self, store: Option<&Store>) -> Result<Vec<u8>, PageError> {
        match self {
            PageRef::File { path, .. } => std::fs::read(path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    PageError::Missing { path: path.clone() }
                } else {
                    PageError::Image(ImageError::Io { path: path.clone(), source: e })
                }
            }),
            PageRef::Turned { source, .. } | PageRef::AsStored { source } => source.bytes(store),
            PageRef::Stored { workspace, sha256, .. } => {
                let cache = BlobCache::default_location();
                if let Some(bytes) = cache.get(sha256)? {
                    return Ok(bytes);
                }
                let fetched = match store {
                    Some(s) => s.image(sha256)?,
                    None => Store::connect(workspace)?.image(sha256)?,
                };
                let bytes = fetched.ok_or_else(|| PageError::NotStored { sha256: sha256.clone() })?;
                if imageio::sha256_hex(&bytes) != *sha256 {
                    return Err(PageError::HashMismatch { sha256: sha256.clone() });
                }
                cache.put(sha256, &bytes)?;
                Ok(bytes)
            }
        }
    }

    /// The decoded page, upright (EXIF orientation applied, unless [`PageRef::AsStored`]) and
    /// turned as its document is: its pixels are where the document's boxes are.
    pub fn decode(&self, store: Option<&Store>) -> Result<DynamicImage, PageError> {
        self.decode_bytes(&self.bytes(store)?)
    }

    /// The page decoded from its file's `bytes`, already read (a job that also reads the
    /// file's text layer reads it once).
    pub fn decode_bytes(&self, bytes: &[u8]) -> Result<DynamicImage, PageError> {
        self.decode_oriented(bytes, true)
    }

    /// [`PageRef::decode_bytes`], the file's orientation applied if `orient` and no
    /// [`PageRef::AsStored`] on the way says otherwise.
    fn decode_oriented(&self, bytes: &[u8], orient: bool) -> Result<DynamicImage, PageError> {
        let size = match self {
            PageRef::File { size, .. } | PageRef::Stored { size, .. } => *size,
            PageRef::Turned { source, quarters } => {
                return Ok(imageio::turn(source.decode_oriented(bytes, orient)?, *quarters));
            }
            PageRef::AsStored { source } => return source.decode_oriented(bytes, false),
        };
        let (path, page) = (self.display_path(), self.page());
        Ok(if orient {
            imageio::decode_page_sized(&path, bytes, page, size)?
        } else {
            imageio::decode_page_as_stored(&path, bytes, page, size)?
        })
    }

    /// How the image is named in messages: its file, or its hash.
    pub fn display_path(&self) -> PathBuf {
        match self {
            PageRef::File { path, .. } => path.clone(),
            PageRef::Stored { sha256, .. } => PathBuf::from(format!("image {}", &sha256[..sha256.len().min(12)])),
            PageRef::Turned { source, .. } | PageRef::AsStored { source } => source.display_path(),
        }
    }
}

/// Most bytes one prefetch statement brings back.
const PREFETCH_BYTES: u64 = 32 << 20;

/// Brings the stored images among `shas` that this workstation's cache lacks into it, many
/// per statement (a server costs a round trip per statement): for a job about to read a run
/// of pages, such as an export. Returns how many were fetched. An image the workspace lacks,
/// or whose bytes do not match their hash, is left out: reading that page reports it. Does
/// nothing for a workspace file.
pub fn prefetch(store: &Store, shas: &[&str]) -> Result<usize, PageError> {
    if !store.is_postgres() {
        return Ok(0);
    }
    let cache = BlobCache::default_location();
    let mut missing: Vec<&str> = shas.iter().copied().filter(|s| !cache.holds(s)).collect();
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        return Ok(0);
    }
    // batches of at most PREFETCH_BYTES (a single bigger image goes alone)
    let mut batches: Vec<Vec<&str>> = vec![Vec::new()];
    let mut bytes = 0;
    for (sha, size) in store.image_sizes(&missing)? {
        let Some(&sha) = missing.iter().find(|m| **m == sha) else { continue };
        if bytes + size > PREFETCH_BYTES && batches.last().is_some_and(|b| !b.is_empty()) {
            batches.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        if let Some(b) = batches.last_mut() {
            b.push(sha);
        }
    }
    let mut fetched = 0;
    for batch in batches.iter().filter(|b| !b.is_empty()) {
        for (sha, data) in store.images(batch)? {
            if imageio::sha256_hex(&data) == sha {
                cache.put(&sha, &data)?;
                fetched += 1;
            }
        }
    }
    Ok(fetched)
}

/// Images of server workspaces on this workstation, by sha256, least recently used evicted
/// beyond a size budget. Shared by every workspace: the same content is the same file.
#[derive(Debug, Clone)]
pub struct BlobCache {
    dir: PathBuf,
    budget_bytes: u64,
}

impl BlobCache {
    pub fn new(dir: impl Into<PathBuf>, budget_bytes: u64) -> Self {
        BlobCache { dir: dir.into(), budget_bytes }
    }

    /// `FACTURE_CACHE_DIR`, else the platform's cache folder (`~/.cache/facture/images`);
    /// budget from `FACTURE_CACHE_MB`, else [`DEFAULT_CACHE_BYTES`].
    pub fn default_location() -> Self {
        let dir = std::env::var_os("FACTURE_CACHE_DIR").map(PathBuf::from).unwrap_or_else(|| {
            directories::ProjectDirs::from("org", "facture", "facture")
                .map(|d| d.cache_dir().join("images"))
                .unwrap_or_else(|| std::env::temp_dir().join("facture-images"))
        });
        let budget = std::env::var("FACTURE_CACHE_MB")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(DEFAULT_CACHE_BYTES, |mb| mb << 20);
        BlobCache::new(dir, budget)
    }

    fn path(&self, sha256: &str) -> Option<PathBuf> {
        // a hash is 64 hex digits; anything else never names a file here
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(self.dir.join(&sha256[..2]).join(sha256))
    }

    /// Whether a file for this hash is here (not checked: [`BlobCache::get`] checks).
    pub fn holds(&self, sha256: &str) -> bool {
        self.path(sha256).is_some_and(|p| p.is_file())
    }

    /// The cached bytes, if present and whole; a cached file that no longer matches its hash
    /// is removed and reported as absent.
    pub fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, PageError> {
        let Some(path) = self.path(sha256) else { return Ok(None) };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(PageError::Cache { path, source }),
        };
        if imageio::sha256_hex(&bytes) != sha256 {
            let _ = std::fs::remove_file(&path);
            return Ok(None);
        }
        // recently used: the last to be evicted
        let _ = std::fs::File::options()
            .append(true)
            .open(&path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        Ok(Some(bytes))
    }

    /// Adds bytes (written whole or not at all), then trims the cache to its budget. Not
    /// flushed to disk: a cached image lost in a crash is fetched again, and one half written is
    /// caught by its hash.
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> Result<(), PageError> {
        use std::io::Write;
        let Some(path) = self.path(sha256) else { return Ok(()) };
        let dir = path.parent().unwrap_or(&self.dir).to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|source| PageError::Cache { path: dir.clone(), source })?;
        let cache_err = |source| PageError::Cache { path: path.clone(), source };
        let mut tmp = tempfile::Builder::new().prefix(".part-").tempfile_in(&dir).map_err(cache_err)?;
        tmp.write_all(bytes).map_err(cache_err)?;
        tmp.persist(&path).map_err(|e| cache_err(e.error))?;
        if self.grew_past_budget(bytes.len() as u64) {
            self.trim(&path);
        }
        Ok(())
    }

    /// Counts what this process added; true when the cache may now be over its budget (the
    /// first call, and every time the additions pass it), so the folder is listed rarely.
    fn grew_past_budget(&self, added: u64) -> bool {
        use std::sync::Mutex;
        static KNOWN: Mutex<Option<(PathBuf, u64)>> = Mutex::new(None);
        let mut known = KNOWN.lock().unwrap_or_else(|p| p.into_inner());
        match known.as_mut() {
            Some((dir, size)) if *dir == self.dir => {
                *size += added;
                if *size > self.budget_bytes {
                    *known = None; // listed again after the trim
                    true
                } else {
                    false
                }
            }
            _ => {
                *known = Some((self.dir.clone(), self.size()));
                known.as_ref().is_some_and(|(_, size)| *size > self.budget_bytes)
            }
        }
    }

    /// Removes least recently used files until the cache fits its budget (never `keep`).
    fn trim(&self, keep: &Path) {
        let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = Vec::new();
        let Ok(shards) = std::fs::read_dir(&self.dir) else { return };
        for shard in shards.flatten() {
            let Ok(entries) = std::fs::read_dir(shard.path()) else { continue };
            for e in entries.flatten() {
                if let Ok(m) = e.metadata()
                    && m.is_file()
                {
                    files.push((m.modified().unwrap_or(std::time::UNIX_EPOCH), m.len(), e.path()));
                }
            }
        }
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        files.sort();
        for (_, len, path) in files {
            if total <= self.budget_bytes {
                break;
            }
            if path != keep && std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }

    /// Bytes held now.
    pub fn size(&self) -> u64 {
        let mut total = 0;
        if let Ok(shards) = std::fs::read_dir(&self.dir) {
            for shard in shards.flatten() {
                if let Ok(entries) = std::fs::read_dir(shard.path()) {
                    total += entries.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum::<u64>();
                }
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_checks_hashes_and_stays_within_its_budget() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::new(dir.path(), 2500);
        let blobs: Vec<Vec<u8>> = (0..4u8).map(|i| vec![i; 1000]).collect();
        let hashes: Vec<String> = blobs.iter().map(|b| imageio::sha256_hex(b)).collect();
        for (b, h) in blobs.iter().zip(&hashes) {
            cache.put(h, b).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(15));
        }
        assert!(cache.size() <= 2500, "{}", cache.size());
        assert_eq!(cache.get(&hashes[3]).unwrap().as_deref(), Some(&blobs[3][..]));
        assert_eq!(cache.get(&hashes[0]).unwrap(), None, "the oldest went first");
        // a cached file that changed is not served
        let p = cache.path(&hashes[3]).unwrap();
        std::fs::write(&p, b"tampered").unwrap();
        assert_eq!(cache.get(&hashes[3]).unwrap(), None);
        assert!(!p.exists());
        // names that are not hashes never reach the disk
        assert_eq!(cache.get("../../etc/passwd").unwrap(), None);
        cache.put("../x", b"y").unwrap();
        assert!(!dir.path().join("../x").exists());
    }
}
