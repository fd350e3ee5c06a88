package cpe

import (
	"testing"

	"github.com/vigil-project/vigil/internal/vuln"
)

// go-cpe's matcher finds "2.4.3" a superset of "2.4.37" (it subtracts
// escape characters twice); a concrete criteria version must name exactly
// the installed one.
func TestConcreteVersionIsExact(t *testing.T) {
	cfg := func(version string) []vuln.Configuration {
		return []vuln.Configuration{{Nodes: []vuln.Node{{Operator: "OR", Matches: []vuln.CPEMatch{
			{Vulnerable: true, Criteria: "cpe:2.3:a:apache:http_server:" + version + ":*:*:*:*:*:*:*"},
		}}}}}
	}
	for _, tc := range []struct {
		crit, installed string
		want            bool
	}{
		{"2.4.3", "2.4.37", false},
		{"2.4.37", "2.4.3", false},
		{"2.4.37", "2.4.37", true},
		{"2.4.37", "2.4.37.1", false},
		{"2.4.*", "2.4.37", true}, // wildcards as the spec allows them
		{"2.4.*", "2.5.0", false},
		{"2.4.3?", "2.4.37", true}, // a trailing ? is up to one character
		{"2.4.3?", "2.4.3", true},
		{"2.4.3?", "2.4.371", false},
		{"*.37", "2.4.37", true},
	} {
		m := Evaluate(cfg(tc.crit), Inventory{{CPE: "cpe:2.3:a:apache:http_server:" + tc.installed + ":*:*:*:*:*:*:*"}})
		if m.Matched != tc.want {
			t.Errorf("criteria %s, installed %s: matched %v, want %v\n%s", tc.crit, tc.installed, m.Matched, tc.want, m.Explanation)
		}
	}
}

func TestNameHelpers(t *testing.T) {
	for fs, want := range map[string]string{
		"cpe:2.3:a:notepad-plus-plus:notepad\\+\\+:8.6:*:*:*:*:*:*:*":                     "a:notepad-plus-plus:notepad++",
		"cpe:2.3:a:beyondtrust:privilege_management_for_unix\\/linux:*:*:*:*:basic:*:*:*": "a:beyondtrust:privilege_management_for_unix/linux",
		"cpe:2.3:a:Apache:HTTP_Server:2.4.37:*:*:*:*:*:*:*":                               "a:apache:http_server",
	} {
		if k, ok := fsKey(fs); !ok || k != want {
			t.Errorf("fsKey(%s) = %q %v, want %q", fs, k, ok, want)
		}
		n, err := parseName(fs)
		if err != nil || n.key != want {
			t.Errorf("parseName(%s) key %v %v, want %q", fs, n, err, want)
		}
	}
	for _, fs := range []string{"cpe:2.3:a:*:http_server:1:*:*:*:*:*:*:*", "cpe:2.3:a:apache", "cpe:/a:apache:http_server:2.4"} {
		if _, ok := fsKey(fs); ok {
			t.Errorf("fsKey(%s) should not narrow the candidates", fs)
		}
	}
	// go-cpe indexes past a trailing backslash: an error, not a panic.
	for _, fs := range []string{"cpe:2.3:a:x:y:1.0:*:*:*:*:*:*:a\\", "cpe:2.3:a:x:y", ""} {
		if _, err := parseName(fs); err == nil {
			t.Errorf("parseName(%q) accepted", fs)
		}
	}
	if got := unescape(`12.6\(1\)`); got != "12.6(1)" {
		t.Errorf("unescape: %q", got)
	}
}
