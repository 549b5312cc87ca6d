-- Each dashboard page reads a bounded number of index entries however long the history grows.
-- Events: a page of an organization's deliveries newest first, from a cursor (received_at, id);
-- the index ends in the id so that ties are ordered from the index too. It replaces the index on
-- (org_id, received_at), of which it is an extension.
DROP INDEX webhook_events_org_received;
CREATE INDEX webhook_events_org_received_id ON webhook_events (org_id, received_at, id);
-- Events: the emails of a page's deliveries are found through the assessments they created.
-- (assessments_event, on assessments (event_id), comes with the retention migration 000025.)
-- Overview: the jobs an organization has waiting or dead, without reading its finished ones.
CREATE INDEX jobs_org_state ON jobs (org_id, state);

-- Overview and Assessments: how many of an organization's assessments are in each state, kept by
-- a trigger as assessments are created, move on and are deleted, so the pages read a few rows
-- instead of counting every assessment. A trigger, so that no write path can miss one. A move
-- updates its two rows in one statement, so concurrent moves lock them in the same order.
CREATE TABLE assessment_counts (
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (org_id, state)
);
INSERT INTO assessment_counts (org_id, state, n)
SELECT org_id, state, COUNT(*) FROM assessments GROUP BY org_id, state;

CREATE FUNCTION assessment_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO assessment_counts (org_id, state, n) VALUES (NEW.org_id, NEW.state, 0)
        ON CONFLICT (org_id, state) DO NOTHING;
    END IF;
    IF TG_OP = 'INSERT' THEN
        UPDATE assessment_counts SET n = n + 1 WHERE org_id = NEW.org_id AND state = NEW.state;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE assessment_counts SET n = n - 1 WHERE org_id = OLD.org_id AND state = OLD.state;
    ELSE
        UPDATE assessment_counts SET n = n + CASE WHEN state = NEW.state THEN 1 ELSE -1 END
        WHERE org_id = NEW.org_id AND state IN (OLD.state, NEW.state);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER assessment_counts_insert_delete AFTER INSERT OR DELETE ON assessments
FOR EACH ROW EXECUTE FUNCTION assessment_counts_keep();
CREATE TRIGGER assessment_counts_update AFTER UPDATE OF state ON assessments
FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION assessment_counts_keep();
