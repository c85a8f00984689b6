//! Reading page images: content hash, page count and size without decoding, and decoding
//! one page with limits, so a corrupt or gigantic file gives a clear error instead of a crash.

use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

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
    #[error("{path}: not a supported image (PNG, JPEG, TIFF, BMP or WebP expected)")]
    Unsupported { path: PathBuf },
    #[error("{path}: unreadable image: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}: image of {width}×{height} px is larger than Facture accepts ({MAX_SIDE_PX} px per side)")]
    TooLarge { path: PathBuf, width: u32, height: u32 },
    #[error("{path}: has no page {page}")]
    NoSuchPage { path: PathBuf, page: u32 },
}

impl ImageError {
    pub fn path(&self) -> &Path {
        match self {
            ImageError::Io { path, .. }
            | ImageError::Empty { path }
            | ImageError::Unsupported { path }
            | ImageError::Corrupt { path, .. }
            | ImageError::TooLarge { path, .. }
            | ImageError::NoSuchPage { path, .. } => path,
        }
    }
}

/// What import needs to know about a file: its hash and the size of each page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub sha256: String,
    pub format: ImageFormat,
    /// (width, height) per page; one entry except for multi-page TIFF.
    pub pages: Vec<(u32, u32)>,
}

/// Extensions import looks at when walking folders.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "tif", "tiff", "bmp", "webp"];

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

/// Hash, format and page sizes, reading headers only (no pixel decoding).
pub fn probe(path: &Path) -> Result<Probe, ImageError> {
    let bytes = read(path)?;
    probe_bytes(path, &bytes)
}

pub fn probe_bytes(path: &Path, bytes: &[u8]) -> Result<Probe, ImageError> {
    let format = format_of(path, bytes)?;
    let corrupt = |reason: String| ImageError::Corrupt { path: path.into(), reason };
    let pages = if format == ImageFormat::Tiff {
        let mut dec = tiff::decoder::Decoder::new(Cursor::new(bytes)).map_err(|e| corrupt(e.to_string()))?;
        let mut pages = vec![dec.dimensions().map_err(|e| corrupt(e.to_string()))?];
        while dec.more_images() {
            dec.next_image().map_err(|e| corrupt(e.to_string()))?;
            pages.push(dec.dimensions().map_err(|e| corrupt(e.to_string()))?);
        }
        pages
    } else {
        let reader = ImageReader::with_format(Cursor::new(bytes), format);
        vec![reader.into_dimensions().map_err(|e| corrupt(e.to_string()))?]
    };
    for &(w, h) in &pages {
        check_size(path, w, h)?;
    }
    Ok(Probe { sha256: sha256_hex(bytes), format, pages })
}

/// Decodes one page of a file.
pub fn decode_page(path: &Path, page: u32) -> Result<DynamicImage, ImageError> {
    let bytes = read(path)?;
    decode_page_bytes(path, &bytes, page)
}

pub fn decode_page_bytes(path: &Path, bytes: &[u8], page: u32) -> Result<DynamicImage, ImageError> {
    let format = format_of(path, bytes)?;
    let corrupt = |reason: String| ImageError::Corrupt { path: path.into(), reason };
    if format == ImageFormat::Tiff {
        return decode_tiff_page(path, bytes, page);
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
    let (w, h) =
        ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(|e| corrupt(e.to_string()))?;
    check_size(path, w, h)?;
    reader.decode().map_err(|e| corrupt(e.to_string()))
}

fn decode_tiff_page(path: &Path, bytes: &[u8], page: u32) -> Result<DynamicImage, ImageError> {
    use tiff::ColorType as C;
    use tiff::decoder::DecodingResult as D;
    let corrupt = |reason: String| ImageError::Corrupt { path: path.into(), reason };
    let mut dec = tiff::decoder::Decoder::new(Cursor::new(bytes)).map_err(|e| corrupt(e.to_string()))?;
    dec.seek_to_image(page as usize).map_err(|_| ImageError::NoSuchPage { path: path.into(), page })?;
    let (w, h) = dec.dimensions().map_err(|e| corrupt(e.to_string()))?;
    check_size(path, w, h)?;
    let color = dec.colortype().map_err(|e| corrupt(e.to_string()))?;
    let data = dec.read_image().map_err(|e| corrupt(e.to_string()))?;
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
        assert_eq!(p.format, ImageFormat::Png);
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
}
