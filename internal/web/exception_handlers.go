package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/export"
	"github.com/vigil-project/vigil/internal/store"
)

// riskRoutes mounts the risk workflow pages: exceptions, the worklist, the
// printable group report and the host SBOM download.
func (a *app) riskRoutes(m interface {
	Handle(string, http.Handler)
}) {
	m.Handle("GET /exceptions", a.user(a.handleExceptions))
	m.Handle("GET /exceptions/export", a.user(a.handleExceptionsExport))
	m.Handle("GET /exceptions/new", a.user(a.handleNewException))
	m.Handle("POST /exceptions", a.user(a.handleCreateException))
	m.Handle("GET /exceptions/{id}", a.user(a.handleException))
	m.Handle("POST /exceptions/{id}", a.user(a.handleUpdateException))
	m.Handle("POST /exceptions/{id}/revoke", a.user(a.handleRevokeException))
	m.Handle("GET /worklist", a.user(a.handleWorklist))
	m.Handle("GET /worklist/export", a.user(a.handleWorklistExport))
	m.Handle("GET /reports", a.user(a.handleReports))
	m.Handle("POST /reports/schedules", a.user(a.handleCreateSchedule))
	m.Handle("POST /reports/schedules/delete", a.user(a.handleDeleteSchedule))
	m.Handle("GET /reports/groups/{id}", a.user(a.handleGroupReport))
	m.Handle("GET /hosts/{id}/sbom", a.user(a.handleHostSBOM))
}

type exceptionsPage struct {
	State   string
	Target  string
	Tabs    []countLink
	Rows    []exceptionRow
	History []eventRow
	Export  string
}

// historyShown is how many recent events the Exceptions page lists.
const historyShown = 50

func (a *app) handleExceptions(w http.ResponseWriter, r *http.Request, rq *request) {
	q := r.URL.Query()
	p := exceptionsPage{State: q.Get("state"), Target: q.Get("target")}
	if p.State == "" && !q.Has("state") {
		p.State = domain.ExceptionActive
	}
	if p.State == "all" {
		p.State = ""
	}
	f := store.ExceptionFilter{State: p.State, Target: p.Target}
	switch f.Target {
	case "", domain.ExceptionFinding, domain.ExceptionCheck:
	default:
		a.renderError(w, r, rq, http.StatusBadRequest, "Invalid filter", "target: must be finding or check.")
		return
	}
	list, err := a.svc.ListExceptions(r.Context(), *rq.Actor, f)
	if domain.ErrorCode(err) == domain.EINVALID {
		a.renderError(w, r, rq, http.StatusBadRequest, "Invalid filter", domain.ErrorMessage(err))
		return
	} else if err != nil {
		a.serverError(w, r, rq, "list exceptions", err)
		return
	}
	now := a.svc.Now()
	for i := range list {
		p.Rows = append(p.Rows, newExceptionRow(&list[i], now))
	}
	for _, st := range []struct{ value, label string }{{"active", "Active"}, {"expired", "Expired"}, {"revoked", "Revoked"}, {"all", "All"}} {
		v := url.Values{"state": {st.value}}
		if p.Target != "" {
			v.Set("target", p.Target)
		}
		cur := st.value == p.State || (st.value == "all" && p.State == "")
		p.Tabs = append(p.Tabs, countLink{Label: st.label, URL: "/exceptions?" + v.Encode(), Current: cur})
	}
	ev := url.Values{"format": {"csv"}}
	if p.State != "" {
		ev.Set("state", p.State)
	}
	if p.Target != "" {
		ev.Set("target", p.Target)
	}
	p.Export = "/exceptions/export?" + ev.Encode()
	hist, err := a.svc.ExceptionHistory(r.Context(), *rq.Actor, historyShown)
	if err != nil {
		a.serverError(w, r, rq, "exception history", err)
		return
	}
	for i := range hist {
		p.History = append(p.History, newEventRow(&hist[i], now))
	}
	a.render(w, r, http.StatusOK, "exceptions", pageData{Title: "Exceptions", Nav: "exceptions", Req: rq, Data: p})
}

func (a *app) handleExceptionsExport(w http.ResponseWriter, r *http.Request, rq *request) {
	q := r.URL.Query()
	f := store.ExceptionFilter{State: q.Get("state"), Target: q.Get("target")}
	if f.State == "all" {
		f.State = ""
	}
	list, err := a.svc.ListExceptions(r.Context(), *rq.Actor, f)
	if domain.ErrorCode(err) == domain.EINVALID {
		a.renderError(w, r, rq, http.StatusBadRequest, "Invalid filter", domain.ErrorMessage(err))
		return
	} else if err != nil {
		a.serverError(w, r, rq, "export exceptions", err)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if q.Get("format") == "json" {
		writeJSONDownload(w, "vigil-exceptions.json", map[string]any{"exceptions": list})
		return
	}
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="vigil-exceptions.csv"`)
	_ = export.ExceptionsCSV(w, list)
}

// exceptionForm is the create form, as shown and as submitted.
type exceptionForm struct {
	Target  string
	Kind    string
	VulnID  string
	Package string
	CheckID string
	Scope   string
	HostID  int64
	GroupID int64
	Reason  string
	Expires string
	Back    string
	Error   string
	// Context describes what the form was opened from.
	Context string
	Kinds   []optionView
	Hosts   []optionView
	Groups  []optionView
}

// exceptionBack validates the page to return to after creating: a local
// vulnerability, host, compliance or worklist page.
func exceptionBack(back string) string {
	back = safeNext(back)
	u, err := url.Parse(back)
	if back == "" || err != nil {
		return ""
	}
	for _, p := range []string{"/vulnerabilities", "/hosts/", "/compliance", "/worklist", "/exceptions"} {
		if strings.HasPrefix(u.Path, p) {
			return back
		}
	}
	return ""
}

func (a *app) handleNewException(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.CanWrite() {
		a.forbidden(w, r, rq)
		return
	}
	q := r.URL.Query()
	f := exceptionForm{Target: q.Get("target"), Kind: domain.ExceptionAcceptedRisk, Scope: domain.ScopeHost,
		VulnID: q.Get("vuln_id"), Package: q.Get("package"), CheckID: q.Get("check_id"), Back: exceptionBack(q.Get("back"))}
	f.HostID, _ = strconv.ParseInt(q.Get("host_id"), 10, 64)
	f.GroupID, _ = strconv.ParseInt(q.Get("group_id"), 10, 64)
	if v := q.Get("finding"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			a.notFound(w, r, rq)
			return
		}
		fd, err := a.svc.Store.GetFinding(r.Context(), rq.Actor.WorkspaceID, id)
		if isNotFound(err) {
			a.notFound(w, r, rq)
			return
		} else if err != nil {
			a.serverError(w, r, rq, "get finding", err)
			return
		}
		f.Target, f.VulnID, f.Package, f.HostID = domain.ExceptionFinding, fd.VulnID, fd.Package, fd.HostID
		f.Context = fd.VulnID + " in " + fd.Package + " " + fd.Installed + " on " + fd.HostName
	}
	if f.Target == "" {
		f.Target = domain.ExceptionFinding
	}
	if f.Target == domain.ExceptionCheck && f.CheckID != "" {
		f.Context = "check " + f.CheckID
	}
	if f.GroupID != 0 && f.HostID == 0 {
		f.Scope = domain.ScopeGroup
	}
	a.renderExceptionForm(w, r, rq, http.StatusOK, f)
}

func (a *app) renderExceptionForm(w http.ResponseWriter, r *http.Request, rq *request, code int, f exceptionForm) {
	ctx := r.Context()
	hosts, err := a.svc.Store.ListHosts(ctx, rq.Actor.WorkspaceID, store.HostFilter{})
	if err != nil {
		a.serverError(w, r, rq, "list hosts", err)
		return
	}
	groups, err := a.svc.Store.ListGroups(ctx, rq.Actor.WorkspaceID)
	if err != nil {
		a.serverError(w, r, rq, "list groups", err)
		return
	}
	for _, h := range hosts {
		f.Hosts = append(f.Hosts, optionView{Value: strconv.FormatInt(h.ID, 10), Label: h.Name, Selected: h.ID == f.HostID})
	}
	for _, g := range groups {
		f.Groups = append(f.Groups, optionView{Value: strconv.FormatInt(g.ID, 10), Label: g.Name, Selected: g.ID == f.GroupID})
	}
	for _, k := range exceptionKinds {
		k.Selected = k.Value == f.Kind
		f.Kinds = append(f.Kinds, k)
	}
	a.render(w, r, code, "exception_new", pageData{Title: "New exception", Nav: "exceptions", Req: rq, Data: f})
}

// parseExpiry reads an optional YYYY-MM-DD date: the exception lapses at
// the start of that day, UTC.
func parseExpiry(s string) (*time.Time, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, ""
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return nil, "expires: not a date (use YYYY-MM-DD)"
	}
	return &t, ""
}

func (a *app) handleCreateException(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.CanWrite() {
		a.forbidden(w, r, rq)
		return
	}
	pf := r.PostForm
	f := exceptionForm{Target: pf.Get("target"), Kind: pf.Get("kind"), VulnID: strings.TrimSpace(pf.Get("vuln_id")),
		Package: strings.TrimSpace(pf.Get("package")), CheckID: strings.TrimSpace(pf.Get("check_id")), Scope: pf.Get("scope"),
		Reason: strings.TrimSpace(pf.Get("reason")), Expires: pf.Get("expires"), Back: exceptionBack(pf.Get("back")),
		Context: pf.Get("context")}
	f.HostID, _ = strconv.ParseInt(pf.Get("host_id"), 10, 64)
	f.GroupID, _ = strconv.ParseInt(pf.Get("group_id"), 10, 64)
	expires, msg := parseExpiry(f.Expires)
	if msg == "" {
		in := domain.ExceptionInput{Target: f.Target, Kind: f.Kind, VulnID: f.VulnID, Package: f.Package, CheckID: f.CheckID,
			Scope: f.Scope, Reason: f.Reason, ExpiresAt: expires}
		switch f.Scope {
		case domain.ScopeHost:
			in.HostID = f.HostID
		case domain.ScopeGroup:
			in.GroupID = f.GroupID
		}
		e, err := a.svc.CreateException(r.Context(), *rq.Actor, in)
		code := domain.ErrorCode(err)
		switch {
		case err == nil:
			dest := exceptionURL(e.ID) + "?created=1"
			if f.Back != "" {
				dest = f.Back
			}
			http.Redirect(w, r, dest, http.StatusSeeOther)
			return
		case code == domain.EFORBIDDEN:
			a.forbidden(w, r, rq)
			return
		case code == domain.EINTERNAL:
			a.serverError(w, r, rq, "create exception", err)
			return
		}
		msg = domain.ErrorMessage(err)
	}
	f.Error = msg
	a.renderExceptionForm(w, r, rq, http.StatusBadRequest, f)
}

type exceptionPage struct {
	Row     exceptionRow
	Active  bool
	Revoked bool
	History []eventRow
	Form    exceptionEditForm
	Kinds   []optionView
}

type exceptionEditForm struct {
	Kind    string
	Reason  string
	Expires string
	Error   string
}

func (a *app) handleException(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := hostID(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	e, hist, err := a.svc.GetException(r.Context(), *rq.Actor, id)
	if isNotFound(err) {
		a.notFound(w, r, rq)
		return
	} else if err != nil {
		a.serverError(w, r, rq, "get exception", err)
		return
	}
	form := exceptionEditForm{Kind: e.Kind, Reason: e.Reason}
	if e.ExpiresAt != nil {
		form.Expires = day(*e.ExpiresAt)
	}
	flash := ""
	switch {
	case r.URL.Query().Get("created") == "1":
		flash = "Exception created. Matching findings and check results now show it."
	case r.URL.Query().Get("saved") == "1":
		flash = "Exception saved."
	case r.URL.Query().Get("revoked") == "1":
		flash = "Exception revoked: what it covered is open again."
	}
	a.renderException(w, r, rq, http.StatusOK, e, hist, form, flash)
}

func (a *app) renderException(w http.ResponseWriter, r *http.Request, rq *request, code int, e *domain.Exception,
	hist []domain.ExceptionEvent, form exceptionEditForm, flash string) {
	now := a.svc.Now()
	p := exceptionPage{Row: newExceptionRow(e, now), Active: e.Active(now), Revoked: e.RevokedAt != nil, Form: form}
	for i := range hist {
		p.History = append(p.History, newEventRow(&hist[i], now))
	}
	for _, k := range exceptionKinds {
		k.Selected = k.Value == form.Kind
		p.Kinds = append(p.Kinds, k)
	}
	a.render(w, r, code, "exception", pageData{Title: "Exception " + strconv.FormatInt(e.ID, 10), Nav: "exceptions", Req: rq, Flash: flash, Data: p})
}

func (a *app) handleUpdateException(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.CanWrite() {
		a.forbidden(w, r, rq)
		return
	}
	id, ok := hostID(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	pf := r.PostForm
	form := exceptionEditForm{Kind: pf.Get("kind"), Reason: strings.TrimSpace(pf.Get("reason")), Expires: strings.TrimSpace(pf.Get("expires"))}
	expires, msg := parseExpiry(form.Expires)
	if msg == "" {
		in := domain.ExceptionInput{Kind: form.Kind, Reason: form.Reason, ExpiresAt: expires, ClearExpiry: expires == nil}
		if form.Reason == "" {
			msg = "reason: required"
		} else {
			_, err := a.svc.UpdateException(r.Context(), *rq.Actor, id, in)
			if err == nil {
				http.Redirect(w, r, exceptionURL(id)+"?saved=1", http.StatusSeeOther)
				return
			}
			var done bool
			if msg, done = a.saveRefused(w, r, rq, "update exception", err); done {
				return
			}
		}
	}
	e, hist, err := a.svc.GetException(r.Context(), *rq.Actor, id)
	if isNotFound(err) {
		a.notFound(w, r, rq)
		return
	} else if err != nil {
		a.serverError(w, r, rq, "get exception", err)
		return
	}
	form.Error = msg
	a.renderException(w, r, rq, http.StatusBadRequest, e, hist, form, "")
}

func (a *app) handleRevokeException(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.CanWrite() {
		a.forbidden(w, r, rq)
		return
	}
	id, ok := hostID(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	_, err := a.svc.RevokeException(r.Context(), *rq.Actor, id)
	switch code := domain.ErrorCode(err); {
	case err == nil, code == domain.ECONFLICT: // already revoked: the page says so
		http.Redirect(w, r, exceptionURL(id)+"?revoked=1", http.StatusSeeOther)
	case code == domain.ENOTFOUND:
		a.notFound(w, r, rq)
	case code == domain.EFORBIDDEN:
		a.forbidden(w, r, rq)
	default:
		a.serverError(w, r, rq, "revoke exception", err)
	}
}
