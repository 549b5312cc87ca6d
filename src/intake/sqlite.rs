//! SQLite: one writer stores a batch row by row in one `BEGIN IMMEDIATE` transaction. Each
//! statement is a single row with a fixed text, so SQLite prepares it once per connection and
//! diesel finds it again by its type without writing its SQL anew for every row; the batch
//! shares one commit, with the batch's tallies for the Webhooks page.

use std::marker::PhantomData;

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
                let claimed = Fixed::<ClaimToken, _>::new(
                    diesel::insert_into(seen_tokens::table)
                        .values(&claim)
                        .on_conflict_do_nothing(),
                    "",
                )
                .execute(sqlite(conn))?
                    == 1;
                if !claimed {
                    // Claimed before, perhaps earlier in this batch (whose event is stored).
                    let first = webhooks::first_received(conn, &claim)?;
                    delivery.mark_duplicate(first);
                }
            }
            Fixed::<StoreEvent, _>::new(
                diesel::insert_into(webhook_events::table).values(&delivery.event),
                "",
            )
            .execute(sqlite(conn))?;
            if let Some(job) = &delivery.job {
                Fixed::<QueueJob, _>::new(diesel::insert_into(jobs::table).values(job), "")
                    .execute(sqlite(conn))?;
            }
            outcomes.push(delivery.stored());
        }
        for tally in tallies(&deliveries, writer) {
            Fixed::<AddToTally, _>::new(
                diesel::insert_into(webhook_event_stats::table).values(&tally),
                ADD_TO_TALLY,
            )
            .execute(sqlite(conn))?;
        }
        Ok(outcomes)
    })
}

/// One of the intake's statements, with SQL text appended (`ADD_TO_TALLY` to the tally's
/// insert). Its text never changes: every column is always bound (the rows' insertables write
/// `None` as NULL, never as the column's default), and the appended text is fixed per statement.
/// So it is known to the statement cache by the type `Id` alone, without diesel writing its SQL
/// again, or walking it to ask whether it may be cached, for every row; only the binds are
/// collected per row. Each `Id` names exactly one statement text.
struct Fixed<Id, Query> {
    query: Query,
    appended: &'static str,
    id: PhantomData<Id>,
}

impl<Id, Query> Fixed<Id, Query> {
    fn new(query: Query, appended: &'static str) -> Self {
        Fixed {
            query,
            appended,
            id: PhantomData,
        }
    }
}

/// The statement claiming a delivery token (`seen_tokens`).
enum ClaimToken {}
/// The statement storing an event (`webhook_events`).
enum StoreEvent {}
/// The statement queueing a job (`jobs`).
enum QueueJob {}
/// The statement adding a tally to its row (`webhook_event_stats`).
enum AddToTally {}

impl<Id: 'static, Query> QueryId for Fixed<Id, Query> {
    type QueryId = Id;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Id, Query> RunQueryDsl<SqliteConnection> for Fixed<Id, Query> {}

impl<Id, Query: QueryFragment<Sqlite>> QueryFragment<Sqlite> for Fixed<Id, Query> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(self.appended);
        Ok(())
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Sqlite) -> QueryResult<bool> {
        Ok(true)
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
