-- Lever's rate limit is per API key, not per process: replicas sharing one database draw on
-- one token bucket per key (the organization), kept here. `tokens` may be negative: calls
-- reserved ahead, each waiting until its token is earned.
CREATE TABLE lever_rate_buckets (
    key TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
