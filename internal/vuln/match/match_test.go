package match

import (
	"context"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/osv"
)

// memData is the matcher's store, in memory.
type memData struct {
	advs   []*vuln.Advisory
	gen    int64
	scores map[string]store.CVEScore
	loads  int
}

func (d *memData) EcosystemAdvisories(_ context.Context, eco string) ([]*vuln.Advisory, int64, error) {
	d.loads++
	var out []*vuln.Advisory
	for _, a := range d.advs {
		for _, af := range a.Affected {
			if af.Ecosystem == eco {
				out = append(out, a)
				break
			}
		}
	}
	return out, d.gen, nil
}

func (d *memData) EcosystemGenerations(context.Context) (map[string]int64, error) {
	m := map[string]int64{}
	for _, a := range d.advs {
		for _, af := range a.Affected {
			m[af.Ecosystem] = d.gen
		}
	}
	return m, nil
}

func (d *memData) CVEScores(_ context.Context, ids []string) (map[string]store.CVEScore, error) {
	out := map[string]store.CVEScore{}
	for _, id := range ids {
		if s, ok := d.scores[id]; ok {
			out[id] = s
		}
	}
	return out, nil
}

func load(t *testing.T, dirs ...string) *memData {
	t.Helper()
	d := &memData{gen: 1, scores: map[string]store.CVEScore{
		"CVE-2024-6387": {Score: 8.1, Vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", Version: "3.1", Severity: "high"},
	}}
	for _, dir := range dirs {
		if _, err := osv.Walk(dir, func(a *vuln.Advisory) error { d.advs = append(d.advs, a); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if len(d.advs) == 0 {
		t.Fatal("no advisories loaded")
	}
	return d
}

var (
	alma9    = inventory.OS{ID: "almalinux", VersionID: "9.4", Family: "redhat", IDLike: []string{"rhel", "centos", "fedora"}}
	debian12 = inventory.OS{ID: "debian", VersionID: "12", Family: "debian"}
)

func rpm(name, epoch, ver, rel string) inventory.Package {
	return inventory.Package{Name: name, Epoch: epoch, Version: ver, Release: rel, Arch: "x86_64", Ecosystem: inventory.EcosystemRPM}
}

func deb(name, ver, src, srcVer string) inventory.Package {
	return inventory.Package{Name: name, Version: ver, Arch: "amd64", SourceName: src, SourceVersion: srcVer, Ecosystem: inventory.EcosystemDeb}
}

func TestMatchAlmaLinux(t *testing.T) {
	m := New(load(t, "../osv/testdata/almalinux"))
	tests := []struct {
		name      string
		pkgs      []inventory.Package
		wantVulns []string // VulnID/package pairs expected, sorted
		wantFixed string
	}{
		{"one release below the fix", []inventory.Package{rpm("openssh", "", "8.7p1", "38.el9_4")},
			[]string{"CVE-2024-6387/openssh"}, "8.7p1-38.el9_4.1"},
		{"at the fixed version", []inventory.Package{rpm("openssh", "", "8.7p1", "38.el9_4.1")}, nil, ""},
		{"above the fixed version", []inventory.Package{rpm("openssh", "", "8.7p1", "43.el9")}, nil, ""},
		{"epoch-bearing fix, installed below", []inventory.Package{rpm("openssl-libs", "1", "3.0.7", "24.el9")},
			[]string{"CVE-2023-2975/openssl-libs", "CVE-2023-3446/openssl-libs", "CVE-2023-3817/openssl-libs", "CVE-2023-5678/openssl-libs", "CVE-2023-6129/openssl-libs", "CVE-2023-6237/openssl-libs", "CVE-2024-0727/openssl-libs"}, "1:3.0.7-27.el9"},
		{"epoch-bearing fix, installed at it", []inventory.Package{rpm("openssl-libs", "1", "3.0.7", "27.el9")}, nil, ""},
		{"a package no advisory names", []inventory.Package{rpm("bash", "", "5.1.8", "6.el9")}, nil, ""},
		// One advisory covering AlmaLinux 8, 9 and 10: the host gets the
		// AlmaLinux 9 fix, not another release's.
		{"multi-release advisory uses the host's release", []inventory.Package{rpm("java-21-openjdk", "1", "21.0.1.0.12", "1.el9")},
			[]string{"CVE-2025-30749/java-21-openjdk", "CVE-2025-30754/java-21-openjdk", "CVE-2025-50059/java-21-openjdk", "CVE-2025-50106/java-21-openjdk"}, "1:21.0.8.0.9-1.el9.alma.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := m.Match(context.Background(), alma9, tc.pkgs)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res.Findings {
				got = append(got, f.VulnID+"/"+f.Package)
				if f.Fixed != tc.wantFixed {
					t.Errorf("%s fixed %q, want %q", f.VulnID, f.Fixed, tc.wantFixed)
				}
				if !strings.Contains(f.Rule, "AlmaLinux:9 ALSA-") || f.Source != "osv:AlmaLinux:9" || f.Installed == "" {
					t.Errorf("finding does not say why: %+v", f)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.wantVulns, ",") {
				t.Fatalf("findings %v, want %v", got, tc.wantVulns)
			}
		})
	}
}

func TestMatchScoresAndSeverity(t *testing.T) {
	m := New(load(t, "../osv/testdata/almalinux"))
	res, err := m.Match(context.Background(), alma9, []inventory.Package{rpm("openssh", "", "8.7p1", "38.el9_4"), rpm("sudo", "", "1.9.5p2", "7.el9")})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]vuln.Finding{}
	for _, f := range res.Findings {
		byID[f.VulnID] = f
	}
	if f := byID["CVE-2024-6387"]; f.CVSSScore != 8.1 || f.Severity != "high" {
		t.Errorf("NVD score not applied: %+v", f)
	}
	// No NVD record: the advisory's own severity ("Moderate" for sudo).
	if f := byID["CVE-2023-22809"]; f.CVSSScore != 0 || f.Severity == "unknown" || f.Severity == "" {
		t.Errorf("advisory severity not kept: %+v", f)
	}
}

func TestMatchDebianBySourcePackage(t *testing.T) {
	m := New(load(t, "../osv/testdata/debian"))
	tests := []struct {
		name string
		pkgs []inventory.Package
		want int
		bins string
	}{
		// libc6 and libc-bin are built from glibc: one finding for glibc.
		{"binaries matched through their source", []inventory.Package{
			deb("libc6", "2.36-9+deb12u1", "glibc", "2.36-9+deb12u1"), deb("libc-bin", "2.36-9+deb12u1", "glibc", "2.36-9+deb12u1")}, 1, "libc-bin libc6"},
		{"fixed source version", []inventory.Package{deb("libc6", "2.36-9+deb12u3", "glibc", "2.36-9+deb12u3")}, 0, ""},
		{"binary name alone is not the source", []inventory.Package{deb("glibc-tools", "2.36-9+deb12u1", "glibc-tools-src", "2.36-9+deb12u1")}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := m.Match(context.Background(), debian12, tc.pkgs)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Findings) != tc.want {
				t.Fatalf("findings %+v", res.Findings)
			}
			if tc.want > 0 {
				f := res.Findings[0]
				if f.Package != "glibc" || strings.Join(f.Binaries, " ") != tc.bins || f.Fixed != "2.36-9+deb12u3" {
					t.Fatalf("finding %+v", f)
				}
			}
		})
	}
}

func TestMatchReportsMissingData(t *testing.T) {
	m := New(load(t, "../osv/testdata/almalinux"))
	res, err := m.Match(context.Background(), debian12, []inventory.Package{deb("libc6", "2.36-9", "glibc", "2.36-9")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 || len(res.Missing) != 1 || res.Missing[0] != "Debian:12" {
		t.Fatalf("result %+v", res)
	}
}

func TestIndexReloadsOnlyOnNewGeneration(t *testing.T) {
	d := load(t, "../osv/testdata/almalinux")
	m := New(d)
	m.Recheck = 0
	pkgs := []inventory.Package{rpm("openssh", "", "8.7p1", "38.el9_4")}
	for i := 0; i < 3; i++ {
		if _, err := m.Match(context.Background(), alma9, pkgs); err != nil {
			t.Fatal(err)
		}
	}
	if d.loads != 1 {
		t.Fatalf("index loaded %d times for one generation", d.loads)
	}
	d.gen++
	m.Match(context.Background(), alma9, pkgs)
	if d.loads != 2 {
		t.Fatalf("index not reloaded after a feed change (%d loads)", d.loads)
	}
}
