DROP INDEX assessments_org_state_created;
DROP INDEX assessments_org_created;
