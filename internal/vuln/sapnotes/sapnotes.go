// Package sapnotes reads SAP Security Notes catalogues (the JSON format of
// testdata/sap/notes_catalog.json, or a CSV with one row per affected
// component release), fetches them from a configurable URL, and decides
// which notes apply to which SAP systems of a host inventory.
//
// SAP publishes notes per software component and release (SAP_BASIS 750,
// KRNL64UC 7.53); the public Patch Day pages rarely give the support
// package or patch level that fixes a note. Matching therefore says
// "applies" when the release is installed and no fixed level is known,
// "not affected" when a known fixed level is reached, and "manual review",
// with the reason, whenever the data cannot decide.
package sapnotes

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Priorities SAP gives notes, most urgent first.
const (
	PriorityHotNews = "HotNews"
	PriorityHigh    = "High"
	PriorityMedium  = "Medium"
	PriorityLow     = "Low"
)

// Priorities in order, most urgent first.
var Priorities = []string{PriorityHotNews, PriorityHigh, PriorityMedium, PriorityLow}

// PriorityRank orders priorities: 0 for HotNews, 3 for Low, 4 unknown.
func PriorityRank(p string) int {
	for i, q := range Priorities {
		if q == p {
			return i
		}
	}
	return len(Priorities)
}

// Note is one SAP Security Note as Vigil keeps it.
type Note struct {
	Number     string     `json:"number"` // SAP note number, 6-8 digits
	Title      string     `json:"title"`
	CVEs       []string   `json:"cves"`
	CVSSScore  float64    `json:"cvss_score,omitempty"` // 0: not given
	CVSSVector string     `json:"cvss_vector,omitempty"`
	Priority   string     `json:"priority"`
	Category   string     `json:"category,omitempty"`
	Component  string     `json:"component,omitempty"` // application component, e.g. BC-CTS-TMS-PLS
	Released   time.Time  `json:"released_on"`         // zero when unknown
	IsUpdate   bool       `json:"is_update,omitempty"`
	KEVListed  bool       `json:"kev_listed,omitempty"`
	URL        string     `json:"url,omitempty"`
	Products   []string   `json:"products,omitempty"`
	Affected   []Affected `json:"affected"`
	// VersionsUnparsed is the catalogue's raw version text when its
	// publisher could not split it into Affected: matching never guesses
	// from it, it only asks for a manual review.
	VersionsUnparsed string `json:"versions_unparsed,omitempty"`
	// Problems are what was wrong with the record but did not make it
	// unusable (a malformed CVSS vector is dropped and said here).
	Problems []string `json:"problems,omitempty"`
}

// Affected is one software component and the releases of it a note
// affects. Fixed, when the source gives it, maps a release to the level
// that fixes it there ("SP0012" for a support package, "PL1200" or
// "1200" for a kernel patch or HANA revision).
type Affected struct {
	Component string            `json:"software_component"`
	Versions  []string          `json:"versions"`
	Fixed     map[string]string `json:"fixed,omitempty"`
}

var (
	noteNumberRE = regexp.MustCompile(`^\d{6,8}$`)
	cveRE        = regexp.MustCompile(`^CVE-\d{4}-\d{4,7}$`)
	// A CVSS v3.x vector with every base metric given a value.
	cvss3RE = regexp.MustCompile(`^CVSS:3\.[01]/AV:[NALP]/AC:[LH]/PR:[NLH]/UI:[NR]/S:[UC]/C:[NLH]/I:[NLH]/A:[NLH]$`)
	// A CVSS v4.0 vector: checked for its prefix and base metrics only.
	cvss4RE = regexp.MustCompile(`^CVSS:4\.0/AV:[NALP]/AC:[LH]/AT:[NP]/PR:[NLH]/UI:[NPA]/VC:[NLH]/VI:[NLH]/VA:[NLH]/SC:[NLH]/SI:[NLH]/SA:[NLH]`)
)

// NormalizePriority maps the spellings seen in SAP's pages ("Hot News",
// "Very High" is what SAP calls HotNews in some exports) onto Priorities.
func NormalizePriority(s string) (string, bool) {
	switch strings.ToLower(strings.Join(strings.Fields(s), "")) {
	case "hotnews", "veryhigh", "critical":
		return PriorityHotNews, true
	case "high":
		return PriorityHigh, true
	case "medium":
		return PriorityMedium, true
	case "low":
		return PriorityLow, true
	}
	return "", false
}

// Validate checks what Vigil relies on and normalises the rest: a note
// without a valid number, title or priority is unusable and fails; a bad
// CVSS vector or score is dropped and recorded in Problems.
func (n *Note) Validate() error {
	n.Number = strings.TrimSpace(n.Number)
	if !noteNumberRE.MatchString(n.Number) {
		return fmt.Errorf("note number %q is not 6-8 digits", n.Number)
	}
	n.Title = strings.TrimSpace(n.Title)
	if n.Title == "" {
		return fmt.Errorf("note %s: title is empty", n.Number)
	}
	p, ok := NormalizePriority(n.Priority)
	if !ok {
		return fmt.Errorf("note %s: priority %q is not HotNews, High, Medium or Low", n.Number, n.Priority)
	}
	n.Priority = p
	cves := n.CVEs[:0:0]
	for _, c := range n.CVEs {
		c = strings.ToUpper(strings.TrimSpace(c))
		if !cveRE.MatchString(c) {
			n.Problems = append(n.Problems, fmt.Sprintf("CVE ID %q dropped: not a CVE ID", c))
			continue
		}
		cves = append(cves, c)
	}
	n.CVEs = cves
	if n.CVSSScore < 0 || n.CVSSScore > 10 {
		n.Problems = append(n.Problems, fmt.Sprintf("CVSS score %v dropped: outside 0-10", n.CVSSScore))
		n.CVSSScore = 0
	}
	if v := strings.TrimSpace(n.CVSSVector); v != "" && !cvss3RE.MatchString(v) && !cvss4RE.MatchString(v) {
		n.Problems = append(n.Problems, fmt.Sprintf("CVSS vector %q dropped: malformed", v))
		n.CVSSVector = ""
	} else {
		n.CVSSVector = v
	}
	aff := n.Affected[:0:0]
	for i, a := range n.Affected {
		a.Component = strings.TrimSpace(a.Component)
		var vs []string
		for _, v := range a.Versions {
			if v = strings.TrimSpace(v); v != "" {
				vs = append(vs, v)
			}
		}
		if a.Component == "" || len(vs) == 0 {
			n.Problems = append(n.Problems, fmt.Sprintf("affected[%d] dropped: no software component or no versions", i))
			continue
		}
		a.Versions = vs
		aff = append(aff, a)
	}
	n.Affected = aff
	n.VersionsUnparsed = strings.TrimSpace(n.VersionsUnparsed)
	if len(n.Affected) == 0 && n.VersionsUnparsed == "" {
		n.Problems = append(n.Problems, "no affected software components given")
	}
	return nil
}

// RecordError is one catalogue record that was skipped.
type RecordError struct {
	Index  int    // position in the catalogue's notes array, or CSV data row (from 1)
	Number string // the note number when it could be read
	Err    error
}

func (e *RecordError) Error() string {
	if e.Number != "" {
		return fmt.Sprintf("record %d (note %s): %v", e.Index, e.Number, e.Err)
	}
	return fmt.Sprintf("record %d: %v", e.Index, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// MaxRecordErrors bounds the record errors kept.
const MaxRecordErrors = 100

// Result is what decoding a catalogue found.
type Result struct {
	Version   string // catalog_meta.catalog_version, when given
	Count     int    // catalog_meta.note_count, when given
	Seen      int    // records read
	Delivered int    // records handed to the callback
	Skipped   int    // malformed records skipped
	Errors    []RecordError
	// Warnings are records imported with a problem (see Note.Problems),
	// and a note count that disagrees with the records.
	Warnings []string
}

func (r *Result) skip(idx int, number string, err error) {
	r.Skipped++
	if len(r.Errors) < MaxRecordErrors {
		r.Errors = append(r.Errors, RecordError{Index: idx, Number: number, Err: err})
	}
}

func (r *Result) warn(n *Note) {
	for _, p := range n.Problems {
		if len(r.Warnings) < MaxRecordErrors {
			r.Warnings = append(r.Warnings, "note "+n.Number+": "+p)
		}
	}
}

// NormalizeRelease folds the spellings of one release onto one key:
// "7.53", "753" and "7.53 " are the same kernel release, "7.22EXT" and
// "722EXT" the same, and "2.00" is HANA 2.0.
func NormalizeRelease(v string) string {
	v = strings.ToUpper(strings.TrimSpace(v))
	v = strings.ReplaceAll(v, ".", "")
	v = strings.ReplaceAll(v, "_EXT", "EXT")
	return strings.ReplaceAll(v, " ", "")
}
