-- Bounded saves. The pace of a link's saves: the moment its allowance is whole again (a
-- generic cell rate: each save moves it one period on; a save that would move it further than
-- the burst ahead of now is refused).
ALTER TABLE assessments ADD COLUMN saves_paced_until TIMESTAMP;

-- Each snapshot's size and line count, so the reviewer's page and the quota read the list of
-- saves without their code. SQLite keeps a row's columns in order and a long code in overflow
-- pages, so the table is rebuilt with the small columns before the code: the list then reads
-- only each row's first page.
CREATE TABLE snapshots_sized (
    id TEXT PRIMARY KEY NOT NULL,
    assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    saved_at TIMESTAMP NOT NULL,
    size_bytes INTEGER NOT NULL,
    line_count INTEGER NOT NULL,
    code TEXT NOT NULL,
    UNIQUE (assessment_id, seq)
);
INSERT INTO snapshots_sized (id, assessment_id, seq, saved_at, size_bytes, line_count, code)
SELECT id, assessment_id, seq, saved_at, length(CAST(code AS BLOB)),
       CASE WHEN code = '' THEN 0
            ELSE length(code) - length(replace(code, char(10), ''))
                 + CASE WHEN substr(code, -1) = char(10) THEN 0 ELSE 1 END
       END,
       code
FROM snapshots;
DROP TABLE snapshots;
ALTER TABLE snapshots_sized RENAME TO snapshots;
