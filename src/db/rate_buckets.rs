//! The Lever rate-limit buckets replicas share on PostgreSQL (`lever_rate_buckets`).

use diesel::prelude::*;
use diesel::sql_types::{Double, Text};

use super::DbConn;

#[derive(QueryableByName)]
struct Balance {
    #[diesel(sql_type = Double)]
    tokens: f64,
}

/// Takes one token from `key`'s bucket in one statement (refilled at `rate_per_sec` since its
/// last use, by the database's clock, up to `burst`) and returns the balance left, negative
/// when the call must wait for its token. PostgreSQL only.
pub fn reserve(conn: &mut DbConn, key: &str, rate_per_sec: f64, burst: f64) -> QueryResult<f64> {
    diesel::sql_query(
        "INSERT INTO lever_rate_buckets AS b (key, tokens, updated_at) \
         VALUES ($1, $2 - 1, clock_timestamp()) \
         ON CONFLICT (key) DO UPDATE SET \
           tokens = LEAST($2, b.tokens + GREATEST(0, EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at)) * $3) - 1, \
           updated_at = GREATEST(b.updated_at, clock_timestamp()) \
         RETURNING tokens",
    )
    .bind::<Text, _>(key)
    .bind::<Double, _>(burst)
    .bind::<Double, _>(rate_per_sec)
    .get_result::<Balance>(conn)
    .map(|b| b.tokens)
}
