// Package nvd reads NVD CVE API 2.0 JSON — API response pages, the 2.0 feed
// files (nvdcve-2.0-*.json[.gz], same shape as a page) and single-record
// files (the file is the cve object) — into vuln.CVE, streaming one record at
// a time, and keeps a local copy in sync with the online API.
package nvd

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/vuln"
)

// CVE is the "cve" object of the NVD CVE API 2.0 as far as Vigil reads it.
// Fields Vigil does not use (cveTags, cisaExploitAdd, vendorComments ...) are
// left out: encoding/json skips unknown fields, so NVD adding fields never
// breaks decoding.
type CVE struct {
	ID               string          `json:"id"`
	SourceIdentifier string          `json:"sourceIdentifier"`
	Published        string          `json:"published"`
	LastModified     string          `json:"lastModified"`
	VulnStatus       string          `json:"vulnStatus"`
	Descriptions     []LangString    `json:"descriptions"`
	Metrics          Metrics         `json:"metrics"`
	Weaknesses       []Weakness      `json:"weaknesses"`
	Configurations   []Configuration `json:"configurations"`
	References       []Reference     `json:"references"`
}

// LangString is a text in one language.
type LangString struct {
	Lang  string `json:"lang"`
	Value string `json:"value"`
}

// Metrics holds the CVSS scores per CVSS version.
type Metrics struct {
	CVSSMetricV40 []Metric `json:"cvssMetricV40"`
	CVSSMetricV31 []Metric `json:"cvssMetricV31"`
	CVSSMetricV30 []Metric `json:"cvssMetricV30"`
	CVSSMetricV2  []Metric `json:"cvssMetricV2"`
}

// Metric is one score from one source.
type Metric struct {
	Source   string   `json:"source"`
	Type     string   `json:"type"` // Primary or Secondary
	CVSSData CVSSData `json:"cvssData"`
	// BaseSeverity is where CVSS v2 keeps the severity (v2's cvssData has
	// none); v3 and v4 keep it inside cvssData.
	BaseSeverity string `json:"baseSeverity"`
}

// CVSSData is the score itself.
type CVSSData struct {
	Version      string  `json:"version"`
	VectorString string  `json:"vectorString"`
	BaseScore    float64 `json:"baseScore"`
	BaseSeverity string  `json:"baseSeverity"`
}

// Weakness lists the CWEs one source assigned.
type Weakness struct {
	Source      string       `json:"source"`
	Type        string       `json:"type"`
	Description []LangString `json:"description"`
}

// Configuration is one applicability statement.
type Configuration struct {
	Operator string `json:"operator"`
	Negate   bool   `json:"negate"`
	Nodes    []Node `json:"nodes"`
}

// Node is a set of CPE matches combined by Operator.
type Node struct {
	Operator string     `json:"operator"`
	Negate   bool       `json:"negate"`
	CPEMatch []CPEMatch `json:"cpeMatch"`
}

// CPEMatch is one CPE criterion with optional version bounds.
type CPEMatch struct {
	Vulnerable            bool   `json:"vulnerable"`
	Criteria              string `json:"criteria"`
	MatchCriteriaID       string `json:"matchCriteriaId"`
	VersionStartIncluding string `json:"versionStartIncluding"`
	VersionStartExcluding string `json:"versionStartExcluding"`
	VersionEndIncluding   string `json:"versionEndIncluding"`
	VersionEndExcluding   string `json:"versionEndExcluding"`
}

// Reference is a link from the record.
type Reference struct {
	URL    string   `json:"url"`
	Source string   `json:"source"`
	Tags   []string `json:"tags"`
}

// ParseTime parses an NVD timestamp. NVD writes them without a zone
// ("2024-07-01T13:15:06.467"), meaning UTC; a zoned RFC 3339 form is
// accepted too so that mirrors which add the zone still decode.
func ParseTime(s string) (time.Time, error) {
	// Parsing accepts a fractional second after the seconds even though the
	// layout has none, so one layout covers ".467", ".000" and no fraction.
	if t, err := time.ParseInLocation("2006-01-02T15:04:05", s, time.UTC); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse NVD time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// ToVuln converts the record. It fails only on what makes the record
// unusable: no CVE ID, or a published/lastModified time that does not parse.
func (c *CVE) ToVuln() (*vuln.CVE, error) {
	if !strings.HasPrefix(c.ID, "CVE-") {
		return nil, fmt.Errorf("record has no CVE ID (id %q)", c.ID)
	}
	out := &vuln.CVE{
		ID:          c.ID,
		Status:      c.VulnStatus,
		Description: description(c.Descriptions),
	}
	var err error
	if out.Published, err = ParseTime(c.Published); err != nil {
		return nil, fmt.Errorf("%s: published: %w", c.ID, err)
	}
	if c.LastModified != "" {
		if out.Modified, err = ParseTime(c.LastModified); err != nil {
			return nil, fmt.Errorf("%s: lastModified: %w", c.ID, err)
		}
	}
	out.Metrics = metrics(&c.Metrics)
	out.CWEs = cwes(c.Weaknesses)
	out.References = references(c.References)
	out.Configurations = configurations(c.Configurations)
	return out, nil
}

// description picks the English text; a record with none (rare, seen in
// freshly received CVEs) falls back to the first description so the UI has
// something to show.
func description(ds []LangString) string {
	for _, d := range ds {
		if d.Lang == "en" {
			return d.Value
		}
	}
	if len(ds) > 0 {
		return ds[0].Value
	}
	return ""
}

// metrics keeps every score, newest CVSS version first, in NVD's order
// within a version; vuln.CVE.BestCVSS chooses among them.
func metrics(m *Metrics) []vuln.CVSS {
	var out []vuln.CVSS
	for _, set := range []struct {
		version string
		list    []Metric
	}{{"4.0", m.CVSSMetricV40}, {"3.1", m.CVSSMetricV31}, {"3.0", m.CVSSMetricV30}, {"2.0", m.CVSSMetricV2}} {
		for _, x := range set.list {
			v := x.CVSSData.Version
			if v == "" {
				v = set.version
			}
			sev := x.CVSSData.BaseSeverity
			if sev == "" {
				sev = x.BaseSeverity
			}
			out = append(out, vuln.CVSS{
				Version:  v,
				Source:   x.Source,
				Type:     x.Type,
				Score:    x.CVSSData.BaseScore,
				Vector:   x.CVSSData.VectorString,
				Severity: strings.ToUpper(sev),
			})
		}
	}
	return out
}

// cwes returns the CWE IDs in order of first appearance, without
// duplicates (NVD and the CNA often both list the same one). NVD's
// placeholders NVD-CWE-Other and NVD-CWE-noinfo are skipped: they say "no
// specific CWE", which is better shown as no CWE than as a fake ID.
func cwes(ws []Weakness) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range ws {
		for _, d := range w.Description {
			id := strings.TrimSpace(d.Value)
			if !strings.HasPrefix(id, "CWE-") || seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// references merges entries with the same URL (NVD repeats a URL once per
// source that submitted it: CVE-2014-6271 has 650 entries for 170 URLs),
// keeping the first source and the union of the tags.
func references(rs []Reference) []vuln.Reference {
	out := make([]vuln.Reference, 0, len(rs))
	at := map[string]int{}
	for _, r := range rs {
		if r.URL == "" {
			continue
		}
		i, ok := at[r.URL]
		if !ok {
			at[r.URL] = len(out)
			out = append(out, vuln.Reference{URL: r.URL, Source: r.Source, Tags: append([]string(nil), r.Tags...)})
			continue
		}
		for _, t := range r.Tags {
			if !contains(out[i].Tags, t) {
				out[i].Tags = append(out[i].Tags, t)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// configurations copies the applicability statements unchanged: operators
// are kept as NVD wrote them (an absent configuration operator means OR to
// the cpe package), so nothing is lost for the matcher.
func configurations(cs []Configuration) []vuln.Configuration {
	if len(cs) == 0 {
		return nil
	}
	out := make([]vuln.Configuration, len(cs))
	for i, c := range cs {
		nodes := make([]vuln.Node, len(c.Nodes))
		for j, n := range c.Nodes {
			ms := make([]vuln.CPEMatch, len(n.CPEMatch))
			for k, m := range n.CPEMatch {
				ms[k] = vuln.CPEMatch{
					Vulnerable:            m.Vulnerable,
					Criteria:              m.Criteria,
					MatchCriteriaID:       m.MatchCriteriaID,
					VersionStartIncluding: m.VersionStartIncluding,
					VersionStartExcluding: m.VersionStartExcluding,
					VersionEndIncluding:   m.VersionEndIncluding,
					VersionEndExcluding:   m.VersionEndExcluding,
				}
			}
			nodes[j] = vuln.Node{Operator: n.Operator, Negate: n.Negate, Matches: ms}
		}
		out[i] = vuln.Configuration{Operator: c.Operator, Negate: c.Negate, Nodes: nodes}
	}
	return out
}
