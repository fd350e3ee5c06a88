package collect

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseWorldWritable(t *testing.T) {
	w, err := ParseWorldWritable(itemOutput(t, "world_writable"))
	if err != nil || len(w.Paths) != 0 || w.Truncated || !w.Complete {
		t.Errorf("root: %+v %v", w, err)
	}
	w, err = ParseWorldWritable(itemOutput(t, "world_writable.nobody"))
	if err != nil || len(w.Paths) != 0 || w.Truncated || w.Complete {
		t.Errorf("nobody: %+v %v", w, err)
	}
	// Constructed: two finds, then a list cut at 1001 lines by head.
	w, err = ParseWorldWritable([]byte("/etc/foo.conf\n/usr/lib/x/y\nfind-exit 0\n"))
	if err != nil || !reflect.DeepEqual(w.Paths, []string{"/etc/foo.conf", "/usr/lib/x/y"}) || !w.Complete {
		t.Errorf("constructed: %+v %v", w, err)
	}
	var b strings.Builder
	for i := 0; i <= maxWorldWritable; i++ {
		fmt.Fprintf(&b, "/etc/f%d\n", i)
	}
	w, err = ParseWorldWritable([]byte(b.String()))
	if err != nil || len(w.Paths) != maxWorldWritable || !w.Truncated || w.Complete {
		t.Errorf("cut: %d paths, %v %v %v", len(w.Paths), w.Truncated, w.Complete, err)
	}
	for _, bad := range []string{"", "/etc/x\n", "find: oops\nfind-exit 1\n"} {
		if _, err := ParseWorldWritable([]byte(bad)); err == nil {
			t.Errorf("ParseWorldWritable(%q) no error", bad)
		}
	}
}

func TestParseRebootRequired(t *testing.T) {
	r, err := ParseRebootRequired(itemOutput(t, "reboot_required"))
	want := RebootRequired{Running: "6.18.44-fc-v657", Installed: []string{}, FlagPackages: []string{}}
	if err != nil || !reflect.DeepEqual(r, want) {
		t.Errorf("debian12 build machine: %+v %v", r, err)
	}
	tests := []struct {
		name, out, newest string
		required          bool
	}{
		// Constructed: Debian 12 after a kernel update (13 < 17 as numbers),
		// with a cloud kernel of another flavour installed.
		{"debian", "running 6.1.0-13-amd64\nboot 6.1.0-13-amd64\nboot 6.1.0-17-amd64\nboot 6.1.0-9-amd64\nboot 6.1.0-18-cloud-amd64\n" +
			"modules 6.1.0-13-amd64\nmodules 6.1.0-17-amd64\n", "6.1.0-17-amd64", true},
		{"debian current", "running 6.1.0-17-amd64\nboot 6.1.0-13-amd64\nboot 6.1.0-17-amd64\n", "6.1.0-17-amd64", false},
		// Constructed: RHEL 9 with its rescue image.
		{"rhel", "running 5.14.0-362.8.1.el9_3.x86_64\nboot 0-rescue-4f2a1b\nboot 5.14.0-362.8.1.el9_3.x86_64\nboot 5.14.0-70.13.1.el9_0.x86_64\n",
			"5.14.0-362.8.1.el9_3.x86_64", false},
		{"rhel debug", "running 5.14.0-70.13.1.el9_0.x86_64+debug\nboot 5.14.0-70.13.1.el9_0.x86_64+debug\nboot 5.14.0-362.8.1.el9_3.x86_64\n",
			"5.14.0-70.13.1.el9_0.x86_64+debug", false},
		// Constructed: Alpine names /boot images by flavour, not version.
		{"alpine", "running 6.6.14-0-lts\nboot lts\nmodules 6.6.14-0-lts\nmodules 6.6.22-0-lts\n", "6.6.22-0-lts", true},
		// Constructed: Ubuntu's flag file after a libc update.
		{"flag", "running 5.15.0-91-generic\nboot 5.15.0-91-generic\nflag yes\npkg libc6\npkg linux-base\n", "5.15.0-91-generic", true},
	}
	for _, tt := range tests {
		r, err := ParseRebootRequired([]byte(tt.out))
		if err != nil || r.NewestInstalled != tt.newest || r.Required != tt.required {
			t.Errorf("%s: %+v %v", tt.name, r, err)
		}
	}
	if r, _ := ParseRebootRequired([]byte(tests[5].out)); !r.FlagFile || !reflect.DeepEqual(r.FlagPackages, []string{"libc6", "linux-base"}) {
		t.Errorf("flag: %+v", r)
	}
	if _, err := ParseRebootRequired([]byte("boot 6.1.0-17-amd64\n")); err == nil {
		t.Error("no error without a running kernel")
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tt := range []struct{ a, b string }{
		{"6.1.0-9-amd64", "6.1.0-13-amd64"}, {"5.14.0-70.13.1.el9_0", "5.14.0-362.8.1.el9_3"}, {"4.18.0", "4.18.0-1"},
		{"5.4.0-100", "5.15.0-1"}, {"1.02", "1.10"},
	} {
		if compareVersions(tt.a, tt.b) >= 0 || compareVersions(tt.b, tt.a) <= 0 {
			t.Errorf("want %s < %s", tt.a, tt.b)
		}
	}
	if compareVersions("6.1.0-17-amd64", "6.1.0-17-amd64") != 0 {
		t.Error("equal versions")
	}
}

func TestParseUnitProbes(t *testing.T) {
	ts, err := ParseTimeSync(itemOutput(t, "time_sync"))
	if err != nil || ts.Synchronized != "unknown" || ts.AnyActive || len(ts.Services) != len(timeSyncUnits) || ts.Services["chrony"] != "unknown" {
		t.Errorf("time_sync debian12: %+v %v", ts, err)
	}
	fw, err := ParseFirewall(itemOutput(t, "firewall"))
	if err != nil || fw.AnyActive || fw.UFWEnabled != "unknown" || fw.Services["ufw"] != "unknown" {
		t.Errorf("firewall debian12: %+v %v", fw, err)
	}
	ad, err := ParseAuditd(itemOutput(t, "auditd"))
	if err != nil || ad != (Auditd{"unknown", "not-found"}) {
		t.Errorf("auditd debian12: %+v %v", ad, err)
	}
	// Constructed: Debian with chrony and ufw switched off; RHEL with
	// firewalld and auditd.
	ts, err = ParseTimeSync([]byte("chronyd active enabled\nchrony active enabled\nsystemd-timesyncd inactive masked\nntp inactive not-found\n" +
		"ntpd inactive not-found\nntpsec inactive not-found\nopenntpd inactive not-found\nsynchronized yes\n"))
	if err != nil || ts.Synchronized != "yes" || !reflect.DeepEqual(ts.Active, []string{"chronyd", "chrony"}) {
		t.Errorf("time_sync: %+v %v", ts, err)
	}
	fw, err = ParseFirewall([]byte("firewalld inactive not-found\nufw active enabled\nnftables inactive disabled\niptables inactive not-found\n" +
		"ip6tables inactive not-found\nnetfilter-persistent inactive not-found\nENABLED=no\n"))
	if err != nil || fw.AnyActive || fw.UFWEnabled != "no" || fw.Services["ufw"] != "active" {
		t.Errorf("ufw off: %+v %v", fw, err)
	}
	fw, _ = ParseFirewall([]byte("firewalld active enabled\nufw inactive not-found\n"))
	if !reflect.DeepEqual(fw.Active, []string{"firewalld"}) || !fw.AnyActive {
		t.Errorf("firewalld: %+v", fw)
	}
	if ad, _ := ParseAuditd([]byte("auditd active enabled\n")); ad != (Auditd{"active", "enabled"}) {
		t.Errorf("auditd: %+v", ad)
	}
	for _, p := range []func([]byte) (any, error){timeSyncItem.parse, firewallItem.parse, auditdItem.parse} {
		if _, err := p([]byte("synchronized yes\n")); err == nil {
			t.Error("no error without unit states")
		}
	}
}

func TestParseAutoUpdates(t *testing.T) {
	a, err := ParseAutoUpdates(itemOutput(t, "auto_updates"))
	if err != nil || a.Mechanism != "none" || a.Enabled {
		t.Errorf("debian12 build machine: %+v %v", a, err)
	}
	const noTimers = "dnf-automatic.timer unknown not-found\ndnf-automatic-install.timer unknown not-found\n" +
		"dnf5-automatic.timer unknown not-found\nyum-cron unknown not-found\n"
	tests := []struct {
		name, out, mechanism string
		enabled              bool
	}{
		// Constructed: Debian 12 as the installer sets it up, then
		// switched off by a later file, then without the package.
		{"debian", noTimers + "apt /etc/apt/apt.conf.d/20auto-upgrades:APT::Periodic::Update-Package-Lists \"1\";\n" +
			"apt /etc/apt/apt.conf.d/20auto-upgrades:APT::Periodic::Unattended-Upgrade \"1\";\nuu-status install ok installed\n", "unattended-upgrades", true},
		{"debian off", noTimers + "apt /etc/apt/apt.conf.d/20auto-upgrades:APT::Periodic::Unattended-Upgrade \"1\";\n" +
			"apt /etc/apt/apt.conf.d/99local:APT::Periodic::Unattended-Upgrade \"0\";\n" +
			"apt /etc/apt/apt.conf.d/99local:// APT::Periodic::Unattended-Upgrade \"1\";\nuu-status install ok installed\n", "unattended-upgrades", false},
		{"debian removed", noTimers + "apt /etc/apt/apt.conf.d/20auto-upgrades:APT::Periodic::Unattended-Upgrade \"1\";\n" +
			"uu-status deinstall ok config-files\n", "unattended-upgrades", false},
		// Constructed: RHEL 9 with dnf-automatic.
		{"dnf install timer", "dnf-automatic.timer inactive disabled\ndnf-automatic-install.timer active enabled\n" +
			"dnf5-automatic.timer unknown not-found\nyum-cron unknown not-found\nuu-status \ndnf apply_updates = no\n", "dnf-automatic", true},
		{"dnf notify only", "dnf-automatic.timer active enabled\ndnf-automatic-install.timer inactive disabled\n" +
			"dnf5-automatic.timer unknown not-found\nyum-cron unknown not-found\nuu-status \ndnf apply_updates = no\n", "dnf-automatic", false},
		{"dnf apply", "dnf-automatic.timer active enabled\ndnf-automatic-install.timer inactive disabled\n" +
			"dnf5-automatic.timer unknown not-found\nyum-cron unknown not-found\nuu-status \ndnf apply_updates = yes\n", "dnf-automatic", true},
		{"yum-cron", "dnf-automatic.timer unknown not-found\ndnf-automatic-install.timer unknown not-found\n" +
			"dnf5-automatic.timer unknown not-found\nyum-cron active enabled\nuu-status \nyum apply_updates = yes\n", "yum-cron", true},
	}
	for _, tt := range tests {
		a, err := ParseAutoUpdates([]byte(tt.out))
		if err != nil || a.Mechanism != tt.mechanism || a.Enabled != tt.enabled {
			t.Errorf("%s: %+v %v", tt.name, a, err)
		}
	}
	if a, _ := ParseAutoUpdates([]byte(tests[0].out)); !reflect.DeepEqual(a.Detail, map[string]string{
		"package": "install ok installed", "unattended_upgrade": "1", "update_package_lists": "1"}) {
		t.Errorf("detail %v", a.Detail)
	}
}

func TestParseKernelModules(t *testing.T) {
	k, err := ParseKernelModules(itemOutput(t, "kernel_modules"))
	if err != nil || len(k.Loaded) != 0 || len(k.Disabled) != 18 || len(k.InstallDisabled) != 0 || !contains(k.Blacklisted, "matroxfb_base") {
		t.Errorf("debian12: %+v %v", k, err)
	}
	// jc's /proc/modules, with constructed CIS-style modprobe.d files.
	out := "==> /proc/modules <==\n" + string(fixture(t, "jc/linux-proc/modules")) +
		"==> /etc/modprobe.d/cis.conf <==\ninstall cramfs /bin/false\ninstall usb-storage /bin/true\nblacklist cramfs\n" +
		"install squashfs /sbin/modprobe --ignore-install squashfs\n# blacklist udf\n" +
		"==> /lib/modprobe.d/udf.conf <==\nblacklist udf\n"
	k, err = ParseKernelModules([]byte(out))
	if err != nil || len(k.Loaded) != 92 || !contains(k.Loaded, "btrfs") || !contains(k.Loaded, "vmw_vsock_virtio_transport_common") ||
		!reflect.DeepEqual(k.Disabled, []string{"cramfs", "udf", "usb_storage"}) ||
		!reflect.DeepEqual(k.InstallDisabled, []string{"cramfs", "usb_storage"}) ||
		!reflect.DeepEqual(k.Blacklisted, []string{"cramfs", "udf"}) {
		t.Errorf("jc: %d loaded, %+v %v", len(k.Loaded), k.Disabled, err)
	}
	if _, err := ParseKernelModules([]byte("cat: /proc/modules: No such file\n")); err == nil {
		t.Error("no error without sections")
	}
}

func TestParseFileMeta(t *testing.T) {
	tests := []struct {
		file string
		want FileMeta
	}{
		{"stat-etc-passwd", FileMeta{true, "file", "root", "root", 0, 0, "0644", 1696}},
		{"stat-etc-shadow", FileMeta{true, "file", "root", "shadow", 0, 42, "0640", 795}},
		{"stat-etc-ssh", FileMeta{true, "dir", "root", "root", 0, 0, "0755", 4096}},
		{"stat-bin", FileMeta{true, "symlink", "root", "root", 0, 0, "0777", 7}},
		{"stat-tmp", FileMeta{true, "dir", "root", "root", 0, 0, "1777", 4096}},
		{"stat-usr-bin-passwd", FileMeta{true, "file", "root", "root", 0, 0, "4755", 68248}},
		{"stat-nonexistent", FileMeta{}},
		{"stat-not-a-directory", FileMeta{}},
	}
	for _, tt := range tests {
		m, err := ParseFileMeta(itemOutput(t, tt.file))
		if err != nil || m != tt.want {
			t.Errorf("%s: %+v %v", tt.file, m, err)
		}
	}
	if _, err := ParseFileMeta(itemOutput(t, "stat-root-bashrc.nobody")); err == nil {
		t.Error("permission denied: no error")
	} else if _, ok := err.(*privilegeError); !ok {
		t.Errorf("permission denied: %v is not a privilege error", err)
	}
	// Constructed: busybox's wording for the same fields, a socket.
	if m, err := ParseFileMeta([]byte("socket|root|root|0|0|777|0\n")); err != nil || m.Type != "other" {
		t.Errorf("socket: %+v %v", m, err)
	}
	for _, bad := range []string{"", "sh: stat: not found\n", "regular file|root|root|x|0|644|1\n", "regular file|root|root|0|0|999|1\n", "a|b\n"} {
		if _, err := ParseFileMeta([]byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "parse file_meta: ") {
			t.Errorf("ParseFileMeta(%q) err = %v", bad, err)
		}
	}
}
