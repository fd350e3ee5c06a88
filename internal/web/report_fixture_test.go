package web

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// riskFixture is a small fleet for the risk workflow pages: two Debian
// hosts in a group, findings with KEV and EPSS data, a listening nginx, a
// failing check, and an exception.
type riskFixture struct {
	web, db   *domain.Host
	group     *domain.Group
	exception *domain.Exception
	opensslID int64 // the openssl finding on web
}

func newRiskFixture(t *testing.T, e *env) riskFixture {
	t.Helper()
	ctx := context.Background()
	now := e.svc.Now()
	// The results below are stored by hand; a background re-evaluation
	// after the group is saved would replace them with the (no) assigned
	// checks' results.
	e.svc.NoBackground = true
	fx := riskFixture{web: e.host("web-01"), db: e.host("db-01")}
	pkgs := []inventory.Package{deb("libssl3", "3.0.11-1~deb12u2", "openssl"), deb("openssl", "3.0.11-1~deb12u2", "openssl"),
		deb("nginx-core", "1.22.1-9", "nginx"), deb("sudo", "1.9.13p3-1", "sudo")}
	for _, h := range []*domain.Host{fx.web, fx.db} {
		r := report(h, now.Add(-time.Hour), pkgs...)
		if h == fx.web {
			r.System.Network.Listening = []inventory.Listener{{Proto: "tcp", Address: "0.0.0.0", Port: 443, Process: "nginx"}}
		}
		e.ingest(r)
	}
	st := e.svc.Store
	if err := st.ReplaceKEV(ctx, []vuln.KEV{{CVE: "CVE-2024-0001", Name: "OpenSSL flaw", DateAdded: now.AddDate(0, 0, -20),
		DueDate: now.AddDate(0, 0, -1)}}); err != nil {
		t.Fatal(err)
	}
	if err := st.UpsertEPSS(ctx, []vuln.EPSS{{CVE: "CVE-2024-0001", Score: 0.42, Percentile: 0.97, Date: now},
		{CVE: "CVE-2024-0003", Score: 0.91, Percentile: 0.99, Date: now}}); err != nil {
		t.Fatal(err)
	}
	f := func(vid, pkg, fixed, sev string, score float64) vuln.Finding {
		return vuln.Finding{VulnID: vid, AdvisoryID: "DSA-" + vid[9:], Source: "osv:Debian:12", Package: pkg,
			Binaries:  map[string][]string{"openssl": {"libssl3", "openssl"}, "nginx": {"nginx-core"}, "sudo": {"sudo"}}[pkg],
			Installed: map[string]string{"openssl": "3.0.11-1~deb12u2", "nginx": "1.22.1-9", "sudo": "1.9.13p3-1"}[pkg],
			Fixed:     fixed, Rule: "installed < fixed", Severity: sev, CVSSScore: score}
	}
	for _, h := range []*domain.Host{fx.web, fx.db} {
		if _, err := st.SyncFindings(ctx, e.ws.ID, h.ID, []vuln.Finding{
			f("CVE-2024-0001", "openssl", "3.0.13-1~deb12u1", "critical", 9.8),
			f("CVE-2024-0002", "openssl", "3.0.11-1~deb12u3", "medium", 5.3),
			f("CVE-2024-0003", "nginx", "1.22.1-9+deb12u1", "high", 7.5),
			f("CVE-2024-0004", "sudo", "", "low", 3.1),
		}, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	g, err := e.svc.SaveGroup(ctx, e.admin, 0, service.GroupInput{Name: ptr("Web servers"), StaticHosts: &[]int64{fx.web.ID, fx.db.ID}})
	if err != nil {
		t.Fatal(err)
	}
	fx.group = g
	for _, h := range []*domain.Host{fx.web, fx.db} {
		if _, err := st.SaveCheckResults(ctx, e.ws.ID, h.ID, []domain.CheckResult{
			{CheckID: "ssh-root-login", Status: domain.CheckFail, Reason: "PermitRootLogin yes", Expected: "no", Actual: "yes"},
			{CheckID: "time-sync", Status: domain.CheckPass},
		}, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	exp := now.AddDate(0, 1, 0)
	fx.exception, err = e.svc.CreateException(ctx, e.admin, domain.ExceptionInput{Target: "check", Kind: "accepted_risk",
		CheckID: "ssh-root-login", Scope: "host", HostID: fx.db.ID, Reason: "break-glass access until the bastion is in place", ExpiresAt: &exp})
	if err != nil {
		t.Fatal(err)
	}
	fs, _, err := st.ListFindings(ctx, e.ws.ID, store.FindingFilter{HostID: fx.web.ID, VulnID: "CVE-2024-0001"})
	if err != nil || len(fs) != 1 {
		t.Fatalf("openssl finding: %v %v", fs, err)
	}
	fx.opensslID = fs[0].ID
	return fx
}

func ptr[T any](v T) *T { return &v }
