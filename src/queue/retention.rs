//! The retention sweep: once an hour (`Tuning::retention`), finished jobs, webhook deliveries
//! and recorded Lever calls older than `LEVERBRIDGE_RETENTION_DAYS` (90 by default) are
//! deleted, a batch per statement with a pause between batches, so the intake and the workers
//! keep getting the database. What is still needed stays (`db::retention`): jobs not finished,
//! deliveries that unfinished work refers to, and delivery tokens for the replay window.
//!
//! Every replica may sweep; they delete the same rows, and a row deleted twice is deleted once.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::QueryResult;

use super::Jobs;
use crate::db::{self, DbConn, DbError};
use crate::domain::REPLAY_WINDOW_DAYS;
use crate::telemetry;

/// The first sweep waits this long after the start, so a process that restarts in a loop does
/// not sweep in a loop.
const FIRST_SWEEP_AFTER: Duration = Duration::from_secs(60);

/// What one sweep deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub jobs: usize,
    pub deliveries: usize,
    pub delivery_tokens: usize,
    pub lever_calls: usize,
}

/// The sweep running beside the workers; it stops when this is dropped.
pub struct Sweeper(tokio::task::JoinHandle<()>);

impl Drop for Sweeper {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts sweeping on the current runtime, until the returned [`Sweeper`] is dropped.
pub fn start(jobs: Arc<Jobs>) -> Sweeper {
    Sweeper(tokio::spawn(async move {
        tokio::time::sleep(FIRST_SWEEP_AFTER).await;
        loop {
            match jobs.prune_history().await {
                Ok(pruned) if pruned != Pruned::default() => {
                    tracing::info!(?pruned, "deleted history past its retention")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "the retention sweep could not finish"),
            }
            tokio::time::sleep(jobs.settings.tuning.retention.every).await;
        }
    }))
}

impl Jobs {
    /// One sweep, now by the configured clock: deletes what is past its retention and returns
    /// how much. The sweeper calls it every hour; tests call it after moving the clock.
    pub async fn prune_history(&self) -> Result<Pruned, DbError> {
        let now = self.settings.tuning.clock.now();
        let before = now - self.settings.tuning.retention.keep;
        let tokens_before = tokens_expire_before(now);
        let batch = self.settings.tuning.retention.batch;
        let mut pruned = Pruned {
            jobs: self
                .in_batches("jobs", move |conn| {
                    db::retention::finished_jobs(conn, before, batch)
                })
                .await?,
            ..Pruned::default()
        };
        let orgs = self
            .db
            .run(|conn| db::retention::organization_ids(conn).map_err(DbError::from))
            .await?;
        for org in orgs {
            let of = org.clone();
            pruned.deliveries += self
                .in_batches("webhook_events", move |conn| {
                    db::retention::old_deliveries(conn, &of, before, batch)
                })
                .await?;
            pruned.delivery_tokens += self
                .in_batches("seen_tokens", move |conn| {
                    db::retention::old_delivery_tokens(conn, &org, tokens_before, batch)
                })
                .await?;
        }
        pruned.lever_calls = self
            .in_batches("lever_calls", move |conn| {
                db::retention::old_lever_calls(conn, before, batch)
            })
            .await?;
        Ok(pruned)
    }

    /// Repeats `step` (one bounded delete) until it deletes less than a batch, pausing between
    /// batches; returns how many rows it deleted in all.
    async fn in_batches<F>(&self, table: &'static str, step: F) -> Result<usize, DbError>
    where
        F: Fn(&mut DbConn) -> QueryResult<usize> + Clone + Send + 'static,
    {
        let retention = &self.settings.tuning.retention;
        let mut deleted = 0;
        loop {
            let step = step.clone();
            let rows = self
                .db
                .run(move |conn| step(conn).map_err(DbError::from))
                .await?;
            deleted += rows;
            telemetry::retention_deleted(table, rows);
            if (rows as i64) < retention.batch {
                return Ok(deleted);
            }
            tokio::time::sleep(retention.pause).await;
        }
    }
}

/// Delivery tokens triggered before this (in Lever's milliseconds) can go: a delivery that old
/// is refused as a possible replay before its token is looked at. A day more is kept for the
/// clocks of Lever, the replicas and the database to differ.
fn tokens_expire_before(now: NaiveDateTime) -> i64 {
    let oldest = now - chrono::Duration::days(REPLAY_WINDOW_DAYS + 1);
    oldest.and_utc().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_kept_for_the_replay_window_and_a_day() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let expire = tokens_expire_before(now);
        let kept = now - chrono::Duration::days(REPLAY_WINDOW_DAYS);
        assert!(kept.and_utc().timestamp_millis() > expire);
        let day = 24 * 3600 * 1000;
        assert_eq!(kept.and_utc().timestamp_millis() - expire, day);
    }
}
