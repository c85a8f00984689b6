//! Review on both backends: the state machine with its role rules, verdicts and corrections,
//! rounds, gold.

mod common;

use common::backend::{Backend, on_each_backend};
use facture::app::{Command, CommandError, Session};
use facture::domain::{AnnId, Change, DocId, DocStatus, DocVerdict, Rect, Role, Verdict};
use facture::store::{Store, Workspace};

on_each_backend!(
    the_full_loop_with_rework_keeps_every_round,
    role_rules_are_enforced_by_the_library,
    a_reviewer_who_annotated_cannot_review,
    gold_documents_are_scored_on_submit,
    verdicts_and_comments_can_be_undone_by_the_reviewer,
    queue_is_oldest_first_round_robin_skips_the_annotator_and_diff_shows_rework,
);

struct Team {
    ws: Workspace,
    doc: DocId,
}

fn team(b: &Backend) -> Team {
    let ws = b.fresh();
    let docs = common::workspace(&ws, 1);
    let mut s = Store::connect(&ws).unwrap();
    s.add_user("rita", Role::Reviewer).unwrap();
    s.add_user("ralf", Role::Reviewer).unwrap();
    s.add_user("lea", Role::Lead).unwrap();
    s.add_user("otto", Role::Annotator).unwrap();
    Team { ws, doc: docs[0] }
}

fn refused(r: Result<facture::app::Outcome, CommandError>, needle: &str) {
    match r {
        Err(CommandError::Refused(m)) => assert!(m.contains(needle), "refusal '{m}' lacks '{needle}'"),
        other => panic!("expected a refusal containing '{needle}', got {other:?}"),
    }
}

fn add_box(s: &mut Session, doc: DocId, x: f32, text: &str) -> AnnId {
    s.apply(Command::AddBox {
        doc,
        rect: Rect::new(x, 10.0, x + 80.0, 30.0),
        quad: None,
        label: None,
        text: text.into(),
    })
    .unwrap()
    .created_boxes()[0]
}

fn status(t: &Team) -> DocStatus {
    Store::connect(&t.ws).unwrap().document(t.doc).unwrap().status
}

fn the_full_loop_with_rework_keeps_every_round(b: &Backend) {
    let t = team(b);
    let doc = t.doc;
    let mut lea = common::session(&t.ws, "lea");
    let ann_id = lea.store().user_by_name("ann").unwrap().unwrap().id;
    lea.apply(Command::Assign { doc, annotator: Some(ann_id) }).unwrap();

    let mut ann = common::session(&t.ws, "ann");
    let a = add_box(&mut ann, doc, 10.0, "TOTAL");
    let b = add_box(&mut ann, doc, 200.0, "12,0O");
    ann.apply(Command::Submit { doc }).unwrap();
    assert_eq!(status(&t), DocStatus::Submitted);

    let mut rita = common::session(&t.ws, "rita");
    rita.apply(Command::StartReview { doc }).unwrap();
    assert_eq!(status(&t), DocStatus::InReview);
    rita.apply(Command::SetVerdict { doc, ann: b, verdict: Verdict::WrongText, comment: "it is 12,00".into() })
        .unwrap();
    // A correction by the reviewer is recorded as hers, next to the annotator's original.
    rita.apply(Command::SetText { doc, id: a, text: "TOTAL:".into() }).unwrap();
    let missing = rita
        .apply(Command::AddMissingBox {
            doc,
            rect: Rect::new(10.0, 100.0, 90.0, 120.0),
            label: None,
            text: "EUR".into(),
            comment: "currency missed".into(),
        })
        .unwrap()
        .created_boxes()[0];
    refused(rita.apply(Command::FinishReview { doc, verdict: DocVerdict::Reject, comment: "  ".into() }), "comment");
    rita.apply(Command::FinishReview { doc, verdict: DocVerdict::Reject, comment: "fix the total".into() }).unwrap();
    assert_eq!(status(&t), DocStatus::Rejected);

    let store = Store::connect(&t.ws).unwrap();
    let rounds = store.rounds(doc).unwrap();
    assert_eq!(rounds.len(), 1);
    let v = store.verdicts(rounds[0].id).unwrap();
    assert_eq!(v.len(), 2);
    assert!(v.iter().any(|v| v.ann == b && v.verdict == Verdict::WrongText && v.comment == "it is 12,00"));
    assert!(v.iter().any(|v| v.ann == missing && v.verdict == Verdict::Missing));
    let correction = store.edits_on(doc).unwrap().into_iter().find(|e| e.action == "set_text").unwrap();
    assert_eq!(correction.user, Some(rita.user().id));
    match &correction.changes[0] {
        Change::Annotation { before: Some(o), after: Some(n) } => {
            assert_eq!((o.text.as_str(), n.text.as_str()), ("TOTAL", "TOTAL:"))
        }
        other => panic!("{other:?}"),
    }

    // The annotator reworks and resubmits; the second round is kept beside the first.
    ann.apply(Command::SetText { doc, id: b, text: "12,00".into() }).unwrap();
    assert_eq!(status(&t), DocStatus::Rework);
    ann.apply(Command::Submit { doc }).unwrap();
    rita.apply(Command::StartReview { doc }).unwrap();
    rita.apply(Command::AcceptRemaining { doc }).unwrap();
    rita.apply(Command::FinishReview { doc, verdict: DocVerdict::Accept, comment: String::new() }).unwrap();
    assert_eq!(status(&t), DocStatus::Accepted);
    let rounds = Store::connect(&t.ws).unwrap().rounds(doc).unwrap();
    assert_eq!(
        rounds.iter().map(|r| (r.number, r.verdict)).collect::<Vec<_>>(),
        vec![(1, Some(DocVerdict::Reject)), (2, Some(DocVerdict::Accept))]
    );
    assert!(rounds[1].start_edit > rounds[0].start_edit, "round 2 knows what changed since round 1");
    assert_eq!(Store::connect(&t.ws).unwrap().verdicts(rounds[1].id).unwrap().len(), 3);
    // Accepted work is frozen, even for the annotator.
    refused(ann.apply(Command::SetText { doc, id: b, text: "x".into() }), "accepted");
}

fn role_rules_are_enforced_by_the_library(b: &Backend) {
    let t = team(b);
    let doc = t.doc;
    let mut ann = common::session(&t.ws, "ann");
    let mut otto = common::session(&t.ws, "otto");
    let mut rita = common::session(&t.ws, "rita");
    let mut ralf = common::session(&t.ws, "ralf");
    let mut lea = common::session(&t.ws, "lea");
    let ann_id = ann.user().id;

    lea.apply(Command::Assign { doc, annotator: Some(ann_id) }).unwrap();
    refused(
        otto.apply(Command::AddBox {
            doc,
            rect: Rect::new(0.0, 0.0, 9.0, 9.0),
            quad: None,
            label: None,
            text: String::new(),
        }),
        "someone else",
    );
    let a = add_box(&mut ann, doc, 10.0, "x");
    // Reviewing before submission, or reviewing as an annotator, is refused.
    refused(rita.apply(Command::StartReview { doc }), "submitted");
    ann.apply(Command::Submit { doc }).unwrap();
    refused(ann.apply(Command::StartReview { doc }), "only reviewers");
    refused(ann.apply(Command::SetStatus { doc, to: DocStatus::Accepted }), "only a lead");
    refused(ann.apply(Command::Assign { doc, annotator: None }), "only a lead");
    refused(rita.apply(Command::Submit { doc }), "annotators submit");
    refused(
        rita.apply(Command::SetVerdict { doc, ann: a, verdict: Verdict::Ok, comment: String::new() }),
        "not in review",
    );
    // Submitted work is locked for its annotator.
    refused(ann.apply(Command::SetText { doc, id: a, text: "y".into() }), "submitted");
    // Only a non-annotator is assigned as reviewer; a reviewer who annotated may not review.
    let otto_id = otto.user().id;
    refused(lea.apply(Command::AssignReviewer { doc, reviewer: Some(otto_id) }), "not a reviewer");
    let ralf_id = ralf.user().id;
    lea.apply(Command::AssignReviewer { doc, reviewer: Some(ralf_id) }).unwrap();
    refused(rita.apply(Command::StartReview { doc }), "another reviewer");
    ralf.apply(Command::StartReview { doc }).unwrap();
    refused(
        rita.apply(Command::SetVerdict { doc, ann: a, verdict: Verdict::Ok, comment: String::new() }),
        "another reviewer",
    );
    refused(
        ann.apply(Command::FinishReview { doc, verdict: DocVerdict::Accept, comment: String::new() }),
        "only the reviewer",
    );
    refused(
        ann.apply(Command::SetVerdict { doc, ann: a, verdict: Verdict::Ok, comment: String::new() }),
        "only the reviewer",
    );
    ralf.apply(Command::FinishReview { doc, verdict: DocVerdict::Accept, comment: String::new() }).unwrap();
    // Label schema: leads only.
    let label = ann.store().labels().unwrap()[0].clone();
    let mut renamed = label.clone();
    renamed.name = "inv_no".into();
    assert!(matches!(ann.edit_label(Some(label.clone()), Some(renamed.clone())), Err(CommandError::Refused(_))));
    lea.edit_label(Some(label), Some(renamed)).unwrap();
    assert!(lea.store().label_by_name("inv_no").unwrap().is_some());
}

fn a_reviewer_who_annotated_cannot_review(b: &Backend) {
    let t = team(b);
    let doc = t.doc;
    // Unassigned document: rita (a reviewer) draws a box on it as a correction outside review.
    let mut lea = common::session(&t.ws, "lea");
    add_box(&mut lea, doc, 10.0, "lead's box");
    lea.apply(Command::Submit { doc }).unwrap();
    refused(lea.apply(Command::StartReview { doc }), "you annotated");
    let mut rita = common::session(&t.ws, "rita");
    rita.apply(Command::StartReview { doc }).unwrap();
}

fn gold_documents_are_scored_on_submit(b: &Backend) {
    let t = team(b);
    let doc = t.doc;
    let mut lea = common::session(&t.ws, "lea");
    let total = lea.store().label_by_name("total_amount").unwrap().unwrap().id;
    let g1 = add_box(&mut lea, doc, 10.0, "TOTAL");
    let g2 = add_box(&mut lea, doc, 300.0, "1 234,50 €");
    lea.apply(Command::SetLabel { doc, ids: vec![g2], label: Some(total) }).unwrap();
    let _ = g1;
    lea.apply(Command::MarkGold { doc }).unwrap();
    let ann_id = lea.store().user_by_name("ann").unwrap().unwrap().id;
    lea.apply(Command::ReissueGold { doc, annotator: ann_id }).unwrap();
    let d = lea.store().document(doc).unwrap();
    assert!(d.is_gold && d.status == DocStatus::New && d.assignee == Some(ann_id));
    assert!(lea.store().annotations(doc).unwrap().is_empty(), "the annotator starts from a blank page");
    assert_eq!(lea.store().gold_boxes(doc).unwrap().len(), 2);

    let mut ann = common::session(&t.ws, "ann");
    add_box(&mut ann, doc, 12.0, "TOTAL");
    let v = add_box(&mut ann, doc, 301.0, "1 234,56 €");
    ann.apply(Command::SetLabel { doc, ids: vec![v], label: Some(total) }).unwrap();
    add_box(&mut ann, doc, 600.0, "spurious");
    ann.apply(Command::Submit { doc }).unwrap();
    let scores = ann.store().gold_scores(Some(ann_id)).unwrap();
    assert_eq!(scores.len(), 1);
    let s = &scores[0];
    assert_eq!((s.precision, s.recall), (2.0 / 3.0, 1.0));
    assert_eq!(s.label_accuracy, 1.0);
    assert!((s.cer - 1.0 / 15.0).abs() < 1e-6, "one wrong character of 15: {}", s.cer);
}

fn verdicts_and_comments_can_be_undone_by_the_reviewer(b: &Backend) {
    let t = team(b);
    let doc = t.doc;
    let mut ann = common::session(&t.ws, "ann");
    let a = add_box(&mut ann, doc, 10.0, "x");
    ann.apply(Command::Submit { doc }).unwrap();
    let mut rita = common::session(&t.ws, "rita");
    rita.apply(Command::StartReview { doc }).unwrap();
    rita.apply(Command::SetVerdict { doc, ann: a, verdict: Verdict::WrongLabel, comment: String::new() }).unwrap();
    rita.apply(Command::SetVerdict { doc, ann: a, verdict: Verdict::Spurious, comment: "not text".into() }).unwrap();
    rita.apply(Command::AddComment { doc, ann: None, text: "check the header".into() }).unwrap();
    let round = rita.store().rounds(doc).unwrap()[0].id;
    assert_eq!(rita.store().verdicts(round).unwrap()[0].verdict, Verdict::Spurious);
    assert_eq!(rita.store().comments(doc).unwrap()[0].text, "check the header");
    rita.apply(Command::Undo { doc }).unwrap();
    assert!(rita.store().comments(doc).unwrap().is_empty());
    rita.apply(Command::Undo { doc }).unwrap();
    assert_eq!(rita.store().verdicts(round).unwrap()[0].verdict, Verdict::WrongLabel);
}

fn queue_is_oldest_first_round_robin_skips_the_annotator_and_diff_shows_rework(b: &Backend) {
    use facture::app::review::{assign_round_robin, changed_since_last_round, review_queue};
    let ws = b.fresh();
    let docs = common::workspace(&ws, 3);
    {
        let mut s = Store::connect(&ws).unwrap();
        s.add_user("rita", Role::Reviewer).unwrap();
        s.add_user("ralf", Role::Reviewer).unwrap();
        s.add_user("lea", Role::Lead).unwrap();
    }
    let mut ann = common::session(&ws, "ann");
    let mut first_boxes = vec![];
    for &d in docs.iter().rev() {
        first_boxes.push(add_box(&mut ann, d, 10.0, "x"));
        ann.apply(Command::Submit { doc: d }).unwrap();
    }
    let q = review_queue(ann.store(), None, None).unwrap();
    assert_eq!(q.iter().map(|i| i.doc.id).collect::<Vec<_>>(), docs.iter().rev().copied().collect::<Vec<_>>());
    assert!(q.iter().all(|i| i.annotator == Some(ann.user().id) && i.boxes == 1));
    let total = ann.store().label_by_name("total_amount").unwrap().unwrap().id;
    assert!(review_queue(ann.store(), None, Some(total)).unwrap().is_empty());

    let mut lea = common::session(&ws, "lea");
    let rita = lea.store().user_by_name("rita").unwrap().unwrap().id;
    let ralf = lea.store().user_by_name("ralf").unwrap().unwrap().id;
    assert_eq!(assign_round_robin(&mut lea, &[rita, ralf]).unwrap(), 3);
    let reviewers: Vec<_> = docs.iter().rev().map(|&d| lea.store().document(d).unwrap().reviewer.unwrap()).collect();
    assert_eq!(reviewers, vec![rita, ralf, rita]);

    // Reject one, rework one box: the next round sees exactly that box as changed.
    let d = docs[2];
    let mut r = common::session(&ws, "rita");
    r.apply(Command::StartReview { doc: d }).unwrap();
    r.apply(Command::FinishReview { doc: d, verdict: DocVerdict::Reject, comment: "add the total".into() }).unwrap();
    assert!(changed_since_last_round(r.store(), d).unwrap().is_empty());
    let new_box = add_box(&mut ann, d, 300.0, "12,00");
    assert_eq!(changed_since_last_round(r.store(), d).unwrap(), vec![new_box]);
}
