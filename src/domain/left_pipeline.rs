//! How a candidate left the pipeline in Lever; what each way withdraws is told in
//! `assessments::withdrawal`.

use super::AssessmentState;

/// How the candidate left the pipeline, as stored in `assessments.cancel_reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeftPipeline {
    Archived,
    Hired,
    Deleted,
}

impl LeftPipeline {
    const ALL: [LeftPipeline; 3] = [
        LeftPipeline::Archived,
        LeftPipeline::Hired,
        LeftPipeline::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeftPipeline::Archived => "archived",
            LeftPipeline::Hired => "hired",
            LeftPipeline::Deleted => "deleted",
        }
    }

    pub fn parse(raw: &str) -> Option<LeftPipeline> {
        Self::ALL.into_iter().find(|left| left.as_str() == raw)
    }

    /// Why an assessment was withdrawn, in words.
    pub fn because(self) -> &'static str {
        match self {
            LeftPipeline::Archived => "the candidate was archived in Lever",
            LeftPipeline::Hired => "the candidate was hired in Lever",
            LeftPipeline::Deleted => "the candidate was deleted in Lever",
        }
    }

    /// Whether an assessment in `state` is withdrawn when its candidate leaves this way.
    pub fn withdraws(self, state: AssessmentState) -> bool {
        match state {
            AssessmentState::Invited | AssessmentState::Started => true,
            AssessmentState::Submitted => self == LeftPipeline::Deleted,
            AssessmentState::Passed
            | AssessmentState::Failed
            | AssessmentState::Expired
            | AssessmentState::Cancelled => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AssessmentState::*;
    use super::LeftPipeline::*;
    use super::*;

    #[test]
    fn only_unfinished_assessments_are_withdrawn() {
        for left in [Archived, Hired, Deleted] {
            assert_eq!(LeftPipeline::parse(left.as_str()), Some(left));
            assert!(left.withdraws(Invited) && left.withdraws(Started));
            for finished in [Passed, Failed, Expired, Cancelled] {
                assert!(!left.withdraws(finished), "{left:?} {finished:?}");
            }
        }
        assert!(!Archived.withdraws(Submitted), "kept for scoring");
        assert!(!Hired.withdraws(Submitted), "kept for scoring");
        assert!(
            Deleted.withdraws(Submitted),
            "nothing may be written any more"
        );
        assert_eq!(LeftPipeline::parse("restored"), None);
    }
}
