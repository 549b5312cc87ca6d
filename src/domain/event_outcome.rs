//! What became of a webhook delivery, as the Events page shows it: one typed outcome per way a
//! delivery can end (or wait), its stored status, and its sentence. The sentences are written
//! here and nowhere else, so the jobs and the queue say what happened and this module says it
//! in words.

mod stage_change;
mod withdrawal;

use std::fmt;

use super::DeliveryStatus;

pub use stage_change::{
    Acted, Blocked, InvitationEmail, NotAgain, Skipped, StageChange, StageChangeOutcome,
};
pub use withdrawal::{Erased, LeverWritten, Tagging, WithdrawalOutcome, WithdrawalReport};

/// Everything a delivery can come to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventOutcome {
    /// Its job waits until an admin fixes something (the reason says what).
    Waiting(String),
    /// Attempt `attempt` failed; the queue tries again later.
    RetryScheduled { attempt: i32, error: String },
    /// The queue gave up after `attempts` attempts.
    FailedAfter { attempts: i32, error: String },
    /// An admin asked for the dead job to run again (Retry on Events).
    QueuedAgainByHand,
    /// An admin pressed *Send now* for a delivery ignored for a missing tag.
    SendNowQueued {
        by: String,
        tag: String,
        configuration_id: String,
    },
    /// A candidate moved to a stage.
    StageChange(StageChangeOutcome),
    /// A candidate left the pipeline (archived, hired, deleted).
    Withdrawal(WithdrawalOutcome),
    /// A member chose the question of a recruiter's-choice configuration.
    QuestionChosen(QuestionChosen),
}

/// A recruiter's choice made: the invitation written in place of the choice link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionChosen {
    pub question: String,
    /// The member who chose, `None` once they are no longer a member.
    pub chosen_by: Option<String>,
    pub candidate: String,
    /// The invitation's steps written to Lever (`None`: all switched off on Settings).
    pub invite_steps: Option<String>,
    /// The Lever user written as.
    pub author: String,
    pub configuration_id: String,
}

impl EventOutcome {
    /// The delivery's status as stored (`webhook_events.status`).
    pub fn status(&self) -> DeliveryStatus {
        match self {
            EventOutcome::Waiting(_) => DeliveryStatus::Waiting,
            EventOutcome::RetryScheduled { .. }
            | EventOutcome::QueuedAgainByHand
            | EventOutcome::SendNowQueued { .. } => DeliveryStatus::Queued,
            EventOutcome::FailedAfter { .. } => DeliveryStatus::Failed,
            EventOutcome::StageChange(outcome) => outcome.status(),
            EventOutcome::Withdrawal(outcome) => outcome.status(),
            EventOutcome::QuestionChosen(_) => DeliveryStatus::Fired,
        }
    }

    /// The configuration the delivery is shown under on Events, when it came to one.
    pub fn configuration_id(&self) -> Option<&str> {
        match self {
            EventOutcome::SendNowQueued {
                configuration_id, ..
            } => Some(configuration_id),
            EventOutcome::StageChange(outcome) => outcome.configuration_id(),
            EventOutcome::QuestionChosen(chosen) => Some(&chosen.configuration_id),
            _ => None,
        }
    }
}

impl fmt::Display for EventOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventOutcome::Waiting(reason) => write!(f, "Waiting: {reason}"),
            EventOutcome::RetryScheduled { attempt, error } => {
                write!(f, "Attempt {attempt} failed ({error}); it will be retried.")
            }
            EventOutcome::FailedAfter { attempts, error } => {
                write!(f, "Failed after {attempts} attempts: {error}")
            }
            EventOutcome::QueuedAgainByHand => f.write_str("Queued again by hand (Retry)."),
            EventOutcome::SendNowQueued { by, tag, .. } => {
                write!(f, "{by} pressed Send now for “{tag}”: queued.")
            }
            EventOutcome::StageChange(outcome) => outcome.fmt(f),
            EventOutcome::Withdrawal(outcome) => outcome.fmt(f),
            EventOutcome::QuestionChosen(chosen) => chosen.fmt(f),
        }
    }
}

impl fmt::Display for QuestionChosen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let written = match &self.invite_steps {
            Some(steps) => format!(
                "the choice link replaced by the candidate's; {steps} written to Lever as {}",
                self.author
            ),
            None => "the choice link removed; nothing else written to Lever (link, progress tag and note are switched off on the Settings page)".into(),
        };
        write!(
            f,
            "Question “{}” chosen by {} for {}: {written}.",
            self.question,
            self.chosen_by.as_deref().unwrap_or("a former member"),
            self.candidate,
        )
    }
}

/// A moment as the Events page writes it.
fn when(at: chrono::NaiveDateTime) -> String {
    at.format("%-d %b %Y %H:%M:%S UTC").to_string()
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_s_own_outcomes_read_as_before() {
        let waiting = EventOutcome::Waiting("Lever is not connected.".into());
        assert_eq!(
            (waiting.status(), waiting.to_string().as_str()),
            (DeliveryStatus::Waiting, "Waiting: Lever is not connected.")
        );
        let retry = EventOutcome::RetryScheduled {
            attempt: 2,
            error: "busy".into(),
        };
        assert_eq!(retry.status(), DeliveryStatus::Queued);
        assert_eq!(
            retry.to_string(),
            "Attempt 2 failed (busy); it will be retried."
        );
        let failed = EventOutcome::FailedAfter {
            attempts: 5,
            error: "busy".into(),
        };
        assert_eq!(failed.status(), DeliveryStatus::Failed);
        assert_eq!(failed.to_string(), "Failed after 5 attempts: busy");
        let again = EventOutcome::QueuedAgainByHand;
        assert_eq!(
            (again.status(), again.to_string().as_str()),
            (DeliveryStatus::Queued, "Queued again by hand (Retry).")
        );
        let send_now = EventOutcome::SendNowQueued {
            by: "ada@example.com".into(),
            tag: "lb: Take-home".into(),
            configuration_id: "c1".into(),
        };
        assert_eq!(
            send_now.to_string(),
            "ada@example.com pressed Send now for “lb: Take-home”: queued."
        );
        assert_eq!(send_now.configuration_id(), Some("c1"));
    }
}
