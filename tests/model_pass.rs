//! The real OCR models through ONNX Runtime on synthetic invoices, and the errors a missing
//! or wrong runtime or model gives. Needs the runtime and models build.rs provisions; where
//! the build could not provision them the model tests print a note and pass, unless
//! FACTURE_REQUIRE_MODELS=1 (CI and this project's machines), where they fail.

use std::path::PathBuf;

use facture::domain::Quad;
use facture::metrics::{CerCounts, Counts, cer_counts, match_boxes};
use facture::prelabel::ProposalSource;
use facture::prelabel::model::det::{band_cut, input_tensor};
use facture::prelabel::model::runtime::{find_model_dir, find_runtime};
use facture::prelabel::model::spec::{Charset, ModelSet, ModelSpec, Precision, SPEC_FILE_NAME};
use facture::prelabel::model::{Int8Weights, ModelConfig, ModelError, ModelSource, RecPrecision, has_vnni};

/// The provisioned runtime and model dir, or `None` (with a note) when absent and allowed.
fn provisioned() -> Option<(PathBuf, PathBuf)> {
    match (find_runtime(None), find_model_dir(None)) {
        (Ok(lib), Ok(dir)) => Some((lib, dir)),
        (Err(e), _) | (_, Err(e)) => {
            if std::env::var("FACTURE_REQUIRE_MODELS").is_ok_and(|v| v == "1") {
                panic!("FACTURE_REQUIRE_MODELS=1 but the model pass is not provisioned: {e}");
            }
            eprintln!("note: skipping model test, runtime or models not provisioned: {e}");
            None
        }
    }
}

/// A workspace file with one annotator, `ann`, and one synthetic invoice page (seed 7, page
/// `n`) as its only document.
fn one_page_workspace(
    dir: &std::path::Path,
    n: u32,
) -> (PathBuf, facture::synth::SynthPage, facture::domain::User, facture::domain::DocId) {
    use facture::store::{NewDocument, Store};
    let page = facture::synth::render_page(7, n);
    let png = dir.join("page.png");
    page.image.save(&png).unwrap();
    let ws = dir.join("ws.sqlite");
    let mut store = Store::create(&ws).unwrap();
    let user = store.add_user("ann", facture::domain::Role::Annotator).unwrap();
    let (w, h) = page.image.dimensions();
    let nd = NewDocument { path: png.display().to_string(), sha256: "0".repeat(64), page: 0, width: w, height: h };
    let doc = store.add_document(&nd, 0).unwrap().unwrap();
    (ws, page, user, doc)
}

#[test]
fn required_models_are_present_when_asked_for() {
    // With FACTURE_REQUIRE_MODELS=1 this fails on a machine where build.rs could not provision.
    let _ = provisioned();
}

#[test]
fn reads_synthetic_invoices_above_measured_floors() {
    let Some(_) = provisioned() else { return };
    let mut source = ModelSource::load(&ModelConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(source.name(), "model:ppocr-v6-small");
    let mut counts = Counts::default();
    let mut cer = CerCounts::default();
    for index in 1..=2 {
        let page = facture::synth::render_page(7, index);
        let image = image::DynamicImage::ImageRgb8(page.image);
        let proposals = source.propose(&image).unwrap_or_else(|e| panic!("{e}"));
        assert!(proposals.iter().all(|p| p.text.as_deref().is_some_and(|t| !t.is_empty())));
        let gt: Vec<_> = page.gt.boxes.iter().map(|b| b.rect()).collect();
        let pred: Vec<_> = proposals.iter().map(|p| p.rect).collect();
        let m = match_boxes(&gt, &pred, 0.5);
        let c = m.counts();
        (counts.matched, counts.gt, counts.pred) = (counts.matched + c.matched, counts.gt + c.gt, counts.pred + c.pred);
        for pair in &m.pairs {
            cer += cer_counts(&page.gt.boxes[pair.gt].text, proposals[pair.pred].text.as_deref().unwrap_or(""));
        }
    }
    let (recall, cer) = (counts.recall(), cer.rate());
    eprintln!("synthetic pages 1-2 of seed 7: precision {:.3} recall {recall:.3} cer {cer:.4}", counts.precision());
    // measured with the default config on the current synth generator (5 layouts):
    // precision 0.926, recall 0.873, cer 0.0092
    assert!(recall >= 0.84, "recall {recall}");
    assert!(cer <= 0.03, "cer {cer}");
}

#[test]
fn detection_gives_boxes_and_recognition_reads_a_moved_box() {
    let Some(_) = provisioned() else { return };
    let mut source = ModelSource::load(&ModelConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let page = facture::synth::render_page(7, 3);
    let image = image::DynamicImage::ImageRgb8(page.image);
    let boxes = source.detect(&image).unwrap_or_else(|e| panic!("{e}"));
    assert!(boxes.len() >= 20 && boxes.iter().all(|b| b.text.is_none()), "{} boxes", boxes.len());
    // re-recognise ground-truth boxes, as after an annotator moved a box
    let gt: Vec<_> = page.gt.boxes.iter().filter(|b| b.text.chars().count() >= 4).take(8).collect();
    let regions: Vec<Quad> = gt.iter().map(|b| Quad::from_rect(&b.rect())).collect();
    let mut streamed = 0;
    let texts = source
        .recognize_streaming(&image, &regions, &mut |batch| {
            streamed += batch.len();
            std::ops::ControlFlow::Continue(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((texts.len(), streamed), (regions.len(), regions.len()));
    let total: CerCounts = gt.iter().zip(&texts).map(|(g, (t, _))| cer_counts(&g.text, t)).sum();
    assert!(total.rate() <= 0.05, "{texts:?} vs {:?}", gt.iter().map(|g| &g.text).collect::<Vec<_>>());
}

#[test]
fn parallel_recogniser_sessions_read_what_one_reads_and_stop_when_told() {
    let Some(_) = provisioned() else { return };
    let page = facture::synth::render_page(7, 4);
    let image = image::DynamicImage::ImageRgb8(page.image);
    let regions: Vec<Quad> = page.gt.boxes.iter().map(|b| Quad::from_rect(&b.rect())).collect();
    assert!(regions.len() >= 20);
    let read_with = |threads: usize| {
        let mut source =
            ModelSource::load(&ModelConfig { threads, ..ModelConfig::default() }).unwrap_or_else(|e| panic!("{e}"));
        let mut order = Vec::new();
        let texts = source
            .recognize_streaming(&image, &regions, &mut |batch| {
                order.extend(batch.iter().map(|(i, ..)| *i));
                std::ops::ControlFlow::Continue(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
        (texts, order)
    };
    let (one, one_order) = read_with(1);
    let (two, mut two_order) = read_with(2);
    // one session reads in the order given (reading order); two finish in any order, but
    // every line is handed on exactly once and each text lands at its own index
    assert_eq!(one_order, (0..regions.len()).collect::<Vec<_>>());
    two_order.sort_unstable();
    assert_eq!(two_order, one_order);
    assert_eq!(one.iter().map(|t| &t.0).collect::<Vec<_>>(), two.iter().map(|t| &t.0).collect::<Vec<_>>());
    assert!(one.iter().filter(|t| !t.0.is_empty()).count() >= regions.len() * 9 / 10);

    // Break after the first batch: the workers stop, most lines stay unread
    let mut source =
        ModelSource::load(&ModelConfig { threads: 2, ..ModelConfig::default() }).unwrap_or_else(|e| panic!("{e}"));
    let mut calls = 0;
    let texts = source
        .recognize_streaming(&image, &regions, &mut |_| {
            calls += 1;
            std::ops::ControlFlow::Break(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(calls, 1);
    assert!(texts.iter().filter(|t| !t.0.is_empty()).count() <= 2, "{texts:?}");
}

#[test]
fn model_pass_streams_read_lines_into_the_workspace_and_undoes_in_one_step() {
    use facture::app::prelabel_job::{JobControl, JobEvent, JobKind, STREAM_LINES, run};
    use facture::app::{Command, Session};
    use facture::domain::{AnnState, EditKind};
    use facture::store::Store;

    let Some(_) = provisioned() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (ws, page, user, doc) = one_page_workspace(dir.path(), 5);
    let store = Store::open(&ws).unwrap();
    // what the one-shot pass proposes for this page, to compare the streamed result with
    let image = image::DynamicImage::ImageRgb8(page.image.clone());
    let mut source = ModelSource::load(&ModelConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut expected: Vec<(String, [i32; 4])> = source
        .read_page(&image)
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|p| {
            (p.text.clone().unwrap_or_default(), [p.rect.x0, p.rect.y0, p.rect.x1, p.rect.y1].map(|v| v.round() as i32))
        })
        .collect();
    assert!(expected.len() > 2 * STREAM_LINES, "{} lines", expected.len());

    let (tx, rx) = crossbeam_channel::unbounded();
    let control = JobControl::default();
    let summary = run(Session::new(store, user.clone()), &[doc], JobKind::Model(ModelConfig::default()), &control, &tx)
        .unwrap_or_else(|e| panic!("{e}"));
    drop(tx);
    let changed = rx.iter().filter(|e| *e == JobEvent::Changed(doc)).count();

    let mut session = Session::new(Store::open(&ws).unwrap(), user.clone());
    let anns = session.store().annotations(doc).unwrap();
    let mut got: Vec<(String, [i32; 4])> = anns
        .iter()
        .map(|a| (a.text.clone(), [a.rect.x0, a.rect.y0, a.rect.x1, a.rect.y1].map(|v| v.round() as i32)))
        .collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "{summary}");
    assert!(anns.iter().all(|a| a.state == AnnState::Suggested && !a.text.is_empty()));

    // the boxes first, then the lines in several durable edits that continue the first
    let edits = session.store().edits_for(doc, user.id).unwrap();
    let head = edits[0].id;
    assert_eq!((edits[0].action.as_str(), edits[0].kind), ("add_suggestions", EditKind::Do));
    assert!(edits.len() >= 4, "{} edits", edits.len());
    let (labels, batches) = edits[1..].split_last().unwrap();
    assert!(batches.iter().all(|e| e.kind == EditKind::Continues(head) && e.action == "replace_suggestions"));
    // ...and last, in the same step, the field labels suggested for the lines read
    assert_eq!((labels.action.as_str(), labels.kind), ("suggest_labels", EditKind::Continues(head)));
    assert!(anns.iter().filter(|a| a.label.is_some()).all(|a| a.label_conf.is_some() && a.label_suggested == a.label));
    assert!(anns.iter().filter(|a| a.label.is_some()).count() * 2 > anns.len(), "most lines get a label");
    // the UI was told to redraw after the boxes and after every batch, plus once at the end
    assert_eq!(changed, batches.len() + 2);

    // one undo takes the whole pass back, one redo brings it all again
    session.apply(Command::Undo { doc }).unwrap();
    assert!(session.store().annotations(doc).unwrap().is_empty());
    session.apply(Command::Redo { doc }).unwrap();
    let mut again: Vec<(String, [i32; 4])> = session
        .store()
        .annotations(doc)
        .unwrap()
        .iter()
        .map(|a| (a.text.clone(), [a.rect.x0, a.rect.y0, a.rect.x1, a.rect.y1].map(|v| v.round() as i32)))
        .collect();
    again.sort();
    assert_eq!(again, got);

    // a second job (re-read every machine-made box) reuses the loaded models
    let loads = facture::app::prelabel_job::model_loads();
    let (tx, _rx) = crossbeam_channel::unbounded();
    let reread = JobKind::Reread { config: ModelConfig::default(), boxes: vec![] };
    run(Session::new(Store::open(&ws).unwrap(), user.clone()), &[doc], reread, &JobControl::default(), &tx)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(facture::app::prelabel_job::model_loads(), loads, "the second job loaded the models again");

    // models in a directory of the team's own: kept while unchanged, read again once a file
    // there changes (a fine-tuned model dropped in while Facture runs)
    let Some((_, models)) = provisioned() else { return };
    let own = tempfile::tempdir().unwrap();
    for f in ["PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx"] {
        std::fs::copy(models.join(f), own.path().join(f)).unwrap();
    }
    let config = ModelConfig { model_dir: Some(own.path().into()), ..ModelConfig::default() };
    let reread = || JobKind::Reread { config: config.clone(), boxes: vec![] };
    let run_job = |kind: JobKind| {
        let (tx, _rx) = crossbeam_channel::unbounded();
        run(Session::new(Store::open(&ws).unwrap(), user.clone()), &[doc], kind, &JobControl::default(), &tx)
            .unwrap_or_else(|e| panic!("{e}"));
        facture::app::prelabel_job::model_loads()
    };
    let loaded = run_job(reread());
    assert_eq!(loaded, loads + 1, "another model dir is another load");
    assert_eq!(run_job(reread()), loaded, "unchanged files are kept");
    // a spec file appears: the same models, now described by the team's spec
    let spec = serde_json::to_string(&ModelSet::ppocr_v6_small()).unwrap();
    std::fs::write(own.path().join(SPEC_FILE_NAME), spec).unwrap();
    assert_eq!(run_job(reread()), loaded + 1, "a new spec file must be read");
    // a model replaced by another file (here: a shorter copy is refused, a full one loads)
    let rec = own.path().join("PP-OCRv6_rec_small.onnx");
    let bytes = std::fs::read(&rec).unwrap();
    std::fs::write(&rec, &bytes[..bytes.len() / 2]).unwrap();
    let (tx, _rx) = crossbeam_channel::unbounded();
    let err = run(Session::new(Store::open(&ws).unwrap(), user.clone()), &[doc], reread(), &JobControl::default(), &tx)
        .err()
        .unwrap_or_default();
    assert!(err.contains("PP-OCRv6_rec_small.onnx") && err.contains("corrupt"), "{err}");
    std::fs::write(&rec, &bytes).unwrap();
    assert_eq!(run_job(reread()), loaded + 3, "the restored model is read again");
}

/// A model dir whose spec is the default set, pointing at the provisioned files, as `edit`
/// changes it.
fn spec_dir(models: &std::path::Path, edit: impl Fn(&mut ModelSpec)) -> tempfile::TempDir {
    let mut set = ModelSet::ppocr_v6_small();
    for m in &mut set.models {
        match m {
            ModelSpec::TextDetectorDb(d) => d.file = models.join(&d.file),
            ModelSpec::TextRecognizerCtc(r) => r.file = models.join(&r.file),
            ModelSpec::TextDirectionCls(c) => c.file = models.join(&c.file),
        }
        edit(m);
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let json = serde_json::to_string_pretty(&set).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join(SPEC_FILE_NAME), json).unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// The default recogniser is narrowed to European characters: it reads every line whose
/// full-model reading is European exactly as the full model does, with at least its
/// confidence (the same probabilities, renormalised over fewer classes).
#[test]
fn european_charset_reads_european_lines_as_the_full_model_does() {
    let Some((_, models)) = provisioned() else { return };
    let all = spec_dir(&models, |m| {
        if let ModelSpec::TextRecognizerCtc(r) = m {
            r.charset = Charset::All;
        }
    });
    assert_eq!(ModelSet::ppocr_v6_small().recognizer().map(|r| r.charset), Some(Charset::European));
    let page = facture::synth::render_page(7, 4);
    let image = image::DynamicImage::ImageRgb8(page.image);
    let regions: Vec<Quad> = page.gt.boxes.iter().map(|b| Quad::from_rect(&b.rect())).collect();
    let read = |config: ModelConfig| {
        let mut source = ModelSource::load(&config).unwrap_or_else(|e| panic!("{e}"));
        source.recognize(&image, &regions).unwrap_or_else(|e| panic!("{e}"))
    };
    let full = read(ModelConfig { model_dir: Some(all.path().into()), ..ModelConfig::default() });
    let narrow = read(ModelConfig::default());
    let mut compared = 0;
    for ((ft, fs), (nt, ns)) in full.iter().zip(&narrow) {
        if ft.chars().all(|c| Charset::European.allows(&c.to_string())) {
            assert_eq!(ft, nt);
            assert!(*ns >= fs - 1e-4, "{ft}: {ns} < {fs}");
            compared += 1;
        } else {
            assert!(nt.chars().all(|c| Charset::European.allows(&c.to_string())), "{nt}");
        }
    }
    assert!(compared >= regions.len() * 9 / 10, "{compared} of {}", regions.len());
}

/// The default recogniser runs its convolutions in int8 (about 0.7× the time per page, see
/// the README), with the weights this CPU sums exactly: 8 bits with VNNI, 7 bits without.
/// Both paths, on synthetic invoice lines, read what the float model reads, to within a few
/// characters in a thousand, and are as close to the ground truth. The 7-bit path is checked
/// on every machine (forced where VNNI would pick 8 bits); the 8-bit one only where its sums
/// cannot saturate.
#[test]
fn int8_recogniser_reads_what_the_float_one_reads_on_both_weight_widths() {
    let Some((_, models)) = provisioned() else { return };
    let float = spec_dir(&models, |m| {
        if let ModelSpec::TextRecognizerCtc(r) = m {
            r.precision = Precision::Float;
        }
    });
    let load = |config: ModelConfig| ModelSource::load(&config).unwrap_or_else(|e| panic!("{e}"));
    let mine = load(ModelConfig::default());
    let expected = if has_vnni() || !cfg!(target_arch = "x86_64") { Int8Weights::Bits8 } else { Int8Weights::Bits7 };
    assert_eq!(Int8Weights::for_this_cpu(), expected);
    assert_eq!(mine.recognizer_precision(), &RecPrecision::Int8 { convs: 43, weights: expected });
    drop(mine);
    let mut float = load(ModelConfig { model_dir: Some(float.path().into()), ..ModelConfig::default() });
    assert_eq!(float.recognizer_precision(), &RecPrecision::Float);
    let mut widths = vec![Int8Weights::Bits7];
    if expected == Int8Weights::Bits8 {
        widths.push(Int8Weights::Bits8);
    }
    for weights in widths {
        let mut int8 = load(ModelConfig { int8_weights: Some(weights), ..ModelConfig::default() });
        assert_eq!(int8.recognizer_precision(), &RecPrecision::Int8 { convs: 43, weights });
        let (mut apart, mut int8_vs_gt, mut float_vs_gt) =
            (CerCounts::default(), CerCounts::default(), CerCounts::default());
        let (mut same, mut lines) = (0, 0);
        for index in 1..=3 {
            let page = facture::synth::render_page(7, index);
            let image = image::DynamicImage::ImageRgb8(page.image);
            let regions: Vec<Quad> = page.gt.boxes.iter().map(|b| Quad::from_rect(&b.rect())).collect();
            let a = int8.recognize(&image, &regions).unwrap_or_else(|e| panic!("{e}"));
            let b = float.recognize(&image, &regions).unwrap_or_else(|e| panic!("{e}"));
            for ((gt, (ta, _)), (tb, _)) in page.gt.boxes.iter().zip(&a).zip(&b) {
                apart += cer_counts(tb, ta);
                int8_vs_gt += cer_counts(&gt.text, ta);
                float_vs_gt += cer_counts(&gt.text, tb);
                same += usize::from(ta == tb);
                lines += 1;
            }
        }
        let (apart, i, f) = (apart.rate(), int8_vs_gt.rate(), float_vs_gt.rate());
        eprintln!(
            "int8 ({weights}) vs float: {same}/{lines} lines identical, cer between them {apart:.4}; vs ground truth {i:.4} / {f:.4}"
        );
        // measured (8 bits): 211/211 identical (cer 0 between them), vs ground truth 0.0004 / 0.0004
        assert!(same * 100 >= lines * 95, "{weights}: {same} of {lines}");
        assert!(apart <= 0.01, "{weights}: int8 and float readings differ by cer {apart}");
        assert!(i <= f + 0.005, "{weights}: int8 cer {i} vs float {f}");
    }
}

/// Int8 ranges measured on another recogniser are never applied to this one: the pass runs
/// in float and says why. A ranges file the spec names but that is not one is a spec error.
#[test]
fn int8_ranges_for_another_recogniser_fall_back_to_float_with_the_reason() {
    let Some((_, models)) = provisioned() else { return };
    let builtin = include_str!("../assets/models/PP-OCRv6_rec_small.int8-ranges.json");
    let mut other: serde_json::Value = serde_json::from_str(builtin).unwrap_or_else(|e| panic!("{e}"));
    other["model_sha256"] = serde_json::Value::String("0".repeat(64));
    let dir = spec_dir(&models, |m| {
        if let ModelSpec::TextRecognizerCtc(r) = m {
            r.int8_ranges = Some("ranges.json".into());
        }
    });
    let config = ModelConfig { model_dir: Some(dir.path().into()), ..ModelConfig::default() };
    std::fs::write(dir.path().join("ranges.json"), other.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let mut source = ModelSource::load(&config).unwrap_or_else(|e| panic!("{e}"));
    match source.recognizer_precision() {
        RecPrecision::FloatFallback(why) => assert!(why.contains("another recogniser"), "{why}"),
        p => panic!("expected a float fallback, got {p}"),
    }
    let page = facture::synth::render_page(7, 1);
    let image = image::DynamicImage::ImageRgb8(page.image.clone());
    let regions: Vec<Quad> = page.gt.boxes.iter().take(5).map(|b| Quad::from_rect(&b.rect())).collect();
    let read = source.recognize(&image, &regions).unwrap_or_else(|e| panic!("{e}"));
    assert!(read.iter().filter(|(t, _)| !t.is_empty()).count() >= 4, "{read:?}");

    // a job on that config reads the page and its summary says the recogniser ran in float
    {
        use facture::app::Session;
        use facture::app::prelabel_job::{JobControl, JobKind, run};
        use facture::domain::Role;
        use facture::store::{NewDocument, Store};
        let png = dir.path().join("page.png");
        page.image.save(&png).unwrap_or_else(|e| panic!("{e}"));
        let mut store = Store::create(&dir.path().join("ws.sqlite")).unwrap_or_else(|e| panic!("{e}"));
        let user = store.add_user("ann", Role::Annotator).unwrap_or_else(|e| panic!("{e}"));
        let (w, h) = page.image.dimensions();
        let new = NewDocument { path: png.display().to_string(), sha256: "0".repeat(64), page: 0, width: w, height: h };
        let doc = store.add_document(&new, 0).ok().flatten().unwrap_or_else(|| panic!("document not added"));
        let (tx, _rx) = crossbeam_channel::unbounded();
        let summary =
            run(Session::new(store, user), &[doc], JobKind::Model(config.clone()), &JobControl::default(), &tx)
                .unwrap_or_else(|e| panic!("{e}"));
        assert!(summary.contains("recogniser ran in float") && summary.contains("another recogniser"), "{summary}");
    }

    // the same file with this recogniser's checksum is used
    other["model_sha256"] =
        serde_json::from_str::<serde_json::Value>(builtin).unwrap_or_default()["model_sha256"].clone();
    std::fs::write(dir.path().join("ranges.json"), other.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let source = ModelSource::load(&config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(source.recognizer_precision(), &RecPrecision::Int8 { convs: 43, weights: Int8Weights::for_this_cpu() });

    std::fs::write(dir.path().join("ranges.json"), "{\"convs\": [1, 2]}").unwrap_or_else(|e| panic!("{e}"));
    let err = ModelSource::load(&config).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("ranges.json") && err.contains("not an int8 ranges file"), "{err}");
}

/// European amounts keep their decimal comma: read with no padding after the line, the
/// recogniser turns "2.178,47" into "2.178.47" (PP-OCR trains on padded lines). The whole
/// pass, on two synthetic invoices with German and French number formats.
#[test]
fn european_amounts_keep_their_decimal_comma() {
    let Some(_) = provisioned() else { return };
    let mut source = ModelSource::load(&ModelConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let (mut amounts, mut as_dot) = (0, Vec::new());
    for index in [16, 17] {
        let page = facture::synth::render_page(7, index);
        let image = image::DynamicImage::ImageRgb8(page.image);
        // amounts written with a decimal comma: "87,01", "2.178,47", "30.141,37 EUR"
        let decimal_comma = |t: &str| {
            let b = t.trim_end_matches(" EUR").as_bytes();
            b.len() >= 4 && b[b.len() - 3] == b',' && b[b.len() - 2..].iter().all(u8::is_ascii_digit)
        };
        let proposals = source.propose(&image).unwrap_or_else(|e| panic!("{e}"));
        let gt: Vec<_> = page.gt.boxes.iter().map(|b| b.rect()).collect();
        let m = match_boxes(&gt, &proposals.iter().map(|p| p.rect).collect::<Vec<_>>(), 0.5);
        for pair in m.pairs.iter().filter(|p| decimal_comma(&page.gt.boxes[p.gt].text)) {
            amounts += 1;
            let text = proposals[pair.pred].text.clone().unwrap_or_default();
            if text == page.gt.boxes[pair.gt].text.replace(',', ".") {
                as_dot.push(text);
            }
        }
    }
    // measured: 1 of 21 with 32 columns of padding, 5 of 21 with none
    assert!(amounts >= 20, "only {amounts} amounts with a decimal comma");
    assert!(as_dot.len() <= 1, "decimal comma read as a point in {as_dot:?} of {amounts}");
}

/// Cutting an invoice's blank bands out of the detector input shrinks it and finds the
/// same boxes, moved back to where the whole page puts them (to within a few pixels).
#[test]
fn cutting_blank_bands_finds_the_boxes_the_whole_page_gives() {
    let Some((_, models)) = provisioned() else { return };
    let uncut = spec_dir(&models, |m| {
        if let ModelSpec::TextDetectorDb(d) = m {
            d.cut_blank_bands = false;
        }
    });
    let set = ModelSet::ppocr_v6_small();
    let spec = set.detector().unwrap_or_else(|| panic!("no detector"));
    let mut whole = ModelSource::load(&ModelConfig { model_dir: Some(uncut.path().into()), ..ModelConfig::default() })
        .unwrap_or_else(|e| panic!("{e}"));
    let mut cut = ModelSource::load(&ModelConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut pages_cut = 0;
    for index in 1..=3 {
        let page = facture::synth::render_page(7, index);
        let (data, iw, ih) = input_tensor(&page.image, spec);
        if let Some(rows) = band_cut(&data, iw, ih, spec) {
            assert!(rows.height() < ih as usize * 9 / 10 && rows.height() % 32 == 0);
            pages_cut += 1;
        }
        let image = image::DynamicImage::ImageRgb8(page.image);
        let a: Vec<_> = whole.detect(&image).unwrap_or_else(|e| panic!("{e}")).iter().map(|p| p.rect).collect();
        let b: Vec<_> = cut.detect(&image).unwrap_or_else(|e| panic!("{e}")).iter().map(|p| p.rect).collect();
        // a box moved back to the wrong band would match nothing; the network's
        // squeeze-excitation layers average over the whole input, so a denser input moves
        // box edges by a few pixels
        let m = match_boxes(&a, &b, 0.6);
        assert!(a.len() >= 20, "{} boxes", a.len());
        assert!(
            m.pairs.len() * 100 >= a.len().max(b.len()) * 95,
            "page {index}: {} of {} / {}",
            m.pairs.len(),
            a.len(),
            b.len()
        );
    }
    assert!(pages_cut >= 2, "only {pages_cut} of 3 invoices had blank bands to cut");
}

#[test]
fn missing_runtime_is_a_clear_error() {
    let cfg = ModelConfig { ort_lib: Some("/no/such/dir/libonnxruntime.so".into()), ..ModelConfig::default() };
    match ModelSource::load(&cfg) {
        Err(e @ ModelError::RuntimeNotFound { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("/no/such/dir/libonnxruntime.so"), "{msg}");
            assert!(msg.contains("cargo build") && msg.contains("--ort-lib"), "{msg}");
        }
        other => panic!("expected RuntimeNotFound, got {:?}", other.err()),
    }
}

#[test]
fn missing_model_dir_is_a_clear_error() {
    let Some((lib, _)) = provisioned() else { return };
    let cfg = ModelConfig { ort_lib: Some(lib), model_dir: Some("/no/such/models".into()), ..ModelConfig::default() };
    let msg = ModelSource::load(&cfg).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("/no/such/models") && msg.contains("FACTURE_MODEL_DIR"), "{msg}");
}

/// A model dir holding the default spec set's file names, with `det` and `rec` as given.
fn model_dir_with(det: &[u8], rec: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let set = ModelSet::ppocr_v6_small();
    std::fs::write(dir.path().join(&set.detector().unwrap().file), det).unwrap();
    std::fs::write(dir.path().join(&set.recognizer().unwrap().file), rec).unwrap();
    dir
}

#[test]
fn corrupt_model_file_is_a_clear_error() {
    let Some((lib, models)) = provisioned() else { return };
    let rec = std::fs::read(models.join("PP-OCRv6_rec_small.onnx")).unwrap();
    // deterministic garbage
    let junk: Vec<u8> = (0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let dir = model_dir_with(&junk, &rec);
    let cfg = ModelConfig { ort_lib: Some(lib.clone()), model_dir: Some(dir.path().into()), ..ModelConfig::default() };
    match ModelSource::load(&cfg) {
        Err(e @ ModelError::ModelLoad { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("PP-OCRv6_det_small.onnx") && msg.contains("corrupt"), "{msg}");
        }
        other => panic!("expected ModelLoad, got {:?}", other.err()),
    }
    // the recogniser is read (and narrowed) by Facture before ONNX Runtime sees it
    let det = std::fs::read(models.join("PP-OCRv6_det_small.onnx")).unwrap();
    for bad in [junk.clone(), rec[..rec.len() / 3].to_vec()] {
        let dir = model_dir_with(&det, &bad);
        let cfg =
            ModelConfig { ort_lib: Some(lib.clone()), model_dir: Some(dir.path().into()), ..ModelConfig::default() };
        match ModelSource::load(&cfg) {
            Err(e @ ModelError::ModelLoad { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains("PP-OCRv6_rec_small.onnx") && msg.contains("corrupt"), "{msg}");
            }
            other => panic!("expected ModelLoad, got {:?}", other.err()),
        }
    }
}

#[test]
fn wrong_model_kind_is_a_clear_error() {
    let Some((lib, models)) = provisioned() else { return };
    let det = std::fs::read(models.join("PP-OCRv6_det_small.onnx")).unwrap();
    let rec = std::fs::read(models.join("PP-OCRv6_rec_small.onnx")).unwrap();
    let cfg = |dir: &tempfile::TempDir| ModelConfig {
        ort_lib: Some(lib.clone()),
        model_dir: Some(dir.path().into()),
        ..ModelConfig::default()
    };
    // the recogniser where the detector should be
    let dir = model_dir_with(&rec, &rec);
    match ModelSource::load(&cfg(&dir)) {
        Err(e @ ModelError::WrongModel { expected: "text-detector-db", .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("PP-OCRv6_det_small.onnx") && msg.contains(SPEC_FILE_NAME), "{msg}");
        }
        other => panic!("expected WrongModel(det), got {:?}", other.err()),
    }
    // the detector where the recogniser should be: no dictionary, wrong output
    let dir = model_dir_with(&det, &det);
    match ModelSource::load(&cfg(&dir)) {
        Err(e @ ModelError::WrongModel { expected: "text-recognizer-ctc", .. }) => {
            assert!(e.to_string().contains("PP-OCRv6_rec_small.onnx"), "{e}");
        }
        other => panic!("expected WrongModel(rec), got {:?}", other.err()),
    }
}

/// Loading a file that is not a shared library as ONNX Runtime fails cleanly. Runs in a
/// child process: a process can load ONNX Runtime only once, and other tests load the real one.
#[test]
fn corrupt_runtime_is_a_clear_error() {
    if std::env::var("FACTURE_TEST_CHILD").is_ok() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("libonnxruntime.so.1.31.1");
        std::fs::write(&lib, b"this is not a shared library").unwrap();
        let cfg = ModelConfig { ort_lib: Some(lib), ..ModelConfig::default() };
        match ModelSource::load(&cfg) {
            Err(e @ ModelError::RuntimeLoad { .. }) => println!("CHILD-OK {e}"),
            other => println!("CHILD-FAIL {:?}", other.err()),
        }
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "corrupt_runtime_is_a_clear_error", "--nocapture", "--test-threads=1"])
        .env("FACTURE_TEST_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // libtest prints the child's output on the line that names the test
    let found = stdout.find("CHILD-").map(|i| &stdout[i..]).unwrap_or_default();
    assert!(found.starts_with("CHILD-OK") && found.contains("cannot load ONNX Runtime"), "{stdout}");
}

#[test]
fn a_model_pass_after_cv_reads_and_takes_over_machine_boxes_but_never_a_persons() {
    use facture::app::prelabel_job::{JobControl, JobKind, run};
    use facture::app::{Command, Session};
    use facture::domain::{AnnState, Rect, Source};
    use facture::store::Store;

    let Some(_) = provisioned() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (ws, _, user, doc) = one_page_workspace(dir.path(), 3);
    let job = |kind: JobKind| {
        let (tx, _rx) = crossbeam_channel::unbounded();
        let session = Session::new(Store::open(&ws).unwrap(), user.clone());
        run(session, &[doc], kind, &JobControl::default(), &tx).unwrap_or_else(|e| panic!("{e}"))
    };
    job(JobKind::Cv(Default::default()));
    let mut session = Session::new(Store::open(&ws).unwrap(), user.clone());
    let cv = session.store().annotations(doc).unwrap();
    assert!(cv.len() > 20 && cv.iter().all(|a| a.source == Source::Cv && a.text.is_empty()), "{}", cv.len());
    // a person moves one CV box (still a suggestion) and draws and types a box of their own
    let moved = cv[3].clone();
    let shifted = moved.rect.translated(2.0, 1.0);
    session.apply(Command::SetGeometry { doc, boxes: vec![(moved.id, shifted, None)] }).unwrap();
    let theirs = cv[8].rect;
    session.apply(Command::RejectSuggestions { doc, ids: vec![cv[8].id] }).unwrap();
    let mine = session
        .apply(Command::AddBox { doc, rect: theirs, quad: None, label: None, text: "MINE".into() })
        .unwrap()
        .created_boxes()[0];
    let before: Vec<_> = session.store().annotations(doc).unwrap();

    let summary = job(JobKind::Model(ModelConfig::default()));
    let after = session.store().annotations(doc).unwrap();
    let suggestions: Vec<_> = after.iter().filter(|a| a.state == AnnState::Suggested).collect();
    let read = suggestions.iter().filter(|a| !a.text.is_empty()).count();
    // most lines now carry text (before: none did), from the model's own boxes mostly
    assert!(read as f32 >= 0.9 * suggestions.len() as f32, "{read} of {} read; {summary}", suggestions.len());
    assert!(suggestions.iter().filter(|a| matches!(a.source, Source::Model(_))).count() > cv.len() / 2, "{summary}");
    // the person's box and text are untouched, and no suggestion sits on it
    let m = after.iter().find(|a| a.id == mine).unwrap();
    assert_eq!((m.text.as_str(), m.rect, m.source.clone()), ("MINE", theirs, Source::Manual));
    assert!(!suggestions.iter().any(|a| a.rect.iou(&theirs) > 0.3), "a suggestion over a person's box");
    // the box the person moved keeps its place and is read where it is
    let kept = after.iter().find(|a| a.id == moved.id).expect("a moved suggestion is not taken over");
    assert_eq!(kept.rect, shifted);
    assert!(!kept.text.is_empty(), "the moved box's text was not read");
    assert!(matches!(kept.text_source, Source::Model(_)));
    // one undo takes the whole model pass back, to exactly the state before it
    session.apply(Command::Undo { doc }).unwrap();
    let mut back = session.store().annotations(doc).unwrap();
    let mut want = before.clone();
    back.sort_by_key(|a| a.id);
    want.sort_by_key(|a| a.id);
    let key = |v: &[facture::domain::Annotation]| -> Vec<(i64, Rect, String)> {
        v.iter().map(|a| (a.id.0, a.rect, a.text.clone())).collect()
    };
    assert_eq!(key(&back), key(&want));
}

/// The suggestions' confidence (`prelabel::model::confidence`) ranks lines read wrong below
/// lines read right on synthetic invoices it was not fitted on (seed 7; it was fitted on
/// seeds 11–14).
#[test]
fn confidence_ranks_wrong_readings_below_right_ones() {
    let Some(_) = provisioned() else { return };
    let mut source = ModelSource::load(&ModelConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut scored: Vec<(f32, bool)> = Vec::new();
    for index in 1..=6 {
        let page = facture::synth::render_page(7, index);
        let proposals = source.propose(&image::DynamicImage::ImageRgb8(page.image)).unwrap_or_else(|e| panic!("{e}"));
        assert!(proposals.iter().all(|p| (0.0..=1.0).contains(&p.score)));
        let gt: Vec<_> = page.gt.boxes.iter().map(|b| b.rect()).collect();
        let pred: Vec<_> = proposals.iter().map(|p| p.rect).collect();
        for pair in &match_boxes(&gt, &pred, 0.5).pairs {
            let read = proposals[pair.pred].text.as_deref().unwrap_or("");
            let right = facture::metrics::fold(read) == facture::metrics::fold(&page.gt.boxes[pair.gt].text);
            scored.push((proposals[pair.pred].score, right));
        }
    }
    let mean = |right: bool| {
        let s: Vec<f32> = scored.iter().filter(|x| x.1 == right).map(|x| x.0).collect();
        s.iter().sum::<f32>() / s.len().max(1) as f32
    };
    let auroc = facture::metrics::auroc(&scored).expect("some lines right and some wrong");
    let wrong = scored.iter().filter(|x| !x.1).count();
    eprintln!("seed 7 pages 1-6: {} lines, {wrong} wrong, confidence AUROC {auroc:.3}", scored.len());
    assert!(mean(false) < mean(true), "wrong {} vs right {}", mean(false), mean(true));
    // measured 0.869 (8 wrong of 307), and 0.794 (11 of 312) under an earlier way of
    // cutting lines: with so few wrong lines the figure is noisy, so the floor sits below
    // the ~0.83 of larger held-out sets
    assert!(auroc > 0.75, "AUROC {auroc}");
}
