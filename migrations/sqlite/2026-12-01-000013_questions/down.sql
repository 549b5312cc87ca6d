-- Back to inline questions: each configuration takes its question's title and prompt again.
-- SQLite cannot drop a column that references another table, so the table is rebuilt.
CREATE TABLE configurations_inline (
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

INSERT INTO configurations_inline (id, org_id, trigger_stage_id, pad_kind, question_title,
    question_prompt, tag_name, created_at, updated_at)
SELECT c.id, c.org_id, c.trigger_stage_id, c.pad_kind, q.title, q.prompt, c.tag_name,
    c.created_at, c.updated_at
FROM configurations c
LEFT JOIN questions q ON q.id = c.question_id;

DROP INDEX configurations_question;
DROP TABLE configurations;
ALTER TABLE configurations_inline RENAME TO configurations;
DROP TABLE questions;
