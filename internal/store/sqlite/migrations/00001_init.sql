-- Keep in step with the postgres migration of the same number: sqldb runs
-- the same queries on both. Times are declared TIMESTAMP so that the driver
-- returns time.Time; sqldb writes them in UTC in one format, so that they
-- also sort correctly as text.

-- +goose Up
CREATE TABLE workspaces (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    name                      TEXT NOT NULL,
    slug                      TEXT NOT NULL UNIQUE,
    schedule_interval_seconds INTEGER NOT NULL DEFAULT 3600,
    schedule_anchor           TEXT NOT NULL DEFAULT '',
    created_at                TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    login         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE memberships (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE sessions (
    id_hash      BLOB PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_workspace ON sessions (workspace_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP
);
CREATE INDEX api_tokens_workspace ON api_tokens (workspace_id);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE agents (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    key_prefix   TEXT NOT NULL,
    key_hash     BLOB NOT NULL UNIQUE,
    version      TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE INDEX agents_workspace ON agents (workspace_id);

CREATE TABLE credentials (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id       INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    username           TEXT NOT NULL,
    is_default         BOOLEAN NOT NULL DEFAULT FALSE,
    sealed_password    BLOB NOT NULL DEFAULT x'',
    sealed_private_key BLOB NOT NULL DEFAULT x'',
    sealed_passphrase  BLOB NOT NULL DEFAULT x'',
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX credentials_workspace ON credentials (workspace_id);
CREATE UNIQUE INDEX credentials_one_default ON credentials (workspace_id) WHERE is_default;

CREATE TABLE hosts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    agent_id        INTEGER REFERENCES agents (id) ON DELETE SET NULL,
    credential_id   INTEGER REFERENCES credentials (id) ON DELETE SET NULL,
    name            TEXT NOT NULL,
    address         TEXT NOT NULL DEFAULT '',
    port            INTEGER NOT NULL DEFAULT 0,
    transport       TEXT NOT NULL,
    demo            BOOLEAN NOT NULL DEFAULT FALSE,
    host_key        TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    last_scan_at    TIMESTAMP,
    last_success_at TIMESTAMP,
    last_error      TEXT NOT NULL DEFAULT '',
    last_error_kind TEXT NOT NULL DEFAULT '',
    os_id           TEXT NOT NULL DEFAULT '',
    os_version_id   TEXT NOT NULL DEFAULT '',
    os_name         TEXT NOT NULL DEFAULT '',
    kernel          TEXT NOT NULL DEFAULT '',
    package_count   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (workspace_id, name)
);
CREATE INDEX hosts_agent ON hosts (agent_id);
CREATE INDEX hosts_credential ON hosts (credential_id);

-- agent_id has no foreign key: a snapshot records which agent sent it,
-- and stays history when the agent goes.
CREATE TABLE snapshots (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    host_id       INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    agent_id      INTEGER NOT NULL,
    report_id     TEXT NOT NULL,
    status        TEXT NOT NULL,
    error         TEXT NOT NULL DEFAULT '',
    error_kind    TEXT NOT NULL DEFAULT '',
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP NOT NULL,
    received_at   TIMESTAMP NOT NULL,
    package_count INTEGER NOT NULL,
    report        BLOB NOT NULL,
    UNIQUE (workspace_id, report_id)
);
CREATE INDEX snapshots_host_started ON snapshots (host_id, started_at);

CREATE TABLE host_packages (
    workspace_id   INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    host_id        INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    epoch          TEXT NOT NULL DEFAULT '',
    version        TEXT NOT NULL DEFAULT '',
    release        TEXT NOT NULL DEFAULT '',
    arch           TEXT NOT NULL DEFAULT '',
    source_name    TEXT NOT NULL DEFAULT '',
    source_version TEXT NOT NULL DEFAULT '',
    ecosystem      TEXT NOT NULL
);
-- No index of its own on workspace_id: every query also names the host, and
-- one more index on the busiest table would slow every ingest for the sake
-- of deleting a workspace.
CREATE INDEX host_packages_host_name ON host_packages (host_id, name);

-- +goose Down
DROP TABLE host_packages;
DROP TABLE snapshots;
DROP TABLE hosts;
DROP TABLE credentials;
DROP TABLE agents;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE workspaces;
