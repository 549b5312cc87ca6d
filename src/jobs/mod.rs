//! The kinds of job, one file each: a job reads its payload, calls the domain
//! (`crate::assessments`), and maps the domain's errors to a retry or a park. The engine that
//! queues and runs them is `crate::queue`; [`registry`] tells it which kinds exist.

pub mod failure;
pub mod grade;
pub mod override_write_back;
pub mod progress_write_back;
pub mod question_chosen;
pub mod send_email;
pub mod stage_change;
mod sweeps;
pub mod withdrawal;

use crate::assessments;
use crate::queue::Registry;

/// Every kind this version runs, and the sweeps of the Lever lane.
pub fn registry() -> Registry {
    Registry::new()
        .register::<stage_change::StageChangeJob>()
        .register::<assessments::progress_write_back::ProgressWriteBackJob>()
        .register::<withdrawal::WithdrawalJob>()
        .register::<assessments::question_choice::QuestionChosenJob>()
        .register::<assessments::emails::SendEmailJob>()
        .register::<assessments::grading::GradeJob>()
        .register::<assessments::overrides::OverrideWriteBackJob>()
        .sweep(sweeps::EXPIRE)
        .sweep(sweeps::REMIND)
}
