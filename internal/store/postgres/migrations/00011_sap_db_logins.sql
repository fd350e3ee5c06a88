-- SAP database logins: a workspace's read-only database credentials for
-- reading the SAP component table (CVERS), per SID or for every system
-- (sid ''). The secret stays in the credential store; this row says where
-- to use it. Keep in step with the sqlite migration of the same number.

-- +goose Up
CREATE TABLE sap_db_logins (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    sid           TEXT NOT NULL DEFAULT '',
    -- CASCADE: a login whose credential is gone has nothing to log in with.
    credential_id BIGINT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    address       TEXT NOT NULL DEFAULT '',
    database_name TEXT NOT NULL DEFAULT '',
    schema_name   TEXT NOT NULL DEFAULT '',
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, sid)
);
CREATE INDEX sap_db_logins_credential ON sap_db_logins (credential_id);

-- +goose Down
DROP TABLE sap_db_logins;
