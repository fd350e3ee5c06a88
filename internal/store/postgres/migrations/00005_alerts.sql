-- Alerting: notification channels, alert rules, the alerts they raise, the
-- notifications sent (one per channel, or a digest of several) and every
-- delivery attempt. Keep in step with the sqlite migration of the same
-- number. The job queue's own tables are River's, created by its migrator
-- at server start, not here.

-- +goose Up
CREATE TABLE alert_channels (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    config       TEXT NOT NULL DEFAULT '{}',
    -- JSON of the secret parts, sealed with the master key.
    sealed       BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE alert_rules (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id     BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    event            TEXT NOT NULL,
    enabled          BOOLEAN NOT NULL DEFAULT TRUE,
    filter           TEXT NOT NULL DEFAULT '{}',
    channel_ids      TEXT NOT NULL DEFAULT '[]',
    mode             TEXT NOT NULL DEFAULT 'immediate',
    renotify_minutes INTEGER NOT NULL DEFAULT 0,
    notify_resolved  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX alert_rules_event ON alert_rules (workspace_id, event);

-- An alert outlives its rule (rule_id becomes NULL, the name stays) so
-- that the history is kept.
CREATE TABLE alerts (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id     BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    rule_id          BIGINT REFERENCES alert_rules (id) ON DELETE SET NULL,
    rule_name        TEXT NOT NULL,
    event            TEXT NOT NULL,
    subject          TEXT NOT NULL,
    host_id          BIGINT REFERENCES hosts (id) ON DELETE SET NULL,
    host_name        TEXT NOT NULL DEFAULT '',
    title            TEXT NOT NULL,
    severity         TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    fingerprint      TEXT NOT NULL DEFAULT '',
    details          TEXT NOT NULL DEFAULT '{}',
    suppressed       BOOLEAN NOT NULL DEFAULT FALSE,
    opened_at        TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    last_notified_at TIMESTAMPTZ,
    resolved_at      TIMESTAMPTZ
);
-- One open alert per (rule, subject): concurrent evaluations of one host
-- cannot raise it twice.
CREATE UNIQUE INDEX alerts_open_subject ON alerts (rule_id, subject) WHERE status = 'open';
CREATE INDEX alerts_open_host ON alerts (workspace_id, host_id) WHERE status = 'open';
CREATE INDEX alerts_list ON alerts (workspace_id, opened_at);

CREATE TABLE notifications (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    alert_id      BIGINT REFERENCES alerts (id) ON DELETE CASCADE,
    rule_id       BIGINT REFERENCES alert_rules (id) ON DELETE SET NULL,
    channel_id    BIGINT NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    mode          TEXT NOT NULL DEFAULT 'immediate',
    status        TEXT NOT NULL,
    digest_id     BIGINT REFERENCES notifications (id) ON DELETE SET NULL,
    events        TEXT NOT NULL DEFAULT '[]',
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    response_code INTEGER NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL,
    sent_at       TIMESTAMPTZ
);
CREATE INDEX notifications_alert ON notifications (alert_id);
CREATE INDEX notifications_digest_wait ON notifications (workspace_id, mode, channel_id) WHERE status = 'digest_wait';
CREATE INDEX notifications_list ON notifications (workspace_id, created_at);

CREATE TABLE notification_attempts (
    notification_id BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    attempted_at    TIMESTAMPTZ NOT NULL,
    ok              BOOLEAN NOT NULL,
    error           TEXT NOT NULL DEFAULT '',
    response_code   INTEGER NOT NULL DEFAULT 0,
    duration_ms     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notification_attempts_notification ON notification_attempts (notification_id);

CREATE TABLE alert_settings (
    workspace_id BIGINT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    settings     TEXT NOT NULL DEFAULT '{}'
);

-- +goose Down
DROP TABLE alert_settings;
DROP TABLE notification_attempts;
DROP TABLE notifications;
DROP TABLE alerts;
DROP TABLE alert_rules;
DROP TABLE alert_channels;
