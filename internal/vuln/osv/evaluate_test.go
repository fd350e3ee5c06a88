package osv

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/version"
)

func affectedFor(t *testing.T, a *vuln.Advisory, ecosystem, pkg string) vuln.Affected {
	t.Helper()
	for _, af := range a.Affected {
		if af.Ecosystem == ecosystem && af.Package == pkg {
			return af
		}
	}
	t.Fatalf("%s has no %s entry for %s", a.ID, ecosystem, pkg)
	return vuln.Affected{}
}

// TestEvaluateAlmaLinux evaluates real AlmaLinux 9 advisories against
// installed packages one release below, at and above the fixed version.
func TestEvaluateAlmaLinux(t *testing.T) {
	alma := func(name, epoch, ver, rel string) inventory.Package {
		return inventory.Package{Name: name, Epoch: epoch, Version: ver, Release: rel, Arch: "x86_64", Ecosystem: inventory.EcosystemRPM}
	}
	tests := []struct {
		file, pkg    string
		installed    inventory.Package
		wantAffected bool
		wantFixed    string
		wantRule     string
	}{
		// thunderbird: AlmaLinux's own rebuild suffix makes the RHEL build
		// older than the fix.
		{"ALSA-2024-8793.json", "thunderbird", alma("thunderbird", "", "128.3.1", "1.el9_4"), true, "128.4.0-1.el9_4.alma.1",
			"installed 128.3.1-1.el9_4 < fixed 128.4.0-1.el9_4.alma.1 (range introduced 0)"},
		{"ALSA-2024-8793.json", "thunderbird", alma("thunderbird", "", "128.4.0", "1.el9_4"), true, "128.4.0-1.el9_4.alma.1", ""},
		{"ALSA-2024-8793.json", "thunderbird", alma("thunderbird", "", "128.4.0", "1.el9_4.alma.1"), false, "",
			"installed 128.4.0-1.el9_4.alma.1 >= fixed 128.4.0-1.el9_4.alma.1 (range introduced 0)"},
		{"ALSA-2024-8793.json", "thunderbird", alma("thunderbird", "", "128.5.0", "1.el9_5"), false, "", ""},
		// openssl: the fixed version carries epoch 1.
		{"ALSA-2024-2447.json", "openssl-libs", alma("openssl-libs", "1", "3.0.7", "26.el9"), true, "1:3.0.7-27.el9",
			"installed 1:3.0.7-26.el9 < fixed 1:3.0.7-27.el9 (range introduced 0)"},
		{"ALSA-2024-2447.json", "openssl-libs", alma("openssl-libs", "1", "3.0.7", "27.el9"), false, "", ""},
		{"ALSA-2024-2447.json", "openssl-libs", alma("openssl-libs", "1", "3.0.7", "28.el9_4"), false, "", ""},
		// An installed EVR without the epoch reads as epoch 0: below any
		// epoch-1 fix. Package.EVR() keeps the epoch, so this only happens
		// to a caller that drops it.
		{"ALSA-2024-2447.json", "openssl-libs", alma("openssl-libs", "", "3.0.7", "28.el9_4"), true, "1:3.0.7-27.el9", ""},
		// openssh 8.7p1 and the regreSSHion fix.
		{"ALSA-2024-4312.json", "openssh-server", alma("openssh-server", "", "8.7p1", "38.el9_4"), true, "8.7p1-38.el9_4.1", ""},
		{"ALSA-2024-4312.json", "openssh-server", alma("openssh-server", "", "8.7p1", "38.el9_4.1"), false, "", ""},
		{"ALSA-2023-0282.json", "sudo", alma("sudo", "", "1.9.5p2", "7.el9_1"), true, "1.9.5p2-7.el9_1.1", ""},
		{"ALSA-2023-0282.json", "sudo", alma("sudo", "", "1.9.5p2", "10.el9_3"), false, "", ""},
		// glibc lists binary RPMs: glibc-langpack-en is matched by its own name.
		{"ALSA-2024-3339.json", "glibc-langpack-en", alma("glibc-langpack-en", "", "2.34", "100.el9_4.1"), true, "2.34-100.el9_4.2", ""},
		{"ALSA-2024-3339.json", "glibc-langpack-en", alma("glibc-langpack-en", "", "2.34", "100.el9_4.2"), false, "", ""},
	}
	cmp := version.RPM{}
	for _, tt := range tests {
		a := loadAdvisory(t, "almalinux/"+tt.file)
		af := affectedFor(t, a, "AlmaLinux:9", tt.pkg)
		name, installed := PackageKey("AlmaLinux:9", tt.installed)
		if name != tt.pkg {
			t.Fatalf("PackageKey name = %q", name)
		}
		got, err := Evaluate(af, cmp, installed)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.file, installed, err)
		}
		if got.Affected != tt.wantAffected || got.Fixed != tt.wantFixed || (tt.wantRule != "" && got.Rule != tt.wantRule) {
			t.Errorf("%s %s %s = %+v, want affected %v fixed %q rule %q", tt.file, tt.pkg, installed, got, tt.wantAffected, tt.wantFixed, tt.wantRule)
		}
	}
}

// TestEvaluateAlmaLinuxEcosystems: ALSA-2025:10873 fixes java-21-openjdk on
// AlmaLinux 8, 9 and 10; an AlmaLinux 9 host only sees the :9 entries.
func TestEvaluateAlmaLinuxEcosystems(t *testing.T) {
	a := loadAdvisory(t, "almalinux/ALSA-2025-10873.json")
	host := inventory.OS{ID: "almalinux", VersionID: "9.6"}
	pkg := inventory.Package{Name: "java-21-openjdk-headless", Epoch: "1", Version: "21.0.7.0.6", Release: "1.el9.alma.1", Ecosystem: "rpm"}
	got := hostMatches(t, []*vuln.Advisory{a}, host, Options{}, []inventory.Package{pkg})
	if len(got) != 1 || got[0].Ecosystem != "AlmaLinux:9" {
		t.Fatalf("findings = %+v, want one from AlmaLinux:9", got)
	}
	want9 := affectedFor(t, a, "AlmaLinux:9", "java-21-openjdk-headless").Ranges[0].Events[1].Fixed
	if got[0].Fixed != want9 {
		t.Errorf("Fixed = %q, want the AlmaLinux:9 fix %q", got[0].Fixed, want9)
	}
}

// TestEvaluateDebianSourcePackage shows Debian matching by source package:
// libc6 and libc-bin are found through glibc, at the source version.
func TestEvaluateDebianSourcePackage(t *testing.T) {
	advisories := []*vuln.Advisory{loadAdvisory(t, "debian/DSA-9999-1.json"), loadAdvisory(t, "debian/DSA-3029-1.json")}
	deb := func(name, src, ver, srcVer string) inventory.Package {
		return inventory.Package{Name: name, Version: ver, SourceName: src, SourceVersion: srcVer, Ecosystem: "deb"}
	}
	bookworm := inventory.OS{ID: "debian", VersionID: "12"}
	pkgs := []inventory.Package{
		deb("libc6", "glibc", "2.36-9+deb12u2", "2.36-9+deb12u2"),
		deb("libc-bin", "glibc", "2.36-9+deb12u2", "2.36-9+deb12u2"),
		deb("glibc-doc-reference", "glibc-doc-reference", "2.36-1", "2.36-1"), // another source: no match
		deb("nginx", "nginx", "1.22.1-9", "1.22.1-9"),                         // DSA-3029-1 is Debian 7 only
	}
	got := hostMatches(t, advisories, bookworm, Options{}, pkgs)
	if len(got) != 2 || got[0].Package != "libc6" || got[1].Package != "libc-bin" {
		t.Fatalf("findings = %+v, want libc6 and libc-bin", got)
	}
	for _, f := range got {
		if f.Advisory != "DSA-9999-1" || f.Ecosystem != "Debian:12" || f.Fixed != "2.36-9+deb12u3" {
			t.Errorf("finding %+v", f)
		}
	}
	// Fixed at the source version: nothing left.
	pkgs[0].SourceVersion, pkgs[1].SourceVersion = "2.36-9+deb12u3", "2.36-9+deb12u3"
	if got := hostMatches(t, advisories, bookworm, Options{}, pkgs[:2]); len(got) != 0 {
		t.Errorf("fixed host: findings %+v", got)
	}
	// A binNMU's binary version (+b1) is newer than its source version;
	// the source version is what the advisory speaks of.
	binNMU := deb("libc6", "glibc", "2.36-9+deb12u2+b1", "2.36-9+deb12u2")
	if name, v := PackageKey("Debian:12", binNMU); name != "glibc" || v != "2.36-9+deb12u2" {
		t.Errorf("PackageKey(binNMU) = %q, %q", name, v)
	}
	// The real DSA-3029-1 on a Debian 7 host.
	wheezy := inventory.OS{ID: "debian", VersionID: "7"}
	got = hostMatches(t, advisories, wheezy, Options{}, []inventory.Package{deb("nginx-full", "nginx", "1.2.1-2.2+wheezy2", "1.2.1-2.2+wheezy2")})
	if len(got) != 1 || got[0].Fixed != "1.2.1-2.2+wheezy3" || got[0].Advisory != "DSA-3029-1" {
		t.Errorf("wheezy findings = %+v", got)
	}
}

// TestEvaluateUbuntuPro shows Ubuntu Pro ecosystems kept apart from the
// LTS ones: a Pro fix is only reported on a host attached to Pro.
func TestEvaluateUbuntuPro(t *testing.T) {
	advisories := []*vuln.Advisory{loadAdvisory(t, "ubuntu/USN-9999-1.json"), loadAdvisory(t, "ubuntu/UBUNTU-CVE-2025-38094.json")}
	bionic := inventory.OS{ID: "ubuntu", VersionID: "18.04", PrettyName: "Ubuntu 18.04.6 LTS"}
	libssl := inventory.Package{Name: "libssl1.1", Version: "1.1.1-1ubuntu2.1~18.04.23", SourceName: "openssl", SourceVersion: "1.1.1-1ubuntu2.1~18.04.23", Ecosystem: "deb"}

	got := hostMatches(t, advisories, bionic, Options{}, []inventory.Package{libssl})
	want := []finding{{Advisory: "USN-9999-1", Ecosystem: "Ubuntu:18.04:LTS", Package: "libssl1.1",
		Result: Result{Affected: true, Rule: "no fix available: introduced 0, no fixed event"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("without Pro:\n got %+v\nwant %+v", got, want)
	}
	got = hostMatches(t, advisories, bionic, Options{UbuntuPro: true}, []inventory.Package{libssl})
	if len(got) != 2 || got[1].Ecosystem != "Ubuntu:Pro:18.04:LTS" || got[1].Fixed != "1.1.1-1ubuntu2.1~18.04.23+esm5" {
		t.Errorf("with Pro: %+v", got)
	}
	// The ESM build itself is fixed under Pro but, as far as the standard
	// 18.04 entry knows, still affected (it has no fix at all).
	libssl.SourceVersion = "1.1.1-1ubuntu2.1~18.04.23+esm5"
	got = hostMatches(t, advisories, bionic, Options{UbuntuPro: true}, []inventory.Package{libssl})
	if len(got) != 1 || got[0].Ecosystem != "Ubuntu:18.04:LTS" {
		t.Errorf("patched Pro host: %+v", got)
	}

	// Jammy: the LTS fix applies, Pro or not.
	jammy := inventory.OS{ID: "ubuntu", VersionID: "22.04", PrettyName: "Ubuntu 22.04.5 LTS"}
	libssl3 := inventory.Package{Name: "libssl3", Version: "3.0.2-0ubuntu1.14", SourceName: "openssl", SourceVersion: "3.0.2-0ubuntu1.14", Ecosystem: "deb"}
	got = hostMatches(t, advisories, jammy, Options{}, []inventory.Package{libssl3})
	if len(got) != 1 || got[0].Fixed != "3.0.2-0ubuntu1.15" {
		t.Errorf("jammy: %+v", got)
	}

	// The real UBUNTU-CVE record exists only for Ubuntu Pro 14.04.
	trusty := inventory.OS{ID: "ubuntu", VersionID: "14.04", PrettyName: "Ubuntu 14.04.6 LTS"}
	kernel := inventory.Package{Name: "linux-image-3.13.0-206-generic", Version: "3.13.0-206.257", SourceName: "linux", SourceVersion: "3.13.0-206.257", Ecosystem: "deb"}
	if got := hostMatches(t, advisories, trusty, Options{}, []inventory.Package{kernel}); len(got) != 0 {
		t.Errorf("trusty without Pro: %+v", got)
	}
	got = hostMatches(t, advisories, trusty, Options{UbuntuPro: true}, []inventory.Package{kernel})
	if len(got) != 1 || got[0].Rule != "no fix available: introduced 0, no fixed event; listed in affected versions" {
		t.Errorf("trusty with Pro: %+v", got)
	}
}

func rng(events ...vuln.Event) vuln.Range { return vuln.Range{Events: events} }
func intro(v string) vuln.Event           { return vuln.Event{Introduced: v} }
func fixed(v string) vuln.Event           { return vuln.Event{Fixed: v} }
func last(v string) vuln.Event            { return vuln.Event{LastAffected: v} }
func limit(v string) vuln.Event           { return vuln.Event{Limit: v} }

// TestEvaluateSemantics walks the OSV evaluation rules with dpkg ordering.
func TestEvaluateSemantics(t *testing.T) {
	tests := []struct {
		name      string
		af        vuln.Affected
		installed string
		affected  bool
		fixed     string
		rule      string
	}{
		{"below fixed", vuln.Affected{Ranges: []vuln.Range{rng(intro("0"), fixed("1.2-1"))}}, "1.1-1", true, "1.2-1",
			"installed 1.1-1 < fixed 1.2-1 (range introduced 0)"},
		{"fixed is exclusive", vuln.Affected{Ranges: []vuln.Range{rng(intro("0"), fixed("1.2-1"))}}, "1.2-1", false, "",
			"installed 1.2-1 >= fixed 1.2-1 (range introduced 0)"},
		{"tilde below fix", vuln.Affected{Ranges: []vuln.Range{rng(intro("0"), fixed("1.2-1"))}}, "1.2-1~bpo1", true, "1.2-1", ""},
		{"below introduced", vuln.Affected{Ranges: []vuln.Range{rng(intro("1.0"), fixed("1.2"))}}, "0.9", false, "",
			"installed 0.9 < introduced 1.0"},
		{"introduced is inclusive", vuln.Affected{Ranges: []vuln.Range{rng(intro("1.0"), fixed("1.2"))}}, "1.0", true, "1.2", ""},
		{"last_affected is inclusive", vuln.Affected{Ranges: []vuln.Range{rng(intro("0"), last("1.5"))}}, "1.5", true, "",
			"installed 1.5 <= last_affected 1.5, no fixed event (range introduced 0)"},
		{"above last_affected", vuln.Affected{Ranges: []vuln.Range{rng(intro("0"), last("1.5"))}}, "1.5.1", false, "",
			"installed 1.5.1 > last_affected 1.5 (range introduced 0)"},
		{"no fix", vuln.Affected{Ranges: []vuln.Range{rng(intro("0"))}}, "99", true, "",
			"no fix available: introduced 0, no fixed event"},
		{"events out of order", vuln.Affected{Ranges: []vuln.Range{rng(fixed("2.0"), intro("1.0"))}}, "1.5", true, "2.0", ""},
		{"re-introduced", vuln.Affected{Ranges: []vuln.Range{rng(intro("1.0"), fixed("1.2"), intro("2.0"), fixed("2.3"))}}, "2.1", true, "2.3",
			"installed 2.1 < fixed 2.3 (range introduced 2.0)"},
		{"between spans", vuln.Affected{Ranges: []vuln.Range{rng(intro("1.0"), fixed("1.2"), intro("2.0"), fixed("2.3"))}}, "1.5", false, "",
			"installed 1.5 >= fixed 1.2 (range introduced 1.0)"},
		{"same version introduced and fixed is empty", vuln.Affected{Ranges: []vuln.Range{rng(fixed("1.0"), intro("1.0"))}}, "1.0", false, "", ""},
		{"limit excludes", vuln.Affected{Ranges: []vuln.Range{rng(intro("0"), limit("2.0"))}}, "2.0", false, "", "installed 2.0 >= limit 2.0"},
		{"below limit", vuln.Affected{Ranges: []vuln.Range{rng(intro("0"), limit("2.0"))}}, "2.0~rc1", true, "", ""},
		{"limit star", vuln.Affected{Ranges: []vuln.Range{rng(intro("0"), limit("*"))}}, "9", true, "", ""},
		{"ranges OR'ed", vuln.Affected{Ranges: []vuln.Range{rng(intro("0"), fixed("1.0")), rng(intro("2.0"), fixed("2.5"))}}, "2.1", true, "2.5", ""},
		{"neither range", vuln.Affected{Ranges: []vuln.Range{rng(intro("0"), fixed("1.0")), rng(intro("2.0"), fixed("2.5"))}}, "1.5", false, "",
			"installed 1.5 >= fixed 1.0 (range introduced 0); installed 1.5 < introduced 2.0"},
		// Overlapping ranges: 1.2 still lies in the second one, so the
		// upgrade that helps is 1.4.
		{"overlap skips a fix that is still affected", vuln.Affected{Ranges: []vuln.Range{rng(intro("0"), fixed("1.2")), rng(intro("1.1"), fixed("1.4"))}}, "1.1.5", true, "1.4", ""},
		{"listed", vuln.Affected{Versions: []string{"1:2.3-4"}}, "1:2.3-4", true, "", "listed in affected versions"},
		{"listed by equality", vuln.Affected{Versions: []string{"1.0-0"}}, "1.0", true, "", "listed in affected versions"},
		{"not listed", vuln.Affected{Versions: []string{"1.0", "junk!"}}, "1.1", false, "", "not among the affected versions listed"},
		{"listed outside the range", vuln.Affected{Ranges: []vuln.Range{rng(intro("0"), fixed("1.0"))}, Versions: []string{"1.5"}}, "1.5", true, "", "listed in affected versions"},
		{"nothing to go on", vuln.Affected{}, "1.0", false, "", "no ECOSYSTEM ranges and no versions listed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Evaluate(tt.af, version.Deb{}, tt.installed)
			if err != nil {
				t.Fatal(err)
			}
			if got.Affected != tt.affected || got.Fixed != tt.fixed || (tt.rule != "" && got.Rule != tt.rule) {
				t.Errorf("Evaluate(%s) = %+v, want affected %v fixed %q rule %q", tt.installed, got, tt.affected, tt.fixed, tt.rule)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	ok := vuln.Affected{Ecosystem: "Debian:12", Package: "glibc", Ranges: []vuln.Range{rng(intro("0"), fixed("2.36-9+deb12u3"))}}
	tests := []struct {
		name      string
		af        vuln.Affected
		cmp       version.Comparer
		installed string
	}{
		{"invalid installed", ok, version.Deb{}, "not a version"},
		{"empty installed", ok, version.Deb{}, ""},
		{"invalid fixed", vuln.Affected{Ranges: []vuln.Range{rng(intro("0"), fixed("x y"))}}, version.Deb{}, "1.0"},
		{"two fields in one event", vuln.Affected{Ranges: []vuln.Range{rng(vuln.Event{Introduced: "0", Fixed: "1.0"})}}, version.Deb{}, "1.0"},
		{"empty event", vuln.Affected{Ranges: []vuln.Range{rng(vuln.Event{})}}, version.Deb{}, "1.0"},
		{"invalid limit", vuln.Affected{Ranges: []vuln.Range{rng(intro("0"), limit("1.0bc"))}}, version.APK{}, "1.0"},
		{"no comparer", ok, nil, "1.0"},
	}
	for _, tt := range tests {
		if got, err := Evaluate(tt.af, tt.cmp, tt.installed); err == nil {
			t.Errorf("%s: Evaluate = %+v, want an error", tt.name, got)
		} else if tt.name == "invalid installed" && (!errors.Is(err, version.ErrInvalid) || !strings.Contains(err.Error(), "Debian:12 glibc")) {
			t.Errorf("%s: error %v should wrap version.ErrInvalid and name the package", tt.name, err)
		}
	}
}
