//! Synthetic invoices through the public API: determinism, ground-truth sanity, files on disk.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use facture::domain::default_invoice_schema;
use facture::formats::gt::GroundTruth;
use facture::synth::{SynthPage, file_stem, render_page, write_set};

const SEED: u64 = 2024;
/// Consecutive pages cycle through the five layouts, so five pages show each once.
const PAGES: u32 = 5;

/// Pages 1..=PAGES of SEED, rendered once (two at a time) for all tests in this file.
fn pages() -> &'static [SynthPage] {
    static PAGES_CACHE: OnceLock<Vec<SynthPage>> = OnceLock::new();
    PAGES_CACHE.get_or_init(|| {
        std::thread::scope(|s| {
            let odd = s.spawn(|| (1..=PAGES).step_by(2).map(|i| render_page(SEED, i)).collect::<Vec<_>>());
            let even: Vec<_> = (2..=PAGES).step_by(2).map(|i| render_page(SEED, i)).collect();
            let mut odd = odd.join().unwrap().into_iter();
            let mut even = even.into_iter();
            (1..=PAGES).map(|i| if i % 2 == 1 { odd.next() } else { even.next() }.unwrap()).collect()
        })
    })
}

fn darkness(p: &image::Rgb<u8>) -> f64 {
    255.0 - (0.299 * f64::from(p.0[0]) + 0.587 * f64::from(p.0[1]) + 0.114 * f64::from(p.0[2]))
}

#[test]
fn same_seed_and_index_give_identical_pages_and_other_seeds_differ() {
    let a = &pages()[2];
    let b = render_page(SEED, 3);
    assert_eq!(a.jpeg, b.jpeg);
    assert_eq!(a.image.as_raw(), b.image.as_raw());
    assert_eq!(a.gt, b.gt);
    let c = render_page(SEED + 1, 3);
    assert_ne!(a.image.as_raw(), c.image.as_raw());
    assert_ne!(a.gt.boxes, c.gt.boxes);
    assert_ne!(pages()[0].gt.boxes, pages()[1].gt.boxes);
}

#[test]
fn pages_are_a4_at_150_dpi_and_name_their_jpeg() {
    for (i, page) in pages().iter().enumerate() {
        let index = i as u32 + 1;
        assert_eq!(page.image.dimensions(), (1240, 1754));
        assert_eq!((page.gt.width, page.gt.height), (1240, 1754));
        assert_eq!(page.gt.image, format!("{}.jpg", file_stem(index)));
        assert_eq!(&page.jpeg[..2], &[0xFF, 0xD8], "not a JPEG");
    }
}

#[test]
fn every_box_is_inside_the_image_with_text_and_a_schema_label() {
    let known: BTreeSet<String> = default_invoice_schema().into_iter().map(|l| l.name).collect();
    let mut seen = BTreeSet::new();
    for page in pages() {
        assert!(page.gt.boxes.len() >= 20, "{} has only {} boxes", page.gt.image, page.gt.boxes.len());
        for b in &page.gt.boxes {
            assert!(0.0 <= b.x0 && b.x0 < b.x1 && b.x1 <= page.gt.width as f32, "{b:?}");
            assert!(0.0 <= b.y0 && b.y0 < b.y1 && b.y1 <= page.gt.height as f32, "{b:?}");
            assert!(!b.text.trim().is_empty() && b.text == b.text.trim(), "{b:?}");
            let label = b.label.as_deref().unwrap_or("<none>");
            assert!(known.contains(label), "unknown label {label}");
            seen.insert(label.to_string());
        }
    }
    for wanted in [
        "invoice_number",
        "invoice_date",
        "vendor_name",
        "vendor_address",
        "customer_name",
        "subtotal",
        "tax_rate",
        "tax_amount",
        "total_amount",
        "iban",
        "line_item_description",
        "line_item_amount",
        "other_text",
    ] {
        assert!(seen.contains(wanted), "no {wanted} box in {PAGES} pages");
    }
}

#[test]
fn boxes_sit_on_ink_and_the_background_between_them_is_light() {
    for page in pages() {
        let (w, h) = page.image.dimensions();
        let mut inside = vec![false; (w * h) as usize];
        let (mut box_dark, mut box_n) = (0.0, 0usize);
        for b in &page.gt.boxes {
            for y in b.y0 as u32..b.y1 as u32 {
                for x in b.x0 as u32..b.x1 as u32 {
                    inside[(y * w + x) as usize] = true;
                    box_dark += darkness(page.image.get_pixel(x, y));
                    box_n += 1;
                }
            }
        }
        let (mut bg_dark, mut bg_n) = (0.0, 0usize);
        for (x, y, p) in page.image.enumerate_pixels() {
            if !inside[(y * w + x) as usize] {
                bg_dark += darkness(p);
                bg_n += 1;
            }
        }
        let (box_mean, bg_mean) = (box_dark / box_n as f64, bg_dark / bg_n as f64);
        // Boxes include the paper between strokes, so "much darker" is a ratio, not an absolute.
        let msg = format!("{}: boxes {box_mean:.1} vs background {bg_mean:.1}", page.gt.image);
        assert!(box_mean > 1.8 * bg_mean && box_mean > bg_mean + 25.0, "{msg}");
    }
}

#[test]
fn text_covers_accents_currency_signs_and_several_languages() {
    let all: String = pages().iter().flat_map(|p| p.gt.boxes.iter().map(|b| b.text.as_str())).collect();
    for c in ['é', '€'] {
        assert!(all.contains(c), "no {c} in {PAGES} pages");
    }
    assert!(all.contains(['ü', 'ö', 'ä', 'ß']), "no German umlaut or ß");
    assert!(all.contains(['£', '$']), "no £ or $");
}

#[test]
fn write_set_files_round_trip_and_match_render_page_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("new/sub");
    let json = write_set(&out, 2, SEED).unwrap();
    assert_eq!(json, vec![out.join("invoice_0001.json"), out.join("invoice_0002.json")]);
    for (i, path) in json.iter().enumerate() {
        let page = &pages()[i];
        let gt = GroundTruth::load(path).unwrap();
        assert_eq!(gt, page.gt);
        assert_eq!(std::fs::read_to_string(path).unwrap(), page.gt.to_json_pretty());
        let img_path = gt.image_path(path);
        assert_eq!(std::fs::read(&img_path).unwrap(), page.jpeg, "JPEG differs from render_page");
        let decoded = image::open(&img_path).unwrap().to_rgb8();
        assert_eq!(decoded.dimensions(), (gt.width, gt.height));
        assert_eq!(decoded.as_raw(), page.image.as_raw(), "decoded file differs from SynthPage::image");
    }
}

#[test]
fn write_set_reports_an_unwritable_folder_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let err = write_set(&blocker.join("out"), 1, 1).unwrap_err().to_string();
    assert!(err.contains("file") && err.contains("out"), "{err}");
}
