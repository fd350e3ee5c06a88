package collect

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestSSHDCommandFollowsIncludes runs the sshd probe's shell command on a
// constructed /etc/ssh tree in a temporary directory (the command with its
// paths moved there) and parses what it prints.
func TestSSHDCommandFollowsIncludes(t *testing.T) {
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc", "ssh")
	write := func(rel, body string, mode os.FileMode) {
		p := filepath.Join(etc, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
	}
	// Absolute paths inside the files are written as on a host; they are
	// moved into dir below, like the command.
	write("sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nInclude=extra/one.conf extra/two.conf # two files\n"+
		"  include missing/*.conf\nInclude ssh_host_*_key\nPermitRootLogin yes\nPasswordAuthentication yes\n", 0o644)
	write("ssh_host_ed25519_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n", 0o600)
	write("sshd_config.d/10-first.conf", "PermitRootLogin no\nInclude /etc/ssh/nested.conf\n", 0o644)
	write("sshd_config.d/20-second.conf", "PermitRootLogin without-password\n", 0o644)
	write("sshd_config.d/not-included.txt", "PasswordAuthentication no\n", 0o644)
	write("nested.conf", "MaxAuthTries 2\n", 0o644)
	write("extra/one.conf", "ClientAliveInterval 300\n", 0o644)
	write("extra/two.conf", "ClientAliveInterval 600\nLogLevel verbose\n", 0o644)
	write("secret.conf", "Banner /etc/issue.net\n", 0o600)
	if os.Geteuid() != 0 {
		// Only a non-root user sees a file it cannot read.
		write("sshd_config.d/30-private.conf", "Include /etc/ssh/secret.conf\n", 0o644)
		os.Chmod(filepath.Join(etc, "secret.conf"), 0)
	}
	for _, f := range []string{"sshd_config", "sshd_config.d/10-first.conf", "sshd_config.d/30-private.conf"} {
		p := filepath.Join(etc, f)
		if b, err := os.ReadFile(p); err == nil {
			os.WriteFile(p, []byte(strings.ReplaceAll(string(b), "/etc/ssh/", etc+"/")), 0o644)
		}
	}
	cmd := strings.ReplaceAll(sshdCommand, "/etc/ssh", etc)
	out, err := exec.Command("/bin/sh", "-c", cmd).Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if strings.Contains(string(out), "PRIVATE KEY") {
		t.Errorf("printed a host key:\n%s", out)
	}
	c, err := ParseSSHD([]byte(strings.ReplaceAll(string(out), etc, "/etc/ssh")))
	if err != nil {
		t.Fatal(err)
	}
	checkSettings(t, c, map[string]string{"permitrootlogin": "no", "maxauthtries": "2", "clientaliveinterval": "300",
		"loglevel": "VERBOSE", "passwordauthentication": "yes"})
	want := []string{sshdConfigPath, "/etc/ssh/sshd_config.d/10-first.conf", "/etc/ssh/nested.conf",
		"/etc/ssh/sshd_config.d/20-second.conf"}
	if os.Geteuid() != 0 {
		want = append(want, "/etc/ssh/sshd_config.d/30-private.conf")
		if c.Readable || !reflect.DeepEqual(c.Unreadable, []string{"/etc/ssh/secret.conf"}) {
			t.Errorf("unreadable %v", c.Unreadable)
		}
	} else if !c.Readable {
		t.Errorf("unreadable %v", c.Unreadable)
	}
	want = append(want, "/etc/ssh/extra/one.conf", "/etc/ssh/extra/two.conf")
	if !reflect.DeepEqual(c.Files, want) {
		t.Errorf("files\n %v\nwant\n %v\noutput:\n%s", c.Files, want, out)
	}
}
