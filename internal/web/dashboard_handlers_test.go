package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// dashSeed is three hosts: one with findings, one failing, one never
// scanned, and a check result.
type dashSeed struct {
	risky, failing, never *domain.Host
}

func seedDashboard(t *testing.T, e *env) dashSeed {
	t.Helper()
	ctx := context.Background()
	now := e.svc.Now()
	s := dashSeed{risky: e.host("risky-01"), failing: e.host("failing-01"), never: e.host("never-01")}
	r := report(s.risky, now.Add(-10*time.Minute), deb("openssl", "3.0.11-1~deb12u1", "openssl"), deb("bash", "5.2.15-2", "bash"))
	r.System.Network = inventory.Network{
		Interfaces: []inventory.Interface{{Name: "eth0", MAC: "52:54:00:12:34:56", Addresses: []string{"10.0.0.8/24"}, Up: true, MTU: 1500}},
		Listening:  []inventory.Listener{{Proto: "tcp", Address: "0.0.0.0", Port: 22, Process: "sshd"}, {Proto: "tcp", Address: "127.0.0.1", Port: 5432}},
	}
	r.System.Hardware = inventory.Hardware{Vendor: "QEMU", Product: "Standard PC (Q35 + ICH9, 2009)", Virtualization: "kvm"}
	r.System.Filesystems = []inventory.Filesystem{{Device: "/dev/vda1", Mountpoint: "/", Type: "ext4", SizeBytes: 20 << 30, UsedBytes: 15 << 30, AvailBytes: 5 << 30}}
	r.Probes = []inventory.ProbeResult{{Name: "dpkg", DurationMS: 42}, {Name: "dmi_ids", NeedsPrivilege: true}, {Name: "listening", Error: "ss: not found"}}
	e.ingest(r)
	bad := report(s.failing, now.Add(-5*time.Minute))
	bad.Status, bad.Error, bad.ErrorKind = inventory.StatusError, "ssh: handshake failed", inventory.ErrKindAuth
	e.ingest(bad)
	_, err := e.svc.Store.SyncFindings(ctx, e.ws.ID, s.risky.ID, []vuln.Finding{
		{VulnID: "CVE-2024-0001", AdvisoryID: "DSA-1", Source: "osv:Debian:12", Package: "openssl", Installed: "3.0.11-1~deb12u1", Fixed: "3.0.11-1~deb12u2", Severity: "critical"},
		{VulnID: "CVE-2024-0002", AdvisoryID: "DSA-2", Source: "osv:Debian:12", Package: "bash", Installed: "5.2.15-2", Fixed: "", Severity: "medium"},
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Store.SaveCheckResults(ctx, e.ws.ID, s.risky.ID, []domain.CheckResult{
		{CheckID: "a", Status: domain.CheckPass}, {CheckID: "b", Status: domain.CheckFail}, {CheckID: "c", Status: domain.CheckPass}, {CheckID: "d", Status: domain.CheckPass},
	}, now); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDashboard(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := seedDashboard(t, e)
	body := e.get(s, "/dashboard", http.StatusOK)
	wantContains(t, body,
		"<h1>Dashboard</h1>",
		// Every figure links to the list behind it.
		`href="/hosts?status=failing"><span class="card-num">1</span>`,
		`href="/hosts?status=ok"><span class="card-num">1</span>`,
		`href="/hosts?status=never"><span class="card-num">1</span>`,
		`href="/vulnerabilities?severity=critical"><span class="card-num">1</span>`,
		`href="/vulnerabilities?severity=medium"><span class="card-num">1</span>`,
		`href="/vulnerabilities"><span class="card-num">2</span>`,
		`href="/vulnerabilities?kev=1"><span class="card-num">0</span>`,
		// Compliance: 3 of 4 pass.
		`<span class="card-num">75.0%</span>`,
		// Top lists.
		fmt.Sprintf(`<a href="/hosts/%d#vulnerabilities">risky-01</a>`, seed.risky.ID),
		`href="/vulnerabilities?fix=1&amp;q=openssl"`,
		// Chart data as JSON for charts.js, and as a table.
		`<script type="application/json" id="trend-data">{"days":[`, `"critical":[1]`, `"score":[75]`,
		`data-chart="findings"`, "uplot.iife.min.js", "charts.js",
	)
	wantNotContains(t, body, `href="/vulnerabilities?fix=1&amp;q=bash"`) // no fix: not an upgrade
	// The rollup was stored: a second view reads it back.
	rs, err := e.svc.Store.Rollups(context.Background(), e.ws.ID, e.svc.Now().Add(-time.Hour))
	if err != nil || len(rs) != 1 || rs[0].Critical != 1 {
		t.Fatalf("rollups %+v, %v", rs, err)
	}
	wantContains(t, e.get(s, "/", http.StatusSeeOther), "")
	api := e.get(s, "/dashboard", http.StatusOK)
	wantContains(t, api, "risky-01")
}

func TestHostsTableFiltersAndSorts(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := seedDashboard(t, e)
	if err := e.svc.SetHostLabels(context.Background(), e.admin, seed.risky.ID, map[string]string{"env": "prod"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query   string
		want    []string
		notWant []string
	}{
		{"", []string{">risky-01</a>", ">failing-01</a>", ">never-01</a>", "showing 1–3 of 3", `aria-sort="ascending"`}, nil},
		{"status=failing", []string{">failing-01</a>", "1 host matches"}, []string{">risky-01</a>"}},
		{"severity=high", []string{">risky-01</a>", "badge-sev-critical"}, []string{">failing-01</a>", ">never-01</a>"}},
		{"label=env%3Dprod", []string{">risky-01</a>"}, []string{">never-01</a>"}},
		{"os=debian+12", []string{">risky-01</a>"}, []string{">never-01</a>", ">failing-01</a>"}}, // failing-01 never reported its OS
		{"q=NEVER", []string{">never-01</a>", `value="NEVER"`}, []string{">risky-01</a>"}},
		{"sort=severity", []string{`aria-sort="ascending"><a href="/hosts?dir=desc&amp;sort=severity">Worst open finding`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			body := e.get(s, "/hosts?"+tt.query, http.StatusOK)
			wantContains(t, body, tt.want...)
			wantNotContains(t, body, tt.notWant...)
		})
	}
	// Severity order: the risky host first.
	body := e.get(s, "/hosts?sort=severity", http.StatusOK)
	if strings.Index(body, ">risky-01</a>") > strings.Index(body, ">failing-01</a>") {
		t.Error("sort by severity does not put the host with a critical finding first")
	}
	for _, bad := range []string{"status=broken", "sort=nope", "group=x", "severity=severe"} {
		wantContains(t, e.get(s, "/hosts?"+bad, http.StatusBadRequest), "Bad filter")
	}
}

func TestSavedFilterAndGroup(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seedDashboard(t, e)
	w := e.do(req{method: "POST", path: "/hosts/filters", sess: s, form: withCSRF(s, url.Values{"name": {"Critical"}, "query": {"severity=critical"}})})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("save filter: %d %s", w.Code, w.Body)
	}
	wantContains(t, e.get(s, "/hosts", http.StatusOK), `<a href="/hosts?severity=critical">Critical</a>`)
	// As a dynamic group.
	w = e.do(req{method: "POST", path: "/hosts/filters/group", sess: s, form: withCSRF(s, url.Values{"name": {"Prod Debian"}, "query": {"os=debian+12&label=env%3Dprod"}})})
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/groups/") {
		t.Fatalf("filter to group: %d %s", w.Code, w.Body)
	}
	gs, err := e.svc.Store.ListGroups(context.Background(), e.ws.ID)
	if err != nil || len(gs) != 1 {
		t.Fatalf("groups %v %v", gs, err)
	}
	if want := `os.id == "debian" && os.version_id == "12" && "env" in labels && labels["env"] == "prod"`; gs[0].Expression != want {
		t.Errorf("expression %q, want %q", gs[0].Expression, want)
	}
	// A status filter cannot become a group: refused, with the reason.
	w = e.do(req{method: "POST", path: "/hosts/filters/group", sess: s, form: withCSRF(s, url.Values{"name": {"Failing"}, "query": {"status=failing"}})})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "remove the status filter") {
		t.Errorf("status filter as group: %d", w.Code)
	}
	// A viewer may look but not save.
	v := e.session(e.user(domain.RoleViewer))
	w = e.do(req{method: "POST", path: "/hosts/filters", sess: v, form: withCSRF(v, url.Values{"name": {"x"}, "query": {"q=a"}})})
	if w.Code != http.StatusForbidden {
		t.Errorf("viewer saved a filter: %d", w.Code)
	}
	wantNotContains(t, e.get(v, "/hosts", http.StatusOK), `name="host"`, `action="/hosts/bulk"`)
}

func TestBulkActions(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := seedDashboard(t, e)
	g, err := e.svc.SaveGroup(context.Background(), e.admin, 0, serviceGroup("Static"))
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{strconv.FormatInt(seed.risky.ID, 10), strconv.FormatInt(seed.never.ID, 10)}
	post := func(form url.Values) *http.Response {
		form["host"] = ids
		form.Set("back", "/hosts?q=01")
		return e.do(req{method: "POST", path: "/hosts/bulk", sess: s, form: withCSRF(s, form)}).Result()
	}
	res := post(url.Values{"action": {"group"}, "group_id": {strconv.FormatInt(g.ID, 10)}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/hosts?q=01&done=group&n=2" {
		t.Fatalf("bulk group: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	members, err := e.svc.Store.GroupHostIDs(context.Background(), e.ws.ID, g.ID)
	if err != nil || len(members) != 2 {
		t.Errorf("group members %v %v", members, err)
	}
	res = post(url.Values{"action": {"label"}, "label": {"tier=web"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bulk label: %d", res.StatusCode)
	}
	for _, h := range []*domain.Host{seed.risky, seed.never} {
		l, _ := e.svc.Store.HostLabels(context.Background(), e.ws.ID, h.ID)
		if l["tier"] != "web" {
			t.Errorf("%s labels %v", h.Name, l)
		}
	}
	// Both hosts are the workspace agent's: it is asked once.
	if r := post(url.Values{"action": {"scan"}}); r.StatusCode != http.StatusSeeOther || !strings.HasSuffix(r.Header.Get("Location"), "done=scan&n=1") {
		t.Fatalf("bulk scan: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	cfg, _, err := e.svc.AgentConfig(context.Background(), mustAgent(t, e), "")
	if err != nil || cfg.RunNowID == "" {
		t.Errorf("bulk scan did not reach the hosts' agent: %+v %v", cfg, err)
	}
	wantContains(t, e.get(s, "/hosts?done=label&n=2", http.StatusOK), "Label set on 2 hosts.")
	// Another workspace's host in the selection: nothing is done.
	other := e.otherWorkspaceHost()
	w := e.do(req{method: "POST", path: "/hosts/bulk", sess: s, form: withCSRF(s, url.Values{"action": {"label"}, "label": {"x=y"}, "host": {strconv.FormatInt(other, 10)}})})
	if w.Code != http.StatusNotFound {
		t.Errorf("bulk on another workspace's host: %d", w.Code)
	}
	w = e.do(req{method: "POST", path: "/hosts/bulk", sess: s, form: withCSRF(s, url.Values{"action": {"explode"}, "host": ids})})
	if w.Code != http.StatusBadRequest {
		t.Errorf("unknown action: %d", w.Code)
	}
}

func TestAgentsPage(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	w := e.do(req{method: "POST", path: "/agents", sess: s, form: withCSRF(s, url.Values{"name": {"patch-2"}})})
	if w.Code != http.StatusOK {
		t.Fatalf("create agent: %d", w.Code)
	}
	key := regexp.MustCompile(`vga_[A-Za-z0-9_-]+`).FindString(w.Body.String())
	if key == "" || !strings.Contains(w.Body.String(), "shown only once") {
		t.Fatalf("new key not shown:\n%s", w.Body)
	}
	ag, err := e.svc.AuthenticateAgent(context.Background(), key)
	if err != nil || ag.Name != "patch-2" {
		t.Fatalf("shown key does not authenticate: %v", err)
	}
	page := e.get(s, "/agents", http.StatusOK)
	wantContains(t, page, "patch-2", "agent-1", "Never connected", "Run now", "Rotate key", "Revoke")
	wantNotContains(t, page, key)

	id := strconv.FormatInt(ag.ID, 10)
	w = e.do(req{method: "POST", path: "/agents/" + id + "/run-now", sess: s, form: withCSRF(s, url.Values{})})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("run now: %d", w.Code)
	}
	cfg, _, err := e.svc.AgentConfig(context.Background(), ag, "1.0")
	if err != nil || cfg.RunNowID == "" {
		t.Fatalf("run-now not in the agent's config: %+v %v", cfg, err)
	}
	wantContains(t, e.get(s, "/agents?done=run", http.StatusOK), "scan requested", "Scan requested")

	w = e.do(req{method: "POST", path: "/agents/" + id + "/rotate", sess: s, form: withCSRF(s, url.Values{})})
	newKey := regexp.MustCompile(`vga_[A-Za-z0-9_-]+`).FindString(w.Body.String())
	if w.Code != http.StatusOK || newKey == "" || newKey == key {
		t.Fatalf("rotate: %d", w.Code)
	}
	if _, err := e.svc.AuthenticateAgent(context.Background(), key); err == nil {
		t.Error("old key still works after rotation")
	}
	w = e.do(req{method: "POST", path: "/agents/" + id + "/revoke", sess: s, form: withCSRF(s, url.Values{})})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", w.Code)
	}
	if _, err := e.svc.AuthenticateAgent(context.Background(), newKey); err == nil {
		t.Error("revoked key still works")
	}
	// Roles: an operator may run now but not manage keys; a viewer neither.
	op := e.session(e.user(domain.RoleOperator))
	first := strconv.FormatInt(e.agentID, 10)
	for _, tt := range []struct {
		sess session
		path string
		want int
	}{
		{op, "/agents/" + first + "/run-now", http.StatusSeeOther},
		{op, "/agents/" + first + "/rotate", http.StatusForbidden},
		{op, "/agents", http.StatusForbidden},
	} {
		w := e.do(req{method: "POST", path: tt.path, sess: tt.sess, form: withCSRF(tt.sess, url.Values{"name": {"x"}})})
		if w.Code != tt.want {
			t.Errorf("operator POST %s: %d, want %d", tt.path, w.Code, tt.want)
		}
	}
	v := e.session(e.user(domain.RoleViewer))
	wantNotContains(t, e.get(v, "/agents", http.StatusOK), `/run-now"`, "Rotate key", `action="/agents"`)
	if w := e.do(req{method: "POST", path: "/agents/" + first + "/run-now", sess: v, form: withCSRF(v, url.Values{})}); w.Code != http.StatusForbidden {
		t.Errorf("viewer run now: %d", w.Code)
	}
}

func TestSettingsPage(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	page := e.get(s, "/settings/general", http.StatusOK)
	wantContains(t, page, `name="interval_minutes"`, `value="60"`, `name="snapshot_days" type="number" min="0" max="3650" required value="90"`,
		"This server has no online sync configured")
	post := func(path string, form url.Values) *http.Response {
		return e.do(req{method: "POST", path: path, sess: s, form: withCSRF(s, form)}).Result()
	}
	if r := post("/settings/schedule", url.Values{"interval_minutes": {"240"}, "anchor": {"02:30"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("schedule: %d", r.StatusCode)
	}
	ws, _ := e.svc.Store.GetWorkspace(context.Background(), e.ws.ID)
	if ws.Schedule.IntervalSeconds != 4*3600 || ws.Schedule.Anchor != "02:30" {
		t.Errorf("schedule %+v", ws.Schedule)
	}
	w := e.do(req{method: "POST", path: "/settings/schedule", sess: s, form: withCSRF(s, url.Values{"interval_minutes": {"1"}, "anchor": {"02:30"}})})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "between 5 minutes and 7 days") {
		t.Errorf("too short an interval: %d", w.Code)
	}
	w = e.do(req{method: "POST", path: "/settings/schedule", sess: s, form: withCSRF(s, url.Values{"interval_minutes": {"60"}, "anchor": {"25:00"}})})
	if w.Code != http.StatusBadRequest {
		t.Errorf("bad anchor: %d", w.Code)
	}
	if r := post("/settings/retention", url.Values{"snapshot_days": {"30"}, "history_days": {"0"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("retention: %d", r.StatusCode)
	}
	ret, _ := e.svc.Store.GetRetention(context.Background(), e.ws.ID)
	if ret != (domain.Retention{SnapshotDays: 30}) {
		t.Errorf("retention %+v", ret)
	}
	w = e.do(req{method: "POST", path: "/settings/retention", sess: s, form: withCSRF(s, url.Values{"snapshot_days": {"-3"}, "history_days": {"1"}})})
	if w.Code != http.StatusBadRequest {
		t.Errorf("negative retention: %d", w.Code)
	}
	// Without a syncer, a manual sync is refused with the reason.
	w = e.do(req{method: "POST", path: "/settings/feeds/sync", sess: s, form: withCSRF(s, url.Values{})})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "vigil feeds sync") {
		t.Errorf("sync without syncer: %d", w.Code)
	}
	// With one: it runs in the background and the progress partial shows it.
	release := make(chan struct{})
	e.svc.SetFeedSyncer(func(ctx context.Context) error {
		now := e.svc.Now()
		if err := e.svc.Store.SaveFeedState(ctx, &store.FeedState{Feed: "kev", LastAttemptAt: &now, LastSuccessAt: &now, Records: 7}); err != nil {
			return err
		}
		<-release
		return nil
	})
	if r := post("/settings/feeds/sync", url.Values{}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sync: %d", r.StatusCode)
	}
	w = e.do(req{method: "POST", path: "/settings/feeds/sync", sess: s, form: withCSRF(s, url.Values{})})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "already running") {
		t.Errorf("second sync: %d", w.Code)
	}
	partial := e.do(req{path: "/settings/feeds/progress", sess: s, headers: map[string]string{"HX-Request": "true"}}).Body.String()
	wantContains(t, partial, `hx-trigger="every 2s"`, "Sync running since")
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		p := e.do(req{path: "/settings/feeds/progress", sess: s, headers: map[string]string{"HX-Request": "true"}}).Body.String()
		if strings.Contains(p, "Last manual sync finished") {
			wantContains(t, p, ">kev<", ">7<")
			wantNotContains(t, p, "every 2s")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sync did not finish:\n%s", p)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Viewers see the settings but cannot change them.
	v := e.session(e.user(domain.RoleViewer))
	wantContains(t, e.get(v, "/settings/general", http.StatusOK), "<fieldset disabled>")
	if w := e.do(req{method: "POST", path: "/settings/retention", sess: v, form: withCSRF(v, url.Values{"snapshot_days": {"1"}, "history_days": {"1"}})}); w.Code != http.StatusForbidden {
		t.Errorf("viewer set retention: %d", w.Code)
	}
}

func TestHostPageExtrasAndDiff(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := seedDashboard(t, e)
	h := seed.risky
	later := report(h, e.svc.Now().Add(-time.Minute), deb("openssl", "3.0.11-1~deb12u2", "openssl"), deb("curl", "7.88.1-10", "curl"),
		inventory.Package{Name: "bash", Version: "5.1-2", Arch: "amd64", Ecosystem: inventory.EcosystemDeb})
	later.Probes = []inventory.ProbeResult{{Name: "dpkg", DurationMS: 1250}}
	later.System.Network = inventory.Network{
		Interfaces: []inventory.Interface{{Name: "eth0", MAC: "52:54:00:12:34:56", Addresses: []string{"10.0.0.8/24"}, Up: true, MTU: 1500}},
		Listening:  []inventory.Listener{{Proto: "tcp", Address: "0.0.0.0", Port: 22, Process: "sshd"}, {Proto: "tcp", Address: "127.0.0.1", Port: 5432}},
	}
	later.System.Hardware = inventory.Hardware{Vendor: "QEMU", Virtualization: "kvm"}
	later.System.Filesystems = []inventory.Filesystem{{Device: "/dev/vda1", Mountpoint: "/", Type: "ext4", SizeBytes: 20 << 30, UsedBytes: 15 << 30, AvailBytes: 5 << 30}}
	e.ingest(later)
	body := e.get(s, fmt.Sprintf("/hosts/%d", h.ID), http.StatusOK)
	wantContains(t, body, "Hardware, network and storage", "QEMU", "kvm", ">eth0<", "10.0.0.8/24", ">/<", "75%",
		"Listening ports", ">22<", "sshd", ">5432<",
		`id="facts"`, "&#34;hostname&#34;", "Probe timings", ">dpkg<", "1.2 s", "42 ms", "needs privilege", "ss: not found",
		fmt.Sprintf(`href="/hosts/%d/diff"`, h.ID))
	diff := e.get(s, fmt.Sprintf("/hosts/%d/diff", h.ID), http.StatusOK)
	wantContains(t, diff, "1 added · 0 removed · 1 upgraded · 1 downgraded", "Upgraded (1)", "3.0.11-1~deb12u2", "Downgraded (1)", "5.1-2", "Added (1)", ">curl<")
	snaps, _ := e.svc.Store.ListSnapshots(context.Background(), e.ws.ID, h.ID, 0)
	rev := e.get(s, fmt.Sprintf("/hosts/%d/diff?from=%d&to=%d", h.ID, snaps[0].ID, snaps[1].ID), http.StatusOK)
	wantContains(t, rev, "0 added · 1 removed · 1 upgraded · 1 downgraded")
	e.get(s, fmt.Sprintf("/hosts/%d/diff?from=999999", h.ID), http.StatusBadRequest)
	e.get(s, fmt.Sprintf("/hosts/%d/diff", e.otherWorkspaceHost()), http.StatusNotFound)
}

func TestDashPagesNoInlineCode(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := seedDashboard(t, e)
	// A JSON data block is data, not code: CSP does not run it.
	bad := regexp.MustCompile(`(?i)<script(\s[^>]*)?>[^<]|<style|\sstyle=|\son[a-z]+=|hx-on`)
	for _, path := range []string{"/dashboard", "/hosts", "/hosts?status=failing", "/agents", "/settings/general",
		fmt.Sprintf("/hosts/%d", seed.risky.ID), fmt.Sprintf("/hosts/%d/diff", seed.risky.ID)} {
		p := e.get(s, path, http.StatusOK)
		p = strings.Replace(p, `<script type="application/json" id="trend-data">`, "", 1)
		if m := bad.FindString(p); m != "" {
			t.Errorf("%s has inline code: %q", path, m)
		}
		for _, form := range regexp.MustCompile(`(?s)<form method="post".*?</form>`).FindAllString(p, -1) {
			if !strings.Contains(form, `name="csrf_token"`) {
				t.Errorf("%s: a form without a CSRF field: %.200s", path, form)
			}
		}
	}
}

func serviceGroup(name string) service.GroupInput { return service.GroupInput{Name: &name} }

// otherWorkspaceHost creates a host in a workspace of its own.
func (e *env) otherWorkspaceHost() int64 {
	e.t.Helper()
	ctx := context.Background()
	ws := &domain.Workspace{Name: "Other", Slug: fmt.Sprintf("other-%d", reportSeq.Add(1)), Schedule: inventory.Schedule{IntervalSeconds: 3600}}
	if err := e.svc.Store.CreateWorkspace(ctx, ws); err != nil {
		e.t.Fatal(err)
	}
	h := &domain.Host{WorkspaceID: ws.ID, Name: "secret-host", Address: "10.9.9.9", Port: 22, Transport: inventory.TransportSSH}
	if err := e.svc.Store.CreateHost(ctx, h); err != nil {
		e.t.Fatal(err)
	}
	return h.ID
}

func mustAgent(t *testing.T, e *env) *domain.Agent {
	t.Helper()
	ag, err := e.svc.Store.GetAgent(context.Background(), e.ws.ID, e.agentID)
	if err != nil {
		t.Fatal(err)
	}
	return ag
}
