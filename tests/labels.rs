//! Field-label suggestions: the day-one rules, the model a workspace learns from its reviewed
//! documents (stored with its dataset version, on either backend), suggestions that never
//! overwrite a person's label, one undo step, a damaged model blob, and the CLI.

mod common;

use common::backend::{Backend, on_each_backend};
use facture::app::labels::{self, LabelError};
use facture::app::prelabel_job::{JobControl, JobKind, run};
use facture::app::{Command, Session};
use facture::domain::{AnnState, DocId, DocVerdict, Role, Source};
use facture::formats::gt::GroundTruth;
use facture::labeling::{self, LabelScores, Page, PageBox, Suggester, TrainPage, TrainParams};
use facture::store::{Store, StoredLabelModel, Workspace};

/// The ground truth of synthetic invoices `1..=count` of `seed`, as pages with their labels.
fn synth_pages(seed: u64, count: u32) -> Vec<(GroundTruth, TrainPage)> {
    (1..=count)
        .map(|i| {
            let gt = facture::synth::render_page(seed, i).gt;
            let page = TrainPage::from_gt(&gt);
            (gt, page)
        })
        .collect()
}

fn vendor(gt: &GroundTruth) -> String {
    gt.boxes.iter().find(|b| b.label.as_deref() == Some("vendor_name")).map_or(String::new(), |b| b.text.clone())
}

fn schema_names() -> Vec<String> {
    facture::domain::default_invoice_schema().into_iter().map(|l| l.name).collect()
}

fn score(s: &Suggester, pages: &[&TrainPage]) -> LabelScores {
    let mut pairs = Vec::new();
    let mut confusions: std::collections::BTreeMap<String, usize> = Default::default();
    for p in pages {
        for ((gt, got), b) in p.labels.iter().zip(s.suggest(&p.page)).zip(&p.page.boxes) {
            let got = got.map(|g| g.0);
            if *gt != got {
                *confusions.entry(format!("{gt:?} -> {got:?}: {}", b.text)).or_default() += 1;
            }
            pairs.push((gt.clone(), got));
        }
    }
    if std::env::var_os("FACTURE_SHOW_CONFUSIONS").is_some() {
        for (k, n) in &confusions {
            eprintln!("{n:>3} {k}");
        }
    }
    LabelScores::of(&pairs)
}

#[test]
fn rules_alone_label_unseen_invoices_and_learning_from_twenty_reaches_the_target_on_new_vendors() {
    let train_set = synth_pages(4242, 20);
    let eval_set = synth_pages(777, 12);
    // vendors disjoint: no evaluation page comes from a vendor seen in training
    let seen: Vec<String> = train_set.iter().map(|(g, _)| vendor(g)).collect();
    let eval: Vec<&TrainPage> = eval_set.iter().filter(|(g, _)| !seen.contains(&vendor(g))).map(|(_, p)| p).collect();
    assert!(eval.len() >= 8, "the seeds share too many vendors");

    let rules = score(&Suggester::new(schema_names(), None), &eval);
    for key in ["invoice_number", "invoice_date", "total_amount", "iban", "line_item_amount"] {
        let f1 = rules.labels.get(key).map_or(0.0, |p| p.f1);
        assert!(f1 >= 0.6, "rules alone: {key} F1 {f1:.2}\n{}", rules.to_table());
    }
    assert!(rules.label_macro_f1 >= 0.8, "rules alone\n{}", rules.to_table());

    let pages: Vec<TrainPage> = train_set.iter().map(|(_, p)| p.clone()).collect();
    let model = labeling::train(&pages, &TrainParams::default()).unwrap();
    let learned = score(&Suggester::new(schema_names(), Some(model)), &eval);
    if std::env::var_os("FACTURE_SHOW_CONFUSIONS").is_some() {
        eprintln!("rules alone\n{}\nafter 20 documents\n{}", rules.to_table(), learned.to_table());
    }
    assert!(learned.label_macro_f1 >= 0.95, "after 20 documents\n{}", learned.to_table());
    assert!(learned.label_macro_f1 > rules.label_macro_f1);
}

#[test]
fn a_team_label_is_learned_from_examples_alone() {
    // the team calls the payment terms line "payment_terms": no rule knows it
    let mut pages: Vec<TrainPage> = synth_pages(99, 10).into_iter().map(|(_, p)| p).collect();
    for p in &mut pages {
        for (b, l) in p.page.boxes.iter().zip(p.labels.iter_mut()) {
            let t = b.text.to_lowercase();
            if t.contains("payment terms") || t.contains("zahlbar innerhalb") || t.contains("paiement à") {
                *l = Some("payment_terms".into());
            }
        }
    }
    let (train, test) = pages.split_at(7);
    let support: usize = test.iter().flat_map(|p| &p.labels).filter(|l| l.as_deref() == Some("payment_terms")).count();
    assert!(support > 0, "the test pages have no payment terms");
    let model = labeling::train(train, &TrainParams::default()).unwrap();
    let mut names = schema_names();
    names.push("payment_terms".into());
    let r = score(&Suggester::new(names, Some(model)), &test.iter().collect::<Vec<_>>());
    assert!(r.labels["payment_terms"].f1 >= 0.8, "{}", r.to_table());
}

/// A synthetic set imported with its ground truth; the first `accepted` pages go through
/// review and are accepted. Returns the documents in page order.
fn reviewed_workspace(b: &Backend, pages: u32, accepted: usize) -> (Workspace, Vec<DocId>) {
    let (ws, mut store) = b.create();
    store.add_user("ann", Role::Annotator).unwrap();
    store.add_user("rev", Role::Reviewer).unwrap();
    let set = b.dir().join(format!("set{pages}_{accepted}"));
    facture::synth::write_set(&set, pages, 31).unwrap();
    let report = facture::app::import::import_gt(&mut store, &set, None, 1_000).unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    drop(store);
    let store = Store::connect(&ws).unwrap();
    let mut docs: Vec<_> = store.documents(&Default::default()).unwrap();
    docs.sort_by(|a, b| a.path.cmp(&b.path));
    let docs: Vec<DocId> = docs.iter().map(|d| d.id).collect();
    let mut ann = common::session(&ws, "ann");
    let mut rev = common::session(&ws, "rev");
    for &d in &docs[..accepted] {
        ann.apply(Command::Submit { doc: d }).unwrap();
        rev.apply(Command::StartReview { doc: d }).unwrap();
        rev.apply(Command::AcceptRemaining { doc: d }).unwrap();
        rev.apply(Command::FinishReview { doc: d, verdict: DocVerdict::Accept, comment: String::new() }).unwrap();
    }
    (ws, docs)
}

fn labels_job(ws: &Workspace, user: &str, docs: &[DocId]) -> String {
    let store = Store::connect(ws).unwrap();
    let u = store.user_by_name(user).unwrap().unwrap();
    let (tx, _rx) = crossbeam_channel::unbounded();
    run(Session::new(store, u), docs, JobKind::Labels, &JobControl::default(), &tx).unwrap()
}

on_each_backend!(
    a_workspace_learns_from_its_reviewed_documents_and_labels_only_what_has_no_label,
    a_damaged_model_blob_is_ignored_with_a_message_and_retraining_rebuilds_it,
);

fn a_workspace_learns_from_its_reviewed_documents_and_labels_only_what_has_no_label(b: &Backend) {
    let (ws, docs) = reviewed_workspace(b, 7, 6);
    let mut store = Store::connect(&ws).unwrap();
    let before = store.reviewed_dataset().unwrap();
    assert!(before.starts_with("6 docs @ edit "), "{before}");
    let report = labels::train_workspace(&mut store, 5_000).unwrap();
    assert_eq!((report.documents, report.folds), (6, 5));
    let cv = report.cross_validated.as_ref().unwrap();
    assert!(cv.label_macro_f1 > 0.8, "{}", report.to_table());
    let loaded = labels::load(&store).unwrap();
    assert!(loaded.suggester.has_model() && loaded.warning.is_none());
    assert_eq!(loaded.model.as_ref().unwrap().dataset, before, "stored with the dataset it learned from");
    // up to date: refreshing trains nothing
    assert!(labels::refresh(&mut store, 6_000).unwrap().is_none());

    // page 7: a person clears every label, then gives one box a label of their own choosing
    let last = docs[6];
    let anns = store.annotations(last).unwrap();
    let mut ann = common::session(&ws, "ann");
    let ids: Vec<_> = anns.iter().map(|a| a.id).collect();
    ann.apply(Command::SetLabel { doc: last, ids: ids.clone(), label: None }).unwrap();
    let other = store.label_by_name("other_text").unwrap().unwrap().id;
    let mine = anns.iter().find(|a| a.text.chars().any(|c| c.is_ascii_digit())).unwrap().id;
    ann.apply(Command::SetLabel { doc: last, ids: vec![mine], label: Some(other) }).unwrap();
    drop(ann);

    let unlabelled = |s: &Store| s.annotations(last).unwrap().iter().filter(|a| a.label.is_none()).count();
    let before = unlabelled(&store);
    assert_eq!(before, anns.len() - 1);
    let summary = labels_job(&ws, "ann", &[last]);
    let given = before - unlabelled(&store);
    assert!(given + 2 >= before, "only {given} of {before} boxes got a label");
    assert!(summary.contains(&format!("{given} label(s) suggested")), "{summary}");
    let now = store.annotations(last).unwrap();
    let kept = now.iter().find(|a| a.id == mine).unwrap();
    assert_eq!(
        (kept.label, kept.label_conf, kept.label_suggested),
        (Some(other), None, None),
        "a person's label stays"
    );
    let names: std::collections::HashMap<_, _> = store.labels().unwrap().into_iter().map(|l| (l.id, l.name)).collect();
    let mut right = 0;
    for a in now.iter().filter(|a| a.id != mine && a.label.is_some()) {
        let conf = a.label_conf.expect("a suggested label carries its confidence");
        assert!((0.0..=1.0).contains(&conf));
        assert_eq!(a.label, a.label_suggested);
        let was = anns.iter().find(|o| o.id == a.id).unwrap().label;
        right += usize::from(a.label == was);
        assert!(a.label.is_some_and(|l| names.contains_key(&l)));
    }
    // six reviewed pages: most of the page right (the rules alone get about as far; see the learning curve)
    assert!(right as f32 >= 0.75 * given as f32, "{right} of {given} right");

    // one undo takes every suggested label away, and nothing else
    let mut ann = common::session(&ws, "ann");
    ann.apply(Command::Undo { doc: last }).unwrap();
    let undone = store.annotations(last).unwrap();
    assert!(undone.iter().filter(|a| a.id != mine).all(|a| a.label.is_none() && a.label_conf.is_none()));
    assert_eq!(undone.iter().find(|a| a.id == mine).unwrap().label, Some(other));
    // redo, then the person confirms one suggested label: confidence gone, suggestion remembered
    ann.apply(Command::Redo { doc: last }).unwrap();
    let one = store.annotations(last).unwrap().into_iter().find(|a| a.id != mine).unwrap();
    ann.apply(Command::SetLabel { doc: last, ids: vec![one.id], label: one.label }).unwrap();
    let confirmed = store.annotation(one.id).unwrap();
    assert_eq!((confirmed.label_conf, confirmed.label_suggested), (None, one.label));
    let stats = facture::app::stats::labels::label_suggestion_stats(&store, None, None, &[]).unwrap();
    assert_eq!((stats.decided, stats.per_label[0].kept), (1, 1), "{stats:?}");
    assert_eq!(stats.model.as_ref().unwrap().documents, 6);
    // submitting the page makes every label on it the annotator's: none is left unsure
    ann.apply(Command::Submit { doc: last }).unwrap();
    let submitted = store.annotations(last).unwrap();
    assert!(submitted.iter().all(|a| a.label_conf.is_none()));
    let stats = facture::app::stats::labels::label_suggestion_stats(&store, None, None, &[]).unwrap();
    assert_eq!(stats.decided as usize, submitted.iter().filter(|a| a.label_suggested.is_some()).count());
}

fn a_damaged_model_blob_is_ignored_with_a_message_and_retraining_rebuilds_it(b: &Backend) {
    let (ws, _docs) = reviewed_workspace(b, 3, 2);
    let mut store = Store::connect(&ws).unwrap();
    let dataset = store.reviewed_dataset().unwrap();
    let bad = StoredLabelModel {
        id: 0,
        trained_ms: 1,
        dataset: dataset.clone(),
        documents: 2,
        examples: 9,
        model: b"FACTLBL\0\x01\0\0\0garbage".to_vec(),
        report: "{}".into(),
    };
    let id = store.add_label_model(&bad).unwrap();
    let loaded = labels::load(&store).unwrap();
    assert!(!loaded.suggester.has_model());
    let w = loaded.warning.unwrap();
    assert!(w.contains(&format!("label model {id} ignored")) && w.contains("damaged"), "{w}");
    // the rules still answer meanwhile
    let page = Page {
        width: 1000.0,
        height: 1000.0,
        boxes: vec![
            PageBox { rect: facture::domain::Rect::new(10.0, 10.0, 100.0, 30.0), text: "IBAN".into() },
            PageBox {
                rect: facture::domain::Rect::new(120.0, 10.0, 500.0, 30.0),
                text: "DE89 3704 0044 0532 0130 00".into(),
            },
        ],
        links: vec![],
    };
    assert_eq!(loaded.suggester.suggest(&page)[1].as_ref().map(|s| s.0.as_str()), Some("iban"));
    let rebuilt = labels::refresh(&mut store, 7).unwrap().expect("the damaged model is replaced");
    assert!(rebuilt.model_id > id);
    assert!(labels::load(&store).unwrap().warning.is_none());
}

#[test]
fn training_without_reviewed_documents_says_so_and_stores_nothing() {
    let b = Backend::sqlite();
    let (ws, _docs) = reviewed_workspace(&b, 2, 0);
    let mut store = Store::connect(&ws).unwrap();
    let e = labels::train_workspace(&mut store, 1).unwrap_err();
    assert!(matches!(e, LabelError::NothingReviewed), "{e}");
    assert!(e.to_string().contains("no document has been accepted in review"));
    assert!(store.latest_label_model().unwrap().is_none());
    // a pass's suggestions still get the rules' labels; pages without text get none
    let labelled = labels_job(&ws, "ann", &[]);
    assert!(labelled.contains("0 label(s) suggested"), "{labelled}");
    let _ = (AnnState::Suggested, Source::Cv);
}

#[test]
fn train_labels_and_eval_labels_on_the_command_line() {
    let b = Backend::sqlite();
    let (ws, _docs) = reviewed_workspace(&b, 4, 3);
    let bin = env!("CARGO_BIN_EXE_facture");
    let out = std::process::Command::new(bin).args(["train-labels", &ws.to_string(), "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["documents"], 3);
    assert!(v["cross_validated"]["label_macro_f1"].as_f64().unwrap() > 0.5, "{v}");

    // eval: boxes from the ground truth's own set via the CV-free pdf-text-less route: use the
    // synthetic JPEG set and its ground truth, learning from another seed's set
    let train = b.dir().join("train");
    facture::synth::write_set(&train, 6, 5150).unwrap();
    let gt_dir = b.dir().join("set4_3");
    let out = std::process::Command::new(bin)
        .args(["eval", "--gt", &gt_dir.to_string_lossy(), "--source", "cv", "--labels", "--json"])
        .args(["--train", &train.to_string_lossy()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["labels", "label_macro_f1", "label_accuracy", "recall"] {
        assert!(v.get(key).is_some(), "no {key} in {v}");
    }
    // --train needs --labels; a --train folder without ground truth is an error
    let out = std::process::Command::new(bin)
        .args(["eval", "--gt", &gt_dir.to_string_lossy(), "--source", "cv", "--train", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let empty = b.dir().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = std::process::Command::new(bin)
        .args(["eval", "--gt", &gt_dir.to_string_lossy(), "--source", "cv", "--labels"])
        .args(["--train", &empty.to_string_lossy()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no ground truth with labelled text"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

/// The window: "Label suggestions" labels the page's unlabelled boxes on a worker (the
/// frame keeps drawing), unsure ones carry their confidence, and Ctrl+Z takes them back.
#[test]
fn the_label_suggestions_button_labels_a_page_in_one_undoable_step() {
    use eframe::egui::{Key, Modifiers};
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use facture::domain::Rect;
    use facture::ui::{FactureApp, PrelabelPanel, ScriptedDialogs};

    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("page.png");
    common::write_png(&png, 1000, 1400, 9);
    let ws_path = dir.path().join("ws.sqlite");
    let mut store = Store::create(&ws_path).unwrap();
    facture::app::import::import_paths(&mut store, std::slice::from_ref(&png), 0, |_, _| {}).unwrap();
    store.add_user("alice", Role::Annotator).unwrap();
    drop(store);
    let ws = Workspace::File(ws_path.clone());
    let doc = Store::connect(&ws).unwrap().documents(&Default::default()).unwrap()[0].id;
    let mut s = common::session(&ws, "alice");
    let lines = [
        (600.0, 200.0, 720.0, 220.0, "Invoice No."),
        (740.0, 200.0, 880.0, 220.0, "INV-2024-0117"),
        (600.0, 900.0, 720.0, 920.0, "Total due"),
        (830.0, 900.0, 940.0, 920.0, "1.234,50 €"),
        (50.0, 1300.0, 150.0, 1320.0, "IBAN"),
        (170.0, 1300.0, 520.0, 1320.0, "DE89 3704 0044 0532 0130 00"),
    ];
    for (x0, y0, x1, y1, t) in lines {
        let add = Command::AddBox { doc, rect: Rect::new(x0, y0, x1, y1), quad: None, label: None, text: t.into() };
        s.apply(add).unwrap();
    }
    drop(s);

    let mut app =
        FactureApp::with_user(ws_path.as_path(), "alice", None, Box::new(ScriptedDialogs::default())).unwrap();
    app.add_extension(Box::new(PrelabelPanel::new(Default::default())));
    let mut h = common::window(app, [1400.0, 900.0]);
    let until = |h: &mut Harness<'_, FactureApp>, f: &dyn Fn(&FactureApp) -> bool| common::until_window(h, 30, f);
    // the page decodes on a worker: step until it is in, and the boxes with it
    assert!(until(&mut h, &|a| a.annotator().is_some_and(|a| a.page_settled() && a.annotations().len() == 6)));
    h.get_by_label("Label suggestions").click();
    h.run();
    assert!(
        until(&mut h, &|a| a.annotator().unwrap().annotations().iter().all(|b| b.label.is_some())),
        "the labels never arrived: {:?}",
        h.state().annotator().unwrap().status()
    );
    let store = Store::connect(&ws).unwrap();
    let name = |t: &str| {
        let a = h.state().annotator().unwrap().annotations().iter().find(|a| a.text == t).unwrap().clone();
        store.label(a.label.unwrap()).unwrap().name
    };
    assert_eq!(name("INV-2024-0117"), "invoice_number");
    assert_eq!(name("1.234,50 €"), "total_amount");
    assert_eq!(name("DE89 3704 0044 0532 0130 00"), "iban");
    assert!(h.state().annotator().unwrap().annotations().iter().all(|a| a.label_conf.is_some()));
    // one undo takes the whole step back
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    assert!(
        until(&mut h, &|a| a.annotator().unwrap().annotations().iter().all(|b| b.label.is_none())),
        "undo left labels behind"
    );
    assert!(store.annotations(doc).unwrap().iter().all(|a| a.label.is_none()));
}

/// Two workspaces asking for a retrain at once (a window that switched workspaces): both get
/// their model, each from its own reviewed documents, and the caller never waits.
#[test]
fn background_retraining_serves_every_workspace_that_asked() {
    let b = Backend::sqlite();
    let (one, _) = reviewed_workspace(&b, 3, 2);
    let (two, _) = reviewed_workspace(&b, 4, 3);
    let t0 = std::time::Instant::now();
    labels::retrain_in_background(one.clone());
    labels::retrain_in_background(two.clone());
    assert!(t0.elapsed() < std::time::Duration::from_millis(500), "the caller waited for training");
    let model_of = |ws: &Workspace| Store::connect(ws).unwrap().latest_label_model().unwrap();
    while model_of(&one).is_none() || model_of(&two).is_none() {
        assert!(t0.elapsed() < std::time::Duration::from_secs(60), "{:?}", labels::background_state());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(model_of(&one).unwrap().documents, 2);
    assert_eq!(model_of(&two).unwrap().documents, 3);
}
