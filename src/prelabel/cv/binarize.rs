//! Sauvola thresholding with sliding column sums: a local threshold copes with shadows,
//! gradients and faded print where one global (Otsu) level drops whole regions.

use image::GrayImage;

/// Ink mask (1 = ink) of `img`. `radius` is the half-window; `k` weighs local contrast
/// (higher keeps less); `min_contrast` rejects windows that are flat paper whatever `k` says,
/// which keeps JPEG noise and paper texture from turning into specks.
pub(super) fn sauvola(img: &GrayImage, radius: u32, k: f32, min_contrast: f32) -> Vec<u8> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let px = img.as_raw();
    let r = radius.max(1) as usize;
    let mut out = vec![0u8; w * h];
    if w == 0 || h == 0 {
        return out;
    }
    // Column sums over rows [y-r, y+r], updated as y advances.
    let mut col = vec![0u32; w];
    let mut col_sq = vec![0u64; w];
    let add_row = |col: &mut [u32], col_sq: &mut [u64], y: usize, sign: bool| {
        for (x, &v) in px[y * w..(y + 1) * w].iter().enumerate() {
            let v = u32::from(v);
            if sign {
                col[x] += v;
                col_sq[x] += u64::from(v * v);
            } else {
                col[x] -= v;
                col_sq[x] -= u64::from(v * v);
            }
        }
    };
    for y in 0..r.min(h) {
        add_row(&mut col, &mut col_sq, y, true);
    }
    // 1 / window width per column (narrower at the edges); rows are folded in per row.
    let inv_cols: Vec<f32> = (0..w).map(|x| 1.0 / ((x + r).min(w - 1) + 1 - x.saturating_sub(r)) as f32).collect();
    let min_var = min_contrast * min_contrast;
    let mut pre = vec![0u64; w + 1];
    let mut pre_sq = vec![0u64; w + 1];
    for y in 0..h {
        if y + r < h {
            add_row(&mut col, &mut col_sq, y + r, true);
        }
        if y > r {
            add_row(&mut col, &mut col_sq, y - r - 1, false);
        }
        let rows = (y + r).min(h - 1) + 1 - y.saturating_sub(r);
        for x in 0..w {
            pre[x + 1] = pre[x] + u64::from(col[x]);
            pre_sq[x + 1] = pre_sq[x] + col_sq[x];
        }
        let row = &px[y * w..(y + 1) * w];
        let out_row = &mut out[y * w..(y + 1) * w];
        let inv_rows = 1.0 / rows as f32;
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r).min(w - 1) + 1);
            let inv_n = inv_cols[x] * inv_rows;
            let mean = (pre[x1] - pre[x0]) as f32 * inv_n;
            let v = f32::from(row[x]);
            // The threshold never exceeds the mean (sd <= 128), so paper needs no sqrt.
            if v >= mean {
                continue;
            }
            let var = (pre_sq[x1] - pre_sq[x0]) as f32 * inv_n - mean * mean;
            if var < min_var {
                continue;
            }
            let sd = var.sqrt();
            if v < mean * (1.0 + k * (sd / 128.0 - 1.0)) {
                out_row[x] = 1;
            }
        }
    }
    out
}
