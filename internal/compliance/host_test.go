package compliance

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// testNow is the evaluation time of the tests: Debian 12 is supported then.
var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// testHost is a host report under construction: item values as the agent's
// probes produce them (internal/collect, docs/checks-items.md), which tests
// change before turning them into facts.
type testHost struct {
	os       inventory.OS
	items    map[string]any
	failed   map[string]inventory.ItemResult
	labels   map[string]string
	findings *FindingStats
}

// goodHost is a hardened Debian 12 host that passes every built-in check.
func goodHost() *testHost {
	sysctl := map[string]any{
		"net.ipv4.ip_forward": "0", "net.ipv6.conf.all.forwarding": "0",
		"net.ipv4.conf.all.send_redirects": "0", "net.ipv4.conf.default.send_redirects": "0",
		"net.ipv4.conf.all.accept_source_route": "0", "net.ipv4.conf.default.accept_source_route": "0",
		"net.ipv6.conf.all.accept_source_route": "0", "net.ipv6.conf.default.accept_source_route": "0",
		"net.ipv4.conf.all.accept_redirects": "0", "net.ipv4.conf.default.accept_redirects": "0",
		"net.ipv6.conf.all.accept_redirects": "0", "net.ipv6.conf.default.accept_redirects": "0",
		"net.ipv4.conf.all.secure_redirects": "0", "net.ipv4.conf.default.secure_redirects": "0",
		"net.ipv4.conf.all.log_martians": "1", "net.ipv4.conf.default.log_martians": "1",
		"net.ipv4.conf.all.rp_filter": "1", "net.ipv4.conf.default.rp_filter": "1",
		"net.ipv4.icmp_echo_ignore_broadcasts": "1", "net.ipv4.icmp_ignore_bogus_error_responses": "1",
		"net.ipv4.tcp_syncookies": "1", "net.ipv6.conf.all.accept_ra": "0", "net.ipv6.conf.default.accept_ra": "0",
		"kernel.randomize_va_space": "2", "kernel.yama.ptrace_scope": "1", "kernel.dmesg_restrict": "1",
		"kernel.kptr_restrict": "1", "fs.suid_dumpable": "0", "fs.protected_hardlinks": "1", "fs.protected_symlinks": "1",
	}
	meta := func(owner, group, mode string, size int) map[string]any {
		return map[string]any{"exists": true, "type": "file", "owner": owner, "group": group,
			"uid": 0, "gid": map[string]int{"root": 0, "shadow": 42}[group], "mode": mode, "size": size}
	}
	return &testHost{
		os: inventory.OS{Family: "debian", ID: "debian", VersionID: "12", Name: "Debian GNU/Linux",
			PrettyName: "Debian GNU/Linux 12 (bookworm)", Codename: "bookworm"},
		items: map[string]any{
			"probe:sshd": map[string]any{"present": true, "readable": true,
				"settings": map[string]any{
					"permitrootlogin": "no", "passwordauthentication": "no", "permitemptypasswords": "no",
					"x11forwarding": "no", "maxauthtries": "4", "maxsessions": "10", "clientaliveinterval": "300",
					"clientalivecountmax": "3", "logingracetime": "60", "hostbasedauthentication": "no",
					"ignorerhosts": "yes", "permituserenvironment": "no", "loglevel": "VERBOSE", "usepam": "yes",
					"allowusers": "alice bob"},
				"values":           map[string]any{"allowusers": []any{"alice", "bob"}},
				"sources":          map[string]any{"permitrootlogin": "/etc/ssh/sshd_config.d/50-hardening.conf"},
				"defaults_applied": []any{"ciphers", "macs", "kexalgorithms"},
				"has_match_blocks": false, "files": []any{"/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/50-hardening.conf"}},
			"probe:sysctl": sysctl,
			"probe:mounts": []any{
				map[string]any{"device": "/dev/sda1", "mountpoint": "/", "fstype": "ext4", "options": []any{"rw", "relatime", "errors=remount-ro"}},
				map[string]any{"device": "proc", "mountpoint": "/proc", "fstype": "proc", "options": []any{"rw", "nosuid", "nodev", "noexec", "relatime"}},
				map[string]any{"device": "tmpfs", "mountpoint": "/tmp", "fstype": "tmpfs", "options": []any{"rw", "nosuid", "nodev", "noexec", "size=1048576k"}},
			},
			"probe:accounts": map[string]any{
				"users": []any{
					map[string]any{"name": "root", "uid": 0, "gid": 0, "home": "/root", "shell": "/bin/bash", "login_shell": true},
					map[string]any{"name": "daemon", "uid": 1, "gid": 1, "home": "/usr/sbin", "shell": "/usr/sbin/nologin", "login_shell": false},
					map[string]any{"name": "alice", "uid": 1000, "gid": 1000, "home": "/home/alice", "shell": "/bin/bash", "login_shell": true},
				},
				"sudo_members": []any{"alice"}, "admin_groups": map[string]any{"sudo": []any{"alice"}}},
			"probe:login_defs": map[string]any{"PASS_MAX_DAYS": "365", "PASS_MIN_DAYS": "1", "PASS_WARN_AGE": "7",
				"UMASK": "027", "ENCRYPT_METHOD": "YESCRYPT"},
			"probe:world_writable": map[string]any{"paths": []any{}, "truncated": false, "complete": true},
			"probe:reboot_required": map[string]any{"running": "6.1.0-27-amd64", "newest_installed": "6.1.0-27-amd64",
				"installed": []any{"6.1.0-26-amd64", "6.1.0-27-amd64"}, "flag_file": false, "flag_packages": []any{}, "required": false},
			"probe:time_sync": map[string]any{"services": map[string]any{"chronyd": "active", "chrony": "active", "systemd-timesyncd": "inactive"},
				"active": []any{"chrony", "chronyd"}, "any_active": true, "synchronized": "yes"},
			"probe:firewall": map[string]any{"services": map[string]any{"nftables": "active", "ufw": "inactive"},
				"active": []any{"nftables"}, "any_active": true, "ufw_enabled": "unknown"},
			"probe:auditd": map[string]any{"active": "active", "enabled": "enabled"},
			"probe:auto_updates": map[string]any{"mechanism": "unattended-upgrades", "enabled": true,
				"detail": map[string]any{"package": "install ok installed", "unattended_upgrade": "1", "update_package_lists": "1"}},
			"probe:kernel_modules": map[string]any{"loaded": []any{"ext4", "nf_tables", "usb_storage"},
				"disabled":         []any{"cramfs", "freevxfs", "hfs", "hfsplus", "jffs2", "udf"},
				"blacklisted":      []any{},
				"install_disabled": []any{"cramfs", "freevxfs", "hfs", "hfsplus", "jffs2", "udf"}},
			"probe:services": map[string]any{"manager": "systemd", "units": map[string]any{
				"ssh.service": map[string]any{"enabled": "enabled", "active": "active", "sub": "running"}}},
			"file_meta:/etc/passwd":          meta("root", "root", "0644", 1523),
			"file_meta:/etc/shadow":          meta("root", "shadow", "0640", 980),
			"file_meta:/etc/group":           meta("root", "root", "0644", 760),
			"file_meta:/etc/gshadow":         meta("root", "shadow", "0640", 640),
			"file_meta:/etc/ssh/sshd_config": meta("root", "root", "0600", 3250),
		},
		failed:   map[string]inventory.ItemResult{},
		labels:   map[string]string{"env": "prod"},
		findings: &FindingStats{OpenBySeverity: map[string]int{"critical": 0, "high": 2, "medium": 5, "low": 1, "unknown": 0}},
	}
}

// item returns an item's value as a map, for changing it in place.
func (h *testHost) item(key string) map[string]any { return h.items[key].(map[string]any) }

// fail replaces an item's value by a failed result.
func (h *testHost) fail(key, msg string, privilege bool) {
	req, err := ParseNeed(key)
	if err != nil {
		panic(err)
	}
	delete(h.items, key)
	h.failed[key] = inventory.ItemResult{Kind: req.Kind, Name: req.Name, Error: msg, NeedsPrivilege: privilege}
}

func (h *testHost) report(t testing.TB) *inventory.HostReport {
	r := &inventory.HostReport{SchemaVersion: inventory.SchemaVersion, ReportID: "r1", HostID: 1,
		StartedAt: testNow.Add(-time.Minute), FinishedAt: testNow, Status: inventory.StatusOK,
		System: inventory.System{Hostname: "web1", OS: h.os,
			Kernel: inventory.Kernel{Name: "Linux", Release: "6.1.0-27-amd64", Machine: "x86_64"},
			Uptime: inventory.Uptime{Seconds: 86400.5}, CPU: inventory.CPU{Model: "EPYC", Sockets: 1, Cores: 4, Threads: 8},
			Memory: inventory.Memory{TotalBytes: 8 << 30}},
		Packages: []inventory.Package{
			{Name: "openssh-server", Epoch: "1", Version: "9.2p1-2+deb12u3", Ecosystem: inventory.EcosystemDeb},
			{Name: "openssl", Version: "3.0.15-1~deb12u1", Ecosystem: inventory.EcosystemDeb},
		},
	}
	for key, v := range h.items {
		req, err := ParseNeed(key)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		r.Items = append(r.Items, inventory.ItemResult{Kind: req.Kind, Name: req.Name, Value: raw})
	}
	for _, res := range h.failed {
		r.Items = append(r.Items, res)
	}
	return r
}

func (h *testHost) facts(t testing.TB) map[string]any {
	return Facts(h.report(t), Extra{Labels: h.labels, Findings: h.findings, Now: testNow})
}

func builtinBaseline(t testing.TB) *CompiledPack {
	t.Helper()
	cp, ok := BuiltinPack("linux-baseline")
	if !ok {
		_, err := Builtin()
		t.Fatalf("no linux-baseline pack: %v", err)
	}
	return cp
}

// evalByID evaluates one built-in check on facts.
func evalByID(t testing.TB, cp *CompiledPack, id string, facts map[string]any) Result {
	t.Helper()
	for i := range cp.Pack.Checks {
		if cp.Pack.Checks[i].ID == id {
			return Evaluate(&cp.Pack.Checks[i], cp.Programs[i], facts)
		}
	}
	t.Fatalf("no check %q", id)
	return Result{}
}
