//! Workers: claim a due job, run it while renewing its lease, record its Lever calls and its
//! fate. A job that panics is a failed attempt; a graceful stop finishes or releases running jobs.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::Notify;

use super::crew::Crew;
use super::queue::{self, Backoff, Job};
use super::{progress_write_back, question_chosen, send_email, stage_change, withdrawal, JobKind};
use crate::config::Settings;
use crate::connection::{record_calls, LeverAccess};
use crate::db::connection::write_transaction;
use crate::db::{self, Db, DbConn, DbError};
use crate::lever::{LeverCall, LeverClient};

/// The Lever calls an organization's bucket must hold before a worker starts one of its jobs
/// (an invitation makes four), so that the job runs through without waiting for the limit.
pub const TOKENS_TO_START_A_JOB: f64 = 4.0;

/// What a worker's turn came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Ran,
    /// Nothing is due.
    Idle,
    /// Only organizations held back by Lever's rate limit have work (maybe): look again then.
    Throttled(Duration),
}

/// Why a job did not finish this time.
#[derive(Debug)]
pub enum JobFailure {
    /// Try again later (Lever busy or down, a network error).
    Retry(String),
    /// Wait until an admin fixes something (connection broken, no default Lever user).
    Park(String),
}

/// The job system: what jobs need, the bell that wakes idle workers, and the workers themselves.
pub struct Jobs {
    pub db: Db,
    pub settings: Settings,
    pub lever: LeverAccess,
    pub(super) wake: Notify,
    pub(super) crew: Crew,
}

/// How a claimed job's run ended.
enum Ended {
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

/// One job being run: the Lever clients it used, so their calls can be recorded afterwards.
pub struct Run<'a> {
    pub jobs: &'a Jobs,
    pub job: &'a Job,
    clients: Mutex<Vec<LeverClient>>,
}

impl Run<'_> {
    /// A client for the stored connection whose calls will be recorded with this job's event.
    /// An OAuth connection's token is renewed first when it is about to expire.
    pub async fn client(
        &self,
        connection: &db::lever::LeverConnection,
    ) -> Result<LeverClient, JobFailure> {
        let client = match self.jobs.lever.client_for(&self.jobs.db, connection).await {
            Ok(client) => client,
            Err(
                e @ crate::connection::ClientError::Lever(
                    crate::lever::LeverError::AuthorizationLost { .. },
                ),
            ) => return Err(JobFailure::Park(e.to_string())),
            Err(crate::connection::ClientError::Lever(e)) => {
                return Err(JobFailure::Retry(e.to_string()))
            }
            Err(e) => return Err(JobFailure::Park(e.to_string())),
        };
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(client.clone());
        Ok(client)
    }

    /// Runs the job's kind.
    async fn dispatch(&self) -> Result<(), JobFailure> {
        match self.job.kind() {
            Some(JobKind::StageChange) => stage_change::run(self).await,
            Some(JobKind::ProgressWriteBack) => progress_write_back::run(self).await,
            Some(JobKind::Withdrawal) => withdrawal::run(self).await,
            Some(JobKind::QuestionChosen) => question_chosen::run(self).await,
            Some(JobKind::SendEmail) => send_email::run(self).await,
            #[cfg(test)]
            Some(JobKind::Panic) => panic!("a test job panicked"),
            None => Err(JobFailure::Retry(format!(
                "unknown job kind `{}`",
                self.job.kind
            ))),
        }
    }

    /// The Lever calls made so far.
    fn take_calls(&self) -> Vec<LeverCall> {
        let clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients.iter().flat_map(LeverClient::take_calls).collect()
    }
}

impl Jobs {
    pub fn new(db: Db, settings: Settings, lever: LeverAccess) -> Arc<Jobs> {
        Arc::new(Jobs {
            db,
            settings,
            lever,
            wake: Notify::new(),
            crew: Crew::default(),
        })
    }

    /// Tells an idle worker that work arrived.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs every job that is due now, one after another; returns how many ran. Tests call
    /// this instead of sleeping.
    pub async fn run_until_idle(&self) -> Result<usize, DbError> {
        let mut ran = 0;
        while self.run_next("drain").await? {
            ran += 1;
        }
        Ok(ran)
    }

    /// Claims and runs one due job; `false` when none is due.
    pub async fn run_next(&self, worker: &str) -> Result<bool, DbError> {
        let (name, lease) = (worker.to_owned(), self.settings.tuning.job_lease);
        let Some(job) = self
            .db
            .run(move |conn| queue::claim(conn, &name, lease).map_err(DbError::from))
            .await?
        else {
            return Ok(false);
        };
        self.run_claimed(job).await?;
        Ok(true)
    }

    /// Claims and runs one due job of an organization whose Lever rate limit lets it start now
    /// (a job's worth of calls in its bucket): a worker never sleeps in one organization's
    /// bucket while another's work waits.
    pub async fn run_next_fairly(&self, worker: &str) -> Result<Next, DbError> {
        let (name, lease) = (worker.to_owned(), self.settings.tuning.job_lease);
        let throttled = self.lever.throttled_orgs(TOKENS_TO_START_A_JOB);
        let waiting: Vec<String> = throttled.iter().map(|(org, _)| org.clone()).collect();
        let claimed = self
            .db
            .run(move |conn| {
                queue::claim_skipping(conn, &name, lease, &waiting).map_err(DbError::from)
            })
            .await?;
        let Some(job) = claimed else {
            return Ok(match throttled.iter().map(|(_, wait)| *wait).min() {
                Some(wait) => Next::Throttled(wait),
                None => Next::Idle,
            });
        };
        self.run_claimed(job).await?;
        Ok(Next::Ran)
    }

    async fn run_claimed(&self, job: Job) -> Result<(), DbError> {
        let run = Run {
            jobs: self,
            job: &job,
            clients: Mutex::new(Vec::new()),
        };
        let ended = self.attempt(&run).await;
        let calls = run.take_calls();
        let backoff = Backoff::from_tuning(&self.settings.tuning);
        // One transaction: if settling fails, the calls are not recorded either, so the
        // attempt that runs again in its place does not find them listed twice.
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    record_calls(conn, &job.org_id, job.event_id.as_deref(), calls)?;
                    settle(conn, &job, ended, &backoff)
                })
            })
            .await?;
        Ok(())
    }

    /// Runs a claimed job until it ends, renewing its lease meanwhile. A panic is caught and
    /// becomes a failed attempt; a lost lease or the end of a stop's grace period stops it.
    async fn attempt(&self, run: &Run<'_>) -> Ended {
        let mut stop = self.crew.stop.subscribe();
        let grace = self.settings.tuning.job_stop_grace;
        let stopped = async move {
            let _ = stop.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        let deadline = self.settings.tuning.job_attempt_deadline;
        tokio::select! {
            result = AssertUnwindSafe(run.dispatch()).catch_unwind() => Ended::Ran(
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
        let lease = self.settings.tuning.job_lease;
        let mut beat = tokio::time::interval((lease / 3).max(Duration::from_millis(10)));
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        beat.tick().await;
        loop {
            beat.tick().await;
            let held = job.clone();
            match self
                .db
                .run(move |conn| queue::renew(conn, &held, lease).map_err(DbError::from))
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

    /// Runs a claimed job without settling it: returns its result and the Lever calls it made.
    /// (`run_next` settles it; tests use this to act out a worker that dies before settling.)
    pub async fn execute(&self, job: &Job) -> (Result<(), JobFailure>, Vec<LeverCall>) {
        let run = Run {
            jobs: self,
            job,
            clients: Mutex::new(Vec::new()),
        };
        let result = run.dispatch().await;
        (result, run.take_calls())
    }
}

/// Records how a claimed job's run ended, as long as the claim still holds.
fn settle(conn: &mut DbConn, job: &Job, ended: Ended, backoff: &Backoff) -> Result<(), DbError> {
    let counted = |outcome| crate::telemetry::job_outcome(&job.kind, outcome);
    let lost = || {
        counted("lost_lease");
        tracing::warn!(job = %job.id, "a job outlived its lease; another worker owns it now")
    };
    match ended {
        Ended::LostLease => lost(),
        Ended::Interrupted => {
            if queue::release(conn, job)? {
                counted("released");
                tracing::info!(job = %job.id, "a running job was released for the next start");
            } else {
                lost();
            }
        }
        Ended::Ran(Ok(())) => {
            if queue::finish(conn, job)? {
                counted("done");
            } else {
                lost();
            }
        }
        Ended::Ran(Err(JobFailure::Park(reason))) => {
            if !queue::park(conn, job, &reason)? {
                lost();
            } else {
                counted("parked");
                if let Some(event) = &job.event_id {
                    let outcome = format!("Waiting: {reason}");
                    db::webhooks::set_outcome(conn, event, "waiting", &outcome, None)?;
                }
            }
        }
        Ended::Ran(Err(JobFailure::Retry(error))) => match queue::fail(conn, job, &error, backoff)?
        {
            None => lost(),
            Some(dead) => {
                counted(if dead { "dead" } else { "retry" });
                if let Some(event) = &job.event_id {
                    let (status, outcome) = if dead {
                        (
                            "failed",
                            format!("Failed after {} attempts: {error}", job.attempts),
                        )
                    } else {
                        (
                            "queued",
                            format!(
                                "Attempt {} failed ({error}); it will be retried.",
                                job.attempts
                            ),
                        )
                    };
                    db::webhooks::set_outcome(conn, event, status, &outcome, None)?;
                }
            }
        },
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

/// The organization's Lever connection if leverbridge may write with it, and the default Lever
/// user to write as; otherwise the job is parked with the reason in words (reconnecting or
/// choosing a user requeues it).
pub fn writable_connection(
    connection: Option<db::lever::LeverConnection>,
) -> Result<(db::lever::LeverConnection, String), JobFailure> {
    let Some(connection) = connection else {
        return Err(JobFailure::Park(
            "Lever is not connected; connect an API key on the Connection page.".into(),
        ));
    };
    if connection.is_broken() {
        let reason = connection.status_message.clone().unwrap_or_default();
        return Err(JobFailure::Park(format!(
            "the Lever connection is broken ({reason}); reconnect it on the Connection page."
        )));
    }
    let Some(perform_as) = connection.default_user_id.clone() else {
        return Err(JobFailure::Park(
            "no default Lever user is chosen, so nothing can be written to Lever; pick one on the Settings page.".into(),
        ));
    };
    Ok((connection, perform_as))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DatabaseUrl, LeverHosts, Tuning};
    use crate::crypto::SecretKey;
    use crate::jobs::{enqueue, NewJob};

    /// The job system over a fresh SQLite database holding one organization.
    fn jobs_in(dir: &tempfile::TempDir, tuning: Tuning) -> (Arc<Jobs>, String) {
        let url = DatabaseUrl::Sqlite(dir.path().join("jobs.db"));
        let db = Db::connect(&url).unwrap();
        db.migrate().unwrap();
        let org = db::orgs::find_or_create(&mut db.get().unwrap(), "acme", "Acme")
            .unwrap()
            .id;
        let settings = Settings {
            bind: "127.0.0.1:0".parse().unwrap(),
            database_url: url,
            public_url: url::Url::parse("http://127.0.0.1:0").unwrap(),
            secret_key: SecretKey::generate(),
            lever: LeverHosts::default(),
            lever_app: None,
            workers: 1,
            metrics_token: None,
            tuning,
        };
        let lever = LeverAccess::new(
            settings.lever.clone(),
            settings.tuning.clone(),
            settings.secret_key.clone(),
        );
        (Jobs::new(db, settings, lever), org)
    }

    async fn queue_panic(jobs: &Jobs, org: &str, max_attempts: i32) -> String {
        let org = org.to_owned();
        jobs.db
            .run(move |conn| {
                let job = NewJob {
                    org_id: &org,
                    kind: JobKind::Panic,
                    payload: serde_json::json!({}),
                    event_id: None,
                    max_attempts,
                };
                enqueue(conn, &job).map_err(DbError::from)
            })
            .await
            .unwrap()
            .id
    }

    async fn job(jobs: &Jobs, id: &str) -> Job {
        let id = id.to_owned();
        jobs.db
            .run(move |conn| queue::find(conn, &id).map_err(DbError::from))
            .await
            .unwrap()
            .expect("the job exists")
    }

    /// Spends `calls` of `org`'s Lever bucket, as its jobs' calls would.
    async fn spend(jobs: &Jobs, org: &str, calls: usize) {
        let bucket = jobs.lever.limiters().bucket(org);
        for _ in 0..calls {
            bucket.acquire().await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_worker_leaves_a_throttled_organization_to_take_another_ones_work() {
        let dir = tempfile::tempdir().unwrap();
        let tuning = Tuning {
            job_backoff_base: Duration::from_secs(3600),
            lever_rate_per_sec: 2.0,
            lever_burst: 6,
            ..Tuning::default()
        };
        let (jobs, busy) = jobs_in(&dir, tuning);
        let other = db::orgs::find_or_create(&mut jobs.db.get().unwrap(), "globex", "Globex")
            .unwrap()
            .id;
        // The busy organization's work is older, and its bucket is nearly empty.
        let waiting = queue_panic(&jobs, &busy, 5).await;
        let fresh = queue_panic(&jobs, &other, 5).await;
        spend(&jobs, &busy, 5).await;

        assert_eq!(jobs.run_next_fairly("w").await.unwrap(), Next::Ran);
        assert_eq!(
            job(&jobs, &fresh).await.attempts,
            1,
            "the other one's job ran"
        );
        assert_eq!(
            job(&jobs, &waiting).await.attempts,
            0,
            "the older job waits"
        );

        // Only the throttled organization has work: the worker is told how long to wait (three
        // tokens to earn at 2/s) instead of sleeping in its bucket.
        match jobs.run_next_fairly("w").await.unwrap() {
            Next::Throttled(wait) => {
                assert!(
                    wait > Duration::from_millis(1000) && wait <= Duration::from_millis(1500),
                    "{wait:?}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(job(&jobs, &waiting).await.attempts, 0);
        // Draining (the tests' and the demo's way to run everything) still takes it.
        assert!(jobs.run_next("w").await.unwrap());
        assert_eq!(job(&jobs, &waiting).await.attempts, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_job_is_a_failed_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let tuning = Tuning {
            job_backoff_base: Duration::from_secs(3600),
            ..Tuning::default()
        };
        let (jobs, org) = jobs_in(&dir, tuning);
        let id = queue_panic(&jobs, &org, 5).await;
        assert!(jobs.run_next("worker").await.unwrap(), "the job was run");
        let after = job(&jobs, &id).await;
        assert_eq!((after.state.as_str(), after.attempts), ("queued", 1));
        assert_eq!(
            after.last_error.as_deref(),
            Some("the job panicked (a test job panicked)")
        );
        assert_eq!(after.locked_by, None, "settled, not left running");
        assert!(after.run_at > db::now() + chrono::Duration::minutes(59));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_job_leaves_its_worker_running() {
        let dir = tempfile::tempdir().unwrap();
        let tuning = Tuning {
            job_backoff_base: Duration::from_millis(1),
            ..Tuning::default()
        };
        let (jobs, org) = jobs_in(&dir, tuning);
        jobs.start_workers(1).await.unwrap();
        // The worker runs each job until it is dead, then goes on to the next one.
        for _ in 0..2 {
            let id = queue_panic(&jobs, &org, 2).await;
            jobs.wake();
            let mut dead = false;
            for _ in 0..400 {
                let now = job(&jobs, &id).await;
                if now.state == "dead" {
                    assert_eq!(now.attempts, 2);
                    dead = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            assert!(dead, "the worker ran the panicking job to its end");
            assert!(!jobs.no_worker_running(), "the worker is still there");
        }
        jobs.stop().await;
        assert!(jobs.no_worker_running());
    }
}
