-- A recruiter's choice still waiting for its question is withdrawn when its candidate is
-- archived, hired or deleted in Lever, as an unfinished assessment is: when, and why
-- ('archived', 'hired' or 'deleted'). A withdrawn choice can no longer be made.
ALTER TABLE question_choices ADD COLUMN withdrawn_at TIMESTAMP;
ALTER TABLE question_choices ADD COLUMN withdraw_reason TEXT;
