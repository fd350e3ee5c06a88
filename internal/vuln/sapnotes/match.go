package sapnotes

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

// Match verdicts.
const (
	// Applies: an affected component release is installed and either the
	// note gives no fixed level or the installed level is below it.
	Applies = "applies"
	// ManualReview: the data cannot decide (versions the catalogue could
	// not parse, a release or level Vigil could not read). Never counted
	// as a confirmed finding, never dropped.
	ManualReview = "manual_review"
)

// Match is one note found relevant to one SAP system, and why.
type Match struct {
	Note      string `json:"note"`
	SID       string `json:"sid"`
	Verdict   string `json:"verdict"`
	Component string `json:"component,omitempty"`
	Release   string `json:"release,omitempty"`
	Installed string `json:"installed_level,omitempty"`
	Fixed     string `json:"fixed_level,omitempty"`
	Reason    string `json:"reason"`
}

// SourceComponents is the SAPSource that says the system's full component
// list was read (sapcontrol ABAPGetComponentList). Without it only the
// components derived from kernel and database versions are known.
const SourceComponents = "components"

// MatchSystem decides whether note n concerns system sys. It returns nil
// when it does not: no affected component is installed at an affected
// release, or every installed one has reached its fixed level.
//
// Components are compared by name, releases after NormalizeRelease. A
// confirmed match beats a manual review; among reviews the first reason
// found is kept.
func MatchSystem(n *Note, sys *inventory.SAPSystem) *Match {
	installed := map[string]inventory.SAPComponent{}
	for _, c := range sys.Components {
		installed[strings.ToUpper(c.Name)] = c
	}
	// Without the component list, an application server may run any
	// ABAP or Java component; a system with only database or agent
	// instances (a HANA system, a diagnostics agent) runs none of them.
	componentsKnown := sourceAvailable(sys, SourceComponents) || !runsApplicationServer(sys)
	var review *Match
	setReview := func(m *Match) {
		if review == nil {
			review = m
		}
	}
	for _, a := range n.Affected {
		c, ok := installed[strings.ToUpper(a.Component)]
		if !ok {
			if !componentsKnown && !derived(a.Component) {
				setReview(&Match{Component: a.Component, Release: strings.Join(a.Versions, ", "),
					Reason: fmt.Sprintf("the note affects %s %s; the system's software components could not be read, so whether %s is installed is unknown",
						a.Component, strings.Join(a.Versions, ", "), a.Component)})
			}
			continue
		}
		if strings.TrimSpace(c.Release) == "" {
			setReview(&Match{Component: c.Name, Release: strings.Join(a.Versions, ", "),
				Reason: fmt.Sprintf("%s is installed but its release could not be read; the note affects %s", c.Name, strings.Join(a.Versions, ", "))})
			continue
		}
		ver, ok := affectedVersion(a, c.Release)
		if !ok {
			continue
		}
		fixed := a.Fixed[ver]
		m := &Match{Component: c.Name, Release: c.Release, Fixed: fixed}
		if fixed == "" {
			m.Verdict, m.Installed = Applies, levelText(c)
			m.Reason = fmt.Sprintf("%s %s is installed and the note affects release %s; it gives no fixed level, so the note applies until it is implemented", c.Name, c.Release, ver)
			return finish(m, n, sys)
		}
		kind, want, ok := parseLevel(fixed)
		if !ok {
			m.Reason = fmt.Sprintf("%s %s is installed; the note's fixed level %q could not be read", c.Name, c.Release, fixed)
			setReview(m)
			continue
		}
		have := c.SPLevel
		if kind == levelPatch {
			have = c.PatchLevel
		}
		m.Installed = have
		got, err := strconv.Atoi(strings.TrimSpace(have))
		if err != nil {
			m.Reason = fmt.Sprintf("%s %s is installed and the note is fixed in %s %s, but the installed %s level is unknown", c.Name, c.Release, kindName(kind), fixed, kindName(kind))
			setReview(m)
			continue
		}
		if got < want {
			m.Verdict = Applies
			m.Reason = fmt.Sprintf("%s %s is at %s level %s, below the fixed level %s", c.Name, c.Release, kindName(kind), have, fixed)
			return finish(m, n, sys)
		}
	}
	if review == nil && len(n.Affected) == 0 && n.VersionsUnparsed != "" {
		review = &Match{Release: n.VersionsUnparsed, Reason: unparsedReason(n, installed)}
	}
	if review != nil {
		review.Verdict = ManualReview
		return finish(review, n, sys)
	}
	return nil
}

func finish(m *Match, n *Note, sys *inventory.SAPSystem) *Match {
	m.Note, m.SID = n.Number, sys.SID
	return m
}

// runsApplicationServer says whether the system has ABAP or Java
// instances (or its instances are unknown, which cannot rule them out).
func runsApplicationServer(sys *inventory.SAPSystem) bool {
	if len(sys.Instances) == 0 {
		return true
	}
	for _, in := range sys.Instances {
		switch in.Type {
		case "abap", "java", "ascs", "scs", "ers", "other":
			return true
		}
	}
	return false
}

func sourceAvailable(sys *inventory.SAPSystem, name string) bool {
	for _, s := range sys.Sources {
		if s.Name == name {
			return s.Available
		}
	}
	return false
}

// derived says whether a component is one the probes read without the
// component list (from kernel and database versions): its absence then
// means it is not there.
func derived(component string) bool {
	switch strings.ToUpper(component) {
	case "KERNEL", "KRNL64UC", "KRNL64NUC", "KRNL32UC", "KRNL32NUC", "HDB", "HDB_CLIENT", "SAPHOSTAGENT":
		return true
	}
	return false
}

func affectedVersion(a Affected, release string) (string, bool) {
	r := NormalizeRelease(release)
	for _, v := range a.Versions {
		if NormalizeRelease(v) == r {
			return v, true
		}
	}
	return "", false
}

func levelText(c inventory.SAPComponent) string {
	switch {
	case c.PatchLevel != "":
		return "patch " + c.PatchLevel
	case c.SPLevel != "":
		return "SP " + c.SPLevel
	}
	return ""
}

var componentWordRE = regexp.MustCompile(`\b[A-Z][A-Z0-9_\-]{2,}\b`)

// unparsedReason explains a manual review of a note whose versions the
// catalogue could not parse, naming the installed components its text
// mentions when there are any.
func unparsedReason(n *Note, installed map[string]inventory.SAPComponent) string {
	var named []string
	seen := map[string]bool{}
	for _, w := range componentWordRE.FindAllString(n.VersionsUnparsed, -1) {
		if c, ok := installed[w]; ok && !seen[w] {
			seen[w] = true
			named = append(named, c.Name+" "+c.Release)
		}
	}
	sort.Strings(named)
	if len(named) > 0 {
		return fmt.Sprintf("the note's affected versions could not be parsed (%q); they name %s, installed here", n.VersionsUnparsed, strings.Join(named, ", "))
	}
	return fmt.Sprintf("the note's affected versions could not be parsed (%q); check whether this system runs %s", n.VersionsUnparsed, productText(n))
}

func productText(n *Note) string {
	if len(n.Products) > 0 {
		return strings.Join(n.Products, ", ")
	}
	return "the product"
}

const (
	levelSP = iota
	levelPatch
)

func kindName(k int) string {
	if k == levelSP {
		return "support package"
	}
	return "patch"
}

var levelRE = regexp.MustCompile(`(?i)^\s*(SP|SPS|PL|PATCH|REV|REVISION)?\s*[-:#]?\s*0*(\d{1,6})\s*$`)

// parseLevel reads a fixed level: "SP0012", "SP 12" (support package),
// "PL1200", "patch 1200", "Rev 59" or a bare number (patch level).
func parseLevel(s string) (kind, n int, ok bool) {
	m := levelRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, false
	}
	n, err := strconv.Atoi(m[2])
	if err != nil {
		return 0, 0, false
	}
	switch strings.ToUpper(m[1]) {
	case "SP", "SPS":
		return levelSP, n, true
	}
	return levelPatch, n, true
}

// MatchAll matches every note against every system, in note order.
func MatchAll(notes []*Note, systems []inventory.SAPSystem) []Match {
	var out []Match
	for i := range systems {
		for _, n := range notes {
			if m := MatchSystem(n, &systems[i]); m != nil {
				out = append(out, *m)
			}
		}
	}
	return out
}
