package storetest

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// testCheckCounts drives results through every path that changes them
// (new, changed, unchanged, removed, excepted, host deleted) and compares
// CheckCounts, whose unfiltered form reads counters kept by triggers, with
// the same counts made from the results themselves.
func testCheckCounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	w, o := newWorkspace(t, s), newWorkspace(t, s)
	var hosts []int64
	for range 6 {
		hosts = append(hosts, newHost(t, s, w.ID, unique("h")).ID)
	}
	hOther := newHost(t, s, o.ID, unique("h")).ID
	g := &domain.Group{WorkspaceID: w.ID, Name: unique("g")}
	must(t, s.CreateGroup(ctx, g))
	must(t, s.SetStaticMembers(ctx, w.ID, g.ID, hosts[:3]))

	rng := rand.New(rand.NewPCG(8, 10))
	statuses := []string{domain.CheckPass, domain.CheckFail, domain.CheckError, domain.CheckNotApplicable}
	checks := []string{"a", "b", "c", "d", "e"}
	for round := range 8 {
		for _, h := range hosts {
			var rs []domain.CheckResult
			for _, c := range checks {
				if rng.IntN(6) == 0 {
					continue // unassigned this round: the result goes
				}
				rs = append(rs, domain.CheckResult{CheckID: c, Status: statuses[rng.IntN(len(statuses))]})
			}
			// Order does not matter to the store.
			rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
			_, err := s.SaveCheckResults(ctx, w.ID, h, rs, at(time.Duration(round)*time.Hour))
			must(t, err)
		}
	}
	_, err := s.SaveCheckResults(ctx, o.ID, hOther, []domain.CheckResult{{CheckID: "a", Status: domain.CheckFail}}, at(0))
	must(t, err)
	// Failing and erroring results of b on the group are excepted until
	// 20 h; a result of a on one host for good.
	exp := at(20 * time.Hour)
	gid, h4 := g.ID, hosts[4]
	must(t, s.CreateException(ctx, &domain.Exception{WorkspaceID: w.ID, Target: "check", Kind: "accepted_risk", CheckID: "b",
		Scope: "group", GroupID: &gid, Reason: "r", CreatedBy: "alice", ExpiresAt: &exp}, at(9*time.Hour)))
	must(t, s.CreateException(ctx, &domain.Exception{WorkspaceID: w.ID, Target: "check", Kind: "mitigated", CheckID: "a",
		Scope: "host", HostID: &h4, Reason: "r", CreatedBy: "alice"}, at(9*time.Hour)))
	_, err = s.ApplyExceptions(ctx, w.ID, 0, at(9*time.Hour))
	must(t, err)
	must(t, s.DeleteHost(ctx, w.ID, hosts[5])) // its results go by cascade

	want := func(f store.CheckResultFilter, now time.Time) []store.CheckCount {
		rs, err := s.ListCheckResults(ctx, w.ID, f)
		must(t, err)
		type key struct{ check, status string }
		m := map[key]*store.CheckCount{}
		var order []key
		for _, r := range rs {
			k := key{r.CheckID, r.Status}
			if m[k] == nil {
				m[k] = &store.CheckCount{CheckID: r.CheckID, Status: r.Status}
				order = append(order, k)
			}
			m[k].Results++
			if r.Excepted(now) {
				m[k].Excepted++
			}
		}
		out := []store.CheckCount{}
		for _, k := range order {
			out = append(out, *m[k])
		}
		// By check, then status, as CheckCounts orders them.
		for i := 1; i < len(out); i++ {
			for j := i; j > 0 && (out[j].CheckID < out[j-1].CheckID || out[j].CheckID == out[j-1].CheckID && out[j].Status < out[j-1].Status); j-- {
				out[j], out[j-1] = out[j-1], out[j]
			}
		}
		return out
	}
	sawExcepted := false
	for _, f := range []store.CheckResultFilter{{}, {GroupID: g.ID}, {HostID: hosts[4]}, {CheckID: "b"}, {Status: domain.CheckFail}} {
		for _, now := range []time.Time{at(10 * time.Hour), at(30 * time.Hour)} {
			got, err := s.CheckCounts(ctx, w.ID, f, now)
			must(t, err)
			exp := want(f, now)
			if len(got) == 0 {
				got = []store.CheckCount{}
			}
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("CheckCounts(%+v, %s):\n got %v\nwant %v", f, now.Sub(base), got, exp)
			}
			for _, c := range got {
				sawExcepted = sawExcepted || c.Excepted > 0
			}
		}
	}
	if !sawExcepted {
		t.Fatal("the fixture excepts nothing: the test would not see exceptions miscounted")
	}
	// The other workspace counts its own result only.
	got, err := s.CheckCounts(ctx, o.ID, store.CheckResultFilter{}, at(0))
	must(t, err)
	if len(got) != 1 || got[0] != (store.CheckCount{CheckID: "a", Status: domain.CheckFail, Results: 1}) {
		t.Errorf("other workspace: %+v", got)
	}
	// Removing every result leaves no check listed.
	for _, h := range hosts[:5] {
		_, err := s.SaveCheckResults(ctx, w.ID, h, nil, at(40*time.Hour))
		must(t, err)
	}
	if got, err := s.CheckCounts(ctx, w.ID, store.CheckResultFilter{}, at(40*time.Hour)); err != nil || len(got) != 0 {
		t.Errorf("after removing all results: %+v, %v", got, err)
	}
}

// testRecentCheckChanges compares RecentCheckChanges with a replay of the
// whole history: the last n changes per check of hosts that have a result
// now, each with the host's status before it.
func testRecentCheckChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorkspace(t, s)
	var hosts []int64
	for range 5 {
		hosts = append(hosts, newHost(t, s, w.ID, unique("h")).ID)
	}
	g := &domain.Group{WorkspaceID: w.ID, Name: unique("g")}
	must(t, s.CreateGroup(ctx, g))
	must(t, s.SetStaticMembers(ctx, w.ID, g.ID, hosts[1:3]))
	// A group of every host is read walking the history.
	big := &domain.Group{WorkspaceID: w.ID, Name: unique("g")}
	must(t, s.CreateGroup(ctx, big))
	must(t, s.SetStaticMembers(ctx, w.ID, big.ID, hosts))
	rng := rand.New(rand.NewPCG(1, 2))
	statuses := []string{domain.CheckPass, domain.CheckFail, domain.CheckError}
	for round := range 10 {
		for _, h := range hosts {
			var rs []domain.CheckResult
			for _, c := range []string{"x", "y", "z"} {
				if rng.IntN(5) > 0 {
					rs = append(rs, domain.CheckResult{CheckID: c, Status: statuses[rng.IntN(len(statuses))]})
				}
			}
			// Two hosts report at the same time: ties go by insertion order.
			_, err := s.SaveCheckResults(ctx, w.ID, h, rs, at(time.Duration(round)*time.Hour))
			must(t, err)
		}
	}
	for _, f := range []store.CheckResultFilter{{}, {GroupID: g.ID}, {GroupID: big.ID}, {HostID: hosts[0]}, {CheckID: "y"}} {
		for _, n := range []int{1, 4, 100} {
			got, err := s.RecentCheckChanges(ctx, w.ID, f, []string{"x", "y", "z", "none"}, n)
			must(t, err)
			hist, err := s.CheckHistory(ctx, w.ID, f, time.Time{})
			must(t, err)
			rs, err := s.ListCheckResults(ctx, w.ID, f)
			must(t, err)
			have := map[string]bool{}
			for _, r := range rs {
				have[fmt.Sprint(r.CheckID, r.HostID)] = true
			}
			state := map[string]string{}
			want := map[string][]store.CheckStep{}
			for _, c := range hist {
				k := fmt.Sprint(c.CheckID, c.HostID)
				prev := state[k]
				state[k] = c.Status
				if have[k] {
					want[c.CheckID] = append([]store.CheckStep{{HostID: c.HostID, Status: c.Status, Previous: prev}}, want[c.CheckID]...)
				}
			}
			for id, steps := range want {
				want[id] = steps[:min(n, len(steps))]
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("RecentCheckChanges(%+v, %d):\n got %v\nwant %v", f, n, got, want)
			}
		}
	}
	if got, err := s.RecentCheckChanges(ctx, newWorkspace(t, s).ID, store.CheckResultFilter{}, []string{"x"}, 5); err != nil || len(got) != 0 {
		t.Errorf("another workspace sees changes: %v, %v", got, err)
	}
}

// testVulnSummaries drives findings through every path that changes them
// (opened, refreshed with a new severity, resolved, reopened, marked by
// hand with and without an expiry, excepted, rescored, host deleted) and
// compares VulnSummaries and SeverityCounts, which read the trigger-kept
// vuln_summaries, with the same grouping made from the findings.
func testVulnSummaries(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorkspace(t, s)
	other := newWorkspace(t, s)
	var hosts []int64
	for range 6 {
		hosts = append(hosts, newHost(t, s, w.ID, unique("h")).ID)
	}
	hOther := newHost(t, s, other.ID, unique("h")).ID
	prefix := unique("CVE-7")
	vid := func(i int) string { return fmt.Sprintf("%s-%04d", prefix, i) }
	sevs := []string{"critical", "high", "medium", "low", "unknown"}
	rng := rand.New(rand.NewPCG(3, 4))
	sync := func(round int) {
		for _, h := range hosts {
			var fs []vuln.Finding
			for i := range 8 {
				if rng.IntN(3) == 0 {
					continue
				}
				fixed := ""
				if rng.IntN(2) == 0 {
					fixed = "2"
				}
				f := finding(vid(i), "pkg-a", "1", fixed, sevs[(i+rng.IntN(2))%len(sevs)])
				f.CVSSScore = float64(rng.IntN(4)) + 5
				fs = append(fs, f)
				if rng.IntN(4) == 0 { // a second package of the same host and vulnerability
					g := f
					g.Package, g.Severity = "pkg-b", sevs[rng.IntN(len(sevs))]
					fs = append(fs, g)
				}
			}
			_, err := s.SyncFindings(ctx, w.ID, h, fs, at(time.Duration(round)*time.Hour))
			must(t, err)
		}
	}
	for round := range 4 {
		sync(round)
		// A read in between folds what changed so far: the later changes
		// must be seen again.
		_, _, err := s.VulnSummaries(ctx, w.ID, store.FindingFilter{Now: at(time.Hour)})
		must(t, err)
	}
	// The other workspace has the same vulnerability: it must not count.
	_, err := s.SyncFindings(ctx, other.ID, hOther, []vuln.Finding{finding(vid(0), "pkg-a", "1", "2", "critical")}, at(0))
	must(t, err)

	open, _, err := s.ListFindings(ctx, w.ID, store.FindingFilter{IncludeMarked: true, Limit: 1000})
	must(t, err)
	if len(open) < 10 {
		t.Fatalf("fixture has %d open findings", len(open))
	}
	// Hand marks: one for good, one that expires at 10 h.
	must(t, s.MarkFinding(ctx, w.ID, open[0].ID, vuln.MarkFalsePositive, "r", "bob", nil, at(5*time.Hour)))
	expires := at(10 * time.Hour)
	must(t, s.MarkFinding(ctx, w.ID, open[1].ID, vuln.MarkAcceptedRisk, "r", "bob", &expires, at(5*time.Hour)))
	must(t, s.MarkFinding(ctx, w.ID, open[2].ID, vuln.MarkAcceptedRisk, "r", "bob", nil, at(5*time.Hour)))
	must(t, s.MarkFinding(ctx, w.ID, open[2].ID, "", "", "bob", nil, at(5*time.Hour))) // and cleared
	// An exception for one vulnerability on all hosts.
	must(t, s.CreateException(ctx, &domain.Exception{WorkspaceID: w.ID, Target: "finding", Kind: "mitigated", VulnID: vid(3),
		Scope: "all", Reason: "r", CreatedBy: "alice"}, at(5*time.Hour)))
	_, err = s.ApplyExceptions(ctx, w.ID, 0, at(5*time.Hour))
	must(t, err)
	// NVD scores one vulnerability: its findings take that severity.
	_, err = s.UpsertCVEs(ctx, []*vuln.CVE{cve(vid(4), 9.8, "CRITICAL", at(0))})
	must(t, err)
	must(t, s.RescoreFindings(ctx, []string{vid(4)}))
	sync(5) // some resolve, some reopen
	// Folded now: the host's deletion alone must mark what it changes.
	_, _, err = s.VulnSummaries(ctx, w.ID, store.FindingFilter{Now: at(6 * time.Hour)})
	must(t, err)
	must(t, s.DeleteHost(ctx, w.ID, hosts[5]))
	// A mark that expires at 10 h on a finding still open: from then on
	// it counts again, without any write.
	still, _, err := s.ListFindings(ctx, w.ID, store.FindingFilter{HostID: hosts[0], Limit: 1000})
	must(t, err)
	if len(still) == 0 {
		t.Fatal("no open finding left on the first host")
	}
	must(t, s.MarkFinding(ctx, w.ID, still[0].ID, vuln.MarkAcceptedRisk, "r", "bob", &expires, at(6*time.Hour)))

	want := func(f store.FindingFilter) ([]store.VulnSummary, int) {
		all, _, err := s.ListFindings(ctx, w.ID, store.FindingFilter{Severity: f.Severity, KEVOnly: f.KEVOnly, Now: f.Now, Limit: 1000})
		must(t, err)
		// A search matches a substring of the CVE, package or advisory,
		// ignoring case.
		var fs []vuln.Finding
		q := strings.ToLower(f.Query)
		for _, x := range all {
			if q == "" || strings.Contains(strings.ToLower(x.VulnID), q) || strings.Contains(strings.ToLower(x.Package), q) ||
				strings.Contains(strings.ToLower(x.AdvisoryID), q) {
				fs = append(fs, x)
			}
		}
		by := map[string]*store.VulnSummary{}
		hostSet := map[string]map[int64]bool{}
		for _, x := range fs {
			v := by[x.VulnID]
			if v == nil {
				v = &store.VulnSummary{VulnID: x.VulnID, Severity: x.Severity, CVSSScore: x.CVSSScore, FirstSeen: x.FirstSeen}
				by[x.VulnID], hostSet[x.VulnID] = v, map[int64]bool{}
			}
			if severityRank(x.Severity) < severityRank(v.Severity) {
				v.Severity = x.Severity
			}
			v.CVSSScore = max(v.CVSSScore, x.CVSSScore)
			if x.FirstSeen.Before(v.FirstSeen) {
				v.FirstSeen = x.FirstSeen
			}
			v.FixAvailable = v.FixAvailable || x.Fixed != ""
			hostSet[x.VulnID][x.HostID] = true
			v.Hosts = len(hostSet[x.VulnID])
		}
		var out []store.VulnSummary
		for _, v := range by {
			out = append(out, *v)
		}
		slices.SortFunc(out, func(a, b store.VulnSummary) int {
			return cmp.Or(cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)), cmp.Compare(b.CVSSScore, a.CVSSScore),
				cmp.Compare(b.Hosts, a.Hosts), cmp.Compare(a.VulnID, b.VulnID))
		})
		total := len(out)
		if f.Offset > 0 {
			out = out[min(f.Offset, len(out)):]
		}
		if f.Limit > 0 {
			out = out[:min(f.Limit, len(out))]
		}
		return out, total
	}
	for _, now := range []time.Time{at(6 * time.Hour), at(11 * time.Hour)} {
		counts, err := s.SeverityCounts(ctx, w.ID, now)
		must(t, err)
		fs, _, err := s.ListFindings(ctx, w.ID, store.FindingFilter{Now: now, Limit: 1000})
		must(t, err)
		wantCounts := map[string]int{"kev": 0}
		for _, x := range fs {
			wantCounts[x.Severity]++
			wantCounts["total"]++
			if x.KEV != nil {
				wantCounts["kev"]++
			}
		}
		if !reflect.DeepEqual(counts, wantCounts) {
			t.Errorf("SeverityCounts at %s = %v, want %v", now.Sub(base), counts, wantCounts)
		}
		for _, f := range []store.FindingFilter{{}, {Severity: "critical"}, {Severity: "medium"}, {Severity: "unknown"},
			{Limit: 3, Offset: 2}, {Limit: 3, Offset: 500}, {KEVOnly: true},
			{Query: strings.ToLower(prefix) + "-000"}, {Query: "PKG-B"}, {Query: "pkg-b", Severity: "high"}, {Query: "no-such-thing"},
			{Query: "no-such-thing", Offset: 5, Limit: 3}, {Query: "_"}} {
			f.Now = now
			got, total, err := s.VulnSummaries(ctx, w.ID, f)
			must(t, err)
			exp, expTotal := want(f)
			for i := range got {
				got[i].Description, got[i].EPSS, got[i].FirstSeen = "", nil, got[i].FirstSeen.UTC()
			}
			for i := range exp {
				exp[i].FirstSeen = exp[i].FirstSeen.UTC()
			}
			if len(got) == 0 {
				got = nil
			}
			if len(exp) == 0 {
				exp = nil
			}
			if f.Query != "" && f.Query != "no-such-thing" && f.Query != "_" && expTotal == 0 {
				t.Errorf("search %q matches nothing in the fixture: the case proves nothing", f.Query)
			}
			if total != expTotal || !reflect.DeepEqual(got, exp) {
				t.Errorf("VulnSummaries(%+v) at %s: total %d, want %d\n got %+v\nwant %+v", f, now.Sub(base), total, expTotal, got, exp)
			}
		}
	}
}

func severityRank(s string) int {
	if i := slices.Index([]string{"critical", "high", "medium", "low"}, s); i >= 0 {
		return i
	}
	return 4
}

// testGroupCheckCounts drives results and memberships (static, dynamic,
// both at once for one host, hosts and groups deleted) in a random order
// and checks after every step that each group's counters, as CheckCounts
// reads them, equal a count of the group's results.
func testGroupCheckCounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorkspace(t, s)
	rng := rand.New(rand.NewPCG(13, 21))
	var hosts, groups []int64
	newGroup := func() {
		g := &domain.Group{WorkspaceID: w.ID, Name: unique("g")}
		must(t, s.CreateGroup(ctx, g))
		groups = append(groups, g.ID)
	}
	for range 6 {
		hosts = append(hosts, newHost(t, s, w.ID, unique("h")).ID)
	}
	for range 3 {
		newGroup()
	}
	some := func(ids []int64) []int64 {
		var out []int64
		for _, id := range ids {
			if rng.IntN(2) == 0 {
				out = append(out, id)
			}
		}
		return out
	}
	statuses := []string{domain.CheckPass, domain.CheckFail, domain.CheckError, domain.CheckNotApplicable}
	check := func(step int, op string) {
		t.Helper()
		for _, g := range groups {
			got, err := s.CheckCounts(ctx, w.ID, store.CheckResultFilter{GroupID: g}, at(time.Hour))
			must(t, err)
			rs, err := s.ListCheckResults(ctx, w.ID, store.CheckResultFilter{GroupID: g})
			must(t, err)
			want := map[string]int{}
			for _, r := range rs {
				want[r.CheckID+"/"+r.Status]++
			}
			have := map[string]int{}
			for _, c := range got {
				have[c.CheckID+"/"+c.Status] += c.Results
			}
			if !reflect.DeepEqual(have, want) {
				t.Fatalf("step %d (%s), group %d: counters %v, results %v", step, op, g, have, want)
			}
		}
	}
	for step := range 150 {
		op := ""
		switch n := rng.IntN(20); {
		case n < 10:
			op = "save results"
			var rs []domain.CheckResult
			for _, c := range []string{"a", "b", "c", "d"} {
				if rng.IntN(5) > 0 {
					rs = append(rs, domain.CheckResult{CheckID: c, Status: statuses[rng.IntN(len(statuses))]})
				}
			}
			_, err := s.SaveCheckResults(ctx, w.ID, hosts[rng.IntN(len(hosts))], rs, at(time.Duration(step)*time.Minute))
			must(t, err)
		case n < 14:
			op = "static members"
			must(t, s.SetStaticMembers(ctx, w.ID, groups[rng.IntN(len(groups))], some(hosts)))
		case n < 18:
			op = "dynamic groups"
			_, err := s.SetDynamicGroups(ctx, w.ID, hosts[rng.IntN(len(hosts))], some(groups))
			must(t, err)
		case n == 18:
			op = "delete host"
			i := rng.IntN(len(hosts))
			must(t, s.DeleteHost(ctx, w.ID, hosts[i]))
			hosts[i] = newHost(t, s, w.ID, unique("h")).ID
		default:
			op = "delete group"
			i := rng.IntN(len(groups))
			must(t, s.DeleteGroup(ctx, w.ID, groups[i]))
			groups = append(groups[:i], groups[i+1:]...)
			newGroup()
		}
		check(step, op)
	}
}
