-- The number of current results of each check by status, per group, kept
-- exact by triggers like check_result_counts (migration 00010), so that the
-- compliance page filtered by a group reads a group's 78 rows instead of
-- counting its results (195,000 for a group of 2,500 hosts). A host is a
-- member once however many rows say so (static and dynamic): the triggers on
-- group_members act when a host's first row for a group appears or its last
-- one goes. Exceptions are counted live, as for the workspace. Keep in step
-- with the postgres migration of the same number.

-- +goose Up
CREATE TABLE group_check_counts (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    group_id     INTEGER NOT NULL REFERENCES host_groups (id) ON DELETE CASCADE,
    check_id     TEXT NOT NULL,
    n_pass       INTEGER NOT NULL DEFAULT 0,
    n_fail       INTEGER NOT NULL DEFAULT 0,
    n_error      INTEGER NOT NULL DEFAULT 0,
    n_other      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, check_id)
);

INSERT INTO group_check_counts (workspace_id, group_id, check_id, n_pass, n_fail, n_error, n_other)
SELECT m.workspace_id, m.group_id, r.check_id,
       sum(CASE WHEN r.status = 'pass' THEN 1 ELSE 0 END),
       sum(CASE WHEN r.status = 'fail' THEN 1 ELSE 0 END),
       sum(CASE WHEN r.status = 'error' THEN 1 ELSE 0 END),
       sum(CASE WHEN r.status IN ('pass', 'fail', 'error') THEN 0 ELSE 1 END)
FROM (SELECT DISTINCT workspace_id, group_id, host_id FROM group_members) m
JOIN check_results r ON r.host_id = m.host_id
GROUP BY m.workspace_id, m.group_id, r.check_id;

-- +goose StatementBegin
CREATE TRIGGER check_results_group_count_insert AFTER INSERT ON check_results
BEGIN
    INSERT OR IGNORE INTO group_check_counts (workspace_id, group_id, check_id)
        SELECT DISTINCT NEW.workspace_id, group_id, NEW.check_id FROM group_members WHERE host_id = NEW.host_id;
    UPDATE group_check_counts SET
        n_pass = n_pass + (NEW.status = 'pass'),
        n_fail = n_fail + (NEW.status = 'fail'),
        n_error = n_error + (NEW.status = 'error'),
        n_other = n_other + (NEW.status NOT IN ('pass', 'fail', 'error'))
    WHERE check_id = NEW.check_id AND group_id IN (SELECT group_id FROM group_members WHERE host_id = NEW.host_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER check_results_group_count_delete AFTER DELETE ON check_results
BEGIN
    UPDATE group_check_counts SET
        n_pass = n_pass - (OLD.status = 'pass'),
        n_fail = n_fail - (OLD.status = 'fail'),
        n_error = n_error - (OLD.status = 'error'),
        n_other = n_other - (OLD.status NOT IN ('pass', 'fail', 'error'))
    WHERE check_id = OLD.check_id AND group_id IN (SELECT group_id FROM group_members WHERE host_id = OLD.host_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER check_results_group_count_update AFTER UPDATE OF status ON check_results
WHEN OLD.status IS NOT NEW.status
BEGIN
    UPDATE group_check_counts SET
        n_pass = n_pass - (OLD.status = 'pass') + (NEW.status = 'pass'),
        n_fail = n_fail - (OLD.status = 'fail') + (NEW.status = 'fail'),
        n_error = n_error - (OLD.status = 'error') + (NEW.status = 'error'),
        n_other = n_other - (OLD.status NOT IN ('pass', 'fail', 'error')) + (NEW.status NOT IN ('pass', 'fail', 'error'))
    WHERE check_id = NEW.check_id AND group_id IN (SELECT group_id FROM group_members WHERE host_id = NEW.host_id);
END;
-- +goose StatementEnd

-- A host joins a group: its results count there from now on.
-- +goose StatementBegin
CREATE TRIGGER group_members_count_insert AFTER INSERT ON group_members
WHEN (SELECT count(*) FROM group_members WHERE group_id = NEW.group_id AND host_id = NEW.host_id) = 1
BEGIN
    INSERT OR IGNORE INTO group_check_counts (workspace_id, group_id, check_id)
        SELECT NEW.workspace_id, NEW.group_id, check_id FROM check_results WHERE host_id = NEW.host_id;
    UPDATE group_check_counts SET
        n_pass = n_pass + (SELECT count(*) FROM check_results r WHERE r.host_id = NEW.host_id AND r.check_id = group_check_counts.check_id AND r.status = 'pass'),
        n_fail = n_fail + (SELECT count(*) FROM check_results r WHERE r.host_id = NEW.host_id AND r.check_id = group_check_counts.check_id AND r.status = 'fail'),
        n_error = n_error + (SELECT count(*) FROM check_results r WHERE r.host_id = NEW.host_id AND r.check_id = group_check_counts.check_id AND r.status = 'error'),
        n_other = n_other + (SELECT count(*) FROM check_results r WHERE r.host_id = NEW.host_id AND r.check_id = group_check_counts.check_id AND r.status NOT IN ('pass', 'fail', 'error'))
    WHERE group_id = NEW.group_id AND check_id IN (SELECT check_id FROM check_results WHERE host_id = NEW.host_id);
END;
-- +goose StatementEnd

-- A host's last row for a group goes: its results stop counting there.
-- +goose StatementBegin
CREATE TRIGGER group_members_count_delete AFTER DELETE ON group_members
WHEN NOT EXISTS (SELECT 1 FROM group_members WHERE group_id = OLD.group_id AND host_id = OLD.host_id)
BEGIN
    UPDATE group_check_counts SET
        n_pass = n_pass - (SELECT count(*) FROM check_results r WHERE r.host_id = OLD.host_id AND r.check_id = group_check_counts.check_id AND r.status = 'pass'),
        n_fail = n_fail - (SELECT count(*) FROM check_results r WHERE r.host_id = OLD.host_id AND r.check_id = group_check_counts.check_id AND r.status = 'fail'),
        n_error = n_error - (SELECT count(*) FROM check_results r WHERE r.host_id = OLD.host_id AND r.check_id = group_check_counts.check_id AND r.status = 'error'),
        n_other = n_other - (SELECT count(*) FROM check_results r WHERE r.host_id = OLD.host_id AND r.check_id = group_check_counts.check_id AND r.status NOT IN ('pass', 'fail', 'error'))
    WHERE group_id = OLD.group_id AND check_id IN (SELECT check_id FROM check_results WHERE host_id = OLD.host_id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER group_members_count_delete;
DROP TRIGGER group_members_count_insert;
DROP TRIGGER check_results_group_count_update;
DROP TRIGGER check_results_group_count_delete;
DROP TRIGGER check_results_group_count_insert;
DROP TABLE group_check_counts;
