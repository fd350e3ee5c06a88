package collect

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
)

func TestParseAPKInstalledFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		count   int
		want    []inventory.Package
	}{
		// 16 P: lines; trivy planted "invalidPackageWithoutAVersion", a
		// stanza with a name and nothing else, which is skipped.
		{"trivy/lib/apk/db/installed.alpine-3.4", 15, []inventory.Package{
			{Name: "musl", Version: "1.1.14-r10", Arch: "x86_64", SourceName: "musl", SourceVersion: "1.1.14-r10"},
			{Name: "libcrypto1.0", Version: "1.0.2h-r1", Arch: "x86_64", SourceName: "openssl", SourceVersion: "1.0.2h-r1"},
			{Name: "test", Version: "2.9.11_pre20061021-r2", Arch: "x86_64", SourceName: "test-parent", SourceVersion: "2.9.11_pre20061021-r2"},
		}},
		{"osv-scalibr/lib/apk/db/installed.alpine-3.18", 15, []inventory.Package{
			{Name: "musl", Version: "1.2.4-r0", Arch: "x86_64", SourceName: "musl", SourceVersion: "1.2.4-r0"},
			{Name: "ssl_client", Version: "1.36.0-r9", Arch: "x86_64", SourceName: "busybox", SourceVersion: "1.36.0-r9"},
			{Name: "scanelf", Version: "1.3.7-r1", Arch: "x86_64", SourceName: "pax-utils", SourceVersion: "1.3.7-r1"},
		}},
		{"syft/lib/apk/db/installed.alpine-3.16", 14, []inventory.Package{
			{Name: "busybox", Version: "1.35.0-r17", Arch: "x86_64", SourceName: "busybox", SourceVersion: "1.35.0-r17"},
			{Name: "libssl1.1", Version: "1.1.1q-r0", Arch: "x86_64", SourceName: "openssl", SourceVersion: "1.1.1q-r0"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			pkgs, err := ParseAPKInstalled(fixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if len(pkgs) != tt.count {
				t.Errorf("got %d packages, want %d", len(pkgs), tt.count)
			}
			checkPackages(t, pkgs, inventory.EcosystemAPK)
			for _, w := range tt.want {
				w.Ecosystem = inventory.EcosystemAPK
				if got, _ := findPackage(pkgs, w.Name); got != w {
					t.Errorf("package %s =\n %+v\nwant\n %+v", w.Name, got, w)
				}
			}
		})
	}
}

// Constructed: no origin line, CRLF, and two stanzas with no blank line
// between them.
func TestParseAPKInstalledConstructed(t *testing.T) {
	out := "C:Q1abc=\r\nP:zlib\r\nV:1.3-r0\r\nA:aarch64\r\nP:noorigin\nV:2.0-r1\nF:usr/lib\nR:libfoo.so\n\n\n"
	pkgs, err := ParseAPKInstalled([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.Package{
		{Name: "zlib", Version: "1.3-r0", Arch: "aarch64", SourceName: "zlib", SourceVersion: "1.3-r0", Ecosystem: "apk"},
		{Name: "noorigin", Version: "2.0-r1", SourceName: "noorigin", SourceVersion: "2.0-r1", Ecosystem: "apk"},
	}
	if !reflect.DeepEqual(pkgs, want) {
		t.Errorf("ParseAPKInstalled =\n %+v\nwant\n %+v", pkgs, want)
	}
	if pkgs, err := ParseAPKInstalled([]byte("\n")); err != nil || pkgs == nil || len(pkgs) != 0 {
		t.Errorf("blank input: %#v, %v", pkgs, err)
	}
	if _, err := ParseAPKInstalled([]byte("Package: zlib\nVersion: 1\n")); err == nil || !strings.HasPrefix(err.Error(), "parse apk installed: ") {
		t.Errorf("dpkg-looking input: err = %v", err)
	}
}
