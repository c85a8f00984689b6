//! Geometry in image pixels: axis-aligned rectangles and 4-point quads for skewed text.

use serde::{Deserialize, Serialize};

/// A point in image pixels (x right, y down).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

impl Point {
    pub const fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }

    /// Where this point of a `w`×`h` page lands when the page is turned `quarters` quarter
    /// turns clockwise (the turned page is `h`×`w` for an odd count).
    pub fn turned(self, quarters: u8, w: f32, h: f32) -> Point {
        match quarters % 4 {
            0 => self,
            1 => Point::new(h - self.y, self.x),
            2 => Point::new(w - self.x, h - self.y),
            _ => Point::new(self.y, w - self.x),
        }
    }
}

/// Axis-aligned rectangle in image pixels, `x0 <= x1`, `y0 <= y1` once normalised.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Rect {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl Rect {
    pub const fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        Self { x0, y0, x1, y1 }
    }

    /// The rectangle spanned by two corners given in any order.
    pub fn from_corners(a: Point, b: Point) -> Self {
        Self::new(a.x.min(b.x), a.y.min(b.y), a.x.max(b.x), a.y.max(b.y))
    }

    pub fn normalized(self) -> Self {
        Self::from_corners(Point::new(self.x0, self.y0), Point::new(self.x1, self.y1))
    }

    pub fn width(&self) -> f32 {
        (self.x1 - self.x0).max(0.0)
    }

    pub fn height(&self) -> f32 {
        (self.y1 - self.y0).max(0.0)
    }

    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    pub fn center(&self) -> Point {
        Point::new((self.x0 + self.x1) * 0.5, (self.y0 + self.y1) * 0.5)
    }

    pub fn contains(&self, p: Point) -> bool {
        p.x >= self.x0 && p.x <= self.x1 && p.y >= self.y0 && p.y <= self.y1
    }

    pub fn intersection(&self, other: &Rect) -> Option<Rect> {
        let r = Rect::new(self.x0.max(other.x0), self.y0.max(other.y0), self.x1.min(other.x1), self.y1.min(other.y1));
        (r.x0 < r.x1 && r.y0 < r.y1).then_some(r)
    }

    pub fn union(&self, other: &Rect) -> Rect {
        Rect::new(self.x0.min(other.x0), self.y0.min(other.y0), self.x1.max(other.x1), self.y1.max(other.y1))
    }

    /// Intersection over union; 0 for disjoint or degenerate rectangles.
    pub fn iou(&self, other: &Rect) -> f32 {
        let inter = self.intersection(other).map_or(0.0, |r| r.area());
        let union = self.area() + other.area() - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    pub fn translated(&self, dx: f32, dy: f32) -> Rect {
        Rect::new(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)
    }

    /// Clamp into `[0, w] x [0, h]`.
    pub fn clamped(&self, w: f32, h: f32) -> Rect {
        Rect::new(self.x0.clamp(0.0, w), self.y0.clamp(0.0, h), self.x1.clamp(0.0, w), self.y1.clamp(0.0, h))
    }

    pub fn is_finite(&self) -> bool {
        self.x0.is_finite() && self.y0.is_finite() && self.x1.is_finite() && self.y1.is_finite()
    }
}

/// Four corners of a possibly rotated text region, clockwise from top-left.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quad(pub [Point; 4]);

impl Quad {
    pub fn from_rect(r: &Rect) -> Self {
        Quad([Point::new(r.x0, r.y0), Point::new(r.x1, r.y0), Point::new(r.x1, r.y1), Point::new(r.x0, r.y1)])
    }

    /// Smallest axis-aligned rectangle containing the quad.
    pub fn bounds(&self) -> Rect {
        let xs = self.0.iter().map(|p| p.x);
        let ys = self.0.iter().map(|p| p.y);
        Rect::new(
            xs.clone().fold(f32::INFINITY, f32::min),
            ys.clone().fold(f32::INFINITY, f32::min),
            xs.fold(f32::NEG_INFINITY, f32::max),
            ys.fold(f32::NEG_INFINITY, f32::max),
        )
    }

    pub fn translated(&self, dx: f32, dy: f32) -> Quad {
        Quad(self.0.map(|p| Point::new(p.x + dx, p.y + dy)))
    }

    /// The quad on a `w`×`h` page turned `quarters` quarter turns clockwise; each corner keeps
    /// its role (the first is still where the text starts).
    pub fn turned(&self, quarters: u8, w: f32, h: f32) -> Quad {
        Quad(self.0.map(|p| p.turned(quarters, w, h)))
    }
}

impl Rect {
    /// The rectangle on a `w`×`h` page turned `quarters` quarter turns clockwise.
    pub fn turned(&self, quarters: u8, w: f32, h: f32) -> Rect {
        let a = Point::new(self.x0, self.y0).turned(quarters, w, h);
        let b = Point::new(self.x1, self.y1).turned(quarters, w, h);
        Rect::new(a.x.min(b.x), a.y.min(b.y), a.x.max(b.x), a.y.max(b.y))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turning_a_page_moves_boxes_with_it_and_four_turns_are_none() {
        // a 100×50 page; a box near its top-left corner
        let r = Rect::new(10.0, 5.0, 30.0, 15.0);
        // one turn clockwise: the page is 50×100 and the top-left corner went top-right
        assert_eq!(r.turned(1, 100.0, 50.0), Rect::new(35.0, 10.0, 45.0, 30.0));
        assert_eq!(r.turned(2, 100.0, 50.0), Rect::new(70.0, 35.0, 90.0, 45.0));
        assert_eq!(r.turned(3, 100.0, 50.0), Rect::new(5.0, 70.0, 15.0, 90.0));
        // turned back (the page's own size each time) it is where it was
        let mut x = r;
        let (mut w, mut h) = (100.0, 50.0);
        for _ in 0..4 {
            x = x.turned(1, w, h);
            (w, h) = (h, w);
        }
        assert_eq!(x, r);
        let q = Quad::from_rect(&r).turned(1, 100.0, 50.0);
        assert_eq!(q.0[0], Point::new(45.0, 10.0), "the text's first corner keeps its role");
        assert_eq!(q.bounds(), r.turned(1, 100.0, 50.0));
    }

    #[test]
    fn iou_of_identical_disjoint_and_half_overlap() {
        let a = Rect::new(0.0, 0.0, 10.0, 10.0);
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&Rect::new(20.0, 20.0, 30.0, 30.0)), 0.0);
        let b = Rect::new(5.0, 0.0, 15.0, 10.0);
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
    }

    #[test]
    fn degenerate_rects_have_zero_iou() {
        let a = Rect::new(1.0, 1.0, 1.0, 1.0);
        assert_eq!(a.iou(&a), 0.0);
    }

    #[test]
    fn corners_in_any_order_normalise() {
        let r = Rect::from_corners(Point::new(10.0, 2.0), Point::new(3.0, 8.0));
        assert_eq!(r, Rect::new(3.0, 2.0, 10.0, 8.0));
    }

    #[test]
    fn quad_bounds_cover_all_corners() {
        let q = Quad([Point::new(2.0, 5.0), Point::new(10.0, 1.0), Point::new(12.0, 6.0), Point::new(4.0, 10.0)]);
        assert_eq!(q.bounds(), Rect::new(2.0, 1.0, 12.0, 10.0));
    }
}
