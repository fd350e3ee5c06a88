package osv

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/version"
)

// loadAdvisory decodes one testdata file.
func loadAdvisory(t testing.TB, name string) *vuln.Advisory {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return a
}

// finding is what hostMatches reports: which affected entry matched a
// package and the verdict.
type finding struct {
	Advisory  string
	Ecosystem string
	Package   string // the installed package's own name
	Result
}

// hostMatches is the smallest matcher that uses this package as intended:
// pick the host's ecosystems, look each package up under the name and
// version PackageKey gives, and evaluate with the ecosystem's ordering. It
// exists to test the pieces together; the real matcher is internal/vuln/match.
func hostMatches(t *testing.T, advisories []*vuln.Advisory, hostOS inventory.OS, opt Options, pkgs []inventory.Package) []finding {
	t.Helper()
	patterns := Ecosystems(hostOS, opt)
	var out []finding
	for _, a := range advisories {
		for _, af := range a.Affected {
			applies := false
			for _, p := range patterns {
				applies = applies || MatchEcosystem(p, af.Ecosystem)
			}
			if !applies {
				continue
			}
			scheme, ok := VersionScheme(af.Ecosystem)
			if !ok {
				t.Fatalf("no version scheme for %s", af.Ecosystem)
			}
			cmp, err := version.For(scheme)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pkgs {
				name, ver := PackageKey(af.Ecosystem, p)
				if name != af.Package {
					continue
				}
				res, err := Evaluate(af, cmp, ver)
				if err != nil {
					t.Fatalf("%s %s: %v", a.ID, p.Name, err)
				}
				if res.Affected {
					out = append(out, finding{Advisory: a.ID, Ecosystem: af.Ecosystem, Package: p.Name, Result: res})
				}
			}
		}
	}
	return out
}
