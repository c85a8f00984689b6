//! Hit-testing: which handle or box is under the pointer, and what dragging a handle does.
//!
//! Order: handles of selected boxes first (nearest wins), then the smallest box containing the
//! point, so a word box inside a line box inside a table box is always reachable; equal areas go
//! to the most recently created box (largest id), which is also the one drawn on top.

use super::index::SpatialIndex;
use super::{CanvasBox, CursorHint};
use crate::domain::{AnnId, Point, Quad, Rect};

/// One of the eight resize handles of an axis-aligned box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Handle {
    TopLeft,
    Top,
    TopRight,
    Right,
    BottomRight,
    Bottom,
    BottomLeft,
    Left,
}

impl Handle {
    pub const ALL: [Handle; 8] = [
        Handle::TopLeft,
        Handle::Top,
        Handle::TopRight,
        Handle::Right,
        Handle::BottomRight,
        Handle::Bottom,
        Handle::BottomLeft,
        Handle::Left,
    ];

    pub fn is_corner(self) -> bool {
        matches!(self, Handle::TopLeft | Handle::TopRight | Handle::BottomRight | Handle::BottomLeft)
    }

    /// Which edges the handle drags: (left, top, right, bottom).
    fn edges(self) -> (bool, bool, bool, bool) {
        match self {
            Handle::TopLeft => (true, true, false, false),
            Handle::Top => (false, true, false, false),
            Handle::TopRight => (false, true, true, false),
            Handle::Right => (false, false, true, false),
            Handle::BottomRight => (false, false, true, true),
            Handle::Bottom => (false, false, false, true),
            Handle::BottomLeft => (true, false, false, true),
            Handle::Left => (true, false, false, false),
        }
    }

    pub fn position(self, r: &Rect) -> Point {
        let (l, t, rt, b) = self.edges();
        let x = if l {
            r.x0
        } else if rt {
            r.x1
        } else {
            (r.x0 + r.x1) * 0.5
        };
        let y = if t {
            r.y0
        } else if b {
            r.y1
        } else {
            (r.y0 + r.y1) * 0.5
        };
        Point::new(x, y)
    }

    /// `original` with the handle's edges moved to `to`. Dragging past the opposite edge flips
    /// the box rather than inverting it: the result is always normalised.
    pub fn drag(self, original: &Rect, to: Point) -> Rect {
        let (l, t, rt, b) = self.edges();
        let mut r = *original;
        if l {
            r.x0 = to.x;
        }
        if rt {
            r.x1 = to.x;
        }
        if t {
            r.y0 = to.y;
        }
        if b {
            r.y1 = to.y;
        }
        r.normalized()
    }

    pub fn cursor(self) -> CursorHint {
        match self {
            Handle::TopLeft | Handle::BottomRight => CursorHint::ResizeNwSe,
            Handle::TopRight | Handle::BottomLeft => CursorHint::ResizeNeSw,
            Handle::Top | Handle::Bottom => CursorHint::ResizeVertical,
            Handle::Left | Handle::Right => CursorHint::ResizeHorizontal,
        }
    }
}

/// The handles to draw (and hit) on a selected box: corners always; edge midpoints only when
/// the edge is long enough on screen not to crowd the corners.
pub fn visible_handles(r: &Rect, handle_radius: f32) -> impl Iterator<Item = (Handle, Point)> + '_ {
    let long_x = r.width() >= 4.0 * handle_radius;
    let long_y = r.height() >= 4.0 * handle_radius;
    Handle::ALL
        .into_iter()
        .filter(move |h| match h {
            Handle::Top | Handle::Bottom => long_x,
            Handle::Left | Handle::Right => long_y,
            _ => true,
        })
        .map(|h| (h, h.position(r)))
}

/// A handle of a quad box: a corner (0..4, clockwise from top-left), or the midpoint of the
/// edge from corner `i` to corner `i + 1`, which moves that whole edge (to take in a missed
/// word at the end of a slanted line in one drag, keeping its slant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuadHandle {
    Corner(usize),
    Edge(usize),
}

impl QuadHandle {
    pub fn position(self, q: &Quad) -> Point {
        match self {
            QuadHandle::Corner(i) => q.0[i % 4],
            QuadHandle::Edge(i) => {
                let (a, b) = (q.0[i % 4], q.0[(i + 1) % 4]);
                Point::new((a.x + b.x) * 0.5, (a.y + b.y) * 0.5)
            }
        }
    }

    /// `original` with this handle moved to `to`; `place` maps each moved corner onto the
    /// page (clamp, round). An edge moves both its corners by the same offset.
    pub fn drag(self, original: &Quad, to: Point, place: impl Fn(Point) -> Point) -> Quad {
        let mut q = *original;
        match self {
            QuadHandle::Corner(i) => q.0[i % 4] = place(to),
            QuadHandle::Edge(i) => {
                let from = self.position(original);
                let (dx, dy) = (to.x - from.x, to.y - from.y);
                for k in [i % 4, (i + 1) % 4] {
                    let c = original.0[k];
                    q.0[k] = place(Point::new(c.x + dx, c.y + dy));
                }
            }
        }
        q
    }
}

/// The handles to draw (and hit) on a selected quad box: its corners, and the midpoints of
/// edges long enough on screen not to crowd the corners.
pub fn quad_handles(q: &Quad, handle_radius: f32) -> impl Iterator<Item = (QuadHandle, Point)> + '_ {
    let corners = (0..4).map(QuadHandle::Corner);
    let edges = (0..4).filter(move |&i| dist(q.0[i], q.0[(i + 1) % 4]) >= 4.0 * handle_radius).map(QuadHandle::Edge);
    corners.chain(edges).map(|h| (h, h.position(q)))
}

/// What is under the pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    Handle {
        id: AnnId,
        handle: Handle,
    },
    /// A corner or edge handle of a selected quad box.
    Quad {
        id: AnnId,
        handle: QuadHandle,
    },
    Body {
        id: AnnId,
    },
}

impl Hit {
    pub fn id(&self) -> AnnId {
        match *self {
            Hit::Handle { id, .. } | Hit::Quad { id, .. } | Hit::Body { id } => id,
        }
    }
}

/// Hit-test sizes in image pixels (derive them from screen sizes with the viewport's zoom).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HitParams {
    /// A handle is hit within this distance of its centre.
    pub handle_radius: f32,
    /// A box is hit this far outside its edges, so thin boxes can be grabbed.
    pub body_tolerance: f32,
}

/// The handle (or quad corner or edge) of a selected box nearest to `p` within the handle radius.
/// On a box too small on screen to have room for both, handles answer only outside the box so
/// its inside can still be grabbed to move it.
pub fn hit_handles<'a>(selected: impl IntoIterator<Item = &'a CanvasBox>, p: Point, params: &HitParams) -> Option<Hit> {
    let radius = params.handle_radius;
    let mut best: Option<(f32, AnnId, Hit)> = None;
    let mut consider = |d: f32, id: AnnId, hit: Hit| {
        if d <= radius && best.is_none_or(|(bd, bid, _)| d < bd || (d == bd && id > bid)) {
            best = Some((d, id, hit));
        }
    };
    for b in selected {
        let r = &b.rect;
        let small = r.width() < 3.0 * radius || r.height() < 3.0 * radius;
        let strictly_inside = p.x > r.x0 && p.x < r.x1 && p.y > r.y0 && p.y < r.y1;
        if small && strictly_inside {
            continue;
        }
        match &b.quad {
            Some(q) => {
                for (handle, c) in quad_handles(q, radius) {
                    consider(dist(p, c), b.id, Hit::Quad { id: b.id, handle });
                }
            }
            None => {
                for (handle, c) in visible_handles(r, radius) {
                    consider(dist(p, c), b.id, Hit::Handle { id: b.id, handle });
                }
            }
        }
    }
    best.map(|(_, _, hit)| hit)
}

/// The smallest box under `p` (ties: largest id). `boxes` must be the slice `index` was built
/// from; `scratch` is reused between calls.
pub fn hit_body(
    boxes: &[CanvasBox],
    index: &SpatialIndex,
    p: Point,
    params: &HitParams,
    scratch: &mut Vec<u32>,
) -> Option<AnnId> {
    index.query_point(p, params.body_tolerance, scratch);
    scratch
        .iter()
        .map(|&i| &boxes[i as usize])
        .filter(|b| match &b.quad {
            Some(q) => quad_contains(q, p, params.body_tolerance),
            None => true, // the index already tested the rect with tolerance
        })
        .map(|b| (box_area(b), b.id))
        .min_by(|(a1, id1), (a2, id2)| a1.total_cmp(a2).then(id2.cmp(id1)))
        .map(|(_, id)| id)
}

/// Handles of `selected` first, then bodies of all boxes.
pub fn hit_test<'a>(
    boxes: &'a [CanvasBox],
    index: &SpatialIndex,
    selected: impl IntoIterator<Item = &'a CanvasBox>,
    p: Point,
    params: &HitParams,
    scratch: &mut Vec<u32>,
) -> Option<Hit> {
    hit_handles(selected, p, params).or_else(|| hit_body(boxes, index, p, params, scratch).map(|id| Hit::Body { id }))
}

fn box_area(b: &CanvasBox) -> f32 {
    match &b.quad {
        Some(q) => quad_area(q),
        None => b.rect.area(),
    }
}

fn dist(a: Point, b: Point) -> f32 {
    (a.x - b.x).hypot(a.y - b.y)
}

/// Shoelace area of a quad (absolute).
pub fn quad_area(q: &Quad) -> f32 {
    let p = &q.0;
    let twice: f32 = (0..4).map(|i| p[i].x * p[(i + 1) % 4].y - p[(i + 1) % 4].x * p[i].y).sum();
    twice.abs() * 0.5
}

/// Point in polygon (even-odd), or within `tolerance` of an edge.
pub fn quad_contains(q: &Quad, p: Point, tolerance: f32) -> bool {
    let v = &q.0;
    let mut inside = false;
    for i in 0..4 {
        let (a, b) = (v[i], v[(i + 1) % 4]);
        if (a.y > p.y) != (b.y > p.y) {
            let x = a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x);
            if p.x < x {
                inside = !inside;
            }
        }
        if segment_distance(p, a, b) <= tolerance {
            return true;
        }
    }
    inside
}

fn segment_distance(p: Point, a: Point, b: Point) -> f32 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 { (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    dist(p, Point::new(a.x + t * dx, a.y + t * dy))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARAMS: HitParams = HitParams { handle_radius: 4.0, body_tolerance: 1.0 };

    fn b(id: i64, x0: f32, y0: f32, x1: f32, y1: f32) -> CanvasBox {
        CanvasBox::new(AnnId(id), Rect::new(x0, y0, x1, y1))
    }

    fn body(boxes: &[CanvasBox], p: Point) -> Option<AnnId> {
        let index = SpatialIndex::new(boxes.iter().map(|b| b.rect));
        hit_body(boxes, &index, p, &PARAMS, &mut Vec::new())
    }

    #[test]
    fn smallest_box_wins_among_nested_boxes() {
        let boxes =
            [b(1, 0.0, 0.0, 1000.0, 1000.0), b(2, 100.0, 100.0, 600.0, 140.0), b(3, 110.0, 105.0, 180.0, 135.0)];
        assert_eq!(body(&boxes, Point::new(150.0, 120.0)), Some(AnnId(3)));
        assert_eq!(body(&boxes, Point::new(300.0, 120.0)), Some(AnnId(2)));
        assert_eq!(body(&boxes, Point::new(800.0, 800.0)), Some(AnnId(1)));
        assert_eq!(body(&boxes, Point::new(1100.0, 800.0)), None);
        // the order of the input does not matter
        let reversed: Vec<_> = boxes.iter().rev().copied().collect();
        assert_eq!(body(&reversed, Point::new(150.0, 120.0)), Some(AnnId(3)));
    }

    #[test]
    fn equal_areas_go_to_the_most_recent_box() {
        let boxes = [b(7, 0.0, 0.0, 10.0, 10.0), b(9, 5.0, 5.0, 15.0, 15.0), b(8, 2.0, 2.0, 12.0, 12.0)];
        assert_eq!(body(&boxes, Point::new(7.0, 7.0)), Some(AnnId(9)));
        assert_eq!(body(&boxes, Point::new(3.0, 3.0)), Some(AnnId(8)));
        assert_eq!(body(&boxes, Point::new(0.5, 0.5)), Some(AnnId(7)));
    }

    #[test]
    fn thin_boxes_are_grabbable_within_tolerance() {
        let boxes = [b(1, 0.0, 10.0, 100.0, 10.0)];
        assert_eq!(body(&boxes, Point::new(50.0, 10.9)), Some(AnnId(1)));
        assert_eq!(body(&boxes, Point::new(50.0, 11.5)), None);
    }

    #[test]
    fn quads_are_hit_by_their_shape_not_their_bounds() {
        let q = Quad([Point::new(0.0, 50.0), Point::new(100.0, 0.0), Point::new(110.0, 20.0), Point::new(10.0, 70.0)]);
        let boxes = [CanvasBox::with_quad(AnnId(1), q)];
        assert_eq!(body(&boxes, Point::new(55.0, 35.0)), Some(AnnId(1)));
        assert_eq!(body(&boxes, Point::new(5.0, 5.0)), None, "inside the bounds, outside the quad");
        assert_eq!(quad_area(&Quad::from_rect(&Rect::new(0.0, 0.0, 4.0, 3.0))), 12.0);
    }

    #[test]
    fn handles_of_selected_boxes_come_before_bodies() {
        let big = b(1, 0.0, 0.0, 100.0, 100.0);
        let small = b(2, 98.0, 98.0, 150.0, 150.0);
        let boxes = [big, small];
        let index = SpatialIndex::new(boxes.iter().map(|b| b.rect));
        let p = Point::new(100.0, 100.0);
        // nothing selected: the smaller box's body
        assert_eq!(hit_test(&boxes, &index, [], p, &PARAMS, &mut Vec::new()), Some(Hit::Body { id: AnnId(2) }));
        // big selected: its bottom-right handle wins over the small box's body
        assert_eq!(
            hit_test(&boxes, &index, [&big], p, &PARAMS, &mut Vec::new()),
            Some(Hit::Handle { id: AnnId(1), handle: Handle::BottomRight })
        );
    }

    #[test]
    fn nearest_handle_wins_and_each_handle_is_reachable() {
        let r = b(1, 0.0, 0.0, 100.0, 60.0);
        for h in Handle::ALL {
            let at = h.position(&r.rect);
            let p = Point::new(at.x + 1.5, at.y - 1.0);
            assert_eq!(hit_handles([&r], p, &PARAMS), Some(Hit::Handle { id: AnnId(1), handle: h }));
        }
        assert_eq!(hit_handles([&r], Point::new(50.0, 30.0), &PARAMS), None);
    }

    #[test]
    fn tiny_boxes_keep_their_inside_for_moving() {
        let tiny = b(1, 0.0, 0.0, 6.0, 6.0);
        assert_eq!(hit_handles([&tiny], Point::new(3.0, 3.0), &PARAMS), None);
        assert_eq!(
            hit_handles([&tiny], Point::new(7.0, 7.0), &PARAMS),
            Some(Hit::Handle { id: AnnId(1), handle: Handle::BottomRight })
        );
        // no edge-midpoint handles on it
        assert_eq!(visible_handles(&tiny.rect, PARAMS.handle_radius).count(), 4);
    }

    #[test]
    fn quad_boxes_offer_corners_and_long_edges() {
        let q = Quad([Point::new(0.0, 50.0), Point::new(100.0, 0.0), Point::new(110.0, 20.0), Point::new(10.0, 70.0)]);
        let qb = CanvasBox::with_quad(AnnId(4), q);
        let hit = |x, y| hit_handles([&qb], Point::new(x, y), &PARAMS);
        assert_eq!(hit(109.0, 21.0), Some(Hit::Quad { id: AnnId(4), handle: QuadHandle::Corner(2) }));
        // the top edge's midpoint (50, 25) and the bottom edge's (60, 45)
        assert_eq!(hit(51.0, 26.0), Some(Hit::Quad { id: AnnId(4), handle: QuadHandle::Edge(0) }));
        assert_eq!(hit(60.0, 44.0), Some(Hit::Quad { id: AnnId(4), handle: QuadHandle::Edge(2) }));
        // the short ends (about 22 px) have no midpoint handle at a 6-px radius
        let handles: Vec<QuadHandle> = quad_handles(&q, 6.0).map(|(h, _)| h).collect();
        assert_eq!(handles.len(), 6, "{handles:?}");
        assert!(!handles.contains(&QuadHandle::Edge(1)) && !handles.contains(&QuadHandle::Edge(3)));
    }

    #[test]
    fn dragging_a_quad_edge_moves_its_two_corners_alike() {
        let q = Quad([Point::new(0.0, 50.0), Point::new(100.0, 0.0), Point::new(110.0, 20.0), Point::new(10.0, 70.0)]);
        // the right end (corners 1 and 2, midpoint (105, 10)) pulled 30 px right and 5 down
        let moved = QuadHandle::Edge(1).drag(&q, Point::new(135.0, 15.0), |p| p);
        assert_eq!(moved.0, [q.0[0], Point::new(130.0, 5.0), Point::new(140.0, 25.0), q.0[3]]);
        // each moved corner goes through `place` (here: clamped to a 120-px wide page)
        let clamped = QuadHandle::Edge(1).drag(&q, Point::new(135.0, 15.0), |p| Point::new(p.x.min(120.0), p.y));
        assert_eq!((clamped.0[1].x, clamped.0[2].x), (120.0, 120.0));
        assert_eq!(QuadHandle::Corner(3).drag(&q, Point::new(5.0, 75.0), |p| p).0[3], Point::new(5.0, 75.0));
    }

    #[test]
    fn dragging_each_handle_moves_only_its_edges() {
        let r = Rect::new(10.0, 20.0, 110.0, 80.0);
        let to = Point::new(50.0, 40.0);
        let expect = [
            (Handle::TopLeft, Rect::new(50.0, 40.0, 110.0, 80.0)),
            (Handle::Top, Rect::new(10.0, 40.0, 110.0, 80.0)),
            (Handle::TopRight, Rect::new(10.0, 40.0, 50.0, 80.0)),
            (Handle::Right, Rect::new(10.0, 20.0, 50.0, 80.0)),
            (Handle::BottomRight, Rect::new(10.0, 20.0, 50.0, 40.0)),
            (Handle::Bottom, Rect::new(10.0, 20.0, 110.0, 40.0)),
            (Handle::BottomLeft, Rect::new(50.0, 20.0, 110.0, 40.0)),
            (Handle::Left, Rect::new(50.0, 20.0, 110.0, 80.0)),
        ];
        for (h, want) in expect {
            assert_eq!(h.drag(&r, to), want, "{h:?}");
        }
    }

    #[test]
    fn dragging_past_the_opposite_edge_flips_and_normalises() {
        let r = Rect::new(10.0, 20.0, 110.0, 80.0);
        // each handle dragged beyond the edge(s) opposite it
        let cases = [
            (Handle::TopLeft, Point::new(200.0, 200.0), Rect::new(110.0, 80.0, 200.0, 200.0)),
            (Handle::Top, Point::new(0.0, 200.0), Rect::new(10.0, 80.0, 110.0, 200.0)),
            (Handle::TopRight, Point::new(-40.0, 200.0), Rect::new(-40.0, 80.0, 10.0, 200.0)),
            (Handle::Right, Point::new(-40.0, 0.0), Rect::new(-40.0, 20.0, 10.0, 80.0)),
            (Handle::BottomRight, Point::new(-40.0, -40.0), Rect::new(-40.0, -40.0, 10.0, 20.0)),
            (Handle::Bottom, Point::new(0.0, -40.0), Rect::new(10.0, -40.0, 110.0, 20.0)),
            (Handle::BottomLeft, Point::new(200.0, -40.0), Rect::new(110.0, -40.0, 200.0, 20.0)),
            (Handle::Left, Point::new(200.0, 0.0), Rect::new(110.0, 20.0, 200.0, 80.0)),
        ];
        for (h, to, want) in cases {
            let got = h.drag(&r, to);
            assert_eq!(got, want, "{h:?}");
            assert!(got.x0 <= got.x1 && got.y0 <= got.y1);
        }
    }
}
