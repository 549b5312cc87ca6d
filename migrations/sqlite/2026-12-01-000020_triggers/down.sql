-- Back to one trigger style: configurations that fire without a tag or on a prefix cannot be
-- expressed any more and are deleted.
DROP TABLE assessment_history;
DROP TABLE question_choices;
CREATE TABLE configurations_tagged (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    trigger_stage_id TEXT NOT NULL,
    pad_kind TEXT NOT NULL CHECK (pad_kind IN ('live', 'take_home')),
    tag_name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    question_id TEXT REFERENCES questions(id),
    UNIQUE (org_id, tag_name)
);
INSERT INTO configurations_tagged (id, org_id, trigger_stage_id, pad_kind, tag_name, created_at,
    updated_at, question_id)
SELECT id, org_id, trigger_stage_id, pad_kind, tag_name, created_at, updated_at, question_id
FROM configurations
WHERE trigger_style = 'tag' AND trigger_stage_id IS NOT NULL AND tag_name IS NOT NULL;
DROP INDEX configurations_question;
DROP TABLE configurations;
ALTER TABLE configurations_tagged RENAME TO configurations;
CREATE INDEX configurations_question ON configurations(question_id);
