package collect

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport/local"
)

func TestParsePythonMetadataRecorded(t *testing.T) {
	pkgs, err := ParsePythonMetadata(readTestdata(t, "python/debian12/python_packages"))
	if err != nil {
		t.Fatal(err)
	}
	// 69 metadata files on that machine; cryptography has a dist-info
	// and an egg-info of the same version.
	if len(pkgs) != 68 {
		t.Errorf("got %d distributions, want 68", len(pkgs))
	}
	byName := map[string]inventory.Package{}
	for _, p := range pkgs {
		if p.Ecosystem != inventory.EcosystemPyPI || p.Name == "" || p.Version == "" {
			t.Errorf("package %+v", p)
		}
		if _, dup := byName[NormalizePythonName(p.Name)]; dup {
			t.Errorf("%s listed twice", p.Name)
		}
		byName[NormalizePythonName(p.Name)] = p
	}
	for name, version := range map[string]string{"pyyaml": "6.0", "ansible-core": "2.14.18", "cryptography": "38.0.4", "jinja2": "3.1.2"} {
		if byName[name].Version != version {
			t.Errorf("%s = %+v, want version %s", name, byName[name], version)
		}
	}
	if byName["pyyaml"].Name != "PyYAML" {
		t.Errorf("display name lost: %+v", byName["pyyaml"])
	}
}

// The probe's real command, run by this machine's shell over a copy of four
// real metadata files (testdata/python/README.md) under a temporary root.
func TestPythonCommandOnRealFiles(t *testing.T) {
	root, err := filepath.Abs("testdata/python/debian12/site")
	if err != nil {
		t.Fatal(err)
	}
	out, err := local.Runner{}.Run(context.Background(), pythonCommand(root))
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := ParsePythonMetadata(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.Package{
		{Name: "cryptography", Version: "38.0.4", Ecosystem: "pypi"},
		{Name: "Jinja2", Version: "3.1.2", Ecosystem: "pypi"},
		{Name: "PyYAML", Version: "6.0", Ecosystem: "pypi"},
	}
	if !reflect.DeepEqual(pkgs, want) {
		t.Errorf("got %+v\nfrom %s", pkgs, out)
	}
	// A host without Python: every glob stays literal, grep finds nothing.
	out, err = local.Runner{}.Run(context.Background(), pythonCommand(t.TempDir()))
	if err != nil || len(out) != 0 {
		t.Errorf("empty host: %q, %v", out, err)
	}
}

func TestParsePythonMetadataConstructed(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []inventory.Package
		err  bool
	}{
		{"two versions in two pythons", "/usr/lib/python3.9/site-packages/six-1.15.0.dist-info/METADATA:Name: six\n" +
			"/usr/lib/python3.9/site-packages/six-1.15.0.dist-info/METADATA:Version: 1.15.0\n" +
			"/usr/local/lib/python3.9/site-packages/six-1.16.0.dist-info/METADATA:Name: six\n" +
			"/usr/local/lib/python3.9/site-packages/six-1.16.0.dist-info/METADATA:Version: 1.16.0\n",
			[]inventory.Package{{Name: "six", Version: "1.15.0", Ecosystem: "pypi"}, {Name: "six", Version: "1.16.0", Ecosystem: "pypi"}}, false},
		{"egg-info file, names differing only by PEP 503", "/usr/lib/python2.7/site-packages/backports.ssl_match_hostname-3.5.0.1-py2.7.egg-info:Name: backports.ssl_match_hostname\n" +
			"/usr/lib/python2.7/site-packages/backports.ssl_match_hostname-3.5.0.1-py2.7.egg-info:Version: 3.5.0.1\n" +
			"/usr/lib64/python2.7/site-packages/backports_ssl_match_hostname-3.5.0.1.dist-info/METADATA:Name: Backports-SSL-Match-Hostname\n" +
			"/usr/lib64/python2.7/site-packages/backports_ssl_match_hostname-3.5.0.1.dist-info/METADATA:Version: 3.5.0.1\n",
			[]inventory.Package{{Name: "backports.ssl_match_hostname", Version: "3.5.0.1", Ecosystem: "pypi"}}, false},
		{"name without version", "/usr/lib/python3/dist-packages/x.egg-info/PKG-INFO:Name: x\n", []inventory.Package{}, false},
		{"empty", "", []inventory.Package{}, false},
		{"not grep output", "grep: invalid option\n", nil, true},
	}
	for _, tt := range tests {
		got, err := ParsePythonMetadata([]byte(tt.in))
		if (err != nil) != tt.err || !tt.err && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, %v", tt.name, got, err)
		}
	}
	if NormalizePythonName("Foo__Bar.baz-") != "foo-bar-baz" {
		t.Error(NormalizePythonName("Foo__Bar.baz-"))
	}
}
