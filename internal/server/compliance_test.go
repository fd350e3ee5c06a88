package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/server"
)

func TestComplianceFlow(t *testing.T) {
	f := newFixture(t, server.Options{})
	f.svc.NoBackground = true
	tok := f.token1
	call := func(method, path, body string, want int) []byte {
		t.Helper()
		resp, b := f.do(method, path, tok, strings.NewReader(body), nil)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
		}
		return b
	}
	// A group of Debian hosts labelled prod, with the baseline assigned.
	call("PUT", fmt.Sprintf("/api/v1/hosts/%d/labels", f.host1.ID), `{"labels":{"environment":"prod"}}`, 200)
	call("PUT", fmt.Sprintf("/api/v1/hosts/%d/labels", f.host1.ID), `{"labels":{"Bad Key":"x"}}`, 400)
	bad := call("POST", "/api/v1/groups", `{"name":"broken","expression":"os.id ==\n  "}`, 400)
	if !regexp.MustCompile(`expression: \d+:\d+: `).Match(bad) {
		t.Errorf("compile error without a position: %s", bad)
	}
	var g struct{ ID int64 }
	json.Unmarshal(call("POST", "/api/v1/groups", `{"name":"prod debian","expression":"os.id == \"debian\" && labels.environment == \"prod\""}`, 201), &g)
	call("PUT", fmt.Sprintf("/api/v1/groups/%d/assignments", g.ID), `{"assignments":[{"kind":"pack","ref":"no-such-pack"}]}`, 400)
	call("PUT", fmt.Sprintf("/api/v1/groups/%d/assignments", g.ID), `{"assignments":[{"kind":"pack","ref":"linux-baseline"}]}`, 200)

	// A report: sshd allows root login. The group is evaluated on ingest,
	// then the checks.
	r := report(f.host1.ID, "c1")
	sshd, _ := json.Marshal(map[string]any{"present": true, "readable": true, "settings": map[string]string{
		"permitrootlogin": "yes", "passwordauthentication": "no", "permitemptypasswords": "no"}})
	r.Items = []inventory.ItemResult{{Kind: "probe", Name: "sshd", Value: sshd}}
	resp, b := f.do("POST", "/api/v1/agent/reports", f.agent1, bytes.NewReader(batchJSON(r)), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("ingest %d %s", resp.StatusCode, b)
	}
	var sum struct {
		Score   *float64
		Totals  struct{ Pass, Fail, Error int }
		Results []struct {
			CheckID, Status, Reason, Actual string
		}
	}
	json.Unmarshal(call("GET", fmt.Sprintf("/api/v1/compliance?group_id=%d&results=1", g.ID), "", 200), &sum)
	status := map[string]string{}
	for _, res := range sum.Results {
		status[res.CheckID] = res.Status
		if res.CheckID == "ssh-permit-root-login" && !strings.Contains(res.Actual, `"yes"`) {
			t.Errorf("fail without the actual value: %+v", res)
		}
		if res.CheckID == "sysctl-ip-forward" && (res.Status != "error" || !strings.Contains(res.Reason, "probe:sysctl")) {
			t.Errorf("missing item is not an error naming it: %+v", res)
		}
	}
	if status["ssh-permit-root-login"] != "fail" || status["ssh-password-authentication"] != "pass" || sum.Score == nil {
		t.Fatalf("results %v score %v", status, sum.Score)
	}
	if len(sum.Results) < 30 {
		t.Fatalf("only %d results for the baseline", len(sum.Results))
	}

	// The agent is now asked for the items the assigned checks need.
	var cfg inventory.AgentConfig
	_, b = f.do("GET", "/api/v1/agent/config", f.agent1, nil, nil)
	json.Unmarshal(b, &cfg)
	keys := map[string]bool{}
	for _, it := range cfg.Hosts[0].Items {
		keys[it.Key()] = true
	}
	if !keys["probe:sshd"] || !keys["probe:sysctl"] || !keys["file_meta:/etc/shadow"] {
		t.Fatalf("config items %v", cfg.Hosts[0].Items)
	}
	// With the Windows baseline also assigned, the Debian host is still not
	// asked for Windows items: those checks are not applicable to it.
	call("PUT", fmt.Sprintf("/api/v1/groups/%d/assignments", g.ID),
		`{"assignments":[{"kind":"pack","ref":"linux-baseline"},{"kind":"pack","ref":"windows-baseline"}]}`, 200)
	_, b = f.do("GET", "/api/v1/agent/config", f.agent1, nil, nil)
	cfg = inventory.AgentConfig{}
	json.Unmarshal(b, &cfg)
	for _, it := range cfg.Hosts[0].Items {
		if strings.HasPrefix(it.Name, "win_") {
			t.Fatalf("Debian host asked for %s", it.Key())
		}
	}
	if len(cfg.Hosts[0].Items) != len(keys) {
		t.Errorf("items changed with the Windows pack: %d, were %d", len(cfg.Hosts[0].Items), len(keys))
	}

	// A custom check, tested against the host before saving, then saved.
	check := "id: custom-root-login\ntitle: Root login off\nseverity: high\nplatforms: [linux]\nneeds: ['probe:sshd']\ncondition: 'items[\"probe:sshd\"].settings.permitrootlogin == \"no\"'\n"
	tested := call("POST", fmt.Sprintf("/api/v1/checks/test?host_id=%d", f.host1.ID), check, 200)
	if !strings.Contains(string(tested), `"status":"fail"`) {
		t.Fatalf("test against host: %s", tested)
	}
	call("POST", "/api/v1/checks", check, 201)
	call("POST", "/api/v1/checks", strings.Replace(check, "custom-root-login", "ssh-permit-root-login", 1), 409)
	call("POST", "/api/v1/checks", "id: x\ntitle: y\nseverity: high\ncondition: 'items[\"probe:nope\"] =='\n", 400)
	// The other workspace sees none of it.
	other, _ := f.svc.Store.ListGroups(t.Context(), f.ws2.ID)
	if len(other) != 0 {
		t.Fatalf("groups leak across workspaces: %v", other)
	}
}
