-- Delivery tokens keyed by when Lever triggered the delivery first: a new token then lands at the
-- end of the key instead of on a random page, so storing one rewrites one page, not a random one.
-- The signature covers the token and triggeredAt together, so a retry or a replay of a delivery
-- carries both unchanged and still meets its first copy here.
ALTER TABLE seen_tokens ADD COLUMN triggered_at BIGINT;
UPDATE seen_tokens s SET triggered_at = COALESCE(
    (SELECT e.triggered_at FROM webhook_events e WHERE e.id = s.event_id), 0);
ALTER TABLE seen_tokens ALTER COLUMN triggered_at SET NOT NULL;
ALTER TABLE seen_tokens DROP CONSTRAINT seen_tokens_pkey;
ALTER TABLE seen_tokens ADD PRIMARY KEY (org_id, triggered_at, token);
