package nvd

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/vigil-project/vigil/internal/vuln"
)

// rawRecords returns the bytes of the 39 real records, in file order.
func rawRecords(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, f := range recordFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// writePage writes an API 2.0 response page (the same shape as a 2.0 feed
// file) holding the given cve objects.
func writePage(w io.Writer, cves [][]byte, start, total int) error {
	if _, err := fmt.Fprintf(w, `{"resultsPerPage":%d,"startIndex":%d,"totalResults":%d,"format":"NVD_CVE","version":"2.0","timestamp":"2026-11-27T02:33:38.311","vulnerabilities":[`,
		len(cves), start, total); err != nil {
		return err
	}
	for i, c := range cves {
		sep := ","
		if i == 0 {
			sep = ""
		}
		if _, err := fmt.Fprintf(w, `%s{"cve":%s}`, sep, c); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "]}")
	return err
}

func pageBytes(t testing.TB, cves [][]byte, start, total int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := writePage(&b, cves, start, total); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// collect returns a callback that appends to *ids.
func collect(ids *[]string) func(*vuln.CVE) error {
	return func(c *vuln.CVE) error {
		*ids = append(*ids, c.ID)
		return nil
	}
}
