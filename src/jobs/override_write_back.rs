//! A reviewer or admin changed a grade: write the new progress tag and a note saying what
//! changed to Lever ([`crate::assessments::overrides`] decides what and how).

use super::failure::{lifecycle_failure, retry_db, Writing};
use crate::assessments::overrides::{self, OverrideWriteBackJob};
use crate::db::{self, DbError};
use crate::domain::Lane;
use crate::queue::{BackgroundJob, JobFailure, Run};

impl BackgroundJob for OverrideWriteBackJob {
    const KIND: &'static str = "override_write_back";
    const LANE: Lane = Lane::Lever;

    async fn run(&self, run: &Run<'_>) -> Result<(), JobFailure> {
        let ctx = run.ctx;
        let id = self.override_id.clone();
        let found = ctx
            .db
            .run(move |conn| -> Result<_, DbError> {
                let Some(work) = overrides::load(conn, &id)? else {
                    return Ok(None);
                };
                let connection = db::lever::connection(conn, &work.org_id)?;
                Ok(Some((work, connection)))
            })
            .await
            .map_err(retry_db)?;
        // The override or its assessment is gone, or the candidate was erased: nothing to write.
        let Some((work, connection)) = found else {
            return Ok(());
        };
        let writing = Writing::open(run, connection).await?;
        let clock = ctx.settings.tuning.clock.clone();
        match overrides::write_back(&ctx.db, &writing.lever(), &work, move || clock.now()).await {
            Ok(()) => Ok(()),
            Err(e) => Err(lifecycle_failure(&ctx.db, &writing.connection, e).await),
        }
    }
}
