-- SAP workspaces: the "SAP in scope" flag, the SAP Security Notes catalogue
-- (global, like the other feeds), the SAP systems each host reported, and
-- the notes matched to them. Keep in step with the postgres migration of
-- the same number.

-- +goose Up
ALTER TABLE workspaces ADD COLUMN sap_in_scope BOOLEAN NOT NULL DEFAULT FALSE;

-- One row per note; data is the sapnotes.Note as JSON.
CREATE TABLE sap_notes (
    number      TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    priority    TEXT NOT NULL,
    cvss_score  REAL NOT NULL DEFAULT 0,
    released_on TIMESTAMP,
    digest      TEXT NOT NULL,
    data        BLOB NOT NULL,
    imported_at TIMESTAMP NOT NULL
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
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    host_id      INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    sid          TEXT NOT NULL,
    data         BLOB NOT NULL,
    scanned_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (host_id, sid)
);
CREATE INDEX sap_systems_workspace ON sap_systems (workspace_id);

CREATE TABLE sap_findings (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id      INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    host_id           INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    sid               TEXT NOT NULL,
    note              TEXT NOT NULL,
    verdict           TEXT NOT NULL,
    component         TEXT NOT NULL DEFAULT '',
    release           TEXT NOT NULL DEFAULT '',
    installed_level   TEXT NOT NULL DEFAULT '',
    fixed_level       TEXT NOT NULL DEFAULT '',
    reason            TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,
    first_seen_at     TIMESTAMP NOT NULL,
    last_seen_at      TIMESTAMP NOT NULL,
    resolved_at       TIMESTAMP,
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
