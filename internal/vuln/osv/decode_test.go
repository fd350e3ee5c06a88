package osv

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/vuln"
)

func TestDecodeAlmaLinux(t *testing.T) {
	a := loadAdvisory(t, "almalinux/ALSA-2024-2447.json")
	if a.ID != "ALSA-2024:2447" || a.Severity != "low" || !strings.HasPrefix(a.Summary, "Low: openssl") {
		t.Errorf("ID %q severity %q summary %q", a.ID, a.Severity, a.Summary)
	}
	if a.Published.IsZero() || a.Modified.Before(a.Published) || a.Withdrawn != nil {
		t.Errorf("published %v modified %v withdrawn %v", a.Published, a.Modified, a.Withdrawn)
	}
	if len(a.Affected) != 4 || len(a.CVEs()) == 0 || len(a.References) == 0 {
		t.Errorf("%d affected, CVEs %v, %d references", len(a.Affected), a.CVEs(), len(a.References))
	}
	want := vuln.Affected{Ecosystem: "AlmaLinux:9", Package: "openssl", Ranges: []vuln.Range{{Events: []vuln.Event{{Introduced: "0"}, {Fixed: "1:3.0.7-27.el9"}}}}}
	if !reflect.DeepEqual(affectedFor(t, a, "AlmaLinux:9", "openssl"), want) {
		t.Errorf("openssl entry = %+v", affectedFor(t, a, "AlmaLinux:9", "openssl"))
	}
	// Severities come from the RHEL-style summary of each fixture.
	for file, sev := range map[string]string{
		"almalinux/ALSA-2024-8793.json": "moderate", "almalinux/ALSA-2024-4312.json": "important",
		"almalinux/ALSA-2023-0282.json": "important", "almalinux/ALSA-2025-10873.json": "important",
	} {
		if got := loadAdvisory(t, file).Severity; got != sev {
			t.Errorf("%s severity = %q, want %q", file, got, sev)
		}
	}
}

func TestDecodeUbuntuAndDebian(t *testing.T) {
	u := loadAdvisory(t, "ubuntu/UBUNTU-CVE-2025-38094.json")
	if u.Severity != "medium" || !reflect.DeepEqual(u.CVEs(), []string{"CVE-2025-38094"}) {
		t.Errorf("severity %q CVEs %v: the priority and the upstream CVE should be read", u.Severity, u.CVEs())
	}
	if len(u.Affected) != 1 || u.Affected[0].Ecosystem != "Ubuntu:Pro:14.04:LTS" || len(u.Affected[0].Versions) != 180 {
		t.Errorf("affected = %d entries", len(u.Affected))
	}
	usn := loadAdvisory(t, "ubuntu/USN-9999-1.json")
	if !reflect.DeepEqual(usn.Related, []string{"CVE-2099-0002", "UBUNTU-CVE-2099-0002"}) || len(usn.Affected) != 3 {
		t.Errorf("USN related %v, %d affected", usn.Related, len(usn.Affected))
	}
	d := loadAdvisory(t, "debian/DSA-3029-1.json")
	if !reflect.DeepEqual(d.CVEs(), []string{"CVE-2014-3616"}) || !d.Modified.IsZero() || d.Published != time.Date(2014, 9, 20, 0, 0, 0, 0, time.UTC) {
		t.Errorf("DSA-3029-1: CVEs %v modified %v published %v", d.CVEs(), d.Modified, d.Published)
	}
}

func TestDecodeSeverity(t *testing.T) {
	pkg := `"package": {"ecosystem": "Debian:12", "name": "x"}, "versions": ["1.0"]`
	tests := []struct {
		name, body, want string
	}{
		{"ecosystem_specific severity", `"affected": [{` + pkg + `, "ecosystem_specific": {"severity": "HIGH"}}]`, "high"},
		{"database_specific severity", `"affected": [{` + pkg + `, "database_specific": {"severity": "Moderate"}}]`, "moderate"},
		{"debian urgency", `"affected": [{` + pkg + `, "ecosystem_specific": {"urgency": "low**"}}]`, "low"},
		{"unassigned urgency", `"affected": [{` + pkg + `, "ecosystem_specific": {"urgency": "not yet assigned"}}]`, ""},
		{"ubuntu tracker priority", `"affected": [{` + pkg + `, "database_specific": {"priority": "negligible"}}]`, "negligible"},
		{"record database_specific", `"database_specific": {"severity": "CRITICAL"}`, "critical"},
		{"ubuntu severity entry", `"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, {"type": "Ubuntu", "score": "high"}]`, "high"},
		{"cvss only", `"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]`, ""},
		{"non-string severity ignored", `"affected": [{` + pkg + `, "ecosystem_specific": {"severity": 7, "urgency": "medium"}}]`, "medium"},
		{"ecosystem_specific not an object", `"affected": [{` + pkg + `, "ecosystem_specific": ["high"]}]`, ""},
		{"summary prefix needs an errata id", `"summary": "Important: not an errata"`, ""},
	}
	for _, tt := range tests {
		a, err := Decode(strings.NewReader(`{"id": "T-1", ` + tt.body + `}`))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if a.Severity != tt.want {
			t.Errorf("%s: severity %q, want %q", tt.name, a.Severity, tt.want)
		}
	}
}

func TestDecodeRanges(t *testing.T) {
	a, err := Decode(strings.NewReader(`{
	  "id": "T-2", "schema_version": "1.9.0", "x-unknown": {"deep": [1, 2, 3]},
	  "affected": [
	    {"package": {"ecosystem": "Debian:12", "name": "a", "purl": "pkg:deb/debian/a"},
	     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.0"}]},
	                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "1.0-1"}, {"limit": "*"}], "database_specific": {"x": 1}},
	                {"type": "GIT", "repo": "https://example.org/a", "events": [{"introduced": "abc"}]}],
	     "unknown_field": true},
	    {"package": {"ecosystem": "OSS-Fuzz", "name": "git-only"},
	     "ranges": [{"type": "GIT", "repo": "https://example.org/b", "events": [{"introduced": "abc"}]}]},
	    {"package": {"ecosystem": "", "name": "no-ecosystem"}, "versions": ["1"]}
	  ]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []vuln.Affected{{Ecosystem: "Debian:12", Package: "a", Ranges: []vuln.Range{{Events: []vuln.Event{{Introduced: "0"}, {LastAffected: "1.0-1"}, {Limit: "*"}}}}}}
	if !reflect.DeepEqual(a.Affected, want) {
		t.Errorf("affected = %+v, want only the ECOSYSTEM range of package a", a.Affected)
	}
}

func TestDecodeWithdrawn(t *testing.T) {
	a, err := Decode(strings.NewReader(`{"id": "T-3", "withdrawn": "2024-03-01T12:00:00.5Z", "modified": "2024-03-01T12:00:00"}`))
	if err != nil {
		t.Fatal(err)
	}
	if a.Withdrawn == nil || !a.Withdrawn.Equal(time.Date(2024, 3, 1, 12, 0, 0, 5e8, time.UTC)) || a.Modified.Hour() != 12 {
		t.Errorf("withdrawn %v modified %v", a.Withdrawn, a.Modified)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := map[string]string{
		"empty":            ``,
		"not json":         `not json`,
		"array":            `[{"id": "T-1"}]`,
		"no id":            `{"summary": "x"}`,
		"id wrong type":    `{"id": 5}`,
		"bad modified":     `{"id": "T-1", "modified": "yesterday"}`,
		"bad withdrawn":    `{"id": "T-1", "withdrawn": "2024-13-01T00:00:00Z"}`,
		"two in one event": `{"id": "T-1", "affected": [{"package": {"ecosystem": "Debian:12", "name": "a"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]}`,
		"empty event":      `{"id": "T-1", "affected": [{"package": {"ecosystem": "Debian:12", "name": "a"}, "ranges": [{"type": "ECOSYSTEM", "events": [{}]}]}]}`,
		"empty version":    `{"id": "T-1", "affected": [{"package": {"ecosystem": "Debian:12", "name": "a"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": ""}]}]}]}`,
		"trailing data":    `{"id": "T-1"} {"id": "T-2"}`,
		"truncated":        `{"id": "T-1", "affected": [`,
	}
	for name, in := range tests {
		if a, err := Decode(strings.NewReader(in)); err == nil {
			t.Errorf("%s: Decode = %+v, want an error", name, a)
		} else if !strings.HasPrefix(err.Error(), "osv: ") {
			t.Errorf("%s: error %q lacks context", name, err)
		}
	}
}
