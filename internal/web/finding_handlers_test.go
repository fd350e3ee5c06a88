package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

func TestVulnerabilityPage(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := e.seedVulns()
	v := e.session(e.user(domain.RoleViewer))

	body := e.get(s, "/vulnerabilities/CVE-2024-0001", http.StatusOK)
	if m := inlineCode.FindString(body); m != "" {
		t.Errorf("inline code %q", m)
	}
	wantContains(t, body, "<h1 class=\"mono-title\">CVE-2024-0001</h1>", ">Critical<", "A buffer overflow in openssl",
		"CVSS 3.1", "9.8", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS 2.0", "7.5", "CWE-787",
		"published 2024-01-10", "modified 2024-02-01",
		"OpenSSL Buffer Overflow", "2024-03-01", "2099-03-22", "Apply mitigations per vendor instructions.", "<strong>Known</strong>",
		"97.31%", "99.9%", "v2023.03.01",
		`<a href="https://www.openssl.org/news/secadv/20240110.txt" rel="noopener noreferrer">`, "Vendor Advisory",
		"2 open findings on 2 hosts",
		fmt.Sprintf(`<a href="/hosts/%d">web-01</a>`, seed.web1.ID), fmt.Sprintf(`<a href="/hosts/%d">web-02</a>`, seed.web2.ID),
		"openssl", "binaries: openssl, libssl3", "3.0.11-1~deb12u2", "3.0.13-1~deb12u1", "DSA-5600-1", "osv:Debian:12",
		formulaRule[:10], "10 days open",
		`action="/findings/`, `name="reason"`, `name="csrf_token"`, `value="/vulnerabilities/CVE-2024-0001"`,
		"export?format=csv&amp;marked=1&amp;status=all&amp;vuln_id=CVE-2024-0001")
	wantNotContains(t, body, "secret", `href="javascript:`, `href="data:text`, "#ZgotmplZ", "<script>alert")
	wantContains(t, body, "javascript:alert(1)</span> <span class=\"muted small\">(not a web link)")

	tests := []struct {
		name    string
		path    string
		sess    session
		status  int
		want    []string
		notWant []string
	}{
		{"no fix", "/vulnerabilities/CVE-2024-0002", s, 200, []string{"no fix available", ">Medium<", "web-01"}, []string{"web-02"}},
		{"not in NVD", "/vulnerabilities/CVE-2024-0003", s, 200, []string{"not in the imported NVD data", ">High<", "web-02"}, []string{"web-01<"}},
		{"viewer sees no mark form", "/vulnerabilities/CVE-2024-0001", v, 200, []string{"web-01"}, []string{`action="/findings/`, "Mark…"}},
		{"other workspace only", "/vulnerabilities/CVE-2099-9999", s, 404, nil, []string{"secret", "CVE-2099-9999"}},
		{"unknown", "/vulnerabilities/CVE-1999-0000", s, 404, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := e.get(tt.sess, tt.path, tt.status)
			wantContains(t, body, tt.want...)
			wantNotContains(t, body, tt.notWant...)
		})
	}
}

func TestMarkFinding(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := e.seedVulns()
	v := e.session(e.user(domain.RoleViewer))
	id := e.findingID("CVE-2024-0002", seed.web1.ID)
	other, _, err := e.svc.Store.ListFindings(context.Background(), seed.otherWS, store.FindingFilter{VulnID: "CVE-2099-9999"})
	if err != nil || len(other) != 1 {
		t.Fatal(err, len(other))
	}
	path := fmt.Sprintf("/findings/%d/mark", id)
	future := e.svc.Now().AddDate(0, 1, 0).Format("2006-01-02")
	tests := []struct {
		name   string
		path   string
		sess   session
		form   url.Values
		noCSRF bool
		status int
		want   []string // body on error, Location on success
	}{
		{"viewer", path, v, url.Values{"mark": {"accepted_risk"}, "reason": {"x"}}, false, 403, []string{"Read-only access"}},
		{"no CSRF token", path, s, url.Values{"mark": {"accepted_risk"}, "reason": {"x"}}, true, 403, []string{"Request refused"}},
		{"missing reason", path, s, url.Values{"mark": {"accepted_risk"}, "reason": {"  "}, "back": {"/vulnerabilities/CVE-2024-0002"}}, false, 400,
			[]string{`role="alert"`, "reason: required", `value="/vulnerabilities/CVE-2024-0002"`, "bash"}},
		{"no mark chosen", path, s, url.Values{"reason": {"because"}}, false, 400, []string{"mark: choose accepted risk or false positive", `value="because"`}},
		{"expiry in the past", path, s, url.Values{"mark": {"false_positive"}, "reason": {"r"}, "expires": {"2001-01-01"}}, false, 400, []string{"expires: must be a date after today"}},
		{"expiry not a date", path, s, url.Values{"mark": {"false_positive"}, "reason": {"r"}, "expires": {"soon"}}, false, 400, []string{"expires: not a date"}},
		{"another workspace's finding", fmt.Sprintf("/findings/%d/mark", other[0].ID), s, url.Values{"mark": {"accepted_risk"}, "reason": {"x"}}, false, 404, nil},
		{"off-site back is ignored", path, s, url.Values{"mark": {"accepted_risk"}, "reason": {"Mitigated by AppArmor"}, "expires": {future}, "back": {"//evil.example/x"}},
			false, 303, []string{fmt.Sprintf("/vulnerabilities#finding-%d", id)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := withCSRF(tt.sess, tt.form)
			if tt.noCSRF {
				form = tt.form
			}
			w := e.do(req{method: "POST", path: tt.path, sess: tt.sess, form: form})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d\n%s", w.Code, tt.status, w.Body)
			}
			if tt.status == http.StatusSeeOther {
				if loc := w.Header().Get("Location"); loc != tt.want[0] {
					t.Errorf("Location %q, want %q", loc, tt.want[0])
				}
				return
			}
			wantContains(t, w.Body.String(), tt.want...)
			wantNotContains(t, w.Body.String(), "secret")
		})
	}

	// Marked: gone from the default list, back with "include marked".
	wantNotContains(t, e.get(s, "/vulnerabilities", http.StatusOK), ">CVE-2024-0002<")
	wantContains(t, e.get(s, "/vulnerabilities?marked=1", http.StatusOK), ">CVE-2024-0002<")
	page := e.get(s, "/vulnerabilities/CVE-2024-0002", http.StatusOK)
	wantContains(t, page, ">Accepted risk<", "Mitigated by AppArmor", "by admin", "until "+future, "Clear mark")
	wantNotContains(t, e.get(s, fmt.Sprintf("/hosts/%d", seed.web1.ID), http.StatusOK), ">CVE-2024-0002<")
	wantContains(t, e.get(s, path+"?back=/hosts/1", http.StatusOK), `value="Mitigated by AppArmor"`, `value="/hosts/1"`, "Clear mark")

	// Cleared from the host page: back there, and listed again.
	hostBack := fmt.Sprintf("/hosts/%d#vulnerabilities", seed.web1.ID)
	w := e.do(req{method: "POST", path: path, sess: s, form: withCSRF(s, url.Values{"mark": {"clear"}, "back": {hostBack}})})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != hostBack {
		t.Fatalf("clear: %d %q", w.Code, w.Header().Get("Location"))
	}
	wantContains(t, e.get(s, "/vulnerabilities", http.StatusOK), ">CVE-2024-0002<")
	e.get(v, path, http.StatusForbidden)
	e.get(s, "/findings/99999/mark", http.StatusNotFound)
}

func TestHostVulnerabilities(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := e.seedVulns()
	body := e.get(s, fmt.Sprintf("/hosts/%d", seed.web1.ID), http.StatusOK)
	if m := inlineCode.FindString(body); m != "" {
		t.Errorf("inline code %q", m)
	}
	wantContains(t, body, `href="#vulnerabilities">Vulnerabilities (2)</a>`, "2 open findings",
		`href="/vulnerabilities/CVE-2024-0001"`, `href="/vulnerabilities/CVE-2024-0002"`, ">KEV<", "97.31%",
		fmt.Sprintf("/vulnerabilities/export?format=csv&amp;host_id=%d", seed.web1.ID),
		fmt.Sprintf("/vulnerabilities?host_id=%d&amp;marked=1", seed.web1.ID),
		"Mark…", fmt.Sprintf("mark?back=%%2fhosts%%2f%d%%23vulnerabilities", seed.web1.ID))
	wantNotContains(t, body, "CVE-2024-0003", "secret")
	if i, j := strings.Index(body, ">CVE-2024-0001<"), strings.Index(body, ">CVE-2024-0002<"); i > j {
		t.Error("critical finding not listed first")
	}

	quiet := e.host("quiet")
	wantContains(t, e.get(s, fmt.Sprintf("/hosts/%d", quiet.ID), http.StatusOK), "Vulnerabilities (0)", "No open findings on this host")
	list := e.get(s, fmt.Sprintf("/vulnerabilities?host_id=%d", seed.web1.ID), http.StatusOK)
	wantContains(t, list, "Only findings on host", ">web-01</a>", ">CVE-2024-0002<")
	wantNotContains(t, list, ">CVE-2024-0003<")
	e.get(s, fmt.Sprintf("/vulnerabilities?host_id=%d", seed.secret.ID), http.StatusNotFound)
}

func TestVulnerabilitiesEmpty(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	body := e.get(s, "/vulnerabilities", http.StatusOK)
	wantContains(t, body, "No vulnerability data imported yet", "<code>vigil feeds import</code>", "<code>vigil feeds sync</code>")

	ok := e.svc.Now().Add(-2 * time.Hour)
	if err := e.svc.Store.SaveFeedState(context.Background(), &store.FeedState{Feed: "kev", LastAttemptAt: &ok, LastSuccessAt: &ok, Records: 1200}); err != nil {
		t.Fatal(err)
	}
	body = e.get(s, "/vulnerabilities", http.StatusOK)
	wantContains(t, body, "No open findings", ">kev<", "2 h ago", ">1200<")
	wantNotContains(t, body, "vigil feeds import")
	wantContains(t, e.get(s, "/vulnerabilities?kev=1", http.StatusOK), "No vulnerabilities match these filters")
}
