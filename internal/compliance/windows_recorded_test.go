package compliance_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/compliance"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// winReplay answers the Windows probes from collect's testdata, one file per
// probe; override replaces a probe's file.
type winReplay struct {
	dir      string
	override map[string]string
}

func (r winReplay) Run(_ context.Context, cmd string) ([]byte, error) {
	name, ok := collect.WindowsProbeOf(cmd)
	if !ok {
		return nil, &transport.ExitError{Code: 1, Stderr: "not recognized as an internal or external command"}
	}
	file := filepath.Join(r.dir, name+".json")
	if o, ok := r.override[name]; ok {
		file = filepath.Join("..", "collect", "testdata", "windows", o)
	}
	out, err := os.ReadFile(file)
	if err != nil {
		return nil, &transport.ExitError{Code: 1, Stderr: "not recorded"}
	}
	return out, nil
}

// scanWindows runs the real Windows collection over a recorded host and
// collects every item the pack needs, as the agent does.
func scanWindows(t *testing.T, host string, override map[string]string, cp *compliance.CompiledPack, now time.Time) *inventory.HostReport {
	t.Helper()
	ctx := context.Background()
	r := winReplay{dir: filepath.Join("..", "collect", "testdata", "windows", host), override: override}
	rep := &inventory.HostReport{SchemaVersion: 1, ReportID: "rec", HostID: 1, StartedAt: now, FinishedAt: now, Status: "ok"}
	if err := collect.ScanWindows(ctx, r, rep, now); err != nil {
		t.Fatal(err)
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
	return rep
}

func evaluate(t *testing.T, cp *compliance.CompiledPack, rep *inventory.HostReport, now time.Time) map[string]compliance.Result {
	facts := compliance.Facts(rep, compliance.Extra{Now: now, Findings: &compliance.FindingStats{OpenBySeverity: map[string]int{}}})
	got := map[string]compliance.Result{}
	for i, res := range cp.EvaluateAll(facts) {
		got[cp.Pack.Checks[i].ID] = res
		t.Logf("%-34s %-15s %s | %s", cp.Pack.Checks[i].ID, res.Status, res.Reason, res.Actual)
	}
	return got
}

// TestWindowsBaselineOnRecordedHosts evaluates every check of the Windows
// baseline on the two constructed Windows hosts: the hardened Server 2022
// passes each one, the neglected German Server 2019 fails most; together
// they give every check a pass and, where the check can fail on these
// settings, a fail.
func TestWindowsBaselineOnRecordedHosts(t *testing.T) {
	cp, ok := compliance.BuiltinPack("windows-baseline")
	if !ok {
		t.Fatal("no windows-baseline pack")
	}
	if n := len(cp.Pack.Checks); n < 15 {
		t.Fatalf("%d checks, the issue asks for at least 15", n)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	want := map[string][2]string{ // check: server2022, server2019-de
		"win-firewall-domain":               {"pass", "pass"},
		"win-firewall-private":              {"pass", "pass"},
		"win-firewall-public":               {"pass", "fail"},
		"win-firewall-public-inbound-block": {"pass", "fail"},
		"win-smb1-disabled":                 {"pass", "fail"},
		"win-smb-signing":                   {"pass", "fail"},
		"win-rdp-nla":                       {"pass", "fail"},
		"win-rdp-encryption":                {"pass", "fail"},
		"win-defender-realtime":             {"pass", "fail"},
		"win-defender-signatures":           {"pass", "fail"},
		"win-auto-updates":                  {"pass", "fail"},
		"win-hotfix-recent":                 {"pass", "fail"},
		"win-no-pending-reboot":             {"pass", "fail"},
		"win-password-min-length":           {"pass", "fail"},
		"win-password-max-age":              {"pass", "pass"}, // Windows' default 42 days is within CIS's bound
		"win-password-min-age":              {"pass", "fail"},
		"win-password-history":              {"pass", "fail"},
		"win-lockout-threshold":             {"pass", "fail"},
		"win-lockout-duration":              {"pass", "fail"},
		"win-guest-disabled":                {"pass", "fail"},
		"win-supported-release":             {"pass", "pass"},
		"win-wdigest-off":                   {"pass", "fail"},
		"win-lm-compatibility":              {"pass", "fail"},
		"win-uac-admin-approval":            {"pass", "pass"},
		"win-autologon-off":                 {"pass", "fail"},
	}
	for i, host := range []string{"server2022", "server2019-de"} {
		t.Run(host, func(t *testing.T) {
			got := evaluate(t, cp, scanWindows(t, host, nil, cp, now), now)
			if len(got) != len(want) {
				t.Errorf("%d results, %d expectations", len(got), len(want))
			}
			for id, w := range want {
				if got[id].Status != w[i] {
					t.Errorf("%s: %s (%s | %s), want %s", id, got[id].Status, got[id].Reason, got[id].Actual, w[i])
				}
				if w[i] == "fail" && got[id].Actual == "" {
					t.Errorf("%s: a failure without the actual value", id)
				}
			}
		})
	}
}

// TestWindowsBaselineEdgeCases: checks whose "when" excludes the host
// report not_applicable; a failed item is an error, never a fail; an
// unsupported release fails.
func TestWindowsBaselineEdgeCases(t *testing.T) {
	cp, _ := compliance.BuiltinPack("windows-baseline")
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

	got := evaluate(t, cp, scanWindows(t, "server2022", map[string]string{
		"win_defender": "variants/defender-not-installed.json",
		"win_os":       "variants/win_os-win11-ja.json", // Windows 11 Pro 23H2: servicing ended 2025-11-11
		"win_smb":      "missing.json",
		"win_hotfixes": "missing.json",
	}, cp, now), now)
	for id, status := range map[string]string{
		"win-defender-realtime":   "not_applicable", // a third-party antivirus replaced Defender
		"win-defender-signatures": "not_applicable",
		"win-supported-release":   "fail",
		"win-smb1-disabled":       "error", // item not collected: error, not fail
		"win-smb-signing":         "error",
		"win-hotfix-recent":       "error", // no hotfix list: error with the reason
		"win-firewall-public":     "pass",
	} {
		if got[id].Status != status {
			t.Errorf("%s: %s (%s), want %s", id, got[id].Status, got[id].Reason, status)
		}
	}
	if r := got["win-hotfix-recent"].Reason; r == "" {
		t.Error("error without a reason")
	}
}

// TestBaselinesKeepToTheirPlatform: every Linux check is not applicable on
// a Windows host and every Windows check on a Linux host.
func TestBaselinesKeepToTheirPlatform(t *testing.T) {
	linux, ok := compliance.BuiltinPack("linux-baseline")
	if !ok {
		t.Fatal("no linux-baseline pack")
	}
	windows, _ := compliance.BuiltinPack("windows-baseline")
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

	winRep := scanWindows(t, "server2022", nil, windows, now)
	for id, res := range evaluate(t, linux, winRep, now) {
		if res.Status != compliance.StatusNotApplicable {
			t.Errorf("linux check %s on Windows: %s (%s)", id, res.Status, res.Reason)
		}
	}

	linRep := &inventory.HostReport{SchemaVersion: 1, ReportID: "l", HostID: 2, StartedAt: now, FinishedAt: now, Status: "ok"}
	if err := collect.Scan(context.Background(), newReplay(t, "debian12"), linRep, now); err != nil {
		t.Fatal(err)
	}
	for id, res := range evaluate(t, windows, linRep, now) {
		if res.Status != compliance.StatusNotApplicable {
			t.Errorf("windows check %s on Debian: %s (%s)", id, res.Status, res.Reason)
		}
	}
}
