// Package osv reads distribution advisories in the OSV format
// (https://ossf.github.io/osv-schema/) into vuln.Advisory, downloads the
// per-ecosystem archives osv.dev publishes, picks the OSV ecosystems a host
// should be matched against, and evaluates OSV affected ranges with each
// distribution's own version ordering.
package osv

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/vuln"
)

// record is the subset of the OSV schema Vigil uses. encoding/json ignores
// fields it does not know, so schema additions never break decoding.
type record struct {
	ID        string   `json:"id"`
	Modified  string   `json:"modified"`
	Published string   `json:"published"`
	Withdrawn string   `json:"withdrawn"`
	Aliases   []string `json:"aliases"`
	Related   []string `json:"related"`
	// Upstream (schema 1.7) lists the vulnerabilities a record is derived
	// from; Ubuntu and Debian put the CVE of an UBUNTU-CVE-/DEBIAN-CVE-
	// record, or the CVEs a USN fixes, only here.
	Upstream         []string        `json:"upstream"`
	Summary          string          `json:"summary"`
	Details          string          `json:"details"`
	Severity         []severity      `json:"severity"`
	Affected         []affected      `json:"affected"`
	References       []reference     `json:"references"`
	DatabaseSpecific json.RawMessage `json:"database_specific"`
}

type severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type affected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
	} `json:"package"`
	Severity          []severity      `json:"severity"`
	Ranges            []osvRange      `json:"ranges"`
	Versions          []string        `json:"versions"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific"`
	DatabaseSpecific  json.RawMessage `json:"database_specific"`
}

type osvRange struct {
	Type   string  `json:"type"`
	Events []event `json:"events"`
}

// event fields are pointers so that a present-but-empty field can be told
// from an absent one: the schema allows exactly one per event.
type event struct {
	Introduced   *string `json:"introduced"`
	Fixed        *string `json:"fixed"`
	LastAffected *string `json:"last_affected"`
	Limit        *string `json:"limit"`
}

// Decode reads one OSV record. Unknown fields are ignored; a record that is
// not a JSON object, has no id, carries a malformed timestamp or an event
// that is not exactly one of introduced/fixed/last_affected/limit is an
// error. Only ECOSYSTEM ranges are kept (SEMVER and GIT ranges do not
// describe distribution packages); an affected entry left with neither
// ranges nor versions is dropped.
func Decode(r io.Reader) (*vuln.Advisory, error) {
	dec := json.NewDecoder(r)
	var rec record
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("osv: decode: %w", err)
	}
	// One record per document: trailing data means the input is not what
	// we think it is.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("osv: decode %s: trailing data after the record", rec.ID)
	}
	return convert(&rec)
}

func convert(rec *record) (*vuln.Advisory, error) {
	if strings.TrimSpace(rec.ID) == "" {
		return nil, errors.New("osv: record has no id")
	}
	a := &vuln.Advisory{
		ID:      rec.ID,
		Aliases: rec.Aliases,
		Related: appendUnique(nil, rec.Related...),
		Summary: rec.Summary,
		Details: rec.Details,
	}
	a.Related = appendUnique(a.Related, rec.Upstream...)
	var err error
	if a.Published, err = parseTime(rec.Published); err != nil {
		return nil, fmt.Errorf("osv: %s: published: %w", rec.ID, err)
	}
	if a.Modified, err = parseTime(rec.Modified); err != nil {
		return nil, fmt.Errorf("osv: %s: modified: %w", rec.ID, err)
	}
	if rec.Withdrawn != "" {
		w, err := parseTime(rec.Withdrawn)
		if err != nil {
			return nil, fmt.Errorf("osv: %s: withdrawn: %w", rec.ID, err)
		}
		a.Withdrawn = &w
	}
	for i, af := range rec.Affected {
		out, keep, err := convertAffected(af)
		if err != nil {
			return nil, fmt.Errorf("osv: %s: affected[%d]: %w", rec.ID, i, err)
		}
		if keep {
			a.Affected = append(a.Affected, out)
		}
	}
	for _, ref := range rec.References {
		if ref.URL != "" {
			a.References = append(a.References, ref.URL)
		}
	}
	a.Severity = recordSeverity(rec)
	return a, nil
}

func convertAffected(af affected) (vuln.Affected, bool, error) {
	out := vuln.Affected{
		Ecosystem: af.Package.Ecosystem,
		Package:   af.Package.Name,
		Versions:  af.Versions,
	}
	for j, r := range af.Ranges {
		if r.Type != "ECOSYSTEM" {
			continue
		}
		var vr vuln.Range
		for k, e := range r.Events {
			ev, err := convertEvent(e)
			if err != nil {
				return out, false, fmt.Errorf("ranges[%d].events[%d]: %w", j, k, err)
			}
			vr.Events = append(vr.Events, ev)
		}
		out.Ranges = append(out.Ranges, vr)
	}
	// An entry without a package cannot be matched; one left without
	// ranges and versions (GIT-only, say) says nothing about packages.
	keep := out.Ecosystem != "" && out.Package != "" && (len(out.Ranges) > 0 || len(out.Versions) > 0)
	return out, keep, nil
}

func convertEvent(e event) (vuln.Event, error) {
	var ev vuln.Event
	n := 0
	for _, f := range []struct {
		src *string
		dst *string
	}{{e.Introduced, &ev.Introduced}, {e.Fixed, &ev.Fixed}, {e.LastAffected, &ev.LastAffected}, {e.Limit, &ev.Limit}} {
		if f.src == nil {
			continue
		}
		if *f.src == "" {
			return ev, errors.New("event with an empty version")
		}
		*f.dst = *f.src
		n++
	}
	if n != 1 {
		return ev, fmt.Errorf("event sets %d of introduced/fixed/last_affected/limit, want exactly 1", n)
	}
	return ev, nil
}

// parseTime reads an OSV timestamp: RFC 3339 in UTC per the schema, with
// fallbacks for the zone-less and date-only forms some older records use.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp", s)
}

// severityKeys are the ecosystem_specific/database_specific fields that
// carry a distribution's own rating: "severity" (GHSA, Rocky, SUSE ...),
// "urgency" (Debian's security tracker) and "priority" (Ubuntu's tracker).
var severityKeys = []string{"severity", "urgency", "priority"}

// rhelSummary matches the "Important: openssl security update" convention of
// Red Hat errata, which AlmaLinux and Rocky Linux keep in their OSV
// summaries; their records carry no other rating.
var rhelSummary = regexp.MustCompile(`^(Critical|Important|Moderate|Low):\s`)

// recordSeverity takes the first rating found, most specific first: per
// package ecosystem_specific then database_specific, the record's
// database_specific, a non-CVSS severity entry (Ubuntu publishes its
// priority as {"type": "Ubuntu", "score": "medium"}), and finally the RHEL
// summary prefix. CVSS vectors are not a distribution rating and are left to
// the NVD data. The result is lower-cased; "" when there is none.
func recordSeverity(rec *record) string {
	for _, af := range rec.Affected {
		for _, raw := range []json.RawMessage{af.EcosystemSpecific, af.DatabaseSpecific} {
			if s := severityField(raw); s != "" {
				return s
			}
		}
	}
	if s := severityField(rec.DatabaseSpecific); s != "" {
		return s
	}
	entries := rec.Severity
	for _, af := range rec.Affected {
		entries = append(entries, af.Severity...)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Type, "CVSS") {
			if s := normSeverity(e.Score); s != "" {
				return s
			}
		}
	}
	if m := rhelSummary.FindStringSubmatch(rec.Summary); m != nil && isRHELErrata(rec.ID) {
		return strings.ToLower(m[1])
	}
	return ""
}

func isRHELErrata(id string) bool {
	for _, p := range []string{"ALSA-", "ALBA-", "ALEA-", "RLSA-", "RLBA-", "RXSA-", "RHSA-", "RHBA-"} {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// severityField reads the first string-valued severity key of a free-form
// object. Anything else (a number, a nested object, not an object at all)
// is ignored: these blocks are database-defined.
func severityField(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	for _, k := range severityKeys {
		var s string
		if v, ok := m[k]; ok && json.Unmarshal(v, &s) == nil {
			if s = normSeverity(s); s != "" {
				return s
			}
		}
	}
	return ""
}

// normSeverity lower-cases a rating and drops the placeholders that mean
// "not rated". Debian marks ratings still to be confirmed with a trailing
// "**"; the rating is kept.
func normSeverity(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(s), "*")))
	switch s {
	case "not yet assigned", "unknown", "unspecified", "n/a":
		return ""
	}
	return s
}

func appendUnique(dst []string, ids ...string) []string {
	for _, id := range ids {
		dup := id == ""
		for _, d := range dst {
			dup = dup || d == id
		}
		if !dup {
			dst = append(dst, id)
		}
	}
	return dst
}
