package sqldb

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

const exceptionCols = `x.id, x.workspace_id, x.target, x.kind, x.vuln_id, x.package, x.check_id, x.scope, x.host_id, x.group_id,
	COALESCE(h.name, ''), COALESCE(g.name, ''), x.reason, x.created_by, x.created_at, x.updated_by, x.updated_at,
	x.expires_at, x.revoked_by, x.revoked_at, x.expired_at`

const exceptionFrom = ` FROM exceptions x LEFT JOIN hosts h ON h.id = x.host_id LEFT JOIN host_groups g ON g.id = x.group_id`

func scanException(s scanner) (*domain.Exception, error) {
	e := &domain.Exception{}
	err := s.Scan(&e.ID, &e.WorkspaceID, &e.Target, &e.Kind, &e.VulnID, &e.Package, &e.CheckID, &e.Scope,
		scanNullID(&e.HostID), scanNullID(&e.GroupID), &e.HostName, &e.GroupName, &e.Reason,
		&e.CreatedBy, scanTime(&e.CreatedAt), &e.UpdatedBy, scanTime(&e.UpdatedAt),
		scanNullTime(&e.ExpiresAt), &e.RevokedBy, scanNullTime(&e.RevokedAt), scanNullTime(&e.ExpiredAt))
	return e, err
}

func (db *DB) addExceptionEvent(ctx context.Context, q querier, e *domain.Exception, action, actor string, now time.Time) error {
	_, err := db.exec(ctx, q,
		`INSERT INTO exception_events (workspace_id, exception_id, action, actor, at, kind, reason, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.WorkspaceID, e.ID, action, actor, ts(now), e.Kind, e.Reason, nullTS(e.ExpiresAt))
	return err
}

// CreateException implements store.Exceptions.
func (db *DB) CreateException(ctx context.Context, e *domain.Exception, now time.Time) error {
	now = ts(now)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if e.HostID != nil {
			if err := db.hostInWorkspace(ctx, tx, e.WorkspaceID, *e.HostID); err != nil {
				if domain.ErrorCode(err) == domain.ENOTFOUND {
					return domain.Errorf(domain.EINVALID, "host_id: host %d is not in this workspace", *e.HostID)
				}
				return err
			}
		}
		if e.GroupID != nil {
			if _, err := db.GetGroupTx(ctx, tx, e.WorkspaceID, *e.GroupID); err != nil {
				if domain.ErrorCode(err) == domain.ENOTFOUND {
					return domain.Errorf(domain.EINVALID, "group_id: group %d is not in this workspace", *e.GroupID)
				}
				return err
			}
		}
		if e.UpdatedBy == "" {
			e.UpdatedBy = e.CreatedBy
		}
		err := db.queryRow(ctx, tx,
			`INSERT INTO exceptions (workspace_id, target, kind, vuln_id, package, check_id, scope, host_id, group_id, reason,
			   created_by, created_at, updated_by, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			e.WorkspaceID, e.Target, e.Kind, e.VulnID, e.Package, e.CheckID, e.Scope, nullID(e.HostID), nullID(e.GroupID), e.Reason,
			e.CreatedBy, now, e.UpdatedBy, now, nullTS(e.ExpiresAt)).Scan(&e.ID)
		if err != nil {
			return db.missingRef(err, domain.ENOTFOUND, "workspace %d not found", e.WorkspaceID)
		}
		e.CreatedAt, e.UpdatedAt = now, now
		return db.addExceptionEvent(ctx, tx, e, domain.ExceptionCreated, e.CreatedBy, now)
	})
	return wrap("create exception", err)
}

// UpdateException implements store.Exceptions.
func (db *DB) UpdateException(ctx context.Context, e *domain.Exception, actor string, now time.Time) error {
	now = ts(now)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var revoked *time.Time
		err := db.queryRow(ctx, tx, `SELECT revoked_at FROM exceptions WHERE id = ? AND workspace_id = ?`+db.d.ForUpdate,
			e.ID, e.WorkspaceID).Scan(scanNullTime(&revoked))
		if err != nil {
			return notFound(err, "exception %d not found", e.ID)
		}
		if revoked != nil {
			return domain.Errorf(domain.ECONFLICT, "exception %d was revoked and cannot change; create a new one", e.ID)
		}
		// A new expiry in the future (or none) revives a lapsed exception,
		// so its recorded lapse is cleared.
		if _, err := db.exec(ctx, tx,
			`UPDATE exceptions SET kind = ?, reason = ?, expires_at = ?, updated_by = ?, updated_at = ?,
			   expired_at = CASE WHEN ? THEN NULL ELSE expired_at END WHERE id = ? AND workspace_id = ?`,
			e.Kind, e.Reason, nullTS(e.ExpiresAt), actor, now, e.Active(now), e.ID, e.WorkspaceID); err != nil {
			return err
		}
		e.UpdatedBy, e.UpdatedAt = actor, now
		return db.addExceptionEvent(ctx, tx, e, domain.ExceptionUpdated, actor, now)
	})
	return wrap("update exception", err)
}

// RevokeException implements store.Exceptions.
func (db *DB) RevokeException(ctx context.Context, workspaceID, id int64, actor string, now time.Time) error {
	now = ts(now)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		e, err := scanException(db.queryRow(ctx, tx, `SELECT `+exceptionCols+exceptionFrom+` WHERE x.id = ? AND x.workspace_id = ?`, id, workspaceID))
		if err != nil {
			return notFound(err, "exception %d not found", id)
		}
		if e.RevokedAt != nil {
			return domain.Errorf(domain.ECONFLICT, "exception %d is already revoked", id)
		}
		if _, err := db.exec(ctx, tx, `UPDATE exceptions SET revoked_at = ?, revoked_by = ? WHERE id = ?`, now, actor, id); err != nil {
			return err
		}
		return db.addExceptionEvent(ctx, tx, e, domain.ExceptionRevokedEvent, actor, now)
	})
	return wrap("revoke exception", err)
}

// GetException implements store.Exceptions.
func (db *DB) GetException(ctx context.Context, workspaceID, id int64) (*domain.Exception, error) {
	e, err := scanException(db.queryRow(ctx, db.pool, `SELECT `+exceptionCols+exceptionFrom+` WHERE x.id = ? AND x.workspace_id = ?`, id, workspaceID))
	if err != nil {
		return nil, wrap("get exception", notFound(err, "exception %d not found", id))
	}
	e.State = e.StateAt(time.Now())
	return e, nil
}

// ListExceptions implements store.Exceptions.
func (db *DB) ListExceptions(ctx context.Context, workspaceID int64, f store.ExceptionFilter) ([]domain.Exception, error) {
	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	w := []string{"x.workspace_id = ?"}
	args := []any{workspaceID}
	switch f.State {
	case "":
	case domain.ExceptionActive:
		w = append(w, "x.revoked_at IS NULL AND (x.expires_at IS NULL OR x.expires_at > ?)")
		args = append(args, ts(now))
	case domain.ExceptionExpired:
		w = append(w, "x.revoked_at IS NULL AND x.expires_at IS NOT NULL AND x.expires_at <= ?")
		args = append(args, ts(now))
	case domain.ExceptionRevoked:
		w = append(w, "x.revoked_at IS NOT NULL")
	default:
		return nil, domain.Errorf(domain.EINVALID, "state: must be active, expired or revoked")
	}
	if f.Target != "" {
		w = append(w, "x.target = ?")
		args = append(args, f.Target)
	}
	if f.VulnID != "" {
		w = append(w, "x.vuln_id = ?")
		args = append(args, f.VulnID)
	}
	if f.CheckID != "" {
		w = append(w, "x.check_id = ?")
		args = append(args, f.CheckID)
	}
	if f.HostID != 0 {
		w = append(w, "x.host_id = ?")
		args = append(args, f.HostID)
	}
	q := `SELECT ` + exceptionCols + exceptionFrom + ` WHERE ` + strings.Join(w, " AND ") + ` ORDER BY x.id DESC` + db.limit(f.Limit, 0)
	rows, err := db.query(ctx, db.pool, q, args...)
	out, err := collect(rows, err, scanException)
	for i := range out {
		out[i].State = out[i].StateAt(now)
	}
	return out, wrap("list exceptions", err)
}

// ExceptionHistory implements store.Exceptions.
func (db *DB) ExceptionHistory(ctx context.Context, workspaceID, exceptionID int64, limit int) ([]domain.ExceptionEvent, error) {
	q := `SELECT id, exception_id, action, actor, at, kind, reason, expires_at FROM exception_events WHERE workspace_id = ?`
	args := []any{workspaceID}
	if exceptionID != 0 {
		q += ` AND exception_id = ?`
		args = append(args, exceptionID)
	}
	rows, err := db.query(ctx, db.pool, q+` ORDER BY at DESC, id DESC`+db.limit(limit, 0), args...)
	out, err := collect(rows, err, func(s scanner) (*domain.ExceptionEvent, error) {
		ev := &domain.ExceptionEvent{}
		return ev, s.Scan(&ev.ID, &ev.ExceptionID, &ev.Action, &ev.Actor, scanTime(&ev.At), &ev.Kind, &ev.Reason, scanNullTime(&ev.ExpiresAt))
	})
	return out, wrap("exception history", err)
}

// ExpireExceptions implements store.Exceptions.
func (db *DB) ExpireExceptions(ctx context.Context, now time.Time) ([]domain.Exception, error) {
	now = ts(now)
	var out []domain.Exception
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := db.query(ctx, tx, `SELECT `+exceptionCols+exceptionFrom+`
			WHERE x.revoked_at IS NULL AND x.expired_at IS NULL AND x.expires_at IS NOT NULL AND x.expires_at <= ? ORDER BY x.id`, now)
		if out, err = collect(rows, err, scanException); err != nil {
			return err
		}
		for i := range out {
			e := &out[i]
			if _, err := db.exec(ctx, tx, `UPDATE exceptions SET expired_at = ? WHERE id = ?`, now, e.ID); err != nil {
				return err
			}
			if err := db.addExceptionEvent(ctx, tx, e, domain.ExceptionReopened, "system", now); err != nil {
				return err
			}
			e.ExpiredAt = &now
			e.State = domain.ExceptionExpired
		}
		return nil
	})
	return out, wrap("expire exceptions", err)
}

// ApplyExceptions implements store.Exceptions. The choice is made in Go
// by domain.PickException, so that the SQL stays the shared subset and the
// rule has one home; the reads are bounded to rows an exception can touch:
// those naming an exception's subject, and those that carry one now.
func (db *DB) ApplyExceptions(ctx context.Context, workspaceID, hostID int64, now time.Time) (int, error) {
	now = ts(now)
	// Most workspaces never make an exception: answer them with one read,
	// not a write transaction (on SQLite, BEGIN IMMEDIATE waits for the one
	// writer, which ingest needs). An exception created meanwhile is applied
	// to the whole workspace by its own creation, and exceptions are revoked,
	// never deleted, so one seen here is still there in the transaction.
	var made int
	if err := db.queryRow(ctx, db.pool, `SELECT count(*) FROM (SELECT 1 FROM exceptions WHERE workspace_id = ? LIMIT 1) x`, workspaceID).Scan(&made); err != nil {
		return 0, wrap("apply exceptions", err)
	}
	if made == 0 {
		return 0, nil
	}
	changed := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := db.query(ctx, tx, `SELECT `+exceptionCols+exceptionFrom+` WHERE x.workspace_id = ? AND x.revoked_at IS NULL`, workspaceID)
		all, err := collect(rows, err, scanException)
		if err != nil {
			return err
		}
		var active []domain.Exception
		vulns, checks := map[string]bool{}, map[string]bool{}
		needGroups := false
		for _, e := range all {
			if !e.Active(now) {
				continue
			}
			active = append(active, e)
			vulns[e.VulnID] = e.Target == domain.ExceptionFinding || vulns[e.VulnID]
			checks[e.CheckID] = e.Target == domain.ExceptionCheck || checks[e.CheckID]
			needGroups = needGroups || e.Scope == domain.ScopeGroup
		}
		groups := map[int64]map[int64]bool{}
		if needGroups {
			q, args := `SELECT host_id, group_id FROM group_members WHERE workspace_id = ?`, []any{workspaceID}
			if hostID != 0 {
				q, args = q+` AND host_id = ?`, append(args, hostID)
			}
			rows, err := db.query(ctx, tx, q, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var h, g int64
				if err := rows.Scan(&h, &g); err != nil {
					rows.Close()
					return err
				}
				if groups[h] == nil {
					groups[h] = map[int64]bool{}
				}
				groups[h][g] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		n, err := db.applyToFindings(ctx, tx, workspaceID, hostID, active, keys(vulns), groups, now)
		if err != nil {
			return err
		}
		m, err := db.applyToResults(ctx, tx, workspaceID, hostID, active, keys(checks), groups, now)
		changed = n + m
		return err
	})
	return changed, wrap("apply exceptions", err)
}

func keys(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	return out
}

// subjectFilter restricts a scan to rows carrying an exception or naming
// one of the subjects, chunked well inside parameter limits.
func subjectFilter(col string, names []string) (string, []any) {
	if len(names) == 0 || len(names) > 500 {
		// Over 500 active subjects: read the rows that carry nothing too,
		// rather than build a statement the databases may refuse.
		if len(names) > 500 {
			return "", nil
		}
		return ` AND exception_id IS NOT NULL`, nil
	}
	args := make([]any, len(names))
	for i, n := range names {
		args[i] = n
	}
	return ` AND (exception_id IS NOT NULL OR ` + col + ` IN (` + placeholders(len(names)) + `))`, args
}

func (db *DB) applyToFindings(ctx context.Context, tx *sql.Tx, workspaceID, hostID int64, active []domain.Exception,
	vulns []string, groups map[int64]map[int64]bool, now time.Time) (int, error) {
	q, args := `SELECT id, host_id, vuln_id, package, mark, mark_reason, mark_by, mark_expires_at, exception_id FROM findings WHERE workspace_id = ?`, []any{workspaceID}
	if hostID != 0 {
		q, args = q+` AND host_id = ?`, append(args, hostID)
	}
	extra, more := subjectFilter("vuln_id", vulns)
	rows, err := db.query(ctx, tx, q+extra, append(args, more...)...)
	if err != nil {
		return 0, err
	}
	type row struct {
		id, host                      int64
		vulnID, pkg, mark, reason, by string
		expires                       *time.Time
		exc                           *int64
	}
	var rs []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.host, &r.vulnID, &r.pkg, &r.mark, &r.reason, &r.by, scanNullTime(&r.expires), scanNullID(&r.exc)); err != nil {
			rows.Close()
			return 0, err
		}
		rs = append(rs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rs {
		if r.exc == nil && r.mark != "" {
			continue // marked by hand on the finding itself: that decision stands
		}
		e := domain.PickException(active, domain.Subject{HostID: r.host, Groups: groups[r.host], VulnID: r.vulnID, Package: r.pkg}, now)
		switch {
		case e == nil && r.exc == nil:
			continue
		case e == nil:
			_, err = db.exec(ctx, tx, `UPDATE findings SET mark = '', mark_reason = '', mark_by = '', mark_at = NULL, mark_expires_at = NULL,
				exception_id = NULL WHERE id = ?`, r.id)
		case r.exc != nil && *r.exc == e.ID && r.mark == e.Kind && r.reason == e.Reason && r.by == e.UpdatedBy && sameTime(r.expires, e.ExpiresAt):
			continue
		default:
			_, err = db.exec(ctx, tx, `UPDATE findings SET mark = ?, mark_reason = ?, mark_by = ?, mark_at = ?, mark_expires_at = ?,
				exception_id = ? WHERE id = ?`, e.Kind, e.Reason, e.UpdatedBy, ts(e.UpdatedAt), nullTS(e.ExpiresAt), e.ID, r.id)
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (db *DB) applyToResults(ctx context.Context, tx *sql.Tx, workspaceID, hostID int64, active []domain.Exception,
	checks []string, groups map[int64]map[int64]bool, now time.Time) (int, error) {
	q, args := `SELECT host_id, check_id, exception_id, exception_kind, exception_expires_at FROM check_results WHERE workspace_id = ?`, []any{workspaceID}
	if hostID != 0 {
		q, args = q+` AND host_id = ?`, append(args, hostID)
	}
	extra, more := subjectFilter("check_id", checks)
	rows, err := db.query(ctx, tx, q+extra, append(args, more...)...)
	if err != nil {
		return 0, err
	}
	type row struct {
		host          int64
		checkID, kind string
		exc           *int64
		expires       *time.Time
	}
	var rs []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.host, &r.checkID, scanNullID(&r.exc), &r.kind, scanNullTime(&r.expires)); err != nil {
			rows.Close()
			return 0, err
		}
		rs = append(rs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rs {
		e := domain.PickException(active, domain.Subject{HostID: r.host, Groups: groups[r.host], CheckID: r.checkID}, now)
		switch {
		case e == nil && r.exc == nil:
			continue
		case e == nil:
			_, err = db.exec(ctx, tx, `UPDATE check_results SET exception_id = NULL, exception_kind = '', exception_expires_at = NULL
				WHERE host_id = ? AND check_id = ?`, r.host, r.checkID)
		case r.exc != nil && *r.exc == e.ID && r.kind == e.Kind && sameTime(r.expires, e.ExpiresAt):
			continue
		default:
			_, err = db.exec(ctx, tx, `UPDATE check_results SET exception_id = ?, exception_kind = ?, exception_expires_at = ?
				WHERE host_id = ? AND check_id = ?`, e.ID, e.Kind, nullTS(e.ExpiresAt), r.host, r.checkID)
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return ts(*a).Equal(ts(*b))
}
