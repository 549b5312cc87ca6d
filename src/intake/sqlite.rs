//! SQLite: one writer stores a batch row by row in one `BEGIN IMMEDIATE` transaction. Each
//! statement is a single row with a fixed shape, so SQLite prepares it once per connection and
//! reuses it; the batch shares one commit, with the batch's tallies for the Webhooks page.

use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;

use super::{tallies, Delivery, Stored, ADD_TO_TALLY};
use crate::db::connection::write_transaction;
use crate::db::schema::{jobs, seen_tokens, webhook_events};
use crate::db::webhooks::EventTally;
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
            AddTally(&tally).execute(sqlite(conn))?;
        }
        Ok(outcomes)
    })
}

/// Adds a batch's tally to its row of `webhook_event_stats` (or starts the row). Its text never
/// changes, so SQLite prepares it once per connection.
struct AddTally<'a>(&'a EventTally);

impl QueryId for AddTally<'_> {
    type QueryId = AddTally<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl RunQueryDsl<SqliteConnection> for AddTally<'_> {}

impl QueryFragment<Sqlite> for AddTally<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        let t = self.0;
        out.push_sql(
            "INSERT INTO webhook_event_stats (org_id, event, writer, accepted, rejected, \
             last_received_at, last_signature_valid, last_verification_at) VALUES (",
        );
        out.push_bind_param::<Text, _>(&t.org_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&t.event)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&t.writer)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&t.accepted)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&t.rejected)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&t.last_received_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Bool, _>(&t.last_signature_valid)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Timestamp>, _>(&t.last_verification_at)?;
        out.push_sql(")");
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
