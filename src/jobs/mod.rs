//! The kinds of job, one file each: a job reads its payload, calls the domain
//! (`crate::assessments`), and maps the domain's errors to a retry or a park. The engine that
//! queues and runs them is `crate::queue`; [`registry`] tells it which kinds exist.

pub mod failure;
pub mod progress_write_back;
pub mod question_chosen;
pub mod send_email;
pub mod stage_change;
mod sweeps;
pub mod withdrawal;

use crate::assessments;
use crate::domain::Lane;
use crate::queue::{BackgroundJob, JobFailure, Registry, Run};

/// Every kind this version runs, and the sweeps of the Lever lane.
pub fn registry() -> Registry {
    Registry::new()
        .register::<stage_change::Payload>()
        .register::<assessments::progress_write_back::Payload>()
        .register::<withdrawal::Payload>()
        .register::<assessments::question_choice::Payload>()
        .register::<assessments::emails::Payload>()
        .sweep(sweeps::EXPIRE)
        .sweep(sweeps::REMIND)
}

impl BackgroundJob for stage_change::Payload {
    const KIND: &'static str = "stage_change";
    const LANE: Lane = Lane::Lever;

    async fn run(&self, run: &Run<'_>) -> Result<(), JobFailure> {
        stage_change::run(run).await
    }
}

impl BackgroundJob for assessments::progress_write_back::Payload {
    const KIND: &'static str = "progress_write_back";
    const LANE: Lane = Lane::Lever;

    async fn run(&self, run: &Run<'_>) -> Result<(), JobFailure> {
        progress_write_back::run(run).await
    }
}

impl BackgroundJob for withdrawal::Payload {
    const KIND: &'static str = "withdrawal";
    const LANE: Lane = Lane::Lever;

    async fn run(&self, run: &Run<'_>) -> Result<(), JobFailure> {
        withdrawal::run(run).await
    }
}

impl BackgroundJob for assessments::question_choice::Payload {
    const KIND: &'static str = "question_chosen";
    const LANE: Lane = Lane::Lever;

    async fn run(&self, run: &Run<'_>) -> Result<(), JobFailure> {
        question_chosen::run(run).await
    }
}

impl BackgroundJob for assessments::emails::Payload {
    const KIND: &'static str = "send_email";
    const LANE: Lane = Lane::Mail;

    async fn run(&self, run: &Run<'_>) -> Result<(), JobFailure> {
        send_email::run(run).await
    }
}
