//! Storing a batch of deliveries in one transaction, so they share one commit: their delivery
//! tokens claimed (in key order, so two writers whose batches share tokens wait for each other in
//! one order and never deadlock), their events, their jobs (`queue::enqueue_rows`), and the
//! batch's tallies for the Webhooks page. Outcomes come back in the deliveries' order.
//!
//! Each statement takes the shape that is cheap on its backend: on SQLite one cached single-row
//! statement per row (`db::cached::Fixed`: there is no round trip, and rebuilding the SQL per row
//! was the larger cost), on PostgreSQL one statement per table for the whole batch (each
//! statement is a round trip).

use std::collections::HashSet;

use diesel::prelude::*;

use super::{tallies, Delivery, Stored};
use crate::db::cached::Fixed;
use crate::db::connection::write_transaction;
use crate::db::schema::{seen_tokens, webhook_events};
use crate::db::webhooks::{self, EventTally, SeenToken};
use crate::db::{DbConn, DbError};
use crate::queue;

pub(super) fn store_batch(
    conn: &mut DbConn,
    mut deliveries: Vec<Delivery>,
    writer: i32,
) -> Result<Vec<Stored>, DbError> {
    write_transaction(conn, |conn| -> Result<_, DbError> {
        let mut claims: Vec<(usize, SeenToken)> = deliveries
            .iter()
            .enumerate()
            .filter_map(|(i, d)| Some((i, d.claim()?)))
            .collect();
        claims.sort_by(|(i, a), (j, b)| {
            (&a.org_id, a.triggered_at, &a.token, i).cmp(&(&b.org_id, b.triggered_at, &b.token, j))
        });
        let claimed = claim_tokens(conn, &claims)?;
        for (i, claim) in claims {
            if !claimed.contains(&deliveries[i].event.id) {
                // Claimed before, perhaps earlier in this batch (whose event is stored).
                let first = webhooks::first_received(conn, &claim)?;
                deliveries[i].mark_duplicate(first);
            }
        }
        let events = deliveries.iter().map(|d| &d.event);
        match conn {
            DbConn::Sqlite(c) => {
                enum StoreEvent {}
                for event in events {
                    Fixed::<StoreEvent, _>::new(
                        diesel::insert_into(webhook_events::table).values(event),
                    )
                    .execute(c)?;
                }
            }
            DbConn::Pg(c) => {
                diesel::insert_into(webhook_events::table)
                    .values(events.collect::<Vec<_>>())
                    .execute(c)?;
            }
        }
        let queued: Vec<_> = deliveries.iter().filter_map(|d| d.job.as_ref()).collect();
        queue::enqueue_rows(conn, &queued)?;
        for tally in tallies(&deliveries, writer) {
            add_to_tally(conn, tally)?;
        }
        Ok(deliveries.iter().map(Delivery::stored).collect())
    })
}

/// Claims the delivery tokens, in the order given; returns the events whose claim succeeded.
fn claim_tokens(conn: &mut DbConn, claims: &[(usize, SeenToken)]) -> QueryResult<HashSet<String>> {
    let mut claimed = HashSet::new();
    match conn {
        DbConn::Sqlite(c) => {
            enum ClaimToken {}
            for (_, claim) in claims {
                let inserted = Fixed::<ClaimToken, _>::new(
                    diesel::insert_into(seen_tokens::table)
                        .values(claim)
                        .on_conflict_do_nothing(),
                )
                .execute(c)?;
                if inserted == 1 {
                    claimed.insert(claim.event_id.clone());
                }
            }
        }
        DbConn::Pg(c) if !claims.is_empty() => {
            // Rows are inserted in the order listed, so the first copy of a token wins.
            let rows: Vec<_> = claims.iter().map(|(_, claim)| claim).collect();
            claimed.extend(
                diesel::insert_into(seen_tokens::table)
                    .values(rows)
                    .on_conflict_do_nothing()
                    .returning(seen_tokens::event_id)
                    .get_results::<String>(c)?,
            );
        }
        DbConn::Pg(_) => {}
    }
    Ok(claimed)
}

/// Adds a batch's tally to this writer's row for its organization and event, in one statement
/// that adds to what the row holds when it is written (`accepted = accepted + …`). Reading the
/// row and writing back what it came to would lose increments: every process numbers its
/// writers from 0, so replicas write the same rows, and one's write would overwrite the other's.
/// (An atomic upsert rather than a trigger per stored event, as the assessment counts use: the
/// batch is tallied already, and one statement per organization and event costs less than one
/// row update per delivery.)
fn add_to_tally(conn: &mut DbConn, batch: EventTally) -> QueryResult<()> {
    use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamp};
    macro_rules! upsert {
        ($conn:expr, $sql:expr) => {
            diesel::sql_query($sql)
                .bind::<Text, _>(&batch.org_id)
                .bind::<Text, _>(&batch.event)
                .bind::<Integer, _>(batch.writer)
                .bind::<BigInt, _>(batch.accepted)
                .bind::<BigInt, _>(batch.rejected)
                .bind::<Timestamp, _>(batch.last_received_at)
                .bind::<Bool, _>(batch.last_signature_valid)
                .bind::<Nullable<Timestamp>, _>(batch.last_verification_at)
                .execute($conn)
        };
    }
    match conn {
        DbConn::Sqlite(c) => upsert!(c, add_to_tally_sql(|_| "?".to_owned())),
        DbConn::Pg(c) => upsert!(c, add_to_tally_sql(|n| format!("${n}"))),
    }?;
    Ok(())
}

/// The statement of [`add_to_tally`], its eight parameters written as `placeholder` says.
fn add_to_tally_sql(placeholder: impl Fn(usize) -> String) -> String {
    let values: Vec<String> = (1..=8).map(placeholder).collect();
    format!(
        "INSERT INTO webhook_event_stats (org_id, event, writer, accepted, rejected, \
         last_received_at, last_signature_valid, last_verification_at) VALUES ({}) \
         ON CONFLICT (org_id, event, writer) DO UPDATE SET \
         accepted = webhook_event_stats.accepted + excluded.accepted, \
         rejected = webhook_event_stats.rejected + excluded.rejected, \
         last_signature_valid = CASE WHEN excluded.last_received_at >= webhook_event_stats.last_received_at \
             THEN excluded.last_signature_valid ELSE webhook_event_stats.last_signature_valid END, \
         last_received_at = CASE WHEN excluded.last_received_at >= webhook_event_stats.last_received_at \
             THEN excluded.last_received_at ELSE webhook_event_stats.last_received_at END, \
         last_verification_at = CASE WHEN webhook_event_stats.last_verification_at IS NULL \
             OR excluded.last_verification_at > webhook_event_stats.last_verification_at \
             THEN COALESCE(excluded.last_verification_at, webhook_event_stats.last_verification_at) \
             ELSE webhook_event_stats.last_verification_at END",
        values.join(", ")
    )
}
