-- A reviewer's score of a submitted assessment: 0–100, an optional failure reason, who scored
-- it and when. The result itself is the assessment's state (passed or failed).
ALTER TABLE assessments ADD COLUMN score INTEGER CHECK (score BETWEEN 0 AND 100);
ALTER TABLE assessments ADD COLUMN failure_reason TEXT;
ALTER TABLE assessments ADD COLUMN scored_by TEXT;
ALTER TABLE assessments ADD COLUMN scored_at TIMESTAMP;
