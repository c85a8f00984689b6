//! Hand-made cases for the one metrics module: the situations line detectors get wrong
//! (split and merged lines, empty pages) and CER on edits and non-ASCII text.

use facture::domain::Rect;
use facture::metrics::{CerCounts, Counts, cer, cer_counts, cer_folded, cer_folded_counts, levenshtein, match_boxes};

fn r(x0: f32, y0: f32, x1: f32, y1: f32) -> Rect {
    Rect::new(x0, y0, x1, y1)
}

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() < 1e-5
}

/// Three text lines of a page.
fn page() -> Vec<Rect> {
    vec![r(10.0, 10.0, 210.0, 30.0), r(10.0, 40.0, 160.0, 60.0), r(10.0, 70.0, 310.0, 90.0)]
}

#[test]
fn perfect_match_scores_one() {
    let gt = page();
    let m = match_boxes(&gt, &gt, 0.5);
    assert_eq!(m.pairs.len(), 3);
    assert!(m.unmatched_gt.is_empty() && m.unmatched_pred.is_empty());
    assert!(m.pairs.iter().all(|p| p.gt == p.pred && p.iou == 1.0));
    let c = m.counts();
    assert_eq!((c.precision(), c.recall(), c.f1()), (1.0, 1.0, 1.0));
    assert_eq!(m.mean_iou(), 1.0);
}

#[test]
fn split_line_matches_at_most_one_half() {
    // One GT line predicted as two halves: each half has IoU 0.5 - only at 0.5 can one match.
    let gt = vec![r(0.0, 0.0, 200.0, 20.0)];
    let pred = vec![r(0.0, 0.0, 100.0, 20.0), r(100.0, 0.0, 200.0, 20.0)];
    let m = match_boxes(&gt, &pred, 0.5);
    assert_eq!(m.pairs.len(), 1, "one-to-one: the second half is a false positive");
    assert_eq!(m.unmatched_pred.len(), 1);
    let c = m.counts();
    assert_eq!(c, Counts { matched: 1, gt: 1, pred: 2 });
    assert!(close(c.precision(), 0.5) && close(c.recall(), 1.0) && close(c.f1(), 2.0 / 3.0));
    // Uneven halves (60 % / 40 %) miss a strict 0.7 threshold entirely.
    let pred = vec![r(0.0, 0.0, 120.0, 20.0), r(125.0, 0.0, 200.0, 20.0)];
    let c = match_boxes(&gt, &pred, 0.7).counts();
    assert_eq!((c.precision(), c.recall(), c.f1()), (0.0, 0.0, 0.0));
}

#[test]
fn merged_lines_match_at_most_one_line() {
    // Two GT lines, one prediction covering both: IoU 20/50 each, below 0.5 -> no match.
    let gt = vec![r(0.0, 0.0, 100.0, 20.0), r(0.0, 30.0, 100.0, 50.0)];
    let pred = vec![r(0.0, 0.0, 100.0, 50.0)];
    let c = match_boxes(&gt, &pred, 0.5).counts();
    assert_eq!(c, Counts { matched: 0, gt: 2, pred: 1 });
    // At a loose threshold one of the two lines takes it; the other is still missed.
    let m = match_boxes(&gt, &pred, 0.3);
    assert_eq!(m.pairs.len(), 1);
    assert_eq!(m.pairs[0].gt, 0, "ties go to the lower ground-truth index");
    assert_eq!(m.unmatched_gt, vec![1]);
}

#[test]
fn empty_prediction_has_precision_one_recall_zero() {
    let c = match_boxes(&page(), &[], 0.5).counts();
    assert_eq!((c.precision(), c.recall(), c.f1()), (1.0, 0.0, 0.0));
}

#[test]
fn empty_ground_truth_has_precision_zero_recall_one() {
    let m = match_boxes(&[], &page(), 0.5);
    assert_eq!(m.unmatched_pred, vec![0, 1, 2]);
    let c = m.counts();
    assert_eq!((c.precision(), c.recall(), c.f1()), (0.0, 1.0, 0.0));
}

#[test]
fn nothing_against_nothing_is_perfect_not_nan() {
    let c = match_boxes(&[], &[], 0.5).counts();
    assert_eq!((c.precision(), c.recall(), c.f1()), (1.0, 1.0, 1.0));
    assert_eq!(match_boxes(&[], &[], 0.5).mean_iou(), 0.0);
}

#[test]
fn totals_are_micro_averaged() {
    let a = Counts { matched: 9, gt: 10, pred: 10 };
    let b = Counts { matched: 0, gt: 0, pred: 10 };
    let t: Counts = [a, b].into_iter().sum();
    assert_eq!(t, Counts { matched: 9, gt: 10, pred: 20 });
    assert!(close(t.precision(), 0.45) && close(t.recall(), 0.9));
}

#[test]
fn matching_two_thousand_boxes_each_is_fast() {
    // A 40-column x 50-row grid of word boxes, predictions shifted by 2 px.
    let gt: Vec<Rect> = (0..2000)
        .map(|i| {
            let (c, row) = ((i % 40) as f32, (i / 40) as f32);
            r(c * 50.0, row * 30.0, c * 50.0 + 40.0, row * 30.0 + 20.0)
        })
        .collect();
    let pred: Vec<Rect> = gt.iter().map(|b| b.translated(2.0, 1.0)).collect();
    let start = std::time::Instant::now();
    let m = match_boxes(&gt, &pred, 0.5);
    let took = start.elapsed();
    eprintln!("matched 2000 x 2000 boxes in {took:?}");
    assert_eq!(m.pairs.len(), 2000);
    assert!(m.pairs.iter().all(|p| p.gt == p.pred));
    // Measured 1.5 ms in a debug build (the all-pairs loop would compute 4 million IoUs).
    assert!(took.as_millis() < 500, "took {took:?}");
}

#[test]
fn cer_counts_insertions_deletions_substitutions() {
    assert_eq!(cer_counts("TOTAL", "TOTAL"), CerCounts { edits: 0, ref_chars: 5 });
    assert_eq!(cer_counts("TOTAL", "TOTALS"), CerCounts { edits: 1, ref_chars: 5 }); // insertion
    assert_eq!(cer_counts("TOTAL", "TOAL"), CerCounts { edits: 1, ref_chars: 5 }); // deletion
    assert_eq!(cer_counts("TOTAL", "T0TAL"), CerCounts { edits: 1, ref_chars: 5 }); // substitution
    assert!(close(cer("TOTAL", "T0TA"), 0.4));
    // More inserted than the reference holds: CER above 1, still finite.
    assert!(close(cer("AB", "XXXXAB"), 2.0));
}

#[test]
fn cer_of_empty_strings_is_finite() {
    assert_eq!(cer("", ""), 0.0);
    assert_eq!(cer("", "abc"), 1.0);
    assert_eq!(cer("abc", ""), 1.0);
    assert_eq!(cer("  ", "\t"), 0.0, "whitespace-only normalises to empty");
}

#[test]
fn non_ascii_counts_scalar_values_not_bytes() {
    assert_eq!(levenshtein("café", "cafe"), 1, "é is one character, two bytes");
    assert_eq!(levenshtein("Straße", "Strasse"), 2); // ß -> s, insert s
    assert_eq!(levenshtein("12,50 €", "12,50 E"), 1);
    assert_eq!(levenshtein("発票番号", "発票号"), 1);
    assert_eq!(cer_counts("合計 ¥1,000", "合計 ¥1.000"), CerCounts { edits: 1, ref_chars: 9 });
    assert!(close(cer("Größe", "Grösse"), 2.0 / 5.0));
}

#[test]
fn folded_ignores_case_and_all_spaces_strict_does_not() {
    let (gt, ocr) = ("TOTAL  : 12.50", "Total:12.50");
    assert_eq!(cer_folded(gt, ocr), 0.0);
    // Strict: whitespace runs collapse ("TOTAL : 12.50", 13 chars), case and the space count.
    let strict = cer_counts(gt, ocr);
    assert_eq!(strict.ref_chars, 13);
    assert_eq!(strict.edits, 4 + 2, "OTAL lower-cased (4) and two spaces deleted");
    assert_eq!(cer_folded_counts("ÉCOLE ẞ", "école ß"), CerCounts { edits: 0, ref_chars: 6 });
    assert!(cer("ÉCOLE", "école") > 0.0);
}

#[test]
fn aggregate_cer_weights_by_reference_length() {
    // A one-char line fully wrong and a 99-char line perfect: 1 edit / 100 chars, not 50 %.
    let long = "A".repeat(99);
    let total: CerCounts = [cer_counts("X", "Y"), cer_counts(&long, &long)].into_iter().sum();
    assert!(close(total.rate(), 0.01));
}
