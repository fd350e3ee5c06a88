package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// exceptionFixture: three hosts, h1 and h2 in a group, each with findings
// for CVE-A (openssl and openssh) and CVE-B (sudo), and one check result
// per host; plus a host in another workspace with the same CVE.
type exceptionFixture struct {
	findingsFixture
	h3, group int64
}

func newExceptionFixture(t *testing.T, s store.Store) exceptionFixture {
	ctx := context.Background()
	fx := exceptionFixture{findingsFixture: newFindingsFixture(t, s)}
	fx.h3 = newHost(t, s, fx.ws, unique("h")).ID
	g := &domain.Group{WorkspaceID: fx.ws, Name: unique("web")}
	must(t, s.CreateGroup(ctx, g))
	fx.group = g.ID
	must(t, s.SetStaticMembers(ctx, fx.ws, g.ID, []int64{fx.h1, fx.h2}))
	for _, h := range []int64{fx.h1, fx.h2, fx.h3} {
		_, err := s.SyncFindings(ctx, fx.ws, h, []vuln.Finding{
			finding("CVE-A", "openssl", "1", "2", "high"),
			finding("CVE-A", "openssh", "1", "2", "high"),
			finding("CVE-B", "sudo", "1", "2", "medium"),
		}, at(0))
		must(t, err)
		_, err = s.SaveCheckResults(ctx, fx.ws, h, []domain.CheckResult{
			{CheckID: "ssh-root", Status: domain.CheckFail, Reason: "PermitRootLogin yes"},
			{CheckID: "ntp", Status: domain.CheckPass},
		}, at(0))
		must(t, err)
	}
	_, err := s.SyncFindings(ctx, fx.other, fx.hOver, []vuln.Finding{finding("CVE-A", "openssl", "1", "2", "high")}, at(0))
	must(t, err)
	return fx
}

// marks returns "host/vuln/package" → mark of every open finding of the
// workspace, marked or not.
func marks(t *testing.T, s store.Store, ws int64, now time.Time) map[[3]string]string {
	t.Helper()
	fs, _, err := s.ListFindings(context.Background(), ws, store.FindingFilter{IncludeMarked: true, Now: now})
	must(t, err)
	out := map[[3]string]string{}
	for _, f := range fs {
		m := f.Mark
		if m != "" && !f.MarkActive(now) {
			m = "expired:" + m
		}
		out[[3]string{f.HostName, f.VulnID, f.Package}] = m
	}
	return out
}

func hostName(t *testing.T, s store.Store, ws, id int64) string {
	h, err := s.GetHost(context.Background(), ws, id)
	must(t, err)
	return h.Name
}

func testExceptionScopes(t *testing.T, s store.Store) {
	ctx := context.Background()
	fx := newExceptionFixture(t, s)
	n1, n2, n3 := hostName(t, s, fx.ws, fx.h1), hostName(t, s, fx.ws, fx.h2), hostName(t, s, fx.ws, fx.h3)
	h1, g := fx.h1, fx.group
	type want map[[3]string]string
	tests := []struct {
		name string
		exc  domain.Exception
		want want // findings that carry the exception's kind; all others unmarked
	}{
		{"host and package", domain.Exception{Target: "finding", Kind: "accepted_risk", VulnID: "CVE-A", Package: "openssl", Scope: "host", HostID: &h1},
			want{{n1, "CVE-A", "openssl"}: "accepted_risk"}},
		{"host, any package", domain.Exception{Target: "finding", Kind: "mitigated", VulnID: "CVE-A", Scope: "host", HostID: &h1},
			want{{n1, "CVE-A", "openssl"}: "mitigated", {n1, "CVE-A", "openssh"}: "mitigated"}},
		{"group", domain.Exception{Target: "finding", Kind: "false_positive", VulnID: "CVE-B", Scope: "group", GroupID: &g},
			want{{n1, "CVE-B", "sudo"}: "false_positive", {n2, "CVE-B", "sudo"}: "false_positive"}},
		{"all hosts", domain.Exception{Target: "finding", Kind: "accepted_risk", VulnID: "CVE-A", Package: "openssh", Scope: "all"},
			want{{n1, "CVE-A", "openssh"}: "accepted_risk", {n2, "CVE-A", "openssh"}: "accepted_risk", {n3, "CVE-A", "openssh"}: "accepted_risk"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.exc
			e.WorkspaceID, e.Reason, e.CreatedBy = fx.ws, "test "+tt.name, "alice"
			must(t, s.CreateException(ctx, &e, at(time.Hour)))
			_, err := s.ApplyExceptions(ctx, fx.ws, 0, at(time.Hour))
			must(t, err)
			got := marks(t, s, fx.ws, at(time.Hour))
			for k, m := range got {
				if m != tt.want[k] {
					t.Errorf("%v marked %q, want %q", k, m, tt.want[k])
				}
			}
			// The other workspace's identical finding is untouched.
			for k, m := range marks(t, s, fx.other, at(time.Hour)) {
				if m != "" {
					t.Errorf("other workspace's %v marked %q", k, m)
				}
			}
			must(t, s.RevokeException(ctx, fx.ws, e.ID, "bob", at(2*time.Hour)))
			_, err = s.ApplyExceptions(ctx, fx.ws, 0, at(2*time.Hour))
			must(t, err)
			for k, m := range marks(t, s, fx.ws, at(2*time.Hour)) {
				if m != "" {
					t.Errorf("after revoke %v still marked %q", k, m)
				}
			}
		})
	}
}

func testExceptionPrecedenceAndChecks(t *testing.T, s store.Store) {
	ctx := context.Background()
	fx := newExceptionFixture(t, s)
	n1, n2 := hostName(t, s, fx.ws, fx.h1), hostName(t, s, fx.ws, fx.h2)
	h1, h2, g := fx.h1, fx.h2, fx.group
	broad := &domain.Exception{WorkspaceID: fx.ws, Target: "finding", Kind: "accepted_risk", VulnID: "CVE-B", Scope: "all", Reason: "broad", CreatedBy: "alice"}
	narrow := &domain.Exception{WorkspaceID: fx.ws, Target: "finding", Kind: "false_positive", VulnID: "CVE-B", Scope: "host", HostID: &h1, Reason: "narrow", CreatedBy: "alice"}
	must(t, s.CreateException(ctx, broad, at(time.Hour)))
	must(t, s.CreateException(ctx, narrow, at(time.Hour)))
	// A mark set by hand on h2's finding stands against the broad exception.
	fs, _, err := s.ListFindings(ctx, fx.ws, store.FindingFilter{HostID: fx.h2, VulnID: "CVE-B"})
	must(t, err)
	must(t, s.MarkFinding(ctx, fx.ws, fs[0].ID, vuln.MarkFalsePositive, "by hand", "carol", nil, at(time.Hour)))
	_, err = s.ApplyExceptions(ctx, fx.ws, 0, at(time.Hour))
	must(t, err)
	got := marks(t, s, fx.ws, at(time.Hour))
	if m := got[[3]string{n1, "CVE-B", "sudo"}]; m != "false_positive" {
		t.Errorf("host exception should beat all-hosts one: %q", m)
	}
	if m := got[[3]string{n2, "CVE-B", "sudo"}]; m != "false_positive" {
		t.Errorf("hand mark replaced: %q", m)
	}
	f2, err := s.GetFinding(ctx, fx.ws, fs[0].ID)
	must(t, err)
	if f2.MarkReason != "by hand" || f2.MarkBy != "carol" {
		t.Errorf("hand mark = %q by %q", f2.MarkReason, f2.MarkBy)
	}

	// Check results: a group exception with an expiry.
	exp := at(3 * time.Hour)
	ce := &domain.Exception{WorkspaceID: fx.ws, Target: "check", Kind: "accepted_risk", CheckID: "ssh-root", Scope: "group", GroupID: &g,
		Reason: "jump hosts", CreatedBy: "alice", ExpiresAt: &exp}
	must(t, s.CreateException(ctx, ce, at(time.Hour)))
	n, err := s.ApplyExceptions(ctx, fx.ws, fx.h1, at(time.Hour)) // one host only
	must(t, err)
	if n != 1 {
		t.Errorf("applying to h1 changed %d rows, want its one check result", n)
	}
	_, err = s.ApplyExceptions(ctx, fx.ws, 0, at(time.Hour))
	must(t, err)
	rs, err := s.ListCheckResults(ctx, fx.ws, store.CheckResultFilter{CheckID: "ssh-root"})
	must(t, err)
	for _, r := range rs {
		inGroup := r.HostID == h1 || r.HostID == h2
		if r.Excepted(at(time.Hour)) != inGroup || (inGroup && (r.ExceptionID != ce.ID || r.ExceptionKind != "accepted_risk")) {
			t.Errorf("result on host %d: %+v (in group %v)", r.HostID, r, inGroup)
		}
		if inGroup && r.Excepted(exp) {
			t.Errorf("result on host %d still excepted at its expiry", r.HostID)
		}
	}
	pass, err := s.ListCheckResults(ctx, fx.ws, store.CheckResultFilter{CheckID: "ntp"})
	must(t, err)
	if pass[0].ExceptionID != 0 {
		t.Errorf("ntp result carries exception %d", pass[0].ExceptionID)
	}
	// Re-saving results (a new scan) keeps the materialised exception.
	_, err = s.SaveCheckResults(ctx, fx.ws, fx.h1, []domain.CheckResult{{CheckID: "ssh-root", Status: domain.CheckFail}}, at(2*time.Hour))
	must(t, err)
	rs, _ = s.ListCheckResults(ctx, fx.ws, store.CheckResultFilter{CheckID: "ssh-root", HostID: fx.h1})
	if len(rs) != 1 || rs[0].ExceptionID != ce.ID {
		t.Errorf("after a rescan: %+v", rs)
	}
}

func testExceptionExpiryAndHistory(t *testing.T, s store.Store) {
	ctx := context.Background()
	fx := newExceptionFixture(t, s)
	n1 := hostName(t, s, fx.ws, fx.h1)
	h1 := fx.h1
	key := [3]string{n1, "CVE-A", "openssl"}
	exp := at(24 * time.Hour)
	broad := &domain.Exception{WorkspaceID: fx.ws, Target: "finding", Kind: "mitigated", VulnID: "CVE-A", Scope: "all", Reason: "WAF rule", CreatedBy: "alice"}
	e := &domain.Exception{WorkspaceID: fx.ws, Target: "finding", Kind: "accepted_risk", VulnID: "CVE-A", Package: "openssl", Scope: "host", HostID: &h1,
		Reason: "vendor patch due", CreatedBy: "alice", ExpiresAt: &exp}
	must(t, s.CreateException(ctx, e, at(time.Hour)))
	_, err := s.ApplyExceptions(ctx, fx.ws, 0, at(time.Hour))
	must(t, err)
	if m := marks(t, s, fx.ws, at(time.Hour))[key]; m != "accepted_risk" {
		t.Fatalf("mark %q", m)
	}
	// Extend it: an update event, and the finding's copy follows.
	exp2 := at(48 * time.Hour)
	e.Reason, e.ExpiresAt = "vendor patch slipped", &exp2
	must(t, s.UpdateException(ctx, e, "bob", at(2*time.Hour)))
	_, err = s.ApplyExceptions(ctx, fx.ws, 0, at(2*time.Hour))
	must(t, err)
	fs, _, _ := s.ListFindings(ctx, fx.ws, store.FindingFilter{HostID: fx.h1, VulnID: "CVE-A", IncludeMarked: true})
	for _, f := range fs {
		if f.Package == "openssl" && (f.MarkReason != "vendor patch slipped" || f.MarkBy != "bob" || f.MarkExpiresAt == nil || !f.MarkExpiresAt.Equal(exp2)) {
			t.Errorf("finding copy after update: %q by %q until %v", f.MarkReason, f.MarkBy, f.MarkExpiresAt)
		}
	}
	// Nothing due yet.
	got, err := s.ExpireExceptions(ctx, at(47*time.Hour))
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("expired early: %v", got)
	}
	// At the expiry the finding is open again, before any sweep.
	if m := marks(t, s, fx.ws, exp2)[key]; m != "expired:accepted_risk" {
		t.Errorf("at expiry the mark is %q", m)
	}
	open, _, err := s.ListFindings(ctx, fx.ws, store.FindingFilter{HostID: fx.h1, VulnID: "CVE-A", Now: exp2})
	must(t, err)
	if len(open) != 2 {
		t.Errorf("open findings at expiry: %d, want both packages", len(open))
	}
	// A broad exception made meanwhile takes over once the sweep runs.
	must(t, s.CreateException(ctx, broad, at(3*time.Hour)))
	got, err = s.ExpireExceptions(ctx, exp2)
	must(t, err)
	if len(got) != 1 || got[0].ID != e.ID || got[0].ExpiredAt == nil {
		t.Fatalf("expired %+v", got)
	}
	again, err := s.ExpireExceptions(ctx, exp2.Add(time.Hour))
	must(t, err)
	if len(again) != 0 {
		t.Errorf("a lapse recorded twice: %v", again)
	}
	_, err = s.ApplyExceptions(ctx, fx.ws, 0, exp2)
	must(t, err)
	if m := marks(t, s, fx.ws, exp2)[key]; m != "mitigated" {
		t.Errorf("after the sweep the broad exception should govern, mark %q", m)
	}
	got1, err := s.GetException(ctx, fx.ws, e.ID)
	must(t, err)
	if got1.ExpiredAt == nil || got1.HostName != n1 {
		t.Errorf("stored %+v", got1)
	}
	// Listing by state at a given time.
	for state, want := range map[string]int{"active": 1, "expired": 1, "revoked": 0, "": 2} {
		l, err := s.ListExceptions(ctx, fx.ws, store.ExceptionFilter{State: state, Now: exp2})
		must(t, err)
		if len(l) != want {
			t.Errorf("state %q lists %d, want %d", state, len(l), want)
		}
	}
	// Revoked: no more changes.
	must(t, s.RevokeException(ctx, fx.ws, e.ID, "carol", exp2.Add(time.Hour)))
	wantCode(t, s.RevokeException(ctx, fx.ws, e.ID, "carol", exp2.Add(time.Hour)), domain.ECONFLICT)
	wantCode(t, s.UpdateException(ctx, e, "carol", exp2.Add(time.Hour)), domain.ECONFLICT)

	hist, err := s.ExceptionHistory(ctx, fx.ws, e.ID, 0)
	must(t, err)
	var acts []string
	for _, h := range hist {
		acts = append(acts, h.Action+" by "+h.Actor)
	}
	wantActs := []string{"revoked by carol", "reopened_at_expiry by system", "updated by bob", "created by alice"}
	if len(acts) != len(wantActs) {
		t.Fatalf("history %v, want %v", acts, wantActs)
	}
	for i := range acts {
		if acts[i] != wantActs[i] {
			t.Errorf("history[%d] = %q, want %q", i, acts[i], wantActs[i])
		}
	}
	if hist[2].Reason != "vendor patch slipped" || hist[3].Reason != "vendor patch due" {
		t.Errorf("history reasons %q, %q", hist[2].Reason, hist[3].Reason)
	}
	// Scoped by workspace.
	other, err := s.ExceptionHistory(ctx, fx.other, e.ID, 0)
	must(t, err)
	if len(other) != 0 {
		t.Errorf("another workspace sees %d events", len(other))
	}
	_, err = s.GetException(ctx, fx.other, e.ID)
	wantCode(t, err, domain.ENOTFOUND)
	wantCode(t, s.RevokeException(ctx, fx.other, broad.ID, "mallory", exp2), domain.ENOTFOUND)
	// A scope naming another workspace's host is refused.
	hOver := fx.hOver
	bad := &domain.Exception{WorkspaceID: fx.ws, Target: "finding", Kind: "accepted_risk", VulnID: "CVE-A", Scope: "host", HostID: &hOver, Reason: "x", CreatedBy: "mallory"}
	wantCode(t, s.CreateException(ctx, bad, exp2), domain.EINVALID)
	// Deleting the host keeps the exception and its history.
	must(t, s.DeleteHost(ctx, fx.ws, fx.h1))
	kept, err := s.GetException(ctx, fx.ws, e.ID)
	must(t, err)
	if kept.HostID != nil {
		t.Errorf("exception still names deleted host %d", *kept.HostID)
	}
}
