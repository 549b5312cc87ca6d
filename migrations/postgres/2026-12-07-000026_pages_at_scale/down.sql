DROP TRIGGER assessment_counts_update ON assessments;
DROP TRIGGER assessment_counts_insert_delete ON assessments;
DROP FUNCTION assessment_counts_keep();
DROP TABLE assessment_counts;
DROP INDEX jobs_org_state;
DROP INDEX webhook_events_org_received_id;
CREATE INDEX webhook_events_org_received ON webhook_events (org_id, received_at);
