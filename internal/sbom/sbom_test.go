package sbom

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/inventory"
)

func read(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const hosts = "../collect/testdata/hosts"

func osRelease(t *testing.T, name string) inventory.OS {
	t.Helper()
	// As the probe prints it: each release file under a "==> path <==" header.
	out := append([]byte("==> /etc/os-release <==\n"), read(t, hosts, "chef-os_release", name)...)
	o, err := collect.ParseOS(out)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// bomSchema compiles the CycloneDX 1.6 JSON schema from testdata, with the
// SPDX and JSF schemas it references registered under their $id.
func bomSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		for _, f := range []string{"bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json"} {
			b, err := os.ReadFile(filepath.Join("testdata", "schema", f))
			if err != nil {
				schemaErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				schemaErr = err
				return
			}
			if err := c.AddResource("http://cyclonedx.org/schema/"+f, doc); err != nil {
				schemaErr = err
				return
			}
		}
		schema, schemaErr = c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json")
	})
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	return schema
}

func validate(t *testing.T, out []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := bomSchema(t).Validate(inst); err != nil {
		t.Fatalf("SBOM does not validate against the CycloneDX 1.6 schema: %v", err)
	}
}

// TestSBOMFixtures builds SBOMs from real package databases and real
// os-release files, checks the purls of known packages, and validates each
// document against the CycloneDX 1.6 JSON schema.
func TestSBOMFixtures(t *testing.T) {
	ubuntu1804 := inventory.OS{ID: "ubuntu", VersionID: "18.04", Family: "debian", IDLike: []string{"debian"}}
	tests := []struct {
		name  string
		os    inventory.OS
		parse func([]byte) ([]inventory.Package, error)
		file  string
		count int
		purls map[string]string // package name → purl
	}{
		{"debian12", osRelease(t, "debian_12"), collect.ParseDpkgStatus, "osv-scalibr/var/lib/dpkg/status.debian-12-excerpt", 7, map[string]string{
			"attr":    "pkg:deb/debian/attr@1:2.5.1-4?arch=amd64&distro=debian-12",
			"libacl1": "pkg:deb/debian/libacl1@2.3.1-3?arch=amd64&distro=debian-12&upstream=acl",
			// A binNMU: the binary's version, the source named upstream.
			"util-linux-extra": "pkg:deb/debian/util-linux-extra@2.38.1-5%2Bb1?arch=amd64&distro=debian-12&upstream=util-linux",
		}},
		{"ubuntu1804", ubuntu1804, collect.ParseDpkgStatus, "trivy/var/lib/dpkg/status.ubuntu-18.04", 90, map[string]string{
			"libc6":  "pkg:deb/ubuntu/libc6@2.27-3ubuntu1?arch=amd64&distro=ubuntu-18.04&upstream=glibc",
			"zlib1g": "pkg:deb/ubuntu/zlib1g@1:1.2.11.dfsg-0ubuntu2?arch=amd64&distro=ubuntu-18.04&upstream=zlib",
		}},
		{"centos7", osRelease(t, "centos_7"), collect.ParseRPMQuery, "ohai/rpmquery.output", 7, map[string]string{
			"glibc":          "pkg:rpm/centos/glibc@2.17-106.el7_2.6?arch=x86_64&distro=centos-7",
			"centos-release": "pkg:rpm/centos/centos-release@7-2.1511.el7.centos.2.10?arch=x86_64&distro=centos-7",
		}},
		{"alpine318", osRelease(t, "alpine_3_18"), collect.ParseAPKInstalled, "osv-scalibr/lib/apk/db/installed.alpine-3.18", 15, map[string]string{
			"musl":       "pkg:apk/alpine/musl@1.2.4-r0?arch=x86_64&distro=alpine-3.18.12",
			"ssl_client": "pkg:apk/alpine/ssl_client@1.36.0-r9?arch=x86_64&distro=alpine-3.18.12&upstream=busybox",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkgs, err := tt.parse(read(t, hosts, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(pkgs) != tt.count {
				t.Fatalf("fixture has %d packages, want %d", len(pkgs), tt.count)
			}
			scanned := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
			bom, err := Build(Host{ID: 7, Name: "web-1", OS: tt.os, ScannedAt: &scanned}, pkgs,
				Options{Now: scanned.Add(time.Hour), ToolVersion: "test"})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := Encode(&buf, bom); err != nil {
				t.Fatal(err)
			}
			validate(t, buf.Bytes())

			var doc struct {
				SpecVersion string `json:"specVersion"`
				Serial      string `json:"serialNumber"`
				Components  []struct {
					Type    string `json:"type"`
					BOMRef  string `json:"bom-ref"`
					Name    string `json:"name"`
					Version string `json:"version"`
					PURL    string `json:"purl"`
				} `json:"components"`
			}
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.SpecVersion != "1.6" || !strings.HasPrefix(doc.Serial, "urn:uuid:") {
				t.Errorf("specVersion %q, serial %q", doc.SpecVersion, doc.Serial)
			}
			if len(doc.Components) != tt.count+1 || doc.Components[0].Type != "operating-system" {
				t.Fatalf("%d components, first %+v; want the OS and %d packages", len(doc.Components), doc.Components[0], tt.count)
			}
			got := map[string]string{}
			refs := map[string]bool{}
			for _, c := range doc.Components[1:] {
				if c.PURL == "" {
					t.Errorf("component %s has no purl", c.Name)
				}
				if refs[c.BOMRef] {
					t.Errorf("bom-ref %q is not unique", c.BOMRef)
				}
				refs[c.BOMRef] = true
				got[c.Name] = c.PURL
			}
			for name, want := range tt.purls {
				if got[name] != want {
					t.Errorf("purl of %s = %q, want %q", name, got[name], want)
				}
			}
		})
	}
}

// TestPURLConstructed covers what the fixtures do not: rpm epochs and
// source packages, Red Hat's namespace, PyPI name normalisation, and
// Windows programs, which purl has no type for.
func TestPURLConstructed(t *testing.T) {
	rhel := inventory.OS{ID: "rhel", VersionID: "9.3"}
	alma := inventory.OS{ID: "almalinux", VersionID: "9.3"}
	tests := []struct {
		os   inventory.OS
		pkg  inventory.Package
		want string
	}{
		{alma, inventory.Package{Name: "openssl", Epoch: "1", Version: "3.0.7", Release: "27.el9", Arch: "x86_64", SourceName: "openssl", Ecosystem: "rpm"},
			"pkg:rpm/almalinux/openssl@3.0.7-27.el9?arch=x86_64&distro=almalinux-9.3&epoch=1&upstream=openssl"},
		{rhel, inventory.Package{Name: "bash", Epoch: "0", Version: "5.1.8", Release: "6.el9", Arch: "x86_64", Ecosystem: "rpm"},
			"pkg:rpm/redhat/bash@5.1.8-6.el9?arch=x86_64&distro=rhel-9.3"},
		{alma, inventory.Package{Name: "Jinja2", Version: "3.1.2", Ecosystem: "pypi"}, "pkg:pypi/jinja2@3.1.2"},
		{alma, inventory.Package{Name: "typing_extensions", Version: "4.7.1", Ecosystem: "pypi"}, "pkg:pypi/typing-extensions@4.7.1"},
		{alma, inventory.Package{Name: "zope.interface", Version: "6.0", Ecosystem: "pypi"}, "pkg:pypi/zope-interface@6.0"},
		{inventory.OS{ID: "windows"}, inventory.Package{Name: "7-Zip 23.01 (x64)", Version: "23.01", Ecosystem: "windows"}, ""},
		{alma, inventory.Package{Name: "broken", Ecosystem: "rpm"}, ""},
	}
	for _, tt := range tests {
		if got := PURL(tt.os, tt.pkg); got != tt.want {
			t.Errorf("PURL(%s %s) = %q, want %q", tt.os.ID, tt.pkg.Name, got, tt.want)
		}
	}
}

// TestBuildDuplicatesAndWindows: two installed kernels of one version get
// distinct bom-refs, a Windows program is an application without a purl,
// and the document still validates.
func TestBuildDuplicatesAndWindows(t *testing.T) {
	pkgs := []inventory.Package{
		{Name: "kernel", Epoch: "0", Version: "5.14.0", Release: "362.8.1.el9_3", Arch: "x86_64", Ecosystem: "rpm"},
		{Name: "kernel", Epoch: "0", Version: "5.14.0", Release: "362.8.1.el9_3", Arch: "x86_64", Ecosystem: "rpm"},
		{Name: "7-Zip 23.01 (x64)", Version: "23.01", Vendor: "Igor Pavlov", InstallDate: "2024-01-05", Ecosystem: "windows"},
	}
	bom, err := Build(Host{ID: 1, Name: "mixed", OS: inventory.OS{ID: "almalinux", VersionID: "9.3"}}, pkgs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, bom); err != nil {
		t.Fatal(err)
	}
	validate(t, buf.Bytes())
	cs := *bom.Components
	if len(cs) != 4 {
		t.Fatalf("%d components", len(cs))
	}
	// The OS, then by ecosystem: the two kernels (rpm), the program (windows).
	if cs[1].Name != "kernel" || cs[2].Name != "kernel" || cs[1].BOMRef == cs[2].BOMRef {
		t.Errorf("duplicate kernels: bom-refs %q and %q", cs[1].BOMRef, cs[2].BOMRef)
	}
	if cs[3].Type != "application" || cs[3].PackageURL != "" || cs[3].Publisher != "Igor Pavlov" {
		t.Errorf("windows program = %+v", cs[3])
	}
}

// TestSchemaRejects proves the validation can fail: a document without the
// required bomFormat is refused.
func TestSchemaRejects(t *testing.T) {
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(`{"specVersion":"1.6","components":[{"type":"library"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := bomSchema(t).Validate(inst); err == nil {
		t.Fatal("an invalid document validated")
	}
}
