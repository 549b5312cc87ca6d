DROP TABLE assessment_step_attempts;
DROP TABLE lever_feedback_templates;
