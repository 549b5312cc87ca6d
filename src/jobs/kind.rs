//! What a job does: one variant per job kind, each run by a file of its own in `jobs/`.

/// A job's kind, stored in `jobs.kind` as [`JobKind::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// A candidate moved to a stage in Lever ([`super::stage_change`]).
    StageChange,
    /// An assessment moved on (started, scored): its progress tag, result note and stage are
    /// written to Lever ([`super::progress_write_back`]).
    ProgressWriteBack,
    /// A candidate was archived, hired or deleted in Lever: their unfinished assessments are
    /// withdrawn ([`super::withdrawal`]).
    Withdrawal,
    /// A member picked the question of a recruiter's-choice configuration: the choice link
    /// leaves Lever and the invitation is written ([`super::question_chosen`]).
    QuestionChosen,
    /// An email to a candidate: an invitation or a reminder ([`super::send_email`]).
    SendEmail,
    /// Panics when run: how the unit tests make a job that panics.
    #[cfg(test)]
    Panic,
}

impl JobKind {
    /// Every kind, for reading stored names back.
    const ALL: &'static [JobKind] = &[
        JobKind::StageChange,
        JobKind::ProgressWriteBack,
        JobKind::Withdrawal,
        JobKind::QuestionChosen,
        JobKind::SendEmail,
        #[cfg(test)]
        JobKind::Panic,
    ];

    /// The name stored in `jobs.kind`. Stored rows keep it, so it never changes.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobKind::StageChange => "stage_change",
            JobKind::ProgressWriteBack => "progress_write_back",
            JobKind::Withdrawal => "withdrawal",
            JobKind::QuestionChosen => "question_chosen",
            JobKind::SendEmail => "send_email",
            #[cfg(test)]
            JobKind::Panic => "test_panic",
        }
    }

    /// The kind a stored name stands for; `None` for a name this version does not know.
    pub fn from_stored(name: &str) -> Option<JobKind> {
        JobKind::ALL.iter().copied().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_read_back_as_their_kind() {
        for kind in JobKind::ALL {
            assert_eq!(JobKind::from_stored(kind.as_str()), Some(*kind));
        }
        assert_eq!(JobKind::StageChange.as_str(), "stage_change");
        assert_eq!(JobKind::ProgressWriteBack.as_str(), "progress_write_back");
        assert_eq!(JobKind::Withdrawal.as_str(), "withdrawal");
        assert_eq!(JobKind::QuestionChosen.as_str(), "question_chosen");
        assert_eq!(JobKind::from_stored("no_such_kind"), None);
    }
}
