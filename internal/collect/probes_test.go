package collect

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSysctl(t *testing.T) {
	m, err := ParseSysctl(itemOutput(t, "sysctl"))
	if err != nil {
		t.Fatal(err)
	}
	// 29 of the 30 keys: this kernel has no Yama.
	if len(m) != len(sysctlKeys)-1 || m["net.ipv4.ip_forward"] != "0" || m["kernel.randomize_va_space"] != "2" ||
		m["net.ipv4.conf.default.accept_source_route"] != "1" || m["fs.protected_symlinks"] != "0" {
		t.Errorf("sysctl %v", m)
	}
	if _, ok := m["kernel.yama.ptrace_scope"]; ok {
		t.Error("missing key reported")
	}
	// Constructed: dotted keys, several numbers, unknown keys, noise.
	m, err = ParseSysctl([]byte("kernel.yama.ptrace_scope = 1\nnet.ipv4.ip_forward=1\r\nnet.ipv4.ip_local_port_range=32768\t60999\nsh: oops\n"))
	if err != nil || !reflect.DeepEqual(m, map[string]string{"kernel.yama.ptrace_scope": "1", "net.ipv4.ip_forward": "1"}) {
		t.Errorf("constructed: %v %v", m, err)
	}
	if _, err := ParseSysctl(nil); err == nil || !strings.HasPrefix(err.Error(), "parse sysctl: ") {
		t.Errorf("empty: %v", err)
	}
	for _, k := range sysctlKeys {
		if !strings.Contains(sysctlCommand, " "+strings.ReplaceAll(k, ".", "/")+" ") &&
			!strings.Contains(sysctlCommand, " "+strings.ReplaceAll(k, ".", "/")+";") {
			t.Errorf("command does not read %s", k)
		}
	}
}

func TestParseMounts(t *testing.T) {
	ms, err := ParseMounts(itemOutput(t, "mounts"))
	if err != nil {
		t.Fatal(err)
	}
	want := Mount{Device: "/dev/vda", MountPoint: "/", FSType: "ext4", Options: []string{"rw", "relatime", "discard", "resv_strict", "resuid=65534", "resgid=65534"}}
	if len(ms) != 20 || !reflect.DeepEqual(ms[5], want) || ms[0].MountPoint != "/proc" {
		t.Errorf("%d mounts, [5] = %+v", len(ms), ms[5])
	}
	// facter's sample is wrapped in quotes as stored upstream.
	ms, err = ParseMounts(fixture(t, "facter/proc_self_mounts"))
	if err != nil || len(ms) != 6 || ms[0].Device != "'sysfs" || ms[5].MountPoint != "/" ||
		!reflect.DeepEqual(ms[3].Options, []string{"rw", "nosuid", "noexec", "relatime", "gid=5", "mode=620", "ptmxmode=000"}) {
		t.Errorf("facter: %+v %v", ms, err)
	}
	// Constructed: escaped space and a backslash, a short line.
	ms, err = ParseMounts([]byte("/dev/sdb1 /media/my\\040disk vfat rw,nosuid 0 0\n/dev/x /a\\134b ext4 ro\nshort line\n"))
	if err != nil || len(ms) != 2 || ms[0].MountPoint != "/media/my disk" || ms[1].MountPoint != `/a\b` {
		t.Errorf("constructed: %+v %v", ms, err)
	}
	if _, err := ParseMounts([]byte("\n")); err == nil {
		t.Error("no error for empty output")
	}
}

func TestParseServices(t *testing.T) {
	s, err := ParseServices(itemOutput(t, "services"))
	if err != nil {
		t.Fatal(err)
	}
	// systemd is not running on the build machine: states only.
	if s.Manager != "systemd" || len(s.Units) != 130 || s.Units["ssh.service"] != (ServiceUnit{Enabled: "enabled"}) ||
		s.Units["cryptdisks.service"].Enabled != "masked" {
		t.Errorf("debian12: %s, %d units, ssh %+v", s.Manager, len(s.Units), s.Units["ssh.service"])
	}
	// jc's samples are list-unit-files with its legend; the list-units
	// section is constructed.
	luf := string(fixture(t, "jc/centos-7.7/systemctl-luf.out"))
	s, err = ParseServices([]byte("==> systemd list-unit-files <==\n" + luf + "==> systemd list-units <==\n" +
		"sshd.service   loaded active   running OpenSSH server daemon\n" +
		"● kdump.service loaded failed   failed  Crash recovery kernel arming\n" +
		"getty@tty1.service loaded active running Getty on tty1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Units["sshd.service"] != (ServiceUnit{"enabled", "active", "running"}) || s.Units["kdump.service"].Active != "failed" ||
		s.Units["auditd.service"].Enabled != "enabled" || s.Units["getty@tty1.service"].Sub != "running" || len(s.Units) != 151 {
		t.Errorf("centos: %d units, sshd %+v, kdump %+v", len(s.Units), s.Units["sshd.service"], s.Units["kdump.service"])
	}
	s, err = ParseServices([]byte("==> systemd list-unit-files <==\n" + string(fixture(t, "jc/ubuntu-18.04/systemctl-luf.out"))))
	if err != nil || len(s.Units) != 198 || s.Units["ufw.service"].Enabled != "enabled" {
		t.Errorf("ubuntu: %d units, %v", len(s.Units), err)
	}
	// Constructed: Alpine 3.19 with OpenRC.
	s, err = ParseServices([]byte(`==> openrc rc-status <==
Runlevel: default
 sshd                                                              [  started  ]
 crond                                                   [  started 00:10:05 (0) ]
 chronyd                                                           [  crashed  ]
Runlevel: boot
 hwclock                                                           [  started  ]
Dynamic Runlevel: hotplugged
Dynamic Runlevel: needed/wanted
 sysfs                                                             [  started  ]
Dynamic Runlevel: manual
==> openrc rc-update <==
              chronyd |      default
                crond |      default
              hwclock | boot
                 sshd |      default
                sysfs |
             nftables |
`))
	want := map[string]ServiceUnit{
		"sshd": {"enabled", "active", "started"}, "crond": {"enabled", "active", "started"}, "chronyd": {"enabled", "failed", "crashed"},
		"hwclock": {"enabled", "active", "started"}, "sysfs": {"disabled", "active", "started"}, "nftables": {"disabled", "", ""},
	}
	if err != nil || s.Manager != "openrc" || !reflect.DeepEqual(s.Units, want) {
		t.Errorf("openrc: %+v %v", s, err)
	}
	if s, err := ParseServices(nil); err != nil || s.Manager != "unknown" || len(s.Units) != 0 {
		t.Errorf("nothing: %+v %v", s, err)
	}
	if _, err := ParseServices([]byte("bash: systemctl: command not found\n")); err == nil {
		t.Error("no error for headerless output")
	}
}

func TestParseAccounts(t *testing.T) {
	a, err := ParseAccounts(itemOutput(t, "accounts"))
	if err != nil {
		t.Fatal(err)
	}
	var login []string
	for _, u := range a.Users {
		if u.LoginShell {
			login = append(login, u.Name)
		}
	}
	if len(a.Users) != 32 || a.Users[0] != (Account{"root", 0, 0, "/root", "/bin/bash", true}) ||
		!reflect.DeepEqual(login, []string{"root", "cloudsdk", "postgres"}) {
		t.Errorf("%d users, login %v, first %+v", len(a.Users), login, a.Users[0])
	}
	if len(a.SudoMembers) != 0 || !reflect.DeepEqual(a.AdminGroups, map[string][]string{"sudo": {}}) {
		t.Errorf("admins %v %v", a.SudoMembers, a.AdminGroups)
	}
	// Constructed, RHEL-style: wheel members listed and by primary group,
	// NIS lines, an empty shell (sh), a broken line.
	a, err = ParseAccounts([]byte(`==> /etc/passwd <==
root:x:0:0:root:/root:/bin/bash
alice:x:1000:1000::/home/alice:/bin/zsh
ops:x:1001:10::/home/ops:
svc:x:990:990::/:/sbin/nologin
broken:x:notanumber:1::/:/bin/sh
+@netgroup::::::
==> /etc/group <==
root:x:0:
wheel:x:10:alice,bob
admin:x:4:
`))
	if err != nil || len(a.Users) != 4 || !a.Users[2].LoginShell || a.Users[3].LoginShell ||
		!reflect.DeepEqual(a.SudoMembers, []string{"alice", "bob", "ops"}) ||
		!reflect.DeepEqual(a.AdminGroups, map[string][]string{"wheel": {"alice", "bob", "ops"}, "admin": {}}) {
		t.Errorf("constructed: %+v %v", a, err)
	}
	for _, bad := range []string{"", "==> /etc/group <==\nwheel:x:10:\n", "==> /etc/passwd <==\nnot passwd\n"} {
		if _, err := ParseAccounts([]byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "parse accounts: ") {
			t.Errorf("ParseAccounts(%q) err = %v", bad, err)
		}
	}
}

func TestParseLoginDefs(t *testing.T) {
	m, err := ParseLoginDefs(itemOutput(t, "login_defs"))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"PASS_MAX_DAYS": "99999", "PASS_MIN_DAYS": "0", "PASS_WARN_AGE": "7", "UMASK": "022",
		"ENCRYPT_METHOD": "SHA512", "UID_MIN": "1000", "ENV_SUPATH": "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"} {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	if _, ok := m["MAIL_FILE"]; ok || len(m) != 37 {
		t.Errorf("%d keys (commented-out MAIL_FILE set: %v)", len(m), ok)
	}
	// Constructed, RHEL 9-like, with a repeated key (last wins) and quotes.
	m, err = ParseLoginDefs([]byte("# comment\nPASS_MAX_DAYS\t99999\nPASS_MAX_DAYS 90\nENCRYPT_METHOD \"YESCRYPT\"\nUMASK           077\n"))
	if err != nil || !reflect.DeepEqual(m, map[string]string{"PASS_MAX_DAYS": "90", "ENCRYPT_METHOD": "YESCRYPT", "UMASK": "077"}) {
		t.Errorf("constructed: %v %v", m, err)
	}
	if m, err := ParseLoginDefs(nil); err != nil || len(m) != 0 {
		t.Errorf("empty: %v %v", m, err)
	}
	if _, err := ParseLoginDefs([]byte("=== not login.defs\n")); err == nil {
		t.Error("no error for garbage")
	}
}
