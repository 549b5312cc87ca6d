//! The Lever write-back steps an assessment goes through after its invitation (each a
//! [`WriteBackStep`]): the progress tags they write, and how each reads on the assessment's
//! timeline. Both the write-back and the pages that show it read them here.

use super::{AssessmentState, INVITED, INVITE_FAILED};
use crate::domain::{OrgSettings, WriteBackStep};

/// The progress tag of a started assessment: `{prefix}: Assessment in Progress`.
pub const IN_PROGRESS: &str = "Assessment in Progress";
/// The progress tag of a submitted assessment, until its grade or a reviewer's score:
/// `{prefix}: Submitted`.
pub const SUBMITTED: &str = "Submitted";
pub const PASSED: &str = "Passed";
pub const FAILED: &str = "Failed";
pub const EXPIRED: &str = "Expired";
/// The progress tag of a withdrawn assessment (its candidate was archived, hired or deleted).
pub const CANCELLED: &str = "Cancelled";

/// The progress tag of a scored assessment.
pub fn result_progress(state: AssessmentState) -> Option<&'static str> {
    match state {
        AssessmentState::Passed => Some(PASSED),
        AssessmentState::Failed => Some(FAILED),
        AssessmentState::Expired => Some(EXPIRED),
        _ => None,
    }
}

/// What a step writes, for a sentence saying it was not written.
pub fn refused_step(step: WriteBackStep) -> &'static str {
    match step {
        WriteBackStep::FeedbackForm => "the feedback form",
        WriteBackStep::ReportFile => "the PDF report",
        _ => "a write-back step",
    }
}

/// A write-back step of an assessment now in `state`, in words, for its timeline;
/// `stage_name` names a stage id.
pub fn step_label(
    step: WriteBackStep,
    state: AssessmentState,
    settings: &OrgSettings,
    stage_name: &dyn Fn(&str) -> Option<String>,
) -> String {
    let tag = |progress: &str| settings.progress_tag(progress);
    match step {
        WriteBackStep::Link => "Link added to the candidate's Lever profile".into(),
        WriteBackStep::InvitedTag => format!("Tag “{}” added in Lever", tag(INVITED)),
        WriteBackStep::InviteFailedTag => {
            format!("Tag “{}” added in Lever", tag(INVITE_FAILED))
        }
        WriteBackStep::InvitationNote => "Invitation note written in Lever".into(),
        WriteBackStep::InProgressTag => format!(
            "Tag “{}” replaced “{}” in Lever",
            tag(IN_PROGRESS),
            tag(INVITED)
        ),
        WriteBackStep::SubmittedTag => format!(
            "Tag “{}” replaced the progress tag in Lever",
            tag(SUBMITTED)
        ),
        WriteBackStep::ResultTag => match result_progress(state) {
            Some(result) => format!("Tag “{}” replaced the progress tag in Lever", tag(result)),
            None => "Result tag replaced the progress tag in Lever".into(),
        },
        WriteBackStep::Unlink => "Link removed from the candidate's Lever profile".into(),
        WriteBackStep::CancelledTag => format!(
            "Tag “{}” replaced the progress tag in Lever",
            tag(CANCELLED)
        ),
        WriteBackStep::ResultNote => "Result note written in Lever".into(),
        WriteBackStep::CancelledNote => "Withdrawal note written in Lever".into(),
        WriteBackStep::FeedbackForm => "Feedback form submitted in Lever".into(),
        WriteBackStep::ReportFile => "PDF report attached in Lever".into(),
        WriteBackStep::PassStage => match settings.pass_stage_id.as_deref().and_then(stage_name) {
            Some(name) => format!("Moved to the stage “{name}” in Lever"),
            None => "Moved to the stage for passing candidates in Lever".into(),
        },
    }
}
