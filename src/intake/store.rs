//! Storing a batch of deliveries in one transaction, so they share one commit: their delivery
//! tokens claimed (in key order, so two writers whose batches share tokens wait for each other in
//! one order and never deadlock), their events, their jobs (`jobs::enqueue_rows`), and the
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
use crate::db::schema::{seen_tokens, webhook_event_stats, webhook_events};
use crate::db::webhooks::{self, EventTally, SeenToken};
use crate::db::{DbConn, DbError};
use crate::jobs;

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
        jobs::enqueue_rows(conn, &queued)?;
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

/// Adds a batch's tally to this writer's row for its organization and event. Only this writer
/// writes its rows, so reading the row and writing it back in the transaction is safe.
fn add_to_tally(conn: &mut DbConn, batch: EventTally) -> QueryResult<()> {
    let key = (batch.org_id.clone(), batch.event.clone(), batch.writer);
    let existing = webhook_event_stats::table
        .find(key.clone())
        .select(EventTally::as_select())
        .first(conn)
        .optional()?;
    let Some(mut tally) = existing else {
        diesel::insert_into(webhook_event_stats::table)
            .values(&batch)
            .execute(conn)?;
        return Ok(());
    };
    tally.merge(&batch);
    diesel::update(webhook_event_stats::table.find(key))
        .set((
            webhook_event_stats::accepted.eq(tally.accepted),
            webhook_event_stats::rejected.eq(tally.rejected),
            webhook_event_stats::last_received_at.eq(tally.last_received_at),
            webhook_event_stats::last_signature_valid.eq(tally.last_signature_valid),
            webhook_event_stats::last_verification_at.eq(tally.last_verification_at),
        ))
        .execute(conn)?;
    Ok(())
}
