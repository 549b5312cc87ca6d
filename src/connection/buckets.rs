//! Lever's limit per key kept in the database, so that several replicas (PostgreSQL) together
//! stay within it.

use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::db::{self, Db};
use crate::lever::SharedLimit;

/// Lever's limit per key, kept in the database for every replica (PostgreSQL).
pub(super) struct DatabaseBuckets {
    database: Db,
}

impl DatabaseBuckets {
    pub(super) fn new(database: &Db) -> DatabaseBuckets {
        DatabaseBuckets {
            database: database.clone(),
        }
    }
}

impl SharedLimit for DatabaseBuckets {
    fn reserve<'a>(
        &'a self,
        key: &'a str,
        rate_per_sec: f64,
        burst: f64,
    ) -> BoxFuture<'a, Option<Duration>> {
        Box::pin(async move {
            let key = key.to_owned();
            let balance = self
                .database
                .run(move |conn| {
                    db::rate_buckets::reserve(conn, &key, rate_per_sec, burst)
                        .map_err(db::DbError::from)
                })
                .await;
            match balance {
                Ok(tokens) if tokens >= 0.0 => Some(Duration::ZERO),
                Ok(tokens) => Some(Duration::from_secs_f64(-tokens / rate_per_sec)),
                Err(e) => {
                    tracing::warn!(error = %e, "the shared Lever rate limit could not be read; this replica paces alone");
                    None
                }
            }
        })
    }
}
