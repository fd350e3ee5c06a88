package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/server"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store/sqlite"
)

// fixture is a server on a real SQLite store with two workspaces, each with
// an agent and a host, and a user token for the first.
type fixture struct {
	t       *testing.T
	svc     *service.Service
	srv     *httptest.Server
	ws1     *domain.Workspace
	ws2     *domain.Workspace
	agent1  string // key of ws1's agent, which owns host1
	agent1b string // key of a second ws1 agent, which owns nothing
	agent2  string // key of ws2's agent, which owns host2
	host1   *domain.Host
	host2   *domain.Host
	token1  string
}

func newFixture(t *testing.T, opts server.Options) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, secrets.KeySize)
	rand.Read(key)
	sealer, _ := secrets.NewSealer(key)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := service.New(st, sealer, log)
	res, err := svc.Bootstrap(ctx, "pw-admin")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, svc: svc, ws1: res.Workspace}
	f.ws2 = &domain.Workspace{Name: "Other", Slug: "other", Schedule: inventory.Schedule{IntervalSeconds: 3600}}
	if err := st.CreateWorkspace(ctx, f.ws2); err != nil {
		t.Fatal(err)
	}
	admin, _ := st.GetUserByLogin(ctx, service.AdminLogin)
	if err := st.SetMembership(ctx, domain.Membership{WorkspaceID: f.ws2.ID, UserID: admin.ID, Role: domain.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	var a1 *domain.Agent
	a1, f.agent1, _ = svc.CreateAgentKey(ctx, f.ws1.ID, "a1")
	_, f.agent1b, _ = svc.CreateAgentKey(ctx, f.ws1.ID, "a1b")
	a2, key2, _ := svc.CreateAgentKey(ctx, f.ws2.ID, "a2")
	f.agent2 = key2
	mk := func(ws *domain.Workspace, agentID int64, name string) *domain.Host {
		addr, user, pw := "192.0.2.10", "scan", "secret-pw"
		h, err := svc.CreateHost(ctx, service.Actor{UserID: admin.ID, WorkspaceID: ws.ID, Role: domain.RoleAdmin},
			domain.HostInput{Name: &name, Address: &addr, AgentID: &agentID, Username: &user, Password: &pw})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	f.host1 = mk(f.ws1, a1.ID, "h1")
	f.host2 = mk(f.ws2, a2.ID, "h2")
	if f.token1, err = svc.CreateAPIToken(ctx, f.ws1.ID, admin.ID, "t"); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(server.New(svc, log, opts))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(method, path, key string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, body)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (f *fixture) snapshots(ws, host int64) int {
	s, err := f.svc.Store.ListSnapshots(context.Background(), ws, host, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	return len(s)
}

func report(hostID int64, id string) inventory.HostReport {
	now := time.Now().UTC()
	return inventory.HostReport{SchemaVersion: inventory.SchemaVersion, ReportID: id, HostID: hostID,
		StartedAt: now.Add(-time.Second), FinishedAt: now, Status: inventory.StatusOK,
		System:   inventory.System{OS: inventory.OS{ID: "debian", VersionID: "12", Family: "debian"}},
		Packages: []inventory.Package{{Name: "bash", Version: "5.2.15-2+b7", Arch: "amd64", Ecosystem: inventory.EcosystemDeb}}}
}

func batchJSON(reports ...inventory.HostReport) []byte {
	b, _ := json.Marshal(inventory.Batch{Reports: reports})
	return b
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// gzBomb compresses n bytes of blanks without holding them in memory.
func gzBomb(n int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	// Spaces, not zeros: JSON whitespace makes the decoder keep reading
	// instead of failing on the first byte.
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for i := 0; i < n; i += len(chunk) {
		zw.Write(chunk)
	}
	zw.Close()
	return buf.Bytes()
}

func TestAgentReportsBadInput(t *testing.T) {
	f := newFixture(t, server.Options{ReportLimits: httpx.Limits{Raw: 64 << 10, Decoded: 1 << 20}})
	ok := batchJSON(report(f.host1.ID, "r-ok"))
	// 50 MiB of blanks compresses to ~50 KiB: under the raw limit, far over
	// the decoded one.
	bomb := gzBomb(50 << 20)
	if len(bomb) >= 64<<10 {
		t.Fatalf("bomb is %d bytes compressed, over the raw limit", len(bomb))
	}
	smallBomb := gz(append([]byte(`{"reports":[`+strings.Repeat(" ", 2<<20)), []byte(`]}`)...))
	tests := []struct {
		name       string
		key        string
		body       []byte
		hdr        map[string]string
		wantStatus int
		wantInBody string
		wantHost   int64 // host whose snapshot count is checked
		wantSnaps  int
	}{
		{"missing key", "", ok, nil, 401, `"code":"unauthorized"`, f.host1.ID, 0},
		{"wrong key", "vga_wrong", ok, nil, 401, "invalid agent key", f.host1.ID, 0},
		{"user token is not an agent key", f.token1, ok, nil, 401, "invalid agent key", f.host1.ID, 0},
		{"host of another workspace", f.agent1, batchJSON(report(f.host2.ID, "r-x")), nil, 404, "reports[0].host_id", f.host2.ID, 0},
		{"other workspace's agent", f.agent2, batchJSON(report(f.host1.ID, "r-y")), nil, 404, "nothing was stored", f.host1.ID, 0},
		{"host of another agent", f.agent1b, ok, nil, 403, "not assigned to this agent", f.host1.ID, 0},
		{"mixed batch stores nothing", f.agent1, batchJSON(report(f.host1.ID, "r-m1"), report(f.host2.ID, "r-m2")), nil, 404, "reports[1].host_id", f.host1.ID, 0},
		{"malformed JSON", f.agent1, []byte(`{"reports":[{"report_id":`), nil, 400, "body:", f.host1.ID, 0},
		{"wrong type names the field", f.agent1, []byte(`{"reports":[{"host_id":"abc"}]}`), nil, 400, "host_id", f.host1.ID, 0},
		{"empty batch", f.agent1, []byte(`{"reports":[]}`), nil, 400, "empty batch", f.host1.ID, 0},
		{"over size limit", f.agent1, bytes.Repeat([]byte("x"), 70<<10), nil, 413, "too_large", f.host1.ID, 0},
		{"gzip bomb", f.agent1, bomb, map[string]string{"Content-Encoding": "gzip"}, 413, "decompressed", f.host1.ID, 0},
		{"gzip over decoded limit", f.agent1, smallBomb, map[string]string{"Content-Encoding": "gzip"}, 413, "decompressed", f.host1.ID, 0},
		{"not gzip", f.agent1, ok, map[string]string{"Content-Encoding": "gzip"}, 400, "gzip", f.host1.ID, 0},
		{"good gzip batch", f.agent1, gz(ok), map[string]string{"Content-Encoding": "gzip"}, 200, `"status":"accepted"`, f.host1.ID, 1},
		{"retried push stored once", f.agent1, ok, nil, 200, `"status":"duplicate"`, f.host1.ID, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.do("POST", "/api/v1/agent/reports", tc.key, bytes.NewReader(tc.body), tc.hdr)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantStatus != 200 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("error content type %q", resp.Header.Get("Content-Type"))
			}
			if !strings.Contains(string(body), tc.wantInBody) {
				t.Errorf("body %s does not contain %q", body, tc.wantInBody)
			}
			ws := f.ws1.ID
			if tc.wantHost == f.host2.ID {
				ws = f.ws2.ID
			}
			if n := f.snapshots(ws, tc.wantHost); n != tc.wantSnaps {
				t.Errorf("host has %d snapshots, want %d", n, tc.wantSnaps)
			}
		})
	}
}

func TestInvalidReportRejectedAlone(t *testing.T) {
	f := newFixture(t, server.Options{})
	bad := report(f.host1.ID, "r-bad")
	bad.Packages[0].Ecosystem = "npm"
	resp, body := f.do("POST", "/api/v1/agent/reports", f.agent1, bytes.NewReader(batchJSON(report(f.host1.ID, "r-good"), bad)), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var reply inventory.BatchReply
	json.Unmarshal(body, &reply)
	if reply.Results[0].Status != "accepted" || reply.Results[1].Status != "rejected" ||
		!strings.Contains(reply.Results[1].Error, "reports[1].packages[0].ecosystem") {
		t.Fatalf("reply %+v", reply)
	}
	if n := f.snapshots(f.ws1.ID, f.host1.ID); n != 1 {
		t.Fatalf("%d snapshots", n)
	}
}

func TestAgentConfigETagAndScope(t *testing.T) {
	f := newFixture(t, server.Options{})
	resp, body := f.do("GET", "/api/v1/agent/config", f.agent1, nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var cfg inventory.AgentConfig
	if err := json.Unmarshal(body, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Hosts) != 1 || cfg.Hosts[0].ID != f.host1.ID || cfg.Hosts[0].Credential == nil || cfg.Hosts[0].Credential.Password != "secret-pw" {
		t.Fatalf("config hosts %+v", cfg.Hosts)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	resp, _ = f.do("GET", "/api/v1/agent/config", f.agent1, nil, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("status %d, want 304", resp.StatusCode)
	}
	// A change to the host changes the config and its ETag.
	port := 2222
	if _, err := f.svc.UpdateHost(context.Background(), service.Actor{WorkspaceID: f.ws1.ID, Role: domain.RoleAdmin}, f.host1.ID, domain.HostInput{Port: &port}); err != nil {
		t.Fatal(err)
	}
	resp, _ = f.do("GET", "/api/v1/agent/config", f.agent1, nil, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == etag {
		t.Fatalf("status %d etag %s after change", resp.StatusCode, resp.Header.Get("ETag"))
	}
	// The other workspace's agent sees only its own host.
	_, body = f.do("GET", "/api/v1/agent/config", f.agent2, nil, nil)
	json.Unmarshal(body, &cfg)
	if len(cfg.Hosts) != 1 || cfg.Hosts[0].ID != f.host2.ID {
		t.Fatalf("agent2 hosts %+v", cfg.Hosts)
	}
}

func TestUserAPIHosts(t *testing.T) {
	f := newFixture(t, server.Options{})
	tok := f.token1
	tests := []struct {
		name, method, path, key, body string
		want                          int
		wantIn, wantNotIn             string
	}{
		{"no token", "GET", "/api/v1/hosts", "", "", 401, "authentication required", ""},
		{"agent key is not a user token", "GET", "/api/v1/hosts", f.agent1, "", 401, "invalid API token", ""},
		{"list", "GET", "/api/v1/hosts", tok, "", 200, `"name":"h1"`, `"name":"h2"`},
		{"list never shows secrets", "GET", "/api/v1/hosts", tok, "", 200, `"package_count":0`, "secret-pw"},
		{"get own", "GET", fmt.Sprintf("/api/v1/hosts/%d", f.host1.ID), tok, "", 200, `"os":{`, ""},
		{"get other workspace's host", "GET", fmt.Sprintf("/api/v1/hosts/%d", f.host2.ID), tok, "", 404, "not_found", ""},
		{"other workspace's packages", "GET", fmt.Sprintf("/api/v1/hosts/%d/packages", f.host2.ID), tok, "", 404, "not_found", ""},
		{"other workspace's snapshots", "GET", fmt.Sprintf("/api/v1/hosts/%d/snapshots", f.host2.ID), tok, "", 404, "not_found", ""},
		{"other workspace's latest snapshot", "GET", fmt.Sprintf("/api/v1/hosts/%d/snapshots/latest", f.host2.ID), tok, "", 404, "not_found", ""},
		{"own packages", "GET", fmt.Sprintf("/api/v1/hosts/%d/packages", f.host1.ID), tok, "", 200, `"total":0`, ""},
		{"delete other workspace's host", "DELETE", fmt.Sprintf("/api/v1/hosts/%d", f.host2.ID), tok, "", 404, "not_found", ""},
		{"create", "POST", "/api/v1/hosts", tok, `{"name":"web1","address":"192.0.2.20","port":22,"transport":"ssh","username":"u","password":"p4ss"}`, 201, `"name":"web1"`, "p4ss"},
		{"create missing address", "POST", "/api/v1/hosts", tok, `{"name":"x","transport":"ssh"}`, 400, "address", ""},
		{"create unknown field", "POST", "/api/v1/hosts", tok, `{"name":"x","adress":"a"}`, 400, "adress", ""},
		{"create both secrets", "POST", "/api/v1/hosts", tok, `{"name":"y","address":"a","username":"u","password":"p","private_key":"k"}`, 400, "not both", ""},
		{"create bad key", "POST", "/api/v1/hosts", tok, `{"name":"z","address":"a","username":"u","private_key":"nope"}`, 400, "private_key", ""},
		{"duplicate name", "POST", "/api/v1/hosts", tok, `{"name":"h1","address":"192.0.2.30"}`, 409, "conflict", ""},
		{"other workspace's agent id", "POST", "/api/v1/hosts", tok, fmt.Sprintf(`{"name":"q","address":"a","agent_id":%d}`, *f.host2.AgentID), 400, "agent_id", ""},
		{"update", "PATCH", fmt.Sprintf("/api/v1/hosts/%d", f.host1.ID), tok, `{"port":2200}`, 200, `"port":2200`, ""},
		{"credentials are write-only", "GET", "/api/v1/credentials", tok, "", 200, `"has_password":true`, "secret-pw"},
		{"set default credential", "PUT", "/api/v1/credentials/default", tok, `{"username":"scan","password":"dflt-pw"}`, 200, `"is_default":true`, "dflt-pw"},
		{"agents", "GET", "/api/v1/agents", tok, "", 200, `"name":"a1"`, `"name":"a2"`},
		{"unknown endpoint", "GET", "/api/v1/nope", tok, "", 404, "no such API endpoint", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			resp, b := f.do(tc.method, tc.path, tc.key, body, nil)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, b)
			}
			if !strings.Contains(string(b), tc.wantIn) {
				t.Errorf("body %s lacks %q", b, tc.wantIn)
			}
			if tc.wantNotIn != "" && strings.Contains(string(b), tc.wantNotIn) {
				t.Errorf("body %s contains %q", b, tc.wantNotIn)
			}
		})
	}
}

func TestHealthAndMetrics(t *testing.T) {
	f := newFixture(t, server.Options{})
	resp, b := f.do("GET", "/healthz", "", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"ok"`) {
		t.Fatalf("healthz %d %s", resp.StatusCode, b)
	}
	f.do("POST", "/api/v1/agent/reports", f.agent1, bytes.NewReader(batchJSON(report(f.host1.ID, "m1"))), nil)
	resp, b = f.do("GET", "/metrics", "", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `vigil_reports_total{result="accepted",status="ok"} 1`) {
		t.Fatalf("metrics %d:\n%s", resp.StatusCode, b)
	}
}
