//! Augmentation on export: a random affine transform per copy (flip, small rotation, scaling,
//! translation, crop) plus Gaussian noise. Boxes and quads go through the same transform as the
//! pixels, exactly; the magnitude is shrunk until every box stays inside the output image, so
//! no box is ever clipped. Fully determined by (seed, document key, copy index).

use image::{Rgb, RgbImage};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::model::PageBox;
use crate::domain::{Point, Quad};

/// How many augmented copies per image, from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AugmentOptions {
    pub count: u32,
    pub seed: u64,
}

/// `x' = a[0] x + a[1] y + a[2]`, `y' = a[3] x + a[4] y + a[5]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Affine(pub [f64; 6]);

impl Affine {
    pub const IDENTITY: Affine = Affine([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);

    pub fn apply(&self, p: Point) -> Point {
        let a = &self.0;
        let (x, y) = (f64::from(p.x), f64::from(p.y));
        Point::new((a[0] * x + a[1] * y + a[2]) as f32, (a[3] * x + a[4] * y + a[5]) as f32)
    }

    /// `other` after `self`.
    pub fn then(&self, other: &Affine) -> Affine {
        let (a, b) = (&self.0, &other.0);
        Affine([
            b[0] * a[0] + b[1] * a[3],
            b[0] * a[1] + b[1] * a[4],
            b[0] * a[2] + b[1] * a[5] + b[2],
            b[3] * a[0] + b[4] * a[3],
            b[3] * a[1] + b[4] * a[4],
            b[3] * a[2] + b[4] * a[5] + b[5],
        ])
    }

    pub fn inverse(&self) -> Option<Affine> {
        let a = &self.0;
        let det = a[0] * a[4] - a[1] * a[3];
        if det.abs() < 1e-12 {
            return None;
        }
        let (i0, i1, i3, i4) = (a[4] / det, -a[1] / det, -a[3] / det, a[0] / det);
        Some(Affine([i0, i1, -(i0 * a[2] + i1 * a[5]), i3, i4, -(i3 * a[2] + i4 * a[5])]))
    }
}

/// One augmented copy's parameters, as the manifest records them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Augmentation {
    pub flip: bool,
    pub rotation_deg: f64,
    pub scale: f64,
    pub translate_px: [f64; 2],
    /// Crop window in the transformed image: x, y, width, height.
    pub crop_px: [u32; 4],
    pub noise_sigma: f64,
    pub noise_seed: u64,
    /// Source pixel → output pixel.
    pub affine: Affine,
}

impl Augmentation {
    pub fn out_size(&self) -> (u32, u32) {
        (self.crop_px[2], self.crop_px[3])
    }
}

fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * unit(rng)
}

struct Raw {
    flip: bool,
    rot: f64,
    scale: f64,
    tx: f64,
    ty: f64,
    crop_w: f64,
    crop_h: f64,
    crop_fx: f64,
    crop_fy: f64,
    sigma: f64,
    noise_seed: u64,
}

fn build(r: &Raw, t: f64, w: u32, h: u32) -> Augmentation {
    let (wf, hf) = (f64::from(w), f64::from(h));
    let rot = r.rot * t;
    let scale = 1.0 + (r.scale - 1.0) * t;
    let (tx, ty) = (r.tx * t * wf, r.ty * t * hf);
    let cw = ((1.0 - (1.0 - r.crop_w) * t) * wf).round().clamp(1.0, wf) as u32;
    let ch = ((1.0 - (1.0 - r.crop_h) * t) * hf).round().clamp(1.0, hf) as u32;
    let cx = (r.crop_fx * f64::from(w - cw)).floor() as u32;
    let cy = (r.crop_fy * f64::from(h - ch)).floor() as u32;
    let mut m = Affine::IDENTITY;
    if r.flip {
        m = m.then(&Affine([-1.0, 0.0, wf, 0.0, 1.0, 0.0]));
    }
    let (s, c) = rot.to_radians().sin_cos();
    let (mx, my) = (wf / 2.0, hf / 2.0);
    // Rotate and scale about the centre, then translate, then crop.
    let rs = Affine([scale * c, -scale * s, 0.0, scale * s, scale * c, 0.0]);
    m = m.then(&Affine([1.0, 0.0, -mx, 0.0, 1.0, -my])).then(&rs).then(&Affine([
        1.0,
        0.0,
        mx + tx - f64::from(cx),
        0.0,
        1.0,
        my + ty - f64::from(cy),
    ]));
    Augmentation {
        flip: r.flip,
        rotation_deg: rot,
        scale,
        translate_px: [tx, ty],
        crop_px: [cx, cy, cw, ch],
        noise_sigma: r.sigma,
        noise_seed: r.noise_seed,
        affine: m,
    }
}

fn inside(aug: &Augmentation, boxes: &[PageBox]) -> bool {
    let (w, h) = aug.out_size();
    let (w, h) = (w as f32, h as f32);
    boxes.iter().all(|b| {
        b.corners().0.iter().all(|p| {
            let q = aug.affine.apply(*p);
            q.x >= 0.0 && q.y >= 0.0 && q.x <= w && q.y <= h
        })
    })
}

/// Plans copy `copy` of the image `doc_key` (`w`×`h` px with `boxes`). Shrinks the random
/// transform towards identity until every box lies inside the output image.
pub fn plan(opts: &AugmentOptions, doc_key: u64, copy: u32, w: u32, h: u32, boxes: &[PageBox]) -> Augmentation {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    rng.set_stream(doc_key.wrapping_mul(1 << 20).wrapping_add(u64::from(copy)));
    let raw = Raw {
        flip: rng.next_u64() & 1 == 1,
        rot: uniform(&mut rng, -3.0, 3.0),
        scale: uniform(&mut rng, 0.9, 1.1),
        tx: uniform(&mut rng, -0.04, 0.04),
        ty: uniform(&mut rng, -0.04, 0.04),
        crop_w: uniform(&mut rng, 0.85, 1.0),
        crop_h: uniform(&mut rng, 0.85, 1.0),
        crop_fx: unit(&mut rng),
        crop_fy: unit(&mut rng),
        sigma: uniform(&mut rng, 0.0, 6.0),
        noise_seed: rng.next_u64(),
    };
    let mut t = 1.0;
    for _ in 0..10 {
        let aug = build(&raw, t, w, h);
        if inside(&aug, boxes) {
            return aug;
        }
        t /= 2.0;
    }
    build(&raw, 0.0, w, h)
}

/// The box after the transform: corners mapped exactly, kept clockwise from top-left.
pub fn transform_box(aug: &Augmentation, b: &PageBox) -> PageBox {
    let q = b.corners().0.map(|p| aug.affine.apply(p));
    // A mirror reverses the winding; re-order so the first corner is top-left again.
    let q = if aug.flip { [q[1], q[0], q[3], q[2]] } else { q };
    let quad = Quad(q);
    let rect = quad.bounds();
    let keep_quad = b.quad.is_some() || aug.rotation_deg != 0.0;
    PageBox { rect, quad: keep_quad.then_some(quad), label: b.label.clone(), text: b.text.clone(), flags: b.flags }
}

/// The original box's corners recovered from a transformed box (for checking).
pub fn untransform_corners(aug: &Augmentation, b: &PageBox) -> Option<[Point; 4]> {
    let inv = aug.affine.inverse()?;
    let q = b.corners().0;
    let q = if aug.flip { [q[1], q[0], q[3], q[2]] } else { q };
    Some(q.map(|p| inv.apply(p)))
}

/// The augmented pixels: bilinear resampling (white outside the source) plus Gaussian noise.
pub fn apply_image(aug: &Augmentation, src: &RgbImage) -> RgbImage {
    let (ow, oh) = aug.out_size();
    let inv = aug.affine.inverse().unwrap_or(Affine::IDENTITY).0;
    let (sw, sh) = (src.width() as i64, src.height() as i64);
    let px = |x: i64, y: i64| -> [f64; 3] {
        if x < 0 || y < 0 || x >= sw || y >= sh {
            [255.0; 3]
        } else {
            let p = src.get_pixel(x as u32, y as u32).0;
            [f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]
        }
    };
    let mut rng = ChaCha8Rng::seed_from_u64(aug.noise_seed);
    let mut out = RgbImage::new(ow, oh);
    for v in 0..oh {
        for u in 0..ow {
            let (x, y) = (f64::from(u) + 0.5, f64::from(v) + 0.5);
            let sx = inv[0] * x + inv[1] * y + inv[2] - 0.5;
            let sy = inv[3] * x + inv[4] * y + inv[5] - 0.5;
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            let (x0, y0) = (x0 as i64, y0 as i64);
            let (a, b, c, d) = (px(x0, y0), px(x0 + 1, y0), px(x0, y0 + 1), px(x0 + 1, y0 + 1));
            let mut rgb = [0u8; 3];
            let noise = if aug.noise_sigma > 0.0 {
                // Box–Muller: one normal sample per pixel, shared by the channels (grain, not colour).
                let (u1, u2) = (unit(&mut rng).max(1e-12), unit(&mut rng));
                aug.noise_sigma * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
            } else {
                0.0
            };
            for k in 0..3 {
                let top = a[k] * (1.0 - fx) + b[k] * fx;
                let bottom = c[k] * (1.0 - fx) + d[k] * fx;
                rgb[k] = (top * (1.0 - fy) + bottom * fy + noise).round().clamp(0.0, 255.0) as u8;
            }
            out.put_pixel(u, v, Rgb(rgb));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Rect;

    #[test]
    fn affine_inverse_undoes() {
        let opts = AugmentOptions { count: 1, seed: 7 };
        let aug = plan(&opts, 3, 0, 200, 100, &[]);
        let inv = aug.affine.inverse().unwrap();
        let p = Point::new(12.5, 40.0);
        let back = inv.apply(aug.affine.apply(p));
        assert!((back.x - p.x).abs() < 1e-3 && (back.y - p.y).abs() < 1e-3);
    }

    #[test]
    fn same_inputs_same_plan_and_pixels() {
        let opts = AugmentOptions { count: 2, seed: 1 };
        let b = PageBox {
            rect: Rect::new(20.0, 20.0, 60.0, 30.0),
            quad: None,
            label: None,
            text: String::new(),
            flags: Default::default(),
        };
        let a1 = plan(&opts, 9, 1, 80, 60, std::slice::from_ref(&b));
        let a2 = plan(&opts, 9, 1, 80, 60, std::slice::from_ref(&b));
        assert_eq!(a1, a2);
        let img = RgbImage::from_fn(80, 60, |x, y| Rgb([x as u8, y as u8, 100]));
        assert_eq!(apply_image(&a1, &img), apply_image(&a2, &img));
        assert_ne!(a1, plan(&opts, 9, 0, 80, 60, &[b]));
    }
}
