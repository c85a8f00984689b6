//! How likely a recognised line is to be read exactly right: a small logistic model over
//! what the CTC recogniser said around each character.
//!
//! The mean character probability (`Reading::score`) saturates near 1 on almost every line,
//! right or wrong, so it ranks them poorly. What separates them better: a character that
//! barely beat the runner-up class (the least and the mean lead, [`CharAt::margin`]), a
//! character that nearly appeared between two others ([`CharAt::gap`]), and length (more
//! characters, more chances to get one wrong). Tried and left out: the detector's box score
//! (lowered the ranking on held-out pages), and the widest space in the line relative to its
//! height (it caught detector lines that join two fields, but its weight flipped sign when
//! lines were cut at column gaps before recognition, so it was not robust), and how close
//! the nearest suggestion on the same line is (its sign flipped between synthetic invoices
//! and receipts).
//!
//! One input is not about characters: whether the suggestion is one of several made from one
//! detected line (cut at cell gaps or split at wide gaps, [`as_cut`]). Where a line is cut is
//! a guess about the team's boxes, and a wrong guess reads right characters into a wrong box
//! (`6.36` against `6.36 SR`); on every set it was checked on, such pieces were read wrong
//! more often than whole lines.

use super::rec::CharAt;

/// Names of [`features`], in order (for the fitting program's report).
pub const FEATURE_NAMES: [&str; 4] = ["logit_min_margin", "logit_mean_margin", "logit_max_gap", "ln_len"];

/// Fitted by `examples/fit_confidence.rs` (logistic regression, Newton's method, ridge 1e-3
/// on standardised inputs) on the 3760 suggestions of the model pass (default config, 7-bit
/// recogniser, when its depthwise convolutions still ran in int8; not refitted since they run
/// in float) that match ground truth at IoU 0.5 on 60 synthetic invoices
/// (`synth::render_page`, seeds 11–14, pages 1–15), labelled right when their folded text
/// equals the ground truth's:
/// `fit_confidence dump train.jsonl --synth 11:15 --synth 12:15 --synth 13:15 --synth 14:15`,
/// then `fit_confidence fit train.jsonl`. Real scans are only for checking it (README,
/// "Measured").
const WEIGHTS: [f32; 4] = [-0.028260075, 0.5380569, -0.097168505, -1.4785334];
const BIAS: f32 = 3.3867986;
/// Weight of "one of several suggestions made from one detected line" (fitted with the above).
pub const CUT_WEIGHT: f32 = -0.7335621;

/// The model's inputs for the characters of one line (or piece of one). Spaces at either
/// end are ignored.
pub fn features(chars: &[CharAt]) -> [f32; 4] {
    let solid = |c: &&CharAt| !c.text.trim().is_empty();
    let first = chars.iter().position(|c| solid(&c)).unwrap_or(chars.len());
    let last = chars.iter().rposition(|c| solid(&c)).map_or(first, |i| i + 1);
    let chars = &chars[first..last.max(first)];
    let margins: Vec<f32> = chars.iter().filter(solid).map(|c| c.margin).collect();
    let n = margins.len().max(1) as f32;
    let min_margin = margins.iter().copied().fold(1.0f32, f32::min);
    let mean_margin = margins.iter().sum::<f32>() / n;
    let max_gap = chars.iter().map(|c| c.gap).fold(0.0f32, f32::max);
    [logit(min_margin), logit(mean_margin), logit(max_gap), (margins.len() as f32 + 1.0).ln()]
}

fn logit(p: f32) -> f32 {
    let p = if p.is_nan() { 0.0 } else { p.clamp(1e-4, 1.0 - 1e-4) };
    (p / (1.0 - p)).ln()
}

/// Probability that `chars` (one line, or a piece of one) were read exactly right, in
/// [0, 1]; 0 for no characters. For a suggestion that is one of several made from one line,
/// pass its score through [`as_cut`].
pub fn of_chars(chars: &[CharAt]) -> f32 {
    if chars.iter().all(|c| c.text.trim().is_empty()) {
        return 0.0;
    }
    let z = BIAS + features(chars).iter().zip(WEIGHTS).map(|(x, w)| x * w).sum::<f32>();
    sigmoid(z)
}

/// The confidence [`of_chars`] gave a piece, for a piece that is one of several cut from one
/// detected line: the model's cut term added to its log-odds. 0 stays 0.
pub fn as_cut(score: f32) -> f32 {
    if score <= 0.0 || score.is_nan() {
        return 0.0;
    }
    sigmoid(logit(score) + CUT_WEIGHT)
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Characters 20 px apart, every lead `margin`, no near misses.
    fn line(text: &str, margin: f32) -> Vec<CharAt> {
        let each = |(i, c): (usize, char)| CharAt {
            text: c.to_string(),
            prob: margin,
            x_px: 20.0 * i as f32,
            margin,
            gap: 0.0,
        };
        text.chars().enumerate().map(each).collect()
    }

    #[test]
    fn a_sure_reading_outranks_one_with_a_doubtful_or_possibly_missing_character() {
        let sure = of_chars(&line("TOTAL 12,50", 0.999));
        let mut doubtful = line("TOTAL 12,50", 0.999);
        doubtful[8].margin = 0.2;
        let mut missing = line("TOTAL 12,50", 0.999);
        missing[3].gap = 0.45;
        let (doubtful, missing) = (of_chars(&doubtful), of_chars(&missing));
        assert!(sure > 0.9, "{sure}");
        assert!(doubtful < sure - 0.05 && missing < sure, "{sure} {doubtful} {missing}");
        // a reading the recogniser hesitated over throughout is the least likely right
        assert!(of_chars(&line("TOTAL 12,50", 0.3)) < doubtful);
    }

    #[test]
    fn a_piece_cut_from_a_line_is_less_sure_than_the_same_reading_whole() {
        for m in [0.3, 0.9, 0.999] {
            let whole = of_chars(&line("6.36", m));
            let cut = as_cut(whole);
            assert!(cut < whole && cut > 0.0, "{m}: {whole} -> {cut}");
            // the cut term is a shift in log-odds: order among pieces is kept
            assert!(as_cut(of_chars(&line("6.36", 0.999))) > as_cut(of_chars(&line("6.36", 0.3))));
        }
        assert_eq!(as_cut(0.0), 0.0);
        assert_eq!(as_cut(f32::NAN), 0.0);
        assert!((0.0..=1.0).contains(&as_cut(1.0)));
    }

    #[test]
    fn confidence_is_a_probability_and_zero_without_characters() {
        assert_eq!(of_chars(&[]), 0.0);
        assert_eq!(of_chars(&line("   ", 0.9)), 0.0);
        for m in [0.0, 1e-9, 0.5, 1.0] {
            for gap in [0.0, 0.5, 1.0] {
                let mut l = line("Rechnung Nr. 2024-117", m);
                l[4].gap = gap;
                let c = of_chars(&l);
                assert!((0.0..=1.0).contains(&c), "{m} {gap}: {c}");
            }
        }
    }

    #[test]
    fn confidence_rises_with_each_lead_and_falls_with_near_misses_and_length() {
        let base = line("Net 30 days", 0.9);
        let c0 = of_chars(&base);
        let mut surer = base.clone();
        surer[5].margin = 0.99;
        assert!(of_chars(&surer) > c0);
        let mut gap = base.clone();
        gap[5].gap = 0.3;
        assert!(of_chars(&gap) < c0);
        assert!(of_chars(&line("Net 30 days net 30 days", 0.9)) < c0);
        // spaces at either end change nothing
        assert_eq!(of_chars(&line(" Net 30 days ", 0.9)), c0);
    }
}
