package service

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
)

// Retention returns the workspace's retention settings.
func (s *Service) Retention(ctx context.Context, a Actor) (domain.Retention, error) {
	if err := a.Require(domain.PermView); err != nil {
		return domain.Retention{}, err
	}
	return s.Store.GetRetention(ctx, a.WorkspaceID)
}

// SetRetention changes how long snapshots and check history are kept. The
// next sweep (hourly) deletes what is older.
func (s *Service) SetRetention(ctx context.Context, a Actor, r domain.Retention) error {
	if err := a.Require(domain.PermSettings); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if err := s.Store.SetRetention(ctx, a.WorkspaceID, r); err != nil {
		return err
	}
	s.Audit(ctx, a, "settings.retention", "workspace", a.WorkspaceID,
		map[string]any{"snapshot_days": r.SnapshotDays, "history_days": r.HistoryDays})
	return nil
}

// SweepRetention deletes the workspace's snapshots and check history older
// than its retention settings allow. A host's newest successful snapshot
// is always kept: it is the host's inventory.
func (s *Service) SweepRetention(ctx context.Context, workspaceID int64) (store.RetentionResult, error) {
	r, err := s.Store.GetRetention(ctx, workspaceID)
	if err != nil {
		return store.RetentionResult{}, err
	}
	now := s.Now()
	var snaps, hist time.Time
	if r.SnapshotDays > 0 {
		snaps = now.AddDate(0, 0, -r.SnapshotDays)
	}
	if r.HistoryDays > 0 {
		hist = now.AddDate(0, 0, -r.HistoryDays)
	}
	return s.Store.SweepRetention(ctx, workspaceID, snaps, hist)
}

// Schedule limits: a scan every five minutes at most often, once a week at
// least.
const (
	MinScheduleInterval = 5 * time.Minute
	MaxScheduleInterval = 7 * 24 * time.Hour
)

// SetSchedule changes when agents scan the workspace's hosts: at anchor
// (UTC, HH:MM) plus whole intervals. Agents see it within one config poll.
func (s *Service) SetSchedule(ctx context.Context, a Actor, sc inventory.Schedule) error {
	if err := a.Require(domain.PermSettings); err != nil {
		return err
	}
	iv := time.Duration(sc.IntervalSeconds) * time.Second
	if iv < MinScheduleInterval || iv > MaxScheduleInterval {
		return domain.Errorf(domain.EINVALID, "interval: must be between 5 minutes and 7 days")
	}
	if _, err := time.Parse("15:04", sc.Anchor); err != nil || len(sc.Anchor) != 5 {
		return domain.Errorf(domain.EINVALID, "anchor: must be a UTC time of day as HH:MM, e.g. 02:30")
	}
	if err := s.Store.UpdateWorkspaceSchedule(ctx, a.WorkspaceID, sc); err != nil {
		return err
	}
	s.dash.mu.Lock()
	s.dash.configs = nil // every agent of the workspace must see it
	s.dash.mu.Unlock()
	s.Audit(ctx, a, "settings.schedule", "workspace", a.WorkspaceID,
		map[string]any{"interval_seconds": sc.IntervalSeconds, "anchor": sc.Anchor})
	return nil
}
