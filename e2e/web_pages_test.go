package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/server"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/store/sqlite"
	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/web"
)

// webFleet starts the server in process (API, web app, the real CSP) on a
// SQLite store holding a small fleet with findings, check results and a
// week of dashboard history.
func webFleet(t *testing.T) (string, *service.Service, *domain.Workspace) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, secrets.KeySize)
	rand.Read(key)
	sealer, err := secrets.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := service.New(st, sealer, log)
	svc.NoBackground = true
	boot, err := svc.Bootstrap(ctx, adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	ws := boot.Workspace
	u, err := st.GetUserByLogin(ctx, service.AdminLogin)
	if err != nil {
		t.Fatal(err)
	}
	admin := service.Actor{UserID: u.ID, Login: u.Login, WorkspaceID: ws.ID, Role: domain.RoleAdmin}
	ag, _, err := svc.CreateAgentKey(ctx, ws.ID, "patch-server-1")
	if err != nil {
		t.Fatal(err)
	}
	now := svc.Now()
	for i, name := range []string{"web-01", "web-02", "db-01", "mail-01", "legacy-01"} {
		addr := fmt.Sprintf("10.0.0.%d", i+10)
		h, err := svc.CreateHost(ctx, admin, domain.HostInput{Name: &name, Address: &addr})
		if err != nil {
			t.Fatal(err)
		}
		r := &inventory.HostReport{SchemaVersion: inventory.SchemaVersion, ReportID: "r-" + name, HostID: h.ID,
			StartedAt: now.Add(-time.Duration(i+1) * time.Minute), FinishedAt: now.Add(-time.Duration(i+1)*time.Minute + 2*time.Second),
			Status: inventory.StatusOK,
			System: inventory.System{Hostname: name,
				OS:     inventory.OS{Family: "debian", ID: "debian", VersionID: "12", Name: "Debian GNU/Linux", PrettyName: "Debian GNU/Linux 12 (bookworm)"},
				Kernel: inventory.Kernel{Name: "Linux", Release: "6.1.0-18-amd64", Machine: "x86_64"},
				Network: inventory.Network{Interfaces: []inventory.Interface{{Name: "eth0", Addresses: []string{addr + "/24"}, Up: true, MTU: 1500}},
					Listening: []inventory.Listener{{Proto: "tcp", Address: "0.0.0.0", Port: 22}}}},
			Packages: []inventory.Package{{Name: "openssl", Version: "3.0.11-1~deb12u1", Arch: "amd64", Ecosystem: inventory.EcosystemDeb},
				{Name: "bash", Version: "5.2.15-2", Arch: "amd64", Ecosystem: inventory.EcosystemDeb}},
			Probes: []inventory.ProbeResult{{Name: "dpkg", DurationMS: 120}}}
		if name == "legacy-01" {
			r.Status, r.Error, r.ErrorKind, r.Packages, r.System = inventory.StatusError, "ssh: handshake failed: no common algorithm", inventory.ErrKindAuth, nil, inventory.System{}
		}
		if _, err := st.IngestReport(ctx, ws.ID, ag.ID, r, now); err != nil {
			t.Fatal(err)
		}
		var found []vuln.Finding
		for j, sev := range []string{"critical", "high", "medium", "low"}[:4-i%4] {
			found = append(found, vuln.Finding{VulnID: fmt.Sprintf("CVE-2024-%04d", 100+j), AdvisoryID: fmt.Sprintf("DSA-%d", j), Source: "osv:Debian:12",
				Package: "openssl", Installed: "3.0.11-1~deb12u1", Fixed: "3.0.11-1~deb12u2", Severity: sev})
		}
		if r.Status == inventory.StatusOK {
			if _, err := st.SyncFindings(ctx, ws.ID, h.ID, found, now); err != nil {
				t.Fatal(err)
			}
			if _, err := st.SaveCheckResults(ctx, ws.ID, h.ID, []domain.CheckResult{{CheckID: "ssh-root-login", Status: domain.CheckPass},
				{CheckID: "firewall-enabled", Status: []string{domain.CheckFail, domain.CheckPass}[i%2]}}, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	base, err := svc.RefreshRollup(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	for d := 7; d >= 1; d-- {
		r := *base
		r.Day = now.AddDate(0, 0, -d).Format(time.DateOnly)
		r.Critical, r.High, r.HostsScanned, r.ChecksFail = base.Critical+d/2, base.High+d, 4, base.ChecksFail+d%3
		r.ComputedAt = now.AddDate(0, 0, -d)
		if err := st.SaveRollup(ctx, &r); err != nil {
			t.Fatal(err)
		}
	}
	webh, err := web.New(svc, log, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(svc, log, server.Options{Web: webh}))
	t.Cleanup(srv.Close)
	return srv.URL, svc, ws
}

// screenshotDir is where the page screenshots go: the test's artifact
// directory (kept with 'go test -artifacts', see 'go help testflag'), or
// $VIGIL_ARTIFACTS when set.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("VIGIL_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.ArtifactDir()
}

// TestWebPages drives the web app in headless Chromium: log in and land on
// the dashboard (charts drawn under the CSP), follow a figure to the
// filtered hosts table, focus the search with "/", drill down to a host,
// add a host, and visit agents and settings; each main page is saved as a
// screenshot, the dashboard also at phone width.
func TestWebPages(t *testing.T) {
	exe := chromiumPath(t)
	base, svc, ws := webFleet(t)
	dir := screenshotDir(t)
	t.Logf("screenshots in %s", dir)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	str := func(a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	num := func(expr string) int {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	shot := func(name string) {
		t.Helper()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(85))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".jpg"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const hostRows = `document.querySelectorAll('table.hosts tbody tr').length`

	do("log in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="login"]`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), adminPassword),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#trends-h`)),
	)
	if url, h1 := str(chromedp.Location()), str(chromedp.Text(chromedp.CSS(`h1`))); !strings.HasSuffix(url, "/dashboard") || h1 != "Dashboard" {
		t.Fatalf("after login at %s with heading %q, want the dashboard", url, h1)
	}
	// uPlot draws a canvas per chart once charts.js has run: the scripts
	// load and run under the server's CSP.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('.chart canvas').length >= 3`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("charts not drawn (%d canvases): %v", num(`document.querySelectorAll('.chart canvas').length`), err)
	}
	shot("dashboard")

	// A figure on the dashboard leads to the list behind it.
	do("failing hosts from the dashboard",
		chromedp.Click(chromedp.CSS(`a[href="/hosts?status=failing"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.hosts`)),
	)
	url, text := str(chromedp.Location()), str(chromedp.Text(chromedp.CSS(`table.hosts tbody`)))
	if rows := num(hostRows); !strings.Contains(url, "status=failing") || rows != 1 || !strings.Contains(text, "legacy-01") {
		t.Fatalf("failing filter at %s: %d rows:\n%s", url, rows, text)
	}
	shot("hosts-failing")

	// "/" focuses the search; filter by name and drill down to the host.
	do("hosts", chromedp.Navigate(base+"/hosts"), chromedp.WaitVisible(chromedp.CSS(`table.hosts`)))
	shot("hosts")
	do("slash", chromedp.KeyEvent("/"))
	if focused := str(chromedp.Evaluate[string](`document.activeElement.id`)); focused != "q" {
		t.Fatalf(`"/" focused %q, want the search box`, focused)
	}
	// CDP sends the "/" character as an event of its own after the keydown
	// the page cancelled, which a browser does not: clear what it typed.
	// Typing and Enter then submit the filter form, as a user does.
	if v := str(chromedp.Evaluate[string](`(function(q){ var v = q.value; q.value = ""; return v; })(document.getElementById("q"))`)); v != "" && v != "/" {
		t.Fatalf("search box held %q", v)
	}
	do("filter by name", chromedp.KeyEvent("web-0\r"))
	// The navigation replaces the page under a running query: ask again
	// until the new page answers.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		u, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && strings.Contains(u, "q=web-0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the filter form was not submitted (at %s, %v)", u, err)
		}
	}
	do("filtered table", chromedp.WaitVisible(chromedp.CSS(`table.hosts`)))
	if rows := num(hostRows); rows != 2 {
		t.Fatalf("name filter gave %d rows, want web-01 and web-02", rows)
	}
	do("drill down",
		chromedp.Click(chromedp.Search(`//table[contains(@class,"hosts")]//a[text()="web-01"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#machine-h`)),
	)
	if h1 := str(chromedp.Text(chromedp.CSS(`h1`))); !strings.HasPrefix(h1, "web-01") {
		t.Fatalf("host page heading %q", h1)
	}
	shot("host")

	do("add a host",
		chromedp.Navigate(base+"/hosts/new"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="name"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "new-db-02"),
		chromedp.SendKeys(chromedp.CSS(`input[name="address"]`), "10.0.9.2"),
	)
	shot("host-new")
	do("submit the new host",
		chromedp.Submit(chromedp.CSS(`input[name="address"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#props-h`)),
	)
	if h1 := str(chromedp.Text(chromedp.CSS(`h1`))); !strings.HasPrefix(h1, "new-db-02") {
		t.Fatalf("after adding a host the page heading is %q", h1)
	}
	hs, _, err := svc.HostTable(context.Background(), service.Actor{WorkspaceID: ws.ID, Role: domain.RoleAdmin}, store.HostTableFilter{Query: "new-db-02"})
	if err != nil || len(hs) != 1 {
		t.Fatalf("added host not stored: %v %v", hs, err)
	}

	for _, p := range []struct{ path, wait, name string }{
		{"/agents", `table.agents`, "agents"}, {"/settings/general", `#feeds-h`, "settings"},
		{"/vulnerabilities", `h1`, "vulnerabilities"}, {"/compliance", `h1`, "compliance"},
	} {
		do(p.name, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.wait)))
		shot(p.name)
	}
	// A narrow screen: the dashboard reflows, nothing is wider than it.
	do("dashboard on a phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
		chromedp.Navigate(base+"/dashboard"),
		chromedp.WaitVisible(chromedp.CSS(`#trends-h`)),
	)
	if wide := num(`document.documentElement.scrollWidth - window.innerWidth`); wide > 1 {
		culprits := str(chromedp.Evaluate[string](`Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap')).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')`))
		t.Errorf("the dashboard scrolls sideways at 390 px by %d px: %s", wide, culprits)
	}
	shot("dashboard-narrow")
	for _, n := range []string{"dashboard", "hosts-failing", "hosts", "host", "host-new", "agents", "settings", "vulnerabilities", "compliance", "dashboard-narrow"} {
		if st, err := os.Stat(filepath.Join(dir, n+".jpg")); err != nil || st.Size() < 5000 {
			t.Errorf("screenshot %s: %v", n, err)
		}
	}
}
