DELETE FROM seen_tokens s USING seen_tokens t
WHERE s.org_id = t.org_id AND s.token = t.token AND s.triggered_at > t.triggered_at;
ALTER TABLE seen_tokens DROP CONSTRAINT seen_tokens_pkey;
ALTER TABLE seen_tokens DROP COLUMN triggered_at;
ALTER TABLE seen_tokens ADD PRIMARY KEY (org_id, token);
