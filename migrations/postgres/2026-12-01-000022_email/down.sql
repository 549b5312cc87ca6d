DROP TABLE assessment_emails;
