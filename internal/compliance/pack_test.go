package compliance

import (
	"strings"
	"testing"
)

type packCase struct {
	pass func(h *testHost) // another passing variant; nil: the good host as it is
	fail func(h *testHost) // a realistic change that must fail the check
}

func sshSet(k, v string) func(h *testHost) {
	return func(h *testHost) { h.item("probe:sshd")["settings"].(map[string]any)[k] = v }
}

func sysctlSet(kv ...string) func(h *testHost) {
	return func(h *testHost) {
		for i := 0; i+1 < len(kv); i += 2 {
			h.item("probe:sysctl")[kv[i]] = kv[i+1]
		}
	}
}

func sysctlDelete(keys ...string) func(h *testHost) {
	return func(h *testHost) {
		for _, k := range keys {
			delete(h.item("probe:sysctl"), k)
		}
	}
}

func metaSet(path string, kv ...any) func(h *testHost) {
	return func(h *testHost) {
		m := h.item("file_meta:" + path)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
	}
}

func setItem(key string, kv ...any) func(h *testHost) {
	return func(h *testHost) {
		m := h.item(key)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
	}
}

func tmpOptions(opts ...any) func(h *testHost) {
	return func(h *testHost) {
		for _, m := range h.items["probe:mounts"].([]any) {
			if m.(map[string]any)["mountpoint"] == "/tmp" {
				m.(map[string]any)["options"] = opts
			}
		}
	}
}

func noTmpMount(h *testHost) { h.items["probe:mounts"] = h.items["probe:mounts"].([]any)[:2] }

func moduleLoadable(name string) func(h *testHost) {
	return func(h *testHost) {
		km := h.item("probe:kernel_modules")
		km["install_disabled"] = []any{}
		km["disabled"] = []any{}
		km["loaded"] = append(km["loaded"].([]any), name)
	}
}

var allDisabled = []any{"cramfs", "freevxfs", "hfs", "hfsplus", "jffs2", "udf"}

// blacklistOnly: blacklisted but without an install line, which CIS DIL
// v2.0.0 does not accept.
func blacklistOnly(h *testHost) {
	km := h.item("probe:kernel_modules")
	km["blacklisted"], km["install_disabled"] = allDisabled, []any{}
}

var builtinCases = map[string]packCase{
	"ssh-permit-root-login":              {fail: sshSet("permitrootlogin", "prohibit-password")},
	"ssh-password-authentication":        {fail: sshSet("passwordauthentication", "yes")},
	"ssh-permit-empty-passwords":         {fail: sshSet("permitemptypasswords", "yes")},
	"ssh-x11-forwarding":                 {fail: sshSet("x11forwarding", "yes")},
	"ssh-max-auth-tries":                 {pass: sshSet("maxauthtries", "3"), fail: sshSet("maxauthtries", "6")},
	"ssh-client-alive-interval":          {pass: sshSet("clientaliveinterval", "5m"), fail: sshSet("clientaliveinterval", "0")},
	"ssh-client-alive-count-max":         {pass: sshSet("clientalivecountmax", "0"), fail: sshSet("clientalivecountmax", "10")},
	"ssh-login-grace-time":               {pass: sshSet("logingracetime", "1m"), fail: sshSet("logingracetime", "2m")},
	"ssh-ignore-rhosts":                  {fail: sshSet("ignorerhosts", "no")},
	"ssh-hostbased-authentication":       {fail: sshSet("hostbasedauthentication", "yes")},
	"ssh-log-level":                      {pass: sshSet("loglevel", "INFO"), fail: sshSet("loglevel", "QUIET")},
	"ssh-permit-user-environment":        {fail: sshSet("permituserenvironment", "yes")},
	"ssh-config-permissions":             {pass: metaSet("/etc/ssh/sshd_config", "mode", "0400"), fail: metaSet("/etc/ssh/sshd_config", "mode", "0644")},
	"sysctl-ip-forward":                  {pass: sysctlDelete("net.ipv6.conf.all.forwarding"), fail: sysctlSet("net.ipv4.ip_forward", "1")},
	"sysctl-send-redirects":              {fail: sysctlSet("net.ipv4.conf.default.send_redirects", "1")},
	"sysctl-accept-source-route":         {fail: sysctlSet("net.ipv6.conf.all.accept_source_route", "1")},
	"sysctl-accept-redirects":            {pass: sysctlDelete("net.ipv6.conf.all.accept_redirects", "net.ipv6.conf.default.accept_redirects"), fail: sysctlSet("net.ipv4.conf.all.accept_redirects", "1")},
	"sysctl-secure-redirects":            {fail: sysctlSet("net.ipv4.conf.all.secure_redirects", "1")},
	"sysctl-log-martians":                {fail: sysctlSet("net.ipv4.conf.all.log_martians", "0")},
	"sysctl-icmp-echo-ignore-broadcasts": {fail: sysctlSet("net.ipv4.icmp_echo_ignore_broadcasts", "0")},
	"sysctl-icmp-ignore-bogus-errors":    {fail: sysctlSet("net.ipv4.icmp_ignore_bogus_error_responses", "0")},
	"sysctl-rp-filter":                   {fail: sysctlSet("net.ipv4.conf.all.rp_filter", "2")},
	"sysctl-tcp-syncookies":              {fail: sysctlSet("net.ipv4.tcp_syncookies", "0")},
	"sysctl-ipv6-accept-ra":              {pass: sysctlDelete("net.ipv6.conf.all.accept_ra", "net.ipv6.conf.default.accept_ra"), fail: sysctlSet("net.ipv6.conf.default.accept_ra", "1")},
	"sysctl-randomize-va-space":          {fail: sysctlSet("kernel.randomize_va_space", "1")},
	"sysctl-suid-dumpable":               {fail: sysctlSet("fs.suid_dumpable", "2")},
	"file-passwd":                        {fail: metaSet("/etc/passwd", "mode", "0664")},
	"file-shadow":                        {pass: metaSet("/etc/shadow", "group", "root", "mode", "0000"), fail: metaSet("/etc/shadow", "mode", "0644")},
	"file-group":                         {fail: metaSet("/etc/group", "owner", "bin")},
	"file-gshadow": {
		pass: func(h *testHost) { h.items["file_meta:/etc/gshadow"] = map[string]any{"exists": false} },
		fail: metaSet("/etc/gshadow", "group", "users"),
	},
	"password-max-days":        {pass: setItem("probe:login_defs", "PASS_MAX_DAYS", "90"), fail: setItem("probe:login_defs", "PASS_MAX_DAYS", "99999")},
	"password-min-days":        {pass: setItem("probe:login_defs", "PASS_MIN_DAYS", "7"), fail: setItem("probe:login_defs", "PASS_MIN_DAYS", "0")},
	"password-warn-age":        {pass: setItem("probe:login_defs", "PASS_WARN_AGE", "14"), fail: func(h *testHost) { delete(h.item("probe:login_defs"), "PASS_WARN_AGE") }},
	"accounts-root-only-uid0":  {fail: func(h *testHost) { addUser(h, "toor", 0) }},
	"files-no-world-writable":  {fail: setItem("probe:world_writable", "paths", []any{"/etc/cron.d/backup"})},
	"mount-tmp-separate":       {fail: noTmpMount},
	"mount-tmp-nodev":          {fail: tmpOptions("rw", "nosuid", "noexec")},
	"mount-tmp-nosuid":         {fail: noTmpMount},
	"mount-tmp-noexec":         {fail: tmpOptions("rw", "nosuid", "nodev", "relatime")},
	"module-cramfs-disabled":   {fail: moduleLoadable("cramfs")},
	"module-freevxfs-disabled": {fail: blacklistOnly},
	"module-jffs2-disabled":    {fail: moduleLoadable("jffs2")},
	"module-hfs-disabled":      {fail: blacklistOnly},
	"module-hfsplus-disabled":  {fail: moduleLoadable("hfsplus")},
	"module-udf-disabled":      {fail: moduleLoadable("udf")},
	"service-time-sync": {fail: setItem("probe:time_sync", "services", map[string]any{"systemd-timesyncd": "inactive"},
		"active", []any{}, "any_active", false, "synchronized", "no")},
	"service-auditd":   {fail: setItem("probe:auditd", "active", "inactive", "enabled", "not-found")},
	"service-firewall": {fail: setItem("probe:firewall", "services", map[string]any{"ufw": "active"}, "active", []any{}, "any_active", false, "ufw_enabled", "no")},
	"updates-automatic": {
		pass: setItem("probe:auto_updates", "mechanism", "dnf-automatic", "detail", map[string]any{"dnf-automatic-install.timer": "enabled"}),
		fail: setItem("probe:auto_updates", "mechanism", "none", "enabled", false, "detail", map[string]any{}),
	},
	"kernel-no-pending-reboot": {fail: setItem("probe:reboot_required", "newest_installed", "6.1.0-28-amd64", "required", true)},
	"os-supported-release": {
		pass: func(h *testHost) { h.os.ID, h.os.VersionID, h.os.Family = "ubuntu", "24.04", "debian" },
		fail: func(h *testHost) { h.os.VersionID, h.os.Codename = "10", "buster" },
	},
	"vuln-no-kev-past-due": {fail: func(h *testHost) { h.findings.KEVPastDue = 1 }},
	"vuln-no-old-critical": {fail: func(h *testHost) { h.findings.CriticalOpenOver30d = 2 }},
}

func addUser(h *testHost, name string, uid int) {
	a := h.item("probe:accounts")
	a["users"] = append(a["users"].([]any), map[string]any{"name": name, "uid": uid, "gid": 0, "home": "/root",
		"shell": "/bin/sh", "login_shell": true})
}

func TestBuiltinPackSize(t *testing.T) {
	cp := builtinBaseline(t)
	if n := len(cp.Pack.Checks); n < 30 {
		t.Fatalf("linux-baseline has %d checks, want at least 30", n)
	}
	for _, c := range cp.Pack.Checks {
		if c.Reference == "" || c.Expected == "" || c.Remediation == "" {
			t.Errorf("%s: reference, expected and remediation are required in built-in checks", c.ID)
		}
		if _, ok := builtinCases[c.ID]; !ok {
			t.Errorf("%s: no pass/fail case in builtinCases", c.ID)
		}
	}
	if len(builtinCases) != len(cp.Pack.Checks) {
		t.Errorf("%d cases for %d checks: a case names a check that does not exist", len(builtinCases), len(cp.Pack.Checks))
	}
}

func TestBuiltinChecks(t *testing.T) {
	cp := builtinBaseline(t)
	good := goodHost().facts(t)
	for i := range cp.Pack.Checks {
		c := &cp.Pack.Checks[i]
		tc, ok := builtinCases[c.ID]
		if !ok {
			continue
		}
		t.Run(c.ID, func(t *testing.T) {
			if r := Evaluate(c, cp.Programs[i], good); r.Status != StatusPass {
				t.Fatalf("good host: %s: %s (actual %s)", r.Status, r.Reason, r.Actual)
			}
			if tc.pass != nil {
				h := goodHost()
				tc.pass(h)
				if r := Evaluate(c, cp.Programs[i], h.facts(t)); r.Status != StatusPass {
					t.Errorf("pass variant: %s: %s (actual %s)", r.Status, r.Reason, r.Actual)
				}
			}
			h := goodHost()
			tc.fail(h)
			r := Evaluate(c, cp.Programs[i], h.facts(t))
			if r.Status != StatusFail {
				t.Fatalf("fail case: %s: %s (actual %s)", r.Status, r.Reason, r.Actual)
			}
			if r.Expected != c.Expected || !strings.Contains(r.Reason, c.Expected) {
				t.Errorf("fail case: expected %q, reason %q", r.Expected, r.Reason)
			}
			if c.ID != "os-supported-release" && !strings.HasPrefix(c.ID, "vuln-") && r.Actual == "" {
				t.Errorf("fail case: no actual values")
			}
		})
	}
}

// Every check but those without items errors, naming the item, when the
// agent could not collect it, and is not applicable on Windows.
func TestBuiltinChecksMissingItems(t *testing.T) {
	cp := builtinBaseline(t)
	h := goodHost()
	for key := range h.items {
		h.fail(key, "sudo: a password is required", true)
	}
	privileged := h.facts(t)
	missing := goodHost()
	missing.items = map[string]any{}
	absent := missing.facts(t)
	win := goodHost()
	win.os = inventoryOS("windows", "windows", "10.0")
	windows := win.facts(t)
	for i := range cp.Pack.Checks {
		c := &cp.Pack.Checks[i]
		if r := Evaluate(c, cp.Programs[i], windows); r.Status != StatusNotApplicable {
			t.Errorf("%s on windows: %s, want not_applicable", c.ID, r.Status)
		}
		if len(c.Needs) == 0 {
			continue
		}
		key := c.Needs[0].Key()
		r := Evaluate(c, cp.Programs[i], privileged)
		if r.Status != StatusError || !strings.Contains(r.Reason, "item "+key+": needs privilege (sudo: a password is required)") {
			t.Errorf("%s, item needs privilege: %s: %q", c.ID, r.Status, r.Reason)
		}
		r = Evaluate(c, cp.Programs[i], absent)
		if r.Status != StatusError || !strings.Contains(r.Reason, "item "+key+": not collected") {
			t.Errorf("%s, item missing: %s: %q", c.ID, r.Status, r.Reason)
		}
	}
}
