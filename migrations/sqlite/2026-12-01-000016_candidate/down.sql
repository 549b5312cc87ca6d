DROP TABLE snapshots;
ALTER TABLE assessments DROP COLUMN time_ran_out;
ALTER TABLE assessments DROP COLUMN submitted_at;
ALTER TABLE assessments DROP COLUMN deadline_at;
ALTER TABLE assessments DROP COLUMN started_at;
ALTER TABLE assessments DROP COLUMN start_by;
ALTER TABLE assessments DROP COLUMN time_limit_minutes;
ALTER TABLE assessments DROP COLUMN starter_code;
ALTER TABLE assessments DROP COLUMN question_language;
