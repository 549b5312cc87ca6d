//! The durable queue, the workers that run inside `serve`, and one file per job kind.

pub mod queue;
pub mod stage_change;
pub mod worker;

pub use worker::{JobFailure, Jobs};
