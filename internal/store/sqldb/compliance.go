package sqldb

import (
	"context"
	"database/sql"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// hostInWorkspace fails with ENOTFOUND unless the host is the workspace's.
func (db *DB) hostInWorkspace(ctx context.Context, q querier, workspaceID, hostID int64) error {
	var n int
	if err := db.queryRow(ctx, q, `SELECT count(*) FROM hosts WHERE id = ? AND workspace_id = ?`, hostID, workspaceID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return domain.Errorf(domain.ENOTFOUND, "host %d not found", hostID)
	}
	return nil
}

// SetHostLabels implements store.Compliance.
func (db *DB) SetHostLabels(ctx context.Context, workspaceID, hostID int64, labels map[string]string) error {
	return wrap("set host labels", db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.hostInWorkspace(ctx, tx, workspaceID, hostID); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM host_labels WHERE host_id = ?`, hostID); err != nil {
			return err
		}
		for k, v := range labels {
			if _, err := db.exec(ctx, tx, `INSERT INTO host_labels (workspace_id, host_id, key, value) VALUES (?, ?, ?, ?)`,
				workspaceID, hostID, k, v); err != nil {
				return err
			}
		}
		return nil
	}))
}

// HostLabels implements store.Compliance.
func (db *DB) HostLabels(ctx context.Context, workspaceID, hostID int64) (map[string]string, error) {
	if err := db.hostInWorkspace(ctx, db.pool, workspaceID, hostID); err != nil {
		return nil, wrap("host labels", err)
	}
	rows, err := db.query(ctx, db.pool, `SELECT key, value FROM host_labels WHERE workspace_id = ? AND host_id = ?`, workspaceID, hostID)
	if err != nil {
		return nil, wrap("host labels", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

const groupCols = `g.id, g.workspace_id, g.name, g.description, g.expression, g.created_at, g.updated_at,
	(SELECT count(DISTINCT m.host_id) FROM group_members m WHERE m.group_id = g.id)`

func scanGroup(s scanner) (*domain.Group, error) {
	g := &domain.Group{}
	err := s.Scan(&g.ID, &g.WorkspaceID, &g.Name, &g.Description, &g.Expression, scanTime(&g.CreatedAt), scanTime(&g.UpdatedAt), &g.Members)
	return g, err
}

// CreateGroup implements store.Compliance.
func (db *DB) CreateGroup(ctx context.Context, g *domain.Group) error {
	now := orNow(g.CreatedAt)
	err := db.queryRow(ctx, db.pool,
		`INSERT INTO host_groups (workspace_id, name, description, expression, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		g.WorkspaceID, g.Name, g.Description, g.Expression, now, now).Scan(&g.ID)
	if err != nil {
		err = db.conflict(err, "a group named %q already exists", g.Name)
		return wrap("create group", db.missingRef(err, domain.ENOTFOUND, "workspace %d not found", g.WorkspaceID))
	}
	g.CreatedAt, g.UpdatedAt = now, now
	return nil
}

// UpdateGroup implements store.Compliance.
func (db *DB) UpdateGroup(ctx context.Context, g *domain.Group) error {
	now := ts(time.Now())
	err := db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "group %d not found", g.ID),
		`UPDATE host_groups SET name = ?, description = ?, expression = ?, updated_at = ? WHERE id = ? AND workspace_id = ?`,
		g.Name, g.Description, g.Expression, now, g.ID, g.WorkspaceID)
	if err != nil {
		return wrap("update group", db.conflict(err, "a group named %q already exists", g.Name))
	}
	g.UpdatedAt = now
	return nil
}

// DeleteGroup implements store.Compliance.
func (db *DB) DeleteGroup(ctx context.Context, workspaceID, id int64) error {
	return wrap("delete group", db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "group %d not found", id),
		`DELETE FROM host_groups WHERE id = ? AND workspace_id = ?`, id, workspaceID))
}

// GetGroup implements store.Compliance.
func (db *DB) GetGroup(ctx context.Context, workspaceID, id int64) (*domain.Group, error) {
	g, err := scanGroup(db.queryRow(ctx, db.pool, `SELECT `+groupCols+` FROM host_groups g WHERE g.id = ? AND g.workspace_id = ?`, id, workspaceID))
	if err != nil {
		return nil, wrap("get group", notFound(err, "group %d not found", id))
	}
	return g, nil
}

// ListGroups implements store.Compliance.
func (db *DB) ListGroups(ctx context.Context, workspaceID int64) ([]domain.Group, error) {
	rows, err := db.query(ctx, db.pool, `SELECT `+groupCols+` FROM host_groups g WHERE g.workspace_id = ? ORDER BY lower(g.name), g.name`, workspaceID)
	out, err := collect(rows, err, scanGroup)
	return out, wrap("list groups", err)
}

// SetStaticMembers implements store.Compliance.
func (db *DB) SetStaticMembers(ctx context.Context, workspaceID, groupID int64, hostIDs []int64) error {
	return wrap("set static members", db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.GetGroupTx(ctx, tx, workspaceID, groupID); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM group_members WHERE group_id = ? AND static`, groupID); err != nil {
			return err
		}
		for _, h := range uniqueIDs(hostIDs) {
			if err := db.hostInWorkspace(ctx, tx, workspaceID, h); err != nil {
				return domain.Errorf(domain.EINVALID, "host %d is not in this workspace", h)
			}
			if _, err := db.exec(ctx, tx, `INSERT INTO group_members (workspace_id, group_id, host_id, static) VALUES (?, ?, ?, TRUE)`,
				workspaceID, groupID, h); err != nil {
				return err
			}
		}
		return nil
	}))
}

// GetGroupTx checks a group exists in the workspace inside a transaction.
func (db *DB) GetGroupTx(ctx context.Context, q querier, workspaceID, id int64) (int64, error) {
	var got int64
	err := db.queryRow(ctx, q, `SELECT id FROM host_groups WHERE id = ? AND workspace_id = ?`, id, workspaceID).Scan(&got)
	return got, notFound(err, "group %d not found", id)
}

// SetDynamicGroups implements store.Compliance.
func (db *DB) SetDynamicGroups(ctx context.Context, workspaceID, hostID int64, groupIDs []int64) (bool, error) {
	changed := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		changed = false
		if err := db.hostInWorkspace(ctx, tx, workspaceID, hostID); err != nil {
			return err
		}
		// Only what changed: every report sets the host's dynamic groups,
		// and each membership row that comes or goes moves the group's
		// compliance counters (migration 00013).
		rows, err := db.query(ctx, tx, `SELECT group_id FROM group_members WHERE host_id = ? AND NOT static`, hostID)
		had, err := collect(rows, err, func(s scanner) (*int64, error) {
			var id int64
			return &id, s.Scan(&id)
		})
		if err != nil {
			return err
		}
		ids := uniqueIDs(groupIDs)
		want := make(map[int64]bool, len(ids))
		for _, g := range ids {
			want[g] = true
		}
		for _, g := range had {
			if want[g] {
				delete(want, g)
				continue
			}
			if _, err := db.exec(ctx, tx, `DELETE FROM group_members WHERE host_id = ? AND group_id = ? AND NOT static`, hostID, g); err != nil {
				return err
			}
			changed = true
		}
		for _, g := range ids {
			if !want[g] {
				continue
			}
			if _, err := db.GetGroupTx(ctx, tx, workspaceID, g); err != nil {
				return err
			}
			if _, err := db.exec(ctx, tx, `INSERT INTO group_members (workspace_id, group_id, host_id, static) VALUES (?, ?, ?, FALSE)`,
				workspaceID, g, hostID); err != nil {
				return err
			}
			changed = true
		}
		return nil
	})
	return changed, wrap("set dynamic groups", err)
}

func (db *DB) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := db.query(ctx, db.pool, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// HostGroupIDs implements store.Compliance.
func (db *DB) HostGroupIDs(ctx context.Context, workspaceID, hostID int64) ([]int64, error) {
	out, err := db.ids(ctx, `SELECT DISTINCT group_id FROM group_members WHERE workspace_id = ? AND host_id = ? ORDER BY group_id`, workspaceID, hostID)
	return out, wrap("host groups", err)
}

// GroupHostIDs implements store.Compliance.
func (db *DB) GroupHostIDs(ctx context.Context, workspaceID, groupID int64) ([]int64, error) {
	out, err := db.ids(ctx, `SELECT DISTINCT host_id FROM group_members WHERE workspace_id = ? AND group_id = ? ORDER BY host_id`, workspaceID, groupID)
	return out, wrap("group hosts", err)
}

func uniqueIDs(ids []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// SaveCheck implements store.Compliance.
func (db *DB) SaveCheck(ctx context.Context, workspaceID int64, c *domain.StoredCheck) error {
	now := ts(time.Now())
	_, err := db.exec(ctx, db.pool,
		`INSERT INTO checks (workspace_id, id, pack_id, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		 ON CONFLICT (workspace_id, id) DO UPDATE SET pack_id = excluded.pack_id, data = excluded.data, updated_at = excluded.updated_at`,
		workspaceID, c.ID, c.PackID, c.YAML, now, now)
	if err != nil {
		return wrap("save check", db.missingRef(err, domain.ENOTFOUND, "workspace %d not found", workspaceID))
	}
	c.UpdatedAt = now
	return nil
}

// DeleteCheck implements store.Compliance.
func (db *DB) DeleteCheck(ctx context.Context, workspaceID int64, id string) error {
	return wrap("delete check", db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "check %s not found", id),
		`DELETE FROM checks WHERE workspace_id = ? AND id = ?`, workspaceID, id))
}

// ListChecks implements store.Compliance.
func (db *DB) ListChecks(ctx context.Context, workspaceID int64) ([]domain.StoredCheck, error) {
	rows, err := db.query(ctx, db.pool, `SELECT id, pack_id, data, created_at, updated_at FROM checks WHERE workspace_id = ? ORDER BY id`, workspaceID)
	out, err := collect(rows, err, func(s scanner) (*domain.StoredCheck, error) {
		c := &domain.StoredCheck{}
		err := s.Scan(&c.ID, &c.PackID, &c.YAML, scanTime(&c.CreatedAt), scanTime(&c.UpdatedAt))
		return c, err
	})
	return out, wrap("list checks", err)
}

// SetAssignments implements store.Compliance.
func (db *DB) SetAssignments(ctx context.Context, workspaceID, groupID int64, as []domain.Assignment) error {
	return wrap("set assignments", db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.GetGroupTx(ctx, tx, workspaceID, groupID); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM check_assignments WHERE group_id = ?`, groupID); err != nil {
			return err
		}
		for _, a := range as {
			if a.Kind != domain.AssignCheck && a.Kind != domain.AssignPack {
				return domain.Errorf(domain.EINVALID, "kind: must be %q or %q", domain.AssignCheck, domain.AssignPack)
			}
			if _, err := db.exec(ctx, tx,
				`INSERT INTO check_assignments (workspace_id, group_id, kind, ref) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				workspaceID, groupID, a.Kind, a.Ref); err != nil {
				return err
			}
		}
		return nil
	}))
}

// ListAssignments implements store.Compliance.
func (db *DB) ListAssignments(ctx context.Context, workspaceID int64) ([]domain.Assignment, error) {
	rows, err := db.query(ctx, db.pool, `SELECT group_id, kind, ref FROM check_assignments WHERE workspace_id = ? ORDER BY group_id, kind, ref`, workspaceID)
	out, err := collect(rows, err, func(s scanner) (*domain.Assignment, error) {
		a := &domain.Assignment{}
		return a, s.Scan(&a.GroupID, &a.Kind, &a.Ref)
	})
	return out, wrap("list assignments", err)
}

// SaveCheckResults implements store.Compliance.
func (db *DB) SaveCheckResults(ctx context.Context, workspaceID, hostID int64, rs []domain.CheckResult, now time.Time) (int, error) {
	now = ts(now)
	changed := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.hostInWorkspace(ctx, tx, workspaceID, hostID); err != nil {
			return err
		}
		rows, err := db.query(ctx, tx, `SELECT check_id, status FROM check_results WHERE host_id = ?`, hostID)
		if err != nil {
			return err
		}
		prev := map[string]string{}
		for rows.Next() {
			var id, st string
			if err := rows.Scan(&id, &st); err != nil {
				rows.Close()
				return err
			}
			prev[id] = st
		}
		rows.Close()
		// In check order, removals included: the check_result_counts
		// trigger locks one row per check, and concurrent reports of the
		// workspace (PostgreSQL) must take those locks in the same order.
		keep := map[string]bool{}
		for _, r := range rs {
			keep[r.CheckID] = true
		}
		ops := make([]domain.CheckResult, 0, len(rs)+len(prev))
		ops = append(ops, rs...)
		for id := range prev {
			if !keep[id] {
				ops = append(ops, domain.CheckResult{CheckID: id})
			}
		}
		sort.SliceStable(ops, func(i, j int) bool { return ops[i].CheckID < ops[j].CheckID })
		for _, r := range ops {
			if !keep[r.CheckID] {
				if _, err := db.exec(ctx, tx, `DELETE FROM check_results WHERE host_id = ? AND check_id = ?`, hostID, r.CheckID); err != nil {
					return err
				}
				continue
			}
			old, had := prev[r.CheckID]
			changedAt := now
			if had && old == r.Status {
				if _, err := db.exec(ctx, tx,
					`UPDATE check_results SET reason = ?, expected = ?, actual = ?, evaluated_at = ? WHERE host_id = ? AND check_id = ?`,
					r.Reason, r.Expected, r.Actual, now, hostID, r.CheckID); err != nil {
					return err
				}
				continue
			}
			changed++
			if _, err := db.exec(ctx, tx,
				`INSERT INTO check_results (workspace_id, host_id, check_id, status, reason, expected, actual, evaluated_at, changed_at)
				 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
				 ON CONFLICT (host_id, check_id) DO UPDATE SET status = excluded.status, reason = excluded.reason,
				   expected = excluded.expected, actual = excluded.actual, evaluated_at = excluded.evaluated_at, changed_at = excluded.changed_at`,
				workspaceID, hostID, r.CheckID, r.Status, r.Reason, r.Expected, r.Actual, now, changedAt); err != nil {
				return err
			}
			if _, err := db.exec(ctx, tx, `INSERT INTO check_history (workspace_id, host_id, check_id, status, reason, at) VALUES (?, ?, ?, ?, ?, ?)`,
				workspaceID, hostID, r.CheckID, r.Status, r.Reason, now); err != nil {
				return err
			}
		}
		return nil
	})
	return changed, wrap("save check results", err)
}

func resultWhere(workspaceID int64, f store.CheckResultFilter, table string) (string, []any) {
	w := []string{table + ".workspace_id = ?"}
	args := []any{workspaceID}
	if f.HostID != 0 {
		w = append(w, table+".host_id = ?")
		args = append(args, f.HostID)
	}
	if f.CheckID != "" {
		w = append(w, table+".check_id = ?")
		args = append(args, f.CheckID)
	}
	if f.GroupID != 0 {
		w = append(w, table+".host_id IN (SELECT host_id FROM group_members WHERE group_id = ? AND workspace_id = ?)")
		args = append(args, f.GroupID, workspaceID)
	}
	if f.Status != "" {
		w = append(w, table+".status = ?")
		args = append(args, f.Status)
	}
	return " WHERE " + strings.Join(w, " AND "), args
}

// ListCheckResults implements store.Compliance.
func (db *DB) ListCheckResults(ctx context.Context, workspaceID int64, f store.CheckResultFilter) ([]domain.CheckResult, error) {
	where, args := resultWhere(workspaceID, f, "r")
	rows, err := db.query(ctx, db.pool,
		`SELECT r.workspace_id, r.host_id, h.name, r.check_id, r.status, r.reason, r.expected, r.actual, r.evaluated_at, r.changed_at,
		   COALESCE(r.exception_id, 0), r.exception_kind, r.exception_expires_at
		 FROM check_results r JOIN hosts h ON h.id = r.host_id`+where+` ORDER BY r.check_id, lower(h.name), h.name`, args...)
	out, err := collect(rows, err, func(s scanner) (*domain.CheckResult, error) {
		r := &domain.CheckResult{}
		err := s.Scan(&r.WorkspaceID, &r.HostID, &r.HostName, &r.CheckID, &r.Status, &r.Reason, &r.Expected, &r.Actual,
			scanTime(&r.EvaluatedAt), scanTime(&r.ChangedAt), &r.ExceptionID, &r.ExceptionKind, scanNullTime(&r.ExceptionExpiresAt))
		return r, err
	})
	return out, wrap("list check results", err)
}

// CheckHistory implements store.Compliance, oldest first.
func (db *DB) CheckHistory(ctx context.Context, workspaceID int64, f store.CheckResultFilter, since time.Time) ([]domain.CheckChange, error) {
	where, args := resultWhere(workspaceID, f, "c")
	args = append(args, ts(since))
	rows, err := db.query(ctx, db.pool,
		`SELECT c.host_id, c.check_id, c.status, c.reason, c.at FROM check_history c`+where+` AND c.at >= ? ORDER BY c.at, c.id`, args...)
	out, err := collect(rows, err, func(s scanner) (*domain.CheckChange, error) {
		c := &domain.CheckChange{}
		return c, s.Scan(&c.HostID, &c.CheckID, &c.Status, &c.Reason, scanTime(&c.At))
	})
	return out, wrap("check history", err)
}

// activeException is true for a failing or erroring result under an
// exception that has not expired at the bound time (domain.CheckResult.Excepted).
const activeException = `r.exception_id IS NOT NULL AND r.exception_id <> 0 AND r.status IN ('fail', 'error')
	AND (r.exception_expires_at IS NULL OR r.exception_expires_at > ?)`

// CheckCounts implements store.Compliance. Without a filter it reads the
// per-check counters the check_result_counts triggers keep (migration
// 00010), filtered by a group only the group's (group_check_counts,
// 00013), and counts only the excepted results live, through their partial
// index; with another filter (a host, a check, a status) it counts the
// filtered results, which the filter's index keeps to a fraction of the
// workspace.
func (db *DB) CheckCounts(ctx context.Context, workspaceID int64, f store.CheckResultFilter, now time.Time) ([]store.CheckCount, error) {
	if f == (store.CheckResultFilter{GroupID: f.GroupID}) && f.GroupID != 0 {
		// A group alone: its counters (group_check_counts, migration 00013).
		return db.countersWithExceptions(ctx, now,
			`SELECT r.check_id, r.status, count(*) FROM check_results r
			WHERE r.workspace_id = ? AND `+activeException+` AND r.host_id IN (SELECT host_id FROM group_members WHERE group_id = ? AND workspace_id = ?)
			GROUP BY r.check_id, r.status`, []any{workspaceID, ts(now), f.GroupID, workspaceID},
			`SELECT check_id, n_pass, n_fail, n_error, n_other FROM group_check_counts
			WHERE group_id = ? AND workspace_id = ? AND n_pass + n_fail + n_error + n_other > 0 ORDER BY check_id`, []any{f.GroupID, workspaceID})
	}
	if f != (store.CheckResultFilter{}) {
		where, args := resultWhere(workspaceID, f, "r")
		if f.GroupID != 0 {
			// Through the group's hosts and the primary key: SQLite's
			// planner otherwise reads the whole workspace through
			// check_results_workspace and tests each host against the
			// group (1.8 s at 10,000 hosts, against 0.15 s).
			where = strings.Replace(where, "r.workspace_id = ?", "+r.workspace_id = ?", 1)
		}
		rows, err := db.query(ctx, db.pool, `SELECT r.check_id, r.status, count(*), sum(CASE WHEN `+activeException+` THEN 1 ELSE 0 END)
			FROM check_results r`+where+` GROUP BY r.check_id, r.status ORDER BY r.check_id, r.status`, append([]any{ts(now)}, args...)...)
		out, err := collect(rows, err, func(s scanner) (*store.CheckCount, error) {
			c := &store.CheckCount{}
			return c, s.Scan(&c.CheckID, &c.Status, &c.Results, &c.Excepted)
		})
		return out, wrap("check counts", err)
	}
	return db.countersWithExceptions(ctx, now,
		`SELECT r.check_id, r.status, count(*) FROM check_results r
		WHERE r.workspace_id = ? AND `+activeException+` GROUP BY r.check_id, r.status`, []any{workspaceID, ts(now)},
		`SELECT check_id, n_pass, n_fail, n_error, n_other FROM check_result_counts
		WHERE workspace_id = ? AND n_pass + n_fail + n_error + n_other > 0 ORDER BY check_id`, []any{workspaceID})
}

// countersWithExceptions reads trigger-kept counters (check, n_pass,
// n_fail, n_error, n_other) and adds the excepted results counted live
// (check, status, count) — whether an exception is active depends on the
// time of the request — in one snapshot.
func (db *DB) countersWithExceptions(ctx context.Context, now time.Time, exceptedQ string, exceptedArgs []any, countersQ string, countersArgs []any) ([]store.CheckCount, error) {
	var out []store.CheckCount
	err := db.inTxOpts(ctx, &db.d.ReadTx, func(tx *sql.Tx) error {
		type key struct{ check, status string }
		excepted := map[key]int{}
		rows, err := db.query(ctx, tx, exceptedQ, exceptedArgs...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k key
			var n int
			if err := rows.Scan(&k.check, &k.status, &n); err != nil {
				rows.Close()
				return err
			}
			excepted[k] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = db.query(ctx, tx, countersQ, countersArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var n [4]int
			if err := rows.Scan(&id, &n[0], &n[1], &n[2], &n[3]); err != nil {
				return err
			}
			// In status order, as the filtered query returns them.
			for _, c := range []struct {
				status string
				n      int
			}{{domain.CheckError, n[2]}, {domain.CheckFail, n[1]}, {domain.CheckNotApplicable, n[3]}, {domain.CheckPass, n[0]}} {
				if c.n > 0 {
					out = append(out, store.CheckCount{CheckID: id, Status: c.status, Results: c.n, Excepted: excepted[key{id, c.status}]})
				}
			}
		}
		return rows.Err()
	})
	return out, wrap("check counts", err)
}

// RecentCheckChanges implements store.Compliance: one query per check,
// walking its history newest first through check_history_workspace and
// stopping after n changes of hosts that still have a result; the status
// before each change is one probe of check_history_host.
func (db *DB) RecentCheckChanges(ctx context.Context, workspaceID int64, f store.CheckResultFilter, checkIDs []string, n int) (map[string][]store.CheckStep, error) {
	out := map[string][]store.CheckStep{}
	if n <= 0 {
		return out, nil
	}
	f.Status = ""
	err := db.inTxOpts(ctx, &db.d.ReadTx, func(tx *sql.Tx) error {
		// A large group's changes are found walking the check's history
		// newest first and skipping other hosts (12 changes take about
		// 12 × hosts / members rows); a small group's through each
		// member's history (check_history_host), which SQLite's planner
		// prefers for any group. Walk when that reads fewer rows.
		walk := false
		if f.GroupID != 0 {
			var members, hosts int
			if err := db.queryRow(ctx, tx, `SELECT count(DISTINCT host_id) FROM group_members WHERE group_id = ? AND workspace_id = ?`,
				f.GroupID, workspaceID).Scan(&members); err != nil {
				return err
			}
			if err := db.queryRow(ctx, tx, `SELECT count(*) FROM hosts WHERE workspace_id = ?`, workspaceID).Scan(&hosts); err != nil {
				return err
			}
			walk = members*members >= 4*hosts
		}
		for _, id := range checkIDs {
			if f.CheckID != "" && f.CheckID != id {
				continue
			}
			g := f
			g.CheckID = id
			where, args := resultWhere(workspaceID, g, "c")
			if walk {
				where = strings.Replace(where, "c.host_id IN (SELECT host_id FROM group_members", "+c.host_id IN (SELECT host_id FROM group_members", 1)
			}
			rows, err := db.query(ctx, tx, `SELECT c.host_id, c.status,
				COALESCE((SELECT p.status FROM check_history p WHERE p.host_id = c.host_id AND p.check_id = c.check_id
					AND (p.at < c.at OR (p.at = c.at AND p.id < c.id)) ORDER BY p.at DESC, p.id DESC LIMIT 1), '')
				FROM check_history c`+where+`
				AND EXISTS (SELECT 1 FROM check_results r WHERE r.host_id = c.host_id AND r.check_id = c.check_id)
				ORDER BY c.at DESC, c.id DESC LIMIT `+strconv.Itoa(n), args...)
			steps, err := collect(rows, err, func(s scanner) (*store.CheckStep, error) {
				st := &store.CheckStep{}
				return st, s.Scan(&st.HostID, &st.Status, &st.Previous)
			})
			if err != nil {
				return err
			}
			if len(steps) > 0 {
				out[id] = steps
			}
		}
		return nil
	})
	return out, wrap("recent check changes", err)
}
