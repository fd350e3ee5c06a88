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
)

// sshd is a real OpenSSH server (Debian's) on 127.0.0.1 with its own host
// key, accepting one test key for the current user.
type sshd struct {
	t        *testing.T
	dir      string
	port     int
	user     string
	keyPEM   string // client private key
	hostKey  string // host public key, authorized_keys format
	cmd      *exec.Cmd
	logFile  string
	confFile string
}

func sshdPath(t *testing.T) string {
	for _, p := range []string{"/usr/sbin/sshd", "/usr/bin/sshd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("sshd not installed: .ci/run must install openssh-server")
	}
	t.Skip("sshd not installed (apt-get install openssh-server)")
	return ""
}

func keygen(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vigil-e2e", "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
}

// startSSHD starts sshd; the same dir and port can be restarted with a new
// host key by restart(true).
func startSSHD(t *testing.T) *sshd {
	t.Helper()
	bin := sshdPath(t)
	if os.Geteuid() == 0 {
		// Privilege separation needs this directory when sshd runs as root.
		_ = os.MkdirAll("/run/sshd", 0o755)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	s := &sshd{t: t, dir: dir, port: freePort(t), user: u.Username, logFile: filepath.Join(dir, "sshd.log"), confFile: filepath.Join(dir, "sshd_config")}
	keygen(t, filepath.Join(dir, "client"))
	pub, _ := os.ReadFile(filepath.Join(dir, "client.pub"))
	priv, _ := os.ReadFile(filepath.Join(dir, "client"))
	s.keyPEM = string(priv)
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	s.newHostKey()
	conf := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s/host_key
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
MaxStartups 100:30:200
LogLevel VERBOSE
`, s.port, dir, dir, dir)
	if err := os.WriteFile(s.confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s.start(bin)
	t.Cleanup(s.stop)
	return s
}

func (s *sshd) newHostKey() {
	os.Remove(filepath.Join(s.dir, "host_key"))
	os.Remove(filepath.Join(s.dir, "host_key.pub"))
	keygen(s.t, filepath.Join(s.dir, "host_key"))
	pub, _ := os.ReadFile(filepath.Join(s.dir, "host_key.pub"))
	f := strings.Fields(string(pub))
	s.hostKey = f[0] + " " + f[1]
}

func (s *sshd) start(bin string) {
	s.t.Helper()
	s.cmd = exec.Command(bin, "-D", "-f", s.confFile, "-E", s.logFile)
	var stderr bytes.Buffer
	s.cmd.Stderr = &stderr
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start sshd: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(s.logFile)
	s.t.Fatalf("sshd did not start: %s %s", stderr.String(), log)
}

func (s *sshd) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// restartWithNewKey simulates a reinstalled or impersonated host.
func (s *sshd) restartWithNewKey() {
	s.stop()
	s.newHostKey()
	s.start(sshdPath(s.t))
}

func (s *sshd) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

func (s *sshd) log() string {
	b, _ := os.ReadFile(s.logFile)
	return string(b)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
