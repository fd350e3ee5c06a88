package collect

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
	"github.com/vigil-project/vigil/internal/transport/local"
)

// itemOutput reads a real probe output recorded on the Debian 12 build
// machine (testdata/items/README.md).
func itemOutput(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "items", "debian12", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func probeReq(name string) inventory.ItemRequest {
	return inventory.ItemRequest{Kind: inventory.ItemProbe, Name: name}
}

// Requests outside the catalogue are refused without running anything.
func TestCollectItemsRefusesOutsideCatalogue(t *testing.T) {
	tests := []struct {
		req     inventory.ItemRequest
		wantErr string
	}{
		{probeReq("rm -rf /"), ErrNotInCatalogue},
		{probeReq("SSHD"), ErrNotInCatalogue},
		{probeReq(""), ErrNotInCatalogue},
		{inventory.ItemRequest{Kind: "command", Name: "id"}, ErrNotInCatalogue},
		{inventory.ItemRequest{Kind: inventory.ItemFile, Name: "/etc/shadow"}, ErrNotAllowlisted},
		{inventory.ItemRequest{Kind: inventory.ItemFile, Name: "/etc/ssh/ssh_host_ed25519_key"}, ErrNotAllowlisted},
		{inventory.ItemRequest{Kind: inventory.ItemFile, Name: "/etc/ssh/sshd_config;id"}, `character ';' is not accepted`},
		{inventory.ItemRequest{Kind: inventory.ItemFile, Name: "/etc/ssh/../shadow"}, "not a clean path"},
		{inventory.ItemRequest{Kind: inventory.ItemFileMeta, Name: "/etc/shadow;reboot"}, `character ';' is not accepted`},
		{inventory.ItemRequest{Kind: inventory.ItemFileMeta, Name: "/etc/../etc/shadow"}, "not a clean path"},
		{inventory.ItemRequest{Kind: inventory.ItemFileMeta, Name: "/etc/x/.."}, "not a clean path"},
		{inventory.ItemRequest{Kind: inventory.ItemFileMeta, Name: "etc/shadow"}, "not an absolute path"},
		{inventory.ItemRequest{Kind: inventory.ItemFileMeta, Name: "/etc/'x'"}, `character '\'' is not accepted`},
		{inventory.ItemRequest{Kind: inventory.ItemFileMeta, Name: "/tmp/$(id)"}, `character '$' is not accepted`},
		{inventory.ItemRequest{Kind: inventory.ItemFileMeta, Name: "/etc/a\nb"}, `character '\n' is not accepted`},
		{inventory.ItemRequest{Kind: inventory.ItemFileMeta, Name: "/etc/*"}, `character '*' is not accepted`},
	}
	r := &fakeRunner{out: map[string]string{}}
	var reqs []inventory.ItemRequest
	for _, tt := range tests {
		reqs = append(reqs, tt.req)
	}
	res := CollectItems(context.Background(), r, reqs, []string{"/etc/extra.conf"})
	if len(r.ran) != 0 {
		t.Errorf("ran %q for refused requests", r.ran)
	}
	if len(res) != len(tests) {
		t.Fatalf("got %d results for %d requests", len(res), len(tests))
	}
	for i, tt := range tests {
		got := res[i]
		if got.Kind != tt.req.Kind || got.Name != tt.req.Name || got.Value != nil || got.NeedsPrivilege ||
			!strings.Contains(got.Error, tt.wantErr) {
			t.Errorf("%q: result %+v, want error containing %q", tt.req.Key(), got, tt.wantErr)
		}
	}
}

func TestCollectItems(t *testing.T) {
	cmds := ItemCommands()
	r := &fakeRunner{
		out: map[string]string{
			cmds["sysctl"]:                 string(itemOutput(t, "sysctl")),
			statCommand("/etc/shadow"):     string(itemOutput(t, "stat-etc-shadow")),
			statCommand("/nonexistent"):    string(itemOutput(t, "stat-nonexistent")),
			statCommand("/root/.bashrc"):   string(itemOutput(t, "stat-root-bashrc.nobody")),
			fileCommand("/etc/login.defs"): "PASS_MAX_DAYS 90\n",
			fileCommand("/etc/extra.conf"): "x=1\n",
			fileCommand("/etc/big.conf"):   strings.Repeat("x", maxFileItem+1),
			cmds["login_defs"]:             "",
			cmds["mounts"]:                 "garbage\n",
		},
		errs: map[string]error{
			fileCommand("/etc/ssh/sshd_config"): &transport.ExitError{Code: 1, Stderr: "head: cannot open '/etc/ssh/sshd_config' for reading: Permission denied"},
			fileCommand("/etc/issue.net"):       &transport.ExitError{Code: 1, Stderr: "head: cannot open '/etc/issue.net' for reading: No such file or directory"},
		},
	}
	reqs := []inventory.ItemRequest{
		probeReq("sysctl"),
		{Kind: inventory.ItemFileMeta, Name: "/etc/shadow"},
		{Kind: inventory.ItemFileMeta, Name: "/nonexistent"},
		{Kind: inventory.ItemFileMeta, Name: "/root/.bashrc"},
		{Kind: inventory.ItemFile, Name: "/etc/login.defs"},
		{Kind: inventory.ItemFile, Name: "/etc/extra.conf"},
		{Kind: inventory.ItemFile, Name: "/etc/big.conf"},
		{Kind: inventory.ItemFile, Name: "/etc/ssh/sshd_config"},
		{Kind: inventory.ItemFile, Name: "/etc/issue.net"},
		probeReq("sysctl"), // asked twice: run once
		probeReq("mounts"),
	}
	res := CollectItems(context.Background(), r, reqs, []string{"/etc/extra.conf", "/etc/big.conf"})
	want := []struct {
		value, err string
		priv       bool
	}{
		{value: `"net.ipv4.ip_forward":"0"`},
		{value: `{"exists":true,"type":"file","owner":"root","group":"shadow","uid":0,"gid":42,"mode":"0640","size":795}`},
		{value: `{"exists":false}`},
		{err: "cannot reach this path", priv: true},
		{value: `"PASS_MAX_DAYS 90\n"`},
		{value: `"x=1\n"`},
		{err: "file larger than 1048576 bytes"},
		{err: "Permission denied", priv: true},
		{err: "exit status 1: head: cannot open '/etc/issue.net' for reading: No such file or directory"},
		{value: `"net.ipv4.ip_forward":"0"`},
		{err: "parse mounts: no mount in output"},
	}
	for i, w := range want {
		got := res[i]
		if got.Key() != reqs[i].Key() || !strings.Contains(string(got.Value), w.value) || w.value == "" && got.Value != nil ||
			!strings.Contains(got.Error, w.err) || (w.err == "") != (got.Error == "") || got.NeedsPrivilege != w.priv || got.DurationMS < 0 {
			t.Errorf("%s: got %+v (value %s), want %+v", reqs[i].Key(), got, got.Value, w)
		}
	}
	if n := strings.Count(strings.Join(r.ran, "\n"), cmds["sysctl"]); n != 1 {
		t.Errorf("sysctl ran %d times", n)
	}
	if len(r.ran) != 10 {
		t.Errorf("ran %d commands, want 10: %q", len(r.ran), r.ran)
	}
}

func TestCollectItemsSessionLost(t *testing.T) {
	cmds := ItemCommands()
	dead := errors.New("ssh: session closed")
	r := &fakeRunner{
		out:  map[string]string{cmds["sysctl"]: string(itemOutput(t, "sysctl"))},
		errs: map[string]error{cmds["mounts"]: dead},
	}
	reqs := []inventory.ItemRequest{probeReq("sysctl"), probeReq("mounts"), probeReq("accounts"), probeReq("nope")}
	res := CollectItems(context.Background(), r, reqs, nil)
	// All the commands travel in one batch, so a session that drops takes
	// the whole batch: the first item says why, the others that they were
	// lost with it. The refusal of an unknown probe stands.
	if len(res) != 4 || res[0].Error != "not collected: ssh: session closed" ||
		res[1].Error != ErrSessionLost || res[2].Error != ErrSessionLost || res[3].Error != ErrNotInCatalogue {
		t.Errorf("results %+v", res)
	}
	if r.execs != 1 {
		t.Errorf("%d execs, want 1", r.execs)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = &fakeRunner{}
	res = CollectItems(ctx, r, reqs[:2], nil)
	if len(r.ran) != 0 || r.execs != 0 || res[0].Error != "not collected: context canceled" || res[1].Error != ErrSessionLost {
		t.Errorf("cancelled: ran %q, results %+v", r.ran, res)
	}
}

func TestCheckItemPath(t *testing.T) {
	for _, p := range []string{"/", "/etc/ssh/sshd_config", "/etc/apt/apt.conf.d/20auto-upgrades", "/srv/My Files/a+b@c.d_e"} {
		if err := CheckItemPath(p); err != nil {
			t.Errorf("CheckItemPath(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", "etc", "./etc", "/etc/", "//etc", "/etc/./x", "/etc/..x", "/a`b`", "/a\\b", "/a|b", "/a&b", "/a>b",
		"/a\"b", "/a\x00b", "/é", "/a\tb", "/a:b", "/" + strings.Repeat("a", 4096)} {
		if err := CheckItemPath(p); err == nil {
			t.Errorf("CheckItemPath(%q) accepted", p)
		}
	}
}

// The commands are fixed: none depends on a request, and every probe named
// in the docs exists.
func TestItemCommands(t *testing.T) {
	cmds := ItemCommands()
	want := []string{"sshd", "sysctl", "mounts", "services", "accounts", "login_defs", "world_writable",
		"reboot_required", "time_sync", "firewall", "auditd", "auto_updates", "kernel_modules"}
	linux := 0
	for name := range cmds {
		if !strings.HasPrefix(name, "win_") { // the Windows items are tested with windows*.go
			linux++
		}
	}
	if linux != len(want) {
		t.Errorf("%d Linux probes, want %d", linux, len(want))
	}
	doc, err := os.ReadFile("../../docs/checks-items.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range want {
		c := cmds[name]
		if c == "" {
			t.Errorf("no probe %s", name)
		}
		for _, bad := range []string{"sudo", "shadow", " rm ", "eval", "exec"} {
			if strings.Contains(c, bad) {
				t.Errorf("probe %s command contains %q: %s", name, bad, c)
			}
		}
		// Read-only: no redirection but to /dev/null or stdout (section
		// headers aside).
		if strings.Contains(strings.NewReplacer(">/dev/null", "", "2>&1", "", "==>", "").Replace(c), ">") {
			t.Errorf("probe %s command writes somewhere: %s", name, c)
		}
		if !strings.Contains(string(doc), "| `"+name+"` |") {
			t.Errorf("docs/checks-items.md has no row for %s", name)
		}
	}
	for _, f := range BuiltinAllowedFiles() {
		if err := CheckItemPath(f); err != nil {
			t.Errorf("built-in allowlist: %v", err)
		}
		if strings.Contains(f, "shadow") || strings.Contains(f, "sudoers") || strings.Contains(f, "key") {
			t.Errorf("built-in allowlist holds %s", f)
		}
	}
}

// TestCollectItemsThisHost runs every probe on the machine running the
// tests through the local runner: each command must run and parse here.
func TestCollectItemsThisHost(t *testing.T) {
	if _, err := os.Stat("/proc/self/mounts"); err != nil {
		t.Skip("not Linux")
	}
	var reqs []inventory.ItemRequest
	for name := range ItemCommands() {
		if !strings.HasPrefix(name, "win_") {
			reqs = append(reqs, probeReq(name))
		}
	}
	reqs = append(reqs, inventory.ItemRequest{Kind: inventory.ItemFileMeta, Name: "/etc/passwd"},
		inventory.ItemRequest{Kind: inventory.ItemFile, Name: "/etc/hosts"})
	res := CollectItems(context.Background(), local.Runner{}, reqs, []string{"/etc/hosts"})
	for _, r := range res {
		// login_defs may be absent (Alpine), sshd unreadable (RHEL as non-root).
		if r.Error != "" && !(r.Name == "login_defs" && strings.Contains(r.Error, "No such file")) && !r.NeedsPrivilege {
			t.Errorf("%s: %s", r.Key(), r.Error)
		}
		if r.Error == "" && !json.Valid(r.Value) {
			t.Errorf("%s: invalid JSON %s", r.Key(), r.Value)
		}
		t.Logf("%s (%d ms): %.200s", r.Key(), r.DurationMS, r.Value)
	}
}
