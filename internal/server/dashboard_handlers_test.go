package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/server"
)

func TestAgentRunNowAndStatusAPI(t *testing.T) {
	f := newFixture(t, server.Options{})
	ctx := context.Background()
	ag, err := f.svc.AuthenticateAgent(ctx, f.agent1)
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.svc.AuthenticateAgent(ctx, f.agent2)
	if err != nil {
		t.Fatal(err)
	}
	// The user of workspace 1 asks agent 1 to run; agent 2 is not theirs.
	resp, body := f.do("POST", fmt.Sprintf("/api/v1/agents/%d/run-now", ag.ID), f.token1, nil, nil)
	var rn struct {
		RunNowID string `json:"run_now_id"`
	}
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(body, &rn) != nil || rn.RunNowID == "" {
		t.Fatalf("run now: %d %s", resp.StatusCode, body)
	}
	if resp, _ := f.do("POST", fmt.Sprintf("/api/v1/agents/%d/run-now", other.ID), f.token1, nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("run now on another workspace's agent: %d", resp.StatusCode)
	}
	resp, body = f.do("GET", "/api/v1/agent/config", f.agent1, nil, nil)
	var cfg inventory.AgentConfig
	if resp.StatusCode != 200 || json.Unmarshal(body, &cfg) != nil || cfg.RunNowID != rn.RunNowID {
		t.Fatalf("config after run now: %d %s", resp.StatusCode, body)
	}
	status := fmt.Sprintf(`{"schema_version":1,"agent_version":"0.9.1","last_run":{"run_now_id":%q,"started_at":"2026-11-27T08:00:00Z","duration_ms":1200,"hosts":1,"failed":0}}`, rn.RunNowID)
	if resp, body := f.do("POST", "/api/v1/agent/status", f.agent1, strings.NewReader(status), nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status: %d %s", resp.StatusCode, body)
	}
	for _, tt := range []struct{ name, key, body string }{
		{"user token", f.token1, status},
		{"bad schema", f.agent1, `{"schema_version":9}`},
		{"failed over hosts", f.agent1, `{"schema_version":1,"last_run":{"started_at":"2026-11-27T08:00:00Z","hosts":1,"failed":3}}`},
		{"unknown field type", f.agent1, `{"schema_version":"1"}`},
	} {
		resp, body := f.do("POST", "/api/v1/agent/status", tt.key, strings.NewReader(tt.body), nil)
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d %s", tt.name, resp.StatusCode, body)
		}
	}
	_, body = f.do("GET", "/api/v1/agent/config", f.agent1, nil, nil)
	cfg = inventory.AgentConfig{}
	if json.Unmarshal(body, &cfg) != nil || cfg.RunNowID != "" {
		t.Errorf("answered run now still in the config: %s", body)
	}
	// Rotate: the old key stops, the new one works; revoke stops it.
	resp, body = f.do("POST", fmt.Sprintf("/api/v1/agents/%d/rotate", ag.ID), f.token1, nil, nil)
	var rot struct{ Key string }
	if resp.StatusCode != 200 || json.Unmarshal(body, &rot) != nil || !strings.HasPrefix(rot.Key, "vga_") {
		t.Fatalf("rotate: %d %s", resp.StatusCode, body)
	}
	if resp, _ := f.do("GET", "/api/v1/agent/config", f.agent1, nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old key after rotation: %d", resp.StatusCode)
	}
	if resp, _ := f.do("GET", "/api/v1/agent/config", rot.Key, nil, nil); resp.StatusCode != 200 {
		t.Errorf("new key: %d", resp.StatusCode)
	}
	if resp, _ := f.do("POST", fmt.Sprintf("/api/v1/agents/%d/revoke", ag.ID), f.token1, nil, nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("revoke: %d", resp.StatusCode)
	}
	if resp, _ := f.do("GET", "/api/v1/agent/config", rot.Key, nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked key: %d", resp.StatusCode)
	}
	resp, body = f.do("POST", "/api/v1/agents", f.token1, strings.NewReader(`{"name":"patch-9"}`), nil)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"key":"vga_`) {
		t.Errorf("create agent: %d %s", resp.StatusCode, body)
	}
}

func TestDashboardAPI(t *testing.T) {
	f := newFixture(t, server.Options{})
	resp, body := f.do("GET", "/api/v1/dashboard", f.token1, nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("dashboard: %d %s", resp.StatusCode, body)
	}
	var d struct {
		Hosts struct {
			Total, Never int
		} `json:"hosts"`
		Findings map[string]int `json:"open_findings"`
		Trend    []struct {
			Day string `json:"day"`
		} `json:"trend"`
		Compliance struct {
			Score *float64 `json:"score"`
		} `json:"compliance"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	// Workspace 1 has one never-scanned host; workspace 2's is not counted.
	if d.Hosts.Total != 1 || d.Findings["total"] != 0 || len(d.Trend) != 1 || d.Compliance.Score != nil {
		t.Errorf("dashboard %s", body)
	}
	if resp, _ := f.do("GET", "/api/v1/dashboard", "", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous dashboard: %d", resp.StatusCode)
	}
}
