-- Back to inline questions: each configuration takes its question's title and prompt again.
ALTER TABLE configurations ADD COLUMN question_title TEXT;
ALTER TABLE configurations ADD COLUMN question_prompt TEXT;

UPDATE configurations c SET question_title = q.title, question_prompt = q.prompt
FROM questions q
WHERE q.id = c.question_id;

DROP INDEX configurations_question;
ALTER TABLE configurations DROP COLUMN question_id;
DROP TABLE questions;
