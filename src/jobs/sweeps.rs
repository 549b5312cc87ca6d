//! The Lever lane's sweeps: what the clock decides rather than a queued job.

use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use crate::assessments;
use crate::db::DbError;
use crate::queue::{Context, Jobs, Sweep};

/// Expires the assessments that have run out by now (`attempt::expire_due`), queueing their
/// Lever write-backs.
pub const EXPIRE: Sweep = Sweep::new("expire assessments", expire_due);

/// Claims and queues the candidate reminders due by now (`emails::claim_due_reminders`: each
/// at most once, whichever worker or replica sweeps first).
pub const REMIND: Sweep = Sweep::new("queue reminders", remind_due);

fn expire_due(jobs: &Context) -> BoxFuture<'_, Result<usize, DbError>> {
    async move {
        let now = jobs.settings.tuning.clock.now();
        let changed = jobs
            .db
            .run(move |conn| assessments::attempt::expire_due(conn, now).map_err(DbError::from))
            .await?;
        Ok(changed)
    }
    .boxed()
}

fn remind_due(jobs: &Context) -> BoxFuture<'_, Result<usize, DbError>> {
    async move {
        let now = jobs.settings.tuning.clock.now();
        let attempts = jobs.settings.tuning.job_max_attempts;
        let queued = jobs
            .db
            .run(move |conn| {
                assessments::emails::claim_due_reminders(conn, now, attempts).map_err(DbError::from)
            })
            .await?;
        Ok(queued)
    }
    .boxed()
}

impl Jobs {
    /// Runs the expiry sweep now and wakes the workers for what it queued (tests call it after
    /// moving the clock).
    pub async fn expire_due(&self) -> Result<usize, DbError> {
        let changed = expire_due(self).await?;
        if changed > 0 {
            self.wake();
        }
        Ok(changed)
    }

    /// Runs the reminder sweep now and wakes the workers to send them (tests call it after
    /// moving the clock).
    pub async fn remind_due(&self) -> Result<usize, DbError> {
        let queued = remind_due(self).await?;
        if queued > 0 {
            self.wake();
        }
        Ok(queued)
    }
}
