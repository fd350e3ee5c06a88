package service

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// feedSyncRun is the manual feed sync started from the settings page: one
// at a time per server process.
type feedSyncRun struct {
	running  bool
	started  time.Time
	finished time.Time
	err      string
}

// maxFeedSync bounds a manual sync; NVD's first download takes the longest.
const maxFeedSync = 6 * time.Hour

// SetFeedSyncer installs the function that syncs every online feed (the
// serve command's, with its flags). Without one, manual sync is off.
func (s *Service) SetFeedSyncer(fn func(ctx context.Context) error) {
	s.dash.mu.Lock()
	s.dash.feedSync = fn
	s.dash.mu.Unlock()
}

// FeedSyncStatus is the manual sync's state and every feed's.
type FeedSyncStatus struct {
	Available  bool // a syncer is installed
	Running    bool
	StartedAt  *time.Time
	FinishedAt *time.Time
	Error      string
	Feeds      []store.FeedState
}

// StartFeedSync starts a sync of every online feed in the background. It
// refuses a second one while the first runs.
func (s *Service) StartFeedSync(ctx context.Context, a Actor) error {
	if err := a.Require(domain.PermSettings); err != nil {
		return err
	}
	s.dash.mu.Lock()
	fn := s.dash.feedSync
	switch {
	case fn == nil:
		s.dash.mu.Unlock()
		return domain.Errorf(domain.EINVALID, "feed sync is not available in this server: run 'vigil feeds sync' or import files")
	case s.dash.sync.running:
		s.dash.mu.Unlock()
		return domain.Errorf(domain.ECONFLICT, "a feed sync is already running (started %s)", s.dash.sync.started.Format(time.RFC3339))
	}
	s.dash.sync = feedSyncRun{running: true, started: s.Now()}
	s.dash.mu.Unlock()
	s.Audit(ctx, a, "feeds.sync", "workspace", a.WorkspaceID, nil)
	go func() {
		// The sync outlives the request that started it.
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), maxFeedSync)
		defer cancel()
		err := fn(bg)
		s.dash.mu.Lock()
		s.dash.sync.running, s.dash.sync.finished = false, s.Now()
		if err != nil {
			s.dash.sync.err = err.Error()
		}
		s.dash.mu.Unlock()
		if err != nil {
			s.Log.Error("manual feed sync failed; the previous data stays in use", "err", err)
		} else {
			s.Log.Info("manual feed sync finished")
		}
	}()
	return nil
}

// FeedSyncStatus returns the manual sync's state with each feed's.
func (s *Service) FeedSyncStatus(ctx context.Context, a Actor) (*FeedSyncStatus, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	feeds, err := s.Store.ListFeedStates(ctx)
	if err != nil {
		return nil, err
	}
	s.dash.mu.Lock()
	defer s.dash.mu.Unlock()
	st := &FeedSyncStatus{Available: s.dash.feedSync != nil, Running: s.dash.sync.running, Error: s.dash.sync.err, Feeds: feeds}
	if r := s.dash.sync; !r.started.IsZero() {
		st.StartedAt = &r.started
		if !r.finished.IsZero() {
			st.FinishedAt = &r.finished
		}
	}
	return st, nil
}
