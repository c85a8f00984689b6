//! PDF pages through PDFium (the library the build provisions from the pinned `pypdfium2`
//! wheel, loaded at run time like ONNX Runtime): each page's size, the page rendered to pixels,
//! and the characters of its text layer with their boxes, in the rendered page's pixels.
//!
//! What PDFium is not asked to do: no form environment is set up, so a document's JavaScript
//! never runs (the provisioned build has no V8 either), and nothing is ever fetched (PDFium
//! has no network code; external references stay unresolved).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use image::DynamicImage;
use pdfium_render::prelude::*;

/// Import renders pages at this resolution unless told otherwise.
pub const DEFAULT_DPI: u32 = 200;
/// Lowest and highest resolution import accepts.
pub const DPI_RANGE: std::ops::RangeInclusive<u32> = 50..=600;
/// A PDF with more pages than this is refused (a stated limit, not a crash or an hour-long
/// import): split it first.
pub const MAX_PAGES: usize = 5_000;
/// The library file the build provisions (packaging/provision/runtime.lock).
pub const LIB_NAME: &str = "libpdfium.so";

/// The first bytes of every PDF.
pub fn is_pdf(bytes: &[u8]) -> bool {
    bytes.len() >= 5 && &bytes[..5] == b"%PDF-"
}

pub fn has_pdf_extension(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PdfError {
    #[error(
        "PDF support needs PDFium, not found (looked for {tried}); run `touch build.rs && cargo build` in the Facture source tree, or set FACTURE_PDFIUM to a libpdfium.so"
    )]
    LibraryMissing { tried: String },
    #[error("cannot load PDFium from {path}: {reason}")]
    LibraryLoad { path: PathBuf, reason: String },
    #[error("not a readable PDF: {0}")]
    Corrupt(String),
    #[error("the PDF is password-protected: give its password (import --password-stdin, or the window asks)")]
    Encrypted,
    #[error("wrong password for this PDF")]
    WrongPassword,
    #[error("the PDF has no pages")]
    NoPages,
    #[error("the PDF has {0} pages; Facture imports at most {MAX_PAGES} pages per file (split it first)")]
    TooManyPages(usize),
    #[error(
        "page {page} is {w_mm:.0} × {h_mm:.0} mm: at {dpi} dpi that is {w_px} × {h_px} px, larger than Facture accepts ({max} px per side); import it at a lower --dpi"
    )]
    PageTooLarge { page: u32, w_mm: f32, h_mm: f32, dpi: u32, w_px: u64, h_px: u64, max: u32 },
    #[error("page {page} has no size")]
    EmptyPage { page: u32 },
    #[error("the PDF has no page {0}")]
    NoSuchPage(u32),
    #[error("cannot render page {page}: {reason}")]
    Render { page: u32, reason: String },
}

/// Where PDFium is looked for: `FACTURE_PDFIUM` (a file), else each of
/// [`crate::provisioned::search_dirs`] (the install's `../lib/facture`, then the build's own).
fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("FACTURE_PDFIUM").filter(|v| !v.is_empty()) {
        out.push(PathBuf::from(p));
        return out; // an explicit choice is never silently replaced by another library
    }
    out.extend(crate::provisioned::search_dirs().into_iter().map(|d| d.join(LIB_NAME)));
    out
}

/// The PDFium library this process would load, without loading it: `Err` lists where it looked.
pub fn find_library() -> Result<PathBuf, String> {
    let tried = candidates();
    tried.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
        tried.join(", ")
    })
}

/// PDFium, bound once per process (a library cannot be bound twice).
fn pdfium() -> Result<&'static Pdfium, PdfError> {
    static PDFIUM: OnceLock<Result<Pdfium, PdfError>> = OnceLock::new();
    PDFIUM
        .get_or_init(|| {
            let tried = candidates();
            let Some(path) = tried.iter().find(|p| p.is_file()) else {
                let tried = tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
                return Err(PdfError::LibraryMissing { tried });
            };
            let bindings = Pdfium::bind_to_library(path)
                .map_err(|e| PdfError::LibraryLoad { path: path.clone(), reason: e.to_string() })?;
            Ok(Pdfium::new(bindings))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Whether PDFium can be loaded on this machine (the CLI and the window say so up front).
pub fn available() -> Result<(), PdfError> {
    pdfium().map(|_| ())
}

fn open(bytes: &[u8]) -> Result<PdfDocument<'_>, PdfError> {
    open_with(bytes, None)
}

fn open_with<'a>(bytes: &'a [u8], password: Option<&str>) -> Result<PdfDocument<'a>, PdfError> {
    if !is_pdf(bytes) {
        return Err(PdfError::Corrupt("no %PDF- header".into()));
    }
    pdfium()?.load_pdf_from_byte_slice(bytes, password).map_err(|e| match e {
        PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::PasswordError)
        | PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::SecurityError) => {
            if password.is_some() {
                PdfError::WrongPassword
            } else {
                PdfError::Encrypted
            }
        }
        other => PdfError::Corrupt(one_line(&other.to_string())),
    })
}

/// A copy of a password-protected PDF without its protection (every page, text layer
/// included), so the workspace can show its pages without ever keeping the password.
pub fn unlocked_copy(bytes: &[u8], password: &str) -> Result<Vec<u8>, PdfError> {
    let locked = open_with(bytes, Some(password))?;
    let mut copy = pdfium()?.create_new_pdf().map_err(|e| PdfError::Corrupt(one_line(&e.to_string())))?;
    copy.pages_mut().append(&locked).map_err(|e| PdfError::Corrupt(one_line(&e.to_string())))?;
    let mut out = copy.save_to_bytes().map_err(|e| PdfError::Corrupt(one_line(&e.to_string())))?;
    settle_copy(&mut out, bytes);
    Ok(out)
}

/// Makes a saved copy the same bytes every time for the same original: PDFium stamps a new
/// document with the time it was made and a random file id. Both are overwritten in place
/// (same length, so the cross-reference offsets stay right): the time with zeros, the id
/// with one derived from the original file. Re-importing the same protected PDF then finds
/// the pages it already has.
fn settle_copy(out: &mut [u8], original: &[u8]) {
    use sha2::{Digest, Sha256};
    let id = hex::encode(Sha256::digest(original));
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
    };
    if let Some(at) = find(out, b"/CreationDate(D:", 0) {
        let start = at + b"/CreationDate(D:".len();
        for b in out[start..].iter_mut().take_while(|b| **b != b')') {
            if b.is_ascii_digit() {
                *b = b'0';
            }
        }
    }
    // /ID[<hex><hex>]: every hex digit inside the array
    let mut from = 0;
    while let Some(at) = find(out, b"/ID", from) {
        from = at + 3;
        let mut i = from;
        while i < out.len() && out[i] == b' ' {
            i += 1;
        }
        if out.get(i) != Some(&b'[') {
            continue;
        }
        let mut k = 0;
        while i < out.len() && out[i] != b']' {
            if out[i].is_ascii_hexdigit() {
                out[i] = id.as_bytes()[k % id.len()];
                k += 1;
            }
            i += 1;
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One page's size in points (1/72 inch), as displayed (rotation applied).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageSize {
    pub width_pt: f32,
    pub height_pt: f32,
}

impl PageSize {
    /// The page's size in pixels at `dpi`, unchecked.
    pub fn pixels(&self, dpi: u32) -> (u64, u64) {
        let px = |pt: f32| (f64::from(pt) * f64::from(dpi) / 72.0).round().max(1.0) as u64;
        (px(self.width_pt), px(self.height_pt))
    }
}

/// Every page's size; refuses what Facture cannot take (no pages, too many).
pub fn page_sizes(bytes: &[u8]) -> Result<Vec<PageSize>, PdfError> {
    let doc = open(bytes)?;
    let n = doc.pages().len().max(0) as usize;
    if n == 0 {
        return Err(PdfError::NoPages);
    }
    if n > MAX_PAGES {
        return Err(PdfError::TooManyPages(n));
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        // loading the page parses its content: a broken page is found now, not in the window
        let page = doc.pages().get(i as PdfPageIndex).map_err(|e| PdfError::Corrupt(one_line(&e.to_string())))?;
        let size = PageSize { width_pt: page.width().value, height_pt: page.height().value };
        if !(size.width_pt.is_finite() && size.height_pt.is_finite() && size.width_pt > 0.0 && size.height_pt > 0.0) {
            return Err(PdfError::EmptyPage { page: i as u32 + 1 });
        }
        out.push(size);
    }
    Ok(out)
}

/// Pixel sizes of every page at `dpi`, each checked against `max_side` and the decoded-bytes
/// budget (`max_bytes`, RGBA).
pub fn pixel_sizes(sizes: &[PageSize], dpi: u32, max_side: u32, max_bytes: u64) -> Result<Vec<(u32, u32)>, PdfError> {
    sizes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (w, h) = s.pixels(dpi);
            if w > u64::from(max_side) || h > u64::from(max_side) || w * h * 4 > max_bytes {
                let mm = |pt: f32| pt / 72.0 * 25.4;
                return Err(PdfError::PageTooLarge {
                    page: i as u32 + 1,
                    w_mm: mm(s.width_pt),
                    h_mm: mm(s.height_pt),
                    dpi,
                    w_px: w,
                    h_px: h,
                    max: max_side,
                });
            }
            Ok((w as u32, h as u32))
        })
        .collect()
}

/// Page `page` (0-based) rendered to exactly `size` pixels, on white, with its annotations
/// (stamps, filled form fields) as a printout shows them.
pub fn render(bytes: &[u8], page: u32, size: (u32, u32)) -> Result<DynamicImage, PdfError> {
    let doc = open(bytes)?;
    let p = doc.pages().get(page as PdfPageIndex).map_err(|_| PdfError::NoSuchPage(page))?;
    let config = PdfRenderConfig::new()
        .set_target_size(size.0 as Pixels, size.1 as Pixels)
        .set_clear_color(PdfColor::WHITE)
        .render_form_data(true)
        .render_annotations(true)
        .use_print_quality(true);
    let bitmap =
        p.render_with_config(&config).map_err(|e| PdfError::Render { page, reason: one_line(&e.to_string()) })?;
    let img = bitmap.as_image().map_err(|e| PdfError::Render { page, reason: one_line(&e.to_string()) })?;
    Ok(DynamicImage::ImageRgb8(img.to_rgb8()))
}

/// One character of a page's text layer, its box in the rendered page's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct TextChar {
    pub ch: char,
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
    /// Font size in pixels (a space has no ink box; this sizes gaps).
    pub size_px: f32,
    /// Where the character's baseline is, across the line (y on an upright page): characters
    /// of one line share it whatever their ink (a comma hangs below it, a quote sits high).
    pub baseline: f32,
    /// Drawn invisibly: the text layer an OCR program lays under a scanned image.
    pub invisible: bool,
    /// Inserted by PDFium (a space or line break between text objects), not in the file.
    pub generated: bool,
}

/// The characters of page `page`'s text layer, in content order, with boxes in the pixels
/// of the page rendered at `size`.
pub fn text_chars(bytes: &[u8], page: u32, size: (u32, u32)) -> Result<Vec<TextChar>, PdfError> {
    let doc = open(bytes)?;
    let p = doc.pages().get(page as PdfPageIndex).map_err(|_| PdfError::NoSuchPage(page))?;
    // displayed size (rotation applied) → pixels; character boxes come in the unrotated
    // page's space (origin bottom-left) and are turned as the page is shown
    let (w_pt, h_pt) = (p.width().value, p.height().value);
    let (sx, sy) = (size.0 as f32 / w_pt, size.1 as f32 / h_pt);
    let rotation = p.rotation().unwrap_or(PdfPageRenderRotation::None);
    let (w0, h0) = match rotation {
        PdfPageRenderRotation::Degrees90 | PdfPageRenderRotation::Degrees270 => (h_pt, w_pt),
        _ => (w_pt, h_pt),
    };
    let shown = |x: f32, y: f32| -> (f32, f32) {
        match rotation {
            PdfPageRenderRotation::None => (x, h0 - y),
            PdfPageRenderRotation::Degrees90 => (y, x),
            PdfPageRenderRotation::Degrees180 => (w0 - x, y),
            PdfPageRenderRotation::Degrees270 => (h0 - y, w0 - x),
        }
    };
    let text = p.text().map_err(|e| PdfError::Render { page, reason: one_line(&e.to_string()) })?;
    let mut out = Vec::new();
    for c in text.chars().iter() {
        let Some(ch) = c.unicode_char() else { continue };
        let Ok(b) = c.tight_bounds().or_else(|_| c.loose_bounds()) else { continue };
        let invisible = matches!(c.render_mode(), Ok(PdfPageTextRenderMode::Invisible));
        let (ax, ay) = shown(b.left().value, b.bottom().value);
        let (bx, by) = shown(b.right().value, b.top().value);
        let size_pt = c.scaled_font_size().value;
        let baseline = match c.origin() {
            Ok((ox, oy)) => shown(ox.value, oy.value).1 * sy,
            Err(_) => ay.max(by) * sy,
        };
        out.push(TextChar {
            baseline,
            ch,
            x0: ax.min(bx) * sx,
            x1: ax.max(bx) * sx,
            y0: ay.min(by) * sy,
            y1: ay.max(by) * sy,
            size_px: size_pt * sy,
            invisible,
            generated: c.is_generated().unwrap_or(false),
        });
    }
    Ok(out)
}

/// Writes PDFs (synthetic invoices, tests): pages of text in the standard Helvetica, and pages
/// that are one scanned image.
pub mod write {
    use super::*;

    /// A line of text: baseline-left corner in points from the page's top-left, font size (the
    /// em) in points, the font as an index into the fonts given to [`pdf`] (none given:
    /// Helvetica, and `font` 1 is Helvetica Bold), and its colour.
    pub struct TextRun<'a> {
        pub x_pt: f32,
        pub baseline_pt: f32,
        pub size_pt: f32,
        pub font: usize,
        pub rgb: [u8; 3],
        pub text: &'a str,
    }

    /// A born-digital page (`runs` of text) or a scanned one (a JPEG filling the page).
    pub enum PageContent<'a> {
        Text { runs: Vec<TextRun<'a>> },
        Scan { jpeg: &'a [u8] },
    }

    pub struct Page<'a> {
        pub width_pt: f32,
        pub height_pt: f32,
        pub content: PageContent<'a>,
    }

    /// Turns the last page of `pdf` by `quarter_turns` × 90° clockwise when shown (`/Rotate`).
    pub fn rotated(pdf: &[u8], quarter_turns: u32) -> Result<Vec<u8>, PdfError> {
        let doc = super::open(pdf)?;
        let n = doc.pages().len();
        let mut page = doc.pages().get(n - 1).map_err(err)?;
        page.set_rotation(match quarter_turns % 4 {
            1 => PdfPageRenderRotation::Degrees90,
            2 => PdfPageRenderRotation::Degrees180,
            3 => PdfPageRenderRotation::Degrees270,
            _ => PdfPageRenderRotation::None,
        });
        drop(page);
        doc.save_to_bytes().map_err(err)
    }

    fn err(e: PdfiumError) -> PdfError {
        PdfError::Corrupt(one_line(&e.to_string()))
    }

    /// The PDF bytes of `pages`. `fonts`: TrueType files embedded for the text runs.
    pub fn pdf(pages: &[Page<'_>], fonts: &[&[u8]]) -> Result<Vec<u8>, PdfError> {
        let pdfium = pdfium()?;
        let mut doc = pdfium.create_new_pdf().map_err(err)?;
        let tokens: Vec<PdfFontToken> = if fonts.is_empty() {
            vec![doc.fonts_mut().helvetica(), doc.fonts_mut().helvetica_bold()]
        } else {
            fonts
                .iter()
                .map(|f| doc.fonts_mut().load_true_type_from_bytes(f, true))
                .collect::<Result<_, _>>()
                .map_err(err)?
        };
        for spec in pages {
            let size = PdfPagePaperSize::Custom(PdfPoints::new(spec.width_pt), PdfPoints::new(spec.height_pt));
            let mut page = doc.pages_mut().create_page_at_end(size).map_err(err)?;
            match &spec.content {
                PageContent::Text { runs } => {
                    for run in runs {
                        let font =
                            *tokens.get(run.font).ok_or_else(|| PdfError::Corrupt(format!("no font {}", run.font)))?;
                        let mut obj = page
                            .objects_mut()
                            .create_text_object(
                                PdfPoints::new(run.x_pt),
                                PdfPoints::new(spec.height_pt - run.baseline_pt),
                                run.text,
                                font,
                                PdfPoints::new(run.size_pt),
                            )
                            .map_err(err)?;
                        let [r, g, b] = run.rgb;
                        obj.set_fill_color(PdfColor::new(r, g, b, 255)).map_err(err)?;
                    }
                }
                PageContent::Scan { jpeg } => {
                    let mut obj =
                        PdfPageImageObject::new_from_jpeg_reader(&doc, std::io::Cursor::new(jpeg)).map_err(err)?;
                    obj.scale(spec.width_pt, spec.height_pt).map_err(err)?;
                    page.objects_mut().add_image_object(obj).map_err(err)?;
                }
            }
        }
        doc.save_to_bytes().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::write::*;
    use super::*;

    /// PDFium is provisioned by the build; CI requires it (FACTURE_REQUIRE_MODELS=1).
    fn lib() -> bool {
        match available() {
            Ok(()) => true,
            Err(e) if std::env::var("FACTURE_REQUIRE_MODELS").is_ok_and(|v| v == "1") => panic!("{e}"),
            Err(e) => {
                eprintln!("skipped: {e}");
                false
            }
        }
    }

    fn a4_with(runs: Vec<TextRun<'_>>) -> Vec<u8> {
        pdf(&[Page { width_pt: 595.0, height_pt: 842.0, content: PageContent::Text { runs } }], &[]).unwrap()
    }

    fn run(x_pt: f32, baseline_pt: f32, size_pt: f32, text: &str) -> TextRun<'_> {
        TextRun { x_pt, baseline_pt, size_pt, font: 0, rgb: [0, 0, 0], text }
    }

    #[test]
    fn a_written_page_reads_back_with_its_size_pixels_and_text_in_place() {
        if !lib() {
            return;
        }
        let bytes = a4_with(vec![run(72.0, 100.0, 12.0, "Total 12,50")]);
        let sizes = page_sizes(&bytes).unwrap();
        assert_eq!(sizes.len(), 1);
        assert!((sizes[0].width_pt - 595.0).abs() < 0.01 && (sizes[0].height_pt - 842.0).abs() < 0.01);
        let px = pixel_sizes(&sizes, 200, 40_000, 2 << 30).unwrap();
        assert_eq!(px, vec![(1653, 2339)]);
        let chars = text_chars(&bytes, 0, px[0]).unwrap();
        let text: String = chars.iter().filter(|c| !c.generated).map(|c| c.ch).collect();
        assert_eq!(text, "Total 12,50");
        // the ink sits on the baseline at 100 pt (= 277.8 px at 200 dpi), from 72 pt (200 px)
        let t = &chars[0];
        assert!((t.x0 - 200.0).abs() < 6.0, "{t:?}");
        assert!(t.y1 <= 278.5 && t.y1 > 260.0, "{t:?}");
        assert!(chars.iter().all(|c| !c.invisible));
        // 12 pt capitals are about 8.6 pt (24 px) tall; letters run left to right
        assert!((18.0..30.0).contains(&(t.y1 - t.y0)), "{t:?}");
        assert!(chars.windows(2).all(|w| w[1].x0 >= w[0].x0), "in reading order");
        // rendered: the page is white with dark ink where the text is
        let img = render(&bytes, 0, px[0]).unwrap().to_luma8();
        assert_eq!(img.dimensions(), px[0]);
        assert_eq!(img.get_pixel(5, 5).0[0], 255);
        let ink = (t.y0 as u32..t.y1 as u32)
            .flat_map(|y| (t.x0 as u32..t.x1 as u32).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0[0] < 128)
            .count();
        assert!(ink > 10, "no ink under the first letter");
    }

    #[test]
    fn a_rotated_pages_text_boxes_sit_on_its_ink_as_shown() {
        if !lib() {
            return;
        }
        let plain = a4_with(vec![run(72.0, 100.0, 14.0, "Rechnung 2024-17")]);
        for turns in 0..4 {
            let bytes = write::rotated(&plain, turns).unwrap();
            let size = pixel_sizes(&page_sizes(&bytes).unwrap(), 100, 40_000, 2 << 30).unwrap()[0];
            if turns % 2 == 1 {
                assert!(size.0 > size.1, "turned {turns}: shown landscape");
            }
            let img = render(&bytes, 0, size).unwrap().to_luma8();
            let chars = text_chars(&bytes, 0, size).unwrap();
            let solid: Vec<&TextChar> = chars.iter().filter(|c| !c.ch.is_whitespace()).collect();
            assert_eq!(solid.iter().map(|c| c.ch).collect::<String>(), "Rechnung2024-17");
            for c in solid {
                let ink = (c.y0.floor() as u32..c.y1.ceil() as u32)
                    .flat_map(|y| (c.x0.floor() as u32..c.x1.ceil() as u32).map(move |x| (x, y)))
                    .filter(|&(x, y)| x < size.0 && y < size.1 && img.get_pixel(x, y).0[0] < 160)
                    .count();
                assert!(ink > 0, "turned {turns}: no ink under {c:?}");
            }
        }
    }

    #[test]
    fn what_cannot_be_read_says_why() {
        if !lib() {
            return;
        }
        assert!(matches!(page_sizes(b"not a pdf at all"), Err(PdfError::Corrupt(_))));
        let bytes = a4_with(vec![run(10.0, 20.0, 9.0, "x")]);
        // cut short: PDFium cannot find the cross-reference table (or rebuilds it and finds
        // nothing); either way no page comes out of nothing
        let cut = &bytes[..bytes.len() / 3];
        assert!(page_sizes(cut).is_err());
        // a page of 5 × 5 metres is refused at 200 dpi, with its size named
        let huge =
            pdf(&[Page { width_pt: 14_173.0, height_pt: 14_173.0, content: PageContent::Text { runs: vec![] } }], &[]);
        let sizes = page_sizes(&huge.unwrap()).unwrap();
        let e = pixel_sizes(&sizes, 200, 40_000, 2 << 30).unwrap_err();
        assert!(matches!(e, PdfError::PageTooLarge { page: 1, .. }), "{e}");
        assert!(e.to_string().contains("5000 × 5000 mm"), "{e}");
        assert!(matches!(render(&bytes, 3, (10, 10)), Err(PdfError::NoSuchPage(3))));
    }
}
