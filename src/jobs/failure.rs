//! What a job's failure means for the queue: try again later, or wait for a person. The
//! assessment lifecycle says what went wrong; the jobs turn it into a [`JobFailure`] here.

use crate::assessments::LifecycleError;
use crate::db::lever::LeverConnection;
use crate::db::{self, Db, DbError};
use crate::lever::LeverError;
use crate::queue::JobFailure;

/// What a step of the lifecycle that stopped means for the job.
pub async fn lifecycle_failure(
    db: &Db,
    connection: &LeverConnection,
    error: LifecycleError,
) -> JobFailure {
    match error {
        LifecycleError::Database(e) => retry_db(e),
        LifecycleError::Lever(e) => lever_failure(db, connection, e).await,
        LifecycleError::NeedsPerson(reason) => JobFailure::Park(reason),
    }
}

/// Records what became of the job's delivery.
pub async fn record_outcome(
    db: &Db,
    event_id: &str,
    outcome: crate::domain::event_outcome::EventOutcome,
) -> Result<(), JobFailure> {
    let event = event_id.to_owned();
    db.run(move |conn| db::webhooks::record_outcome(conn, &event, &outcome).map_err(DbError::from))
        .await
        .map_err(retry_db)
}

/// What a Lever error means for the job (the progress write-back's too).
pub async fn lever_failure(db: &Db, connection: &LeverConnection, error: LeverError) -> JobFailure {
    match error {
        LeverError::Unauthorized { message } => {
            let reason = crate::connection::mark_broken(db, connection, &message).await;
            JobFailure::Park(format!("the Lever connection is broken ({reason}); reconnect it on the Connection page."))
        }
        // The connection test found the permission granted: the opportunity is what is refused.
        LeverError::Forbidden { message, permission: Some(p) }
            if !connection.missing().contains(&p) && !crate::lever::UNTESTED_PERMISSIONS.contains(&p.as_str()) =>
        {
            JobFailure::Park(format!("Lever refused the opportunity ({message}): it is confidential: the key cannot read it. Allow the key access to confidential data in Lever (Settings → Integrations and API → API Credentials) and connect again."))
        }
        LeverError::Forbidden { message, permission } => JobFailure::Park(match permission {
            Some(p) => format!("the API key lacks the “{p}” permission ({message}); grant it in Lever and connect again."),
            None => format!("Lever refused the call ({message}); check the key's permissions and connect again."),
        }),
        // Retrying the same request cannot help; most often the default user was deactivated.
        LeverError::BadRequest { message } => JobFailure::Park(format!(
            "Lever refused the request ({message}); if the default Lever user was deactivated, choose another on the Settings page."
        )),
        // The renewal marked the connection already ("needs re-authorization").
        lost @ LeverError::AuthorizationLost { .. } => JobFailure::Park(lost.to_string()),
        other => JobFailure::Retry(other.to_string()),
    }
}

pub fn retry_db(e: DbError) -> JobFailure {
    JobFailure::Retry(format!("database: {e}"))
}

/// What a job writes to Lever with: the connection's client (its calls recorded with the
/// job), the default Lever user it writes as, and the name notes are signed with.
pub struct Writing {
    pub connection: LeverConnection,
    pub client: crate::lever::LeverClient,
    pub perform_as: String,
    pub author: String,
}

impl Writing {
    /// The organization's connection, if leverbridge may write with it (otherwise the job
    /// parks, saying why), and a client for it.
    pub async fn open(
        run: &crate::queue::Run<'_>,
        connection: Option<LeverConnection>,
    ) -> Result<Writing, JobFailure> {
        let (connection, perform_as) = crate::queue::writable_connection(connection)?;
        let client = run.client(&connection).await?;
        let author = connection
            .default_user_name
            .clone()
            .unwrap_or(perform_as.clone());
        Ok(Writing {
            connection,
            client,
            perform_as,
            author,
        })
    }

    pub fn lever(&self) -> crate::assessments::LeverWriter<'_> {
        crate::assessments::LeverWriter {
            client: &self.client,
            perform_as: &self.perform_as,
            author: &self.author,
        }
    }
}
