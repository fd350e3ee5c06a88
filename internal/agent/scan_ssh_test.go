package agent

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gssh "github.com/gliderlabs/ssh"

	"github.com/vigil-project/vigil/internal/demo"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/sshkey"
	"github.com/vigil-project/vigil/internal/transport"
	"github.com/vigil-project/vigil/internal/vaultref"
)

// kvV1Vault answers token lookup-self and KV v1 reads of kv/<path>, in
// Vault's response envelope; internal/vaultref has the full fake.
func kvV1Vault(t *testing.T, secrets map[string]map[string]string, reads *atomic.Int64) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("X-Vault-Token") != "hvs.agent-test" {
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]any{"errors": []string{"permission denied"}})
			return
		}
		path := strings.TrimPrefix(r.URL.Path, "/v1/")
		var data any
		switch {
		case path == "auth/token/lookup-self":
			data = map[string]any{"id": "hvs.agent-test", "policies": []string{"default"}, "ttl": 3600, "type": "service"}
		case strings.HasPrefix(path, "kv/"):
			reads.Add(1)
			d, ok := secrets[strings.TrimPrefix(path, "kv/")]
			if !ok {
				w.WriteHeader(http.StatusNotFound)
				json.NewEncoder(w).Encode(map[string]any{"errors": []string{}})
				return
			}
			data = d
		default:
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]any{"errors": []string{}})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"request_id": "r", "lease_id": "", "renewable": false, "lease_duration": 2764800,
			"data": data, "wrap_info": nil, "warnings": nil, "auth": nil, "mount_type": "kv"})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func replay(t *testing.T, password string) *demo.ReplayServer {
	t.Helper()
	rec, err := demo.LoadRecording("debian12")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := demo.StartReplay(rec, "127.0.0.1:0", "scan", password)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	return rs
}

// A host whose Vault reference cannot be resolved gets a "credential"
// error report; the other hosts of the run are scanned, and all of them
// share one Vault login and one read per secret.
func TestScanHostsResolvesVaultReferences(t *testing.T) {
	var reads atomic.Int64
	addr := kvV1Vault(t, map[string]map[string]string{"hosts/web": {"password": "from-vault"}}, &reads)
	a := newTestAgent(t, http.NotFoundHandler())
	a.cfg.ConnectTimeout, a.cfg.HostTimeout, a.cfg.ProbeTimeout, a.cfg.Concurrency = 5*time.Second, 30*time.Second, 10*time.Second, 4
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("hvs.agent-test\n"), 0o600)
	a.cfg.Vault = &vaultref.Config{Address: addr, KVVersion: 1, Auth: vaultref.Auth{Method: vaultref.MethodToken, TokenFile: tokenFile}}
	if err := a.cfg.Vault.Validate(); err != nil {
		t.Fatal(err)
	}
	rs := replay(t, "from-vault")
	host := func(id int64, pw string) inventory.HostSpec {
		return inventory.HostSpec{ID: id, Name: "h", Address: "127.0.0.1", Port: rs.Port(), Transport: "ssh",
			Credential: &inventory.Credential{Username: "scan", Password: pw}}
	}
	hosts := []inventory.HostSpec{
		host(1, "vault:kv/hosts/web#password"),
		host(2, "vault:kv/hosts/web#password"),
		host(3, "vault:kv/hosts/gone#password"),
		host(4, "vault:kv/hosts/web#passwrd"),
		host(5, "from-vault"),
	}
	stats, err := a.ScanHosts(context.Background(), hosts)
	if err != nil {
		t.Fatal(err)
	}
	if stats.OK != 3 || stats.Failed != 2 {
		t.Fatalf("stats %+v", stats)
	}
	entries, _ := a.spool.List()
	kinds := map[int64]string{}
	for _, e := range entries {
		b, _ := a.spool.Read(e.ID)
		var rep inventory.HostReport
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		kinds[rep.HostID] = rep.ErrorKind
		if strings.Contains(string(b), "from-vault") {
			t.Errorf("report of host %d carries the secret", rep.HostID)
		}
	}
	want := map[int64]string{1: "", 2: "", 3: inventory.ErrKindCredential, 4: inventory.ErrKindCredential, 5: ""}
	for id, k := range want {
		if kinds[id] != k {
			t.Errorf("host %d: error kind %q, want %q", id, kinds[id], k)
		}
	}
	if n := reads.Load(); n != 2 {
		t.Errorf("%d KV reads for two distinct paths in one run", n)
	}
	if hosts[0].Credential.Password != "vault:kv/hosts/web#password" {
		t.Errorf("the scan overwrote the reference in the agent's config: %q", hosts[0].Credential.Password)
	}
	// The next run reads again: nothing is cached between runs.
	if _, err := a.ScanHosts(context.Background(), hosts[:1]); err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n != 3 {
		t.Errorf("second run: %d reads in total, want 3", n)
	}
}

func TestScanHostWithoutVaultBlock(t *testing.T) {
	a := newTestAgent(t, http.NotFoundHandler())
	rep := a.ScanHost(context.Background(), inventory.HostSpec{ID: 1, Name: "h", Address: "127.0.0.1", Port: 1, Transport: "ssh",
		Credential: &inventory.Credential{Username: "u", Password: "vault:kv/x#y"}})
	if rep.ErrorKind != inventory.ErrKindCredential || !strings.Contains(rep.Error, "no vault: block") {
		t.Fatalf("report %+v", rep)
	}
}

// The agent reports the jump host's key next to the host's, for the server
// to pin.
func TestScanHostThroughJumpHost(t *testing.T) {
	target := replay(t, "pw")
	var forwards atomic.Int64
	bastion := &gssh.Server{
		PasswordHandler: func(ctx gssh.Context, pw string) bool { return ctx.User() == "jump" && pw == "jpw" },
		LocalPortForwardingCallback: func(_ gssh.Context, host string, port uint32) bool {
			forwards.Add(1)
			return int(port) == target.Port()
		},
		ChannelHandlers: map[string]gssh.ChannelHandler{"direct-tcpip": gssh.DirectTCPIPHandler},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go bastion.Serve(ln)
	t.Cleanup(func() { bastion.Close() })

	a := newTestAgent(t, http.NotFoundHandler())
	a.cfg.ConnectTimeout, a.cfg.HostTimeout, a.cfg.ProbeTimeout, a.cfg.Concurrency = 5*time.Second, 30*time.Second, 10*time.Second, 2
	h := inventory.HostSpec{ID: 1, Name: "inner", Address: "127.0.0.1", Port: target.Port(), Transport: "ssh",
		Credential: &inventory.Credential{Username: "scan", Password: "pw"},
		Jump:       &inventory.JumpHost{Address: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Credential: &inventory.Credential{Username: "jump", Password: "jpw"}}}
	rep := a.ScanHost(context.Background(), h)
	if rep.Status != inventory.StatusOK {
		t.Fatalf("scan through the bastion: %s %s", rep.ErrorKind, rep.Error)
	}
	if rep.HostKey != sshkey.Marshal(target.HostKey) || rep.JumpHostKey == "" || rep.JumpHostKey == rep.HostKey {
		t.Errorf("keys: host %q jump %q", rep.HostKey, rep.JumpHostKey)
	}
	if forwards.Load() != 1 {
		t.Errorf("%d forwards through the bastion for one scan, want one connection", forwards.Load())
	}
	res := a.CheckHosts(context.Background(), []inventory.HostSpec{h})
	if !res[0].OK || len(res[0].Notes) != 1 || !strings.Contains(res[0].Notes[0], "through jump host 127.0.0.1:") {
		t.Errorf("check: %+v", res[0])
	}
}

func TestLoadConfigSSHAgentAndVault(t *testing.T) {
	dir := t.TempDir()
	secretID := filepath.Join(dir, "secret-id")
	os.WriteFile(secretID, []byte("s"), 0o600)
	write := func(body string) string {
		p := filepath.Join(dir, "agent.yaml")
		if err := os.WriteFile(p, []byte("api_url: https://v.example\napi_key: vga_x\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, body, sock, wantErr string
		check                     func(*Config) bool
	}{
		{"ssh agent on", "ssh_agent: true\n", "/run/agent.sock", "", func(c *Config) bool { return c.SSHAgent }},
		{"ssh agent without a socket", "ssh_agent: true\n", "", "SSH_AUTH_SOCK is not set", nil},
		{"vault approle", "vault:\n  address: https://vault.example:8200\n  namespace: ops\n  auth:\n    method: approle\n    role_id: r\n    secret_id_file: " + secretID + "\n", "", "",
			func(c *Config) bool {
				return c.Vault.Enabled() && c.Vault.Auth.Mount == "approle" && c.Vault.Namespace == "ops" && c.Vault.Timeout == 10*time.Second
			}},
		{"vault without method", "vault:\n  address: https://vault.example:8200\n", "", "vault.auth.method is required", nil},
		{"vault unknown key", "vault:\n  adress: https://vault.example\n", "", "adress", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SSH_AUTH_SOCK", tc.sock)
			c, err := LoadConfig(write(tc.body))
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

// fakeSudo answers like a host whose sudoers allows only some commands
// without a password.
type fakeSudo struct {
	nopasswdAll bool
	allowed     map[string]bool // commands allowed by NOPASSWD rules
	ran         []string
}

func (f *fakeSudo) Run(_ context.Context, cmd string) ([]byte, error) {
	f.ran = append(f.ran, cmd)
	if f.nopasswdAll {
		return nil, nil
	}
	if c, ok := strings.CutPrefix(cmd, "sudo -n -l "); ok && f.allowed[c] {
		return []byte("/usr/bin/" + c + "\n"), nil
	}
	return nil, &transport.ExitError{Code: 1, Stderr: "sudo: a password is required"}
}

func TestCheckSudo(t *testing.T) {
	defer func(orig func() []PrivilegedProbe) { privilegedProbes = orig }(privilegedProbes)
	privilegedProbes = func() []PrivilegedProbe {
		return []PrivilegedProbe{{"dmi_serial", "cat /sys/class/dmi/id/product_serial"}, {"listening_processes", "ss -Htulpn"}}
	}
	tests := []struct {
		name string
		host *fakeSudo
		want string
	}{
		{"NOPASSWD: ALL", &fakeSudo{nopasswdAll: true}, "sudo: allowed"},
		{"each probe allowed", &fakeSudo{allowed: map[string]bool{"cat /sys/class/dmi/id/product_serial": true, "ss -Htulpn": true}}, "sudo: allowed for all 2 privileged probes"},
		{"one allowed", &fakeSudo{allowed: map[string]bool{"ss -Htulpn": true}}, "sudo: denied (needs NOPASSWD for: dmi_serial)"},
		{"none", &fakeSudo{}, "sudo: denied (needs NOPASSWD for: dmi_serial, listening_processes)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkSudo(context.Background(), tc.host); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			for _, c := range tc.host.ran {
				if !strings.HasPrefix(c, "sudo -n ") {
					t.Errorf("ran %q: every sudo call must be non-interactive", c)
				}
			}
		})
	}
}

// The host's Sudo option decides whether the privileged probes are sent at
// all: off, they are reported as needing privilege without running.
func TestScanHostSudoOption(t *testing.T) {
	rs := replay(t, "pw")
	a := newTestAgent(t, http.NotFoundHandler())
	a.cfg.ConnectTimeout, a.cfg.HostTimeout, a.cfg.ProbeTimeout = 5*time.Second, 30*time.Second, 10*time.Second
	for _, sudo := range []bool{false, true} {
		rep := a.ScanHost(context.Background(), inventory.HostSpec{ID: 1, Name: "h", Address: "127.0.0.1", Port: rs.Port(), Transport: "ssh", Sudo: sudo,
			Credential: &inventory.Credential{Username: "scan", Password: "pw"}})
		if rep.Status != inventory.StatusOK {
			t.Fatalf("sudo=%v: %s %s", sudo, rep.ErrorKind, rep.Error)
		}
		privileged := map[string]bool{}
		for _, p := range privilegedProbes() {
			privileged[p.Name] = true
		}
		seen := 0
		for _, p := range rep.Probes {
			if !privileged[p.Name] {
				continue
			}
			seen++
			// The recording has no sudo: with sudo allowed the probes run
			// and fail on the host; without, they are not run.
			notEnabled := strings.Contains(p.Error, "sudo is not enabled for this host")
			if !sudo && (!p.NeedsPrivilege || !notEnabled) {
				t.Errorf("sudo off: probe %+v", p)
			}
			if sudo && (notEnabled || p.Error == "") {
				t.Errorf("sudo on: probe %+v was not sent to the host", p)
			}
		}
		if seen != len(privileged) {
			t.Errorf("sudo=%v: %d privileged probe results, want %d", sudo, seen, len(privileged))
		}
	}
}

// The jump host's own credential may be a Vault reference too; its failure
// names the jump host.
func TestResolveHostJumpCredential(t *testing.T) {
	var reads atomic.Int64
	addr := kvV1Vault(t, map[string]map[string]string{"bastion": {"password": "jump-secret"}}, &reads)
	a := newTestAgent(t, http.NotFoundHandler())
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("hvs.agent-test"), 0o600)
	a.cfg.Vault = &vaultref.Config{Address: addr, KVVersion: 1, Auth: vaultref.Auth{Method: vaultref.MethodToken, TokenFile: tokenFile}}
	if err := a.cfg.Vault.Validate(); err != nil {
		t.Fatal(err)
	}
	h := inventory.HostSpec{Credential: &inventory.Credential{Username: "u", Password: "plain"},
		Jump: &inventory.JumpHost{Address: "b", Credential: &inventory.Credential{Username: "j", Password: "vault:kv/bastion#password"}}}
	got, err := a.resolveHost(context.Background(), h)
	if err != nil || got.Jump.Credential.Password != "jump-secret" || got.Credential.Password != "plain" {
		t.Fatalf("resolved %+v / %+v: %v", got.Credential, got.Jump, err)
	}
	if h.Jump.Credential.Password != "vault:kv/bastion#password" {
		t.Errorf("resolveHost changed the config's jump credential")
	}
	h.Jump.Credential = &inventory.Credential{Username: "j", Password: "vault:kv/gone#password"}
	if _, err := a.resolveHost(context.Background(), h); err == nil || !strings.HasPrefix(err.Error(), "jump host: credential password: vault:kv/gone#password") {
		t.Errorf("err = %v", err)
	}
}
