//! A candidate moved to a stage in Lever: the configurations watching the stage fire or say
//! why not ([`crate::assessments::stage_change`] decides and writes to Lever); the outcome goes
//! on the delivery.

use serde::{Deserialize, Serialize};

use super::failure::{lifecycle_failure, record_outcome, retry_db, Writing};
use crate::assessments::stage_change::{self, Known, Move};
use crate::domain::event_outcome::EventOutcome;
use crate::domain::Lane;
use crate::queue::{writable_connection, BackgroundJob, JobFailure, Run};

pub use crate::assessments::stage_change::SendNow;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StageChangeJob {
    pub opportunity_id: String,
    pub to_stage_id: String,
    /// An admin pressed *Send now* on Events for a delivery ignored because the candidate
    /// lacked the tag: this configuration fires as if the tag had been there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_now: Option<SendNow>,
}

impl BackgroundJob for StageChangeJob {
    const KIND: &'static str = "stage_change";
    const LANE: Lane = Lane::Lever;

    async fn run(&self, run: &Run<'_>) -> Result<(), JobFailure> {
        let (db, settings) = (&run.ctx.db, &run.ctx.settings);
        let event_id = run.job.event_id.clone().unwrap_or_default();
        let moved = Move {
            event_id: &event_id,
            opportunity_id: &self.opportunity_id,
            to_stage_id: &self.to_stage_id,
            send_now: self.send_now.as_ref(),
        };
        let mut known = Known::load(db, &run.job.org_id).await.map_err(retry_db)?;
        if known.needs_stage_refresh(&moved) {
            let (connection, _) = writable_connection(known.connection.clone())?;
            let client = run.client(&connection).await?;
            if let Err(e) = known.refresh_stages(db, &client).await {
                return Err(lifecycle_failure(db, &connection, e).await);
            }
        }
        let outcome = match known.watching(&moved) {
            Err(none) => none,
            Ok(watching) => {
                let writing = Writing::open(run, known.connection.clone()).await?;
                let (lever, connection) = (writing.lever(), &writing.connection);
                match stage_change::fire(db, settings, &lever, &known, watching, &moved).await {
                    Ok(outcome) => outcome,
                    Err(e) => return Err(lifecycle_failure(db, connection, e).await),
                }
            }
        };
        record_outcome(db, &event_id, EventOutcome::StageChange(outcome)).await
    }
}
