-- Lanes: each job runs in a lane with workers of its own (Lever write-backs, mail, grading),
-- so a hung mail server or a long grading run never holds a Lever write-back. A job's lane is
-- its kind's, written when it is queued; the jobs already stored get their kind's lane here.
ALTER TABLE jobs ADD COLUMN lane TEXT NOT NULL DEFAULT 'lever';
UPDATE jobs SET lane = 'mail' WHERE kind = 'send_email';

-- A lane's workers claim the oldest due job of their lane: the due index leads with the lane.
DROP INDEX jobs_due;
CREATE INDEX jobs_due ON jobs (lane, state, run_at);
