//! Reading page images: content hash, page count and size without decoding, and decoding
//! one page with limits, so a corrupt, cut-short or gigantic file gives a clear error instead of
//! a crash or a silently half-grey page. Pages are upright: an EXIF (or TIFF) orientation is
//! applied when decoding and counted in the sizes probing reports. Only
//! [`decode_page_as_stored`] leaves it out, for the pages earlier versions imported (see
//! [`Document::exif`](crate::domain::Document::exif)).

use std::io::{BufReader, Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

/// The reason given for a file cut short, the commonest corruption (an interrupted download or copy).
pub const TRUNCATED: &str = "truncated: the file ends before the image data does (incomplete download?)";

/// Pages larger than this on either side are refused rather than risking the machine's memory.
pub const MAX_SIDE_PX: u32 = 40_000;
/// Largest decoded page we accept (RGBA bytes); a 600-dpi A3 scan is ~140 MB.
pub const MAX_DECODED_BYTES: u64 = 2 << 30;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: empty file")]
    Empty { path: PathBuf },
    #[error("{path}: not a supported page file (PNG, JPEG, TIFF, BMP, WebP or PDF expected)")]
    Unsupported { path: PathBuf },
    #[error("{path}: unreadable image: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}: image of {width}×{height} px is larger than Facture accepts ({MAX_SIDE_PX} px per side)")]
    TooLarge { path: PathBuf, width: u32, height: u32 },
    #[error("{path}: has no page {page}")]
    NoSuchPage { path: PathBuf, page: u32 },
    #[error("{path}: {source}")]
    Pdf { path: PathBuf, source: crate::pdf::PdfError },
}

impl ImageError {
    pub fn path(&self) -> &Path {
        match self {
            ImageError::Io { path, .. }
            | ImageError::Empty { path }
            | ImageError::Unsupported { path }
            | ImageError::Corrupt { path, .. }
            | ImageError::TooLarge { path, .. }
            | ImageError::NoSuchPage { path, .. }
            | ImageError::Pdf { path, .. } => path,
        }
    }
}

/// What import needs to know about a file: its hash and the size of each page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub sha256: String,
    /// The image format; `None` for a PDF.
    pub format: Option<ImageFormat>,
    /// (width, height) per page in pixels (a PDF's at the resolution asked for); one entry
    /// except for multi-page TIFF and PDF.
    pub pages: Vec<(u32, u32)>,
}

/// Extensions import looks at when walking folders.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "tif", "tiff", "bmp", "webp"];

/// What import takes from a folder: images and PDFs.
pub fn has_page_extension(path: &Path) -> bool {
    has_image_extension(path) || crate::pdf::has_pdf_extension(path)
}

pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// sha256 of a file, streamed (for re-linking large files without holding them in memory).
pub fn sha256_file(path: &Path) -> Result<String, ImageError> {
    let io = |source| ImageError::Io { path: path.into(), source };
    let mut r = BufReader::new(std::fs::File::open(path).map_err(io)?);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = r.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

fn read(path: &Path) -> Result<Vec<u8>, ImageError> {
    let bytes = std::fs::read(path).map_err(|source| ImageError::Io { path: path.into(), source })?;
    if bytes.is_empty() {
        return Err(ImageError::Empty { path: path.into() });
    }
    Ok(bytes)
}

fn format_of(path: &Path, bytes: &[u8]) -> Result<ImageFormat, ImageError> {
    let unsupported = || ImageError::Unsupported { path: path.into() };
    let format = image::guess_format(bytes).map_err(|_| unsupported())?;
    match format {
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Tiff | ImageFormat::Bmp | ImageFormat::WebP => Ok(format),
        _ => Err(unsupported()),
    }
}

fn check_size(path: &Path, width: u32, height: u32) -> Result<(), ImageError> {
    if width == 0 || height == 0 {
        return Err(ImageError::Corrupt { path: path.into(), reason: "zero width or height".into() });
    }
    if width > MAX_SIDE_PX || height > MAX_SIDE_PX || u64::from(width) * u64::from(height) * 4 > MAX_DECODED_BYTES {
        return Err(ImageError::TooLarge { path: path.into(), width, height });
    }
    Ok(())
}

/// Decoders do not all fail on a file cut short: the JPEG decoder fills the missing part of the
/// picture silently, the lossy WebP decoder does not need the last bytes, the PNG decoder does not
/// need the end chunk. These checks of the file's own structure (no decoding) catch that.
fn check_complete(path: &Path, format: ImageFormat, bytes: &[u8]) -> Result<(), ImageError> {
    let checked = match format {
        ImageFormat::Jpeg => check_jpeg_structure(bytes),
        ImageFormat::Png => check_png_structure(bytes),
        ImageFormat::WebP => check_riff_size(bytes),
        ImageFormat::Bmp => check_bmp_rle_size(bytes),
        // TIFF: per page, with the decoder (`check_tiff_chunks`).
        _ => Ok(()),
    };
    checked.map_err(|reason| ImageError::Corrupt { path: path.into(), reason: reason.into() })
}

/// Walks a JPEG's markers: the segments up to each SOS (start of scan), then that scan's
/// entropy-coded data up to the next marker that is neither RSTn nor a stuffed 0xFF00, and so on
/// for every further scan (progressive files have several), until EOI. A file that runs out
/// before EOI is truncated; bytes after EOI are allowed (many writers leave some).
fn check_jpeg_structure(bytes: &[u8]) -> Result<(), &'static str> {
    let mut pos = 2; // after SOI, which `guess_format` has seen
    loop {
        let (ff, code) = next_marker(bytes, pos)?;
        pos = ff + 2;
        match code {
            0xD9 => return Ok(()),
            // Markers without a length: TEM, RSTn, SOI; a stray 0xFF00 between segments is skipped
            // as decoders skip it.
            0x00 | 0x01 | 0xD0..=0xD8 => continue,
            _ => {
                let len = bytes.get(pos..pos + 2).ok_or(TRUNCATED)?;
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                if len < 2 {
                    return Err("corrupt JPEG: a segment length is less than 2 bytes");
                }
                pos += len;
                if pos > bytes.len() {
                    return Err(TRUNCATED);
                }
                if code == 0xDA {
                    pos = entropy_coded_end(bytes, pos)?;
                }
            }
        }
    }
}

/// The next marker at or after `pos`: (index of its first 0xFF byte after fill bytes, code).
/// Stray bytes before it are skipped, as decoders skip them.
fn next_marker(bytes: &[u8], pos: usize) -> Result<(usize, u8), &'static str> {
    let rest = bytes.get(pos..).ok_or(TRUNCATED)?;
    let mut ff = pos + rest.iter().position(|&b| b == 0xFF).ok_or(TRUNCATED)?;
    // 0xFF fill bytes may precede any marker.
    while bytes.get(ff + 1) == Some(&0xFF) {
        ff += 1;
    }
    let code = *bytes.get(ff + 1).ok_or(TRUNCATED)?;
    Ok((ff, code))
}

/// Where a scan's entropy-coded data starting at `pos` ends: at the first marker that is not RSTn
/// (restart markers sit inside the data) and not 0xFF00 (a stuffed 0xFF data byte).
fn entropy_coded_end(bytes: &[u8], mut pos: usize) -> Result<usize, &'static str> {
    loop {
        let (ff, code) = next_marker(bytes, pos)?;
        match code {
            0x00 | 0xD0..=0xD7 => pos = ff + 2,
            _ => return Ok(ff),
        }
    }
}

/// Walks a PNG's chunks up to IEND: the decoder stops at the last image data it needs, so a file
/// that ends inside or before the IEND chunk would otherwise pass.
fn check_png_structure(bytes: &[u8]) -> Result<(), &'static str> {
    let mut pos = 8; // after the signature, which `guess_format` has seen
    loop {
        let head = bytes.get(pos..pos + 8).ok_or(TRUNCATED)?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        // length, type, data, CRC
        let end = pos.checked_add(len).and_then(|e| e.checked_add(12)).ok_or(TRUNCATED)?;
        if end > bytes.len() {
            return Err(TRUNCATED);
        }
        if &head[4..8] == b"IEND" {
            return Ok(());
        }
        pos = end;
    }
}

/// A WebP file is a RIFF container whose header says how long it is: the lossy decoder does not
/// need the last bytes of its data, so a file shorter than that would otherwise pass.
fn check_riff_size(bytes: &[u8]) -> Result<(), &'static str> {
    let size = bytes.get(4..8).ok_or(TRUNCATED)?;
    let size = u64::from(u32::from_le_bytes([size[0], size[1], size[2], size[3]]));
    if 8 + size > bytes.len() as u64 {
        return Err(TRUNCATED);
    }
    Ok(())
}

/// The BMP decoder fails on a file cut inside uncompressed pixel rows, but stops decoding RLE data
/// once every row is filled, so a file that ends inside the final end-of-bitmap code would pass:
/// RLE data must be as long as the header says (uncompressed files often state no or a wrong size).
fn check_bmp_rle_size(bytes: &[u8]) -> Result<(), &'static str> {
    let u32_at = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let (Some(data_offset), Some(header_len)) = (u32_at(10), u32_at(14)) else {
        return Err(TRUNCATED);
    };
    // Only the Windows headers (40 bytes or more) have a compression field.
    if header_len < 40 {
        return Ok(());
    }
    let (Some(compression), Some(data_len)) = (u32_at(30), u32_at(34)) else {
        return Err(TRUNCATED);
    };
    const BI_RLE8: u32 = 1;
    const BI_RLE4: u32 = 2;
    if matches!(compression, BI_RLE8 | BI_RLE4) && u64::from(data_offset) + u64::from(data_len) > bytes.len() as u64 {
        return Err(TRUNCATED);
    }
    Ok(())
}

/// The tiff decoder reads only the part of an edge tile that lies inside the picture, so a file
/// that ends inside the padding of its last tile would otherwise pass: every strip and tile the
/// current page lists must lie inside the file.
fn check_tiff_chunks<R: Read + Seek>(dec: &mut tiff::decoder::Decoder<R>, file_len: u64) -> Result<(), String> {
    use tiff::tags::Tag;
    for (offsets, counts) in [(Tag::StripOffsets, Tag::StripByteCounts), (Tag::TileOffsets, Tag::TileByteCounts)] {
        let offsets = dec.find_tag_unsigned_vec::<u64>(offsets).map_err(|e| reason(&e))?.unwrap_or_default();
        let counts = dec.find_tag_unsigned_vec::<u64>(counts).map_err(|e| reason(&e))?.unwrap_or_default();
        for (offset, count) in offsets.into_iter().zip(counts) {
            if offset.checked_add(count).is_none_or(|end| end > file_len) {
                return Err(TRUNCATED.into());
            }
        }
    }
    Ok(())
}

/// A decoder's error as a one-line reason. A plain read past the end of the bytes says
/// "truncated"; an end-of-data error with its own message (the tiff crate's "no lzw end code
/// found", for a compressed strip that ends early inside the file) keeps that message.
fn reason(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = Some(e);
    while let Some(c) = cause {
        // `image::ImageError::IoError` does not give its io::Error as `source()`.
        let io = match c.downcast_ref::<image::ImageError>() {
            Some(image::ImageError::IoError(io)) => Some(io),
            _ => c.downcast_ref::<std::io::Error>(),
        };
        if io.is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof && io.get_ref().is_none()) {
            return TRUNCATED.into();
        }
        cause = c.source();
    }
    e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Hash, format and page sizes, reading headers only (no pixel decoding).
pub fn probe(path: &Path) -> Result<Probe, ImageError> {
    let bytes = read(path)?;
    probe_bytes(path, &bytes)
}

pub fn probe_bytes(path: &Path, bytes: &[u8]) -> Result<Probe, ImageError> {
    probe_bytes_at(path, bytes, crate::pdf::DEFAULT_DPI)
}

/// [`probe_bytes`], a PDF's pages measured in pixels at `dpi`.
pub fn probe_bytes_at(path: &Path, bytes: &[u8], dpi: u32) -> Result<Probe, ImageError> {
    if crate::pdf::is_pdf(bytes) {
        let pdf = |source| ImageError::Pdf { path: path.into(), source };
        let sizes = crate::pdf::page_sizes(bytes).map_err(pdf)?;
        let pages = crate::pdf::pixel_sizes(&sizes, dpi, MAX_SIDE_PX, MAX_DECODED_BYTES).map_err(pdf)?;
        return Ok(Probe { sha256: sha256_hex(bytes), format: None, pages });
    }
    let format = format_of(path, bytes)?;
    check_complete(path, format, bytes)?;
    let corrupt = |reason: String| ImageError::Corrupt { path: path.into(), reason };
    let pages = if format == ImageFormat::Tiff {
        let file_len = bytes.len() as u64;
        let mut dec = tiff::decoder::Decoder::new(Cursor::new(bytes)).map_err(|e| corrupt(reason(&e)))?;
        check_tiff_chunks(&mut dec, file_len).map_err(corrupt)?;
        let mut pages =
            vec![upright_size(dec.dimensions().map_err(|e| corrupt(reason(&e)))?, tiff_orientation(&mut dec))];
        while dec.more_images() {
            dec.next_image().map_err(|e| corrupt(reason(&e)))?;
            check_tiff_chunks(&mut dec, file_len).map_err(corrupt)?;
            let size = dec.dimensions().map_err(|e| corrupt(reason(&e)))?;
            pages.push(upright_size(size, tiff_orientation(&mut dec)));
        }
        pages
    } else {
        let (size, orientation) = header(bytes, format).map_err(|e| corrupt(reason(&e)))?;
        vec![upright_size(size, orientation)]
    };
    for &(w, h) in &pages {
        check_size(path, w, h)?;
    }
    Ok(Probe { sha256: sha256_hex(bytes), format: Some(format), pages })
}

/// Decodes one page of a file.
pub fn decode_page(path: &Path, page: u32) -> Result<DynamicImage, ImageError> {
    let bytes = read(path)?;
    decode_page_bytes(path, &bytes, page)
}

pub fn decode_page_bytes(path: &Path, bytes: &[u8], page: u32) -> Result<DynamicImage, ImageError> {
    decode_page_sized(path, bytes, page, None)
}

/// One page of a file, upright. A PDF page is rendered to `size` pixels (the size its document
/// recorded at import), else at the default resolution.
pub fn decode_page_sized(
    path: &Path,
    bytes: &[u8],
    page: u32,
    size: Option<(u32, u32)>,
) -> Result<DynamicImage, ImageError> {
    decode_page_oriented(path, bytes, page, size, true)
}

/// [`decode_page_sized`] without applying the file's EXIF (or TIFF) orientation: the pixels as
/// stored, as versions before schema 8 decoded every page (and measured and boxed it).
pub fn decode_page_as_stored(
    path: &Path,
    bytes: &[u8],
    page: u32,
    size: Option<(u32, u32)>,
) -> Result<DynamicImage, ImageError> {
    decode_page_oriented(path, bytes, page, size, false)
}

/// One page of a file, its orientation applied when `orient` says so.
fn decode_page_oriented(
    path: &Path,
    bytes: &[u8],
    page: u32,
    size: Option<(u32, u32)>,
    orient: bool,
) -> Result<DynamicImage, ImageError> {
    if crate::pdf::is_pdf(bytes) {
        let pdf = |source| ImageError::Pdf { path: path.into(), source };
        let size = match size {
            Some(s) => s,
            None => {
                let sizes = crate::pdf::page_sizes(bytes).map_err(pdf)?;
                let all = crate::pdf::pixel_sizes(&sizes, crate::pdf::DEFAULT_DPI, MAX_SIDE_PX, MAX_DECODED_BYTES)
                    .map_err(pdf)?;
                *all.get(page as usize).ok_or(ImageError::NoSuchPage { path: path.into(), page })?
            }
        };
        check_size(path, size.0, size.1)?;
        return crate::pdf::render(bytes, page, size).map_err(pdf);
    }
    let format = format_of(path, bytes)?;
    check_complete(path, format, bytes)?;
    let corrupt = |reason: String| ImageError::Corrupt { path: path.into(), reason };
    if format == ImageFormat::Tiff {
        return decode_tiff_page(path, bytes, page, orient);
    }
    if page != 0 {
        return Err(ImageError::NoSuchPage { path: path.into(), page });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PX);
    limits.max_image_height = Some(MAX_SIDE_PX);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let ((w, h), orientation) = header(bytes, format).map_err(|e| corrupt(reason(&e)))?;
    check_size(path, w, h)?;
    let mut img = reader.decode().map_err(|e| corrupt(reason(&e)))?;
    if orient {
        img.apply_orientation(orientation);
    }
    Ok(img)
}

/// A single-image file's stored size and EXIF orientation, from its headers. An orientation
/// that cannot be read counts as none: a damaged EXIF block does not cost the page.
fn header(bytes: &[u8], format: ImageFormat) -> image::ImageResult<((u32, u32), Orientation)> {
    let mut dec = ImageReader::with_format(Cursor::new(bytes), format).into_decoder()?;
    let size = dec.dimensions();
    Ok((size, dec.orientation().unwrap_or(Orientation::NoTransforms)))
}

/// The size of a `w`×`h` stored image once `orientation` is applied.
fn upright_size((w, h): (u32, u32), orientation: Orientation) -> (u32, u32) {
    match orientation {
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH => {
            (h, w)
        }
        _ => (w, h),
    }
}

/// The orientation a TIFF page's own tag asks for (the same tag EXIF uses).
fn tiff_orientation<R: Read + Seek>(dec: &mut tiff::decoder::Decoder<R>) -> Orientation {
    dec.find_tag_unsigned::<u8>(tiff::tags::Tag::Orientation)
        .ok()
        .flatten()
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::NoTransforms)
}

/// Whether a file's pixels are upright as stored: false for an image whose EXIF (or TIFF)
/// orientation asks for a turn or a flip, which every decode here but
/// [`decode_page_as_stored`] applies. A copy of such a file shows its boxes misplaced in a
/// program that does not treat the tag as the page's document does. PDFs and files that cannot
/// be read count as upright (decoding them says what is wrong).
pub fn stored_upright(bytes: &[u8]) -> bool {
    if crate::pdf::is_pdf(bytes) {
        return true;
    }
    match image::guess_format(bytes) {
        Ok(ImageFormat::Tiff) => tiff::decoder::Decoder::new(Cursor::new(bytes))
            .map_or(true, |mut dec| tiff_orientation(&mut dec) == Orientation::NoTransforms),
        Ok(format) => header(bytes, format).map_or(true, |(_, o)| o == Orientation::NoTransforms),
        Err(_) => true,
    }
}

/// `img` turned `quarters` quarter turns clockwise: a document's page as its
/// [`rotation`](crate::domain::Document::rotation) shows it.
pub fn turn(img: DynamicImage, quarters: u8) -> DynamicImage {
    match quarters % 4 {
        0 => img,
        1 => img.rotate90(),
        2 => img.rotate180(),
        _ => img.rotate270(),
    }
}

fn decode_tiff_page(path: &Path, bytes: &[u8], page: u32, orient: bool) -> Result<DynamicImage, ImageError> {
    let corrupt = |reason: String| ImageError::Corrupt { path: path.into(), reason };
    let mut dec = tiff::decoder::Decoder::new(Cursor::new(bytes)).map_err(|e| corrupt(reason(&e)))?;
    dec.seek_to_image(page as usize).map_err(|_| ImageError::NoSuchPage { path: path.into(), page })?;
    let orientation = if orient { tiff_orientation(&mut dec) } else { Orientation::NoTransforms };
    let mut img = read_tiff_image(path, &mut dec, bytes.len() as u64)?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// Decodes each of `pages` of a file (to check them), in one pass over a multi-page TIFF:
/// seeking a fresh decoder to page n walks the n pages before it, so checking a 1,500-page
/// scan page by page would walk about a million page headers.
pub fn check_pages(path: &Path, bytes: &[u8], pages: &[u32]) -> Result<(), ImageError> {
    let Some(&last) = pages.iter().max() else {
        return Ok(());
    };
    if crate::pdf::is_pdf(bytes) {
        // probing loaded (parsed) every page; rendering each of a 300-page PDF here would
        // take minutes, and a page that still fails to render says so when it is shown
        return Ok(());
    }
    if format_of(path, bytes)? != ImageFormat::Tiff {
        for &page in pages {
            decode_page_bytes(path, bytes, page)?;
        }
        return Ok(());
    }
    check_complete(path, ImageFormat::Tiff, bytes)?;
    let corrupt = |reason: String| ImageError::Corrupt { path: path.into(), reason };
    let mut dec = tiff::decoder::Decoder::new(Cursor::new(bytes)).map_err(|e| corrupt(reason(&e)))?;
    let wanted: std::collections::HashSet<u32> = pages.iter().copied().collect();
    for page in 0..=last {
        if page > 0 {
            if !dec.more_images() {
                return Err(ImageError::NoSuchPage { path: path.into(), page });
            }
            dec.next_image().map_err(|e| corrupt(reason(&e)))?;
        }
        if wanted.contains(&page) {
            read_tiff_image(path, &mut dec, bytes.len() as u64)?;
        }
    }
    Ok(())
}

/// The decoder's current page as an image.
fn read_tiff_image<R: Read + Seek>(
    path: &Path,
    dec: &mut tiff::decoder::Decoder<R>,
    file_len: u64,
) -> Result<DynamicImage, ImageError> {
    use tiff::ColorType as C;
    use tiff::decoder::DecodingResult as D;
    let corrupt = |reason: String| ImageError::Corrupt { path: path.into(), reason };
    let (w, h) = dec.dimensions().map_err(|e| corrupt(reason(&e)))?;
    check_size(path, w, h)?;
    check_tiff_chunks(dec, file_len).map_err(corrupt)?;
    let color = dec.colortype().map_err(|e| corrupt(reason(&e)))?;
    let data = dec.read_image().map_err(|e| corrupt(reason(&e)))?;
    let bad = || corrupt(format!("pixel data does not match {w}×{h} {color:?}"));
    let img = match (color, data) {
        (C::Gray(8), D::U8(v)) => DynamicImage::ImageLuma8(image::GrayImage::from_raw(w, h, v).ok_or_else(bad)?),
        (C::GrayA(8), D::U8(v)) => DynamicImage::ImageLumaA8(image::GrayAlphaImage::from_raw(w, h, v).ok_or_else(bad)?),
        (C::RGB(8), D::U8(v)) => DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, v).ok_or_else(bad)?),
        (C::RGBA(8), D::U8(v)) => DynamicImage::ImageRgba8(image::RgbaImage::from_raw(w, h, v).ok_or_else(bad)?),
        (C::Gray(16), D::U16(v)) => DynamicImage::ImageLuma16(image::ImageBuffer::from_raw(w, h, v).ok_or_else(bad)?),
        (C::RGB(16), D::U16(v)) => DynamicImage::ImageRgb16(image::ImageBuffer::from_raw(w, h, v).ok_or_else(bad)?),
        (C::RGBA(16), D::U16(v)) => DynamicImage::ImageRgba16(image::ImageBuffer::from_raw(w, h, v).ok_or_else(bad)?),
        (C::Gray(1), D::U8(v)) => DynamicImage::ImageLuma8(unpack_bilevel(w, h, &v).ok_or_else(bad)?),
        (other, _) => {
            return Err(corrupt(format!("TIFF colour type {other:?} is not supported")));
        }
    };
    Ok(img)
}

/// 1-bit rows are padded to whole bytes; a set bit is white (BlackIsZero, as decoded).
fn unpack_bilevel(w: u32, h: u32, packed: &[u8]) -> Option<image::GrayImage> {
    let row_bytes = w.div_ceil(8) as usize;
    if packed.len() < row_bytes * h as usize {
        return None;
    }
    Some(image::GrayImage::from_fn(w, h, |x, y| {
        let byte = packed[y as usize * row_bytes + (x / 8) as usize];
        let bit = (byte >> (7 - (x % 8))) & 1;
        image::Luma([if bit == 1 { 255 } else { 0 }])
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 128]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn probe_reads_size_and_hash_of_png() {
        let bytes = png_bytes(30, 20);
        let p = probe_bytes(Path::new("a.png"), &bytes).unwrap();
        assert_eq!(p.pages, vec![(30, 20)]);
        assert_eq!(p.format, Some(ImageFormat::Png));
        assert_eq!(p.sha256, sha256_hex(&bytes));
        assert_eq!(p.sha256.len(), 64);
    }

    #[test]
    fn text_and_truncated_files_are_refused_with_reason() {
        let e = probe_bytes(Path::new("notes.txt"), b"hello, I am not an image").unwrap_err();
        assert!(matches!(e, ImageError::Unsupported { .. }), "{e}");
        let mut bytes = png_bytes(64, 64);
        bytes.truncate(bytes.len() / 2);
        let e = decode_page_bytes(Path::new("half.png"), &bytes, 0).unwrap_err();
        assert!(matches!(e, ImageError::Corrupt { .. }), "{e}");
        assert!(e.to_string().starts_with("half.png: unreadable image"));
    }

    #[test]
    fn gigantic_dimensions_are_refused_before_decoding() {
        // A valid PNG header claiming 50000×50000 px, with no pixel data behind it.
        let mut bytes = png_bytes(1, 1);
        bytes[16..20].copy_from_slice(&50_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&50_000u32.to_be_bytes());
        let e = probe_bytes(Path::new("huge.png"), &bytes).unwrap_err();
        assert!(
            matches!(e, ImageError::TooLarge { width: 50_000, .. }) || matches!(e, ImageError::Corrupt { .. }),
            "{e}"
        );
        assert!(decode_page_bytes(Path::new("huge.png"), &bytes, 0).is_err());
    }

    /// SOI, a table segment, SOF2, then two scans (the second with a restart marker and a
    /// stuffed 0xFF in its data, the first with 0xFF fill bytes before the next marker), EOI.
    fn two_scan_jpeg() -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        b.extend([0xFF, 0xDB, 0x00, 0x04, 0xAA, 0xBB]);
        b.extend([0xFF, 0xC2, 0x00, 0x0B, 8, 0x00, 0x10, 0x00, 0x10, 1, 1, 0x11, 0]);
        b.extend([0xFF, 0xDA, 0x00, 0x08, 1, 1, 0x00, 0, 0, 0]);
        b.extend([0x12, 0x34, 0x56, 0xFF, 0xFF]);
        b.extend([0xFF, 0xC4, 0x00, 0x03, 0x10]);
        b.extend([0xFF, 0xDA, 0x00, 0x08, 1, 1, 0x00, 1, 5, 0]);
        b.extend([0x9A, 0xFF, 0x00, 0xBC, 0xFF, 0xD0, 0xDE, 0xFF, 0xD1, 0xF0]);
        b.extend([0xFF, 0xD9]);
        b
    }

    #[test]
    fn jpeg_walk_accepts_complete_files_with_several_scans_restarts_and_stuffing() {
        assert_eq!(check_jpeg_structure(&two_scan_jpeg()), Ok(()));
        // A baseline file from the image crate's encoder, at several qualities.
        for q in [5, 50, 100] {
            let img =
                image::RgbImage::from_fn(33, 17, |x, y| image::Rgb([(x * 7) as u8, (y * 13) as u8, (x ^ y) as u8]));
            let mut bytes = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, q).encode_image(&img).unwrap();
            assert_eq!(check_jpeg_structure(&bytes), Ok(()), "quality {q}");
        }
    }

    #[test]
    fn jpeg_walk_refuses_every_cut_before_eoi() {
        let bytes = two_scan_jpeg();
        for n in 2..bytes.len() {
            assert_eq!(check_jpeg_structure(&bytes[..n]), Err(TRUNCATED), "cut at {n} of {}", bytes.len());
        }
    }

    #[test]
    fn jpeg_walk_accepts_bytes_after_eoi() {
        let mut bytes = two_scan_jpeg();
        bytes.extend([0x00, 0xFF, 0xFF, 0xDA, 0x00]);
        bytes.extend(b"trailing garbage from a camera or a careless tool");
        assert_eq!(check_jpeg_structure(&bytes), Ok(()));
    }

    #[test]
    fn jpeg_walk_does_not_end_a_scan_at_an_eoi_lookalike_inside_a_segment() {
        // An APP1 segment whose payload contains FFD9 (an embedded thumbnail does) is skipped
        // by its length, so the cut after it is still refused.
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x06, 0xFF, 0xD8, 0xFF, 0xD9];
        let rest = two_scan_jpeg();
        bytes.extend_from_slice(&rest[2..]);
        assert_eq!(check_jpeg_structure(&bytes), Ok(()));
        assert_eq!(check_jpeg_structure(&bytes[..12]), Err(TRUNCATED));
    }

    #[test]
    fn jpeg_walk_refuses_a_segment_length_below_two() {
        let bytes = [0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x01, 0xFF, 0xD9];
        assert!(matches!(check_jpeg_structure(&bytes), Err(r) if r.contains("segment length")));
    }

    #[test]
    fn half_downloaded_jpeg_is_refused_as_truncated() {
        let img = image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, 99]));
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90).encode_image(&img).unwrap();
        assert!(decode_page_bytes(Path::new("whole.jpg"), &bytes, 0).is_ok());
        bytes.truncate(bytes.len() * 2 / 3);
        let e = decode_page_bytes(Path::new("half.jpg"), &bytes, 0).unwrap_err();
        assert_eq!(e.to_string(), format!("half.jpg: unreadable image: {TRUNCATED}"));
    }

    #[test]
    fn png_and_webp_cut_inside_their_last_bytes_are_refused() {
        let png = png_bytes(20, 10);
        for n in [png.len() - 1, png.len() - 12] {
            let e = decode_page_bytes(Path::new("a.png"), &png[..n], 0).unwrap_err();
            assert!(e.to_string().ends_with(TRUNCATED), "{e}");
        }
        let mut webp = Cursor::new(Vec::new());
        image::RgbImage::from_pixel(9, 5, image::Rgb([1, 2, 3])).write_to(&mut webp, ImageFormat::WebP).unwrap();
        let webp = webp.into_inner();
        let e = decode_page_bytes(Path::new("a.webp"), &webp[..webp.len() - 1], 0).unwrap_err();
        assert!(e.to_string().ends_with(TRUNCATED), "{e}");
    }

    #[test]
    fn multipage_tiff_has_one_entry_per_page_and_each_page_decodes() {
        use tiff::encoder::{TiffEncoder, colortype};
        let mut buf = Cursor::new(Vec::new());
        {
            let mut enc = TiffEncoder::new(&mut buf).unwrap();
            enc.write_image::<colortype::Gray8>(40, 10, &vec![10u8; 400]).unwrap();
            enc.write_image::<colortype::RGB8>(20, 30, &vec![200u8; 20 * 30 * 3]).unwrap();
        }
        let bytes = buf.into_inner();
        let p = probe_bytes(Path::new("two.tif"), &bytes).unwrap();
        assert_eq!(p.pages, vec![(40, 10), (20, 30)]);
        let second = decode_page_bytes(Path::new("two.tif"), &bytes, 1).unwrap();
        assert_eq!((second.width(), second.height()), (20, 30));
        assert_eq!(second.to_rgb8().get_pixel(3, 3).0, [200, 200, 200]);
        assert!(matches!(decode_page_bytes(Path::new("two.tif"), &bytes, 2), Err(ImageError::NoSuchPage { .. })));
    }

    #[test]
    fn checking_pages_in_one_pass_finds_what_page_by_page_decoding_finds() {
        use tiff::encoder::{TiffEncoder, colortype};
        let mut buf = Cursor::new(Vec::new());
        {
            let mut enc = TiffEncoder::new(&mut buf).unwrap();
            for i in 0..4u8 {
                enc.write_image::<colortype::Gray8>(16, 8, &[i; 128]).unwrap();
            }
        }
        let bytes = buf.into_inner();
        let path = Path::new("four.tif");
        check_pages(path, &bytes, &[0, 1, 2, 3]).unwrap();
        check_pages(path, &bytes, &[3, 1]).unwrap();
        check_pages(path, &bytes, &[]).unwrap();
        assert!(matches!(check_pages(path, &bytes, &[4]), Err(ImageError::NoSuchPage { page: 4, .. })));
        // the last page's pixels cut off: both ways say so
        let cut = &bytes[..bytes.len() - 200];
        let one_pass = check_pages(path, cut, &[0, 1, 2, 3]);
        let by_page = (0..4).try_for_each(|p| decode_page_bytes(path, cut, p).map(|_| ()));
        assert!(one_pass.is_err() && by_page.is_err(), "{one_pass:?} {by_page:?}");
        // other formats: page 0 only
        let png = png_bytes(8, 8);
        check_pages(Path::new("a.png"), &png, &[0]).unwrap();
        assert!(check_pages(Path::new("a.png"), &png, &[1]).is_err());
    }
}
