-- The retention sweep (jobs::retention) deletes recorded Lever calls by age, and keeps a webhook
-- delivery while an unfinished assessment or a pending question choice refers to it: indexes so
-- that each of its batches reads only the rows it deletes or checks.
CREATE INDEX lever_calls_at ON lever_calls (at);
CREATE INDEX assessments_event ON assessments (event_id);
CREATE INDEX question_choices_event ON question_choices (event_id);
