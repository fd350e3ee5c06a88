package epss

import (
	"math"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/vuln"
)

// FuzzParseLine checks the row parser on arbitrary lines (the file comes
// from the network): no panic, accepted rows are a CVE ID with two
// probabilities, and Decode agrees with it row for row. Seeds in
// testdata/fuzz/FuzzParseLine are constructed.
func FuzzParseLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, line string) {
		cve, score, pct, err := ParseLine(line)
		if err == nil {
			if !cveRE.MatchString(cve) || !(score >= 0 && score <= 1) || !(pct >= 0 && pct <= 1) || math.IsNaN(score) {
				t.Fatalf("%q: accepted %q %v %v", line, cve, score, pct)
			}
		}
		if strings.ContainsAny(line, "\r\n") || strings.TrimSpace(line) == "" {
			return
		}
		var rows []vuln.EPSS
		res, derr := Decode(strings.NewReader("cve,epss,percentile\n"+line+"\n"), func(e *vuln.EPSS) error {
			rows = append(rows, *e)
			return nil
		})
		if derr != nil || res.Rows+res.Skipped != 1 || (res.Rows == 1) != (err == nil) {
			t.Fatalf("%q: Decode %v %+v, ParseLine %v", line, derr, res, err)
		}
		if err == nil && (rows[0].CVE != cve || rows[0].Score != score || rows[0].Percentile != pct) {
			t.Fatalf("%q: Decode %+v, ParseLine %q %v %v", line, rows[0], cve, score, pct)
		}
	})
}
