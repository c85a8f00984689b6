//! Page textures: tiles of the level `level_for_zoom` picks, uploaded when first visible, with
//! the coarsest level drawn underneath so zooming never shows holes while tiles upload.
//! Uploaded tiles stay cached while they fit in [`TEXTURE_BUDGET_BYTES`]; beyond that the
//! least recently drawn ones go, so panning across a 40 000 px scan at 100 % does not fill
//! the GPU's memory.

use eframe::egui;

use std::collections::HashMap;

use egui::{Color32, ColorImage, Pos2, Rect, TextureHandle, TextureOptions};

use crate::app::canvas::{TileKey, Viewport, level_for_zoom};
use crate::app::loader::{Level, LoadedPage};

/// New tiles uploaded per frame at most; more are drawn next frame (keeps frames short).
const UPLOADS_PER_FRAME: usize = 3;
/// Texture memory the page may hold: 16 full 2048² tiles, several screens' worth.
pub const TEXTURE_BUDGET_BYTES: usize = 256 << 20;

struct Cached {
    texture: TextureHandle,
    bytes: usize,
    /// Frame it was last drawn in.
    used: u64,
}

pub struct TileCache {
    textures: HashMap<TileKey, Cached>,
    /// Level of the last frame, to drop textures of levels no longer drawn.
    last_level: Option<u8>,
    frame: u64,
    bytes: usize,
    /// Bytes of textures kept beyond what the current frame draws.
    budget: usize,
}

impl Default for TileCache {
    fn default() -> Self {
        Self { textures: HashMap::new(), last_level: None, frame: 0, bytes: 0, budget: TEXTURE_BUDGET_BYTES }
    }
}

impl TileCache {
    pub fn clear(&mut self) {
        self.textures.clear();
        self.last_level = None;
        self.bytes = 0;
    }

    /// Draws the visible part of the page. Returns true when some tiles still wait for upload.
    pub fn paint(&mut self, ctx: &egui::Context, painter: &egui::Painter, page: &LoadedPage, vp: &Viewport) -> bool {
        self.frame += 1;
        let ppp = ctx.pixels_per_point();
        let wanted = level_for_zoom(vp.zoom() * ppp, page.width, page.height);
        let (Some(level), Some(coarsest)) = (page.level(wanted), page.coarsest()) else { return false };
        let lk = level.grid.level();
        if self.last_level != Some(lk) {
            let keep_coarse = coarsest.grid.level();
            self.textures.retain(|k, _| k.level == lk || k.level == keep_coarse);
            self.bytes = self.textures.values().map(|c| c.bytes).sum();
            self.last_level = Some(lk);
        }
        let mut budget = UPLOADS_PER_FRAME;
        let mut missing = false;
        if lk != coarsest.grid.level() {
            // always available underneath (one small texture for most pages)
            let mut unlimited = usize::MAX;
            missing |= self.paint_level(ctx, painter, coarsest, vp, &mut unlimited);
        }
        missing |= self.paint_level(ctx, painter, level, vp, &mut budget);
        self.evict(coarsest.grid.level());
        missing
    }

    /// Drops the least recently drawn tiles (never this frame's, never the coarsest level's)
    /// until the cache fits its budget.
    fn evict(&mut self, coarsest: u8) {
        let budget = self.budget;
        if self.bytes <= budget {
            return;
        }
        let mut old: Vec<(u64, TileKey)> = self
            .textures
            .iter()
            .filter(|(k, c)| c.used < self.frame && k.level != coarsest)
            .map(|(k, c)| (c.used, *k))
            .collect();
        old.sort_unstable_by_key(|(used, _)| *used);
        for (_, key) in old {
            if self.bytes <= budget {
                break;
            }
            if let Some(c) = self.textures.remove(&key) {
                self.bytes -= c.bytes;
            }
        }
    }

    fn paint_level(
        &mut self,
        ctx: &egui::Context,
        painter: &egui::Painter,
        level: &Level,
        vp: &Viewport,
        budget: &mut usize,
    ) -> bool {
        let mut missing = false;
        for tile in level.grid.visible_tiles(&vp.visible_image_rect()) {
            if !self.textures.contains_key(&tile.key) {
                if *budget == 0 {
                    missing = true;
                    continue;
                }
                let Some(px) = level.tile(tile.key) else { continue };
                *budget -= 1;
                let img = ColorImage::from_rgba_unmultiplied([px.w as usize, px.h as usize], &px.rgba);
                let name = format!("page-tile-{}-{}-{}", tile.key.level, tile.key.col, tile.key.row);
                let texture = ctx.load_texture(name, img, TextureOptions::LINEAR);
                self.bytes += px.rgba.len();
                self.textures.insert(tile.key, Cached { texture, bytes: px.rgba.len(), used: self.frame });
            }
            let Some(cached) = self.textures.get_mut(&tile.key) else { continue };
            cached.used = self.frame;
            let a = vp.to_screen(crate::domain::Point::new(tile.image_rect.x0, tile.image_rect.y0));
            let b = vp.to_screen(crate::domain::Point::new(tile.image_rect.x1, tile.image_rect.y1));
            let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
            painter.image(
                cached.texture.id(),
                Rect::from_min_max(Pos2::new(a.x, a.y), Pos2::new(b.x, b.y)),
                uv,
                Color32::WHITE,
            );
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::canvas::{ScreenPos, ScreenRect};
    use crate::app::loader::load_page;
    use crate::domain::DocId;

    /// A real page through the loader, cut into 64-px tiles so panning at 100 % crosses many.
    fn page(dir: &std::path::Path, side: u32) -> LoadedPage {
        let path = dir.join("page.png");
        image::RgbImage::from_fn(side, side, |x, y| image::Rgb([x as u8, y as u8, 128])).save(&path).unwrap();
        load_page(
            DocId(1),
            &crate::app::pages::PageRef::File { path: path.clone(), page: 0, size: None },
            64,
            &|| false,
            &|_, _| {},
        )
        .unwrap()
        .unwrap()
    }

    #[test]
    fn panning_a_huge_page_keeps_texture_memory_within_budget_and_draws_every_frame() {
        let ctx = egui::Context::default();
        let dir = tempfile::tempdir().unwrap();
        let page = page(dir.path(), 2048);
        let budget = 40 * 64 * 64 * 4; // 40 full tiles
        let mut cache = TileCache { budget, ..TileCache::default() };
        let mut vp = Viewport::new(2048, 2048, ScreenRect { x0: 0.0, y0: 0.0, x1: 256.0, y1: 256.0 });
        vp.set_zoom_at(ScreenPos::new(0.0, 0.0), 1.0);
        let mut peak = 0;
        for step in 0..40 {
            // sweep right along a row of the page, then down
            if step % 8 == 7 {
                vp.pan_by(7.0 * 200.0, -200.0);
            } else {
                vp.pan_by(-200.0, 0.0);
            }
            for _ in 0..12 {
                let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
                    cache.paint(&ctx, ui.painter(), &page, &vp);
                });
                out.textures_delta.clear(); // no renderer here to upload to
            }
            peak = peak.max(cache.bytes);
        }
        // without eviction a sweep like this uploads several hundred tiles
        assert!(peak <= budget + 25 * 64 * 64 * 4, "peak {peak} bytes, budget {budget}");
        assert!(cache.bytes > 0);
    }
}
