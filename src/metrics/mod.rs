//! The one implementation of Facture's yardsticks: box matching, precision/recall/F1,
//! character error rate and label accuracy. The stats panel, gold checks, `facture eval`,
//! benchmarks and tests all call these pure functions so their numbers agree.

pub mod activity;
mod matching;
mod ranking;
mod text;

pub use activity::{
    ActiveTime, DEFAULT_IDLE_GAP_SECS, Phase, RoundSpan, TimelineEvent, active_time, classify_phase, utc_day,
};
pub use matching::{Counts, LabelCounts, MatchPair, Matching, label_accuracy, match_boxes};
pub use ranking::auroc;
pub use text::{CerCounts, cer, cer_counts, cer_folded, cer_folded_counts, fold, levenshtein, normalize_ws};
