-- What the compliance and vulnerabilities pages need at 10,000 hosts.
-- Keep in step with the sqlite migration of the same number.

-- +goose Up
-- The number of current results of each check by status, per workspace,
-- kept exact by a trigger on check_results: every way a result appears,
-- changes status or disappears (SaveCheckResults, a host or workspace
-- deleted by cascade) passes through it, so the compliance overview reads
-- 78 rows instead of counting 780,000 results per request. Exceptions are
-- not in here: whether one is active depends on the time of the request;
-- the few excepted results are counted live (check_results_excepted).
-- n_other holds not_applicable and any status the code does not know.
--
-- One row per check, so that a status change locks one row; SaveCheckResults
-- writes a host's results in check order, so concurrent reports lock the
-- rows in the same order and do not deadlock.
CREATE TABLE check_result_counts (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    check_id     TEXT NOT NULL,
    n_pass       BIGINT NOT NULL DEFAULT 0,
    n_fail       BIGINT NOT NULL DEFAULT 0,
    n_error      BIGINT NOT NULL DEFAULT 0,
    n_other      BIGINT NOT NULL DEFAULT 0,
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
CREATE FUNCTION check_result_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR TG_OP = 'UPDATE' THEN
        UPDATE check_result_counts SET
            n_pass = n_pass - (CASE WHEN OLD.status = 'pass' THEN 1 ELSE 0 END),
            n_fail = n_fail - (CASE WHEN OLD.status = 'fail' THEN 1 ELSE 0 END),
            n_error = n_error - (CASE WHEN OLD.status = 'error' THEN 1 ELSE 0 END),
            n_other = n_other - (CASE WHEN OLD.status IN ('pass', 'fail', 'error') THEN 0 ELSE 1 END)
        WHERE workspace_id = OLD.workspace_id AND check_id = OLD.check_id;
    END IF;
    IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
        INSERT INTO check_result_counts (workspace_id, check_id) VALUES (NEW.workspace_id, NEW.check_id)
            ON CONFLICT DO NOTHING;
        UPDATE check_result_counts SET
            n_pass = n_pass + (CASE WHEN NEW.status = 'pass' THEN 1 ELSE 0 END),
            n_fail = n_fail + (CASE WHEN NEW.status = 'fail' THEN 1 ELSE 0 END),
            n_error = n_error + (CASE WHEN NEW.status = 'error' THEN 1 ELSE 0 END),
            n_other = n_other + (CASE WHEN NEW.status IN ('pass', 'fail', 'error') THEN 0 ELSE 1 END)
        WHERE workspace_id = NEW.workspace_id AND check_id = NEW.check_id;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER check_results_count_insert AFTER INSERT OR DELETE ON check_results
    FOR EACH ROW EXECUTE FUNCTION check_result_counts_apply();
-- A result's workspace and check never change (they are its identity with
-- the host); only its status does.
CREATE TRIGGER check_results_count_update AFTER UPDATE OF status ON check_results
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION check_result_counts_apply();

-- Results under an exception, counted live by the compliance overview
-- (usually a handful; the partial index holds nothing else).
CREATE INDEX check_results_excepted ON check_results (workspace_id, check_id) WHERE exception_id IS NOT NULL;

-- +goose Down
DROP INDEX check_results_excepted;
DROP TRIGGER check_results_count_update ON check_results;
DROP TRIGGER check_results_count_insert ON check_results;
DROP FUNCTION check_result_counts_apply();
DROP TABLE check_result_counts;
