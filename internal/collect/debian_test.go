package collect

import (
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
)

func findPackage(pkgs []inventory.Package, name string) (inventory.Package, bool) {
	for _, p := range pkgs {
		if p.Name == name {
			return p, true
		}
	}
	return inventory.Package{}, false
}

// checkPackages asserts what holds for every package of one ecosystem.
func checkPackages(t *testing.T, pkgs []inventory.Package, eco string) {
	t.Helper()
	for _, p := range pkgs {
		if p.Name == "" || p.Version == "" || p.Ecosystem != eco || p.SourceName == "" && eco != inventory.EcosystemRPM {
			t.Errorf("bad package %+v", p)
		}
	}
}

func TestParseDpkgStatusFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		count   int
		want    []inventory.Package
		absent  []string
	}{
		// 91 stanzas; git is "deinstall ok config-files", so 90 installed.
		{"trivy/var/lib/dpkg/status.ubuntu-18.04", 90, []inventory.Package{
			{Name: "libc6", Version: "2.27-3ubuntu1", Arch: "amd64", SourceName: "glibc", SourceVersion: "2.27-3ubuntu1"},
			{Name: "base-files", Version: "10.1ubuntu2.2", Arch: "amd64", SourceName: "base-files", SourceVersion: "10.1ubuntu2.2"},
			{Name: "zlib1g", Epoch: "1", Version: "1.2.11.dfsg-0ubuntu2", Arch: "amd64", SourceName: "zlib", SourceVersion: "1:1.2.11.dfsg-0ubuntu2"},
			{Name: "bsdutils", Epoch: "1", Version: "2.31.1-0.4ubuntu3.1", Arch: "amd64", SourceName: "util-linux", SourceVersion: "2.31.1-0.4ubuntu3.1"},
		}, []string{"git"}},
		{"osv-scalibr/var/lib/dpkg/status.debian-12-excerpt", 7, []inventory.Package{
			{Name: "attr", Epoch: "1", Version: "2.5.1-4", Arch: "amd64", SourceName: "attr", SourceVersion: "1:2.5.1-4"},
			{Name: "adduser", Version: "3.131", Arch: "all", SourceName: "adduser", SourceVersion: "3.131"},
			{Name: "libacl1", Version: "2.3.1-3", Arch: "amd64", SourceName: "acl", SourceVersion: "2.3.1-3"},
			// A binNMU: the binary's version has +b1, the source's does not.
			{Name: "util-linux-extra", Version: "2.38.1-5+b1", Arch: "amd64", SourceName: "util-linux", SourceVersion: "2.38.1-5"},
		}, nil},
		{"claircore/var/lib/dpkg/status.debian-10-postgresql-excerpt", 3, []inventory.Package{
			{Name: "postgresql-client", Version: "11+200+deb10u5", Arch: "all", SourceName: "postgresql-common", SourceVersion: "200+deb10u5"},
			{Name: "postgresql-client-11", Version: "11.22-0+deb10u2", Arch: "amd64", SourceName: "postgresql-11", SourceVersion: "11.22-0+deb10u2"},
		}, nil},
		{"claircore/var/lib/dpkg/status.ubuntu-18.04-texlive", 357, []inventory.Package{
			{Name: "libquadmath0", Version: "8.4.0-1ubuntu1~18.04", Arch: "amd64", SourceName: "gcc-8", SourceVersion: "8.4.0-1ubuntu1~18.04"},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			pkgs, err := ParseDpkgStatus(fixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if len(pkgs) != tt.count {
				t.Errorf("got %d packages, want %d", len(pkgs), tt.count)
			}
			checkPackages(t, pkgs, inventory.EcosystemDeb)
			for _, w := range tt.want {
				w.Ecosystem = inventory.EcosystemDeb
				if got, _ := findPackage(pkgs, w.Name); got != w {
					t.Errorf("package %s =\n %+v\nwant\n %+v", w.Name, got, w)
				}
			}
			for _, name := range tt.absent {
				if _, ok := findPackage(pkgs, name); ok {
					t.Errorf("package %s should have been skipped", name)
				}
			}
		})
	}
}

// Constructed stanzas for the status values and field shapes the fixtures
// do not all cover.
func TestParseDpkgStatusConstructed(t *testing.T) {
	const status = `Package: held
Status: hold ok installed
Version: 1.0
Description: first line
 continuation: with a colon
 .

Package: removed
Status: deinstall ok config-files
Version: 2.0

Package: gone
Status: purge ok not-installed

Package: broken
Status: install reinstreq half-installed
Version: 3.0

package: lowercase
status: install ok installed
version: 0:4.0-1
architecture: arm64
source: src-pkg (4.0-0)
`
	pkgs, err := ParseDpkgStatus([]byte(strings.ReplaceAll(status, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.Package{
		{Name: "held", Version: "1.0", SourceName: "held", SourceVersion: "1.0", Ecosystem: "deb"},
		{Name: "lowercase", Epoch: "0", Version: "4.0-1", Arch: "arm64", SourceName: "src-pkg", SourceVersion: "4.0-0", Ecosystem: "deb"},
	}
	if !reflect.DeepEqual(pkgs, want) {
		t.Errorf("ParseDpkgStatus =\n %+v\nwant\n %+v", pkgs, want)
	}

	for _, in := range []string{"", "\n\n"} {
		pkgs, err := ParseDpkgStatus([]byte(in))
		if err != nil || pkgs == nil || len(pkgs) != 0 {
			t.Errorf("ParseDpkgStatus(%q) = %#v, %v; want empty slice", in, pkgs, err)
		}
	}
	if _, err := ParseDpkgStatus([]byte("cat: /var/lib/dpkg/status: No such file\n")); err == nil || !strings.HasPrefix(err.Error(), "parse dpkg status: ") {
		t.Errorf("no Package field: err = %v", err)
	}
}

// TestParseDpkgStatusThisHost checks the parser against dpkg itself on the
// machine running the tests, when it is a dpkg system.
func TestParseDpkgStatusThisHost(t *testing.T) {
	status, err := os.ReadFile("/var/lib/dpkg/status")
	if err != nil {
		t.Skip("no readable /var/lib/dpkg/status:", err)
	}
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("no dpkg-query")
	}
	out, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\n").Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if rest, ok := strings.CutPrefix(line, "installed\t"); ok {
			want = append(want, rest)
		}
	}
	pkgs, err := ParseDpkgStatus(status)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.Name+"\t"+p.EVR()+"\t"+p.Arch)
	}
	slices.Sort(want)
	slices.Sort(got)
	if len(got) != len(want) {
		t.Errorf("parsed %d installed packages, dpkg-query says %d", len(got), len(want))
	}
	if !slices.Equal(got, want) {
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("missing %q", w)
			}
		}
	}
	t.Logf("%d installed packages, as dpkg-query reports", len(got))
}
