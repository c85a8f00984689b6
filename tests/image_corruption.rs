//! Damaged page images (cut short, bytes flipped, size fields overwritten) are refused with a
//! one-line reason that starts with the file's path, never with a panic or an allocation past
//! the limits; a file cut anywhere before its end is refused in every supported format.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use facture::imageio::{self, ImageError, MAX_DECODED_BYTES, MAX_SIDE_PX, TRUNCATED};
use image::{DynamicImage, ImageFormat};
use proptest::prelude::*;
use proptest::sample::Index;

/// Refuses, and remembers, any single allocation above the decoded-page limit: a decoder that
/// trusts a forged size field fails the test instead of swapping the machine.
struct CappedAlloc;

const ALLOC_CAP: usize = MAX_DECODED_BYTES as usize;
static LARGEST_REQUEST: AtomicUsize = AtomicUsize::new(0);

fn admit(size: usize) -> bool {
    LARGEST_REQUEST.fetch_max(size, Ordering::Relaxed);
    size <= ALLOC_CAP
}

unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if admit(layout.size()) { unsafe { System.alloc(layout) } } else { std::ptr::null_mut() }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if admit(layout.size()) { unsafe { System.alloc_zeroed(layout) } } else { std::ptr::null_mut() }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if admit(new_size) { unsafe { System.realloc(ptr, layout, new_size) } } else { std::ptr::null_mut() }
    }
}

#[global_allocator]
static ALLOC: CappedAlloc = CappedAlloc;

/// The name errors must start with (content decides the format, not the extension).
const PATH: &str = "inbox/scan 07.img";

/// Probes, then decodes every page, as import does; decoded pages must match the probe.
fn open_all(bytes: &[u8]) -> Result<Vec<(u32, u32)>, ImageError> {
    let path = Path::new(PATH);
    let probe = imageio::probe_bytes(path, bytes)?;
    for (page, &size) in probe.pages.iter().enumerate() {
        let img = imageio::decode_page_bytes(path, bytes, page as u32)?;
        assert_eq!((img.width(), img.height()), size, "page {page} decodes to another size than probed");
    }
    Ok(probe.pages)
}

/// What must hold whatever the bytes: a one-line error naming the file, or pages within limits;
/// and no allocation ever past the limit.
fn check_outcome(result: &Result<Vec<(u32, u32)>, ImageError>) -> Result<(), TestCaseError> {
    match result {
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(msg.starts_with(PATH), "{msg}");
            prop_assert!(!msg.contains('\n'), "{msg:?}");
            prop_assert_eq!(e.path(), Path::new(PATH));
        }
        Ok(pages) => {
            for &(w, h) in pages {
                prop_assert!(w <= MAX_SIDE_PX && h <= MAX_SIDE_PX, "{w}×{h}");
                prop_assert!(u64::from(w) * u64::from(h) * 4 <= MAX_DECODED_BYTES, "{w}×{h}");
            }
        }
    }
    let largest = LARGEST_REQUEST.load(Ordering::Relaxed);
    prop_assert!(largest <= ALLOC_CAP, "an allocation of {largest} bytes was asked for");
    Ok(())
}

/// A file cut short must say so: too short to recognise, or "truncated".
fn check_cut(result: &Result<Vec<(u32, u32)>, ImageError>, cut: usize, len: usize) -> Result<(), TestCaseError> {
    check_outcome(result)?;
    match result {
        Ok(_) => Err(TestCaseError::fail(format!("cut at {cut} of {len} bytes was accepted"))),
        Err(ImageError::Empty { .. } | ImageError::Unsupported { .. }) => Ok(()),
        Err(e @ ImageError::Corrupt { reason, .. }) => {
            prop_assert_eq!(reason.as_str(), TRUNCATED, "cut at {} of {}: {}", cut, len, e);
            Ok(())
        }
        Err(e) => Err(TestCaseError::fail(format!("cut at {cut} of {len}: {e}"))),
    }
}

// ---------------------------------------------------------------------------------------------
// Valid files of every supported kind.

struct Sample {
    kind: &'static str,
    bytes: Vec<u8>,
    pages: Vec<(u32, u32)>,
}

impl std::fmt::Debug for Sample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}, {} bytes", self.kind, self.pages, self.bytes.len())
    }
}

const KINDS: &[&str] = &[
    "png-rgb8",
    "png-rgba8",
    "png-l8",
    "png-la8",
    "png-l16",
    "jpeg-rgb",
    "jpeg-l8",
    "jpeg-progressive-restarts",
    "jpeg-baseline-restarts",
    "jpeg-progressive-grey",
    "tiff-l8",
    "tiff-rgb8",
    "tiff-rgba8",
    "tiff-l16",
    "tiff-two-pages",
    "tiff-ifd-first-strips",
    "tiff-ifd-first-1bit",
    "tiff-ifd-first-tiles",
    "tiff-ifd-first-1bit-tiles",
    "tiff-ifd-first-three-pages",
    "bmp-rgb8",
    "bmp-rgba8",
    "bmp-l8",
    "bmp-rle8",
    "webp-lossless-rgb8",
    "webp-lossless-rgba8",
    "webp-lossless-l8",
    "webp-lossy",
    "webp-lossy-alpha",
];

/// Something like a scan: gradients, edges and noise, so that every codec has work to do.
fn picture(w: u32, h: u32) -> image::RgbaImage {
    image::RgbaImage::from_fn(w, h, |x, y| {
        let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 7;
        let ink = if (x / 5 + y / 3) % 4 == 0 { 40 } else { 230 };
        image::Rgba([
            (ink ^ (noise & 15)) as u8,
            (x * 255 / w.max(1)) as u8,
            (y * 255 / h.max(1)) as u8,
            (255 - noise % 64) as u8,
        ])
    })
}

fn encoded(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

fn jpeg(img: DynamicImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(&img).expect("encode");
    out
}

/// With the tiff crate's encoder, which writes the pixel data first and the IFD last.
fn tiff_crate(pages: &[DynamicImage], compression_pick: u8) -> Vec<u8> {
    use tiff::encoder::{Compression, TiffEncoder, colortype};
    let compression = match compression_pick % 4 {
        0 => Compression::Uncompressed,
        1 => Compression::Lzw,
        2 => Compression::Deflate(Default::default()),
        _ => Compression::Packbits,
    };
    let mut buf = Vec::new();
    let mut enc = TiffEncoder::new(Cursor::new(&mut buf)).expect("tiff").with_compression(compression);
    for page in pages {
        let (w, h) = (page.width(), page.height());
        match page {
            DynamicImage::ImageLuma8(p) => enc.write_image::<colortype::Gray8>(w, h, p.as_raw()),
            DynamicImage::ImageRgb8(p) => enc.write_image::<colortype::RGB8>(w, h, p.as_raw()),
            DynamicImage::ImageRgba8(p) => enc.write_image::<colortype::RGBA8>(w, h, p.as_raw()),
            DynamicImage::ImageLuma16(p) => enc.write_image::<colortype::Gray16>(w, h, p.as_raw()),
            other => panic!("no TIFF sample of {:?}", other.color()),
        }
        .expect("encode");
    }
    buf
}

enum Chunks {
    Strips { rows: u32 },
    Tiles { side: u32 },
}

struct TiffPage {
    w: u32,
    h: u32,
    bits: u16,
    samples: u16,
    packbits: bool,
    chunks: Chunks,
}

/// PackBits with literal runs only: valid, and simple enough to trust.
fn packbits(raw: &[u8]) -> Vec<u8> {
    raw.chunks(128).flat_map(|run| std::iter::once((run.len() - 1) as u8).chain(run.iter().copied())).collect()
}

fn tiff_page_data(p: &TiffPage, seed: usize) -> Vec<Vec<u8>> {
    let byte = |i: usize| ((i * 31) ^ (i / 7) ^ seed) as u8;
    let (count, len) = match p.chunks {
        Chunks::Strips { rows } => {
            let row = (p.w as usize * p.samples as usize * p.bits as usize).div_ceil(8);
            let strips = p.h.div_ceil(rows);
            return (0..strips)
                .map(|s| {
                    let n = rows.min(p.h - s * rows) as usize * row;
                    let raw: Vec<u8> = (0..n).map(|i| byte(i + s as usize * 1000)).collect();
                    if p.packbits { packbits(&raw) } else { raw }
                })
                .collect();
        }
        Chunks::Tiles { side } => {
            let row = (side as usize * p.samples as usize * p.bits as usize).div_ceil(8);
            ((p.w.div_ceil(side) * p.h.div_ceil(side)) as usize, row * side as usize)
        }
    };
    (0..count)
        .map(|t| {
            let raw: Vec<u8> = (0..len).map(|i| byte(i + t * 1000)).collect();
            if p.packbits { packbits(&raw) } else { raw }
        })
        .collect()
}

/// A little-endian TIFF with every IFD before the pixel data, as many scanners write it (so a
/// cut lands in the data, not in the IFD), with strips or tiles, 1 to 16 bits per sample.
fn tiff_ifd_first(pages: &[TiffPage]) -> Vec<u8> {
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    type Entry = (u16, u16, Vec<u32>);
    let data: Vec<Vec<Vec<u8>>> = pages.iter().enumerate().map(|(i, p)| tiff_page_data(p, i * 50)).collect();
    let entries = |p: &TiffPage, offsets: Vec<u32>, counts: Vec<u32>| {
        let mut e: Vec<Entry> = vec![
            (256, LONG, vec![p.w]),
            (257, LONG, vec![p.h]),
            (258, SHORT, vec![u32::from(p.bits); usize::from(p.samples)]),
            (259, SHORT, vec![if p.packbits { 32773 } else { 1 }]),
            (262, SHORT, vec![if p.samples >= 3 { 2 } else { 1 }]),
            (277, SHORT, vec![u32::from(p.samples)]),
        ];
        match p.chunks {
            Chunks::Strips { rows } => e.extend([(273, LONG, offsets), (278, LONG, vec![rows]), (279, LONG, counts)]),
            Chunks::Tiles { side } => {
                e.extend([(322, LONG, vec![side]), (323, LONG, vec![side]), (324, LONG, offsets), (325, LONG, counts)])
            }
        }
        if p.samples == 2 || p.samples == 4 {
            e.push((338, SHORT, vec![2])); // unassociated alpha
        }
        e.sort_by_key(|x| x.0);
        e
    };
    let value_bytes = |(_, ty, v): &Entry| v.len() * if *ty == SHORT { 2 } else { 4 };
    let ifd_len = |e: &[Entry]| 2 + 12 * e.len() + 4 + e.iter().map(value_bytes).filter(|&n| n > 4).sum::<usize>();
    let meta_len: usize = 8 + pages
        .iter()
        .zip(&data)
        .map(|(p, d)| ifd_len(&entries(p, vec![0; d.len()], vec![0; d.len()])))
        .sum::<usize>();

    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    let mut data_at = meta_len as u32;
    for (i, (p, chunks)) in pages.iter().zip(&data).enumerate() {
        let offsets = chunks
            .iter()
            .map(|c| {
                data_at += c.len() as u32;
                data_at - c.len() as u32
            })
            .collect();
        let e = entries(p, offsets, chunks.iter().map(|c| c.len() as u32).collect());
        let start = out.len();
        let mut spill_at = start + 2 + 12 * e.len() + 4;
        let mut spill = Vec::new();
        out.extend_from_slice(&(e.len() as u16).to_le_bytes());
        for entry @ (tag, ty, values) in &e {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&ty.to_le_bytes());
            out.extend_from_slice(&(values.len() as u32).to_le_bytes());
            let mut bytes: Vec<u8> = values
                .iter()
                .flat_map(|&v| if *ty == SHORT { (v as u16).to_le_bytes().to_vec() } else { v.to_le_bytes().to_vec() })
                .collect();
            if value_bytes(entry) > 4 {
                out.extend_from_slice(&(spill_at as u32).to_le_bytes());
                spill_at += bytes.len();
                spill.append(&mut bytes);
            } else {
                bytes.resize(4, 0);
                out.append(&mut bytes);
            }
        }
        let next = if i + 1 == pages.len() { 0 } else { (start + ifd_len(&e)) as u32 };
        out.extend_from_slice(&next.to_le_bytes());
        out.append(&mut spill);
    }
    assert_eq!(out.len(), meta_len);
    out.extend(data.iter().flatten().flatten());
    out
}

/// 16×6 px, 4-colour palette, RLE8: per row a run, an absolute run and end-of-line; then
/// end-of-bitmap. The image crate's encoder writes no RLE.
fn bmp_rle8() -> Vec<u8> {
    let mut data = Vec::new();
    for y in 0..6u8 {
        data.extend_from_slice(&[10, y % 4]);
        data.extend_from_slice(&[0, 6, 1, 2, 3, 0, 1, 2]);
        data.extend_from_slice(&[0, 0]);
    }
    data.extend_from_slice(&[0, 1]);
    let palette: Vec<u8> = (0..4u8).flat_map(|i| [i * 60, 255 - i * 60, i * 30, 0]).collect();
    let data_at = 14 + 40 + palette.len() as u32;
    let mut out = b"BM".to_vec();
    for v in [data_at + data.len() as u32, 0, data_at, 40, 16, 6] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&1u16.to_le_bytes()); // planes
    out.extend_from_slice(&8u16.to_le_bytes()); // bits per pixel
    for v in [1, data.len() as u32, 2835, 2835, 4, 0] {
        out.extend_from_slice(&v.to_le_bytes()); // BI_RLE8, data size, dpi, colours used, important
    }
    out.extend(palette);
    out.extend(data);
    out
}

fn fixture(hex_text: &str) -> Vec<u8> {
    hex::decode(hex_text).expect("fixture hex")
}

/// One valid file of `kind`, w×h px where the kind allows, `q` picks quality or compression.
fn make(kind: &'static str, w: u32, h: u32, q: u8) -> Sample {
    let rgba = DynamicImage::ImageRgba8(picture(w, h));
    let rgb = || DynamicImage::ImageRgb8(rgba.to_rgb8());
    let l8 = || DynamicImage::ImageLuma8(rgba.to_luma8());
    let rows = 1 + u32::from(q) % h;
    let tiff = |pages: &[TiffPage]| tiff_ifd_first(pages);
    let (bytes, pages) = match kind {
        "png-rgb8" => (encoded(rgb(), ImageFormat::Png), vec![(w, h)]),
        "png-rgba8" => (encoded(rgba.clone(), ImageFormat::Png), vec![(w, h)]),
        "png-l8" => (encoded(l8(), ImageFormat::Png), vec![(w, h)]),
        "png-la8" => (encoded(DynamicImage::ImageLumaA8(rgba.to_luma_alpha8()), ImageFormat::Png), vec![(w, h)]),
        "png-l16" => (encoded(DynamicImage::ImageLuma16(rgba.to_luma16()), ImageFormat::Png), vec![(w, h)]),
        "jpeg-rgb" => (jpeg(rgb(), q), vec![(w, h)]),
        "jpeg-l8" => (jpeg(l8(), q), vec![(w, h)]),
        // Written by libjpeg-turbo's cjpeg (-progressive / -restart 1B): the image crate's
        // encoder writes baseline JPEG without restart markers only.
        "jpeg-progressive-restarts" => (fixture(PROGRESSIVE_RESTARTS_JPEG), vec![(24, 16)]),
        "jpeg-baseline-restarts" => (fixture(BASELINE_RESTARTS_JPEG), vec![(24, 16)]),
        "jpeg-progressive-grey" => (fixture(PROGRESSIVE_GREY_JPEG), vec![(24, 16)]),
        "tiff-l8" => (tiff_crate(&[l8()], q), vec![(w, h)]),
        "tiff-rgb8" => (tiff_crate(&[rgb()], q), vec![(w, h)]),
        "tiff-rgba8" => (tiff_crate(std::slice::from_ref(&rgba), q), vec![(w, h)]),
        "tiff-l16" => (tiff_crate(&[DynamicImage::ImageLuma16(rgba.to_luma16())], q), vec![(w, h)]),
        "tiff-two-pages" => {
            let second = DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(picture(h, w + 3)).to_rgb8());
            (tiff_crate(&[l8(), second], q), vec![(w, h), (h, w + 3)])
        }
        "tiff-ifd-first-strips" => {
            let packbits = q.is_multiple_of(2);
            (tiff(&[TiffPage { w, h, bits: 8, samples: 3, packbits, chunks: Chunks::Strips { rows } }]), vec![(w, h)])
        }
        "tiff-ifd-first-1bit" => {
            let packbits = q.is_multiple_of(2);
            (tiff(&[TiffPage { w, h, bits: 1, samples: 1, packbits, chunks: Chunks::Strips { rows } }]), vec![(w, h)])
        }
        "tiff-ifd-first-tiles" => {
            let side = if q.is_multiple_of(2) { 16 } else { 32 };
            (
                tiff(&[TiffPage { w, h, bits: 8, samples: 3, packbits: false, chunks: Chunks::Tiles { side } }]),
                vec![(w, h)],
            )
        }
        "tiff-ifd-first-1bit-tiles" => (
            tiff(&[TiffPage { w, h, bits: 1, samples: 1, packbits: false, chunks: Chunks::Tiles { side: 16 } }]),
            vec![(w, h)],
        ),
        "tiff-ifd-first-three-pages" => (
            tiff(&[
                TiffPage { w, h, bits: 8, samples: 1, packbits: false, chunks: Chunks::Strips { rows } },
                TiffPage { w: 17, h: 30, bits: 1, samples: 1, packbits: true, chunks: Chunks::Strips { rows: 8 } },
                TiffPage { w: h, h: w, bits: 16, samples: 4, packbits: false, chunks: Chunks::Tiles { side: 16 } },
            ]),
            vec![(w, h), (17, 30), (h, w)],
        ),
        "bmp-rgb8" => (encoded(rgb(), ImageFormat::Bmp), vec![(w, h)]),
        "bmp-rgba8" => (encoded(rgba.clone(), ImageFormat::Bmp), vec![(w, h)]),
        "bmp-l8" => (encoded(l8(), ImageFormat::Bmp), vec![(w, h)]),
        "bmp-rle8" => (bmp_rle8(), vec![(16, 6)]),
        "webp-lossless-rgb8" => (encoded(rgb(), ImageFormat::WebP), vec![(w, h)]),
        "webp-lossless-rgba8" => (encoded(rgba.clone(), ImageFormat::WebP), vec![(w, h)]),
        "webp-lossless-l8" => (encoded(l8(), ImageFormat::WebP), vec![(w, h)]),
        // Written by libwebp's cwebp (-q 60, and -alpha_q 60 from a PAM with alpha): the image
        // crate encodes lossless WebP only.
        "webp-lossy" => (fixture(LOSSY_WEBP), vec![(24, 16)]),
        "webp-lossy-alpha" => (fixture(LOSSY_ALPHA_WEBP), vec![(24, 16)]),
        other => panic!("unknown sample kind {other}"),
    };
    Sample { kind, bytes, pages }
}

fn sample() -> impl Strategy<Value = Sample> {
    (prop::sample::select(KINDS), 1u32..=72, 1u32..=48, 1u8..=100).prop_map(|(kind, w, h, q)| make(kind, w, h, q))
}
const PROGRESSIVE_RESTARTS_JPEG: &str = concat!(
    "ffd8ffe000104a46494600010100000100010000ffdb00430006040506050406060506070706080a100a0a09090a140e",
    "0f0c1017141818171416161a1d251f1a1b231c1616202c20232627292a29191f2d302d283025282928ffdb0043010707",
    "070a080a130a0a13281a161a282828282828282828282828282828282828282828282828282828282828282828282828",
    "2828282828282828282828282828ffc20011080010001803012200021101031101ffc400170001010101000000000000",
    "00000000000000060205ffc40014010100000000000000000000000000000003ffdd00040001ffda000c030100021003",
    "10000001e166b0cbffd09f56917fffc40017100101010100000000000000000000000014001113ffda00080101000105",
    "0231afffd0365fffd12f7bffd231efffd3365fffd4376bffc4001e110001030403000000000000000000000011001213",
    "142241516181a1ffda0008010301013f01ad6da00c6bbc95ffd0a992e8dfcb878bffc4001c1100020105010000000000",
    "0000000000000111000204142181e2ffda0008010201013f01aafc92dcffd0cc5a6b9e4cffc4001a1001010002030000",
    "00000000000000000011001231012232ffda0008010100063f0238ed95ffd02fffd1345fffd23d657fffd32fffd4345f",
    "ffc4001e1000020104030100000000000000000000011100213171f04161f1c1ffda0008010100013f2134440c1b2125",
    "ecffd0cc7ca53fffd1d0567fffd2bff15bd9ffd3cc7d4fffd4dd173fffda000c030100020003000000100bffd0c7ffc4",
    "001c11000104030100000000000000000000001100012131617191b1ffda0008010301013f106f4899c8e8c52fffd0db",
    "367a602b20afffc4001d11000104020300000000000000000000000111213141005171a1b1ffda0008010201013f1032",
    "86a8101837aab348ff00ffd04b1c4eeed991aacfffc40020100002010305010100000000000000000001113100415121",
    "61718191a1d1ffda0008010100013f1099ae211f4ff15fffd0646c40207808935fffd144416cea7560b56affd22f4422",
    "3481085e4fcd7fffd393946eebb8e249afffd4db65224cf9bce2bfffd9",
);
const BASELINE_RESTARTS_JPEG: &str = concat!(
    "ffd8ffe000104a46494600010100000100010000ffdb0043000201010101010201010102020202020403020202020504",
    "040304060506060605060606070908060709070606080b08090a0a0a0a0a06080b0c0b0a0c090a0a0affdb0043010202",
    "02020202050303050a0706070a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a",
    "0a0a0a0a0a0a0a0a0a0a0a0a0a0affc00011080010001803012200021101031101ffc400180000030101000000000000",
    "0000000000000008090104ffc40028100001020404060301000000000000000002010304051112081314210006151822",
    "3132416116ffc4001501010100000000000000000000000000000605ffc4002811000200050107050100000000000000",
    "00010203111213140400050716212242061525324171ffdd00040001ffda000c03010002110311003f005462f092983f",
    "487e5395cb98e658ae6587479e8a8886d28410309f254ab975d9df94b7eebb727686ecb2d94ea562b51f07c25e0c01d3",
    "dd80806e1a6fef64fde283bd83e4c283aec995afe9139989b125c9d2658c203622dfb72e471c8a4aee9446d7dd76c5c1",
    "ff004cba5245a9d4d2f7d6169994a515477aa790da14541420f133311e17ef1e35eaf5bab78d9669990acb386aeb0cd2",
    "a6d2c94cd402c5833333191862181191a7165777a8ddb8f8f8fd312edcc3b9df4644ce4644ee553366747f3fffd050fb",
    "396b1156c9b20259d2ca8068a64b12aefd090ba8da1265fc568ab5f494e0e284ae0fbb88ac9944657d2c5048dc6b5031",
    "28ed2825e43414b137b8946f1212b51510e2e0e2bc2d39b2baa1069f01a658c44ff4be06b198bfd84d900069552558ec",
    "9b9fcfa97e4397fddaae9959d895d3db4d8b894db95b9cbbe8afcb6fffd9",
);
const PROGRESSIVE_GREY_JPEG: &str = concat!(
    "ffd8ffe000104a46494600010100000100010000ffdb0043000d090a0b0a080d0b0a0b0e0e0d0f13201513121213271c",
    "1e17202e2931302e292d2c333a4a3e333646372c2d405741464c4e525352323e5a615a50604a51524fffc2000b080010",
    "001801011100ffc40017000100030000000000000000000000000000010405ffda0008010100000001a28d53ffc40016",
    "1001010100000000000000000000000000130012ffda0008010100010502338e2dc671c7bbffc4001710010101010000",
    "0000000000000000000011103151ffda0008010100063f0235bd6fffc4001b1000020203010000000000000000000000",
    "002111410131c1a1ffda0008010100013f21ad89781570a75057c05457a83fffda0008010100000010a3ffc4001f1000",
    "020202010500000000000000000000011100412151c1617181e1f1ffda0008010100013f103840159242c3ecdc6ef09a",
    "1cefcf485c74ea8b933bc76a7a9b6e7fffd9",
);
const LOSSY_WEBP: &str = concat!(
    "52494646f60000005745425056503820ea000000d006009d012a180010003eb5489e49a72422a1300800e016896c009d",
    "328318386adbfff46de94b7f92f72afd87f466b94abcb82c0bf4f6e67122f4308780fa00fef49f992133195e3636368e",
    "28ee2f480a91be093806383a4ab31ed3e9078d42113833b8fe4528208bf8f4d1021cfc4352b49e08cc14ef27a9044cbe",
    "bcb7e301f140dfbf36ee4f0ed30ce4046acdca38578c80f0b07682cd6205f636f2bcc1c62b8b8d7e2ec7b896cad8f428",
    "2d4e4852230c46568f1a3b98775607c3375e3f369d329dca1de073bf339778d2907ff546fe84b6f0bf91eb2da2f7a12c",
    "d49349d65ead4c7638ce4a000000",
);
const LOSSY_ALPHA_WEBP: &str = concat!(
    "52494646d401000057454250565038580a000000100000001700000f0000414c5048b7000000116fa02000193626029b",
    "131181b7cfb6ffb900566d6d71ab08e800cf9d80e74efc28c8e000e2007010aa2083035207e0a089831b24247eae8588",
    "fe67f60fc6983106429419a60c44a56a6b3f1966a2aaadebc738230a9571fd774e1b42acacdd10d386412150b68fe902",
    "a5e9112817d305941b132a8c9f77a0fab85154ba90a8ece28e6b22bbe95c3461e36624b25f88f289ea7125daafd04c17",
    "e913273a9ca55f8b6ee10dd1d343ff1e3adc7520cd1f6f97bc5b0b7f020056503820f60000003007009d012a18001000",
    "3eb5489e49a72422a1300800e016896c009d32847722c0bfcbcfffd1aba523fe43dc5bf6cbf5b928ddf5eaaec4ec959d",
    "e9b7a9fea1a8c38000fee99dee9bf54d33384b7bb7076645ac25cacc7cb8a6d8fe9d2b461b1cd5c551ad40bf660d118d",
    "262a5b0feede5aec32d8f3b478365f129f6ff8eac1fe8efc89e2cafc0f65b99e82caa16b4fca16ccf420f1ebd2502efa",
    "6e408fd9dda020f5f55ab83abd04ecccdb1e74a07cc959f6b397c1f39c02074979e2e911146b43cff33df9a1e3c39203",
    "1147faa44e0d61bdb27915333cfb55f94271e09ca5c2db7acc0b4e7d04bbd5021a27f181a9f70ffe338e0000",
);

// ---------------------------------------------------------------------------------------------
// Header fields that hold a size, found by walking each format's own structure.

#[derive(Debug, Clone, Copy, PartialEq)]
enum Meaning {
    /// A length, count or offset.
    Other,
    /// A side in pixels.
    Side,
    /// A side in pixels, as a signed number whose magnitude counts (BMP: negative = top-down).
    SignedSide,
    /// A side in pixels, stored minus one (WebP's extended header).
    SideMinusOne,
}

#[derive(Debug, Clone, Copy)]
struct Field {
    at: usize,
    width: usize,
    big_endian: bool,
    meaning: Meaning,
}

impl Field {
    fn le(at: usize, width: usize, meaning: Meaning) -> Field {
        Field { at, width, big_endian: false, meaning }
    }
    fn be(at: usize, width: usize, meaning: Meaning) -> Field {
        Field { at, width, big_endian: true, meaning }
    }

    /// Writes `value`, cut to the field's width; returns the side in pixels it now says, if any.
    fn overwrite(&self, bytes: &mut [u8], value: u64) -> Option<u64> {
        let le = value.to_le_bytes();
        let mut field: Vec<u8> = le[..self.width].to_vec();
        if self.big_endian {
            field.reverse();
        }
        bytes[self.at..self.at + self.width].copy_from_slice(&field);
        let stored = value & (u64::MAX >> (64 - 8 * self.width));
        match self.meaning {
            Meaning::Other => None,
            Meaning::Side => Some(stored),
            Meaning::SignedSide => Some(u64::from((stored as u32 as i32).unsigned_abs())),
            Meaning::SideMinusOne => Some(stored + 1),
        }
    }
}

fn u16_at(b: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let v = [*b.get(at)?, *b.get(at + 1)?];
    Some(if big_endian { u16::from_be_bytes(v) } else { u16::from_le_bytes(v) })
}

fn u32_at(b: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let v = [*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?];
    Some(if big_endian { u32::from_be_bytes(v) } else { u32::from_le_bytes(v) })
}

fn size_fields(b: &[u8]) -> Vec<Field> {
    use Meaning::*;
    let mut out = Vec::new();
    if b.starts_with(b"\x89PNG") {
        out.extend([Field::be(16, 4, Side), Field::be(20, 4, Side)]);
        let mut at = 8;
        while let Some(len) = u32_at(b, at, true) {
            out.push(Field::be(at, 4, Other));
            if b.get(at + 4..at + 8) == Some(b"IEND") {
                break;
            }
            at += 12 + len as usize;
        }
    } else if b.starts_with(&[0xFF, 0xD8]) {
        let mut at = 2;
        while let (Some(0xFF), Some(&code), Some(len)) = (b.get(at), b.get(at + 1), u16_at(b, at + 2, true)) {
            out.push(Field::be(at + 2, 2, Other));
            if matches!(code, 0xC0..=0xCF) && !matches!(code, 0xC4 | 0xC8 | 0xCC) {
                out.extend([Field::be(at + 5, 2, Side), Field::be(at + 7, 2, Side)]);
            }
            if code == 0xDA {
                break;
            }
            at += 2 + len as usize;
        }
    } else if b.starts_with(b"BM") {
        out.extend([Field::le(2, 4, Other), Field::le(10, 4, Other), Field::le(14, 4, Other)]);
        out.extend([Field::le(18, 4, SignedSide), Field::le(22, 4, SignedSide)]);
        out.extend([
            Field::le(28, 2, Other),
            Field::le(30, 4, Other),
            Field::le(34, 4, Other),
            Field::le(46, 4, Other),
        ]);
    } else if b.starts_with(b"RIFF") {
        out.push(Field::le(4, 4, Other));
        let mut at = 12;
        while let Some(len) = u32_at(b, at + 4, false) {
            out.push(Field::le(at + 4, 4, Other));
            match b.get(at..at + 4) {
                Some(b"VP8X") => out.extend([Field::le(at + 12, 3, SideMinusOne), Field::le(at + 15, 3, SideMinusOne)]),
                // 14-bit sides (at most 16384): forged ones stay within the limits.
                Some(b"VP8L") => out.push(Field::le(at + 9, 4, Other)),
                Some(b"VP8 ") => out.extend([Field::le(at + 14, 2, Other), Field::le(at + 16, 2, Other)]),
                _ => {}
            }
            at += 8 + len as usize + (len as usize & 1);
        }
    } else if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
        let be = b[0] == b'M';
        out.push(Field { at: 4, width: 4, big_endian: be, meaning: Other });
        let mut ifd = u32_at(b, 4, be).unwrap_or(0) as usize;
        for _ in 0..8 {
            let Some(n) = u16_at(b, ifd, be) else { break };
            for i in 0..usize::from(n) {
                let entry = ifd + 2 + 12 * i;
                let (Some(tag), Some(ty), Some(count)) =
                    (u16_at(b, entry, be), u16_at(b, entry + 2, be), u32_at(b, entry + 4, be))
                else {
                    break;
                };
                let meaning = match tag {
                    256 | 257 => Side,
                    258 | 259 | 262 | 273 | 277 | 278 | 279 | 322..=325 => Other,
                    _ => continue,
                };
                let width = if ty == 3 && count == 1 { 2 } else { 4 };
                out.push(Field { at: entry + 8, width, big_endian: be, meaning });
            }
            let next_at = ifd + 2 + 12 * usize::from(n);
            out.push(Field { at: next_at, width: 4, big_endian: be, meaning: Other });
            match u32_at(b, next_at, be) {
                Some(next) if next != 0 => ifd = next as usize,
                _ => break,
            }
        }
    }
    out.retain(|f| f.at + f.width <= b.len());
    out
}

/// Forged sizes: zero, one, the largest a 16- or 32-bit field holds, and just past the limits.
const FORGED: &[u64] = &[0, 1, 0xFFFF, 0xFFFF_FFFF, 0x7FFF_FFFF, 0x8000_0000, 65_535 * 65_535, 40_001, 0x1_0000];

// ---------------------------------------------------------------------------------------------
// The properties.

/// `cases` keeps the debug-build run short; PROPTEST_CASES=20000 searches deeper.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(cases);
    // No regression files: failures print the case, and the samples are generated anyway.
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn valid_files_of_every_kind_decode(s in sample()) {
        let result = open_all(&s.bytes);
        check_outcome(&result)?;
        let pages = result.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(pages, s.pages);
    }
}

proptest! {
    #![proptest_config(config(96))]

    /// Many writers and tools leave bytes after the end (after JPEG's EOI, PNG's IEND, the RIFF
    /// size, the last TIFF strip or BMP row): that is not damage.
    #[test]
    fn bytes_after_the_end_of_a_valid_file_are_ignored(
        s in sample(),
        tail in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        let mut bytes = s.bytes.clone();
        bytes.extend(tail);
        let pages = open_all(&bytes).map_err(|e| TestCaseError::fail(format!("{s:?}: {e}")))?;
        prop_assert_eq!(pages, s.pages);
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn a_file_cut_anywhere_before_its_end_is_refused(s in sample(), cut in any::<Index>()) {
        let n = cut.index(s.bytes.len());
        check_cut(&open_all(&s.bytes[..n]), n, s.bytes.len())?;
    }

    #[test]
    fn flipped_bytes_never_panic_nor_allocate_past_the_limits(
        s in sample(),
        flips in prop::collection::vec((any::<Index>(), 1u8..=255), 1..=6),
    ) {
        let mut bytes = s.bytes;
        for (at, mask) in flips {
            let at = at.index(bytes.len());
            bytes[at] ^= mask;
        }
        // Flipped pixel data may well still decode; only the outcome's shape is checked.
        check_outcome(&open_all(&bytes))?;
    }

    #[test]
    fn a_forged_size_field_is_refused_or_stays_within_the_limits(
        s in sample(),
        field in any::<Index>(),
        value in prop::sample::select(FORGED),
    ) {
        let fields = size_fields(&s.bytes);
        prop_assert!(!fields.is_empty(), "no size field found in {:?}", s);
        let field = fields[field.index(fields.len())];
        let mut bytes = s.bytes;
        let side = field.overwrite(&mut bytes, value);
        let result = open_all(&bytes);
        check_outcome(&result)?;
        if side.is_some_and(|px| px > u64::from(MAX_SIDE_PX)) {
            prop_assert!(result.is_err(), "{:?} of {} px was accepted", field, side.unwrap_or_default());
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn pages_claiming_65535_px_each_way_are_refused(s in sample()) {
        let mut bytes = s.bytes.clone();
        let fields: Vec<Field> = size_fields(&bytes).into_iter().filter(|f| f.meaning != Meaning::Other).collect();
        for f in &fields {
            f.overwrite(&mut bytes, 65_535);
        }
        let result = open_all(&bytes);
        check_outcome(&result)?;
        // WebP without the extended header stores 14-bit sides: nothing above 16384 px to forge.
        if !fields.is_empty() {
            prop_assert!(result.is_err(), "{:?} forged to 65535×65535 px was accepted", s);
        }
    }
}

/// The measured table, every format and every cut: each is refused as truncated.
#[test]
fn every_cut_of_one_file_of_each_kind_is_refused() {
    for &kind in KINDS {
        let s = make(kind, 37, 21, 80);
        assert_eq!(open_all(&s.bytes).expect(kind), s.pages, "{kind}");
        for n in 0..s.bytes.len() {
            if let Err(e) = check_cut(&open_all(&s.bytes[..n]), n, s.bytes.len()) {
                panic!("{kind}: {e}");
            }
        }
    }
}

/// The reported fault: a half-downloaded JPEG decoded "fine", its lower part filled in grey.
#[test]
fn a_half_downloaded_jpeg_on_disk_is_refused_as_truncated() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("invoice-2291.jpg");
    let whole = jpeg(DynamicImage::ImageRgba8(picture(300, 420)).to_rgb8().into(), 85);
    std::fs::write(&path, &whole[..whole.len() / 2]).expect("write");

    let e = imageio::decode_page(&path, 0).expect_err("a half JPEG must not decode");
    let msg = e.to_string();
    assert!(msg.starts_with(&path.display().to_string()), "{msg}");
    assert!(msg.contains("truncated"), "{msg}");
    assert!(matches!(e, ImageError::Corrupt { .. }), "{e:?}");
    assert!(imageio::probe(&path).is_err(), "probe should refuse it too");

    std::fs::write(&path, &whole).expect("write");
    let page = imageio::decode_page(&path, 0).expect("the whole file decodes");
    assert_eq!((page.width(), page.height()), (300, 420));
}
