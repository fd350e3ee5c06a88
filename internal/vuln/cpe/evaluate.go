// Package cpe decides whether a CVE's NVD configurations apply to the CPEs
// present on a host, and maps installed software names to CPEs.
package cpe

import (
	"fmt"
	"strings"

	"github.com/knqyf263/go-cpe/common"

	"github.com/vigil-project/vigil/internal/vuln"
)

// Installed is one CPE present on a host.
type Installed struct {
	// CPE is a CPE 2.3 formatted string with a concrete version, e.g.
	// cpe:2.3:a:openssl:openssl:1.1.1a:*:*:*:*:*:*:* (see CPEFor), or
	// version "-" for things that have none (hardware).
	CPE    string
	Source string // where it was seen (package, registry key ...), for explanations
}

// Inventory is the set of CPEs present on a host.
type Inventory []Installed

// Match is the verdict of Evaluate.
type Match struct {
	Matched bool
	// Criteria are the vulnerable cpeMatch criteria that matched, each once,
	// in configuration order (never the platform entries).
	Criteria    []string
	Explanation string
}

// Host is an Inventory parsed and indexed once, for evaluating many CVEs.
type Host struct {
	items   []item
	byKey   map[string][]int // part:vendor:product -> items
	ignored []string         // why unusable inventory entries were left out
}

type item struct {
	n       *name
	source  string
	version string // unescaped; "" when na
	na      bool
}

// NewHost parses the inventory. Entries that are not usable as facts about
// a host — unparseable, wildcards in part/vendor/product, or version ANY
// ("*": no version known, which would match every bounded range) — are
// left out and named in every Explanation.
func NewHost(inv Inventory) *Host {
	h := &Host{byKey: map[string][]int{}}
	for _, in := range inv {
		n, err := parseName(in.CPE)
		reason := ""
		var v string
		var na, any bool
		switch {
		case err != nil:
			reason = err.Error()
		case n.wild:
			reason = "wildcard in part, vendor or product"
		default:
			if v, na, any = versionOf(n); any || hasWildcard(v) {
				reason = "no concrete version"
			}
		}
		if reason != "" {
			h.ignored = append(h.ignored, fmt.Sprintf("ignored installed %q: %s", in.CPE, reason))
			continue
		}
		h.byKey[n.key] = append(h.byKey[n.key], len(h.items))
		h.items = append(h.items, item{n: n, source: in.Source, version: v, na: na})
	}
	return h
}

// Evaluate applies NVD configurations to an inventory; see Host.Evaluate.
func Evaluate(cfgs []vuln.Configuration, inv Inventory) Match {
	return NewHost(inv).Evaluate(cfgs)
}

// Evaluate applies a CVE's configurations with NVD's semantics:
//
//   - a configuration with operator AND needs every node to hold ("running
//     on/with": the platform nodes are vulnerable:false, must be present,
//     and never by themselves make a finding); OR (or none) needs one;
//   - a node's operator combines its cpeMatch entries the same way;
//   - negate inverts a node or configuration; what matched inside a negated
//     part is not evidence, so a negated node contributes no criteria;
//   - a cpeMatch holds when some installed CPE matches its criteria as a
//     CPE name (see attrsMatch) and the installed version lies within all
//     of versionStart/End Including/Excluding (see CompareVersions). A
//     criteria version "*" with no bounds matches any version, because
//     that is what NVD says; "-" matches only an installed "-". An
//     installed version that cannot be ordered never satisfies a bound: it
//     is treated as no match and named in the Explanation.
//
// The result is a finding only when a configuration holds and at least one
// vulnerable cpeMatch in it matched.
func (h *Host) Evaluate(cfgs []vuln.Configuration) Match {
	e := &evaluation{h: h, crits: map[string]*name{}}
	var m Match
	var lines []string
	seen := map[string]bool{}
	for i := range cfgs {
		c := &cfgs[i]
		hitsBefore := e.hits
		ok, hits := e.config(c)
		vulnerable := false
		for _, x := range hits {
			if x.m.Vulnerable {
				vulnerable = true
			}
		}
		op := strings.ToUpper(c.Operator)
		if op == "" {
			op = "OR"
		}
		switch {
		case ok && vulnerable:
			m.Matched = true
			for _, x := range hits {
				if x.m.Vulnerable && !seen[x.m.Criteria] {
					seen[x.m.Criteria] = true
					m.Criteria = append(m.Criteria, x.m.Criteria)
				}
			}
			lines = append(lines, fmt.Sprintf("configuration %d (%s) holds: %s", i+1, op, describeHits(hits)))
		case ok:
			lines = append(lines, fmt.Sprintf("configuration %d (%s) holds but no vulnerable entry matched (only platforms or negations)", i+1, op))
		case e.hits > hitsBefore:
			lines = append(lines, fmt.Sprintf("configuration %d (%s) does not hold: some entries matched, not enough for its operators", i+1, op))
		}
	}
	switch {
	case len(cfgs) == 0:
		lines = append(lines, "no configurations: NVD has not analysed this CVE, so there is nothing to match")
	case !m.Matched && !e.touched:
		lines = append(lines, "no installed CPE names a product in the configurations")
	}
	if !m.Matched && len(e.notes) > 0 {
		lines = append(lines, "near misses: "+strings.Join(e.notes, "; "))
	}
	lines = append(lines, h.ignored...)
	m.Explanation = strings.Join(lines, "\n")
	return m
}

type evaluation struct {
	h       *Host
	crits   map[string]*name // parsed criteria; nil when unparseable
	touched bool             // some criterion names an installed product
	hits    int              // cpeMatch entries matched so far
	notes   []string
}

type hit struct {
	m    *vuln.CPEMatch
	inst *item
}

const maxNotes = 8

func (e *evaluation) note(format string, args ...any) {
	if len(e.notes) < maxNotes {
		e.notes = append(e.notes, fmt.Sprintf(format, args...))
	}
}

func (e *evaluation) config(c *vuln.Configuration) (bool, []hit) {
	if len(c.Nodes) == 0 {
		return false, nil
	}
	and := strings.EqualFold(c.Operator, "AND")
	result := and
	var hits []hit
	for i := range c.Nodes {
		ok, hs := e.node(&c.Nodes[i])
		if ok {
			hits = append(hits, hs...)
		}
		if and && !ok {
			result = false
		}
		if !and && ok {
			result = true
		}
	}
	if c.Negate {
		return !result, nil
	}
	if !result {
		return false, nil
	}
	return true, hits
}

func (e *evaluation) node(n *vuln.Node) (bool, []hit) {
	if len(n.Matches) == 0 {
		return false, nil
	}
	and := strings.EqualFold(n.Operator, "AND")
	result := and
	var hits []hit
	for i := range n.Matches {
		hs := e.cpeMatch(&n.Matches[i])
		hits = append(hits, hs...)
		if and && len(hs) == 0 {
			result = false
		}
		if !and && len(hs) > 0 {
			result = true
		}
	}
	if n.Negate {
		return !result, nil
	}
	if !result {
		return false, nil
	}
	return true, hits
}

// cpeMatch returns the installed CPEs that satisfy one entry.
func (e *evaluation) cpeMatch(m *vuln.CPEMatch) []hit {
	var cands []int
	if key, ok := fsKey(m.Criteria); ok {
		cands = e.h.byKey[key]
	} else {
		cands = make([]int, len(e.h.items))
		for i := range cands {
			cands[i] = i
		}
	}
	if len(cands) == 0 {
		return nil
	}
	crit, cached := e.crits[m.Criteria]
	if !cached {
		var err error
		if crit, err = parseName(m.Criteria); err != nil {
			e.note("criteria unusable: %v", err)
		}
		e.crits[m.Criteria] = crit
	}
	if crit == nil {
		return nil
	}
	var hits []hit
	for _, i := range cands {
		it := &e.h.items[i]
		ok, why := e.matchItem(m, crit, it)
		if ok {
			hits = append(hits, hit{m, it})
		} else if why != "" {
			e.note("installed %s vs %s: %s", it.n.raw, describe(m), why)
		}
	}
	e.hits += len(hits)
	return hits
}

// matchItem tests one installed CPE against one entry; why explains a miss
// on an installed product the entry names (empty for other products).
func (e *evaluation) matchItem(m *vuln.CPEMatch, crit *name, it *item) (bool, string) {
	if ok, attr := attrsMatch(crit, it.n); !ok {
		if attr == common.AttributePart || attr == common.AttributeVendor || attr == common.AttributeProduct {
			return false, ""
		}
		e.touched = true
		return false, attr + " differs"
	}
	e.touched = true
	_, critNA, critAny := versionOf(crit)
	switch {
	case critNA:
		if !it.na {
			return false, "the criteria is for no version (-), the installed one has " + it.version
		}
	case !critAny:
		if !covers(crit.wfn.Get(common.AttributeVersion), it.n.wfn.Get(common.AttributeVersion)) {
			return false, "version " + it.version + " is not the one named"
		}
	}
	bounds := []struct {
		v   string
		ok  func(int) bool
		rel string
	}{
		{m.VersionStartIncluding, func(c int) bool { return c >= 0 }, ">="},
		{m.VersionStartExcluding, func(c int) bool { return c > 0 }, ">"},
		{m.VersionEndIncluding, func(c int) bool { return c <= 0 }, "<="},
		{m.VersionEndExcluding, func(c int) bool { return c < 0 }, "<"},
	}
	for _, b := range bounds {
		if b.v == "" {
			continue
		}
		if it.na {
			return false, "installed has no version to compare with " + b.rel + " " + b.v
		}
		c, err := CompareVersions(it.version, unescape(b.v))
		if err != nil {
			return false, fmt.Sprintf("cannot order %q against %s %s (%v): treated as no match", it.version, b.rel, b.v, err)
		}
		if !b.ok(c) {
			return false, fmt.Sprintf("%s is not %s %s", it.version, b.rel, b.v)
		}
	}
	return true, ""
}

// describe renders an entry with its bounds: "cpe:... [>= 2.0.1, < 2.3.1]".
func describe(m *vuln.CPEMatch) string {
	var b []string
	for _, x := range [][2]string{
		{">=", m.VersionStartIncluding}, {">", m.VersionStartExcluding},
		{"<=", m.VersionEndIncluding}, {"<", m.VersionEndExcluding},
	} {
		if x[1] != "" {
			b = append(b, x[0]+" "+x[1])
		}
	}
	if len(b) == 0 {
		return m.Criteria
	}
	return m.Criteria + " [" + strings.Join(b, ", ") + "]"
}

func describeHits(hits []hit) string {
	var parts []string
	for _, x := range hits {
		role := "vulnerable"
		if !x.m.Vulnerable {
			role = "platform"
		}
		s := fmt.Sprintf("%s %s matched by %s", role, describe(x.m), x.inst.n.raw)
		if x.inst.source != "" {
			s += " (" + x.inst.source + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
