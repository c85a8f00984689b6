//! Splitting a page into GPU textures: a level of detail per zoom and a grid of tiles per level.
//!
//! Level `k` is the page downscaled by `2^k` (each level pixel covers a `2^k × 2^k` block of
//! image pixels; the last row and column may cover less). Tiles are at most `tile_side_px` on a
//! side in level pixels, so a 4961×7016 scan fits any GPU's maximum texture size, and zoomed
//! out we never upload or draw more texels than the screen can show.

use crate::domain::Rect;

/// Integer pixel rectangle (origin and size) in one level's pixel grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PixelRect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// Identifies a tile's texture across frames (a cache key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileKey {
    /// log2 of the downscale factor.
    pub level: u8,
    pub col: u32,
    pub row: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tile {
    pub key: TileKey,
    /// Where to draw it, in image pixels.
    pub image_rect: Rect,
    /// Which texels of the level's image it holds.
    pub source: PixelRect,
}

/// The level of detail to draw at `zoom` (screen px per image px): the coarsest level whose
/// texels are still no larger than a screen pixel, so nothing is undersampled, capped where
/// the page would shrink below one texel.
pub fn level_for_zoom(zoom: f32, image_w_px: u32, image_h_px: u32) -> u8 {
    if !(zoom.is_finite() && zoom > 0.0) || zoom >= 1.0 {
        return 0;
    }
    // A hair of slack so that zoom 0.5 (exactly, or after f32 round-off) picks level 1.
    let wanted = (1.0 / zoom * (1.0 + 1e-4)).log2().floor().max(0.0) as u32;
    let max_side = image_w_px.max(image_h_px).max(1);
    let max_level = 31 - max_side.leading_zeros(); // floor(log2(max_side))
    wanted.min(max_level).min(u32::from(u8::MAX)) as u8
}

/// The tiles of one level of one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileGrid {
    image_w_px: u32,
    image_h_px: u32,
    level: u8,
    tile_side_px: u32,
}

impl TileGrid {
    /// `tile_side_px` is the GPU's maximum texture side or smaller (2048 keeps uploads short).
    pub fn new(image_w_px: u32, image_h_px: u32, level: u8, tile_side_px: u32) -> Self {
        Self {
            image_w_px: image_w_px.max(1),
            image_h_px: image_h_px.max(1),
            level: level.min(31),
            tile_side_px: tile_side_px.max(1),
        }
    }

    /// Image pixels per level pixel along each axis.
    pub fn scale(&self) -> u32 {
        1 << self.level
    }

    pub fn level(&self) -> u8 {
        self.level
    }

    /// Size of the downscaled page this grid tiles (rounded up, so no image pixel is dropped).
    pub fn level_size(&self) -> (u32, u32) {
        (self.image_w_px.div_ceil(self.scale()), self.image_h_px.div_ceil(self.scale()))
    }

    pub fn cols(&self) -> u32 {
        self.level_size().0.div_ceil(self.tile_side_px)
    }

    pub fn rows(&self) -> u32 {
        self.level_size().1.div_ceil(self.tile_side_px)
    }

    pub fn tile(&self, col: u32, row: u32) -> Tile {
        let (lw, lh) = self.level_size();
        let t = self.tile_side_px;
        let (x, y) = (col * t, row * t);
        let source = PixelRect { x, y, w: t.min(lw - x), h: t.min(lh - y) };
        let s = self.scale();
        let image_rect = Rect::new(
            (x * s) as f32,
            (y * s) as f32,
            ((x + source.w) * s).min(self.image_w_px) as f32,
            ((y + source.h) * s).min(self.image_h_px) as f32,
        );
        Tile { key: TileKey { level: self.level, col, row }, image_rect, source }
    }

    pub fn tiles(&self) -> impl Iterator<Item = Tile> + '_ {
        let cols = self.cols();
        (0..self.rows()).flat_map(move |row| (0..cols).map(move |col| self.tile(col, row)))
    }

    /// Tiles overlapping `visible` (image px), row by row.
    pub fn visible_tiles(&self, visible: &Rect) -> impl Iterator<Item = Tile> + '_ {
        let side_img = (self.tile_side_px as f32) * (self.scale() as f32);
        let range = |lo: f32, hi: f32, n: u32| -> std::ops::Range<u32> {
            if hi.is_nan() || lo.is_nan() || hi <= lo || n == 0 || hi <= 0.0 {
                return 0..0;
            }
            let first = (lo / side_img).floor().max(0.0) as u32;
            // half-open on the high side: a view ending exactly on a tile border needs no more
            let last = ((hi / side_img).ceil() as u32).min(n);
            first.min(n)..last
        };
        let cols = range(visible.x0, visible.x1.min(self.image_w_px as f32), self.cols());
        let rows = range(visible.y0, visible.y1.min(self.image_h_px as f32), self.rows());
        rows.flat_map(move |row| cols.clone().map(move |col| self.tile(col, row)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every image pixel is covered by exactly one tile, and the source rects tile the level
    /// image: all inside, pairwise disjoint, areas summing to the whole.
    fn assert_exact_cover(g: &TileGrid, w: u32, h: u32) {
        let tiles: Vec<Tile> = g.tiles().collect();
        let (lw, lh) = g.level_size();
        let mut image_area = 0u64;
        let mut level_area = 0u64;
        for (i, t) in tiles.iter().enumerate() {
            let r = t.image_rect;
            assert!(r.x0 >= 0.0 && r.y0 >= 0.0 && r.x1 <= w as f32 && r.y1 <= h as f32, "{t:?}");
            assert!(r.x0.fract() == 0.0 && r.x1.fract() == 0.0 && r.y0.fract() == 0.0 && r.y1.fract() == 0.0);
            assert!(t.source.w > 0 && t.source.h > 0 && t.source.x + t.source.w <= lw && t.source.y + t.source.h <= lh);
            image_area += (r.width() * r.height()) as u64;
            level_area += u64::from(t.source.w) * u64::from(t.source.h);
            for u in &tiles[i + 1..] {
                assert!(r.intersection(&u.image_rect).is_none(), "overlap {t:?} {u:?}");
                let (a, b) = (t.source, u.source);
                let disjoint = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
                assert!(disjoint, "source overlap {a:?} {b:?}");
            }
        }
        assert_eq!(image_area, u64::from(w) * u64::from(h), "image gaps at level {}", g.level());
        assert_eq!(level_area, u64::from(lw) * u64::from(lh), "level gaps at level {}", g.level());
    }

    #[test]
    fn a4_scan_tiles_cover_exactly_at_every_level() {
        let (w, h) = (4961, 7016);
        for level in 0..=4 {
            let g = TileGrid::new(w, h, level, 2048);
            assert_exact_cover(&g, w, h);
        }
    }

    #[test]
    fn odd_sizes_and_tiny_tiles_cover_exactly() {
        for (w, h, side) in [(1, 1, 4), (7, 5, 2), (33, 17, 8), (100, 3, 7)] {
            for level in 0..=3 {
                assert_exact_cover(&TileGrid::new(w, h, level, side), w, h);
            }
        }
    }

    #[test]
    fn a4_at_level_0_is_three_by_four_with_smaller_edge_tiles() {
        let g = TileGrid::new(4961, 7016, 0, 2048);
        assert_eq!((g.cols(), g.rows()), (3, 4));
        let last = g.tile(2, 3);
        assert_eq!(last.source, PixelRect { x: 4096, y: 6144, w: 865, h: 872 });
        assert_eq!(last.image_rect, Rect::new(4096.0, 6144.0, 4961.0, 7016.0));
        let first = g.tile(0, 0);
        assert_eq!(first.source, PixelRect { x: 0, y: 0, w: 2048, h: 2048 });
    }

    #[test]
    fn downscaled_level_maps_back_to_image_pixels() {
        let g = TileGrid::new(4961, 7016, 2, 1024);
        assert_eq!(g.level_size(), (1241, 1754));
        assert_eq!((g.cols(), g.rows()), (2, 2));
        let t = g.tile(1, 1);
        assert_eq!(t.source, PixelRect { x: 1024, y: 1024, w: 217, h: 730 });
        // the last level pixel covers only one image column (4960) of its four
        assert_eq!(t.image_rect, Rect::new(4096.0, 4096.0, 4961.0, 7016.0));
    }

    #[test]
    fn max_texture_sides_fit() {
        for max in [2048, 4096, 8192] {
            let g = TileGrid::new(4961, 7016, 0, max);
            assert!(g.tiles().all(|t| t.source.w <= max && t.source.h <= max));
        }
        assert_eq!(TileGrid::new(4961, 7016, 0, 8192).tiles().count(), 1);
    }

    #[test]
    fn level_selection_never_undersamples() {
        let (w, h) = (4961, 7016);
        assert_eq!(level_for_zoom(32.0, w, h), 0);
        assert_eq!(level_for_zoom(1.0, w, h), 0);
        assert_eq!(level_for_zoom(0.75, w, h), 0);
        assert_eq!(level_for_zoom(0.5, w, h), 1);
        assert_eq!(level_for_zoom(0.3, w, h), 1);
        assert_eq!(level_for_zoom(0.25, w, h), 2);
        assert_eq!(level_for_zoom(0.128, w, h), 2); // fit-page on a 900 px tall canvas
        assert_eq!(level_for_zoom(1.0 / 64.0, w, h), 6);
        assert_eq!(level_for_zoom(1e-6, w, h), 12, "capped where the page is a few texels");
        assert_eq!(level_for_zoom(f32::NAN, w, h), 0);
        // texels per screen pixel stay in [1, 2)
        for i in 1..200 {
            let zoom = i as f32 / 200.0;
            let scale = (1u32 << level_for_zoom(zoom, w, h)) as f32;
            let texels_per_screen_px = 1.0 / (zoom * scale);
            assert!((0.999..2.0).contains(&texels_per_screen_px), "zoom {zoom}");
        }
    }

    #[test]
    fn visible_tiles_are_those_intersecting_the_view() {
        let g = TileGrid::new(4961, 7016, 0, 2048);
        let all: Vec<_> = g.visible_tiles(&Rect::new(-10.0, -10.0, 9999.0, 9999.0)).collect();
        assert_eq!(all.len(), 12);
        let some: Vec<_> = g.visible_tiles(&Rect::new(2000.0, 2100.0, 2100.0, 2200.0)).map(|t| t.key).collect();
        assert_eq!(some, vec![TileKey { level: 0, col: 0, row: 1 }, TileKey { level: 0, col: 1, row: 1 }]);
        assert_eq!(g.visible_tiles(&Rect::new(6000.0, 0.0, 7000.0, 10.0)).count(), 0);
        assert_eq!(g.visible_tiles(&Rect::new(10.0, 10.0, 10.0, 20.0)).count(), 0, "empty view");
        // brute force agreement on a downscaled level
        let g = TileGrid::new(4961, 7016, 1, 512);
        let view = Rect::new(1500.0, 3000.0, 2600.0, 4100.0);
        let fast: Vec<_> = g.visible_tiles(&view).map(|t| t.key).collect();
        let slow: Vec<_> = g.tiles().filter(|t| t.image_rect.intersection(&view).is_some()).map(|t| t.key).collect();
        assert_eq!(fast, slow);
    }
}
