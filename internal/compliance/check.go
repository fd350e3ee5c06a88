// Package compliance evaluates configuration checks against the inventory an
// agent collected from a host. A check is a CEL condition (or a rule built in
// the UI, which compiles to one) over a host's facts: its system identity,
// packages, the compliance items the agent collected for it, labels and a
// summary of its vulnerability findings.
//
// The package is pure: it does no I/O apart from reading the built-in packs
// and the end-of-life table embedded in the binary. Programs are compiled
// once and evaluated against many hosts; evaluation is deterministic.
//
// The check format, the facts and the built-in pack are documented in
// docs/checks.md.
package compliance

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

// Severities a check may have, most severe first.
const (
	SeverityCritical = "critical"
	SeverityHigh     = "high"
	SeverityMedium   = "medium"
	SeverityLow      = "low"
	SeverityInfo     = "info"
)

// Severities lists the check severities, most severe first.
var Severities = []string{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}

// Check is one configuration check. Exactly one of Condition (a CEL
// expression) and Rule (the builder form, which generates the expression)
// is set.
type Check struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Rationale   string `json:"rationale,omitempty"`
	Remediation string `json:"remediation,omitempty"`
	Severity    string `json:"severity"`
	// Platforms limits the check to hosts whose OS family, ID or ID_LIKE
	// is listed; "linux" matches every Linux host. Empty: every host.
	Platforms []string `json:"platforms,omitempty"`
	// Needs lists the items the agent must collect for the condition.
	// A needed item that is missing or failed makes the result "error".
	Needs     []inventory.ItemRequest `json:"needs,omitempty"`
	Condition string                  `json:"condition,omitempty"`
	Rule      *RuleGroup              `json:"rule,omitempty"`
	// When, a CEL condition, narrows the check further than Platforms:
	// the result is not_applicable when it is false (e.g. no SSH server).
	When string `json:"when,omitempty"`
	// Reference cites the benchmark section, e.g. "CIS Debian 12 v1.1.0 5.1.20".
	Reference string `json:"reference,omitempty"`
	// Expected says in words what a passing host looks like.
	Expected string `json:"expected,omitempty"`
}

// Pack is a named set of checks, the unit of import, export and assignment.
type Pack struct {
	ID          string  `json:"id"`
	Title       string  `json:"title"`
	Description string  `json:"description,omitempty"`
	Checks      []Check `json:"checks"`
}

// Limits on what a check may contain.
const (
	MaxIDLen        = 64
	MaxTextLen      = 8192
	MaxNeeds        = 32
	MaxChecksInPack = 2000
)

var (
	idRE       = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	platformRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)
	probeRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,63}$`)
)

// Expression returns the check's CEL condition, generating it from Rule
// when the check uses the builder form.
func (c *Check) Expression() (string, error) {
	if c.Rule != nil {
		return c.Rule.CEL()
	}
	return c.Condition, nil
}

// Validate checks the check's fields, but not its condition: Compile does.
func (c *Check) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case c.ID == "":
		return bad("id", "required")
	case len(c.ID) > MaxIDLen || !idRE.MatchString(c.ID):
		return bad("id", "must be 1-%d characters of [a-z0-9._-], starting with a letter or digit", MaxIDLen)
	case strings.TrimSpace(c.Title) == "":
		return bad("title", "required")
	}
	texts := []struct{ name, s string }{{"title", c.Title}, {"description", c.Description}, {"rationale", c.Rationale},
		{"remediation", c.Remediation}, {"reference", c.Reference}, {"expected", c.Expected}, {"condition", c.Condition}, {"when", c.When}}
	for _, t := range texts {
		if len(t.s) > MaxTextLen {
			return bad(t.name, "longer than %d bytes", MaxTextLen)
		}
	}
	if !validSeverity(c.Severity) {
		return bad("severity", "must be one of %s", strings.Join(Severities, ", "))
	}
	for i, p := range c.Platforms {
		if !platformRE.MatchString(p) {
			return bad(fmt.Sprintf("platforms[%d]", i), "%q is not an OS family or ID (lower-case, e.g. linux, debian, redhat, alpine, suse)", p)
		}
	}
	if len(c.Needs) > MaxNeeds {
		return bad("needs", "more than %d items", MaxNeeds)
	}
	for i, n := range c.Needs {
		if err := validateNeed(n); err != nil {
			return bad(fmt.Sprintf("needs[%d]", i), "%v", err)
		}
	}
	switch {
	case c.Condition == "" && c.Rule == nil:
		return bad("condition", "a condition or a rule is required")
	case c.Condition != "" && c.Rule != nil:
		return bad("rule", "give either a condition or a rule, not both")
	}
	if c.Rule != nil {
		if _, err := c.Rule.CEL(); err != nil {
			return bad("rule", "%v", err)
		}
	}
	return nil
}

func validSeverity(s string) bool {
	for _, v := range Severities {
		if s == v {
			return true
		}
	}
	return false
}

// ParseNeed parses an item key such as "probe:sshd" or
// "file_meta:/etc/shadow" into a request and validates it.
func ParseNeed(key string) (inventory.ItemRequest, error) {
	kind, name, ok := strings.Cut(key, ":")
	if !ok {
		return inventory.ItemRequest{}, fmt.Errorf("%q: want kind:name, e.g. probe:sshd or file_meta:/etc/shadow", key)
	}
	r := inventory.ItemRequest{Kind: kind, Name: name}
	return r, validateNeed(r)
}

func validateNeed(r inventory.ItemRequest) error {
	switch r.Kind {
	case inventory.ItemProbe:
		if !probeRE.MatchString(r.Name) {
			return fmt.Errorf("probe name %q must be [a-z0-9_]", r.Name)
		}
	case inventory.ItemFile, inventory.ItemFileMeta:
		if !strings.HasPrefix(r.Name, "/") || path.Clean(r.Name) != r.Name || len(r.Name) > 4096 || strings.ContainsRune(r.Name, 0) {
			return fmt.Errorf("%s path %q must be absolute and clean", r.Kind, r.Name)
		}
	default:
		return fmt.Errorf("unknown item kind %q (want %s, %s or %s)", r.Kind, inventory.ItemProbe, inventory.ItemFile, inventory.ItemFileMeta)
	}
	return nil
}

// Validate checks the pack and each of its checks; check IDs must be unique.
func (p *Pack) Validate() error {
	switch {
	case p.ID == "":
		return &FieldError{Field: "id", Message: "required"}
	case len(p.ID) > MaxIDLen || !idRE.MatchString(p.ID):
		return &FieldError{Field: "id", Message: fmt.Sprintf("must be 1-%d characters of [a-z0-9._-]", MaxIDLen)}
	case strings.TrimSpace(p.Title) == "":
		return &FieldError{Field: "title", Message: "required"}
	case len(p.Checks) > MaxChecksInPack:
		return &FieldError{Field: "checks", Message: fmt.Sprintf("more than %d checks", MaxChecksInPack)}
	}
	seen := map[string]bool{}
	for i := range p.Checks {
		c := &p.Checks[i]
		if err := c.Validate(); err != nil {
			return prefixField(fmt.Sprintf("checks[%d]", i), err)
		}
		if seen[c.ID] {
			return &FieldError{Field: fmt.Sprintf("checks[%d].id", i), Message: fmt.Sprintf("duplicate check id %q", c.ID)}
		}
		seen[c.ID] = true
	}
	return nil
}

// FieldError names the field that failed validation; Line is the line of
// the YAML document it came from, when known.
type FieldError struct {
	Field   string
	Message string
	Line    int
}

func (e *FieldError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Message)
	}
	return e.Field + ": " + e.Message
}

func prefixField(prefix string, err error) error {
	if fe, ok := err.(*FieldError); ok {
		return &FieldError{Field: prefix + "." + fe.Field, Message: fe.Message, Line: fe.Line}
	}
	return fmt.Errorf("%s: %w", prefix, err)
}
