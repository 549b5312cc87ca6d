//! An email to a candidate (an invitation or a reminder): sent through the organization's mail
//! server by [`crate::assessments::emails::deliver`], which records what became of it.

use super::failure::retry_db;
use crate::assessments::emails::{self, Delivery, Payload};
use crate::queue::{JobFailure, Run};

pub async fn run(run: &Run<'_>) -> Result<(), JobFailure> {
    let jobs = run.ctx;
    let payload: Payload = serde_json::from_str(&run.job.payload)
        .map_err(|e| JobFailure::Retry(format!("the job's payload is unreadable: {e}")))?;
    match emails::deliver(&jobs.db, &jobs.settings, &payload.email_id)
        .await
        .map_err(retry_db)?
    {
        Delivery::Done => Ok(()),
        Delivery::Retry(reason) => Err(JobFailure::Retry(reason)),
    }
}
