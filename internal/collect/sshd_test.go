package collect

import (
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func parseSSHDString(t *testing.T, out string) SSHDConfig {
	t.Helper()
	c, err := ParseSSHD([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkSettings compares the given keywords, "kw=" meaning unset.
func checkSettings(t *testing.T, c SSHDConfig, want map[string]string) {
	t.Helper()
	for kw, v := range want {
		got, ok := c.Settings[kw]
		if v == "" && ok || v != "" && got != v {
			t.Errorf("settings[%s] = %q (set %v), want %q", kw, got, ok, v)
		}
	}
}

// debianDropins is the real Debian 12 output with drop-ins in place of the
// empty sshd_config.d: what the same command prints on a host that has them.
func debianDropins(t *testing.T, dropins string) string {
	real := string(itemOutput(t, "sshd"))
	const missing = "==> /etc/ssh/sshd_config.d/*.conf <== (missing)\n"
	if !strings.Contains(real, missing) {
		t.Fatal("fixture changed")
	}
	return strings.Replace(real, missing, dropins, 1)
}

func TestParseSSHDDebian12(t *testing.T) {
	c := parseSSHDString(t, string(itemOutput(t, "sshd")))
	if !c.Present || !c.Readable || c.HasMatchBlocks || !reflect.DeepEqual(c.Files, []string{sshdConfigPath}) {
		t.Errorf("config %+v", c)
	}
	checkSettings(t, c, map[string]string{
		"kbdinteractiveauthentication": "no", "usepam": "yes", "x11forwarding": "yes", "printmotd": "no",
		"acceptenv": "LANG LC_*", "subsystem": "sftp /usr/lib/openssh/sftp-server",
		// OpenSSH defaults: nothing in the file sets them.
		"permitrootlogin": "prohibit-password", "passwordauthentication": "yes", "maxauthtries": "6", "loglevel": "INFO",
		"port": "", "include": "",
	})
	if c.Sources["usepam"] != sshdConfigPath || c.Sources["permitrootlogin"] != "" {
		t.Errorf("sources %v", c.Sources)
	}
	if !reflect.DeepEqual(c.Values, map[string][]string{"acceptenv": {"LANG LC_*"}, "subsystem": {"sftp /usr/lib/openssh/sftp-server"}}) {
		t.Errorf("values %v", c.Values)
	}
	if !contains(c.DefaultsApplied, "permitrootlogin") || contains(c.DefaultsApplied, "usepam") || len(c.DefaultsApplied) != len(sshdDefaults)-3 {
		t.Errorf("defaults applied %v", c.DefaultsApplied)
	}
}

// Constructed: Ubuntu-style cloud-init drop-in plus a hardening one. The
// Include is at the top of sshd_config, so drop-ins win over the main
// file's X11Forwarding yes, and the lexically first drop-in wins.
func TestParseSSHDDropins(t *testing.T) {
	c := parseSSHDString(t, debianDropins(t, "==> /etc/ssh/sshd_config.d/50-cloud-init.conf <==\nPasswordAuthentication no\n\n"+
		"==> /etc/ssh/sshd_config.d/60-hardening.conf <==\nPermitRootLogin no\nX11Forwarding=no\nMaxAuthTries 3\nPasswordAuthentication yes\n"+
		"Match Group sftp\n  ForceCommand internal-sftp\n\n"))
	checkSettings(t, c, map[string]string{"passwordauthentication": "no", "permitrootlogin": "no", "x11forwarding": "no",
		"maxauthtries": "3", "usepam": "yes", "forcecommand": ""})
	want := []string{sshdConfigPath, "/etc/ssh/sshd_config.d/50-cloud-init.conf", "/etc/ssh/sshd_config.d/60-hardening.conf"}
	if !reflect.DeepEqual(c.Files, want) || !c.HasMatchBlocks || !c.Readable {
		t.Errorf("files %v, match %v", c.Files, c.HasMatchBlocks)
	}
	if c.Sources["passwordauthentication"] != want[1] || c.Sources["x11forwarding"] != want[2] {
		t.Errorf("sources %v", c.Sources)
	}
}

// Constructed: an old-style full config that fails most hardening checks.
func TestParseSSHDFailingConfig(t *testing.T) {
	c := parseSSHDString(t, "==> /etc/ssh/sshd_config <==\n"+`Port 22
Port 2222
PermitRootLogin Yes
PasswordAuthentication yes
PermitEmptyPasswords yes
MaxAuthTries 10
Ciphers aes128-cbc,3des-cbc,aes256-ctr
MACs hmac-md5,hmac-sha1
LogLevel verbose
ChallengeResponseAuthentication yes
IgnoreRhosts no
AllowUsers alice
AllowUsers bob@10.0.0.0/8 # the backup host
Banner "/etc/ssh/my banner"
PermitRootLogin no
Match User backup
    PasswordAuthentication no
    PermitRootLogin no
`)
	checkSettings(t, c, map[string]string{"permitrootlogin": "yes", "passwordauthentication": "yes", "permitemptypasswords": "yes",
		"maxauthtries": "10", "ciphers": "aes128-cbc,3des-cbc,aes256-ctr", "macs": "hmac-md5,hmac-sha1", "loglevel": "VERBOSE",
		"kbdinteractiveauthentication": "yes", "ignorerhosts": "no", "port": "22 2222", "allowusers": "alice bob@10.0.0.0/8",
		"banner": "/etc/ssh/my banner", "challengeresponseauthentication": "", "x11forwarding": "no", "usepam": "no"})
	if !c.HasMatchBlocks || !reflect.DeepEqual(c.Values["port"], []string{"22", "2222"}) {
		t.Errorf("config %+v", c)
	}
}

// Constructed from RHEL 9's layout: sshd_config (0600 there, so read as
// root) includes sshd_config.d/50-redhat.conf, which includes the crypto
// policy file by absolute path; a relative include and a Match block in an
// included file, which ends with that file.
func TestParseSSHDRHEL9Layout(t *testing.T) {
	out := `==> /etc/ssh/sshd_config <==
Include /etc/ssh/sshd_config.d/*.conf
Include local.d/*.conf
PermitRootLogin no
HostKey /etc/ssh/ssh_host_rsa_key
HostKey /etc/ssh/ssh_host_ed25519_key
Subsystem	sftp	/usr/libexec/openssh/sftp-server

==> /etc/ssh/sshd_config.d/50-redhat.conf <==
Include /etc/crypto-policies/back-ends/opensshserver.config
SyslogFacility AUTHPRIV
ChallengeResponseAuthentication no
GSSAPIAuthentication yes
UsePAM yes
X11Forwarding yes

==> /etc/ssh/local.d/10-match.conf <==
Match Address 10.0.0.0/8
PasswordAuthentication yes

==> /etc/crypto-policies/back-ends/opensshserver.config <==
Ciphers aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-ctr
MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com
KexAlgorithms curve25519-sha256,ecdh-sha2-nistp256
`
	c := parseSSHDString(t, out)
	checkSettings(t, c, map[string]string{"ciphers": "aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-ctr",
		"kbdinteractiveauthentication": "no", "gssapiauthentication": "yes", "usepam": "yes", "permitrootlogin": "no",
		"passwordauthentication": "yes", "hostkey": "/etc/ssh/ssh_host_rsa_key /etc/ssh/ssh_host_ed25519_key"})
	wantFiles := []string{sshdConfigPath, "/etc/ssh/sshd_config.d/50-redhat.conf",
		"/etc/crypto-policies/back-ends/opensshserver.config", "/etc/ssh/local.d/10-match.conf"}
	if !reflect.DeepEqual(c.Files, wantFiles) || !c.HasMatchBlocks {
		t.Errorf("files %v", c.Files)
	}
	if c.Sources["passwordauthentication"] != "" || !contains(c.DefaultsApplied, "passwordauthentication") {
		t.Errorf("a Match block leaked: %v", c.Sources)
	}
	// The same host as a non-root scan user sees it.
	unreadable := strings.Replace(out, "==> /etc/ssh/sshd_config.d/50-redhat.conf <==\n", "==> /etc/ssh/sshd_config.d/50-redhat.conf <== (unreadable)\n", 1)
	c = parseSSHDString(t, unreadable)
	if c.Readable || !reflect.DeepEqual(c.Unreadable, []string{"/etc/ssh/sshd_config.d/50-redhat.conf"}) {
		t.Errorf("unreadable drop-in: %+v", c)
	}
	if _, err := sshdItem.parse([]byte(unreadable)); err == nil || !strings.Contains(err.Error(), "50-redhat.conf") {
		t.Errorf("item error = %v", err)
	}
}

func TestParseSSHDUnreadableOrMissing(t *testing.T) {
	c := parseSSHDString(t, "==> /etc/ssh/sshd_config <== (unreadable)\n")
	if !c.Present || c.Readable || len(c.Settings) != 0 {
		t.Errorf("unreadable: %+v", c)
	}
	_, err := sshdItem.parse([]byte("==> /etc/ssh/sshd_config <== (unreadable)\n"))
	if _, ok := err.(*privilegeError); !ok {
		t.Errorf("unreadable: err = %v, want a privilege error", err)
	}
	c = parseSSHDString(t, "==> /etc/ssh/sshd_config <== (missing)\n")
	if c.Present || c.Readable || len(c.Settings) != 0 || len(c.DefaultsApplied) != 0 {
		t.Errorf("missing: %+v", c)
	}
	if _, err := sshdItem.parse([]byte("==> /etc/ssh/sshd_config <== (missing)\n")); err != nil {
		t.Errorf("missing: %v", err)
	}
	for _, bad := range []string{"", "Port 22\n", "==> /etc/ssh/other <==\nPort 22\n"} {
		if _, err := ParseSSHD([]byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "parse sshd: ") {
			t.Errorf("ParseSSHD(%q) err = %v", bad, err)
		}
	}
}

func TestSplitSSHDLine(t *testing.T) {
	tests := []struct {
		line string
		kw   string
		args []string
	}{
		{"PermitRootLogin no", "permitrootlogin", []string{"no"}},
		{"PermitRootLogin=no", "permitrootlogin", []string{"no"}},
		{"PermitRootLogin = no", "permitrootlogin", []string{"no"}},
		{"UsePAM\tyes", "usepam", []string{"yes"}},
		{"PermitRootLogin no # comment", "permitrootlogin", []string{"no"}},
		{"AllowUsers a#b c", "allowusers", []string{"a#b", "c"}},
		{`Banner "/etc/my banner"`, "banner", []string{"/etc/my banner"}},
		{"Port", "port", nil},
	}
	for _, tt := range tests {
		kw, args := splitSSHDLine(tt.line)
		if kw != tt.kw || !reflect.DeepEqual(args, tt.args) {
			t.Errorf("splitSSHDLine(%q) = %q %q, want %q %q", tt.line, kw, args, tt.kw, tt.args)
		}
	}
}

// TestParseSSHDThisHost compares the parser with sshd -T (root only) on the
// machine running the tests, for the keywords checks use.
func TestParseSSHDThisHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("sshd -T needs root")
	}
	tOut, err := exec.Command("sshd", "-T").Output()
	if err != nil {
		t.Skip("no usable sshd -T:", err)
	}
	out, err := exec.Command("/bin/sh", "-c", sshdCommand).Output()
	if err != nil {
		t.Fatal(err)
	}
	c := parseSSHDString(t, string(out))
	effective := map[string]string{}
	for _, l := range strings.Split(string(tOut), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok {
			if _, dup := effective[k]; !dup {
				effective[k] = v
			}
		}
	}
	version, _ := exec.Command("sh", "-c", "sshd -V 2>&1; ssh -V 2>&1").CombinedOutput()
	for kw := range sshdDefaults {
		want := effective[kw]
		if kw == "permitrootlogin" && want == "without-password" {
			want = "prohibit-password"
		}
		if kw == "ciphers" || kw == "macs" || kw == "kexalgorithms" {
			if !strings.Contains(string(version), "OpenSSH_9.2") && contains(c.DefaultsApplied, kw) {
				continue // the built-in list differs between versions
			}
		}
		if c.Settings[kw] != want {
			t.Errorf("%s: parsed %q, sshd -T says %q", kw, c.Settings[kw], want)
		}
	}
}
