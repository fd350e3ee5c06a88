package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-project/vigil/internal/store"
)

// dayOf is the UTC day of t as the rollup table keys it.
func dayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// Risk weights: a finding's contribution to a host's or package's rank.
// KEV entries are exploited in the wild, so one outweighs two criticals.
const riskExpr = `(CASE f.severity WHEN 'critical' THEN 10 WHEN 'high' THEN 5 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END
	+ CASE WHEN k.cve IS NULL THEN 0 ELSE 20 END)`

// ComputeRollup implements store.Dashboard. It reads each of the
// workspace's open findings and check results once (grouped three ways);
// the caller decides how often that is worth it.
func (db *DB) ComputeRollup(ctx context.Context, workspaceID int64, now time.Time, staleAfter time.Duration) (*store.Rollup, error) {
	r := &store.Rollup{WorkspaceID: workspaceID, Day: dayOf(now), ComputedAt: ts(now)}
	fc, err := db.FleetCounts(ctx, workspaceID, now, staleAfter)
	if err != nil {
		return nil, err
	}
	r.Hosts, r.HostsFailing = fc.Hosts, fc.Failing
	if r.HostsScanned, err = db.HostsScannedOn(ctx, workspaceID, now); err != nil {
		return nil, err
	}
	err = db.inTxOpts(ctx, &db.d.ReadTx, func(tx *sql.Tx) error {
		if err := db.rollupFindings(ctx, tx, workspaceID, now, r); err != nil {
			return err
		}
		rows, err := db.query(ctx, tx, `SELECT status, count(*) FROM check_results WHERE workspace_id = ? GROUP BY status`, workspaceID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var st string
			var n int
			if err := rows.Scan(&st, &n); err != nil {
				return err
			}
			switch st {
			case "pass":
				r.ChecksPass = n
			case "fail":
				r.ChecksFail = n
			case "error":
				r.ChecksError = n
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("compute rollup", err)
	}
	return r, nil
}

func (db *DB) rollupFindings(ctx context.Context, tx *sql.Tx, workspaceID int64, now time.Time, r *store.Rollup) error {
	const cond = ` WHERE f.workspace_id = ? AND f.status = 'open' AND ` + unmarked
	open := ` FROM findings f LEFT JOIN kev k ON k.cve = f.vuln_id` + cond
	args := []any{workspaceID, ts(now)}
	rows, err := db.query(ctx, tx, `SELECT f.severity, count(*), sum(CASE WHEN k.cve IS NULL THEN 0 ELSE 1 END)`+open+` GROUP BY f.severity`, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var sev string
		var n, kev int
		if err := rows.Scan(&sev, &n, &kev); err != nil {
			rows.Close()
			return err
		}
		r.KEV += kev
		switch sev {
		case "critical":
			r.Critical = n
		case "high":
			r.High = n
		case "medium":
			r.Medium = n
		case "low":
			r.Low = n
		default:
			r.Unknown += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	sums := `sum(` + riskExpr + `) AS risk,
		sum(CASE WHEN f.severity = 'critical' THEN 1 ELSE 0 END), sum(CASE WHEN f.severity = 'high' THEN 1 ELSE 0 END),
		sum(CASE WHEN k.cve IS NULL THEN 0 ELSE 1 END), count(*)`
	rows, err = db.query(ctx, tx, `SELECT f.host_id, h.name, `+sums+
		` FROM findings f JOIN hosts h ON h.id = f.host_id LEFT JOIN kev k ON k.cve = f.vuln_id`+cond+
		` GROUP BY f.host_id, h.name ORDER BY risk DESC, h.name LIMIT 10`, args...)
	hosts, err := collect(rows, err, func(s scanner) (*store.RiskyHost, error) {
		var h store.RiskyHost
		return &h, s.Scan(&h.HostID, &h.Name, &h.Risk, &h.Critical, &h.High, &h.KEV, &h.Findings)
	})
	if err != nil {
		return err
	}
	rows, err = db.query(ctx, tx, `SELECT f.package, `+sums+`, count(DISTINCT f.host_id)`+open+
		` AND f.fixed <> '' GROUP BY f.package ORDER BY risk DESC, f.package LIMIT 10`, args...)
	pkgs, err := collect(rows, err, func(s scanner) (*store.PackageUpgrade, error) {
		var p store.PackageUpgrade
		var risk int
		return &p, s.Scan(&p.Package, &risk, &p.Critical, &p.High, &p.KEV, &p.Findings, &p.Hosts)
	})
	if err != nil {
		return err
	}
	r.Detail = store.RollupDetail{RiskyHosts: hosts, Upgrades: pkgs}
	return nil
}

// HostsScannedOn implements store.Dashboard. It goes through the hosts
// and each one's (host_id, started_at) index: snapshots have no index by
// workspace and time (see migration 00008).
func (db *DB) HostsScannedOn(ctx context.Context, workspaceID int64, t time.Time) (int, error) {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	var n int
	err := db.queryRow(ctx, db.pool,
		`SELECT count(*) FROM hosts h WHERE h.workspace_id = ? AND EXISTS (
			SELECT 1 FROM snapshots s WHERE s.host_id = h.id AND s.started_at >= ? AND s.started_at < ? AND s.status = 'ok')`,
		workspaceID, ts(day), ts(day.Add(24*time.Hour))).Scan(&n)
	return n, wrap("hosts scanned", err)
}

const rollupCols = `workspace_id, day, hosts, hosts_scanned, hosts_failing, critical, high, medium, low, unknown, kev,
	checks_pass, checks_fail, checks_error, detail, computed_at`

// SaveRollup implements store.Dashboard: the row of r's day is replaced.
func (db *DB) SaveRollup(ctx context.Context, r *store.Rollup) error {
	detail, err := json.Marshal(r.Detail)
	if err != nil {
		return fmt.Errorf("save rollup: %w", err)
	}
	_, err = db.exec(ctx, db.pool,
		`INSERT INTO daily_rollups (`+rollupCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (workspace_id, day) DO UPDATE SET hosts = excluded.hosts, hosts_scanned = excluded.hosts_scanned,
			hosts_failing = excluded.hosts_failing, critical = excluded.critical, high = excluded.high,
			medium = excluded.medium, low = excluded.low, unknown = excluded.unknown, kev = excluded.kev,
			checks_pass = excluded.checks_pass, checks_fail = excluded.checks_fail, checks_error = excluded.checks_error,
			detail = excluded.detail, computed_at = excluded.computed_at`,
		r.WorkspaceID, r.Day, r.Hosts, r.HostsScanned, r.HostsFailing, r.Critical, r.High, r.Medium, r.Low, r.Unknown, r.KEV,
		r.ChecksPass, r.ChecksFail, r.ChecksError, string(detail), ts(r.ComputedAt))
	err = db.missingRef(err, "not_found", "workspace %d not found", r.WorkspaceID)
	return wrap("save rollup", err)
}

// Rollups implements store.Dashboard.
func (db *DB) Rollups(ctx context.Context, workspaceID int64, since time.Time) ([]store.Rollup, error) {
	rows, err := db.query(ctx, db.pool,
		`SELECT `+rollupCols+` FROM daily_rollups WHERE workspace_id = ? AND day >= ? ORDER BY day`,
		workspaceID, dayOf(since))
	out, err := collect(rows, err, func(s scanner) (*store.Rollup, error) {
		var r store.Rollup
		var detail string
		if err := s.Scan(&r.WorkspaceID, &r.Day, &r.Hosts, &r.HostsScanned, &r.HostsFailing, &r.Critical, &r.High,
			&r.Medium, &r.Low, &r.Unknown, &r.KEV, &r.ChecksPass, &r.ChecksFail, &r.ChecksError, &detail,
			scanTime(&r.ComputedAt)); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(detail), &r.Detail); err != nil {
			return nil, fmt.Errorf("rollup %s detail: %w", r.Day, err)
		}
		return &r, nil
	})
	return out, wrap("rollups", err)
}
