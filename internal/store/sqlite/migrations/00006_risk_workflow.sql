-- Risk workflow: exceptions (accepted risk, false positive, mitigated) on
-- findings and check results, scoped to a host, a group or all hosts, with
-- their history. Keep in step with the postgres migration of the same number.
--
-- The governing exception is materialised onto each finding (its mark
-- columns, plus exception_id) and check result, so that every list and count
-- that already honours marks honours exceptions without a join.

-- +goose Up
CREATE TABLE exceptions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    target       TEXT NOT NULL,              -- finding or check
    kind         TEXT NOT NULL,              -- accepted_risk, false_positive, mitigated
    vuln_id      TEXT NOT NULL DEFAULT '',
    package      TEXT NOT NULL DEFAULT '',   -- empty: any package
    check_id     TEXT NOT NULL DEFAULT '',
    scope        TEXT NOT NULL,              -- host, group, all
    -- SET NULL, not CASCADE: the exception and its history outlive the
    -- host or group, and then cover nothing.
    host_id      INTEGER REFERENCES hosts (id) ON DELETE SET NULL,
    group_id     INTEGER REFERENCES host_groups (id) ON DELETE SET NULL,
    reason       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_by   TEXT NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP,
    revoked_by   TEXT NOT NULL DEFAULT '',
    revoked_at   TIMESTAMP,
    expired_at   TIMESTAMP                   -- when the sweep recorded the lapse
);
CREATE INDEX exceptions_workspace ON exceptions (workspace_id, revoked_at);
CREATE INDEX exceptions_expiry ON exceptions (expires_at) WHERE revoked_at IS NULL AND expired_at IS NULL;

CREATE TABLE exception_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    exception_id INTEGER NOT NULL REFERENCES exceptions (id) ON DELETE CASCADE,
    action       TEXT NOT NULL,              -- created, updated, revoked, reopened_at_expiry
    actor        TEXT NOT NULL,
    at           TIMESTAMP NOT NULL,
    kind         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    expires_at   TIMESTAMP
);
CREATE INDEX exception_events_exception ON exception_events (exception_id, at);
CREATE INDEX exception_events_workspace ON exception_events (workspace_id, at);

-- NULL: no exception; the mark, if any, was set by hand.
ALTER TABLE findings ADD COLUMN exception_id INTEGER;
ALTER TABLE check_results ADD COLUMN exception_id INTEGER;
ALTER TABLE check_results ADD COLUMN exception_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE check_results ADD COLUMN exception_expires_at TIMESTAMP;

-- Scheduled e-mail reports: a group's printable report sent through an
-- e-mail notification channel, daily or weekly at an hour (UTC).
CREATE TABLE report_schedules (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    group_id     INTEGER NOT NULL REFERENCES host_groups (id) ON DELETE CASCADE,
    channel_id   INTEGER NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
    frequency    TEXT NOT NULL,              -- daily or weekly
    weekday      INTEGER NOT NULL DEFAULT 1, -- weekly: 0 Sunday .. 6 Saturday
    hour         INTEGER NOT NULL DEFAULT 7, -- UTC
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_run_at  TIMESTAMP,                -- the slot last sent (or tried)
    last_error   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX report_schedules_workspace ON report_schedules (workspace_id);

-- +goose Down
DROP TABLE report_schedules;
ALTER TABLE check_results DROP COLUMN exception_expires_at;
ALTER TABLE check_results DROP COLUMN exception_kind;
ALTER TABLE check_results DROP COLUMN exception_id;
ALTER TABLE findings DROP COLUMN exception_id;
DROP TABLE exception_events;
DROP TABLE exceptions;
