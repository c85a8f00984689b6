//! Deterministic synthetic invoice pages with exact ground truth: varied A4 layouts in French,
//! German and English, made to look scanned, for tests, benchmarks and demo workspaces.
//!
//! Page `index` of seed `seed` is the same bytes on every run: all randomness comes from one
//! `ChaCha8Rng` seeded with `seed` on stream `index`, and nothing depends on time, threads or
//! hash order. (Float maths could differ across CPU architectures; not tested.)
//!
//! Two varieties: [`Variety::Standard`], what tests, benchmarks and the demo workspace use, and
//! [`Variety::Hard`], closer to what real invoices put a reader through (other fonts, a
//! steeper tilt, figures packed tightly, more blur). A hard page says the same things as the
//! standard page of its seed and index, in the same house style; only the look differs.

mod content;
mod layout;
pub mod pdf;
mod scan;
mod text;

use std::path::{Path, PathBuf};

use image::{ImageFormat, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::formats::gt::{GroundTruth, GtBox};
use layout::{HardLayout, LAYOUTS, PAGE_H, PAGE_W, Style};
use text::{Family, Inked};

/// A4 at 150 dpi.
pub const PAGE_WIDTH_PX: u32 = PAGE_W as u32;
pub const PAGE_HEIGHT_PX: u32 = PAGE_H as u32;

/// Which kind of pages to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Variety {
    /// DejaVu fonts, a tilt within ±0.8°, figures with room around them. Its bytes never
    /// change: tests, benchmarks and the demo workspace depend on them.
    #[default]
    Standard,
    /// Each page set in DejaVu, Liberation Sans or Liberation Serif; tilted 1–3° either way;
    /// a VAT column, and figure columns and totals only 1–3 digit widths apart; more blur.
    Hard,
}

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
    /// The family its text is set in (a born-digital PDF embeds it).
    family: Family,
    /// Set for hard pages: how their scan differs.
    look: Option<HardLook>,
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

/// What makes a hard page hard. It comes from a random stream of its own, so the page's main
/// stream, and with it its content, style and scan noise, is the standard page's.
#[derive(Debug, Clone, Copy)]
struct HardLook {
    family: Family,
    layout: HardLayout,
    angle_deg: f32,
    blur_sigma: f32,
}

fn hard_look(seed: u64, index: u32) -> HardLook {
    // "HARDLOOK": any constant apart from the main stream's seed would do.
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x4841_5244_4c4f_4f4b);
    rng.set_stream(u64::from(index));
    let family = content::pick(&mut rng, &Family::ALL);
    // The blank between the closest figures' ink. Standard tables already come within about
    // 1.7–2 digit widths where their widest cells meet, so hard pages go below that; rows
    // with narrower figures stand further apart, mostly within 3 digits.
    let layout = HardLayout { gap_digits: rng.random_range(1.0..2.0), totals_as_runs: rng.random_bool(0.5) };
    let magnitude: f32 = rng.random_range(1.0..3.0);
    let angle_deg = if rng.random_bool(0.5) { magnitude } else { -magnitude };
    // Standard scans blur with sigma 0.45–1.0; much above 1.2 thin small figures fade out.
    HardLook { family, layout, angle_deg, blur_sigma: rng.random_range(0.6..1.2) }
}

fn clean_page(seed: u64, index: u32, variety: Variety) -> CleanPage {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(u64::from(index));
    let invoice = content::invoice(&mut rng);
    // Consecutive pages cycle through the layouts so even a small set shows all of them.
    let layout = (index as usize + (seed % LAYOUTS as u64) as usize) % LAYOUTS;
    let look = (variety == Variety::Hard).then(|| hard_look(seed, index));
    let style = Style::random(&mut rng);
    let (style, family) = match look {
        Some(look) => (style.hardened(look.family, look.layout), look.family),
        None => (style, Family::DejaVu),
    };
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
    CleanPage { family, look, image, inked, ops: sheet.ops, rng, fits }
}

/// The scanned page before JPEG, its ground truth and the scan's parameters.
fn scanned_page(seed: u64, index: u32, variety: Variety) -> (RgbImage, GroundTruth, scan::ScanParams) {
    let CleanPage { look, image, inked, mut rng, .. } = clean_page(seed, index, variety);
    let mut params = scan::params(&mut rng);
    let (w, h) = image.dimensions();
    if let Some(look) = look {
        params.angle_deg = look.angle_deg;
        params.blur_sigma = look.blur_sigma;
        // A boxed string cut by the image's edge would no longer match its text, so a page
        // whose corners would swing out tilts less steeply, though never below 1°.
        let off_page = |p: &scan::ScanParams| {
            let tilt = scan::tilt(p, w, h);
            inked.iter().any(|t| {
                let b = scan::tilted_extent(&t.cells, &tilt);
                b[0] < 1.0 || b[1] < 1.0 || b[2] > w as f32 - 1.0 || b[3] > h as f32 - 1.0
            })
        };
        while params.angle_deg.abs() > 1.0 && off_page(&params) {
            params.angle_deg = params.angle_deg.signum() * (params.angle_deg.abs() - 0.25).max(1.0);
        }
    }
    let scanned = scan::degrade(image, &params, &mut rng);
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
    (scanned, gt, params)
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
    render_page_with(seed, index, Variety::Standard)
}

/// [`render_page`] in the given variety.
pub fn render_page_with(seed: u64, index: u32, variety: Variety) -> SynthPage {
    let (image, gt, params) = scanned_page(seed, index, variety);
    match jpeg_round_trip(&image, params.jpeg_quality) {
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
    write_set_with(out, count, seed, Variety::Standard)
}

/// [`write_set`] in the given variety.
pub fn write_set_with(out: &Path, count: u32, seed: u64, variety: Variety) -> Result<Vec<PathBuf>, SynthError> {
    std::fs::create_dir_all(out).map_err(|source| SynthError::CreateDir { path: out.into(), source })?;
    let mut written = Vec::with_capacity(count as usize);
    for index in 1..=count {
        let page = render_page_with(seed, index, variety);
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
        for variety in [Variety::Standard, Variety::Hard] {
            for seed in 0..6u64 {
                for index in 0..LAYOUTS as u32 {
                    if !clean_page(seed, index, variety).fits {
                        misfits.push((variety, seed, index));
                    }
                }
            }
        }
        assert!(misfits.is_empty(), "pages that overflow or collide: {misfits:?}");
    }

    #[test]
    fn dark_pixels_of_a_clean_page_lie_in_text_boxes_and_every_box_has_ink() {
        let pages = (0..LAYOUTS as u32).flat_map(|i| [(i, Variety::Standard), (i, Variety::Hard)]);
        for (index, variety) in pages {
            let page = clean_page(11, index, variety);
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
                assert!(darkest < 130.0, "{variety:?} page {index}: no ink under {:?}", t.text);
            }
            // Rules, bands and logos are ink too, but no text: every other dark pixel is boxed.
            let mut graphics = vec![false; (w * h) as usize];
            for op in &page.ops {
                let r = match *op {
                    text::Op::Fill { x, y, w, h, .. } => [x, y, x + w as i32, y + h as i32],
                    text::Op::Disc { x, y, r, .. } => [x - r, y - r, x + r + 1, y + r + 1],
                    text::Op::Text { .. } => continue,
                };
                for y in r[1].max(0)..r[3].min(h as i32) {
                    for x in r[0].max(0)..r[2].min(w as i32) {
                        graphics[(y as u32 * w + x as u32) as usize] = true;
                    }
                }
            }
            let (mut dark, mut inside) = (0usize, 0usize);
            for (x, y, p) in page.image.enumerate_pixels() {
                let i = (y * w + x) as usize;
                if luma(p) < 100.0 && !graphics[i] {
                    dark += 1;
                    inside += usize::from(covered[i]);
                }
            }
            assert!(dark > 5_000, "{variety:?} page {index} has almost no text");
            assert_eq!(inside, dark, "{variety:?} page {index}: dark pixels outside every box");
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

    /// A string of a clean page: its line top and the exact extent of its ink across.
    struct Placed {
        label: &'static str,
        y: f32,
        ink: (f32, f32),
        /// The digit advance of its pen.
        digit: f32,
    }

    fn placed(page: &CleanPage) -> Vec<Placed> {
        let texts = page.ops.iter().filter_map(|op| match op {
            text::Op::Text { x, y, pen, text, .. } => Some((*x, *y, *pen, text)),
            _ => None,
        });
        texts
            .zip(&page.inked)
            .filter_map(|((x, y, pen, text), t)| {
                let (a, b) = pen.ink_span(text)?;
                Some(Placed { label: t.label, y, ink: (x + a, x + b), digit: pen.digit_advance() })
            })
            .collect()
    }

    /// For each line-item row, the blanks between neighbouring figures (quantity onwards), and
    /// for each totals row the blank left of its amount: in digit advances of the right one.
    fn figure_gaps(page: &CleanPage) -> (Vec<Vec<f32>>, Vec<f32>) {
        let all = placed(page);
        let row_of = |y: f32| all.iter().filter(move |p| p.y == y);
        let mut items = Vec::new();
        for qty in all.iter().filter(|p| p.label == "line_item_quantity") {
            let mut row: Vec<&Placed> = row_of(qty.y).filter(|p| p.ink.0 >= qty.ink.0).collect();
            row.sort_by(|a, b| a.ink.0.total_cmp(&b.ink.0));
            items.push(row.windows(2).map(|w| (w[1].ink.0 - w[0].ink.1) / w[1].digit).collect());
        }
        let mut totals = Vec::new();
        for v in all.iter().filter(|p| ["subtotal", "tax_amount", "total_amount"].contains(&p.label)) {
            let left = row_of(v.y).map(|p| p.ink.1).filter(|&r| r <= v.ink.0).reduce(f32::max);
            if let Some(left) = left {
                totals.push((v.ink.0 - left) / v.digit);
            }
        }
        (items, totals)
    }

    #[test]
    fn hard_figures_stand_one_to_three_digits_apart_and_boxes_never_overlap() {
        for seed in [3u64, 1901] {
            for index in 1..=LAYOUTS as u32 {
                let page = clean_page(seed, index, Variety::Hard);
                let (items, totals) = figure_gaps(&page);
                let at = format!("hard page {index} of seed {seed}");
                assert!(!items.is_empty() && totals.len() == 3, "{at}: no item table or totals found");
                let gaps: Vec<f32> = items.iter().flatten().copied().collect();
                // a VAT column: quantity, unit price, rate and amount, so three gaps a row
                assert!(items.iter().all(|r| r.len() == 3), "{at}: rows {items:?}");
                // (a hair of float slack: the layout computes the same gap by other sums)
                assert!(gaps.iter().all(|&g| g >= 0.999), "{at}: figures closer than a digit: {gaps:?}");
                assert!(gaps.iter().any(|&g| g <= 3.0), "{at}: no figures within 3 digits: {gaps:?}");
                assert!(totals.iter().all(|&g| g >= 0.999), "{at}: totals {totals:?}");
                assert!(totals.iter().any(|&g| g <= 3.0), "{at}: totals {totals:?}");
                // one box per string, and no two strings' ink boxes meet
                let boxes: Vec<[i32; 4]> = page.inked.iter().map(|t| t.bounds()).collect();
                for (i, a) in boxes.iter().enumerate() {
                    for b in &boxes[i + 1..] {
                        let overlap = a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
                        assert!(!overlap, "{at}: boxes {a:?} and {b:?} overlap");
                    }
                }
            }
        }
    }

    #[test]
    fn hard_pages_are_deterministic_tilted_one_to_three_degrees_and_say_what_standard_pages_say() {
        for index in [1u32, 4] {
            let hard = render_page_with(1901, index, Variety::Hard);
            let again = render_page_with(1901, index, Variety::Hard);
            assert_eq!(hard.jpeg, again.jpeg, "page {index} differs between runs");
            assert_eq!(hard.gt, again.gt);
            let standard = render_page(1901, index);
            assert_ne!(hard.image.as_raw(), standard.image.as_raw());
            // the same invoice: every word of the standard page is on the hard one (which adds
            // VAT cells and may wrap descriptions and headers elsewhere)
            let words = |p: &SynthPage| -> Vec<String> {
                let mut w: Vec<String> =
                    p.gt.boxes.iter().flat_map(|b| b.text.split_whitespace()).map(String::from).collect();
                w.sort();
                w
            };
            let mut hard_words = words(&hard);
            for word in words(&standard) {
                let at = hard_words.iter().position(|w| *w == word);
                assert!(at.is_some(), "page {index}: {word:?} missing on the hard page");
                hard_words.remove(at.unwrap_or_default());
            }

            let (_, gt, params) = scanned_page(1901, index, Variety::Hard);
            assert_eq!(gt, hard.gt);
            let angle = params.angle_deg.abs();
            assert!((1.0..=3.0).contains(&angle), "page {index} tilted by {}°", params.angle_deg);
            // every string is whole on the page, and the boxes hold the tilted ink
            let clean = clean_page(1901, index, Variety::Hard);
            assert_eq!(clean.inked.len(), gt.boxes.len(), "a string was cut off the page");
            let (w, h) = hard.image.dimensions();
            let mut covered = vec![false; (w * h) as usize];
            for b in &gt.boxes {
                assert!(b.x0 > 0.0 && b.y0 > 0.0 && b.x1 < w as f32 && b.y1 < h as f32, "{b:?}");
                let mut darkest: f32 = 255.0;
                for y in b.y0 as u32..b.y1 as u32 {
                    for x in b.x0 as u32..b.x1 as u32 {
                        covered[(y * w + x) as usize] = true;
                        darkest = darkest.min(luma(hard.image.get_pixel(x, y)));
                    }
                }
                assert!(darkest < 130.0, "page {index}: no ink under {:?}", b.text);
            }
            let dark: Vec<bool> = hard
                .image
                .enumerate_pixels()
                .filter(|p| luma(p.2) < 90.0)
                .map(|(x, y, _)| covered[(y * w + x) as usize])
                .collect();
            let inside = dark.iter().filter(|&&c| c).count();
            assert!(
                inside as f32 > 0.9 * dark.len() as f32,
                "page {index}: {inside} of {} dark pixels in boxes",
                dark.len()
            );
        }
        // the drawn tilts spread over 1–3° in both directions
        let angles: Vec<f32> = (0..300).map(|i| hard_look(5, i).angle_deg).collect();
        assert!(angles.iter().all(|a| (1.0..3.0).contains(&a.abs())));
        assert!(angles.iter().any(|a| *a < -2.8) && angles.iter().any(|a| *a > 2.8));
        assert!(angles.iter().any(|a| (-1.2..-1.0).contains(a)) && angles.iter().any(|a| (1.0..1.2).contains(a)));
        let families: std::collections::BTreeSet<_> =
            (0..30).map(|i| format!("{:?}", hard_look(5, i).family)).collect();
        assert_eq!(families.len(), 3, "{families:?}");
    }

    #[test]
    fn stems_and_image_names_agree() {
        assert_eq!(file_stem(1), "invoice_0001");
        assert_eq!(file_stem(12345), "invoice_12345");
    }

    /// `SYNTH_LOOK=/tmp/synth_look cargo test --release --lib synth -- --ignored` writes pages as
    /// PNG, plain and with their ground-truth boxes drawn, for judging them by eye; with
    /// `SYNTH_LOOK_HARD=1`, hard pages.
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
            let variety = if std::env::var_os("SYNTH_LOOK_HARD").is_some() { Variety::Hard } else { Variety::Standard };
            let page = render_page_with(2024, i, variety);
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
