//! Roles, the document life cycle and review verdicts.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Annotator,
    Reviewer,
    Lead,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Annotator, Role::Reviewer, Role::Lead];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Annotator => "annotator",
            Role::Reviewer => "reviewer",
            Role::Lead => "lead",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role '{s}' (expected annotator, reviewer or lead)"))
    }
}

/// Where a document is in its life: new → in_progress → submitted → in_review →
/// accepted | rejected → rework → submitted → …
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocStatus {
    New,
    InProgress,
    Submitted,
    InReview,
    Accepted,
    Rejected,
    Rework,
}

impl DocStatus {
    pub const ALL: [DocStatus; 7] = [
        DocStatus::New,
        DocStatus::InProgress,
        DocStatus::Submitted,
        DocStatus::InReview,
        DocStatus::Accepted,
        DocStatus::Rejected,
        DocStatus::Rework,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            DocStatus::New => "new",
            DocStatus::InProgress => "in_progress",
            DocStatus::Submitted => "submitted",
            DocStatus::InReview => "in_review",
            DocStatus::Accepted => "accepted",
            DocStatus::Rejected => "rejected",
            DocStatus::Rework => "rework",
        }
    }

    /// Human wording for lists and status lines.
    pub fn label(&self) -> &'static str {
        match self {
            DocStatus::New => "New",
            DocStatus::InProgress => "In progress",
            DocStatus::Submitted => "Submitted",
            DocStatus::InReview => "In review",
            DocStatus::Accepted => "Accepted",
            DocStatus::Rejected => "Rejected",
            DocStatus::Rework => "Rework",
        }
    }

    /// The transitions the life cycle allows (role rules are checked by the command layer).
    pub fn can_become(self, next: DocStatus) -> bool {
        use DocStatus::*;
        matches!(
            (self, next),
            (New, InProgress)
                | (New, Submitted)
                | (InProgress, Submitted)
                | (Submitted, InReview)
                | (Submitted, InProgress) // annotator withdraws before review starts
                | (InReview, Accepted)
                | (InReview, Rejected)
                | (InReview, Submitted) // reviewer puts it back in the queue
                | (Rejected, Rework)
                | (Rejected, Submitted)
                | (Rework, Submitted)
                | (Accepted, InReview) // a lead reopens accepted work
        )
    }

    /// Can the annotator still change boxes in this state?
    pub fn is_editable_by_annotator(self) -> bool {
        matches!(self, DocStatus::New | DocStatus::InProgress | DocStatus::Rejected | DocStatus::Rework)
    }
}

impl std::str::FromStr for DocStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        DocStatus::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| format!("unknown document status '{s}'"))
    }
}

/// A reviewer's verdict on one box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    WrongBox,
    WrongLabel,
    WrongText,
    /// The reviewer drew a box the annotator missed.
    Missing,
    /// The box should not exist.
    Spurious,
}

impl Verdict {
    pub const ALL: [Verdict; 6] =
        [Verdict::Ok, Verdict::WrongBox, Verdict::WrongLabel, Verdict::WrongText, Verdict::Missing, Verdict::Spurious];

    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::WrongBox => "wrong_box",
            Verdict::WrongLabel => "wrong_label",
            Verdict::WrongText => "wrong_text",
            Verdict::Missing => "missing",
            Verdict::Spurious => "spurious",
        }
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| format!("unknown verdict '{s}'"))
    }
}

/// A reviewer's verdict on a whole document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocVerdict {
    Accept,
    Reject,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in DocStatus::ALL {
            assert_eq!(s.as_str().parse::<DocStatus>().unwrap(), s);
        }
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        for v in Verdict::ALL {
            assert_eq!(v.as_str().parse::<Verdict>().unwrap(), v);
        }
    }

    #[test]
    fn life_cycle_allows_the_review_loop_and_refuses_shortcuts() {
        use DocStatus::*;
        let path = [New, InProgress, Submitted, InReview, Rejected, Rework, Submitted, InReview, Accepted];
        for w in path.windows(2) {
            assert!(w[0].can_become(w[1]), "{:?} -> {:?}", w[0], w[1]);
        }
        assert!(!New.can_become(Accepted));
        assert!(!InProgress.can_become(Accepted));
        assert!(!Submitted.can_become(Accepted));
        assert!(!Accepted.can_become(New));
        assert!(!Rework.can_become(Accepted));
    }
}
