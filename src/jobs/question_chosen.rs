//! A member picked the question of a recruiter's-choice configuration: the choice link leaves
//! Lever and the invitation is written ([`crate::assessments::question_choice`]); the outcome
//! goes on the delivery the choice came from.

use super::failure::{lifecycle_failure, record_outcome, retry_db, Writing};
use crate::assessments::question_choice::{self, Chosen, QuestionChosenJob};
use crate::domain::event_outcome::EventOutcome;
use crate::domain::Lane;
use crate::queue::{BackgroundJob, JobFailure, Run};

impl BackgroundJob for QuestionChosenJob {
    const KIND: &'static str = "question_chosen";
    const LANE: Lane = Lane::Lever;

    async fn run(&self, run: &Run<'_>) -> Result<(), JobFailure> {
        let (db, settings) = (&run.ctx.db, &run.ctx.settings);
        let chosen = Chosen::load(db, &run.job.org_id, self)
            .await
            .map_err(retry_db)?;
        // The candidate's data was purged: there is nothing left to write.
        let Some(chosen) = chosen else {
            return Ok(());
        };
        let writing = Writing::open(run, chosen.connection.clone()).await?;
        let (lever, connection) = (writing.lever(), &writing.connection);
        match question_choice::write_invitation(db, settings, &lever, &chosen).await {
            Ok(Some(outcome)) => {
                record_outcome(db, chosen.event_id(), EventOutcome::QuestionChosen(outcome)).await
            }
            Ok(None) => Ok(()),
            Err(e) => Err(lifecycle_failure(db, connection, e).await),
        }
    }
}
