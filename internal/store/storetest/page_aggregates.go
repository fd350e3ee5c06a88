package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
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
	for _, f := range []store.CheckResultFilter{{}, {GroupID: g.ID}, {HostID: hosts[0]}, {CheckID: "y"}} {
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
