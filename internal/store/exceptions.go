package store

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
)

// Exceptions stores risk exceptions and their history, and materialises the
// governing exception onto findings (as their mark) and check results.
// Every method but ExpireExceptions is scoped by workspace.
type Exceptions interface {
	// CreateException stores e (ID, CreatedAt, UpdatedAt set) and its
	// "created" event. A host or group scope must name one of the
	// workspace's hosts or groups (EINVALID otherwise).
	CreateException(ctx context.Context, e *domain.Exception, now time.Time) error
	// UpdateException saves e's kind, reason and expiry, records an
	// "updated" event by actor, and clears a recorded expiry. A revoked
	// exception cannot change (ECONFLICT).
	UpdateException(ctx context.Context, e *domain.Exception, actor string, now time.Time) error
	// RevokeException ends an exception and records a "revoked" event;
	// revoking twice is ECONFLICT.
	RevokeException(ctx context.Context, workspaceID, id int64, actor string, now time.Time) error
	GetException(ctx context.Context, workspaceID, id int64) (*domain.Exception, error)
	// ListExceptions returns exceptions, newest first, with State at f.Now.
	ListExceptions(ctx context.Context, workspaceID int64, f ExceptionFilter) ([]domain.Exception, error)
	// ExceptionHistory returns events newest first; exceptionID 0 means
	// the whole workspace.
	ExceptionHistory(ctx context.Context, workspaceID, exceptionID int64, limit int) ([]domain.ExceptionEvent, error)
	// ApplyExceptions makes the materialised exception of every finding
	// and check result of the host (hostID 0: of the workspace) the one
	// domain.PickException chooses at now. A finding's own mark set by
	// hand (no exception behind it) is left alone. It returns how many
	// rows changed.
	ApplyExceptions(ctx context.Context, workspaceID, hostID int64, now time.Time) (int, error)
	// ExpireExceptions records the lapse of every exception, in any
	// workspace, whose expiry is at or before now and not yet recorded:
	// sets ExpiredAt, adds a "reopened_at_expiry" event by "system", and
	// returns them so the caller re-applies their workspaces.
	ExpireExceptions(ctx context.Context, now time.Time) ([]domain.Exception, error)
}

// ExceptionFilter narrows ListExceptions; zero values match everything.
type ExceptionFilter struct {
	Target  string
	State   string // active, expired, revoked
	VulnID  string
	CheckID string
	HostID  int64 // exceptions scoped to this host
	Now     time.Time
	Limit   int
}
