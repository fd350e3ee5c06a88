package cpe

import (
	"os"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/nvd"
)

// record loads a real NVD record from the nvd package's testdata (the
// copies and their attribution live there; see its README.md).
func record(t testing.TB, id string) *vuln.CVE {
	t.Helper()
	f, err := os.Open("../nvd/testdata/records/" + id + ".json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := nvd.DecodeRecord(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// inv builds an inventory from name/version pairs through CPEFor, as the
// matcher will, plus raw CPE strings given as ("", cpe).
func inv(t testing.TB, pairs ...string) Inventory {
	t.Helper()
	var out Inventory
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] == "" {
			out = append(out, Installed{CPE: pairs[i+1], Source: "test"})
			continue
		}
		cpes := CPEFor(pairs[i], pairs[i+1])
		if len(cpes) == 0 {
			t.Fatalf("no CPE for %s %s", pairs[i], pairs[i+1])
		}
		for _, c := range cpes {
			out = append(out, Installed{CPE: c, Source: pairs[i] + " " + pairs[i+1]})
		}
	}
	return out
}

// check evaluates and compares the verdict; it returns the match for more.
func check(t *testing.T, c *vuln.CVE, want bool, pairs ...string) Match {
	t.Helper()
	m := Evaluate(c.Configurations, inv(t, pairs...))
	if m.Matched != want {
		t.Errorf("%s with %v: matched %v, want %v\n%s", c.ID, pairs, m.Matched, want, m.Explanation)
	}
	if m.Matched != (len(m.Criteria) > 0) {
		t.Errorf("%s with %v: matched %v with criteria %v", c.ID, pairs, m.Matched, m.Criteria)
	}
	return m
}

// CVE-2019-0190: httpd 2.4.37 is vulnerable only running with OpenSSL
// 1.1.1 or later (an AND configuration whose openssl node is a platform).
func TestApacheRunningWithOpenSSL(t *testing.T) {
	c := record(t, "CVE-2019-0190")
	m := check(t, c, true, "apache2", "2.4.37", "openssl", "1.1.1a")
	if len(m.Criteria) != 1 || m.Criteria[0] != "cpe:2.3:a:apache:http_server:2.4.37:*:*:*:*:*:*:*" {
		t.Errorf("criteria %v: only the vulnerable httpd entry, never the openssl platform", m.Criteria)
	}
	for _, s := range []string{"configuration 1 (AND) holds", "platform cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:* [>= 1.1.1] matched by cpe:2.3:a:openssl:openssl:1.1.1a", "(openssl 1.1.1a)"} {
		if !strings.Contains(m.Explanation, s) {
			t.Errorf("explanation lacks %q:\n%s", s, m.Explanation)
		}
	}
	check(t, c, false, "httpd", "2.4.37")
	check(t, c, false, "openssl", "1.1.1a")
	check(t, c, true, "httpd", "2.4.37", "openssl", "1.1.1") // versionStartIncluding is inclusive
	check(t, c, false, "httpd", "2.4.37", "openssl", "1.1.0j")
	check(t, c, false, "httpd", "2.4.38", "openssl", "1.1.1a")
	m = check(t, c, false, "httpd", "2.4.37", "nginx", "1.20.0")
	if !strings.Contains(m.Explanation, "does not hold") {
		t.Errorf("explanation:\n%s", m.Explanation)
	}
}

// CVE-2021-44228: three ranges with Start Including / End Excluding, and
// the 2.0 pre-releases as concrete versions with an update field.
func TestLog4jRanges(t *testing.T) {
	c := record(t, "CVE-2021-44228")
	for v, want := range map[string]bool{
		"2.14.1": true, "2.17.1": false,
		"2.0.1": true, "2.3.0": true, "2.3.1": false, // [2.0.1, 2.3.1)
		"2.4.0": true, "2.12.1": true, "2.12.2": false, // [2.4.0, 2.12.2)
		"2.13.0": true, "2.15.0": false, "2.16.0": false, // [2.13.0, 2.15.0)
		"2.0": true, "2.0-beta9": true, "2.0-rc1": true, "2.0-rc2": true, // log4j:2.0:-, :beta9, :rc1, :rc2
		"2.0-beta8": false, "1.2.17": false,
	} {
		check(t, c, want, "log4j", v)
	}
	m := check(t, c, true, "log4j-core", "2.14.1")
	if len(m.Criteria) != 1 || !strings.HasPrefix(m.Explanation, "configuration 6 (OR) holds: vulnerable cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:* [>= 2.13.0, < 2.15.0]") {
		t.Errorf("criteria %v explanation:\n%s", m.Criteria, m.Explanation)
	}
	// Siemens firmware running on its hardware: both must be there.
	fw := "cpe:2.3:o:siemens:6bk1602-0aa12-0tp0_firmware:2.6.0:*:*:*:*:*:*:*"
	hw := "cpe:2.3:h:siemens:6bk1602-0aa12-0tp0:-:*:*:*:*:*:*:*"
	m = check(t, c, true, "", fw, "", hw)
	if len(m.Criteria) != 1 || m.Criteria[0] != "cpe:2.3:o:siemens:6bk1602-0aa12-0tp0_firmware:*:*:*:*:*:*:*:*" {
		t.Errorf("criteria %v", m.Criteria)
	}
	check(t, c, false, "", fw)
	check(t, c, false, "", strings.Replace(fw, "2.6.0", "2.7.0", 1), "", hw)
}

// CVE-2021-3156 (Baron Samedit): [1.8.2, 1.8.32), [1.9.0, 1.9.5), and
// 1.9.5 as 1.9.5:- and 1.9.5:patch1.
func TestSudoRanges(t *testing.T) {
	c := record(t, "CVE-2021-3156")
	for v, want := range map[string]bool{
		"1.8.1": false, "1.8.2": true, "1.8.31p2": true, "1.8.32": false,
		"1.9.0": true, "1.9.4p2": true, "1.9.5": true, "1.9.5p1": true,
		"1.9.5p2": false, "1.9.6": false,
	} {
		check(t, c, want, "sudo", v)
	}
	// CVE-2023-22809 spells the same kind of patch level p1.
	c = record(t, "CVE-2023-22809")
	for v, want := range map[string]bool{"1.8.0": true, "1.9.11p3": true, "1.9.12": true, "1.9.12p1": true, "1.9.12p2": false, "1.9.13": false} {
		check(t, c, want, "sudo", v)
	}
	// CVE-2024-6387 (regreSSHion): < 4.4, 4.4:-, 8.5:p1, [8.6, 9.8).
	c = record(t, "CVE-2024-6387")
	for v, want := range map[string]bool{"4.3p2": true, "8.4p1": false, "8.5p1": true, "9.7p1": true, "9.8p1": false, "9.9p1": false} {
		check(t, c, want, "openssh-server", v)
	}
}

// CVE-2014-6271 has versionEndIncluding 4.3 for bash.
func TestEndIncluding(t *testing.T) {
	c := record(t, "CVE-2014-6271")
	for v, want := range map[string]bool{"4.3": true, "4.2.53": true, "4.3.30": false, "5.0": false} {
		check(t, c, want, "bash", v)
	}
}

// Constructed (no sample record has these): versionStartExcluding, negate
// on a node and on a configuration, and target_sw.
func TestConstructedSemantics(t *testing.T) {
	node := func(negate bool, ms ...vuln.CPEMatch) vuln.Node {
		return vuln.Node{Operator: "OR", Negate: negate, Matches: ms}
	}
	vuln1 := vuln.CPEMatch{Vulnerable: true, Criteria: "cpe:2.3:a:tukaani:xz:*:*:*:*:*:*:*:*", VersionStartExcluding: "5.4.0", VersionEndIncluding: "5.6.1"}
	onDebian := vuln.CPEMatch{Criteria: "cpe:2.3:o:debian:debian_linux:*:*:*:*:*:*:*:*"}
	debian := "cpe:2.3:o:debian:debian_linux:12.0:*:*:*:*:*:*:*"
	cases := []struct {
		name string
		cfg  vuln.Configuration
		inv  []string
		want bool
	}{
		{"start excluding: the bound itself", vuln.Configuration{Nodes: []vuln.Node{node(false, vuln1)}}, []string{"xz-utils", "5.4.0"}, false},
		{"start excluding: just above", vuln.Configuration{Nodes: []vuln.Node{node(false, vuln1)}}, []string{"xz-utils", "5.4.1"}, true},
		{"end including", vuln.Configuration{Nodes: []vuln.Node{node(false, vuln1)}}, []string{"xz-utils", "5.6.1"}, true},
		// "xz, but not when running on Debian"
		{"negated platform absent", vuln.Configuration{Operator: "AND", Nodes: []vuln.Node{node(false, vuln1), node(true, onDebian)}}, []string{"xz", "5.6.0"}, true},
		{"negated platform present", vuln.Configuration{Operator: "AND", Nodes: []vuln.Node{node(false, vuln1), node(true, onDebian)}}, []string{"xz", "5.6.0", "", debian}, false},
		// a negated vulnerable node is no evidence of a vulnerable product
		{"negated vulnerable node", vuln.Configuration{Nodes: []vuln.Node{node(true, vuln1)}}, []string{"xz", "1.0.0"}, false},
		{"negated configuration", vuln.Configuration{Negate: true, Nodes: []vuln.Node{node(false, vuln1)}}, []string{"xz", "5.6.0"}, false},
		{"AND node needs all entries", vuln.Configuration{Nodes: []vuln.Node{{Operator: "AND", Matches: []vuln.CPEMatch{vuln1, onDebian}}}}, []string{"xz", "5.6.0"}, false},
		{"AND node with all entries", vuln.Configuration{Nodes: []vuln.Node{{Operator: "AND", Matches: []vuln.CPEMatch{vuln1, onDebian}}}}, []string{"xz", "5.6.0", "", debian}, true},
		{"target_sw named, installed unknown", vuln.Configuration{Nodes: []vuln.Node{node(false, vuln.CPEMatch{Vulnerable: true, Criteria: "cpe:2.3:a:haxx:curl:*:*:*:*:*:node.js:*:*"})}}, []string{"curl", "8.0.0"}, false},
		{"target_sw named and installed", vuln.Configuration{Nodes: []vuln.Node{node(false, vuln.CPEMatch{Vulnerable: true, Criteria: "cpe:2.3:a:haxx:curl:*:*:*:*:*:node.js:*:*"})}}, []string{"", "cpe:2.3:a:haxx:curl:8.0.0:*:*:*:*:node.js:*:*"}, true},
		{"empty node never holds", vuln.Configuration{Nodes: []vuln.Node{{Operator: "OR"}}}, []string{"xz", "5.6.0"}, false},
	}
	for _, tc := range cases {
		m := Evaluate([]vuln.Configuration{tc.cfg}, inv(t, tc.inv...))
		if m.Matched != tc.want {
			t.Errorf("%s: matched %v, want %v\n%s", tc.name, m.Matched, tc.want, m.Explanation)
		}
	}
}

// Version "*" without bounds matches any version only because NVD says so
// literally; "-" means "no version" and matches only an installed "-".
func TestStarAndDashVersions(t *testing.T) {
	any := []vuln.Configuration{{Nodes: []vuln.Node{{Operator: "OR", Matches: []vuln.CPEMatch{{Vulnerable: true, Criteria: "cpe:2.3:a:rarlab:winrar:*:*:*:*:*:*:*:*"}}}}}}
	if m := Evaluate(any, inv(t, "WinRAR 6.24 (64-bit)", "6.24.0")); !m.Matched {
		t.Errorf("* without bounds: %s", m.Explanation)
	}
	// CVE-2022-0543: redis:redis:- on Debian or Ubuntu. A versioned redis is
	// not "no version", so this CPE data cannot raise it (OSV can).
	c := record(t, "CVE-2022-0543")
	debian := "cpe:2.3:o:debian:debian_linux:11.0:*:*:*:*:*:*:*"
	m := check(t, c, false, "redis-server", "6.0.16", "", debian)
	if !strings.Contains(m.Explanation, "no version (-)") {
		t.Errorf("explanation:\n%s", m.Explanation)
	}
	check(t, c, true, "", "cpe:2.3:a:redis:redis:-:*:*:*:*:*:*:*", "", debian)

	// An installed CPE without a version is not a fact about the host.
	m = Evaluate(any, Inventory{{CPE: "cpe:2.3:a:rarlab:winrar:*:*:*:*:*:*:*:*"}, {CPE: "not a cpe"}})
	if m.Matched || !strings.Contains(m.Explanation, "no concrete version") || !strings.Contains(m.Explanation, `ignored installed "not a cpe"`) {
		t.Errorf("%+v", m)
	}
}

// A version that cannot be ordered never satisfies a bound.
func TestUnparseableVersion(t *testing.T) {
	c := record(t, "CVE-2021-44228")
	m := check(t, c, false, "log4j", "latest")
	if !strings.Contains(m.Explanation, `cannot order "latest" against >= 2.0.1`) || !strings.Contains(m.Explanation, "treated as no match") {
		t.Errorf("explanation:\n%s", m.Explanation)
	}
}

func TestNothingToMatch(t *testing.T) {
	if m := Evaluate(record(t, "CVE-2023-48795").Configurations, inv(t, "openssh", "9.5p1")); m.Matched || !strings.Contains(m.Explanation, "no configurations") {
		t.Errorf("%+v", m)
	}
	if m := Evaluate(record(t, "CVE-2021-44228").Configurations, inv(t, "openssh", "9.5p1")); m.Matched || !strings.Contains(m.Explanation, "no installed CPE names a product") {
		t.Errorf("%+v", m)
	}
}

// One parsed Host serves many CVEs.
func TestHostReuse(t *testing.T) {
	h := NewHost(inv(t, "openssl", "3.0.6", "curl", "8.3.0", "Google Chrome", "116.0.5845.180"))
	for id, want := range map[string]bool{"CVE-2022-3602": true, "CVE-2023-0286": true, "CVE-2023-38545": true, "CVE-2023-4863": true, "CVE-2024-3094": false} {
		if m := h.Evaluate(record(t, id).Configurations); m.Matched != want {
			t.Errorf("%s: matched %v, want %v\n%s", id, m.Matched, want, m.Explanation)
		}
	}
}

// BenchmarkEvaluate: one host of a dozen CPEs against all 39 records, as
// the matcher runs it (parse the host once, evaluate every CVE).
func BenchmarkEvaluate(b *testing.B) {
	var cves []*vuln.CVE
	for _, id := range []string{"CVE-2014-6271", "CVE-2019-0190", "CVE-2021-3156", "CVE-2021-44228", "CVE-2022-0847", "CVE-2024-6387", "CVE-2023-4863", "CVE-2022-3602"} {
		cves = append(cves, record(b, id))
	}
	inventory := inv(b, "openssl", "3.0.2", "apache2", "2.4.52", "sudo", "1.9.9", "bash", "5.1.16", "openssh-server", "8.9p1",
		"curl", "7.81.0", "log4j", "2.14.1", "xz-utils", "5.2.5", "Google Chrome", "116.0.5845.180", "7-Zip 23.01 (x64)", "23.01")
	found := 0
	for b.Loop() {
		h := NewHost(inventory)
		for _, c := range cves {
			if h.Evaluate(c.Configurations).Matched {
				found++
			}
		}
	}
	b.ReportMetric(float64(len(cves)*b.N)/b.Elapsed().Seconds(), "CVEs/s")
}
