-- The Lever connection of an organization: an API key, sealed with LEVERBRIDGE_SECRET_KEY.
CREATE TABLE lever_connections (
    org_id TEXT PRIMARY KEY NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    environment TEXT NOT NULL CHECK (environment IN ('production', 'sandbox')),
    api_key_sealed TEXT NOT NULL,
    api_key_last4 TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('connected', 'incomplete', 'broken')),
    status_message TEXT,
    missing_permissions TEXT NOT NULL DEFAULT '',
    default_user_id TEXT,
    default_user_name TEXT,
    connected_by TEXT NOT NULL,
    checked_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Lever's users and stages, cached so pages never call Lever while rendering.
CREATE TABLE lever_users (
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    access_role TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE lever_stages (
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    text TEXT NOT NULL,
    position INTEGER NOT NULL,
    refreshed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id)
);

-- The unguessable key in the organization's webhook URL.
CREATE TABLE webhook_endpoints (
    org_id TEXT PRIMARY KEY NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    endpoint_key TEXT NOT NULL UNIQUE,
    rotated_at TIMESTAMP NOT NULL
);

-- One signature token per webhook event, sealed.
CREATE TABLE webhook_tokens (
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    token_sealed TEXT NOT NULL,
    token_last4 TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, event)
);

CREATE TABLE configurations (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    trigger_stage_id TEXT NOT NULL,
    pad_kind TEXT NOT NULL CHECK (pad_kind IN ('live', 'take_home')),
    question_title TEXT,
    question_prompt TEXT,
    tag_name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (org_id, tag_name)
);

-- Every webhook delivery that reached an organization's endpoint, accepted or not.
CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    received_at TIMESTAMP NOT NULL,
    event TEXT NOT NULL,
    token TEXT,
    triggered_at BIGINT,
    opportunity_id TEXT,
    to_stage_id TEXT,
    signature_valid BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT NOT NULL,
    configuration_id TEXT,
    body TEXT NOT NULL
);
CREATE INDEX webhook_events_org_received ON webhook_events(org_id, received_at);

-- Delivery tokens already accepted: a replay or a Lever retry of the same delivery is a duplicate.
CREATE TABLE seen_tokens (
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    token TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (org_id, token)
);

-- The durable queue.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'parked', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    locked_by TEXT,
    last_error TEXT,
    event_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_due ON jobs(state, run_at);
CREATE INDEX jobs_event ON jobs(event_id);

CREATE TABLE assessments (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    configuration_id TEXT NOT NULL,
    opportunity_id TEXT NOT NULL,
    candidate_name TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    pad_kind TEXT NOT NULL,
    question_title TEXT,
    question_prompt TEXT,
    tag_name TEXT NOT NULL,
    state TEXT NOT NULL,
    event_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (configuration_id, opportunity_id)
);

-- Write-back steps already done in Lever, so a job that runs twice does each only once.
CREATE TABLE assessment_steps (
    assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    step TEXT NOT NULL,
    done_at TIMESTAMP NOT NULL,
    PRIMARY KEY (assessment_id, step)
);

-- Every HTTP call made to Lever, shown on the Events page.
CREATE TABLE lever_calls (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    event_id TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    attempt INTEGER NOT NULL,
    duration_ms BIGINT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX lever_calls_event ON lever_calls(event_id);
