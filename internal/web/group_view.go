package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

type groupPage struct {
	Group         groupRow
	Form          groupForm
	Members       []memberRow
	Packs         []assignOption
	Checks        []assignOption // the workspace's own checks
	Stale         []string       // assigned packs and checks that no longer exist
	AssignError   string
	Score         scoreView
	ComplianceURL string
	Help          []factHelp
	Now           when // when this page was made, for "membership as of"
}

type memberRow struct {
	ID          int64
	Name        string
	OS          string
	LastSuccess when
}

// assignOption is one checkbox of the assignments form.
type assignOption struct {
	Kind, Ref string
	Title     string
	Detail    string
	Severity  *status
	Checked   bool
}

func (a *app) handleGroup(w http.ResponseWriter, r *http.Request, rq *request) {
	g, ok := a.groupTarget(w, r, rq)
	if !ok {
		return
	}
	flash := ""
	switch r.URL.Query().Get("saved") {
	case "1":
		flash = "Group saved. Members and results are re-evaluated from each host's latest scan in the background."
	case "assignments":
		flash = "Assignments saved. Results are re-evaluated in the background; agents collect what new checks need at their next scan."
	}
	a.renderGroup(w, r, rq, g, http.StatusOK, flash, nil, "")
}

// renderGroup shows a group; form is the edit form as submitted when a
// save was refused (nil: the stored values).
func (a *app) renderGroup(w http.ResponseWriter, r *http.Request, rq *request, g *domain.Group, code int, flash string, form *groupForm, assignErr string) {
	ctx := r.Context()
	ws := rq.Actor.WorkspaceID
	as, err := a.svc.Store.ListAssignments(ctx, ws)
	if err != nil {
		a.serverError(w, r, rq, "list assignments", err)
		return
	}
	now := a.svc.Now()
	p := groupPage{Group: newGroupRow(g, as), AssignError: assignErr, Help: factsHelp, Now: newWhen(now, now),
		ComplianceURL: "/compliance?group_id=" + strconv.FormatInt(g.ID, 10)}
	if form != nil {
		p.Form = *form
	} else {
		p.Form = groupForm{Name: g.Name, Description: g.Description, Expression: g.Expression}
	}
	ids, err := a.svc.Store.GroupHostIDs(ctx, ws, g.ID)
	if err != nil {
		a.serverError(w, r, rq, "group hosts", err)
		return
	}
	hosts, err := a.hostNames(r, rq)
	if err != nil {
		a.serverError(w, r, rq, "list hosts", err)
		return
	}
	for _, id := range ids {
		if h := hosts[id]; h != nil {
			p.Members = append(p.Members, memberRow{ID: h.ID, Name: h.Name, OS: osLabel(h), LastSuccess: whenPtr(h.LastSuccessAt, now)})
		}
	}
	sort.Slice(p.Members, func(i, j int) bool { return strings.ToLower(p.Members[i].Name) < strings.ToLower(p.Members[j].Name) })

	cat, err := a.catalog(ctx, ws)
	if err != nil {
		a.serverError(w, r, rq, "check catalog", err)
		return
	}
	assigned := map[domain.Assignment]bool{}
	for _, x := range as {
		if x.GroupID == g.ID {
			assigned[domain.Assignment{Kind: x.Kind, Ref: x.Ref}] = true
		}
	}
	for _, pk := range cat.packs {
		detail := strconv.Itoa(pk.Checks) + " " + plural(pk.Checks, "check", "checks")
		if pk.Builtin {
			detail += ", built in"
		}
		p.Packs = append(p.Packs, assignOption{Kind: domain.AssignPack, Ref: pk.ID, Title: pk.Title, Detail: detail,
			Checked: assigned[domain.Assignment{Kind: domain.AssignPack, Ref: pk.ID}]})
	}
	for _, c := range cat.custom {
		sev := checkSeverity(c.Severity)
		p.Checks = append(p.Checks, assignOption{Kind: domain.AssignCheck, Ref: c.ID, Title: c.Title, Severity: &sev,
			Checked: assigned[domain.Assignment{Kind: domain.AssignCheck, Ref: c.ID}]})
	}
	// Assignments of checks deleted since are named: saving the form drops
	// them (the service refuses to assign what does not exist).
	for k := range assigned {
		if k.Kind == domain.AssignCheck && cat.checks[k.Ref] == nil || k.Kind == domain.AssignPack && !cat.hasPack(k.Ref) {
			p.Stale = append(p.Stale, k.Kind+" "+k.Ref)
		}
	}
	sort.Strings(p.Stale)
	sum, err := a.svc.Compliance(ctx, *rq.Actor, store.CheckResultFilter{GroupID: g.ID}, false)
	if err != nil {
		a.serverError(w, r, rq, "compliance summary", err)
		return
	}
	p.Score = newScore(sum)
	a.render(w, r, code, "group", pageData{Title: g.Name, Nav: "compliance", Req: rq, Flash: flash, Data: p})
}
