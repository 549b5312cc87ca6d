//! An assessment moved on (the candidate started, a reviewer scored it, it was withdrawn):
//! write its progress back to Lever ([`crate::assessments::progress_write_back`] decides what
//! and how).

use std::sync::Arc;

use super::failure::{lever_failure, retry_db};
use crate::assessments::progress_write_back::{self, ProgressWriteBackJob};
use crate::assessments::record;
use crate::assessments::result_write_back::ResultError;
use crate::db::{self, DbError};
use crate::domain::Lane;
use crate::lever::LeverError;
use crate::queue::{writable_connection, BackgroundJob, JobFailure, Run};

impl BackgroundJob for ProgressWriteBackJob {
    const KIND: &'static str = "progress_write_back";
    const LANE: Lane = Lane::Lever;

    async fn run(&self, run: &Run<'_>) -> Result<(), JobFailure> {
        let jobs = run.ctx;
        let id = self.assessment_id.clone();
        let found = jobs
            .db
            .run(move |conn| -> Result<_, DbError> {
                let Some((assessment, _)) = db::assessments::by_id(conn, &id)? else {
                    return Ok(None);
                };
                let org = assessment.org_id;
                let Some(record) = record::load(conn, &org, &id)? else {
                    return Ok(None);
                };
                let connection = db::lever::connection(conn, &org)?;
                let slug = db::orgs::find(conn, &org)?
                    .map(|o| o.slug)
                    .unwrap_or_default();
                Ok(Some((record, connection, slug)))
            })
            .await
            .map_err(retry_db)?;
        // The candidate was deleted in Lever and their data erased: there is nothing left to write.
        let Some((record, connection, slug)) =
            found.filter(|(r, _, _)| r.withdrawal.purged_at.is_none())
        else {
            return Ok(());
        };
        let (connection, perform_as) = writable_connection(connection)?;
        let client = run.client(&connection).await?;
        let record = Arc::new(record);
        let public_url = &jobs.settings.public_url;
        match progress_write_back::write_for_org(
            &jobs.db,
            public_url,
            &client,
            &record,
            &slug,
            &perform_as,
        )
        .await
        {
            Ok(()) => Ok(()),
            Err(ResultError::Lever(LeverError::NotFound { message, .. })) => {
                tracing::warn!(
                    assessment = %record.assessment.id,
                    opportunity = %record.assessment.opportunity_id,
                    %message,
                    "Lever no longer has the opportunity; its progress was not written"
                );
                Ok(())
            }
            Err(ResultError::Lever(e)) => Err(lever_failure(&jobs.db, &connection, e).await),
            Err(ResultError::Database(e)) => Err(retry_db(e)),
            // The other steps are written; this one waits for its cause to be fixed (a connection or
            // default user changed unparks it).
            Err(e @ ResultError::Refused { .. }) => Err(JobFailure::Park(e.to_string())),
            // Trying again makes the same document: the failure needs a person.
            Err(e @ ResultError::Report(_)) => Err(JobFailure::Park(e.to_string())),
        }
    }
}
