package service

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// How exceptions take effect.
//
// An exception is materialised onto what it covers rather than consulted at
// read time: the governing exception of each finding is written into the
// finding's mark columns (plus exception_id), and that of each check result
// into its exception columns. Every query, count and page that already
// honours finding marks — the vulnerability lists, severity counts, the
// KEV/SLA alert rules, CSV exports, compliance facts — then honours
// exceptions with no change and no extra join, and a mark's expiry (which
// MarkActive and the SQL filters already respect) is the exception's
// expiry, so a lapse takes effect at the instant it is due. The price is
// keeping the copies current, which is done at the three moments they can
// go stale: when an exception is created, changed or revoked (the
// workspace), when matching opens findings or evaluation stores results (the
// host), and when the expiry sweep records a lapse (the workspace, so that a
// broader exception can take over).
//
// Extending MarkActive instead would have needed every SQL filter on marks
// to learn the exceptions table (scope by host, group or all; package or
// any), in both dialects.

// CreateException records an exception and applies it to the workspace.
func (s *Service) CreateException(ctx context.Context, a Actor, in domain.ExceptionInput) (*domain.Exception, error) {
	if err := a.Require(domain.PermExceptions); err != nil {
		return nil, err
	}
	now := s.Now()
	e, err := in.Validate(now)
	if err != nil {
		return nil, err
	}
	e.WorkspaceID, e.CreatedBy, e.UpdatedBy = a.WorkspaceID, a.Login, a.Login
	if err := s.Store.CreateException(ctx, e, now); err != nil {
		return nil, err
	}
	s.Log.Info("exception created", "workspace_id", a.WorkspaceID, "exception_id", e.ID, "target", e.Target,
		"kind", e.Kind, "scope", e.Scope, "by", a.Login)
	s.Audit(ctx, a, "exception.create", "exception", e.ID, exceptionDetail(e))
	s.applyExceptions(ctx, a.WorkspaceID, 0)
	s.realert(ctx, e)
	return s.Store.GetException(ctx, a.WorkspaceID, e.ID)
}

// UpdateException changes an exception's kind, reason or expiry.
func (s *Service) UpdateException(ctx context.Context, a Actor, id int64, in domain.ExceptionInput) (*domain.Exception, error) {
	if err := a.Require(domain.PermExceptions); err != nil {
		return nil, err
	}
	e, err := s.Store.GetException(ctx, a.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	if e.RevokedAt != nil {
		return nil, domain.Errorf(domain.ECONFLICT, "exception %d was revoked and cannot change; create a new one", id)
	}
	now := s.Now()
	if err := in.ApplyUpdate(e, now); err != nil {
		return nil, err
	}
	if err := s.Store.UpdateException(ctx, e, a.Login, now); err != nil {
		return nil, err
	}
	s.Log.Info("exception updated", "workspace_id", a.WorkspaceID, "exception_id", id, "kind", e.Kind, "by", a.Login)
	s.Audit(ctx, a, "exception.update", "exception", id, exceptionDetail(e))
	s.applyExceptions(ctx, a.WorkspaceID, 0)
	s.realert(ctx, e)
	return s.Store.GetException(ctx, a.WorkspaceID, id)
}

// RevokeException ends an exception: what it covered is open again, unless
// another exception covers it.
func (s *Service) RevokeException(ctx context.Context, a Actor, id int64) (*domain.Exception, error) {
	if err := a.Require(domain.PermExceptions); err != nil {
		return nil, err
	}
	if err := s.Store.RevokeException(ctx, a.WorkspaceID, id, a.Login, s.Now()); err != nil {
		return nil, err
	}
	s.Log.Info("exception revoked", "workspace_id", a.WorkspaceID, "exception_id", id, "by", a.Login)
	s.Audit(ctx, a, "exception.revoke", "exception", id, nil)
	s.applyExceptions(ctx, a.WorkspaceID, 0)
	e, err := s.Store.GetException(ctx, a.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	s.realert(ctx, e)
	return e, nil
}

// ListExceptions lists the workspace's exceptions with their state now.
func (s *Service) ListExceptions(ctx context.Context, a Actor, f store.ExceptionFilter) ([]domain.Exception, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	f.Now = s.Now()
	list, err := s.Store.ListExceptions(ctx, a.WorkspaceID, f)
	if err != nil {
		return nil, err
	}
	return list, nil
}

// GetException returns one exception with its history, newest first.
func (s *Service) GetException(ctx context.Context, a Actor, id int64) (*domain.Exception, []domain.ExceptionEvent, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, nil, err
	}
	e, err := s.Store.GetException(ctx, a.WorkspaceID, id)
	if err != nil {
		return nil, nil, err
	}
	e.State = e.StateAt(s.Now())
	h, err := s.Store.ExceptionHistory(ctx, a.WorkspaceID, id, 0)
	return e, h, err
}

// ExceptionHistory returns the workspace's latest exception events.
func (s *Service) ExceptionHistory(ctx context.Context, a Actor, limit int) ([]domain.ExceptionEvent, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	return s.Store.ExceptionHistory(ctx, a.WorkspaceID, 0, limit)
}

// SweepExpiredExceptions records every lapse that is due ("reopened at
// expiry" in the history) and re-applies the affected workspaces, so a
// broader exception that is still active takes over what a lapsed one
// covered. Findings and results reopen at the expiry instant regardless
// (their copied expiry makes the mark inactive); the sweep makes the
// history say so and clears the stale copies. The job queue runs it every
// minute (jobs.ExceptionSweepArgs); any replica may, since ExpireExceptions
// records each lapse once, in a transaction, and re-applying is idempotent.
func (s *Service) SweepExpiredExceptions(ctx context.Context) (int, error) {
	expired, err := s.Store.ExpireExceptions(ctx, s.Now())
	if err != nil {
		return 0, err
	}
	done := map[int64]bool{}
	for _, e := range expired {
		s.Log.Info("exception expired; covered findings and results reopened", "workspace_id", e.WorkspaceID,
			"exception_id", e.ID, "expired_at", e.ExpiresAt)
		s.appendAudit(ctx, &domain.AuditEntry{WorkspaceID: e.WorkspaceID, Actor: "system", Action: "exception.expire",
			SubjectType: "exception", SubjectID: e.ID}, nil)
		if !done[e.WorkspaceID] {
			done[e.WorkspaceID] = true
			s.applyExceptions(ctx, e.WorkspaceID, 0)
		}
	}
	for i := range expired {
		s.realert(ctx, &expired[i])
	}
	return len(expired), nil
}

// realert asks for the alert rules of the hosts an exception can cover to
// be evaluated again: findings it now hides resolve their alerts, and
// findings it stopped hiding (revoked, expired) raise theirs without
// waiting for the hosts' next scan. No-op without the job queue.
func (s *Service) realert(ctx context.Context, e *domain.Exception) {
	if s.AlertQueue == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	var hosts []int64
	switch e.Scope {
	case domain.ScopeHost:
		if e.HostID != nil {
			hosts = []int64{*e.HostID}
		}
	case domain.ScopeGroup:
		if e.GroupID != nil {
			ids, err := s.Store.GroupHostIDs(ctx, e.WorkspaceID, *e.GroupID)
			if err != nil {
				s.Log.Error("exception: group hosts", "workspace_id", e.WorkspaceID, "exception_id", e.ID, "err", err)
				return
			}
			hosts = ids
		}
	case domain.ScopeAll:
		list, err := s.Store.ListHosts(ctx, e.WorkspaceID, store.HostFilter{})
		if err != nil {
			s.Log.Error("exception: list hosts", "workspace_id", e.WorkspaceID, "exception_id", e.ID, "err", err)
			return
		}
		for _, h := range list {
			hosts = append(hosts, h.ID)
		}
	}
	s.afterIngest(ctx, e.WorkspaceID, hosts)
}

// applyExceptions re-materialises a host's (hostID 0: the workspace's)
// exceptions. A failure is logged, not returned: the change that called it
// has been made, and the next report or sweep applies again.
func (s *Service) applyExceptions(ctx context.Context, workspaceID, hostID int64) {
	n, err := s.Store.ApplyExceptions(context.WithoutCancel(ctx), workspaceID, hostID, s.Now())
	if err != nil {
		s.Log.Error("apply exceptions", "workspace_id", workspaceID, "host_id", hostID, "err", err)
		return
	}
	if n > 0 {
		s.Log.Debug("exceptions applied", "workspace_id", workspaceID, "host_id", hostID, "changed", n)
	}
}

func exceptionDetail(e *domain.Exception) map[string]any {
	d := map[string]any{"target": e.Target, "kind": e.Kind, "scope": e.Scope, "reason": e.Reason}
	if e.VulnID != "" {
		d["vuln_id"] = e.VulnID
	}
	if e.Package != "" {
		d["package"] = e.Package
	}
	if e.CheckID != "" {
		d["check_id"] = e.CheckID
	}
	if e.HostID != nil {
		d["host_id"] = *e.HostID
	}
	if e.GroupID != nil {
		d["group_id"] = *e.GroupID
	}
	if e.ExpiresAt != nil {
		d["expires_at"] = e.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return d
}
