package compliance

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/vuln"
)

func inventoryOS(family, id, version string) inventory.OS {
	return inventory.OS{Family: family, ID: id, VersionID: version}
}

func TestEvaluateSpecialCases(t *testing.T) {
	cp := builtinBaseline(t)
	tests := []struct {
		name, check string
		change      func(h *testHost)
		status      string
		reason      string // substring
		actual      string // substring
	}{
		{"actual shows the value read", "ssh-permit-root-login", sshSet("permitrootlogin", "yes"), StatusFail,
			"expected PermitRootLogin no", `items["probe:sshd"].settings.permitrootlogin = "yes"`},
		{"no ssh server", "ssh-permit-root-login", setItem("probe:sshd", "present", false), StatusNotApplicable,
			`not applicable: items["probe:sshd"].present = false`, ""},
		{"sysctl key absent", "sysctl-tcp-syncookies", sysctlDelete("net.ipv4.tcp_syncookies"), StatusError,
			`items["probe:sysctl"]["net.ipv4.tcp_syncookies"] is absent`, `items["probe:sysctl"]["net.ipv4.tcp_syncookies"] = (absent)`},
		{"sshd value not a number", "ssh-max-auth-tries", sshSet("maxauthtries", "many"), StatusError,
			`int_of: "many" is not an integer`, ""},
		{"no separate /tmp", "mount-tmp-noexec", noTmpMount, StatusFail,
			"expected /tmp is a separate mount", `mounts["/tmp"] = (absent)`},
		{"tmp options shown", "mount-tmp-nodev", tmpOptions("rw"), StatusFail, "", `mounts["/tmp"].options = ["rw"]`},
		{"unknown EOL", "os-supported-release", func(h *testHost) { h.os.VersionID = "99" }, StatusError,
			"os.eol: no end-of-life date known for debian 99", ""},
		{"findings unknown", "vuln-no-kev-past-due", func(h *testHost) { h.findings = nil }, StatusError,
			"vulnerability findings are not known for this host", ""},
		{"world-writable scan incomplete", "files-no-world-writable", setItem("probe:world_writable", "complete", false), StatusError,
			"the scan user could not search every system directory", ""},
		{"world-writable incomplete but found", "files-no-world-writable",
			setItem("probe:world_writable", "complete", false, "paths", []any{"/etc/x"}), StatusFail, "", `["/etc/x"]`},
		{"login.defs missing on Alpine", "password-max-days",
			func(h *testHost) {
				h.fail("probe:login_defs", "cat: can't open '/etc/login.defs': No such file or directory", false)
			},
			StatusError, "item probe:login_defs: cat: can't open", ""},
		{"OS unknown", "ssh-permit-root-login", func(h *testHost) { h.os = inventory.OS{} }, StatusError,
			"operating system is not known", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := goodHost()
			tt.change(h)
			r := evalByID(t, cp, tt.check, h.facts(t))
			if r.Status != tt.status || !strings.Contains(r.Reason, tt.reason) || !strings.Contains(r.Actual, tt.actual) {
				t.Errorf("got %s %q actual %q; want %s %q actual ~%q", r.Status, r.Reason, r.Actual, tt.status, tt.reason, tt.actual)
			}
		})
	}
}

func TestEvaluateEvidence(t *testing.T) {
	cp := builtinBaseline(t)
	r := evalByID(t, cp, "file-shadow", goodHost().facts(t))
	if r.Status != StatusPass {
		t.Fatal(r)
	}
	for _, k := range []string{`items["file_meta:/etc/shadow"].owner`, `items["file_meta:/etc/shadow"].mode`} {
		if _, ok := r.Evidence[k]; !ok {
			t.Errorf("evidence lacks %s: %v", k, r.Evidence)
		}
	}
	if r.Evidence[`items["file_meta:/etc/shadow"].mode`] != "0640" {
		t.Errorf("evidence %v", r.Evidence)
	}
}

func TestApplies(t *testing.T) {
	facts := func(family, id string, like ...any) map[string]any {
		return map[string]any{"os": map[string]any{"family": family, "id": id, "id_like": like}}
	}
	tests := []struct {
		platforms []string
		facts     map[string]any
		applies   bool
	}{
		{nil, facts("", ""), true},
		{[]string{"linux"}, facts("redhat", "almalinux", "rhel", "centos", "fedora"), true},
		{[]string{"redhat"}, facts("redhat", "rocky"), true},
		{[]string{"rhel"}, facts("redhat", "almalinux", "rhel"), true},
		{[]string{"ubuntu"}, facts("debian", "debian"), false},
		{[]string{"alpine", "suse"}, facts("suse", "sles"), true},
		{[]string{"linux"}, facts("windows", "windows"), false},
	}
	for _, tt := range tests {
		c := &Check{Platforms: tt.platforms}
		if got, _ := Applies(c, tt.facts); got != tt.applies {
			t.Errorf("%v on %v: %v", tt.platforms, tt.facts["os"], got)
		}
	}
}

func TestFacts(t *testing.T) {
	h := goodHost()
	h.fail("probe:auditd", "permission denied", true)
	f := h.facts(t)
	if got := f["packages"].(map[string]string)["openssh-server"]; got != "1:9.2p1-2+deb12u3" {
		t.Errorf("packages EVR %q", got)
	}
	if f["package_ecosystem"] != "deb" || f["hostname"] != "web1" || f["uptime_seconds"] != int64(86400) {
		t.Errorf("facts %v %v %v", f["package_ecosystem"], f["hostname"], f["uptime_seconds"])
	}
	if uid := f["items"].(map[string]any)["file_meta:/etc/passwd"].(map[string]any)["uid"]; uid != int64(0) {
		t.Errorf("integral JSON numbers must decode as int64, got %T", uid)
	}
	if e := f["items_error"].(map[string]string)["probe:auditd"]; e != "needs privilege (permission denied)" {
		t.Errorf("items_error %q", e)
	}
	osf := f["os"].(map[string]any)
	if osf["eol"] != false || osf["eol_date"].(time.Time).Format(time.DateOnly) != "2028-06-30" {
		t.Errorf("os eol %v %v", osf["eol"], osf["eol_date"])
	}
	if _, ok := f["mounts"].(map[string]any)["/tmp"]; !ok {
		t.Error("mounts lacks /tmp")
	}
	if f["labels"].(map[string]string)["env"] != "prod" || f["now"] != testNow {
		t.Error("labels or now")
	}
	fd := f["findings"].(map[string]any)
	if fd["open_total"] != int64(8) || fd["open_by_severity"].(map[string]any)["high"] != int64(2) {
		t.Errorf("findings %v", fd)
	}
}

func TestEOLDate(t *testing.T) {
	if eolErr != nil {
		t.Fatal(eolErr)
	}
	tests := []struct{ id, version, want string }{
		{"debian", "12", "2028-06-30"}, {"ubuntu", "22.04", "2027-04-30"}, {"rhel", "9.4", "2032-05-31"},
		{"almalinux", "8.10", "2029-03-01"}, {"alpine", "3.19.1", "2025-11-01"}, {"sles", "15.5", "2031-07-31"},
		{"ubuntu", "23.10", ""}, {"alpine", "3.2.0", ""}, {"fedora", "40", ""}, {"", "", ""},
	}
	for _, tt := range tests {
		d, ok := EOLDate(tt.id, tt.version)
		if got := map[bool]string{true: d.Format(time.DateOnly)}[ok]; got != tt.want {
			t.Errorf("EOLDate(%s, %s) = %q, want %q", tt.id, tt.version, got, tt.want)
		}
	}
	d, _ := EOLDate("debian", "11")
	if pastEOL(d, time.Date(2026, 8, 31, 23, 0, 0, 0, time.UTC)) || !pastEOL(d, time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("the last day of support is still supported")
	}
}

func TestFindingStatsFrom(t *testing.T) {
	now := testNow
	old, recent := now.AddDate(0, 0, -45), now.AddDate(0, 0, -3)
	later := now.AddDate(0, 1, 0)
	fs := []vuln.Finding{
		{Severity: "critical", Status: vuln.FindingOpen, FirstSeen: old},
		{Severity: "critical", Status: vuln.FindingOpen, FirstSeen: recent},
		{Severity: "critical", Status: vuln.FindingResolved, FirstSeen: old},
		{Severity: "critical", Status: vuln.FindingOpen, FirstSeen: old, Mark: vuln.MarkAcceptedRisk, MarkExpiresAt: &later},
		{Severity: "high", Status: vuln.FindingOpen, FirstSeen: recent, KEV: &vuln.KEV{DueDate: now.AddDate(0, 0, -1)}},
		{Severity: "high", Status: vuln.FindingOpen, FirstSeen: recent, KEV: &vuln.KEV{DueDate: now.AddDate(0, 0, 5)}},
		{Severity: "weird", Status: vuln.FindingOpen, FirstSeen: recent},
	}
	s := FindingStatsFrom(fs, now)
	if s.CriticalOpenOver30d != 1 || s.KEVPastDue != 1 || s.OpenBySeverity["critical"] != 2 ||
		s.OpenBySeverity["high"] != 2 || s.OpenBySeverity["unknown"] != 1 {
		t.Errorf("%+v", s)
	}
}

// Programs are shared by every host: evaluating concurrently must be safe
// (run with -race) and give the same results as one at a time.
func TestEvaluateConcurrent(t *testing.T) {
	cp := builtinBaseline(t)
	h := goodHost()
	sshSet("permitrootlogin", "yes")(h)
	facts := h.facts(t)
	want := cp.EvaluateAll(facts)
	done := make(chan []Result)
	for i := 0; i < 4; i++ {
		go func() { done <- cp.EvaluateAll(facts) }()
	}
	for i := 0; i < 4; i++ {
		got := <-done
		for j := range got {
			if got[j].Status != want[j].Status || got[j].Actual != want[j].Actual {
				t.Fatalf("check %s: %v vs %v", cp.Pack.Checks[j].ID, got[j], want[j])
			}
		}
	}
}
