-- The candidate's name, read from Lever by the delivery's job, shown on the Events page beside the opportunity id.
ALTER TABLE webhook_events ADD COLUMN candidate_name TEXT;
