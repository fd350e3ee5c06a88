package sqldb

import (
	"context"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// The audit log.

func (db *DB) AppendAudit(ctx context.Context, e *domain.AuditEntry) error {
	e.At = orNow(e.At)
	detail := string(e.Detail)
	if detail == "" {
		detail = "{}"
	}
	err := db.queryRow(ctx, db.pool,
		`INSERT INTO audit_log (workspace_id, at, user_id, agent_id, actor, action, subject_type, subject_id, detail, remote_ip, user_agent)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.WorkspaceID, e.At, nullID(e.UserID), nullID(e.AgentID), e.Actor, e.Action, e.SubjectType, e.SubjectID,
		detail, e.RemoteIP, e.UserAgent).Scan(&e.ID)
	err = db.missingRef(err, domain.ENOTFOUND, "workspace %d not found", e.WorkspaceID)
	return wrap("append audit", err)
}

func (db *DB) ListAudit(ctx context.Context, workspaceID int64, f store.AuditFilter) ([]domain.AuditEntry, int, error) {
	where := []string{"workspace_id = ?"}
	args := []any{workspaceID}
	if f.Actor != "" {
		where = append(where, "actor = ?")
		args = append(args, f.Actor)
	}
	switch {
	case strings.Contains(f.Action, "."):
		where = append(where, "action = ?")
		args = append(args, f.Action)
	case f.Action != "":
		// A prefix as a range (bytewise: '/' follows '.'), which the
		// indexes serve and which needs no LIKE escaping.
		where = append(where, "action >= ? AND action < ?")
		args = append(args, f.Action+".", f.Action+"/")
	}
	if f.SubjectType != "" {
		where = append(where, "subject_type = ?")
		args = append(args, f.SubjectType)
	}
	if f.SubjectID != 0 {
		where = append(where, "subject_id = ?")
		args = append(args, f.SubjectID)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := db.queryRow(ctx, db.pool, `SELECT count(*) FROM audit_log WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, wrap("count audit", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	rows, err := db.query(ctx, db.pool,
		`SELECT id, workspace_id, at, user_id, agent_id, actor, action, subject_type, subject_id, detail, remote_ip, user_agent
		 FROM audit_log WHERE `+cond+` ORDER BY id DESC LIMIT ? OFFSET ?`,
		append(args, limit, max(f.Offset, 0))...)
	out, err := collect(rows, err, func(s scanner) (*domain.AuditEntry, error) {
		var e domain.AuditEntry
		var detail string
		err := s.Scan(&e.ID, &e.WorkspaceID, scanTime(&e.At), scanNullID(&e.UserID), scanNullID(&e.AgentID),
			&e.Actor, &e.Action, &e.SubjectType, &e.SubjectID, &detail, &e.RemoteIP, &e.UserAgent)
		e.Detail = []byte(detail)
		return &e, err
	})
	return out, total, wrap("list audit", err)
}

var (
	_ store.Accounts = (*DB)(nil)
	_ store.Audit    = (*DB)(nil)
)
