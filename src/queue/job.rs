//! What a job is to the engine: a struct that is its own payload and implements
//! [`BackgroundJob`] (its stored kind, its lane, its retry policy and how it runs), as the
//! crates.io server's `BackgroundJob` does. The kinds themselves are in `crate::jobs`; each is
//! registered in a [`super::Registry`] under its stored name.

use std::future::Future;
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::table::Job;
use super::worker::Jobs;
use crate::db::lever::LeverConnection;
use crate::domain::Lane;
use crate::lever::{LeverCall, LeverClient, LeverError};
use crate::lever_access::{ClientError, LeverAccess};

/// A kind of job: the struct is the payload stored in `jobs.payload` (JSON), so a stored job
/// reads back as the very value that was queued.
pub trait BackgroundJob: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The name stored in `jobs.kind`. Stored rows keep it, so it never changes.
    const KIND: &'static str;
    /// The lane whose workers run it.
    const LANE: Lane;

    /// The retry policy: how many attempts the job gets before it is dead, given the
    /// configured default (`Tuning::job_max_attempts`). Failed attempts wait
    /// `Tuning::job_backoff_base`, doubling, with jitter.
    fn max_attempts(configured: i32) -> i32 {
        configured
    }

    /// Does the work: reads what it needs, calls the domain, and maps the domain's errors to
    /// a [`JobFailure`].
    fn run(&self, run: &Run<'_>) -> impl Future<Output = Result<(), JobFailure>> + Send;
}

/// Why a job did not finish this time.
#[derive(Debug)]
pub enum JobFailure {
    /// Try again later (Lever busy or down, a network error).
    Retry(String),
    /// Wait until an admin fixes something (connection broken, no default Lever user).
    Park(String),
}

/// One claimed job being run: what it may use, and the Lever clients it used, so their calls
/// are recorded with its attempt afterwards.
pub struct Run<'a> {
    pub jobs: &'a Jobs,
    pub job: &'a Job,
    clients: Mutex<Vec<LeverClient>>,
}

impl<'a> Run<'a> {
    pub(super) fn new(jobs: &'a Jobs, job: &'a Job) -> Run<'a> {
        Run {
            jobs,
            job,
            clients: Mutex::new(Vec::new()),
        }
    }

    /// How the process reaches Lever.
    pub fn lever(&self) -> &LeverAccess {
        &self.jobs.lever
    }

    /// A client for the stored connection whose calls will be recorded with this job's event.
    /// An OAuth connection's token is renewed first when it is about to expire.
    pub async fn client(&self, connection: &LeverConnection) -> Result<LeverClient, JobFailure> {
        let client = match self.jobs.lever.client_for(&self.jobs.db, connection).await {
            Ok(client) => client,
            Err(e @ ClientError::Lever(LeverError::AuthorizationLost { .. })) => {
                return Err(JobFailure::Park(e.to_string()))
            }
            Err(ClientError::Lever(e)) => return Err(JobFailure::Retry(e.to_string())),
            Err(e) => return Err(JobFailure::Park(e.to_string())),
        };
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(client.clone());
        Ok(client)
    }

    /// The Lever calls made so far.
    pub(super) fn take_calls(&self) -> Vec<LeverCall> {
        let clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients.iter().flat_map(LeverClient::take_calls).collect()
    }
}
