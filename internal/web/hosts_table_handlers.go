package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// hostsPerPage is the hosts table's page size.
const hostsPerPage = 50

// hostQuery is the hosts table's state as it travels in the URL.
type hostQuery struct {
	Q        string
	OS       string
	Group    int64
	Label    string // key=value or key
	Status   string
	Severity string
	Agent    int64
	Sort     string
	Desc     bool
	Page     int
}

var hostSorts = []string{store.SortName, store.SortStatus, store.SortOS, store.SortLastScan, store.SortSeverity, store.SortPackages}

// parseHostQuery reads the table's parameters; unknown values are refused
// with the field named, not silently dropped.
func parseHostQuery(v url.Values) (hostQuery, error) {
	q := hostQuery{Q: strings.TrimSpace(v.Get("q")), OS: strings.TrimSpace(v.Get("os")), Label: strings.TrimSpace(v.Get("label")),
		Status: v.Get("status"), Severity: v.Get("severity"), Sort: v.Get("sort"), Desc: v.Get("dir") == "desc", Page: 1}
	if len(q.Q) > maxQueryLen {
		q.Q = truncateBytes(q.Q, maxQueryLen)
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"group", &q.Group}, {"agent", &q.Agent}} {
		if s := v.Get(p.name); s != "" {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil || id <= 0 {
				return q, domain.Errorf(domain.EINVALID, "%s: not a valid ID", p.name)
			}
			*p.dst = id
		}
	}
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 1 {
		q.Page = min(n, 1<<20)
	}
	if q.Sort != "" && !slices.Contains(hostSorts, q.Sort) {
		return q, domain.Errorf(domain.EINVALID, "sort: must be one of %s", strings.Join(hostSorts, ", "))
	}
	if q.Status != "" && !slices.Contains([]string{store.HostOK, store.HostFailing, store.HostStale, store.HostNever}, q.Status) {
		return q, domain.Errorf(domain.EINVALID, "status: must be ok, failing, stale or never")
	}
	if q.Severity != "" && !slices.Contains(vuln.Severities, q.Severity) {
		return q, domain.Errorf(domain.EINVALID, "severity: must be one of %s", strings.Join(vuln.Severities, ", "))
	}
	return q, nil
}

func (q hostQuery) filter() store.HostTableFilter {
	key, val, _ := strings.Cut(q.Label, "=")
	return store.HostTableFilter{Query: q.Q, OS: q.OS, GroupID: q.Group, LabelKey: strings.TrimSpace(key), LabelVal: strings.TrimSpace(val),
		Status: q.Status, Severity: q.Severity, AgentID: q.Agent, Sort: q.Sort, Desc: q.Desc,
		Limit: hostsPerPage, Offset: (q.Page - 1) * hostsPerPage}
}

// values encodes the filters (not the sort or page): what a saved filter
// keeps.
func (q hostQuery) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("q", q.Q)
	set("os", q.OS)
	set("label", q.Label)
	set("status", q.Status)
	set("severity", q.Severity)
	if q.Group != 0 {
		v.Set("group", strconv.FormatInt(q.Group, 10))
	}
	if q.Agent != 0 {
		v.Set("agent", strconv.FormatInt(q.Agent, 10))
	}
	return v
}

func (q hostQuery) Filtered() bool { return len(q.values()) > 0 }

// url returns the table with these filters, a sort and a page.
func (q hostQuery) url(sort string, desc bool, page int) string {
	v := q.values()
	if sort != "" && sort != store.SortName || desc {
		v.Set("sort", sort)
	}
	if desc {
		v.Set("dir", "desc")
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return hostsURL(v)
}

// sortHeader is a sortable column header.
type sortHeader struct {
	Label string
	URL   string
	Sort  string // aria-sort: ascending, descending or none
	Class string
}

type hostTableRow struct {
	hostRow
	Severity status
	Findings int
}

type hostsPage struct {
	Query      hostQuery
	QueryStr   string // the filters as a query string, for saved filters and bulk forms
	Back       string // this page, where a bulk action returns
	Rows       []hostTableRow
	Headers    []sortHeader
	Total      int
	From, To   int
	Page       int
	Pages      int
	Prev, Next string
	Fleet      store.FleetCounts
	Interval   string
	NoAgents   bool
	NoDefault  bool
	OS, Groups []option
	Labels     []option
	Statuses   []option
	Severities []option
	AllGroups  []option // for the bulk form
	Creds      []option
	Filters    []savedFilterView
	Error      string
}

type savedFilterView struct {
	ID   int64
	Name string
	URL  string
}

func (a *app) handleHosts(w http.ResponseWriter, r *http.Request, rq *request) {
	q, err := parseHostQuery(r.URL.Query())
	if err != nil {
		a.renderError(w, r, rq, http.StatusBadRequest, "Bad filter", domain.ErrorMessage(err))
		return
	}
	p, err := a.hostsPage(r, rq, q)
	if err != nil {
		a.serverError(w, r, rq, "hosts table", err)
		return
	}
	a.render(w, r, http.StatusOK, "hosts", pageData{Title: "Hosts", Nav: "hosts", Req: rq, Flash: bulkFlash(r.URL.Query()), Data: p})
}

func (a *app) hostsPage(r *http.Request, rq *request, q hostQuery) (*hostsPage, error) {
	ctx := r.Context()
	act := *rq.Actor
	ws, err := a.svc.Store.GetWorkspace(ctx, act.WorkspaceID)
	if err != nil {
		return nil, err
	}
	rows, total, err := a.svc.HostTable(ctx, act, q.filter())
	if err != nil {
		return nil, err
	}
	fc, err := a.svc.FleetCounts(ctx, act)
	if err != nil {
		return nil, err
	}
	facets, err := a.svc.HostFacets(ctx, act)
	if err != nil {
		return nil, err
	}
	now, every := a.svc.Now(), ws.Schedule.Interval()
	p := &hostsPage{Query: q, QueryStr: q.values().Encode(), Back: r.URL.RequestURI(), Total: total, Page: q.Page, Fleet: *fc, Interval: interval(every)}
	p.Pages = max(1, (total+hostsPerPage-1)/hostsPerPage)
	for i := range rows {
		h := &rows[i]
		row := hostTableRow{hostRow: newHostRow(&h.Host, now, every), Findings: h.Findings}
		if h.MaxSeverity != "" {
			row.Severity = severityBadge(h.MaxSeverity)
		}
		p.Rows = append(p.Rows, row)
	}
	if len(rows) > 0 {
		p.From = (q.Page-1)*hostsPerPage + 1
		p.To = p.From + len(rows) - 1
	}
	if q.Page > 1 {
		p.Prev = q.url(q.Sort, q.Desc, min(q.Page-1, p.Pages))
	}
	if q.Page < p.Pages {
		p.Next = q.url(q.Sort, q.Desc, q.Page+1)
	}
	p.Headers = hostHeaders(q)
	for _, o := range facets.OS {
		v := o.ID + " " + o.VersionID
		label := strings.TrimSpace(o.ID + " " + o.VersionID)
		if o.Name != "" {
			label = o.Name
		}
		p.OS = append(p.OS, option{v, fmt.Sprintf("%s (%d)", label, o.Hosts), v == q.OS})
	}
	for _, g := range facets.Groups {
		id := strconv.FormatInt(g.ID, 10)
		p.Groups = append(p.Groups, option{id, g.Name, g.ID == q.Group})
		p.AllGroups = append(p.AllGroups, option{id, g.Name, false})
	}
	for _, l := range facets.Labels {
		v := l.Key + "=" + l.Value
		p.Labels = append(p.Labels, option{v, fmt.Sprintf("%s (%d)", v, l.Hosts), v == q.Label})
	}
	for _, s := range []struct{ v, l string }{{store.HostOK, "OK"}, {store.HostFailing, "Failing"}, {store.HostStale, "Stale"}, {store.HostNever, "Never scanned"}} {
		p.Statuses = append(p.Statuses, option{s.v, s.l, s.v == q.Status})
	}
	for _, s := range vuln.Severities {
		label := severityBadge(s).Label + " or worse"
		switch s {
		case "critical":
			label = severityBadge(s).Label
		case "unknown":
			label = "Any open finding"
		}
		p.Severities = append(p.Severities, option{s, label, s == q.Severity})
	}
	filters, err := a.svc.ListHostFilters(ctx, act)
	if err != nil {
		return nil, err
	}
	for _, f := range filters {
		p.Filters = append(p.Filters, savedFilterView{ID: f.ID, Name: f.Name, URL: "/hosts?" + f.Query})
	}
	if rq.Can(domain.PermCredentials) {
		creds, err := a.svc.ListCredentials(ctx, act)
		if err != nil {
			return nil, err
		}
		for _, c := range creds {
			p.Creds = append(p.Creds, option{strconv.FormatInt(c.ID, 10), c.Name + " (" + c.Username + ")", false})
		}
	}
	if total == 0 && !q.Filtered() {
		// The empty state says what is missing before scans can happen.
		p.NoAgents = fc.Agents == 0
		_, err = a.svc.Store.GetDefaultCredential(ctx, act.WorkspaceID)
		if err != nil && !isNotFound(err) {
			return nil, err
		}
		p.NoDefault = isNotFound(err)
	}
	return p, nil
}

func hostHeaders(q hostQuery) []sortHeader {
	cols := []struct{ label, sort, class string }{
		{"Name", store.SortName, ""}, {"Status", store.SortStatus, ""}, {"Worst open finding", store.SortSeverity, ""},
		{"OS", store.SortOS, ""}, {"Packages", store.SortPackages, "num"}, {"Last scan", store.SortLastScan, ""},
	}
	cur := q.Sort
	if cur == "" {
		cur = store.SortName
	}
	out := make([]sortHeader, len(cols))
	for i, c := range cols {
		h := sortHeader{Label: c.label, Sort: "none", Class: c.class}
		desc := false
		if c.sort == cur {
			h.Sort = "ascending"
			if q.Desc {
				h.Sort = "descending"
			}
			desc = !q.Desc // a second click reverses
		} else if c.sort == store.SortLastScan || c.sort == store.SortPackages {
			desc = true // newest, biggest first
		}
		h.URL = q.url(c.sort, desc, 1)
		out[i] = h
	}
	return out
}

// bulkFlash says what a bulk action did, from the codes the redirect
// carries (never text from the URL).
func bulkFlash(v url.Values) string {
	n, _ := strconv.Atoi(v.Get("n"))
	switch v.Get("done") {
	case service.BulkAssignGroup:
		return fmt.Sprintf("Added to the group: %d %s. Groups and checks are re-evaluated in the background.", n, plural(n, "host", "hosts"))
	case service.BulkSetCredential:
		return fmt.Sprintf("Credential set on %d %s; agents use it from their next config poll.", n, plural(n, "host", "hosts"))
	case service.BulkSetLabel:
		return fmt.Sprintf("Label set on %d %s.", n, plural(n, "host", "hosts"))
	case service.BulkScanNow:
		return fmt.Sprintf("Scan requested from %d %s; each scans all of its hosts on its next poll.", n, plural(n, "agent", "agents"))
	case "filter":
		return "Filter saved."
	}
	return ""
}

func (a *app) handleBulkHosts(w http.ResponseWriter, r *http.Request, rq *request) {
	pf := r.PostForm
	in := service.BulkInput{Action: pf.Get("action")}
	for _, s := range pf["host"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			a.renderError(w, r, rq, http.StatusBadRequest, "Bad request", "host: not a valid ID")
			return
		}
		in.HostIDs = append(in.HostIDs, id)
	}
	in.GroupID, _ = strconv.ParseInt(pf.Get("group_id"), 10, 64)
	in.CredentialID, _ = strconv.ParseInt(pf.Get("credential_id"), 10, 64)
	in.LabelKey, in.LabelValue, _ = strings.Cut(pf.Get("label"), "=")
	_, err := a.svc.BulkHosts(r.Context(), *rq.Actor, in)
	if err != nil {
		a.actionError(w, r, rq, "bulk hosts", err)
		return
	}
	n := len(in.HostIDs)
	if in.Action == service.BulkScanNow {
		n = a.countAgents(r, rq, in.HostIDs)
	}
	back := backToHosts(pf.Get("back"))
	v := url.Values{"done": {in.Action}, "n": {strconv.Itoa(n)}}
	http.Redirect(w, r, addQuery(back, v), http.StatusSeeOther)
}

// countAgents counts the distinct agents of the hosts, for the flash.
func (a *app) countAgents(r *http.Request, rq *request, ids []int64) int {
	seen := map[int64]bool{}
	for _, id := range ids {
		if h, err := a.svc.Store.GetHost(r.Context(), rq.Actor.WorkspaceID, id); err == nil && h.AgentID != nil {
			seen[*h.AgentID] = true
		}
	}
	return len(seen)
}

// backToHosts keeps a return address only when it is the hosts table.
func backToHosts(back string) string {
	if back = safeNext(back); back == "" || !(back == "/hosts" || strings.HasPrefix(back, "/hosts?")) {
		return "/hosts"
	}
	return back
}

func addQuery(u string, v url.Values) string {
	if strings.Contains(u, "?") {
		return u + "&" + v.Encode()
	}
	return u + "?" + v.Encode()
}

// actionError shows a refused action: the role's limit, a bad input or
// a missing record, each with its own status; internal errors are logged.
func (a *app) actionError(w http.ResponseWriter, r *http.Request, rq *request, what string, err error) {
	switch domain.ErrorCode(err) {
	case domain.EFORBIDDEN:
		a.forbidden(w, r, rq)
	case domain.ENOTFOUND:
		a.notFound(w, r, rq)
	case domain.EINVALID, domain.ECONFLICT:
		a.renderError(w, r, rq, http.StatusBadRequest, "Not done", domain.ErrorMessage(err))
	default:
		a.serverError(w, r, rq, what, err)
	}
}

func (a *app) handleSaveHostFilter(w http.ResponseWriter, r *http.Request, rq *request) {
	q, err := parseHostQuery(mustParseQuery(r.PostForm.Get("query")))
	if err != nil {
		a.actionError(w, r, rq, "save filter", err)
		return
	}
	if _, err := a.svc.SaveHostFilter(r.Context(), *rq.Actor, r.PostForm.Get("name"), q.values().Encode()); err != nil {
		a.actionError(w, r, rq, "save filter", err)
		return
	}
	http.Redirect(w, r, addQuery(q.url("", false, 1), url.Values{"done": {"filter"}}), http.StatusSeeOther)
}

func (a *app) handleDeleteHostFilter(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := hostID(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	if err := a.svc.DeleteHostFilter(r.Context(), *rq.Actor, id); err != nil {
		a.actionError(w, r, rq, "delete filter", err)
		return
	}
	http.Redirect(w, r, "/hosts", http.StatusSeeOther)
}

func (a *app) handleFilterToGroup(w http.ResponseWriter, r *http.Request, rq *request) {
	q, err := parseHostQuery(mustParseQuery(r.PostForm.Get("query")))
	if err != nil {
		a.actionError(w, r, rq, "filter to group", err)
		return
	}
	g, err := a.svc.FilterToGroup(r.Context(), *rq.Actor, r.PostForm.Get("name"), q.filter())
	if err != nil {
		a.actionError(w, r, rq, "filter to group", err)
		return
	}
	http.Redirect(w, r, "/groups/"+strconv.FormatInt(g.ID, 10), http.StatusSeeOther)
}

// mustParseQuery parses a query string; a malformed one is empty.
func mustParseQuery(s string) url.Values {
	v, err := url.ParseQuery(s)
	if err != nil {
		return url.Values{}
	}
	return v
}
