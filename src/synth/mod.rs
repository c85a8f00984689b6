//! Deterministic synthetic invoice pages with exact ground truth: varied A4 layouts in French,
//! German and English, made to look scanned, for tests, benchmarks and demo workspaces.
//!
//! Page `index` of seed `seed` is the same bytes on every run: all randomness comes from one
//! `ChaCha8Rng` seeded with `seed` on stream `index`, and nothing depends on time, threads or
//! hash order. (Float maths could differ across CPU architectures; not tested.)

mod content;
mod layout;
pub mod pdf;
mod scan;
mod text;

use std::path::{Path, PathBuf};

use image::{ImageFormat, RgbImage};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::formats::gt::{GroundTruth, GtBox};
use layout::{LAYOUTS, PAGE_H, PAGE_W, Style};
use text::Inked;

/// A4 at 150 dpi.
pub const PAGE_WIDTH_PX: u32 = PAGE_W as u32;
pub const PAGE_HEIGHT_PX: u32 = PAGE_H as u32;

pub struct SynthPage {
    /// The page exactly as a decoder reads `jpeg` back.
    pub image: RgbImage,
    pub gt: GroundTruth,
    /// The encoded JPEG that [`write_set`] writes; empty only if encoding failed.
    pub jpeg: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{path}: cannot create the output folder: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("{path}: cannot write: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("page {index}: JPEG encoding failed")]
    Encode { index: u32 },
    #[error("page {index}: cannot write the PDF: {reason}")]
    Pdf { index: u32, reason: String },
}

/// "invoice_0001" for index 1; wider indices keep all their digits.
pub fn file_stem(index: u32) -> String {
    format!("invoice_{index:04}")
}

/// The text boxes of a clean (unscanned) page and the generator state that follows it.
struct CleanPage {
    image: RgbImage,
    inked: Vec<Inked>,
    /// The display list the image was drawn from (a born-digital PDF writes its text).
    ops: Vec<text::Op>,
    rng: ChaCha8Rng,
    /// False if the layout still overflowed after all shrinking (kept rather than dropped so
    /// every index yields a page); only tests look, to keep that case from happening.
    #[cfg_attr(not(test), allow(dead_code))]
    fits: bool,
}

fn clean_page(seed: u64, index: u32) -> CleanPage {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(u64::from(index));
    let invoice = content::invoice(&mut rng);
    // Consecutive pages cycle through the layouts so even a small set shows all of them.
    let layout = (index as usize + (seed % LAYOUTS as u64) as usize) % LAYOUTS;
    let style = Style::random(&mut rng);
    let layout_rng = rng.clone();
    rng.set_word_pos(rng.get_word_pos() + 1024);
    let mut shrink = 1.0;
    let (sheet, fits) = loop {
        let (sheet, fits) = layout::compose(&invoice, &style.shrunk(shrink), layout, &mut layout_rng.clone());
        if fits || shrink < 0.5 {
            break (sheet, fits);
        }
        shrink *= 0.93;
    };
    let (image, inked) = sheet.raster();
    CleanPage { image, inked, ops: sheet.ops, rng, fits }
}

/// The scanned page before JPEG, its ground truth and the JPEG quality to use.
fn scanned_page(seed: u64, index: u32) -> (RgbImage, GroundTruth, u8) {
    let CleanPage { image, inked, mut rng, .. } = clean_page(seed, index);
    let params = scan::params(&mut rng);
    let scanned = scan::degrade(image, &params, &mut rng);
    let (w, h) = scanned.dimensions();
    let tilt = scan::tilt(&params, w, h);
    let boxes = inked
        .iter()
        .filter_map(|t| {
            let [x0, y0, x1, y1] = scan::tilted_bounds(&t.cells, &tilt, w, h);
            (x1 > x0 && y1 > y0).then(|| GtBox {
                x0,
                y0,
                x1,
                y1,
                text: t.text.clone(),
                label: Some(t.label.to_string()),
            })
        })
        .collect();
    let gt = GroundTruth { image: format!("{}.jpg", file_stem(index)), page: None, width: w, height: h, boxes };
    (scanned, gt, params.jpeg_quality)
}

fn jpeg_round_trip(image: &RgbImage, quality: u8) -> image::ImageResult<(Vec<u8>, RgbImage)> {
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality).encode_image(image)?;
    let decoded = image::load_from_memory_with_format(&jpeg, ImageFormat::Jpeg)?.to_rgb8();
    Ok((jpeg, decoded))
}

/// Page `index` of the set generated from `seed`; `gt.image` is `file_stem(index) + ".jpg"`.
/// `image` is the decoded JPEG, so it is pixel-identical to the file [`write_set`] writes.
pub fn render_page(seed: u64, index: u32) -> SynthPage {
    let (image, gt, quality) = scanned_page(seed, index);
    match jpeg_round_trip(&image, quality) {
        Ok((jpeg, decoded)) => SynthPage { image: decoded, gt, jpeg },
        // Encoding a fixed-size RGB page into memory cannot fail in practice; if it ever
        // does, the caller still gets the page and write_set reports it.
        Err(_) => SynthPage { image, gt, jpeg: Vec::new() },
    }
}

/// Writes pages `1..=count` as `STEM.jpg` + `STEM.json` into `out` (created if missing) and
/// returns the JSON paths in page order. The image is written before its JSON, so a JSON
/// file never names a missing image.
pub fn write_set(out: &Path, count: u32, seed: u64) -> Result<Vec<PathBuf>, SynthError> {
    std::fs::create_dir_all(out).map_err(|source| SynthError::CreateDir { path: out.into(), source })?;
    let mut written = Vec::with_capacity(count as usize);
    for index in 1..=count {
        let page = render_page(seed, index);
        if page.jpeg.is_empty() {
            return Err(SynthError::Encode { index });
        }
        let image_path = out.join(&page.gt.image);
        std::fs::write(&image_path, &page.jpeg).map_err(|source| SynthError::Write { path: image_path, source })?;
        let json_path = out.join(format!("{}.json", file_stem(index)));
        std::fs::write(&json_path, page.gt.to_json_pretty())
            .map_err(|source| SynthError::Write { path: json_path.clone(), source })?;
        written.push(json_path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luma(p: &image::Rgb<u8>) -> f32 {
        0.299 * f32::from(p.0[0]) + 0.587 * f32::from(p.0[1]) + 0.114 * f32::from(p.0[2])
    }

    #[test]
    fn every_layout_fits_its_page_for_many_seeds() {
        let mut misfits = Vec::new();
        for seed in 0..6u64 {
            for index in 0..LAYOUTS as u32 {
                if !clean_page(seed, index).fits {
                    misfits.push((seed, index));
                }
            }
        }
        assert!(misfits.is_empty(), "pages that overflow or collide: {misfits:?}");
    }

    #[test]
    fn dark_pixels_of_a_clean_page_lie_in_text_boxes_and_every_box_has_ink() {
        for index in 0..LAYOUTS as u32 {
            let page = clean_page(11, index);
            let (w, h) = page.image.dimensions();
            let mut covered = vec![false; (w * h) as usize];
            for t in &page.inked {
                let mut darkest: f32 = 255.0;
                for c in &t.cells {
                    for y in c[1].max(0)..c[3].min(h as i32) {
                        for x in c[0].max(0)..c[2].min(w as i32) {
                            covered[(y as u32 * w + x as u32) as usize] = true;
                            darkest = darkest.min(luma(page.image.get_pixel(x as u32, y as u32)));
                        }
                    }
                }
                assert!(darkest < 130.0, "page {index}: no ink under {:?}", t.text);
            }
            let (mut dark, mut inside) = (0usize, 0usize);
            for (x, y, p) in page.image.enumerate_pixels() {
                if luma(p) < 100.0 {
                    dark += 1;
                    inside += usize::from(covered[(y * w + x) as usize]);
                }
            }
            assert!(dark > 5_000, "page {index} has almost no text");
            assert!(inside as f32 / dark as f32 > 0.9, "page {index}: {inside} of {dark} dark pixels in boxes");
        }
    }

    #[test]
    fn tilted_bounds_follow_the_ink_through_the_rotation() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut p = scan::params(&mut rng);
        p.angle_deg = 0.8;
        let (w, h) = (400u32, 300u32);
        let mut clean = RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
        // A long bar shows rotation errors most: its far ends move by ±2 px at 0.8°.
        let cells = [[40, 50, 360, 70]];
        for y in 50..70 {
            for x in 40..360 {
                clean.put_pixel(x, y, image::Rgb([0, 0, 0]));
            }
        }
        p.noise_sigma = 0.0;
        p.blur_sigma = 0.3;
        let tilt = scan::tilt(&p, w, h);
        let rotated = scan::degrade(clean, &p, &mut rng);
        let b = scan::tilted_bounds(&cells, &tilt, w, h);
        let mut ink = [u32::MAX, u32::MAX, 0, 0];
        for (x, y, px) in rotated.enumerate_pixels() {
            if px.0[0] < 128 {
                ink = [ink[0].min(x), ink[1].min(y), ink[2].max(x + 1), ink[3].max(y + 1)];
            }
        }
        for k in 0..4 {
            assert!((b[k] - ink[k] as f32).abs() <= 1.0, "bounds {b:?} vs ink {ink:?}");
        }
    }

    #[test]
    fn stems_and_image_names_agree() {
        assert_eq!(file_stem(1), "invoice_0001");
        assert_eq!(file_stem(12345), "invoice_12345");
    }

    /// `SYNTH_LOOK=/tmp/synth_look cargo test --release --lib synth -- --ignored` writes pages as
    /// PNG, plain and with their ground-truth boxes drawn, for judging them by eye.
    #[test]
    #[ignore]
    fn dump_pages_with_boxes_for_inspection() {
        let Ok(dir) = std::env::var("SYNTH_LOOK") else { return };
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        let n: u32 = std::env::var("SYNTH_LOOK_N").ok().and_then(|s| s.parse().ok()).unwrap_or(6);
        let palette = crate::domain::default_invoice_schema();
        for i in 1..=n {
            let t = std::time::Instant::now();
            let page = render_page(2024, i);
            eprintln!("page {i}: {:?}, {} boxes", t.elapsed(), page.gt.boxes.len());
            page.image.save(dir.join(format!("{}.png", file_stem(i)))).unwrap();
            let mut boxed = page.image.clone();
            for b in &page.gt.boxes {
                let color = palette.iter().find(|l| Some(&l.name) == b.label.as_ref()).map_or([255, 0, 0], |l| l.color);
                let r = imageproc::rect::Rect::at(b.x0 as i32, b.y0 as i32)
                    .of_size((b.x1 - b.x0).max(1.0) as u32, (b.y1 - b.y0).max(1.0) as u32);
                imageproc::drawing::draw_hollow_rect_mut(&mut boxed, r, image::Rgb(color));
            }
            boxed.save(dir.join(format!("{}_boxes.png", file_stem(i)))).unwrap();
            for label in ["total_amount", "vendor_address", "line_item_description", "Payment terms", "Paiement"] {
                let hit = |b: &&GtBox| b.label.as_deref() == Some(label) || b.text.starts_with(label);
                if let Some(b) = page.gt.boxes.iter().find(hit) {
                    let (x, y) = ((b.x0 as u32).saturating_sub(150), (b.y0 as u32).saturating_sub(60));
                    let crop = image::imageops::crop_imm(&boxed, x, y, 500.min(1240 - x), 160.min(1754 - y)).to_image();
                    let big = image::imageops::resize(
                        &crop,
                        crop.width() * 2,
                        crop.height() * 2,
                        image::imageops::FilterType::Nearest,
                    );
                    big.save(dir.join(format!("{}_{label}.png", file_stem(i)))).unwrap();
                }
            }
            std::fs::write(dir.join(format!("{}.json", file_stem(i))), page.gt.to_json_pretty()).unwrap();
        }
    }
}
