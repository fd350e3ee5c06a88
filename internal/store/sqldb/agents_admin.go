package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

func agentNotFound(id int64) error { return domain.Errorf(domain.ENOTFOUND, "agent %d not found", id) }

// SetAgentRunNow implements store.Dashboard.
func (db *DB) SetAgentRunNow(ctx context.Context, workspaceID, agentID int64, runID string, now time.Time) error {
	err := db.execOne(ctx, db.pool, agentNotFound(agentID),
		`UPDATE agents SET run_now_id = ?, run_now_at = ? WHERE id = ? AND workspace_id = ?`,
		runID, ts(now), agentID, workspaceID)
	return wrap("set agent run now", err)
}

// RevokeAgent implements store.Dashboard. Revoking twice keeps the first
// time.
func (db *DB) RevokeAgent(ctx context.Context, workspaceID, agentID int64, now time.Time) error {
	err := db.execOne(ctx, db.pool, agentNotFound(agentID),
		`UPDATE agents SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND workspace_id = ?`,
		ts(now), agentID, workspaceID)
	return wrap("revoke agent", err)
}

// RotateAgentKey implements store.Dashboard. A revoked agent stays
// revoked: rotation is for a key that may have leaked, not a way back.
func (db *DB) RotateAgentKey(ctx context.Context, workspaceID, agentID int64, prefix string, hash []byte) error {
	var revoked *time.Time
	err := db.queryRow(ctx, db.pool, `SELECT revoked_at FROM agents WHERE id = ? AND workspace_id = ?`, agentID, workspaceID).
		Scan(scanNullTime(&revoked))
	if err != nil {
		return wrap("rotate agent key", notFound(err, "agent %d not found", agentID))
	}
	if revoked != nil {
		return domain.Errorf(domain.ECONFLICT, "agent %d is revoked: create a new agent instead", agentID)
	}
	err = db.execOne(ctx, db.pool, agentNotFound(agentID),
		`UPDATE agents SET key_prefix = ?, key_hash = ? WHERE id = ? AND workspace_id = ? AND revoked_at IS NULL`,
		prefix, hash, agentID, workspaceID)
	return wrap("rotate agent key", db.conflict(err, "agent key already exists"))
}

// SaveAgentRun implements store.Dashboard.
func (db *DB) SaveAgentRun(ctx context.Context, workspaceID, agentID int64, run domain.AgentRun) error {
	err := db.execOne(ctx, db.pool, agentNotFound(agentID),
		`UPDATE agents SET last_run_id = ?, last_run_started_at = ?, last_run_duration_ms = ?, last_run_hosts = ?,
			last_run_failed = ?, last_run_error = ? WHERE id = ? AND workspace_id = ?`,
		run.ID, ts(run.StartedAt), run.Duration.Milliseconds(), run.Hosts, run.Failed, run.Error, agentID, workspaceID)
	return wrap("save agent run", err)
}

// AgentState implements store.Dashboard.
func (db *DB) AgentState(ctx context.Context, workspaceID, agentID int64) (*domain.AgentState, error) {
	var st domain.AgentState
	var run domain.AgentRun
	var started *time.Time
	var ms int64
	err := db.queryRow(ctx, db.pool,
		`SELECT run_now_id, run_now_at, last_run_id, last_run_started_at, last_run_duration_ms, last_run_hosts,
			last_run_failed, last_run_error FROM agents WHERE id = ? AND workspace_id = ?`, agentID, workspaceID).
		Scan(&st.RunNowID, scanNullTime(&st.RunNowAt), &run.ID, scanNullTime(&started), &ms, &run.Hosts, &run.Failed, &run.Error)
	if err != nil {
		return nil, wrap("agent state", notFound(err, "agent %d not found", agentID))
	}
	if started != nil {
		run.StartedAt, run.Duration = *started, time.Duration(ms)*time.Millisecond
		st.LastRun = &run
	}
	return &st, nil
}

// GetRetention implements store.Dashboard.
func (db *DB) GetRetention(ctx context.Context, workspaceID int64) (domain.Retention, error) {
	var r domain.Retention
	err := db.queryRow(ctx, db.pool, `SELECT retain_snapshot_days, retain_history_days FROM workspaces WHERE id = ?`, workspaceID).
		Scan(&r.SnapshotDays, &r.HistoryDays)
	return r, wrap("get retention", notFound(err, "workspace %d not found", workspaceID))
}

// SetRetention implements store.Dashboard.
func (db *DB) SetRetention(ctx context.Context, workspaceID int64, r domain.Retention) error {
	if err := r.Validate(); err != nil {
		return err
	}
	err := db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "workspace %d not found", workspaceID),
		`UPDATE workspaces SET retain_snapshot_days = ?, retain_history_days = ? WHERE id = ?`,
		r.SnapshotDays, r.HistoryDays, workspaceID)
	return wrap("set retention", err)
}

// SweepRetention implements store.Dashboard. A host's newest successful
// snapshot is kept however old, because the host page and the group
// expressions read the inventory from it; the current check result of a
// check is in check_results, so old history rows can go.
func (db *DB) SweepRetention(ctx context.Context, workspaceID int64, snapshotsBefore, historyBefore time.Time) (store.RetentionResult, error) {
	var res store.RetentionResult
	if !snapshotsBefore.IsZero() {
		// By host, through the (host_id, started_at) index.
		r, err := db.exec(ctx, db.pool,
			`DELETE FROM snapshots WHERE host_id IN (SELECT id FROM hosts WHERE workspace_id = ?) AND started_at < ?
			   AND id NOT IN (SELECT (SELECT s2.id FROM snapshots s2 WHERE s2.host_id = h.id
			                          AND s2.status = 'ok' ORDER BY s2.started_at DESC, s2.id DESC LIMIT 1)
			                  FROM hosts h WHERE h.workspace_id = ? AND h.last_success_at IS NOT NULL)`,
			workspaceID, ts(snapshotsBefore), workspaceID)
		if err != nil {
			return res, wrap("sweep snapshots", err)
		}
		res.Snapshots, _ = r.RowsAffected()
	}
	if !historyBefore.IsZero() {
		r, err := db.exec(ctx, db.pool, `DELETE FROM check_history WHERE workspace_id = ? AND at < ?`, workspaceID, ts(historyBefore))
		if err != nil {
			return res, wrap("sweep check history", err)
		}
		res.History, _ = r.RowsAffected()
	}
	return res, nil
}

// SaveFilter implements store.Dashboard: a filter of the same name is
// replaced.
func (db *DB) SaveFilter(ctx context.Context, f *domain.SavedFilter) error {
	f.CreatedAt = orNow(f.CreatedAt)
	err := db.queryRow(ctx, db.pool,
		`INSERT INTO saved_filters (workspace_id, name, query, created_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (workspace_id, name) DO UPDATE SET query = excluded.query RETURNING id`,
		f.WorkspaceID, f.Name, f.Query, f.CreatedAt).Scan(&f.ID)
	err = db.missingRef(err, domain.ENOTFOUND, "workspace %d not found", f.WorkspaceID)
	return wrap("save filter", err)
}

// ListFilters implements store.Dashboard.
func (db *DB) ListFilters(ctx context.Context, workspaceID int64) ([]domain.SavedFilter, error) {
	rows, err := db.query(ctx, db.pool,
		`SELECT id, workspace_id, name, query, created_at FROM saved_filters WHERE workspace_id = ? ORDER BY lower(name), name, id`, workspaceID)
	out, err := collect(rows, err, func(s scanner) (*domain.SavedFilter, error) {
		var f domain.SavedFilter
		return &f, s.Scan(&f.ID, &f.WorkspaceID, &f.Name, &f.Query, scanTime(&f.CreatedAt))
	})
	return out, wrap("list filters", err)
}

// DeleteFilter implements store.Dashboard.
func (db *DB) DeleteFilter(ctx context.Context, workspaceID, id int64) error {
	err := db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "saved filter %d not found", id),
		`DELETE FROM saved_filters WHERE id = ? AND workspace_id = ?`, id, workspaceID)
	return wrap("delete filter", err)
}

// WorkspaceIDs implements store.Dashboard.
func (db *DB) WorkspaceIDs(ctx context.Context) ([]int64, error) {
	ids, err := db.idsTx(ctx, db.pool, `SELECT id FROM workspaces ORDER BY id`)
	return ids, wrap("workspace ids", err)
}

// AddStaticMembers implements store.Dashboard.
func (db *DB) AddStaticMembers(ctx context.Context, workspaceID, groupID int64, hostIDs []int64) (int, error) {
	var added int
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := db.queryRow(ctx, tx, `SELECT 1 FROM host_groups WHERE id = ? AND workspace_id = ?`, groupID, workspaceID).Scan(&one); err != nil {
			return notFound(err, "group %d not found", groupID)
		}
		for len(hostIDs) > 0 {
			n := min(len(hostIDs), 500)
			args := []any{groupID, workspaceID}
			for _, id := range hostIDs[:n] {
				args = append(args, id)
			}
			hostIDs = hostIDs[n:]
			res, err := db.exec(ctx, tx,
				`INSERT INTO group_members (workspace_id, group_id, host_id, static)
				 SELECT h.workspace_id, ?, h.id, TRUE FROM hosts h WHERE h.workspace_id = ? AND h.id IN (`+placeholders(n)+`)
				 ON CONFLICT DO NOTHING`, args...)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			added += int(k)
		}
		return nil
	})
	return added, wrap("add static members", err)
}

// Optimize implements store.Dashboard. On SQLite it runs a sampled ANALYZE
// (analysis_limit bounds the rows read per index: 0.1 s at 10,000 hosts);
// PostgreSQL's autovacuum keeps its statistics itself.
func (db *DB) Optimize(ctx context.Context) error {
	if db.d.Name != "sqlite" {
		return nil
	}
	if _, err := db.pool.ExecContext(ctx, `PRAGMA analysis_limit = 1000`); err != nil {
		return wrap("optimize", err)
	}
	_, err := db.pool.ExecContext(ctx, `ANALYZE`)
	return wrap("optimize", err)
}

// AgentConfigStamp implements store.Dashboard: one row from three indexed
// aggregates. Host key pins (at ingest) and group or check changes do not
// move it; those reach the agent when the cache expires.
func (db *DB) AgentConfigStamp(ctx context.Context, workspaceID, agentID int64) (string, error) {
	var hosts int
	var hostsAt, credsAt *time.Time
	var interval int64
	var anchor string
	err := db.queryRow(ctx, db.pool,
		`SELECT (SELECT count(*) FROM hosts WHERE agent_id = ? AND workspace_id = ?),
			(SELECT max(updated_at) FROM hosts WHERE agent_id = ? AND workspace_id = ?),
			(SELECT max(updated_at) FROM credentials WHERE workspace_id = ?),
			w.schedule_interval_seconds, w.schedule_anchor
		 FROM workspaces w WHERE w.id = ?`,
		agentID, workspaceID, agentID, workspaceID, workspaceID, workspaceID).
		Scan(&hosts, scanNullTime(&hostsAt), scanNullTime(&credsAt), &interval, &anchor)
	if err != nil {
		return "", wrap("agent config stamp", notFound(err, "workspace %d not found", workspaceID))
	}
	stamp := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%d|%s|%s|%d|%s", hosts, stamp(hostsAt), stamp(credsAt), interval, anchor), nil
}
