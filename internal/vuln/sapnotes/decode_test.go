package sapnotes

import (
	"os"
	"strings"
	"testing"
)

func decodeSample(t testing.TB) ([]*Note, Result) {
	t.Helper()
	f, err := os.Open("testdata/notes_catalog.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var notes []*Note
	res, err := Decode(f, func(n *Note) error { notes = append(notes, n); return nil })
	if err != nil {
		t.Fatalf("Decode sample: %v", err)
	}
	return notes, res
}

func noteByNumber(t testing.TB, notes []*Note, num string) *Note {
	t.Helper()
	for _, n := range notes {
		if n.Number == num {
			return n
		}
	}
	t.Fatalf("note %s not in catalogue", num)
	return nil
}

func TestDecodeSampleCatalogue(t *testing.T) {
	notes, res := decodeSample(t)
	if res.Seen != 130 || res.Delivered != 130 || res.Skipped != 0 || res.Count != 130 || res.Version != "2026-07-20" {
		t.Fatalf("result = %+v, want 130 seen and delivered, none skipped, version 2026-07-20", res)
	}
	first := notes[0]
	if first.Number != "3773304" || first.Priority != PriorityHigh || first.CVSSScore != 7.6 ||
		first.CVSSVector != "CVSS:3.0/AV:N/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:L" || len(first.CVEs) != 1 ||
		first.Released.Format("2006-01-02") != "2026-07-14" || len(first.Affected) != 1 ||
		first.Affected[0].Component != "CTS_UPLOAD_CLT" || first.Component != "BC-CTS-TMS-PLS" {
		t.Errorf("first note = %+v", first)
	}
	// The sample's deliberately imperfect records import with their
	// problems said, not dropped.
	for _, tc := range []struct{ num, problem string }{
		{"3747367", `CVSS vector "CVSS:/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H" dropped`},
		{"3727717", "CVSS vector"},
		{"3665042", "CVSS vector"},
		{"3747787", "CVSS vector"},
	} {
		n := noteByNumber(t, notes, tc.num)
		if n.CVSSVector != "" || !strings.Contains(strings.Join(n.Problems, "; "), tc.problem) {
			t.Errorf("note %s: vector %q problems %q, want the vector dropped with %q", tc.num, n.CVSSVector, n.Problems, tc.problem)
		}
	}
	if n := noteByNumber(t, notes, "3747367"); n.VersionsUnparsed == "" || len(n.Affected) != 0 || n.Priority != PriorityHotNews || n.CVSSScore != 9.9 {
		t.Errorf("3747367 = %+v, want unparsed versions kept, HotNews 9.9", n)
	}
	if n := noteByNumber(t, notes, "3747787"); n.CVSSScore != 0 || len(n.CVEs) != 0 {
		t.Errorf("3747787: score %v cves %v, want none", n.CVSSScore, n.CVEs)
	}
	var warned int
	for _, w := range res.Warnings {
		if strings.Contains(w, "CVSS vector") {
			warned++
		}
	}
	if warned != 4 {
		t.Errorf("CVSS warnings = %d (%q), want 4", warned, res.Warnings)
	}
}

func TestDecodeMalformedRecords(t *testing.T) {
	const in = `{"catalog_meta": {"catalog_version": "x", "note_count": 5, "future_field": 1},
	 "notes": [
	  {"note_number": "3000001", "title": "Good", "priority": "High", "cve_ids": ["CVE-2026-1234"], "affected": [{"software_component": "SAP_BASIS", "versions": ["750"]}], "new_field": {"a": [1]}},
	  {"note_number": "30", "title": "Short number", "priority": "High"},
	  {"note_number": "3000003", "title": "Wrong type", "priority": "High", "cvss_score": "high"},
	  {"note_number": "3000004", "title": "", "priority": "Low"},
	  {"note_number": "3000005", "title": "Bad priority", "priority": "Urgent"},
	  {"note_number": 3000006, "title": "Numeric note number", "priority": "hot news", "released_on": "2026-13-45", "cve_ids": ["CVE-2026-1", "cve-2026-99999"]}
	 ]}`
	var got []*Note
	res, err := Decode(strings.NewReader(in), func(n *Note) error { got = append(got, n); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if res.Seen != 6 || res.Delivered != 2 || res.Skipped != 4 {
		t.Fatalf("result = %+v", res)
	}
	wantErr := map[int]string{1: "not 6-8 digits", 2: "cannot unmarshal", 3: "title is empty", 4: `priority "Urgent"`}
	for _, e := range res.Errors {
		if w, ok := wantErr[e.Index]; !ok || !strings.Contains(e.Error(), w) {
			t.Errorf("error %v, want index %d to say %q", e.Error(), e.Index, w)
		}
		delete(wantErr, e.Index)
	}
	if len(wantErr) != 0 {
		t.Errorf("missing record errors: %v", wantErr)
	}
	n := got[1]
	if n.Number != "3000006" || n.Priority != PriorityHotNews || strings.Join(n.CVEs, ",") != "CVE-2026-99999" || !n.Released.IsZero() {
		t.Errorf("note = %+v", n)
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "note_count 5 but lists 6") {
		t.Errorf("warnings = %q, want the count mismatch", res.Warnings)
	}
}

func TestDecodeErrors(t *testing.T) {
	for name, in := range map[string]string{
		"not an object":  `[1,2]`,
		"no notes array": `{"catalog_meta": {}}`,
		"broken JSON":    `{"notes": [{"note_number": "3000001", "title": "x", "priority": "High"}, {"note_number": }]}`,
		"trailing":       `{"notes": []`,
	} {
		t.Run(name, func(t *testing.T) {
			n := 0
			_, err := Decode(strings.NewReader(in), func(*Note) error { n++; return nil })
			if err == nil {
				t.Fatal("no error")
			}
			if name == "broken JSON" && n != 1 {
				t.Errorf("delivered %d notes before the break, want 1", n)
			}
		})
	}
}

func TestDecodeCSV(t *testing.T) {
	f, err := os.Open("testdata/notes.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []*Note
	res, err := DecodeAny(f, "notes.csv", func(n *Note) error { got = append(got, n); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if res.Delivered != 2 || res.Skipped != 4 {
		t.Fatalf("result = %+v", res)
	}
	k := got[0]
	if k.Number != "3692165" || len(k.Affected) != 2 || k.Affected[1].Component != "KERNEL" ||
		strings.Join(k.Affected[1].Versions, ",") != "7.53,7.54,7.77" || k.Affected[1].Fixed["7.77"] != "PL1200" ||
		strings.Join(k.Products, "|") != "SAP Web Dispatcher|SAP Internet Communication Manager" {
		t.Errorf("kernel note = %+v", k)
	}
	b := got[1]
	if len(b.CVEs) != 2 || b.Affected[0].Fixed["750"] != "SP0031" || b.CVSSScore != 5.4 {
		t.Errorf("basis note = %+v", b)
	}
	var reasons []string
	for _, e := range res.Errors {
		reasons = append(reasons, e.Error())
	}
	all := strings.Join(reasons, "\n")
	for _, want := range []string{"record 4 (note 12AB)", "record 5 (note 3800001)", "record 7: parse error", `cvss_score "eleven"`, "record 6"} {
		if !strings.Contains(all, want) {
			t.Errorf("errors %q lack %q", all, want)
		}
	}
}

func TestDecodeAnySniffs(t *testing.T) {
	n := 0
	if _, err := DecodeAny(strings.NewReader("\ufeff  {\"notes\": []}"), "feed", func(*Note) error { n++; return nil }); err != nil {
		t.Errorf("JSON with BOM: %v", err)
	}
	res, err := DecodeAny(strings.NewReader("note_number,title,priority\n3000001,T,Low\n"), "feed", func(*Note) error { n++; return nil })
	if err != nil || res.Delivered != 1 {
		t.Errorf("CSV sniffed: %+v %v", res, err)
	}
}

func TestPriorityAndRelease(t *testing.T) {
	for in, want := range map[string]string{"HotNews": PriorityHotNews, "Hot News": PriorityHotNews, "very high": PriorityHotNews, "high": PriorityHigh, " Medium ": PriorityMedium, "LOW": PriorityLow} {
		if got, ok := NormalizePriority(in); !ok || got != want {
			t.Errorf("NormalizePriority(%q) = %q %v", in, got, ok)
		}
	}
	if _, ok := NormalizePriority("urgent"); ok {
		t.Error("urgent accepted")
	}
	for a, b := range map[string]string{"7.53": "753", "7.22EXT": "722EXT", "722_EXT": "722EXT", "2.00": "200", "750": "750"} {
		if NormalizeRelease(a) != NormalizeRelease(b) {
			t.Errorf("%q and %q differ", a, b)
		}
	}
	if NormalizeRelease("7.50") == NormalizeRelease("7.51") {
		t.Error("7.50 == 7.51")
	}
}
