//! A uniform-grid spatial index over box rectangles: which boxes intersect the view (culling)
//! and which lie under the pointer (hit-testing), for pages with thousands of boxes.
//!
//! Cells are sized from the mean box so each box lands in a handful of cells; items are stored
//! flat (counting sort), so a rebuild of 10,000 boxes is two linear passes and no per-cell
//! allocation. A box spanning several cells is reported once: only from the cell holding the
//! top-left corner of its overlap with the query.

use crate::domain::{Point, Rect};

/// Grid cells per axis at most; with the cell budget below this keeps memory linear in boxes.
const MAX_CELLS_PER_AXIS: u32 = 512;
/// Cell side in mean box sides: larger cells mean fewer cells per box (faster rebuilds) but more
/// candidates per query; 2 measured best for text-line boxes.
const CELL_PER_MEAN_BOX: f32 = 2.0;

#[derive(Debug, Clone, Default)]
pub struct SpatialIndex {
    rects: Vec<Rect>,
    origin_x: f32,
    origin_y: f32,
    inv_cell_w: f32,
    inv_cell_h: f32,
    cols: u32,
    rows: u32,
    /// `items[cell_start[c]..cell_start[c + 1]]` are the boxes touching cell `c`.
    cell_start: Vec<u32>,
    items: Vec<u32>,
}

impl SpatialIndex {
    /// Indexes `rects`; query results are indices into this sequence. Non-finite rects are
    /// kept in place but never returned.
    pub fn new(rects: impl IntoIterator<Item = Rect>) -> Self {
        let rects: Vec<Rect> = rects.into_iter().map(Rect::normalized).collect();
        let finite = || rects.iter().filter(|r| r.is_finite());
        let n = finite().count();
        if n == 0 {
            return Self { rects, ..Self::default() };
        }
        let bounds = finite().fold(*finite().next().expect("n > 0"), |a, b| a.union(b));
        let (sum_w, sum_h) =
            finite().fold((0.0f64, 0.0f64), |(w, h), r| (w + f64::from(r.width()), h + f64::from(r.height())));
        let mean_w = ((sum_w / n as f64) as f32).max(1.0) * CELL_PER_MEAN_BOX;
        let mean_h = ((sum_h / n as f64) as f32).max(1.0) * CELL_PER_MEAN_BOX;

        let axis_cells = |extent: f32, cell: f32| ((extent / cell).ceil() as u32).clamp(1, MAX_CELLS_PER_AXIS);
        let mut cols = axis_cells(bounds.width(), mean_w);
        let mut rows = axis_cells(bounds.height(), mean_h);
        let budget = 4 * n as u64 + 64;
        while u64::from(cols) * u64::from(rows) > budget {
            if cols >= rows { cols = cols.div_ceil(2) } else { rows = rows.div_ceil(2) }
        }
        let cell_w = (bounds.width() / cols as f32).max(f32::MIN_POSITIVE);
        let cell_h = (bounds.height() / rows as f32).max(f32::MIN_POSITIVE);

        let mut index = Self {
            rects,
            origin_x: bounds.x0,
            origin_y: bounds.y0,
            inv_cell_w: 1.0 / cell_w,
            inv_cell_h: 1.0 / cell_h,
            cols,
            rows,
            cell_start: vec![0; (cols * rows) as usize + 1],
            items: Vec::new(),
        };

        // Pass 1: count per cell (shifted by one so the prefix sum yields start offsets).
        for r in index.rects.iter().filter(|r| r.is_finite()) {
            let (cx, cy) = index.cell_range(r);
            for y in cy.clone() {
                for x in cx.clone() {
                    index.cell_start[(y * cols + x) as usize + 1] += 1;
                }
            }
        }
        for c in 1..index.cell_start.len() {
            index.cell_start[c] += index.cell_start[c - 1];
        }
        // Pass 2: fill.
        let mut cursor = index.cell_start.clone();
        index.items = vec![0; *index.cell_start.last().expect("non-empty") as usize];
        for (i, r) in index.rects.iter().enumerate() {
            if !r.is_finite() {
                continue;
            }
            let (cx, cy) = index.cell_range(r);
            for y in cy {
                for x in cx.clone() {
                    let c = (y * cols + x) as usize;
                    index.items[cursor[c] as usize] = i as u32;
                    cursor[c] += 1;
                }
            }
        }
        index
    }

    pub fn len(&self) -> usize {
        self.rects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rects.is_empty()
    }

    pub fn rect(&self, i: u32) -> Rect {
        self.rects[i as usize]
    }

    /// Indices (ascending, i.e. input order) of boxes intersecting `q`, edges inclusive.
    /// `out` is cleared first; pass the same Vec every frame to avoid allocating.
    pub fn query_rect(&self, q: &Rect, out: &mut Vec<u32>) {
        out.clear();
        if self.cols == 0 || !q.is_finite() {
            return;
        }
        let q = q.normalized();
        let (qx, qy) = self.cell_range(&q);
        for y in qy {
            for x in qx.clone() {
                let c = (y * self.cols + x) as usize;
                for &i in &self.items[self.cell_start[c] as usize..self.cell_start[c + 1] as usize] {
                    let r = &self.rects[i as usize];
                    if !intersects(r, &q) {
                        continue;
                    }
                    // report once: from the cell of the overlap's top-left corner
                    if self.cell_x(r.x0.max(q.x0)) == x && self.cell_y(r.y0.max(q.y0)) == y {
                        out.push(i);
                    }
                }
            }
        }
        out.sort_unstable();
    }

    /// Indices (ascending) of boxes within `tolerance` image px of `p`.
    pub fn query_point(&self, p: Point, tolerance: f32, out: &mut Vec<u32>) {
        let t = tolerance.max(0.0);
        self.query_rect(&Rect::new(p.x - t, p.y - t, p.x + t, p.y + t), out);
    }

    // Truncation after clamping at zero is floor, without a libm call per coordinate (half the
    // rebuild time otherwise); `as` saturates, so huge values land in the last cell.
    #[inline]
    fn cell_x(&self, x: f32) -> u32 {
        (((x - self.origin_x) * self.inv_cell_w).max(0.0) as u32).min(self.cols - 1)
    }

    #[inline]
    fn cell_y(&self, y: f32) -> u32 {
        (((y - self.origin_y) * self.inv_cell_h).max(0.0) as u32).min(self.rows - 1)
    }

    #[inline]
    fn cell_range(&self, r: &Rect) -> (std::ops::Range<u32>, std::ops::Range<u32>) {
        (self.cell_x(r.x0)..self.cell_x(r.x1) + 1, self.cell_y(r.y0)..self.cell_y(r.y1) + 1)
    }
}

/// Closed-interval overlap: touching edges count, so a zero-size query (a point) on a border hits.
fn intersects(a: &Rect, b: &Rect) -> bool {
    a.x0 <= b.x1 && a.x1 >= b.x0 && a.y0 <= b.y1 && a.y1 >= b.y0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random_boxes(rng: &mut ChaCha8Rng, n: usize, w: f32, h: f32) -> Vec<Rect> {
        (0..n)
            .map(|i| {
                // mostly text-line-like boxes, a few huge ones (tables, regions) and slivers
                let (bw, bh) = match i % 50 {
                    0 => (rng.random_range(500.0..w), rng.random_range(500.0..h)),
                    1 => (rng.random_range(0.0..2.0), rng.random_range(0.0..2.0)),
                    _ => (rng.random_range(20.0..600.0), rng.random_range(15.0..60.0)),
                };
                let x = rng.random_range(0.0..w - bw.min(w - 1.0));
                let y = rng.random_range(0.0..h - bh.min(h - 1.0));
                Rect::new(x, y, x + bw, y + bh)
            })
            .collect()
    }

    fn brute(rects: &[Rect], q: &Rect) -> Vec<u32> {
        (0..rects.len() as u32)
            .filter(|&i| rects[i as usize].is_finite() && intersects(&rects[i as usize], q))
            .collect()
    }

    #[test]
    fn rect_queries_agree_with_brute_force() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for n in [0, 1, 5, 300, 3000] {
            let rects = random_boxes(&mut rng, n, 4961.0, 7016.0);
            let index = SpatialIndex::new(rects.iter().copied());
            let mut out = Vec::new();
            for _ in 0..200 {
                let x = rng.random_range(-500.0..5500.0);
                let y = rng.random_range(-500.0..7500.0);
                let q = Rect::new(x, y, x + rng.random_range(0.0..3000.0), y + rng.random_range(0.0..3000.0));
                index.query_rect(&q, &mut out);
                assert_eq!(out, brute(&rects, &q), "n={n} q={q:?}");
            }
        }
    }

    #[test]
    fn point_queries_agree_with_brute_force() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let rects = random_boxes(&mut rng, 2000, 4961.0, 7016.0);
        let index = SpatialIndex::new(rects.iter().copied());
        let mut out = Vec::new();
        for k in 0..2000 {
            let p = if k % 3 == 0 {
                // exactly on a box corner: borders count
                let r = rects[k % rects.len()];
                Point::new(r.x1, r.y1)
            } else {
                Point::new(rng.random_range(-10.0..4970.0), rng.random_range(-10.0..7030.0))
            };
            let tol = if k % 2 == 0 { 0.0 } else { 3.0 };
            index.query_point(p, tol, &mut out);
            let q = Rect::new(p.x - tol, p.y - tol, p.x + tol, p.y + tol);
            assert_eq!(out, brute(&rects, &q));
        }
    }

    #[test]
    fn degenerate_and_non_finite_inputs() {
        let rects = [
            Rect::new(5.0, 5.0, 5.0, 5.0),
            Rect::new(f32::NAN, 0.0, 1.0, 1.0),
            Rect::new(10.0, 10.0, 0.0, 0.0), // unnormalised
        ];
        let index = SpatialIndex::new(rects.iter().copied());
        let mut out = Vec::new();
        index.query_point(Point::new(5.0, 5.0), 0.0, &mut out);
        assert_eq!(out, vec![0, 2]);
        index.query_rect(&Rect::new(f32::NAN, 0.0, 1.0, 1.0), &mut out);
        assert!(out.is_empty());
        // all boxes identical: zero-extent bounds must not divide by zero
        let same = SpatialIndex::new(vec![Rect::new(3.0, 3.0, 3.0, 3.0); 10]);
        same.query_point(Point::new(3.0, 3.0), 0.0, &mut out);
        assert_eq!(out.len(), 10);
    }

    #[test]
    fn rebuilding_ten_thousand_boxes_is_quick() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let rects = random_boxes(&mut rng, 10_000, 4961.0, 7016.0);
        let start = std::time::Instant::now();
        let index = SpatialIndex::new(rects.iter().copied());
        let elapsed = start.elapsed();
        // generous: unoptimised test builds on a loaded 2-core machine (release is well under 1 ms)
        assert!(elapsed.as_millis() < 100, "rebuild took {elapsed:?}");
        assert!(index.items.len() < 20 * rects.len(), "items blew up: {}", index.items.len());
    }
}
