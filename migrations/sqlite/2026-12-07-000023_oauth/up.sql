-- "Add to Lever": a connection made through Lever's OAuth instead of an API key. `auth_kind`
-- says which; an OAuth connection keeps its access and refresh tokens sealed (the API key
-- columns stay empty), when the access token expires, the Lever account and user from the
-- token's claims, and the scopes Lever granted.
ALTER TABLE lever_connections ADD COLUMN auth_kind TEXT NOT NULL DEFAULT 'api_key'
    CHECK (auth_kind IN ('api_key', 'oauth'));
ALTER TABLE lever_connections ADD COLUMN access_token_sealed TEXT;
ALTER TABLE lever_connections ADD COLUMN refresh_token_sealed TEXT;
ALTER TABLE lever_connections ADD COLUMN token_expires_at TIMESTAMP;
ALTER TABLE lever_connections ADD COLUMN token_refreshed_at TIMESTAMP;
ALTER TABLE lever_connections ADD COLUMN lever_account_id TEXT;
ALTER TABLE lever_connections ADD COLUMN lever_user_id TEXT;
ALTER TABLE lever_connections ADD COLUMN granted_scopes TEXT NOT NULL DEFAULT '';

-- One organization per Lever account: a second one connecting the same account is refused.
CREATE UNIQUE INDEX lever_connections_one_per_account ON lever_connections (lever_account_id);

-- The webhooks leverbridge created itself through Lever's Webhooks API (an OAuth connection):
-- their ids in Lever, so that disconnecting can delete them. Their signature tokens are kept
-- with the pasted ones, in webhook_tokens.
CREATE TABLE managed_webhooks (
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    lever_webhook_id TEXT NOT NULL,
    url TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, event)
);

-- An authorization in flight: the SHA-256 (hex) of the `state` sent to Lever, the organization
-- and admin it was started for, and the session that started it. Deleted when the callback
-- uses it (so a replayed state finds nothing) and refused when older than ten minutes.
CREATE TABLE lever_oauth_states (
    state_hash TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    started_by TEXT NOT NULL,
    environment TEXT NOT NULL CHECK (environment IN ('production', 'sandbox')),
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
