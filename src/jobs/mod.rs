//! The durable queue, the workers that run inside `serve`, and one file per job kind.

mod crew;
pub mod failure;
pub mod kind;
pub mod progress_write_back;
pub mod question_chosen;
pub mod queue;
pub mod retention;
pub mod send_email;
pub mod stage_change;
pub mod withdrawal;
pub mod worker;

pub use kind::JobKind;
pub use queue::{enqueue, enqueue_rows, NewJob};
pub use worker::{JobFailure, Jobs};
