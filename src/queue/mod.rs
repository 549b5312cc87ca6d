//! The job engine: a durable table of jobs (`table`), each a typed [`BackgroundJob`] that
//! names its lane, registered by kind name (`registry`), and the workers each lane runs
//! (`worker`, `crew`). The engine knows no kind of its own: the kinds are in `crate::jobs`,
//! which registers them; the domain queues them in the transactions that cause them.
//!
//! Lanes keep kinds of work apart: `lever` (write-backs, paced per organization by Lever's
//! rate limit and drained fairly between organizations), `mail` (email through each
//! organization's mail server) and `grading` (CPU-bound, bounded by sandbox slots). Each lane
//! has workers of its own, so a hung mail server never holds a Lever write-back.

mod attempt;
mod crew;
pub mod job;
pub mod registry;
pub mod retention;
pub mod table;
pub mod worker;

pub use job::{writable_connection, BackgroundJob, Context, JobFailure, Run};
pub use registry::{Registry, Sweep};
pub use table::{enqueue, enqueue_rows, Job, NewJob};
pub use worker::{Jobs, Next};
