//! How well a score ranks good items above bad ones: the area under the ROC curve.

/// AUROC of `scores` for `(score, is_good)` items: the probability that a random good item
/// scores above a random bad one (ties count half). `None` without both kinds.
pub fn auroc(items: &[(f32, bool)]) -> Option<f64> {
    let good = items.iter().filter(|i| i.1).count();
    let bad = items.len() - good;
    if good == 0 || bad == 0 {
        return None;
    }
    let mut sorted: Vec<(f32, bool)> = items.iter().copied().filter(|i| i.0.is_finite()).collect();
    if sorted.len() != items.len() {
        return None;
    }
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Mann–Whitney U from average ranks (1-based), so ties share their rank
    let mut rank_sum_good = 0.0f64;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1].0 == sorted[i].0 {
            j += 1;
        }
        let avg = (i + j + 2) as f64 / 2.0;
        rank_sum_good += avg * sorted[i..=j].iter().filter(|x| x.1).count() as f64;
        i = j + 1;
    }
    let u = rank_sum_good - (good * (good + 1)) as f64 / 2.0;
    Some(u / (good * bad) as f64)
}

#[cfg(test)]
mod tests {
    use super::auroc;

    #[test]
    fn perfect_inverted_random_and_tied_rankings() {
        assert_eq!(auroc(&[(0.9, true), (0.8, true), (0.2, false)]), Some(1.0));
        assert_eq!(auroc(&[(0.1, true), (0.8, false), (0.9, false)]), Some(0.0));
        assert_eq!(auroc(&[(0.5, true), (0.5, false)]), Some(0.5));
        assert_eq!(auroc(&[(0.9, true), (0.5, false), (0.7, true), (0.8, false)]), Some(0.75));
        assert_eq!(auroc(&[(0.9, true)]), None);
        assert_eq!(auroc(&[(f32::NAN, true), (0.1, false)]), None);
    }
}
