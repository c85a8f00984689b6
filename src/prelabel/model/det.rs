//! Text detection: page → normalised CHW tensor → DB probability map → line quads.
//! The post-processing follows PaddleOCR's `DBPostProcess` (binarise, contours, min-area
//! rectangles, mean-probability score, unclip) so the stock models behave as trained.

use image::RgbImage;
use imageproc::contours::{BorderType, find_contours};
use imageproc::geometry::min_area_rect;
use ort::session::Session;
use ort::value::TensorRef;

use super::ModelError;
use super::bands::{self, RowMap};
use super::spec::{DetectorSpec, Normalization};
use crate::domain::{Point, Quad};

/// Smallest side (map px) of a kept kernel, as in PaddleOCR.
const MIN_SIDE: f32 = 3.0;

/// One detected text region in page pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectedBox {
    /// Clockwise from top-left.
    pub quad: Quad,
    /// Mean text probability inside the kernel.
    pub score: f32,
}

/// Thresholds of DB post-processing.
#[derive(Debug, Clone, Copy)]
pub struct DbParams {
    pub thresh: f32,
    pub box_thresh: f32,
    pub unclip_ratio: f32,
    pub max_candidates: usize,
}

impl From<&DetectorSpec> for DbParams {
    fn from(s: &DetectorSpec) -> Self {
        Self {
            thresh: s.thresh,
            box_thresh: s.box_thresh,
            unclip_ratio: s.unclip_ratio,
            max_candidates: s.max_candidates,
        }
    }
}

/// Network input size for a `w`×`h` page: short side at least `min_side_px`, long side at
/// most `max_side_px`, both rounded to multiples of 32.
pub fn input_size(w: u32, h: u32, min_side_px: u32, max_side_px: u32) -> (u32, u32) {
    let (w_f, h_f) = (w.max(1) as f32, h.max(1) as f32);
    let mut ratio = 1.0f32;
    if w_f.min(h_f) < min_side_px as f32 {
        ratio = min_side_px as f32 / w_f.min(h_f);
    }
    if w_f.max(h_f) * ratio > max_side_px as f32 {
        ratio = max_side_px as f32 / w_f.max(h_f);
    }
    let round32 = |v: f32| (((v * ratio).floor() / 32.0).round() as u32 * 32).max(32);
    (round32(w_f), round32(h_f))
}

/// The detector's normalised CHW input for `page` and its width and height.
pub fn input_tensor(page: &RgbImage, spec: &DetectorSpec) -> (Vec<f32>, u32, u32) {
    let (w, h) = page.dimensions();
    let (iw, ih) = input_size(w, h, spec.min_side_px, spec.max_side_px);
    let mut data = vec![0f32; 3 * (iw * ih) as usize];
    if (iw, ih) == (w, h) {
        to_chw(page, &spec.normalization, &mut data);
    } else {
        resize_to_chw(page, iw, ih, &spec.normalization, &mut data);
    }
    (data, iw, ih)
}

/// The rows to run when the spec cuts blank bands and cutting saves enough (see
/// [`bands`]); `None` runs the whole input.
pub fn band_cut(data: &[f32], iw: u32, ih: u32, spec: &DetectorSpec) -> Option<RowMap> {
    if !spec.cut_blank_bands {
        return None;
    }
    let blank = bands::blank_rows(data, iw as usize, ih as usize, &spec.normalization.affine());
    let rows = RowMap::compact(&blank, bands::KEEP_PX, bands::MIN_RUN_PX, 32);
    ((rows.height() as f32) <= (1.0 - bands::MIN_SAVING) * ih as f32).then_some(rows)
}

/// HWC bytes → CHW floats with the model's normalisation and channel order.
pub fn to_chw(img: &RgbImage, norm: &Normalization, out: &mut [f32]) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let affine = norm.affine();
    let raw = img.as_raw();
    for (c, &(a, b)) in affine.iter().enumerate() {
        let src = norm.source_channel(c);
        let plane = &mut out[c * w * h..(c + 1) * w * h];
        for (dst, px) in plane.iter_mut().zip(raw.chunks_exact(3)) {
            *dst = px[src] as f32 * a + b;
        }
    }
}

/// Resizes `img` to `dw`×`dh` straight into the normalised CHW tensor: bilinear with
/// half-pixel centres (what OpenCV's `INTER_LINEAR`, and so the models' training, uses), after
/// an integer box pre-shrink when shrinking by 2× or more so a large scan does not alias.
/// One pass over the output instead of an antialiased resample and a second conversion.
pub fn resize_to_chw(img: &RgbImage, dw: u32, dh: u32, norm: &Normalization, out: &mut [f32]) {
    resize_to_chw_strided(img, dw, dh, dw as usize, norm, out);
}

/// [`resize_to_chw`] into planes `stride` values wide (≥ `dw`); the columns right of `dw`
/// are left as they are (a recogniser batch's zero padding).
pub fn resize_to_chw_strided(img: &RgbImage, dw: u32, dh: u32, stride: usize, norm: &Normalization, out: &mut [f32]) {
    let (sw, sh) = img.dimensions();
    let k = (sw / dw.max(1)).min(sh / dh.max(1)).max(1);
    let shrunk;
    let src = if k >= 2 {
        shrunk = box_shrink(img, k);
        &shrunk
    } else {
        img
    };
    let (sw, sh) = (src.width() as usize, src.height() as usize);
    let (dw, dh) = (dw as usize, dh as usize);
    // for each output column: left source column and its weight (the right one gets 1 - w)
    let taps = |dst: usize, src_len: usize| -> Vec<(usize, usize, f32)> {
        let scale = src_len as f32 / dst as f32;
        (0..dst)
            .map(|d| {
                let s = ((d as f32 + 0.5) * scale - 0.5).clamp(0.0, (src_len - 1) as f32);
                let i0 = s.floor() as usize;
                let i1 = (i0 + 1).min(src_len - 1);
                (i0, i1, 1.0 - (s - i0 as f32))
            })
            .collect()
    };
    let (xs, ys) = (taps(dw, sw), taps(dh, sh));
    let affine = norm.affine();
    let raw = src.as_raw();
    let plane = stride * dh;
    let mut row = vec![[0f32; 3]; sw];
    for (y, &(y0, y1, wy)) in ys.iter().enumerate() {
        // blend the two source rows once, then sample columns from the blend
        let (r0, r1) = (&raw[y0 * sw * 3..(y0 + 1) * sw * 3], &raw[y1 * sw * 3..(y1 + 1) * sw * 3]);
        for (x, px) in row.iter_mut().enumerate() {
            for (c, v) in px.iter_mut().enumerate() {
                *v = r0[x * 3 + c] as f32 * wy + r1[x * 3 + c] as f32 * (1.0 - wy);
            }
        }
        for (c, &(a, b)) in affine.iter().enumerate() {
            let ch = norm.source_channel(c);
            let dst = &mut out[c * plane + y * stride..c * plane + y * stride + dw];
            for (d, &(x0, x1, wx)) in dst.iter_mut().zip(&xs) {
                let v = row[x0][ch] * wx + row[x1][ch] * (1.0 - wx);
                *d = v * a + b;
            }
        }
    }
}

/// Averages `k`×`k` blocks (the right and bottom remainder is dropped).
fn box_shrink(img: &RgbImage, k: u32) -> RgbImage {
    let (w, h) = (img.width() / k, img.height() / k);
    let (k, sw) = (k as usize, img.width() as usize);
    let raw = img.as_raw();
    let mut out = RgbImage::new(w, h);
    let mut acc = vec![0u32; w as usize * 3];
    for (y, out_row) in out.chunks_exact_mut(w as usize * 3).enumerate() {
        acc.fill(0);
        for sy in y * k..(y + 1) * k {
            let src_row = &raw[sy * sw * 3..sy * sw * 3 + w as usize * k * 3];
            for (x, block) in src_row.chunks_exact(k * 3).enumerate() {
                for px in block.chunks_exact(3) {
                    acc[x * 3] += px[0] as u32;
                    acc[x * 3 + 1] += px[1] as u32;
                    acc[x * 3 + 2] += px[2] as u32;
                }
            }
        }
        let n = (k * k) as u32;
        for (o, a) in out_row.iter_mut().zip(&acc) {
            *o = ((a + n / 2) / n) as u8;
        }
    }
    out
}

pub struct Detector {
    session: Session,
    pub spec: DetectorSpec,
}

impl Detector {
    pub fn new(session: Session, spec: DetectorSpec) -> Self {
        Self { session, spec }
    }

    /// Text regions of `page`, in its pixels, in reading order (top to bottom, left to right).
    pub fn detect(&mut self, page: &RgbImage) -> Result<Vec<DetectedBox>, ModelError> {
        let (w, h) = page.dimensions();
        let (data, iw, ih) = input_tensor(page, &self.spec);
        if let Some(rows) = band_cut(&data, iw, ih, &self.spec) {
            let compact = bands::gather_rows(&data, iw as usize, &rows);
            if let Some(boxes) = self.run(&compact, iw, &rows, (w, h))? {
                return Ok(boxes);
            }
            // a model whose map has not one row per input row: run the whole page
        }
        let boxes = self.run(&data, iw, &RowMap::identity(ih as usize), (w, h))?;
        boxes.ok_or_else(|| ModelError::inference("detector map does not match its input"))
    }

    /// Runs the network on a CHW input `iw` wide whose rows are `rows` of the full input;
    /// `None` when the map's rows do not match a compacted input.
    fn run(
        &mut self,
        data: &[f32],
        iw: u32,
        rows: &RowMap,
        (w, h): (u32, u32),
    ) -> Result<Option<Vec<DetectedBox>>, ModelError> {
        let shape = [1usize, 3, rows.height(), iw as usize];
        let tensor = TensorRef::from_array_view((shape, data)).map_err(ModelError::inference)?;
        let outputs = self.session.run(ort::inputs![tensor]).map_err(ModelError::inference)?;
        let (out_shape, prob) = outputs[0].try_extract_tensor::<f32>().map_err(ModelError::inference)?;
        let (mh, mw) = match **out_shape {
            [_, 1, mh, mw] if (mh * mw) as usize == prob.len() => (mh as usize, mw as usize),
            _ => return Err(ModelError::inference(format!("detector returned shape {out_shape:?}"))),
        };
        // an uncut page may come back at any resolution; a cut one must keep its rows
        let rows = match rows.is_identity() {
            true => RowMap::identity(mh),
            false if mh == rows.height() => rows.clone(),
            false => return Ok(None),
        };
        let mut boxes = db_postprocess_rows(prob, mw, &rows, &DbParams::from(&self.spec), w, h);
        sort_reading_order(&mut boxes);
        Ok(Some(boxes))
    }
}

/// Top-to-bottom, then left-to-right for boxes on the same line (within 10 px), as
/// PaddleOCR's `sorted_boxes`: a total-order sort by (y, x), then neighbours on one line
/// swapped into x order (a "same line" comparator is not a total order).
pub fn sort_reading_order(boxes: &mut [DetectedBox]) {
    boxes.sort_by(|a, b| {
        let (pa, pb) = (a.quad.0[0], b.quad.0[0]);
        pa.y.total_cmp(&pb.y).then(pa.x.total_cmp(&pb.x))
    });
    for i in 0..boxes.len() {
        for j in (0..i).rev() {
            let (a, b) = (boxes[j].quad.0[0], boxes[j + 1].quad.0[0]);
            if (b.y - a.y).abs() < 10.0 && b.x < a.x {
                boxes.swap(j, j + 1);
            } else {
                break;
            }
        }
    }
}

/// DB post-processing of a `map_w`×`map_h` probability map into quads in a
/// `dest_w`×`dest_h` page.
pub fn db_postprocess(
    prob: &[f32],
    map_w: usize,
    map_h: usize,
    params: &DbParams,
    dest_w: u32,
    dest_h: u32,
) -> Vec<DetectedBox> {
    db_postprocess_rows(prob, map_w, &RowMap::identity(map_h), params, dest_w, dest_h)
}

/// [`db_postprocess`] of a map whose rows are `rows` of the full map (blank bands cut out):
/// each box moves back by its segment's offset before scaling to the page.
pub fn db_postprocess_rows(
    prob: &[f32],
    map_w: usize,
    rows: &RowMap,
    params: &DbParams,
    dest_w: u32,
    dest_h: u32,
) -> Vec<DetectedBox> {
    let map_h = rows.height();
    let bitmap = binarize_dilated(prob, map_w, map_h, params.thresh);
    let contours = find_contours::<i32>(&bitmap);
    let (sx, sy) = (dest_w as f32 / map_w as f32, dest_h as f32 / rows.full_h.max(1) as f32);
    let mut boxes = Vec::new();
    for contour in contours.iter().filter(|c| c.border_type == BorderType::Outer).take(params.max_candidates) {
        let kernel = RotRect::from_corners(&min_area_rect(&contour.points).map(|p| Point::new(p.x as f32, p.y as f32)));
        if kernel.short_side() < MIN_SIDE {
            continue;
        }
        let score = mean_inside(prob, map_w, map_h, &kernel.corners());
        if score < params.box_thresh {
            continue;
        }
        let grown = unclip(&kernel, params.unclip_ratio);
        if grown.short_side() < MIN_SIDE + 2.0 {
            continue;
        }
        let centre_y = kernel.corners().iter().map(|p| p.y).sum::<f32>() / 4.0;
        let dy = rows.offset_at(centre_y);
        let corners = grown.corners().map(|p| {
            Point::new(
                (p.x * sx).round().clamp(0.0, dest_w as f32 - 1.0),
                ((p.y + dy) * sy).round().clamp(0.0, dest_h as f32 - 1.0),
            )
        });
        let quad = order_clockwise(corners);
        let [tl, tr, _, bl] = quad.0;
        if dist(tl, tr) <= 3.0 || dist(tl, bl) <= 3.0 {
            continue;
        }
        boxes.push(DetectedBox { quad, score });
    }
    boxes
}

/// Pixels above `thresh`, dilated by a 2×2 kernel (each pixel also lights its right and
/// lower neighbour), as PaddleOCR's `use_dilation`.
fn binarize_dilated(prob: &[f32], w: usize, h: usize, thresh: f32) -> image::GrayImage {
    let mut out = image::GrayImage::new(w as u32, h as u32);
    let buf: &mut [u8] = &mut out;
    for y in 0..h {
        for x in 0..w {
            let on = |xx: usize, yy: usize| prob[yy * w + xx] > thresh;
            let lit = on(x, y) || (x > 0 && on(x - 1, y)) || (y > 0 && (on(x, y - 1) || (x > 0 && on(x - 1, y - 1))));
            if lit {
                buf[y * w + x] = 255;
            }
        }
    }
    out
}

/// A rotated rectangle: centre, unit axis along its width, and full side lengths.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotRect {
    pub center: Point,
    pub axis: Point,
    pub width: f32,
    pub height: f32,
}

impl RotRect {
    /// From four corners clockwise from top-left (as imageproc's `min_area_rect` returns).
    pub fn from_corners(c: &[Point; 4]) -> Self {
        let [a, b, cc, d] = order_clockwise(*c).0;
        let center = Point::new((a.x + b.x + cc.x + d.x) / 4.0, (a.y + b.y + cc.y + d.y) / 4.0);
        let width = (dist(a, b) + dist(d, cc)) / 2.0;
        let height = (dist(a, d) + dist(b, cc)) / 2.0;
        let (dx, dy) = ((b.x - a.x) + (cc.x - d.x), (b.y - a.y) + (cc.y - d.y));
        let len = (dx * dx + dy * dy).sqrt();
        let axis = if len > 0.0 { Point::new(dx / len, dy / len) } else { Point::new(1.0, 0.0) };
        Self { center, axis, width, height }
    }

    pub fn short_side(&self) -> f32 {
        self.width.min(self.height)
    }

    pub fn corners(&self) -> [Point; 4] {
        let (u, v) = (self.axis, Point::new(-self.axis.y, self.axis.x));
        let (hw, hh) = (self.width / 2.0, self.height / 2.0);
        let at = |su: f32, sv: f32| {
            Point::new(self.center.x + u.x * hw * su + v.x * hh * sv, self.center.y + u.y * hw * su + v.y * hh * sv)
        };
        [at(-1.0, -1.0), at(1.0, -1.0), at(1.0, 1.0), at(-1.0, 1.0)]
    }
}

/// Grows a kernel back to the text's extent: PaddleOCR offsets the polygon by
/// `area * ratio / perimeter` with round joins and takes the min-area rectangle of the
/// result, which for a rectangle is the rectangle grown by that distance on every side.
pub fn unclip(r: &RotRect, ratio: f32) -> RotRect {
    let perimeter = 2.0 * (r.width + r.height);
    let d = if perimeter > 0.0 { r.width * r.height * ratio / perimeter } else { 0.0 };
    RotRect { width: r.width + 2.0 * d, height: r.height + 2.0 * d, ..*r }
}

/// Mean of `prob` over the pixels inside (or on) the convex quad `poly`.
fn mean_inside(prob: &[f32], w: usize, h: usize, poly: &[Point; 4]) -> f32 {
    let fold = |f: fn(f32, f32) -> f32, init: f32, get: fn(&Point) -> f32| poly.iter().map(get).fold(init, f);
    let x0 = fold(f32::min, f32::INFINITY, |p| p.x).floor().clamp(0.0, w as f32 - 1.0) as usize;
    let x1 = fold(f32::max, f32::NEG_INFINITY, |p| p.x).ceil().clamp(0.0, w as f32 - 1.0) as usize;
    let y0 = fold(f32::min, f32::INFINITY, |p| p.y).floor().clamp(0.0, h as f32 - 1.0) as usize;
    let y1 = fold(f32::max, f32::NEG_INFINITY, |p| p.y).ceil().clamp(0.0, h as f32 - 1.0) as usize;
    // Inside a clockwise (in image coordinates) convex polygon: every edge's cross product is
    // non-negative; half a pixel of slack counts boundary pixels in, as fillPoly does.
    let edges: Vec<(Point, Point, f32)> =
        (0..4).map(|i| (poly[i], poly[(i + 1) % 4], dist(poly[i], poly[(i + 1) % 4]).max(1e-6))).collect();
    let (mut sum, mut n) = (0f64, 0usize);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let inside = edges
                .iter()
                .all(|&(a, b, len)| ((b.x - a.x) * (y as f32 - a.y) - (b.y - a.y) * (x as f32 - a.x)) / len >= -0.5);
            if inside {
                sum += prob[y * w + x] as f64;
                n += 1;
            }
        }
    }
    if n == 0 { 0.0 } else { (sum / n as f64) as f32 }
}

/// Orders four corners clockwise from top-left: the two leftmost (by x) give top-left and
/// bottom-left, the two rightmost top-right and bottom-right.
pub fn order_clockwise(mut pts: [Point; 4]) -> Quad {
    pts.sort_by(|a, b| a.x.total_cmp(&b.x));
    let (tl, bl) = if pts[0].y <= pts[1].y { (pts[0], pts[1]) } else { (pts[1], pts[0]) };
    let (tr, br) = if pts[2].y <= pts[3].y { (pts[2], pts[3]) } else { (pts[3], pts[2]) };
    Quad([tl, tr, br, bl])
}

pub fn dist(a: Point, b: Point) -> f32 {
    ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> DbParams {
        DbParams { thresh: 0.3, box_thresh: 0.5, unclip_ratio: 1.5, max_candidates: 100 }
    }

    /// A 100×60 map with a 40×6 kernel of probability 0.9 at x 20..60, y 30..36.
    fn map_with_kernel() -> Vec<f32> {
        let mut prob = vec![0.05f32; 100 * 60];
        for y in 30..36 {
            for x in 20..60 {
                prob[y * 100 + x] = 0.9;
            }
        }
        prob
    }

    #[test]
    fn input_size_caps_the_long_side_and_rounds_to_32() {
        assert_eq!(input_size(1240, 1754, 736, 1600), (1120, 1600));
        assert_eq!(input_size(1240, 1754, 736, 2400), (1248, 1760));
        // small receipts are scaled up to the minimum short side
        assert_eq!(input_size(400, 900, 736, 2400), (736, 1664));
        assert_eq!(input_size(1, 1, 0, 32), (32, 32));
    }

    #[test]
    fn kernel_becomes_one_unclipped_box_in_page_pixels() {
        let boxes = db_postprocess(&map_with_kernel(), 100, 60, &params(), 200, 120);
        assert_eq!(boxes.len(), 1, "{boxes:?}");
        let b = &boxes[0];
        // the dilated kernel (41×7) also covers its 0.05 border: (240×0.9 + 47×0.05) / 287
        assert!((b.score - 0.76).abs() < 0.02, "{}", b.score);
        let r = b.quad.bounds();
        // kernel (dilated) spans x 20..=60, y 30..=36: 40×6 → d = 240*1.5/92 ≈ 3.9 map px;
        // in the 2× page: x ≈ 32..128, y ≈ 52..80
        assert!((r.x0 - 32.0).abs() <= 2.0 && (r.x1 - 128.0).abs() <= 2.0, "{r:?}");
        assert!((r.y0 - 52.0).abs() <= 2.0 && (r.y1 - 80.0).abs() <= 2.0, "{r:?}");
    }

    #[test]
    fn faint_and_tiny_regions_are_dropped() {
        let mut prob = vec![0.0f32; 100 * 60];
        for y in 10..20 {
            for x in 10..50 {
                prob[y * 100 + x] = 0.35; // above thresh, below box_thresh
            }
        }
        prob[50 * 100 + 80] = 0.99; // a single pixel
        assert!(db_postprocess(&prob, 100, 60, &params(), 100, 60).is_empty());
    }

    #[test]
    fn rotated_kernel_gives_a_rotated_quad() {
        let (w, h) = (200usize, 200usize);
        let mut prob = vec![0.0f32; w * h];
        let angle = 20f32.to_radians();
        let (c, s) = (angle.cos(), angle.sin());
        for y in 0..h {
            for x in 0..w {
                let (dx, dy) = (x as f32 - 100.0, y as f32 - 100.0);
                let (u, v) = (dx * c + dy * s, -dx * s + dy * c);
                if u.abs() < 50.0 && v.abs() < 5.0 {
                    prob[y * w + x] = 0.9;
                }
            }
        }
        let boxes = db_postprocess(&prob, w, h, &params(), 200, 200);
        assert_eq!(boxes.len(), 1);
        let [tl, tr, ..] = boxes[0].quad.0;
        let got = (tr.y - tl.y).atan2(tr.x - tl.x).to_degrees();
        assert!((got - 20.0).abs() < 3.0, "angle {got}");
    }

    #[test]
    fn unclip_grows_each_side_by_area_ratio_over_perimeter() {
        let r = RotRect { center: Point::new(0.0, 0.0), axis: Point::new(1.0, 0.0), width: 40.0, height: 10.0 };
        let g = unclip(&r, 2.0);
        // d = 400 * 2 / 100 = 8
        assert!((g.width - 56.0).abs() < 1e-4 && (g.height - 26.0).abs() < 1e-4);
        assert_eq!(g.center, r.center);
    }

    #[test]
    fn corners_are_ordered_clockwise_from_top_left() {
        let q =
            order_clockwise([Point::new(10.0, 5.0), Point::new(0.0, 5.0), Point::new(10.0, 0.0), Point::new(0.0, 0.0)]);
        assert_eq!(q.0, [Point::new(0.0, 0.0), Point::new(10.0, 0.0), Point::new(10.0, 5.0), Point::new(0.0, 5.0)]);
    }

    #[test]
    fn resize_to_chw_interpolates_like_a_half_pixel_bilinear() {
        // a horizontal ramp 0, 4, 8, .. 116 over 30 px, shrunk to 20: output x samples
        // source x = 1.5x + 0.25, i.e. the value 6x + 1
        let img = RgbImage::from_fn(30, 4, |x, _| image::Rgb([(x * 4) as u8, 0, 0]));
        let norm = Normalization::default();
        let mut out = vec![0f32; 3 * 20 * 2];
        resize_to_chw(&img, 20, 2, &norm, &mut out);
        let (a, b) = norm.affine()[2]; // BGR: the red input is the third plane
        let red: Vec<f32> = out[2 * 40..2 * 40 + 20].iter().map(|v| ((v - b) / a).round()).collect();
        let want: Vec<f32> = (0..20).map(|x| (6 * x + 1) as f32).collect();
        assert_eq!(red, want);
        // enlarging keeps a flat image flat
        let flat = RgbImage::from_pixel(7, 5, image::Rgb([200, 100, 50]));
        let mut big = vec![0f32; 3 * 31 * 17];
        resize_to_chw(&flat, 31, 17, &norm, &mut big);
        let first = big[0];
        assert!(big[..31 * 17].iter().all(|v| (v - first).abs() < 1e-5));
    }

    #[test]
    fn large_shrinks_average_blocks_instead_of_aliasing() {
        // 1-px black/white stripes shrunk 4×: a plain bilinear would pick stripes, the box
        // pre-shrink gives mid grey everywhere
        let img = RgbImage::from_fn(400, 40, |x, _| if x % 2 == 0 { image::Rgb([0; 3]) } else { image::Rgb([255; 3]) });
        let norm = Normalization::default();
        let mut out = vec![0f32; 3 * 100 * 10];
        resize_to_chw(&img, 100, 10, &norm, &mut out);
        let (a, b) = norm.affine()[0];
        assert!(out[..1000].iter().all(|v| ((v - b) / a - 127.5).abs() <= 1.0), "{:?}", &out[..5]);
        assert_eq!(box_shrink(&img, 4).dimensions(), (100, 10));
    }

    #[test]
    fn chw_is_normalised_to_minus_one_one_in_bgr() {
        let img = RgbImage::from_raw(1, 1, vec![255, 0, 0]).unwrap();
        let mut out = [0f32; 3];
        to_chw(&img, &Normalization::default(), &mut out);
        assert_eq!(out, [-1.0, -1.0, 1.0]);
    }
}
