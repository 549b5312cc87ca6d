//! What a candidate's move to a stage came to.

use std::fmt;

use chrono::NaiveDateTime;

use super::{capitalise, when};
use crate::domain::{AssessmentState, DeliveryStatus};

/// A stage change's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StageChangeOutcome {
    /// No configuration watches the stage.
    NotATrigger { stage: String },
    /// *Send now* was pressed for a configuration deleted since.
    SendNowConfigurationDeleted { by: String },
    /// Lever has no such opportunity.
    NoSuchOpportunity { opportunity_id: String },
    /// The candidate is not where the delivery says, or may not be assessed.
    CandidateBlocked(Blocked),
    /// Lever answered 404 to listing the notes of an opportunity it had just shown.
    NotesUnlisted {
        message: String,
        opportunity_id: String,
    },
    /// The opportunity was deleted while leverbridge wrote to it.
    DeletedWhileWriting { opportunity_id: String },
    /// Each watching configuration fired, came back, or said why not.
    Decided(Box<StageChange>),
}

/// The configurations that watched the stage, and what each came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageChange {
    pub candidate: String,
    pub to_stage: String,
    /// The invitation's steps written to Lever (`None`: all switched off on Settings).
    pub invite_steps: Option<String>,
    /// The Lever user written as.
    pub author: String,
    /// Who pressed *Send now*, when an admin did.
    pub sent_now_by: Option<String>,
    /// The configurations that fired (or had fired), by id, in order.
    pub acted: Vec<(String, Acted)>,
    pub skipped: Vec<Skipped>,
}

/// What one configuration that fired came to; `configuration` is its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acted {
    /// A new assessment, written back.
    Fired {
        configuration: String,
        pad: String,
        /// The question's title, when the posting's tag named it.
        posting_question: Option<String>,
        email: Option<InvitationEmail>,
    },
    /// A recruiter's choice: the link to choose the question written.
    ChoiceLinked { configuration: String, pad: String },
    /// Moved back while the question is still to be chosen: the link written again.
    ChoiceLinkedAgain {
        configuration: String,
        fired_at: NaiveDateTime,
    },
    /// Moved back after the recruiter's choice was withdrawn: nothing written.
    ChoiceWithdrawn {
        configuration: String,
        fired_at: NaiveDateTime,
        withdrawn_at: NaiveDateTime,
        because: String,
    },
    /// Moved back before starting: invited again.
    InvitedAgain {
        configuration: String,
        fired_at: NaiveDateTime,
        candidate: String,
    },
    /// Moved back after starting: nothing sent.
    NotInvitedAgain {
        configuration: String,
        fired_at: NaiveDateTime,
        why: NotAgain,
    },
}

/// Why a candidate moved back was not invited again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotAgain {
    Started {
        candidate: String,
        at: Option<NaiveDateTime>,
    },
    Submitted {
        candidate: String,
    },
    Finished(AssessmentState),
}

/// What became of a new assessment's invitation email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvitationEmail {
    Queued {
        to: String,
    },
    /// Lever lists no address for the candidate.
    NoAddress {
        candidate: String,
    },
}

/// A watching configuration that did not fire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skipped {
    /// The candidate lacks the configuration's tag.
    MissingTag { configuration: String, tag: String },
    /// The candidate applied to no posting, so no posting tag can name the question.
    NoPosting { configuration: String },
    /// The posting has no tag `{prefix} {title}` naming a library question.
    NoPostingTag {
        configuration: String,
        posting: String,
        prefix: String,
    },
}

/// Why nothing was created for the candidate, whatever the configurations say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocked {
    /// Archived in Lever.
    Archived,
    /// Lever shows the candidate at another stage than the delivery said (a webhook's data is
    /// not signed, so Lever decides).
    ElsewhereInLever { now_at: String, moved_to: String },
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocked::Archived => {
                f.write_str("The candidate is archived in Lever; nothing was created.")
            }
            Blocked::ElsewhereInLever { now_at, moved_to } => write!(
                f,
                "Lever shows the candidate at “{now_at}”, not “{moved_to}” (a webhook's data is not signed, so Lever decides); nothing was created."
            ),
        }
    }
}

impl StageChangeOutcome {
    pub fn status(&self) -> DeliveryStatus {
        match self {
            StageChangeOutcome::Decided(decided) => decided.status(),
            _ => DeliveryStatus::Ignored,
        }
    }

    pub fn configuration_id(&self) -> Option<&str> {
        match self {
            StageChangeOutcome::Decided(decided) => {
                decided.acted.first().map(|(id, _)| id.as_str())
            }
            _ => None,
        }
    }
}

impl StageChange {
    fn status(&self) -> DeliveryStatus {
        let any = |f: fn(&Acted) -> bool| self.acted.iter().any(|(_, a)| f(a));
        if any(|a| matches!(a, Acted::Fired { .. } | Acted::ChoiceLinked { .. })) {
            DeliveryStatus::Fired
        } else if any(|a| {
            matches!(
                a,
                Acted::ChoiceLinkedAgain { .. } | Acted::InvitedAgain { .. }
            )
        }) {
            DeliveryStatus::Reinvited
        } else if !self.acted.is_empty() {
            DeliveryStatus::Duplicate
        } else if self
            .skipped
            .iter()
            .all(|s| matches!(s, Skipped::MissingTag { .. }))
        {
            DeliveryStatus::NoTag
        } else {
            DeliveryStatus::Ignored
        }
    }

    /// The sentence saying which configurations fired, and what was written.
    fn fired_sentence(&self) -> Option<String> {
        let fired: Vec<String> = self
            .acted
            .iter()
            .filter_map(|(_, a)| a.fired_line(&self.to_stage))
            .collect();
        if fired.is_empty() {
            return None;
        }
        let written = match &self.invite_steps {
            Some(steps) => format!("{steps} written to Lever as {}", self.author),
            None => "nothing written to Lever (link, progress tag and note are switched off on the Settings page)".into(),
        };
        Some(format!(
            "{} for {}: {written}.",
            capitalise(&fired.join("; ")),
            self.candidate
        ))
    }

    /// The sentence saying which configurations did not fire, and why.
    fn skipped_sentence(&self, status: DeliveryStatus) -> Option<String> {
        if status == DeliveryStatus::NoTag {
            let wanted: Vec<String> = self
                .skipped
                .iter()
                .filter_map(|s| match s {
                    Skipped::MissingTag { tag, .. } => Some(format!("“{tag}”")),
                    Skipped::NoPosting { .. } | Skipped::NoPostingTag { .. } => None,
                })
                .collect();
            return Some(format!(
                "The candidate lacks the tag {} that stage “{}” requires; nothing was created. If the tag was added after the move, an admin can send it now.",
                wanted.join(" or "),
                self.to_stage
            ));
        }
        if self.skipped.is_empty() {
            return None;
        }
        let lines: Vec<String> = self
            .skipped
            .iter()
            .map(|s| match s {
                Skipped::MissingTag { configuration, tag } => {
                    format!("configuration {configuration}: the candidate lacks the tag “{tag}”")
                }
                Skipped::NoPosting { configuration } => format!(
                    "configuration {configuration}: the candidate applied to no posting, so no posting tag can name the question"
                ),
                Skipped::NoPostingTag {
                    configuration,
                    posting,
                    prefix,
                } => format!(
                    "configuration {configuration}: the posting “{posting}” has no tag “{prefix} {{question title}}” naming a question of the library"
                ),
            })
            .collect();
        let tail = if self.acted.is_empty() {
            "; nothing was created."
        } else {
            "."
        };
        Some(format!("Not fired: {}{tail}", lines.join("; ")))
    }
}

impl Acted {
    /// A new assessment's part of the fired sentence.
    fn fired_line(&self, to_stage: &str) -> Option<String> {
        let Acted::Fired {
            configuration,
            pad,
            posting_question,
            email,
        } = self
        else {
            return None;
        };
        let question = posting_question
            .as_deref()
            .map(|t| format!(", question “{t}” named by the posting's tag"))
            .unwrap_or_default();
        let email = email.as_ref().map(|e| format!("; {e}")).unwrap_or_default();
        Some(format!(
            "configuration {configuration} fired ({pad} at “{to_stage}”{question}{email})"
        ))
    }

    /// The sentence of a configuration that did not make a new assessment.
    fn sentence(
        &self,
        to_stage: &str,
        candidate: &str,
        invite_steps: Option<&str>,
    ) -> Option<String> {
        let fired = |configuration: &str, at: &NaiveDateTime| {
            format!(
                "Configuration {configuration} already fired for this opportunity (on {})",
                when(*at)
            )
        };
        Some(match self {
            Acted::Fired { .. } => return None,
            Acted::ChoiceLinked { configuration, pad } => format!(
                "Configuration {configuration} fired ({pad}, recruiter's choice, at “{to_stage}”) for {candidate}: the link to choose the question is on the candidate in Lever; the candidate is invited once a member of the organization chooses."
            ),
            Acted::ChoiceLinkedAgain {
                configuration,
                fired_at,
            } => format!(
                "{} and its question is still to be chosen: the link to choose it is on the candidate in Lever again.",
                fired(configuration, fired_at)
            ),
            Acted::ChoiceWithdrawn {
                configuration,
                fired_at,
                withdrawn_at,
                because,
            } => format!(
                "{}; its choice of question was withdrawn on {} because {because}, so nothing was written again.",
                fired(configuration, fired_at),
                when(*withdrawn_at),
            ),
            Acted::InvitedAgain {
                configuration,
                fired_at,
                candidate,
            } => {
                let what = match invite_steps {
                    Some(steps) => format!("its {steps} are on the candidate in Lever again"),
                    None => "nothing is written to Lever (switched off on the Settings page)".into(),
                };
                format!(
                    "{}, and {candidate} has not started it: invited again ({what}); no second assessment.",
                    fired(configuration, fired_at)
                )
            }
            Acted::NotInvitedAgain {
                configuration,
                fired_at,
                why,
            } => format!(
                "{}; {why}, so the invitation was not sent again.",
                fired(configuration, fired_at)
            ),
        })
    }
}

impl fmt::Display for StageChangeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StageChangeOutcome::NotATrigger { stage } => {
                write!(f, "Stage “{stage}” is not the trigger stage of any configuration.")
            }
            StageChangeOutcome::SendNowConfigurationDeleted { by } => write!(
                f,
                "{by} pressed Send now, but the configuration has been deleted since; nothing was created."
            ),
            StageChangeOutcome::NoSuchOpportunity { opportunity_id } => write!(
                f,
                "Lever has no opportunity {opportunity_id} (deleted?); nothing was created."
            ),
            StageChangeOutcome::CandidateBlocked(blocked) => blocked.fmt(f),
            StageChangeOutcome::NotesUnlisted {
                message,
                opportunity_id,
            } => write!(
                f,
                "Lever answered 404 Not Found ({message}) to listing the notes of opportunity {opportunity_id}, which it had just shown; the link and the tag were written, the note was not."
            ),
            StageChangeOutcome::DeletedWhileWriting { opportunity_id } => write!(
                f,
                "Lever no longer has opportunity {opportunity_id} (deleted while leverbridge wrote to it)."
            ),
            StageChangeOutcome::Decided(decided) => decided.fmt(f),
        }
    }
}

impl fmt::Display for StageChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.status();
        let mut sentences = Vec::new();
        sentences.extend(self.fired_sentence());
        for (_, acted) in &self.acted {
            sentences.extend(acted.sentence(
                &self.to_stage,
                &self.candidate,
                self.invite_steps.as_deref(),
            ));
        }
        sentences.extend(self.skipped_sentence(status));
        let text = sentences.join(" ");
        match (&self.sent_now_by, status) {
            (Some(by), DeliveryStatus::Fired) => write!(
                f,
                "Sent now by {by} (the candidate lacked the tag at the move). {text}"
            ),
            _ => f.write_str(&text),
        }
    }
}

impl fmt::Display for NotAgain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotAgain::Started { candidate, at } => write!(
                f,
                "{candidate} started it{} and it is in progress",
                at.map(|at| format!(" on {}", when(at))).unwrap_or_default()
            ),
            NotAgain::Submitted { candidate } => write!(f, "{candidate} has submitted it"),
            NotAgain::Finished(state) => write!(f, "it is {}", state.label().to_lowercase()),
        }
    }
}

impl fmt::Display for InvitationEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvitationEmail::Queued { to } => write!(f, "invitation email to {to} queued"),
            InvitationEmail::NoAddress { candidate } => write!(
                f,
                "no invitation email: Lever lists no email address for {candidate}; Lever shows “Invite Failed”"
            ),
        }
    }
}
