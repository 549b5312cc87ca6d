//! The emails a take-home test's candidate gets: the invitation with their link, and the
//! reminders. Each is a row in `assessment_emails` written with the `send_email` job that
//! sends it (in one transaction), so nothing is lost in a crash and the timeline and Events
//! can say what became of it.
//!
//! Reminders are claimed by the periodic sweep ([`claim_due_reminders`], beside
//! `attempt::expire_due`): inserting the row is the claim, and a unique index lets only one
//! worker, replica or run of the process make it, so each reminder is sent at most once. (An
//! email that the server accepted just before the process died, before it was recorded sent,
//! is sent again by the job's retry: a mail server cannot be asked what it already has.)

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::AssessmentState;
use crate::config::Settings;
use crate::db::assessments::Assessment;
use crate::db::connection::write_transaction;
use crate::db::emails::{self, AssessmentEmail, EmailKind};
use crate::db::{self, DbConn, DbError};
use crate::domain::email_template::{time_limit_words, Fill};
use crate::domain::org_settings::{EmailSettings, EMAIL_ENABLED};
use crate::domain::{OrgSettings, PadKind};
use crate::queue::{enqueue_rows, NewJob};
use crate::smtp::{self, Outgoing, SendError};

/// A `send_email` job's payload.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SendEmailJob {
    pub email_id: String,
}

/// What [`queue_invitation`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invitation {
    /// An email to this address is queued.
    Queued(String),
    /// Lever lists no email address: nothing will be attempted, and the assessment says so.
    NoAddress,
    /// Candidate emails are switched off, or the assessment is a live pad (never emailed).
    NotSent,
}

/// Queues the invitation email for `assessment`, to `recipient` (the opportunity's first email
/// address, if Lever lists one), when the organization's candidate emails are on. Call it in the
/// transaction that creates the assessment, or to send the invitation again (a candidate moved
/// back into the trigger stage): each call records one invitation.
pub fn queue_invitation(
    conn: &mut DbConn,
    assessment: &Assessment,
    recipient: Option<&str>,
    settings: &OrgSettings,
    max_attempts: i32,
) -> Result<Invitation, diesel::result::Error> {
    let take_home = PadKind::parse(&assessment.pad_kind) == Ok(PadKind::TakeHome);
    if !settings.email.enabled || !take_home {
        return Ok(Invitation::NotSent);
    }
    let recipient = recipient.map(str::trim).filter(|r| !r.is_empty());
    let Some(recipient) = recipient else {
        let row = new_row(assessment, EmailKind::Invitation, None, None);
        emails::insert(
            conn,
            &AssessmentEmail {
                status: emails::NO_ADDRESS.into(),
                detail: Some(NO_ADDRESS_DETAIL.into()),
                ..row
            },
        )?;
        return Ok(Invitation::NoAddress);
    };
    let mut job = job_row(assessment, max_attempts);
    let row = new_row(
        assessment,
        EmailKind::Invitation,
        Some(recipient),
        Some(&job),
    );
    job_for(&row, &mut job);
    emails::insert(conn, &row)?;
    enqueue_rows(conn, &[&job])?;
    Ok(Invitation::Queued(recipient.to_owned()))
}

/// Queues the email telling `assessment`'s candidate it was withdrawn, when candidate emails are
/// on and an invitation went to an address (the one it went to): `true` when one is queued.
/// Call it in the transaction that withdraws the assessment.
pub fn queue_withdrawal(
    conn: &mut DbConn,
    assessment: &Assessment,
    settings: &OrgSettings,
    max_attempts: i32,
) -> Result<bool, diesel::result::Error> {
    let take_home = PadKind::parse(&assessment.pad_kind) == Ok(PadKind::TakeHome);
    if !settings.email.enabled || !take_home {
        return Ok(false);
    }
    let Some(recipient) = emails::invitation_recipient(conn, &assessment.id)? else {
        return Ok(false);
    };
    let mut job = job_row(assessment, max_attempts);
    let row = new_row(
        assessment,
        EmailKind::Withdrawn,
        Some(&recipient),
        Some(&job),
    );
    job_for(&row, &mut job);
    emails::insert(conn, &row)?;
    enqueue_rows(conn, &[&job])?;
    Ok(true)
}

/// Why an invitation without an address was not sent, in words.
pub const NO_ADDRESS_DETAIL: &str =
    "Lever lists no email address for the candidate, so no invitation email was sent.";

fn job_row(assessment: &Assessment, max_attempts: i32) -> crate::queue::table::Job {
    let unnamed = SendEmailJob {
        email_id: String::new(),
    };
    NewJob::of(&assessment.org_id, &unnamed, max_attempts).row()
}

/// A queued email's row, its job's payload pointing at it.
fn new_row(
    assessment: &Assessment,
    kind: EmailKind,
    recipient: Option<&str>,
    job: Option<&crate::queue::table::Job>,
) -> AssessmentEmail {
    AssessmentEmail {
        id: db::new_id(),
        org_id: assessment.org_id.clone(),
        assessment_id: assessment.id.clone(),
        kind: kind.as_str().into(),
        recipient: recipient.map(str::to_owned),
        status: emails::QUEUED.into(),
        detail: None,
        job_id: job.map(|j| j.id.clone()),
        created_at: db::now(),
        sent_at: None,
    }
}

/// The job row for `email`, its payload naming it.
fn job_for(email: &AssessmentEmail, job: &mut crate::queue::table::Job) {
    job.payload = serde_json::to_string(&SendEmailJob {
        email_id: email.id.clone(),
    })
    .expect("a payload of strings serialises");
}

/// Most reminders one sweep claims per organization and kind; the next sweep takes the rest.
const REMINDER_BATCH: i64 = 100;

/// Claims and queues the reminders due at `now` in every organization that emails candidates;
/// returns how many were queued. Safe to run in several workers and replicas at once.
pub fn claim_due_reminders(
    conn: &mut DbConn,
    now: NaiveDateTime,
    max_attempts: i32,
) -> Result<usize, diesel::result::Error> {
    let mut queued = 0;
    for org_id in db::settings::orgs_with(conn, EMAIL_ENABLED.name, "true")? {
        let settings = db::settings::for_org(conn, &org_id)?;
        let email = &settings.email;
        let leads = [
            (
                EmailKind::StartReminder,
                Duration::hours(email.start_reminder_hours.into()),
            ),
            (
                EmailKind::DeadlineReminder,
                Duration::minutes(email.deadline_reminder_minutes.into()),
            ),
        ];
        for (kind, lead) in leads {
            if lead.is_zero() {
                continue;
            }
            for id in emails::due_reminders(conn, &org_id, kind, now, lead, REMINDER_BATCH)? {
                let claimed = write_transaction(conn, |conn| {
                    let Some((assessment, _)) = db::assessments::by_id(conn, &id)? else {
                        return Ok(false);
                    };
                    let recipient = emails::invitation_recipient(conn, &id)?;
                    let mut job = job_row(&assessment, max_attempts);
                    let row = new_row(&assessment, kind, recipient.as_deref(), Some(&job));
                    if !emails::claim_reminder(conn, &row)? {
                        return Ok(false);
                    }
                    job_for(&row, &mut job);
                    enqueue_rows(conn, &[&job])?;
                    Ok::<_, diesel::result::Error>(true)
                })?;
                queued += usize::from(claimed);
            }
        }
    }
    Ok(queued)
}

/// What became of a `send_email` job's run.
pub enum Delivery {
    /// Sent, or nothing to do (sent before, no longer due): the job is done.
    Done,
    /// Worth another attempt later; the reason is recorded on the email.
    Retry(String),
}

/// Sends the email `email_id` unless it was sent (or refused) already; records what happened.
pub async fn deliver(
    db: &db::Db,
    settings: &Settings,
    email_id: &str,
) -> Result<Delivery, DbError> {
    let found = load_for_delivery(db, settings, email_id).await?;
    let Some((email, assessment, org, company, password)) = found else {
        return Ok(Delivery::Done);
    };
    if email.status != emails::QUEUED {
        return Ok(Delivery::Done);
    }
    let now = settings.tuning.clock.now();
    if let Some(reason) = no_longer_due(&email, &assessment, &org.email) {
        record(db, &email.id, emails::SKIPPED, Some(reason.into()), None).await?;
        return Ok(Delivery::Done);
    }
    let password = match password.transpose() {
        Ok(password) => password,
        Err(reason) => return retry(db, &email.id, reason).await,
    };
    let Some(to) = email.recipient.clone() else {
        record(
            db,
            &email.id,
            emails::NO_ADDRESS,
            Some(NO_ADDRESS_DETAIL.into()),
            None,
        )
        .await?;
        return Ok(Delivery::Done);
    };
    let link = super::link(&settings.public_url, &assessment.token);
    let (subject, body) = compose(email.kind(), &org.email, &assessment, &link, &company);
    let outgoing = Outgoing {
        to: &to,
        subject: &subject,
        body: &body,
    };
    match smtp::send(
        &org.email.server,
        password.as_deref(),
        &outgoing,
        &settings.tuning.smtp_extra_roots,
        settings.tuning.smtp_deadline,
    )
    .await
    {
        Ok(()) => {
            record(db, &email.id, emails::SENT, None, Some(now)).await?;
            Ok(Delivery::Done)
        }
        Err(SendError::Refused(reason)) => {
            record(db, &email.id, emails::REFUSED, Some(reason), None).await?;
            Ok(Delivery::Done)
        }
        Err(SendError::Failed(reason)) => retry(db, &email.id, reason).await,
    }
}

/// The email, its assessment, the organization's email settings and name, and the SMTP
/// password opened (or why it cannot be); `None` when the email or its assessment is gone.
#[allow(clippy::type_complexity)]
async fn load_for_delivery(
    db: &db::Db,
    settings: &Settings,
    email_id: &str,
) -> Result<
    Option<(
        AssessmentEmail,
        Assessment,
        OrgSettings,
        String,
        Option<Result<String, String>>,
    )>,
    DbError,
> {
    let id = email_id.to_owned();
    let org_key = settings.secret_key.clone();
    db.run(move |conn| -> Result<_, DbError> {
        let Some(email) = emails::find(conn, &id)? else {
            return Ok(None);
        };
        let Some((assessment, _)) = db::assessments::by_id(conn, &email.assessment_id)? else {
            return Ok(None);
        };
        let org = db::settings::for_org(conn, &assessment.org_id)?;
        let company = db::orgs::find(conn, &assessment.org_id)?
            .map(|o| o.name)
            .unwrap_or_default();
        let password = saved_password(conn, &org_key, &assessment.org_id)?;
        Ok(Some((email, assessment, org, company, password)))
    })
    .await
}

/// The organization's saved SMTP password, opened (or why it cannot be); `None` when none is
/// saved.
fn saved_password(
    conn: &mut DbConn,
    key: &crate::crypto::SecretKey,
    org_id: &str,
) -> Result<Option<Result<String, String>>, DbError> {
    Ok(db::settings::smtp_password(conn, org_id)?.map(|sealed| {
        key.open(&db::settings::smtp_password_context(org_id), &sealed)
            .map_err(|_| "the saved SMTP password cannot be opened with this server's secret key; enter it again on the Settings page".to_owned())
    }))
}

/// Sends a test email to `to` through the organization's saved mail server (the Settings
/// page's *Send a test email*): `Ok` names the server it went through, `Err` says why it did
/// not go.
pub async fn send_test(
    db: &db::Db,
    settings: &Settings,
    org_id: &str,
    to: &str,
) -> Result<Result<String, String>, DbError> {
    let (org, key) = (org_id.to_owned(), settings.secret_key.clone());
    let (saved, company, password) = db
        .run(move |conn| -> Result<_, DbError> {
            let saved = db::settings::for_org(conn, &org)?;
            let company = db::orgs::find(conn, &org)?
                .map(|o| o.name)
                .unwrap_or_default();
            Ok((saved, company, saved_password(conn, &key, &org)?))
        })
        .await?;
    let password = match password.transpose() {
        Ok(password) => password,
        Err(why) => return Ok(Err(why)),
    };
    let server = &saved.email.server;
    let subject = format!("leverbridge test email for {company}");
    let body = format!(
        "This is a test email from leverbridge, sent to {to} through {company}'s saved mail server ({}:{}). If you are reading it, candidates' emails can go out this way.\n",
        server.host, server.port
    );
    let outgoing = Outgoing {
        to,
        subject: &subject,
        body: &body,
    };
    let sent = smtp::send(
        server,
        password.as_deref(),
        &outgoing,
        &settings.tuning.smtp_extra_roots,
        settings.tuning.smtp_deadline,
    )
    .await;
    Ok(match sent {
        Ok(()) => Ok(format!("{}:{}", server.host, server.port)),
        Err(SendError::Refused(why) | SendError::Failed(why)) => Err(why),
    })
}

async fn retry(db: &db::Db, id: &str, reason: String) -> Result<Delivery, DbError> {
    record(db, id, emails::QUEUED, Some(reason.clone()), None).await?;
    Ok(Delivery::Retry(reason))
}

async fn record(
    db: &db::Db,
    id: &str,
    status: &'static str,
    detail: Option<String>,
    sent_at: Option<NaiveDateTime>,
) -> Result<(), DbError> {
    let id = id.to_owned();
    db.run(move |conn| {
        match sent_at {
            Some(at) => emails::mark_sent(conn, &id, at),
            None => emails::mark_failed(conn, &id, status, detail.as_deref().unwrap_or("")),
        }
        .map_err(DbError::from)
    })
    .await
}

/// Why a queued email should no longer go out, if it should not.
fn no_longer_due(
    email: &AssessmentEmail,
    assessment: &Assessment,
    settings: &EmailSettings,
) -> Option<&'static str> {
    let state = assessment.state;
    if !settings.enabled {
        return Some("Candidate emails were switched off on the Settings page before it was sent.");
    }
    match email.kind() {
        EmailKind::Invitation if state == AssessmentState::Cancelled => {
            Some("The assessment was withdrawn before the invitation was sent.")
        }
        EmailKind::StartReminder if state != AssessmentState::Invited => {
            Some("The candidate started (or the link expired) before the reminder was sent.")
        }
        EmailKind::DeadlineReminder if state != AssessmentState::Started => {
            Some("The test was handed in before the reminder was sent.")
        }
        _ => None,
    }
}

/// A time as candidates read it: "Tuesday 8 December 2026 at 14:00 UTC".
pub fn candidate_time(at: NaiveDateTime) -> String {
    at.format("%A %-d %B %Y at %H:%M UTC").to_string()
}

/// The subject and body of an email of `kind` about `assessment`.
pub fn compose(
    kind: EmailKind,
    settings: &EmailSettings,
    assessment: &Assessment,
    link: &str,
    company: &str,
) -> (String, String) {
    let time_limit = time_limit_words(super::attempt::time_limit(assessment).max(0) as u32);
    let start_by = assessment
        .start_by
        .map(candidate_time)
        .unwrap_or_else(|| "the date in your invitation".into());
    let fill = Fill {
        candidate_name: &assessment.candidate_name,
        assessment_link: link,
        time_limit: &time_limit,
        start_by: &start_by,
        company,
    };
    let subject = settings.subject.render(&fill);
    let body = settings.body.render(&fill);
    match kind {
        EmailKind::Invitation => (subject, body),
        EmailKind::Withdrawn => (
            settings.withdrawn_subject.render(&fill),
            settings.withdrawn_body.render(&fill),
        ),
        EmailKind::StartReminder => (
            format!("Reminder: {subject}"),
            format!(
                "A reminder: your assessment has not been started yet. The link can be started until {start_by}.\n\n{body}"
            ),
        ),
        EmailKind::DeadlineReminder => {
            let deadline = assessment
                .deadline_at
                .map(candidate_time)
                .unwrap_or_else(|| "soon".into());
            (
                format!("Reminder: {subject}"),
                format!(
                    "Hello {name},\n\nA reminder: your time on the assessment runs out at {deadline}. What you have saved by then is handed in; press Submit when you are done.\n\nYour link: {link}\n\nThe {company} hiring team",
                    name = assessment.candidate_name
                ),
            )
        }
    }
}

/// The invitation's subject and body for a sample candidate invited `now` under `settings`, as
/// the Settings page previews them.
pub fn preview(settings: &OrgSettings, company: &str, now: NaiveDateTime) -> (String, String) {
    let sample = Assessment {
        id: String::new(),
        org_id: String::new(),
        configuration_id: String::new(),
        opportunity_id: String::new(),
        candidate_name: "Ada Lovelace".into(),
        token: String::new(),
        pad_kind: PadKind::TakeHome.as_str().into(),
        question_title: None,
        question_prompt: None,
        tag_name: String::new(),
        state: AssessmentState::Invited,
        event_id: String::new(),
        created_at: now,
        question_language: String::new(),
        starter_code: String::new(),
        time_limit_minutes: Some(settings.time_limit_minutes as i32),
        start_by: Some(now + Duration::days(settings.days_to_start.into())),
        started_at: None,
        deadline_at: None,
        submitted_at: None,
        time_ran_out: false,
    };
    compose(
        EmailKind::Invitation,
        &settings.email,
        &sample,
        "https://leverbridge.example/a/sample-link",
        company,
    )
}
