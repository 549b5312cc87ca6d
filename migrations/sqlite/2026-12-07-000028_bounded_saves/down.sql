CREATE TABLE snapshots_plain (
    id TEXT PRIMARY KEY NOT NULL,
    assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    code TEXT NOT NULL,
    saved_at TIMESTAMP NOT NULL,
    UNIQUE (assessment_id, seq)
);
INSERT INTO snapshots_plain (id, assessment_id, seq, code, saved_at)
SELECT id, assessment_id, seq, code, saved_at FROM snapshots;
DROP TABLE snapshots;
ALTER TABLE snapshots_plain RENAME TO snapshots;
ALTER TABLE assessments DROP COLUMN saves_paced_until;
