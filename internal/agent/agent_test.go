package agent

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	keyFile := write("key", "vga_fromfile\n", 0o600)
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		wantErr string
		check   func(*Config) bool
	}{
		{"minimal", write("a.yaml", "api_url: https://v.example\napi_key: vga_x\n", 0o600), nil, "",
			func(c *Config) bool {
				return c.Concurrency == DefaultConcurrency && c.SpoolDir == DefaultSpoolDir && c.HostTimeout == DefaultHostTimeout
			}},
		{"world-readable with key", write("b.yaml", "api_url: https://v.example\napi_key: vga_x\n", 0o644), nil, "readable by every user", nil},
		{"world-readable without key is fine", write("c.yaml", "api_url: https://v.example\napi_key_file: "+keyFile+"\n", 0o644), nil, "",
			func(c *Config) bool { return c.APIKey == "vga_fromfile" }},
		{"env overrides file", write("d.yaml", "api_url: https://v.example\napi_key: vga_x\nconcurrency: 5\n", 0o600),
			map[string]string{"VIGIL_CONCURRENCY": "7", "VIGIL_API_URL": "http://127.0.0.1:1", "VIGIL_HOST_TIMEOUT": "90s"}, "",
			func(c *Config) bool {
				return c.Concurrency == 7 && c.APIURL == "http://127.0.0.1:1" && c.HostTimeout == 90*time.Second
			}},
		{"env only", "", map[string]string{"VIGIL_API_URL": "https://v.example", "VIGIL_API_KEY": "vga_env"}, "",
			func(c *Config) bool { return c.APIKey == "vga_env" }},
		{"unknown key", write("e.yaml", "api_url: https://v.example\napi_key: vga_x\nconcurency: 5\n", 0o600), nil, "concurency", nil},
		{"missing url", write("f.yaml", "api_key: vga_x\n", 0o600), nil, "api_url is required", nil},
		{"bad url", write("g.yaml", "api_url: ftp://x\napi_key: vga_x\n", 0o600), nil, "must be an http(s) URL", nil},
		{"missing key", write("h.yaml", "api_url: https://v.example\n", 0o600), nil, "api_key is required", nil},
		{"bad env number", write("i.yaml", "api_url: https://v.example\napi_key: vga_x\n", 0o600), map[string]string{"VIGIL_CONCURRENCY": "many"}, "VIGIL_CONCURRENCY", nil},
		{"bad log level", write("j.yaml", "api_url: https://v.example\napi_key: vga_x\nlog_level: loud\n", 0o600), nil, "log_level", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, err := LoadConfig(tc.file)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}

func TestNextRun(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		now      string
		interval int64
		anchor   string
		want     string
	}{
		{"2026-11-27T10:20:00Z", 3600, "00:00", "2026-11-27T11:00:00Z"},
		{"2026-11-27T10:20:00Z", 3600, "00:30", "2026-11-27T10:30:00Z"},
		{"2026-11-27T11:00:00Z", 3600, "00:00", "2026-11-27T12:00:00Z"}, // strictly after
		{"2026-11-27T01:00:00Z", 6 * 3600, "02:00", "2026-11-27T02:00:00Z"},
		{"2026-11-27T23:59:00Z", 86400, "03:15", "2026-11-28T03:15:00Z"},
		{"2026-11-27T10:20:00Z", 0, "", "2026-11-27T11:00:00Z"}, // defaults: hourly from midnight
		{"2026-11-27T10:20:00Z", 900, "bogus", "2026-11-27T10:30:00Z"},
	}
	for _, tc := range tests {
		got := NextRun(at(tc.now), inventory.Schedule{IntervalSeconds: tc.interval, Anchor: tc.anchor})
		if !got.Equal(at(tc.want)) {
			t.Errorf("NextRun(%s, %d, %q) = %s, want %s", tc.now, tc.interval, tc.anchor, got.Format(time.RFC3339), tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 4: 40 * time.Second, 20: 5 * time.Minute} {
		got := Backoff(n)
		if got < want*8/10 || got > want*12/10 {
			t.Errorf("Backoff(%d) = %s, want %s ±20%%", n, got, want)
		}
	}
}

// fakeServer answers pushes with a per-report verdict decided by verdict().
type fakeServer struct {
	mu      sync.Mutex
	pushes  int
	stored  map[string]bool
	verdict func(r inventory.HostReport) (status int, result string)
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pushes++
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		http.Error(w, "bad gzip", 400)
		return
	}
	var b inventory.Batch
	if err := json.NewDecoder(zr).Decode(&b); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	reply := inventory.BatchReply{}
	for _, rep := range b.Reports {
		status, result := f.verdict(rep)
		if status != 200 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, `{"error":{"code":"x","message":"refused `+rep.ReportID+`"}}`)
			return
		}
		reply.Results = append(reply.Results, inventory.BatchResult{ReportID: rep.ReportID, Status: result})
	}
	for i, rep := range b.Reports {
		if reply.Results[i].Status == inventory.ResultAccepted {
			f.stored[rep.ReportID] = true
		}
	}
	json.NewEncoder(w).Encode(reply)
}

func newTestAgent(t *testing.T, h http.Handler) *Agent {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg := &Config{APIURL: srv.URL, APIKey: "vga_test", SpoolDir: t.TempDir()}
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func spoolReport(t *testing.T, a *Agent, id string) {
	t.Helper()
	r := &inventory.HostReport{SchemaVersion: 1, ReportID: id, HostID: 1, StartedAt: time.Now(), FinishedAt: time.Now(), Status: "ok"}
	if err := a.spool.Put(r); err != nil {
		t.Fatal(err)
	}
}

func spoolIDs(t *testing.T, a *Agent) []string {
	es, err := a.spool.List()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}

func TestFlush(t *testing.T) {
	tests := []struct {
		name        string
		verdict     func(inventory.HostReport) (int, string)
		wantErr     bool
		wantLeft    int
		wantRejects int
		wantStored  int
	}{
		{"all accepted", func(inventory.HostReport) (int, string) { return 200, "accepted" }, false, 0, 0, 3},
		{"duplicates are dropped", func(inventory.HostReport) (int, string) { return 200, "duplicate" }, false, 0, 0, 0},
		{"server down keeps everything", func(inventory.HostReport) (int, string) { return 503, "" }, true, 3, 0, 0},
		{"unauthorized keeps everything", func(inventory.HostReport) (int, string) { return 401, "" }, true, 3, 0, 0},
		{"one rejected report set aside", func(r inventory.HostReport) (int, string) {
			if r.ReportID == "r2" {
				return 200, "rejected"
			}
			return 200, "accepted"
		}, false, 0, 1, 2},
		{"a 403 batch is split so the others land", func(r inventory.HostReport) (int, string) {
			if r.ReportID == "r2" {
				return 403, ""
			}
			return 200, "accepted"
		}, false, 0, 1, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := &fakeServer{stored: map[string]bool{}, verdict: tc.verdict}
			a := newTestAgent(t, fs)
			for _, id := range []string{"r1", "r2", "r3"} {
				spoolReport(t, a, id)
			}
			err := a.Flush(context.Background())
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tc.name == "unauthorized keeps everything" && !IsUnauthorized(err) {
				t.Errorf("IsUnauthorized(%v) = false", err)
			}
			if left := spoolIDs(t, a); len(left) != tc.wantLeft {
				t.Errorf("spool holds %v", left)
			}
			rej, _ := filepath.Glob(filepath.Join(a.spool.Dir(), "rejected", "*.json"))
			if len(rej) != tc.wantRejects {
				t.Errorf("rejected %v", rej)
			}
			if len(fs.stored) != tc.wantStored {
				t.Errorf("server stored %v", fs.stored)
			}
			if tc.wantRejects > 0 {
				reason, _ := os.ReadFile(filepath.Join(a.spool.Dir(), "rejected", "r2.reason"))
				if len(reason) == 0 {
					t.Error("no reason written for the rejected report")
				}
			}
		})
	}
}

func TestSpoolIgnoresPartialWrites(t *testing.T) {
	sp, err := OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(sp.Dir(), ".tmp-123"), []byte("{"), 0o600)
	if err := sp.Put(&inventory.HostReport{ReportID: "a"}); err != nil {
		t.Fatal(err)
	}
	es, _ := sp.List()
	if len(es) != 1 || es[0].ID != "a" {
		t.Fatalf("entries %+v", es)
	}
	st, _ := os.Stat(filepath.Join(sp.Dir(), "a.json"))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("spool file mode %v", st.Mode().Perm())
	}
}

func TestScanHostFailuresAreReports(t *testing.T) {
	a := newTestAgent(t, http.NotFoundHandler())
	a.cfg.ConnectTimeout, a.cfg.HostTimeout, a.cfg.ProbeTimeout = 2*time.Second, 5*time.Second, time.Second
	tests := []struct {
		name     string
		spec     inventory.HostSpec
		wantKind string
	}{
		{"no credential", inventory.HostSpec{ID: 1, Name: "a", Address: "127.0.0.1", Port: 1, Transport: "ssh"}, inventory.ErrKindConfig},
		{"unreachable", inventory.HostSpec{ID: 2, Name: "b", Address: "127.0.0.1", Port: closedPort(t), Transport: "ssh",
			Credential: &inventory.Credential{Username: "u", Password: "p"}}, inventory.ErrKindUnreachable},
		{"unknown transport", inventory.HostSpec{ID: 3, Name: "c", Transport: "telnet"}, inventory.ErrKindConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := a.ScanHost(context.Background(), tc.spec)
			if rep.Status != inventory.StatusError || rep.ErrorKind != tc.wantKind || rep.Error == "" {
				t.Fatalf("report %+v", rep)
			}
			if err := rep.Validate(); err != nil {
				t.Fatalf("failure report does not validate: %v", err)
			}
		})
	}
}

func closedPort(t *testing.T) int {
	srv := httptest.NewServer(http.NotFoundHandler())
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	srv.Close()
	return port
}
