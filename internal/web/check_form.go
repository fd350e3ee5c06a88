package web

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/compliance"
)

// Builder limits of the form: one level of nested groups.
const (
	maxFormRules  = 50
	maxFormGroups = 10
)

// editorPlatforms are the platform checkboxes every form offers.
var editorPlatforms = []string{"linux", "debian", "redhat", "suse", "alpine", "windows"}

// operatorLabels names the rule operators in the select.
var operatorLabels = map[string]string{
	"eq": "equals", "ne": "does not equal", "gt": "> (integer)", "ge": "≥ (integer)", "lt": "< (integer)", "le": "≤ (integer)",
	"contains": "contains", "not_contains": "does not contain", "matches": "matches regexp",
	"exists": "exists", "not_exists": "does not exist",
	"version_lt": "version <", "version_le": "version ≤", "version_gt": "version >", "version_ge": "version ≥",
}

var packIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ruleRow is one row of the builder as typed.
type ruleRow struct{ Property, Operator, Value, Scheme string }

func (r ruleRow) empty() bool {
	return strings.TrimSpace(r.Property) == "" && strings.TrimSpace(r.Value) == ""
}

// ruleGroupForm is a nested group of the builder.
type ruleGroupForm struct {
	Op    string
	Rules []ruleRow
}

// checkForm is the editor as the user filled it, with what is wrong.
type checkForm struct {
	Original    string // the ID of the check being edited; "" for a new one
	ID, Title   string
	Severity    string
	Platforms   []string
	Needs       string // item keys, one a line
	Description string
	Rationale   string
	Remediation string
	Reference   string
	Expected    string
	When        string
	Pack        string
	Mode        string // "builder" or "cel"
	Op          string // "and" or "or"
	Rules       []ruleRow
	Groups      []ruleGroupForm
	Condition   string
	HostID      int64

	Errors map[string]string // field → message
	Error  string            // a message for the whole form
	Issues []exprIssue       // compile errors of the CEL condition
}

func (f *checkForm) fail(field, format string, args ...any) {
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	if _, ok := f.Errors[field]; !ok {
		f.Errors[field] = fmt.Sprintf(format, args...)
	}
}

func formText(v url.Values, name string) string {
	return strings.TrimSpace(strings.ReplaceAll(v.Get(name), "\r\n", "\n"))
}

// readRows reads the parallel property/operator/value/scheme lists.
func readRows(v url.Values, prefix string) []ruleRow {
	props := v[prefix+"property"]
	var out []ruleRow
	for i := 0; i < len(props) && i < maxFormRules; i++ {
		at := func(name string) string {
			if vs := v[prefix+name]; i < len(vs) {
				return strings.TrimSpace(vs[i])
			}
			return ""
		}
		out = append(out, ruleRow{Property: strings.TrimSpace(props[i]), Operator: at("operator"), Value: at("value"), Scheme: at("scheme")})
	}
	return out
}

func andOr(s string) string {
	if s == "or" {
		return "or"
	}
	return "and"
}

// readCheckForm reads the editor's fields.
func readCheckForm(v url.Values) checkForm {
	f := checkForm{Original: formText(v, "original"), ID: formText(v, "id"), Title: formText(v, "title"),
		Severity: formText(v, "severity"), Needs: formText(v, "needs"), Description: formText(v, "description"),
		Rationale: formText(v, "rationale"), Remediation: formText(v, "remediation"), Reference: formText(v, "reference"),
		Expected: formText(v, "expected"), When: formText(v, "when"), Pack: formText(v, "pack"),
		Mode: "builder", Op: andOr(v.Get("op")), Rules: readRows(v, "rule_"), Condition: formText(v, "condition")}
	if v.Get("mode") == "cel" {
		f.Mode = "cel"
	}
	for _, p := range v["platform"] {
		if p = strings.TrimSpace(p); p != "" && len(f.Platforms) < 32 {
			f.Platforms = append(f.Platforms, p)
		}
	}
	for i, op := range v["g_op"] {
		if i >= maxFormGroups {
			break
		}
		f.Groups = append(f.Groups, ruleGroupForm{Op: andOr(op), Rules: readRows(v, "g"+strconv.Itoa(i)+"_")})
	}
	f.HostID, _ = strconv.ParseInt(v.Get("host_id"), 10, 64)
	return f
}

// formFromCheck fills the editor with a stored or built-in check. A rule
// nested deeper than the builder shows is edited as CEL.
func formFromCheck(c *compliance.Check) checkForm {
	f := checkForm{ID: c.ID, Title: c.Title, Severity: c.Severity, Platforms: c.Platforms, Description: c.Description,
		Rationale: c.Rationale, Remediation: c.Remediation, Reference: c.Reference, Expected: c.Expected, When: c.When,
		Mode: "cel", Op: "and", Condition: c.Condition}
	var needs []string
	for _, n := range c.Needs {
		needs = append(needs, n.Key())
	}
	f.Needs = strings.Join(needs, "\n")
	if g := c.Rule; g != nil {
		flat := true
		for _, sub := range g.Groups {
			flat = flat && len(sub.Groups) == 0
		}
		if flat {
			f.Mode, f.Op = "builder", andOr(g.Op)
			for _, r := range g.Rules {
				f.Rules = append(f.Rules, ruleRow(r))
			}
			for _, sub := range g.Groups {
				gf := ruleGroupForm{Op: andOr(sub.Op)}
				for _, r := range sub.Rules {
					gf.Rules = append(gf.Rules, ruleRow(r))
				}
				f.Groups = append(f.Groups, gf)
			}
		} else if expr, err := g.CEL(); err == nil {
			f.Condition = expr
		}
	}
	return f
}

// ruleGroup is the builder's rows as a rule, empty rows left out; nil
// when there is no rule at all.
func (f *checkForm) ruleGroup() *compliance.RuleGroup {
	rules := func(rows []ruleRow) []compliance.Rule {
		var out []compliance.Rule
		for _, r := range rows {
			if !r.empty() {
				out = append(out, compliance.Rule(r))
			}
		}
		return out
	}
	g := &compliance.RuleGroup{Op: f.Op, Rules: rules(f.Rules)}
	for _, sub := range f.Groups {
		if rs := rules(sub.Rules); len(rs) > 0 {
			g.Groups = append(g.Groups, compliance.RuleGroup{Op: sub.Op, Rules: rs})
		}
	}
	if len(g.Rules)+len(g.Groups) == 0 {
		return nil
	}
	return g
}

// generated is the CEL the builder stands for, or why there is none.
func (f *checkForm) generated() (string, string) {
	g := f.ruleGroup()
	if g == nil {
		return "", "Add a rule to see its condition."
	}
	s, err := g.CEL()
	if err != nil {
		return "", err.Error()
	}
	return s, ""
}

// check builds the draft check, recording what cannot be read.
func (f *checkForm) check() *compliance.Check {
	c := &compliance.Check{ID: f.ID, Title: f.Title, Severity: f.Severity, Platforms: f.Platforms, Description: f.Description,
		Rationale: f.Rationale, Remediation: f.Remediation, Reference: f.Reference, Expected: f.Expected, When: f.When}
	for i, line := range strings.Split(f.Needs, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		n, err := compliance.ParseNeed(line)
		if err != nil {
			f.fail("needs", "line %d: %v", i+1, err)
			continue
		}
		c.Needs = append(c.Needs, n)
	}
	if f.Mode == "cel" {
		c.Condition = f.Condition
		if c.Condition == "" {
			f.fail("condition", "write a CEL condition")
		}
	} else if c.Rule = f.ruleGroup(); c.Rule == nil {
		f.fail("condition", "add at least one rule")
	}
	if f.Pack != "" && !packIDRE.MatchString(f.Pack) {
		f.fail("pack", "must be 1-64 characters of [a-z0-9._-], starting with a letter or digit")
	}
	return c
}

// draft validates the form as the service will: the YAML round trip, then
// compiling the condition. It returns the check's YAML, or nil with the
// errors recorded in f.
func (f *checkForm) draft() []byte {
	c := f.check()
	if len(f.Errors) > 0 {
		if f.Mode == "cel" && f.Condition != "" { // show its errors too
			if _, err := compliance.Compile(f.Condition); err != nil {
				f.compileFailed(err)
			}
		}
		return nil
	}
	y, err := compliance.MarshalCheck(c)
	if err == nil {
		c, err = compliance.ParseCheck(y)
	}
	if err == nil {
		_, err = compliance.CompileCheck(c)
	}
	if err != nil {
		f.compileFailed(err)
		return nil
	}
	return y
}

// compileFailed puts a validation or compile error next to its field.
func (f *checkForm) compileFailed(err error) {
	var fe *compliance.FieldError
	var ce *compliance.CompileError
	switch {
	case errors.As(err, &ce):
		if f.Mode == "cel" {
			f.fail("condition", "the condition does not compile")
			f.Issues = exprIssues(f.Condition)
		} else {
			f.fail("condition", "%v", ce)
		}
	case errors.As(err, &fe):
		field, _, _ := strings.Cut(fe.Field, "[")
		switch field {
		case "rule":
			field = "condition"
		case "id", "title", "severity", "platforms", "needs", "condition", "when":
		default:
			f.Error = fe.Field + ": " + fe.Message
			return
		}
		f.fail(field, "%s", fe.Message)
	default:
		f.Error = err.Error()
	}
}
