//! The candidate emails of each assessment (`assessment_emails`): written with the job that
//! sends them, claimed once for reminders, and read by the timeline and the Events page.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{assessment_emails, assessments};
use super::DbConn;
use crate::domain::AssessmentState;

/// What an email is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailKind {
    Invitation,
    /// The invitation was not started and is about to expire.
    StartReminder,
    /// The started test is not submitted and its time is about to run out.
    DeadlineReminder,
    /// The assessment was withdrawn (the candidate left the pipeline in Lever).
    Withdrawn,
}

impl EmailKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            EmailKind::Invitation => "invitation",
            EmailKind::StartReminder => "start_reminder",
            EmailKind::DeadlineReminder => "deadline_reminder",
            EmailKind::Withdrawn => "withdrawn",
        }
    }

    pub fn from_stored(name: &str) -> Option<EmailKind> {
        [
            EmailKind::Invitation,
            EmailKind::StartReminder,
            EmailKind::DeadlineReminder,
            EmailKind::Withdrawn,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }

    /// "Invitation email", "Reminder to start", "Reminder before the deadline".
    pub fn label(self) -> &'static str {
        match self {
            EmailKind::Invitation => "Invitation email",
            EmailKind::StartReminder => "Reminder to start",
            EmailKind::DeadlineReminder => "Reminder before the deadline",
            EmailKind::Withdrawn => "Withdrawal email",
        }
    }
}

/// Where an email stands (`assessment_emails.status`).
pub const QUEUED: &str = "queued";
pub const SENT: &str = "sent";
/// Lever listed no email address: nothing was attempted.
pub const NO_ADDRESS: &str = "no_address";
/// No longer due when its job ran (the candidate started, emails were switched off…).
pub const SKIPPED: &str = "skipped";
/// The mail server refused it for good (a 5xx for the recipient): not retried.
pub const REFUSED: &str = "refused";

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = assessment_emails, treat_none_as_default_value = false)]
pub struct AssessmentEmail {
    pub id: String,
    pub org_id: String,
    pub assessment_id: String,
    pub kind: String,
    pub recipient: Option<String>,
    pub status: String,
    /// Why it was not sent, or the last failed attempt's error.
    pub detail: Option<String>,
    pub job_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

impl AssessmentEmail {
    pub fn kind(&self) -> EmailKind {
        EmailKind::from_stored(&self.kind).unwrap_or(EmailKind::Invitation)
    }
}

pub fn insert(conn: &mut DbConn, email: &AssessmentEmail) -> QueryResult<()> {
    diesel::insert_into(assessment_emails::table)
        .values(email)
        .execute(conn)?;
    Ok(())
}

/// Inserts a reminder's row unless that reminder was claimed before (by this process before a
/// restart, or by another worker or replica at the same moment): `true` when this call claimed
/// it. The unique index `assessment_emails_reminder_once` decides.
pub fn claim_reminder(conn: &mut DbConn, email: &AssessmentEmail) -> QueryResult<bool> {
    let inserted = match conn {
        DbConn::Sqlite(c) => diesel::insert_into(assessment_emails::table)
            .values(email)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConn::Pg(c) => diesel::insert_into(assessment_emails::table)
            .values(email)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(inserted == 1)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<AssessmentEmail>> {
    assessment_emails::table
        .find(id)
        .select(AssessmentEmail::as_select())
        .first(conn)
        .optional()
}

/// An assessment's emails, oldest first.
pub fn for_assessment(conn: &mut DbConn, assessment_id: &str) -> QueryResult<Vec<AssessmentEmail>> {
    assessment_emails::table
        .filter(assessment_emails::assessment_id.eq(assessment_id))
        .order((
            assessment_emails::created_at.asc(),
            assessment_emails::id.asc(),
        ))
        .select(AssessmentEmail::as_select())
        .load(conn)
}

/// The emails of the assessments these webhook events created, with each assessment's event.
pub fn for_events(
    conn: &mut DbConn,
    event_ids: &[String],
) -> QueryResult<Vec<(String, AssessmentEmail)>> {
    assessment_emails::table
        .inner_join(assessments::table)
        .filter(assessments::event_id.eq_any(event_ids))
        .order((
            assessment_emails::created_at.asc(),
            assessment_emails::id.asc(),
        ))
        .select((assessments::event_id, AssessmentEmail::as_select()))
        .load(conn)
}

/// Where the latest invitation went: the address reminders go to, if Lever gave one.
pub fn invitation_recipient(conn: &mut DbConn, assessment_id: &str) -> QueryResult<Option<String>> {
    Ok(assessment_emails::table
        .filter(assessment_emails::assessment_id.eq(assessment_id))
        .filter(assessment_emails::kind.eq(EmailKind::Invitation.as_str()))
        .order((
            assessment_emails::created_at.desc(),
            assessment_emails::id.desc(),
        ))
        .select(assessment_emails::recipient)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

pub fn mark_sent(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(assessment_emails::table.find(id))
        .set((
            assessment_emails::status.eq(SENT),
            assessment_emails::sent_at.eq(Some(at)),
            assessment_emails::detail.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records the attempt's error; `status` stays `queued` (it is retried) or becomes `refused`.
pub fn mark_failed(conn: &mut DbConn, id: &str, status: &str, detail: &str) -> QueryResult<()> {
    diesel::update(assessment_emails::table.find(id))
        .set((
            assessment_emails::status.eq(status),
            assessment_emails::detail.eq(Some(detail)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The organization's assessments due for the reminder `kind` at `now`, `lead` ahead of their
/// end, that had an invitation emailed and have not been sent this reminder: ids, oldest first.
/// A start reminder is due for an invited test whose link expires within `(now, now + lead]`,
/// a deadline reminder for a started test whose time runs out within that window.
pub fn due_reminders(
    conn: &mut DbConn,
    org_id: &str,
    kind: EmailKind,
    now: NaiveDateTime,
    lead: chrono::Duration,
    limit: i64,
) -> QueryResult<Vec<String>> {
    use diesel::dsl::{exists, not};
    let until = now + lead;
    let invited = assessment_emails::table
        .filter(assessment_emails::assessment_id.eq(assessments::id))
        .filter(assessment_emails::kind.eq(EmailKind::Invitation.as_str()))
        .filter(assessment_emails::recipient.is_not_null());
    let reminded = assessment_emails::table
        .filter(assessment_emails::assessment_id.eq(assessments::id))
        .filter(assessment_emails::kind.eq(kind.as_str()));
    let mut query = assessments::table
        .filter(assessments::org_id.eq(org_id.to_owned()))
        .filter(exists(invited))
        .filter(not(exists(reminded)))
        .order(assessments::created_at.asc())
        .limit(limit)
        .select(assessments::id)
        .into_boxed();
    query = match kind {
        EmailKind::StartReminder => query
            .filter(assessments::state.eq(AssessmentState::Invited))
            .filter(assessments::start_by.gt(now))
            .filter(assessments::start_by.le(until)),
        EmailKind::DeadlineReminder => query
            .filter(assessments::state.eq(AssessmentState::Started))
            .filter(assessments::deadline_at.gt(now))
            .filter(assessments::deadline_at.le(until)),
        EmailKind::Invitation | EmailKind::Withdrawn => return Ok(Vec::new()),
    };
    query.load(conn)
}

/// The Retry button queued `job_id` again: its email (if it is one) waits to be sent again.
pub fn requeue_for_job(conn: &mut DbConn, job_id: &str) -> QueryResult<usize> {
    diesel::update(assessment_emails::table.filter(assessment_emails::job_id.eq(job_id)))
        .set(assessment_emails::status.eq(QUEUED))
        .execute(conn)
}
