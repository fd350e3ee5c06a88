-- Vulnerability data and findings. Keep in step with the sqlite migration
-- of the same number. Feed data (advisories, cves, kev, epss) is global:
-- every workspace matches against the same public data. Findings belong to
-- a workspace like every other host row.

-- +goose Up
ALTER TABLE hosts ADD COLUMN os_family TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN os_id_like TEXT NOT NULL DEFAULT '';
-- When the host was last matched: the last-seen time of its open findings,
-- kept here so that an unchanged re-match writes one row, not hundreds.
ALTER TABLE hosts ADD COLUMN matched_at TIMESTAMPTZ;
-- A digest of the findings the last match produced: an identical re-match
-- then skips reading the host's findings at all.
ALTER TABLE hosts ADD COLUMN findings_digest TEXT NOT NULL DEFAULT '';

-- One row per OSV advisory; data is the vuln.Advisory as JSON.
CREATE TABLE advisories (
    id          TEXT COLLATE "C" PRIMARY KEY,
    modified    TIMESTAMPTZ NOT NULL,
    withdrawn   BOOLEAN NOT NULL DEFAULT FALSE,
    data        BYTEA NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL
);
-- Which advisories name which package of which ecosystem: the matcher's
-- lookup path and the way to find hosts touched by a changed advisory.
CREATE TABLE advisory_packages (
    ecosystem   TEXT NOT NULL,
    package     TEXT NOT NULL,
    advisory_id TEXT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    PRIMARY KEY (ecosystem, package, advisory_id)
);
CREATE INDEX advisory_packages_advisory ON advisory_packages (advisory_id);
-- Bumped on every change to an ecosystem's advisories, so every server
-- replica knows when its in-memory index is out of date.
CREATE TABLE ecosystems (
    name       TEXT PRIMARY KEY,
    generation BIGINT NOT NULL DEFAULT 0,
    advisories INTEGER NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE cves (
    id           TEXT COLLATE "C" PRIMARY KEY,
    status       TEXT NOT NULL DEFAULT '',
    published    TIMESTAMPTZ,
    modified     TIMESTAMPTZ NOT NULL,
    cvss_score   DOUBLE PRECISION NOT NULL DEFAULT 0,
    cvss_version TEXT NOT NULL DEFAULT '',
    cvss_vector  TEXT NOT NULL DEFAULT '',
    severity     TEXT NOT NULL DEFAULT 'unknown',
    description  TEXT NOT NULL DEFAULT '',
    has_config   BOOLEAN NOT NULL DEFAULT FALSE,
    data         BYTEA NOT NULL
);
CREATE INDEX cves_modified ON cves (modified);

CREATE TABLE kev (
    cve             TEXT PRIMARY KEY,
    vendor_project  TEXT NOT NULL DEFAULT '',
    product         TEXT NOT NULL DEFAULT '',
    name            TEXT NOT NULL DEFAULT '',
    date_added      TIMESTAMPTZ NOT NULL,
    due_date        TIMESTAMPTZ,
    required_action TEXT NOT NULL DEFAULT '',
    ransomware      TEXT NOT NULL DEFAULT '',
    notes           TEXT NOT NULL DEFAULT ''
);

CREATE TABLE epss (
    cve        TEXT PRIMARY KEY,
    score      DOUBLE PRECISION NOT NULL,
    percentile DOUBLE PRECISION NOT NULL,
    score_date TIMESTAMPTZ NOT NULL,
    model      TEXT NOT NULL DEFAULT ''
);

-- What each feed last did, for 'vigil feeds status' and the web app.
CREATE TABLE feed_state (
    feed            TEXT PRIMARY KEY,
    source          TEXT NOT NULL DEFAULT '',
    last_attempt_at TIMESTAMPTZ,
    last_success_at TIMESTAMPTZ,
    cursor          TEXT NOT NULL DEFAULT '',
    records         BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT ''
);

CREATE TABLE findings (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    host_id         BIGINT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    vuln_id         TEXT COLLATE "C" NOT NULL,
    advisory_id     TEXT NOT NULL,
    source          TEXT NOT NULL,
    package         TEXT COLLATE "C" NOT NULL,
    binaries        TEXT NOT NULL DEFAULT '',
    installed       TEXT NOT NULL,
    fixed           TEXT NOT NULL DEFAULT '',
    rule            TEXT NOT NULL DEFAULT '',
    severity        TEXT NOT NULL DEFAULT 'unknown',
    cvss_score      DOUBLE PRECISION NOT NULL DEFAULT 0,
    cvss_vector     TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    last_seen_at    TIMESTAMPTZ NOT NULL,
    resolved_at     TIMESTAMPTZ,
    mark            TEXT NOT NULL DEFAULT '',
    mark_reason     TEXT NOT NULL DEFAULT '',
    mark_by         TEXT NOT NULL DEFAULT '',
    mark_at         TIMESTAMPTZ,
    mark_expires_at TIMESTAMPTZ,
    UNIQUE (host_id, vuln_id, package)
);
CREATE INDEX findings_workspace_status ON findings (workspace_id, status, vuln_id);

-- +goose Down
DROP TABLE findings;
DROP TABLE feed_state;
DROP TABLE epss;
DROP TABLE kev;
DROP TABLE cves;
DROP TABLE ecosystems;
DROP TABLE advisory_packages;
DROP TABLE advisories;
ALTER TABLE hosts DROP COLUMN findings_digest;
ALTER TABLE hosts DROP COLUMN matched_at;
ALTER TABLE hosts DROP COLUMN os_id_like;
ALTER TABLE hosts DROP COLUMN os_family;
