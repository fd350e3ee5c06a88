package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/sapnotes"
)

func sapNote(num, title string, score float64) *sapnotes.Note {
	return &sapnotes.Note{Number: num, Title: title, Priority: sapnotes.PriorityHigh, CVSSScore: score,
		CVEs: []string{"CVE-2026-0001", "CVE-2026-0001"}, Released: at(0),
		Affected: []sapnotes.Affected{{Component: "SAP_BASIS", Versions: []string{"750", "751"}, Fixed: map[string]string{"750": "SP0031"}}}}
}

func sapMatch(sid, note, verdict string) sapnotes.Match {
	return sapnotes.Match{SID: sid, Note: note, Verdict: verdict, Component: "SAP_BASIS", Release: "750", Reason: "because " + verdict}
}

func testSAP(t *testing.T, s store.Store) {
	ctx := context.Background()

	// Catalogue: new, unchanged, changed.
	n, err := s.UpsertSAPNotes(ctx, []*sapnotes.Note{sapNote("3000001", "One", 7.5), sapNote("3000002", "Two", 5)}, at(0))
	must(t, err)
	if n != 2 {
		t.Fatalf("first upsert changed %d, want 2", n)
	}
	n, err = s.UpsertSAPNotes(ctx, []*sapnotes.Note{sapNote("3000001", "One", 7.5), sapNote("3000002", "Two (v2)", 5)}, at(time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("second upsert changed %d, want 1", n)
	}
	notes, err := s.SAPNotes(ctx)
	must(t, err)
	if len(notes) != 2 || notes[1].Title != "Two (v2)" || notes[0].Affected[0].Fixed["750"] != "SP0031" || !notes[0].Released.Equal(at(0)) {
		t.Fatalf("notes = %+v", notes)
	}
	_, err = s.GetSAPNote(ctx, "9999999")
	wantCode(t, err, domain.ENOTFOUND)

	// Scope flag.
	ws := newWorkspace(t, s)
	other := newWorkspace(t, s)
	on, err := s.SAPInScope(ctx, ws.ID)
	must(t, err)
	if on {
		t.Fatal("SAP in scope by default")
	}
	must(t, s.SetSAPInScope(ctx, ws.ID, true))
	if on, _ = s.SAPInScope(ctx, ws.ID); !on {
		t.Fatal("flag not saved")
	}
	wantCode(t, s.SetSAPInScope(ctx, 1<<40, true), domain.ENOTFOUND)

	// Systems: replaced per host, scoped by workspace.
	h := newHost(t, s, ws.ID, "sapapp1")
	foreign := newHost(t, s, other.ID, "elsewhere")
	prd := inventory.SAPSystem{SID: "PRD", Kernel: &inventory.SAPKernel{Release: "753", PatchLevel: "1100", Source: "disp+work -version"},
		Components: []inventory.SAPComponent{{Name: "SAP_BASIS", Release: "750", SPLevel: "0012"}}}
	must(t, s.ReplaceSAPSystems(ctx, ws.ID, h.ID, []inventory.SAPSystem{prd, {SID: "QAS"}}, at(0)))
	must(t, s.ReplaceSAPSystems(ctx, ws.ID, h.ID, []inventory.SAPSystem{prd}, at(time.Hour)))
	wantCode(t, s.ReplaceSAPSystems(ctx, ws.ID, foreign.ID, []inventory.SAPSystem{prd}, at(0)), domain.ENOTFOUND)
	rows, err := s.ListSAPSystems(ctx, ws.ID, 0)
	must(t, err)
	if len(rows) != 1 || rows[0].System.SID != "PRD" || rows[0].HostName != "sapapp1" || rows[0].System.Kernel.PatchLevel != "1100" {
		t.Fatalf("systems = %+v", rows)
	}
	wantTime(t, "scanned at", rows[0].ScannedAt, at(time.Hour))
	if rows, _ := s.ListSAPSystems(ctx, other.ID, 0); len(rows) != 0 {
		t.Fatalf("other workspace sees %+v", rows)
	}
	hosts, err := s.SAPHosts(ctx)
	must(t, err)
	if len(hosts) != 1 || hosts[0].HostID != h.ID {
		t.Fatalf("SAP hosts = %+v", hosts)
	}

	// Findings life cycle.
	st, err := s.SyncSAPFindings(ctx, ws.ID, h.ID, []sapnotes.Match{
		sapMatch("PRD", "3000001", sapnotes.Applies), sapMatch("PRD", "3000002", sapnotes.ManualReview),
	}, at(0))
	must(t, err)
	if st.Opened != 2 {
		t.Fatalf("first sync %+v", st)
	}
	_, err = s.SyncSAPFindings(ctx, other.ID, h.ID, nil, at(0))
	wantCode(t, err, domain.ENOTFOUND)
	// 3000002 no longer matches: it resolves by itself.
	st, err = s.SyncSAPFindings(ctx, ws.ID, h.ID, []sapnotes.Match{sapMatch("PRD", "3000001", sapnotes.Applies)}, at(time.Hour))
	must(t, err)
	if st.Resolved != 1 || st.Refreshed != 1 {
		t.Fatalf("second sync %+v", st)
	}
	open, err := s.ListSAPFindings(ctx, ws.ID, store.SAPFindingFilter{Status: sapnotes.FindingOpen})
	must(t, err)
	if len(open) != 1 || open[0].Note != "3000001" || open[0].HostName != "sapapp1" || open[0].Reason != "because applies" {
		t.Fatalf("open = %+v", open)
	}
	wantTime(t, "first seen", open[0].FirstSeen, at(0))
	wantTime(t, "last seen", open[0].LastSeen, at(time.Hour))
	resolved, _ := s.ListSAPFindings(ctx, ws.ID, store.SAPFindingFilter{Status: sapnotes.FindingResolved})
	if len(resolved) != 1 || resolved[0].ResolvedManually {
		t.Fatalf("resolved = %+v", resolved)
	}
	wantTimePtr(t, "resolved at", resolved[0].ResolvedAt, at(time.Hour))

	// Manual resolution holds across a rescan that still matches.
	n, err = s.ResolveSAPFindings(ctx, ws.ID, "3000001", 0, "implemented with SNOTE", "alice", at(2*time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("resolved %d", n)
	}
	if n, _ := s.ResolveSAPFindings(ctx, other.ID, "3000001", 0, "x", "mallory", at(2*time.Hour)); n != 0 {
		t.Fatalf("another workspace resolved %d", n)
	}
	_, err = s.SyncSAPFindings(ctx, ws.ID, h.ID, []sapnotes.Match{sapMatch("PRD", "3000001", sapnotes.Applies), sapMatch("PRD", "3000002", sapnotes.ManualReview)}, at(3*time.Hour))
	must(t, err)
	all, _ := s.ListSAPFindings(ctx, ws.ID, store.SAPFindingFilter{Note: "3000001"})
	if len(all) != 1 || all[0].Status != sapnotes.FindingResolved || !all[0].ResolvedManually || all[0].ResolveReason != "implemented with SNOTE" || all[0].ResolvedBy != "alice" {
		t.Fatalf("after rescan = %+v", all)
	}
	// The auto-resolved one reopens, keeping its first-seen time.
	again, _ := s.ListSAPFindings(ctx, ws.ID, store.SAPFindingFilter{Note: "3000002"})
	if len(again) != 1 || again[0].Status != sapnotes.FindingOpen || again[0].ResolvedAt != nil {
		t.Fatalf("reopened = %+v", again)
	}
	wantTime(t, "first seen kept", again[0].FirstSeen, at(0))
	n, err = s.ReopenSAPFindings(ctx, ws.ID, "3000001", h.ID, at(4*time.Hour))
	must(t, err)
	all, _ = s.ListSAPFindings(ctx, ws.ID, store.SAPFindingFilter{Note: "3000001"})
	if n != 1 || all[0].Status != sapnotes.FindingOpen || all[0].ResolvedManually || all[0].ResolveReason != "" {
		t.Fatalf("reopen %d: %+v", n, all)
	}

	// CVE context from the KEV and EPSS feeds.
	must(t, s.ReplaceKEV(ctx, []vuln.KEV{{CVE: "CVE-2026-0001", DateAdded: at(0)}}))
	must(t, s.UpsertEPSS(ctx, []vuln.EPSS{{CVE: "CVE-2026-0001", Score: 0.5, Percentile: 0.9, Date: at(0)}, {CVE: "CVE-2026-0009", Score: 0.1, Date: at(0)}}))
	info, err := s.CVEContext(ctx, []string{"CVE-2026-0001", "CVE-2026-0002", "CVE-2026-0001"})
	must(t, err)
	if c := info["CVE-2026-0001"]; len(info) != 1 || !c.KEV || c.EPSS != 0.5 || c.EPSSPct != 0.9 {
		t.Fatalf("CVE context = %+v", info)
	}

	// Deleting the host takes its systems and findings.
	must(t, s.DeleteHost(ctx, ws.ID, h.ID))
	if rows, _ := s.ListSAPSystems(ctx, ws.ID, 0); len(rows) != 0 {
		t.Fatalf("systems after delete: %+v", rows)
	}
	if fs, _ := s.ListSAPFindings(ctx, ws.ID, store.SAPFindingFilter{}); len(fs) != 0 {
		t.Fatalf("findings after delete: %+v", fs)
	}
}

func testSAPDBLogins(t *testing.T, s store.Store) {
	ctx := context.Background()
	ws, other := newWorkspace(t, s), newWorkspace(t, s)
	cred := &domain.Credential{WorkspaceID: ws.ID, Name: "hana-ro", Username: "VIGIL_RO", SealedPassword: []byte("sealed")}
	must(t, s.CreateCredential(ctx, cred))
	foreign := &domain.Credential{WorkspaceID: other.ID, Name: "theirs", Username: "X"}
	must(t, s.CreateCredential(ctx, foreign))

	all := &domain.SAPDBLogin{WorkspaceID: ws.ID, CredentialID: cred.ID, CreatedBy: "admin"}
	must(t, s.CreateSAPDBLogin(ctx, all))
	prd := &domain.SAPDBLogin{WorkspaceID: ws.ID, SID: "PRD", CredentialID: cred.ID, Address: "hana01:30015", Database: "PRD", Schema: "SAPHANADB", CreatedBy: "admin", CreatedAt: at(0)}
	must(t, s.CreateSAPDBLogin(ctx, prd))
	if all.ID == 0 || prd.ID == 0 || all.ID == prd.ID {
		t.Fatalf("ids %d %d", all.ID, prd.ID)
	}
	// One login per SID, one for every system.
	wantCode(t, s.CreateSAPDBLogin(ctx, &domain.SAPDBLogin{WorkspaceID: ws.ID, SID: "PRD", CredentialID: cred.ID, CreatedBy: "a"}), domain.ECONFLICT)
	wantCode(t, s.CreateSAPDBLogin(ctx, &domain.SAPDBLogin{WorkspaceID: ws.ID, CredentialID: cred.ID, CreatedBy: "a"}), domain.ECONFLICT)
	// Another workspace's credential is not found, in either direction.
	wantCode(t, s.CreateSAPDBLogin(ctx, &domain.SAPDBLogin{WorkspaceID: ws.ID, SID: "QAS", CredentialID: foreign.ID, CreatedBy: "a"}), domain.ENOTFOUND)
	wantCode(t, s.CreateSAPDBLogin(ctx, &domain.SAPDBLogin{WorkspaceID: other.ID, SID: "QAS", CredentialID: cred.ID, CreatedBy: "a"}), domain.ENOTFOUND)

	got, err := s.ListSAPDBLogins(ctx, ws.ID)
	must(t, err)
	if len(got) != 2 || got[0].SID != "PRD" || got[1].SID != "" || got[0].CredentialName != "hana-ro" || got[0].Address != "hana01:30015" ||
		got[0].Database != "PRD" || got[0].Schema != "SAPHANADB" || got[0].CreatedBy != "admin" || !got[0].CreatedAt.Equal(at(0)) {
		t.Fatalf("logins = %+v", got)
	}
	if theirs, err := s.ListSAPDBLogins(ctx, other.ID); err != nil || len(theirs) != 0 {
		t.Fatalf("other workspace sees %+v %v", theirs, err)
	}
	wantCode(t, s.DeleteSAPDBLogin(ctx, other.ID, prd.ID), domain.ENOTFOUND)
	must(t, s.DeleteSAPDBLogin(ctx, ws.ID, prd.ID))
	wantCode(t, s.DeleteSAPDBLogin(ctx, ws.ID, prd.ID), domain.ENOTFOUND)
	// Deleting the credential takes its logins with it.
	must(t, s.DeleteCredential(ctx, ws.ID, cred.ID))
	if got, err = s.ListSAPDBLogins(ctx, ws.ID); err != nil || len(got) != 0 {
		t.Fatalf("after the credential went: %+v %v", got, err)
	}
}
