//! Background page loading: decode one page on a worker thread, build downscaled levels
//! (1/2, 1/4, …) and cut each level into tiles no larger than the GPU takes, reporting
//! progress over a channel the UI polls once per frame. The UI thread never decodes.

use std::path::{Path, PathBuf};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender};
use image::RgbaImage;

use super::canvas::{TileGrid, TileKey};
use super::pages::{PageError, PageRef};
use crate::domain::DocId;
use crate::imageio::{self, ImageError};

/// Tiles are at most this big on a side (and never above the GPU's maximum texture side).
pub const MAX_TILE_SIDE_PX: u32 = 2048;
/// Levels stop once the whole page fits in a square this size.
const COARSEST_SIDE_PX: u32 = 512;

/// One tile's pixels, ready to upload (RGBA, row-major, `w * h * 4` bytes).
#[derive(Debug, Clone)]
pub struct TilePixels {
    pub key: TileKey,
    pub w: u32,
    pub h: u32,
    pub rgba: Vec<u8>,
}

/// One level of detail of a page: its tile grid and the tiles' pixels, in grid order.
#[derive(Debug, Clone)]
pub struct Level {
    pub grid: TileGrid,
    pub tiles: Vec<TilePixels>,
}

impl Level {
    pub fn tile(&self, key: TileKey) -> Option<&TilePixels> {
        let i = key.row.checked_mul(self.grid.cols())?.checked_add(key.col)? as usize;
        self.tiles.get(i).filter(|t| t.key == key)
    }
}

/// A decoded page: full size plus coarser levels, level `k` at index `k`.
#[derive(Debug, Clone)]
pub struct LoadedPage {
    pub doc: DocId,
    pub width: u32,
    pub height: u32,
    pub tile_side_px: u32,
    pub levels: Vec<Level>,
}

impl LoadedPage {
    /// The finest level available at or coarser than `wanted`.
    pub fn level(&self, wanted: u8) -> Option<&Level> {
        self.levels.get(usize::from(wanted).min(self.levels.len().saturating_sub(1)))
    }

    pub fn coarsest(&self) -> Option<&Level> {
        self.levels.last()
    }
}

/// Why a page could not be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The file is not where the workspace says: offer to re-link it.
    Missing { path: PathBuf },
    /// The file is there but cannot be decoded; the sentence says why.
    Unreadable(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Missing { path } => {
                write!(f, "{}: the image file is missing (moved or renamed?)", path.display())
            }
            LoadError::Unreadable(reason) => f.write_str(reason),
        }
    }
}

#[derive(Debug, Clone)]
pub enum LoadEvent {
    Progress { doc: DocId, fraction: f32, stage: &'static str },
    Done(Arc<LoadedPage>),
    Failed { doc: DocId, error: LoadError },
}

/// Runs at most one page load at a time; a new request makes older ones stop early and their
/// results are dropped.
pub struct PageLoader {
    tx: Sender<(u64, LoadEvent)>,
    rx: Receiver<(u64, LoadEvent)>,
    generation: Arc<AtomicU64>,
}

impl Default for PageLoader {
    fn default() -> Self {
        Self::new()
    }
}

impl PageLoader {
    pub fn new() -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        Self { tx, rx, generation: Arc::new(AtomicU64::new(0)) }
    }

    /// Starts loading the page `source` for `doc`. `wake` is called after each event (pass the
    /// UI's repaint request so progress shows without input).
    pub fn request(&self, doc: DocId, source: PageRef, max_texture_side_px: u32, wake: impl Fn() + Send + 'static) {
        let gen_now = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let generation = Arc::clone(&self.generation);
        let tx = self.tx.clone();
        let tile_side = MAX_TILE_SIDE_PX.min(max_texture_side_px.max(64));
        let spawned = std::thread::Builder::new().name("page-loader".into()).spawn(move || {
            let stale = || generation.load(Ordering::SeqCst) != gen_now;
            let send = |e: LoadEvent| {
                let _ = tx.send((gen_now, e)); // the receiver is gone only when the app closes
                wake();
            };
            send(LoadEvent::Progress { doc, fraction: 0.05, stage: "reading" });
            match load_page(doc, &source, tile_side, &stale, &|fraction, stage| {
                send(LoadEvent::Progress { doc, fraction, stage })
            }) {
                Ok(Some(p)) => send(LoadEvent::Done(Arc::new(p))),
                Ok(None) => {} // superseded
                Err(error) => send(LoadEvent::Failed { doc, error }),
            }
        });
        if let Err(e) = spawned {
            let _ = self.tx.send((
                gen_now,
                LoadEvent::Failed { doc, error: LoadError::Unreadable(format!("cannot start a loader thread: {e}")) },
            ));
        }
    }

    /// Cancels the running load (its results will be dropped).
    pub fn cancel(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Events of the current request since the last poll.
    pub fn poll(&self) -> Vec<LoadEvent> {
        let current = self.generation.load(Ordering::SeqCst);
        self.rx.try_iter().filter(|(g, _)| *g == current).map(|(_, e)| e).collect()
    }
}

/// Points a document's file (all its pages) at `file` if the content hash matches: a moved or
/// renamed scan is recognised by content, never by name. Errors are sentences for the user.
pub fn relink_file(store: &mut crate::store::Store, doc: &crate::domain::Document, file: &Path) -> Result<(), String> {
    let hash = imageio::sha256_file(file).map_err(|e| e.to_string())?;
    if hash != doc.sha256 {
        return Err(format!("{} is a different image (its content does not match); nothing changed", file.display()));
    }
    store.relink(&doc.sha256, &file.to_string_lossy()).map(|_| ()).map_err(|e| format!("cannot re-link: {e}"))
}

/// Decodes and tiles one page synchronously. Returns Ok(None) when `stale()` turned true.
pub fn load_page(
    doc: DocId,
    source: &PageRef,
    tile_side_px: u32,
    stale: &dyn Fn() -> bool,
    progress: &dyn Fn(f32, &'static str),
) -> Result<Option<LoadedPage>, LoadError> {
    let img = source.decode(None).map_err(|e| match e {
        PageError::Missing { path } => LoadError::Missing { path },
        PageError::Image(ImageError::Io { ref source, ref path }) if source.kind() == std::io::ErrorKind::NotFound => {
            LoadError::Missing { path: path.clone() }
        }
        other => LoadError::Unreadable(other.to_string()),
    })?;
    if stale() {
        return Ok(None);
    }
    progress(0.5, "building levels");
    let full = img.into_rgba8();
    let (width, height) = full.dimensions();
    let images = build_levels(full, COARSEST_SIDE_PX);
    if stale() {
        return Ok(None);
    }
    progress(0.8, "cutting tiles");
    let levels = images
        .iter()
        .enumerate()
        .map(|(k, level_img)| {
            let grid = TileGrid::new(width, height, k as u8, tile_side_px);
            Level { grid, tiles: cut_tiles(level_img, &grid) }
        })
        .collect();
    Ok(Some(LoadedPage { doc, width, height, tile_side_px, levels }))
}

/// Level 0 is the page itself; each next level halves it (2×2 box filter, sizes rounded up,
/// matching [`TileGrid::level_size`]) until the page fits in `coarsest_side_px`.
pub fn build_levels(full: RgbaImage, coarsest_side_px: u32) -> Vec<RgbaImage> {
    let mut levels = vec![full];
    while let Some(last) = levels.last() {
        let (w, h) = last.dimensions();
        if w.max(h) <= coarsest_side_px.max(1) || levels.len() >= 16 {
            break;
        }
        let half = halve(last);
        levels.push(half);
    }
    levels
}

/// 2×2 box downscale; an odd last row/column averages what it has.
fn halve(src: &RgbaImage) -> RgbaImage {
    let (w, h) = src.dimensions();
    let (hw, hh) = (w.div_ceil(2), h.div_ceil(2));
    let s = src.as_raw();
    let stride = w as usize * 4;
    let mut out = vec![0u8; hw as usize * hh as usize * 4];
    for y in 0..hh as usize {
        let y0 = 2 * y;
        let y1 = (2 * y + 1).min(h as usize - 1);
        for x in 0..hw as usize {
            let x0 = 2 * x;
            let x1 = (2 * x + 1).min(w as usize - 1);
            for c in 0..4 {
                let sum = u32::from(s[y0 * stride + x0 * 4 + c])
                    + u32::from(s[y0 * stride + x1 * 4 + c])
                    + u32::from(s[y1 * stride + x0 * 4 + c])
                    + u32::from(s[y1 * stride + x1 * 4 + c]);
                out[(y * hw as usize + x) * 4 + c] = ((sum + 2) / 4) as u8;
            }
        }
    }
    RgbaImage::from_raw(hw, hh, out).unwrap_or_else(|| RgbaImage::new(hw, hh))
}

fn cut_tiles(level: &RgbaImage, grid: &TileGrid) -> Vec<TilePixels> {
    let stride = level.width() as usize * 4;
    let raw = level.as_raw();
    grid.tiles()
        .map(|t| {
            let s = t.source;
            let mut rgba = Vec::with_capacity(s.w as usize * s.h as usize * 4);
            for y in s.y..s.y + s.h {
                let start = y as usize * stride + s.x as usize * 4;
                rgba.extend_from_slice(&raw[start..start + s.w as usize * 4]);
            }
            TilePixels { key: t.key, w: s.w, h: s.h, rgba }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_halve_with_rounded_up_sizes_matching_the_tile_grid() {
        let img = RgbaImage::from_fn(1001, 613, |x, y| image::Rgba([(x % 256) as u8, (y % 256) as u8, 0, 255]));
        let levels = build_levels(img, 128);
        let sizes: Vec<_> = levels.iter().map(|l| l.dimensions()).collect();
        assert_eq!(sizes, vec![(1001, 613), (501, 307), (251, 154), (126, 77)]);
        for (k, l) in levels.iter().enumerate() {
            assert_eq!(TileGrid::new(1001, 613, k as u8, 256).level_size(), l.dimensions());
        }
    }

    #[test]
    fn halving_averages_blocks() {
        let img = RgbaImage::from_fn(3, 2, |x, _| if x == 0 { image::Rgba([0; 4]) } else { image::Rgba([200; 4]) });
        let h = halve(&img);
        assert_eq!(h.dimensions(), (2, 1));
        assert_eq!(h.get_pixel(0, 0).0, [100; 4]);
        assert_eq!(h.get_pixel(1, 0).0, [200; 4]);
    }

    #[test]
    fn tiles_cover_each_level_and_are_found_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.png");
        RgbaImage::from_fn(700, 300, |x, y| image::Rgba([(x / 3) as u8, (y / 2) as u8, 7, 255])).save(&path).unwrap();
        let page =
            load_page(DocId(1), &PageRef::File { path: path.clone(), page: 0, size: None }, 256, &|| false, &|_, _| {})
                .unwrap()
                .unwrap();
        assert_eq!((page.width, page.height), (700, 300));
        let l0 = &page.levels[0];
        assert_eq!(l0.tiles.len(), 3 * 2);
        let t = l0.tile(TileKey { level: 0, col: 2, row: 1 }).unwrap();
        assert_eq!((t.w, t.h), (700 - 512, 300 - 256));
        // first texel of that tile is image pixel (512, 256)
        assert_eq!(&t.rgba[..4], &[(512 / 3) as u8, (256 / 2) as u8, 7, 255]);
        assert!(page.level(40).is_some());
        assert_eq!(page.coarsest().unwrap().grid.level_size(), (350, 150));
    }

    #[test]
    fn a_turned_page_is_tiled_turned_and_turns_add_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.png");
        // a red pixel at the top-left corner of a 70×30 page
        RgbaImage::from_fn(70, 30, |x, y| image::Rgba(if (x, y) == (0, 0) { [255, 0, 0, 255] } else { [9; 4] }))
            .save(&path)
            .unwrap();
        let file = PageRef::File { path, page: 0, size: None };
        let source = file.clone().turned(3).turned(2);
        assert_eq!(source, PageRef::Turned { source: Box::new(file.clone()), quarters: 1 });
        assert_eq!(source.clone().turned(3), file, "four quarters are none");
        let page = load_page(DocId(1), &source, 256, &|| false, &|_, _| {}).unwrap().unwrap();
        assert_eq!((page.width, page.height), (30, 70));
        // a quarter clockwise: the top-left corner went to the top-right
        let t = page.levels[0].tile(TileKey { level: 0, col: 0, row: 0 }).unwrap();
        let at = |x: usize, y: usize| &t.rgba[(y * t.w as usize + x) * 4..][..4];
        assert_eq!((at(29, 0), at(0, 0)), (&[255, 0, 0, 255][..], &[9; 4][..]));
    }

    #[test]
    fn missing_and_corrupt_files_give_distinct_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone.png");
        let err = load_page(
            DocId(1),
            &PageRef::File { path: missing.clone(), page: 0, size: None },
            256,
            &|| false,
            &|_, _| {},
        )
        .unwrap_err();
        assert_eq!(err, LoadError::Missing { path: missing });
        let bad = dir.path().join("bad.png");
        std::fs::write(&bad, b"\x89PNG\r\n\x1a\nthis is not a png").unwrap();
        let err =
            load_page(DocId(1), &PageRef::File { path: bad.clone(), page: 0, size: None }, 256, &|| false, &|_, _| {})
                .unwrap_err();
        assert!(matches!(err, LoadError::Unreadable(ref s) if s.contains("bad.png")), "{err:?}");
    }

    #[test]
    fn the_worker_reports_over_the_channel_and_drops_superseded_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.png");
        RgbaImage::new(40, 30).save(&path).unwrap();
        let loader = PageLoader::new();
        loader.request(DocId(1), PageRef::File { path: dir.path().join("nope.png"), page: 0, size: None }, 4096, || {});
        loader.request(DocId(2), PageRef::File { path, page: 0, size: None }, 4096, || {});
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut done = None;
        while done.is_none() && std::time::Instant::now() < deadline {
            for e in loader.poll() {
                match e {
                    LoadEvent::Done(p) => done = Some(p),
                    LoadEvent::Failed { doc, .. } => assert_ne!(doc, DocId(1), "superseded load leaked"),
                    LoadEvent::Progress { doc, .. } => assert_eq!(doc, DocId(2)),
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let p = done.unwrap();
        assert_eq!((p.doc, p.width, p.height, p.levels.len()), (DocId(2), 40, 30, 1));
    }
}
