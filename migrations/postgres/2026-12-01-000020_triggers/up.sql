-- Every trigger style of the seed integrations, per configuration. A configuration fires on a
-- tag at one stage (as before: every existing configuration keeps it), on every candidate at one
-- stage, or on every stage whose name begins with a prefix; its question is a library question,
-- the one a `{prefix} {title}` tag on the candidate's posting names, or a recruiter's choice.
-- The trigger stage and the tag become optional; UNIQUE (org_id, tag_name) still holds, and
-- allows many configurations without a tag.
ALTER TABLE configurations
    ADD COLUMN trigger_style TEXT NOT NULL DEFAULT 'tag'
        CHECK (trigger_style IN ('tag', 'stage', 'stage_prefix')),
    ADD COLUMN stage_prefix TEXT,
    ADD COLUMN question_source TEXT NOT NULL DEFAULT 'library'
        CHECK (question_source IN ('library', 'posting_tag', 'recruiter')),
    ADD COLUMN question_tag_prefix TEXT,
    ALTER COLUMN trigger_stage_id DROP NOT NULL,
    ALTER COLUMN tag_name DROP NOT NULL;

-- Recruiter's choice: a candidate reached the trigger and waits for a member of the organization
-- to pick the question (the link in Lever opens that page). The assessment is created when the
-- question is chosen; one choice per opportunity and configuration, like an assessment.
CREATE TABLE question_choices (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    configuration_id TEXT NOT NULL,
    opportunity_id TEXT NOT NULL,
    candidate_name TEXT NOT NULL,
    event_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    assessment_id TEXT,
    chosen_by TEXT,
    chosen_at TIMESTAMP,
    UNIQUE (configuration_id, opportunity_id)
);

-- What happened to an assessment beyond its own columns and write-back steps (invited again,
-- sent anyway, question chosen), one line each for its timeline; `key` makes each recorded once.
CREATE TABLE assessment_history (
    assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    happened_at TIMESTAMP NOT NULL,
    what TEXT NOT NULL,
    PRIMARY KEY (assessment_id, key)
);
