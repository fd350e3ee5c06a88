package cpe

import (
	"testing"

	goversion "github.com/aquasecurity/go-version/pkg/version"

	"github.com/vigil-project/vigil/internal/vuln"
)

// FuzzCompareVersions checks that version comparison is a total order —
// reflexive, antisymmetric, transitive — that it agrees with go-version
// wherever go-version is used (so mixing the two paths cannot break the
// order), that unparseable versions are reported as such, and that
// Evaluate applies a bound exactly as the comparison says: an installed
// version matches versionEndExcluding b iff it compares below b, and never
// when either cannot be ordered. Versions come from hosts and feeds.
// Seeds in testdata/fuzz/FuzzCompareVersions are shapes from NVD bounds.
func FuzzCompareVersions(f *testing.F) {
	f.Fuzz(func(t *testing.T, a, b, c string) {
		ab, errAB := CompareVersions(a, b)
		ba, errBA := CompareVersions(b, a)
		_, errA := tokenize(a)
		_, errB := tokenize(b)
		if (errAB != nil) != (errA != nil || errB != nil) || (errAB == nil) != (errBA == nil) {
			t.Fatalf("%q vs %q: errors %v / %v, tokenize %v / %v", a, b, errAB, errBA, errA, errB)
		}
		if errAB == nil {
			if ab != -ba || ab < -1 || ab > 1 {
				t.Fatalf("%q vs %q: %d, reverse %d", a, b, ab, ba)
			}
			if aa, _ := CompareVersions(a, a); aa != 0 {
				t.Fatalf("%q vs itself: %d", a, aa)
			}
			if numericOnly(a) && numericOnly(b) {
				va, e1 := goversion.Parse(a)
				vb, e2 := goversion.Parse(b)
				ta, _ := tokenize(a)
				tb, _ := tokenize(b)
				if e1 == nil && e2 == nil && va.Compare(vb) != compareTokens(ta, tb) {
					t.Fatalf("%q vs %q: go-version %d, tokens %d", a, b, va.Compare(vb), compareTokens(ta, tb))
				}
			}
			if bc, err := CompareVersions(b, c); err == nil && ab <= 0 && bc <= 0 {
				if ac, _ := CompareVersions(a, c); ac > 0 {
					t.Fatalf("not transitive: %q <= %q <= %q but %q > %q", a, b, c, a, c)
				}
			}
		}

		if !usableVersion(a) || b == "" {
			return
		}
		installed := format(Product{"a", "fuzz", "fuzz"}, a, "")
		if _, err := parseName(installed); err != nil {
			return
		}
		cfg := []vuln.Configuration{{Nodes: []vuln.Node{{Operator: "OR", Matches: []vuln.CPEMatch{
			{Vulnerable: true, Criteria: "cpe:2.3:a:fuzz:fuzz:*:*:*:*:*:*:*:*", VersionEndExcluding: Escape(b)},
		}}}}}
		m := Evaluate(cfg, Inventory{{CPE: installed}})
		if want := errAB == nil && ab < 0; m.Matched != want {
			t.Fatalf("installed %q, < %q: matched %v, compare %d %v\n%s", a, b, m.Matched, ab, errAB, m.Explanation)
		}
	})
}
