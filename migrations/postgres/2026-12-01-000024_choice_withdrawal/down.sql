ALTER TABLE question_choices DROP COLUMN withdraw_reason;
ALTER TABLE question_choices DROP COLUMN withdrawn_at;
