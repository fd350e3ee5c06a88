package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/domain"
)

// TestWorklistPage: one line per host and package, KEV first, the fix to
// install, exposure from the listening nginx; the CSV export has the same
// lines; the fleet view counts hosts per upgrade.
func TestWorklistPage(t *testing.T) {
	e := newEnv(t)
	fx := newRiskFixture(t, e)
	s := e.session(e.admin)
	body := e.get(s, "/worklist", http.StatusOK)
	wantContains(t, body, "8 open findings on 2 hosts", "3.0.13-1~deb12u1", "CVE-2024-0001", "CVE-2024-0002", "nginx tcp/443",
		"Exposure is known for 1 of them")
	// KEV openssl lines come before nginx, nginx before sudo.
	if i, j, k := strings.Index(body, "3.0.13-1~deb12u1"), strings.Index(body, "CVE-2024-0003"), strings.Index(body, "no fix available"); !(i < j && j < k) {
		t.Errorf("order: openssl at %d, nginx at %d, sudo at %d", i, j, k)
	}
	fleet := e.get(s, "/worklist?view=fleet", http.StatusOK)
	wantContains(t, fleet, "Across the fleet", "1 host")
	csv := e.get(s, "/worklist/export?format=csv", http.StatusOK)
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if len(lines) != 7 || !strings.HasPrefix(lines[1], "db-01,openssl,") && !strings.HasPrefix(lines[1], "web-01,openssl,") {
		t.Errorf("CSV:\n%s", csv)
	}
	var js struct {
		Items []struct {
			HostName string `json:"host_name"`
			Package  string `json:"package"`
			Fix      string `json:"fix_version"`
			Exposed  bool   `json:"exposed"`
		} `json:"items"`
		Fleet []struct {
			Package string `json:"package"`
			Hosts   int    `json:"hosts"`
		} `json:"fleet"`
	}
	if err := json.Unmarshal([]byte(e.get(s, "/worklist/export?format=json&view=fleet", http.StatusOK)), &js); err != nil {
		t.Fatal(err)
	}
	if len(js.Fleet) != 3 || js.Fleet[0].Package != "openssl" || js.Fleet[0].Hosts != 2 {
		t.Errorf("fleet %+v", js.Fleet)
	}
	// The group filter and an unknown view.
	e.get(s, "/worklist?group_id="+strconv.FormatInt(fx.group.ID, 10), http.StatusOK)
	e.get(s, "/worklist?view=planet", http.StatusBadRequest)
}

// TestExceptionPages: from a finding's row to a saved exception that takes
// the finding off the worklist, its history, change and revoke; viewers
// read but cannot decide; a failing check under an exception shows as
// excepted.
func TestExceptionPages(t *testing.T) {
	e := newEnv(t)
	fx := newRiskFixture(t, e)
	s := e.session(e.admin)

	// The findings table links each row to the form, prefilled.
	host := e.get(s, "/hosts/"+strconv.FormatInt(fx.web.ID, 10), http.StatusOK)
	wantContains(t, host, "/exceptions/new?finding="+strconv.FormatInt(fx.opensslID, 10), "/hosts/"+strconv.FormatInt(fx.web.ID, 10)+"/sbom")
	form := e.get(s, "/exceptions/new?finding="+strconv.FormatInt(fx.opensslID, 10), http.StatusOK)
	wantContains(t, form, `value="CVE-2024-0001"`, `value="openssl"`, "CVE-2024-0001 in openssl 3.0.11-1~deb12u2 on web-01")

	// Refused without a reason; the form keeps what was typed.
	in := url.Values{"target": {"finding"}, "kind": {"mitigated"}, "vuln_id": {"CVE-2024-0001"}, "package": {"openssl"},
		"scope": {"group"}, "group_id": {strconv.FormatInt(fx.group.ID, 10)}, "reason": {""}, "expires": {"2099-01-01"}}
	w := e.do(req{method: "POST", path: "/exceptions", form: withCSRF(s, in), sess: s})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "reason: required") {
		t.Fatalf("no reason: %d\n%s", w.Code, w.Body.String())
	}
	in.Set("reason", "TLS terminated on the load balancer")
	w = e.do(req{method: "POST", path: "/exceptions", form: withCSRF(s, in), sess: s})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", w.Code, e.logs.String())
	}
	loc := w.Header().Get("Location")
	page := e.get(s, loc, http.StatusOK)
	wantContains(t, page, "Mitigated: CVE-2024-0001 · openssl", "group Web servers", "TLS terminated on the load balancer", "Created", "2099-01-01")
	// Off the worklist on both hosts of the group.
	wl := e.get(s, "/worklist", http.StatusOK)
	wantNotContains(t, wl, "CVE-2024-0001")
	wantContains(t, wl, "6 open findings")

	// A viewer sees the exceptions but gets no form and cannot post.
	viewer := e.session(e.user(domain.RoleViewer))
	list := e.get(viewer, "/exceptions", http.StatusOK)
	wantContains(t, list, "TLS terminated on the load balancer", "break-glass access")
	wantNotContains(t, list, `href="/exceptions/new"`)
	e.get(viewer, "/exceptions/new", http.StatusForbidden)
	w = e.do(req{method: "POST", path: loc[:strings.Index(loc, "?")] + "/revoke", form: withCSRF(viewer, url.Values{}), sess: viewer})
	if w.Code != http.StatusForbidden {
		t.Errorf("viewer revoke: %d", w.Code)
	}

	// Change the expiry, then revoke: both in the history, and the finding
	// is back.
	id := strings.TrimSuffix(strings.TrimPrefix(loc, "/exceptions/"), "?created=1")
	w = e.do(req{method: "POST", path: "/exceptions/" + id, form: withCSRF(s, url.Values{"kind": {"mitigated"},
		"reason": {"TLS terminated on the load balancer"}, "expires": {"2098-06-30"}}), sess: s})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("update: %d\n%s", w.Code, w.Body.String())
	}
	w = e.do(req{method: "POST", path: "/exceptions/" + id + "/revoke", form: withCSRF(s, url.Values{}), sess: s})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", w.Code)
	}
	page = e.get(s, "/exceptions/"+id, http.StatusOK)
	wantContains(t, page, "Revoked", "Changed", "2098-06-30", "Created")
	wantNotContains(t, page, `action="/exceptions/`+id+`/revoke"`)
	wantContains(t, e.get(s, "/worklist", http.StatusOK), "CVE-2024-0001")
	hist := e.get(s, "/exceptions?state=all", http.StatusOK)
	wantContains(t, hist, "Revoked", "#"+id)
	csv := e.get(s, "/exceptions/export?state=all", http.StatusOK)
	if n := strings.Count(strings.TrimSpace(csv), "\n"); n != 2 {
		t.Errorf("exceptions CSV has %d rows:\n%s", n, csv)
	}

	// The check exception from the fixture: excepted on db-01, failing on web-01.
	check := e.get(s, "/compliance/checks/ssh-root-login", http.StatusOK)
	// Counted apart: one failing (web-01), one excepted (db-01).
	results := func(page string) string {
		_, rest, _ := strings.Cut(page, `<table class="data results">`)
		table, _, _ := strings.Cut(rest, "</table>")
		return table
	}
	only := results(e.get(s, "/compliance/checks/ssh-root-login?status=excepted", http.StatusOK))
	wantContains(t, only, ">db-01<")
	wantNotContains(t, only, ">web-01<")
	failing := results(e.get(s, "/compliance/checks/ssh-root-login?status=fail", http.StatusOK))
	wantContains(t, failing, ">web-01<")
	wantNotContains(t, failing, ">db-01<")
	wantContains(t, check, "Excepted", "Accepted risk", "/exceptions/"+strconv.FormatInt(fx.exception.ID, 10),
		"/exceptions/new?back=")
	dbPage := e.get(s, "/hosts/"+strconv.FormatInt(fx.db.ID, 10), http.StatusOK)
	wantContains(t, dbPage, "Excepted", `<a href="/exceptions" class="badge badge-marked">Excepted</a>`)
}

// TestGroupReportPage: the printable report is a document of its own (no
// navigation, print CSS) with the summary, trend, risks, compliance and
// exceptions sections.
func TestGroupReportPage(t *testing.T) {
	e := newEnv(t)
	fx := newRiskFixture(t, e)
	s := e.session(e.user(domain.RoleViewer))
	body := e.get(s, "/reports/groups/"+strconv.FormatInt(fx.group.ID, 10), http.StatusOK)
	wantContains(t, body, "<h1>Web servers</h1>", "Executive summary", "Severity trend", "Top risks", "Compliance", "Exceptions",
		"report.css", "Web servers has 2 hosts", "8 vulnerability findings are open (2 critical, 2 high)",
		"2 are known to be exploited (CISA KEV), 2 past CISA&#39;s due date",
		"The most urgent upgrade is openssl on 2 hosts", "break-glass access",
		"1 exception in force covers 0 open findings and 1 failing check result", "Compliance: 66.6% of judged check results pass; 1 check fails on at least one host; 1 failing result is excepted.", "<polyline", "db-01", "web-01")
	wantNotContains(t, body, `class="mainnav"`, "app.js")
	e.get(s, "/reports/groups/999999", http.StatusNotFound)
}

// TestHostSBOMDownload: the host page's link serves the host's packages as
// CycloneDX JSON with purls, as an attachment.
func TestHostSBOMDownload(t *testing.T) {
	e := newEnv(t)
	fx := newRiskFixture(t, e)
	s := e.session(e.admin)
	w := e.do(req{path: "/hosts/" + strconv.FormatInt(fx.web.ID, 10) + "/sbom", sess: s})
	if w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Content-Disposition"), `filename="web-01.cdx.json"`) {
		t.Fatalf("sbom: %d %v", w.Code, w.Header())
	}
	var bom struct {
		BOMFormat  string `json:"bomFormat"`
		Spec       string `json:"specVersion"`
		Components []struct {
			PURL string `json:"purl"`
		} `json:"components"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &bom); err != nil {
		t.Fatal(err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.Spec != "1.6" || len(bom.Components) != 5 {
		t.Fatalf("bom %+v", bom)
	}
	want := "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl"
	found := false
	for _, c := range bom.Components {
		found = found || c.PURL == want
	}
	if !found {
		t.Errorf("no %s in %+v", want, bom.Components)
	}
	e.get(s, "/hosts/999999/sbom", http.StatusNotFound)
}
