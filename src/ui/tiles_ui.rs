//! Page textures: tiles of the level `level_for_zoom` picks, uploaded when first visible, with
//! the coarsest level drawn underneath so zooming never shows holes while tiles upload.

use eframe::egui;

use std::collections::HashMap;

use egui::{Color32, ColorImage, Pos2, Rect, TextureHandle, TextureOptions};

use crate::app::canvas::{TileKey, Viewport, level_for_zoom};
use crate::app::loader::{Level, LoadedPage};

/// New tiles uploaded per frame at most; more are drawn next frame (keeps frames short).
const UPLOADS_PER_FRAME: usize = 3;

#[derive(Default)]
pub struct TileCache {
    textures: HashMap<TileKey, TextureHandle>,
    /// Level of the last frame, to drop textures of levels no longer drawn.
    last_level: Option<u8>,
}

impl TileCache {
    pub fn clear(&mut self) {
        self.textures.clear();
        self.last_level = None;
    }

    /// Draws the visible part of the page. Returns true when some tiles still wait for upload.
    pub fn paint(&mut self, ctx: &egui::Context, painter: &egui::Painter, page: &LoadedPage, vp: &Viewport) -> bool {
        let ppp = ctx.pixels_per_point();
        let wanted = level_for_zoom(vp.zoom() * ppp, page.width, page.height);
        let (Some(level), Some(coarsest)) = (page.level(wanted), page.coarsest()) else { return false };
        let lk = level.grid.level();
        if self.last_level != Some(lk) {
            let keep_coarse = coarsest.grid.level();
            self.textures.retain(|k, _| k.level == lk || k.level == keep_coarse);
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
        missing
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
            let tex = match self.textures.get(&tile.key) {
                Some(t) => t,
                None if *budget > 0 => {
                    let Some(px) = level.tile(tile.key) else { continue };
                    *budget -= 1;
                    let img = ColorImage::from_rgba_unmultiplied([px.w as usize, px.h as usize], &px.rgba);
                    let name = format!("page-tile-{}-{}-{}", tile.key.level, tile.key.col, tile.key.row);
                    self.textures.entry(tile.key).or_insert_with(|| ctx.load_texture(name, img, TextureOptions::LINEAR))
                }
                None => {
                    missing = true;
                    continue;
                }
            };
            let a = vp.to_screen(crate::domain::Point::new(tile.image_rect.x0, tile.image_rect.y0));
            let b = vp.to_screen(crate::domain::Point::new(tile.image_rect.x1, tile.image_rect.y1));
            let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
            painter.image(tex.id(), Rect::from_min_max(Pos2::new(a.x, a.y), Pos2::new(b.x, b.y)), uv, Color32::WHITE);
        }
        missing
    }
}
