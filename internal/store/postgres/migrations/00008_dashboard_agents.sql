-- Dashboard history, agent run control and stats, retention settings, saved
-- host filters, and the indexes the hosts table needs at 10,000 hosts.
-- Keep in step with the sqlite migration of the same number.

-- +goose Up
-- One row per workspace and UTC day: the figures as of the last rollup of
-- that day (the dashboard's 30-day trends read 30 rows), and, in detail, the
-- JSON of the expensive lists (top risky hosts, packages to upgrade).
CREATE TABLE daily_rollups (
    workspace_id  BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    day           TEXT NOT NULL, -- YYYY-MM-DD, UTC
    hosts         BIGINT NOT NULL DEFAULT 0,
    hosts_scanned BIGINT NOT NULL DEFAULT 0, -- distinct hosts with a successful scan that day
    hosts_failing BIGINT NOT NULL DEFAULT 0,
    critical      BIGINT NOT NULL DEFAULT 0,
    high          BIGINT NOT NULL DEFAULT 0,
    medium        BIGINT NOT NULL DEFAULT 0,
    low           BIGINT NOT NULL DEFAULT 0,
    unknown       BIGINT NOT NULL DEFAULT 0,
    kev           BIGINT NOT NULL DEFAULT 0,
    checks_pass   BIGINT NOT NULL DEFAULT 0,
    checks_fail   BIGINT NOT NULL DEFAULT 0,
    checks_error  BIGINT NOT NULL DEFAULT 0,
    detail        TEXT NOT NULL DEFAULT '{}',
    computed_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, day)
);

-- Run now: the server sets a new ID, the agent sees it in its config and
-- scans once. Last run: what the agent says about its previous scan run.
ALTER TABLE agents ADD COLUMN run_now_id TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN run_now_at TIMESTAMPTZ;
ALTER TABLE agents ADD COLUMN last_run_id TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN last_run_started_at TIMESTAMPTZ;
ALTER TABLE agents ADD COLUMN last_run_duration_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN last_run_hosts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN last_run_failed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN last_run_error TEXT NOT NULL DEFAULT '';

-- Retention in days; 0 keeps everything.
ALTER TABLE workspaces ADD COLUMN retain_snapshot_days INTEGER NOT NULL DEFAULT 90;
ALTER TABLE workspaces ADD COLUMN retain_history_days INTEGER NOT NULL DEFAULT 365;

-- A saved hosts-table filter: the table's query string.
CREATE TABLE saved_filters (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    query        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, name)
);

-- The hosts table sorts by name and filters by OS within a workspace.
CREATE INDEX hosts_workspace_name ON hosts (workspace_id, lower(name), name, id);
CREATE INDEX hosts_workspace_os ON hosts (workspace_id, os_id, os_version_id);
-- A host's worst open finding: one probe per severity.
CREATE INDEX findings_host_open_severity ON findings (host_id, status, severity);
-- No (workspace_id, time) index on snapshots or check_history for the
-- retention sweep: SQLite's planner then prefers it for a host's history
-- (scanning the whole workspace's rows); the sweep goes through the
-- per-host indexes instead.
CREATE INDEX host_labels_workspace_key ON host_labels (workspace_id, key, value);

-- +goose Down
DROP INDEX host_labels_workspace_key;
DROP INDEX findings_host_open_severity;
DROP INDEX hosts_workspace_os;
DROP INDEX hosts_workspace_name;
DROP TABLE saved_filters;
ALTER TABLE workspaces DROP COLUMN retain_history_days;
ALTER TABLE workspaces DROP COLUMN retain_snapshot_days;
ALTER TABLE agents DROP COLUMN last_run_error;
ALTER TABLE agents DROP COLUMN last_run_failed;
ALTER TABLE agents DROP COLUMN last_run_hosts;
ALTER TABLE agents DROP COLUMN last_run_duration_ms;
ALTER TABLE agents DROP COLUMN last_run_started_at;
ALTER TABLE agents DROP COLUMN last_run_id;
ALTER TABLE agents DROP COLUMN run_now_at;
ALTER TABLE agents DROP COLUMN run_now_id;
DROP TABLE daily_rollups;
