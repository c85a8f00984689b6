//! Draws Facture's icon from one list of shapes, as the scalable SVG and as PNGs, so the two
//! can never drift apart: `cargo run --example draw_icon -- assets/icons`.
//!
//! The picture: an invoice page with a folded corner, grey text lines, and three field boxes
//! in the window's label colours around the lines an annotator would box.

use std::path::PathBuf;

use image::{Rgba, RgbaImage};

/// The design grid: a 256 × 256 canvas.
const SIZE: f32 = 256.0;

#[derive(Clone, Copy)]
enum Shape {
    /// x, y, w, h, corner radius
    RoundRect([f32; 4], f32),
    /// a closed convex polygon, clockwise on screen, moved by an offset
    Poly(&'static [(f32, f32)], (f32, f32)),
}

struct Paint {
    shape: Shape,
    fill: [u8; 4],
    /// outline width in design units, drawn inside the shape's edge; 0: none
    stroke: f32,
    stroke_rgba: [u8; 4],
}

const PAGE: [f32; 4] = [40.0, 20.0, 176.0, 216.0];
const FOLD: f32 = 44.0;

fn paints() -> Vec<Paint> {
    let fill = |shape, rgba| Paint { shape, fill: rgba, stroke: 0.0, stroke_rgba: [0; 4] };
    let boxed = |r: [f32; 4], rgb: [u8; 3]| Paint {
        shape: Shape::RoundRect(r, 4.0),
        fill: [rgb[0], rgb[1], rgb[2], 56],
        stroke: 5.0,
        stroke_rgba: [rgb[0], rgb[1], rgb[2], 255],
    };
    let line = |x: f32, y: f32, w: f32| fill(Shape::RoundRect([x, y, w, 9.0], 4.5), [120, 128, 140, 255]);
    vec![
        // shadow, page, fold
        fill(Shape::Poly(PAGE_OUTLINE, (4.0, 6.0)), [0, 0, 0, 48]),
        Paint {
            shape: Shape::Poly(PAGE_OUTLINE, (0.0, 0.0)),
            fill: [250, 250, 247, 255],
            stroke: 4.0,
            stroke_rgba: [60, 66, 78, 255],
        },
        Paint {
            shape: Shape::Poly(FOLD_TRIANGLE, (0.0, 0.0)),
            fill: [214, 218, 226, 255],
            stroke: 4.0,
            stroke_rgba: [60, 66, 78, 255],
        },
        // header: vendor name
        line(60.0, 48.0, 74.0),
        line(60.0, 66.0, 52.0),
        // invoice number and date, boxed
        boxed([54.0, 96.0, 92.0, 24.0], [52, 120, 246]),
        line(60.0, 103.5, 80.0),
        line(60.0, 134.0, 60.0),
        line(132.0, 134.0, 64.0),
        // line items
        line(60.0, 156.0, 96.0),
        line(170.0, 156.0, 26.0),
        line(60.0, 174.0, 84.0),
        line(170.0, 174.0, 26.0),
        boxed([164.0, 150.0, 38.0, 42.0], [236, 134, 36]),
        // total, boxed
        boxed([112.0, 200.0, 90.0, 24.0], [34, 164, 96]),
        fill(Shape::RoundRect([118.0, 207.5, 78.0, 9.0], 4.5), [40, 44, 52, 255]),
    ]
}

const PAGE_OUTLINE: &[(f32, f32)] = &[
    (PAGE[0], PAGE[1]),
    (PAGE[0] + PAGE[2] - FOLD, PAGE[1]),
    (PAGE[0] + PAGE[2], PAGE[1] + FOLD),
    (PAGE[0] + PAGE[2], PAGE[1] + PAGE[3]),
    (PAGE[0], PAGE[1] + PAGE[3]),
];

const FOLD_TRIANGLE: &[(f32, f32)] = &[
    (PAGE[0] + PAGE[2] - FOLD, PAGE[1]),
    (PAGE[0] + PAGE[2], PAGE[1] + FOLD),
    (PAGE[0] + PAGE[2] - FOLD, PAGE[1] + FOLD),
];

fn hex(c: [u8; 4]) -> (String, f32) {
    (format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]), f32::from(c[3]) / 255.0)
}

fn svg() -> String {
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{SIZE}\" height=\"{SIZE}\" viewBox=\"0 0 {SIZE} {SIZE}\">\n"
    );
    for p in paints() {
        let (fill, fill_a) = hex(p.fill);
        let (stroke, stroke_a) = hex(p.stroke_rgba);
        // SVG strokes straddle the edge; ours lie inside it, so the path is inset by half.
        let inset = p.stroke / 2.0;
        let paint = if p.stroke > 0.0 {
            format!(
                "fill=\"{fill}\" fill-opacity=\"{fill_a:.3}\" stroke=\"{stroke}\" stroke-opacity=\"{stroke_a:.3}\" stroke-width=\"{}\" stroke-linejoin=\"round\"",
                p.stroke
            )
        } else {
            format!("fill=\"{fill}\" fill-opacity=\"{fill_a:.3}\"")
        };
        match p.shape {
            Shape::RoundRect([x, y, w, h], r) => s.push_str(&format!(
                "  <rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" {paint}/>\n",
                x + inset,
                y + inset,
                w - 2.0 * inset,
                h - 2.0 * inset,
                (r - inset).max(0.0)
            )),
            Shape::Poly(pts, (dx, dy)) => {
                let pts: Vec<String> =
                    inset_polygon(pts, inset).iter().map(|(x, y)| format!("{:.2},{:.2}", x + dx, y + dy)).collect();
                s.push_str(&format!("  <polygon points=\"{}\" {paint}/>\n", pts.join(" ")));
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

/// Moves each edge of a convex, clockwise (in y-down screen space) polygon inwards by `d`.
fn inset_polygon(pts: &[(f32, f32)], d: f32) -> Vec<(f32, f32)> {
    let n = pts.len();
    let edge_line = |i: usize| {
        let (a, b) = (pts[i], pts[(i + 1) % n]);
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt();
        // inward normal of a clockwise polygon in y-down coordinates
        let (nx, ny) = (-dy / len, dx / len);
        ((a.0 + nx * d, a.1 + ny * d), (dx, dy))
    };
    (0..n)
        .map(|i| {
            let (p1, d1) = edge_line((i + n - 1) % n);
            let (p2, d2) = edge_line(i);
            // intersection of p1 + t d1 and p2 + u d2
            let den = d1.0 * d2.1 - d1.1 * d2.0;
            let t = ((p2.0 - p1.0) * d2.1 - (p2.1 - p1.1) * d2.0) / den;
            (p1.0 + t * d1.0, p1.1 + t * d1.1)
        })
        .collect()
}

fn inside_round_rect(x: f32, y: f32, [rx, ry, w, h]: [f32; 4], r: f32) -> bool {
    if x < rx || y < ry || x > rx + w || y > ry + h {
        return false;
    }
    let cx = x.clamp(rx + r, rx + w - r);
    let cy = y.clamp(ry + r, ry + h - r);
    (x - cx).powi(2) + (y - cy).powi(2) <= r * r
}

fn inside_poly(x: f32, y: f32, pts: &[(f32, f32)]) -> bool {
    let mut inside = false;
    let n = pts.len();
    for i in 0..n {
        let (a, b) = (pts[i], pts[(i + n - 1) % n]);
        if (a.1 > y) != (b.1 > y) && x < (b.0 - a.0) * (y - a.1) / (b.1 - a.1) + a.0 {
            inside = !inside;
        }
    }
    inside
}

fn inside(shape: Shape, x: f32, y: f32, inset: f32) -> bool {
    match shape {
        Shape::RoundRect([rx, ry, w, h], r) => {
            inside_round_rect(x, y, [rx + inset, ry + inset, w - 2.0 * inset, h - 2.0 * inset], (r - inset).max(0.0))
        }
        Shape::Poly(pts, (dx, dy)) => inside_poly(x - dx, y - dy, &inset_polygon(pts, inset)),
    }
}

fn over(dst: &mut [f32; 4], c: [u8; 4], coverage: f32) {
    let a = f32::from(c[3]) / 255.0 * coverage;
    for i in 0..3 {
        dst[i] = f32::from(c[i]) / 255.0 * a + dst[i] * (1.0 - a);
    }
    dst[3] = a + dst[3] * (1.0 - a);
}

/// The icon at `px` × `px`: 4 × 4 samples per pixel, averaged premultiplied (so transparent
/// samples do not darken the edges).
fn raster(px: u32) -> RgbaImage {
    const SS: u32 = 4;
    let step = SIZE / (px * SS) as f32;
    let paints = paints();
    RgbaImage::from_fn(px, px, |ox, oy| {
        let mut sum = [0.0f32; 4];
        for sy in 0..SS {
            for sx in 0..SS {
                let x = ((ox * SS + sx) as f32 + 0.5) * step;
                let y = ((oy * SS + sy) as f32 + 0.5) * step;
                let mut acc = [0.0f32; 4];
                for p in &paints {
                    if !inside(p.shape, x, y, 0.0) {
                        continue;
                    }
                    let in_fill = p.stroke <= 0.0 || inside(p.shape, x, y, p.stroke);
                    over(&mut acc, if in_fill { p.fill } else { p.stroke_rgba }, 1.0);
                }
                for i in 0..4 {
                    sum[i] += acc[i];
                }
            }
        }
        let n = (SS * SS) as f32;
        let a = sum[3] / n;
        let un = |c: f32| if a > 0.0 { (c / n / a * 255.0).round().clamp(0.0, 255.0) as u8 } else { 0 };
        Rgba([un(sum[0]), un(sum[1]), un(sum[2]), (a * 255.0).round() as u8])
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "assets/icons".into()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("facture.svg"), svg())?;
    for px in [256u32, 128, 64, 48, 32] {
        raster(px).save(dir.join(format!("facture-{px}.png")))?;
    }
    println!("wrote {}", dir.display());
    Ok(())
}
