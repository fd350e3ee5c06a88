package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

func testLabelsAndGroups(t *testing.T, s store.Store) {
	ctx := context.Background()
	w, o := newWorkspace(t, s), newWorkspace(t, s)
	h1, h2 := newHost(t, s, w.ID, unique("h")), newHost(t, s, w.ID, unique("h"))
	hOther := newHost(t, s, o.ID, unique("h"))

	must(t, s.SetHostLabels(ctx, w.ID, h1.ID, map[string]string{"environment": "prod", "team": "db"}))
	must(t, s.SetHostLabels(ctx, w.ID, h1.ID, map[string]string{"environment": "staging"}))
	l, err := s.HostLabels(ctx, w.ID, h1.ID)
	must(t, err)
	if len(l) != 1 || l["environment"] != "staging" {
		t.Fatalf("labels %v", l)
	}
	wantCode(t, s.SetHostLabels(ctx, o.ID, h1.ID, map[string]string{"x": "y"}), domain.ENOTFOUND)

	g := &domain.Group{WorkspaceID: w.ID, Name: "prod", Expression: `labels.environment == "prod"`}
	must(t, s.CreateGroup(ctx, g))
	wantCode(t, s.CreateGroup(ctx, &domain.Group{WorkspaceID: w.ID, Name: "prod"}), domain.ECONFLICT)
	must(t, s.SetStaticMembers(ctx, w.ID, g.ID, []int64{h1.ID, h1.ID}))
	wantCode(t, s.SetStaticMembers(ctx, w.ID, g.ID, []int64{hOther.ID}), domain.EINVALID)
	setDynamic := func(ws, host int64, groups []int64, wantChanged bool) {
		t.Helper()
		changed, err := s.SetDynamicGroups(ctx, ws, host, groups)
		must(t, err)
		if changed != wantChanged {
			t.Errorf("SetDynamicGroups(host %d, %v) changed = %v, want %v", host, groups, changed, wantChanged)
		}
	}
	setDynamic(w.ID, h2.ID, []int64{g.ID}, true)
	setDynamic(w.ID, h2.ID, []int64{g.ID, g.ID}, false) // the same again
	setDynamic(w.ID, h1.ID, []int64{g.ID}, true)        // static and dynamic: counted once
	members, err := s.GroupHostIDs(ctx, w.ID, g.ID)
	must(t, err)
	if len(members) != 2 {
		t.Fatalf("members %v", members)
	}
	got, err := s.GetGroup(ctx, w.ID, g.ID)
	must(t, err)
	if got.Members != 2 || got.Expression != g.Expression {
		t.Fatalf("group %+v", got)
	}
	// Dynamic membership is replaced per host; static stays.
	setDynamic(w.ID, h1.ID, nil, true)
	setDynamic(w.ID, h2.ID, nil, true)
	setDynamic(w.ID, h2.ID, nil, false)
	ids, _ := s.HostGroupIDs(ctx, w.ID, h1.ID)
	if len(ids) != 1 {
		t.Fatalf("static membership lost: %v", ids)
	}
	ids, _ = s.HostGroupIDs(ctx, w.ID, h2.ID)
	if len(ids) != 0 {
		t.Fatalf("dynamic membership kept: %v", ids)
	}
	// Another workspace sees nothing and can change nothing.
	_, err = s.GetGroup(ctx, o.ID, g.ID)
	wantCode(t, err, domain.ENOTFOUND)
	_, err = s.SetDynamicGroups(ctx, o.ID, hOther.ID, []int64{g.ID})
	wantCode(t, err, domain.ENOTFOUND)
	wantCode(t, s.DeleteGroup(ctx, o.ID, g.ID), domain.ENOTFOUND)
	if gs, _ := s.ListGroups(ctx, o.ID); len(gs) != 0 {
		t.Fatalf("other workspace lists %v", gs)
	}
	g.Name = "production"
	must(t, s.UpdateGroup(ctx, g))
	must(t, s.SetAssignments(ctx, w.ID, g.ID, []domain.Assignment{{Kind: domain.AssignPack, Ref: "linux-baseline"}, {Kind: domain.AssignCheck, Ref: "custom.1"}}))
	wantCode(t, s.SetAssignments(ctx, w.ID, g.ID, []domain.Assignment{{Kind: "everything", Ref: "x"}}), domain.EINVALID)
	as, err := s.ListAssignments(ctx, w.ID)
	must(t, err)
	if len(as) != 2 {
		t.Fatalf("assignments %v", as)
	}
	must(t, s.DeleteGroup(ctx, w.ID, g.ID))
	if as, _ := s.ListAssignments(ctx, w.ID); len(as) != 0 {
		t.Fatalf("assignments survive their group: %v", as)
	}
}

func testChecksAndResults(t *testing.T, s store.Store) {
	ctx := context.Background()
	w, o := newWorkspace(t, s), newWorkspace(t, s)
	h := newHost(t, s, w.ID, unique("h"))
	must(t, s.SaveCheck(ctx, w.ID, &domain.StoredCheck{ID: "custom.1", YAML: "id: custom.1\n"}))
	must(t, s.SaveCheck(ctx, w.ID, &domain.StoredCheck{ID: "custom.1", YAML: "id: custom.1\ntitle: x\n"}))
	cs, err := s.ListChecks(ctx, w.ID)
	must(t, err)
	if len(cs) != 1 || cs[0].YAML != "id: custom.1\ntitle: x\n" {
		t.Fatalf("checks %+v", cs)
	}
	if cs, _ := s.ListChecks(ctx, o.ID); len(cs) != 0 {
		t.Fatalf("other workspace sees checks")
	}
	wantCode(t, s.DeleteCheck(ctx, o.ID, "custom.1"), domain.ENOTFOUND)

	res := func(id, status string) domain.CheckResult {
		return domain.CheckResult{CheckID: id, Status: status, Reason: status + " reason", Expected: "no", Actual: "yes"}
	}
	n, err := s.SaveCheckResults(ctx, w.ID, h.ID, []domain.CheckResult{res("a", "fail"), res("b", "pass")}, at(0))
	must(t, err)
	if n != 2 {
		t.Fatalf("first save changed %d", n)
	}
	n, err = s.SaveCheckResults(ctx, w.ID, h.ID, []domain.CheckResult{res("a", "fail"), res("b", "pass")}, at(time.Hour))
	must(t, err)
	if n != 0 {
		t.Fatalf("unchanged save changed %d", n)
	}
	n, err = s.SaveCheckResults(ctx, w.ID, h.ID, []domain.CheckResult{res("a", "pass")}, at(2*time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("third save changed %d", n)
	}
	rs, err := s.ListCheckResults(ctx, w.ID, store.CheckResultFilter{HostID: h.ID})
	must(t, err)
	if len(rs) != 1 || rs[0].CheckID != "a" || rs[0].Status != "pass" || rs[0].HostName != h.Name {
		t.Fatalf("results %+v", rs)
	}
	wantTime(t, "changed at", rs[0].ChangedAt, at(2*time.Hour))
	wantTime(t, "evaluated at", rs[0].EvaluatedAt, at(2*time.Hour))
	hist, err := s.CheckHistory(ctx, w.ID, store.CheckResultFilter{CheckID: "a"}, at(-time.Hour))
	must(t, err)
	if len(hist) != 2 || hist[0].Status != "fail" || hist[1].Status != "pass" {
		t.Fatalf("history %+v", hist)
	}
	if rs, _ := s.ListCheckResults(ctx, o.ID, store.CheckResultFilter{}); len(rs) != 0 {
		t.Fatalf("other workspace sees results %v", rs)
	}
	_, err = s.SaveCheckResults(ctx, o.ID, h.ID, nil, at(0))
	wantCode(t, err, domain.ENOTFOUND)
}
