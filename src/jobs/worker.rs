//! Workers: claim a due job, run it, record its Lever calls and its fate.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use super::queue::{self, Backoff, Job};
use super::{stage_change, JobKind};
use crate::config::Settings;
use crate::db::{self, Db, DbError};
use crate::lever::LeverClient;
use crate::lever_access::{record_calls, LeverAccess};

/// Why a job did not finish this time.
#[derive(Debug)]
pub enum JobFailure {
    /// Try again later (Lever busy or down, a network error).
    Retry(String),
    /// Wait until an admin fixes something (connection broken, no default Lever user).
    Park(String),
}

/// The job system: what jobs need, and the bell that wakes idle workers.
pub struct Jobs {
    pub db: Db,
    pub settings: Settings,
    pub lever: LeverAccess,
    wake: Notify,
}

/// One job being run: the Lever clients it used, so their calls can be recorded afterwards.
pub struct Run<'a> {
    pub jobs: &'a Jobs,
    pub job: &'a Job,
    clients: Mutex<Vec<LeverClient>>,
}

impl Run<'_> {
    /// A client for the stored connection whose calls will be recorded with this job's event.
    pub fn client(
        &self,
        connection: &db::lever::LeverConnection,
    ) -> Result<LeverClient, JobFailure> {
        let client = self
            .jobs
            .lever
            .client_for(connection)
            .map_err(|e| JobFailure::Park(e.to_string()))?;
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(client.clone());
        Ok(client)
    }
}

impl Jobs {
    pub fn new(db: Db, settings: Settings, lever: LeverAccess) -> Arc<Jobs> {
        Arc::new(Jobs {
            db,
            settings,
            lever,
            wake: Notify::new(),
        })
    }

    /// Tells an idle worker that work arrived.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Starts `count` workers on the current runtime.
    pub fn spawn_workers(self: &Arc<Self>, count: usize) {
        for n in 0..count {
            let jobs = self.clone();
            let name = format!("{}-worker-{n}", std::process::id());
            tokio::spawn(async move { jobs.work(name).await });
        }
    }

    async fn work(self: Arc<Self>, name: String) {
        loop {
            match self.run_next(&name).await {
                Ok(true) => continue,
                Ok(false) => {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(1), self.wake.notified()).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, worker = %name, "the job worker could not reach the database");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
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
        let (result, calls) = self.execute(&job).await;
        let backoff = Backoff::from_tuning(&self.settings.tuning);
        self.db
            .run(move |conn| -> Result<(), DbError> {
                record_calls(conn, &job.org_id, job.event_id.as_deref(), calls)?;
                let lost = || tracing::warn!(job = %job.id, "a job outlived its lease; another worker owns it now");
                match result {
                    Ok(()) => {
                        if !queue::finish(conn, &job)? {
                            lost();
                        }
                    }
                    Err(JobFailure::Park(reason)) => {
                        if !queue::park(conn, &job, &reason)? {
                            lost();
                        } else if let Some(event) = &job.event_id {
                            db::webhooks::set_outcome(conn, event, "waiting", &format!("Waiting: {reason}"), None)?;
                        }
                    }
                    Err(JobFailure::Retry(error)) => match queue::fail(conn, &job, &error, &backoff)? {
                        None => lost(),
                        Some(dead) => {
                            if let Some(event) = &job.event_id {
                                let (status, outcome) = if dead {
                                    ("failed", format!("Failed after {} attempts: {error}", job.attempts))
                                } else {
                                    ("queued", format!("Attempt {} failed ({error}); it will be retried.", job.attempts))
                                };
                                db::webhooks::set_outcome(conn, event, status, &outcome, None)?;
                            }
                        }
                    },
                }
                Ok(())
            })
            .await?;
        Ok(true)
    }

    /// Runs a claimed job without settling it: returns its result and the Lever calls it made.
    /// (`run_next` settles it; tests use this to act out a worker that dies before settling.)
    pub async fn execute(
        &self,
        job: &Job,
    ) -> (Result<(), JobFailure>, Vec<crate::lever::LeverCall>) {
        let run = Run {
            jobs: self,
            job,
            clients: Mutex::new(Vec::new()),
        };
        let result = match job.kind() {
            Some(JobKind::StageChange) => stage_change::run(&run).await,
            None => Err(JobFailure::Retry(format!(
                "unknown job kind `{}`",
                job.kind
            ))),
        };
        let clients = run.clients.into_inner().unwrap_or_else(|p| p.into_inner());
        let calls = clients.iter().flat_map(LeverClient::take_calls).collect();
        (result, calls)
    }
}
