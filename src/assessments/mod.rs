//! The assessment lifecycle: created (the candidate is invited) and written back to Lever as a
//! link, a progress tag and a note; then started, saved and submitted on the candidate's pages
//! under the [`TakeHomeTerms`] it was sent with; then scored by a reviewer, each step after the
//! invitation written back to Lever by [`progress_write_back`].

pub mod attempt;
pub mod case_summary;
pub mod create;
pub mod emails;
pub mod feedback_form;
pub mod grading;
pub mod invite_again;
pub mod overrides;
pub mod progress_write_back;
pub mod question_choice;
pub mod record;
pub mod report;
pub mod result_write_back;
pub mod runs;
pub mod saves;
pub mod scoring;
pub mod stage_change;
pub mod steps;
pub mod terms;
pub mod trigger;
pub mod withdrawal;
pub mod write_back;

pub use crate::domain::{AssessmentState, InvalidTransition};
pub use terms::TakeHomeTerms;

/// The progress an opportunity's tag shows once its assessment is created: the tag itself is
/// `{prefix}: Candidate Invited`, with the organization's prefix (`OrgSettings::progress_tag`).
pub const INVITED: &str = "Candidate Invited";

/// The progress the tag shows instead when the invitation email could not be sent (Lever lists
/// no email address): `{prefix}: Invite Failed`, replaced like any progress tag once the
/// candidate starts.
pub const INVITE_FAILED: &str = "Invite Failed";

/// The candidate's link to an assessment.
pub fn link(public_url: &url::Url, token: &str) -> String {
    format!("{}/a/{}", public_url.as_str().trim_end_matches('/'), token)
}

/// The organization's Lever account as a job writes to it (the job acquires the client, so
/// that its calls are recorded with the job).
pub struct LeverWriter<'a> {
    pub client: &'a crate::lever::LeverClient,
    /// The default Lever user, whom every write is performed as.
    pub perform_as: &'a str,
    /// The default user's name (or id when Lever gave none), for the outcome's sentence.
    pub author: &'a str,
}

/// Why a step of the lifecycle that talks to Lever stopped before its end; the job decides
/// whether to try again or wait for a person.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("database: {0}")]
    Database(#[from] crate::db::DbError),
    #[error(transparent)]
    Lever(#[from] crate::lever::LeverError),
    /// Trying again cannot help until a person acts (the report cannot be made, Lever refused
    /// a step for good).
    #[error("{0}")]
    NeedsPerson(String),
}

impl From<write_back::StepError> for LifecycleError {
    fn from(error: write_back::StepError) -> Self {
        match error {
            write_back::StepError::Lever(e) => LifecycleError::Lever(e),
            write_back::StepError::Database(e) => LifecycleError::Database(e),
        }
    }
}

impl From<result_write_back::ResultError> for LifecycleError {
    fn from(error: result_write_back::ResultError) -> Self {
        use result_write_back::ResultError;
        match error {
            ResultError::Lever(e) => LifecycleError::Lever(e),
            ResultError::Database(e) => LifecycleError::Database(e),
            e @ (ResultError::Report(_) | ResultError::Refused { .. }) => {
                LifecycleError::NeedsPerson(e.to_string())
            }
        }
    }
}
