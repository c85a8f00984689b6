//! The lead's stats view, driven headlessly (egui_kittest): the table shows the figures of a
//! hand-built workspace, "no data" for an annotator without reviewed work, sorts on a header
//! click, filters by date, and exports through the scripted file dialog.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use eframe::egui::{Event, Key};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use facture::app::{Command, Session};
use facture::domain::{DocId, DocVerdict, Rect, Role};
use facture::store::{NewDocument, Store};
use facture::ui::{FactureApp, ScriptedDialogs, StatsColumn, WorkView};

/// 2025-03-10 09:00 UTC.
const T0: i64 = 1_741_597_200_000;

fn session(ws: &Path, name: &str, clock: &Arc<AtomicI64>) -> Session {
    let store = Store::open(ws).unwrap();
    let user = store.user_by_name(name).unwrap().unwrap();
    let clock = clock.clone();
    Session::new(store, user).with_clock(move || clock.fetch_add(10_000, Ordering::Relaxed))
}

/// alice submits two documents (3 and 2 boxes); bob accepts the first and rejects the second;
/// carl has done nothing yet. All on 2025-03-10.
fn workspace(dir: &Path) -> PathBuf {
    let ws = dir.join("ws.sqlite");
    let mut store = Store::create(&ws).unwrap();
    for name in ["alice", "carl"] {
        store.add_user(name, Role::Annotator).unwrap();
    }
    store.add_user("bob", Role::Reviewer).unwrap();
    store.add_user("lea", Role::Lead).unwrap();
    let docs: Vec<DocId> = (0..2)
        .map(|i| {
            let d = NewDocument {
                path: format!("/nowhere/doc{i}.png"),
                sha256: format!("{i:064}"),
                page: 0,
                width: 1000,
                height: 800,
            };
            store.add_document(&d, T0 - 3_600_000).unwrap().unwrap()
        })
        .collect();
    drop(store);
    let clock = Arc::new(AtomicI64::new(T0));
    let mut alice = session(&ws, "alice", &clock);
    for (doc, n) in [(docs[0], 3), (docs[1], 2)] {
        for i in 0..n {
            let y = 20.0 + 40.0 * i as f32;
            let rect = Rect::new(10.0, y, 200.0, y + 30.0);
            alice.apply(Command::AddBox { doc, rect, quad: None, label: None, text: format!("line {i}") }).unwrap();
        }
        alice.apply(Command::Submit { doc }).unwrap();
    }
    let mut bob = session(&ws, "bob", &clock);
    for (doc, verdict) in [(docs[0], DocVerdict::Accept), (docs[1], DocVerdict::Reject)] {
        bob.apply(Command::StartReview { doc }).unwrap();
        bob.apply(Command::AcceptRemaining { doc }).unwrap();
        bob.apply(Command::FinishReview { doc, verdict, comment: "see the second line".into() }).unwrap();
    }
    ws
}

/// Steps until the window shows a finished report for which `done` holds (up to 10 s): a
/// change written on a worker is answered a few frames later, and only then recomputed, so a
/// report in hand before that is the old one.
fn wait_for_report_where(
    h: &mut Harness<'static, FactureApp>,
    done: impl Fn(&facture::app::stats::StatsReport) -> bool,
) {
    let t0 = std::time::Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        h.step();
        let s = h.state().annotator().unwrap().stats_state();
        if !s.is_computing() && s.report().is_some_and(&done) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no finished report that shows the change arrived");
}

fn wait_for_report(h: &mut Harness<'static, FactureApp>) {
    wait_for_report_where(h, |_| true);
}

/// The window as lea, switched to the stats view with its first report in.
fn stats_as_lea(ws: &Path, dialogs: ScriptedDialogs, height: f32) -> Harness<'static, FactureApp> {
    let app = FactureApp::with_user(ws, "lea", None, Box::new(dialogs)).unwrap();
    let mut h = Harness::builder().with_size([1500.0, height]).with_max_steps(200).build_ui_state(
        |ui, app: &mut FactureApp| {
            app.frame_ui(ui);
            app.wait_for_answers();
        },
        app,
    );
    for _ in 0..50 {
        h.step();
    }
    h.get_by_label("Stats").click();
    h.step();
    assert_eq!(h.state().annotator().unwrap().view(), WorkView::Stats);
    wait_for_report(&mut h);
    h
}

fn cells(h: &Harness<'static, FactureApp>, name: &str) -> Vec<String> {
    let s = h.state().annotator().unwrap().stats_state();
    let row = s.sorted_annotators().into_iter().find(|r| r.name == name).unwrap().clone();
    StatsColumn::ALL.iter().map(|c| c.cell(&row)).collect()
}

fn col(c: StatsColumn) -> usize {
    StatsColumn::ALL.iter().position(|x| *x == c).unwrap()
}

#[test]
fn lead_sees_the_known_figures_sorts_filters_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    let out = dir.path().join("stats.csv");
    let mut h = stats_as_lea(&ws, ScriptedDialogs::new([Some(out.clone())]), 950.0);

    // alice: 2 documents, 5 boxes, 1 of 2 first reviews accepted, 1 of 2 rounds rejected
    let alice = cells(&h, "alice");
    assert_eq!(alice[col(StatsColumn::Docs)], "2");
    assert_eq!(alice[col(StatsColumn::Boxes)], "5");
    assert_eq!(alice[col(StatsColumn::FirstPass)], "50.0 %");
    assert_eq!(alice[col(StatsColumn::Rework)], "50.0 %");
    assert_eq!(alice[col(StatsColumn::OkShare)], "100.0 %");
    // carl has no reviewed work: no data, not 0 % or NaN
    let carl = cells(&h, "carl");
    assert_eq!(carl[col(StatsColumn::Docs)], "0");
    assert_eq!(carl[col(StatsColumn::FirstPass)], "no data");
    assert_eq!(carl[col(StatsColumn::BoxesPerHour)], "no data");
    // and the window shows them
    assert!(h.query_all_by_label("50.0 %").count() >= 2);
    assert!(h.query_all_by_label("no data").count() >= 2);
    // bob's review line
    let report = h.state().annotator().unwrap().stats_state().report().unwrap().clone();
    let bob = report.reviewers.iter().find(|r| r.name == "bob").unwrap();
    assert_eq!((bob.rounds_reviewed, bob.rounds_rejected), (2, 1));
    assert!(h.query_all_by_label("bob").count() >= 1);

    // a header click sorts: most boxes first, again: fewest first
    h.get_by_label("Boxes").click();
    h.step();
    h.step();
    let order = |h: &Harness<'static, FactureApp>| -> Vec<String> {
        h.state().annotator().unwrap().stats_state().sorted_annotators().iter().map(|r| r.name.clone()).collect()
    };
    assert_eq!(order(&h).first().map(String::as_str), Some("alice"));
    h.get_by_label("Boxes").click();
    h.step();
    h.step();
    assert_eq!(order(&h).last().map(String::as_str), Some("alice"));

    // export CSV through the (scripted) dialog
    h.get_by_label("Export CSV…").click();
    h.step();
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(csv.starts_with("kind,user_id,name"), "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("annotator,") && l.contains(",alice,")), "{csv}");

    // a bad date says how to write it; a later start date leaves alice without documents
    h.get_by_label("from").click();
    h.step();
    h.event(Event::Text("2025-13-01".into()));
    h.key_press(Key::Enter);
    h.step();
    let err = h.state().annotator().unwrap().stats_state().error.clone().unwrap_or_default();
    assert!(err.contains("YYYY-MM-DD"), "{err}");
    h.get_by_label("from").click();
    h.step();
    h.key_press_modifiers(eframe::egui::Modifiers::COMMAND, Key::A);
    h.event(Event::Text("2025-03-11".into()));
    h.key_press(Key::Enter);
    h.step();
    wait_for_report(&mut h);
    assert_eq!(cells(&h, "alice")[col(StatsColumn::Docs)], "0");
    assert_eq!(cells(&h, "alice")[col(StatsColumn::FirstPass)], "no data");
}

#[test]
fn lead_sets_and_removes_objectives_in_the_panel() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    let mut h = stats_as_lea(&ws, ScriptedDialogs::new([]), 1400.0);
    let objectives = || Store::open(&ws).unwrap().objectives().unwrap();

    // a target that is not a number is refused with a sentence, and nothing is stored
    h.get_by_label("target").click();
    h.step();
    h.event(Event::Text("lots".into()));
    h.step();
    h.get_by_label("Set objective").click();
    h.step();
    assert!(h.query_by_label_contains("not a number").is_some());
    assert!(objectives().is_empty());

    // boxes_per_hour >= 30 for everyone (the form's defaults), typed and set
    h.get_by_label("target").click();
    h.step();
    h.key_press_modifiers(eframe::egui::Modifiers::COMMAND, Key::A);
    h.event(Event::Text("30".into()));
    h.step();
    h.get_by_label("Set objective").click();
    h.step();
    // written on a worker: the window goes on while it is
    let t0 = std::time::Instant::now();
    while objectives().is_empty() && t0.elapsed() < std::time::Duration::from_secs(10) {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let set = objectives();
    assert_eq!(set.len(), 1);
    assert_eq!(
        (set[0].user, set[0].metric.as_str(), set[0].op.as_str(), set[0].target),
        (None, "boxes_per_hour", ">=", 30.0)
    );
    // one row per annotator, each removable
    wait_for_report_where(&mut h, |r| r.objectives.iter().any(|o| o.name == "alice" && o.metric == "boxes_per_hour"));
    assert!(h.query_all_by_label("Remove").count() >= 2);

    h.query_all_by_label("Remove").next().unwrap().click();
    h.step();
    let t0 = std::time::Instant::now();
    while !objectives().is_empty() && t0.elapsed() < std::time::Duration::from_secs(10) {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(objectives().is_empty());
    wait_for_report_where(&mut h, |r| r.objectives.is_empty());
}

/// The panel's "Label suggestions": labels the machine suggested that alice kept or changed,
/// per label, and the model they came from.
#[test]
fn lead_sees_how_often_suggested_labels_were_kept() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    let mut store = Store::open(&ws).unwrap();
    let d = NewDocument {
        path: "/nowhere/doc9.png".into(),
        sha256: format!("{:064}", 9),
        page: 0,
        width: 1000,
        height: 800,
    };
    let doc = store.add_document(&d, T0).unwrap().unwrap();
    let total = store.label_by_name("total_amount").unwrap().unwrap().id;
    let date = store.label_by_name("invoice_date").unwrap().unwrap().id;
    let other = store.label_by_name("other_text").unwrap().unwrap().id;
    drop(store);
    let clock = Arc::new(AtomicI64::new(T0 + 3_600_000));
    let mut alice = session(&ws, "alice", &clock);
    let items = [(total, "1.234,50 €"), (total, "99,00 €"), (date, "03.11.2024")]
        .iter()
        .enumerate()
        .map(|(i, (label, text))| facture::app::SuggestionInput {
            rect: Rect::new(10.0, 20.0 + 50.0 * i as f32, 200.0, 50.0 + 50.0 * i as f32),
            quad: None,
            text: Some(text.to_string()),
            score: 0.9,
            label: Some((*label, 0.7)),
        })
        .collect();
    alice
        .apply(Command::AddSuggestions { doc, source: facture::domain::Source::PdfText, items, skip_iou: 0.3 })
        .unwrap();
    let ids: Vec<_> = alice.store().annotations(doc).unwrap().iter().map(|a| a.id).collect();
    alice.apply(Command::AcceptSuggestions { doc, ids: ids.clone() }).unwrap();
    // one of the two totals was not the total
    alice.apply(Command::SetLabel { doc, ids: vec![ids[1]], label: Some(other) }).unwrap();
    drop(alice);

    let h = stats_as_lea(&ws, ScriptedDialogs::default(), 2400.0);
    let report = h.state().annotator().unwrap().stats_state().report().unwrap().clone();
    let s = &report.label_suggestions;
    assert_eq!((s.decided, s.per_label.len()), (3, 2));
    let row = |n: &str| s.per_label.iter().find(|r| r.label == n).unwrap().clone();
    assert_eq!((row("total_amount").kept, row("total_amount").changed), (1, 1));
    assert_eq!((row("invoice_date").kept, row("invoice_date").changed), (1, 0));
    assert!(s.weekly.iter().any(|w| w.label == "all" && w.decided == 3 && w.kept == 2));
    h.get_by_label("Label suggestions");
    h.get_by_label("3 suggested label(s) decided, 67% kept as suggested.");
    h.get_by_label(
        "No label model yet: suggestions come from the invoice rules until documents are accepted in review.",
    );
}
