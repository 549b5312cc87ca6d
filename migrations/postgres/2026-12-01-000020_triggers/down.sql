-- Back to one trigger style: configurations that fire without a tag or on a prefix cannot be
-- expressed any more and are deleted.
DROP TABLE assessment_history;
DROP TABLE question_choices;
DELETE FROM configurations
WHERE trigger_style <> 'tag' OR trigger_stage_id IS NULL OR tag_name IS NULL;
ALTER TABLE configurations
    DROP COLUMN trigger_style,
    DROP COLUMN stage_prefix,
    DROP COLUMN question_source,
    DROP COLUMN question_tag_prefix,
    ALTER COLUMN trigger_stage_id SET NOT NULL,
    ALTER COLUMN tag_name SET NOT NULL;
