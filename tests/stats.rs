//! Stats on a hand-built workspace where every figure is known in advance: two annotators with
//! reviewed work (one rejection + rework round, one gold document), one with none yet, one
//! reviewer and a lead; idle gaps, a gap exactly at the threshold, blur/close ending activity.
//!
//! Times are seconds after B = 09:00 UTC on day D (day D+1 starts 86 400 s later). The expected
//! active time of each stretch is written next to the event that starts it. Every figure is
//! checked on both backends (the stats caches are SQL of their own on each).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use common::backend::{Backend, on_each_backend};
use facture::app::stats::{
    CliFormat, ObjectiveOp, ObjectiveStatus, StatsError, StatsQuery, StatsReport, format_day, remove_objective, report,
    set_objective, stats_cli_output,
};
use facture::app::{Command, Session, SuggestionInput};
use facture::domain::{
    AnnId, AnnState, Annotation, Change, DocId, DocVerdict, EditKind, LabelId, Rect, Role, Source, Verdict,
};
use facture::store::{NewEdit, Store, Workspace};

on_each_backend!(
    every_figure_of_the_hand_built_workspace,
    filters_by_label_range_and_user,
    a_shorter_idle_threshold_counts_less,
    caches_are_incremental_and_agree_with_a_rebuild,
    only_leads_set_objectives,
    cli_output_in_three_formats,
    one_batch_read_gives_each_document_its_own_history,
);

const D: i64 = 19_800;
const B: i64 = D * 86_400 + 9 * 3600;
const B1: i64 = B + 86_400;

struct Person {
    s: Session,
    clock: Arc<AtomicI64>,
}

impl Person {
    fn new(ws: &Workspace, name: &str) -> Self {
        let store = Store::connect(ws).unwrap();
        let user = store.user_by_name(name).unwrap().unwrap();
        let clock = Arc::new(AtomicI64::new(0));
        let c = clock.clone();
        Person { s: Session::new(store, user).with_clock(move || c.load(Ordering::SeqCst)), clock }
    }

    fn at(&mut self, secs: i64, cmd: Command) -> Vec<AnnId> {
        self.clock.store(secs * 1000, Ordering::SeqCst);
        self.s.apply(cmd).unwrap().created_boxes()
    }

    fn act(&mut self, secs: i64, doc: DocId, kind: &str) {
        let user = self.s.user().id;
        self.s.store_mut().record_activity(secs * 1000, user, Some(doc), kind).unwrap();
    }
}

fn r(x: f32, y: f32) -> Rect {
    Rect::new(x, y, x + 80.0, y + 20.0)
}

fn add(doc: DocId, rect: Rect, label: LabelId, text: &str) -> Command {
    Command::AddBox { doc, rect, quad: None, label: Some(label), text: text.into() }
}

struct World {
    ws: Workspace,
    la: LabelId,
    lb: LabelId,
}

fn build(b: &Backend) -> World {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 5);
    let (d0, d1, d2, d3, d4) = (docs[0], docs[1], docs[2], docs[3], docs[4]);
    let (la, lb) = {
        let mut s = Store::connect(&ws).unwrap();
        for (n, role) in [("bob", Role::Annotator), ("cleo", Role::Annotator), ("rita", Role::Reviewer)] {
            s.add_user(n, role).unwrap();
        }
        s.add_user("lea", Role::Lead).unwrap();
        let l = s.labels().unwrap();
        (l[0].id, l[1].id)
    };
    let mut lea = Person::new(&ws, "lea");
    let mut ann = Person::new(&ws, "ann");
    let mut bob = Person::new(&ws, "bob");
    let mut cleo = Person::new(&ws, "cleo");
    let mut rita = Person::new(&ws, "rita");
    let id = |p: &Person| p.s.user().id;
    let (ann_id, bob_id, cleo_id) = (id(&ann), id(&bob), id(&cleo));

    // lea, managing: 10 s gaps from B+0 to B+60 → 60 s.
    lea.at(B, Command::Assign { doc: d0, annotator: Some(ann_id) });
    lea.at(B + 10, Command::Assign { doc: d1, annotator: Some(ann_id) });
    lea.at(B + 20, Command::Assign { doc: d2, annotator: Some(bob_id) });
    lea.at(B + 30, Command::Assign { doc: d4, annotator: Some(cleo_id) });
    let gold = |x: f32, label, text: &str| Annotation {
        id: AnnId(0),
        doc: d3,
        rect: r(x, 10.0),
        quad: None,
        label: Some(label),
        text: text.into(),
        source: Source::Import,
        text_source: Source::Import,
        confidence: None,
        label_suggested: None,
        label_conf: None,
        state: AnnState::Active,
        author: None,
        created_ms: (B + 40) * 1000,
        updated_ms: (B + 40) * 1000,
        flags: Default::default(),
    };
    let lea_id = id(&lea);
    lea.s
        .store_mut()
        .apply(NewEdit {
            ts_ms: (B + 40) * 1000,
            user: Some(lea_id),
            doc: Some(d3),
            action: "import_gt".into(),
            kind: EditKind::Do,
            changes: vec![
                Change::Annotation { before: None, after: Some(gold(10.0, la, "X")) },
                Change::Annotation { before: None, after: Some(gold(200.0, lb, "Y")) },
            ],
        })
        .unwrap();
    lea.at(B + 50, Command::MarkGold { doc: d3 });
    lea.at(B + 60, Command::ReissueGold { doc: d3, annotator: bob_id });

    // ann on d0: 10 + 30 + 120 (exactly the threshold) + [130 idle] + 30 (submit → next event) = 190 s.
    ann.act(B + 100, d0, "open");
    let a = ann.at(B + 110, add(d0, r(10.0, 10.0), la, "TOTAL"))[0];
    let b = ann.at(B + 140, add(d0, r(200.0, 10.0), lb, "12,00"))[0];
    ann.act(B + 260, d0, "input");
    ann.at(B + 390, Command::Submit { doc: d0 });
    // ann on d1: 10 + 9 × 10 = 100 s, then a blur ends it.
    ann.act(B + 420, d1, "open");
    let sugg = |x: f32, text: Option<&str>| SuggestionInput {
        rect: r(x, 10.0),
        quad: None,
        text: text.map(str::to_string),
        score: 0.9,
        label: None,
    };
    let s = ann.at(
        B + 430,
        Command::AddSuggestions {
            doc: d1,
            source: Source::Cv,
            items: vec![
                sugg(10.0, Some("ACME")),
                sugg(200.0, None),
                sugg(400.0, Some("2024")),
                sugg(600.0, Some("junk")),
            ],
            skip_iou: 0.5,
        },
    );
    ann.at(B + 440, Command::AcceptSuggestions { doc: d1, ids: vec![s[0], s[1], s[2]] });
    ann.at(B + 450, Command::RejectSuggestions { doc: d1, ids: vec![s[3]] });
    ann.at(B + 460, Command::SetGeometry { doc: d1, boxes: vec![(s[2], Rect::new(400.0, 10.0, 485.0, 30.0), None)] });
    ann.at(B + 470, Command::SetText { doc: d1, id: s[1], text: "INV-1".into() });
    ann.at(B + 480, Command::SetLabel { doc: d1, ids: vec![s[0], s[2]], label: Some(la) });
    ann.at(B + 490, Command::SetLabel { doc: d1, ids: vec![s[1]], label: Some(lb) });
    ann.at(B + 500, add(d1, r(800.0, 10.0), lb, "EUR"));
    ann.at(B + 510, Command::Submit { doc: d1 });
    ann.act(B + 520, d1, "blur");

    // rita, day D: d0 600→650 = 50 s, d1 650→700 = 50 s, then a blur.
    rita.at(B + 600, Command::StartReview { doc: d0 });
    rita.at(B + 610, Command::SetVerdict { doc: d0, ann: a, verdict: Verdict::Ok, comment: String::new() });
    rita.at(B + 620, Command::SetVerdict { doc: d0, ann: b, verdict: Verdict::WrongText, comment: "12,50".into() });
    rita.at(B + 630, Command::SetText { doc: d0, id: b, text: "12,50".into() });
    rita.at(B + 640, Command::FinishReview { doc: d0, verdict: DocVerdict::Accept, comment: String::new() });
    rita.at(B + 650, Command::StartReview { doc: d1 });
    rita.at(B + 660, Command::SetVerdict { doc: d1, ann: s[0], verdict: Verdict::Ok, comment: String::new() });
    rita.at(B + 670, Command::SetVerdict { doc: d1, ann: s[2], verdict: Verdict::WrongBox, comment: "wide".into() });
    rita.at(
        B + 680,
        Command::AddMissingBox {
            doc: d1,
            rect: r(10.0, 100.0),
            label: Some(la),
            text: "DUE".into(),
            comment: "due date".into(),
        },
    );
    rita.at(B + 690, Command::FinishReview { doc: d1, verdict: DocVerdict::Reject, comment: "fix box 3".into() });
    rita.act(B + 700, d1, "blur");

    // bob, day D: d2 10 + 30 + 20 + 10 = 70 s; d3 (gold) 10 + 20 + 10 = 40 s, then close.
    bob.act(B + 1000, d2, "open");
    bob.at(B + 1010, add(d2, r(10.0, 10.0), la, "ACME"));
    bob.at(B + 1040, add(d2, r(200.0, 10.0), lb, "9,99"));
    bob.at(B + 1060, Command::Submit { doc: d2 });
    bob.act(B + 1070, d3, "open");
    bob.at(B + 1080, add(d3, r(10.0, 10.0), la, "X"));
    bob.at(B + 1100, Command::Submit { doc: d3 });
    bob.act(B + 1110, d3, "close");

    // ann reworks d1 on day D+1: 20 + 30 + 10 = 60 s reworking.
    ann.act(B1, d1, "open");
    ann.at(B1 + 20, Command::SetGeometry { doc: d1, boxes: vec![(s[2], Rect::new(402.0, 10.0, 480.0, 30.0), None)] });
    ann.at(B1 + 50, Command::Submit { doc: d1 });
    ann.act(B1 + 60, d1, "close");

    // rita, day D+1: d1 10 + 20 + 10 = 40 s; d2 10 + 10 + 10 = 30 s.
    rita.at(B1 + 100, Command::StartReview { doc: d1 });
    rita.at(B1 + 110, Command::AcceptRemaining { doc: d1 });
    rita.at(B1 + 130, Command::FinishReview { doc: d1, verdict: DocVerdict::Accept, comment: String::new() });
    rita.at(B1 + 140, Command::StartReview { doc: d2 });
    rita.at(B1 + 150, Command::AcceptRemaining { doc: d2 });
    rita.at(B1 + 160, Command::FinishReview { doc: d2, verdict: DocVerdict::Accept, comment: String::new() });
    rita.act(B1 + 170, d2, "close");

    // cleo, day D+1: 30 + 30 = 60 s, then 440 s idle; submitted, never reviewed.
    cleo.at(B1 + 500, add(d4, r(10.0, 10.0), la, "A"));
    cleo.at(B1 + 530, add(d4, r(200.0, 10.0), la, "B"));
    cleo.at(B1 + 560, Command::Submit { doc: d4 });
    cleo.act(B1 + 1000, d4, "input");

    // Objectives: for everyone, with a personal override for bob.
    set_objective(&mut lea.s, None, "boxes_per_hour", ObjectiveOp::AtLeast, 60.0).unwrap();
    set_objective(&mut lea.s, Some(bob_id), "boxes_per_hour", ObjectiveOp::AtLeast, 100.0).unwrap();
    set_objective(&mut lea.s, None, "first_pass_acceptance", ObjectiveOp::AtLeast, 0.9).unwrap();
    set_objective(&mut lea.s, None, "cer", ObjectiveOp::AtMost, 0.02).unwrap();
    World { ws, la, lb }
}

fn close(a: Option<f64>, b: f64) {
    let a = a.unwrap_or_else(|| panic!("expected {b}, got no data"));
    assert!((a - b).abs() < 1e-5, "expected {b}, got {a}");
}

fn full(w: &World) -> StatsReport {
    report(&mut Store::connect(&w.ws).unwrap(), &StatsQuery::default()).unwrap()
}

fn every_figure_of_the_hand_built_workspace(b: &Backend) {
    let w = build(b);
    let rep = full(&w);
    let names: Vec<&str> = rep.annotators.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["ann", "bob", "cleo"]);
    let (ann, bob, cleo) = (&rep.annotators[0], &rep.annotators[1], &rep.annotators[2]);

    // ann: time, throughput, pre-annotation use.
    assert_eq!((ann.annotating_secs, ann.reworking_secs, ann.active_secs), (290, 60, 350));
    assert_eq!((ann.docs_submitted, ann.boxes), (2, 6), "the reviewer's missing box is not ann's");
    close(ann.boxes_per_hour, 6.0 * 3600.0 / 350.0);
    close(ann.docs_per_hour, 2.0 * 3600.0 / 350.0);
    close(ann.median_doc_secs, 175.0); // d0 190 s, d1 100 + 60 s
    let su = &ann.suggestions;
    assert_eq!((su.unchanged, su.adjusted, su.replaced, su.rejected, su.manual), (2, 1, 0, 1, 3));
    close(su.unchanged_share, 2.0 / 6.0);
    close(su.replaced_share, 0.0);
    // ann: accuracy.
    assert_eq!((ann.first_pass_reviewed, ann.first_pass_accepted), (2, 1));
    close(ann.first_pass_acceptance, 0.5);
    let v = &ann.verdicts;
    assert_eq!((v.ok, v.wrong_box, v.wrong_label, v.wrong_text, v.missing, v.spurious), (7, 1, 0, 1, 1, 0));
    let ag = &ann.agreement;
    assert_eq!(ag.docs, 2);
    assert_eq!((ag.counts.matched, ag.counts.gt, ag.counts.pred), (6, 7, 6));
    assert_eq!((ag.counts.cer_edits, ag.counts.cer_ref_chars), (1, 26));
    close(ag.box_f1, 12.0 / 13.0);
    close(ag.label_accuracy, 1.0);
    close(ag.cer, 1.0 / 26.0);
    assert_eq!((ann.gold_docs, ann.gold_f1), (0, None));
    assert_eq!((ann.rounds_reviewed, ann.rounds_rejected), (3, 1));
    close(ann.rework_rate, 1.0 / 3.0);

    // bob: gold document scored on submit.
    assert_eq!((bob.annotating_secs, bob.reworking_secs, bob.docs_submitted, bob.boxes), (110, 0, 2, 3));
    close(bob.median_doc_secs, 55.0);
    close(bob.first_pass_acceptance, 1.0);
    assert_eq!(bob.verdicts.ok, 2);
    close(bob.agreement.box_f1, 1.0);
    close(bob.agreement.cer, 0.0);
    assert_eq!(bob.gold_docs, 1);
    close(bob.gold_f1, 2.0 / 3.0);
    close(bob.gold_label_accuracy, 1.0);
    close(bob.gold_cer, 0.0);
    close(bob.rework_rate, 0.0);

    // cleo: work but no review yet: "no data", never NaN or 0.
    assert_eq!((cleo.annotating_secs, cleo.docs_submitted, cleo.boxes), (60, 1, 2));
    close(cleo.boxes_per_hour, 120.0);
    close(cleo.median_doc_secs, 60.0);
    assert_eq!(cleo.first_pass_acceptance, None);
    assert_eq!(cleo.rework_rate, None);
    assert_eq!((cleo.agreement.docs, cleo.agreement.box_f1, cleo.agreement.cer), (0, None, None));
    assert_eq!((cleo.gold_f1, cleo.verdicts.total(), cleo.verdicts.ok_share()), (None, 0, None));
    assert!(!rep.to_json().contains("NaN"));

    // rita.
    assert_eq!(rep.reviewers.len(), 1);
    let rita = &rep.reviewers[0];
    assert_eq!(
        (rita.name.as_str(), rita.reviewing_secs, rita.rounds_reviewed, rita.rounds_rejected),
        ("rita", 170, 4, 1)
    );
    close(rita.share_rejected, 0.25);
    close(rita.reviews_per_hour, 4.0 * 3600.0 / 170.0);
    close(rita.median_review_secs, 50.0); // d0 50, d1 50 + 40, d2 30
    close(rita.median_review_wall_secs, 40.0); // d0 40, d1 40 + 30, d2 20

    let mix = &rep.verdict_mix;
    assert_eq!((mix.ok, mix.wrong_box, mix.wrong_text, mix.missing, mix.total()), (9, 1, 1, 1, 12));

    // Daily series: ann's first pass on D, rework on D+1.
    let day = |user: &str, d: i64| {
        let uid = rep.annotators.iter().map(|r| (r.user, &r.name)).find(|(_, n)| *n == user).unwrap().0;
        rep.daily.iter().find(|p| p.user == uid && p.day == d).unwrap().clone()
    };
    let (a0, a1) = (day("ann", D), day("ann", D + 1));
    assert_eq!((a0.annotating_secs, a0.reworking_secs, a0.boxes, a0.docs_submitted), (290, 0, 6, 2));
    assert_eq!((a0.first_pass_reviewed, a0.first_pass_accepted, a0.agreement.docs), (2, 1, 1));
    assert_eq!((a1.annotating_secs, a1.reworking_secs, a1.boxes, a1.verdicts.ok), (0, 60, 0, 5));
    assert_eq!(a0.date, format_day(D));

    // Objectives: met / missed / no data, by how much.
    let obj = |name: &str, metric: &str| {
        rep.objectives
            .iter()
            .find(|o| o.name == name && o.metric == metric)
            .unwrap_or_else(|| panic!("{name} {metric}"))
    };
    let o = obj("ann", "boxes_per_hour");
    assert_eq!((o.status, o.personal), (ObjectiveStatus::Met, false));
    close(o.margin, 6.0 * 3600.0 / 350.0 - 60.0);
    let o = obj("bob", "boxes_per_hour");
    assert_eq!((o.status, o.personal, o.target), (ObjectiveStatus::Missed, true, 100.0));
    close(o.margin, 3.0 * 3600.0 / 110.0 - 100.0);
    assert_eq!(rep.objectives.iter().filter(|o| o.name == "bob" && o.metric == "boxes_per_hour").count(), 1);
    assert_eq!(obj("ann", "first_pass_acceptance").status, ObjectiveStatus::Missed);
    close(obj("ann", "first_pass_acceptance").margin, -0.4);
    assert_eq!(obj("bob", "first_pass_acceptance").status, ObjectiveStatus::Met);
    assert_eq!(obj("cleo", "first_pass_acceptance").status, ObjectiveStatus::NoData);
    close(obj("ann", "cer").margin, 0.02 - 1.0 / 26.0);
    assert_eq!(obj("cleo", "cer").margin, None);
}

fn filters_by_label_range_and_user(b: &Backend) {
    let w = build(b);
    let mut store = Store::connect(&w.ws).unwrap();
    let q = StatsQuery { labels: vec![w.lb], ..StatsQuery::default() };
    let rep = report(&mut store, &q).unwrap();
    let ann = &rep.annotators[0];
    assert_eq!(ann.boxes, 3, "12,00, INV-1 and EUR carry label B");
    assert_eq!((ann.verdicts.ok, ann.verdicts.wrong_text, ann.verdicts.total()), (2, 1, 3));
    assert_eq!(ann.annotating_secs, 290, "time is not split by label");

    let q = StatsQuery { from_ms: Some(B1 * 1000), to_ms: Some(B1 * 1000), ..StatsQuery::default() };
    let rep = report(&mut store, &q).unwrap();
    let ann = &rep.annotators[0];
    assert_eq!((ann.annotating_secs, ann.reworking_secs, ann.docs_submitted, ann.boxes), (0, 60, 0, 0));
    assert_eq!((ann.first_pass_reviewed, ann.first_pass_acceptance), (0, None));
    assert_eq!((ann.agreement.docs, ann.agreement.counts.gt), (1, 5));
    close(ann.agreement.box_f1, 2.0 * 0.8 / 1.8);
    assert_eq!(rep.from_date.as_deref(), Some(format_day(D + 1).as_str()));

    let cleo = store.user_by_name("cleo").unwrap().unwrap().id;
    let q = StatsQuery { users: vec![cleo], ..StatsQuery::default() };
    let rep = report(&mut store, &q).unwrap();
    assert_eq!(rep.annotators.len(), 1);
    assert!(rep.reviewers.is_empty());
    assert!(rep.daily.iter().all(|p| p.user == cleo));
    let _ = w.la;
}

fn a_shorter_idle_threshold_counts_less(b: &Backend) {
    let w = build(b);
    let q = StatsQuery { idle_gap_secs: 60, ..StatsQuery::default() };
    let rep = report(&mut Store::connect(&w.ws).unwrap(), &q).unwrap();
    // ann loses the 120 s gap on d0; everything else was ≤ 60 s.
    assert_eq!(rep.annotators[0].annotating_secs, 170);
    assert_eq!(full(&w).annotators[0].annotating_secs, 290, "each threshold has its own cache");
}

fn caches_are_incremental_and_agree_with_a_rebuild(b: &Backend) {
    let w = build(b);
    let first = full(&w);
    assert!(first.refresh.docs_recomputed >= 5);
    let again = full(&w);
    assert_eq!((again.refresh.docs_recomputed, again.refresh.users_recomputed), (0, 0));
    assert_eq!(again.annotators, first.annotators);

    // cleo keeps working on day D+1: only her document and her time are recomputed.
    let mut cleo = Person::new(&w.ws, "cleo");
    cleo.act(B1 + 1010, DocId(5), "input");
    let mut store = Store::connect(&w.ws).unwrap();
    let inc = report(&mut store, &StatsQuery::default()).unwrap();
    assert_eq!((inc.refresh.docs_recomputed, inc.refresh.users_recomputed), (0, 1));
    assert_eq!(inc.annotators[2].annotating_secs, 70, "input 10 s after the previous one");

    store.reset_stats_cache(facture::app::stats::refresh::CACHE_VERSION).unwrap();
    let rebuilt = report(&mut store, &StatsQuery::default()).unwrap();
    assert_eq!(rebuilt.annotators, inc.annotators);
    assert_eq!(rebuilt.reviewers, inc.reviewers);
    assert_eq!(rebuilt.daily, inc.daily);
}

fn only_leads_set_objectives(b: &Backend) {
    let w = build(b);
    let mut ann = Person::new(&w.ws, "ann");
    let err = set_objective(&mut ann.s, None, "cer", ObjectiveOp::AtMost, 0.5).unwrap_err();
    assert!(matches!(err, StatsError::Refused(_)), "{err}");
    let mut lea = Person::new(&w.ws, "lea");
    let err = set_objective(&mut lea.s, None, "speed", ObjectiveOp::AtLeast, 1.0).unwrap_err();
    assert!(err.to_string().contains("unknown metric"), "{err}");
    assert!(remove_objective(&mut lea.s, None, "cer").unwrap());
    assert!(full(&w).objectives.iter().all(|o| o.metric != "cer"));
}

fn cli_output_in_three_formats(b: &Backend) {
    let w = build(b);
    let mut store = Store::connect(&w.ws).unwrap();
    let (from, to) = (format_day(D), format_day(D + 1));
    let json = stats_cli_output(&mut store, Some(&from), Some(&to), CliFormat::Json).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["annotators"][0]["boxes"], 6);
    assert_eq!(v["annotators"][2]["first_pass_acceptance"], serde_json::Value::Null);
    let csv = stats_cli_output(&mut store, None, None, CliFormat::Csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "header, three annotators, one reviewer");
    assert!(lines.iter().all(|l| l.split(',').count() == 44));
    assert!(lines[1].starts_with("annotator,") && lines[4].starts_with("reviewer,"));
    let table = stats_cli_output(&mut store, Some(&from), None, CliFormat::Table).unwrap();
    assert!(table.contains("cleo") && table.contains("no data") && table.contains("MISSED"), "{table}");
    let err = stats_cli_output(&mut store, Some("31/12/2024"), None, CliFormat::Table).unwrap_err();
    assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
}

/// On a server, recording activity takes its turn with the other writers, as edits do: the
/// caches remember the last activity id they counted, so no id may become visible after a
/// larger one, or its event is never counted (SQLite's writers always take turns).
#[test]
fn on_a_server_activity_is_recorded_in_turn_with_other_writers() {
    let Some(b) = Backend::postgres() else { return };
    let ws = b.fresh();
    let doc = common::workspace(&ws, 1)[0];
    let mut store = Store::connect(&ws).unwrap();
    let ann = store.user_by_name("ann").unwrap().unwrap().id;
    // another workstation's write, its activity id given out but not yet committed
    let mut other = common::backend::admin_client(&ws);
    let mut tx = other.transaction().unwrap();
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&common::backend::PG_WRITE_LOCK]).unwrap();
    let first: i64 = tx
        .query_one(
            "INSERT INTO activity (ts_ms, user_id, doc_id, kind) VALUES ($1, $2, $3, 'open') RETURNING id",
            &[&(B * 1000), &ann.0, &doc.0],
        )
        .unwrap()
        .get(0);
    let (done_tx, done) = std::sync::mpsc::channel();
    let recorder = std::thread::spawn(move || {
        let r = store.record_activity((B + 10) * 1000, ann, Some(doc), "input");
        done_tx.send(()).unwrap();
        r.map(|_| store)
    });
    let early = done.recv_timeout(std::time::Duration::from_millis(400)).is_ok();
    tx.commit().unwrap();
    let store = recorder.join().unwrap().unwrap();
    assert!(!early, "activity was recorded while another writer held the write lock");
    let ids: Vec<i64> =
        other.query("SELECT id FROM activity ORDER BY ts_ms", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(ids, [first, first + 1]);
    assert_eq!(store.activity(ann).unwrap().len(), 2);
}

/// The refresh reads documents' histories a batch at a time (a few statements, not a few per
/// document): each must be exactly what reading that document alone gives.
fn one_batch_read_gives_each_document_its_own_history(b: &Backend) {
    let w = build(b);
    let store = Store::connect(&w.ws).unwrap();
    let mut ids: Vec<DocId> = store.documents(&Default::default()).unwrap().iter().map(|d| d.id).collect();
    ids.reverse();
    let histories = store.doc_histories(&ids).unwrap();
    assert_eq!(histories.iter().map(|h| h.doc).collect::<Vec<_>>(), ids, "{}: in the order asked", b.name());
    let mut verdicts_seen = 0;
    for h in &histories {
        assert_eq!(h.status, store.document(h.doc).unwrap().status);
        assert_eq!(h.edits, store.edits_on(h.doc).unwrap());
        assert_eq!(h.boxes, store.annotations(h.doc).unwrap());
        let rounds = store.rounds(h.doc).unwrap();
        let finished: Vec<_> =
            rounds.iter().filter(|r| r.finished_ms.is_some()).map(|r| store.verdicts(r.id).unwrap()).collect();
        assert_eq!(h.rounds, rounds);
        assert_eq!(h.verdicts, finished, "{}: document {}", b.name(), h.doc.0);
        verdicts_seen += finished.iter().map(Vec::len).sum::<usize>();
    }
    assert!(verdicts_seen > 0, "the world has reviewed boxes");
    assert!(histories.iter().any(|h| h.rounds.len() > 1), "and a document reviewed twice");
    assert!(store.doc_histories(&[]).unwrap().is_empty());
    match store.doc_histories(&[ids[0], DocId(9_999)]) {
        Err(facture::store::StoreError::Missing { id: 9_999, .. }) => {}
        other => panic!("a missing document is named: {other:?}"),
    }
}
