-- An assessment withdrawn because its candidate was archived, hired or deleted in Lever: when,
-- and why ('archived', 'hired' or 'deleted'). `purged_at` is set once a deleted candidate's
-- personal data (name, score, saves) was erased; the row keeps its ids, state and times for the
-- funnel.
ALTER TABLE assessments ADD COLUMN cancelled_at TIMESTAMP;
ALTER TABLE assessments ADD COLUMN cancel_reason TEXT;
ALTER TABLE assessments ADD COLUMN purged_at TIMESTAMP;

-- Lifecycle events name an opportunity: its assessments and deliveries are found by it.
CREATE INDEX assessments_org_opportunity ON assessments (org_id, opportunity_id);
CREATE INDEX webhook_events_org_opportunity ON webhook_events (org_id, opportunity_id);
