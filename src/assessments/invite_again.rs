//! A candidate moved back into the trigger stage before starting their assessment is invited
//! again: no second assessment, the invitation's write-back made whole in Lever again (the
//! link, the progress tag and the note, each only if Lever no longer shows it), recorded on
//! the assessment's timeline and, by the caller, on Events.
//!
//! This is the one path a re-sent invitation takes: whatever else an invitation sends (the
//! invitation email) is queued from [`record`], in its transaction, when the line is new.

use chrono::NaiveDateTime;

use super::write_back::{self, Steps};
use crate::db::assessments::Assessment;
use crate::db::{self, Db, DbConn, DbError};
use crate::domain::OrgSettings;
use crate::lever::{LeverClient, LeverError, Opportunity};

/// What is re-sending the invitation.
pub struct Reentry<'a> {
    /// The delivery that moved the candidate back: the line's key, so a rerun of its job
    /// records (and queues) nothing twice.
    pub event_id: &'a str,
    /// The trigger stage's name, for the timeline.
    pub stage: &'a str,
    pub at: NaiveDateTime,
    /// The attempts of the invitation email's job, if one is queued.
    pub max_attempts: i32,
}

/// Records the invitation sent again on the assessment's timeline; `true` when this delivery
/// had not done so yet. Runs inside the caller's write transaction: queue here whatever else
/// goes with a new invitation, so it is queued once, together with the line.
pub fn record(
    conn: &mut DbConn,
    assessment: &Assessment,
    reentry: &Reentry<'_>,
) -> diesel::QueryResult<bool> {
    db::assessment_history::record(
        conn,
        &assessment.id,
        &format!("invited_again:{}", reentry.event_id),
        reentry.at,
        &format!(
            "Invited again: moved back into “{}” before starting",
            reentry.stage
        ),
    )
}

/// Invites the candidate of `assessment` (not started) again: [`record`], then the
/// invitation's write-back under [`Steps::Recheck`]. `seen` is the opportunity as the caller
/// just read it from Lever.
#[allow(clippy::too_many_arguments)]
pub async fn invite_again(
    db: &Db,
    client: &LeverClient,
    assessment: &Assessment,
    link: &str,
    perform_as: &str,
    seen: &Opportunity,
    settings: &OrgSettings,
    reentry: Reentry<'_>,
) -> Result<(), InviteAgainError> {
    let (stored, key_event, stage, at) = (
        assessment.clone(),
        reentry.event_id.to_owned(),
        reentry.stage.to_owned(),
        reentry.at,
    );
    let (recipient, email_settings, max_attempts) = (
        seen.emails.first().cloned(),
        settings.clone(),
        reentry.max_attempts,
    );
    db.run(move |conn| {
        db::connection::write_transaction(conn, |conn| {
            let reentry = Reentry {
                event_id: &key_event,
                stage: &stage,
                at,
                max_attempts,
            };
            // The email goes again once per delivery that moved the candidate back.
            if record(conn, &stored, &reentry)? {
                crate::assessments::emails::queue_invitation(
                    conn,
                    &stored,
                    recipient.as_deref(),
                    &email_settings,
                    max_attempts,
                )?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .map_err(DbError::from)
    })
    .await
    .map_err(InviteAgainError::Db)?;
    write_back::invite(
        db,
        client,
        assessment,
        link,
        perform_as,
        seen,
        settings,
        Steps::Recheck,
    )
    .await
    .map_err(|e| match e {
        write_back::StepError::Lever(e) => InviteAgainError::Lever(e),
        write_back::StepError::Database(e) => InviteAgainError::Db(e),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum InviteAgainError {
    #[error("database: {0}")]
    Db(DbError),
    #[error(transparent)]
    Lever(LeverError),
}
