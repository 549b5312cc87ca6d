//! One attempt at a claimed job: run as its registered kind while its lease is renewed, cut
//! off by its deadline, a lost lease or the end of a stop's grace period, then settled.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::watch;

use super::job::{Context, JobFailure, Run};
use super::registry::{self, Registry};
use super::table::{self, Backoff, Job};
use crate::db::{self, DbConn, DbError};
use crate::domain::event_outcome::EventOutcome;

/// How a claimed job's run ended.
pub(super) enum Ended {
    /// It ran to an end (a panic counts as a failure).
    Ran(Result<(), JobFailure>),
    /// Its lease ran out and another worker claimed it: it was stopped, and is not ours to settle.
    LostLease,
    /// The process is stopping and the job did not finish in the grace period: it was stopped.
    Interrupted,
}

/// Why a running job's lease stopped holding.
enum LeaseLost {
    /// Its lease ran out and another worker claimed the job.
    Taken,
    /// The renewal failed (the database did not answer): the claim may run out unnoticed.
    Unrenewable(String),
}

/// What an attempt needs: the context jobs run in and the kinds they run as.
pub(super) struct Attempts<'a> {
    pub ctx: &'a Context,
    pub registry: &'a Registry,
}

impl Attempts<'_> {
    /// Runs the job as its registered kind.
    pub(super) async fn dispatch(&self, run: &Run<'_>) -> Result<(), JobFailure> {
        match self.registry.kind(&run.job.kind) {
            Some(kind) => kind.run(run).await,
            None => Err(registry::unknown_kind(&run.job.kind)),
        }
    }

    /// Runs a claimed job until it ends, renewing its lease meanwhile. A panic is caught and
    /// becomes a failed attempt; a lost lease or the end of a stop's grace period stops it.
    pub(super) async fn attempt(&self, run: &Run<'_>, mut stop: watch::Receiver<bool>) -> Ended {
        let grace = self.ctx.settings.tuning.job_stop_grace;
        let stopped = async move {
            let _ = stop.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        let deadline = self.ctx.settings.tuning.job_attempt_deadline;
        tokio::select! {
            result = AssertUnwindSafe(self.dispatch(run)).catch_unwind() => Ended::Ran(
                result.unwrap_or_else(|panic| {
                    let message = panic_message(panic.as_ref());
                    tracing::error!(job = %run.job.id, panic = %message, "a job panicked");
                    Err(JobFailure::Retry(format!("the job panicked ({message})")))
                }),
            ),
            lost = self.hold_lease(run.job) => match lost {
                LeaseLost::Taken => Ended::LostLease,
                LeaseLost::Unrenewable(error) => Ended::Ran(Err(JobFailure::Retry(format!(
                    "its lease could not be renewed ({error}), so it was stopped before another worker could run it too"
                )))),
            },
            () = stopped => Ended::Interrupted,
            () = tokio::time::sleep(deadline) => Ended::Ran(Err(JobFailure::Retry(format!(
                "the attempt timed out after {} s and was stopped",
                deadline.as_secs_f64()
            )))),
        }
    }

    /// Renews the job's lease while it runs (three times a lease); returns once the claim no
    /// longer holds or could not be renewed. Either way the job is stopped at once (its future
    /// dropped), so it makes no further Lever or SMTP call: once the lease is not known to hold,
    /// another worker may claim the job when it runs out.
    async fn hold_lease(&self, job: &Job) -> LeaseLost {
        let lease = self.ctx.settings.tuning.job_lease;
        let mut beat = tokio::time::interval((lease / 3).max(Duration::from_millis(10)));
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        beat.tick().await;
        loop {
            beat.tick().await;
            let (held, now) = (job.clone(), self.ctx.settings.tuning.clock.now());
            match self
                .ctx
                .db
                .run(move |conn| table::renew(conn, &held, lease, now).map_err(DbError::from))
                .await
            {
                Ok(true) => {}
                Ok(false) => return LeaseLost::Taken,
                Err(e) => {
                    tracing::warn!(job = %job.id, error = %e, "could not renew a job's lease; the job is stopped");
                    return LeaseLost::Unrenewable(e.to_string());
                }
            }
        }
    }
}

/// Records how a claimed job's run ended as of `now`, as long as the claim still holds.
pub(super) fn settle(
    conn: &mut DbConn,
    job: &Job,
    ended: Ended,
    backoff: &Backoff,
    now: chrono::NaiveDateTime,
) -> Result<(), DbError> {
    let counted = |outcome| crate::telemetry::job_outcome(&job.kind, outcome);
    let lost = || {
        counted("lost_lease");
        tracing::warn!(job = %job.id, "a job outlived its lease; another worker owns it now")
    };
    match ended {
        Ended::LostLease => lost(),
        Ended::Interrupted => {
            if table::release(conn, job, now)? {
                counted("released");
                tracing::info!(job = %job.id, "a running job was released for the next start");
            } else {
                lost();
            }
        }
        Ended::Ran(Ok(())) => {
            if table::finish(conn, job, now)? {
                counted("done");
            } else {
                lost();
            }
        }
        Ended::Ran(Err(JobFailure::Park(reason))) => {
            if !table::park(conn, job, &reason, now)? {
                lost();
            } else {
                counted("parked");
                if let Some(event) = &job.event_id {
                    db::webhooks::record_outcome(conn, event, &EventOutcome::Waiting(reason))?;
                }
            }
        }
        Ended::Ran(Err(JobFailure::Retry(error))) => {
            match table::fail(conn, job, &error, backoff, now)? {
                None => lost(),
                Some(dead) => {
                    counted(if dead { "dead" } else { "retry" });
                    if let Some(event) = &job.event_id {
                        let outcome = if dead {
                            EventOutcome::FailedAfter {
                                attempts: job.attempts,
                                error,
                            }
                        } else {
                            EventOutcome::RetryScheduled {
                                attempt: job.attempts,
                                error,
                            }
                        };
                        db::webhooks::record_outcome(conn, event, &outcome)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// What a panic said, when it said it with a string.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}
