//! The assessment lifecycle. For now: created (the candidate is invited) and written back to
//! Lever as a link, a progress tag and a note.

pub mod state;
pub mod write_back;

pub use state::{AssessmentState, InvalidTransition};

/// The progress tag put on an opportunity when its assessment is created.
pub const INVITED_TAG: &str = "leverbridge: Candidate Invited";

/// The candidate's link to an assessment.
pub fn link(public_url: &url::Url, token: &str) -> String {
    format!("{}/a/{}", public_url.as_str().trim_end_matches('/'), token)
}
