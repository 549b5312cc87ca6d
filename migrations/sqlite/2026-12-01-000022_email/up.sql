-- Every email sent (or not) to an assessment's candidate: the invitation (again when the
-- candidate re-enters the trigger stage) and each reminder. A row is written with the job that
-- sends it; `recipient` is NULL when Lever listed no email address, and nothing was attempted.
CREATE TABLE assessment_emails (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    recipient TEXT,
    status TEXT NOT NULL,
    detail TEXT,
    job_id TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);

-- A reminder is claimed by inserting its row: this index lets only one insert win, whichever
-- worker or replica sweeps first, and a restart finds the claim already made.
CREATE UNIQUE INDEX assessment_emails_reminder_once ON assessment_emails (assessment_id, kind)
    WHERE kind <> 'invitation';
CREATE INDEX assessment_emails_by_assessment ON assessment_emails (assessment_id, created_at);
