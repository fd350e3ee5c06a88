package osv

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/inventory"
)

// parseOSRelease runs a real os-release file through the collector's parser,
// framed as the "os" probe prints it.
func parseOSRelease(t *testing.T, fixture string) inventory.OS {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../../collect/testdata/hosts", fixture))
	if err != nil {
		t.Fatal(err)
	}
	out := "==> /etc/os-release <==\n" + string(data) + "\n"
	hostOS, err := collect.ParseOS([]byte(out))
	if err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	return hostOS
}

func TestEcosystemsRealOSRelease(t *testing.T) {
	tests := []struct {
		fixture string
		want    []string
		pro     []string // with Options{UbuntuPro: true}, when different
	}{
		{"chef-os_release/debian_12", []string{"Debian:12"}, nil},
		{"chef-os_release/debian_8", []string{"Debian:8"}, nil},
		{"chef-os_release/ubuntu_2204", []string{"Ubuntu:22.04:LTS"}, []string{"Ubuntu:22.04:LTS", "Ubuntu:Pro:22.04:LTS"}},
		{"chef-os_release/ubuntu_1404", []string{"Ubuntu:14.04:LTS"}, []string{"Ubuntu:14.04:LTS", "Ubuntu:Pro:14.04:LTS"}},
		{"chef-os_release/alpine_3_18", []string{"Alpine:v3.18"}, nil}, // VERSION_ID 3.18.12
		{"chef-os_release/alma_9", []string{"AlmaLinux:9"}, nil},       // 9.6
		{"chef-os_release/rocky_9", []string{"Rocky Linux:9"}, nil},    // 9.3
		{"facter/os_release_redhat_linux_with_comment", []string{"Red Hat:enterprise_linux:8::*"}, nil},
		{"chef-os_release/opensuseleap_15", []string{"openSUSE:Leap 15.6"}, nil},
		{"chef-os_release/opensusetumbleweed", []string{"openSUSE:Tumbleweed"}, nil},
		{"chef-os_release/sles_15", []string{"SUSE:Linux Enterprise Server 15 SP7", "SUSE:Linux Enterprise Server 15 SP7-*", "SUSE:Linux Enterprise Module for * 15 SP7"}, nil},
		{"chef-os_release/sles_sap_12_3", []string{"SUSE:Linux Enterprise Server 12 SP3", "SUSE:Linux Enterprise Server 12 SP3-*", "SUSE:Linux Enterprise Module for * 12 SP3"}, nil},
		{"chef-os_release/sled_15", []string{"SUSE:Linux Enterprise Desktop 15", "SUSE:Linux Enterprise Desktop 15-*", "SUSE:Linux Enterprise Module for * 15"}, nil},
		{"chef-os_release/wolfi", []string{"Wolfi"}, nil},
		// No OSV ecosystem for these.
		{"chef-os_release/centos_7", nil, nil},
		{"chef-os_release/oracle_9", nil, nil},
		{"chef-os_release/amazon_2023", nil, nil},
		{"chef-os_release/fedora_40", nil, nil},
		{"claircore/alpine-edge/etc/os-release", nil, nil}, // 3.19_alpha20230901
	}
	for _, tt := range tests {
		hostOS := parseOSRelease(t, tt.fixture)
		if got := Ecosystems(hostOS, Options{}); !slices.Equal(got, tt.want) {
			t.Errorf("%s (%s %s): Ecosystems = %q, want %q", tt.fixture, hostOS.ID, hostOS.VersionID, got, tt.want)
		}
		wantPro := tt.pro
		if wantPro == nil {
			wantPro = tt.want
		}
		if got := Ecosystems(hostOS, Options{UbuntuPro: true}); !slices.Equal(got, wantPro) {
			t.Errorf("%s with Pro: Ecosystems = %q, want %q", tt.fixture, got, wantPro)
		}
	}
}

// TestEcosystemsVersions covers releases no fixture has.
func TestEcosystemsVersions(t *testing.T) {
	tests := []struct {
		os   inventory.OS
		want []string
	}{
		{inventory.OS{ID: "ubuntu", VersionID: "23.10", PrettyName: "Ubuntu 23.10"}, []string{"Ubuntu:23.10"}},
		{inventory.OS{ID: "ubuntu", VersionID: "24.04"}, []string{"Ubuntu:24.04:LTS", "Ubuntu:Pro:24.04:LTS"}},
		{inventory.OS{ID: "ubuntu", VersionID: "25.04"}, []string{"Ubuntu:25.04"}}, // odd year: not LTS, no Pro
		{inventory.OS{ID: "alpine", VersionID: "3.18.4"}, []string{"Alpine:v3.18"}},
		{inventory.OS{ID: "almalinux", VersionID: "9.4"}, []string{"AlmaLinux:9"}},
		{inventory.OS{ID: "rocky", VersionID: "9.3"}, []string{"Rocky Linux:9"}},
		{inventory.OS{ID: "rhel", VersionID: "9.4"}, []string{"Red Hat:enterprise_linux:9::*"}},
		{inventory.OS{ID: "opensuse-leap", VersionID: "15.5"}, []string{"openSUSE:Leap 15.5"}},
		{inventory.OS{ID: "sles", VersionID: "15.5"}, []string{"SUSE:Linux Enterprise Server 15 SP5", "SUSE:Linux Enterprise Server 15 SP5-*", "SUSE:Linux Enterprise Module for * 15 SP5"}},
		{inventory.OS{ID: "sles_sap", VersionID: "15.5"}, []string{"SUSE:Linux Enterprise Server for SAP Applications 15 SP5", "SUSE:Linux Enterprise Server for SAP Applications 15 SP5-*", "SUSE:Linux Enterprise Module for * 15 SP5"}},
		{inventory.OS{ID: "debian"}, nil}, // testing/sid: no VERSION_ID
		{inventory.OS{ID: "ubuntu", VersionID: "jammy"}, nil},
	}
	for _, tt := range tests {
		if got := Ecosystems(tt.os, Options{UbuntuPro: true}); !slices.Equal(got, tt.want) {
			t.Errorf("Ecosystems(%s %s) = %q, want %q", tt.os.ID, tt.os.VersionID, got, tt.want)
		}
	}
}

func TestMatchEcosystem(t *testing.T) {
	tests := []struct {
		pattern, eco string
		want         bool
	}{
		{"Debian:12", "Debian:12", true},
		{"Debian:12", "Debian:11", false},
		{"Ubuntu:22.04:LTS", "Ubuntu:Pro:22.04:LTS", false},
		{"Red Hat:enterprise_linux:9::*", "Red Hat:enterprise_linux:9::baseos", true},
		{"Red Hat:enterprise_linux:9::*", "Red Hat:enterprise_linux:9::appstream", true},
		{"Red Hat:enterprise_linux:9::*", "Red Hat:enterprise_linux:8::baseos", false},
		{"Red Hat:enterprise_linux:9::*", "Red Hat:rhel_eus:9.4::baseos", false},
		{"SUSE:Linux Enterprise Server 15 SP5-*", "SUSE:Linux Enterprise Server 15 SP5-LTSS", true},
		{"SUSE:Linux Enterprise Server 15 SP5-*", "SUSE:Linux Enterprise Server 15 SP5", false},
		{"SUSE:Linux Enterprise Module for * 15 SP5", "SUSE:Linux Enterprise Module for Basesystem 15 SP5", true},
		{"SUSE:Linux Enterprise Module for * 15 SP5", "SUSE:Linux Enterprise Module for Basesystem 15 SP6", false},
		{"SUSE:Linux Enterprise Module for * 15 SP5", "SUSE:Linux Enterprise Module for Basesystem 15 SP5-LTSS", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "ac", false},
		{"*", "anything", true},
	}
	for _, tt := range tests {
		if got := MatchEcosystem(tt.pattern, tt.eco); got != tt.want {
			t.Errorf("MatchEcosystem(%q, %q) = %v", tt.pattern, tt.eco, got)
		}
	}
}

func TestVersionSchemeAndBase(t *testing.T) {
	for eco, want := range map[string]string{
		"Debian:12": "deb", "Ubuntu:Pro:18.04:LTS": "deb", "AlmaLinux:9": "rpm", "Rocky Linux:9": "rpm",
		"Red Hat:enterprise_linux:9::baseos": "rpm", "SUSE:Linux Enterprise Server 15 SP5": "rpm",
		"openSUSE:Leap 15.5": "rpm", "Alpine:v3.18": "apk", "Wolfi": "apk",
	} {
		if got, ok := VersionScheme(eco); !ok || got != want {
			t.Errorf("VersionScheme(%q) = %q, %v; want %q", eco, got, ok, want)
		}
	}
	if _, ok := VersionScheme("PyPI"); ok {
		t.Error("PyPI has a version scheme")
	}
	if Base("Red Hat:enterprise_linux:9::*") != "Red Hat" || Base("Wolfi") != "Wolfi" {
		t.Error("Base")
	}
}

func TestPackageKey(t *testing.T) {
	tests := []struct {
		eco       string
		p         inventory.Package
		name, ver string
	}{
		{"Debian:12", inventory.Package{Name: "libc6", Version: "2.36-9+deb12u3", SourceName: "glibc", SourceVersion: "2.36-9+deb12u3"}, "glibc", "2.36-9+deb12u3"},
		{"Debian:12", inventory.Package{Name: "zlib1g", Epoch: "1", Version: "1.2.13.dfsg-1"}, "zlib1g", "1:1.2.13.dfsg-1"}, // no source fields
		{"Ubuntu:22.04:LTS", inventory.Package{Name: "bsdutils", Epoch: "1", Version: "2.37.2-4ubuntu3", SourceName: "util-linux", SourceVersion: "2.37.2-4ubuntu3"}, "util-linux", "2.37.2-4ubuntu3"},
		{"Alpine:v3.18", inventory.Package{Name: "libcrypto3", Version: "3.1.4-r5", SourceName: "openssl", SourceVersion: "3.1.4-r5"}, "openssl", "3.1.4-r5"},
		{"AlmaLinux:9", inventory.Package{Name: "openssl-libs", Epoch: "1", Version: "3.0.7", Release: "27.el9", SourceName: "openssl", SourceVersion: "3.0.7-27.el9"}, "openssl-libs", "1:3.0.7-27.el9"},
		{"SUSE:Linux Enterprise Server 15 SP5", inventory.Package{Name: "libopenssl3", Version: "3.0.8", Release: "150500.5.8.1", SourceName: "openssl-3"}, "openssl-3", "3.0.8-150500.5.8.1"},
	}
	for _, tt := range tests {
		if name, ver := PackageKey(tt.eco, tt.p); name != tt.name || ver != tt.ver {
			t.Errorf("PackageKey(%s, %s) = %q, %q; want %q, %q", tt.eco, tt.p.Name, name, ver, tt.name, tt.ver)
		}
	}
}
