package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// OpenSSH's own ssh-agent holds the only key sshd accepts; the stored
// credential has a wrong password. With ssh_agent: true the agent logs in
// with the ssh-agent's key (tried before the password); without it the
// login is refused.
func TestSSHAgentKeys(t *testing.T) {
	sshd := startSSHD(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	agentCmd := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agentCmd.Start(); err != nil {
		t.Skipf("ssh-agent: %v", err)
	}
	t.Cleanup(func() { agentCmd.Process.Kill(); agentCmd.Wait() })
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	keyFile := filepath.Join(dir, "id")
	if err := os.WriteFile(keyFile, []byte(sshd.keyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	add := exec.Command("ssh-add", keyFile)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	os.Remove(keyFile) // from here on only the ssh-agent has it

	srv := startServer(t, "")
	agentKey := srv.admin(t, "agent-key", "--name", "agent-keys")
	token := srv.admin(t, "api-token", "--name", "agent-keys")
	var out map[string]any
	if code := srv.api(t, token, "POST", "/api/v1/hosts", map[string]any{"name": "agent-key-host", "address": "127.0.0.1",
		"port": sshd.port, "transport": "ssh", "username": sshd.user, "password": "not-the-password"}, &out); code != 201 {
		t.Fatalf("add host: %d %v", code, out)
	}
	run := func(sshAgent bool) string {
		cfgFile := filepath.Join(t.TempDir(), "agent.yaml")
		cfg := fmt.Sprintf("api_url: %s\napi_key: %s\nspool_dir: %s\nconnect_timeout: 5s\nssh_agent: %v\n", srv.url, agentKey, filepath.Join(dir, "spool"), sshAgent)
		os.WriteFile(cfgFile, []byte(cfg), 0o600)
		cmd := exec.Command(vigilBin, "agent", "scan", "--once", "--config", cfgFile)
		cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("agent scan: %v\n%s", err, b)
		}
		return string(b)
	}
	if o := run(false); !strings.Contains(o, "scanned 1 hosts: 0 ok, 1 failed") {
		t.Fatalf("without ssh_agent:\n%s", o)
	}
	if h := srv.hosts(t, token)["agent-key-host"]; h.LastErrorKind != "auth" {
		t.Fatalf("without ssh_agent the wrong password must be refused: %+v", h)
	}
	if o := run(true); !strings.Contains(o, "scanned 1 hosts: 1 ok, 0 failed") {
		t.Fatalf("with ssh_agent:\n%s\nsshd log:\n%s", o, sshd.log())
	}
	if h := srv.hosts(t, token)["agent-key-host"]; h.LastError != "" || h.PackageCount == 0 {
		t.Fatalf("with ssh_agent: %+v", h)
	}
	if !strings.Contains(sshd.log(), "Accepted publickey for "+sshd.user) {
		t.Errorf("sshd did not log a key login:\n%s", sshd.log())
	}
}
