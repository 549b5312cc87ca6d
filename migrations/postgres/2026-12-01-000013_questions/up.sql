-- The organization's question library. A configuration now picks a question from it instead of
-- carrying its own title and prompt; each distinct inline question (organization, title, prompt)
-- becomes a library question in plain text. Two inline questions with the same title but
-- different prompts keep the title for the older one; the other is named after its
-- configuration's tag, "Title (tag)", as titles are unique in an organization.
CREATE TABLE questions (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    prompt TEXT NOT NULL,
    language TEXT NOT NULL,
    starter_code TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (org_id, title)
);

CREATE TEMPORARY TABLE inline_questions AS
SELECT
    gen_random_uuid()::text AS id,
    grouped.org_id,
    grouped.question_title AS inline_title,
    grouped.question_prompt AS inline_prompt,
    CASE WHEN ROW_NUMBER() OVER (PARTITION BY grouped.org_id, grouped.question_title
            ORDER BY grouped.created_at, grouped.first_tag) = 1
        THEN grouped.question_title
        ELSE grouped.question_title || ' (' || grouped.first_tag || ')'
    END AS title,
    grouped.created_at,
    grouped.updated_at
FROM (
    SELECT org_id, question_title, COALESCE(question_prompt, '') AS question_prompt,
        MIN(created_at) AS created_at, MAX(updated_at) AS updated_at, MIN(tag_name) AS first_tag
    FROM configurations
    WHERE question_title IS NOT NULL AND question_title <> ''
    GROUP BY org_id, question_title, COALESCE(question_prompt, '')
) AS grouped;

INSERT INTO questions (id, org_id, title, prompt, language, starter_code, created_at, updated_at)
SELECT id, org_id, title, inline_prompt, 'plaintext', '', created_at, updated_at
FROM inline_questions;

-- Deleting a question in use is refused.
ALTER TABLE configurations ADD COLUMN question_id TEXT REFERENCES questions(id);

UPDATE configurations c SET question_id = q.id
FROM inline_questions q
WHERE q.org_id = c.org_id
    AND q.inline_title = c.question_title
    AND q.inline_prompt = COALESCE(c.question_prompt, '');

DROP TABLE inline_questions;

ALTER TABLE configurations DROP COLUMN question_title;
ALTER TABLE configurations DROP COLUMN question_prompt;

-- Which configurations use a question (the Questions page asks before a delete).
CREATE INDEX configurations_question ON configurations(question_id);
