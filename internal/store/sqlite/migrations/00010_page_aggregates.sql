-- What the compliance and vulnerabilities pages need at 10,000 hosts.
-- Keep in step with the postgres migration of the same number.

-- +goose Up
-- The number of current results of each check by status, per workspace,
-- kept exact by triggers on check_results: every way a result appears,
-- changes status or disappears (SaveCheckResults, a host or workspace
-- deleted by cascade) passes through them, so the compliance overview reads
-- 78 rows instead of counting 780,000 results per request. Exceptions are
-- not in here: whether one is active depends on the time of the request;
-- the few excepted results are counted live (check_results_excepted).
-- n_other holds not_applicable and any status the code does not know.
CREATE TABLE check_result_counts (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    check_id     TEXT NOT NULL,
    n_pass       INTEGER NOT NULL DEFAULT 0,
    n_fail       INTEGER NOT NULL DEFAULT 0,
    n_error      INTEGER NOT NULL DEFAULT 0,
    n_other      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, check_id)
);

INSERT INTO check_result_counts (workspace_id, check_id, n_pass, n_fail, n_error, n_other)
SELECT workspace_id, check_id,
       sum(CASE WHEN status = 'pass' THEN 1 ELSE 0 END),
       sum(CASE WHEN status = 'fail' THEN 1 ELSE 0 END),
       sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END),
       sum(CASE WHEN status IN ('pass', 'fail', 'error') THEN 0 ELSE 1 END)
FROM check_results GROUP BY workspace_id, check_id;

-- +goose StatementBegin
CREATE TRIGGER check_results_count_insert AFTER INSERT ON check_results
BEGIN
    INSERT OR IGNORE INTO check_result_counts (workspace_id, check_id) VALUES (NEW.workspace_id, NEW.check_id);
    UPDATE check_result_counts SET
        n_pass = n_pass + (NEW.status = 'pass'),
        n_fail = n_fail + (NEW.status = 'fail'),
        n_error = n_error + (NEW.status = 'error'),
        n_other = n_other + (NEW.status NOT IN ('pass', 'fail', 'error'))
    WHERE workspace_id = NEW.workspace_id AND check_id = NEW.check_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER check_results_count_delete AFTER DELETE ON check_results
BEGIN
    UPDATE check_result_counts SET
        n_pass = n_pass - (OLD.status = 'pass'),
        n_fail = n_fail - (OLD.status = 'fail'),
        n_error = n_error - (OLD.status = 'error'),
        n_other = n_other - (OLD.status NOT IN ('pass', 'fail', 'error'))
    WHERE workspace_id = OLD.workspace_id AND check_id = OLD.check_id;
END;
-- +goose StatementEnd

-- A result's workspace and check never change (they are its identity with
-- the host); only its status does.
-- +goose StatementBegin
CREATE TRIGGER check_results_count_update AFTER UPDATE OF status ON check_results
WHEN OLD.status IS NOT NEW.status
BEGIN
    UPDATE check_result_counts SET
        n_pass = n_pass - (OLD.status = 'pass') + (NEW.status = 'pass'),
        n_fail = n_fail - (OLD.status = 'fail') + (NEW.status = 'fail'),
        n_error = n_error - (OLD.status = 'error') + (NEW.status = 'error'),
        n_other = n_other - (OLD.status NOT IN ('pass', 'fail', 'error')) + (NEW.status NOT IN ('pass', 'fail', 'error'))
    WHERE workspace_id = NEW.workspace_id AND check_id = NEW.check_id;
END;
-- +goose StatementEnd

-- Results under an exception, counted live by the compliance overview
-- (usually a handful; the partial index holds nothing else).
CREATE INDEX check_results_excepted ON check_results (workspace_id, check_id) WHERE exception_id IS NOT NULL;

-- +goose Down
DROP INDEX check_results_excepted;
DROP TRIGGER check_results_count_update;
DROP TRIGGER check_results_count_delete;
DROP TRIGGER check_results_count_insert;
DROP TABLE check_result_counts;
