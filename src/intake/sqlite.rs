//! SQLite: one writer stores a batch row by row in one `BEGIN IMMEDIATE` transaction. Each
//! statement is a single row with a fixed shape, so SQLite prepares it once per connection and
//! reuses it; the batch shares one commit.

use diesel::prelude::*;

use super::{Delivery, Stored};
use crate::db::connection::write_transaction;
use crate::db::schema::{jobs, seen_tokens, webhook_events};
use crate::db::{webhooks, DbConn, DbError};

pub(super) fn store_batch(
    conn: &mut DbConn,
    mut deliveries: Vec<Delivery>,
) -> Result<Vec<Stored>, DbError> {
    write_transaction(conn, |conn| {
        let mut outcomes = Vec::with_capacity(deliveries.len());
        for delivery in &mut deliveries {
            if let Some(claim) = delivery.claim() {
                let claimed = diesel::insert_into(seen_tokens::table)
                    .values(&claim)
                    .on_conflict_do_nothing()
                    .execute(sqlite(conn))?
                    == 1;
                if !claimed {
                    // Claimed before, perhaps earlier in this batch (whose event is stored).
                    let first = webhooks::first_received(conn, &claim)?;
                    delivery.mark_duplicate(first);
                }
            }
            diesel::insert_into(webhook_events::table)
                .values(&delivery.event)
                .execute(sqlite(conn))?;
            if let Some(job) = &delivery.job {
                diesel::insert_into(jobs::table)
                    .values(job)
                    .execute(sqlite(conn))?;
            }
            outcomes.push(delivery.stored());
        }
        Ok(outcomes)
    })
}

/// The SQLite connection itself: its statement cache knows a statement run on it by its type,
/// without building the SQL again as it must for one run through `DbConn`.
fn sqlite(conn: &mut DbConn) -> &mut SqliteConnection {
    match conn {
        DbConn::Sqlite(c) => c,
        DbConn::Pg(_) => unreachable!("the SQLite intake runs on SQLite connections"),
    }
}

/// A passive checkpoint on the writer's own connection (see `SQLITE_CHECKPOINT_EVERY`).
pub(super) fn checkpoint(conn: &mut SqliteConnection) {
    use diesel::connection::SimpleConnection;
    if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
        tracing::warn!(error = %e, "SQLite checkpoint failed; it is tried again later");
    }
}
