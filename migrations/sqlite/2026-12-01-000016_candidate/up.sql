-- The candidate's side of an assessment: what the editor starts with (copied from the question,
-- like its title and prompt), the terms it was sent with (NULL for live interview pads, which
-- have no clock), when the clock started and stops, when it was handed in and whether the
-- deadline handed it in.
ALTER TABLE assessments ADD COLUMN question_language TEXT NOT NULL DEFAULT 'plaintext';
ALTER TABLE assessments ADD COLUMN starter_code TEXT NOT NULL DEFAULT '';
ALTER TABLE assessments ADD COLUMN time_limit_minutes INTEGER;
ALTER TABLE assessments ADD COLUMN start_by TIMESTAMP;
ALTER TABLE assessments ADD COLUMN started_at TIMESTAMP;
ALTER TABLE assessments ADD COLUMN deadline_at TIMESTAMP;
ALTER TABLE assessments ADD COLUMN submitted_at TIMESTAMP;
ALTER TABLE assessments ADD COLUMN time_ran_out BOOLEAN NOT NULL DEFAULT 0;

-- Take-home tests sent before this migration get the default terms (120 minutes, 7 days to
-- start) and their question's language and starter code as it reads today.
UPDATE assessments SET
    time_limit_minutes = 120,
    start_by = datetime(created_at, '+7 days'),
    question_language = COALESCE((
        SELECT q.language FROM configurations c JOIN questions q ON q.id = c.question_id
        WHERE c.id = assessments.configuration_id
    ), 'plaintext'),
    starter_code = COALESCE((
        SELECT q.starter_code FROM configurations c JOIN questions q ON q.id = c.question_id
        WHERE c.id = assessments.configuration_id
    ), '')
WHERE pad_kind = 'take_home';

-- Every save of the candidate's code, kept with its time for playback; numbered from 1 per
-- assessment. The last one is what was handed in.
CREATE TABLE snapshots (
    id TEXT PRIMARY KEY NOT NULL,
    assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    code TEXT NOT NULL,
    saved_at TIMESTAMP NOT NULL,
    UNIQUE (assessment_id, seq)
);
