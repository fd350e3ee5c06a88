package store

import (
	"context"

	"github.com/vigil-project/vigil/internal/domain"
)

// Audit keeps the audit log: append-only, read per workspace.
type Audit interface {
	AppendAudit(ctx context.Context, e *domain.AuditEntry) error
	// ListAudit returns a page of a workspace's entries, newest first, and
	// how many match the filter in all.
	ListAudit(ctx context.Context, workspaceID int64, f AuditFilter) ([]domain.AuditEntry, int, error)
}

// AuditFilter narrows ListAudit; zero fields match everything.
type AuditFilter struct {
	Actor       string // login or "agent:<name>", exact
	Action      string // with a dot exact ("host.create"), else the part before the dot ("host")
	SubjectType string
	SubjectID   int64
	Limit       int // 0: 50
	Offset      int
}
