//! PostgreSQL: a whole batch is one statement (its rows passed as arrays), so storing it costs
//! one round trip and one commit, and its text never changes, so each connection prepares it
//! once. The statement claims the delivery tokens, stores every event (those whose token was
//! claimed before as duplicates) and the jobs of the others, adds the batch to this writer's
//! tallies for the Webhooks page, and returns the duplicates.
//! Tokens are claimed in key order (the first copy in the batch still wins), so two writers
//! whose batches share tokens wait for each other in one order and never deadlock.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Timestamp, Untyped};

use super::{counted, duplicate_outcome, Delivery, Stored, ADD_TO_TALLY, DUPLICATE};
use crate::db::{DbConn, DbError};

pub(super) fn store_batch(
    conn: &mut DbConn,
    mut deliveries: Vec<Delivery>,
    writer: i32,
) -> Result<Vec<Stored>, DbError> {
    let DbConn::Pg(pg) = conn else {
        unreachable!("the PostgreSQL intake runs on PostgreSQL connections")
    };
    let duplicates: HashSet<String> = StoreBatch::new(&deliveries, writer)
        .load::<Duplicate>(pg)?
        .into_iter()
        .map(|d| d.id)
        .collect();
    if !duplicates.is_empty() {
        for delivery in deliveries
            .iter_mut()
            .filter(|d| duplicates.contains(&d.event.id))
        {
            delivery.mark_duplicate(None);
        }
        // Stored already, with a general outcome; this only names each first copy, now that
        // its transaction has surely committed. Failing here loses nothing.
        if let Err(e) = name_first_copies(pg, &mut deliveries, &duplicates) {
            tracing::warn!(error = %e, "could not name the deliveries duplicates repeat");
        }
    }
    Ok(deliveries.iter().map(Delivery::stored).collect())
}

/// Rewrites the duplicates' outcomes to name the delivery each repeats: two round trips
/// however many there are.
fn name_first_copies(
    pg: &mut PgConnection,
    deliveries: &mut [Delivery],
    duplicates: &HashSet<String>,
) -> QueryResult<()> {
    let ids: Vec<&String> = duplicates.iter().collect();
    let firsts: HashMap<String, NaiveDateTime> = diesel::sql_query(
        "SELECT e.id, f.received_at AS first_received FROM webhook_events e \
         JOIN seen_tokens s ON s.org_id = e.org_id AND s.triggered_at = e.triggered_at \
         AND s.token = e.token \
         JOIN webhook_events f ON f.id = s.event_id WHERE e.id = ANY($1)",
    )
    .bind::<Array<Text>, _>(&ids)
    .load::<FirstCopy>(pg)?
    .into_iter()
    .map(|f| (f.id, f.first_received))
    .collect();
    let mut ids = Vec::new();
    let mut outcomes = Vec::new();
    for delivery in deliveries
        .iter_mut()
        .filter(|d| duplicates.contains(&d.event.id))
    {
        delivery.mark_duplicate(firsts.get(&delivery.event.id).copied());
        ids.push(delivery.event.id.clone());
        outcomes.push(delivery.event.outcome.clone());
    }
    diesel::sql_query(
        "UPDATE webhook_events SET outcome = u.outcome FROM unnest($1, $2) AS u(id, outcome) \
         WHERE webhook_events.id = u.id",
    )
    .bind::<Array<Text>, _>(&ids)
    .bind::<Array<Text>, _>(&outcomes)
    .execute(pg)?;
    Ok(())
}

#[derive(QueryableByName)]
struct FirstCopy {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Timestamp)]
    first_received: NaiveDateTime,
}

#[derive(QueryableByName)]
struct Duplicate {
    #[diesel(sql_type = Text)]
    id: String,
}

/// The batch as columns.
#[derive(Default)]
struct StoreBatch {
    // webhook_events
    ids: Vec<String>,
    org_ids: Vec<String>,
    received_at: Vec<NaiveDateTime>,
    events: Vec<String>,
    tokens: Vec<Option<String>>,
    triggered_at: Vec<Option<i64>>,
    opportunity_ids: Vec<Option<String>>,
    to_stage_ids: Vec<Option<String>>,
    signature_valid: Vec<bool>,
    statuses: Vec<String>,
    outcomes: Vec<String>,
    configuration_ids: Vec<Option<String>>,
    bodies: Vec<String>,
    /// Whether the event must be the first with its token.
    claims: Vec<bool>,
    /// Whether the Webhooks page counts the event.
    counted: Vec<bool>,
    /// Whose row of `webhook_event_stats` the batch adds to.
    writer: i32,
    duplicate_outcome: String,
    // jobs
    job_ids: Vec<String>,
    job_org_ids: Vec<String>,
    kinds: Vec<String>,
    payloads: Vec<String>,
    states: Vec<String>,
    attempts: Vec<i32>,
    max_attempts: Vec<i32>,
    run_at: Vec<NaiveDateTime>,
    locked_until: Vec<Option<NaiveDateTime>>,
    locked_by: Vec<Option<String>>,
    last_errors: Vec<Option<String>>,
    job_event_ids: Vec<Option<String>>,
    created_at: Vec<NaiveDateTime>,
    updated_at: Vec<NaiveDateTime>,
}

impl StoreBatch {
    fn new(deliveries: &[Delivery], writer: i32) -> StoreBatch {
        let mut batch = StoreBatch {
            duplicate_outcome: duplicate_outcome(None),
            writer,
            ..StoreBatch::default()
        };
        for delivery in deliveries {
            let e = &delivery.event;
            batch.ids.push(e.id.clone());
            batch.org_ids.push(e.org_id.clone());
            batch.received_at.push(e.received_at);
            batch.events.push(e.event.clone());
            batch.tokens.push(e.token.clone());
            batch.triggered_at.push(e.triggered_at);
            batch.opportunity_ids.push(e.opportunity_id.clone());
            batch.to_stage_ids.push(e.to_stage_id.clone());
            batch.signature_valid.push(e.signature_valid);
            batch.statuses.push(e.status.clone());
            batch.outcomes.push(e.outcome.clone());
            batch.configuration_ids.push(e.configuration_id.clone());
            batch.bodies.push(e.body.clone());
            batch.claims.push(delivery.claim().is_some());
            batch.counted.push(counted(e));
            if let Some(job) = &delivery.job {
                batch.job_ids.push(job.id.clone());
                batch.job_org_ids.push(job.org_id.clone());
                batch.kinds.push(job.kind.clone());
                batch.payloads.push(job.payload.clone());
                batch.states.push(job.state.clone());
                batch.attempts.push(job.attempts);
                batch.max_attempts.push(job.max_attempts);
                batch.run_at.push(job.run_at);
                batch.locked_until.push(job.locked_until);
                batch.locked_by.push(job.locked_by.clone());
                batch.last_errors.push(job.last_error.clone());
                batch.job_event_ids.push(job.event_id.clone());
                batch.created_at.push(job.created_at);
                batch.updated_at.push(job.updated_at);
            }
        }
        batch
    }
}

impl QueryId for StoreBatch {
    type QueryId = StoreBatch;
    // The text is the same for every batch, so the prepared statement is reused.
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for StoreBatch {
    type SqlType = Untyped;
}

impl RunQueryDsl<PgConnection> for StoreBatch {}

impl QueryFragment<Pg> for StoreBatch {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // Binds each column as an array, separated by commas.
        macro_rules! binds {
            ($first_type:ty => $first:ident $(, $type:ty => $field:ident)* $(,)?) => {
                out.push_bind_param::<Array<$first_type>, _>(&self.$first)?;
                $(
                    out.push_sql(", ");
                    out.push_bind_param::<Array<$type>, _>(&self.$field)?;
                )*
            };
        }
        out.push_sql("WITH input AS (SELECT * FROM unnest(");
        binds!(
            Text => ids,
            Text => org_ids,
            Timestamp => received_at,
            Text => events,
            Nullable<Text> => tokens,
            Nullable<BigInt> => triggered_at,
            Nullable<Text> => opportunity_ids,
            Nullable<Text> => to_stage_ids,
            Bool => signature_valid,
            Text => statuses,
            Text => outcomes,
            Nullable<Text> => configuration_ids,
            Text => bodies,
            Bool => claims,
            Bool => counted
        );
        out.push_sql(
            ") WITH ORDINALITY AS i(id, org_id, received_at, event, token, triggered_at, \
             opportunity_id, to_stage_id, signature_valid, status, outcome, configuration_id, \
             body, claims, counted, n)), \
             claimed AS (INSERT INTO seen_tokens (org_id, triggered_at, token, event_id) \
             SELECT org_id, triggered_at, token, id FROM input WHERE claims \
             ORDER BY org_id, triggered_at, token, n \
             ON CONFLICT DO NOTHING RETURNING event_id), \
             lost AS (SELECT id FROM input \
             WHERE claims AND id NOT IN (SELECT event_id FROM claimed)), \
             events AS (INSERT INTO webhook_events (id, org_id, received_at, event, token, \
             triggered_at, opportunity_id, to_stage_id, signature_valid, status, outcome, \
             configuration_id, body) \
             SELECT id, org_id, received_at, event, token, triggered_at, opportunity_id, \
             to_stage_id, signature_valid, \
             CASE WHEN id IN (SELECT id FROM lost) THEN ",
        );
        out.push_bind_param::<Text, _>(DUPLICATE)?;
        out.push_sql(" ELSE status END, CASE WHEN id IN (SELECT id FROM lost) THEN ");
        out.push_bind_param::<Text, _>(&self.duplicate_outcome)?;
        out.push_sql(
            " ELSE outcome END, configuration_id, body FROM input), \
             queued AS (INSERT INTO jobs (id, org_id, kind, payload, state, attempts, \
             max_attempts, run_at, locked_until, locked_by, last_error, event_id, created_at, \
             updated_at) SELECT * FROM unnest(",
        );
        binds!(
            Text => job_ids,
            Text => job_org_ids,
            Text => kinds,
            Text => payloads,
            Text => states,
            Integer => attempts,
            Integer => max_attempts,
            Timestamp => run_at,
            Nullable<Timestamp> => locked_until,
            Nullable<Text> => locked_by,
            Nullable<Text> => last_errors,
            Nullable<Text> => job_event_ids,
            Timestamp => created_at,
            Timestamp => updated_at
        );
        out.push_sql(
            ") AS j(id, org_id, kind, payload, state, attempts, max_attempts, run_at, \
             locked_until, locked_by, last_error, event_id, created_at, updated_at) \
             WHERE j.event_id IS NULL OR j.event_id NOT IN (SELECT id FROM lost)), \
             tallied AS (INSERT INTO webhook_event_stats (org_id, event, writer, accepted, \
             rejected, last_received_at, last_signature_valid, last_verification_at) \
             SELECT org_id, event, ",
        );
        out.push_bind_param::<Integer, _>(&self.writer)?;
        out.push_sql(
            ", count(*) FILTER (WHERE status <> 'rejected'), \
             count(*) FILTER (WHERE status = 'rejected'), max(received_at), \
             (array_agg(signature_valid ORDER BY received_at DESC, n DESC))[1], \
             max(received_at) FILTER (WHERE status = 'verification' \
             AND id NOT IN (SELECT id FROM lost)) \
             FROM input WHERE counted GROUP BY org_id, event ORDER BY org_id, event",
        );
        out.push_sql(ADD_TO_TALLY);
        out.push_sql(") SELECT id FROM lost");
        Ok(())
    }
}
