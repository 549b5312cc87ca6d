//! Events: every webhook delivery, what it caused or exactly why nothing, and the Lever calls
//! made for it; dead jobs get a Retry button, and a delivery ignored because the candidate
//! lacked a configuration's tag gets *Send now* (admins).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::QueryResult;
use serde::Deserialize;

use super::auth::{AdminPage, OrgReader};
use super::csrf::{CsrfForm, NoFields};
use super::layout::{Chrome, Nav};
use super::{keyset, render, see_other, WebError};
use crate::db::configurations::Configuration;
use crate::db::keyset::Cursor;
use crate::db::{self, DbConn, DbError};
use crate::domain::event_outcome::EventOutcome;
use crate::domain::webhook_event;
use crate::domain::{DeliveryStatus, TriggerStyle};
use crate::jobs::stage_change;
use crate::queue::table as queue;
use crate::queue::NewJob;

const PER_PAGE: i64 = 25;

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    chrome: Chrome,
    rows: Vec<EventRow>,
    /// Whether this is the newest page (else it offers the way back to it).
    newest: bool,
    /// The cursors of the pages beside this one, when there are such pages.
    newer: Option<Cursor>,
    older: Option<Cursor>,
    waiting_for_default_user: bool,
    can_retry: bool,
    can_send_now: bool,
}

struct EventRow {
    received: String,
    event: String,
    opportunity: String,
    /// The candidate's name, once the delivery's job has read it from Lever.
    candidate: Option<String>,
    signature: (&'static str, &'static str),
    status: String,
    badge: &'static str,
    outcome: String,
    calls: Vec<String>,
    dead_job: Option<String>,
    /// When a job that failed runs again, and which attempt that is.
    next_attempt: Option<String>,
    /// The event's id, for *Send now*.
    id: String,
    /// For a delivery ignored for a missing tag: the tag configurations at its stage, as
    /// `(configuration id, tag)`, each of which an admin may send anyway.
    send_now: Vec<(String, String)>,
    /// The candidate emails of the assessments it created.
    emails: Vec<EmailLine>,
    /// The write-back steps Lever refused for the assessments it created: when, and why.
    refusals: Vec<String>,
}

/// One candidate email on the Events page: what it is and what became of it.
struct EmailLine {
    badge: &'static str,
    status: &'static str,
    text: String,
    /// Its job, when it died: the Retry button's target.
    dead_job: Option<String>,
}

fn email_line(email: &db::emails::AssessmentEmail, job: Option<&queue::Job>) -> EmailLine {
    use db::emails::{NO_ADDRESS, QUEUED, REFUSED, SENT, SKIPPED};
    let what = email.kind().label();
    let to = email.recipient.as_deref().unwrap_or("");
    let detail = email.detail.as_deref().unwrap_or("");
    let dead = job.filter(|j| j.state == crate::domain::JobState::Dead);
    let (badge, status, text) = match email.status.as_str() {
        SENT => (
            "ok",
            "sent",
            format!(
                "{what} sent to {to} at {}.",
                email
                    .sent_at
                    .unwrap_or(email.created_at)
                    .format("%-d %b %Y %H:%M:%S")
            ),
        ),
        NO_ADDRESS => ("warn", "not sent", format!("{what}: {detail}")),
        REFUSED => (
            "bad",
            "refused",
            format!("{what} to {to}: {detail}; not retried."),
        ),
        SKIPPED => ("muted", "skipped", format!("{what} to {to}: {detail}")),
        QUEUED if dead.is_some() => (
            "bad",
            "failed",
            format!(
                "{what} to {to} failed after {} attempts: {detail}",
                dead.map_or(0, |j| j.attempts)
            ),
        ),
        QUEUED if !detail.is_empty() => {
            let next = job
                .map(|j| {
                    format!(
                        " Next attempt ({} of {}) at {} UTC.",
                        j.attempts + 1,
                        j.max_attempts,
                        j.run_at.format("%-d %b %Y %H:%M:%S")
                    )
                })
                .unwrap_or_default();
            (
                "info",
                "queued",
                format!("{what} to {to}: attempt failed ({detail}).{next}"),
            )
        }
        _ => ("info", "queued", format!("{what} to {to} is queued.")),
    };
    EmailLine {
        badge,
        status,
        text,
        dead_job: dead.map(|j| j.id.clone()),
    }
}

/// Which page: from a cursor (the page's own links), or an old-style page number (links made
/// before the cursors, still answered), or the newest.
#[derive(Deserialize)]
pub struct PageQuery {
    older_than: Option<String>,
    newer_than: Option<String>,
    page: Option<i64>,
}

/// Where the page starts: the events it shows, newest first, and the pages beside it.
struct Window {
    events: Vec<db::webhooks::WebhookEvent>,
    newest: bool,
    newer: Option<Cursor>,
    older: Option<Cursor>,
}

/// Reads the page of events `start` asks for.
fn window(conn: &mut DbConn, org_id: &str, start: Start) -> QueryResult<Window> {
    use db::webhooks::{events_page, nth_newest_event, EventsFrom};
    let cursor = |e: &db::webhooks::WebhookEvent| Cursor {
        at: e.received_at,
        id: e.id.clone(),
    };
    let from = match start {
        Start::From(from) => from,
        Start::Page(n) => match nth_newest_event(conn, org_id, (n - 1) * PER_PAGE - 1)? {
            Some(before) => EventsFrom::OlderThan(before),
            // Past the oldest event.
            None => {
                return Ok(Window {
                    events: Vec::new(),
                    newest: false,
                    newer: None,
                    older: None,
                })
            }
        },
    };
    // One extra row tells whether a page beyond this one exists.
    let mut events = events_page(conn, org_id, &from, PER_PAGE + 1)?;
    let full = events.len() as i64 > PER_PAGE;
    events.truncate(PER_PAGE as usize);
    let (newest, newer_exists, older_exists) = match from {
        EventsFrom::Newest => (true, false, full),
        EventsFrom::OlderThan(_) => (false, true, full),
        // The page just newer than the cursor, whose own event is older than it.
        EventsFrom::NewerThan(_) if full => {
            events.reverse();
            (false, true, true)
        }
        // Less than a page is newer than the cursor: the newest page is asked for.
        EventsFrom::NewerThan(_) => {
            events = events_page(conn, org_id, &EventsFrom::Newest, PER_PAGE + 1)?;
            let full = events.len() as i64 > PER_PAGE;
            events.truncate(PER_PAGE as usize);
            (true, false, full)
        }
    };
    Ok(Window {
        newer: events.first().filter(|_| newer_exists).map(cursor),
        older: events.last().filter(|_| older_exists).map(cursor),
        newest,
        events,
    })
}

/// A page to read, once the query is parsed.
enum Start {
    From(db::webhooks::EventsFrom),
    /// An old-style page number, from 2.
    Page(i64),
}

impl Start {
    fn parse(query: &PageQuery) -> Result<Start, WebError> {
        use db::webhooks::EventsFrom;
        Ok(match (&query.older_than, &query.newer_than) {
            (Some(raw), None) => Start::From(EventsFrom::OlderThan(keyset::cursor(raw)?)),
            (None, Some(raw)) => Start::From(EventsFrom::NewerThan(keyset::cursor(raw)?)),
            (Some(_), Some(_)) => return Err(keyset::bad_link()),
            (None, None) => match query.page {
                Some(n) if n > 1 => Start::Page(n.min(1_000_000)),
                _ => Start::From(EventsFrom::Newest),
            },
        })
    }
}

pub async fn list(org: OrgReader, query: web::Query<PageQuery>) -> Result<HttpResponse, WebError> {
    let start = Start::parse(&query)?;
    let org_id = org.org.id.clone();
    let records = org
        .state
        .db
        .run(move |conn| EventRecords::read(conn, &org_id, start))
        .await?;
    let waiting_for_default_user = records
        .connection
        .as_ref()
        .is_some_and(|c| c.default_user_id.is_none());
    let mut details = EventDetails::gather(records.calls, records.event_jobs);
    details.emails = emails_by_event(&records.emails, records.email_jobs);
    details.refusals = refusals_by_event(records.refusals);
    let window = records.window;
    let rows = window
        .events
        .into_iter()
        .map(|e| details.row(e, &records.configurations))
        .collect();
    let can_retry = matches!(
        org.role,
        crate::domain::Role::Admin | crate::domain::Role::Support
    );
    render(&EventsPage {
        chrome: Chrome::new(&org, "Events", Nav::Events),
        rows,
        newest: window.newest,
        newer: window.newer,
        older: window.older,
        waiting_for_default_user,
        can_retry,
        can_send_now: org.role == crate::domain::Role::Admin,
    })
}

/// Everything the page shows about one window of events, read in one go.
struct EventRecords {
    window: Window,
    calls: Vec<db::lever_calls::LeverCallRecord>,
    event_jobs: Vec<queue::EventJob>,
    connection: Option<db::lever::LeverConnection>,
    configurations: Vec<Configuration>,
    emails: Vec<(String, db::emails::AssessmentEmail)>,
    email_jobs: Vec<queue::Job>,
    refusals: Vec<(String, chrono::NaiveDateTime, String)>,
}

impl EventRecords {
    fn read(conn: &mut DbConn, org_id: &str, start: Start) -> Result<Self, DbError> {
        let window = window(conn, org_id, start)?;
        let ids: Vec<String> = window.events.iter().map(|e| e.id.clone()).collect();
        let emails = db::emails::for_events(conn, &ids)?;
        let job_ids: Vec<String> = emails
            .iter()
            .filter_map(|(_, e)| e.job_id.clone())
            .collect();
        Ok(EventRecords {
            calls: db::lever_calls::for_events(conn, &ids)?,
            event_jobs: queue::for_events(conn, &ids)?,
            email_jobs: queue::by_ids(conn, &job_ids)?,
            refusals: db::assessment_history::refusals_for_events(conn, &ids)?,
            connection: db::lever::connection(conn, org_id)?,
            configurations: db::configurations::list(conn, org_id)?,
            emails,
            window,
        })
    }
}

/// What the page says under each event, by event id; each row takes its own.
#[derive(Default)]
struct EventDetails {
    calls: HashMap<String, Vec<String>>,
    /// The dead job of an event, for its Retry button.
    dead: HashMap<String, String>,
    next_attempts: HashMap<String, String>,
    emails: HashMap<String, Vec<EmailLine>>,
    refusals: HashMap<String, Vec<String>>,
}

impl EventDetails {
    /// The Lever calls made for each event, and what became of each event's job.
    fn gather(calls: Vec<db::lever_calls::LeverCallRecord>, jobs: Vec<queue::EventJob>) -> Self {
        let mut details = EventDetails::default();
        for call in calls {
            let line = call_line(&call);
            details
                .calls
                .entry(call.event_id.unwrap_or_default())
                .or_default()
                .push(line);
        }
        for job in jobs {
            let Some(event) = job.event_id.clone() else {
                continue;
            };
            if job.state == crate::domain::JobState::Dead {
                details.dead.insert(event, job.job_id);
            } else if let Some(at) = job.next_attempt() {
                let next = format!(
                    "Next attempt ({} of {}) at {} UTC.",
                    job.attempts + 1,
                    job.max_attempts,
                    at.format("%-d %b %Y %H:%M:%S")
                );
                details.next_attempts.insert(event, next);
            }
        }
        details
    }

    fn row(&mut self, e: db::webhooks::WebhookEvent, configurations: &[Configuration]) -> EventRow {
        EventRow {
            received: e.received_at.format("%-d %b %Y %H:%M:%S").to_string(),
            event: webhook_event(&e.event)
                .map(|k| k.label.to_owned())
                .unwrap_or(e.event.clone()),
            opportunity: e.opportunity_id.clone().unwrap_or_default(),
            candidate: e.candidate_name.clone(),
            signature: signature(&e),
            badge: e.status.badge(),
            status: e.status.label(),
            outcome: e.outcome.clone(),
            calls: self.calls.remove(&e.id).unwrap_or_default(),
            dead_job: self.dead.get(&e.id).cloned(),
            next_attempt: self.next_attempts.remove(&e.id),
            send_now: send_now_choices(&e, configurations),
            emails: self.emails.remove(&e.id).unwrap_or_default(),
            refusals: self.refusals.remove(&e.id).unwrap_or_default(),
            id: e.id,
        }
    }
}

/// One Lever call as the page lists it: the request, its answer, the attempt and the time.
fn call_line(call: &db::lever_calls::LeverCallRecord) -> String {
    let result = match (call.status, &call.error) {
        (Some(status), _) => status.to_string(),
        (None, Some(error)) => error.clone(),
        (None, None) => "no answer".into(),
    };
    let retry = if call.attempt > 1 {
        format!(" (attempt {})", call.attempt)
    } else {
        String::new()
    };
    format!(
        "{} {} → {result}{retry}, {} ms",
        call.method, call.path, call.duration_ms
    )
}

/// Whether the delivery's signature was checked and held: (label, badge class).
fn signature(e: &db::webhooks::WebhookEvent) -> (&'static str, &'static str) {
    match (e.signature_valid, e.status) {
        (true, _) => ("Valid", "ok"),
        (false, DeliveryStatus::Verification) => ("Not checked", "muted"),
        (false, _) if e.outcome.contains("signature invalid") => ("Invalid", "bad"),
        (false, _) => ("Not checked", "muted"),
    }
}

/// For a delivery ignored for a missing tag: the tag configurations an admin may send anyway.
fn send_now_choices(
    e: &db::webhooks::WebhookEvent,
    configurations: &[Configuration],
) -> Vec<(String, String)> {
    if e.status != DeliveryStatus::NoTag {
        return Vec::new();
    }
    configurations
        .iter()
        .filter(|c| sendable(c, e.to_stage_id.as_deref()))
        .map(|c| (c.id.clone(), c.tag_name.clone().unwrap_or_default()))
        .collect()
}

/// The candidate emails of each event's assessments, each with what its job did.
fn emails_by_event(
    emails: &[(String, db::emails::AssessmentEmail)],
    jobs: Vec<queue::Job>,
) -> HashMap<String, Vec<EmailLine>> {
    let jobs: HashMap<String, queue::Job> = jobs.into_iter().map(|j| (j.id.clone(), j)).collect();
    let mut by_event: HashMap<String, Vec<EmailLine>> = HashMap::new();
    for (event, email) in emails {
        let job = email.job_id.as_ref().and_then(|id| jobs.get(id));
        by_event
            .entry(event.clone())
            .or_default()
            .push(email_line(email, job));
    }
    by_event
}

/// The write-back steps Lever refused for each event's assessments: when, and why.
fn refusals_by_event(
    refusals: Vec<(String, chrono::NaiveDateTime, String)>,
) -> HashMap<String, Vec<String>> {
    let mut by_event: HashMap<String, Vec<String>> = HashMap::new();
    for (event, at, what) in refusals {
        by_event
            .entry(event)
            .or_default()
            .push(format!("{}: {what}", at.format("%-d %b %Y %H:%M:%S")));
    }
    by_event
}

/// Whether *Send now* may fire `configuration` for a delivery to `stage_id`: a tag
/// configuration at that stage.
fn sendable(configuration: &Configuration, stage_id: Option<&str>) -> bool {
    configuration.style() == TriggerStyle::Tag
        && stage_id.is_some()
        && configuration.trigger_stage_id.as_deref() == stage_id
}

#[derive(Deserialize)]
pub struct SendNowForm {
    #[serde(default)]
    configuration_id: String,
}

/// *Send now*: an admin fires a tag configuration for a delivery ignored because the
/// candidate lacked its tag (added after the move), as if the tag had been there. The
/// stage-change job runs again for the delivery, recording who sent it.
pub async fn send_now(
    org: AdminPage,
    path: web::Path<(String, String)>,
    CsrfForm(form): CsrfForm<SendNowForm>,
) -> Result<HttpResponse, WebError> {
    let (org_id, event_id) = (org.org.id.clone(), path.1.clone());
    let by = org.user.email.clone();
    let attempts = org.state.settings.tuning.job_max_attempts;
    let queued = org
        .state
        .db
        .run(move |conn| -> Result<Option<String>, DbError> {
            db::connection::write_transaction(conn, |conn| {
                let Some(event) = db::webhooks::event(conn, &org_id, &event_id)? else {
                    return Ok(None);
                };
                let configuration =
                    db::configurations::find(conn, &org_id, &form.configuration_id)?;
                let (Some(opportunity_id), Some(to_stage_id), Some(configuration)) = (
                    event.opportunity_id,
                    event.to_stage_id.clone(),
                    configuration,
                ) else {
                    return Ok(None);
                };
                if event.status != DeliveryStatus::NoTag
                    || !sendable(&configuration, Some(&to_stage_id))
                {
                    return Ok(None);
                }
                let payload = stage_change::StageChangeJob {
                    opportunity_id,
                    to_stage_id,
                    send_now: Some(stage_change::SendNow {
                        configuration_id: configuration.id.clone(),
                        by: by.clone(),
                    }),
                };
                let job = NewJob::of(&org_id, &payload, attempts).for_event(Some(&event.id));
                crate::queue::enqueue(conn, &job)?;
                let tag = configuration.tag_name.unwrap_or_default();
                let queued = EventOutcome::SendNowQueued {
                    by: by.clone(),
                    tag: tag.clone(),
                    configuration_id: configuration.id.clone(),
                };
                db::webhooks::record_outcome(conn, &event.id, &queued)?;
                Ok(Some(tag))
            })
        })
        .await?;
    match queued {
        Some(tag) => {
            org.state.jobs.wake();
            org.flash(
                "success",
                format!("Sending the “{tag}” assessment now; the outcome appears here when it has run."),
            );
        }
        None => org.flash(
            "error",
            "That delivery can no longer be sent now (it has been sent, or its configuration changed).",
        ),
    }
    Ok(see_other(&org.url("/events")))
}

/// Re-runs a dead job: admins, and support staff (the one change they may make).
/// Admins and support staff may re-run a failed delivery.
pub async fn retry(
    org: OrgReader,
    path: web::Path<(String, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let (org_id, job_id) = (org.org.id.clone(), path.1.clone());
    let requeued = org
        .state
        .db
        .run(move |conn| -> Result<bool, DbError> {
            let requeued = queue::retry(conn, &org_id, &job_id)?;
            if requeued {
                if let Some(event) = queue::find(conn, &job_id)?.and_then(|j| j.event_id) {
                    db::webhooks::record_outcome(conn, &event, &EventOutcome::QueuedAgainByHand)?;
                }
            }
            Ok(requeued)
        })
        .await?;
    if requeued {
        // A candidate email's job has no delivery of its own; its row is queued again too.
        let job_id = path.1.clone();
        org.state
            .db
            .run(move |conn| db::emails::requeue_for_job(conn, &job_id).map_err(DbError::from))
            .await?;
        org.state.jobs.wake();
        org.flash(
            "success",
            "Queued again; the outcome appears here when it has run.",
        );
    } else {
        org.flash(
            "error",
            "That job is not waiting for a retry (it may already have run).",
        );
    }
    Ok(see_other(&org.url("/events")))
}
