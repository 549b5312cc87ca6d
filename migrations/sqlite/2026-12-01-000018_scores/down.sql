ALTER TABLE assessments DROP COLUMN scored_at;
ALTER TABLE assessments DROP COLUMN scored_by;
ALTER TABLE assessments DROP COLUMN failure_reason;
ALTER TABLE assessments DROP COLUMN score;
