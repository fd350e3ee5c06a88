package compliance_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/compliance"
	"github.com/vigil-project/vigil/internal/demo"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// replay answers the agent's commands from a demo recording, like the demo
// SSH servers do; anything unrecorded fails as a shell would (127).
type replay struct{ cmds map[string][]byte }

func newReplay(t *testing.T, host string) replay {
	rec, err := demo.LoadRecording(host)
	if err != nil {
		t.Fatal(err)
	}
	r := replay{cmds: map[string][]byte{}}
	for key, cmd := range collect.Commands() {
		file := key
		if i := len("packages/"); len(key) > i && key[:i] == "packages/" {
			file = "packages"
		}
		if out, ok := rec.Outputs[file]; ok {
			r.cmds[cmd] = out
		}
	}
	for name, cmd := range collect.ItemCommands() {
		if out, ok := rec.Outputs["item-"+name]; ok {
			r.cmds[cmd] = out
		}
	}
	return r
}

func (r replay) Run(_ context.Context, cmd string) ([]byte, error) {
	if out, ok := r.cmds[cmd]; ok {
		return out, nil
	}
	return nil, &transport.ExitError{Code: 127, Stderr: "not recorded"}
}

// TestBaselineOnRecordedDebian12 runs the real collection code over the
// real outputs recorded on a Debian 12 machine and evaluates the baseline:
// the statuses below are what that machine's configuration earns.
func TestBaselineOnRecordedDebian12(t *testing.T) {
	ctx := context.Background()
	r := newReplay(t, "debian12")
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	rep := &inventory.HostReport{SchemaVersion: 1, ReportID: "rec", HostID: 1, StartedAt: now, FinishedAt: now, Status: "ok"}
	if err := collect.Scan(ctx, r, rep, now); err != nil {
		t.Fatal(err)
	}
	cp, ok := compliance.BuiltinPack("linux-baseline")
	if !ok {
		t.Fatal("no linux-baseline pack")
	}
	seen := map[string]bool{}
	var needs []inventory.ItemRequest
	for _, c := range cp.Pack.Checks {
		for _, n := range c.Needs {
			if !seen[n.Key()] {
				seen[n.Key()] = true
				needs = append(needs, n)
			}
		}
	}
	rep.Items = collect.CollectItems(ctx, r, needs, nil)
	facts := compliance.Facts(rep, compliance.Extra{Now: now, Findings: &compliance.FindingStats{OpenBySeverity: map[string]int{}}})
	got := map[string]compliance.Result{}
	for i, res := range cp.EvaluateAll(facts) {
		got[cp.Pack.Checks[i].ID] = res
		t.Logf("%-40s %-15s %s | %s", cp.Pack.Checks[i].ID, res.Status, res.Reason, res.Actual)
	}
	// What Debian 12's shipped defaults earn, on that machine.
	want := map[string]string{
		"ssh-permit-root-login":      "fail", // default prohibit-password
		"ssh-x11-forwarding":         "fail", // Debian ships X11Forwarding yes
		"ssh-permit-empty-passwords": "pass",
		"ssh-max-auth-tries":         "fail", // default 6
		"ssh-ignore-rhosts":          "pass",
		"ssh-config-permissions":     "error", // file_meta not recorded: an error, never a fail
		"file-shadow":                "error",
		"sysctl-ip-forward":          "pass",
		"sysctl-send-redirects":      "fail", // kernel default 1
		"sysctl-tcp-syncookies":      "pass",
		"password-max-days":          "fail", // login.defs ships 99999
		"password-warn-age":          "pass",
		"accounts-root-only-uid0":    "pass",
		"mount-tmp-separate":         "fail",
		"module-cramfs-disabled":     "fail",
		"service-time-sync":          "error", // timesyncd enabled, systemd not running on that machine
		"service-auditd":             "fail",  // not installed
		"service-firewall":           "fail",  // none installed
		"os-supported-release":       "pass",
	}
	for id, status := range want {
		if got[id].Status != status {
			t.Errorf("%s: %s (%s), want %s", id, got[id].Status, got[id].Reason, status)
		}
	}
	if len(got) != len(cp.Pack.Checks) {
		t.Fatalf("%d results for %d checks", len(got), len(cp.Pack.Checks))
	}
}
