-- SAP workspaces: the "SAP in scope" flag, the SAP Security Notes catalogue
-- (global, like the other feeds), the SAP systems each host reported, and
-- the notes matched to them. Keep in step with the sqlite migration of
-- the same number.

-- +goose Up
ALTER TABLE workspaces ADD COLUMN sap_in_scope BOOLEAN NOT NULL DEFAULT FALSE;

-- One row per note; data is the sapnotes.Note as JSON.
CREATE TABLE sap_notes (
    number      TEXT COLLATE "C" PRIMARY KEY,
    title       TEXT NOT NULL,
    priority    TEXT NOT NULL,
    cvss_score  DOUBLE PRECISION NOT NULL DEFAULT 0,
    released_on TIMESTAMPTZ,
    digest      TEXT NOT NULL,
    data        BYTEA NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL
);
-- Affected component releases, with the fixed level where a source gave it.
CREATE TABLE sap_note_components (
    number      TEXT NOT NULL REFERENCES sap_notes (number) ON DELETE CASCADE,
    component   TEXT NOT NULL,
    release     TEXT NOT NULL,
    fixed_level TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (number, component, release)
);
CREATE INDEX sap_note_components_component ON sap_note_components (component);
CREATE TABLE sap_note_cves (
    number TEXT NOT NULL REFERENCES sap_notes (number) ON DELETE CASCADE,
    cve    TEXT NOT NULL,
    PRIMARY KEY (number, cve)
);
CREATE INDEX sap_note_cves_cve ON sap_note_cves (cve);

-- The SAP systems of a host's newest report that ran SAP discovery;
-- data is the inventory.SAPSystem as JSON.
CREATE TABLE sap_systems (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    host_id      BIGINT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    sid          TEXT NOT NULL,
    data         BYTEA NOT NULL,
    scanned_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (host_id, sid)
);
CREATE INDEX sap_systems_workspace ON sap_systems (workspace_id);

CREATE TABLE sap_findings (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id      BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    host_id           BIGINT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    sid               TEXT NOT NULL,
    note              TEXT NOT NULL,
    verdict           TEXT NOT NULL,
    component         TEXT NOT NULL DEFAULT '',
    release           TEXT NOT NULL DEFAULT '',
    installed_level   TEXT NOT NULL DEFAULT '',
    fixed_level       TEXT NOT NULL DEFAULT '',
    reason            TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,
    first_seen_at     TIMESTAMPTZ NOT NULL,
    last_seen_at      TIMESTAMPTZ NOT NULL,
    resolved_at       TIMESTAMPTZ,
    resolved_manually BOOLEAN NOT NULL DEFAULT FALSE,
    resolve_reason    TEXT NOT NULL DEFAULT '',
    resolved_by       TEXT NOT NULL DEFAULT '',
    UNIQUE (host_id, sid, note)
);
CREATE INDEX sap_findings_workspace_note ON sap_findings (workspace_id, note);

-- +goose Down
DROP TABLE sap_findings;
DROP TABLE sap_systems;
DROP TABLE sap_note_cves;
DROP TABLE sap_note_components;
DROP TABLE sap_notes;
ALTER TABLE workspaces DROP COLUMN sap_in_scope;
