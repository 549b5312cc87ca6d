ALTER TABLE snapshots DROP COLUMN line_count, DROP COLUMN size_bytes;
ALTER TABLE assessments DROP COLUMN saves_paced_until;
