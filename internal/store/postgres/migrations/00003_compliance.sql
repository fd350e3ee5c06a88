-- Compliance: labels, host groups, custom checks, assignments and results.
-- Keep in step with the sqlite migration of the same number. Built-in
-- packs live in the binary and are not stored; custom checks are.

-- +goose Up
CREATE TABLE host_labels (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    host_id      BIGINT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    key          TEXT COLLATE "C" NOT NULL,
    value        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (host_id, key)
);

CREATE TABLE host_groups (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT COLLATE "C" NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    -- A CEL expression over host facts; empty for a purely static group.
    expression   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, name)
);

-- Members: static ones chosen by a user, dynamic ones computed from the
-- expression on every report.
CREATE TABLE group_members (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    group_id     BIGINT NOT NULL REFERENCES host_groups (id) ON DELETE CASCADE,
    host_id      BIGINT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    static       BOOLEAN NOT NULL,
    PRIMARY KEY (group_id, host_id, static)
);
CREATE INDEX group_members_host ON group_members (host_id);

CREATE TABLE checks (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           TEXT COLLATE "C" NOT NULL,
    pack_id      TEXT NOT NULL DEFAULT '',
    data         TEXT NOT NULL, -- the check as YAML, its import/export form
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

-- Which checks or packs apply to which group.
CREATE TABLE check_assignments (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    group_id     BIGINT NOT NULL REFERENCES host_groups (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL, -- check or pack
    ref          TEXT NOT NULL,
    PRIMARY KEY (group_id, kind, ref)
);

-- The latest result of each check on each host.
CREATE TABLE check_results (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    host_id      BIGINT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    check_id     TEXT COLLATE "C" NOT NULL,
    status       TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    expected     TEXT NOT NULL DEFAULT '',
    actual       TEXT NOT NULL DEFAULT '',
    evaluated_at TIMESTAMPTZ NOT NULL,
    changed_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (host_id, check_id)
);
CREATE INDEX check_results_workspace ON check_results (workspace_id, check_id);

-- Every change of a check's status on a host: the history.
CREATE TABLE check_history (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    host_id      BIGINT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    check_id     TEXT COLLATE "C" NOT NULL,
    status       TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX check_history_host ON check_history (host_id, check_id, at);
CREATE INDEX check_history_workspace ON check_history (workspace_id, check_id, at);

-- +goose Down
DROP TABLE check_history;
DROP TABLE check_results;
DROP TABLE check_assignments;
DROP TABLE checks;
DROP TABLE group_members;
DROP TABLE host_groups;
DROP TABLE host_labels;
