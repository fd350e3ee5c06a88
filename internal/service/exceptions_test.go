package service_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/store/sqlite"
	"github.com/vigil-project/vigil/internal/vuln"
)

// queue records the alert evaluations asked for.
type queue struct{ hosts []int64 }

func (q *queue) EnqueueHostAlerts(_ context.Context, _, hostID int64) error {
	q.hosts = append(q.hosts, hostID)
	return nil
}

func (q *queue) EnqueueDeliveries(context.Context, int64, []int64) error { return nil }

// clock is an injected, settable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newRiskService(t *testing.T) (*service.Service, *clock, service.Actor, int64) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := service.New(st, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := &clock{t: now}
	svc.Now = c.now
	svc.NoBackground = true
	ws := &domain.Workspace{Name: "W", Slug: "w"}
	if err := st.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	h := &domain.Host{WorkspaceID: ws.ID, Name: "web-1", Address: "web-1.example.net", Port: 22, Transport: "ssh"}
	if err := st.CreateHost(ctx, h); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SyncFindings(ctx, ws.ID, h.ID, []vuln.Finding{
		{VulnID: "CVE-2024-1", AdvisoryID: "DSA-1", Source: "osv:Debian:12", Package: "openssl", Installed: "1", Fixed: "2", Severity: "high"},
		{VulnID: "CVE-2024-2", AdvisoryID: "DSA-2", Source: "osv:Debian:12", Package: "sudo", Installed: "1", Fixed: "2", Severity: "medium"},
	}, now); err != nil {
		t.Fatal(err)
	}
	a := service.Actor{UserID: 1, Login: "alice", WorkspaceID: ws.ID, Role: domain.RoleOperator}
	return svc, c, a, h.ID
}

func openVulns(t *testing.T, svc *service.Service, a service.Actor) []string {
	t.Helper()
	fs, _, err := svc.ListFindings(context.Background(), a, store.FindingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fs {
		out = append(out, f.VulnID)
	}
	return out
}

// TestExceptionLifecycle drives an exception through the service with an
// injected clock: it hides the finding from the open list and the worklist,
// the finding reopens at the expiry instant, the sweep records "reopened at
// expiry", and every step is in the history and the audit log.
func TestExceptionLifecycle(t *testing.T) {
	ctx := context.Background()
	svc, clk, a, hostID := newRiskService(t)
	q := &queue{}
	svc.AlertQueue = q
	// The evaluations asked for below need a rule a report can fire
	// (TestNoAlertEvaluationWithoutRules).
	if err := svc.Store.CreateAlertRule(ctx, &alert.Rule{WorkspaceID: a.WorkspaceID, Name: "KEV", Event: alert.EventKEVFinding, Enabled: true,
		Mode: alert.ModeImmediate}); err != nil {
		t.Fatal(err)
	}
	expires := now.Add(72 * time.Hour)
	e, err := svc.CreateException(ctx, a, domain.ExceptionInput{Target: "finding", Kind: "accepted_risk", VulnID: "CVE-2024-1",
		Scope: "host", HostID: hostID, Reason: "patch window on Friday", ExpiresAt: &expires})
	if err != nil {
		t.Fatal(err)
	}
	if got := openVulns(t, svc, a); len(got) != 1 || got[0] != "CVE-2024-2" {
		t.Fatalf("open with the exception: %v", got)
	}
	// The host's alert rules are evaluated again: its alert resolves.
	if len(q.hosts) != 1 || q.hosts[0] != hostID {
		t.Errorf("alert evaluations after create: %v", q.hosts)
	}
	wl, err := svc.Worklist(ctx, a, service.WorklistFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(wl.Items) != 1 || wl.Items[0].Package != "sudo" {
		t.Fatalf("worklist with the exception: %+v", wl.Items)
	}

	// A viewer may read but not decide.
	viewer := a
	viewer.Role = domain.RoleViewer
	if _, err := svc.CreateException(ctx, viewer, domain.ExceptionInput{Target: "finding", Kind: "accepted_risk", VulnID: "CVE-2024-2",
		Scope: "all", Reason: "x"}); domain.ErrorCode(err) != domain.EFORBIDDEN {
		t.Errorf("viewer created an exception: %v", err)
	}
	if _, err := svc.ListExceptions(ctx, viewer, store.ExceptionFilter{}); err != nil {
		t.Errorf("viewer cannot list: %v", err)
	}

	// A day later, bob moves the expiry.
	clk.t = now.Add(24 * time.Hour)
	bob := a
	bob.Login = "bob"
	expires2 := now.Add(48 * time.Hour)
	if _, err := svc.UpdateException(ctx, bob, e.ID, domain.ExceptionInput{ExpiresAt: &expires2, Reason: "patch window moved"}); err != nil {
		t.Fatal(err)
	}
	// Nothing due before the expiry.
	clk.t = expires2.Add(-time.Second)
	if n, err := svc.SweepExpiredExceptions(ctx); err != nil || n != 0 {
		t.Fatalf("early sweep: %d, %v", n, err)
	}
	if got := openVulns(t, svc, a); len(got) != 1 {
		t.Fatalf("open a second before expiry: %v", got)
	}
	// At the expiry the finding is open again, before the sweep has run.
	clk.t = expires2
	if got := openVulns(t, svc, a); len(got) != 2 {
		t.Fatalf("open at expiry: %v", got)
	}
	q.hosts = nil
	if n, err := svc.SweepExpiredExceptions(ctx); err != nil || n != 1 {
		t.Fatalf("sweep at expiry: %d, %v", n, err)
	}
	// The lapse re-raises the host's alerts without waiting for a scan.
	if len(q.hosts) != 1 || q.hosts[0] != hostID {
		t.Errorf("alert evaluations after the sweep: %v", q.hosts)
	}
	if n, _ := svc.SweepExpiredExceptions(ctx); n != 0 {
		t.Errorf("second sweep expired %d again", n)
	}
	got, hist, err := svc.GetException(ctx, a, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != domain.ExceptionExpired || got.ExpiredAt == nil || !got.ExpiredAt.Equal(expires2) {
		t.Errorf("after the sweep: state %s, expired at %v", got.State, got.ExpiredAt)
	}
	var acts []string
	for _, h := range hist {
		acts = append(acts, h.Action+"/"+h.Actor)
	}
	want := []string{"reopened_at_expiry/system", "updated/bob", "created/alice"}
	if len(acts) != 3 || acts[0] != want[0] || acts[1] != want[1] || acts[2] != want[2] {
		t.Errorf("history %v, want %v", acts, want)
	}
	// The finding's copy is cleared, not just lapsed.
	fs, _, _ := svc.ListFindings(ctx, a, store.FindingFilter{IncludeMarked: true, VulnID: "CVE-2024-1"})
	if len(fs) != 1 || fs[0].Mark != "" || fs[0].ExceptionID != 0 {
		t.Errorf("finding after the sweep: %+v", fs)
	}
	// The audit log has the user's changes and the system's.
	entries, _, err := svc.Store.ListAudit(ctx, a.WorkspaceID, store.AuditFilter{SubjectType: "exception"})
	if err != nil {
		t.Fatal(err)
	}
	var audit []string
	for _, en := range entries {
		audit = append(audit, en.Action+"/"+en.Actor)
	}
	wantAudit := map[string]bool{"exception.create/alice": true, "exception.update/bob": true, "exception.expire/system": true}
	if len(audit) != len(wantAudit) {
		t.Errorf("audit %v", audit)
	}
	for _, x := range audit {
		if !wantAudit[x] {
			t.Errorf("unexpected audit entry %s in %v", x, audit)
		}
	}
	// Revoked: read-only from then on.
	if _, err := svc.RevokeException(ctx, a, e.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateException(ctx, a, e.ID, domain.ExceptionInput{Reason: "again"}); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Errorf("update after revoke: %v", err)
	}
}

// TestExceptionAppliesToNewFindings: an exception made before a finding
// exists covers it as soon as matching opens it.
func TestExceptionAppliesToNewFindings(t *testing.T) {
	ctx := context.Background()
	svc, _, a, hostID := newRiskService(t)
	if _, err := svc.CreateException(ctx, a, domain.ExceptionInput{Target: "finding", Kind: "false_positive", VulnID: "CVE-2024-3",
		Scope: "all", Reason: "not reachable: the binary is not installed"}); err != nil {
		t.Fatal(err)
	}
	// MatchHost would sync then apply; without feed data the test syncs
	// and applies the way it does.
	if _, err := svc.Store.SyncFindings(ctx, a.WorkspaceID, hostID, []vuln.Finding{
		{VulnID: "CVE-2024-1", AdvisoryID: "DSA-1", Source: "osv:Debian:12", Package: "openssl", Installed: "1", Fixed: "2", Severity: "high"},
		{VulnID: "CVE-2024-2", AdvisoryID: "DSA-2", Source: "osv:Debian:12", Package: "sudo", Installed: "1", Fixed: "2", Severity: "medium"},
		{VulnID: "CVE-2024-3", AdvisoryID: "DSA-3", Source: "osv:Debian:12", Package: "curl", Installed: "1", Fixed: "2", Severity: "critical"},
	}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.Store.ApplyExceptions(ctx, a.WorkspaceID, hostID, now.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("apply: %d, %v", n, err)
	}
	if got := openVulns(t, svc, a); len(got) != 2 {
		t.Errorf("open %v, want CVE-2024-3 excepted", got)
	}
}

// TestExceptionSuppressesAlertUntilExpiry: a KEV finding raises an alert;
// an accepted-risk exception resolves it; at the exception's expiry the
// sweep re-evaluates the host and the alert is open again, with no scan in
// between.
func TestExceptionSuppressesAlertUntilExpiry(t *testing.T) {
	ctx := context.Background()
	svc, clk, a, hostID := newRiskService(t)
	key := make([]byte, secrets.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	if svc.Sealer, _ = secrets.NewSealer(key); svc.Sealer == nil {
		t.Fatal("no sealer")
	}
	q := &queue{}
	svc.AlertQueue = q
	a.Role = domain.RoleAdmin
	if err := svc.Store.ReplaceKEV(ctx, []vuln.KEV{{CVE: "CVE-2024-1", DateAdded: now.AddDate(0, 0, -3), DueDate: now.AddDate(0, 0, 18)}}); err != nil {
		t.Fatal(err)
	}
	ch, err := svc.CreateChannel(ctx, a, service.ChannelInput{Name: "hook", Kind: alert.ChannelWebhook,
		Config: alert.ChannelConfig{URL: "https://hooks.example.net/vigil"}, Secrets: &alert.ChannelSecrets{WebhookSecret: "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateAlertRule(ctx, a, alert.Rule{Name: "KEV", Event: alert.EventKEVFinding, Enabled: true, ChannelIDs: []int64{ch.ID}}); err != nil {
		t.Fatal(err)
	}
	open := func() int {
		t.Helper()
		for _, h := range q.hosts {
			if _, err := svc.EvaluateHostAlerts(ctx, a.WorkspaceID, h); err != nil {
				t.Fatal(err)
			}
		}
		q.hosts = nil
		list, _, err := svc.ListAlerts(ctx, a, store.AlertFilter{Status: alert.StatusOpen})
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	q.hosts = []int64{hostID} // what ingest would ask for
	if n := open(); n != 1 {
		t.Fatalf("open alerts after the scan: %d", n)
	}
	expires := now.Add(24 * time.Hour)
	if _, err := svc.CreateException(ctx, a, domain.ExceptionInput{Target: "finding", Kind: "accepted_risk", VulnID: "CVE-2024-1",
		Scope: "all", Reason: "isolated network segment", ExpiresAt: &expires}); err != nil {
		t.Fatal(err)
	}
	if n := open(); n != 0 {
		t.Fatalf("open alerts under the exception: %d", n)
	}
	clk.t = expires
	if _, err := svc.SweepExpiredExceptions(ctx); err != nil {
		t.Fatal(err)
	}
	if n := open(); n != 1 {
		t.Fatalf("open alerts after the expiry: %d", n)
	}
}

// A workspace without an enabled rule that a report can fire queues no
// evaluation after a change to a host's findings; a disabled rule or one
// for another kind of event does not count.
func TestNoAlertEvaluationWithoutRules(t *testing.T) {
	ctx := context.Background()
	svc, _, a, hostID := newRiskService(t)
	q := &queue{}
	svc.AlertQueue = q
	create := func(vuln string) {
		t.Helper()
		if _, err := svc.CreateException(ctx, a, domain.ExceptionInput{Target: "finding", Kind: "false_positive", VulnID: vuln,
			Scope: "host", HostID: hostID, Reason: "not installed"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []alert.Rule{{Name: "off", Event: alert.EventKEVFinding}, {Name: "feeds", Event: alert.EventFeedFailed, Enabled: true}} {
		r.WorkspaceID, r.Mode = a.WorkspaceID, alert.ModeImmediate
		if err := svc.Store.CreateAlertRule(ctx, &r); err != nil {
			t.Fatal(err)
		}
	}
	create("CVE-2024-1")
	if len(q.hosts) != 0 {
		t.Fatalf("evaluations queued without a host rule: %v", q.hosts)
	}
	if err := svc.Store.CreateAlertRule(ctx, &alert.Rule{WorkspaceID: a.WorkspaceID, Name: "KEV", Event: alert.EventKEVFinding, Enabled: true,
		Mode: alert.ModeImmediate}); err != nil {
		t.Fatal(err)
	}
	create("CVE-2024-2")
	if len(q.hosts) != 1 || q.hosts[0] != hostID {
		t.Fatalf("evaluations with a rule: %v", q.hosts)
	}
}
