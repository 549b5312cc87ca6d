-- The feedback template leverbridge created in the organization's Lever account, reused for every
-- scored assessment. `fields` holds Lever's field ids by their role and the rating's options (JSON).
CREATE TABLE lever_feedback_templates (
    org_id TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    template_id TEXT NOT NULL,
    fields TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- A write-back step that creates something in Lever (feedback, a file) and was begun: if it
-- is not also in assessment_steps, Lever may hold its work from a run that crashed before
-- recording it, so the next run looks for that work before creating it again.
CREATE TABLE assessment_step_attempts (
    assessment_id TEXT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    step TEXT NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (assessment_id, step)
);
