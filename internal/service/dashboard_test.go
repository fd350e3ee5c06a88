package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
)

func TestFilterExpression(t *testing.T) {
	tests := []struct {
		name string
		f    store.HostTableFilter
		want string
		err  string // substring of the error
	}{
		{"os id", store.HostTableFilter{OS: "debian"}, `os.id == "debian"`, ""},
		{"os release and label", store.HostTableFilter{OS: "almalinux 9.5", LabelKey: "env", LabelVal: "prod"},
			`os.id == "almalinux" && os.version_id == "9.5" && "env" in labels && labels["env"] == "prod"`, ""},
		{"label key only", store.HostTableFilter{LabelKey: "pci"}, `"pci" in labels`, ""},
		{"name search quotes", store.HostTableFilter{Query: `we"b`}, `hostname.contains("we\"b")`, ""},
		{"severity high or worse", store.HostTableFilter{Severity: "high"},
			`(("critical" in findings.open_by_severity && findings.open_by_severity["critical"] > 0) || ("high" in findings.open_by_severity && findings.open_by_severity["high"] > 0))`, ""},
		{"status cannot", store.HostTableFilter{Status: "failing"}, "", "status"},
		{"agent cannot", store.HostTableFilter{AgentID: 3}, "", "agent"},
		{"group cannot", store.HostTableFilter{GroupID: 3, OS: "debian"}, "", "group"},
		{"empty", store.HostTableFilter{}, "", "empty"},
		{"bad severity", store.HostTableFilter{Severity: "severe"}, "", "severity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := service.FilterExpression(tt.f)
			if tt.err != "" {
				if err == nil || domain.ErrorCode(err) != domain.EINVALID || !strings.Contains(domain.ErrorMessage(err), tt.err) {
					t.Fatalf("err = %v, want EINVALID naming %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
			// What a saved filter becomes must be a valid group expression.
			if err := service.ValidateExpression(got); err != nil {
				t.Fatalf("expression does not compile: %v", err)
			}
		})
	}
}

// TestAgentConfigRunNow: a poll within the cache TTL reuses the built
// config; a run-now request reaches the next poll with a new ETag and stops
// once the agent reports the run; roles are enforced.
func TestAgentConfigRunNow(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ag, key, err := w.svc.CreateAgent(ctx, w.admin, "patch-1")
	if err != nil || key == "" {
		t.Fatal(err)
	}
	name, addr := "web-01", "10.0.0.1"
	if _, err := w.svc.CreateHost(ctx, w.admin, domain.HostInput{Name: &name, Address: &addr, AgentID: &ag.ID}); err != nil {
		t.Fatal(err)
	}
	poll := func() (*inventory.AgentConfig, string) {
		t.Helper()
		a, err := w.svc.AuthenticateAgent(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		cfg, etag, err := w.svc.AgentConfig(ctx, a, "1.2.3")
		if err != nil {
			t.Fatal(err)
		}
		return cfg, etag
	}
	cfg, etag1 := poll()
	if len(cfg.Hosts) != 1 || cfg.RunNowID != "" {
		t.Fatalf("first config %+v", cfg)
	}
	if _, again := poll(); again != etag1 {
		t.Fatalf("unchanged config, new ETag %s vs %s", again, etag1)
	}

	viewer := w.join(t, "vera", domain.RoleViewer)
	operator := w.join(t, "otto", domain.RoleOperator)
	if _, err := w.svc.RunAgentNow(ctx, viewer, ag.ID); code(err) != domain.EFORBIDDEN {
		t.Errorf("viewer run now: %v", err)
	}
	if _, err := w.svc.RotateAgentKey(ctx, operator, ag.ID); code(err) != domain.EFORBIDDEN {
		t.Errorf("operator rotate: %v", err)
	}
	id, err := w.svc.RunAgentNow(ctx, operator, ag.ID)
	if err != nil {
		t.Fatal(err)
	}
	cfg, etag2 := poll()
	if cfg.RunNowID != id || etag2 == etag1 {
		t.Fatalf("run now not in the config: %q (want %q), etag %s", cfg.RunNowID, id, etag2)
	}
	// A new host of the agent changes the stamp: rebuilt at once.
	name2, addr2 := "web-02", "10.0.0.2"
	if _, err := w.svc.CreateHost(ctx, w.admin, domain.HostInput{Name: &name2, Address: &addr2, AgentID: &ag.ID}); err != nil {
		t.Fatal(err)
	}
	if cfg, _ := poll(); len(cfg.Hosts) != 2 || cfg.RunNowID != id {
		t.Fatalf("after a new host: %d hosts, run now %q", len(cfg.Hosts), cfg.RunNowID)
	}
	_, etag1 = poll()
	// A label (and so group membership) does not move the stamp: it waits
	// for the TTL.
	if err := w.svc.SetHostLabels(ctx, w.admin, cfg.Hosts[0].ID, map[string]string{"env": "prod"}); err != nil {
		t.Fatal(err)
	}
	a, _ := w.svc.AuthenticateAgent(ctx, key)
	bad := &inventory.AgentStatus{SchemaVersion: inventory.SchemaVersion, LastRun: &inventory.AgentRunStatus{StartedAt: w.now, Hosts: 1, Failed: 2}}
	if err := w.svc.RecordAgentStatus(ctx, a, bad); code(err) != domain.EINVALID {
		t.Errorf("failed > hosts accepted: %v", err)
	}
	ok := &inventory.AgentStatus{SchemaVersion: inventory.SchemaVersion, AgentVersion: "1.2.3",
		LastRun: &inventory.AgentRunStatus{RunNowID: id, StartedAt: w.now, DurationMS: 1500, Hosts: 1, Failed: 0}}
	if err := w.svc.RecordAgentStatus(ctx, a, ok); err != nil {
		t.Fatal(err)
	}
	cfg, etag3 := poll()
	if cfg.RunNowID != "" || etag3 == etag1 || len(cfg.Hosts) != 2 {
		t.Fatalf("after the run: run_now %q, etag %s, %d hosts", cfg.RunNowID, etag3, len(cfg.Hosts))
	}
	w.now = w.now.Add(service.AgentConfigTTL + time.Second)
	if _, etag4 := poll(); etag4 != etag3 {
		t.Fatalf("rebuilt after the TTL with nothing changed: etag %s, was %s", etag4, etag3)
	}
	infos, err := w.svc.AgentsOverview(ctx, viewer)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		if in.ID == ag.ID && (in.Version != "1.2.3" || in.State.LastRun == nil || in.State.LastRun.Duration != 1500*time.Millisecond || in.State.Pending() || !in.Online) {
			t.Errorf("agent overview %+v %+v", in, in.State.LastRun)
		}
	}
	// Revoked: the key stops working and run now is refused.
	if err := w.svc.RevokeAgent(ctx, w.admin, ag.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.AuthenticateAgent(ctx, key); err == nil {
		t.Error("revoked key authenticates")
	}
	if _, err := w.svc.RunAgentNow(ctx, w.admin, ag.ID); code(err) != domain.ECONFLICT {
		t.Errorf("run now on a revoked agent: %v", err)
	}
}

// TestRollupHistory: the first rollup of a day re-counts the previous
// day's hosts scanned, which scans after its last rollup would miss.
func TestRollupHistory(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ag, _, err := w.svc.CreateAgent(ctx, w.admin, "patch-1")
	if err != nil {
		t.Fatal(err)
	}
	var hosts []*domain.Host
	for _, n := range []string{"a", "b"} {
		name, addr := n, "10.0.0.1"
		if n == "b" {
			addr = "10.0.0.2"
		}
		h, err := w.svc.CreateHost(ctx, w.admin, domain.HostInput{Name: &name, Address: &addr, AgentID: &ag.ID})
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, h)
	}
	scan := func(h *domain.Host, at time.Time) {
		t.Helper()
		r := &inventory.HostReport{SchemaVersion: inventory.SchemaVersion, ReportID: h.Name + at.Format("150405"), HostID: h.ID,
			StartedAt: at, FinishedAt: at.Add(time.Second), Status: inventory.StatusOK}
		if _, err := w.svc.Store.IngestReport(ctx, w.admin.WorkspaceID, ag.ID, r, at); err != nil {
			t.Fatal(err)
		}
	}
	w.now = time.Date(2026, 5, 1, 20, 0, 0, 0, time.UTC)
	scan(hosts[0], w.now.Add(-time.Hour))
	d, err := w.svc.Dashboard(ctx, w.admin) // no rollup yet: computed now
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Trend) != 1 || d.Current.HostsScanned != 1 || d.Fleet.Hosts != 2 {
		t.Fatalf("first dashboard %+v %+v", d.Trend, d.Fleet)
	}
	scan(hosts[1], w.now.Add(2*time.Hour)) // 22:00, after the day's last rollup
	w.now = time.Date(2026, 5, 2, 1, 0, 0, 0, time.UTC)
	if _, err := w.svc.RefreshRollup(ctx, w.admin.WorkspaceID); err != nil {
		t.Fatal(err)
	}
	rs, err := w.svc.Store.Rollups(ctx, w.admin.WorkspaceID, w.now.AddDate(0, 0, -5))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Day != "2026-05-01" || rs[0].HostsScanned != 2 || rs[1].HostsScanned != 0 {
		t.Fatalf("rollups %+v", rs)
	}
	// The dashboard uses the fresh row without recomputing.
	d, err = w.svc.Dashboard(ctx, w.admin)
	if err != nil || len(d.Trend) != 2 || d.Current.Day != "2026-05-02" {
		t.Fatalf("dashboard %+v %v", d, err)
	}
	viewer := w.join(t, "vic", domain.RoleViewer)
	if err := w.svc.SetRetention(ctx, viewer, domain.Retention{SnapshotDays: 1}); code(err) != domain.EFORBIDDEN {
		t.Errorf("viewer set retention: %v", err)
	}
	if err := w.svc.SetSchedule(ctx, w.admin, inventory.Schedule{IntervalSeconds: 60, Anchor: "01:00"}); code(err) != domain.EINVALID {
		t.Errorf("1-minute schedule: %v", err)
	}
	if err := w.svc.SetSchedule(ctx, w.admin, inventory.Schedule{IntervalSeconds: 7200, Anchor: "1:00"}); code(err) != domain.EINVALID {
		t.Errorf("anchor 1:00: %v", err)
	}
	// Retention through the service: a day-old retention sweeps nothing
	// the hosts need (each keeps its only successful scan).
	if err := w.svc.SetRetention(ctx, w.admin, domain.Retention{SnapshotDays: 1, HistoryDays: 1}); err != nil {
		t.Fatal(err)
	}
	w.now = w.now.AddDate(0, 0, 10)
	res, err := w.svc.SweepRetention(ctx, w.admin.WorkspaceID)
	if err != nil || res.Snapshots != 0 {
		t.Fatalf("sweep %+v %v", res, err)
	}
	scan(hosts[0], w.now.Add(-time.Hour))
	res, err = w.svc.SweepRetention(ctx, w.admin.WorkspaceID)
	if err != nil || res.Snapshots != 1 {
		t.Fatalf("sweep after a newer scan %+v %v (want the old scan of a deleted)", res, err)
	}
}
