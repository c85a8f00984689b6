//! OCR model suggestions through ONNX Runtime: PP-OCR-style text detection (DB), an optional
//! direction classifier and CTC recognition, all pre- and post-processing in Rust.
//!
//! The runtime library and the default PP-OCRv6 small models are provisioned at build time
//! (build.rs, packaging/provision/runtime.lock); [`ModelConfig`] can point elsewhere. When
//! anything is missing or wrong, [`ModelSource::load`] returns a [`ModelError`] whose message
//! says what to do, and the rest of the app keeps working.

pub mod bands;
mod cls;
pub mod confidence;
pub mod det;
mod onnx_edit;
pub mod rec;
pub mod runtime;
pub mod spec;
pub mod split;

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use image::{DynamicImage, RgbImage};

use self::cls::Classifier;
use self::det::{DetectedBox, Detector};
use self::rec::{Crop, Dictionary, Reading, ReadingSink, Recognizer, crop_quad};
use self::runtime::{PROVISION_HINT, io_shapes, open_session, open_session_from_memory};
use self::spec::{Charset, DictionarySource, ModelSet, Precision, RecognizerSpec};
use super::{Level, Proposal, ProposalSource};
use crate::domain::{Quad, Rect};

/// Receives each recognised batch as `(region index, text, confidence)`; `Break` cancels.
pub type TextSink<'a> = dyn FnMut(&[(usize, String, f32)]) -> ControlFlow<()> + 'a;

/// Why the model pass cannot run (or failed); every message ends in what to do.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("ONNX Runtime library not found (looked for {}); the model pass is disabled. To enable it, {PROVISION_HINT}", list(.tried))]
    RuntimeNotFound { tried: Vec<PathBuf> },
    #[error("cannot load ONNX Runtime from {}: {reason}. It must be libonnxruntime.so 1.24 or newer for this platform; {PROVISION_HINT}", .path.display())]
    RuntimeLoad { path: PathBuf, reason: String },
    #[error("OCR model directory not found (looked in {}); the model pass is disabled. To enable it, {PROVISION_HINT}", list(.tried))]
    ModelDirNotFound { tried: Vec<PathBuf> },
    #[error("model file {} not found; {PROVISION_HINT}, or fix `file` in {}", .path.display(), spec::SPEC_FILE_NAME)]
    ModelNotFound { path: PathBuf },
    #[error("{} is not a loadable ONNX model ({reason}); the file is corrupt or truncated: delete it and {PROVISION_HINT}", .path.display())]
    ModelLoad { path: PathBuf, reason: String },
    #[error("{} is not a {expected} model: {reason}; check `kind` and `file` in {}", .path.display(), spec::SPEC_FILE_NAME)]
    WrongModel { path: PathBuf, expected: &'static str, reason: String },
    #[error("{}: bad model spec: {reason}", .path.display())]
    BadSpec { path: PathBuf, reason: String },
    #[error("cannot read the recogniser's dictionary {}: {reason}", .path.display())]
    Dictionary { path: PathBuf, reason: String },
    #[error("OCR model inference failed: {0}")]
    Inference(String),
}

impl ModelError {
    fn inference(e: impl std::fmt::Display) -> Self {
        Self::Inference(e.to_string())
    }
}

fn list(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "nowhere: no build-time directory and no executable directory".into();
    }
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// Where the runtime and models come from and how the pipeline runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// `--ort-lib`; else `ORT_DYLIB_PATH`, the build-time dir, `<exe dir>/facture-runtime`.
    pub ort_lib: Option<PathBuf>,
    /// Model directory; else `FACTURE_MODEL_DIR`, the build-time dir, next to the executable.
    /// A `facture-models.json` inside replaces the default PP-OCRv6 small spec set.
    pub model_dir: Option<PathBuf>,
    /// CPU threads for the pass: the detector's intra-op threads, and the number of
    /// single-threaded recogniser sessions reading lines in parallel (at most 4).
    pub threads: usize,
    /// Run the 0°/180° classifier on every line (for scans fed in upside down).
    pub direction_classifier: bool,
    /// Split lines at space runs wider than this many line heights; `None` keeps PP-OCR's lines.
    pub split_gap_factor: Option<f32>,
    /// Cut read lines at blank runs this many word spaces wide (table cells, a caption set
    /// apart from its value) and read each part on its own (see [`split::cell_cuts`]);
    /// `None` keeps PP-OCR's lines.
    pub cell_gap_factor: Option<f32>,
    /// Also cut read lines where the rows around them show a column gap (see
    /// [`split::column_cuts`]); only with `cell_gap_factor`.
    pub column_cuts: bool,
    /// Lines read with a lower mean character probability are dropped.
    pub min_text_score: f32,
    /// Shrink level boxes to their ink plus this margin; `None` keeps the detector's
    /// unclipped (loose) boxes.
    pub tighten_margin_px: Option<f32>,
    /// The int8 recogniser's weights; `None`: this CPU's path ([`Int8Weights::for_this_cpu`]).
    /// Forcing 7 bits on a VNNI machine measures the path other CPUs take.
    pub int8_weights: Option<Int8Weights>,
}

impl ModelConfig {
    /// True when a [`ModelSource`] loaded with `self` is what `other` would load (same
    /// runtime, model directory, sessions); only post-recognition thresholds differ.
    pub fn loads_like(&self, other: &ModelConfig) -> bool {
        (&self.ort_lib, &self.model_dir, self.threads, self.direction_classifier, self.int8_weights)
            == (&other.ort_lib, &other.model_dir, other.threads, other.direction_classifier, other.int8_weights)
    }

    /// Parallel recogniser sessions: one per thread, at most 4 (each holds its own copy of
    /// the model's weights).
    pub fn recognizer_workers(&self) -> usize {
        self.threads.clamp(1, 4)
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            ort_lib: None,
            model_dir: None,
            threads: 2,
            direction_classifier: false,
            split_gap_factor: Some(1.5),
            cell_gap_factor: Some(CELL_GAP_FACTOR),
            column_cuts: true,
            min_text_score: 0.5,
            tighten_margin_px: Some(2.0),
            int8_weights: None,
        }
    }
}

/// One detected line and what the recogniser read in it.
#[derive(Debug, Clone)]
pub struct Line {
    pub quad: Quad,
    pub det_score: f32,
    pub reading: Reading,
    /// When the line was cut at gaps between cells ([`ModelSource::cut_cells`]): its parts,
    /// each read on its own, which replace it.
    pub parts: Vec<Line>,
}

/// The model pass: a [`ProposalSource`] that proposes line boxes with their text.
pub struct ModelSource {
    name: String,
    config: ModelConfig,
    read_from: FileStamps,
    det: Detector,
    rec: Recognizer,
    cls: Option<Classifier>,
    rec_precision: RecPrecision,
}

/// What the recogniser's convolutions run in once loaded.
#[derive(Debug, Clone, PartialEq)]
pub enum RecPrecision {
    Float,
    /// This many convolutions run in 8 bits, with weights of this width.
    Int8 {
        convs: usize,
        weights: Int8Weights,
    },
    /// The spec asked for int8 but this recogniser runs in float, and why.
    FloatFallback(String),
}

impl std::fmt::Display for RecPrecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecPrecision::Float => write!(f, "float"),
            RecPrecision::Int8 { convs, weights } => write!(f, "int8 ({convs} convolutions, {weights})"),
            RecPrecision::FloatFallback(why) => write!(f, "float ({why})"),
        }
    }
}

/// How wide the int8 recogniser's weights are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int8Weights {
    /// ±127: exact where uint8 × int8 products are summed in 32 bits (VNNI's `vpdpbusd`,
    /// ARM's dot products).
    Bits8,
    /// ±63, ONNX Runtime's `reduce_range`: x86 without VNNI sums pairs of uint8 × int8
    /// products in a saturating 16-bit lane (`vpmaddubsw`), and 2 × 255 × 63 always fits.
    Bits7,
}

impl Int8Weights {
    /// 8-bit weights where the CPU sums products in 32 bits, 7-bit ones on x86-64 without
    /// VNNI (AMD Zen 2/3, Intel before Ice Lake / Alder Lake): int8 everywhere, exact
    /// everywhere.
    pub fn for_this_cpu() -> Self {
        if has_vnni() || !cfg!(target_arch = "x86_64") { Self::Bits8 } else { Self::Bits7 }
    }

    pub fn bits(self) -> u32 {
        match self {
            Self::Bits8 => 8,
            Self::Bits7 => 7,
        }
    }
}

impl std::fmt::Display for Int8Weights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bits8 => write!(f, "8-bit weights"),
            Self::Bits7 => write!(f, "7-bit weights"),
        }
    }
}

/// True on x86-64 with AVX-512 VNNI or AVX-VNNI (32-bit sums of uint8 × int8 products).
pub fn has_vnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512vnni") || std::arch::is_x86_feature_detected!("avxvnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The instructions this CPU's int8 path runs on, for reports: "AVX-512 VNNI", "AVX-VNNI",
/// "AVX2 (no VNNI)", …
pub fn cpu_int8_path() -> String {
    #[cfg(target_arch = "x86_64")]
    {
        let weights = Int8Weights::for_this_cpu();
        let isa = if std::arch::is_x86_feature_detected!("avx512vnni") {
            "AVX-512 VNNI"
        } else if std::arch::is_x86_feature_detected!("avxvnni") {
            "AVX-VNNI"
        } else if std::arch::is_x86_feature_detected!("avx512bw") {
            "AVX-512 (no VNNI)"
        } else if std::arch::is_x86_feature_detected!("avx2") {
            "AVX2 (no VNNI)"
        } else {
            "SSE (no VNNI)"
        };
        format!("{isa}, {weights}")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        format!("{}, {}", std::env::consts::ARCH, Int8Weights::for_this_cpu())
    }
}

/// A gap between cells is at least this many of the line's word spaces wide (see
/// [`split::cell_cuts`]).
pub const CELL_GAP_FACTOR: f32 = 1.8;

/// Activation ranges measured for the default recogniser (PP-OCRv6 rec small).
const BUILTIN_INT8_RANGES: &str = include_str!("../../../assets/models/PP-OCRv6_rec_small.int8-ranges.json");

#[derive(serde::Deserialize)]
struct Int8RangesFile {
    /// sha256 of the recogniser file the ranges were measured on; absent: trust the file.
    #[serde(default)]
    model_sha256: Option<String>,
    convs: onnx_edit::ConvRanges,
}

impl ModelSource {
    /// Finds and loads ONNX Runtime and the models, checking that each file is the kind of
    /// model its spec says.
    pub fn load(config: &ModelConfig) -> Result<Self, ModelError> {
        let lib = runtime::find_runtime(config.ort_lib.as_deref())?;
        let env = runtime::init_once(&lib)?;
        let dir = runtime::find_model_dir(config.model_dir.as_deref())?;
        let set = ModelSet::for_dir(&dir)?;
        let spec_path = dir.join(spec::SPEC_FILE_NAME);
        let missing = |kind: &str| ModelError::BadSpec { path: spec_path.clone(), reason: format!("no {kind} model") };
        let det_spec = set.detector().ok_or_else(|| missing("text-detector-db"))?.clone();
        let rec_spec = set.recognizer().ok_or_else(|| missing("text-recognizer-ctc"))?.clone();

        let det_path = dir.join(&det_spec.file);
        let rec_path = dir.join(&rec_spec.file);
        let cls_spec = set.classifier().filter(|_| config.direction_classifier);
        // stamped before reading, so a file replaced while loading is read again next time
        let mut files = vec![spec_path.clone(), det_path.clone(), rec_path.clone()];
        if let DictionarySource::File { path } = &rec_spec.dictionary {
            files.push(dir.join(path));
        }
        files.extend(rec_spec.int8_ranges.as_ref().map(|p| dir.join(p)));
        files.extend(cls_spec.map(|c| dir.join(&c.file)));
        let read_from = FileStamps::of(dir.clone(), files);

        let det_session = open_session(&env, &det_path, config.threads)?;
        check_detector(&det_path, &det_session)?;

        let (rec_model, dict, rec_sha) = load_recognizer(&dir, &rec_path, &rec_spec)?;
        let weights = config.int8_weights.unwrap_or_else(Int8Weights::for_this_cpu);
        let (rec_model, rec_precision) =
            quantize_recognizer(&env, &dir, &rec_path, &rec_spec, rec_model, rec_sha.as_deref(), weights)?;
        let rec_session = open_session_from_memory(&env, &rec_path, &rec_model, 1)?;
        check_recognizer(&rec_path, &rec_session, &dict)?;
        let mut rec_sessions = vec![rec_session];
        for _ in 1..config.recognizer_workers() {
            rec_sessions.push(open_session_from_memory(&env, &rec_path, &rec_model, 1)?);
        }

        let cls = match cls_spec {
            Some(c) => {
                let path = dir.join(&c.file);
                let session = open_session(&env, &path, config.threads)?;
                check_classifier(&path, &session)?;
                Some(Classifier::new(session, c.clone()))
            }
            None => None,
        };
        Ok(Self {
            name: set.name.clone(),
            config: config.clone(),
            read_from,
            det: Detector::new(det_session, det_spec),
            rec: Recognizer::new(rec_sessions, rec_spec, dict),
            cls,
            rec_precision,
        })
    }

    /// What the recogniser's convolutions run in (the spec's `precision`, or why not).
    pub fn recognizer_precision(&self) -> &RecPrecision {
        &self.rec_precision
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// False when loading again would read other files: the model directory now resolves
    /// elsewhere, or a model, dictionary or spec file was replaced, changed or removed
    /// (or a spec file appeared) since these models were loaded.
    pub fn is_current(&self) -> bool {
        self.read_from.is_current(self.config.model_dir.as_deref())
    }

    /// Line boxes without text, in reading order: what the UI shows first.
    pub fn detect(&mut self, page: &DynamicImage) -> Result<Vec<Proposal>, ModelError> {
        Ok(self.detect_boxes(page)?.iter().map(DetectedBox::proposal).collect())
    }

    /// The detector's line quads, in reading order, to read with [`Self::read_boxes`].
    pub fn detect_boxes(&mut self, page: &DynamicImage) -> Result<Vec<DetectedBox>, ModelError> {
        self.det.detect(&as_rgb(page))
    }

    /// Reads detected boxes, handing each finished batch of lines `(index into boxes, line)`
    /// to `on_lines` as recognition completes (in reading order per worker), so text can
    /// stream into the UI; `Break` stops early and the rest stay unread (empty).
    pub fn read_boxes(
        &mut self,
        page: &DynamicImage,
        boxes: &[DetectedBox],
        on_lines: &mut LineSink<'_>,
    ) -> Result<Vec<Line>, ModelError> {
        let rgb = as_rgb(page);
        let quads: Vec<Quad> = boxes.iter().map(|b| b.quad).collect();
        let line = |i: usize, reading: Reading| Line {
            quad: boxes[i].quad,
            det_score: boxes[i].score,
            reading,
            parts: Vec::new(),
        };
        let readings = self.read(&rgb, &quads, &mut |done| {
            let lines: Vec<(usize, Line)> = done.iter().map(|(i, r)| (*i, line(*i, r.clone()))).collect();
            on_lines(&lines)
        })?;
        Ok(readings.into_iter().enumerate().map(|(i, r)| line(i, r)).collect())
    }

    /// Reads the text in each region (a rect is `Quad::from_rect`), e.g. after an annotator
    /// moved a box: `(text, confidence)` per region, `("", 0.0)` for an empty one.
    pub fn recognize(&mut self, page: &DynamicImage, regions: &[Quad]) -> Result<Vec<(String, f32)>, ModelError> {
        self.recognize_streaming(page, regions, &mut |_| ControlFlow::Continue(()))
    }

    /// Like [`Self::recognize`], handing each finished batch `(region index, text, confidence)`
    /// to `on_batch` so text can stream into the UI; `Break` stops early (cancel).
    pub fn recognize_streaming(
        &mut self,
        page: &DynamicImage,
        regions: &[Quad],
        on_batch: &mut TextSink<'_>,
    ) -> Result<Vec<(String, f32)>, ModelError> {
        let rgb = as_rgb(page);
        let readings = self.read(&rgb, regions, &mut |done| {
            let batch: Vec<(usize, String, f32)> =
                done.iter().map(|(i, r)| (*i, r.text.trim().to_string(), confidence::of_chars(&r.chars))).collect();
            on_batch(&batch)
        })?;
        Ok(readings.into_iter().map(|r| (r.text.trim().to_string(), confidence::of_chars(&r.chars))).collect())
    }

    /// The whole pass on one page: detect, read, drop unreadable lines, split at wide gaps.
    pub fn read_page(&mut self, page: &DynamicImage) -> Result<Vec<Proposal>, ModelError> {
        let lines = self.read_lines(page)?;
        Ok(self.line_proposals(page, &lines))
    }

    /// Detected lines with their readings (cut into cells, read again), before filtering
    /// and splitting.
    pub fn read_lines(&mut self, page: &DynamicImage) -> Result<Vec<Line>, ModelError> {
        let boxes = self.detect_boxes(page)?;
        let mut lines = self.read_boxes(page, &boxes, &mut |_| ControlFlow::Continue(()))?;
        self.cut_cells(page, &mut lines)?;
        Ok(lines)
    }

    /// Cuts read lines where their pixels show a gap between cells and reads each part on its
    /// own, into [`Line::parts`] (see [`cell_plan`] and [`Self::read_parts`]); returns the
    /// indices of the lines cut.
    pub fn cut_cells(&mut self, page: &DynamicImage, lines: &mut [Line]) -> Result<Vec<usize>, ModelError> {
        let plan = cell_plan(&self.config, page, lines, &[]);
        self.read_parts(page, lines, plan)
    }

    /// Reads the parts `plan` cuts each line into (a [`cell_plan`]) into [`Line::parts`];
    /// returns the indices of the lines cut. A part that is not a cell (no letter or digit, a
    /// lone unit or tax letter) rejoins its neighbour and the joined part is read again; the
    /// line's other cuts stay (see [`split::regroup_parts`]). A line left with one part, or
    /// whose joined part still reads as no cell, stays whole.
    pub fn read_parts(
        &mut self,
        page: &DynamicImage,
        lines: &mut [Line],
        plan: Vec<Vec<Quad>>,
    ) -> Result<Vec<usize>, ModelError> {
        let (mut quads, mut owners) = (Vec::new(), Vec::new());
        for (i, parts) in plan.into_iter().enumerate().take(lines.len()) {
            owners.extend(std::iter::repeat_n(i, parts.len()));
            quads.extend(parts);
        }
        if quads.is_empty() {
            return Ok(Vec::new());
        }
        let rgb = as_rgb(page);
        let readings = self.read(&rgb, &quads, &mut |_| ControlFlow::Continue(()))?;
        let mut parts: Vec<Vec<Line>> = vec![Vec::new(); lines.len()];
        for ((q, r), i) in quads.into_iter().zip(readings).zip(owners) {
            parts[i].push(Line { quad: q, det_score: lines[i].det_score, reading: r, parts: Vec::new() });
        }
        // each line's cells, when it stays cut: a part read alone, or an empty slot for a run
        // of parts joined and read again
        let mut joined = Vec::new();
        let mut cells: Vec<Option<Vec<Option<Line>>>> = Vec::with_capacity(lines.len());
        for (i, p) in parts.into_iter().enumerate() {
            let texts: Vec<&str> = p.iter().map(|l| l.reading.text.as_str()).collect();
            let Some(runs) = split::regroup_parts(&texts) else {
                cells.push(None);
                continue;
            };
            let mut p: Vec<Option<Line>> = p.into_iter().map(Some).collect();
            let mut slots = Vec::with_capacity(runs.len());
            for (k, run) in runs.into_iter().enumerate() {
                if run.len() == 1 {
                    slots.push(p[run.start].take());
                    continue;
                }
                if let (Some(first), Some(last)) = (&p[run.start], &p[run.end - 1]) {
                    let (first, last) = (first.quad.0, last.quad.0);
                    joined.push((i, k, Quad([first[0], last[1], last[2], first[3]])));
                }
                slots.push(None);
            }
            cells.push(Some(slots));
        }
        if !joined.is_empty() {
            let quads: Vec<Quad> = joined.iter().map(|&(_, _, q)| q).collect();
            let readings = self.read(&rgb, &quads, &mut |_| ControlFlow::Continue(()))?;
            for ((i, k, quad), reading) in joined.into_iter().zip(readings) {
                if let Some(slot) = cells[i].as_mut().and_then(|c| c.get_mut(k)) {
                    *slot = Some(Line { quad, det_score: lines[i].det_score, reading, parts: Vec::new() });
                }
            }
        }
        let mut cut = Vec::new();
        for (i, slots) in cells.into_iter().enumerate() {
            let Some(mut cells) = slots.and_then(|s| s.into_iter().collect::<Option<Vec<Line>>>()) else { continue };
            let texts: Vec<&str> = cells.iter().map(|l| l.reading.text.as_str()).collect();
            // a joined part that still reads as no cell: the cuts were not between cells
            if split::regroup_parts(&texts).is_some_and(|r| r.len() == cells.len()) {
                let mut readings: Vec<&mut Reading> = cells.iter_mut().map(|l| &mut l.reading).collect();
                split::restore_colons(&lines[i].reading, &mut readings);
                lines[i].parts = cells;
                cut.push(i);
            }
        }
        Ok(cut)
    }

    /// Proposals from read lines under the current config (see [`line_proposals`]).
    pub fn line_proposals(&self, page: &DynamicImage, lines: &[Line]) -> Vec<Proposal> {
        line_proposals(&self.config, page, lines)
    }

    /// Changes thresholds that apply after recognition (split factor, minimum text score).
    pub fn set_config(&mut self, config: ModelConfig) {
        self.config = config;
    }

    fn read(
        &mut self,
        page: &RgbImage,
        regions: &[Quad],
        on_batch: &mut ReadingSink<'_>,
    ) -> Result<Vec<Reading>, ModelError> {
        let mut crops: Vec<Option<Crop>> = regions.iter().map(|q| crop_quad(page, q)).collect();
        if let Some(cls) = self.cls.as_mut() {
            cls.fix_upside_down(&mut crops)?;
        }
        self.rec.recognize(&crops, on_batch)
    }
}

impl ProposalSource for ModelSource {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn propose(&mut self, page: &DynamicImage) -> anyhow::Result<Vec<Proposal>> {
        Ok(self.read_page(page)?)
    }
}

/// Size and modification time of each file a [`ModelSource`] was loaded from (`None` for a
/// file that was absent, like an optional spec file), and the model dir it resolved.
#[derive(Debug, Clone, PartialEq)]
struct FileStamps {
    dir: PathBuf,
    files: Vec<(PathBuf, Option<(u64, std::time::SystemTime)>)>,
}

impl FileStamps {
    fn of(dir: PathBuf, files: Vec<PathBuf>) -> Self {
        let files = files.into_iter().map(|p| (p.clone(), Self::stamp(&p))).collect();
        Self { dir, files }
    }

    fn stamp(path: &Path) -> Option<(u64, std::time::SystemTime)> {
        let meta = std::fs::metadata(path).ok()?;
        Some((meta.len(), meta.modified().ok()?))
    }

    fn is_current(&self, model_dir: Option<&Path>) -> bool {
        runtime::find_model_dir(model_dir).is_ok_and(|d| d == self.dir)
            && self.files.iter().all(|(p, stamp)| Self::stamp(p) == *stamp)
    }
}

/// Receives read lines as `(index into the detected boxes, line)`; `Break` cancels.
pub type LineSink<'a> = dyn FnMut(&[(usize, Line)]) -> ControlFlow<()> + 'a;

/// Where to cut each of `lines` into cells, as the quads of its parts (empty: keep it
/// whole), from the pixels of its crop and where its reading put spaces (see
/// [`split::cell_cuts`]). The page's word space is measured on `lines` and `context` (the
/// page's other lines read so far, when `lines` is one batch of a page). Nothing is cut when
/// the config's `cell_gap_factor` is `None`.
pub fn cell_plan(config: &ModelConfig, page: &DynamicImage, lines: &[Line], context: &[Line]) -> Vec<Vec<Quad>> {
    let Some(factor) = config.cell_gap_factor else { return vec![Vec::new(); lines.len()] };
    let rgb = as_rgb(page);
    let measure = |l: &Line| {
        let crop = crop_quad(&rgb, &l.quad)?;
        let gaps = split::LineGaps::measure(&crop.image, &l.reading)?;
        Some((gaps, l.reading.text.trim().chars().count(), crop.image.width()))
    };
    let measured: Vec<_> = lines.iter().chain(context).map(measure).collect();
    let plan: Vec<Option<(split::LineGaps, usize)>> =
        measured.iter().map(|m| m.as_ref().map(|(g, n, _)| (g.clone(), *n))).collect();
    let mut cuts = split::cell_cuts(&plan, factor);
    if config.column_cuts {
        let placed: Vec<Option<split::Placed>> = lines
            .iter()
            .chain(context)
            .zip(&measured)
            .map(|(l, m)| m.as_ref().map(|(_, _, w)| split::Placed { quad: l.quad, width: *w as f32 }))
            .collect();
        split::column_cuts(&placed, &plan, &mut cuts);
    }
    lines
        .iter()
        .zip(cuts.iter().zip(&measured))
        .map(|(l, (c, m))| match m {
            Some((g, _, w)) if !c.is_empty() => split::cut_quad(&l.quad, *w as f32, g.ink_height, c, &g.rules),
            _ => Vec::new(),
        })
        .collect()
}

/// True when [`cell_plan`] could cut `line` (it has a blank run of at least
/// [`split::CELL_GAP_MIN`] ink heights): whether it is cut depends on the whole page's lines.
pub fn may_cut(config: &ModelConfig, page: &DynamicImage, line: &Line) -> bool {
    if config.cell_gap_factor.is_none() {
        return false;
    }
    let Some(crop) = crop_quad(&as_rgb(page), &line.quad) else { return false };
    split::LineGaps::measure(&crop.image, &line.reading)
        .is_some_and(|g| g.gaps.iter().any(|(a, z, _)| z - a >= split::CELL_GAP_MIN * g.ink_height))
}

/// Proposals from read lines under `config`: unreadable lines dropped, level lines split at
/// wide gaps and shrunk to their ink. Works on any subset of a page's lines, so a model pass
/// can turn each batch into final boxes as it is read.
pub fn line_proposals(config: &ModelConfig, page: &DynamicImage, lines: &[Line]) -> Vec<Proposal> {
    let rgb = config.tighten_margin_px.map(|_| as_rgb(page));
    let mut out = Vec::new();
    for line in lines {
        let first = out.len();
        one_line_proposals(config, rgb.as_deref(), line, &mut out);
        // one of several suggestions made from one detected line: where it was cut is a guess
        if out.len() - first > 1 {
            for p in &mut out[first..] {
                p.score = confidence::as_cut(p.score);
            }
        }
    }
    out
}

/// The suggestions of one read line (of its parts, when it was cut into cells), before
/// [`line_proposals`] scores them as cut; `page` is there when boxes are shrunk to their ink.
fn one_line_proposals(config: &ModelConfig, page: Option<&RgbImage>, line: &Line, out: &mut Vec<Proposal>) {
    let Line { quad, reading, parts, .. } = line;
    if !parts.is_empty() {
        for part in parts {
            one_line_proposals(config, page, part, out);
        }
        return;
    }
    if reading.text.trim().is_empty() || reading.score < config.min_text_score {
        return;
    }
    let margin = config.tighten_margin_px;
    if is_skewed(quad) {
        let quad = match (page, margin) {
            (Some(page), Some(m)) => split::tighten_quad_to_ink(page, quad, m),
            _ => *quad,
        };
        out.push(line_proposal(quad, Some(reading.text.trim().to_string()), confidence::of_chars(&reading.chars)));
        return;
    }
    // an infinite factor never splits: the whole line is one piece
    let factor = config.split_gap_factor.unwrap_or(f32::INFINITY);
    for piece in split::split_at_wide_gaps(&quad.bounds(), reading, factor) {
        if !piece.text.is_empty() {
            let rect = match (page, margin) {
                (Some(page), Some(m)) => split::tighten_to_ink(page, &piece.rect, m),
                _ => piece.rect,
            };
            out.push(line_proposal(Quad::from_rect(&rect), Some(piece.text), piece.score));
        }
    }
}

impl DetectedBox {
    /// The box as a suggestion without text (a rect, or a quad when it leans).
    pub fn proposal(&self) -> Proposal {
        line_proposal(self.quad, None, self.score)
    }
}

/// The page as 8-bit RGB, borrowed when it already is (a decoded JPEG scan of 35 megapixels
/// costs ~50 ms to copy).
fn as_rgb(page: &DynamicImage) -> Cow<'_, RgbImage> {
    match page {
        DynamicImage::ImageRgb8(rgb) => Cow::Borrowed(rgb),
        other => Cow::Owned(other.to_rgb8()),
    }
}

/// A quad whose top edge leans more than ~2° is kept as a quad; others become plain rects.
fn is_skewed(q: &Quad) -> bool {
    let [tl, tr, _, bl] = q.0;
    let top = (tr.y - tl.y).atan2(tr.x - tl.x).abs();
    let left = (bl.x - tl.x).atan2(bl.y - tl.y).abs();
    top.max(left) > 2f32.to_radians()
}

fn line_proposal(quad: Quad, text: Option<String>, score: f32) -> Proposal {
    let rect: Rect = quad.bounds();
    Proposal { rect, quad: is_skewed(&quad).then_some(quad), text, score, level: Level::Line }
}

fn rank_and_dims(shapes: &[Vec<i64>]) -> String {
    shapes.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
}

fn check_detector(path: &Path, session: &ort::session::Session) -> Result<(), ModelError> {
    let (ins, outs) = io_shapes(session);
    let ok = matches!(ins.first().map(Vec::as_slice), Some([_, 3 | -1, _, _]))
        && matches!(outs.first().map(Vec::as_slice), Some([_, 1 | -1, _, _]));
    if ok {
        return Ok(());
    }
    Err(ModelError::WrongModel {
        path: path.into(),
        expected: "text-detector-db",
        reason: format!(
            "a DB detector takes [N,3,H,W] and returns a probability map [N,1,H,W], this one takes {} and returns {}",
            rank_and_dims(&ins),
            rank_and_dims(&outs)
        ),
    })
}

fn check_recognizer(path: &Path, session: &ort::session::Session, dict: &Dictionary) -> Result<(), ModelError> {
    let (ins, outs) = io_shapes(session);
    let wrong = |reason: String| ModelError::WrongModel { path: path.into(), expected: "text-recognizer-ctc", reason };
    match (ins.first().map(Vec::as_slice), outs.first().map(Vec::as_slice)) {
        (Some([_, 3 | -1, _, _]), Some([_, _, c])) if *c == -1 || *c as usize == dict.num_classes() => Ok(()),
        (Some([_, 3 | -1, _, _]), Some([_, _, c])) => Err(wrong(format!(
            "it outputs {c} classes but its dictionary gives {} (blank + entries + space)",
            dict.num_classes()
        ))),
        _ => Err(wrong(format!(
            "a CTC recogniser takes [N,3,H,W] and returns [N,T,classes], this one takes {} and returns {}",
            rank_and_dims(&ins),
            rank_and_dims(&outs)
        ))),
    }
}

fn check_classifier(path: &Path, session: &ort::session::Session) -> Result<(), ModelError> {
    let (ins, outs) = io_shapes(session);
    if matches!(ins.first().map(Vec::as_slice), Some([_, 3 | -1, _, _]))
        && matches!(outs.first().map(Vec::as_slice), Some([_, 2]))
    {
        return Ok(());
    }
    Err(ModelError::WrongModel {
        path: path.into(),
        expected: "text-direction-cls",
        reason: format!("a direction classifier returns [N,2], this one returns {}", rank_and_dims(&outs)),
    })
}

/// The recogniser in the spec's precision. `int8` needs activation ranges measured on this
/// very model: when they are for another file, or the graph cannot be quantised, the
/// recogniser runs in float and the reason is kept (a slower pass, never a failed one). A
/// ranges file the spec names but that cannot be read is a spec error.
fn quantize_recognizer(
    env: &ort::environment::Environment,
    dir: &Path,
    path: &Path,
    spec: &RecognizerSpec,
    model: Vec<u8>,
    file_sha256: Option<&str>,
    weights: Int8Weights,
) -> Result<(Vec<u8>, RecPrecision), ModelError> {
    if spec.precision == Precision::Float {
        return Ok((model, RecPrecision::Float));
    }
    let (ranges, source) = match &spec.int8_ranges {
        Some(rel) => {
            let p = dir.join(rel);
            let bad = |reason: String| ModelError::BadSpec { path: p.clone(), reason };
            let text = std::fs::read_to_string(&p).map_err(|e| bad(format!("cannot read int8 ranges: {e}")))?;
            let ranges: Int8RangesFile =
                serde_json::from_str(&text).map_err(|e| bad(format!("not an int8 ranges file: {e}")))?;
            (ranges, p.display().to_string())
        }
        None => match serde_json::from_str::<Int8RangesFile>(BUILTIN_INT8_RANGES) {
            Ok(r) => (r, "the built-in ranges".to_string()),
            Err(e) => return Ok((model, RecPrecision::FloatFallback(format!("built-in int8 ranges unreadable: {e}")))),
        },
    };
    let fallback = |why: String| Ok((model.clone(), RecPrecision::FloatFallback(why)));
    if let (Some(want), Some(have)) = (ranges.model_sha256.as_deref(), file_sha256)
        && !want.eq_ignore_ascii_case(have)
    {
        return fallback(format!("{source} were measured on another recogniser file"));
    }
    let optimized = match runtime::optimize_basic(env, path, &model) {
        Ok(m) => m,
        Err(e) => return fallback(format!("cannot prepare it for int8: {e}")),
    };
    match onnx_edit::quantize_convs(&optimized, &ranges.convs, weights.bits()) {
        Ok((_, 0)) => fallback(format!("no convolution of it is named in {source}")),
        Ok((quantized, convs)) => Ok((quantized, RecPrecision::Int8 { convs, weights })),
        Err(e) => fallback(format!("cannot quantise it: {e}")),
    }
}

/// The recogniser's model bytes and dictionary, with its output layer narrowed to the
/// spec's charset (see [`onnx_edit::restrict_classes`]), and the file's sha256 when the spec
/// asks for int8.
fn load_recognizer(
    dir: &Path,
    path: &Path,
    spec: &RecognizerSpec,
) -> Result<(Vec<u8>, Dictionary, Option<String>), ModelError> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ModelError::ModelNotFound { path: path.into() },
        _ => ModelError::ModelLoad { path: path.into(), reason: e.to_string() },
    })?;
    // only int8 needs it (to match ranges to this file); 21 MB cost ~50 ms
    let sha = (spec.precision == Precision::Int8).then(|| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    });
    let dict = match &spec.dictionary {
        DictionarySource::Metadata { key } => {
            let text = onnx_edit::metadata(&bytes, key)
                .map_err(|reason| ModelError::ModelLoad { path: path.into(), reason })?;
            match text {
                Some(text) => Dictionary::from_lines(&text),
                None => {
                    return Err(ModelError::WrongModel {
                        path: path.into(),
                        expected: "text-recognizer-ctc",
                        reason: format!(
                            "it has no ONNX metadata key `{key}` holding the character dictionary (a PP-OCR recogniser has one); \
                             if this is a recogniser, give `\"dictionary\": {{\"from\": \"file\", \"path\": ...}}`"
                        ),
                    });
                }
            }
        }
        DictionarySource::File { path } => {
            let path = dir.join(path);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ModelError::Dictionary { path: path.clone(), reason: e.to_string() })?;
            Dictionary::from_lines(&text)
        }
    };
    if spec.charset == Charset::All {
        return Ok((bytes, dict, sha));
    }
    let (keep, narrowed) = dict.restricted(spec.charset);
    match onnx_edit::restrict_classes(&bytes, dict.num_classes(), &keep) {
        Ok(model) => Ok((model, narrowed, sha)),
        Err(reason) => Err(ModelError::WrongModel {
            path: path.into(),
            expected: "text-recognizer-ctc",
            reason: format!(
                "its output layer cannot be narrowed to the {:?} charset ({reason}); set `\"charset\": \"all\"` for it",
                spec.charset
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Point;

    #[test]
    fn model_source_can_move_to_a_worker_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<ModelSource>();
        assert_send::<ModelError>();
    }

    /// A line read as `words`, each character 10 px wide with a lead of 0.99, a space
    /// between words; the line box spans them at `x0`.
    fn read_line(x0: f32, words: &[&str]) -> Line {
        let text = words.join(" ");
        let chars: Vec<rec::CharAt> = text
            .chars()
            .enumerate()
            .map(|(i, c)| rec::CharAt {
                text: c.to_string(),
                prob: 0.99,
                x_px: 5.0 + 10.0 * i as f32,
                margin: 0.99,
                gap: 0.0,
            })
            .collect();
        let w = 10.0 * chars.len() as f32;
        Line {
            quad: Quad::from_rect(&Rect::new(x0, 0.0, x0 + w, 20.0)),
            det_score: 0.9,
            reading: Reading { text, score: 0.99, chars, height_px: 20.0, turned: false },
            parts: Vec::new(),
        }
    }

    #[test]
    fn pieces_cut_from_one_line_score_lower_than_the_same_readings_whole() {
        let config = ModelConfig { tighten_margin_px: None, split_gap_factor: None, ..ModelConfig::default() };
        let page = DynamicImage::new_rgb8(400, 40);
        let whole = line_proposals(&config, &page, &[read_line(0.0, &["6.36"]), read_line(100.0, &["SR"])]);
        let mut cut = read_line(0.0, &["6.36", "SR"]);
        cut.parts = vec![read_line(0.0, &["6.36"]), read_line(100.0, &["SR"])];
        let pieces = line_proposals(&config, &page, &[cut]);
        let texts = |ps: &[Proposal]| ps.iter().map(|p| p.text.clone().unwrap_or_default()).collect::<Vec<_>>();
        assert_eq!(texts(&whole), ["6.36", "SR"]);
        assert_eq!(texts(&pieces), texts(&whole));
        for (w, p) in whole.iter().zip(&pieces) {
            assert!(p.score < w.score, "{} vs {}", p.score, w.score);
            assert_eq!(p.score, confidence::as_cut(w.score));
        }
        // a line that stays one piece keeps its score
        let one = line_proposals(&config, &page, &[read_line(0.0, &["6.36", "SR"])]);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].score, confidence::of_chars(&read_line(0.0, &["6.36", "SR"]).reading.chars));
    }

    #[test]
    fn only_leaning_quads_are_kept_as_quads() {
        let flat = Quad::from_rect(&Rect::new(0.0, 0.0, 100.0, 20.0));
        assert!(line_proposal(flat, None, 0.9).quad.is_none());
        let lean =
            Quad([Point::new(0.0, 10.0), Point::new(100.0, 0.0), Point::new(102.0, 20.0), Point::new(2.0, 30.0)]);
        let p = line_proposal(lean, Some("x".into()), 0.9);
        assert_eq!(p.quad, Some(lean));
        assert_eq!(p.rect, Rect::new(0.0, 0.0, 102.0, 30.0));
    }

    #[test]
    fn configs_differing_only_in_thresholds_load_alike() {
        let a = ModelConfig::default();
        assert!(a.loads_like(&ModelConfig { min_text_score: 0.9, split_gap_factor: None, ..a.clone() }));
        assert!(!a.loads_like(&ModelConfig { threads: 1, ..a.clone() }));
        assert!(!a.loads_like(&ModelConfig { model_dir: Some("/elsewhere".into()), ..a.clone() }));
        assert!(!a.loads_like(&ModelConfig { direction_classifier: true, ..a.clone() }));
    }

    #[test]
    fn missing_explicit_runtime_is_a_clear_error_naming_the_path() {
        let cfg = ModelConfig { ort_lib: Some("/nonexistent/libonnxruntime.so".into()), ..ModelConfig::default() };
        let err = ModelSource::load(&cfg).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("/nonexistent/libonnxruntime.so") && err.contains("--ort-lib"), "{err}");
    }
}
