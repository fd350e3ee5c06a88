package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// vulnSeed is the data seedVulns puts in: CVE-0001 (critical, KEV, EPSS)
// on both hosts, CVE-0002 (medium, no fix) on web-01, CVE-0003 (high, not
// in NVD) on web-02, and CVE-2099-9999 only in another workspace.
type vulnSeed struct {
	web1, web2, secret *domain.Host
	otherWS            int64
}

const formulaRule = "=HYPERLINK(\"http://evil\")"

func (e *env) seedVulns() vulnSeed {
	e.t.Helper()
	ctx := context.Background()
	t := e.t
	now := e.svc.Now()
	_, err := e.svc.Store.UpsertCVEs(ctx, []*vuln.CVE{{
		ID: "CVE-2024-0001", Status: "Analyzed", Description: "A buffer overflow in openssl lets a remote attacker run code. " + strings.Repeat("More words. ", 20),
		Published: time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC), Modified: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC),
		Metrics: []vuln.CVSS{
			{Version: "3.1", Source: "nvd@nist.gov", Type: "Primary", Score: 9.8, Severity: "CRITICAL", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
			{Version: "2.0", Source: "nvd@nist.gov", Type: "Primary", Score: 7.5, Severity: "HIGH", Vector: "AV:N/AC:L/Au:N/C:P/I:P/A:P"},
		},
		CWEs: []string{"CWE-787"},
		References: []vuln.Reference{
			{URL: "https://www.openssl.org/news/secadv/20240110.txt", Source: "openssl", Tags: []string{"Vendor Advisory"}},
			{URL: "javascript:alert(1)"},
			{URL: "data:text/html,<script>alert(2)</script>"},
		},
	}, {
		ID: "CVE-2024-0002", Status: "Analyzed", Description: "bash mishandles something.", Modified: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC),
		Metrics: []vuln.CVSS{{Version: "3.1", Type: "Primary", Score: 5.3, Severity: "MEDIUM"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Store.ReplaceKEV(ctx, []vuln.KEV{{CVE: "CVE-2024-0001", VendorProject: "OpenSSL", Product: "OpenSSL",
		Name: "OpenSSL Buffer Overflow", DateAdded: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		DueDate: time.Date(2099, 3, 22, 0, 0, 0, 0, time.UTC), RequiredAction: "Apply mitigations per vendor instructions.", Ransomware: "Known"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Store.UpsertEPSS(ctx, []vuln.EPSS{{CVE: "CVE-2024-0001", Score: 0.97312, Percentile: 0.99931,
		Date: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), Model: "v2023.03.01"}}); err != nil {
		t.Fatal(err)
	}
	for _, feed := range []string{"nvd", "kev", "epss", "osv:Debian:12"} {
		if err := e.svc.Store.SaveFeedState(ctx, &store.FeedState{Feed: feed, LastAttemptAt: &now, LastSuccessAt: &now, Records: 10}); err != nil {
			t.Fatal(err)
		}
	}
	s := vulnSeed{web1: e.host("web-01"), web2: e.host("web-02")}
	ossl := func(rule string) vuln.Finding {
		return vuln.Finding{VulnID: "CVE-2024-0001", AdvisoryID: "DSA-5600-1", Source: "osv:Debian:12", Package: "openssl",
			Binaries: []string{"openssl", "libssl3"}, Installed: "3.0.11-1~deb12u2", Fixed: "3.0.13-1~deb12u1", Rule: rule,
			Severity: "critical", CVSSScore: 9.8}
	}
	sync := func(ws, host int64, fs ...vuln.Finding) {
		t.Helper()
		if _, err := e.svc.Store.SyncFindings(ctx, ws, host, fs, now.Add(-10*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	sync(e.ws.ID, s.web1.ID, ossl(formulaRule),
		vuln.Finding{VulnID: "CVE-2024-0002", AdvisoryID: "CVE-2024-0002", Source: "osv:Debian:12", Package: "bash",
			Installed: "5.2.15-2+b2", Rule: "bash 5.2.15-2+b2 is affected; Debian has no fix yet", Severity: "medium", CVSSScore: 5.3})
	sync(e.ws.ID, s.web2.ID, ossl("openssl 3.0.11-1~deb12u2 < 3.0.13-1~deb12u1"),
		vuln.Finding{VulnID: "CVE-2024-0003", AdvisoryID: "DSA-5601-1", Source: "osv:Debian:12", Package: "zlib",
			Installed: "1:1.2.13.dfsg-1", Fixed: "1:1.2.13.dfsg-2", Rule: "zlib < 1:1.2.13.dfsg-2", Severity: "high", CVSSScore: 7.5})

	other := &domain.Workspace{Name: "Other", Slug: "other", Schedule: inventory.Schedule{IntervalSeconds: 3600}}
	if err := e.svc.Store.CreateWorkspace(ctx, other); err != nil {
		t.Fatal(err)
	}
	name, addr := "secret-host", "198.51.100.7"
	h, err := e.svc.CreateHost(ctx, service.Actor{UserID: e.admin.UserID, Login: "admin", WorkspaceID: other.ID, Role: domain.RoleAdmin},
		domain.HostInput{Name: &name, Address: &addr})
	if err != nil {
		t.Fatal(err)
	}
	s.secret, s.otherWS = h, other.ID
	sync(other.ID, h.ID, ossl("secret rule"),
		vuln.Finding{VulnID: "CVE-2099-9999", AdvisoryID: "SECRET-1", Source: "osv:Debian:12", Package: "secretpkg",
			Installed: "1.0", Rule: "secret rule", Severity: "low"})
	return s
}

// findingID returns the ID of a seeded finding in the admin's workspace.
func (e *env) findingID(vulnID string, hostID int64) int64 {
	e.t.Helper()
	list, _, err := e.svc.Store.ListFindings(context.Background(), e.ws.ID,
		store.FindingFilter{VulnID: vulnID, HostID: hostID, Status: "all", IncludeMarked: true})
	if err != nil || len(list) != 1 {
		e.t.Fatalf("finding %s on host %d: %v, %d found", vulnID, hostID, err, len(list))
	}
	return list[0].ID
}

// vulnRowOf returns the list row of a vulnerability, or "".
func vulnRowOf(body, id string) string {
	i := strings.Index(body, ">"+id+"</a></th>")
	if i < 0 {
		return ""
	}
	i = strings.LastIndex(body[:i], "<tr")
	return body[i : i+strings.Index(body[i:], "</tr>")]
}

var inlineCode = regexp.MustCompile(`(?i)<script(\s[^>]*)?>[^<]|<style|\sstyle=|\son[a-z]+=|hx-on`)

func TestVulnerabilitiesList(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	e.seedVulns()
	body := e.get(s, "/vulnerabilities", http.StatusOK)
	if m := inlineCode.FindString(body); m != "" {
		t.Errorf("inline code %q", m)
	}
	wantContains(t, body, `aria-current="page">Vulnerabilities</a>`, "Showing 1–3 of 3 vulnerabilities")
	wantNotContains(t, body, "CVE-2099-9999", "secret")

	r1 := vulnRowOf(body, "CVE-2024-0001")
	wantContains(t, r1, `href="/vulnerabilities/CVE-2024-0001"`, ">Critical<", ">9.8<", ">KEV<", "due 2099-03-22", "ransomware",
		"97.31%", "99.9%", `<td class="num">2</td>`, "Yes", `<td class="num">10</td>`, "A buffer overflow in openssl", "…")
	r2 := vulnRowOf(body, "CVE-2024-0002")
	wantContains(t, r2, ">Medium<", `<td class="num">1</td>`, ">No<", "bash mishandles")
	wantNotContains(t, r2, ">KEV<")
	wantContains(t, vulnRowOf(body, "CVE-2024-0003"), ">High<", `<td class="num">1</td>`)
	if i, j, k := strings.Index(body, ">CVE-2024-0001<"), strings.Index(body, ">CVE-2024-0003<"), strings.Index(body, ">CVE-2024-0002<"); !(i < j && j < k) {
		t.Errorf("rows not ordered by severity: %d %d %d", i, j, k)
	}
	// The counts count findings: two critical (one per host), one high, one medium, two KEV.
	for _, c := range []string{`severity=critical"`, `severity=high"`, `severity=medium"`, `kev=1"`} {
		wantContains(t, body, `href="/vulnerabilities?`+c)
	}
	wantContains(t, body, `<span class="count">2</span> <span class="badge badge-sev-critical">Critical</span>`,
		`<span class="count">2</span> <span class="badge badge-kev">KEV</span>`,
		`href="/vulnerabilities/export?format=csv"`, `href="/vulnerabilities/export?format=json"`)

	tests := []struct {
		query   string
		status  int
		want    []string
		notWant []string
	}{
		{"severity=medium", 200, []string{"CVE-2024-0002", `<option value="medium" selected>`}, []string{">CVE-2024-0001<", ">CVE-2024-0003<"}},
		{"kev=1", 200, []string{">CVE-2024-0001<", `name="kev" value="1" checked`}, []string{">CVE-2024-0002<", ">CVE-2024-0003<"}},
		{"fix=1", 200, []string{">CVE-2024-0001<", ">CVE-2024-0003<"}, []string{">CVE-2024-0002<"}},
		{"q=ZLIB", 200, []string{">CVE-2024-0003<", `value="ZLIB"`, "export?format=csv&amp;q=ZLIB"}, []string{">CVE-2024-0001<"}},
		{"q=2024-0002", 200, []string{">CVE-2024-0002<"}, []string{">CVE-2024-0001<"}},
		{"status=resolved", 200, []string{"No vulnerabilities match these filters"}, []string{">CVE-2024-0001<"}},
		{"status=all&severity=critical", 200, []string{">CVE-2024-0001<"}, []string{">CVE-2024-0002<"}},
		{"severity=urgent", 400, []string{"severity: must be one of", ">CVE-2024-0001<"}, nil},
		{"offset=100", 200, []string{"No vulnerabilities on this page", "first page"}, []string{">CVE-2024-0001<"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			body := e.get(s, "/vulnerabilities?"+tt.query, tt.status)
			wantContains(t, body, tt.want...)
			wantNotContains(t, body, tt.notWant...)
			wantNotContains(t, body, "CVE-2099-9999")
		})
	}
}

func TestVulnerabilitiesExport(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := e.seedVulns()
	readCSV := func(path string) [][]string {
		t.Helper()
		w := e.do(req{path: path, sess: s})
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
			t.Fatalf("GET %s: %d %s\n%s", path, w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		recs, err := csv.NewReader(w.Body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(recs[0], ",") != strings.Join(findingsCSVHeader, ",") || recs[0][0] != "host" || len(recs[0]) != 19 {
			t.Fatalf("header %q", recs[0])
		}
		return recs[1:]
	}
	tests := []struct {
		query string
		rows  int
	}{
		{"format=csv", 4},
		{"format=csv&severity=critical", 2},
		{"format=csv&kev=1&fix=1", 2},
		{"format=csv&q=bash", 1},
		{fmt.Sprintf("format=csv&host_id=%d", seed.web1.ID), 2},
		{fmt.Sprintf("format=csv&host_id=%d", seed.secret.ID), 0},
		{"format=csv&vuln_id=CVE-2099-9999&status=all&marked=1", 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			rows := readCSV("/vulnerabilities/export?" + tt.query)
			if len(rows) != tt.rows {
				t.Fatalf("%d rows, want %d: %q", len(rows), tt.rows, rows)
			}
			for _, r := range rows {
				if r[0] == "secret-host" || r[1] == "CVE-2099-9999" {
					t.Errorf("another workspace's finding exported: %q", r)
				}
			}
		})
	}
	rows := readCSV("/vulnerabilities/export?format=csv&q=openssl")
	for _, r := range rows {
		if r[0] == "web-01" {
			if r[18] != "'"+formulaRule || r[4] != "yes" || r[5] != "2099-03-22" || r[15] != "10" {
				t.Errorf("web-01 openssl row %q", r)
			}
		}
	}

	w := e.do(req{path: "/vulnerabilities/export?format=json&severity=critical", sess: s})
	var out struct {
		Total    int            `json:"total"`
		Findings []vuln.Finding `json:"findings"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != http.StatusOK {
		t.Fatalf("json export: %d %v\n%s", w.Code, err, w.Body)
	}
	if out.Total != 2 || len(out.Findings) != 2 || out.Findings[0].KEV == nil || out.Findings[0].WorkspaceID != e.ws.ID {
		t.Errorf("json export: %+v", out)
	}
	e.get(s, "/vulnerabilities/export?format=xml", http.StatusBadRequest)
	e.get(s, "/vulnerabilities/export?format=csv&status=gone", http.StatusBadRequest)
	if w := e.do(req{path: "/vulnerabilities/export?format=csv"}); w.Code != http.StatusSeeOther {
		t.Errorf("logged-out export: status %d", w.Code)
	}
}
