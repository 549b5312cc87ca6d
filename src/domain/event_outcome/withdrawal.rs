//! What a candidate leaving the pipeline came to.

use std::fmt;

use super::capitalise;
use crate::domain::{AssessmentState, DeliveryStatus, LeftPipeline};

/// A withdrawal's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WithdrawalOutcome {
    /// No assessment or choice was ever made for the candidate.
    NothingHeld { opportunity_id: String },
    /// Lever shows the candidate not archived (restored since?).
    NotArchivedInLever,
    /// Lever still shows the opportunity a deletion was delivered for.
    StillInLever { opportunity_id: String },
    /// What was withdrawn, kept, written and erased (maybe nothing).
    Withdrew(WithdrawalReport),
}

/// What one withdrawal did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WithdrawalReport {
    pub left: LeftPipeline,
    /// The withdrawn assessments, by the state they were in.
    pub assessments: Vec<AssessmentState>,
    /// Recruiter's choices withdrawn before a member chose.
    pub choices: usize,
    /// What Lever got, when something was withdrawn.
    pub written: Option<LeverWritten>,
    /// The candidate's assessments left as they were.
    pub kept: Vec<AssessmentState>,
    /// What a deletion erased.
    pub erased: Option<Erased>,
}

/// What a withdrawal wrote to Lever.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeverWritten {
    /// Lever no longer has the opportunity: nothing was written.
    pub gone: bool,
    pub cancelled_tag: String,
    pub tagging: Tagging,
    /// The Lever user written as.
    pub author: String,
}

/// What a withdrawal asks of Lever besides taking links off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tagging {
    /// Only recruiter's choices were withdrawn: they carry no progress tag.
    NoAssessment,
    /// An assessment was withdrawn; progress tags are on (true) or off on the Settings page.
    Assessment(bool),
}

/// What an erasure removed, for the event's outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Erased {
    pub assessments: usize,
    pub saves: usize,
    pub deliveries: usize,
    /// Recruiter's choices (made, withdrawn or waiting) whose name was erased.
    pub choices: usize,
}

impl WithdrawalOutcome {
    pub fn status(&self) -> DeliveryStatus {
        match self {
            WithdrawalOutcome::Withdrew(report)
                if !(report.assessments.is_empty()
                    && report.choices == 0
                    && report.erased.is_none()) =>
            {
                DeliveryStatus::Withdrawn
            }
            _ => DeliveryStatus::Ignored,
        }
    }
}

impl fmt::Display for WithdrawalOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WithdrawalOutcome::NothingHeld { opportunity_id } => write!(
                f,
                "leverbridge holds nothing about opportunity {opportunity_id}: no assessment was created for this candidate (none fired, or not yet); nothing was written."
            ),
            WithdrawalOutcome::NotArchivedInLever => f.write_str(
                "Lever shows the candidate not archived (restored since?), and a webhook's data is not signed, so Lever decides; nothing was withdrawn.",
            ),
            WithdrawalOutcome::StillInLever { opportunity_id } => write!(
                f,
                "Lever still shows opportunity {opportunity_id}, and a webhook's data is not signed, so Lever decides; nothing was withdrawn or erased."
            ),
            WithdrawalOutcome::Withdrew(report) => report.fmt(f),
        }
    }
}

impl fmt::Display for LeverWritten {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (tag, author) = (&self.cancelled_tag, &self.author);
        match self.tagging {
            _ if self.gone => {
                f.write_str("Lever no longer has the opportunity, so nothing was written there")
            }
            Tagging::Assessment(true) => {
                write!(f, "its link removed and the tag “{tag}” written in Lever as {author}")
            }
            Tagging::Assessment(false) => write!(f, "its link removed in Lever as {author} (progress tags are switched off on the Settings page)"),
            Tagging::NoAssessment => write!(f, "its link removed in Lever as {author}"),
        }
    }
}

impl fmt::Display for WithdrawalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = capitalise(self.left.because());
        let mut what = Vec::new();
        if !self.assessments.is_empty() {
            let was: Vec<String> = self
                .assessments
                .iter()
                .map(|s| s.label().to_lowercase())
                .collect();
            what.push(format!(
                "{} withdrawn (it was {})",
                count(self.assessments.len(), "assessment", "assessments"),
                was.join(", ")
            ));
        }
        if self.choices > 0 {
            what.push(format!(
                "{} withdrawn before a member chose the question",
                count(self.choices, "recruiter's choice", "recruiter's choices"),
            ));
        }
        if what.is_empty() {
            text.push_str(": nothing was left to withdraw");
        } else {
            let written = self
                .written
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            text.push_str(&format!(": {}; {written}", what.join(", and ")));
        }
        text.push('.');
        if !self.kept.is_empty() {
            let kept: Vec<String> = self.kept.iter().map(|s| kept_as(*s)).collect();
            text.push_str(&format!(" Kept: {}.", kept.join(", ")));
        }
        if let Some(erased) = &self.erased {
            text.push_str(&format!(" Erased from leverbridge: {erased}."));
        }
        f.write_str(&text)
    }
}

impl fmt::Display for Erased {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut what = Vec::new();
        if self.assessments > 0 {
            what.push(format!(
                "the name, score and saves ({}) of {}",
                count(self.saves, "save", "saves"),
                count(self.assessments, "assessment", "assessments"),
            ));
        }
        if self.choices > 0 {
            what.push(format!(
                "the name on {}",
                count(self.choices, "recruiter's choice", "recruiter's choices")
            ));
        }
        what.push(format!(
            "the details of {}",
            count(self.deliveries, "delivery", "deliveries")
        ));
        let last = what.pop().unwrap_or_default();
        if what.is_empty() {
            f.write_str(&last)
        } else {
            write!(f, "{}, and {last}", what.join(", "))
        }
    }
}

/// A finished or kept assessment's state, in words.
fn kept_as(state: AssessmentState) -> String {
    match state {
        AssessmentState::Submitted => "submitted (kept, so it can still be scored)".into(),
        AssessmentState::Cancelled => "withdrawn already".into(),
        other => other.label().to_lowercase(),
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(gone: bool, tag: &str, tagging: Tagging) -> Option<LeverWritten> {
        Some(LeverWritten {
            gone,
            cancelled_tag: tag.into(),
            tagging,
            author: "Bot".into(),
        })
    }

    #[test]
    fn the_outcome_says_what_was_withdrawn_kept_and_erased() {
        let text = WithdrawalReport {
            left: LeftPipeline::Archived,
            assessments: vec![AssessmentState::Started],
            choices: 0,
            written: written(false, "lb: Cancelled", Tagging::Assessment(true)),
            kept: vec![AssessmentState::Submitted],
            erased: None,
        }
        .to_string();
        assert_eq!(
            text,
            "The candidate was archived in Lever: 1 assessment withdrawn (it was in progress); \
             its link removed and the tag “lb: Cancelled” written in Lever as Bot. \
             Kept: submitted (kept, so it can still be scored)."
        );
        let erased = Erased {
            assessments: 2,
            saves: 3,
            deliveries: 1,
            choices: 0,
        };
        let text = WithdrawalReport {
            left: LeftPipeline::Deleted,
            assessments: Vec::new(),
            choices: 0,
            written: written(true, "x", Tagging::Assessment(true)),
            kept: Vec::new(),
            erased: Some(erased),
        }
        .to_string();
        assert!(text.starts_with("The candidate was deleted in Lever: nothing was left to withdraw. Erased from leverbridge: the name, score and saves (3 saves) of 2 assessments, and the details of 1 delivery."), "{text}");
        let text = WithdrawalReport {
            left: LeftPipeline::Hired,
            assessments: Vec::new(),
            choices: 1,
            written: written(false, "x", Tagging::NoAssessment),
            kept: Vec::new(),
            erased: None,
        }
        .to_string();
        assert_eq!(
            text,
            "The candidate was hired in Lever: 1 recruiter's choice withdrawn before a member \
             chose the question; its link removed in Lever as Bot."
        );
        let only_a_choice = Erased {
            assessments: 0,
            saves: 0,
            deliveries: 2,
            choices: 1,
        };
        let text = WithdrawalReport {
            left: LeftPipeline::Deleted,
            assessments: Vec::new(),
            choices: 1,
            written: written(true, "x", Tagging::NoAssessment),
            kept: Vec::new(),
            erased: Some(only_a_choice),
        }
        .to_string();
        assert!(text.ends_with("so nothing was written there. Erased from leverbridge: the name on 1 recruiter's choice, and the details of 2 deliveries."), "{text}");
    }
}
