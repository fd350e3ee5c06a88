package nvd

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/vuln"
)

func TestDecodeStreamPage(t *testing.T) {
	raws := rawRecords(t)
	var ids []string
	p, err := DecodeStream(bytes.NewReader(pageBytes(t, raws, 0, 39)), collect(&ids))
	if err != nil {
		t.Fatal(err)
	}
	if p.ResultsPerPage != 39 || p.StartIndex != 0 || p.TotalResults != 39 || p.Format != "NVD_CVE" || p.Version != "2.0" ||
		!p.Timestamp.Equal(time.Date(2026, 11, 27, 2, 33, 38, 311e6, time.UTC)) || p.Records != 39 || p.Skipped != 0 {
		t.Errorf("page %+v", p)
	}
	if len(ids) != 39 || ids[0] != "CVE-2014-6271" || ids[38] != "CVE-2025-31324" {
		t.Errorf("ids %v", ids)
	}
}

// A record that is valid JSON but not a usable CVE is skipped and named;
// the records around it still arrive. Unknown fields anywhere are ignored.
func TestDecodeStreamSkipsMalformedRecords(t *testing.T) {
	raws := rawRecords(t)
	cves := [][]byte{
		raws[0],
		[]byte(`{"id":"CVE-2099-0001","published":12,"lastModified":"2099-01-01T00:00:00.000"}`), // wrong type
		[]byte(`{"sourceIdentifier":"x","published":"2024-01-01T00:00:00.000"}`),                 // no id
		[]byte(`{"id":"CVE-2099-0003","published":"yesterday"}`),                                 // bad date
		[]byte(`{"id":"CVE-2099-0004","published":"2024-01-01T00:00:00","futureField":{"a":[1,{"b":null}]},"metrics":{"cvssMetricV99":[{}]}}`),
		raws[1],
	}
	page := pageBytes(t, cves, 0, 6)
	page = bytes.Replace(page, []byte(`"format"`), []byte(`"unknownHeader":[{"x":1}],"format"`), 1)
	var ids []string
	p, err := DecodeStream(bytes.NewReader(page), collect(&ids))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids, " ") != "CVE-2014-6271 CVE-2099-0004 CVE-2019-0190" {
		t.Errorf("delivered %v", ids)
	}
	if p.Skipped != 3 || len(p.Errors) != 3 {
		t.Fatalf("skipped %d errors %v", p.Skipped, p.Errors)
	}
	for i, want := range []struct {
		index int
		id    string
		msg   string
	}{{1, "CVE-2099-0001", "published"}, {2, "", "no CVE ID"}, {3, "CVE-2099-0003", "yesterday"}} {
		e := p.Errors[i]
		if e.Index != want.index || e.ID != want.id || !strings.Contains(e.Error(), want.msg) {
			t.Errorf("error %d: %v (index %d id %q), want index %d id %q containing %q", i, e.Error(), e.Index, e.ID, want.index, want.id, want.msg)
		}
	}
}

// Broken JSON outside a record fails the call with the records before the
// fault already delivered.
func TestDecodeStreamBrokenFile(t *testing.T) {
	raws := rawRecords(t)
	page := pageBytes(t, raws[:5], 0, 5)
	cut := bytes.Index(page, []byte(`"CVE-2021-23017"`)) // inside the 5th record
	var ids []string
	_, err := DecodeStream(bytes.NewReader(page[:cut]), collect(&ids))
	if err == nil || !strings.Contains(err.Error(), "element 4") {
		t.Fatalf("truncated page: err %v", err)
	}
	if len(ids) != 4 {
		t.Errorf("delivered %v before the fault, want the first 4", ids)
	}

	for name, doc := range map[string]string{
		"not an object": `[1,2]`,
		"trailing data": `{"vulnerabilities":[]} {}`,
		"1.1 feed":      `{"CVE_data_type":"CVE","CVE_Items":[]}`,
		"syntax":        `{"vulnerabilities":[{"cve":{"id":"CVE-1"}},}`,
		"empty":         ``,
	} {
		if _, err := DecodeStream(strings.NewReader(doc), collect(&ids)); err == nil || !strings.HasPrefix(err.Error(), "nvd: decode") {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

func TestDecodeStreamCallbackError(t *testing.T) {
	stop := errors.New("store full")
	n := 0
	_, err := DecodeStream(bytes.NewReader(pageBytes(t, rawRecords(t), 0, 39)), func(*vuln.CVE) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 || !strings.Contains(err.Error(), "CVE-2020-1472") {
		t.Errorf("err %v after %d records", err, n)
	}
}

func TestDecodeRecordForms(t *testing.T) {
	raw, err := os.ReadFile("testdata/records/CVE-2024-3094.json")
	if err != nil {
		t.Fatal(err)
	}
	wrapped := append(append([]byte(`{"cve":`), raw...), '}')
	for name, doc := range map[string][]byte{"bare": raw, "wrapped": wrapped} {
		c, err := DecodeRecord(bytes.NewReader(doc))
		if err != nil || c.ID != "CVE-2024-3094" || len(c.Configurations) != 1 {
			t.Errorf("%s: %v %+v", name, err, c)
		}
	}
	if _, err := DecodeRecord(bytes.NewReader(pageBytes(t, [][]byte{raw}, 0, 1))); err == nil {
		t.Error("a page accepted as a record")
	}
	if _, err := DecodeRecord(strings.NewReader(`{"id":"CVE-2024-1","published":"soon"}`)); err == nil || !strings.Contains(err.Error(), "soon") {
		t.Errorf("bad record: %v", err)
	}
}

// No sample has CVSS v4.0 or a zoned timestamp; this constructed record
// checks both.
func TestDecodeCVSS4AndZonedTime(t *testing.T) {
	doc := `{"id":"CVE-2099-1234","published":"2024-05-01T10:00:00.000+02:00","lastModified":"2024-05-02T00:00:00Z",
	"descriptions":[{"lang":"es","value":"hola"},{"lang":"en","value":"hello"}],
	"metrics":{"cvssMetricV40":[{"source":"cna@example.org","type":"Secondary","cvssData":{"version":"4.0","vectorString":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N","baseScore":9.3,"baseSeverity":"CRITICAL"}}],
	"cvssMetricV30":[{"source":"nvd@nist.gov","type":"Primary","cvssData":{"version":"3.0","vectorString":"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","baseScore":9.8,"baseSeverity":"CRITICAL"}}]},
	"weaknesses":[{"source":"a","type":"Primary","description":[{"lang":"en","value":"NVD-CWE-Other"},{"lang":"en","value":"CWE-79"}]},{"source":"b","type":"Secondary","description":[{"lang":"en","value":"CWE-79"}]}]}`
	c, err := DecodeRecord(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Published.Equal(time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)) || c.Description != "hello" {
		t.Errorf("published %v description %q", c.Published, c.Description)
	}
	if b := c.BestCVSS(); b.Version != "4.0" || b.Score != 9.3 || b.Source != "cna@example.org" {
		t.Errorf("best %+v", b)
	}
	if len(c.CWEs) != 1 || c.CWEs[0] != "CWE-79" {
		t.Errorf("CWEs %v", c.CWEs)
	}
}

// A feed named like NVD's (nvdcve-2.0-*.json.gz) is gunzipped by its magic
// bytes; a plain file with a .gz name and a records/ tree import too.
func TestImportFile(t *testing.T) {
	raws := rawRecords(t)
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if err := writePage(zw, raws[:20], 0, 20); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	feed := write("feeds/nvdcve-2.0-2024.json.gz", gz.Bytes())
	write("feeds/nvdcve-2.0-2025.json.gz", pageBytes(t, raws[20:], 0, 19)) // not really gzipped
	write("feeds/README.txt", []byte("ignored"))
	write("records/CVE-2024/CVE-2024-30xx/CVE-2024-3094.json", raws[31])

	var ids []string
	st, err := ImportFile(feed, collect(&ids))
	if err != nil || st.Files != 1 || st.Records != 20 || len(ids) != 20 {
		t.Fatalf("gz feed: %v %+v", err, st)
	}
	ids = nil
	st, err = ImportFile(dir, collect(&ids))
	if err != nil || st.Files != 3 || st.Records != 40 || ids[39] != "CVE-2024-3094" {
		t.Fatalf("directory: %v %+v last %v", err, st, ids[len(ids)-1])
	}

	// A broken file stops the import, names the file, and keeps what came
	// before; a malformed record only shows up in Stats.Errors.
	write("feeds/nvdcve-2.0-2026.json", []byte(`{"vulnerabilities":[{"cve":{"id":"CVE-2026-1"}},{"cve":{"id":"CVE-2026-2","published":"2026-01-01T00:00:00"}},`))
	ids = nil
	st, err = ImportFile(dir, collect(&ids))
	// 39 from the two feeds, then CVE-2026-2 before the fault; the records/
	// tree after it in lexical order is not reached.
	if err == nil || !strings.Contains(err.Error(), "nvdcve-2.0-2026.json") || st.Records != 40 || ids[39] != "CVE-2026-2" {
		t.Fatalf("broken file: err %v stats %+v", err, st)
	}
	if st.Skipped != 1 || st.Errors[0].ID != "CVE-2026-1" || !strings.HasSuffix(st.Errors[0].File, "nvdcve-2.0-2026.json") {
		t.Errorf("record error %+v", st.Errors)
	}
	if _, err := ImportFile(filepath.Join(dir, "missing.json"), collect(&ids)); err == nil {
		t.Error("missing file imported")
	}
}
