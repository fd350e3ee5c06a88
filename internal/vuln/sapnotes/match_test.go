package sapnotes

import (
	"os"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
)

// abapSystem is an ABAP 7.50 system on HANA whose component list was
// read, with kernel 7.53 patch 1100.
func abapSystem() inventory.SAPSystem {
	return inventory.SAPSystem{
		SID: "PRD",
		Components: []inventory.SAPComponent{
			{Name: "SAP_BASIS", Release: "750", SPLevel: "0012", Source: "sapcontrol"},
			{Name: "SAP_ABA", Release: "750", SPLevel: "0012", Source: "sapcontrol"},
			{Name: "KERNEL", Release: "7.53", PatchLevel: "1100", Source: "disp+work"},
			{Name: "KRNL64UC", Release: "7.53", PatchLevel: "1100", Source: "disp+work"},
			{Name: "HDB", Release: "2.00", PatchLevel: "059", Source: "HDB version"},
		},
		Sources: []inventory.SAPSource{{Name: SourceComponents, Available: true}},
	}
}

func TestMatchSampleCatalogue(t *testing.T) {
	notes, _ := decodeSample(t)
	prd := abapSystem()
	// The same system seen without its component list: only what the
	// kernel and database versions say is known.
	blind := abapSystem()
	blind.SID = "QAS"
	blind.Components = blind.Components[2:]
	blind.Sources = []inventory.SAPSource{{Name: SourceComponents, Available: false, Detail: "sapcontrol: permission denied"}}
	// An ABAP 7.02 system: SAP_BASIS notes for 750 only must not match.
	old := abapSystem()
	old.SID = "OLD"
	old.Components[0].Release, old.Components[1].Release = "702", "702"

	// A HANA system: its component list is never read (no ABAP
	// instance), and it needs none to be decided.
	hana := inventory.SAPSystem{SID: "HDB", Instances: []inventory.SAPInstance{{Name: "HDB00", Number: "00", Type: "hana"}},
		Components: []inventory.SAPComponent{{Name: "HDB", Release: "2.00", PatchLevel: "059"}},
		Sources:    []inventory.SAPSource{{Name: SourceComponents, Available: false}}}
	tests := []struct {
		name    string
		note    string
		sys     inventory.SAPSystem
		verdict string // "" means no match
		reason  string
	}{
		{"match on SAP_BASIS 750", "3754659", prd, Applies, "SAP_BASIS 750 is installed"},
		{"match on kernel 7.53 spelled 7.53 and KRNL64UC", "3692165", prd, Applies, "KRNL64UC 7.53 is installed"},
		{"match on HANA 2.00", "3732522", prd, Applies, "HDB 2.00"},
		{"non-match on release (note lists 751-816)", "3724838", prd, "", ""},
		{"non-match on release (system is 702, note lists 752-816)", "3710111", old, "", ""},
		{"non-match on release (750 not in 752-816)", "3710111", prd, "", ""},
		{"match on a release of a longer list (700-731)", "3396109", old, Applies, "SAP_BASIS 702"},
		{"non-match: component not installed, list read", "3773304", prd, "", ""},
		{"manual review: versions unparsed, names KERNEL", "3747367", prd, ManualReview, "they name KERNEL 7.53, KRNL64UC 7.53"},
		{"manual review: malformed record without CVSS or CVEs", "3747787", prd, ManualReview, "could not be parsed"},
		{"manual review: component list unreadable", "3754659", blind, ManualReview, "software components could not be read"},
		{"kernel notes still decided without the component list", "3692165", blind, Applies, "KRNL64UC 7.53"},
		{"component list unreadable: any ABAP component is a review", "3773304", blind, ManualReview, "CTS_UPLOAD_CLT"},
		{"HANA-only system runs no ABAP component", "3754659", hana, "", ""},
		{"HANA-only system matches HANA notes", "3732522", hana, Applies, "HDB 2.00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := noteByNumber(t, notes, tc.note)
			m := MatchSystem(n, &tc.sys)
			if tc.verdict == "" {
				if m != nil {
					t.Fatalf("matched: %+v", m)
				}
				return
			}
			if m == nil {
				t.Fatalf("no match, want %s", tc.verdict)
			}
			if m.Verdict != tc.verdict || !strings.Contains(m.Reason, tc.reason) || m.Note != tc.note || m.SID != tc.sys.SID {
				t.Errorf("match = %+v, want %s with reason containing %q", m, tc.verdict, tc.reason)
			}
		})
	}
}

func TestMatchAllSampleCounts(t *testing.T) {
	notes, _ := decodeSample(t)
	ms := MatchAll(notes, []inventory.SAPSystem{abapSystem()})
	var applies, review int
	for _, m := range ms {
		switch m.Verdict {
		case Applies:
			applies++
		case ManualReview:
			review++
			if m.Reason == "" {
				t.Errorf("review of %s without a reason", m.Note)
			}
		}
	}
	// Every note whose versions are unparsed is a review, never dropped:
	// six of them in the sample.
	if review != 6 {
		t.Errorf("manual reviews = %d, want 6 (the notes with unparsed versions)", review)
	}
	if applies < 20 || applies > 60 {
		t.Errorf("applies = %d, outside what an ABAP 7.50 / kernel 7.53 / HANA 2.0 system plausibly gets", applies)
	}
}

func TestMatchFixedLevels(t *testing.T) {
	f, err := os.Open("testdata/notes.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var notes []*Note
	if _, err := DecodeCSV(f, func(n *Note) error { notes = append(notes, n); return nil }); err != nil {
		t.Fatal(err)
	}
	kernelNote, basisNote := notes[0], notes[1] // PL1200 on kernel 7.53; SP0031 on SAP_BASIS 750
	patched := abapSystem()
	patched.Components[2].PatchLevel, patched.Components[3].PatchLevel = "1200", "1210"
	patched.Components[0].SPLevel = "0031"
	unknown := abapSystem()
	unknown.Components[2].PatchLevel, unknown.Components[3].PatchLevel = "", ""
	unknown.Components[0].SPLevel = "n/a"
	tests := []struct {
		name    string
		note    *Note
		sys     inventory.SAPSystem
		verdict string
		reason  string
	}{
		{"kernel below fixed patch", kernelNote, abapSystem(), Applies, "patch level 1100, below the fixed level PL1200"},
		{"kernel at fixed patch", kernelNote, patched, "", ""},
		{"kernel patch unknown", kernelNote, unknown, ManualReview, "installed patch level is unknown"},
		{"SP below fixed", basisNote, abapSystem(), Applies, "support package level 0012, below the fixed level SP0031"},
		{"SP at fixed", basisNote, patched, "", ""},
		{"SP unreadable", basisNote, unknown, ManualReview, "support package level is unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := MatchSystem(tc.note, &tc.sys)
			if tc.verdict == "" {
				if m != nil {
					t.Fatalf("matched: %+v", m)
				}
				return
			}
			if m == nil || m.Verdict != tc.verdict || !strings.Contains(m.Reason, tc.reason) {
				t.Fatalf("match = %+v, want %s with %q", m, tc.verdict, tc.reason)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string][2]int{"SP0012": {levelSP, 12}, "SP 12": {levelSP, 12}, "sps05": {levelSP, 5}, "PL1200": {levelPatch, 1200},
		"patch 300": {levelPatch, 300}, "1200": {levelPatch, 1200}, "Rev 059": {levelPatch, 59}} {
		k, n, ok := parseLevel(in)
		if !ok || k != want[0] || n != want[1] {
			t.Errorf("parseLevel(%q) = %d %d %v", in, k, n, ok)
		}
	}
	for _, in := range []string{"", "SP", "later", "1.2"} {
		if _, _, ok := parseLevel(in); ok {
			t.Errorf("parseLevel(%q) accepted", in)
		}
	}
}
