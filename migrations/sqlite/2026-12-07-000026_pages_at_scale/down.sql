DROP TRIGGER assessment_counts_delete;
DROP TRIGGER assessment_counts_update;
DROP TRIGGER assessment_counts_insert;
DROP TABLE assessment_counts;
DROP INDEX jobs_org_state;
DROP INDEX webhook_events_org_received_id;
CREATE INDEX webhook_events_org_received ON webhook_events (org_id, received_at);
