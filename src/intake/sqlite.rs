//! SQLite: one writer stores a batch row by row in one `BEGIN IMMEDIATE` transaction. Each
//! statement is a single row with a fixed shape, so SQLite prepares it once per connection and
//! reuses it; the batch shares one commit, with the batch's tallies for the Webhooks page.

use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sqlite::Sqlite;

use super::{tallies, Delivery, Stored, ADD_TO_TALLY};
use crate::db::connection::write_transaction;
use crate::db::schema::{jobs, seen_tokens, webhook_event_stats, webhook_events};
use crate::db::{webhooks, DbConn, DbError};

pub(super) fn store_batch(
    conn: &mut DbConn,
    mut deliveries: Vec<Delivery>,
    writer: i32,
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
        for tally in tallies(&deliveries, writer) {
            AddToTally(diesel::insert_into(webhook_event_stats::table).values(&tally))
                .execute(sqlite(conn))?;
        }
        Ok(outcomes)
    })
}

/// An insert followed by `ADD_TO_TALLY`: a tally's row inserted, or added to the row already
/// there. The insert is the one `EventTally` derives and its text never changes, so SQLite
/// prepares the statement once per connection.
struct AddToTally<Insert>(Insert);

impl<Insert: QueryId> QueryId for AddToTally<Insert> {
    type QueryId = AddToTally<Insert::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = Insert::HAS_STATIC_QUERY_ID;
}

impl<Insert> RunQueryDsl<SqliteConnection> for AddToTally<Insert> {}

impl<Insert: QueryFragment<Sqlite>> QueryFragment<Sqlite> for AddToTally<Insert> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(ADD_TO_TALLY);
        Ok(())
    }
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
