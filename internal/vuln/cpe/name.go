package cpe

import (
	"fmt"
	"strings"

	"github.com/knqyf263/go-cpe/common"
	"github.com/knqyf263/go-cpe/naming"
)

// name is a parsed CPE 2.3 formatted string.
type name struct {
	raw string
	wfn common.WellFormedName
	key string // part:vendor:product, unescaped and lower-cased, for indexing
	// wild is set when part, vendor or product holds a wildcard, so the
	// index cannot narrow the candidates.
	wild bool
}

// parseName unbinds a formatted string with go-cpe. go-cpe indexes past
// the end of a value that ends in a lone backslash, so a panic in it is
// turned into an error: the strings come from feeds and hosts.
func parseName(fs string) (n *name, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("parse CPE %q: %v", fs, r)
		}
	}()
	wfn, err := naming.UnbindFS(fs)
	if err != nil {
		return nil, fmt.Errorf("parse CPE %q: %w", fs, err)
	}
	n = &name{raw: fs, wfn: wfn}
	var parts [3]string
	for i, a := range []string{common.AttributePart, common.AttributeVendor, common.AttributeProduct} {
		s, ok := wfn.Get(a).(string)
		if !ok || common.ContainsWildcards(s) {
			n.wild = true
		}
		parts[i] = strings.ToLower(unescape(s))
	}
	n.key = strings.Join(parts[:], ":")
	return n, nil
}

// fsKey is parseName's key computed straight from the formatted string,
// without unbinding: the cheap test that decides whether a criterion can
// concern any installed CPE at all. ok is false when the prefix is
// malformed or holds a wildcard (then every installed CPE is a candidate).
func fsKey(fs string) (key string, ok bool) {
	if !strings.HasPrefix(fs, "cpe:2.3:") {
		return "", false
	}
	rest := fs[len("cpe:2.3:"):]
	var parts [3]string
	for i := range parts {
		end := unescapedColon(rest)
		if end < 0 {
			return "", false
		}
		v := rest[:end]
		rest = rest[end+1:]
		if v == "*" || v == "-" || hasWildcard(v) {
			return "", false
		}
		parts[i] = strings.ToLower(unescape(v))
	}
	return strings.Join(parts[:], ":"), true
}

func unescapedColon(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ':':
			return i
		}
	}
	return -1
}

func hasWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '*', '?':
			return true
		}
	}
	return false
}

// unescape removes CPE quoting: `notepad\+\+` is notepad++, `12.6\(1\)`
// is 12.6(1). Version bounds in NVD records are quoted the same way.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// The attributes compared as names; version is handled apart.
var otherAttrs = []string{
	common.AttributeUpdate, common.AttributeEdition, common.AttributeLanguage,
	common.AttributeSwEdition, common.AttributeTargetSw, common.AttributeTargetHw, common.AttributeOther,
}

// attrsMatch reports whether the criterion covers the installed name in
// every attribute but version, and names the first that does not.
//
// CPE name matching: the criterion must cover the installed value — ANY
// covers everything, NA only NA, a value only itself (case-insensitively,
// with the spec's * and ? wildcards). One deliberate addition: an
// installed ANY in update/edition/... (what a package name and version
// give: nothing is known about them) is taken to match the criterion NA
// ("-", "no such qualifier"), because NVD writes plain releases as e.g.
// cpe:...:log4j:2.0:-:... and cpe:...:openssh:9.8:-:...; a concrete
// criterion value (beta9, p1, target_sw node.js) is never assumed.
func attrsMatch(crit, inst *name) (bool, string) {
	for _, a := range []string{common.AttributePart, common.AttributeVendor, common.AttributeProduct} {
		if !covers(crit.wfn.Get(a), inst.wfn.Get(a)) {
			return false, a
		}
	}
	for _, a := range otherAttrs {
		c, i := crit.wfn.Get(a), inst.wfn.Get(a)
		if covers(c, i) {
			continue
		}
		cv, _ := c.(common.LogicalValue)
		iv, _ := i.(common.LogicalValue)
		if cv.IsNA() && iv.IsANY() {
			continue
		}
		return false, a
	}
	return true, ""
}

// covers is the CPE 2.3 name-matching relation "criterion value is a
// superset of or equal to the installed value" for one attribute.
//
// It is written here rather than taken from go-cpe's matching package,
// whose string comparison subtracts the escape characters twice and so
// finds "1\.9\.5" a superset of "1\.9\.5p2" and "2\.4\.3" a superset of
// "2\.4\.37" — every dotted version a prefix of another would match.
func covers(crit, inst any) bool {
	cl, critLogical := crit.(common.LogicalValue)
	il, instLogical := inst.(common.LogicalValue)
	switch {
	case critLogical && cl.IsANY():
		return true
	case critLogical:
		return instLogical && il.IsNA()
	case instLogical:
		return false
	}
	cs, _ := crit.(string)
	is, _ := inst.(string)
	if hasWildcard(is) {
		return false // undefined by the spec: never a match
	}
	return wildcardMatch(strings.ToLower(cs), strings.ToLower(unescape(is)))
}

// wildcardMatch matches a quoted WFN value, which may begin or end with an
// unquoted * (any characters) or a run of n unquoted ? (up to n
// characters, as the spec's reference matcher reads them), against an
// unquoted value.
func wildcardMatch(pattern, value string) bool {
	anyPre, anySuf := false, false
	maxPre, maxSuf := 0, 0
	if strings.HasPrefix(pattern, "*") {
		anyPre, pattern = true, pattern[1:]
	} else {
		for strings.HasPrefix(pattern, "?") {
			maxPre, pattern = maxPre+1, pattern[1:]
		}
	}
	switch {
	case strings.HasSuffix(pattern, "*") && !escapedAt(pattern, len(pattern)-1):
		anySuf, pattern = true, pattern[:len(pattern)-1]
	default:
		for strings.HasSuffix(pattern, "?") && !escapedAt(pattern, len(pattern)-1) {
			maxSuf, pattern = maxSuf+1, pattern[:len(pattern)-1]
		}
	}
	mid := unescape(pattern)
	for p := 0; p+len(mid) <= len(value); p++ {
		if p > maxPre && !anyPre {
			return false
		}
		if value[p:p+len(mid)] != mid {
			continue
		}
		if left := len(value) - p - len(mid); anySuf || left <= maxSuf {
			return true
		}
	}
	return false
}

// escapedAt reports whether s[i] is quoted by an odd run of backslashes.
func escapedAt(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// versionOf returns a name's version: the unescaped string, or na/any for
// the logical values.
func versionOf(n *name) (v string, na, any bool) {
	switch x := n.wfn.Get(common.AttributeVersion).(type) {
	case common.LogicalValue:
		return "", x.IsNA(), x.IsANY()
	case string:
		return unescape(x), false, false
	}
	return "", false, true
}
