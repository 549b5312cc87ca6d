//! A submission with test cases was handed in: grade it in the sandbox
//! ([`crate::assessments::grading`] decides how) and queue its write-back to Lever.

use super::failure::retry_db;
use crate::assessments::grading::{self, GradeJob, Graded, GradingError};
use crate::domain::Lane;
use crate::queue::{BackgroundJob, JobFailure, Run};
use crate::sandbox::SandboxError;

impl BackgroundJob for GradeJob {
    const KIND: &'static str = "grade";
    const LANE: Lane = Lane::Grading;

    async fn run(&self, run: &Run<'_>) -> Result<(), JobFailure> {
        let ctx = run.ctx;
        let clock = ctx.settings.tuning.clock.clone();
        let attempts = ctx.settings.tuning.job_max_attempts;
        match grading::grade(
            &ctx.db,
            &ctx.sandbox,
            &self.assessment_id,
            move || clock.now(),
            attempts,
        )
        .await
        {
            Ok(Graded::Now {
                passed,
                total,
                score,
                state,
            }) => {
                tracing::info!(
                    assessment = %self.assessment_id,
                    %state,
                    "graded: {}",
                    crate::assessments::case_summary::summary(passed, total, score)
                );
                Ok(())
            }
            Ok(Graded::Nothing(why)) => {
                tracing::info!(assessment = %self.assessment_id, "not graded: {why}");
                Ok(())
            }
            Err(GradingError::Database(e)) => Err(retry_db(e)),
            // The machine cannot run code (bubblewrap missing, say): the grade waits for it.
            Err(GradingError::Sandbox(e @ SandboxError::Unavailable(_)))
            | Err(GradingError::Sandbox(e @ SandboxError::Language(_))) => {
                Err(JobFailure::Retry(format!("grading waits: {e}")))
            }
            Err(GradingError::Sandbox(e)) => Err(JobFailure::Retry(e.to_string())),
        }
    }
}
