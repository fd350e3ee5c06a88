package sqldb

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// unmarked is the condition on findings f that an operator mark does not
// hide: none, or one that has expired. It takes now as its one argument.
const unmarked = `(f.mark = '' OR (f.mark_expires_at IS NOT NULL AND f.mark_expires_at <= ?))`

// sevRankExpr is a host's worst open, unmarked finding as a rank (0
// critical ... 4 unknown, 5 none). Each arm is one probe of the
// findings_host_open_severity index, so the rank of 10,000 hosts costs
// 50,000 index probes, not a scan of every finding. It takes now five times.
var sevRankExpr = func() string {
	var b strings.Builder
	b.WriteString(`CASE`)
	for i, s := range vuln.Severities {
		b.WriteString(` WHEN EXISTS (SELECT 1 FROM findings f WHERE f.host_id = h.id AND f.status = 'open' AND f.severity = '` +
			s + `' AND ` + unmarked + `) THEN ` + string(rune('0'+i)))
	}
	b.WriteString(` ELSE 5 END`)
	return b.String()
}()

func sevRankArgs(now time.Time) []any {
	out := make([]any, len(vuln.Severities))
	for i := range out {
		out[i] = ts(now)
	}
	return out
}

// statusRankExpr orders hosts by what needs attention first: failing,
// stale, never scanned, OK. It takes the stale cutoff as its one argument.
const statusRankExpr = `CASE WHEN h.last_error <> '' THEN 0
	WHEN h.last_scan_at IS NULL AND h.last_success_at IS NULL THEN 2
	WHEN COALESCE(h.last_success_at, h.created_at) < ? THEN 1 ELSE 3 END`

func (db *DB) hostTableWhere(workspaceID int64, f store.HostTableFilter) (string, []any, error) {
	w := []string{"h.workspace_id = ?"}
	args := []any{workspaceID}
	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	cutoff := ts(now.Add(-f.StaleAfter))
	if f.Query != "" {
		p := likePattern(f.Query)
		w = append(w, "("+db.contains("h.name")+" OR "+db.contains("h.address")+")")
		args = append(args, p, p)
	}
	if f.OS != "" {
		id, ver, hasVer := strings.Cut(f.OS, " ")
		w = append(w, "h.os_id = ?")
		args = append(args, id)
		if hasVer {
			w = append(w, "h.os_version_id = ?")
			args = append(args, ver)
		}
	}
	if f.GroupID != 0 {
		w = append(w, "h.id IN (SELECT gm.host_id FROM group_members gm WHERE gm.group_id = ? AND gm.workspace_id = ?)")
		args = append(args, f.GroupID, workspaceID)
	}
	if f.LabelKey != "" {
		c := "EXISTS (SELECT 1 FROM host_labels l WHERE l.host_id = h.id AND l.key = ?"
		args = append(args, f.LabelKey)
		if f.LabelVal != "" {
			c += " AND l.value = ?"
			args = append(args, f.LabelVal)
		}
		w = append(w, c+")")
	}
	if f.AgentID != 0 {
		w = append(w, "h.agent_id = ?")
		args = append(args, f.AgentID)
	}
	switch f.Status {
	case "":
	case store.HostFailing:
		w = append(w, "h.last_error <> ''")
	case store.HostNever:
		w = append(w, "h.last_error = '' AND h.last_scan_at IS NULL AND h.last_success_at IS NULL")
	case store.HostStale:
		w = append(w, "h.last_error = '' AND (h.last_scan_at IS NOT NULL OR h.last_success_at IS NOT NULL) AND COALESCE(h.last_success_at, h.created_at) < ?")
		args = append(args, cutoff)
	case store.HostOK:
		w = append(w, "h.last_error = '' AND h.last_success_at IS NOT NULL AND h.last_success_at >= ?")
		args = append(args, cutoff)
	default:
		return "", nil, domain.Errorf(domain.EINVALID, "status: must be ok, failing, stale or never")
	}
	if f.Severity != "" {
		i := sevIndex(f.Severity)
		if i < 0 {
			return "", nil, domain.Errorf(domain.EINVALID, "severity: must be one of %s", strings.Join(vuln.Severities, ", "))
		}
		sevs := vuln.Severities[:i+1]
		w = append(w, `EXISTS (SELECT 1 FROM findings f WHERE f.host_id = h.id AND f.status = 'open' AND f.severity IN (`+
			placeholders(len(sevs))+`) AND `+unmarked+`)`)
		for _, s := range sevs {
			args = append(args, s)
		}
		args = append(args, ts(now))
	}
	return " WHERE " + strings.Join(w, " AND "), args, nil
}

// hostTableOrder returns the ORDER BY of a sort and the arguments its
// expressions take. Every order ends in the name and ID, so pages are
// stable.
func hostTableOrder(f store.HostTableFilter) (string, []any) {
	dir := " ASC"
	if f.Desc {
		dir = " DESC"
	}
	tail := ", lower(h.name), h.name, h.id"
	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	switch f.Sort {
	case store.SortStatus:
		return " ORDER BY " + statusRankExpr + dir + tail, []any{ts(now.Add(-f.StaleAfter))}
	case store.SortOS:
		return " ORDER BY (h.os_name = '')" + ", h.os_name" + dir + tail, nil
	case store.SortLastScan:
		// NULLs sort differently in the two databases: put them last.
		return " ORDER BY (h.last_scan_at IS NULL), h.last_scan_at" + dir + tail, nil
	case store.SortPackages:
		return " ORDER BY h.package_count" + dir + tail, nil
	case store.SortSeverity:
		// Worst first when ascending: rank 0 is critical.
		return " ORDER BY " + sevRankExpr + dir + tail, sevRankArgs(now)
	default:
		return " ORDER BY lower(h.name)" + dir + ", h.name" + dir + ", h.id" + dir, nil
	}
}

// HostTable implements store.Dashboard. It reads the page's IDs first and
// then ranks only those hosts, so a page sorted by name costs 50 rank
// computations, not one per host.
func (db *DB) HostTable(ctx context.Context, workspaceID int64, f store.HostTableFilter) ([]store.HostTableRow, int, error) {
	where, args, err := db.hostTableWhere(workspaceID, f)
	if err != nil {
		return nil, 0, err
	}
	order, orderArgs := hostTableOrder(f)
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	var total int
	var out []store.HostTableRow
	err = db.inTxOpts(ctx, &db.d.ReadTx, func(tx *sql.Tx) error {
		if err := db.queryRow(ctx, tx, `SELECT count(*) FROM hosts h`+where, args...).Scan(&total); err != nil {
			return err
		}
		pageArgs := append(append(append([]any{}, args...), orderArgs...), limit, max(f.Offset, 0))
		ids, err := db.idsTx(ctx, tx, `SELECT h.id FROM hosts h`+where+order+` LIMIT ? OFFSET ?`, pageArgs...)
		if err != nil || len(ids) == 0 {
			return err
		}
		q := `SELECT ` + prefixCols("h.", hostCols) + `, ` + sevRankExpr + `,
			(SELECT count(*) FROM findings f WHERE f.host_id = h.id AND f.status = 'open' AND ` + unmarked + `)
			FROM hosts h WHERE h.workspace_id = ? AND h.id IN (` + placeholders(len(ids)) + `)`
		qa := append(sevRankArgs(now), ts(now), workspaceID)
		for _, id := range ids {
			qa = append(qa, id)
		}
		rows, err := db.query(ctx, tx, q, qa...)
		byID := map[int64]store.HostTableRow{}
		_, err = collect(rows, err, func(s scanner) (*struct{}, error) {
			var rank, n int
			h, err := scanHost(scanFunc(func(dest ...any) error { return s.Scan(append(dest, &rank, &n)...) }))
			if err != nil {
				return nil, err
			}
			row := store.HostTableRow{Host: *h, Findings: n}
			if rank < len(vuln.Severities) {
				row.MaxSeverity = vuln.Severities[rank]
			}
			byID[h.ID] = row
			return &struct{}{}, nil
		})
		if err != nil {
			return err
		}
		out = make([]store.HostTableRow, 0, len(ids))
		for _, id := range ids {
			if r, ok := byID[id]; ok {
				out = append(out, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, wrap("host table", err)
	}
	return out, total, nil
}

// sevIndex is the position of a severity in vuln.Severities, or -1.
func sevIndex(s string) int {
	for i, v := range vuln.Severities {
		if v == s {
			return i
		}
	}
	return -1
}

// scanFunc adapts a function to the scanner interface.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// prefixCols qualifies a comma-separated column list with a table alias.
func prefixCols(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

func (db *DB) idsTx(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	rows, err := db.query(ctx, q, query, args...)
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

// HostFacets implements store.Dashboard.
func (db *DB) HostFacets(ctx context.Context, workspaceID int64) (*store.HostFacets, error) {
	fc := &store.HostFacets{}
	rows, err := db.query(ctx, db.pool,
		`SELECT os_id, os_version_id, max(os_name), count(*) FROM hosts
		 WHERE workspace_id = ? AND os_id <> '' GROUP BY os_id, os_version_id ORDER BY os_id, os_version_id`, workspaceID)
	osf, err := collect(rows, err, func(s scanner) (*store.OSFacet, error) {
		var o store.OSFacet
		return &o, s.Scan(&o.ID, &o.VersionID, &o.Name, &o.Hosts)
	})
	if err != nil {
		return nil, wrap("host facets", err)
	}
	fc.OS = osf
	rows, err = db.query(ctx, db.pool,
		`SELECT key, value, count(*) FROM host_labels WHERE workspace_id = ? GROUP BY key, value ORDER BY key, value LIMIT 500`, workspaceID)
	labels, err := collect(rows, err, func(s scanner) (*store.LabelFacet, error) {
		var l store.LabelFacet
		return &l, s.Scan(&l.Key, &l.Value, &l.Hosts)
	})
	if err != nil {
		return nil, wrap("host facets", err)
	}
	fc.Labels = labels
	if fc.Groups, err = db.ListGroups(ctx, workspaceID); err != nil {
		return nil, err
	}
	if fc.Agents, err = db.ListAgents(ctx, workspaceID); err != nil {
		return nil, err
	}
	return fc, nil
}

// agentOnlineWindow is how recently an agent must have pulled its config
// to count as online: a few of its polls (default 10 s), with room for a
// slow poll or a restart.
const agentOnlineWindow = 5 * time.Minute

// FleetCounts implements store.Dashboard: one pass over the workspace's
// hosts, states ranked as the hosts table ranks them.
func (db *DB) FleetCounts(ctx context.Context, workspaceID int64, now time.Time, staleAfter time.Duration) (*store.FleetCounts, error) {
	var c store.FleetCounts
	err := db.queryRow(ctx, db.pool,
		`SELECT count(*),
			COALESCE(sum(CASE WHEN r = 3 THEN 1 ELSE 0 END), 0),
			COALESCE(sum(CASE WHEN r = 0 THEN 1 ELSE 0 END), 0),
			COALESCE(sum(CASE WHEN r = 1 THEN 1 ELSE 0 END), 0),
			COALESCE(sum(CASE WHEN r = 2 THEN 1 ELSE 0 END), 0)
		 FROM (SELECT `+statusRankExpr+` AS r FROM hosts h WHERE h.workspace_id = ?) s`,
		ts(now.Add(-staleAfter)), workspaceID).Scan(&c.Hosts, &c.OK, &c.Failing, &c.Stale, &c.Never)
	if err != nil {
		return nil, wrap("fleet counts", err)
	}
	err = db.queryRow(ctx, db.pool,
		`SELECT count(*), COALESCE(sum(CASE WHEN last_seen_at >= ? THEN 1 ELSE 0 END), 0)
		 FROM agents WHERE workspace_id = ? AND revoked_at IS NULL`,
		ts(now.Add(-agentOnlineWindow)), workspaceID).Scan(&c.Agents, &c.AgentsOnline)
	if err != nil {
		return nil, wrap("fleet counts", err)
	}
	return &c, nil
}
