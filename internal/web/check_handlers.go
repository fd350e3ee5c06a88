package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// changesShown is how many recent status changes the check page lists.
const changesShown = 15

type checkPage struct {
	ID          string
	Title       string
	Severity    status
	Known       bool // defined in the catalog; results may outlive a deleted check
	Custom      bool
	Pack        string
	Description []textPart
	Rationale   []textPart
	Remediation []textPart
	Reference   string
	Expected    string
	Needs       []string
	Platforms   string
	Condition   string
	When        string
	GroupID     int64
	GroupName   string
	ClearGroup  string
	Status      string
	Counts      []countLink
	Rows        []resultRow
	Total       int // results under the group filter, any status
	Spark       *sparkline
	Changes     []changeRow
	Error       string
}

// resultRow is one host's result of a check.
type resultRow struct {
	HostID    int64
	HostName  string
	Status    status
	Reason    string
	Expected  string
	Actual    string
	Evaluated when
	Changed   when
	// Excepted is set when an exception covers a failing result; NewExc
	// is the form to make one for a failing or erroring result.
	Excepted *exceptedView
	NewExc   string
}

type changeRow struct {
	HostID   int64
	HostName string
	Status   status
	Reason   string
	At       when
}

func (a *app) handleCheck(w http.ResponseWriter, r *http.Request, rq *request) {
	ctx := r.Context()
	id := strings.TrimSpace(r.PathValue("id"))
	if id == "" || len(id) > 200 {
		a.notFound(w, r, rq)
		return
	}
	p := checkPage{ID: id, Title: id}
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
	f := store.CheckResultFilter{CheckID: id}
	if g != nil {
		f.GroupID, p.GroupID, p.GroupName, p.ClearGroup = g.ID, g.ID, g.Name, checkURL(id)
	}
	if st := r.URL.Query().Get("status"); st != "" {
		if slices.Contains(resultStatuses, st) || st == statusExcepted {
			p.Status = st
		} else {
			p.Error, code = "status: must be one of "+strings.Join(resultStatuses, ", "), http.StatusBadRequest
		}
	}
	cat, err := a.catalog(ctx, rq.Actor.WorkspaceID)
	if err != nil {
		a.serverError(w, r, rq, "check catalog", err)
		return
	}
	all, err := a.svc.Store.ListCheckResults(ctx, rq.Actor.WorkspaceID, f)
	if err != nil {
		a.serverError(w, r, rq, "list check results", err)
		return
	}
	def := cat.checks[id]
	if def == nil && len(all) == 0 {
		a.notFound(w, r, rq)
		return
	}
	if def != nil {
		p.Known, p.Custom, p.Pack, p.Title = true, cat.own[id], cat.pack[id], def.Title
		p.Severity = checkSeverity(def.Severity)
		p.Description, p.Rationale, p.Remediation = codeSpans(def.Description), codeSpans(def.Rationale), codeSpans(def.Remediation)
		p.Reference, p.Expected, p.When = def.Reference, def.Expected, def.When
		p.Platforms = strings.Join(def.Platforms, ", ")
		for _, n := range def.Needs {
			p.Needs = append(p.Needs, n.Key())
		}
		if expr, err := def.Expression(); err == nil {
			p.Condition = expr
		}
	}
	now := a.svc.Now()
	p.Total = len(all)
	counts := map[string]int{}
	names := map[int64]string{}
	for _, res := range all {
		counts[resultState(&res, now)]++
		names[res.HostID] = res.HostName
	}
	base := checkURL(id)
	if g != nil {
		base += "?group_id=" + strconv.FormatInt(g.ID, 10)
	}
	p.Counts = append(p.Counts, countLink{Label: "All", N: len(all), URL: base, Current: p.Status == ""})
	for _, st := range resultStatuses {
		b := checkStatus(st)
		p.Counts = append(p.Counts, countLink{Label: b.Label, N: counts[st], URL: withStatus(base, st), Badge: b, Current: p.Status == st})
	}
	if n := counts[statusExcepted]; n > 0 || p.Status == statusExcepted {
		p.Counts = append(p.Counts, countLink{Label: exceptedStatus.Label, N: n, URL: withStatus(base, statusExcepted),
			Badge: exceptedStatus, Current: p.Status == statusExcepted})
	}
	sortResults(all, cat, true)
	for _, res := range all {
		if p.Status != "" && resultState(&res, now) != p.Status {
			continue
		}
		p.Rows = append(p.Rows, resultRow{HostID: res.HostID, HostName: res.HostName, Status: checkStatus(res.Status),
			Reason: res.Reason, Expected: res.Expected, Actual: res.Actual,
			Evaluated: newWhen(res.EvaluatedAt, now), Changed: newWhen(res.ChangedAt, now),
			Excepted: newExcepted(&res, now), NewExc: newCheckExceptionURL(res.CheckID, res.HostID, r.URL.RequestURI())})
		if row := &p.Rows[len(p.Rows)-1]; row.Excepted != nil {
			row.Status = exceptedStatus
		} else if !rq.CanWrite() || (res.Status != domain.CheckFail && res.Status != domain.CheckError) {
			row.NewExc = ""
		}
	}
	hist, err := a.svc.Store.CheckHistory(ctx, rq.Actor.WorkspaceID, store.CheckResultFilter{CheckID: id, GroupID: f.GroupID}, time.Time{})
	if err != nil {
		a.serverError(w, r, rq, "check history", err)
		return
	}
	have := map[string]map[int64]bool{id: {}}
	for hid := range names {
		have[id][hid] = true
	}
	p.Spark = newSparkline(failTrends(hist, have, sparkPoints)[id], 180, 36)
	for i := len(hist) - 1; i >= 0 && len(p.Changes) < changesShown; i-- {
		c := hist[i]
		if name, ok := names[c.HostID]; ok {
			p.Changes = append(p.Changes, changeRow{HostID: c.HostID, HostName: name, Status: checkStatus(c.Status),
				Reason: c.Reason, At: newWhen(c.At, now)})
		}
	}
	flash := ""
	if r.URL.Query().Get("saved") == "1" {
		flash = "Check saved. Hosts in the groups it is assigned to are re-evaluated in the background."
	}
	a.render(w, r, code, "check", pageData{Title: p.Title, Nav: "compliance", Req: rq, Flash: flash, Data: p})
}
