ALTER TABLE webhook_events DROP COLUMN candidate_name;
