//! The Lever write-back steps of an assessment, each recorded once done
//! (`assessment_steps.step`) and, for those that create something in Lever, once begun
//! (`assessment_step_attempts.step`).

use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;

/// One thing written to a candidate's Lever profile for an assessment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum WriteBackStep {
    /// The assessment's link added to the profile.
    Link,
    /// The progress tag `Candidate Invited`.
    InvitedTag,
    /// The progress tag `Invite Failed`, written instead when the invitation had no address.
    InviteFailedTag,
    /// The invitation note.
    InvitationNote,
    /// The progress tag of a started assessment.
    InProgressTag,
    /// The progress tag of a submitted assessment awaiting its grade or its reviewer.
    SubmittedTag,
    /// The result's progress tag (passed, failed, expired).
    ResultTag,
    /// The result note.
    ResultNote,
    /// The feedback form, filled in with the score.
    FeedbackForm,
    /// The PDF report, attached as a file.
    ReportFile,
    /// A passing candidate moved to the stage for passing candidates.
    PassStage,
    /// A withdrawn assessment's link removed.
    Unlink,
    /// The progress tag of a withdrawn assessment.
    CancelledTag,
    /// The note saying why an assessment was withdrawn.
    CancelledNote,
}

impl WriteBackStep {
    pub const ALL: [WriteBackStep; 14] = [
        WriteBackStep::Link,
        WriteBackStep::InvitedTag,
        WriteBackStep::InviteFailedTag,
        WriteBackStep::InvitationNote,
        WriteBackStep::InProgressTag,
        WriteBackStep::SubmittedTag,
        WriteBackStep::ResultTag,
        WriteBackStep::ResultNote,
        WriteBackStep::FeedbackForm,
        WriteBackStep::ReportFile,
        WriteBackStep::PassStage,
        WriteBackStep::Unlink,
        WriteBackStep::CancelledTag,
        WriteBackStep::CancelledNote,
    ];

    /// The stored name. Stored rows keep it, so it never changes.
    pub const fn as_str(self) -> &'static str {
        match self {
            WriteBackStep::Link => "link",
            WriteBackStep::InvitedTag => "tag",
            WriteBackStep::InviteFailedTag => "tag_invite_failed",
            WriteBackStep::InvitationNote => "note",
            WriteBackStep::InProgressTag => "tag_in_progress",
            WriteBackStep::SubmittedTag => "tag_submitted",
            WriteBackStep::ResultTag => "tag_result",
            WriteBackStep::ResultNote => "result_note",
            WriteBackStep::FeedbackForm => "feedback_form",
            WriteBackStep::ReportFile => "report_file",
            WriteBackStep::PassStage => "pass_stage",
            WriteBackStep::Unlink => "unlink",
            WriteBackStep::CancelledTag => "tag_cancelled",
            WriteBackStep::CancelledNote => "cancelled_note",
        }
    }
}

crate::stored_as_text!(WriteBackStep, "write-back step", display);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_stored_names_are_not_read() {
        assert_eq!(WriteBackStep::from_stored("feedback"), None);
    }
}
