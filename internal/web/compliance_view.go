package web

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/compliance"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
)

// checkURL is the page of one check; check IDs are plain, but escape anyway.
func checkURL(id string) string { return "/compliance/checks/" + url.PathEscape(id) }

func groupURL(id int64) string { return "/groups/" + strconv.FormatInt(id, 10) }

// checkCatalog is every check a workspace can assign: the built-in packs and
// its own checks, which may name a pack of their own.
type checkCatalog struct {
	checks map[string]*compliance.Check
	pack   map[string]string // check ID → pack ID
	packs  []packInfo
	custom []*compliance.Check // the workspace's own checks, by ID
	own    map[string]bool
}

type packInfo struct {
	ID, Title, Description string
	Checks                 int
	Builtin                bool
}

func (a *app) catalog(ctx context.Context, workspaceID int64) (*checkCatalog, error) {
	builtin, err := compliance.Builtin()
	if err != nil {
		return nil, fmt.Errorf("built-in packs: %w", err)
	}
	c := &checkCatalog{checks: map[string]*compliance.Check{}, pack: map[string]string{}, own: map[string]bool{}}
	for _, cp := range builtin {
		p := cp.Pack
		c.packs = append(c.packs, packInfo{ID: p.ID, Title: p.Title, Description: p.Description, Checks: len(p.Checks), Builtin: true})
		for i := range p.Checks {
			c.checks[p.Checks[i].ID], c.pack[p.Checks[i].ID] = &p.Checks[i], p.ID
		}
	}
	stored, err := a.svc.Store.ListChecks(ctx, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list checks: %w", err)
	}
	own := map[string]int{} // custom pack ID → index in c.packs
	for _, sc := range stored {
		ch, err := compliance.ParseCheck([]byte(sc.YAML))
		if err != nil {
			a.log.Error("web: stored check does not parse", "workspace_id", workspaceID, "check", sc.ID, "err", err)
			continue
		}
		c.checks[ch.ID], c.own[ch.ID] = ch, true
		c.custom = append(c.custom, ch)
		if sc.PackID == "" {
			continue
		}
		c.pack[ch.ID] = sc.PackID
		if i, ok := own[sc.PackID]; ok {
			c.packs[i].Checks++
		} else if !c.hasPack(sc.PackID) {
			own[sc.PackID] = len(c.packs)
			c.packs = append(c.packs, packInfo{ID: sc.PackID, Title: "Workspace pack " + sc.PackID, Checks: 1})
		}
	}
	return c, nil
}

func (c *checkCatalog) hasPack(id string) bool {
	for _, p := range c.packs {
		if p.ID == id {
			return true
		}
	}
	return false
}

// title is a check's title, or its ID when the check is no longer defined.
func (c *checkCatalog) title(id string) string {
	if ch := c.checks[id]; ch != nil && ch.Title != "" {
		return ch.Title
	}
	return id
}

func (c *checkCatalog) severity(id string) string {
	if ch := c.checks[id]; ch != nil {
		return ch.Severity
	}
	return ""
}

// checkSeverity is a check's severity as a badge; checks also have "info".
func checkSeverity(s string) status {
	if s == compliance.SeverityInfo {
		return status{Label: "Info", Class: "sev-info"}
	}
	return severityBadge(s)
}

func checkSeverityRank(s string) int {
	for i, v := range compliance.Severities {
		if v == s {
			return i
		}
	}
	return len(compliance.Severities)
}

// checkStatus is a result status as a badge: a word, colour only helps.
func checkStatus(s string) status {
	switch s {
	case domain.CheckPass:
		return status{"Pass", "pass"}
	case domain.CheckFail:
		return status{"Fail", "fail"}
	case domain.CheckError:
		return status{"Error", "check-error"}
	}
	return status{"Not applicable", "na"}
}

// statusRank orders results by what needs attention first.
func statusRank(s string) int {
	switch s {
	case domain.CheckFail:
		return 0
	case domain.CheckError:
		return 1
	case domain.CheckPass:
		return 2
	}
	return 3
}

// resultStatuses are the ?status= values, in the order the pages list them.
var resultStatuses = []string{domain.CheckFail, domain.CheckError, domain.CheckPass, domain.CheckNotApplicable}

// scoreView is a compliance score with the counts behind it.
type scoreView struct {
	Set                   bool
	Text                  string // "82.5%"
	Value                 string // for <meter>
	Pass, Fail, Error, NA int
	Excepted              int // failing or erroring results under an exception
}

func newScore(sum *service.ComplianceSummary) scoreView {
	t := sum.Totals
	s := scoreView{Pass: t.Pass, Fail: t.Fail, Error: t.Error, NA: t.NotApplicable, Excepted: t.Excepted}
	if sum.Score != nil {
		// One decimal, so that 99.96% with a failure does not read 100%.
		v := math.Floor(*sum.Score*10+1e-9) / 10
		s.Set, s.Value = true, strconv.FormatFloat(v, 'f', 1, 64)
		s.Text = strings.TrimSuffix(s.Value, ".0") + "%"
	}
	return s
}

// failTrends walks the status history forward and returns, per check, the
// number of failing hosts after each of its last n changes. Only hosts that
// have a result now are counted: the history does not record a check being
// unassigned, so a removed host would otherwise count as failing forever,
// and the last point would disagree with the current counts.
func failTrends(hist []domain.CheckChange, current map[string]map[int64]bool, n int) map[string][]int {
	type key struct {
		check string
		host  int64
	}
	state := map[key]string{}
	fails := map[string]int{}
	out := map[string][]int{}
	for _, c := range hist {
		if !current[c.CheckID][c.HostID] {
			continue
		}
		k := key{c.CheckID, c.HostID}
		if state[k] == domain.CheckFail {
			fails[c.CheckID]--
		}
		if c.Status == domain.CheckFail {
			fails[c.CheckID]++
		}
		state[k] = c.Status
		s := append(out[c.CheckID], fails[c.CheckID])
		if len(s) > n {
			s = s[len(s)-n:]
		}
		out[c.CheckID] = s
	}
	return out
}

// sparkline is a small trend line drawn as inline SVG on the server: no
// script, no style attribute, so it keeps to the CSP.
type sparkline struct {
	W, H         int
	Points       string // polyline points
	LastX, LastY string
	Label        string // the values in words, for screen readers and the tooltip
	Last         int
	N            int  // points
	Zero         bool // every point is zero: drawn muted
}

const sparkPad = 2.5

func newSparkline(values []int, w, h int) *sparkline {
	if len(values) == 0 {
		return nil
	}
	top := 0
	for _, v := range values {
		top = max(top, v)
	}
	zero := top == 0
	top = max(top, 1)
	y := func(v int) float64 { return sparkPad + (float64(h)-2*sparkPad)*(1-float64(v)/float64(top)) }
	xs := make([]float64, len(values))
	for i := range values {
		if len(values) == 1 {
			xs[i] = float64(w) - sparkPad
		} else {
			xs[i] = sparkPad + (float64(w)-2*sparkPad)*float64(i)/float64(len(values)-1)
		}
	}
	var pts, words []string
	if len(values) == 1 { // one change: a flat line up to it
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", sparkPad, y(values[0])))
	}
	for i, v := range values {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", xs[i], y(v)))
		words = append(words, strconv.Itoa(v))
	}
	last := values[len(values)-1]
	return &sparkline{W: w, H: h, Points: strings.Join(pts, " "), Last: last, N: len(values), Zero: zero,
		LastX: fmt.Sprintf("%.1f", xs[len(xs)-1]), LastY: fmt.Sprintf("%.1f", y(last)),
		Label: fmt.Sprintf("Failing hosts after each of the last %d status %s, oldest first: %s",
			len(values), plural(len(values), "change", "changes"), strings.Join(words, ", "))}
}

// textPart is a run of text, set as code when it was in `backticks`, as the
// packs write commands and settings.
type textPart struct {
	Text string
	Code bool
}

func codeSpans(s string) []textPart {
	var out []textPart
	for i, p := range strings.Split(s, "`") {
		if p != "" {
			out = append(out, textPart{Text: p, Code: i%2 == 1})
		}
	}
	return out
}

// sortResults orders results: failures first, then errors, passes and
// not-applicable; within each the most severe check first.
func sortResults(rs []domain.CheckResult, cat *checkCatalog, byHost bool) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if ra, rb := statusRank(a.Status), statusRank(b.Status); ra != rb {
			return ra < rb
		}
		if byHost {
			return strings.ToLower(a.HostName) < strings.ToLower(b.HostName)
		}
		if ra, rb := checkSeverityRank(cat.severity(a.CheckID)), checkSeverityRank(cat.severity(b.CheckID)); ra != rb {
			return ra < rb
		}
		return cat.title(a.CheckID) < cat.title(b.CheckID)
	})
}

// recentTrend is failTrends for one check from its latest changes only
// (newest first) and the number of hosts failing it now: walking back, the
// count before a change is the count after it, less one if the change was
// to fail, plus one if it was from fail. It equals the replay of the whole
// history when that history is complete; once the retention sweep has
// removed old changes it still ends at the current count, where the replay
// would miss hosts whose last change was swept.
func recentTrend(failing int, steps []store.CheckStep) []int {
	out := make([]int, len(steps))
	n := failing
	for i, s := range steps {
		out[len(steps)-1-i] = n
		if s.Status == domain.CheckFail {
			n--
		}
		if s.Previous == domain.CheckFail {
			n++
		}
	}
	return out
}
