//! A reviewer scores a submitted assessment: a score 0–100, passed or failed (derived from the
//! organization's pass mark when the reviewer leaves it to the score) and an optional failure
//! reason. Scoring moves the assessment from submitted to passed or failed, once, and queues
//! its write-back to Lever in the same transaction.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use super::{progress_write_back, AssessmentState};
use crate::db::assessments::{self, Assessment};
use crate::db::connection::write_transaction;
use crate::db::DbConn;

/// The longest failure reason, in characters.
pub const MAX_FAILURE_REASON: usize = 2000;

/// A score as the reviewer typed it, not yet checked.
#[derive(Clone, Debug, Default)]
pub struct ScoreInput<'a> {
    pub score: &'a str,
    /// `passed`, `failed`, or empty to derive it from the pass mark.
    pub result: &'a str,
    pub failure_reason: &'a str,
}

/// A checked score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub score: i32,
    /// Passed or Failed.
    pub result: AssessmentState,
    pub failure_reason: Option<String>,
}

/// What is wrong with each field, by its name.
pub type FieldErrors = BTreeMap<&'static str, String>;

/// Why a score was not recorded. Nothing changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    #[error("The score was not saved: correct the fields marked below.")]
    Invalid(FieldErrors),
    #[error("This assessment is {}, not submitted: only a submitted assessment can be scored. Nothing was changed.", .0.label().to_lowercase())]
    NotSubmitted(AssessmentState),
    #[error("This assessment was already scored ({}); a score cannot be changed. Nothing was changed.", .0.label().to_lowercase())]
    AlreadyScored(AssessmentState),
    #[error("There is no such assessment.")]
    Missing,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Checks every field, so the form can show every problem at once. An empty result is derived
/// from the score: passed at `pass_mark` or above.
pub fn check(input: &ScoreInput<'_>, pass_mark: u32) -> Result<Verdict, FieldErrors> {
    let mut errors = FieldErrors::new();
    let raw = input.score.trim();
    let score = match raw.parse::<i64>() {
        _ if raw.is_empty() => {
            errors.insert("score", "Enter a score from 0 to 100.".into());
            None
        }
        Ok(n) if (0..=100).contains(&n) => Some(n as i32),
        Ok(_) => {
            errors.insert(
                "score",
                format!("The score must be from 0 to 100; “{raw}” is not."),
            );
            None
        }
        Err(_) => {
            errors.insert(
                "score",
                format!("The score must be a whole number from 0 to 100; “{raw}” is not."),
            );
            None
        }
    };
    let result = match (input.result.trim(), score) {
        ("passed", _) => Some(AssessmentState::Passed),
        ("failed", _) => Some(AssessmentState::Failed),
        ("", Some(score)) => Some(if score >= pass_mark as i32 {
            AssessmentState::Passed
        } else {
            AssessmentState::Failed
        }),
        ("", None) => {
            errors.insert(
                "result",
                format!(
                    "Choose passed or failed: without a valid score the result cannot be derived from the pass mark ({pass_mark})."
                ),
            );
            None
        }
        (other, _) => {
            errors.insert(
                "result",
                format!("“{other}” is not a result: choose passed or failed."),
            );
            None
        }
    };
    let reason = input.failure_reason.replace("\r\n", "\n");
    let reason = reason.trim();
    let length = reason.chars().count();
    if length > MAX_FAILURE_REASON {
        errors.insert(
            "failure_reason",
            format!(
                "Keep the failure reason to {MAX_FAILURE_REASON} characters or fewer (this one has {length})."
            ),
        );
    } else if !reason.is_empty() && result == Some(AssessmentState::Passed) {
        errors.insert(
            "failure_reason",
            "A passed assessment has no failure reason: clear it, or choose failed.".into(),
        );
    }
    match (score, result) {
        (Some(score), Some(result)) if errors.is_empty() => Ok(Verdict {
            score,
            result,
            failure_reason: (!reason.is_empty()).then(|| reason.to_owned()),
        }),
        _ => Err(errors),
    }
}

/// Records `verdict` on the organization's assessment `id` if it is submitted, and queues its
/// write-back to Lever (`max_attempts` attempts) in the same transaction.
pub fn score(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    verdict: &Verdict,
    scored_by: &str,
    now: NaiveDateTime,
    max_attempts: i32,
) -> Result<Assessment, ScoringError> {
    write_transaction(conn, |conn| {
        let mut assessment =
            assessments::find_for_update(conn, org_id, id)?.ok_or(ScoringError::Missing)?;
        let from = assessment.state;
        let to = match from {
            AssessmentState::Passed | AssessmentState::Failed => {
                return Err(ScoringError::AlreadyScored(from))
            }
            _ => from
                .advance(verdict.result)
                .map_err(|_| ScoringError::NotSubmitted(from))?,
        };
        assessments::record_score(
            conn,
            &assessment.id,
            to,
            verdict.score,
            verdict.failure_reason.as_deref(),
            scored_by,
            now,
        )?;
        assessment.state = to;
        progress_write_back::enqueue(conn, &assessment, max_attempts)?;
        Ok(assessment)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(score: &'a str, result: &'a str, reason: &'a str) -> ScoreInput<'a> {
        ScoreInput {
            score,
            result,
            failure_reason: reason,
        }
    }

    #[test]
    fn an_empty_result_is_derived_from_the_pass_mark() {
        let passed = check(&input(" 70 ", "", ""), 70).unwrap();
        assert_eq!((passed.score, passed.result), (70, AssessmentState::Passed));
        let failed = check(&input("69", "", "Off by one"), 70).unwrap();
        assert_eq!(failed.result, AssessmentState::Failed);
        assert_eq!(failed.failure_reason.as_deref(), Some("Off by one"));
        let chosen = check(&input("20", "passed", "  "), 70).unwrap();
        assert_eq!(chosen.result, AssessmentState::Passed);
        assert_eq!(chosen.failure_reason, None);
    }

    #[test]
    fn bad_fields_are_each_refused() {
        for bad in ["101", "-1", "eighty", "8.5", ""] {
            let errors = check(&input(bad, "passed", ""), 70).unwrap_err();
            assert!(errors.contains_key("score"), "{bad}: {errors:?}");
        }
        let errors = check(&input("abc", "", ""), 70).unwrap_err();
        assert!(errors["result"].contains("cannot be derived"), "{errors:?}");
        let errors = check(&input("50", "maybe", ""), 70).unwrap_err();
        assert!(errors.contains_key("result"));
        let long = "x".repeat(MAX_FAILURE_REASON + 1);
        let errors = check(&input("50", "failed", &long), 70).unwrap_err();
        assert!(errors["failure_reason"].contains("2001"), "{errors:?}");
        let errors = check(&input("90", "", "why"), 70).unwrap_err();
        assert!(errors["failure_reason"].contains("no failure reason"));
        let exact = "é".repeat(MAX_FAILURE_REASON);
        assert!(check(&input("50", "failed", &exact), 70).is_ok());
    }
}
