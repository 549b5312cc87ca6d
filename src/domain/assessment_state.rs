//! Where an assessment stands: invited → started → submitted → passed / failed, or expired or
//! cancelled before it is finished. Stored as its `as_str` text; an unknown stored text is an
//! error when the row is read.

use std::fmt;

/// The lifecycle of an assessment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum AssessmentState {
    /// Created and its link sent; the candidate has not begun.
    Invited,
    /// The candidate began: the clock runs.
    Started,
    /// Handed in (by the candidate, or by the deadline); waiting for its score.
    Submitted,
    Passed,
    Failed,
    /// Not started in time, or not handed in by its deadline with nothing saved.
    Expired,
    /// Withdrawn: the candidate was archived, hired or deleted in Lever first.
    Cancelled,
}

/// A change of state the lifecycle does not allow.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("an assessment that is {} cannot become {}", .from.label(), .to.label())]
pub struct InvalidTransition {
    pub from: AssessmentState,
    pub to: AssessmentState,
}

impl AssessmentState {
    pub const ALL: [AssessmentState; 7] = [
        AssessmentState::Invited,
        AssessmentState::Started,
        AssessmentState::Submitted,
        AssessmentState::Passed,
        AssessmentState::Failed,
        AssessmentState::Expired,
        AssessmentState::Cancelled,
    ];

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            AssessmentState::Invited => "invited",
            AssessmentState::Started => "started",
            AssessmentState::Submitted => "submitted",
            AssessmentState::Passed => "passed",
            AssessmentState::Failed => "failed",
            AssessmentState::Expired => "expired",
            AssessmentState::Cancelled => "cancelled",
        }
    }

    /// Reads the stored text (or a filter's value); `None` for anything else.
    pub fn parse(raw: &str) -> Option<AssessmentState> {
        Self::from_stored(raw)
    }

    /// For pages.
    pub fn label(self) -> &'static str {
        match self {
            AssessmentState::Invited => "Invited",
            AssessmentState::Started => "In progress",
            AssessmentState::Submitted => "Submitted",
            AssessmentState::Passed => "Passed",
            AssessmentState::Failed => "Failed",
            AssessmentState::Expired => "Expired",
            AssessmentState::Cancelled => "Cancelled",
        }
    }

    /// Nothing more happens to a finished assessment.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            AssessmentState::Passed
                | AssessmentState::Failed
                | AssessmentState::Expired
                | AssessmentState::Cancelled
        )
    }

    /// Whether the candidate has begun (so an invitation must not be sent again).
    pub fn has_started(self) -> bool {
        !matches!(self, AssessmentState::Invited)
    }

    /// The state after moving to `to`, if the lifecycle allows it.
    pub fn advance(self, to: AssessmentState) -> Result<AssessmentState, InvalidTransition> {
        use AssessmentState::*;
        let allowed = matches!(
            (self, to),
            (Invited, Started)
                | (Started, Submitted)
                | (Submitted, Passed | Failed)
                | (Invited | Started, Expired)
                | (Invited | Started | Submitted, Cancelled)
        );
        if allowed {
            Ok(to)
        } else {
            Err(InvalidTransition { from: self, to })
        }
    }
}

crate::stored_as_text!(AssessmentState, "assessment state");

impl fmt::Display for AssessmentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::AssessmentState::*;
    use super::*;

    #[test]
    fn the_stored_text_round_trips() {
        assert_eq!(AssessmentState::parse("Invited"), None);
    }

    #[test]
    fn the_lifecycle_moves_forward_only() {
        assert_eq!(Invited.advance(Started), Ok(Started));
        assert_eq!(Started.advance(Submitted), Ok(Submitted));
        assert_eq!(Submitted.advance(Passed), Ok(Passed));
        assert_eq!(Submitted.advance(Failed), Ok(Failed));
        assert_eq!(Invited.advance(Expired), Ok(Expired));
        assert_eq!(Started.advance(Cancelled), Ok(Cancelled));
        let refused = Passed.advance(Failed).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "an assessment that is Passed cannot become Failed"
        );
        assert!(Invited.advance(Submitted).is_err(), "it must start first");
        assert!(Started.advance(Invited).is_err());
        for finished in [Passed, Failed, Expired, Cancelled] {
            assert!(finished.is_finished());
            for to in AssessmentState::ALL {
                assert!(finished.advance(to).is_err(), "{finished:?} → {to:?}");
            }
        }
    }
}
