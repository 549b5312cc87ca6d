//! The history the pages are measured against, written straight into a fresh database in
//! batches: deliveries, one finished job each, the assessments a fifth of them created with
//! their Lever calls and invitation emails, and a few jobs still open.

use chrono::{Duration, NaiveDateTime};
use diesel::{Connection, RunQueryDsl};
use leverbridge::db::configurations::Configuration;
use leverbridge::db::emails::AssessmentEmail;
use leverbridge::db::lever_calls::LeverCallRecord;
use leverbridge::db::schema::{
    assessment_emails, assessments, jobs, lever_calls, webhook_event_stats, webhook_events,
};
use leverbridge::db::webhooks::{EventTally, WebhookEvent};
use leverbridge::db::{self, Db, DbConn};
use leverbridge::domain::{DeliveryStatus, JobState, Lane};
use leverbridge::queue::Job;

use crate::EVENT;

/// How much history the organization has.
#[derive(Clone, Copy)]
pub struct Size {
    pub deliveries: usize,
    /// One delivery in `fired_every` created an assessment.
    pub fired_every: usize,
}

/// What the measured URLs need to know about the seeded history.
pub struct Seeded {
    pub org_slug: String,
    /// Every delivery's (received_at, id), newest first.
    pub events_newest_first: Vec<(NaiveDateTime, String)>,
    /// Every assessment's (created_at, id), newest first.
    pub assessments_newest_first: Vec<(NaiveDateTime, String)>,
}

/// Rows per multi-row statement on PostgreSQL (its limit is 65535 bound values).
const CHUNK: usize = 1000;

/// Inserts `rows` into `table`: one statement per row on SQLite (no round trips there), one per
/// chunk on PostgreSQL, all in one transaction.
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        match $conn {
            DbConn::Sqlite(c) => c.transaction(|c| {
                for row in rows.iter() {
                    diesel::insert_into($table).values(row).execute(c)?;
                }
                diesel::QueryResult::Ok(())
            }),
            DbConn::Pg(c) => c.transaction(|c| {
                for chunk in rows.chunks(CHUNK) {
                    diesel::insert_into($table).values(chunk).execute(c)?;
                }
                diesel::QueryResult::Ok(())
            }),
        }
    }};
}

const STATES: [&str; 7] = [
    "invited",
    "started",
    "submitted",
    "passed",
    "failed",
    "expired",
    "cancelled",
];

pub fn seed(db: &Db, org_id: &str, org_slug: &str, size: Size) -> anyhow::Result<Seeded> {
    let mut conn = db.get()?;
    let conn: &mut DbConn = &mut conn;
    let now = db::now();
    let configuration = Configuration {
        id: db::new_id(),
        org_id: org_id.to_owned(),
        trigger_stage_id: Some("stage-assessment".into()),
        pad_kind: "live".into(),
        tag_name: Some("coding-test".into()),
        created_at: now,
        updated_at: now,
        question_id: None,
        trigger_style: "tag".into(),
        stage_prefix: None,
        question_source: "library".into(),
        question_tag_prefix: None,
    };
    db::configurations::insert(conn, &configuration)?;

    let (mut events, mut jobs_done, mut found, mut calls, mut emails) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // A delivery a minute, the newest a minute ago.
    for i in 0..size.deliveries {
        let at = now - Duration::minutes((size.deliveries - i) as i64);
        let id = db::new_id();
        let opportunity = format!("opp-{i:07}");
        let fired = i % size.fired_every == 0;
        let (status, outcome) = if fired {
            (
                DeliveryStatus::Fired,
                "Invited to the live interview pad (coding-test).",
            )
        } else {
            (
                DeliveryStatus::Ignored,
                "The candidate has no configuration's tag.",
            )
        };
        events.push(WebhookEvent {
            id: id.clone(),
            org_id: org_id.to_owned(),
            received_at: at,
            event: EVENT.into(),
            token: Some(leverbridge::crypto::random_token(16)),
            triggered_at: Some(at.and_utc().timestamp_millis()),
            opportunity_id: Some(opportunity.clone()),
            to_stage_id: Some("stage-assessment".into()),
            signature_valid: true,
            status,
            outcome: outcome.into(),
            configuration_id: fired.then(|| configuration.id.clone()),
            body: format!(
                r#"{{"event":"{EVENT}","triggeredAt":{},"data":{{"opportunityId":"{opportunity}","toStageId":"stage-assessment","fromStageId":"stage-phone-screen"}}}}"#,
                at.and_utc().timestamp_millis()
            ),
            candidate_name: Some(format!("Candidate {i}")),
        });
        let mut job = Job {
            id: db::new_id(),
            org_id: org_id.to_owned(),
            kind: "stage_change".into(),
            payload: format!(
                r#"{{"opportunity_id":"{opportunity}","to_stage_id":"stage-assessment"}}"#
            ),
            state: JobState::Done,
            attempts: 1,
            max_attempts: 12,
            run_at: at,
            locked_until: None,
            locked_by: None,
            last_error: None,
            event_id: Some(id.clone()),
            created_at: at,
            updated_at: at + Duration::seconds(1),
            lane: Lane::Lever,
        };
        // The newest few are still open: two queued, one dead.
        if i + 3 >= size.deliveries {
            job.state = if i + 1 == size.deliveries {
                JobState::Dead
            } else {
                JobState::Queued
            };
        }
        jobs_done.push(job);
        if fired {
            let assessment = found.len();
            let assessment_id = db::new_id();
            found.push((
                assessment_id.clone(),
                at,
                id.clone(),
                opportunity.clone(),
                assessment,
            ));
            for (n, (method, path)) in [
                ("GET", "/opportunities/{id}"),
                ("POST", "/opportunities/{id}/addLinks"),
                ("POST", "/opportunities/{id}/addTags"),
                ("POST", "/opportunities/{id}/notes"),
            ]
            .into_iter()
            .enumerate()
            {
                calls.push(LeverCallRecord {
                    id: db::new_id(),
                    org_id: org_id.to_owned(),
                    event_id: Some(id.clone()),
                    method: method.into(),
                    path: path.replace("{id}", &opportunity),
                    status: Some(200),
                    error: None,
                    attempt: 1,
                    duration_ms: 40,
                    at: at + Duration::milliseconds(100 * n as i64),
                });
            }
            emails.push(AssessmentEmail {
                id: db::new_id(),
                org_id: org_id.to_owned(),
                assessment_id,
                kind: "invitation".into(),
                recipient: Some(format!("candidate{i}@example.test")),
                status: "sent".into(),
                detail: None,
                job_id: None,
                created_at: at,
                sent_at: Some(at + Duration::seconds(2)),
            });
        }
    }
    let assessment_rows: Vec<_> = found
        .iter()
        .map(|(id, at, event_id, opportunity, n)| {
            (
                assessments::id.eq(id.clone()),
                assessments::org_id.eq(org_id.to_owned()),
                assessments::configuration_id.eq(configuration.id.clone()),
                assessments::opportunity_id.eq(opportunity.clone()),
                assessments::candidate_name.eq(format!("Candidate {n}")),
                assessments::token.eq(leverbridge::crypto::random_token(24)),
                assessments::pad_kind.eq("live"),
                assessments::tag_name.eq("coding-test"),
                assessments::state.eq(STATES[n % STATES.len()]),
                assessments::event_id.eq(event_id.clone()),
                assessments::created_at.eq(*at),
                assessments::question_language.eq("python"),
                assessments::starter_code.eq(""),
            )
        })
        .collect();
    use diesel::ExpressionMethods;
    insert_all!(conn, webhook_events::table, &events)?;
    insert_all!(conn, jobs::table, &jobs_done)?;
    insert_all!(conn, assessments::table, &assessment_rows)?;
    insert_all!(conn, lever_calls::table, &calls)?;
    insert_all!(conn, assessment_emails::table, &emails)?;
    let newest = events.last().map_or(now, |e| e.received_at);
    let tally = EventTally {
        org_id: org_id.to_owned(),
        event: EVENT.into(),
        writer: 0,
        accepted: events.len() as i64,
        rejected: 0,
        last_received_at: newest,
        last_signature_valid: true,
        last_verification_at: None,
    };
    insert_all!(conn, webhook_event_stats::table, &[tally])?;
    // The planner's statistics, as a database that has been running a while has them
    // (PostgreSQL's autovacuum; SQLite keeps none unless asked).
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("VACUUM ANALYZE").execute(c)?;
    }
    Ok(Seeded {
        org_slug: org_slug.to_owned(),
        events_newest_first: events
            .iter()
            .rev()
            .map(|e| (e.received_at, e.id.clone()))
            .collect(),
        assessments_newest_first: found
            .iter()
            .rev()
            .map(|(id, at, ..)| (*at, id.clone()))
            .collect(),
    })
}
