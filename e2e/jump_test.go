package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/sshkey"
)

// jumpNet is where the bastion and the target of the jump host test live.
type jumpNet struct {
	isolated          bool   // network namespaces: the target is unreachable but through the bastion
	bastionNS         string // "" when not isolated
	targetNS          string
	bastionAddr       string // as the agent dials it
	targetAddr        string // as the bastion dials it
	bastionFromTarget string // the bastion's address as the target sees it
}

// setupJumpNet builds, when running as root with `ip netns` available,
//
//	root ns (server, agent) 10.78.N.1 ──veth── 10.78.N.2 bastion ns 10.77.N.1 ──veth── 10.77.N.2 target ns
//
// The root namespace routes 10.77.N.0/30 nowhere (an unreachable route)
// and a new namespace does not forward packets, so the target is reachable
// only through the bastion's SSH direct-tcpip channel: the test checks that
// a direct connection fails.
//
// Otherwise it falls back to two loopback addresses, 127.0.0.2 (bastion)
// and 127.0.0.3 (target). That still shows the agent going through the
// bastion (the bastion's log records the direct-tcpip channel to the
// target), but nothing there stops a direct connection to the target, and
// the target sees every connection come from 127.0.0.1.
func setupJumpNet(t *testing.T) jumpNet {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Log("not root: bastion and target on 127.0.0.2 and 127.0.0.3, not isolated from the agent")
		return jumpNet{bastionAddr: "127.0.0.2", targetAddr: "127.0.0.3", bastionFromTarget: "127.0.0.1"}
	}
	n := os.Getpid() % 250
	id := fmt.Sprintf("%d", os.Getpid()%100000)
	bns, tns := "vj-bas-"+id, "vj-tgt-"+id
	rootIf, basUp, basDown, tgtIf := "vjr"+id, "vjb"+id, "vjd"+id, "vjt"+id
	steps := [][]string{
		{"netns", "add", bns},
		{"netns", "add", tns},
		{"link", "add", rootIf, "type", "veth", "peer", "name", basUp},
		{"link", "set", basUp, "netns", bns},
		{"link", "add", basDown, "type", "veth", "peer", "name", tgtIf},
		{"link", "set", basDown, "netns", bns},
		{"link", "set", tgtIf, "netns", tns},
		{"addr", "add", fmt.Sprintf("10.78.%d.1/30", n), "dev", rootIf},
		{"link", "set", rootIf, "up"},
		{"-n", bns, "link", "set", "lo", "up"},
		{"-n", bns, "addr", "add", fmt.Sprintf("10.78.%d.2/30", n), "dev", basUp},
		{"-n", bns, "link", "set", basUp, "up"},
		{"-n", bns, "addr", "add", fmt.Sprintf("10.77.%d.1/30", n), "dev", basDown},
		{"-n", bns, "link", "set", basDown, "up"},
		{"-n", tns, "link", "set", "lo", "up"},
		{"-n", tns, "addr", "add", fmt.Sprintf("10.77.%d.2/30", n), "dev", tgtIf},
		{"-n", tns, "link", "set", tgtIf, "up"},
		// This machine's default route leads to an egress proxy that
		// accepts any TCP connection; an explicit unreachable route keeps
		// the target's subnet from leaking out that way.
		{"route", "add", "unreachable", fmt.Sprintf("10.77.%d.0/30", n)},
	}
	t.Cleanup(func() {
		// Deleting a namespace deletes the veth ends in it, and with them
		// their peers.
		exec.Command("ip", "netns", "del", bns).Run()
		exec.Command("ip", "netns", "del", tns).Run()
		exec.Command("ip", "link", "del", rootIf).Run()
		exec.Command("ip", "route", "del", "unreachable", fmt.Sprintf("10.77.%d.0/30", n)).Run()
	})
	for i, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			if i == 0 {
				t.Logf("ip netns unavailable (%v: %s): bastion and target on 127.0.0.2 and 127.0.0.3, not isolated", err, out)
				return jumpNet{bastionAddr: "127.0.0.2", targetAddr: "127.0.0.3", bastionFromTarget: "127.0.0.1"}
			}
			t.Fatalf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	return jumpNet{isolated: true, bastionNS: bns, targetNS: tns,
		bastionAddr: fmt.Sprintf("10.78.%d.2", n), targetAddr: fmt.Sprintf("10.77.%d.2", n), bastionFromTarget: fmt.Sprintf("10.77.%d.1", n)}
}

// nsSSHD is Debian's sshd on a chosen address and port, in a network
// namespace when ns is set.
type nsSSHD struct {
	t        *testing.T
	ns, dir  string
	addr     string
	port     int
	hostKey  string
	cmd      *exec.Cmd
	logFile  string
	confFile string
}

func startNSSSHD(t *testing.T, ns, addr string, port int, authorized []byte) *nsSSHD {
	t.Helper()
	sshdPath(t)
	_ = os.MkdirAll("/run/sshd", 0o755)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	s := &nsSSHD{t: t, ns: ns, dir: dir, addr: addr, port: port, logFile: filepath.Join(dir, "sshd.log"), confFile: filepath.Join(dir, "sshd_config")}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), authorized, 0o600); err != nil {
		t.Fatal(err)
	}
	s.newHostKey()
	conf := fmt.Sprintf(`Port %d
ListenAddress %s
HostKey %s/host_key
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding yes
LogLevel DEBUG1
`, port, addr, dir, dir, dir)
	if err := os.WriteFile(s.confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *nsSSHD) newHostKey() {
	os.Remove(filepath.Join(s.dir, "host_key"))
	os.Remove(filepath.Join(s.dir, "host_key.pub"))
	keygen(s.t, filepath.Join(s.dir, "host_key"))
	pub, _ := os.ReadFile(filepath.Join(s.dir, "host_key.pub"))
	f := strings.Fields(string(pub))
	s.hostKey = f[0] + " " + f[1]
}

func (s *nsSSHD) run(args ...string) *exec.Cmd {
	if s.ns == "" {
		return exec.Command(args[0], args[1:]...)
	}
	// ip netns exec execs the command: the process is sshd itself.
	return exec.Command("ip", append([]string{"netns", "exec", s.ns}, args...)...)
}

func (s *nsSSHD) start() {
	s.t.Helper()
	logged := len(s.log()) // a restart appends to the same log
	s.cmd = s.run(sshdPath(s.t), "-D", "-f", s.confFile, "-E", s.logFile)
	var stderr bytes.Buffer
	s.cmd.Stderr = &stderr
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start sshd: %v", err)
	}
	// Wait for the listener: sshd logs it once bound.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(s.log()[logged:], fmt.Sprintf("Server listening on %s port %d", s.addr, s.port)) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("sshd in %q did not start: %s %s", s.ns, stderr.String(), s.log())
}

func (s *nsSSHD) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

func (s *nsSSHD) restartWithNewKey() {
	s.stop()
	s.newHostKey()
	s.start()
}

func (s *nsSSHD) log() string {
	b, _ := os.ReadFile(s.logFile)
	return string(b)
}

type apiJumpHost struct {
	apiHost
	Options struct {
		Jump *struct {
			Address string `json:"address"`
			Port    int    `json:"port"`
			HostKey string `json:"host_key"`
		} `json:"jump"`
	} `json:"options"`
}

// A host reachable only through a bastion: two real OpenSSH servers, the
// agent logs into the bastion, opens a direct-tcpip channel to the target
// and scans it; both host keys are pinned on first use, nothing runs on
// the bastion, and a changed bastion key stops the scan before any login.
func TestJumpHost(t *testing.T) {
	wantID, wantVersion := localOS(t)
	jn := setupJumpNet(t)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	keyDir := t.TempDir()
	keygen(t, filepath.Join(keyDir, "client"))
	pub, _ := os.ReadFile(filepath.Join(keyDir, "client.pub"))
	priv, _ := os.ReadFile(filepath.Join(keyDir, "client"))

	const bastionPort, targetPort = 2200, 2222 // both non-standard
	bastion := startNSSSHD(t, jn.bastionNS, jn.bastionAddr, bastionPort, pub)
	target := startNSSSHD(t, jn.targetNS, jn.targetAddr, targetPort, pub)

	if jn.isolated {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(jn.targetAddr, fmt.Sprint(targetPort)), 2*time.Second)
		if err == nil {
			c.Close()
			t.Fatalf("the target %s is reachable without the bastion: the namespaces do not isolate it", jn.targetAddr)
		}
		t.Logf("target %s:%d unreachable from the agent's namespace (%v): only the bastion can reach it", jn.targetAddr, targetPort, err)
	}

	srv := startServer(t, "")
	agentKey := srv.admin(t, "agent-key", "--name", "jump-agent")
	token := srv.admin(t, "api-token", "--name", "jump")
	var created apiJumpHost
	body := map[string]any{"name": "behind-bastion", "address": jn.targetAddr, "port": targetPort, "transport": "ssh",
		"username": u.Username, "private_key": string(priv),
		"options": map[string]any{"jump": map[string]any{"address": jn.bastionAddr, "port": bastionPort}}}
	if code := srv.api(t, token, "POST", "/api/v1/hosts", body, &created); code != 201 {
		t.Fatalf("add host: %d %+v", code, created)
	}

	cfgFile := filepath.Join(t.TempDir(), "agent.yaml")
	cfg := fmt.Sprintf("api_url: %s\napi_key: %s\nspool_dir: %s\nconnect_timeout: 5s\n", srv.url, agentKey, filepath.Join(t.TempDir(), "spool"))
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := runAgent(t, cfgFile); !strings.Contains(out, "scanned 1 hosts: 1 ok, 0 failed") {
		t.Fatalf("agent output:\n%s\nbastion log:\n%s", out, bastion.log())
	}
	get := func() apiJumpHost {
		var h apiJumpHost
		if code := srv.api(t, token, "GET", fmt.Sprintf("/api/v1/hosts/%d", created.ID), nil, &h); code != 200 {
			t.Fatalf("get host: %d", code)
		}
		return h
	}
	h := get()
	if h.LastError != "" || h.OS.ID != wantID || h.OS.VersionID != wantVersion || h.PackageCount == 0 {
		t.Fatalf("host scanned through the bastion: %+v", h)
	}
	if want := sshkey.Fingerprint(target.hostKey); h.HostKeyFingerprint != want {
		t.Errorf("target key pinned %q, target has %q", h.HostKeyFingerprint, want)
	}
	if h.Options.Jump == nil || h.Options.Jump.HostKey != bastion.hostKey {
		t.Errorf("bastion key not pinned: %+v (bastion has %q)", h.Options.Jump, bastion.hostKey)
	}
	// The target saw the login come from the bastion, and the bastion ran
	// nothing: it only forwarded.
	if want := "Accepted publickey for " + u.Username + " from " + jn.bastionFromTarget; !strings.Contains(target.log(), want) {
		t.Errorf("target log lacks %q:\n%s", want, target.log())
	}
	if !strings.Contains(bastion.log(), "direct-tcpip") {
		t.Errorf("bastion log shows no direct-tcpip channel:\n%s", bastion.log())
	}
	if strings.Contains(bastion.log(), "Starting session") {
		t.Errorf("a session ran on the bastion:\n%s", bastion.log())
	}

	checkOut, err := exec.Command(vigilBin, "agent", "check", "--config", cfgFile).CombinedOutput()
	if err != nil {
		t.Errorf("agent check: %v\n%s", err, checkOut)
	}
	want := fmt.Sprintf("through jump host %s:%d %s", jn.bastionAddr, bastionPort, sshkey.Fingerprint(bastion.hostKey))
	if !strings.Contains(string(checkOut), want) {
		t.Errorf("agent check output lacks %q:\n%s", want, checkOut)
	}

	// The bastion is replaced (or impersonated): the agent must not log
	// into it, so it never reaches the target, and the host says why.
	bastionLogins := strings.Count(bastion.log(), "Accepted publickey")
	targetLogins := strings.Count(target.log(), "Accepted publickey")
	bastion.restartWithNewKey()
	if out := runAgent(t, cfgFile); !strings.Contains(out, "scanned 1 hosts: 0 ok, 1 failed") {
		t.Fatalf("agent output after the bastion key changed:\n%s\nbastion log:\n%s", out, bastion.log())
	}
	h = get()
	if h.LastErrorKind != "host_key_changed" || !strings.Contains(h.LastError, "jump host "+jn.bastionAddr) {
		t.Fatalf("after the bastion key changed: kind %q error %q", h.LastErrorKind, h.LastError)
	}
	if h.Options.Jump.HostKey == bastion.hostKey {
		t.Errorf("the new bastion key was pinned over the old one")
	}
	if n := strings.Count(bastion.log(), "Accepted publickey"); n != bastionLogins {
		t.Errorf("agent logged into a bastion whose key changed")
	}
	if strings.Contains(bastion.log(), "Failed publickey") {
		t.Errorf("agent offered its key to a bastion whose key changed")
	}
	if n := strings.Count(target.log(), "Accepted publickey"); n != targetLogins {
		t.Errorf("the target was reached through a bastion whose key changed")
	}
	if h.PackageCount == 0 {
		t.Errorf("the refused scan dropped the inventory")
	}
}
