-- Bounded saves. The pace of a link's saves: the moment its allowance is whole again (a
-- generic cell rate: each save moves it one period on; a save that would move it further than
-- the burst ahead of now is refused).
ALTER TABLE assessments ADD COLUMN saves_paced_until TIMESTAMP;

-- Each snapshot's size and line count, so the reviewer's page and the quota read the list of
-- saves without their code.
ALTER TABLE snapshots
    ADD COLUMN size_bytes INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN line_count INTEGER NOT NULL DEFAULT 0;
UPDATE snapshots SET
    size_bytes = octet_length(code),
    line_count = CASE WHEN code = '' THEN 0
                      ELSE length(code) - length(replace(code, chr(10), ''))
                           + CASE WHEN right(code, 1) = chr(10) THEN 0 ELSE 1 END
                 END;
