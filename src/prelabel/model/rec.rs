//! Text recognition: line crops (perspective-corrected for quads) → width-sorted batches at
//! a fixed height → CTC recogniser → greedy decode with per-character positions.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use image::RgbImage;
use imageproc::geometric_transformations::{Border, Interpolation, Projection, warp_into};
use ort::session::Session;
use ort::value::TensorRef;

use super::ModelError;
use super::det::dist;
use super::spec::{Charset, Normalization, RecognizerSpec};
use crate::domain::Quad;

/// The recogniser's classes: 0 is the CTC blank, then the dictionary, then a space.
#[derive(Debug, Clone)]
pub struct Dictionary {
    classes: Vec<String>,
}

impl Dictionary {
    /// From the dictionary text (one entry per line, split as Python's `str.splitlines`,
    /// which is how PaddleOCR and RapidOCR read it).
    pub fn from_lines(text: &str) -> Self {
        let mut classes = vec![String::new()];
        let mut cur = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if matches!(
                c,
                '\n' | '\r' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}' | '\u{2029}'
            ) {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                classes.push(std::mem::take(&mut cur));
            } else {
                cur.push(c);
            }
        }
        if !cur.is_empty() {
            classes.push(cur);
        }
        classes.push(" ".into());
        Self { classes }
    }

    /// Number of classes the model must output (entries + blank + space).
    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }

    /// The classes `charset` allows, as indices into this dictionary (ascending; the blank
    /// is always kept), and the dictionary of just those, in that order.
    pub fn restricted(&self, charset: Charset) -> (Vec<usize>, Dictionary) {
        let keep: Vec<usize> =
            (0..self.classes.len()).filter(|&i| i == 0 || charset.allows(&self.classes[i])).collect();
        let classes = keep.iter().map(|&i| self.classes[i].clone()).collect();
        (keep, Self { classes })
    }

    fn get(&self, class: usize) -> &str {
        self.classes.get(class).map_or("", String::as_str)
    }
}

/// One recognised character and where it sits along the crop, with what the recogniser's
/// other classes said around it (for [`super::confidence`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CharAt {
    pub text: String,
    /// Probability of the character at the first step of its run.
    pub prob: f32,
    /// Centre of its CTC time step, in pixels of the (unrotated) crop.
    pub x_px: f32,
    /// Best lead of the character over the runner-up class (blank or another character)
    /// at any step of its run: near 0 when the recogniser hesitated.
    pub margin: f32,
    /// Highest probability any character (not blank, not space) had at the blank steps
    /// between the previous character and this one: high when a character may be missing.
    pub gap: f32,
}

/// One recognised line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reading {
    pub text: String,
    /// Mean probability of the emitted characters; 0 for an empty line.
    pub score: f32,
    pub chars: Vec<CharAt>,
    /// Crop height in page pixels (for judging gap widths).
    pub height_px: f32,
    /// True when the crop was turned (tall crop or the direction classifier), so the
    /// character positions no longer run along the page's x axis.
    pub turned: bool,
}

/// Greedy CTC decoding of one `steps`×`classes` probability matrix: best class per step,
/// repeats merged, blanks dropped. `step_px` maps a time step to crop pixels. The same pass
/// keeps the runner-up class of each step (see [`CharAt::margin`], [`CharAt::gap`]).
pub fn ctc_greedy(probs: &[f32], steps: usize, classes: usize, dict: &Dictionary, step_px: f32) -> Reading {
    let mut reading = Reading::default();
    let mut prev = usize::MAX;
    let mut gap = 0f32;
    for (t, row) in probs.chunks_exact(classes.max(1)).take(steps).enumerate() {
        let (mut best, mut p1, mut second, mut p2) = (0, f32::MIN, 0, f32::MIN);
        for (i, &v) in row.iter().enumerate() {
            if v > p1 {
                (second, p2) = (best, p1);
                (best, p1) = (i, v);
            } else if v > p2 {
                (second, p2) = (i, v);
            }
        }
        let p2 = p2.max(0.0);
        if best == 0 {
            // a character that lost to the blank here may be missing from the text
            if second != 0 && dict.get(second) != " " {
                gap = gap.max(p2);
            }
        } else if best != prev {
            let text = dict.get(best).to_string();
            let x_px = (t as f32 + 0.5) * step_px;
            reading.chars.push(CharAt { text, prob: p1, x_px, margin: p1 - p2, gap });
            gap = 0.0;
        } else if let Some(c) = reading.chars.last_mut() {
            c.margin = c.margin.max(p1 - p2);
        }
        prev = best;
    }
    reading.refresh();
    reading
}

impl Reading {
    /// Sets the text and the score from the characters, after they changed.
    pub fn refresh(&mut self) {
        self.text = self.chars.iter().map(|c| c.text.as_str()).collect();
        self.score = if self.chars.is_empty() {
            0.0
        } else {
            self.chars.iter().map(|c| c.prob).sum::<f32>() / self.chars.len() as f32
        };
    }
}

/// Receives each finished batch as `(crop index, reading)`; `Break` stops recognition.
pub type ReadingSink<'a> = dyn FnMut(&[(usize, Reading)]) -> ControlFlow<()> + 'a;

/// A line crop ready for recognition.
pub struct Crop {
    pub image: RgbImage,
    pub turned: bool,
}

/// Cuts `quad` out of `page`: a plain crop when axis-aligned, a perspective warp otherwise.
/// Tall crops (height ≥ 1.5 × width) are turned a quarter counter-clockwise, as PaddleOCR does.
pub fn crop_quad(page: &RgbImage, quad: &Quad) -> Option<Crop> {
    let [tl, tr, br, bl] = quad.0;
    let w = dist(tl, tr).max(dist(bl, br)).round() as u32;
    let h = dist(tl, bl).max(dist(tr, br)).round() as u32;
    if w == 0 || h == 0 || !quad.0.iter().all(|p| p.x.is_finite() && p.y.is_finite()) {
        return None;
    }
    let axis_aligned = (tl.y - tr.y).abs() < 1.0 && (bl.y - br.y).abs() < 1.0 && (tl.x - bl.x).abs() < 1.0;
    let image = if axis_aligned {
        let r = quad.bounds().clamped(page.width() as f32, page.height() as f32);
        let (x0, y0) = (r.x0.floor() as u32, r.y0.floor() as u32);
        let (cw, ch) = ((r.x1.ceil() as u32).saturating_sub(x0), (r.y1.ceil() as u32).saturating_sub(y0));
        if cw == 0 || ch == 0 {
            return None;
        }
        image::imageops::crop_imm(page, x0, y0, cw, ch).to_image()
    } else {
        let (wf, hf) = (w as f32, h as f32);
        let from = quad.0.map(|p| (p.x, p.y));
        let projection = Projection::from_control_points(from, [(0.0, 0.0), (wf, 0.0), (wf, hf), (0.0, hf)])?;
        let mut out = RgbImage::new(w, h);
        warp_into(page, projection, Interpolation::Bilinear, Border::Replicate, &mut out);
        out
    };
    let turned = image.height() as f32 >= 1.5 * image.width() as f32;
    let image = if turned { image::imageops::rotate270(&image) } else { image };
    Some(Crop { image, turned })
}

/// Indices of `aspect_ratios` grouped into batches of `batch_size`, narrowest first, so
/// each batch pads little; batches of one keep the given order.
pub fn batch_order(aspect_ratios: &[f32], batch_size: usize) -> Vec<Vec<usize>> {
    let mut idx: Vec<usize> = (0..aspect_ratios.len()).collect();
    if batch_size > 1 {
        idx.sort_by(|&a, &b| aspect_ratios[a].total_cmp(&aspect_ratios[b]));
    }
    idx.chunks(batch_size.max(1)).map(<[usize]>::to_vec).collect()
}

/// Resizes `img` to `height` keeping its aspect (capped at `max_w`) and writes it,
/// normalised, into a CHW slot `batch_w` wide; the right side stays 0 (padding). The same
/// half-pixel bilinear as the detector's input (OpenCV's `INTER_LINEAR`, which PaddleOCR
/// trains with), fused with normalisation: 3 % faster per receipt page than a resample then
/// a conversion. Returns the resized width.
pub fn write_normalized(
    img: &RgbImage,
    height: u32,
    max_w: u32,
    batch_w: u32,
    norm: &Normalization,
    slot: &mut [f32],
) -> u32 {
    let rw = resized_width(img, height, max_w).min(batch_w);
    super::det::resize_to_chw_strided(img, rw, height, batch_w as usize, norm, slot);
    rw
}

/// PaddleOCR trains recognisers on lines resized to 48 px high and padded to 320 px wide:
/// shorter lines always have padding after them, longer ones none.
pub const PADDED_BELOW_PX: u32 = 320;

pub fn resized_width(img: &RgbImage, height: u32, max_w: u32) -> u32 {
    let ratio = img.width() as f32 / img.height().max(1) as f32;
    ((height as f32 * ratio).ceil() as u32).clamp(1, max_w)
}

/// The recogniser: one ONNX Runtime session per worker. On a CPU, two single-threaded
/// sessions reading different lines at once beat one session with two intra-op threads
/// (a line crop is too small a job to split well across cores).
pub struct Recognizer {
    sessions: Vec<Session>,
    pub spec: RecognizerSpec,
    pub dict: Dictionary,
}

impl Recognizer {
    /// `sessions` must not be empty; each is used by one worker thread.
    pub fn new(sessions: Vec<Session>, spec: RecognizerSpec, dict: Dictionary) -> Self {
        Self { sessions, spec, dict }
    }

    /// Reads every crop; `on_batch` gets `(index, reading)` pairs as each batch finishes and
    /// may stop early (the rest stay empty). With batches of one, lines are read in the
    /// order given (reading order, so streamed text fills the page top-down); larger batches
    /// are grouped by width so they pad little.
    pub fn recognize(
        &mut self,
        crops: &[Option<Crop>],
        on_batch: &mut ReadingSink<'_>,
    ) -> Result<Vec<Reading>, ModelError> {
        let mut out = vec![Reading::default(); crops.len()];
        let present: Vec<usize> = (0..crops.len()).filter(|&i| crops[i].is_some()).collect();
        let ratios: Vec<f32> = present
            .iter()
            .filter_map(|&i| crops[i].as_ref())
            .map(|c| c.image.width() as f32 / c.image.height().max(1) as f32)
            .collect();
        let batches: Vec<Vec<usize>> = batch_order(&ratios, self.spec.batch_size)
            .into_iter()
            .map(|b| b.iter().map(|&k| present[k]).collect())
            .collect();
        let (spec, dict) = (&self.spec, &self.dict);
        let mut keep = |done: Vec<(usize, Reading)>| {
            let flow = on_batch(&done);
            for (i, r) in done {
                out[i] = r;
            }
            flow
        };
        if let [session] = self.sessions.as_mut_slice() {
            for batch in &batches {
                if keep(read_batch(session, spec, dict, crops, batch)?).is_break() {
                    break;
                }
            }
            return Ok(out);
        }
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let (tx, rx) = mpsc::channel();
        let result = std::thread::scope(|scope| {
            for session in &mut self.sessions {
                let (tx, next, stop, batches) = (tx.clone(), &next, &stop, &batches);
                scope.spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let Some(batch) = batches.get(next.fetch_add(1, Ordering::Relaxed)) else { break };
                        if tx.send(read_batch(session, spec, dict, crops, batch)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            // the calling thread only hands results on; the workers do the reading
            for done in rx {
                let flow = done.map(&mut keep);
                if !matches!(flow, Ok(ControlFlow::Continue(()))) {
                    stop.store(true, Ordering::Relaxed);
                    return flow.map(|_| ());
                }
            }
            Ok(())
        });
        result.map(|()| out)
    }
}

/// Runs one batch of crops through `session` and decodes each.
fn read_batch(
    session: &mut Session,
    spec: &RecognizerSpec,
    dict: &Dictionary,
    crops: &[Option<Crop>],
    batch: &[usize],
) -> Result<Vec<(usize, Reading)>, ModelError> {
    let items: Vec<(usize, &Crop)> = batch.iter().filter_map(|&i| crops[i].as_ref().map(|c| (i, c))).collect();
    let h = spec.height_px;
    let widest = items.iter().map(|(_, c)| resized_width(&c.image, h, spec.max_width_px)).max().unwrap_or(1);
    // zero columns after the widest line when it is short (see `RecognizerSpec::pad_px`)
    let pad = if widest < PADDED_BELOW_PX { spec.pad_px } else { 0 };
    let batch_w = (widest + pad).max(spec.min_width_px.min(spec.max_width_px));
    let slot_len = (3 * h * batch_w) as usize;
    let mut data = vec![0f32; slot_len * items.len()];
    let mut resized = Vec::with_capacity(items.len());
    for ((_, crop), slot) in items.iter().zip(data.chunks_exact_mut(slot_len)) {
        resized.push(write_normalized(&crop.image, h, spec.max_width_px, batch_w, &spec.normalization, slot));
    }
    let shape = [items.len(), 3, h as usize, batch_w as usize];
    let tensor = TensorRef::from_array_view((shape, &data[..])).map_err(ModelError::inference)?;
    let outputs = session.run(ort::inputs![tensor]).map_err(ModelError::inference)?;
    let (out_shape, probs) = outputs[0].try_extract_tensor::<f32>().map_err(ModelError::inference)?;
    let (steps, classes) = match **out_shape {
        [n, t, c] if n as usize == items.len() && (n * t * c) as usize == probs.len() => (t as usize, c as usize),
        _ => return Err(ModelError::inference(format!("recogniser returned shape {out_shape:?}"))),
    };
    let mut done = Vec::with_capacity(items.len());
    for (k, ((i, crop), rw)) in items.iter().zip(resized).enumerate() {
        // one time step covers batch_w / steps input pixels; map back to crop pixels
        let step_px = batch_w as f32 / steps as f32 * crop.image.width() as f32 / rw as f32;
        let mut r = ctc_greedy(&probs[k * steps * classes..(k + 1) * steps * classes], steps, classes, dict, step_px);
        r.height_px = crop.image.height() as f32;
        r.turned = crop.turned;
        done.push((*i, r));
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Point, Rect};

    fn dict() -> Dictionary {
        Dictionary::from_lines("a\nb\nc")
    }

    /// One-hot rows for a class sequence (probability 0.9 on the class).
    fn rows(seq: &[usize], classes: usize) -> Vec<f32> {
        seq.iter()
            .flat_map(|&c| (0..classes).map(move |i| if i == c { 0.9 } else { 0.1 / (classes - 1) as f32 }))
            .collect()
    }

    #[test]
    fn dictionary_adds_blank_first_and_space_last() {
        let d = dict();
        assert_eq!(d.num_classes(), 5);
        assert_eq!((d.get(0), d.get(1), d.get(3), d.get(4)), ("", "a", "c", " "));
        // Python's splitlines also splits on \r\n and U+2028, and ignores a final newline
        assert_eq!(Dictionary::from_lines("a\r\nb\u{2028}c\n").num_classes(), 5);
    }

    #[test]
    fn restricted_dictionary_keeps_blank_space_and_european_characters_only() {
        let d = Dictionary::from_lines("a\n中\né\n€\nß\n口\nΩ\nЖ\n－");
        let (keep, r) = d.restricted(Charset::European);
        assert_eq!(keep, vec![0, 1, 3, 4, 5, 7, 8, 10]);
        let all: Vec<&str> = (0..r.num_classes()).map(|i| r.get(i)).collect();
        assert_eq!(all, vec!["", "a", "é", "€", "ß", "Ω", "Ж", " "]);
        let (keep, r) = d.restricted(Charset::All);
        assert_eq!((keep.len(), r.num_classes()), (d.num_classes(), d.num_classes()));
    }

    #[test]
    fn ctc_merges_repeats_drops_blanks_and_keeps_doubled_letters_split_by_blank() {
        // a a _ a b b _ _ space c  → "aab c"
        let seq = [1, 1, 0, 1, 2, 2, 0, 0, 4, 3];
        let r = ctc_greedy(&rows(&seq, 5), seq.len(), 5, &dict(), 8.0);
        assert_eq!(r.text, "aab c");
        assert!((r.score - 0.9).abs() < 1e-5);
        // positions are the first step of each emitted run, centred: 0.5, 3.5, 4.5, 8.5, 9.5 steps
        let xs: Vec<f32> = r.chars.iter().map(|c| c.x_px).collect();
        assert_eq!(xs, vec![4.0, 28.0, 36.0, 68.0, 76.0]);
    }

    /// A row with `p` on class `c` and `q` on class `d`, the rest spread evenly.
    fn row(classes: usize, (c, p): (usize, f32), (d, q): (usize, f32)) -> Vec<f32> {
        let rest = (1.0 - p - q) / (classes - 2) as f32;
        (0..classes)
            .map(|i| {
                if i == c {
                    p
                } else if i == d {
                    q
                } else {
                    rest
                }
            })
            .collect()
    }

    #[test]
    fn ctc_keeps_each_characters_lead_over_the_runner_up_and_near_misses_between() {
        // "ab": a wavers with b at its first step and is sure at its second; between a and b
        // the blank wins narrowly over c (a character that may be missing); a space nearly
        // winning a blank step is no sign of a missing character
        let probs = [
            row(5, (1, 0.5), (2, 0.4)),
            row(5, (1, 0.9), (0, 0.05)),
            row(5, (0, 0.5), (3, 0.45)),
            row(5, (0, 0.6), (4, 0.35)),
            row(5, (2, 0.95), (0, 0.03)),
            row(5, (0, 0.6), (4, 0.35)),
            row(5, (4, 0.9), (0, 0.05)),
        ]
        .concat();
        let r = ctc_greedy(&probs, 7, 5, &dict(), 1.0);
        assert_eq!(r.text, "ab ");
        let (a, b, space) = (&r.chars[0], &r.chars[1], &r.chars[2]);
        assert!((a.prob - 0.5).abs() < 1e-6, "first step's probability, as before");
        assert!((a.margin - 0.85).abs() < 1e-6, "best lead over the run: {}", a.margin);
        assert!((a.gap, b.gap) == (0.0, 0.45), "{} {}", a.gap, b.gap);
        assert!((b.margin - 0.92).abs() < 1e-6);
        assert_eq!(space.gap, 0.0);
    }

    #[test]
    fn ctc_of_all_blanks_is_empty_with_zero_score() {
        let r = ctc_greedy(&rows(&[0, 0, 0], 5), 3, 5, &dict(), 8.0);
        assert_eq!((r.text.as_str(), r.score), ("", 0.0));
    }

    #[test]
    fn batches_are_sorted_by_width_and_chunked() {
        let b = batch_order(&[5.0, 1.0, 3.0, 2.0, 4.0], 2);
        assert_eq!(b, vec![vec![1, 3], vec![2, 4], vec![0]]);
        assert!(batch_order(&[], 6).is_empty());
        assert_eq!(batch_order(&[5.0, 1.0, 3.0], 1), vec![vec![0], vec![1], vec![2]]);
    }

    #[test]
    fn crops_plain_rects_and_warps_rotated_quads_to_their_size() {
        let page = RgbImage::from_fn(100, 80, |x, _| image::Rgb([x as u8, 0, 0]));
        let c = crop_quad(&page, &Quad::from_rect(&Rect::new(10.0, 20.0, 50.0, 30.0))).unwrap();
        assert_eq!(c.image.dimensions(), (40, 10));
        assert_eq!(c.image.get_pixel(0, 0).0[0], 10);
        let q = Quad([Point::new(10.0, 30.0), Point::new(50.0, 20.0), Point::new(52.5, 30.0), Point::new(12.5, 40.0)]);
        let c = crop_quad(&page, &q).unwrap();
        assert!(!c.turned);
        assert_eq!(c.image.dimensions(), (41, 10));
        let tall = crop_quad(&page, &Quad::from_rect(&Rect::new(10.0, 10.0, 20.0, 60.0))).unwrap();
        assert!(tall.turned && tall.image.width() == 50);
        assert!(crop_quad(&page, &Quad::from_rect(&Rect::new(10.0, 10.0, 10.0, 60.0))).is_none());
    }

    #[test]
    fn normalised_slot_is_padded_with_zeros() {
        let img = RgbImage::from_pixel(20, 10, image::Rgb([255, 255, 255]));
        let mut slot = vec![0f32; 3 * 48 * 200];
        let rw = write_normalized(&img, 48, 1000, 200, &Normalization::default(), &mut slot);
        assert_eq!(rw, 96);
        assert_eq!(slot[0], 1.0);
        assert_eq!(slot[95], 1.0);
        assert_eq!(slot[96], 0.0);
        // every row of every plane starts a slot row (200 wide) and is padded after 96
        for (c, y) in [(0usize, 1usize), (1, 0), (2, 47)] {
            let row = &slot[c * 48 * 200 + y * 200..c * 48 * 200 + (y + 1) * 200];
            assert!(row[..96].iter().all(|&v| v == 1.0) && row[96..].iter().all(|&v| v == 0.0), "{c} {y}");
        }
    }
}
