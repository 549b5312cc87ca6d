-- The Assessments page lists an organization's assessments newest first, all or in one state,
-- a page at a time from a cursor (keyset), and the Overview counts them by state.
CREATE INDEX assessments_org_created ON assessments (org_id, created_at, id);
CREATE INDEX assessments_org_state_created ON assessments (org_id, state, created_at, id);
