//! Makes a clean page look scanned: a slight tilt, optics blur, uneven lighting, paper tint,
//! ink that is never quite black, and sensor noise. JPEG compression happens in the caller.

use image::{DynamicImage, Rgb, RgbImage};
use imageproc::geometric_transformations::Projection;
use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;

pub(crate) struct ScanParams {
    pub angle_deg: f32,
    pub blur_sigma: f32,
    pub noise_sigma: f32,
    pub jpeg_quality: u8,
    paper: [f32; 3],
    ink_floor: f32,
    /// Coefficients of the lighting falloff along x and y (linear, quadratic).
    light_x: [f32; 2],
    light_y: [f32; 2],
}

pub(crate) fn params(rng: &mut ChaCha8Rng) -> ScanParams {
    // Paper is white to slightly warm (yellowish), never tinted towards another hue.
    let warm = rng.random_range(0.0..0.05);
    let white = rng.random_range(0.94..1.0);
    ScanParams {
        angle_deg: rng.random_range(-0.8..0.8),
        blur_sigma: rng.random_range(0.45..1.0),
        noise_sigma: rng.random_range(2.5..8.0),
        jpeg_quality: rng.random_range(60..=90),
        paper: [1.0 - warm * 0.2, 1.0 - warm * 0.5, 1.0 - warm * 1.4].map(|c| c * white),
        ink_floor: rng.random_range(10.0..45.0),
        light_x: [rng.random_range(-0.05..0.05), rng.random_range(-0.08..0.0)],
        light_y: [rng.random_range(-0.05..0.05), rng.random_range(-0.08..0.0)],
    }
}

/// The tilt as imageproc applies it: input pixel centres (integer coordinates) to output.
pub(crate) fn tilt(p: &ScanParams, w: u32, h: u32) -> Projection {
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    Projection::translate(cx, cy) * Projection::rotate(p.angle_deg.to_radians()) * Projection::translate(-cx, -cy)
}

/// Axis-aligned bounds, in continuous pixel coordinates (pixel i spans [i, i+1)), of glyph
/// cells after the tilt, rounded outwards to whole pixels and clamped to the image.
pub(crate) fn tilted_bounds(cells: &[[i32; 4]], tilt: &Projection, w: u32, h: u32) -> [f32; 4] {
    let b = tilted_extent(cells, tilt);
    [
        b[0].floor().clamp(0.0, w as f32),
        b[1].floor().clamp(0.0, h as f32),
        b[2].ceil().clamp(0.0, w as f32),
        b[3].ceil().clamp(0.0, h as f32),
    ]
}

/// Axis-aligned extent of glyph cells after the tilt, in continuous pixel coordinates, neither
/// rounded nor clamped: outside `0..w` or `0..h` means the tilt swings ink off the image.
pub(crate) fn tilted_extent(cells: &[[i32; 4]], tilt: &Projection) -> [f32; 4] {
    let mut b = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
    for c in cells {
        for (x, y) in [(c[0], c[1]), (c[2], c[1]), (c[0], c[3]), (c[2], c[3])] {
            // Cell corners sit half a pixel off the pixel centres imageproc transforms.
            let (tx, ty) = *tilt * (x as f32 - 0.5, y as f32 - 0.5);
            b = [b[0].min(tx + 0.5), b[1].min(ty + 0.5), b[2].max(tx + 0.5), b[3].max(ty + 0.5)];
        }
    }
    b
}

/// 4096 standard normal samples (Box–Muller); indexing it is far cheaper per pixel than sampling.
fn normal_table(rng: &mut ChaCha8Rng) -> Vec<f32> {
    let mut t = Vec::with_capacity(4096);
    while t.len() < 4096 {
        let u1: f32 = rng.random_range(f32::EPSILON..1.0);
        let u2: f32 = rng.random();
        let r = (-2.0 * u1.ln()).sqrt();
        let a = std::f32::consts::TAU * u2;
        t.push(r * a.cos());
        t.push(r * a.sin());
    }
    t
}

const TILE: usize = 16;

/// For each TILE×TILE block of `src`, whether it or any neighbouring block holds a non-white
/// byte; blank paper (most of a page) then skips interpolation entirely.
fn ink_tiles(src: &[u8], w: usize, h: usize) -> (Vec<bool>, usize) {
    let (tw, th) = (w.div_ceil(TILE), h.div_ceil(TILE));
    let white = [255u8; 3 * TILE];
    let mut ink = vec![false; tw * th];
    for y in 0..h {
        let row = &src[y * 3 * w..(y + 1) * 3 * w];
        for (t, chunk) in row.chunks(3 * TILE).enumerate() {
            // Slice equality on bytes is a memcmp, fast even in unoptimised builds.
            if chunk != &white[..chunk.len()] {
                ink[(y / TILE) * tw + t] = true;
            }
        }
    }
    let mut grown = ink.clone();
    for ty in 0..th {
        for tx in 0..tw {
            if ink[ty * tw + tx] {
                for ny in ty.saturating_sub(1)..(ty + 2).min(th) {
                    for nx in tx.saturating_sub(1)..(tx + 2).min(tw) {
                        grown[ny * tw + nx] = true;
                    }
                }
            }
        }
    }
    (grown, tw)
}

/// Blur, tilt, lighting, paper and noise. The tilt resamples exactly like imageproc's
/// bilinear `rotate` about the centre (what [`tilt`] describes), but runs fused with the
/// per-pixel work in one pass over raw rows: imageproc's generic warp and blur instantiate in
/// this crate and take seconds per page in unoptimised test builds. Blurring before the tilt
/// is equivalent, since a Gaussian blur is rotation invariant.
pub(crate) fn degrade(clean: RgbImage, p: &ScanParams, rng: &mut ChaCha8Rng) -> RgbImage {
    let (w, h) = clean.dimensions();
    let blurred = DynamicImage::ImageRgb8(clean).blur(p.blur_sigma).into_rgb8();
    let src = blurred.as_raw();
    let table = normal_table(rng);
    let falloff = |t: f32, k: [f32; 2]| 1.0 + k[0] * (t - 0.5) + k[1] * (2.0 * t - 1.0).powi(2);
    let col: Vec<f32> = (0..w).map(|x| falloff(x as f32 / w as f32, p.light_x)).collect();
    let range = (255.0 - p.ink_floor) / 255.0;
    let (sin, cos) = p.angle_deg.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (wi, hi) = (w as i64, h as i64);
    let stride = 3 * w as usize;
    let (ink, tw) = ink_tiles(src, w as usize, h as usize);
    let sample = |x: i64, y: i64, k: usize| -> f32 {
        if x < 0 || y < 0 || x >= wi || y >= hi {
            255.0
        } else {
            f32::from(src[y as usize * stride + 3 * x as usize + k])
        }
    };
    // Per-channel paper colour times the horizontal lighting, in 0..=255 units.
    let col3: Vec<f32> = (0..3 * w as usize).map(|i| 255.0 * p.paper[i % 3] * col[i / 3]).collect();
    let ink_scale = range / 255.0;
    let floor = p.ink_floor / 255.0;
    // Written for unoptimised test builds too (every call and index costs there): one random
    // draw per pixel, casts that saturate instead of round/clamp calls.
    let mut out = vec![0u8; src.len()];
    for (y, row) in out.chunks_exact_mut(stride).enumerate() {
        let fy = falloff(y as f32 / h as f32, p.light_y);
        let dy = y as f32 - cy;
        // Inverse of the clockwise rotation, stepped along the row: where each output pixel
        // comes from.
        let mut sx = -cos * cx + sin * dy + cx;
        let mut sy = sin * cx + cos * dy + cy;
        for x in 0..w as usize {
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fyw) = (sx - x0, sy - y0);
            let (x0, y0) = (x0 as i64, y0 as i64);
            let blank =
                x0 < 0 || y0 < 0 || x0 >= wi || y0 >= hi || !ink[(y0 as usize / TILE) * tw + x0 as usize / TILE];
            let bits = rng.next_u64();
            // Mostly shared (luminance) noise with a little uniform chroma noise on top.
            let shared = table[(bits & 0xfff) as usize] * p.noise_sigma + 0.5;
            let chroma = p.noise_sigma * (0.35 / 128.0);
            for k in 0..3 {
                let own = ((bits >> (16 + 12 * k)) & 0xff) as f32 - 127.5;
                let i = 3 * x + k;
                let value = if blank {
                    col3[i] * fy
                } else {
                    let top = sample(x0, y0, k) * (1.0 - fx) + sample(x0 + 1, y0, k) * fx;
                    let bottom = sample(x0, y0 + 1, k) * (1.0 - fx) + sample(x0 + 1, y0 + 1, k) * fx;
                    (floor + (top * (1.0 - fyw) + bottom * fyw) * ink_scale) * col3[i] * fy
                };
                row[i] = (value + shared + own * chroma) as u8;
            }
            sx += cos;
            sy -= sin;
        }
    }
    // The buffer has exactly w * h * 3 bytes, so this cannot fail; white paper is the fallback.
    RgbImage::from_raw(w, h, out).unwrap_or_else(|| RgbImage::from_pixel(w, h, Rgb([255, 255, 255])))
}
