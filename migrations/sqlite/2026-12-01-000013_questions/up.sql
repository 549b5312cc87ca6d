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
    lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
        || substr(lower(hex(randomblob(2))), 2) || '-'
        || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2)
        || '-' || lower(hex(randomblob(6))) AS id,
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

-- NULL by default, so SQLite adds the reference in place; deleting a question in use is refused.
ALTER TABLE configurations ADD COLUMN question_id TEXT REFERENCES questions(id);

UPDATE configurations SET question_id = (
    SELECT q.id FROM inline_questions q
    WHERE q.org_id = configurations.org_id
        AND q.inline_title = configurations.question_title
        AND q.inline_prompt = COALESCE(configurations.question_prompt, '')
)
WHERE question_title IS NOT NULL AND question_title <> '';

DROP TABLE inline_questions;

-- Plain columns in no index or constraint: SQLite (3.35 and later, bundled) drops them in place.
ALTER TABLE configurations DROP COLUMN question_title;
ALTER TABLE configurations DROP COLUMN question_prompt;

-- Which configurations use a question (the Questions page asks before a delete).
CREATE INDEX configurations_question ON configurations(question_id);
