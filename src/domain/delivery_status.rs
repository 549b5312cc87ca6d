//! Where a webhook delivery stands, as the Events page shows it (`webhook_events.status`).

use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;

/// A delivery's status. The intake stores the first one (rejected, verification, duplicate,
/// recorded, ignored or queued); a queued delivery's job, or the queue, then stores what became
/// of it ([`crate::domain::event_outcome::EventOutcome::status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum DeliveryStatus {
    /// Refused at the door (a bad signature, an unknown organization, a body too large).
    Rejected,
    /// Lever checking that the webhook's address answers.
    Verification,
    /// A copy of a delivery accepted before, or a move that found its assessments already made.
    Duplicate,
    /// Kept for the record; it calls for no work.
    Recorded,
    /// Its job waits to run (again).
    Queued,
    /// Its job waits until an admin fixes something.
    Waiting,
    /// The queue gave up on its job.
    Failed,
    /// A configuration fired (an invitation, or a recruiter's-choice link).
    Fired,
    /// A candidate back at a trigger stage was invited again.
    Reinvited,
    /// The candidate lacked a configuration's tag: an admin may press *Send now*.
    NoTag,
    /// Nothing to do for it.
    Ignored,
    /// A candidate who left the pipeline had their assessments withdrawn.
    Withdrawn,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 12] = [
        DeliveryStatus::Rejected,
        DeliveryStatus::Verification,
        DeliveryStatus::Duplicate,
        DeliveryStatus::Recorded,
        DeliveryStatus::Queued,
        DeliveryStatus::Waiting,
        DeliveryStatus::Failed,
        DeliveryStatus::Fired,
        DeliveryStatus::Reinvited,
        DeliveryStatus::NoTag,
        DeliveryStatus::Ignored,
        DeliveryStatus::Withdrawn,
    ];

    /// The stored name. Stored rows keep it, so it never changes.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Rejected => "rejected",
            DeliveryStatus::Verification => "verification",
            DeliveryStatus::Duplicate => "duplicate",
            DeliveryStatus::Recorded => "recorded",
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Waiting => "waiting",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Fired => "fired",
            DeliveryStatus::Reinvited => "reinvited",
            DeliveryStatus::NoTag => "no_tag",
            DeliveryStatus::Ignored => "ignored",
            DeliveryStatus::Withdrawn => "withdrawn",
        }
    }

    /// How the Events page writes it: its stored name, spaced.
    pub fn label(self) -> String {
        self.as_str().replace('_', " ")
    }

    /// The Events page's badge class for it.
    pub const fn badge(self) -> &'static str {
        match self {
            DeliveryStatus::Fired
            | DeliveryStatus::Withdrawn
            | DeliveryStatus::Verification
            | DeliveryStatus::Reinvited => "ok",
            DeliveryStatus::Queued | DeliveryStatus::Recorded => "info",
            DeliveryStatus::Waiting | DeliveryStatus::Duplicate | DeliveryStatus::NoTag => "warn",
            DeliveryStatus::Rejected | DeliveryStatus::Failed => "bad",
            DeliveryStatus::Ignored => "muted",
        }
    }
}

crate::stored_as_text!(DeliveryStatus, "delivery status", display);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_stored_names_are_not_read() {
        assert_eq!(DeliveryStatus::from_stored("no tag"), None);
        assert_eq!(DeliveryStatus::from_stored("Fired"), None);
        assert_eq!(DeliveryStatus::NoTag.label(), "no tag");
    }
}
