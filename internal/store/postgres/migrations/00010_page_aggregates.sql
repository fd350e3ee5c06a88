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


-- Open, unmarked findings grouped by vulnerability, per workspace: one row
-- for all of them (severity '') and one per severity among them, with what
-- the vulnerabilities page sorts and shows. The page reads 3,000 rows here
-- instead of grouping 235,000 findings per request (twice: the list, and
-- the counts by severity above it).
--
-- Exact, through vuln_summary_dirty: a trigger marks a vulnerability dirty
-- when one of its findings that is or was open and unmarked changes in a
-- way that matters (appears, goes, opens, resolves, is marked, rescored),
-- in the writer's own transaction and in constant time. Before reading, the
-- store recomputes the dirty vulnerabilities from their findings (through
-- the covering index below) and clears them. So a write costs one insert
-- however many hosts share the vulnerability (recomputing in the trigger
-- made a first match of 10,000 hosts quadratic), and a read costs the
-- vulnerabilities changed since the last one. A mark that expires changes
-- no row: the store groups the few vulnerabilities with expired marks live.
CREATE TABLE vuln_summaries (
    workspace_id  BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    vuln_id       TEXT NOT NULL,
    severity      TEXT NOT NULL, -- '' for all severities
    sev_rank      BIGINT NOT NULL, -- 0 critical ... 4 unknown, the most severe
    score         DOUBLE PRECISION NOT NULL,
    hosts         BIGINT NOT NULL,
    findings      BIGINT NOT NULL, -- the severity counts of the page
    first_seen_at TIMESTAMPTZ NOT NULL,
    fix           BIGINT NOT NULL, -- 1 when a fixed version is known for one
    PRIMARY KEY (workspace_id, vuln_id, severity)
);
CREATE INDEX vuln_summaries_severity ON vuln_summaries (workspace_id, severity);

-- Appended to, never updated: a unique key would make concurrent writers
-- that mark the same vulnerabilities in different orders wait for each
-- other (and deadlock). The store claims the rows it recomputes by deleting
-- them first, so a mark committed meanwhile survives for the next read. No
-- foreign key: a workspace deleted by cascade still fires the trigger (its
-- marks stay behind, a few bytes each).
CREATE TABLE vuln_summary_dirty (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL,
    vuln_id      TEXT NOT NULL
);
CREATE INDEX vuln_summary_dirty_workspace ON vuln_summary_dirty (workspace_id);

-- The grouping of the page (and the recompute) reads only the index.
DROP INDEX findings_workspace_status;
CREATE INDEX findings_workspace_status ON findings
    (workspace_id, status, vuln_id, mark, severity, cvss_score, host_id, first_seen_at, fixed);
-- Marked findings, to find expired marks without reading the rest.
CREATE INDEX findings_marked ON findings (workspace_id, mark_expires_at) WHERE mark <> '';

INSERT INTO vuln_summaries (workspace_id, vuln_id, severity, sev_rank, score, hosts, findings, first_seen_at, fix)
SELECT workspace_id, vuln_id, '', min(CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END), max(cvss_score), count(DISTINCT host_id), count(*),
       min(first_seen_at), max(CASE WHEN fixed <> '' THEN 1 ELSE 0 END)
FROM findings WHERE status = 'open' AND mark = '' GROUP BY workspace_id, vuln_id
UNION ALL
SELECT workspace_id, vuln_id, severity, min(CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END), max(cvss_score), count(DISTINCT host_id), count(*),
       min(first_seen_at), max(CASE WHEN fixed <> '' THEN 1 ELSE 0 END)
FROM findings WHERE status = 'open' AND mark = '' GROUP BY workspace_id, vuln_id, severity;

-- +goose StatementBegin
CREATE FUNCTION vuln_summaries_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO vuln_summary_dirty (workspace_id, vuln_id) VALUES (OLD.workspace_id, OLD.vuln_id);
    ELSE
        INSERT INTO vuln_summary_dirty (workspace_id, vuln_id) VALUES (NEW.workspace_id, NEW.vuln_id);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER findings_summary_insert AFTER INSERT ON findings
    FOR EACH ROW WHEN (NEW.status = 'open' AND NEW.mark = '') EXECUTE FUNCTION vuln_summaries_dirty();
CREATE TRIGGER findings_summary_delete AFTER DELETE ON findings
    FOR EACH ROW WHEN (OLD.status = 'open' AND OLD.mark = '') EXECUTE FUNCTION vuln_summaries_dirty();
-- A finding's workspace and vulnerability never change (with the host and
-- package they are its identity).
CREATE TRIGGER findings_summary_update AFTER UPDATE ON findings
    FOR EACH ROW WHEN (((OLD.status = 'open' AND OLD.mark = '') OR (NEW.status = 'open' AND NEW.mark = ''))
     AND (OLD.status IS DISTINCT FROM NEW.status OR OLD.mark IS DISTINCT FROM NEW.mark OR OLD.severity IS DISTINCT FROM NEW.severity
     OR OLD.cvss_score IS DISTINCT FROM NEW.cvss_score OR OLD.fixed IS DISTINCT FROM NEW.fixed
     OR OLD.first_seen_at IS DISTINCT FROM NEW.first_seen_at OR OLD.host_id IS DISTINCT FROM NEW.host_id))
    EXECUTE FUNCTION vuln_summaries_dirty();

-- +goose Down
DROP TRIGGER findings_summary_update ON findings;
DROP TRIGGER findings_summary_delete ON findings;
DROP TRIGGER findings_summary_insert ON findings;
DROP FUNCTION vuln_summaries_dirty();
DROP INDEX findings_marked;
DROP INDEX findings_workspace_status;
CREATE INDEX findings_workspace_status ON findings (workspace_id, status, vuln_id);
DROP TABLE vuln_summary_dirty;
DROP INDEX vuln_summaries_severity;
DROP TABLE vuln_summaries;
DROP INDEX check_results_excepted;
DROP TRIGGER check_results_count_update ON check_results;
DROP TRIGGER check_results_count_insert ON check_results;
DROP FUNCTION check_result_counts_apply();
DROP TABLE check_result_counts;
