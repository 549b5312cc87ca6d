//! An email to a candidate (an invitation or a reminder): sent through the organization's mail
//! server by [`crate::assessments::emails::deliver`], which records what became of it.

use super::failure::retry_db;
use crate::assessments::emails::{self, Delivery, SendEmailJob};
use crate::domain::Lane;
use crate::queue::{BackgroundJob, JobFailure, Run};

impl BackgroundJob for SendEmailJob {
    const KIND: &'static str = "send_email";
    const LANE: Lane = Lane::Mail;

    async fn run(&self, run: &Run<'_>) -> Result<(), JobFailure> {
        let ctx = run.ctx;
        match emails::deliver(&ctx.db, &ctx.settings, &self.email_id)
            .await
            .map_err(retry_db)?
        {
            Delivery::Done => Ok(()),
            Delivery::Retry(reason) => Err(JobFailure::Retry(reason)),
        }
    }
}
