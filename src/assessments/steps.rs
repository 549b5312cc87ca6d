//! The Lever write-back steps an assessment goes through after its invitation: their stored
//! names, the progress tags they write, and how each reads on the assessment's timeline. Both
//! the write-back and the pages that show it read them here.

use super::write_back;
use super::{AssessmentState, INVITED, INVITE_FAILED};
use crate::domain::OrgSettings;

/// The progress tag of a started assessment: `{prefix}: Assessment in Progress`.
pub const IN_PROGRESS: &str = "Assessment in Progress";
pub const PASSED: &str = "Passed";
pub const FAILED: &str = "Failed";
pub const EXPIRED: &str = "Expired";
/// The progress tag of a withdrawn assessment (its candidate was archived, hired or deleted).
pub const CANCELLED: &str = "Cancelled";

pub const STEP_IN_PROGRESS_TAG: &str = "tag_in_progress";
pub const STEP_RESULT_TAG: &str = "tag_result";
pub const STEP_RESULT_NOTE: &str = "result_note";
pub const STEP_PASS_STAGE: &str = "pass_stage";
pub const STEP_UNLINK: &str = "unlink";
pub const STEP_CANCELLED_TAG: &str = "tag_cancelled";

pub const STEP_FEEDBACK: &str = "feedback_form";
pub const STEP_REPORT: &str = "report_file";

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
pub fn refused_step(step: &str) -> &'static str {
    match step {
        STEP_FEEDBACK => "the feedback form",
        STEP_REPORT => "the PDF report",
        _ => "a write-back step",
    }
}

/// A write-back step of an assessment now in `state`, in words, for its timeline;
/// `stage_name` names a stage id.
pub fn step_label(
    step: &str,
    state: AssessmentState,
    settings: &OrgSettings,
    stage_name: &dyn Fn(&str) -> Option<String>,
) -> String {
    let tag = |progress: &str| settings.progress_tag(progress);
    match step {
        write_back::STEP_LINK => "Link added to the candidate's Lever profile".into(),
        write_back::STEP_TAG => format!("Tag “{}” added in Lever", tag(INVITED)),
        write_back::STEP_INVITE_FAILED_TAG => {
            format!("Tag “{}” added in Lever", tag(INVITE_FAILED))
        }
        write_back::STEP_NOTE => "Invitation note written in Lever".into(),
        STEP_IN_PROGRESS_TAG => format!(
            "Tag “{}” replaced “{}” in Lever",
            tag(IN_PROGRESS),
            tag(INVITED)
        ),
        STEP_RESULT_TAG => match result_progress(state) {
            Some(result) => format!("Tag “{}” replaced the progress tag in Lever", tag(result)),
            None => "Result tag replaced the progress tag in Lever".into(),
        },
        STEP_UNLINK => "Link removed from the candidate's Lever profile".into(),
        STEP_CANCELLED_TAG => format!(
            "Tag “{}” replaced the progress tag in Lever",
            tag(CANCELLED)
        ),
        STEP_RESULT_NOTE => "Result note written in Lever".into(),
        STEP_FEEDBACK => "Feedback form submitted in Lever".into(),
        STEP_REPORT => "PDF report attached in Lever".into(),
        STEP_PASS_STAGE => match settings.pass_stage_id.as_deref().and_then(stage_name) {
            Some(name) => format!("Moved to the stage “{name}” in Lever"),
            None => "Moved to the stage for passing candidates in Lever".into(),
        },
        other => format!("Lever write-back step “{other}” done"),
    }
}
