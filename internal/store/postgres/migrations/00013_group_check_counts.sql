-- The number of current results of each check by status, per group, kept
-- exact by triggers like check_result_counts (migration 00010), so that the
-- compliance page filtered by a group reads a group's 78 rows instead of
-- counting its results (195,000 for a group of 2,500 hosts). A host is a
-- member once however many rows say so (static and dynamic): the triggers on
-- group_members act when a host's first row for a group appears or its last
-- one goes. Exceptions are counted live, as for the workspace. Keep in step
-- with the sqlite migration of the same number.
--
-- Rows are changed in one order, (group, check) ascending, by every writer,
-- so that concurrent reports and membership changes wait for each other
-- rather than deadlock.

-- +goose Up
CREATE TABLE group_check_counts (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    group_id     BIGINT NOT NULL REFERENCES host_groups (id) ON DELETE CASCADE,
    check_id     TEXT NOT NULL,
    n_pass       BIGINT NOT NULL DEFAULT 0,
    n_fail       BIGINT NOT NULL DEFAULT 0,
    n_error      BIGINT NOT NULL DEFAULT 0,
    n_other      BIGINT NOT NULL DEFAULT 0,
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

-- p_sign is +1 or -1: p_status counted in or out of (group, check).
-- +goose StatementBegin
CREATE FUNCTION group_check_counts_add(p_ws BIGINT, p_group BIGINT, p_check TEXT, p_status TEXT, p_sign BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- A group being deleted takes its counters with it (its memberships
    -- cascade while its row is already gone).
    IF NOT EXISTS (SELECT 1 FROM host_groups WHERE id = p_group) THEN
        RETURN;
    END IF;
    IF p_sign > 0 THEN
        INSERT INTO group_check_counts (workspace_id, group_id, check_id) VALUES (p_ws, p_group, p_check) ON CONFLICT DO NOTHING;
    END IF;
    UPDATE group_check_counts SET
        n_pass = n_pass + p_sign * (CASE WHEN p_status = 'pass' THEN 1 ELSE 0 END),
        n_fail = n_fail + p_sign * (CASE WHEN p_status = 'fail' THEN 1 ELSE 0 END),
        n_error = n_error + p_sign * (CASE WHEN p_status = 'error' THEN 1 ELSE 0 END),
        n_other = n_other + p_sign * (CASE WHEN p_status IN ('pass', 'fail', 'error') THEN 0 ELSE 1 END)
    WHERE group_id = p_group AND check_id = p_check;
END;
$$;
-- +goose StatementEnd

-- Deletes are counted out BEFORE the row goes: a host deleted cascades to
-- both its results and its memberships, and PostgreSQL runs the AFTER
-- triggers of both cascades once both are done, when neither sees the other.
-- +goose StatementBegin
CREATE FUNCTION check_results_group_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    g BIGINT;
BEGIN
    IF TG_OP = 'DELETE' OR TG_OP = 'UPDATE' THEN
        FOR g IN SELECT DISTINCT group_id FROM group_members WHERE host_id = OLD.host_id ORDER BY group_id LOOP
            PERFORM group_check_counts_add(OLD.workspace_id, g, OLD.check_id, OLD.status, -1);
        END LOOP;
    END IF;
    IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
        FOR g IN SELECT DISTINCT group_id FROM group_members WHERE host_id = NEW.host_id ORDER BY group_id LOOP
            PERFORM group_check_counts_add(NEW.workspace_id, g, NEW.check_id, NEW.status, 1);
        END LOOP;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD; -- a BEFORE trigger: let the delete happen
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER check_results_group_count AFTER INSERT ON check_results
    FOR EACH ROW EXECUTE FUNCTION check_results_group_counts_apply();
CREATE TRIGGER check_results_group_count_delete BEFORE DELETE ON check_results
    FOR EACH ROW EXECUTE FUNCTION check_results_group_counts_apply();
CREATE TRIGGER check_results_group_count_update AFTER UPDATE OF status ON check_results
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION check_results_group_counts_apply();

-- +goose StatementBegin
CREATE FUNCTION group_members_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r RECORD;
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- AFTER INSERT: the host's first row for the group.
        IF (SELECT count(*) FROM group_members WHERE group_id = NEW.group_id AND host_id = NEW.host_id) = 1 THEN
            FOR r IN SELECT check_id, status FROM check_results WHERE host_id = NEW.host_id ORDER BY check_id LOOP
                PERFORM group_check_counts_add(NEW.workspace_id, NEW.group_id, r.check_id, r.status, 1);
            END LOOP;
        END IF;
        RETURN NULL;
    END IF;
    -- BEFORE DELETE: the host's last row for the group (no row with the
    -- other static flag; the two make up the primary key with the host).
    IF NOT EXISTS (SELECT 1 FROM group_members WHERE group_id = OLD.group_id AND host_id = OLD.host_id AND static <> OLD.static) THEN
        FOR r IN SELECT check_id, status FROM check_results WHERE host_id = OLD.host_id ORDER BY check_id LOOP
            PERFORM group_check_counts_add(OLD.workspace_id, OLD.group_id, r.check_id, r.status, -1);
        END LOOP;
    END IF;
    RETURN OLD;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER group_members_count AFTER INSERT ON group_members
    FOR EACH ROW EXECUTE FUNCTION group_members_counts_apply();
CREATE TRIGGER group_members_count_delete BEFORE DELETE ON group_members
    FOR EACH ROW EXECUTE FUNCTION group_members_counts_apply();

-- +goose Down
DROP TRIGGER group_members_count_delete ON group_members;
DROP TRIGGER group_members_count ON group_members;
DROP FUNCTION group_members_counts_apply();
DROP TRIGGER check_results_group_count_update ON check_results;
DROP TRIGGER check_results_group_count_delete ON check_results;
DROP TRIGGER check_results_group_count ON check_results;
DROP FUNCTION check_results_group_counts_apply();
DROP FUNCTION group_check_counts_add(BIGINT, BIGINT, TEXT, TEXT, BIGINT);
DROP TABLE group_check_counts;
