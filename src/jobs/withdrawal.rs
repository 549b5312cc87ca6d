//! A candidate was archived, hired or deleted in Lever: their unfinished assessments and
//! waiting recruiter's choices are withdrawn, their links taken off in Lever, and for a
//! deletion what leverbridge holds of them erased ([`crate::assessments::withdrawal`] decides
//! and writes); the outcome goes on the delivery.
//!
//! The withdrawal is stored before anything is written to Lever, and each write-back step is
//! recorded once done, so a rerun writes nothing twice.

use serde::{Deserialize, Serialize};

use super::failure::{lifecycle_failure, record_outcome, retry_db, Writing};
use crate::assessments::withdrawal::{self, Held, Leaving, LeftPipeline};
use crate::domain::event_outcome::EventOutcome;
use crate::domain::Lane;
use crate::queue::{BackgroundJob, JobFailure, Run};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WithdrawalJob {
    pub opportunity_id: String,
    /// A [`LeftPipeline`]: `archived`, `hired` or `deleted`.
    pub left: String,
}

impl BackgroundJob for WithdrawalJob {
    const KIND: &'static str = "withdrawal";
    const LANE: Lane = Lane::Lever;

    async fn run(&self, run: &Run<'_>) -> Result<(), JobFailure> {
        let (db, settings) = (&run.ctx.db, &run.ctx.settings);
        let left = LeftPipeline::parse(&self.left).ok_or_else(|| {
            JobFailure::Retry(format!("unknown way to leave the pipeline “{}”", self.left))
        })?;
        let event_id = run.job.event_id.clone().unwrap_or_default();
        let leaving = Leaving {
            org_id: &run.job.org_id,
            opportunity_id: &self.opportunity_id,
            event_id: &event_id,
            left,
        };
        let held = Held::load(db, &leaving).await.map_err(retry_db)?;
        let outcome = match held.nothing_to_do(&leaving) {
            Some(nothing) => nothing,
            None => {
                let writing = Writing::open(run, held.connection.clone()).await?;
                let (lever, connection) = (writing.lever(), &writing.connection);
                match withdrawal::withdraw(db, settings, &lever, &held, &leaving).await {
                    Ok(outcome) => outcome,
                    Err(e) => return Err(lifecycle_failure(db, connection, e).await),
                }
            }
        };
        record_outcome(db, &event_id, EventOutcome::Withdrawal(outcome)).await
    }
}
