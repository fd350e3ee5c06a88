package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// runNowServer serves a config whose run_now_id the test changes, counts
// config pulls (and 304s), and records the status posts.
type runNowServer struct {
	mu       sync.Mutex
	runNowID string
	pulls    int
	notMod   int
	statuses []inventory.AgentStatus
	reports  int
}

func (s *runNowServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case "/api/v1/agent/config":
		s.pulls++
		// The schedule's next run is a day away: only run-now scans.
		anchor := time.Now().UTC().Add(12 * time.Hour).Format("15:04")
		cfg := inventory.AgentConfig{SchemaVersion: inventory.SchemaVersion, AgentID: 1, WorkspaceID: 1,
			Schedule: inventory.Schedule{IntervalSeconds: 86400, Anchor: anchor},
			Hosts:    []inventory.HostSpec{{ID: 7, Name: "h", Transport: "telnet"}}, RunNowID: s.runNowID}
		etag := `"` + s.runNowID + anchor + `"`
		if r.Header.Get("If-None-Match") == etag {
			s.notMod++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		json.NewEncoder(w).Encode(cfg)
	case "/api/v1/agent/status":
		var st inventory.AgentStatus
		if err := json.NewDecoder(r.Body).Decode(&st); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		s.statuses = append(s.statuses, st)
		w.WriteHeader(http.StatusNoContent)
	case "/api/v1/agent/reports":
		s.reports++
		http.Error(w, `{"error":{"code":"internal","message":"not stored in this test"}}`, 503)
	default:
		http.NotFound(w, r)
	}
}

func (s *runNowServer) set(id string) {
	s.mu.Lock()
	s.runNowID = id
	s.mu.Unlock()
}

func (s *runNowServer) runs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, st := range s.statuses {
		if st.LastRun != nil {
			ids = append(ids, st.LastRun.RunNowID)
		}
	}
	return ids
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunNow: a new run_now_id in the config starts one scan on the next
// poll, reported back with the ID; the same ID seen again does not scan
// again; a later ID scans again. Unchanged configs are 304s.
func TestRunNow(t *testing.T) {
	srv := &runNowServer{}
	a := newTestAgent(t, srv)
	a.cfg.Concurrency = 2
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, 50*time.Millisecond) }()
	defer func() {
		cancel()
		<-done
	}()

	waitFor(t, "a few polls", func() bool { srv.mu.Lock(); defer srv.mu.Unlock(); return srv.notMod >= 2 })
	if got := srv.runs(); len(got) != 0 {
		t.Fatalf("runs before any request: %v", got)
	}
	srv.set("run-1")
	waitFor(t, "run-1", func() bool { return len(srv.runs()) == 1 })
	// Several more polls with run-1 still in the config: no second run.
	srv.mu.Lock()
	pulls := srv.pulls + srv.notMod
	srv.mu.Unlock()
	waitFor(t, "more polls", func() bool { srv.mu.Lock(); defer srv.mu.Unlock(); return srv.pulls+srv.notMod >= pulls+3 })
	srv.set("run-2")
	waitFor(t, "run-2", func() bool { return len(srv.runs()) == 2 })
	got := srv.runs()
	if got[0] != "run-1" || got[1] != "run-2" {
		t.Fatalf("runs %v, want [run-1 run-2]", got)
	}
	srv.mu.Lock()
	st := srv.statuses[0]
	srv.mu.Unlock()
	r := st.LastRun
	if st.SchemaVersion != inventory.SchemaVersion || st.AgentVersion == "" || r.Hosts != 1 || r.Failed != 1 || r.StartedAt.IsZero() {
		t.Errorf("status %+v, run %+v", st, r)
	}
	if err := st.Validate(); err != nil {
		t.Errorf("the agent's status does not validate: %v", err)
	}
}

func TestPollInterval(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, strconv.Itoa(len(body))+".yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := "api_url: https://v.example\napi_key: vga_x\n"
	c, err := LoadConfig(write(base))
	if err != nil || c.PollInterval != DefaultPollInterval {
		t.Fatalf("default poll interval: %v, %v", c, err)
	}
	c, err = LoadConfig(write(base + "poll_interval: 3s\n"))
	if err != nil || c.PollInterval != 3*time.Second {
		t.Fatalf("poll_interval 3s: %v, %v", c, err)
	}
	if _, err = LoadConfig(write(base + "poll_interval: 10ms\n")); err == nil {
		t.Fatal("a 10 ms poll interval was accepted")
	}
	t.Setenv("VIGIL_POLL_INTERVAL", "7s")
	c, err = LoadConfig(write(base))
	if err != nil || c.PollInterval != 7*time.Second {
		t.Fatalf("VIGIL_POLL_INTERVAL: %v, %v", c, err)
	}
}
