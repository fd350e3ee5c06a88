package osv

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/version"
)

// Result is the verdict on one installed version against one affected entry.
type Result struct {
	Affected bool
	// Fixed is the lowest fixed version above the installed one that is not
	// itself affected: what to upgrade to. "" when not affected or when no
	// fix is known.
	Fixed string
	// Rule explains the verdict for a human, e.g.
	// "installed 2.28-42.el8 < fixed 2.28-42.el8.1 (range introduced 0)".
	Rule string
}

// Evaluate decides whether installed lies in a, following the evaluation
// pseudo-code of the OSV schema exactly:
//
//   - installed is affected if it equals an entry of a.Versions or lies in
//     any range (ranges are OR'ed);
//   - within a range the events are sorted by version, "0" as introduced
//     sorting before everything; walking them, installed >= introduced
//     makes it vulnerable, installed >= fixed (exclusive bound) or
//     installed > last_affected (inclusive bound) makes it not;
//   - if a range has limit events, installed must be below one of them
//     ("*" is infinity) or the range does not apply.
//
// Versions compare with cmp, the ordering of the package's ecosystem. For
// rpm, installed should be the full EVR (inventory.Package.EVR()); rpm
// ordering treats a missing epoch as 0 on both sides, so a fixed version
// "1:3.0.7-27.el9" is above an installed "3.0.7-28.el9" that lost its epoch.
// Events at equal versions are ordered introduced, last_affected, fixed, so
// a range that introduces and fixes at the same version is empty.
//
// The versions list is matched by version equality (so "0:1.0-1" is listed
// when "1.0-1" is); an entry the ordering cannot parse only matches by exact
// string. An invalid installed version or range event is an error.
func Evaluate(a vuln.Affected, cmp version.Comparer, installed string) (Result, error) {
	if cmp == nil {
		return Result{}, errors.New("osv: evaluate: no version ordering")
	}
	wrap := func(err error) error {
		return fmt.Errorf("osv: evaluate %s %s %q: %w", a.Ecosystem, a.Package, installed, err)
	}
	if _, err := cmp.Compare(installed, installed); err != nil {
		return Result{}, wrap(err)
	}
	e := &evaluator{cmp: cmp, versions: a.Versions}
	for _, r := range a.Ranges {
		pr, err := e.prepare(r)
		if err != nil {
			return Result{}, wrap(err)
		}
		e.ranges = append(e.ranges, pr)
	}
	affected, rule, err := e.affected(installed)
	if err != nil {
		return Result{}, wrap(err)
	}
	res := Result{Affected: affected, Rule: rule}
	if affected {
		if res.Fixed, err = e.firstFix(installed); err != nil {
			return Result{}, wrap(err)
		}
	}
	return res, nil
}

type evKind int

// The order is the tie-break for events at the same version.
const (
	evIntroduced evKind = iota
	evLastAffected
	evFixed
	evLimit
)

var kindName = [...]string{"introduced", "last_affected", "fixed", "limit"}

type ev struct {
	kind evKind
	ver  string
	zero bool // introduced "0": before every version
}

type preparedRange struct {
	events []ev // introduced/fixed/last_affected, sorted
	limits []string
}

type evaluator struct {
	cmp      version.Comparer
	versions []string
	ranges   []preparedRange
}

func (e *evaluator) prepare(r vuln.Range) (preparedRange, error) {
	var pr preparedRange
	for i, raw := range r.Events {
		x, err := toEv(raw)
		if err != nil {
			return pr, fmt.Errorf("event %d: %w", i, err)
		}
		switch {
		case x.kind == evLimit:
			pr.limits = append(pr.limits, x.ver)
			continue
		case x.zero:
		default:
			// Parse every event up front, so that a bad version is an
			// error here rather than a silent mis-sort.
			if _, err := e.cmp.Compare(x.ver, x.ver); err != nil {
				return pr, fmt.Errorf("%s event: %w", kindName[x.kind], err)
			}
		}
		pr.events = append(pr.events, x)
	}
	slices.SortStableFunc(pr.events, func(a, b ev) int {
		switch {
		case a.zero && b.zero:
			return 0
		case a.zero:
			return -1
		case b.zero:
			return 1
		}
		c, _ := e.cmp.Compare(a.ver, b.ver) // both parsed above
		if c == 0 {
			c = int(a.kind) - int(b.kind)
		}
		return c
	})
	return pr, nil
}

func toEv(raw vuln.Event) (ev, error) {
	var out []ev
	for _, c := range []ev{{evIntroduced, raw.Introduced, false}, {evFixed, raw.Fixed, false},
		{evLastAffected, raw.LastAffected, false}, {evLimit, raw.Limit, false}} {
		if c.ver != "" {
			out = append(out, c)
		}
	}
	if len(out) != 1 {
		return ev{}, fmt.Errorf("sets %d of introduced/fixed/last_affected/limit, want exactly 1", len(out))
	}
	x := out[0]
	x.zero = x.kind == evIntroduced && x.ver == "0"
	return x, nil
}

// affected is the spec's IsVulnerable for one package: the versions list,
// then every range.
func (e *evaluator) affected(v string) (bool, string, error) {
	listed := e.listed(v)
	if len(e.ranges) == 0 {
		if listed {
			return true, "listed in affected versions", nil
		}
		if len(e.versions) > 0 {
			return false, "not among the affected versions listed", nil
		}
		return false, "no ECOSYSTEM ranges and no versions listed", nil
	}
	var misses []string
	for _, r := range e.ranges {
		in, rule, err := e.inRange(r, v)
		if err != nil {
			return false, "", err
		}
		if in {
			if listed {
				rule += "; listed in affected versions"
			}
			return true, rule, nil
		}
		misses = append(misses, rule)
	}
	if listed {
		return true, "listed in affected versions", nil
	}
	return false, strings.Join(misses, "; "), nil
}

func (e *evaluator) listed(v string) bool {
	for _, x := range e.versions {
		if x == v {
			return true
		}
		// An entry the ordering rejects cannot equal a valid version.
		if c, err := e.cmp.Compare(x, v); err == nil && c == 0 {
			return true
		}
	}
	return false
}

// inRange is the spec's loop over one range's sorted events, plus the
// explanation of where v ended up.
func (e *evaluator) inRange(r preparedRange, v string) (bool, string, error) {
	if len(r.limits) > 0 {
		below := false
		for _, l := range r.limits {
			if strings.Contains(l, "*") {
				below = true
				break
			}
			c, err := e.cmp.Compare(v, l)
			if err != nil {
				return false, "", fmt.Errorf("limit event: %w", err)
			}
			if c < 0 {
				below = true
				break
			}
		}
		if !below {
			return false, fmt.Sprintf("installed %s >= limit %s", v, strings.Join(r.limits, ", ")), nil
		}
	}
	vulnerable := false
	from, closedBy := -1, -1
	for i, x := range r.events {
		c := 1 // v against x.ver; introduced "0" is below everything
		if !x.zero {
			c, _ = e.cmp.Compare(v, x.ver) // parsed in prepare
		}
		switch {
		case x.kind == evIntroduced && c >= 0:
			vulnerable, from = true, i
		case x.kind == evFixed && c >= 0, x.kind == evLastAffected && c > 0:
			vulnerable, closedBy = false, i
		}
	}
	introduced := func() string {
		if from < 0 {
			return ""
		}
		return " (range introduced " + r.events[from].ver + ")"
	}
	if vulnerable {
		// The first closing event after the introduction that let v in
		// lies above v: the loop would have closed the range otherwise.
		for _, x := range r.events[from+1:] {
			switch x.kind {
			case evFixed:
				return true, fmt.Sprintf("installed %s < fixed %s%s", v, x.ver, introduced()), nil
			case evLastAffected:
				return true, fmt.Sprintf("installed %s <= last_affected %s, no fixed event%s", v, x.ver, introduced()), nil
			}
		}
		return true, fmt.Sprintf("no fix available: introduced %s, no fixed event", r.events[from].ver), nil
	}
	switch {
	case closedBy >= 0 && r.events[closedBy].kind == evFixed:
		return false, fmt.Sprintf("installed %s >= fixed %s%s", v, r.events[closedBy].ver, introduced()), nil
	case closedBy >= 0:
		return false, fmt.Sprintf("installed %s > last_affected %s%s", v, r.events[closedBy].ver, introduced()), nil
	}
	for _, x := range r.events {
		if x.kind == evIntroduced {
			return false, fmt.Sprintf("installed %s < introduced %s", v, x.ver), nil
		}
	}
	return false, "range has no introduced event", nil
}

// firstFix returns the lowest fixed event above v at which the package is
// no longer affected. With one range that is simply its next fixed event;
// with overlapping ranges or a versions list, a fix that lands in another
// affected span is skipped.
func (e *evaluator) firstFix(v string) (string, error) {
	var fixes []string
	for _, r := range e.ranges {
		for _, x := range r.events {
			if x.kind != evFixed {
				continue
			}
			if c, _ := e.cmp.Compare(x.ver, v); c > 0 {
				fixes = append(fixes, x.ver)
			}
		}
	}
	slices.SortFunc(fixes, func(a, b string) int { c, _ := e.cmp.Compare(a, b); return c })
	for _, f := range fixes {
		still, _, err := e.affected(f)
		if err != nil {
			return "", err
		}
		if !still {
			return f, nil
		}
	}
	return "", nil
}
