-- Each dashboard page reads a bounded number of index entries however long the history grows.
-- Events: a page of an organization's deliveries newest first, from a cursor (received_at, id);
-- the index ends in the id so that ties are ordered from the index too. It replaces the index on
-- (org_id, received_at), of which it is an extension.
DROP INDEX webhook_events_org_received;
CREATE INDEX webhook_events_org_received_id ON webhook_events (org_id, received_at, id);
-- Events: the emails of a page's deliveries are found through the assessments they created.
CREATE INDEX assessments_event ON assessments (event_id);
-- Overview: the jobs an organization has waiting or dead, without reading its finished ones.
CREATE INDEX jobs_org_state ON jobs (org_id, state);
