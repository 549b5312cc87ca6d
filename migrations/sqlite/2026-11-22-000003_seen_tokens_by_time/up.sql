-- Delivery tokens keyed by when Lever triggered the delivery first: a new token then lands at the
-- end of the key instead of on a random page, so storing one rewrites one page, not a random one.
-- The signature covers the token and triggeredAt together, so a retry or a replay of a delivery
-- carries both unchanged and still meets its first copy here.
CREATE TABLE seen_tokens_by_time (
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    triggered_at BIGINT NOT NULL,
    token TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (org_id, triggered_at, token)
) WITHOUT ROWID;
INSERT INTO seen_tokens_by_time (org_id, triggered_at, token, event_id)
SELECT s.org_id, COALESCE(e.triggered_at, 0), s.token, s.event_id
FROM seen_tokens s LEFT JOIN webhook_events e ON e.id = s.event_id;
DROP TABLE seen_tokens;
ALTER TABLE seen_tokens_by_time RENAME TO seen_tokens;
