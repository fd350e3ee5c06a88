package osv

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/version"
)

// FuzzDecode: any input either decodes into an advisory with an ID and
// well-formed events, or fails; it never panics. Seeds: testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		if a.ID == "" {
			t.Fatal("decoded an advisory without an ID")
		}
		for _, af := range a.Affected {
			if af.Ecosystem == "" || af.Package == "" || len(af.Ranges)+len(af.Versions) == 0 {
				t.Fatalf("kept an unusable affected entry %+v", af)
			}
			for _, r := range af.Ranges {
				for _, e := range r.Events {
					n := 0
					for _, s := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
						if s != "" {
							n++
						}
					}
					if n != 1 {
						t.Fatalf("event %+v sets %d fields", e, n)
					}
				}
			}
		}
		// Walk reads the same bytes the same way.
		path := t.TempDir() + "/r.json"
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		stats, err := Walk(path, func(*vuln.Advisory) error { return nil })
		if err != nil || stats.Records != 1 {
			t.Fatalf("Decode accepted what Walk did not: %+v, %v", stats, err)
		}
	})
}

// FuzzEvaluate: Evaluate never panics, and its answer agrees with a direct
// reading of a one-range affected entry: affected exactly when installed is
// listed, or at or above introduced and below fixed / at or below
// last_affected and below limit; and a reported fix is above installed and
// not itself affected. Seeds: testdata/fuzz/FuzzEvaluate.
func FuzzEvaluate(f *testing.F) {
	comparers := []version.Comparer{version.Deb{}, version.RPM{}, version.APK{}}
	f.Fuzz(func(t *testing.T, scheme int, introduced, fixed, lastAffected, limit, listed, installed string) {
		cmp := comparers[(scheme%3+3)%3]
		var events []vuln.Event
		for _, e := range []vuln.Event{{Introduced: introduced}, {Fixed: fixed}, {LastAffected: lastAffected}, {Limit: limit}} {
			if e != (vuln.Event{}) {
				events = append(events, e)
			}
		}
		af := vuln.Affected{Ecosystem: "Fuzz", Package: "p", Ranges: []vuln.Range{{Events: events}}}
		if listed != "" {
			af.Versions = []string{listed}
		}
		res, err := Evaluate(af, cmp, installed)
		if err != nil {
			return
		}
		cmpOK := func(a, b string) int {
			c, err := cmp.Compare(a, b)
			if err != nil {
				t.Fatalf("Evaluate accepted %q or %q, Compare did not: %v", a, b, err)
			}
			return c
		}
		want := introduced != "" && (introduced == "0" || cmpOK(installed, introduced) >= 0)
		if fixed != "" && cmpOK(installed, fixed) >= 0 && (introduced == "0" || introduced == "" || cmpOK(fixed, introduced) >= 0) {
			want = false // fixed sorts after introduced, so it has the last word
		}
		if lastAffected != "" && cmpOK(installed, lastAffected) > 0 && (introduced == "0" || introduced == "" || cmpOK(lastAffected, introduced) >= 0) {
			want = false
		}
		if limit != "" && !strings.Contains(limit, "*") && cmpOK(installed, limit) >= 0 {
			want = false
		}
		if listed != "" {
			if c, err := cmp.Compare(listed, installed); listed == installed || (err == nil && c == 0) {
				want = true
			}
		}
		if res.Affected != want {
			t.Fatalf("Evaluate(%q in %+v) = %+v, want affected %v", installed, af, res, want)
		}
		if res.Fixed != "" {
			if !res.Affected || cmpOK(res.Fixed, installed) <= 0 {
				t.Fatalf("fix %q for installed %q (affected %v)", res.Fixed, installed, res.Affected)
			}
			if again, err := Evaluate(af, cmp, res.Fixed); err != nil || again.Affected {
				t.Fatalf("the fix %q is itself affected: %+v, %v", res.Fixed, again, err)
			}
		}
	})
}
