package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/export"
	"github.com/vigil-project/vigil/internal/service"
)

// vulnsShown bounds the vulnerability links of one worklist line; the
// export lists them all.
const vulnsShown = 6

type worklistPage struct {
	View          string // hosts or fleet
	HostID        int64
	GroupID       int64
	KEV, Fix      bool
	Groups        []optionView
	Items         []workRow
	Fleet         []fleetRow
	Findings      int
	ExposureKnown int
	Hosts         int // hosts with a line
	Tabs          []countLink
	ExportCSV     string
	ExportJSON    string
	Filtered      bool
	Clear         string
}

type vulnLink struct{ ID, URL string }

// rankView is the ordering criteria of a line, as shown.
type rankView struct {
	KEV      bool
	KEVDue   string
	Overdue  bool
	EPSS     string
	CVSS     string
	Exposed  bool
	Severity status
}

func newRankView(r *service.Rank, now time.Time) rankView {
	v := rankView{KEV: r.KEV, EPSS: "", CVSS: score(r.CVSS), Exposed: r.Exposed, Severity: severityBadge(r.Severity)}
	if r.EPSS > 0 {
		v.EPSS = strconv.FormatFloat(r.EPSS, 'f', 3, 64)
	}
	if r.KEVDue != nil {
		v.KEVDue, v.Overdue = day(*r.KEVDue), r.KEVDue.Before(now)
	}
	return v
}

type workRow struct {
	HostID    int64
	HostName  string
	Package   string
	Binaries  string
	Installed string
	Fix       string
	Vulns     []vulnLink
	More      int
	Count     int
	Unfixed   int
	Listening string
	Rank      rankView
}

type fleetRow struct {
	Package      string
	Fix          string
	Hosts        int
	ExposedHosts int
	Vulns        []vulnLink
	More         int
	Count        int
	HostsURL     string
	Rank         rankView
}

func vulnLinks(ids []string) ([]vulnLink, int) {
	var out []vulnLink
	for _, id := range ids[:min(len(ids), vulnsShown)] {
		out = append(out, vulnLink{ID: id, URL: vulnURL(id)})
	}
	return out, max(0, len(ids)-vulnsShown)
}

// worklistFilter reads the page's filters; the API reads the same names.
func worklistFilter(r *http.Request) (service.WorklistFilter, string, error) {
	q := r.URL.Query()
	f := service.WorklistFilter{KEVOnly: truthy(q.Get("kev")), FixOnly: truthy(q.Get("fix"))}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"host_id", &f.HostID}, {"group_id", &f.GroupID}} {
		if v := q.Get(p.name); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				return f, "", domain.Errorf(domain.EINVALID, "%s: not a valid ID", p.name)
			}
			*p.dst = id
		}
	}
	view := q.Get("view")
	switch view {
	case "", "hosts":
		view = "hosts"
	case "fleet":
	default:
		return f, "", domain.Errorf(domain.EINVALID, "view: must be hosts or fleet")
	}
	return f, view, nil
}

func worklistQuery(f service.WorklistFilter, view string) url.Values {
	v := url.Values{}
	if view != "" && view != "hosts" {
		v.Set("view", view)
	}
	if f.HostID != 0 {
		v.Set("host_id", strconv.FormatInt(f.HostID, 10))
	}
	if f.GroupID != 0 {
		v.Set("group_id", strconv.FormatInt(f.GroupID, 10))
	}
	if f.KEVOnly {
		v.Set("kev", "1")
	}
	if f.FixOnly {
		v.Set("fix", "1")
	}
	return v
}

func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

func (a *app) handleWorklist(w http.ResponseWriter, r *http.Request, rq *request) {
	f, view, err := worklistFilter(r)
	if err != nil {
		a.renderError(w, r, rq, http.StatusBadRequest, "Invalid filter", domain.ErrorMessage(err))
		return
	}
	wl, err := a.svc.Worklist(r.Context(), *rq.Actor, f)
	if isNotFound(err) {
		a.notFound(w, r, rq)
		return
	} else if err != nil {
		a.serverError(w, r, rq, "worklist", err)
		return
	}
	groups, err := a.svc.Store.ListGroups(r.Context(), rq.Actor.WorkspaceID)
	if err != nil {
		a.serverError(w, r, rq, "list groups", err)
		return
	}
	now := a.svc.Now()
	p := worklistPage{View: view, HostID: f.HostID, GroupID: f.GroupID, KEV: f.KEVOnly, Fix: f.FixOnly,
		Findings: wl.Findings, ExposureKnown: wl.ExposureKnown,
		Filtered: f.HostID != 0 || f.GroupID != 0 || f.KEVOnly || f.FixOnly, Clear: withQuery("/worklist", url.Values{"view": {view}})}
	for _, g := range groups {
		p.Groups = append(p.Groups, optionView{Value: strconv.FormatInt(g.ID, 10), Label: g.Name, Selected: g.ID == f.GroupID})
	}
	hosts := map[int64]bool{}
	for i := range wl.Items {
		it := &wl.Items[i]
		hosts[it.HostID] = true
		if view != "hosts" {
			continue
		}
		row := workRow{HostID: it.HostID, HostName: it.HostName, Package: it.Package, Installed: it.Installed, Fix: it.Fix,
			Count: len(it.Vulns), Unfixed: len(it.Unfixed), Listening: strings.Join(it.Listening, ", "), Rank: newRankView(&it.Rank, now)}
		row.Vulns, row.More = vulnLinks(it.Vulns)
		if len(it.Binaries) > 0 && !(len(it.Binaries) == 1 && it.Binaries[0] == it.Package) {
			row.Binaries = strings.Join(it.Binaries, ", ")
		}
		p.Items = append(p.Items, row)
	}
	p.Hosts = len(hosts)
	if view == "fleet" {
		for i := range wl.Fleet {
			it := &wl.Fleet[i]
			row := fleetRow{Package: it.Package, Fix: it.Fix, Hosts: it.Hosts, ExposedHosts: it.ExposedHosts,
				Count: len(it.Vulns), Rank: newRankView(&it.Rank, now)}
			row.Vulns, row.More = vulnLinks(it.Vulns)
			row.HostsURL = withQuery("/vulnerabilities", url.Values{"q": {it.Package}})
			p.Fleet = append(p.Fleet, row)
		}
	}
	for _, t := range []struct{ view, label string }{{"hosts", "Per host"}, {"fleet", "Across the fleet"}} {
		p.Tabs = append(p.Tabs, countLink{Label: t.label, URL: withQuery("/worklist", worklistQuery(f, t.view)), Current: t.view == view})
	}
	ev := worklistQuery(f, view)
	ev.Set("format", "csv")
	p.ExportCSV = withQuery("/worklist/export", ev)
	ev.Set("format", "json")
	p.ExportJSON = withQuery("/worklist/export", ev)
	a.render(w, r, http.StatusOK, "worklist", pageData{Title: "Worklist", Nav: "worklist", Req: rq, Data: p})
}

func (a *app) handleWorklistExport(w http.ResponseWriter, r *http.Request, rq *request) {
	f, view, err := worklistFilter(r)
	if err != nil {
		a.renderError(w, r, rq, http.StatusBadRequest, "Invalid filter", domain.ErrorMessage(err))
		return
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "csv" && format != "json" {
		a.renderError(w, r, rq, http.StatusBadRequest, "Unknown export format", "format: must be csv or json.")
		return
	}
	wl, err := a.svc.Worklist(r.Context(), *rq.Actor, f)
	if isNotFound(err) {
		a.notFound(w, r, rq)
		return
	} else if err != nil {
		a.serverError(w, r, rq, "export worklist", err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if format == "json" {
		writeJSONDownload(w, "vigil-worklist.json", wl)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	if view == "fleet" {
		w.Header().Set("Content-Disposition", `attachment; filename="vigil-worklist-fleet.csv"`)
		_ = export.FleetCSV(w, wl.Fleet)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="vigil-worklist.csv"`)
	_ = export.WorklistCSV(w, wl.Items)
}

func writeJSONDownload(w http.ResponseWriter, name string, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_ = json.NewEncoder(w).Encode(v)
}
