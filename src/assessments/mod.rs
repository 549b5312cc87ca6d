//! The assessment lifecycle: created (the candidate is invited) and written back to Lever as a
//! link, a progress tag and a note; then started, saved and submitted on the candidate's pages
//! under the [`TakeHomeTerms`] it was sent with; then scored by a reviewer, each step after the
//! invitation written back to Lever by [`progress_write_back`].

pub mod attempt;
pub mod create;
pub mod emails;
pub mod feedback_form;
pub mod invite_again;
pub mod progress_write_back;
pub mod question_choice;
pub mod record;
pub mod report;
pub mod result_write_back;
pub mod saves;
pub mod scoring;
pub mod state;
pub mod terms;
pub mod trigger;
pub mod withdrawal;
pub mod write_back;

pub use state::{AssessmentState, InvalidTransition};
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
