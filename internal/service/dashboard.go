package service

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// TrendDays is how far back the dashboard's charts go.
const TrendDays = 30

// DashboardData is everything the dashboard shows.
type DashboardData struct {
	Now        time.Time
	Interval   time.Duration // the scan schedule's
	StaleAfter time.Duration
	Fleet      store.FleetCounts
	// Current is today's rollup: findings, compliance and the top lists as
	// of its ComputedAt.
	Current *store.Rollup
	// Trend has one row per day with a rollup, oldest first, today last.
	Trend []store.Rollup
	Feeds []store.FeedState
}

// Dashboard returns the workspace's dashboard. Host and agent counts are
// live; the findings and compliance figures are the latest rollup's, with
// its time; a rollup older than RollupMaxAge is refreshed in the
// background for the next view.
func (s *Service) Dashboard(ctx context.Context, a Actor) (*DashboardData, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	ws, err := s.Store.GetWorkspace(ctx, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	d := &DashboardData{Now: now, Interval: ws.Schedule.Interval(), StaleAfter: staleAfter(ws.Schedule.Interval())}
	fc, err := s.Store.FleetCounts(ctx, a.WorkspaceID, now, d.StaleAfter)
	if err != nil {
		return nil, err
	}
	d.Fleet = *fc
	if d.Trend, err = s.Store.Rollups(ctx, a.WorkspaceID, now.AddDate(0, 0, -(TrendDays-1))); err != nil {
		return nil, err
	}
	if n := len(d.Trend); n > 0 {
		d.Current = &d.Trend[n-1]
		if now.Sub(d.Current.ComputedAt) >= RollupMaxAge || d.Current.Day != now.UTC().Format(time.DateOnly) {
			s.refreshRollupLater(a.WorkspaceID, 0)
		}
	} else {
		// A new workspace (or one idle for a month): compute now.
		r, err := s.RefreshRollup(ctx, a.WorkspaceID)
		if err != nil {
			return nil, err
		}
		d.Trend = append(d.Trend, *r)
		d.Current = &d.Trend[0]
	}
	if d.Feeds, err = s.Store.ListFeedStates(ctx); err != nil {
		return nil, err
	}
	return d, nil
}
