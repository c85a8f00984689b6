//! Measures the OCR model pass (or stored predictions) against ground-truth JSON with the
//! project's one metrics module; used by benches/rapidocr_baseline.sh.
//!
//!   model_eval synth OUT_DIR COUNT [SEED]        write synthetic invoices with ground truth
//!   model_eval eval GT_DIR [options]             run the model pass and score it
//!     --pred DIR        score predictions stored as ground-truth JSON instead (e.g. RapidOCR's)
//!     --split F|none    wide-gap split factor (default: ModelConfig's)
//!     --max-side N      detector max side px;  --min-side N;  --box-thresh X;  --unclip X
//!     --min-width N     recogniser minimum batch width;  --batch N
//!     --charset all|european   recogniser classes;  --no-bands  detect on the whole page
//!     --pad N           zero columns after each line;  --precision float|int8  recogniser
//!     --cell-gap F|none cut lines at gaps F word spaces wide (default: ModelConfig's)
//!     --no-columns      no cuts from the column gaps of the rows around a line
//!     --weights 7|8     int8 weight width (default: this CPU's path)
//!     --show-misses     print each ground-truth line no box matched, with what overlaps it
//!     --threads N  --cls  --name LABEL
//!     --common-with DIR also CER of both on the lines both matched (DIR: stored predictions);
//!                       with --show-diffs, print each of those lines either read differently

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use facture::formats::gt::{GroundTruth, gt_files_in};
use facture::metrics::{CerCounts, Counts, auroc, cer_counts, cer_folded_counts, fold, match_boxes};
use facture::prelabel::Proposal;
use facture::prelabel::model::runtime::find_model_dir;
use facture::prelabel::model::spec::{ModelSet, ModelSpec, SPEC_FILE_NAME};
use facture::prelabel::model::{Int8Weights, ModelConfig, ModelSource};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("synth") if args.len() >= 3 => {
            let seed = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(7);
            facture::synth::write_set(Path::new(&args[1]), args[2].parse()?, seed)?;
            Ok(())
        }
        Some("eval") if args.len() >= 2 => eval(Path::new(&args[1]), &args[2..]),
        Some("gaps") if args.len() >= 2 => gaps(Path::new(&args[1])),
        _ => bail!("usage: model_eval synth OUT COUNT [SEED] | model_eval eval GT_DIR [options]"),
    }
}

/// Blank runs inside ground-truth boxes (word spaces) and between neighbouring boxes on one
/// line (cell or segment gaps), in ink heights: how far apart the two kinds are.
fn gaps(gt_dir: &Path) -> Result<()> {
    use facture::prelabel::model::split::InkColumns;
    let (mut words, mut cells) = (Vec::new(), Vec::new());
    for json in gt_files_in(gt_dir)? {
        let gt = GroundTruth::load(&json)?;
        let page = image::open(gt.image_path(&json))?.to_rgb8();
        let rects: Vec<_> = gt.boxes.iter().map(|b| b.rect()).collect();
        let show = std::env::var("SHOW_GAPS").ok().and_then(|v| v.parse::<f32>().ok());
        for (r, bx) in rects.iter().zip(&gt.boxes) {
            if let Some(ink) = InkColumns::measure(&page, r) {
                let h = ink.ink_height.max(1.0);
                for g in ink.gaps().iter().map(|(a, b)| (b - a) / h).filter(|g| *g > 0.12) {
                    if show.is_some_and(|t| g > t) {
                        eprintln!("word gap {g:.2} in {:?}", bx.text);
                    }
                    words.push(g);
                }
            }
        }
        for a in &rects {
            // the nearest box to the right on the same line
            let right = rects
                .iter()
                .filter(|b| b.x0 >= a.x1 - 1.0 && (b.y1.min(a.y1) - b.y0.max(a.y0)) > 0.5 * a.height().min(b.height()))
                .min_by(|p, q| p.x0.total_cmp(&q.x0));
            let Some(b) = right else { continue };
            if b.x0 - a.x1 > 6.0 * a.height() {
                continue;
            }
            let span = facture::domain::Rect::new(a.x0, a.y0.min(b.y0), b.x1, a.y1.max(b.y1));
            if let Some(ink) = InkColumns::measure(&page, &span) {
                let h = ink.ink_height.max(1.0);
                let between = ink.gaps().into_iter().filter(|(g0, g1)| *g1 > a.x1 - 3.0 && *g0 < b.x0 + 3.0);
                if let Some(w) = between.map(|(g0, g1)| g1 - g0).reduce(f32::max) {
                    if std::env::var("SHOW_GAPS").ok().and_then(|v| v.parse::<f32>().ok()).is_some_and(|t| w / h < t) {
                        eprintln!("cell gap {:.2} after {a:?}", w / h);
                    }
                    cells.push(w / h);
                }
            }
        }
    }
    let q = |v: &mut Vec<f32>| -> String {
        v.sort_by(f32::total_cmp);
        [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
            .iter()
            .map(|p| {
                format!(
                    "p{:.0}={:.2}",
                    p * 100.0,
                    v.get(((v.len() as f32 - 1.0) * p) as usize).copied().unwrap_or(f32::NAN)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("word gaps ({}): {}", words.len(), q(&mut words));
    println!("cell gaps ({}): {}", cells.len(), q(&mut cells));
    Ok(())
}

fn opt<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

/// A temporary model dir whose spec points at the provisioned files with overrides applied.
fn tuned_model_dir(args: &[String]) -> Result<Option<tempfile::TempDir>> {
    let keys = [
        "--max-side",
        "--min-side",
        "--box-thresh",
        "--unclip",
        "--min-width",
        "--batch",
        "--charset",
        "--pad",
        "--precision",
    ];
    let no_bands = args.iter().any(|a| a == "--no-bands");
    if !no_bands && !keys.iter().any(|k| opt(args, k).is_some()) {
        return Ok(None);
    }
    let models = find_model_dir(None)?;
    let mut set = ModelSet::ppocr_v6_small();
    for m in &mut set.models {
        match m {
            ModelSpec::TextDetectorDb(d) => {
                d.file = models.join(&d.file);
                if let Some(v) = opt(args, "--max-side") {
                    d.max_side_px = v.parse()?;
                }
                if let Some(v) = opt(args, "--min-side") {
                    d.min_side_px = v.parse()?;
                }
                if let Some(v) = opt(args, "--box-thresh") {
                    d.box_thresh = v.parse()?;
                }
                if let Some(v) = opt(args, "--unclip") {
                    d.unclip_ratio = v.parse()?;
                }
                d.cut_blank_bands &= !no_bands;
            }
            ModelSpec::TextRecognizerCtc(r) => {
                r.file = models.join(&r.file);
                if let Some(v) = opt(args, "--min-width") {
                    r.min_width_px = v.parse()?;
                }
                if let Some(v) = opt(args, "--batch") {
                    r.batch_size = v.parse()?;
                }
                if let Some(v) = opt(args, "--pad") {
                    r.pad_px = v.parse()?;
                }
                if let Some(v) = opt(args, "--charset") {
                    r.charset = serde_json::from_value(serde_json::Value::String(v.into()))?;
                }
                if let Some(v) = opt(args, "--precision") {
                    r.precision = serde_json::from_value(serde_json::Value::String(v.into()))?;
                }
            }
            ModelSpec::TextDirectionCls(c) => c.file = models.join(&c.file),
        }
    }
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join(SPEC_FILE_NAME), serde_json::to_string_pretty(&set)?)?;
    Ok(Some(dir))
}

fn eval(gt_dir: &Path, args: &[String]) -> Result<()> {
    let files = gt_files_in(gt_dir).with_context(|| format!("cannot list {}", gt_dir.display()))?;
    let pages: Vec<(PathBuf, GroundTruth)> =
        files.into_iter().filter_map(|p| GroundTruth::load(&p).ok().map(|g| (p, g))).collect();
    if pages.is_empty() {
        bail!("no ground-truth JSON in {}", gt_dir.display());
    }
    let mut counts = Counts::default();
    let mut common: Option<String> = None;
    let mut load_secs = 0.0f64;
    let (mut cer, mut cer_folded) = (CerCounts::default(), CerCounts::default());
    let (mut det_secs, mut full_secs) = (0.0f64, 0.0f64);
    let mut quality = Quality::default();
    let name;
    let mut rec_precision = String::new();
    if let Some(pred_dir) = opt(args, "--pred") {
        name = opt(args, "--name").unwrap_or("predictions").to_string();
        for (path, gt) in &pages {
            let file = Path::new(pred_dir).join(path.file_name().unwrap_or_default());
            let pred = GroundTruth::load(&file)?;
            let props: Vec<Proposal> = pred
                .boxes
                .iter()
                .map(|b| Proposal {
                    rect: b.rect(),
                    quad: None,
                    text: Some(b.text.clone()),
                    score: 1.0,
                    level: facture::prelabel::Level::Line,
                })
                .collect();
            score(gt, &props, &mut counts, &mut cer, &mut cer_folded, &mut quality);
        }
    } else {
        let tuned = tuned_model_dir(args)?;
        let mut config = ModelConfig {
            model_dir: tuned.as_ref().map(|d| d.path().to_path_buf()),
            direction_classifier: args.iter().any(|a| a == "--cls"),
            ..ModelConfig::default()
        };
        if let Some(v) = opt(args, "--threads") {
            config.threads = v.parse()?;
        }
        config.int8_weights = match opt(args, "--weights") {
            Some("7") => Some(Int8Weights::Bits7),
            Some("8") => Some(Int8Weights::Bits8),
            Some(v) => bail!("--weights {v}: give 7 or 8"),
            None => None,
        };
        match opt(args, "--cell-gap") {
            Some("none") => config.cell_gap_factor = None,
            Some(v) => config.cell_gap_factor = Some(v.parse()?),
            None => {}
        }
        if args.iter().any(|a| a == "--no-columns") {
            config.column_cuts = false;
        }
        match opt(args, "--split") {
            Some("none") => config.split_gap_factor = None,
            Some(v) => config.split_gap_factor = Some(v.parse()?),
            None => {}
        }
        let t_load = Instant::now();
        let mut source = ModelSource::load(&config)?;
        load_secs = t_load.elapsed().as_secs_f64();
        rec_precision = format!(",\"recognizer\":{:?}", source.recognizer_precision().to_string());
        let config = config.clone();
        name = opt(args, "--name").unwrap_or("facture").to_string();
        let images: Vec<image::DynamicImage> =
            pages.iter().map(|(p, gt)| image::open(gt.image_path(p))).collect::<Result<_, _>>()?;
        // warm-up, as for RapidOCR: the first run pays for memory-arena set-up
        source.read_page(&images[0])?;
        let mut all_lines = Vec::new();
        for img in &images {
            if !args.iter().any(|a| a == "--no-first-boxes") {
                let t0 = Instant::now();
                source.detect(img)?;
                det_secs += t0.elapsed().as_secs_f64();
            }
            let t0 = Instant::now();
            let lines = source.read_lines(img)?;
            let _ = source.line_proposals(img, &lines);
            full_secs += t0.elapsed().as_secs_f64();
            all_lines.push(lines);
        }
        // --sweep F1,F2,..: score several split factors from the same readings;
        // --tighten-sweep M1,M2,..: the same for ink margins ("none" keeps loose boxes)
        let parse = |list: &str| -> Vec<Option<f32>> { list.split(',').map(|f| f.parse().ok()).collect() };
        let mut variants: Vec<ModelConfig> = Vec::new();
        for factor in opt(args, "--sweep").map_or(vec![config.split_gap_factor], parse) {
            for margin in opt(args, "--tighten-sweep").map_or(vec![config.tighten_margin_px], parse) {
                variants.push(ModelConfig { split_gap_factor: factor, tighten_margin_px: margin, ..config.clone() });
            }
        }
        // --common-with DIR: CER of both on the ground-truth lines both matched, so a source
        // that finds more (harder) lines is not charged for reading them
        if let Some(other) = opt(args, "--common-with") {
            let (mut n, mut ours, mut theirs) = (0usize, CerCounts::default(), CerCounts::default());
            let (mut ours_f, mut theirs_f) = (CerCounts::default(), CerCounts::default());
            let show_diffs = args.iter().any(|a| a == "--show-diffs");
            for (((path, gt), lines), img) in pages.iter().zip(&all_lines).zip(&images) {
                let file = Path::new(other).join(path.file_name().unwrap_or_default());
                let pred = GroundTruth::load(&file)?;
                let gt_rects: Vec<_> = gt.boxes.iter().map(|b| b.rect()).collect();
                let props = source.line_proposals(img, lines);
                let mine = match_boxes(&gt_rects, &props.iter().map(|p| p.rect).collect::<Vec<_>>(), 0.5);
                let rapid = match_boxes(&gt_rects, &pred.boxes.iter().map(|b| b.rect()).collect::<Vec<_>>(), 0.5);
                for a in &mine.pairs {
                    if let Some(b) = rapid.pairs.iter().find(|b| b.gt == a.gt) {
                        let r = &gt.boxes[a.gt].text;
                        let (h1, h2) = (props[a.pred].text.as_deref().unwrap_or(""), &pred.boxes[b.pred].text);
                        n += 1;
                        if show_diffs && (h1 != r || h2 != r) {
                            let (g, p) = (gt.boxes[a.gt].rect(), props[a.pred].rect);
                            eprintln!(
                                "gt {r:?} | facture {h1:?} | other {h2:?} | gt box {g:?} facture box {p:?} {}",
                                path.display()
                            );
                        }
                        ours += cer_counts(r, h1);
                        theirs += cer_counts(r, h2);
                        ours_f += cer_folded_counts(r, h1);
                        theirs_f += cer_folded_counts(r, h2);
                    }
                }
            }
            common = Some(format!(
                ",\"common_lines\":{n},\"cer_common\":{:.4},\"cer_folded_common\":{:.4},\"other_cer_common\":{:.4},\"other_cer_folded_common\":{:.4}",
                ours.rate(),
                ours_f.rate(),
                theirs.rate(),
                theirs_f.rate()
            ));
        }
        let sweeping = variants.len() > 1;
        for variant in variants {
            let (factor, margin) = (variant.split_gap_factor, variant.tighten_margin_px);
            source.set_config(variant);
            let (mut c, mut ce, mut cf) = (Counts::default(), CerCounts::default(), CerCounts::default());
            quality = Quality::default();
            for (((path, gt), lines), img) in pages.iter().zip(&all_lines).zip(&images) {
                let props = source.line_proposals(img, lines);
                // --split-captions: as a workspace that boxes captions apart would show them
                let props = if args.iter().any(|a| a == "--split-captions") {
                    facture::prelabel::boxstyle::restyle_proposals(&img.to_rgb8(), props, None, true)
                } else {
                    props
                };
                score(gt, &props, &mut c, &mut ce, &mut cf, &mut quality);
                if args.iter().any(|a| a == "--show-misses") {
                    show_misses(path, gt, &props);
                }
                if args.iter().any(|a| a == "--show-wrong") {
                    show_wrong(path, gt, &props);
                }
                // --show-lines: every detected line as read, with the parts it was cut into
                if args.iter().any(|a| a == "--show-lines") {
                    for l in lines {
                        let r = l.quad.bounds();
                        eprintln!("line {:.0},{:.0},{:.0},{:.0} {:?}", r.x0, r.y0, r.x1, r.y1, l.reading.text);
                        for p in &l.parts {
                            let r = p.quad.bounds();
                            eprintln!("  part {:.0},{:.0},{:.0},{:.0} {:?}", r.x0, r.y0, r.x1, r.y1, p.reading.text);
                        }
                    }
                }
            }
            if sweeping {
                eprintln!(
                    "split {factor:?} tighten {margin:?}: P {:.3} R {:.3} cer {:.4} folded {:.4}",
                    c.precision(),
                    c.recall(),
                    ce.rate(),
                    cf.rate()
                );
            }
            (counts, cer, cer_folded) = (c, ce, cf);
        }
    }
    let n = pages.len() as f64;
    println!(
        "{{\"source\":\"{name}\",\"set\":\"{}\",\"documents\":{},\"precision\":{:.3},\"recall\":{:.3},\"f1\":{:.3},\"cer\":{:.4},\"cer_folded\":{:.4},\"s_per_page\":{:.3},\"first_boxes_s_per_page\":{:.3},\"load_s\":{:.3},\"score_auroc\":{},\"median_iou\":{}{}{}}}",
        gt_dir.file_name().unwrap_or_default().to_string_lossy(),
        pages.len(),
        counts.precision(),
        counts.recall(),
        counts.f1(),
        cer.rate(),
        cer_folded.rate(),
        full_secs / n,
        det_secs / n,
        load_secs,
        auroc(&quality.scored).map_or("null".into(), |v| format!("{v:.3}")),
        quality.median_iou().map_or("null".into(), |v| format!("{v:.3}")),
        rec_precision,
        common.unwrap_or_default(),
    );
    Ok(())
}

/// Scores ranked against exact readings, and the IoU of every matched box.
#[derive(Default)]
struct Quality {
    scored: Vec<(f32, bool)>,
    ious: Vec<f32>,
}

impl Quality {
    fn median_iou(&mut self) -> Option<f32> {
        self.ious.sort_by(f32::total_cmp);
        self.ious.get(self.ious.len() / 2).copied()
    }
}

/// `--show-wrong`: every matched line whose reading differs from the ground truth.
fn show_wrong(path: &Path, gt: &GroundTruth, props: &[Proposal]) {
    let gt_rects: Vec<_> = gt.boxes.iter().map(|b| b.rect()).collect();
    let m = match_boxes(&gt_rects, &props.iter().map(|p| p.rect).collect::<Vec<_>>(), 0.5);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    for pair in &m.pairs {
        let (want, got) = (&gt.boxes[pair.gt].text, props[pair.pred].text.as_deref().unwrap_or(""));
        if want != got {
            eprintln!("wrong {name} {:.3} {want:?} read {got:?}", props[pair.pred].score);
        }
    }
}

fn show_misses(path: &Path, gt: &GroundTruth, props: &[Proposal]) {
    let gt_rects: Vec<_> = gt.boxes.iter().map(|b| b.rect()).collect();
    let m = match_boxes(&gt_rects, &props.iter().map(|p| p.rect).collect::<Vec<_>>(), 0.5);
    for (i, b) in gt.boxes.iter().enumerate() {
        if m.pairs.iter().any(|p| p.gt == i) {
            continue;
        }
        let r = b.rect();
        let over: Vec<String> = props
            .iter()
            .filter(|p| p.rect.intersection(&r).is_some_and(|x| x.area() > 0.0))
            .map(|p| {
                format!(
                    "{:?} iou {:.2} at {:.0},{:.0},{:.0},{:.0}",
                    p.text.as_deref().unwrap_or(""),
                    p.rect.iou(&r),
                    p.rect.x0,
                    p.rect.y0,
                    p.rect.x1,
                    p.rect.y1
                )
            })
            .collect();
        eprintln!(
            "miss {} {:?} {:?}: {}",
            path.file_name().unwrap_or_default().to_string_lossy(),
            b.text,
            r,
            over.join(" | ")
        );
    }
    if std::env::var("SHOW_EXTRA").is_ok() {
        for (j, p) in props.iter().enumerate() {
            if m.pairs.iter().any(|x| x.pred == j) {
                continue;
            }
            let best = gt.boxes.iter().max_by(|a, b| a.rect().iou(&p.rect).total_cmp(&b.rect().iou(&p.rect)));
            eprintln!(
                "extra {:?} at {:.0},{:.0},{:.0},{:.0} best gt {:?}",
                p.text.as_deref().unwrap_or(""),
                p.rect.x0,
                p.rect.y0,
                p.rect.x1,
                p.rect.y1,
                best.map(|b| (&b.text, b.rect().iou(&p.rect)))
            );
        }
    }
}

fn score(
    gt: &GroundTruth,
    props: &[Proposal],
    counts: &mut Counts,
    cer: &mut CerCounts,
    cer_folded: &mut CerCounts,
    quality: &mut Quality,
) {
    let gt_rects: Vec<_> = gt.boxes.iter().map(|b| b.rect()).collect();
    let pred_rects: Vec<_> = props.iter().map(|p| p.rect).collect();
    let m = match_boxes(&gt_rects, &pred_rects, 0.5);
    let c = m.counts();
    counts.matched += c.matched;
    counts.gt += c.gt;
    counts.pred += c.pred;
    for pair in &m.pairs {
        let (r, h) = (&gt.boxes[pair.gt].text, props[pair.pred].text.as_deref().unwrap_or(""));
        *cer += cer_counts(r, h);
        *cer_folded += cer_folded_counts(r, h);
        if std::env::var("SHOW_WRONG").is_ok() && fold(h) != fold(r) {
            eprintln!("wrong {r:?} read {h:?}");
        }
        quality.scored.push((props[pair.pred].score, fold(h) == fold(r)));
        quality.ious.push(pair.iou);
    }
}
