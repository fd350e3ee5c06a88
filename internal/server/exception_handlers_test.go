package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/server"
	"github.com/vigil-project/vigil/internal/vuln"
)

// TestExceptionsAPI: create, read with history, change, revoke; the
// finding leaves the findings list and the worklist while the exception is
// active; bad input is refused with the field named; another workspace's
// host or exception is not reachable.
func TestExceptionsAPI(t *testing.T) {
	f := newFixture(t, server.Options{})
	ctx := context.Background()
	if _, err := f.svc.Store.SyncFindings(ctx, f.ws1.ID, f.host1.ID, []vuln.Finding{
		{VulnID: "CVE-2024-7", AdvisoryID: "DSA-7", Source: "osv:Debian:12", Package: "openssl", Installed: "3.0.11-1~deb12u2",
			Fixed: "3.0.13-1~deb12u1", Severity: "high", CVSSScore: 7.5},
	}, f.svc.Now()); err != nil {
		t.Fatal(err)
	}
	tok := f.token1
	tests := []struct {
		name, method, path, body string
		want                     int
		wantIn                   string
	}{
		{"no reason", "POST", "/api/v1/exceptions", `{"target":"finding","kind":"accepted_risk","vuln_id":"CVE-2024-7","scope":"all"}`, 400, "reason: required"},
		{"bad kind", "POST", "/api/v1/exceptions", `{"target":"finding","kind":"ignore","vuln_id":"CVE-2024-7","scope":"all","reason":"r"}`, 400, "kind:"},
		{"unknown field", "POST", "/api/v1/exceptions", `{"target":"finding","kind":"accepted_risk","vuln":"CVE-2024-7","scope":"all","reason":"r"}`, 400, "vuln"},
		{"other workspace's host", "POST", "/api/v1/exceptions",
			fmt.Sprintf(`{"target":"finding","kind":"accepted_risk","vuln_id":"CVE-2024-7","scope":"host","host_id":%d,"reason":"r"}`, f.host2.ID), 400, "host_id"},
		{"past expiry", "POST", "/api/v1/exceptions", `{"target":"check","kind":"mitigated","check_id":"ssh-root","scope":"all","reason":"r","expires_at":"2001-01-01T00:00:00Z"}`, 400, "expires_at"},
		{"bad state filter", "GET", "/api/v1/exceptions?state=sleeping", "", 400, "state:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.do(tt.method, tt.path, tok, strings.NewReader(tt.body), nil)
			if resp.StatusCode != tt.want || !strings.Contains(string(body), tt.wantIn) {
				t.Errorf("%s %s: %d %s, want %d with %q", tt.method, tt.path, resp.StatusCode, body, tt.want, tt.wantIn)
			}
		})
	}

	resp, body := f.do("POST", "/api/v1/exceptions", tok, strings.NewReader(fmt.Sprintf(
		`{"target":"finding","kind":"false_positive","vuln_id":"CVE-2024-7","package":"openssl","scope":"host","host_id":%d,"reason":"FIPS build, not affected","expires_at":"2099-01-01T00:00:00Z"}`,
		f.host1.ID)), nil)
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var e struct {
		ID       int64  `json:"id"`
		State    string `json:"state"`
		HostName string `json:"host_name"`
		By       string `json:"created_by"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.State != "active" || e.HostName != "h1" || e.By != "admin" {
		t.Fatalf("created %s (%v)", body, err)
	}
	if loc := resp.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/exceptions/%d", e.ID) {
		t.Errorf("Location %q", loc)
	}
	_, body = f.do("GET", "/api/v1/findings", tok, nil, nil)
	if !strings.Contains(string(body), `"total":0`) {
		t.Errorf("findings with the exception: %s", body)
	}
	_, body = f.do("GET", "/api/v1/findings?marked=1", tok, nil, nil)
	if !strings.Contains(string(body), `"mark":"false_positive"`) || !strings.Contains(string(body), fmt.Sprintf(`"exception_id":%d`, e.ID)) {
		t.Errorf("marked findings: %s", body)
	}
	_, body = f.do("GET", "/api/v1/worklist", tok, nil, nil)
	if !strings.Contains(string(body), `"items":[]`) {
		t.Errorf("worklist with the exception: %s", body)
	}

	path := fmt.Sprintf("/api/v1/exceptions/%d", e.ID)
	resp, body = f.do("PATCH", path, tok, strings.NewReader(`{"scope":"all"}`), nil)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "only kind, reason") {
		t.Errorf("changing the scope: %d %s", resp.StatusCode, body)
	}
	resp, body = f.do("PATCH", path, tok, strings.NewReader(`{"kind":"mitigated","clear_expiry":true}`), nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"kind":"mitigated"`) || strings.Contains(string(body), "expires_at") {
		t.Errorf("update: %d %s", resp.StatusCode, body)
	}
	resp, _ = f.do("POST", path+"/revoke", tok, nil, nil)
	if resp.StatusCode != 200 {
		t.Errorf("revoke: %d", resp.StatusCode)
	}
	resp, _ = f.do("DELETE", path, tok, nil, nil)
	if resp.StatusCode != 409 {
		t.Errorf("second revoke: %d, want 409", resp.StatusCode)
	}
	_, body = f.do("GET", path, tok, nil, nil)
	var got struct {
		Exception struct {
			State string `json:"state"`
		} `json:"exception"`
		History []struct {
			Action string `json:"action"`
			Actor  string `json:"actor"`
		} `json:"history"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Exception.State != "revoked" || len(got.History) != 3 || got.History[0].Action != "revoked" || got.History[2].Action != "created" {
		t.Errorf("after revoke: %s", body)
	}
	// The finding is back, first on the worklist, with its fix.
	_, body = f.do("GET", "/api/v1/worklist", tok, nil, nil)
	if !strings.Contains(string(body), `"fix_version":"3.0.13-1~deb12u1"`) {
		t.Errorf("worklist after revoke: %s", body)
	}
	resp, body = f.do("GET", "/api/v1/worklist?format=csv&view=fleet", tok, nil, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "package,fix_version,hosts") || !strings.Contains(string(body), "openssl,3.0.13-1~deb12u1,1,") {
		t.Errorf("fleet CSV: %d %s", resp.StatusCode, body)
	}
	_, body = f.do("GET", "/api/v1/exceptions/history", tok, nil, nil)
	if strings.Count(string(body), `"action"`) != 3 {
		t.Errorf("history: %s", body)
	}
	resp, body = f.do("GET", "/api/v1/exceptions?state=revoked&format=csv", tok, nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "FIPS build, not affected") {
		t.Errorf("CSV: %d %s", resp.StatusCode, body)
	}

	// SBOM: own host (no packages yet: the OS component only) and another
	// workspace's.
	resp, body = f.do("GET", fmt.Sprintf("/api/v1/hosts/%d/sbom?download=1", f.host1.ID), tok, nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "cyclonedx") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="h1.cdx.json"`) || !strings.Contains(string(body), `"specVersion": "1.6"`) {
		t.Errorf("sbom: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	resp, _ = f.do("GET", fmt.Sprintf("/api/v1/hosts/%d/sbom", f.host2.ID), tok, nil, nil)
	if resp.StatusCode != 404 {
		t.Errorf("other workspace's sbom: %d", resp.StatusCode)
	}
}
