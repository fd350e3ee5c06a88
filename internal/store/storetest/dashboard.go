package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// dashFleet is a workspace of five hosts in every state, with findings and
// labels, and a host in another workspace that must never show up.
type dashFleet struct {
	ws, other                      int64
	agent                          int64
	ok, okDebian11, failing, stale int64
	never                          int64
	now                            time.Time
	staleAfter                     time.Duration
}

func newDashFleet(t *testing.T, s store.Store) dashFleet {
	ctx := context.Background()
	w, o := newWorkspace(t, s), newWorkspace(t, s)
	ag := newAgent(t, s, w.ID)
	fx := dashFleet{ws: w.ID, other: o.ID, agent: ag.ID, now: at(30 * time.Hour), staleAfter: 3 * time.Hour}
	mk := func(name string) int64 { return newHost(t, s, w.ID, name).ID }
	fx.ok, fx.okDebian11, fx.failing, fx.stale, fx.never = mk("alpha"), mk("Bravo"), mk("charlie"), mk("delta"), mk("echo")
	for _, h := range []int64{fx.ok, fx.okDebian11, fx.failing, fx.stale, fx.never} {
		hh, err := s.GetHost(ctx, w.ID, h)
		must(t, err)
		hh.AgentID = &fx.agent
		must(t, s.UpdateHost(ctx, hh))
	}
	ingest(t, s, w.ID, ag.ID, Report(fx.ok, unique("r"), fx.now.Add(-time.Hour), Packages(3)))
	r11 := Report(fx.okDebian11, unique("r"), fx.now.Add(-2*time.Hour), Packages(5))
	r11.System.OS.VersionID, r11.System.OS.PrettyName = "11", "Debian GNU/Linux 11 (bullseye)"
	ingest(t, s, w.ID, ag.ID, r11)
	ingest(t, s, w.ID, ag.ID, Report(fx.failing, unique("r"), fx.now.Add(-5*time.Hour), Packages(2)))
	ingest(t, s, w.ID, ag.ID, errorReport(fx.failing, unique("r"), fx.now.Add(-time.Hour)))
	ingest(t, s, w.ID, ag.ID, Report(fx.stale, unique("r"), fx.now.Add(-10*time.Hour), Packages(1)))
	// echo is never scanned; hosts are created at wall-clock time, after
	// fx.now, so it is "never", not stale.

	_, err := s.SyncFindings(ctx, w.ID, fx.ok, []vuln.Finding{
		finding("CVE-1", "openssl", "1", "2", "critical"),
		finding("CVE-2", "sudo", "1", "2", "medium"),
	}, fx.now)
	must(t, err)
	_, err = s.SyncFindings(ctx, w.ID, fx.okDebian11, []vuln.Finding{
		finding("CVE-3", "openssl", "1", "2", "high"),
		finding("CVE-4", "zlib", "1", "", "low"),
	}, fx.now)
	must(t, err)
	must(t, s.SetHostLabels(ctx, w.ID, fx.ok, map[string]string{"env": "prod"}))
	must(t, s.SetHostLabels(ctx, w.ID, fx.stale, map[string]string{"env": "dev"}))

	oh := newHost(t, s, o.ID, "alpha")
	_, err = s.SyncFindings(ctx, o.ID, oh.ID, []vuln.Finding{finding("CVE-9", "openssl", "1", "2", "critical")}, fx.now)
	must(t, err)
	must(t, s.SetHostLabels(ctx, o.ID, oh.ID, map[string]string{"env": "prod"}))
	return fx
}

func (fx dashFleet) table(t *testing.T, s store.Store, f store.HostTableFilter) ([]int64, int) {
	t.Helper()
	f.Now, f.StaleAfter = fx.now, fx.staleAfter
	rows, total, err := s.HostTable(context.Background(), fx.ws, f)
	must(t, err)
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, total
}

func wantIDs(t *testing.T, what string, got []int64, want ...int64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: got hosts %v, want %v", what, got, want)
	}
}

func testHostTable(t *testing.T, s store.Store) {
	fx := newDashFleet(t, s)
	all := []int64{fx.ok, fx.okDebian11, fx.failing, fx.stale, fx.never}
	tests := []struct {
		name  string
		f     store.HostTableFilter
		want  []int64
		total int
	}{
		{"name order ignores case", store.HostTableFilter{}, all, 5},
		{"name descending", store.HostTableFilter{Desc: true}, []int64{fx.never, fx.stale, fx.failing, fx.okDebian11, fx.ok}, 5},
		{"query", store.HostTableFilter{Query: "RAV"}, []int64{fx.okDebian11}, 1},
		{"os id", store.HostTableFilter{OS: "debian"}, []int64{fx.ok, fx.okDebian11, fx.failing, fx.stale}, 4},
		{"os release", store.HostTableFilter{OS: "debian 11"}, []int64{fx.okDebian11}, 1},
		{"label key=value", store.HostTableFilter{LabelKey: "env", LabelVal: "prod"}, []int64{fx.ok}, 1},
		{"label key", store.HostTableFilter{LabelKey: "env"}, []int64{fx.ok, fx.stale}, 2},
		{"status ok", store.HostTableFilter{Status: store.HostOK}, []int64{fx.ok, fx.okDebian11}, 2},
		{"status failing", store.HostTableFilter{Status: store.HostFailing}, []int64{fx.failing}, 1},
		{"status stale", store.HostTableFilter{Status: store.HostStale}, []int64{fx.stale}, 1},
		{"status never", store.HostTableFilter{Status: store.HostNever}, []int64{fx.never}, 1},
		{"severity at least high", store.HostTableFilter{Severity: "high"}, []int64{fx.ok, fx.okDebian11}, 2},
		{"severity at least critical", store.HostTableFilter{Severity: "critical"}, []int64{fx.ok}, 1},
		{"agent", store.HostTableFilter{AgentID: fx.agent}, all, 5},
		{"sort by severity, worst first", store.HostTableFilter{Sort: store.SortSeverity}, []int64{fx.ok, fx.okDebian11, fx.failing, fx.stale, fx.never}, 5},
		{"sort by status, attention first", store.HostTableFilter{Sort: store.SortStatus}, []int64{fx.failing, fx.stale, fx.never, fx.ok, fx.okDebian11}, 5},
		{"sort by packages descending", store.HostTableFilter{Sort: store.SortPackages, Desc: true}, []int64{fx.okDebian11, fx.ok, fx.failing, fx.stale, fx.never}, 5},
		{"sort by last scan, never last", store.HostTableFilter{Sort: store.SortLastScan, Desc: true}, []int64{fx.ok, fx.failing, fx.okDebian11, fx.stale, fx.never}, 5},
		{"page 2 of 2", store.HostTableFilter{Limit: 3, Offset: 3}, []int64{fx.stale, fx.never}, 5},
	}
	for _, tc := range tests {
		got, total := fx.table(t, s, tc.f)
		wantIDs(t, tc.name, got, tc.want...)
		if total != tc.total {
			t.Errorf("%s: total %d, want %d", tc.name, total, tc.total)
		}
	}
	rows, _, err := s.HostTable(context.Background(), fx.ws, store.HostTableFilter{Now: fx.now, StaleAfter: fx.staleAfter})
	must(t, err)
	if rows[0].MaxSeverity != "critical" || rows[0].Findings != 2 || rows[1].MaxSeverity != "high" || rows[4].MaxSeverity != "" {
		t.Errorf("severities: %s/%d %s %q", rows[0].MaxSeverity, rows[0].Findings, rows[1].MaxSeverity, rows[4].MaxSeverity)
	}
	// A marked finding no longer counts.
	fs, _, err := s.ListFindings(context.Background(), fx.ws, store.FindingFilter{HostID: fx.ok, Severity: "critical"})
	must(t, err)
	must(t, s.MarkFinding(context.Background(), fx.ws, fs[0].ID, vuln.MarkFalsePositive, "not used", "alice", nil, fx.now))
	got, _ := fx.table(t, s, store.HostTableFilter{Severity: "critical"})
	wantIDs(t, "critical after marking", got)

	// Bad filters are refused, not ignored.
	_, _, err = s.HostTable(context.Background(), fx.ws, store.HostTableFilter{Status: "broken"})
	wantCode(t, err, domain.EINVALID)
	_, _, err = s.HostTable(context.Background(), fx.ws, store.HostTableFilter{Severity: "severe"})
	wantCode(t, err, domain.EINVALID)

	g := &domain.Group{WorkspaceID: fx.ws, Name: unique("g")}
	must(t, s.CreateGroup(context.Background(), g))
	added, err := s.AddStaticMembers(context.Background(), fx.ws, g.ID, []int64{fx.ok, fx.stale})
	must(t, err)
	again, err := s.AddStaticMembers(context.Background(), fx.ws, g.ID, []int64{fx.ok, fx.never})
	must(t, err)
	if added != 2 || again != 1 {
		t.Errorf("added %d then %d static members, want 2 then 1", added, again)
	}
	otherHost := newHost(t, s, fx.other, unique("x")).ID
	if n, err := s.AddStaticMembers(context.Background(), fx.ws, g.ID, []int64{otherHost}); err != nil || n != 0 {
		t.Errorf("another workspace's host added: %d, %v", n, err)
	}
	_, err = s.AddStaticMembers(context.Background(), fx.other, g.ID, []int64{otherHost})
	wantCode(t, err, domain.ENOTFOUND)
	got, _ = fx.table(t, s, store.HostTableFilter{GroupID: g.ID})
	wantIDs(t, "group members", got, fx.ok, fx.stale, fx.never)

	fc, err := s.HostFacets(context.Background(), fx.ws)
	must(t, err)
	if len(fc.OS) != 2 || fc.OS[0].VersionID != "11" || fc.OS[1].Hosts != 3 {
		t.Errorf("os facets %+v", fc.OS)
	}
	if len(fc.Labels) != 2 || fc.Labels[0].Value != "dev" || fc.Labels[1].Hosts != 1 {
		t.Errorf("label facets %+v", fc.Labels)
	}
}

func testFleetCounts(t *testing.T, s store.Store) {
	fx := newDashFleet(t, s)
	ctx := context.Background()
	must(t, s.TouchAgent(ctx, fx.ws, fx.agent, "1.2.3", fx.now.Add(-time.Minute)))
	old := newAgent(t, s, fx.ws)
	must(t, s.TouchAgent(ctx, fx.ws, old.ID, "", fx.now.Add(-time.Hour)))
	c, err := s.FleetCounts(ctx, fx.ws, fx.now, fx.staleAfter)
	must(t, err)
	want := store.FleetCounts{Hosts: 5, OK: 2, Failing: 1, Stale: 1, Never: 1, Agents: 2, AgentsOnline: 1}
	if *c != want {
		t.Errorf("fleet counts %+v, want %+v", *c, want)
	}
	must(t, s.RevokeAgent(ctx, fx.ws, old.ID, fx.now))
	c, err = s.FleetCounts(ctx, fx.ws, fx.now, fx.staleAfter)
	must(t, err)
	if c.Agents != 1 {
		t.Errorf("revoked agents still counted: %+v", c)
	}
}

func testRollups(t *testing.T, s store.Store) {
	fx := newDashFleet(t, s)
	ctx := context.Background()
	_, err := s.SaveCheckResults(ctx, fx.ws, fx.ok, []domain.CheckResult{
		{CheckID: "a", Status: domain.CheckPass}, {CheckID: "b", Status: domain.CheckFail}, {CheckID: "c", Status: domain.CheckPass},
		{CheckID: "d", Status: domain.CheckError}, {CheckID: "e", Status: domain.CheckNotApplicable},
	}, fx.now)
	must(t, err)
	must(t, s.ReplaceKEV(ctx, []vuln.KEV{{CVE: "CVE-3", DateAdded: fx.now}}))
	r, err := s.ComputeRollup(ctx, fx.ws, fx.now, fx.staleAfter)
	must(t, err)
	if r.Day != fx.now.UTC().Format(time.DateOnly) || r.Hosts != 5 || r.HostsFailing != 1 {
		t.Errorf("rollup hosts: %+v", r)
	}
	if r.Critical != 1 || r.High != 1 || r.Medium != 1 || r.Low != 1 || r.KEV != 1 || r.OpenFindings() != 4 {
		t.Errorf("rollup findings: %+v", r)
	}
	if r.ChecksPass != 2 || r.ChecksFail != 1 || r.ChecksError != 1 {
		t.Errorf("rollup checks: %+v", r)
	}
	if score, ok := r.Score(); !ok || int(score) != 66 {
		t.Errorf("score %v %v", score, ok)
	}
	// Risk: ok has critical(10)+medium(2)=12; okDebian11 high+KEV(25)+low(1)=26.
	if rh := r.Detail.RiskyHosts; len(rh) != 2 || rh[0].HostID != fx.okDebian11 || rh[0].Risk != 26 || rh[0].KEV != 1 || rh[1].Risk != 12 {
		t.Errorf("risky hosts %+v", rh)
	}
	// zlib has no fix: not an upgrade. openssl closes critical + high/KEV on two hosts.
	if up := r.Detail.Upgrades; len(up) != 2 || up[0].Package != "openssl" || up[0].Hosts != 2 || up[0].Findings != 2 || up[1].Package != "sudo" {
		t.Errorf("upgrades %+v", up)
	}
	// Hosts scanned on the day: from snapshots, successful only.
	n, err := s.HostsScannedOn(ctx, fx.ws, fx.now.Add(-time.Hour))
	must(t, err)
	want := 0
	for _, d := range []time.Duration{time.Hour, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour} {
		if fx.now.Add(-d).UTC().Format(time.DateOnly) == fx.now.Add(-time.Hour).UTC().Format(time.DateOnly) {
			want++
		}
	}
	if n != want {
		t.Errorf("hosts scanned on the day: %d, want %d", n, want)
	}

	must(t, s.SaveRollup(ctx, r))
	r.High = 7
	r.ComputedAt = fx.now.Add(time.Minute)
	must(t, s.SaveRollup(ctx, r)) // the same day again: replaced
	yesterday := *r
	yesterday.Day, yesterday.High = fx.now.Add(-24*time.Hour).UTC().Format(time.DateOnly), 3
	must(t, s.SaveRollup(ctx, &yesterday))
	old := *r
	old.Day = fx.now.Add(-40 * 24 * time.Hour).UTC().Format(time.DateOnly)
	must(t, s.SaveRollup(ctx, &old))
	other := *r
	other.WorkspaceID = fx.other
	must(t, s.SaveRollup(ctx, &other))

	rs, err := s.Rollups(ctx, fx.ws, fx.now.Add(-30*24*time.Hour))
	must(t, err)
	if len(rs) != 2 || rs[0].High != 3 || rs[1].High != 7 || rs[1].Detail.RiskyHosts[0].HostID != fx.okDebian11 {
		t.Fatalf("rollups %+v", rs)
	}
	wantTime(t, "computed at", rs[1].ComputedAt, fx.now.Add(time.Minute))
	bad := *r
	bad.WorkspaceID = 1 << 40
	if err := s.SaveRollup(ctx, &bad); err == nil {
		t.Error("rollup of a missing workspace saved")
	}
}

func testAgentAdmin(t *testing.T, s store.Store) {
	ctx := context.Background()
	w, o := newWorkspace(t, s), newWorkspace(t, s)
	a := newAgent(t, s, w.ID)
	st, err := s.AgentState(ctx, w.ID, a.ID)
	must(t, err)
	if st.RunNowID != "" || st.LastRun != nil || st.Pending() {
		t.Fatalf("new agent state %+v", st)
	}
	must(t, s.SetAgentRunNow(ctx, w.ID, a.ID, "run-1", at(0)))
	wantCode(t, s.SetAgentRunNow(ctx, o.ID, a.ID, "run-x", at(0)), domain.ENOTFOUND)
	st, err = s.AgentState(ctx, w.ID, a.ID)
	must(t, err)
	if st.RunNowID != "run-1" || !st.Pending() {
		t.Fatalf("after run now %+v", st)
	}
	wantTimePtr(t, "run now at", st.RunNowAt, at(0))
	run := domain.AgentRun{ID: "run-1", StartedAt: at(time.Minute), Duration: 1500 * time.Millisecond, Hosts: 4, Failed: 1, Error: ""}
	must(t, s.SaveAgentRun(ctx, w.ID, a.ID, run))
	wantCode(t, s.SaveAgentRun(ctx, o.ID, a.ID, run), domain.ENOTFOUND)
	st, err = s.AgentState(ctx, w.ID, a.ID)
	must(t, err)
	if st.Pending() || st.LastRun == nil || st.LastRun.Duration != run.Duration || st.LastRun.Hosts != 4 || st.LastRun.Failed != 1 {
		t.Fatalf("after run %+v %+v", st, st.LastRun)
	}
	wantTime(t, "last run started", st.LastRun.StartedAt, at(time.Minute))

	stamp1, err := s.AgentConfigStamp(ctx, w.ID, a.ID)
	must(t, err)
	h := newHost(t, s, w.ID, unique("h"))
	h.AgentID = &a.ID
	must(t, s.UpdateHost(ctx, h))
	stamp2, err := s.AgentConfigStamp(ctx, w.ID, a.ID)
	must(t, err)
	h.Port = 2222
	must(t, s.UpdateHost(ctx, h))
	stamp3, err := s.AgentConfigStamp(ctx, w.ID, a.ID)
	must(t, err)
	if stamp1 == stamp2 || stamp2 == stamp3 {
		t.Errorf("stamp did not move with the agent's hosts: %q %q %q", stamp1, stamp2, stamp3)
	}
	other, err := s.AgentConfigStamp(ctx, o.ID, a.ID)
	must(t, err)
	if other == stamp3 {
		t.Errorf("another workspace sees the agent's stamp %q", other)
	}
	must(t, s.RotateAgentKey(ctx, w.ID, a.ID, "vga_new", []byte("new-hash-"+unique("k"))))
	wantCode(t, s.RotateAgentKey(ctx, o.ID, a.ID, "vga_x", []byte(unique("x"))), domain.ENOTFOUND)
	if _, err := s.GetAgentByKeyHash(ctx, a.KeyHash); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("old key still resolves after rotation: %v", err)
	}
	wantCode(t, s.RevokeAgent(ctx, o.ID, a.ID, at(time.Hour)), domain.ENOTFOUND)
	must(t, s.RevokeAgent(ctx, w.ID, a.ID, at(time.Hour)))
	must(t, s.RevokeAgent(ctx, w.ID, a.ID, at(2*time.Hour)))
	got, err := s.GetAgent(ctx, w.ID, a.ID)
	must(t, err)
	wantTimePtr(t, "revoked at (first revoke kept)", got.RevokedAt, at(time.Hour))
	wantCode(t, s.RotateAgentKey(ctx, w.ID, a.ID, "vga_y", []byte(unique("y"))), domain.ECONFLICT)
}

func testRetention(t *testing.T, s store.Store) {
	ctx := context.Background()
	w, o := newWorkspace(t, s), newWorkspace(t, s)
	a, ao := newAgent(t, s, w.ID), newAgent(t, s, o.ID)
	r, err := s.GetRetention(ctx, w.ID)
	must(t, err)
	if r != (domain.Retention{SnapshotDays: 90, HistoryDays: 365}) {
		t.Errorf("default retention %+v", r)
	}
	must(t, s.SetRetention(ctx, w.ID, domain.Retention{SnapshotDays: 30, HistoryDays: 0}))
	wantCode(t, s.SetRetention(ctx, w.ID, domain.Retention{SnapshotDays: -1}), domain.EINVALID)
	r, _ = s.GetRetention(ctx, w.ID)
	if r != (domain.Retention{SnapshotDays: 30}) {
		t.Errorf("retention after set %+v", r)
	}

	day := 24 * time.Hour
	// h1: old ok, old error, recent ok. h2: only an old ok (its newest
	// successful: kept) and an old error after it.
	h1, h2 := newHost(t, s, w.ID, unique("h")).ID, newHost(t, s, w.ID, unique("h")).ID
	hOther := newHost(t, s, o.ID, unique("h")).ID
	ingest(t, s, w.ID, a.ID, Report(h1, unique("r"), at(0), Packages(2)))
	ingest(t, s, w.ID, a.ID, errorReport(h1, unique("r"), at(day)))
	ingest(t, s, w.ID, a.ID, Report(h1, unique("r"), at(50*day), Packages(2)))
	ingest(t, s, w.ID, a.ID, Report(h2, unique("r"), at(0), Packages(2)))
	ingest(t, s, w.ID, a.ID, errorReport(h2, unique("r"), at(2*day)))
	ingest(t, s, o.ID, ao.ID, Report(hOther, unique("r"), at(0), Packages(2)))
	_, err = s.SaveCheckResults(ctx, w.ID, h1, []domain.CheckResult{{CheckID: "a", Status: domain.CheckPass}}, at(0))
	must(t, err)
	_, err = s.SaveCheckResults(ctx, w.ID, h1, []domain.CheckResult{{CheckID: "a", Status: domain.CheckFail}}, at(40*day))
	must(t, err)
	_, err = s.SaveCheckResults(ctx, o.ID, hOther, []domain.CheckResult{{CheckID: "a", Status: domain.CheckPass}}, at(0))
	must(t, err)

	res, err := s.SweepRetention(ctx, w.ID, at(10*day), at(10*day))
	must(t, err)
	if res.Snapshots != 3 || res.History != 1 {
		t.Errorf("swept %+v, want 3 snapshots and 1 history row", res)
	}
	s1, err := s.ListSnapshots(ctx, w.ID, h1, 0)
	must(t, err)
	s2, err := s.ListSnapshots(ctx, w.ID, h2, 0)
	must(t, err)
	if len(s1) != 1 || len(s2) != 1 || s2[0].Status != inventory.StatusOK {
		t.Errorf("after sweep: h1 %d snapshots, h2 %v", len(s1), s2)
	}
	if _, err := s.LatestSnapshot(ctx, w.ID, h2); err != nil {
		t.Errorf("h2's only successful snapshot was swept: %v", err)
	}
	hist, err := s.CheckHistory(ctx, w.ID, store.CheckResultFilter{HostID: h1}, time.Time{})
	must(t, err)
	if len(hist) != 1 || hist[0].Status != domain.CheckFail {
		t.Errorf("history after sweep %+v", hist)
	}
	so, err := s.ListSnapshots(ctx, o.ID, hOther, 0)
	must(t, err)
	ho, err := s.CheckHistory(ctx, o.ID, store.CheckResultFilter{}, time.Time{})
	must(t, err)
	if len(so) != 1 || len(ho) != 1 {
		t.Errorf("another workspace was swept: %d snapshots, %d history", len(so), len(ho))
	}
	// Zero cutoffs keep everything.
	res, err = s.SweepRetention(ctx, w.ID, time.Time{}, time.Time{})
	must(t, err)
	if res != (store.RetentionResult{}) {
		t.Errorf("zero sweep deleted %+v", res)
	}
}

func testSavedFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	w, o := newWorkspace(t, s), newWorkspace(t, s)
	f := &domain.SavedFilter{WorkspaceID: w.ID, Name: "Prod failing", Query: "label=env%3Dprod&status=failing"}
	must(t, s.SaveFilter(ctx, f))
	again := &domain.SavedFilter{WorkspaceID: w.ID, Name: "Prod failing", Query: "status=failing"}
	must(t, s.SaveFilter(ctx, again))
	if again.ID != f.ID {
		t.Errorf("same name saved as a new filter: %d vs %d", again.ID, f.ID)
	}
	must(t, s.SaveFilter(ctx, &domain.SavedFilter{WorkspaceID: o.ID, Name: "Prod failing", Query: "x"}))
	must(t, s.Optimize(ctx))
	ids, err := s.WorkspaceIDs(ctx)
	must(t, err)
	if !containsID(ids, w.ID) || !containsID(ids, o.ID) {
		t.Errorf("workspace ids %v lack %d or %d", ids, w.ID, o.ID)
	}
	fs, err := s.ListFilters(ctx, w.ID)
	must(t, err)
	if len(fs) != 1 || fs[0].Query != "status=failing" {
		t.Fatalf("filters %+v", fs)
	}
	wantCode(t, s.DeleteFilter(ctx, o.ID, f.ID), domain.ENOTFOUND)
	must(t, s.DeleteFilter(ctx, w.ID, f.ID))
	fs, _ = s.ListFilters(ctx, w.ID)
	if len(fs) != 0 {
		t.Errorf("filters after delete %+v", fs)
	}
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
