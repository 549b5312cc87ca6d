-- What the Webhooks page shows per organization and event (the counts, the last delivery, the
-- last verification), kept by the intake in the transaction that stores the deliveries, so the
-- page reads a few rows however many deliveries arrived instead of counting them all. Each intake
-- writer keeps its own row (PostgreSQL runs several), so writers never wait for each other's row;
-- the page adds the rows up. Only the events leverbridge handles are counted, as only they are
-- shown.
CREATE TABLE webhook_event_stats (
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    writer INTEGER NOT NULL,
    accepted BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    last_received_at TIMESTAMP NOT NULL,
    last_signature_valid BOOLEAN NOT NULL,
    last_verification_at TIMESTAMP,
    PRIMARY KEY (org_id, event, writer)
);
-- The deliveries stored so far, as writer 0's.
INSERT INTO webhook_event_stats (org_id, event, writer, accepted, rejected, last_received_at,
    last_signature_valid, last_verification_at)
SELECT e.org_id, e.event, 0,
    SUM(CASE WHEN e.status = 'rejected' THEN 0 ELSE 1 END),
    SUM(CASE WHEN e.status = 'rejected' THEN 1 ELSE 0 END),
    MAX(e.received_at),
    (SELECT l.signature_valid FROM webhook_events l WHERE l.org_id = e.org_id
        AND l.event = e.event ORDER BY l.received_at DESC, l.id DESC LIMIT 1),
    MAX(CASE WHEN e.status = 'verification' THEN e.received_at END)
FROM webhook_events e
WHERE e.event IN ('candidateStageChange', 'candidateArchiveChange', 'candidateHired',
    'candidateDeleted')
GROUP BY e.org_id, e.event;
