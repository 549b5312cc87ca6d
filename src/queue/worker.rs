//! Workers: each claims a due job of its lane, runs it (`attempt.rs`), records its Lever calls
//! and its fate, and waits for its lane's bell when nothing is due. A job that panics is a
//! failed attempt; a graceful stop finishes or releases running jobs.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::attempt::{self, Attempts};
use super::crew::Crew;
use super::job::{Context, JobFailure, Run};
use super::registry::Registry;
use super::table::{self, Backoff, Claim, Job};
use crate::config::{LaneWorkers, Settings};
use crate::connection::{record_calls, LeverAccess};
use crate::db::connection::write_transaction;
use crate::db::{Db, DbError};
use crate::domain::Lane;
use crate::lever::LeverCall;

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

/// The job system: what jobs use, the kinds it runs, the bells that wake each lane's idle
/// workers, and the workers themselves.
pub struct Jobs {
    ctx: Context,
    registry: Registry,
    wake: [Notify; Lane::ALL.len()],
    crew: Crew,
}

/// `jobs.db`, `jobs.settings`, `jobs.lever`: what the jobs use.
impl std::ops::Deref for Jobs {
    type Target = Context;

    fn deref(&self) -> &Context {
        &self.ctx
    }
}

impl Jobs {
    pub fn new(db: Db, settings: Settings, lever: LeverAccess, registry: Registry) -> Arc<Jobs> {
        Arc::new(Jobs {
            ctx: Context {
                sandbox: crate::sandbox::Sandbox::new(&settings.tuning.sandbox),
                db,
                settings,
                lever,
            },
            registry,
            wake: Default::default(),
            crew: Crew::default(),
        })
    }

    /// Tells an idle worker of each lane that work arrived.
    pub fn wake(&self) {
        for bell in &self.wake {
            bell.notify_one();
        }
    }

    /// The bell of `lane`'s workers.
    fn bell(&self, lane: Lane) -> &Notify {
        &self.wake[lane as usize]
    }

    fn attempts(&self) -> Attempts<'_> {
        Attempts {
            ctx: &self.ctx,
            registry: &self.registry,
        }
    }

    /// Runs every job that is due now, whatever its lane, one after another; returns how many
    /// ran. Tests call this instead of sleeping.
    pub async fn run_until_idle(&self) -> Result<usize, DbError> {
        let mut ran = 0;
        while self.run_next("drain").await? {
            ran += 1;
        }
        Ok(ran)
    }

    /// Claims and runs one due job of any lane; `false` when none is due.
    pub async fn run_next(&self, worker: &str) -> Result<bool, DbError> {
        let ran = self.run_next_in(&Lane::ALL, worker, false).await?;
        Ok(ran == Next::Ran)
    }

    /// Claims and runs one due job of `lanes`. With `fairly`, leaves the jobs of organizations
    /// whose Lever rate limit would make the worker wait (less than a job's worth of calls in
    /// their bucket): a worker never sleeps in one organization's bucket while another's work
    /// waits. That is the Lever lane's drain; other lanes take their oldest due job.
    pub async fn run_next_in(
        &self,
        lanes: &[Lane],
        worker: &str,
        fairly: bool,
    ) -> Result<Next, DbError> {
        let throttled = if fairly {
            self.lever.throttled_orgs(TOKENS_TO_START_A_JOB)
        } else {
            Vec::new()
        };
        let waiting: Vec<String> = throttled.iter().map(|(org, _)| org.clone()).collect();
        let (name, lease, lanes) = (
            worker.to_owned(),
            self.settings.tuning.job_lease,
            lanes.to_vec(),
        );
        let now = self.settings.tuning.clock.now();
        let claimed = self
            .db
            .run(move |conn| {
                let claim = Claim {
                    worker: &name,
                    lease,
                    lanes: &lanes,
                    waiting_orgs: &waiting,
                    now,
                };
                table::claim_due(conn, &claim).map_err(DbError::from)
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
        let run = Run::new(&self.ctx, &job);
        let ended = self.attempts().attempt(&run, self.crew.stopping()).await;
        let calls = run.take_calls();
        let backoff = Backoff::from_tuning(&self.settings.tuning);
        let now = self.settings.tuning.clock.now();
        // One transaction: if settling fails, the calls are not recorded either, so the
        // attempt that runs again in its place does not find them listed twice.
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    record_calls(conn, &job.org_id, job.event_id.as_deref(), calls)?;
                    attempt::settle(conn, &job, ended, &backoff, now)
                })
            })
            .await?;
        Ok(())
    }

    /// Runs a claimed job without settling it: returns its result and the Lever calls it made.
    /// (`run_next` settles it; tests use this to act out a worker that dies before settling.)
    pub async fn execute(&self, job: &Job) -> (Result<(), JobFailure>, Vec<LeverCall>) {
        let run = Run::new(&self.ctx, job);
        let result = self.attempts().dispatch(&run).await;
        (result, run.take_calls())
    }

    /// Starts each lane's workers on the current runtime. On SQLite, first ends the leases of
    /// jobs that a previous run of this process left running (it was killed): only one process
    /// uses a SQLite database, so nobody else holds them.
    pub async fn start_workers(self: &Arc<Self>, workers: LaneWorkers) -> Result<(), DbError> {
        self.sandbox.announce();
        if workers.total() > 0 && !self.db.is_postgres() {
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
        for lane in Lane::ALL {
            for n in 0..workers.of(lane) {
                let name = format!("{}-{lane}-{n}", std::process::id());
                self.crew.spawn(lane, self.clone().work(lane, name));
            }
        }
        Ok(())
    }

    /// The lanes this process runs workers for.
    pub fn lanes(&self) -> Vec<Lane> {
        self.crew.lanes()
    }

    /// Whether this process was started with workers and none is running any more (they
    /// stopped or died). A process started without workers by design is never missing one.
    pub fn no_worker_running(&self) -> bool {
        self.crew.none_left()
    }

    /// How many workers are running now.
    pub fn running_workers(&self) -> usize {
        self.crew.running()
    }

    /// Stops the workers: none claims another job; a running job gets `job_stop_grace` to
    /// finish and is otherwise released, due again at once for the next start. Returns when
    /// every worker has stopped.
    pub async fn stop(&self) {
        let stopping = self.crew.stop();
        for lane in Lane::ALL {
            self.bell(lane).notify_waiters();
        }
        stopping.await;
    }

    /// One worker of `lane`, until the process stops. The Lever lane's workers also run the
    /// registered sweeps (expiring assessments, queueing reminders) once every
    /// `expiry_sweep_every`: they are decided by the clock and end in Lever write-backs and mail.
    async fn work(self: Arc<Self>, lane: Lane, name: String) {
        let mut stop = self.crew.stopping();
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
            match sweep.run(&self.ctx).await {
                Ok(0) => {}
                Ok(changed) => {
                    tracing::info!(changed, sweep = sweep.name, "swept");
                    self.wake();
                }
                Err(e) => {
                    tracing::error!(error = %e, %worker, sweep = sweep.name, "a sweep failed")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::config::{DatabaseUrl, LaneWorkers, LeverHosts, Tuning};
    use crate::crypto::SecretKey;
    use crate::db;
    use crate::domain::JobState;
    use crate::queue::{enqueue, BackgroundJob, NewJob};

    /// Panics when run: how these tests make a job that panics.
    #[derive(Serialize, Deserialize)]
    struct PanicJob {}

    impl BackgroundJob for PanicJob {
        const KIND: &'static str = "test_panic";
        const LANE: Lane = Lane::Lever;

        async fn run(&self, _run: &Run<'_>) -> Result<(), JobFailure> {
            panic!("a test job panicked")
        }
    }

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
            workers: LaneWorkers::default(),
            metrics_token: None,
            tuning,
        };
        let lever = LeverAccess::new(
            settings.lever.clone(),
            settings.tuning.clone(),
            settings.secret_key.clone(),
        );
        let registry = Registry::new().register::<PanicJob>();
        (Jobs::new(db, settings, lever, registry), org)
    }

    async fn queue_panic(jobs: &Jobs, org: &str, max_attempts: i32) -> String {
        let org = org.to_owned();
        jobs.db
            .run(move |conn| {
                let job = NewJob::of(&org, &PanicJob {}, max_attempts);
                enqueue(conn, &job).map_err(DbError::from)
            })
            .await
            .unwrap()
            .id
    }

    async fn job(jobs: &Jobs, id: &str) -> Job {
        let id = id.to_owned();
        jobs.db
            .run(move |conn| table::find(conn, &id).map_err(DbError::from))
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

        assert_eq!(
            jobs.run_next_in(&[Lane::Lever], "w", true).await.unwrap(),
            Next::Ran
        );
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
        match jobs.run_next_in(&[Lane::Lever], "w", true).await.unwrap() {
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
        assert_eq!((after.state, after.attempts), (JobState::Queued, 1));
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
        let one = LaneWorkers {
            lever: 1,
            ..LaneWorkers::none()
        };
        jobs.start_workers(one).await.unwrap();
        // The worker runs each job until it is dead, then goes on to the next one.
        for _ in 0..2 {
            let id = queue_panic(&jobs, &org, 2).await;
            jobs.wake();
            let mut dead = false;
            for _ in 0..400 {
                let now = job(&jobs, &id).await;
                if now.state == JobState::Dead {
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
