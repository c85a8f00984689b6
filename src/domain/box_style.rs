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

/// A style learned from a workspace's accepted boxes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnedBoxStyle {
    pub style: BoxStyle,
    /// Boxes it was learned from (those with clear ink).
    pub samples: usize,
    /// The reviewed dataset version it learned from (see the store's `reviewed_dataset`).
    pub dataset: String,
    pub learned_ms: TimestampMs,
}

/// A workspace's box style: what it learned and what a lead set by hand, kept apart so that
/// learning never overwrites a lead's choice.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WorkspaceBoxStyle {
    pub learned: Option<LearnedBoxStyle>,
    pub set: Option<BoxStyle>,
}

impl WorkspaceBoxStyle {
    /// The style in force: a lead's, else the learned one.
    pub fn effective(&self) -> Option<BoxStyle> {
        self.set.or(self.learned.as_ref().map(|l| l.style))
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
        };
        let mut ws = WorkspaceBoxStyle { learned: Some(learned), set: None };
        assert_eq!(ws.effective(), Some(BoxStyle::new(0.1, 0.1, 0.1, 0.1)));
        ws.set = Some(BoxStyle::new(0.3, 0.0, 0.3, 0.0));
        assert_eq!(ws.effective(), Some(BoxStyle::new(0.3, 0.0, 0.3, 0.0)));
    }
}
