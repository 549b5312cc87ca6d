DROP INDEX question_choices_event;
DROP INDEX assessments_event;
DROP INDEX lever_calls_at;
