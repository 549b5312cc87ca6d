//! The workers a process runs: started beside the server, counted for readiness, and stopped
//! gracefully. What each does with a job is in `worker.rs`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::queue;
use super::Jobs;
use crate::db::DbError;

/// The workers this process runs.
pub(super) struct Crew {
    /// How many were started; zero in a process that runs none by design.
    started: AtomicUsize,
    /// How many are running now.
    live: Arc<AtomicUsize>,
    /// Turns true when they must stop.
    pub(super) stop: watch::Sender<bool>,
    handles: Mutex<Vec<JoinHandle<()>>>,
}

impl Default for Crew {
    fn default() -> Self {
        Crew {
            started: AtomicUsize::new(0),
            live: Arc::default(),
            stop: watch::channel(false).0,
            handles: Mutex::default(),
        }
    }
}

/// Counts a worker as live for as long as it exists, however its task ends.
struct LiveWorker(Arc<AtomicUsize>);

impl LiveWorker {
    fn new(live: &Arc<AtomicUsize>) -> LiveWorker {
        live.fetch_add(1, Ordering::SeqCst);
        LiveWorker(live.clone())
    }
}

impl Drop for LiveWorker {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Jobs {
    /// Starts `count` workers on the current runtime. On SQLite, first ends the leases of jobs
    /// that a previous run of this process left running (it was killed): only one process
    /// uses a SQLite database, so nobody else holds them.
    pub async fn start_workers(self: &Arc<Self>, count: usize) -> Result<(), DbError> {
        if count > 0 && !self.db.is_postgres() {
            let reclaimed = self
                .db
                .run(|conn| queue::reclaim_interrupted(conn).map_err(DbError::from))
                .await?;
            if reclaimed > 0 {
                tracing::info!(
                    reclaimed,
                    "jobs left running by the previous run are due again"
                );
            }
        }
        self.crew.started.fetch_add(count, Ordering::SeqCst);
        let mut handles = self.crew.handles.lock().unwrap_or_else(|p| p.into_inner());
        for n in 0..count {
            let jobs = self.clone();
            let name = format!("{}-worker-{n}", std::process::id());
            // Counted before it first runs, so readiness never sees a worker still starting as missing.
            let live = LiveWorker::new(&self.crew.live);
            handles.push(tokio::spawn(async move {
                let _live = live;
                jobs.work(name).await
            }));
        }
        Ok(())
    }

    /// Whether this process was started with workers and none is running any more (they
    /// stopped or died). A process started without workers by design is never missing one.
    pub fn no_worker_running(&self) -> bool {
        self.crew.started.load(Ordering::SeqCst) > 0 && self.crew.live.load(Ordering::SeqCst) == 0
    }

    /// How many workers are running now.
    pub fn running_workers(&self) -> usize {
        self.crew.live.load(Ordering::SeqCst)
    }

    /// Stops the workers: none claims another job; a running job gets `job_stop_grace` to
    /// finish and is otherwise released, due again at once for the next start. Returns when
    /// every worker has stopped.
    pub async fn stop(&self) {
        self.crew.stop.send_replace(true);
        self.wake.notify_waiters();
        let handles =
            std::mem::take(&mut *self.crew.handles.lock().unwrap_or_else(|p| p.into_inner()));
        for handle in handles {
            if let Err(e) = handle.await {
                tracing::error!(error = %e, "a job worker ended abnormally");
            }
        }
    }

    /// Expires the assessments that have run out by now (`attempt::expire_due`) and wakes the
    /// workers for the Lever write-backs that queued. Each worker does it once a minute; tests
    /// call it after moving the clock.
    pub async fn expire_due(&self) -> Result<usize, DbError> {
        let now = self.settings.tuning.clock.now();
        let changed = self
            .db
            .run(move |conn| {
                crate::assessments::attempt::expire_due(conn, now).map_err(DbError::from)
            })
            .await?;
        if changed > 0 {
            tracing::info!(changed, "assessments expired");
            self.wake();
        }
        Ok(changed)
    }

    /// Claims and queues the candidate reminders due by now (`emails::claim_due_reminders`:
    /// each at most once, whichever worker or replica sweeps first) and wakes the workers to
    /// send them. Each worker does it once a minute, after expiring; tests call it after moving
    /// the clock. Returns how many were queued.
    pub async fn remind_due(&self) -> Result<usize, DbError> {
        let now = self.settings.tuning.clock.now();
        let attempts = self.settings.tuning.job_max_attempts;
        let queued = self
            .db
            .run(move |conn| {
                crate::assessments::emails::claim_due_reminders(conn, now, attempts)
                    .map_err(DbError::from)
            })
            .await?;
        if queued > 0 {
            tracing::info!(queued, "candidate reminders queued");
            self.wake();
        }
        Ok(queued)
    }

    async fn work(self: Arc<Self>, name: String) {
        let mut stop = self.crew.stop.subscribe();
        let mut swept: Option<std::time::Instant> = None;
        while !*stop.borrow() {
            // How often each worker expires the assessments that ran out and queues reminders.
            let every = self.settings.tuning.expiry_sweep_every;
            if swept.is_none_or(|at| at.elapsed() >= every) {
                swept = Some(std::time::Instant::now());
                if let Err(e) = self.expire_due().await {
                    tracing::error!(error = %e, worker = %name, "could not expire assessments");
                }
                if let Err(e) = self.remind_due().await {
                    tracing::error!(error = %e, worker = %name, "could not queue reminders");
                }
            }
            let pause = match self.run_next_fairly(&name).await {
                Ok(super::worker::Next::Ran) => continue,
                Ok(super::worker::Next::Idle) => Duration::from_secs(1),
                Ok(super::worker::Next::Throttled(wait)) => {
                    wait.clamp(Duration::from_millis(5), Duration::from_secs(1))
                }
                Err(e) => {
                    tracing::error!(error = %e, worker = %name, "the job worker could not reach the database");
                    Duration::from_secs(2)
                }
            };
            tokio::select! {
                _ = tokio::time::timeout(pause, self.wake.notified()) => {}
                _ = stop.wait_for(|stopping| *stopping) => {}
            }
        }
    }
}
