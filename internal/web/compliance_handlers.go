package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
)

// Sparkline sizes and length.
const (
	sparkPoints = 12
	sparkW      = 96
	sparkH      = 22
)

type compliancePage struct {
	Groups    []option
	GroupID   int64
	GroupName string
	NoGroups  bool
	Score     scoreView
	Rows      []checkRow
	Error     string // an invalid filter
}

// checkRow is one line of the overview: a check's results.
type checkRow struct {
	ID, Title, URL string
	FailURL        string
	ErrorURL       string
	Severity       status
	Reference      string
	Pass, Fail     int
	Error, NA      int
	Custom         bool
	Spark          *sparkline
}

// groupFilter reads ?group_id=; a group of another workspace is not found.
func (a *app) groupFilter(r *http.Request, rq *request) (*domain.Group, string, error) {
	v := strings.TrimSpace(r.URL.Query().Get("group_id"))
	if v == "" {
		return nil, "", nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return nil, "group_id: not a valid group ID", nil
	}
	g, err := a.svc.Store.GetGroup(r.Context(), rq.Actor.WorkspaceID, id)
	return g, "", err
}

func (a *app) handleCompliance(w http.ResponseWriter, r *http.Request, rq *request) {
	ctx := r.Context()
	p := compliancePage{}
	code := http.StatusOK
	g, msg, err := a.groupFilter(r, rq)
	switch {
	case isNotFound(err):
		a.notFound(w, r, rq)
		return
	case err != nil:
		a.serverError(w, r, rq, "get group", err)
		return
	case msg != "":
		p.Error, code = msg, http.StatusBadRequest
	}
	f := store.CheckResultFilter{}
	if g != nil {
		f.GroupID, p.GroupID, p.GroupName = g.ID, g.ID, g.Name
	}
	groups, err := a.svc.Store.ListGroups(ctx, rq.Actor.WorkspaceID)
	if err != nil {
		a.serverError(w, r, rq, "list groups", err)
		return
	}
	p.NoGroups = len(groups) == 0
	p.Groups = []option{{Value: "", Label: "All groups", Selected: g == nil}}
	for _, x := range groups {
		p.Groups = append(p.Groups, option{Value: strconv.FormatInt(x.ID, 10), Label: x.Name, Selected: x.ID == p.GroupID})
	}
	sum, err := a.svc.Compliance(ctx, *rq.Actor, f, false)
	if err != nil {
		a.serverError(w, r, rq, "compliance summary", err)
		return
	}
	p.Score = newScore(sum)
	cat, err := a.catalog(ctx, rq.Actor.WorkspaceID)
	if err != nil {
		a.serverError(w, r, rq, "check catalog", err)
		return
	}
	trends, err := a.trends(r, rq, f, sum.Checks)
	if err != nil {
		a.serverError(w, r, rq, "check history", err)
		return
	}
	for _, c := range sum.Checks {
		u := checkURL(c.CheckID)
		if g != nil {
			u += "?group_id=" + strconv.FormatInt(g.ID, 10)
		}
		row := checkRow{ID: c.CheckID, Title: cat.title(c.CheckID), URL: u, Severity: checkSeverity(c.Severity),
			Pass: c.Pass, Fail: c.Fail, Error: c.Error, NA: c.NotApplicable, Spark: newSparkline(trends[c.CheckID], sparkW, sparkH)}
		row.FailURL, row.ErrorURL = withStatus(u, domain.CheckFail), withStatus(u, domain.CheckError)
		if def := cat.checks[c.CheckID]; def != nil {
			row.Reference, row.Custom = def.Reference, cat.own[c.CheckID]
		}
		p.Rows = append(p.Rows, row)
	}
	// Checks with failures first, the most severe first; then the rest.
	sort.SliceStable(p.Rows, func(i, j int) bool {
		a, b := p.Rows[i], p.Rows[j]
		if (a.Fail > 0) != (b.Fail > 0) {
			return a.Fail > 0
		}
		if ra, rb := checkSeverityRank(cat.severity(a.ID)), checkSeverityRank(cat.severity(b.ID)); ra != rb {
			return ra < rb
		}
		if a.Fail != b.Fail {
			return a.Fail > b.Fail
		}
		return a.Title < b.Title
	})
	flash := ""
	if id := r.URL.Query().Get("deleted"); id != "" {
		flash = "Check " + id + " deleted. Its results disappear at the next evaluation."
	}
	a.render(w, r, code, "compliance", pageData{Title: "Compliance", Nav: "compliance", Req: rq, Flash: flash, Data: p})
}

// trends returns each check's failing-host counts after each of its last
// changes, as failTrends would replaying the whole history, but from the
// last sparkPoints changes only: the count after the newest change is the
// number failing now, and each change undone going back adjusts it by its
// own status and the one it replaced (see recentTrend).
func (a *app) trends(r *http.Request, rq *request, f store.CheckResultFilter, checks []service.CheckSummary) (map[string][]int, error) {
	ids := make([]string, len(checks))
	for i, c := range checks {
		ids[i] = c.CheckID
	}
	recent, err := a.svc.Store.RecentCheckChanges(r.Context(), rq.Actor.WorkspaceID, f, ids, sparkPoints)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]int, len(checks))
	for _, c := range checks {
		if steps := recent[c.CheckID]; len(steps) > 0 {
			out[c.CheckID] = recentTrend(c.Failing, steps)
		}
	}
	return out, nil
}

// withStatus adds ?status= to a check page URL that may have a query.
func withStatus(u, st string) string {
	if strings.Contains(u, "?") {
		return u + "&status=" + url.QueryEscape(st)
	}
	return u + "?status=" + url.QueryEscape(st)
}
