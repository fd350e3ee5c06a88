// Package agent is the collector that runs on the patch server: it pulls its
// config from the server, scans the hosts it is given on a schedule, spools
// the reports to disk and pushes them until the server has stored them.
//
// The agent only ever runs its compiled-in catalogue of read-only probes
// (package collect); nothing the server sends is executed.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/sshkey"
	"github.com/vigil-project/vigil/internal/version"
)

// Agent scans hosts and delivers reports.
type Agent struct {
	cfg    *Config
	log    *slog.Logger
	client *Client
	spool  *Spool

	etag   string
	remote *inventory.AgentConfig
	// ranNowID is the last run-now request this process ran, so that a
	// request is run once even before the server hears about it.
	ranNowID string
}

// New builds an agent from a validated config.
func New(cfg *Config, log *slog.Logger) (*Agent, error) {
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	sp, err := OpenSpool(cfg.SpoolDir)
	if err != nil {
		return nil, err
	}
	return &Agent{cfg: cfg, log: log, client: c, spool: sp}, nil
}

// Spool returns the agent's spool.
func (a *Agent) Spool() *Spool { return a.spool }

// RefreshConfig pulls the remote config; an unchanged config costs a 304.
// On failure the last good config is kept and the error returned.
func (a *Agent) RefreshConfig(ctx context.Context) (*inventory.AgentConfig, error) {
	cfg, etag, err := a.client.FetchConfig(ctx, a.etag)
	if err != nil {
		if a.remote != nil {
			return a.remote, err
		}
		return nil, err
	}
	if cfg != nil {
		a.remote, a.etag = cfg, etag
		a.log.Info("config loaded", "agent_id", cfg.AgentID, "workspace_id", cfg.WorkspaceID, "hosts", len(cfg.Hosts),
			"interval", cfg.Schedule.Interval().String(), "anchor", cfg.Schedule.Anchor)
	}
	return a.remote, nil
}

// ScanOnce pulls the config, scans every host, and pushes the spool.
func (a *Agent) ScanOnce(ctx context.Context) (ScanStats, error) {
	cfg, err := a.RefreshConfig(ctx)
	if err != nil {
		return ScanStats{}, fmt.Errorf("pull config: %w", err)
	}
	stats, err := a.scanRun(ctx, cfg, "")
	if err != nil {
		return stats, err
	}
	return stats, a.Flush(ctx)
}

// scanRun scans the config's hosts once and tells the server how the run
// went; runNowID is the request it answers, empty for a scheduled run.
func (a *Agent) scanRun(ctx context.Context, cfg *inventory.AgentConfig, runNowID string) (ScanStats, error) {
	started := time.Now().UTC()
	stats, err := a.ScanHosts(ctx, cfg.Hosts)
	a.log.Info("scan run finished", "hosts", stats.Hosts, "ok", stats.OK, "failed", stats.Failed,
		"duration", stats.Duration.Round(time.Millisecond).String(), "run_now_id", runNowID)
	if ctx.Err() != nil {
		return stats, err
	}
	run := &inventory.AgentRunStatus{RunNowID: runNowID, StartedAt: started, DurationMS: stats.Duration.Milliseconds(),
		Hosts: stats.Hosts, Failed: stats.Failed}
	if err != nil {
		run.Error = err.Error()
	}
	st := &inventory.AgentStatus{SchemaVersion: inventory.SchemaVersion, AgentVersion: version.String(), LastRun: run}
	// The status is for the agents page; the reports are what matter, so
	// a failure here is only logged.
	if perr := a.client.PostStatus(ctx, st); perr != nil && ctx.Err() == nil {
		a.log.Warn("could not send the run status to the server", "err", perr)
	}
	return stats, err
}

// Batch bounds: enough to amortise a request, small enough that one
// refused batch costs little to split.
const (
	maxBatchReports = 50
	maxBatchBytes   = 16 << 20
)

// Flush pushes every spooled report. Accepted and duplicate reports are
// removed; reports the server refuses for good are set aside (logged);
// on a transient failure Flush stops and returns the error, keeping the rest.
func (a *Agent) Flush(ctx context.Context) error {
	entries, err := a.spool.List()
	if err != nil {
		return err
	}
	for len(entries) > 0 {
		n, size := 0, int64(0)
		for n < len(entries) && n < maxBatchReports && (n == 0 || size+entries[n].Size <= maxBatchBytes) {
			size += entries[n].Size
			n++
		}
		if err := a.pushBatch(ctx, entries[:n]); err != nil {
			return err
		}
		entries = entries[n:]
	}
	return nil
}

func (a *Agent) pushBatch(ctx context.Context, batch []Entry) error {
	raws := make([][]byte, 0, len(batch))
	ids := make([]string, 0, len(batch))
	for _, e := range batch {
		b, err := a.spool.Read(e.ID)
		if err != nil {
			a.log.Warn("spooled report unreadable", "report_id", e.ID, "err", err)
			continue
		}
		raws, ids = append(raws, b), append(ids, e.ID)
	}
	if len(raws) == 0 {
		return nil
	}
	reply, err := a.client.PushRaw(ctx, raws)
	var ae *APIError
	if errors.As(err, &ae) && ae.Permanent() && ae.Status != 401 {
		if len(ids) > 1 {
			// One bad report must not hold back the others: push singly.
			for i := range batch {
				if err := a.pushBatch(ctx, batch[i:i+1]); err != nil {
					return err
				}
			}
			return nil
		}
		a.log.Error("report refused by the server; set aside in the spool's rejected/ directory", "report_id", ids[0], "status", ae.Status, "err", ae.Message)
		return a.spool.Reject(ids[0], ae.Error())
	}
	if err != nil {
		return fmt.Errorf("push reports: %w", err)
	}
	for i, res := range reply.Results {
		id := ids[i]
		switch res.Status {
		case inventory.ResultAccepted, inventory.ResultDuplicate:
			if err := a.spool.Remove(id); err != nil {
				return err
			}
		default:
			a.log.Error("report rejected by the server; set aside in the spool's rejected/ directory", "report_id", id, "err", res.Error)
			if err := a.spool.Reject(id, res.Error); err != nil {
				return err
			}
		}
	}
	a.log.Debug("reports pushed", "count", len(ids))
	return nil
}

// Run is the service loop: refresh the config every poll, scan at each
// scheduled time and when the config carries a new run-now request, push
// the spool after each scan and retry pushes with backoff while the server
// is unreachable. It returns when ctx ends.
func (a *Agent) Run(ctx context.Context, poll time.Duration) error {
	if poll <= 0 {
		poll = time.Minute
	}
	var nextScan time.Time
	failures := 0
	var retryAt time.Time
	for {
		now := time.Now().UTC()
		cfg, err := a.RefreshConfig(ctx)
		if err != nil {
			if IsUnauthorized(err) {
				a.log.Error("the server refused this agent's API key; create a new key with 'vigil admin agent-key' and update config.yaml", "err", err)
			} else {
				a.log.Warn("config pull failed; keeping the last config", "err", err)
			}
		}
		if cfg != nil {
			if nextScan.IsZero() {
				nextScan = NextRun(now, cfg.Schedule)
				a.log.Info("next scan scheduled", "at", nextScan.Format(time.RFC3339))
			}
			runNow := cfg.RunNowID != "" && cfg.RunNowID != a.ranNowID
			if runNow || !now.Before(nextScan) {
				id := ""
				if runNow {
					id, a.ranNowID = cfg.RunNowID, cfg.RunNowID
					a.log.Info("scan requested from the server (run now)", "run_now_id", id)
				}
				if _, err := a.scanRun(ctx, cfg, id); err != nil && ctx.Err() == nil {
					a.log.Error("scan run", "err", err)
				}
				nextScan = NextRun(time.Now().UTC(), cfg.Schedule)
				a.log.Info("next scan scheduled", "at", nextScan.Format(time.RFC3339))
				retryAt = time.Time{}
			}
		}
		if !time.Now().Before(retryAt) {
			if err := a.Flush(ctx); err != nil && ctx.Err() == nil {
				failures++
				wait := Backoff(failures)
				retryAt = time.Now().Add(wait)
				a.log.Warn("push failed; reports stay in the spool", "err", err, "retry_in", wait.Round(time.Second).String())
			} else {
				failures = 0
			}
		}
		wake := poll
		if cfg != nil {
			if d := time.Until(nextScan); d < wake {
				wake = d
			}
		}
		if !retryAt.IsZero() {
			if d := time.Until(retryAt); d > 0 && d < wake {
				wake = d
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(max(wake, 100*time.Millisecond)):
		}
	}
}

// Backoff returns the wait after n consecutive push failures: exponential
// from 5 s, capped at 5 min, with ±20 % jitter so that many agents do not
// return in step after a server outage.
func Backoff(n int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < n && d < 5*time.Minute; i++ {
		d *= 2
	}
	d = min(d, 5*time.Minute)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// NextRun returns the first scheduled time strictly after now: the anchor
// time of day (UTC, "HH:MM") plus a whole number of intervals.
func NextRun(now time.Time, s inventory.Schedule) time.Time {
	iv := s.Interval()
	h, m := 0, 0
	if s.Anchor != "" {
		if t, err := time.Parse("15:04", s.Anchor); err == nil {
			h, m = t.Hour(), t.Minute()
		}
	}
	now = now.UTC()
	anchor := time.Date(now.Year(), now.Month(), now.Day(), h, m, 0, 0, time.UTC)
	if anchor.After(now) {
		anchor = anchor.Add(-24 * time.Hour)
	}
	n := now.Sub(anchor)/iv + 1
	return anchor.Add(n * iv)
}

func fingerprint(key string) string { return sshkey.Fingerprint(key) }
