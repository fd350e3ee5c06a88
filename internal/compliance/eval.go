package compliance

import (
	"fmt"
	"slices"
	"strings"

	"cel.dev/cel-go/common/types"

	"github.com/vigil-project/vigil/internal/inventory"
)

// Result statuses (the same strings as domain.Check*).
const (
	StatusPass          = "pass"
	StatusFail          = "fail"
	StatusError         = "error"
	StatusNotApplicable = "not_applicable"
)

// Result is the outcome of one check on one host.
type Result struct {
	Status string `json:"status"`
	// Reason says why, in a sentence: which item was missing, what the
	// evaluation error was, that the condition did not hold.
	Reason   string `json:"reason,omitempty"`
	Expected string `json:"expected,omitempty"`
	// Actual renders, briefly, the values of the fact paths the condition
	// reads, e.g. `items["probe:sshd"].settings.permitrootlogin = "yes"`.
	Actual string `json:"actual,omitempty"`
	// Evidence holds the same values unabridged, keyed by path.
	Evidence map[string]any `json:"evidence,omitempty"`
}

// linuxFamilies are the OS families "linux" stands for.
var linuxFamilies = map[string]bool{"linux": true, "debian": true, "redhat": true, "alpine": true, "suse": true, "arch": true, "gentoo": true}

// Applies reports whether a host with the given facts is one of the check's
// platforms; ok is false when the facts do not say what the host runs.
func Applies(c *Check, facts map[string]any) (applies, ok bool) {
	osf, _ := facts["os"].(map[string]any)
	family, _ := osf["family"].(string)
	id, _ := osf["id"].(string)
	var like []string
	if l, _ := osf["id_like"].([]any); l != nil {
		for _, v := range l {
			if s, ok := v.(string); ok {
				like = append(like, s)
			}
		}
	}
	return AppliesToOS(c, inventory.OS{Family: family, ID: id, IDLike: like})
}

// AppliesToOS is Applies for an OS identity known without facts (a host's
// last reported OS, when the server builds the agent's item list).
func AppliesToOS(c *Check, os inventory.OS) (applies, ok bool) {
	if len(c.Platforms) == 0 {
		return true, true
	}
	if os.Family == "" && os.ID == "" {
		return false, false
	}
	for _, p := range c.Platforms {
		if p == os.Family || p == os.ID || (p == "linux" && linuxFamilies[os.Family]) || slices.Contains(os.IDLike, p) {
			return true, true
		}
	}
	return false, true
}

// Evaluate runs a check's compiled condition on one host's facts (as built
// by Facts). A needed item that is missing or failed, and an evaluation
// error, give "error", never "fail": a missing datum is not a finding.
func Evaluate(c *Check, p *Program, facts map[string]any) Result {
	res := Result{Expected: c.Expected}
	if res.Expected == "" && p != nil {
		res.Expected = p.Expr
	}
	applies, known := Applies(c, facts)
	switch {
	case !known:
		return res.with(StatusError, "the host's operating system is not known (no successful scan yet?)")
	case !applies:
		return res.with(StatusNotApplicable, fmt.Sprintf("applies to %s only", strings.Join(c.Platforms, ", ")))
	}
	if msg := missingItems(c, facts); msg != "" {
		return res.with(StatusError, msg)
	}
	if p == nil {
		return res.with(StatusError, "check not compiled")
	}
	if p.when != nil {
		ok, err := run(p.when, facts)
		switch {
		case err != "":
			return res.with(StatusError, "when: "+err)
		case !ok:
			actual, _ := renderActual(p.when, facts)
			if actual == "" {
				actual = p.when.Expr
			}
			return res.with(StatusNotApplicable, "not applicable: "+actual)
		}
	}
	res.Actual, res.Evidence = renderActual(p, facts)
	ok, msg := run(p, facts)
	switch {
	case msg != "":
		return res.with(StatusError, msg)
	case ok:
		return res.with(StatusPass, "")
	}
	reason := "condition not met"
	if c.Expected != "" {
		reason = "expected " + c.Expected
	}
	return res.with(StatusFail, reason)
}

// run evaluates a program to a bool, or explains why it could not.
func run(p *Program, facts map[string]any) (bool, string) {
	out, _, err := p.prg.Eval(facts)
	if err == nil && types.IsError(out) {
		err = fmt.Errorf("%v", out)
	}
	if err != nil {
		return false, explainEvalError(err, p, facts)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Sprintf("condition yielded %s, not a bool", out.Type().TypeName())
	}
	return b, ""
}

func (r Result) with(status, reason string) Result {
	r.Status, r.Reason = status, reason
	return r
}

// missingItems names every needed item that was not collected, and why.
func missingItems(c *Check, facts map[string]any) string {
	items, _ := facts["items"].(map[string]any)
	errs, _ := facts["items_error"].(map[string]string)
	var msgs []string
	for _, n := range c.Needs {
		key := n.Key()
		if _, ok := items[key]; ok {
			continue
		}
		if e, ok := errs[key]; ok {
			msgs = append(msgs, "item "+key+": "+e)
		} else {
			msgs = append(msgs, "item "+key+": not collected (is the agent older than this check, or did the scan fail?)")
		}
	}
	return strings.Join(msgs, "; ")
}

// explainEvalError turns CEL's "no such key" into the fact path that is
// absent, with the reason Facts recorded for it when there is one.
func explainEvalError(err error, p *Program, facts map[string]any) string {
	msg := err.Error()
	if i := strings.Index(msg, undeterminedPrefix); i >= 0 {
		return msg[i+len(undeterminedPrefix):]
	}
	if strings.Contains(msg, "cost limit exceeded") {
		return "evaluation stopped: the condition exceeded its cost limit"
	}
	unknown, _ := facts["facts_unknown"].(map[string]string)
	if strings.HasPrefix(msg, "no such key") || strings.HasPrefix(msg, "no such attribute") {
		for _, r := range p.reads {
			if r.test {
				continue
			}
			for n := 0; n <= len(r.segs); n++ {
				prefix := readPath{root: r.root, segs: r.segs[:n]}
				if _, ok := lookup(facts, prefix); ok {
					continue
				}
				text := renderPath(prefix.root, prefix.segs)
				for q := prefix; ; q.segs = q.segs[:len(q.segs)-1] {
					if why, ok := unknown[renderPath(q.root, q.segs)]; ok {
						return text + ": " + why
					}
					if len(q.segs) == 0 {
						break
					}
				}
				return "evaluation error: " + text + " is absent (" + msg + ")"
			}
		}
	}
	return "evaluation error: " + msg
}
