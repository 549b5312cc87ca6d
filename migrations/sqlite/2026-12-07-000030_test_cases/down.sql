DROP TABLE grade_overrides;
DROP TABLE assessment_runs;
ALTER TABLE assessments DROP COLUMN cases_total;
ALTER TABLE assessments DROP COLUMN cases_passed;
ALTER TABLE assessments DROP COLUMN graded_at;
DROP TABLE case_results;
DROP TABLE assessment_cases;
DROP TABLE question_cases;
ALTER TABLE questions DROP COLUMN reference_solution;
