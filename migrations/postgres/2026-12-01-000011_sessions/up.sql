-- Signed-in sessions: the cookie carries a random token; only its SHA-256 is stored, so a copy of
-- the database cannot be used to sign in. A row ends when revoked or past its idle or absolute limit.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user ON sessions(user_id);
