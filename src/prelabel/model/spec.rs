//! Model specs: what each ONNX file is and how to feed it, as JSON, so a team can drop
//! fine-tuned models into a model directory (`facture-models.json`) without code changes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ModelError;

/// File name of the optional spec set inside a model directory.
pub const SPEC_FILE_NAME: &str = "facture-models.json";

/// Pixel normalisation: `((x * scale) - mean[c]) / std[c]`, channels in `channel_order`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    pub scale: f32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// PaddleOCR models were trained on OpenCV's BGR images.
    #[serde(default = "bgr")]
    pub channel_order: ChannelOrder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelOrder {
    Rgb,
    Bgr,
}

fn bgr() -> ChannelOrder {
    ChannelOrder::Bgr
}

impl Default for Normalization {
    fn default() -> Self {
        Self { scale: 1.0 / 255.0, mean: [0.5; 3], std: [0.5; 3], channel_order: ChannelOrder::Bgr }
    }
}

impl Normalization {
    /// Per-channel `(a, b)` with `value = byte * a + b`, in the model's channel order.
    pub(crate) fn affine(&self) -> [(f32, f32); 3] {
        std::array::from_fn(|c| (self.scale / self.std[c], -self.mean[c] / self.std[c]))
    }

    /// Index into an RGB pixel for model channel `c`.
    pub(crate) fn source_channel(&self, c: usize) -> usize {
        match self.channel_order {
            ChannelOrder::Rgb => c,
            ChannelOrder::Bgr => 2 - c,
        }
    }
}

/// Where the recogniser's character list comes from. Class 0 is always the CTC blank and
/// the class after the list is a space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "from")]
pub enum DictionarySource {
    /// A custom ONNX metadata key holding the characters, one per line.
    Metadata { key: String },
    /// A UTF-8 text file next to the model, one character per line.
    File { path: PathBuf },
}

/// Differentiable-binarisation text detector (PP-OCR det).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorSpec {
    pub file: PathBuf,
    #[serde(default)]
    pub normalization: Normalization,
    /// Probability above which a pixel is text.
    pub thresh: f32,
    /// Mean probability inside a box below which it is dropped.
    pub box_thresh: f32,
    /// How far a shrunk text kernel is grown back: offset = area * ratio / perimeter.
    pub unclip_ratio: f32,
    /// The page is scaled so its long side is at most this (then rounded to multiples of 32).
    pub max_side_px: u32,
    /// ... and its short side at least this, for small receipts with small print.
    pub min_side_px: u32,
    #[serde(default = "default_max_candidates")]
    pub max_candidates: usize,
    /// Cut long runs of blank rows out of the input before the network runs (boxes are moved
    /// back), so the white space between an invoice's blocks costs nothing.
    #[serde(default = "yes")]
    pub cut_blank_bands: bool,
}

fn yes() -> bool {
    true
}

fn default_max_candidates() -> usize {
    1000
}

/// CTC text-line recogniser (PP-OCR rec).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecognizerSpec {
    pub file: PathBuf,
    #[serde(default)]
    pub normalization: Normalization,
    pub height_px: u32,
    /// Batches are padded to at least this width (PaddleOCR pads to 320; 0 with `pad_px`
    /// measured about as accurate on sroie-dev and synthetic invoices, `cer_folded` 0.0272
    /// vs 0.0270, for 25 % less recognition work).
    pub min_width_px: u32,
    /// Longer lines are squeezed to this width.
    pub max_width_px: u32,
    /// Zero columns (PaddleOCR's padding) added after a line shorter than 320 px (at
    /// `height_px`). PP-OCR recognisers are trained on lines padded to 320 px wide; read with
    /// no padding at all, short amounts come out with `,` as `.` ("2.178,47" → "2.178.47").
    /// 32 columns fix most of those: sroie-dev `cer_folded` 0.0278 → 0.0272, recall 0.901 →
    /// 0.906, at about 1 % more time; padding every line cost 8 % for 0.0266, white paper
    /// instead of zeros measured worse.
    #[serde(default)]
    pub pad_px: u32,
    /// Lines per model run. 1 (the default) reads each line on its own, in reading order, on
    /// parallel sessions: measured faster on CPU than PaddleOCR's 6, since padding a batch
    /// to its widest line is wasted work. Larger batches are grouped by width.
    pub batch_size: usize,
    pub dictionary: DictionarySource,
    /// The characters Facture may read; the model's output layer is narrowed to them when
    /// it loads. Absent means every class of the model.
    #[serde(default)]
    pub charset: Charset,
    /// `int8` runs the convolutions in 8 bits (see `onnx_edit::quantize_convs`), with the
    /// activation ranges in `int8_ranges`. Absent means `float`: the model as shipped.
    #[serde(default)]
    pub precision: Precision,
    /// JSON file (next to the model) of per-convolution activation ranges, as written by
    /// `packaging/calibrate/rec_int8_ranges.py`. Absent: the ranges built into Facture for
    /// the default PP-OCRv6 recogniser, used only when the file is that exact model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8_ranges: Option<PathBuf>,
}

/// The arithmetic a recogniser's convolutions run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    #[default]
    Float,
    /// 8-bit weights and activations: PP-OCRv6's recogniser reads a line in ~0.7× the time,
    /// with the same recall and a CER within measurement noise (README, model pass).
    Int8,
}

/// Which of a recogniser's characters may be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Charset {
    /// Every class the model has.
    #[default]
    All,
    /// What European invoices are written in: Latin letters with every accent (Latin-1,
    /// Extended-A/B and Additional), Greek, Cyrillic, digits, punctuation, currency signs,
    /// letterlike symbols (№, ™, ℃), number forms (½) and maths operators (−, ≤). About 700 of
    /// PP-OCRv6's 18,710 classes: a line whose best class is a CJK ideograph reads as its best
    /// European character instead, and each line is read 12 % faster.
    European,
}

impl Charset {
    /// True when `entry` (one dictionary entry, usually one character) may be read.
    pub fn allows(self, entry: &str) -> bool {
        match self {
            Charset::All => true,
            Charset::European => entry.chars().all(|c| {
                matches!(u32::from(c),
                    0x20..=0x7e | 0xa0..=0x24f | 0x370..=0x3ff | 0x400..=0x4ff | 0x1e00..=0x1eff
                    | 0x2000..=0x206f | 0x20a0..=0x20cf | 0x2100..=0x218f | 0x2200..=0x22ff)
            }),
        }
    }
}

/// 0°/180° text-direction classifier (PP-OCR cls).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierSpec {
    pub file: PathBuf,
    #[serde(default)]
    pub normalization: Normalization,
    pub height_px: u32,
    pub width_px: u32,
    /// A line is turned only when the "180°" class is at least this likely.
    pub thresh: f32,
    pub batch_size: usize,
}

/// One model, tagged by what it does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ModelSpec {
    TextDetectorDb(DetectorSpec),
    TextRecognizerCtc(RecognizerSpec),
    TextDirectionCls(ClassifierSpec),
}

impl ModelSpec {
    /// The model's file (relative ones are relative to the model dir).
    pub fn file(&self) -> &Path {
        match self {
            ModelSpec::TextDetectorDb(d) => &d.file,
            ModelSpec::TextRecognizerCtc(r) => &r.file,
            ModelSpec::TextDirectionCls(c) => &c.file,
        }
    }
}

/// The models one [`super::ModelSource`] runs. Relative `file`s are relative to the model dir.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSet {
    /// Shown in reports and stored as the suggestion source, e.g. "model:ppocr-v6-small".
    pub name: String,
    pub models: Vec<ModelSpec>,
}

impl ModelSet {
    /// PP-OCRv6 small detection + recognition (+ the mobile direction classifier), as
    /// provisioned from the pinned `rapidocr` wheel. Thresholds measured in the module docs.
    pub fn ppocr_v6_small() -> Self {
        Self {
            name: "model:ppocr-v6-small".into(),
            models: vec![
                ModelSpec::TextDetectorDb(DetectorSpec {
                    file: "PP-OCRv6_det_small.onnx".into(),
                    normalization: Normalization::default(),
                    thresh: 0.3,
                    box_thresh: 0.5,
                    unclip_ratio: 1.6,
                    max_side_px: 1600,
                    min_side_px: 736,
                    max_candidates: 1000,
                    cut_blank_bands: true,
                }),
                ModelSpec::TextRecognizerCtc(RecognizerSpec {
                    file: "PP-OCRv6_rec_small.onnx".into(),
                    normalization: Normalization::default(),
                    height_px: 48,
                    min_width_px: 0,
                    max_width_px: 3200,
                    pad_px: 32,
                    batch_size: 1,
                    dictionary: DictionarySource::Metadata { key: "character".into() },
                    charset: Charset::European,
                    precision: Precision::Int8,
                    int8_ranges: None,
                }),
                ModelSpec::TextDirectionCls(ClassifierSpec {
                    file: "ch_ppocr_mobile_v2.0_cls_mobile.onnx".into(),
                    normalization: Normalization::default(),
                    height_px: 48,
                    width_px: 192,
                    thresh: 0.9,
                    batch_size: 6,
                }),
            ],
        }
    }

    /// `<dir>/facture-models.json` when present, else the built-in PP-OCRv6 small set.
    pub fn for_dir(dir: &Path) -> Result<Self, ModelError> {
        let path = dir.join(SPEC_FILE_NAME);
        if !path.exists() {
            return Ok(Self::ppocr_v6_small());
        }
        let bad = |reason: String| ModelError::BadSpec { path: path.clone(), reason };
        let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
        let set: ModelSet = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        set.check().map_err(bad)?;
        Ok(set)
    }

    fn check(&self) -> Result<(), String> {
        let count = |f: fn(&ModelSpec) -> bool| self.models.iter().filter(|m| f(m)).count();
        let det = count(|m| matches!(m, ModelSpec::TextDetectorDb(_)));
        let rec = count(|m| matches!(m, ModelSpec::TextRecognizerCtc(_)));
        let cls = count(|m| matches!(m, ModelSpec::TextDirectionCls(_)));
        if det != 1 || rec != 1 || cls > 1 {
            return Err(format!(
                "needs exactly one text-detector-db and one text-recognizer-ctc and at most one \
                 text-direction-cls; found {det}, {rec} and {cls}"
            ));
        }
        for m in &self.models {
            match m {
                ModelSpec::TextDetectorDb(d) if d.max_side_px < 32 || d.min_side_px > d.max_side_px => {
                    return Err("text-detector-db needs 32 <= max_side_px and min_side_px <= max_side_px".into());
                }
                ModelSpec::TextRecognizerCtc(r) if r.height_px == 0 || r.batch_size == 0 || r.max_width_px < 8 => {
                    return Err("text-recognizer-ctc needs height_px, batch_size > 0 and max_width_px >= 8".into());
                }
                ModelSpec::TextDirectionCls(c) if c.height_px == 0 || c.width_px == 0 || c.batch_size == 0 => {
                    return Err("text-direction-cls needs height_px, width_px and batch_size > 0".into());
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub fn detector(&self) -> Option<&DetectorSpec> {
        self.models.iter().find_map(|m| match m {
            ModelSpec::TextDetectorDb(d) => Some(d),
            _ => None,
        })
    }

    pub fn recognizer(&self) -> Option<&RecognizerSpec> {
        self.models.iter().find_map(|m| match m {
            ModelSpec::TextRecognizerCtc(r) => Some(r),
            _ => None,
        })
    }

    pub fn classifier(&self) -> Option<&ClassifierSpec> {
        self.models.iter().find_map(|m| match m {
            ModelSpec::TextDirectionCls(c) => Some(c),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_set_round_trips_through_json() {
        let set = ModelSet::ppocr_v6_small();
        let json = serde_json::to_string_pretty(&set).unwrap();
        assert!(json.contains("\"kind\": \"text-detector-db\""), "{json}");
        assert!(json.contains("\"from\": \"metadata\""), "{json}");
        let back: ModelSet = serde_json::from_str(&json).unwrap();
        assert_eq!(back, set);
        assert!(set.check().is_ok());
    }

    #[test]
    fn spec_file_in_dir_overrides_defaults_and_bad_ones_say_why() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(ModelSet::for_dir(dir.path()).unwrap().name, "model:ppocr-v6-small");
        let mut set = ModelSet::ppocr_v6_small();
        set.name = "model:our-finetune".into();
        set.models.truncate(2);
        std::fs::write(dir.path().join(SPEC_FILE_NAME), serde_json::to_string(&set).unwrap()).unwrap();
        assert_eq!(ModelSet::for_dir(dir.path()).unwrap().name, "model:our-finetune");

        set.models.truncate(1);
        std::fs::write(dir.path().join(SPEC_FILE_NAME), serde_json::to_string(&set).unwrap()).unwrap();
        let err = ModelSet::for_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("text-recognizer-ctc") && err.contains(SPEC_FILE_NAME), "{err}");
    }

    #[test]
    fn charset_and_band_cutting_default_for_older_spec_files_and_bad_values_say_why() {
        let rec = r#"{"kind": "text-recognizer-ctc", "file": "r.onnx", "height_px": 48, "min_width_px": 0,
            "max_width_px": 3200, "batch_size": 1, "dictionary": {"from": "metadata", "key": "character"}}"#;
        let det = r#"{"kind": "text-detector-db", "file": "d.onnx", "thresh": 0.3, "box_thresh": 0.5,
            "unclip_ratio": 1.6, "max_side_px": 1600, "min_side_px": 736}"#;
        let parse = |json: &str| serde_json::from_str::<ModelSpec>(json);
        match (parse(rec), parse(det)) {
            (Ok(ModelSpec::TextRecognizerCtc(r)), Ok(ModelSpec::TextDetectorDb(d))) => {
                // a team's own recogniser keeps every class unless it asks otherwise
                assert_eq!(r.charset, Charset::All);
                assert!(d.cut_blank_bands);
            }
            other => panic!("{other:?}"),
        }
        let european = rec.replacen("\"batch_size\"", "\"charset\": \"european\", \"batch_size\"", 1);
        assert!(matches!(parse(&european), Ok(ModelSpec::TextRecognizerCtc(r)) if r.charset == Charset::European));
        let bad = rec.replacen("\"batch_size\"", "\"charset\": \"klingon\", \"batch_size\"", 1);
        let err = parse(&bad).unwrap_err().to_string();
        assert!(err.contains("klingon") && err.contains("european"), "{err}");
    }

    #[test]
    fn european_charset_takes_accents_and_currency_but_not_ideographs_or_fullwidth_forms() {
        for ok in ["a", "Z", "é", "ç", "ö", "ß", "ł", "€", "£", "№", "½", "−", "Ω", "Ж", "ệ", "–", "…", " "]
        {
            assert!(Charset::European.allows(ok), "{ok}");
        }
        for no in ["中", "口", "〇", "１", "，", "😀", "→"] {
            assert!(!Charset::European.allows(no), "{no}");
            assert!(Charset::All.allows(no));
        }
    }

    #[test]
    fn normalisation_is_affine_per_channel_in_bgr() {
        let n = Normalization::default();
        let [(a, b), _, _] = n.affine();
        assert!((255.0 * a + b - 1.0).abs() < 1e-6 && (b + 1.0).abs() < 1e-6);
        assert_eq!(n.source_channel(0), 2);
    }
}
