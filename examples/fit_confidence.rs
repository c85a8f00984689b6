//! Fits the model-pass confidence (src/prelabel/model/confidence.rs) on synthetic invoices
//! and reports how well it ranks lines read exactly right above lines read wrong. Dev-only.
//!
//!   fit_confidence dump OUT.jsonl (--synth SEED:COUNT | --gt DIR)...
//!       runs the model pass and writes one JSON line per suggestion matched to ground truth
//!       (IoU ≥ 0.5, as `facture eval`): its characters' numbers, det score, and whether its
//!       folded text equals the ground truth's
//!   fit_confidence fit TRAIN.jsonl... [--heldout FILE.jsonl...]
//!       fits the logistic model on TRAIN only and prints its constants and the AUROC of it,
//!       of the built-in constants, of the mean character probability and of each candidate
//!       feature on every file; `--extra NAME,..` fits candidates (EXTRA_NAMES) along
//!
//! Fit on synthetic pages only: real documents (../shared/data) are for checking.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use facture::formats::gt::{GroundTruth, gt_files_in};
use facture::metrics::{auroc, fold, match_boxes};
use facture::prelabel::model::confidence::{self, FEATURE_NAMES, features};
use facture::prelabel::model::rec::{CharAt, Reading};
use facture::prelabel::model::{Line, ModelConfig, ModelSource, line_proposals};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Record {
    doc: String,
    det: f32,
    right: bool,
    hyp: String,
    gt: String,
    /// line height in crop pixels
    #[serde(default)]
    height: f32,
    /// text, prob, margin, gap, x_px per character of the suggestion (spaces included)
    chars: Vec<(String, f32, f32, f32, f32)>,
    /// closeness of the nearest suggestion on the same line: h / (h + gap), 0 for none
    #[serde(default)]
    nbr: f32,
    /// how many suggestions the detected line gave
    #[serde(default)]
    pieces: u32,
}

impl Record {
    fn chars(&self) -> Vec<CharAt> {
        self.chars
            .iter()
            .map(|(text, prob, margin, gap, x_px)| CharAt {
                text: text.clone(),
                prob: *prob,
                x_px: *x_px,
                margin: *margin,
                gap: *gap,
            })
            .collect()
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("dump") if args.len() >= 4 => dump(Path::new(&args[1]), &args[2..]),
        Some("fit") if args.len() >= 2 => fit(&args[1..]),
        _ => bail!(
            "usage: fit_confidence dump OUT.jsonl (--synth SEED:COUNT | --gt DIR)... | fit TRAIN.jsonl... [--heldout F...]"
        ),
    }
}

fn dump(out: &Path, args: &[String]) -> Result<()> {
    let mut source = ModelSource::load(&ModelConfig::default())?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut it = args.iter();
    let mut n = 0;
    while let Some(flag) = it.next() {
        let value = it.next().context("a value after each flag")?;
        match flag.as_str() {
            "--synth" => {
                let (seed, count) = value.split_once(':').context("--synth SEED:COUNT")?;
                let (seed, count): (u64, u32) = (seed.parse()?, count.parse()?);
                for i in 1..=count {
                    let page = facture::synth::render_page(seed, i);
                    let img = image::DynamicImage::ImageRgb8(page.image);
                    n += write_page(&mut source, &mut file, (format!("synth{seed}/{i}"), img, page.gt))?;
                }
            }
            "--gt" => {
                for json in gt_files_in(Path::new(value))? {
                    let gt = GroundTruth::load(&json)?;
                    let img = image::open(gt.image_path(&json))?;
                    let img = image::DynamicImage::ImageRgb8(img.to_rgb8());
                    n += write_page(&mut source, &mut file, (gt.image.clone(), img, gt))?;
                }
            }
            other => bail!("unknown flag {other}"),
        }
    }
    file.flush()?;
    eprintln!("{n} matched suggestions written to {}", out.display());
    Ok(())
}

/// The model pass on one page through the app's own `line_proposals` (filter, split,
/// tighten), with each character's text swapped for a private-use marker so every
/// suggestion can be traced back to the characters it was made of.
fn write_page(
    source: &mut ModelSource,
    out: &mut impl Write,
    (name, img, gt): (String, image::DynamicImage, GroundTruth),
) -> Result<usize> {
    let config = source.config().clone();
    let lines = source.read_lines(&img)?;
    let mut props = Vec::new();
    let mut pieces: Vec<u32> = Vec::new();
    for line in &lines {
        // every character of the line and of its parts (cut at cell gaps) gets its own marker
        let mut table: Vec<(CharAt, f32, f32)> = Vec::new();
        let one = marked(line, &mut table);
        for p in line_proposals(&config, &img, std::slice::from_ref(&one)) {
            let idx: Vec<usize> = p
                .text
                .as_deref()
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_whitespace())
                .filter_map(|c| (c as usize).checked_sub(MARKER_BASE as usize))
                .collect();
            let (Some(&a), Some(&b)) = (idx.iter().min(), idx.iter().max()) else { continue };
            let Some(span) = table.get(a..=b) else { continue };
            let text: String = span.iter().map(|c| c.0.text.as_str()).collect();
            let (det, height) = (span[0].1, span[0].2);
            props.push((
                p.rect,
                text.trim().to_string(),
                span.iter().map(|c| c.0.clone()).collect::<Vec<_>>(),
                det,
                height,
            ));
        }
        let made = props.len() - pieces.len();
        pieces.extend(std::iter::repeat_n(made as u32, made));
    }
    let nbr: Vec<f32> = props
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let a = a.0;
            props
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, b)| b.0)
                .filter(|b| {
                    let overlap = a.y1.min(b.y1) - a.y0.max(b.y0);
                    overlap >= 0.5 * a.height().min(b.height())
                })
                .map(|b| {
                    let gap = (b.x0 - a.x1).max(a.x0 - b.x1).max(0.0);
                    let h = a.height().max(1.0);
                    h / (h + gap)
                })
                .fold(0.0f32, f32::max)
        })
        .collect();
    let gt_rects: Vec<_> = gt.boxes.iter().map(|b| b.rect()).collect();
    let pred_rects: Vec<_> = props.iter().map(|p| p.0).collect();
    let m = match_boxes(&gt_rects, &pred_rects, 0.5);
    for pair in &m.pairs {
        let (_, hyp, span, det, height) = &props[pair.pred];
        let reference = &gt.boxes[pair.gt].text;
        let rec = Record {
            doc: name.clone(),
            det: *det,
            height: *height,
            right: fold(hyp) == fold(reference),
            hyp: hyp.clone(),
            gt: reference.clone(),
            chars: span.iter().map(|c| (c.text.clone(), c.prob, c.margin, c.gap, c.x_px)).collect(),
            nbr: nbr[pair.pred],
            pieces: pieces[pair.pred],
        };
        writeln!(out, "{}", serde_json::to_string(&rec)?)?;
    }
    eprintln!("{name}: {} suggestions, {} matched", props.len(), m.pairs.len());
    Ok(m.pairs.len())
}

/// First private-use code point standing for a character (plane 15 holds 65,534).
const MARKER_BASE: u32 = 0xF0000;

/// `line` with each solid character's text swapped for a marker that indexes `table`, which
/// gets the original character with its line's det score and height; the same for its parts.
fn marked(line: &Line, table: &mut Vec<(CharAt, f32, f32)>) -> Line {
    let chars: Vec<CharAt> = line
        .reading
        .chars
        .iter()
        .map(|c| {
            let i = table.len() as u32;
            table.push((c.clone(), line.det_score, line.reading.height_px));
            let text = if c.text.trim().is_empty() {
                " ".to_string()
            } else {
                char::from_u32(MARKER_BASE + i).map(String::from).unwrap_or_default()
            };
            CharAt { text, ..c.clone() }
        })
        .collect();
    let reading = Reading { text: chars.iter().map(|c| c.text.as_str()).collect(), chars, ..line.reading.clone() };
    let parts = line.parts.iter().map(|p| marked(p, table)).collect();
    Line { reading, parts, ..line.clone() }
}

fn load(path: &str) -> Result<Vec<Record>> {
    let f = std::fs::File::open(path).with_context(|| path.to_string())?;
    let mut out = Vec::new();
    for line in std::io::BufReader::new(f).lines() {
        out.push(serde_json::from_str(&line?)?);
    }
    Ok(out)
}

/// Candidate inputs: the model's own features, then extras tried while choosing them.
fn candidates(r: &Record) -> Vec<f32> {
    let chars = r.chars();
    let mut x = features(&chars).to_vec();
    let solid: Vec<&CharAt> = chars.iter().filter(|c| !c.text.trim().is_empty()).collect();
    let n = solid.len().max(1) as f32;
    x.push(solid.iter().map(|c| c.prob).sum::<f32>() / n);
    x.push(solid.iter().map(|c| c.prob).fold(1.0, f32::min));
    x.push(solid.iter().filter(|c| c.margin < 0.5).count() as f32);
    x.push(chars.iter().map(|c| c.gap).sum::<f32>());
    x.push(r.det);
    // centre to centre across the widest run of spaces, in line heights
    let mut widest = 0.0f32;
    let mut prev: Option<f32> = None;
    let mut spaced = false;
    for c in &chars {
        if c.text.trim().is_empty() {
            spaced = true;
            continue;
        }
        if let Some(x) = prev.filter(|_| spaced) {
            widest = widest.max(c.x_px - x);
        }
        (prev, spaced) = (Some(c.x_px), false);
    }
    x.push(widest / r.height.max(1.0));
    x.push(r.nbr);
    x.push(f32::from(r.pieces > 1));
    x
}

/// The candidate column of "cut from a line" (`FEATURE_NAMES`, then `EXTRA_NAMES`).
const CUT_COLUMN: usize = FEATURE_NAMES.len() + 7;

const EXTRA_NAMES: [&str; 8] =
    ["mean_prob", "min_prob", "n_uncertain", "sum_gap", "det", "widest_space_h", "nbr_close", "cut"];

fn fit(args: &[String]) -> Result<()> {
    // --extra NAME,..: fit these candidates too (by EXTRA_NAMES name)
    let extra: Vec<usize> = match args.iter().position(|a| a == "--extra") {
        Some(i) => args
            .get(i + 1)
            .context("--extra NAME,..")?
            .split(',')
            .map(|n| EXTRA_NAMES.iter().position(|e| e == &n).map(|j| FEATURE_NAMES.len() + j).context(n.to_string()))
            .collect::<Result<_>>()?,
        None => Vec::new(),
    };
    let args: Vec<String> = match args.iter().position(|a| a == "--extra") {
        Some(i) => args[..i].iter().chain(&args[i + 2..]).cloned().collect(),
        None => args.to_vec(),
    };
    // the model's inputs: its character features and whether the suggestion was cut from a
    // line (`confidence::as_cut`), then any extras
    let columns = |r: &Record| -> Vec<f32> {
        let c = candidates(r);
        (0..FEATURE_NAMES.len()).chain([CUT_COLUMN]).chain(extra.iter().copied()).map(|j| c[j]).collect()
    };
    let split = args.iter().position(|a| a == "--heldout").unwrap_or(args.len());
    let mut train = Vec::new();
    for p in &args[..split] {
        train.extend(load(p)?);
    }
    let k = FEATURE_NAMES.len() + 1 + extra.len();
    let xs: Vec<Vec<f32>> = train.iter().map(columns).collect();
    let ys: Vec<bool> = train.iter().map(|r| r.right).collect();
    let (w, b) = logistic(&xs, &ys, 1e-3);
    println!("fitted on {} suggestions ({} read wrong):", train.len(), ys.iter().filter(|y| !**y).count());
    let n = FEATURE_NAMES.len();
    println!("const WEIGHTS: [f32; {n}] = {:?};\nconst BIAS: f32 = {b:?};", &w[..n]);
    println!("pub const CUT_WEIGHT: f32 = {:?};", w[n]);
    if k > n + 1 {
        println!("extras: {:?}", &w[n + 1..]);
    }
    let names: Vec<&str> = FEATURE_NAMES.iter().chain(EXTRA_NAMES.iter()).copied().collect();
    let mut sets: Vec<(String, Vec<Record>)> = vec![("train".into(), train)];
    for p in args.iter().skip(split + 1) {
        sets.push((p.clone(), load(p)?));
    }
    for (name, recs) in &sets {
        let wrong = recs.iter().filter(|r| !r.right).count();
        let built_in = |r: &Record| {
            let score = confidence::of_chars(&r.chars());
            if r.pieces > 1 { confidence::as_cut(score) } else { score }
        };
        let model: Vec<(f32, bool)> = recs.iter().map(|r| (built_in(r), r.right)).collect();
        let refit: Vec<(f32, bool)> =
            recs.iter().map(|r| (columns(r).iter().zip(&w).map(|(x, w)| x * w).sum::<f32>() + b, r.right)).collect();
        println!("\n{name}: {} suggestions, {wrong} wrong", recs.len());
        println!("  {:<14} {:.3}", "this fit", auroc(&refit).unwrap_or(f64::NAN));
        println!("  {:<14} {:.3}", "built in", auroc(&model).unwrap_or(f64::NAN));
        let cand: Vec<Vec<f32>> = recs.iter().map(candidates).collect();
        for (j, n) in names.iter().enumerate() {
            let s: Vec<(f32, bool)> = cand.iter().zip(recs).map(|(x, r)| (x[j], r.right)).collect();
            println!("  {:<14} {:.3}", n, auroc(&s).unwrap_or(f64::NAN));
        }
    }
    Ok(())
}

/// Logistic regression by Newton's method on standardised inputs with a small ridge
/// penalty `l2`; returns weights and bias for the raw inputs.
fn logistic(xs: &[Vec<f32>], ys: &[bool], l2: f64) -> (Vec<f32>, f32) {
    let k = xs.first().map_or(0, Vec::len);
    let n = xs.len().max(1) as f64;
    let mean: Vec<f64> = (0..k).map(|j| xs.iter().map(|x| f64::from(x[j])).sum::<f64>() / n).collect();
    let sd: Vec<f64> = (0..k)
        .map(|j| (xs.iter().map(|x| (f64::from(x[j]) - mean[j]).powi(2)).sum::<f64>() / n).sqrt().max(1e-9))
        .collect();
    let z: Vec<Vec<f64>> =
        xs.iter().map(|x| (0..k).map(|j| (f64::from(x[j]) - mean[j]) / sd[j]).chain([1.0]).collect()).collect();
    let d = k + 1;
    let mut beta = vec![0.0f64; d];
    for _ in 0..50 {
        let mut grad = vec![0.0; d];
        let mut hess = vec![vec![0.0; d]; d];
        for (zi, &y) in z.iter().zip(ys) {
            let p = 1.0 / (1.0 + (-zi.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>()).exp());
            let e = p - f64::from(u8::from(y));
            for a in 0..d {
                grad[a] += e * zi[a];
                for b in 0..d {
                    hess[a][b] += p * (1.0 - p) * zi[a] * zi[b];
                }
            }
        }
        for a in 0..k {
            grad[a] += l2 * n * beta[a];
            hess[a][a] += l2 * n;
        }
        let step = solve(hess, grad);
        let change: f64 = step.iter().map(|s| s.abs()).sum();
        for (b, s) in beta.iter_mut().zip(step) {
            *b -= s;
        }
        if change < 1e-9 {
            break;
        }
    }
    let w: Vec<f32> = (0..k).map(|j| (beta[j] / sd[j]) as f32).collect();
    let b = beta[k] - (0..k).map(|j| beta[j] * mean[j] / sd[j]).sum::<f64>();
    (w, b as f32)
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let d = b.len();
    for c in 0..d {
        let p = (c..d).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs())).unwrap_or(c);
        a.swap(c, p);
        b.swap(c, p);
        let piv = if a[c][c].abs() < 1e-12 { 1e-12 } else { a[c][c] };
        let (done, below) = a.split_at_mut(c + 1);
        let pivot_row = &done[c];
        for (row, r) in below.iter_mut().zip(c + 1..) {
            let f = row[c] / piv;
            for (x, p) in row[c..].iter_mut().zip(&pivot_row[c..]) {
                *x -= f * p;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; d];
    for c in (0..d).rev() {
        let s: f64 = (c + 1..d).map(|k| a[c][k] * x[k]).sum();
        let piv = if a[c][c].abs() < 1e-12 { 1e-12 } else { a[c][c] };
        x[c] = (b[c] - s) / piv;
    }
    x
}
