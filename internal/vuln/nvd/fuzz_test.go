package nvd

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/vuln"
)

// FuzzDecodeRecord feeds arbitrary bytes to the record decoder (which is
// the stream decoder with one record expected). Feed files come from the
// network and mirrors, so nothing may panic, errors must say where they
// come from, and what is accepted must be a CVE with its counts straight.
// Seeds in testdata/fuzz/FuzzDecodeRecord are real records (small ones,
// one with an AND configuration) and constructed edge cases.
func FuzzDecodeRecord(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeRecord(bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "nvd: ") {
				t.Errorf("error without package prefix: %v", err)
			}
		} else if !strings.HasPrefix(c.ID, "CVE-") || c.Published.Location().String() != "UTC" {
			t.Errorf("accepted %q published %v", c.ID, c.Published)
		}
		var n int
		p, err := DecodeStream(bytes.NewReader(data), func(*vuln.CVE) error { n++; return nil })
		if p.Records != n || len(p.Errors) > p.Skipped || len(p.Errors) > MaxRecordErrors {
			t.Errorf("page %+v after %d callbacks (err %v)", p, n, err)
		}
	})
}
