//! The database: one schema over SQLite (embedded default) or PostgreSQL, pooled with r2d2.
//!
//! Queries are plain `fn(&mut DbConn, …) -> QueryResult<T>` functions, one file per table group,
//! called from async code through [`Db::run`], which moves them onto the blocking pool.

pub mod assessment_history;
pub mod assessments;
pub mod cached;
pub mod cases;
pub mod configurations;
pub mod connection;
pub mod emails;
pub mod keyset;
pub mod lever;
pub mod lever_calls;
pub mod lever_oauth;
pub mod orgs;
pub mod question_choices;
pub mod questions;
pub mod rate_buckets;
pub mod retention;
pub mod schema;
pub mod sessions;
pub mod settings;
pub mod snapshots;
pub mod users;
pub mod webhooks;
pub mod withdrawals;

pub use crate::domain::DatabaseUrl;
pub use connection::{Db, DbConn, DbError};

use chrono::NaiveDateTime;

/// Now, in UTC, at the precision both backends store (the system clock; see
/// [`crate::clock::system_now`]).
pub fn now() -> NaiveDateTime {
    crate::clock::system_now()
}

/// A new primary key: a time-ordered UUID (v7), so rows are appended to the end of their
/// indexes instead of landing on random pages, and ids sort by creation.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
