-- Workspaces and users: where a session comes from (listed to its owner),
-- one-time invitations, and the audit log.
-- Keep in step with the sqlite migration of the same number.

-- +goose Up
ALTER TABLE sessions ADD COLUMN remote_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';

CREATE TABLE invitations (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    token_hash   BYTEA NOT NULL UNIQUE,
    created_by   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    used_at      TIMESTAMPTZ,
    used_by      BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX invitations_workspace ON invitations (workspace_id, created_at);

-- The audit log outlives the users and agents it names: actor keeps the
-- login, and user_id/agent_id have no foreign keys.
CREATE TABLE audit_log (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    at           TIMESTAMPTZ NOT NULL,
    user_id      BIGINT,
    agent_id     BIGINT,
    actor        TEXT COLLATE "C" NOT NULL,
    action       TEXT COLLATE "C" NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id   BIGINT NOT NULL DEFAULT 0,
    detail       TEXT NOT NULL DEFAULT '{}',
    remote_ip    TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_workspace_at ON audit_log (workspace_id, id);
CREATE INDEX audit_log_actor ON audit_log (workspace_id, actor, action, id);
CREATE INDEX audit_log_action ON audit_log (workspace_id, action, id);
CREATE INDEX audit_log_subject ON audit_log (workspace_id, subject_type, subject_id, id);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE invitations;
ALTER TABLE sessions DROP COLUMN user_agent;
ALTER TABLE sessions DROP COLUMN remote_ip;
