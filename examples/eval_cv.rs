//! Scores the CV proposals on a ground-truth folder, for tuning and for the OpenCV comparison:
//! `cargo run --release --example eval_cv -- DIR [--json] [--iou 0.5] [--overlay OUT]
//! [--synth N SEED] [key=value …]` where keys are `CvConfig` fields (e.g. `line_gap_k=1.1`).
//! `--synth N SEED` first writes N synthetic invoices of SEED into DIR.

use std::path::PathBuf;

use anyhow::{Context, bail};
use facture::domain::Rect;
use facture::formats::gt::{GroundTruth, gt_files_in};
use facture::metrics::match_boxes;
use facture::prelabel::cv::{CvConfig, CvSource, propose};
use facture::prelabel::eval::evaluate;
use image::Rgb;
use imageproc::drawing::draw_hollow_rect_mut;

fn set(cfg: &mut CvConfig, key: &str, v: f32) -> anyhow::Result<()> {
    match key {
        "max_side_px" => cfg.max_side_px = v as u32,
        "window_k" => cfg.window_k = v,
        "sauvola_k" => cfg.sauvola_k = v,
        "min_contrast" => cfg.min_contrast = v,
        "speck_k" => cfg.speck_k = v,
        "blob_k" => cfg.blob_k = v,
        "rule_k" => cfg.rule_k = v,
        "core_k" => cfg.core_k = v,
        "line_gap_k" => cfg.line_gap_k = v,
        "word_gap_k" => cfg.word_gap_k = v,
        "pad_x_k" => cfg.pad_x_k = v,
        "pad_y_k" => cfg.pad_y_k = v,
        "min_score" => cfg.min_score = v,
        _ => bail!("unknown CvConfig field {key}"),
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut dir: Option<PathBuf> = None;
    let (mut json, mut iou, mut overlay, mut synth) = (false, 0.5f32, None::<PathBuf>, None::<(u32, u64)>);
    let mut cfg = CvConfig::default();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--json" => json = true,
            "--iou" => iou = args.next().context("--iou needs a value")?.parse()?,
            "--overlay" => overlay = Some(args.next().context("--overlay needs a folder")?.into()),
            "--synth" => {
                let n = args.next().context("--synth N SEED")?.parse()?;
                let seed = args.next().context("--synth N SEED")?.parse()?;
                synth = Some((n, seed));
            }
            kv if kv.contains('=') => {
                let (k, v) = kv.split_once('=').context("key=value")?;
                set(&mut cfg, k, v.parse()?)?;
            }
            path => dir = Some(path.into()),
        }
    }
    let dir = dir.context("usage: eval_cv DIR [--json] [--iou X] [--overlay OUT] [--synth N SEED] [key=value…]")?;
    if let Some((n, seed)) = synth {
        facture::synth::write_set(&dir, n, seed)?;
    }
    let mut src = CvSource { config: cfg.clone() };
    let report = evaluate(&dir, &mut src, iou)?;
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    if let Some(out) = overlay {
        std::fs::create_dir_all(&out)?;
        for jp in gt_files_in(&dir)? {
            let Ok(gt) = GroundTruth::load(&jp) else { continue };
            let img = image::open(gt.image_path(&jp))?;
            let res = propose(&img, &cfg);
            let f = (img.width().max(img.height()) as f32 / 1400.0).max(1.0);
            let mut rgb = image::imageops::thumbnail(
                &img.to_rgb8(),
                (img.width() as f32 / f) as u32,
                (img.height() as f32 / f) as u32,
            );
            let gts: Vec<Rect> = gt.boxes.iter().map(|b| b.rect()).collect();
            let preds: Vec<Rect> = res.lines.iter().map(|p| p.rect).collect();
            let m = match_boxes(&gts, &preds, iou);
            let draw = |im: &mut image::RgbImage, r: &Rect, c: [u8; 3], grow: f32| {
                let (x, y) = ((r.x0 / f - grow) as i32, (r.y0 / f - grow) as i32);
                let (w, h) =
                    ((r.width() / f + 2.0 * grow).max(1.0) as u32, (r.height() / f + 2.0 * grow).max(1.0) as u32);
                draw_hollow_rect_mut(im, imageproc::rect::Rect::at(x, y).of_size(w, h), Rgb(c));
            };
            for &i in &m.unmatched_gt {
                draw(&mut rgb, &gts[i], [0, 170, 0], 1.0);
            }
            for &i in &m.unmatched_pred {
                draw(&mut rgb, &preds[i], [230, 0, 0], 0.0);
            }
            for p in &m.pairs {
                draw(&mut rgb, &preds[p.pred], [0, 90, 255], 0.0);
            }
            let name = jp.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            rgb.save(out.join(format!("{name}.png")))?;
            eprintln!("{name}: skew {:.2}°, {} lines, {} words", res.skew_deg, res.lines.len(), res.words.len());
        }
    }
    Ok(())
}
