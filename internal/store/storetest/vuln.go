package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

func advisory(id, eco, pkg, fixed string, modified time.Time, cves ...string) *vuln.Advisory {
	return &vuln.Advisory{ID: id, Related: cves, Modified: modified, Summary: "test " + id,
		Affected: []vuln.Affected{{Ecosystem: eco, Package: pkg,
			Ranges: []vuln.Range{{Events: []vuln.Event{{Introduced: "0"}, {Fixed: fixed}}}}}}}
}

func testAdvisories(t *testing.T, s store.Store) {
	ctx := context.Background()
	a1 := advisory("ALSA-1", "AlmaLinux:9", "openssl", "1:3.0.7-27.el9", at(0), "CVE-2023-1")
	a2 := advisory("ALSA-2", "AlmaLinux:9", "sudo", "1.9.5p2-7.el9_1.1", at(0), "CVE-2023-2")
	keys, err := s.UpsertAdvisories(ctx, []*vuln.Advisory{a1, a2}, at(time.Hour))
	must(t, err)
	if len(keys) != 2 || keys[0] != (store.PackageKey{Ecosystem: "AlmaLinux:9", Package: "openssl"}) {
		t.Fatalf("changed keys %v", keys)
	}
	gens, err := s.EcosystemGenerations(ctx)
	must(t, err)
	g1 := gens["AlmaLinux:9"]
	// The same records again change nothing.
	keys, err = s.UpsertAdvisories(ctx, []*vuln.Advisory{a1, a2}, at(2*time.Hour))
	must(t, err)
	gens, _ = s.EcosystemGenerations(ctx)
	if len(keys) != 0 || gens["AlmaLinux:9"] != g1 {
		t.Fatalf("unchanged import changed %v, generation %d -> %d", keys, g1, gens["AlmaLinux:9"])
	}
	// A modified advisory that moves to another package touches both.
	a1b := advisory("ALSA-1", "AlmaLinux:9", "openssl-libs", "1:3.0.7-28.el9", at(time.Minute), "CVE-2023-1")
	keys, err = s.UpsertAdvisories(ctx, []*vuln.Advisory{a1b}, at(3*time.Hour))
	must(t, err)
	if len(keys) != 2 {
		t.Fatalf("modified advisory changed %v, want old and new package", keys)
	}
	advs, gen, err := s.EcosystemAdvisories(ctx, "AlmaLinux:9")
	must(t, err)
	if len(advs) != 2 || gen <= g1 {
		t.Fatalf("%d advisories at generation %d", len(advs), gen)
	}
	got, err := s.GetAdvisory(ctx, "ALSA-1")
	must(t, err)
	if got.Affected[0].Package != "openssl-libs" || got.Affected[0].Ranges[0].Events[1].Fixed != "1:3.0.7-28.el9" {
		t.Fatalf("stored advisory %+v", got)
	}
	_, err = s.GetAdvisory(ctx, "nope")
	wantCode(t, err, domain.ENOTFOUND)
	other, _, err := s.EcosystemAdvisories(ctx, "Debian:12")
	must(t, err)
	if len(other) != 0 {
		t.Fatalf("Debian:12 has %d advisories", len(other))
	}
}

func cve(id string, score float64, sev string, modified time.Time) *vuln.CVE {
	return &vuln.CVE{ID: id, Description: "desc " + id, Modified: modified, Published: modified,
		Metrics: []vuln.CVSS{{Version: "3.1", Type: "Primary", Score: score, Severity: sev, Vector: "CVSS:3.1/AV:N"}}}
}

// findingsFixture is a workspace with two hosts and one host elsewhere.
type findingsFixture struct {
	ws, other     int64
	h1, h2, hOver int64
}

func newFindingsFixture(t *testing.T, s store.Store) findingsFixture {
	w, o := newWorkspace(t, s), newWorkspace(t, s)
	return findingsFixture{ws: w.ID, other: o.ID,
		h1: newHost(t, s, w.ID, unique("h")).ID, h2: newHost(t, s, w.ID, unique("h")).ID, hOver: newHost(t, s, o.ID, unique("h")).ID}
}

func finding(vid, pkg, installed, fixed, sev string) vuln.Finding {
	return vuln.Finding{VulnID: vid, AdvisoryID: "ALSA-" + vid, Source: "osv:AlmaLinux:9", Package: pkg,
		Installed: installed, Fixed: fixed, Rule: "installed < fixed", Severity: sev}
}

func testFindingsLifecycle(t *testing.T, s store.Store) {
	ctx := context.Background()
	fx := newFindingsFixture(t, s)
	st, err := s.SyncFindings(ctx, fx.ws, fx.h1, []vuln.Finding{
		finding("CVE-1", "openssl", "1:3.0.7-24.el9", "1:3.0.7-27.el9", "high"),
		finding("CVE-2", "sudo", "1.9.5p2-7.el9", "1.9.5p2-7.el9_1.1", "medium"),
	}, at(0))
	must(t, err)
	if st.Opened != 2 {
		t.Fatalf("first sync %+v", st)
	}
	// The same findings again: nothing written, and the caller touches.
	st, err = s.SyncFindings(ctx, fx.ws, fx.h1, []vuln.Finding{
		finding("CVE-1", "openssl", "1:3.0.7-24.el9", "1:3.0.7-27.el9", "high"),
		finding("CVE-2", "sudo", "1.9.5p2-7.el9", "1.9.5p2-7.el9_1.1", "medium"),
	}, at(30*time.Minute))
	must(t, err)
	if !st.Unchanged || st.Opened+st.Refreshed+st.Resolved != 0 {
		t.Fatalf("identical sync %+v", st)
	}
	must(t, s.TouchMatched(ctx, fx.ws, []int64{fx.h1}, at(40*time.Minute)))
	touched, _, err := s.ListFindings(ctx, fx.ws, store.FindingFilter{HostID: fx.h1})
	must(t, err)
	wantTime(t, "last seen after touch", touched[0].LastSeen, at(40*time.Minute))
	must(t, s.TouchMatched(ctx, fx.other, []int64{fx.h1}, at(50*time.Minute))) // another workspace: no effect
	touched, _, _ = s.ListFindings(ctx, fx.ws, store.FindingFilter{HostID: fx.h1})
	wantTime(t, "last seen after a foreign touch", touched[0].LastSeen, at(40*time.Minute))

	// Rescan: CVE-1 still there, CVE-2 fixed.
	st, err = s.SyncFindings(ctx, fx.ws, fx.h1, []vuln.Finding{finding("CVE-1", "openssl", "1:3.0.7-24.el9", "1:3.0.7-27.el9", "high")}, at(time.Hour))
	must(t, err)
	if st.Opened != 0 || st.Resolved != 1 || st.Refreshed != 0 {
		t.Fatalf("second sync %+v", st)
	}
	open, n, err := s.ListFindings(ctx, fx.ws, store.FindingFilter{HostID: fx.h1})
	must(t, err)
	if n != 1 || open[0].VulnID != "CVE-1" {
		t.Fatalf("open %v", open)
	}
	wantTime(t, "first seen", open[0].FirstSeen, at(0))
	wantTime(t, "last seen", open[0].LastSeen, at(time.Hour))
	resolved, _, err := s.ListFindings(ctx, fx.ws, store.FindingFilter{HostID: fx.h1, Status: vuln.FindingResolved})
	must(t, err)
	if len(resolved) != 1 || resolved[0].VulnID != "CVE-2" || resolved[0].ResolvedAt == nil {
		t.Fatalf("resolved %v", resolved)
	}
	// Last seen of a resolved finding: the last match that still saw it.
	wantTime(t, "resolved last seen", resolved[0].LastSeen, at(40*time.Minute))
	// A mark survives rescans and a resolve/reopen cycle.
	must(t, s.MarkFinding(ctx, fx.ws, open[0].ID, vuln.MarkAcceptedRisk, "compensating control", "alice", nil, at(2*time.Hour)))
	_, err = s.SyncFindings(ctx, fx.ws, fx.h1, nil, at(3*time.Hour))
	must(t, err)
	st, err = s.SyncFindings(ctx, fx.ws, fx.h1, []vuln.Finding{finding("CVE-1", "openssl", "1:3.0.7-20.el9", "1:3.0.7-27.el9", "high")}, at(4*time.Hour))
	must(t, err)
	if st.Opened != 1 {
		t.Fatalf("reopen %+v", st)
	}
	def, _, _ := s.ListFindings(ctx, fx.ws, store.FindingFilter{HostID: fx.h1, Now: at(5 * time.Hour)})
	if len(def) != 0 {
		t.Fatalf("marked finding in the default list: %v", def)
	}
	all, _, _ := s.ListFindings(ctx, fx.ws, store.FindingFilter{HostID: fx.h1, IncludeMarked: true, Now: at(5 * time.Hour)})
	if len(all) != 1 || all[0].Mark != vuln.MarkAcceptedRisk || all[0].MarkBy != "alice" || all[0].Installed != "1:3.0.7-20.el9" {
		t.Fatalf("marked finding %+v", all)
	}
	wantTime(t, "first seen after reopen", all[0].FirstSeen, at(0))
	// An expired mark no longer hides the finding.
	exp := at(6 * time.Hour)
	must(t, s.MarkFinding(ctx, fx.ws, all[0].ID, vuln.MarkFalsePositive, "scanner bug", "bob", &exp, at(5*time.Hour)))
	if l, _, _ := s.ListFindings(ctx, fx.ws, store.FindingFilter{HostID: fx.h1, Now: at(7 * time.Hour)}); len(l) != 1 {
		t.Fatalf("expired mark still hides the finding: %v", l)
	}
	must(t, s.MarkFinding(ctx, fx.ws, all[0].ID, "", "", "", nil, at(8*time.Hour)))
	got, err := s.GetFinding(ctx, fx.ws, all[0].ID)
	must(t, err)
	if got.Mark != "" || got.MarkReason != "" {
		t.Fatalf("cleared mark %+v", got)
	}
	// Another workspace can neither read nor mark it.
	_, err = s.GetFinding(ctx, fx.other, all[0].ID)
	wantCode(t, err, domain.ENOTFOUND)
	wantCode(t, s.MarkFinding(ctx, fx.other, all[0].ID, vuln.MarkFalsePositive, "x", "eve", nil, at(0)), domain.ENOTFOUND)
	_, err = s.SyncFindings(ctx, fx.other, fx.h1, nil, at(0))
	wantCode(t, err, domain.ENOTFOUND)
}

func testFindingsQueries(t *testing.T, s store.Store) {
	ctx := context.Background()
	fx := newFindingsFixture(t, s)
	must(t, s.ReplaceKEV(ctx, []vuln.KEV{{CVE: "CVE-2024-6387", DateAdded: at(0), DueDate: at(24 * time.Hour), Ransomware: "Known"}}))
	must(t, s.UpsertEPSS(ctx, []vuln.EPSS{{CVE: "CVE-2024-6387", Score: 0.9, Percentile: 0.99, Date: at(0), Model: "v2025"}}))
	_, err := s.UpsertCVEs(ctx, []*vuln.CVE{cve("CVE-2024-6387", 8.1, "HIGH", at(0))})
	must(t, err)
	for _, h := range []int64{fx.h1, fx.h2} {
		_, err := s.SyncFindings(ctx, fx.ws, h, []vuln.Finding{
			finding("CVE-2024-6387", "openssh", "8.7p1-38.el9", "8.7p1-38.el9_4.1", "medium"),
			finding("CVE-2023-9", "zlib", "1.2.11-40.el9", "", "low"),
		}, at(0))
		must(t, err)
	}
	_, err = s.SyncFindings(ctx, fx.other, fx.hOver, []vuln.Finding{finding("CVE-2024-6387", "openssh", "1", "2", "high")}, at(0))
	must(t, err)

	// NVD's score replaces the advisory's severity on existing findings.
	must(t, s.RescoreFindings(ctx, []string{"CVE-2024-6387"}))
	tests := []struct {
		name string
		f    store.FindingFilter
		want int
	}{
		{"all open", store.FindingFilter{}, 4},
		{"kev only", store.FindingFilter{KEVOnly: true}, 2},
		{"fix available", store.FindingFilter{FixOnly: true}, 2},
		{"severity high after rescore", store.FindingFilter{Severity: "high"}, 2},
		{"severity medium none left", store.FindingFilter{Severity: "medium"}, 0},
		{"query by package", store.FindingFilter{Query: "zli"}, 2},
		{"query by CVE", store.FindingFilter{Query: "2024-63"}, 2},
		{"one host", store.FindingFilter{HostID: fx.h2}, 2},
		{"paged", store.FindingFilter{Limit: 1, Offset: 1}, 1},
	}
	for _, tc := range tests {
		l, total, err := s.ListFindings(ctx, fx.ws, tc.f)
		must(t, err)
		if len(l) != tc.want {
			t.Errorf("%s: %d findings (total %d), want %d", tc.name, len(l), total, tc.want)
		}
	}
	l, _, _ := s.ListFindings(ctx, fx.ws, store.FindingFilter{KEVOnly: true})
	f := l[0]
	if f.KEV == nil || f.KEV.Ransomware != "Known" || f.EPSS == nil || f.EPSS.Percentile != 0.99 || f.CVSSScore != 8.1 || f.HostName == "" {
		t.Fatalf("joined finding %+v", f)
	}
	sums, total, err := s.VulnSummaries(ctx, fx.ws, store.FindingFilter{})
	must(t, err)
	if total != 2 || sums[0].VulnID != "CVE-2024-6387" || sums[0].Hosts != 2 || sums[0].KEV == nil || !sums[0].FixAvailable || sums[0].Description == "" {
		t.Fatalf("summaries %+v", sums)
	}
	if sums[1].FixAvailable {
		t.Errorf("zlib has no fix: %+v", sums[1])
	}
	counts, err := s.SeverityCounts(ctx, fx.ws, at(0))
	must(t, err)
	if counts["high"] != 2 || counts["low"] != 2 || counts["kev"] != 2 || counts["total"] != 4 {
		t.Fatalf("counts %v", counts)
	}
	if c, _ := s.SeverityCounts(ctx, fx.other, at(0)); c["total"] != 1 {
		t.Fatalf("other workspace counts %v", c)
	}
}

func testFeedState(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.GetFeedState(ctx, "nvd")
	wantCode(t, err, domain.ENOTFOUND)
	now := at(0)
	must(t, s.SaveFeedState(ctx, &store.FeedState{Feed: "nvd", Source: "file.json", LastAttemptAt: &now, LastSuccessAt: &now, Cursor: "c1", Records: 39}))
	later := at(time.Hour)
	must(t, s.SaveFeedState(ctx, &store.FeedState{Feed: "nvd", Source: "file.json", LastAttemptAt: &later, LastSuccessAt: &now, Cursor: "c1", Records: 39, LastError: "boom"}))
	got, err := s.GetFeedState(ctx, "nvd")
	must(t, err)
	if got.Cursor != "c1" || got.Records != 39 || got.LastError != "boom" {
		t.Fatalf("feed state %+v", got)
	}
	wantTimePtr(t, "last success", got.LastSuccessAt, now)
	wantTimePtr(t, "last attempt", got.LastAttemptAt, later)
	list, err := s.ListFeedStates(ctx)
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("states %v", list)
	}
}

func testMatchTargets(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorkspace(t, s)
	a := newAgent(t, s, w.ID)
	h := newHost(t, s, w.ID, unique("h"))
	h.AgentID = &a.ID
	must(t, s.UpdateHost(ctx, h))
	never := newHost(t, s, w.ID, unique("never"))
	r := Report(h.ID, unique("r"), at(0), Packages(3))
	r.System.OS.Family, r.System.OS.IDLike = "redhat", []string{"rhel", "fedora"}
	_, err := s.IngestReport(ctx, w.ID, a.ID, r, at(0))
	must(t, err)
	all, err := s.MatchTargets(ctx, nil)
	must(t, err)
	var found bool
	for _, tg := range all {
		if tg.HostID == never.ID {
			t.Fatal("a host never scanned is a match target")
		}
		if tg.HostID == h.ID {
			found = tg.OS.Family == "redhat" && len(tg.OS.IDLike) == 2 && tg.WorkspaceID == w.ID
		}
	}
	if !found {
		t.Fatalf("scanned host not a target with its OS: %+v", all)
	}
	byName, err := s.MatchTargets(ctx, []string{r.Packages[0].Name})
	must(t, err)
	if len(byName) != 1 || byName[0].HostID != h.ID {
		t.Fatalf("targets by package %+v", byName)
	}
	none, err := s.MatchTargets(ctx, []string{"no-such-package"})
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("targets for an absent package %+v", none)
	}
	pkgs, err := s.HostPackages(ctx, w.ID, h.ID)
	must(t, err)
	if len(pkgs) != 3 {
		t.Fatalf("host packages %d", len(pkgs))
	}
}
