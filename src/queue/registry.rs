//! Which job kinds this process can run: stored kind names mapped to their types. A stored
//! kind the registry does not know (queued by a newer version, say) is a failed attempt with
//! the reason on Events, never a panic; it is tried again later, when a replica that knows it
//! may take it.

use std::collections::HashMap;

use futures_util::future::BoxFuture;

use super::job::{BackgroundJob, Context, JobFailure, Run};
use crate::db::DbError;
use crate::domain::Lane;

/// Runs a stored job of one kind: reads its payload into the kind's type and runs it.
type RunStored = for<'r> fn(&'r Run<'r>) -> BoxFuture<'r, Result<(), JobFailure>>;

/// One registered kind.
#[derive(Clone, Copy)]
pub struct Kind {
    pub name: &'static str,
    pub lane: Lane,
    /// The attempts a job of this kind gets, given the configured default.
    pub max_attempts: fn(i32) -> i32,
    run: RunStored,
}

/// Work the Lever lane's workers do on a timer rather than from a queued job: decided by the
/// clock (assessments that ran out, reminders that are due), it queues jobs in turn. Returns
/// how many things it changed; the workers are woken when it changed any.
#[derive(Clone, Copy)]
pub struct Sweep {
    /// Named in the log when it fails.
    pub name: &'static str,
    run: for<'c> fn(&'c Context) -> BoxFuture<'c, Result<usize, DbError>>,
}

impl Sweep {
    pub const fn new(
        name: &'static str,
        run: for<'c> fn(&'c Context) -> BoxFuture<'c, Result<usize, DbError>>,
    ) -> Sweep {
        Sweep { name, run }
    }

    pub fn run<'c>(&self, ctx: &'c Context) -> BoxFuture<'c, Result<usize, DbError>> {
        (self.run)(ctx)
    }
}

/// The job kinds this process runs, by stored name, and its sweeps.
#[derive(Clone, Default)]
pub struct Registry {
    kinds: HashMap<&'static str, Kind>,
    sweeps: Vec<Sweep>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds the kind `J`.
    ///
    /// # Panics
    /// When another kind was registered under the same name: stored jobs would be ambiguous.
    pub fn register<J: BackgroundJob>(mut self) -> Registry {
        let kind = Kind {
            name: J::KIND,
            lane: J::LANE,
            max_attempts: J::max_attempts,
            run: run_stored::<J>,
        };
        crate::telemetry::job_kind(J::KIND);
        let earlier = self.kinds.insert(J::KIND, kind);
        assert!(earlier.is_none(), "two job kinds are named `{}`", J::KIND);
        self
    }

    /// Adds a sweep, run once every `Tuning::expiry_sweep_every` by each Lever-lane worker.
    pub fn sweep(mut self, sweep: Sweep) -> Registry {
        self.sweeps.push(sweep);
        self
    }

    pub fn sweeps(&self) -> &[Sweep] {
        &self.sweeps
    }

    /// The kind stored as `name`; `None` for a name this process does not know.
    pub fn kind(&self, name: &str) -> Option<&Kind> {
        self.kinds.get(name)
    }
}

impl Kind {
    /// Runs the stored job `run` holds as this kind.
    pub fn run<'r>(&self, run: &'r Run<'r>) -> BoxFuture<'r, Result<(), JobFailure>> {
        (self.run)(run)
    }
}

fn run_stored<'r, J: BackgroundJob>(run: &'r Run<'r>) -> BoxFuture<'r, Result<(), JobFailure>> {
    Box::pin(async move {
        let job: J = serde_json::from_str(&run.job.payload)
            .map_err(|e| JobFailure::Retry(format!("the job's payload is unreadable: {e}")))?;
        job.run(run).await
    })
}

/// Why a claimed job could not be run at all.
pub fn unknown_kind(name: &str) -> JobFailure {
    JobFailure::Retry(format!("unknown job kind `{name}`"))
}
