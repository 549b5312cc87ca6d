DROP INDEX webhook_events_org_opportunity;
DROP INDEX assessments_org_opportunity;
ALTER TABLE assessments DROP COLUMN purged_at;
ALTER TABLE assessments DROP COLUMN cancel_reason;
ALTER TABLE assessments DROP COLUMN cancelled_at;
