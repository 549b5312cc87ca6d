-- An organization's settings (the Settings page), one row per setting it has saved; a setting
-- without a row has the default declared in src/domain/org_settings.rs, which also checks each
-- value. The default Lever user stays with the Lever connection (lever_connections).
CREATE TABLE org_settings (
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, name)
);
