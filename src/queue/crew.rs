//! The workers a process runs, per lane: started beside the server (or alone, by
//! `leverbridge worker --lanes`), counted for readiness, and stopped gracefully. What each does
//! with a job is in `worker.rs`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::table;
use super::worker::Next;
use super::Jobs;
use crate::config::LaneWorkers;
use crate::db::DbError;
use crate::domain::Lane;

/// The workers this process runs.
pub(super) struct Crew {
    /// How many were started; zero in a process that runs none by design.
    started: AtomicUsize,
    /// The lanes this process runs workers for.
    lanes: Mutex<Vec<Lane>>,
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
            lanes: Mutex::default(),
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
    /// Starts each lane's workers on the current runtime. On SQLite, first ends the leases of
    /// jobs that a previous run of this process left running (it was killed): only one process
    /// uses a SQLite database, so nobody else holds them.
    pub async fn start_workers(self: &Arc<Self>, workers: LaneWorkers) -> Result<(), DbError> {
        let count = workers.total();
        if count > 0 && !self.db.is_postgres() {
            let reclaimed = self
                .db
                .run(|conn| table::reclaim_interrupted(conn).map_err(DbError::from))
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
        let mut lanes = self.crew.lanes.lock().unwrap_or_else(|p| p.into_inner());
        for lane in Lane::ALL {
            let count = workers.of(lane);
            if count > 0 && !lanes.contains(&lane) {
                lanes.push(lane);
            }
            for n in 0..count {
                let jobs = self.clone();
                let name = format!("{}-{lane}-{n}", std::process::id());
                // Counted before it first runs, so readiness never sees a worker still starting
                // as missing.
                let live = LiveWorker::new(&self.crew.live);
                handles.push(tokio::spawn(async move {
                    let _live = live;
                    jobs.work(lane, name).await
                }));
            }
        }
        Ok(())
    }

    /// The lanes this process runs workers for.
    pub fn lanes(&self) -> Vec<Lane> {
        self.crew
            .lanes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
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
        for lane in Lane::ALL {
            self.bell(lane).notify_waiters();
        }
        let handles =
            std::mem::take(&mut *self.crew.handles.lock().unwrap_or_else(|p| p.into_inner()));
        for handle in handles {
            if let Err(e) = handle.await {
                tracing::error!(error = %e, "a job worker ended abnormally");
            }
        }
    }

    /// One worker of `lane`, until the process stops. The Lever lane's workers also run the
    /// registered sweeps (expiring assessments, queueing reminders) once every
    /// `expiry_sweep_every`: they are decided by the clock and end in Lever write-backs and mail.
    async fn work(self: Arc<Self>, lane: Lane, name: String) {
        let mut stop = self.crew.stop.subscribe();
        let mut swept: Option<std::time::Instant> = None;
        while !*stop.borrow() {
            let every = self.settings.tuning.expiry_sweep_every;
            if lane == Lane::Lever && swept.is_none_or(|at| at.elapsed() >= every) {
                swept = Some(std::time::Instant::now());
                self.sweep(&name).await;
            }
            let pause = match self.run_next_in(&[lane], &name, lane == Lane::Lever).await {
                Ok(Next::Ran) => continue,
                Ok(Next::Idle) => Duration::from_secs(1),
                Ok(Next::Throttled(wait)) => {
                    wait.clamp(Duration::from_millis(5), Duration::from_secs(1))
                }
                Err(e) => {
                    tracing::error!(error = %e, worker = %name, "the job worker could not reach the database");
                    Duration::from_secs(2)
                }
            };
            tokio::select! {
                _ = tokio::time::timeout(pause, self.bell(lane).notified()) => {}
                _ = stop.wait_for(|stopping| *stopping) => {}
            }
        }
    }

    /// Runs each registered sweep once; one that fails is logged and tried again next time.
    async fn sweep(&self, worker: &str) {
        for sweep in self.registry.sweeps() {
            if let Err(e) = sweep.run(self).await {
                tracing::error!(error = %e, %worker, sweep = sweep.name, "a sweep failed");
            }
        }
    }
}
