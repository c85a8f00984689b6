//! Page image → 8-bit grey at the working resolution, with contrast stretched so the later
//! thresholds see ink near 0 and paper near 255 whatever the scanner did.

use image::{DynamicImage, GrayImage};

/// Grey page, shrunk by an integer `factor` (box average, so thin strokes fade instead of
/// vanishing the way nearest-neighbour sampling would drop them).
pub(super) struct Working {
    pub img: GrayImage,
    pub factor: u32,
}

/// Integer shrink factor that brings the long side to at most `max_side_px`.
pub(super) fn factor_for(width: u32, height: u32, max_side_px: u32) -> u32 {
    let long = width.max(height).max(1);
    long.div_ceil(max_side_px.max(64)).max(1)
}

/// Greys and shrinks in one pass for the common 8-bit RGB and grey cases so a 35-megapixel
/// scan is read once; other formats (16-bit, alpha, …) go through `image`'s conversion, with
/// transparency composited over white paper.
pub(super) fn to_working(img: &DynamicImage, factor: u32) -> Working {
    let img = match img {
        DynamicImage::ImageRgb8(rgb) if factor == 1 => {
            let raw: Vec<u8> = rgb.as_raw().chunks_exact(3).map(|p| luma(p[0], p[1], p[2])).collect();
            GrayImage::from_raw(rgb.width(), rgb.height(), raw).unwrap_or_else(|| GrayImage::new(1, 1))
        }
        DynamicImage::ImageRgb8(rgb) => {
            shrink(rgb.as_raw(), rgb.width(), rgb.height(), 3, factor, |p| luma(p[0], p[1], p[2]))
        }
        DynamicImage::ImageLuma8(g) if factor == 1 => g.clone(),
        DynamicImage::ImageLuma8(g) => shrink(g.as_raw(), g.width(), g.height(), 1, factor, |p| p[0]),
        other if other.color().has_alpha() => {
            let rgba = other.to_rgba8();
            shrink(rgba.as_raw(), rgba.width(), rgba.height(), 4, factor, |p| {
                let (v, a) = (u32::from(luma(p[0], p[1], p[2])), u32::from(p[3]));
                ((v * a + 255 * (255 - a)) / 255) as u8
            })
        }
        other => {
            let g = other.to_luma8();
            shrink(g.as_raw(), g.width(), g.height(), 1, factor, |p| p[0])
        }
    };
    Working { img, factor }
}

/// 8-bit grey of an sRGB pixel (integer BT.601 weights).
pub(crate) fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b)) >> 8) as u8
}

/// Box-average shrink of a packed buffer with `ch` channels per pixel. For factors of 4 and
/// more only every other row and column of each block is read: still an average over the
/// block (no aliasing of thin strokes), at a quarter of the memory traffic on huge scans.
fn shrink(raw: &[u8], w: u32, h: u32, ch: usize, f: u32, px: impl Fn(&[u8]) -> u8) -> GrayImage {
    let f = f.max(1) as usize;
    let step = if f >= 4 { 2 } else { 1 };
    let (w, h) = (w as usize, h as usize);
    let (ow, oh) = (w.div_ceil(f).max(1), h.div_ceil(f).max(1));
    let mut out = vec![255u8; ow * oh];
    if w > 0 && h > 0 && raw.len() >= w * h * ch {
        let mut acc = vec![0u32; ow];
        let mut cnt = vec![0u32; ow];
        for oy in 0..oh {
            acc.fill(0);
            cnt.fill(0);
            for y in (oy * f..((oy + 1) * f).min(h)).step_by(step) {
                let row = &raw[y * w * ch..(y + 1) * w * ch];
                for ((a, c), block) in acc.iter_mut().zip(cnt.iter_mut()).zip(row.chunks(f * ch)) {
                    for p in block.chunks_exact(ch).step_by(step) {
                        *a += u32::from(px(p));
                        *c += 1;
                    }
                }
            }
            for ((v, a), c) in out[oy * ow..(oy + 1) * ow].iter_mut().zip(&acc).zip(&cnt) {
                *v = (a / (*c).max(1)) as u8;
            }
        }
    }
    GrayImage::from_raw(ow as u32, oh as u32, out).unwrap_or_else(|| GrayImage::new(1, 1))
}

/// Linear stretch so the 0.5th percentile maps to 0 and the 99.5th to 255. Faded thermal
/// receipts and grey scans then look alike to the binariser; a flat page is left alone.
pub(super) fn stretch_contrast(img: &mut GrayImage) {
    let mut hist = [0u64; 256];
    for p in img.as_raw() {
        hist[*p as usize] += 1;
    }
    let total: u64 = hist.iter().sum();
    let cut = total / 200;
    let (mut lo, mut hi, mut acc) = (0usize, 255usize, 0u64);
    for (v, n) in hist.iter().enumerate() {
        acc += n;
        if acc > cut {
            lo = v;
            break;
        }
    }
    acc = 0;
    for (v, n) in hist.iter().enumerate().rev() {
        acc += n;
        if acc > cut {
            hi = v;
            break;
        }
    }
    if hi <= lo + 16 {
        return;
    }
    let mut lut = [0u8; 256];
    for (v, l) in lut.iter_mut().enumerate() {
        *l = ((v.clamp(lo, hi) - lo) * 255 / (hi - lo)) as u8;
    }
    for p in img.iter_mut() {
        *p = lut[*p as usize];
    }
}
