//! What a job is to the engine: a struct that is its own payload and implements
//! [`BackgroundJob`] (its stored kind, its lane, its retry policy and how it runs), as the
//! crates.io server's `BackgroundJob` does. The kinds themselves are in `crate::jobs`; each is
//! registered in a [`super::Registry`] under its stored name.

use std::future::Future;
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::table::{Job, NewJob};
use crate::config::Settings;
use crate::connection::{ClientError, LeverAccess};
use crate::db::lever::LeverConnection;
use crate::db::Db;
use crate::domain::Lane;
use crate::lever::{LeverCall, LeverClient, LeverError};

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

impl<'a> NewJob<'a> {
    /// `job` for the organization, with `attempts` (usually `Tuning::job_max_attempts`) passed
    /// through the kind's retry policy.
    pub fn of<J: BackgroundJob>(org_id: &'a str, job: &J, attempts: i32) -> NewJob<'a> {
        let payload = serde_json::to_string(job).expect("a job's payload serializes");
        NewJob::new(org_id, J::KIND, J::LANE, payload, J::max_attempts(attempts))
    }
}

/// What every job may use: the database, the settings, and the way to Lever.
pub struct Context {
    pub db: Db,
    pub settings: Settings,
    pub lever: LeverAccess,
    /// Where candidates' code runs (grading; the candidate's *Run* shares its slots).
    pub sandbox: crate::sandbox::Sandbox,
}

/// One claimed job being run: what it may use, and the Lever clients it used, so their calls
/// are recorded with its attempt afterwards.
pub struct Run<'a> {
    pub ctx: &'a Context,
    pub job: &'a Job,
    clients: Mutex<Vec<LeverClient>>,
}

impl<'a> Run<'a> {
    pub(super) fn new(ctx: &'a Context, job: &'a Job) -> Run<'a> {
        Run {
            ctx,
            job,
            clients: Mutex::new(Vec::new()),
        }
    }

    /// A client for the stored connection whose calls will be recorded with this job's event.
    /// An OAuth connection's token is renewed first when it is about to expire.
    pub async fn client(&self, connection: &LeverConnection) -> Result<LeverClient, JobFailure> {
        let client = match self.ctx.lever.client_for(&self.ctx.db, connection).await {
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

/// The organization's Lever connection if leverbridge may write with it, and the default Lever
/// user to write as; otherwise the job is parked with the reason in words (reconnecting or
/// choosing a user requeues it).
pub fn writable_connection(
    connection: Option<LeverConnection>,
) -> Result<(LeverConnection, String), JobFailure> {
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
