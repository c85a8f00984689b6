//! A team's box style: how far its boxes reach beyond the ink they enclose, per side, as a
//! fraction of the ink's line height (so one style fits small print and headings alike).

use serde::{Deserialize, Serialize};

use super::TimestampMs;

/// Padding per side beyond the ink, in line heights (the ink's height): `top: 0.2` on a line
/// whose ink is 30 px tall puts the box's top edge 6 px above the ink.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct BoxStyle {
    pub left: f32,
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
}

impl BoxStyle {
    /// The most padding a side may have, in line heights (more is a box around a paragraph,
    /// not a line).
    pub const MAX_PADDING: f32 = 2.0;

    pub const fn new(left: f32, top: f32, right: f32, bottom: f32) -> Self {
        Self { left, top, right, bottom }
    }

    pub fn sides(&self) -> [f32; 4] {
        [self.left, self.top, self.right, self.bottom]
    }

    /// Why this style cannot be used, if it cannot: every side finite, 0 to
    /// [`Self::MAX_PADDING`].
    pub fn problem(&self) -> Option<String> {
        let bad = self.sides().into_iter().find(|v| !(v.is_finite() && (0.0..=Self::MAX_PADDING).contains(v)))?;
        Some(format!("padding {bad} is outside 0–{} line heights", Self::MAX_PADDING))
    }

    /// Parses `L,T,R,B` (fractions of the line height), e.g. `0.1,0.2,0.1,0.2`.
    pub fn parse(s: &str) -> Result<BoxStyle, String> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let [l, t, r, b] = parts.as_slice() else {
            return Err(format!("'{s}': expected four paddings L,T,R,B in line heights, e.g. 0.1,0.2,0.1,0.2"));
        };
        let num = |v: &str| v.parse::<f32>().map_err(|_| format!("'{v}' is not a number (in '{s}')"));
        let style = BoxStyle::new(num(l)?, num(t)?, num(r)?, num(b)?);
        match style.problem() {
            Some(why) => Err(format!("'{s}': {why}")),
            None => Ok(style),
        }
    }
}

impl std::fmt::Display for BoxStyle {
    /// `L,T,R,B` as `parse` reads it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3},{:.3},{:.3},{:.3}", self.left, self.top, self.right, self.bottom)
    }
}

/// Whether a caption and its value on one line ("VAT 20 %", "BIC: COBADEFFXXX") are one box
/// or two. Teams differ: SROIE's receipts keep `CASHIER: NICOLE` whole, many invoice teams
/// box the caption and the value apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptionConvention {
    /// One box for caption and value.
    Joined,
    /// A box for the caption and another for the value.
    Split,
}

impl CaptionConvention {
    pub const ALL: [CaptionConvention; 2] = [CaptionConvention::Joined, CaptionConvention::Split];

    /// The name `parse` reads and settings print.
    pub fn as_str(self) -> &'static str {
        match self {
            CaptionConvention::Joined => "joined",
            CaptionConvention::Split => "split",
        }
    }

    pub fn parse(s: &str) -> Option<CaptionConvention> {
        Self::ALL.into_iter().find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// What accepted boxes showed about [`CaptionConvention`]: boxes holding a caption and its
/// value, and caption boxes with their value in a box of its own just right of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaptionEvidence {
    pub joined: usize,
    pub split: usize,
}

impl CaptionEvidence {
    /// Fewer observations than this and no convention is decided: a handful of captions may
    /// be one document's layout, not the team's habit.
    pub const MIN_OBSERVATIONS: usize = 5;
    /// One way must be seen at least this many times as often as the other: a team boxes
    /// captions one way, with the odd slip; evidence nearer even is no convention.
    pub const DOMINANCE: usize = 2;

    /// The convention this evidence shows, `None` while undecided (too little, or mixed).
    pub fn convention(&self) -> Option<CaptionConvention> {
        if self.joined + self.split < Self::MIN_OBSERVATIONS {
            None
        } else if self.split >= Self::DOMINANCE * self.joined {
            Some(CaptionConvention::Split)
        } else if self.joined >= Self::DOMINANCE * self.split {
            Some(CaptionConvention::Joined)
        } else {
            None
        }
    }
}

impl std::ops::AddAssign for CaptionEvidence {
    fn add_assign(&mut self, o: CaptionEvidence) {
        self.joined += o.joined;
        self.split += o.split;
    }
}

impl std::ops::Add for CaptionEvidence {
    type Output = CaptionEvidence;
    fn add(mut self, o: CaptionEvidence) -> CaptionEvidence {
        self += o;
        self
    }
}

impl std::iter::Sum for CaptionEvidence {
    fn sum<I: Iterator<Item = CaptionEvidence>>(iter: I) -> Self {
        iter.fold(CaptionEvidence::default(), |a, e| a + e)
    }
}

/// A style learned from a workspace's accepted boxes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnedBoxStyle {
    pub style: BoxStyle,
    /// Boxes it was learned from (those with clear ink).
    pub samples: usize,
    /// The reviewed dataset version it learned from (see the store's `reviewed_dataset`).
    pub dataset: String,
    pub learned_ms: TimestampMs,
    /// What the accepted boxes showed about captions and values; `None` when learned by a
    /// version that did not look (stored before captions were learned: learn again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captions: Option<CaptionEvidence>,
}

impl LearnedBoxStyle {
    /// The caption convention learned, if the evidence decided one.
    pub fn caption_convention(&self) -> Option<CaptionConvention> {
        self.captions.as_ref().and_then(CaptionEvidence::convention)
    }
}

/// A workspace's box style: what it learned and what a lead set by hand, kept apart so that
/// learning never overwrites a lead's choice.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WorkspaceBoxStyle {
    pub learned: Option<LearnedBoxStyle>,
    pub set: Option<BoxStyle>,
    /// A lead's caption convention (`None`: the learned one, if any).
    pub set_captions: Option<CaptionConvention>,
}

impl WorkspaceBoxStyle {
    /// The style in force: a lead's, else the learned one.
    pub fn effective(&self) -> Option<BoxStyle> {
        self.set.or(self.learned.as_ref().map(|l| l.style))
    }

    /// The caption convention in force: a lead's, else the learned one (`None`: undecided,
    /// suggestions stay as the source reads them).
    pub fn captions(&self) -> Option<CaptionConvention> {
        self.set_captions.or(self.learned.as_ref().and_then(LearnedBoxStyle::caption_convention))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_paddings_parse_and_print_back() {
        let s = BoxStyle::parse("0.1, 0.2,0.15,0.25").unwrap();
        assert_eq!(s, BoxStyle::new(0.1, 0.2, 0.15, 0.25));
        assert_eq!(BoxStyle::parse(&s.to_string()).unwrap(), s);
        for bad in ["0.1,0.2,0.1", "0.1,0.2,x,0.1", "0.1,0.2,0.1,-0.1", "0.1,0.2,0.1,3", "0.1,NaN,0.1,0.1", ""] {
            assert!(BoxStyle::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_hand_set_style_wins_over_the_learned_one() {
        let learned = LearnedBoxStyle {
            style: BoxStyle::new(0.1, 0.1, 0.1, 0.1),
            samples: 30,
            dataset: "3 docs @ edit 9".into(),
            learned_ms: 1,
            captions: Some(CaptionEvidence { joined: 1, split: 9 }),
        };
        let mut ws = WorkspaceBoxStyle { learned: Some(learned), set: None, set_captions: None };
        assert_eq!(ws.effective(), Some(BoxStyle::new(0.1, 0.1, 0.1, 0.1)));
        assert_eq!(ws.captions(), Some(CaptionConvention::Split));
        ws.set = Some(BoxStyle::new(0.3, 0.0, 0.3, 0.0));
        ws.set_captions = Some(CaptionConvention::Joined);
        assert_eq!(ws.effective(), Some(BoxStyle::new(0.3, 0.0, 0.3, 0.0)));
        assert_eq!(ws.captions(), Some(CaptionConvention::Joined));
    }

    #[test]
    fn a_convention_needs_enough_evidence_and_one_way_clearly_ahead() {
        let ev = |joined, split| CaptionEvidence { joined, split }.convention();
        assert_eq!(ev(0, 4), None, "too few");
        assert_eq!(ev(0, 5), Some(CaptionConvention::Split));
        assert_eq!(ev(3, 6), Some(CaptionConvention::Split));
        assert_eq!(ev(4, 7), None, "mixed");
        assert_eq!(ev(7, 4), None, "mixed");
        assert_eq!(ev(12, 1), Some(CaptionConvention::Joined));
        assert_eq!(ev(0, 0), None);
        assert_eq!(
            [CaptionEvidence { joined: 1, split: 2 }; 3].into_iter().sum::<CaptionEvidence>(),
            CaptionEvidence { joined: 3, split: 6 }
        );
        for c in CaptionConvention::ALL {
            assert_eq!(CaptionConvention::parse(c.as_str()), Some(c));
        }
        assert_eq!(CaptionConvention::parse("both"), None);
    }

    #[test]
    fn a_learned_style_stored_before_captions_were_learned_still_loads() {
        // meta `box_style_learned` as versions without caption learning wrote it
        let old = r#"{"style":{"left":0.1,"top":0.05,"right":0.12,"bottom":0.04},"samples":42,"dataset":"1 docs @ edit 3","learned_ms":7}"#;
        let l: LearnedBoxStyle = serde_json::from_str(old).unwrap();
        assert_eq!(l.style, BoxStyle::new(0.1, 0.05, 0.12, 0.04));
        assert_eq!((l.samples, l.captions, l.caption_convention()), (42, None, None));
        // and what this version writes reads back, evidence and all
        let new = LearnedBoxStyle { captions: Some(CaptionEvidence { joined: 14, split: 0 }), ..l };
        let json = serde_json::to_string(&new).unwrap();
        assert!(json.contains(r#""captions":{"joined":14,"split":0}"#), "{json}");
        let back: LearnedBoxStyle = serde_json::from_str(&json).unwrap();
        assert_eq!(back, new);
        assert_eq!(back.caption_convention(), Some(CaptionConvention::Joined));
        assert_eq!(serde_json::to_string(&CaptionConvention::Split).unwrap(), r#""split""#);
    }
}
