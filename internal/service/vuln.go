package service

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/match"
)

// MatchHost matches one host's current inventory and records the findings.
func (s *Service) MatchHost(ctx context.Context, workspaceID, hostID int64) (store.SyncStats, error) {
	return s.matchHost(ctx, workspaceID, hostID, nil)
}

// matchHost is MatchHost; unchanged, when set, collects hosts whose
// findings did not change, for the caller to touch in one batch.
func (s *Service) matchHost(ctx context.Context, workspaceID, hostID int64, unchanged func(workspaceID, hostID int64)) (store.SyncStats, error) {
	if s.Matcher == nil {
		return store.SyncStats{}, nil
	}
	h, err := s.Store.GetHost(ctx, workspaceID, hostID)
	if err != nil {
		return store.SyncStats{}, err
	}
	if h.LastSuccessAt == nil {
		return store.SyncStats{}, nil // nothing known to be installed yet
	}
	res := &match.Result{}
	has, err := s.Matcher.HasData(ctx, h.OS())
	if err != nil {
		return store.SyncStats{}, err
	}
	if has {
		pkgs, err := s.Store.HostPackages(ctx, workspaceID, hostID)
		if err != nil {
			return store.SyncStats{}, err
		}
		if res, err = s.Matcher.Match(ctx, h.OS(), pkgs); err != nil {
			return store.SyncStats{}, fmt.Errorf("match host %d: %w", hostID, err)
		}
	}
	// With no data the sync still runs (on an empty set): findings raised
	// before their advisories were removed must resolve.
	st, err := s.Store.SyncFindings(ctx, workspaceID, hostID, res.Findings, s.Now())
	if err != nil {
		return st, err
	}
	if st.Opened > 0 {
		s.applyExceptions(ctx, workspaceID, hostID) // new findings take their exception
	}
	switch {
	case st.Unchanged && unchanged != nil:
		unchanged(workspaceID, hostID)
	case st.Unchanged:
		if err := s.Store.TouchMatched(ctx, workspaceID, []int64{hostID}, s.Now()); err != nil {
			return st, err
		}
	}
	if st.Opened+st.Resolved > 0 {
		s.Log.Info("findings changed", "workspace_id", workspaceID, "host_id", hostID, "opened", st.Opened,
			"resolved", st.Resolved, "open", len(res.Findings))
	}
	if len(res.Missing) > 0 {
		s.Log.Debug("no advisories imported for the host's ecosystem", "host_id", hostID, "ecosystems", res.Missing)
	}
	return st, nil
}

// RematchStats summarises a re-match over many hosts.
type RematchStats struct {
	Hosts    int
	Opened   int
	Resolved int
	Errors   int
	Duration time.Duration
}

// Rematch matches the hosts a feed change can affect: those with a package
// named in keys (nil keys: every host). One host's failure is logged and
// does not stop the rest.
func (s *Service) Rematch(ctx context.Context, keys []store.PackageKey) (RematchStats, error) {
	start := time.Now()
	var names []string
	if keys != nil {
		names = match.Names(keys)
		if len(names) == 0 {
			return RematchStats{}, nil
		}
	}
	targets := map[[2]int64]bool{}
	var list []store.MatchTarget
	// Chunked: both databases bound the number of parameters.
	for i := 0; i == 0 || i < len(names); i += 400 {
		var chunk []string
		if names != nil {
			chunk = names[i:min(i+400, len(names))]
		}
		ts, err := s.Store.MatchTargets(ctx, chunk)
		if err != nil {
			return RematchStats{}, err
		}
		for _, t := range ts {
			k := [2]int64{t.WorkspaceID, t.HostID}
			if !targets[k] {
				targets[k] = true
				list = append(list, t)
			}
		}
		if names == nil {
			break
		}
	}
	// Matching is CPU work and reads; the writes are short. One worker per
	// core keeps both busy (SQLite still serialises the writes).
	var st RematchStats
	var mu sync.Mutex
	untouched := map[int64][]int64{} // workspace → hosts matched without change
	collect := func(ws, host int64) {
		mu.Lock()
		untouched[ws] = append(untouched[ws], host)
		mu.Unlock()
	}
	work := make(chan store.MatchTarget)
	var wg sync.WaitGroup
	for w := 0; w < max(2, runtime.GOMAXPROCS(0)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				r, err := s.matchHost(ctx, t.WorkspaceID, t.HostID, collect)
				if err == nil && r.Opened+r.Resolved > 0 {
					// A feed update opened or fixed findings: their alerts
					// must not wait for the host's next report.
					s.afterIngest(ctx, t.WorkspaceID, []int64{t.HostID})
				}
				mu.Lock()
				st.Hosts++
				if err != nil {
					st.Errors++
					s.Log.Error("re-match host", "workspace_id", t.WorkspaceID, "host_id", t.HostID, "err", err)
				}
				st.Opened += r.Opened
				st.Resolved += r.Resolved
				mu.Unlock()
			}
		}()
	}
	for _, t := range list {
		if ctx.Err() != nil {
			break
		}
		work <- t
	}
	close(work)
	wg.Wait()
	now := s.Now()
	for ws, hosts := range untouched {
		if err := s.Store.TouchMatched(ctx, ws, hosts, now); err != nil {
			return st, err
		}
	}
	st.Duration = time.Since(start)
	return st, ctx.Err()
}

// ListFindings returns the workspace's findings.
func (s *Service) ListFindings(ctx context.Context, a Actor, f store.FindingFilter) ([]vuln.Finding, int, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, 0, err
	}
	f.Now = s.Now()
	return s.Store.ListFindings(ctx, a.WorkspaceID, f)
}

// MarkFinding records an operator's decision on a finding: accepted risk or
// false positive, with a reason and an optional expiry; kind "" clears it.
func (s *Service) MarkFinding(ctx context.Context, a Actor, id int64, kind, reason string, expires *time.Time) error {
	if err := a.Require(domain.PermExceptions); err != nil {
		return err
	}
	switch kind {
	case "":
	case vuln.MarkAcceptedRisk, vuln.MarkFalsePositive:
		if reason == "" {
			return domain.Errorf(domain.EINVALID, "reason: required when marking a finding")
		}
		if expires != nil && !expires.After(s.Now()) {
			return domain.Errorf(domain.EINVALID, "expires_at: must be in the future")
		}
	default:
		return domain.Errorf(domain.EINVALID, "mark: must be %q, %q or empty", vuln.MarkAcceptedRisk, vuln.MarkFalsePositive)
	}
	if err := s.Store.MarkFinding(ctx, a.WorkspaceID, id, kind, reason, a.Login, expires, s.Now()); err != nil {
		return err
	}
	s.Log.Info("finding marked", "workspace_id", a.WorkspaceID, "finding_id", id, "mark", kind, "by", a.Login)
	s.Audit(ctx, a, "finding.mark", "finding", id, map[string]any{"mark": kind, "reason": reason, "expires_at": expires})
	return nil
}

// RematchPackages is Rematch for the feed importers, which only need the
// number of hosts re-matched.
func (s *Service) RematchPackages(ctx context.Context, keys []store.PackageKey) (int, error) {
	st, err := s.Rematch(ctx, keys)
	if st.Errors > 0 && err == nil {
		err = fmt.Errorf("%d of %d hosts failed to re-match (see the log)", st.Errors, st.Hosts)
	}
	return st.Hosts, err
}
