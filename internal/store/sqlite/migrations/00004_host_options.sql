-- Per-host transport options (sudo, legacy SSH algorithms, jump host, WinRM)
-- as one JSON document: they are read with the host and never queried.
-- Keep in step with the postgres migration of the same number.

-- +goose Up
ALTER TABLE hosts ADD COLUMN options TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE hosts DROP COLUMN options;
