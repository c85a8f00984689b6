//! Character error rate: Levenshtein distance over Unicode scalar values divided by the
//! reference length, in a strict (whitespace-normalised) and a folded (case- and
//! space-insensitive) form. SROIE writes its ground truth in capitals with its own spacing,
//! so the folded form is the fair one there; the strict form is what an annotator fixes.

use std::ops::{Add, AddAssign};

/// Edit distance (insertions, deletions, substitutions, each cost 1) between two strings,
/// counted in Unicode scalar values: "é" precomposed is one character, "ß" and "€" are one,
/// a CJK ideograph is one. Two rows of memory, O(|a|·|b|) time.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    levenshtein_chars(&a, &b)
}

fn levenshtein_chars(a: &[char], b: &[char]) -> usize {
    // Strip the common prefix and suffix: OCR output is mostly right, so this often leaves
    // little for the quadratic part.
    let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[pre..], &b[pre..]);
    let suf = a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[..a.len() - suf], &b[..b.len() - suf]);
    if a.is_empty() || b.is_empty() {
        return a.len().max(b.len());
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Trims and collapses every run of Unicode whitespace to one ASCII space.
pub fn normalize_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lower-cases (Unicode rules, so "É" → "é", "ẞ" → "ß") and removes all whitespace.
pub fn fold(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

/// Edit count and reference length; add them over boxes and documents so an aggregate CER
/// is total edits / total reference characters, weighting long lines by their length rather
/// than averaging per-line ratios (where a one-character line with one error counts 100 %).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CerCounts {
    pub edits: usize,
    pub ref_chars: usize,
}

impl CerCounts {
    /// Edits per reference character. It exceeds 1 when the hypothesis inserts more than the
    /// reference holds. An empty reference gives 0 if the hypothesis is empty too and 1
    /// otherwise ("all wrong"), so the result is always finite.
    pub fn rate(&self) -> f32 {
        match (self.ref_chars, self.edits) {
            (0, 0) => 0.0,
            (0, _) => 1.0,
            (n, e) => e as f32 / n as f32,
        }
    }
}

impl Add for CerCounts {
    type Output = CerCounts;
    fn add(self, o: CerCounts) -> CerCounts {
        CerCounts { edits: self.edits + o.edits, ref_chars: self.ref_chars + o.ref_chars }
    }
}

impl AddAssign for CerCounts {
    fn add_assign(&mut self, o: CerCounts) {
        *self = *self + o;
    }
}

impl std::iter::Sum for CerCounts {
    fn sum<I: Iterator<Item = CerCounts>>(iter: I) -> CerCounts {
        iter.fold(CerCounts::default(), Add::add)
    }
}

fn counts_of(reference: &str, hypothesis: &str) -> CerCounts {
    let r: Vec<char> = reference.chars().collect();
    let h: Vec<char> = hypothesis.chars().collect();
    CerCounts { edits: levenshtein_chars(&r, &h), ref_chars: r.len() }
}

/// Strict CER counts after [`normalize_ws`] on both sides.
pub fn cer_counts(reference: &str, hypothesis: &str) -> CerCounts {
    counts_of(&normalize_ws(reference), &normalize_ws(hypothesis))
}

/// Folded CER counts after [`fold`] on both sides.
pub fn cer_folded_counts(reference: &str, hypothesis: &str) -> CerCounts {
    counts_of(&fold(reference), &fold(hypothesis))
}

/// Strict CER of one hypothesis against one reference (see [`CerCounts::rate`]).
pub fn cer(reference: &str, hypothesis: &str) -> f32 {
    cer_counts(reference, hypothesis).rate()
}

/// Case- and space-insensitive CER of one hypothesis against one reference.
pub fn cer_folded(reference: &str, hypothesis: &str) -> f32 {
    cer_folded_counts(reference, hypothesis).rate()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_distances() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("abc", ""), 3);
        assert_eq!(levenshtein("flaw", "lawn"), 2);
        assert_eq!(levenshtein("same", "same"), 0);
    }

    #[test]
    fn whitespace_normalisation_trims_and_collapses_unicode_spaces() {
        assert_eq!(normalize_ws("  a \t b\u{00a0}\u{3000}c\n"), "a b c");
        assert_eq!(fold(" Straße \u{1E9E} TOTAL "), "straßeßtotal");
    }

    #[test]
    fn long_strings_stay_cheap_and_correct() {
        let a = "x".repeat(3000);
        let b = format!("{a}y");
        assert_eq!(levenshtein(&a, &b), 1);
    }
}
