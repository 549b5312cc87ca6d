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
    COUNT(*) FILTER (WHERE e.status <> 'rejected'),
    COUNT(*) FILTER (WHERE e.status = 'rejected'),
    MAX(e.received_at),
    (ARRAY_AGG(e.signature_valid ORDER BY e.received_at DESC, e.id DESC))[1],
    MAX(e.received_at) FILTER (WHERE e.status = 'verification')
FROM webhook_events e
WHERE e.event IN ('candidateStageChange', 'candidateArchiveChange', 'candidateHired',
    'candidateDeleted')
GROUP BY e.org_id, e.event;
