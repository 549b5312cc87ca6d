-- Test cases and automatic grading. A question's cases (stdin, expected output, weight,
-- hidden or visible, an optional time limit) are copied into each assessment when it is
-- created, as its question is, so later edits never change a test already sent.
ALTER TABLE questions ADD COLUMN reference_solution TEXT NOT NULL DEFAULT '';

CREATE TABLE question_cases (
    question_id TEXT NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    input TEXT NOT NULL,
    expected TEXT NOT NULL,
    weight INTEGER NOT NULL DEFAULT 1,
    hidden BOOLEAN NOT NULL DEFAULT FALSE,
    time_limit_ms INTEGER,
    PRIMARY KEY (question_id, position)
);

CREATE TABLE assessment_cases (
    assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    input TEXT NOT NULL,
    expected TEXT NOT NULL,
    weight INTEGER NOT NULL DEFAULT 1,
    hidden BOOLEAN NOT NULL DEFAULT FALSE,
    time_limit_ms INTEGER,
    PRIMARY KEY (assessment_id, position)
);

-- What grading found, per case; stored once, in the transaction that records the grade.
CREATE TABLE case_results (
    assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    stdout TEXT NOT NULL,
    stderr TEXT NOT NULL,
    truncated BOOLEAN NOT NULL,
    time_ms BIGINT NOT NULL,
    ending TEXT NOT NULL,
    PRIMARY KEY (assessment_id, position)
);

ALTER TABLE assessments ADD COLUMN graded_at TIMESTAMP;
ALTER TABLE assessments ADD COLUMN cases_passed INTEGER;
ALTER TABLE assessments ADD COLUMN cases_total INTEGER;

-- The candidate's runs (Run on custom input, Run tests): the pace and the per-attempt
-- allowance are counted from these rows, and each is on the assessment's timeline.
CREATE TABLE assessment_runs (
    id TEXT PRIMARY KEY NOT NULL,
    assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    summary TEXT,
    result TEXT
);
CREATE INDEX assessment_runs_by_assessment ON assessment_runs (assessment_id, requested_at);

-- A grade changed by a reviewer or admin, with the reason; its write-back to Lever (the
-- progress tag and a note) is recorded on the row, step by step.
CREATE TABLE grade_overrides (
    id TEXT PRIMARY KEY NOT NULL,
    assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    from_state TEXT NOT NULL,
    from_score INTEGER,
    to_state TEXT NOT NULL,
    to_score INTEGER NOT NULL,
    reason TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    tag_done_at TIMESTAMP,
    note_done_at TIMESTAMP
);
CREATE INDEX grade_overrides_by_assessment ON grade_overrides (assessment_id, changed_at);
