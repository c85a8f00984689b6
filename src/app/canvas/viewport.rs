//! Image ↔ screen transforms, zoom about an anchor, fit modes and pan limits.
//!
//! State is kept in f64: at 32× zoom on a 7016-pixel page, screen coordinates reach ~2·10⁵ where
//! f32 cannot hold the point under the cursor to a thousandth of a pixel.

use crate::domain::{Point, Rect};

/// Zoom limits in screen pixels per image pixel.
pub const MIN_ZOOM: f32 = 1.0 / 64.0;
pub const MAX_ZOOM: f32 = 32.0;

/// How much of the image (in screen px) must stay inside the canvas after a pan or zoom, so the
/// page can never be lost off-screen.
const MIN_VISIBLE_SCREEN_PX: f64 = 48.0;

/// A position in screen (logical) pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ScreenPos {
    pub x: f32,
    pub y: f32,
}

impl ScreenPos {
    pub const fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }

    pub fn distance(self, other: ScreenPos) -> f32 {
        (self.x - other.x).hypot(self.y - other.y)
    }
}

/// An axis-aligned rectangle in screen (logical) pixels, `x0 <= x1`, `y0 <= y1`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ScreenRect {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl ScreenRect {
    pub const fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        Self { x0, y0, x1, y1 }
    }

    pub fn width(&self) -> f32 {
        (self.x1 - self.x0).max(0.0)
    }

    pub fn height(&self) -> f32 {
        (self.y1 - self.y0).max(0.0)
    }

    pub fn center(&self) -> ScreenPos {
        ScreenPos::new((self.x0 + self.x1) * 0.5, (self.y0 + self.y1) * 0.5)
    }

    pub fn contains(&self, p: ScreenPos) -> bool {
        p.x >= self.x0 && p.x <= self.x1 && p.y >= self.y0 && p.y <= self.y1
    }
}

/// Maps image pixels to screen pixels: `screen = pan + image * zoom`.
#[derive(Debug, Clone, PartialEq)]
pub struct Viewport {
    /// Where the canvas widget is on screen.
    screen_rect: ScreenRect,
    image_w_px: f64,
    image_h_px: f64,
    /// Screen pixels per image pixel.
    zoom: f64,
    /// Screen position of the image origin.
    pan_x: f64,
    pan_y: f64,
}

impl Viewport {
    /// A viewport showing the whole page.
    pub fn new(image_w_px: u32, image_h_px: u32, screen_rect: ScreenRect) -> Self {
        let mut v = Self {
            screen_rect,
            image_w_px: f64::from(image_w_px.max(1)),
            image_h_px: f64::from(image_h_px.max(1)),
            zoom: 1.0,
            pan_x: f64::from(screen_rect.x0),
            pan_y: f64::from(screen_rect.y0),
        };
        v.fit_page();
        v
    }

    pub fn zoom(&self) -> f32 {
        self.zoom as f32
    }

    /// Screen position of the image origin.
    pub fn pan(&self) -> ScreenPos {
        ScreenPos::new(self.pan_x as f32, self.pan_y as f32)
    }

    pub fn screen_rect(&self) -> ScreenRect {
        self.screen_rect
    }

    /// Image size in pixels as `(width, height)`.
    pub fn image_size(&self) -> (f32, f32) {
        (self.image_w_px as f32, self.image_h_px as f32)
    }

    pub fn image_bounds(&self) -> Rect {
        Rect::new(0.0, 0.0, self.image_w_px as f32, self.image_h_px as f32)
    }

    /// Call every frame with the widget's rect. The image point at the centre of the old rect
    /// stays at the centre of the new one, so resizing a panel does not throw the view around.
    pub fn set_screen_rect(&mut self, screen_rect: ScreenRect) {
        if screen_rect == self.screen_rect {
            return;
        }
        let (cx, cy) = self.centre_image_f64();
        self.screen_rect = screen_rect;
        self.centre_on_f64(cx, cy);
        self.clamp_pan();
    }

    /// A new page of a different size: shows it whole.
    pub fn set_image_size(&mut self, image_w_px: u32, image_h_px: u32) {
        self.image_w_px = f64::from(image_w_px.max(1));
        self.image_h_px = f64::from(image_h_px.max(1));
        self.fit_page();
    }

    pub fn to_screen(&self, p: Point) -> ScreenPos {
        let (x, y) = self.to_screen_f64(f64::from(p.x), f64::from(p.y));
        ScreenPos::new(x as f32, y as f32)
    }

    pub fn to_image(&self, s: ScreenPos) -> Point {
        let (x, y) = self.to_image_f64(f64::from(s.x), f64::from(s.y));
        Point::new(x as f32, y as f32)
    }

    pub fn rect_to_screen(&self, r: &Rect) -> ScreenRect {
        let a = self.to_screen(Point::new(r.x0, r.y0));
        let b = self.to_screen(Point::new(r.x1, r.y1));
        ScreenRect::new(a.x, a.y, b.x, b.y)
    }

    pub fn rect_to_image(&self, r: &ScreenRect) -> Rect {
        let a = self.to_image(ScreenPos::new(r.x0, r.y0));
        let b = self.to_image(ScreenPos::new(r.x1, r.y1));
        Rect::new(a.x, a.y, b.x, b.y)
    }

    /// A length in screen pixels expressed in image pixels at the current zoom.
    pub fn screen_len_to_image(&self, screen_px: f32) -> f32 {
        (f64::from(screen_px) / self.zoom) as f32
    }

    /// Where the page is on screen.
    pub fn image_screen_rect(&self) -> ScreenRect {
        self.rect_to_screen(&self.image_bounds())
    }

    /// The part of the image inside the canvas, in image pixels (zero-sized when none is).
    pub fn visible_image_rect(&self) -> Rect {
        let r = self.rect_to_image(&self.screen_rect);
        let (w, h) = self.image_size();
        r.clamped(w, h)
    }

    /// Multiplies the zoom by `factor` (clamped) keeping the image point under `anchor` fixed.
    pub fn zoom_at(&mut self, anchor: ScreenPos, factor: f32) {
        if !(factor.is_finite() && factor > 0.0) {
            return;
        }
        self.set_zoom_at_f64(anchor, self.zoom * f64::from(factor));
    }

    /// Zooms about the centre of the canvas (keyboard zoom).
    pub fn zoom_centered(&mut self, factor: f32) {
        self.zoom_at(self.screen_rect.center(), factor);
    }

    /// Sets the zoom (clamped) keeping the image point under `anchor` fixed.
    pub fn set_zoom_at(&mut self, anchor: ScreenPos, zoom: f32) {
        self.set_zoom_at_f64(anchor, f64::from(zoom));
    }

    fn set_zoom_at_f64(&mut self, anchor: ScreenPos, zoom: f64) {
        let (ax, ay) = (f64::from(anchor.x), f64::from(anchor.y));
        let (ix, iy) = self.to_image_f64(ax, ay);
        self.zoom = zoom.clamp(f64::from(MIN_ZOOM), f64::from(MAX_ZOOM));
        self.pan_x = ax - ix * self.zoom;
        self.pan_y = ay - iy * self.zoom;
        self.clamp_pan();
    }

    /// The whole page, centred.
    pub fn fit_page(&mut self) {
        let (sw, sh) = self.screen_size_f64();
        self.zoom = (sw / self.image_w_px).min(sh / self.image_h_px).clamp(f64::from(MIN_ZOOM), f64::from(MAX_ZOOM));
        self.centre_on_f64(self.image_w_px * 0.5, self.image_h_px * 0.5);
        self.clamp_pan();
    }

    /// The page's width fills the canvas; the image row at the canvas centre stays there (so
    /// switching from fit-page zooms towards the middle of the page, not its top).
    pub fn fit_width(&mut self) {
        let (sw, _) = self.screen_size_f64();
        let (_, cy) = self.centre_image_f64();
        self.zoom = (sw / self.image_w_px).clamp(f64::from(MIN_ZOOM), f64::from(MAX_ZOOM));
        self.centre_on_f64(self.image_w_px * 0.5, cy);
        self.clamp_pan();
    }

    /// One image pixel per screen pixel, keeping the image point at the canvas centre there.
    pub fn one_to_one(&mut self) {
        let (cx, cy) = self.centre_image_f64();
        self.zoom = 1.0;
        self.centre_on_f64(cx, cy);
        self.clamp_pan();
    }

    /// Moves the image by a screen delta (a pan drag or scroll).
    pub fn pan_by(&mut self, dx_screen: f32, dy_screen: f32) {
        self.pan_x += f64::from(dx_screen);
        self.pan_y += f64::from(dy_screen);
        self.clamp_pan();
    }

    /// Pans the least needed to bring `r` (image px) fully into view with a small margin; a
    /// rectangle larger than the view is centred instead. Zoom is left alone.
    pub fn reveal(&mut self, r: &Rect) {
        let margin = 24.0;
        let sr = self.screen_rect;
        let s = self.rect_to_screen(r);
        let shift = |lo: f32, hi: f32, view_lo: f32, view_hi: f32| -> f32 {
            if hi - lo > view_hi - view_lo - 2.0 * margin {
                (view_lo + view_hi) * 0.5 - (lo + hi) * 0.5
            } else if lo < view_lo + margin {
                view_lo + margin - lo
            } else if hi > view_hi - margin {
                view_hi - margin - hi
            } else {
                0.0
            }
        };
        let dx = shift(s.x0, s.x1, sr.x0, sr.x1);
        let dy = shift(s.y0, s.y1, sr.y0, sr.y1);
        self.pan_by(dx, dy);
    }

    fn to_screen_f64(&self, x: f64, y: f64) -> (f64, f64) {
        (self.pan_x + x * self.zoom, self.pan_y + y * self.zoom)
    }

    fn to_image_f64(&self, x: f64, y: f64) -> (f64, f64) {
        ((x - self.pan_x) / self.zoom, (y - self.pan_y) / self.zoom)
    }

    fn screen_size_f64(&self) -> (f64, f64) {
        (f64::from(self.screen_rect.width()).max(1.0), f64::from(self.screen_rect.height()).max(1.0))
    }

    fn centre_image_f64(&self) -> (f64, f64) {
        let c = self.screen_rect.center();
        self.to_image_f64(f64::from(c.x), f64::from(c.y))
    }

    fn centre_on_f64(&mut self, ix: f64, iy: f64) {
        let c = self.screen_rect.center();
        self.pan_x = f64::from(c.x) - ix * self.zoom;
        self.pan_y = f64::from(c.y) - iy * self.zoom;
    }

    /// Keeps at least `MIN_VISIBLE_SCREEN_PX` of the image (or all of it, when smaller) inside
    /// the canvas on each axis.
    fn clamp_pan(&mut self) {
        let sr = self.screen_rect;
        let clamp_axis = |pan: f64, extent: f64, lo: f32, hi: f32| -> f64 {
            let (lo, hi) = (f64::from(lo), f64::from(hi));
            let keep = MIN_VISIBLE_SCREEN_PX.min(extent).min(hi - lo).max(0.0);
            // image spans [pan, pan + extent]; need pan + extent >= lo + keep and pan <= hi - keep
            let min_pan = lo + keep - extent;
            let max_pan = hi - keep;
            if min_pan <= max_pan { pan.clamp(min_pan, max_pan) } else { pan }
        };
        self.pan_x = clamp_axis(self.pan_x, self.image_w_px * self.zoom, sr.x0, sr.x1);
        self.pan_y = clamp_axis(self.pan_y, self.image_h_px * self.zoom, sr.y0, sr.y1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCREEN: ScreenRect = ScreenRect::new(100.0, 50.0, 1300.0, 950.0);

    fn a4() -> Viewport {
        Viewport::new(4961, 7016, SCREEN)
    }

    #[test]
    fn transforms_round_trip() {
        let v = a4();
        for p in [Point::new(0.0, 0.0), Point::new(4961.0, 7016.0), Point::new(1234.5, 6000.25)] {
            let back = v.to_image(v.to_screen(p));
            assert!((back.x - p.x).abs() < 1e-2 && (back.y - p.y).abs() < 1e-2, "{p:?} -> {back:?}");
        }
    }

    #[test]
    fn zoom_keeps_the_point_under_the_anchor_fixed() {
        let mut v = a4();
        let anchors = [ScreenPos::new(640.0, 480.0), ScreenPos::new(101.0, 51.0), ScreenPos::new(1299.5, 949.5)];
        let factors = [1.1f32, 2.0, 8.0, 1.0 / 1.1, 0.5, 3.7, 0.25];
        for anchor in anchors {
            for &f in &factors {
                let (ix, iy) = v.to_image_f64(f64::from(anchor.x), f64::from(anchor.y));
                v.zoom_at(anchor, f);
                let (sx, sy) = v.to_screen_f64(ix, iy);
                assert!((sx - f64::from(anchor.x)).abs() < 1e-3, "x drift {sx} vs {}", anchor.x);
                assert!((sy - f64::from(anchor.y)).abs() < 1e-3, "y drift {sy} vs {}", anchor.y);
            }
        }
    }

    #[test]
    fn zoom_anchor_holds_through_the_f32_api_at_moderate_zoom() {
        let mut v = a4();
        let anchor = ScreenPos::new(700.0, 500.0);
        let before = v.to_image(anchor);
        v.zoom_at(anchor, 1.25);
        let after = v.to_screen(before);
        assert!(anchor.distance(after) < 1e-3, "{after:?}");
        v.zoom_at(anchor, 0.8);
        let after = v.to_screen(before);
        assert!(anchor.distance(after) < 1e-3, "{after:?}");
    }

    #[test]
    fn zoom_is_clamped_and_anchor_still_holds() {
        let mut v = a4();
        let anchor = ScreenPos::new(640.0, 480.0);
        v.zoom_at(anchor, 1e6);
        assert_eq!(v.zoom(), MAX_ZOOM);
        v.zoom_at(anchor, 1e-9);
        assert_eq!(v.zoom(), MIN_ZOOM);
        v.zoom_at(anchor, f32::NAN);
        assert_eq!(v.zoom(), MIN_ZOOM);
    }

    #[test]
    fn fit_page_shows_whole_page_centred() {
        let v = a4();
        let s = v.image_screen_rect();
        assert!(s.x0 >= SCREEN.x0 - 1e-3 && s.x1 <= SCREEN.x1 + 1e-3);
        assert!(s.y0 >= SCREEN.y0 - 1e-3 && s.y1 <= SCREEN.y1 + 1e-3);
        // tall page: height fills exactly
        assert!((s.height() - SCREEN.height()).abs() < 1e-2);
        let c = s.center();
        let sc = SCREEN.center();
        assert!((c.x - sc.x).abs() < 1e-2 && (c.y - sc.y).abs() < 1e-2);
        let vis = v.visible_image_rect();
        assert!(vis.x0.abs() < 1e-3 && vis.y0.abs() < 1e-3, "{vis:?}");
        assert!((vis.x1 - 4961.0).abs() < 1e-3 && (vis.y1 - 7016.0).abs() < 1e-3, "{vis:?}");
    }

    #[test]
    fn fit_width_fills_width_and_keeps_centre_row() {
        let mut v = a4();
        v.fit_width();
        let s = v.image_screen_rect();
        assert!((s.x0 - SCREEN.x0).abs() < 1e-2 && (s.x1 - SCREEN.x1).abs() < 1e-2);
        let centre = v.to_image(SCREEN.center());
        assert!((centre.y - 3508.0).abs() < 0.5, "{centre:?}");
        let vis = v.visible_image_rect();
        assert!((vis.width() - 4961.0).abs() < 0.1);
        assert!(vis.height() < 7016.0);
    }

    #[test]
    fn one_to_one_keeps_centre() {
        let mut v = a4();
        let before = v.to_image(SCREEN.center());
        v.one_to_one();
        assert_eq!(v.zoom(), 1.0);
        let after = v.to_image(SCREEN.center());
        assert!((before.x - after.x).abs() < 0.01 && (before.y - after.y).abs() < 0.01);
        let vis = v.visible_image_rect();
        assert!((vis.width() - SCREEN.width()).abs() < 0.01);
    }

    #[test]
    fn pan_cannot_lose_the_page() {
        let mut v = a4();
        v.one_to_one();
        v.pan_by(1e7, 1e7);
        let s = v.image_screen_rect();
        assert!(s.x0 <= SCREEN.x1 - MIN_VISIBLE_SCREEN_PX as f32 + 1e-2);
        assert!(s.y0 <= SCREEN.y1 - MIN_VISIBLE_SCREEN_PX as f32 + 1e-2);
        v.pan_by(-1e8, -1e8);
        let s = v.image_screen_rect();
        assert!(s.x1 >= SCREEN.x0 + MIN_VISIBLE_SCREEN_PX as f32 - 1e-2);
        assert!(s.y1 >= SCREEN.y0 + MIN_VISIBLE_SCREEN_PX as f32 - 1e-2);
        assert!(v.visible_image_rect().area() > 0.0);
    }

    #[test]
    fn tiny_image_at_min_zoom_stays_fully_visible() {
        let mut v = Viewport::new(64, 64, SCREEN);
        v.set_zoom_at(SCREEN.center(), MIN_ZOOM);
        v.pan_by(5000.0, 0.0);
        let s = v.image_screen_rect();
        assert!(s.x1 <= SCREEN.x1 + 1e-3 && s.x0 >= SCREEN.x0 - 1e-3);
    }

    #[test]
    fn pan_by_moves_by_the_screen_delta() {
        let mut v = a4();
        v.one_to_one();
        let p = Point::new(2000.0, 3000.0);
        let before = v.to_screen(p);
        v.pan_by(-30.0, 12.5);
        let after = v.to_screen(p);
        assert!((after.x - before.x + 30.0).abs() < 1e-3 && (after.y - before.y - 12.5).abs() < 1e-3);
    }

    #[test]
    fn resizing_the_canvas_keeps_the_centre_point() {
        let mut v = a4();
        v.one_to_one();
        let before = v.to_image(SCREEN.center());
        let smaller = ScreenRect::new(300.0, 50.0, 1300.0, 950.0);
        v.set_screen_rect(smaller);
        let after = v.to_image(smaller.center());
        assert!((before.x - after.x).abs() < 0.01 && (before.y - after.y).abs() < 0.01);
    }

    #[test]
    fn reveal_brings_a_rect_into_view() {
        let mut v = a4();
        v.set_zoom_at(SCREEN.center(), 2.0);
        let target = Rect::new(4800.0, 6900.0, 4900.0, 6950.0);
        v.reveal(&target);
        let s = v.rect_to_screen(&target);
        assert!(SCREEN.contains(ScreenPos::new(s.x0, s.y0)) && SCREEN.contains(ScreenPos::new(s.x1, s.y1)));
        let pan = v.pan();
        v.reveal(&target);
        assert_eq!(pan, v.pan(), "already visible: no movement");
    }
}
