package compliance

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RuleGroup is the builder form of a condition: rules and nested groups
// combined with "and" or "or".
type RuleGroup struct {
	Op     string      `json:"op" yaml:"op"`
	Rules  []Rule      `json:"rules,omitempty" yaml:"rules,omitempty"`
	Groups []RuleGroup `json:"groups,omitempty" yaml:"groups,omitempty"`
}

// Rule compares one property of the facts with a value.
//
// Property is a dotted path from a fact variable. A segment is either bare,
// made of letters, digits and _ : / -, or double-quoted with \" and \\ as
// the only escapes, for keys with dots or other characters:
//
//	items.probe:sshd.settings.permitrootlogin
//	items.probe:sysctl."net.ipv4.ip_forward"
//	items."file_meta:/etc/ssh/sshd_config".mode
//
// Every segment is a map key; list elements cannot be addressed (write a
// CEL condition for that).
type Rule struct {
	Property string `json:"property" yaml:"property"`
	Operator string `json:"operator" yaml:"operator"`
	Value    string `json:"value,omitempty" yaml:"value,omitempty"`
	// Scheme is the version ordering for version_* operators: deb, rpm or
	// apk. Empty: the host's package_ecosystem.
	Scheme string `json:"scheme,omitempty" yaml:"scheme,omitempty"`
}

// Rule operators.
var RuleOperators = []string{"eq", "ne", "gt", "ge", "lt", "le", "contains", "not_contains", "matches",
	"exists", "not_exists", "version_lt", "version_le", "version_gt", "version_ge"}

// Builder limits.
const (
	maxRuleDepth     = 8
	maxRules         = 200
	maxPropertyLen   = 512
	maxPropertySegs  = 16
	maxRuleValueLen  = 1024
	maxRuleRegexpLen = 512
)

// CEL generates the condition the group stands for.
func (g RuleGroup) CEL() (string, error) {
	n := 0
	return g.cel(0, &n)
}

func (g RuleGroup) cel(depth int, n *int) (string, error) {
	if depth >= maxRuleDepth {
		return "", fmt.Errorf("groups nested deeper than %d", maxRuleDepth)
	}
	var join string
	switch g.Op {
	case "and", "":
		join = " && "
	case "or":
		join = " || "
	default:
		return "", fmt.Errorf("group op %q: want and or or", g.Op)
	}
	if len(g.Rules)+len(g.Groups) == 0 {
		return "", errors.New("empty group")
	}
	var parts []string
	for i, r := range g.Rules {
		if *n++; *n > maxRules {
			return "", fmt.Errorf("more than %d rules", maxRules)
		}
		s, err := r.CEL()
		if err != nil {
			return "", fmt.Errorf("rule %d: %w", i+1, err)
		}
		parts = append(parts, s)
	}
	for _, sub := range g.Groups {
		s, err := sub.cel(depth+1, n)
		if err != nil {
			return "", err
		}
		parts = append(parts, "("+s+")")
	}
	return strings.Join(parts, join), nil
}

// CEL generates the condition of one rule.
func (r Rule) CEL() (string, error) {
	segs, err := ParseProperty(r.Property)
	if err != nil {
		return "", fmt.Errorf("property %q: %w", r.Property, err)
	}
	if len(r.Value) > maxRuleValueLen {
		return "", fmt.Errorf("value longer than %d bytes", maxRuleValueLen)
	}
	val, err := celString(r.Value)
	if err != nil {
		return "", err
	}
	p := celPath(segs[0], segs[1:])
	switch r.Operator {
	case "eq":
		return "string(" + p + ") == " + val, nil
	case "ne":
		return "string(" + p + ") != " + val, nil
	case "gt", "ge", "lt", "le":
		n, err := strconv.ParseInt(strings.TrimSpace(r.Value), 10, 64)
		if err != nil {
			return "", fmt.Errorf("operator %s needs an integer value, not %q", r.Operator, r.Value)
		}
		op := map[string]string{"gt": ">", "ge": ">=", "lt": "<", "le": "<="}[r.Operator]
		return fmt.Sprintf("int_of(%s) %s %d", p, op, n), nil
	case "contains":
		return fmt.Sprintf("(type(%s) == string ? string(%s).contains(%s) : %s in %s)", p, p, val, val, p), nil
	case "not_contains":
		return fmt.Sprintf("!(type(%s) == string ? string(%s).contains(%s) : %s in %s)", p, p, val, val, p), nil
	case "matches":
		if len(r.Value) > maxRuleRegexpLen {
			return "", fmt.Errorf("regular expression longer than %d bytes", maxRuleRegexpLen)
		}
		if _, err := regexp.Compile(r.Value); err != nil {
			return "", fmt.Errorf("value: %w", err)
		}
		return "string(" + p + ").matches(" + val + ")", nil
	case "exists", "not_exists":
		if len(segs) < 2 {
			return "", fmt.Errorf("operator %s needs a property below a fact variable", r.Operator)
		}
		if r.Value != "" {
			return "", fmt.Errorf("operator %s takes no value", r.Operator)
		}
		var parts []string
		for i := 1; i < len(segs); i++ {
			k, _ := celString(segs[i])
			parts = append(parts, k+" in "+celPath(segs[0], segs[1:i]))
		}
		s := "(" + strings.Join(parts, " && ") + ")"
		if r.Operator == "not_exists" {
			s = "!" + s
		}
		return s, nil
	case "version_lt", "version_le", "version_gt", "version_ge":
		scheme := "package_ecosystem"
		switch r.Scheme {
		case "":
		case "deb", "rpm", "apk":
			scheme = strconv.Quote(r.Scheme)
		default:
			return "", fmt.Errorf("scheme %q: want deb, rpm or apk", r.Scheme)
		}
		if strings.TrimSpace(r.Value) == "" {
			return "", fmt.Errorf("operator %s needs a version", r.Operator)
		}
		op := map[string]string{"version_lt": "<", "version_le": "<=", "version_gt": ">", "version_ge": ">="}[r.Operator]
		return fmt.Sprintf("version_compare(string(%s), %s, %s) %s 0", p, val, scheme, op), nil
	}
	return "", fmt.Errorf("unknown operator %q (want one of %s)", r.Operator, strings.Join(RuleOperators, ", "))
}

// ParseProperty splits a property path into its segments, the first being
// a fact variable. See Rule for the syntax.
func ParseProperty(s string) ([]string, error) {
	if s == "" {
		return nil, errors.New("empty")
	}
	if len(s) > maxPropertyLen || !utf8.ValidString(s) {
		return nil, fmt.Errorf("longer than %d bytes or not UTF-8", maxPropertyLen)
	}
	var segs []string
	for i := 0; ; {
		var seg string
		if s[i] == '"' {
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				c := s[j]
				if c == '\\' {
					if j+1 >= len(s) || (s[j+1] != '"' && s[j+1] != '\\') {
						return nil, fmt.Errorf("column %d: only \\\" and \\\\ escapes are allowed in a quoted segment", j+1)
					}
					j++
					c = s[j]
				} else if c < 0x20 || c == 0x7f {
					return nil, fmt.Errorf("column %d: control character in quoted segment", j+1)
				}
				b.WriteByte(c)
			}
			if j >= len(s) {
				return nil, fmt.Errorf("column %d: unterminated quoted segment", i+1)
			}
			seg = b.String()
			if seg == "" {
				return nil, fmt.Errorf("column %d: empty segment", i+1)
			}
			i = j + 1
		} else {
			j := i
			for j < len(s) && isBare(rune(s[j])) {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("column %d: unexpected %q (quote segments with other characters)", i+1, s[i])
			}
			seg, i = s[i:j], j
		}
		segs = append(segs, seg)
		if len(segs) > maxPropertySegs {
			return nil, fmt.Errorf("more than %d segments", maxPropertySegs)
		}
		if i == len(s) {
			break
		}
		if s[i] != '.' {
			return nil, fmt.Errorf("column %d: unexpected %q (want '.'; quote segments with other characters)", i+1, s[i])
		}
		if i+1 == len(s) {
			return nil, fmt.Errorf("column %d: want a segment after '.'", i+1)
		}
		i++
	}
	if _, ok := FactVariables[segs[0]]; !ok {
		return nil, fmt.Errorf("%q is not a fact variable", segs[0])
	}
	return segs, nil
}

func isBare(r rune) bool {
	return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_:/-", r))
}

// celPath renders root and keys as a CEL selection chain.
func celPath(root string, keys []string) string {
	var b strings.Builder
	b.WriteString(root)
	for _, k := range keys {
		if isIdent(k) {
			b.WriteString("." + k)
		} else {
			q, _ := celString(k)
			b.WriteString("[" + q + "]")
		}
	}
	return b.String()
}

// celString quotes s as a CEL string literal. Go's escapes (\n, \", \\,
// \x.., \u....) are all valid CEL escapes; for valid UTF-8 Go never emits
// a byte escape above \x7f, which CEL would read as a code point.
func celString(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errors.New("value is not valid UTF-8")
	}
	return strconv.Quote(s), nil
}

var celReserved = map[string]bool{
	"true": true, "false": true, "null": true, "in": true, "as": true, "break": true, "const": true,
	"continue": true, "else": true, "for": true, "function": true, "if": true, "import": true, "let": true,
	"loop": true, "package": true, "namespace": true, "return": true, "var": true, "void": true, "while": true,
}

// isIdent reports whether s can be written as a CEL field selection.
func isIdent(s string) bool {
	if s == "" || celReserved[s] {
		return false
	}
	for i, r := range s {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}
