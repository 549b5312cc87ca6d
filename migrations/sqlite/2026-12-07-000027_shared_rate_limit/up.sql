-- Lever's rate limit is per API key, not per process: replicas sharing one PostgreSQL database
-- draw on one token bucket per key here. SQLite runs one process, whose bucket in memory is
-- enough; the table is kept so both schemas stay alike.
CREATE TABLE lever_rate_buckets (
    key TEXT PRIMARY KEY NOT NULL,
    tokens DOUBLE NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
