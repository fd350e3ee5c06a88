package service

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/store"
)

// The dashboard's current figures come from the latest rollup row:
// counting every open finding and check result of 10,000 hosts takes
// seconds, longer than a page view may, so it is done in the background
// after reports arrive (debounced), hourly, and when a dashboard view finds
// the row older than RollupMaxAge (the view shows the older figures, with
// their time). Only a workspace without any rollup computes one in the
// request.
const (
	RollupMaxAge   = 5 * time.Minute
	rollupDebounce = 20 * time.Second
)

// staleAfter is how long a host may go without a successful scan before it
// is stale: three schedule intervals, as domain.Host.Stale says.
func staleAfter(interval time.Duration) time.Duration { return 3 * interval }

// RefreshRollup computes the workspace's figures now and stores them as
// today's row. The first rollup of a day also re-counts yesterday's hosts
// scanned, which scans after yesterday's last rollup would otherwise miss.
func (s *Service) RefreshRollup(ctx context.Context, workspaceID int64) (*store.Rollup, error) {
	ws, err := s.Store.GetWorkspace(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	r, err := s.Store.ComputeRollup(ctx, workspaceID, now, staleAfter(ws.Schedule.Interval()))
	if err != nil {
		return nil, err
	}
	yesterday := now.Add(-24 * time.Hour)
	prev, err := s.Store.Rollups(ctx, workspaceID, yesterday)
	if err != nil {
		return nil, err
	}
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for i := range prev {
		y := &prev[i]
		if y.Day != yesterday.UTC().Format(time.DateOnly) || !y.ComputedAt.Before(midnight) {
			continue
		}
		if y.HostsScanned, err = s.Store.HostsScannedOn(ctx, workspaceID, yesterday); err != nil {
			return nil, err
		}
		y.ComputedAt = midnight // final: no later rollup touches it again
		if err := s.Store.SaveRollup(ctx, y); err != nil {
			return nil, err
		}
	}
	if err := s.Store.SaveRollup(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// scheduleRollup refreshes the workspace's rollup a little later: a batch
// of reports is usually followed by more, and one rollup covers them all.
func (s *Service) scheduleRollup(workspaceID int64) {
	s.refreshRollupLater(workspaceID, rollupDebounce)
}

// refreshRollupLater refreshes the rollup in the background after delay,
// once however often it is asked meanwhile.
func (s *Service) refreshRollupLater(workspaceID int64, delay time.Duration) {
	if s.NoBackground {
		return
	}
	s.dash.mu.Lock()
	defer s.dash.mu.Unlock()
	if s.dash.rollups[workspaceID] {
		return
	}
	if s.dash.rollups == nil {
		s.dash.rollups = map[int64]bool{}
	}
	s.dash.rollups[workspaceID] = true
	time.AfterFunc(delay, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if _, err := s.RefreshRollup(ctx, workspaceID); err != nil {
			s.Log.Error("rollup", "workspace_id", workspaceID, "err", err)
		}
		// Cleared after the run, so that views during it do not start
		// another.
		s.dash.mu.Lock()
		delete(s.dash.rollups, workspaceID)
		s.dash.mu.Unlock()
	})
}

// MaintenanceEvery is how often RunMaintenance visits every workspace.
const MaintenanceEvery = time.Hour

// RunMaintenance refreshes the planner statistics and every workspace's
// rollup and applies its retention, a minute after start and then every
// MaintenanceEvery, until ctx ends. One workspace's failure does not stop
// the others.
func (s *Service) RunMaintenance(ctx context.Context) {
	// Planner statistics first: a database that never had them plans some
	// per-host queries as workspace scans.
	if err := s.Store.Optimize(ctx); err != nil && ctx.Err() == nil {
		s.Log.Error("maintenance: optimize", "err", err)
	}
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.maintain(ctx)
		t.Reset(MaintenanceEvery)
	}
}

func (s *Service) maintain(ctx context.Context) {
	if err := s.Store.Optimize(ctx); err != nil && ctx.Err() == nil {
		s.Log.Error("maintenance: optimize", "err", err)
	}
	ids, err := s.Store.WorkspaceIDs(ctx)
	if err != nil {
		s.Log.Error("maintenance: list workspaces", "err", err)
		return
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		if _, err := s.RefreshRollup(ctx, id); err != nil {
			s.Log.Error("maintenance: rollup", "workspace_id", id, "err", err)
		}
		if res, err := s.SweepRetention(ctx, id); err != nil {
			s.Log.Error("maintenance: retention", "workspace_id", id, "err", err)
		} else if res.Snapshots+res.History > 0 {
			s.Log.Info("retention sweep", "workspace_id", id, "snapshots", res.Snapshots, "check_history", res.History)
		}
	}
}
