CREATE TABLE seen_tokens_by_token (
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    token TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (org_id, token)
);
INSERT OR IGNORE INTO seen_tokens_by_token (org_id, token, event_id)
SELECT org_id, token, event_id FROM seen_tokens ORDER BY triggered_at;
DROP TABLE seen_tokens;
ALTER TABLE seen_tokens_by_token RENAME TO seen_tokens;
