package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// Page sizes of the vulnerability pages.
const (
	vulnsPerPage     = 100
	affectedHostsMax = 1000
)

type vulnsPage struct {
	Filters         vulnFilters
	HostName        string // when filtered to one host
	ClearHost       string // the same filters without the host
	SeverityOptions []option
	StatusOptions   []option
	Counts          []countLink
	Rows            []vulnRow
	Total           int
	From, To        int
	Prev, Next      string
	First           string // page one, when the offset is past the end
	ExportCSV       string
	ExportJSON      string
	Feeds           []feedView
	NoFeeds         bool
	Error           string // an invalid filter
}

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// countLink is one number of the summary above the list, linking to the
// list filtered to it.
type countLink struct {
	Label   string
	N       int
	URL     string
	Badge   status
	Current bool
}

type feedView struct {
	Name        string
	Source      string
	LastSuccess when
	LastAttempt when
	Records     int64
	Error       string
}

func (a *app) handleVulns(w http.ResponseWriter, r *http.Request, rq *request) {
	ctx := r.Context()
	now := a.svc.Now()
	p := vulnsPage{}
	code := http.StatusOK
	f, err := parseVulnFilters(r)
	if err != nil {
		// A hand-edited URL: show the page unfiltered, with what was wrong.
		p.Error, f, code = domain.ErrorMessage(err), vulnFilters{}, http.StatusBadRequest
	}
	p.Filters = f
	p.SeverityOptions = []option{{Value: "", Label: "Any"}}
	for _, s := range vuln.Severities {
		p.SeverityOptions = append(p.SeverityOptions, option{Value: s, Label: severityBadge(s).Label, Selected: f.Severity == s})
	}
	p.StatusOptions = []option{{Value: "open", Label: "Open", Selected: f.Status == ""},
		{Value: vuln.FindingResolved, Label: "Resolved", Selected: f.Status == vuln.FindingResolved},
		{Value: "all", Label: "All", Selected: f.Status == "all"}}
	if f.HostID != 0 {
		h, err := a.svc.GetHost(ctx, *rq.Actor, f.HostID)
		if isNotFound(err) {
			a.notFound(w, r, rq)
			return
		} else if err != nil {
			a.serverError(w, r, rq, "get host", err)
			return
		}
		p.HostName = h.Name
		nf := f
		nf.HostID = 0
		p.ClearHost = nf.url("/vulnerabilities", 0)
	}
	counts, err := a.svc.Store.SeverityCounts(ctx, rq.Actor.WorkspaceID, now)
	if err != nil {
		a.serverError(w, r, rq, "severity counts", err)
		return
	}
	for _, s := range vuln.Severities {
		p.Counts = append(p.Counts, countLink{Label: severityBadge(s).Label, N: counts[s], Badge: severityBadge(s),
			URL: "/vulnerabilities?severity=" + s, Current: f.Severity == s && !f.KEV})
	}
	p.Counts = append(p.Counts, countLink{Label: "Known exploited", N: counts["kev"], Badge: status{"KEV", "kev"},
		URL: "/vulnerabilities?kev=1", Current: f.KEV && f.Severity == ""})

	list, total, err := a.svc.Store.VulnSummaries(ctx, rq.Actor.WorkspaceID, f.store(vulnsPerPage, now))
	if err != nil {
		a.serverError(w, r, rq, "vulnerability summaries", err)
		return
	}
	p.Total = total
	for i := range list {
		p.Rows = append(p.Rows, newVulnRow(&list[i], now))
	}
	if len(p.Rows) > 0 {
		p.From, p.To = f.Offset+1, f.Offset+len(p.Rows)
	} else if total > 0 {
		p.First = f.url("/vulnerabilities", 0)
	}
	if f.Offset > 0 && total > 0 {
		p.Prev = f.url("/vulnerabilities", max(0, min(f.Offset, total)-vulnsPerPage))
	}
	if f.Offset+vulnsPerPage < total {
		p.Next = f.url("/vulnerabilities", f.Offset+vulnsPerPage)
	}
	p.ExportCSV, p.ExportJSON = f.exportURL("csv"), f.exportURL("json")
	if p.Feeds, err = a.feeds(ctx); err != nil {
		a.serverError(w, r, rq, "list feed states", err)
		return
	}
	p.NoFeeds = len(p.Feeds) == 0
	a.render(w, r, code, "vulns", pageData{Title: "Vulnerabilities", Nav: "vulns", Req: rq, Data: p})
}

// feeds says which vulnerability feeds ran and when.
func (a *app) feeds(ctx context.Context) ([]feedView, error) {
	states, err := a.svc.Store.ListFeedStates(ctx)
	if err != nil {
		return nil, err
	}
	now := a.svc.Now()
	out := make([]feedView, 0, len(states))
	for _, s := range states {
		out = append(out, feedView{Name: s.Feed, Source: s.Source, LastSuccess: whenPtr(s.LastSuccessAt, now),
			LastAttempt: whenPtr(s.LastAttemptAt, now), Records: s.Records, Error: truncate(s.LastError, 200)})
	}
	return out, nil
}

type vulnPage struct {
	ID          string
	Severity    status
	InNVD       bool
	IsCVE       bool
	NVDStatus   string
	Scores      []cvssView
	Description string
	Published   string
	Modified    string
	CWEs        []string
	KEV         *kevView
	EPSS        *epssView
	Refs        []refView
	Findings    findingTable
	Total       int // findings in this workspace, all states
	Hosts       int // distinct hosts among the rows shown
	Open        int
	Limit       int
	ExportCSV   string
}

func (a *app) handleVuln(w http.ResponseWriter, r *http.Request, rq *request) {
	ctx := r.Context()
	id := strings.TrimSpace(r.PathValue("id"))
	if id == "" || len(id) > 200 {
		a.notFound(w, r, rq)
		return
	}
	list, total, err := a.svc.ListFindings(ctx, *rq.Actor,
		store.FindingFilter{VulnID: id, Status: "all", IncludeMarked: true, Limit: affectedHostsMax})
	if err != nil {
		a.serverError(w, r, rq, "list findings", err)
		return
	}
	cve, err := a.svc.Store.GetCVE(ctx, id)
	if err != nil && !isNotFound(err) {
		a.serverError(w, r, rq, "get cve", err)
		return
	}
	var adv *vuln.Advisory
	if cve == nil && !strings.HasPrefix(id, "CVE-") { // an advisory that names no CVE
		if adv, err = a.svc.Store.GetAdvisory(ctx, id); err != nil && !isNotFound(err) {
			a.serverError(w, r, rq, "get advisory", err)
			return
		}
	}
	if cve == nil && adv == nil && total == 0 {
		a.notFound(w, r, rq)
		return
	}
	now := a.svc.Now()
	p := vulnPage{ID: id, IsCVE: strings.HasPrefix(id, "CVE-"), Total: total, Limit: affectedHostsMax, Severity: severityBadge("unknown"),
		ExportCSV: vulnFilters{VulnID: id, Status: "all", Marked: true}.exportURL("csv")}
	p.Findings = newFindingTable(list, now, rq)
	p.Findings.Caption, p.Findings.ShowHost, p.Findings.ShowStatus, p.Findings.Inline = "Hosts affected by "+id, true, true, true
	p.Findings.Back = vulnURL(id)
	hosts, worst := map[int64]bool{}, len(vuln.Severities)
	for i := range list {
		f := &list[i]
		hosts[f.HostID] = true
		if f.Status == vuln.FindingOpen {
			p.Open++
		}
		if rk := severityRank(f.Severity); rk < worst {
			worst, p.Severity = rk, severityBadge(f.Severity)
		}
		if p.KEV == nil {
			p.KEV = newKEV(f.KEV, now)
		}
		if p.EPSS == nil {
			p.EPSS = newEPSS(f.EPSS)
		}
	}
	p.Hosts = len(hosts)
	switch {
	case cve != nil:
		p.InNVD, p.NVDStatus, p.Description, p.CWEs = true, cve.Status, cve.Description, cve.CWEs
		p.Published, p.Modified = day(cve.Published), day(cve.Modified)
		best := cve.BestCVSS()
		for i := range cve.Metrics {
			m := &cve.Metrics[i]
			if m == best {
				p.Scores = append([]cvssView{newCVSS(m, true)}, p.Scores...)
			} else {
				p.Scores = append(p.Scores, newCVSS(m, false))
			}
		}
		if best != nil && len(list) == 0 {
			p.Severity = p.Scores[0].Severity
		}
		for _, ref := range cve.References {
			p.Refs = append(p.Refs, newRef(ref.URL, ref.Source, ref.Tags))
		}
	case adv != nil:
		p.Description = strings.TrimSpace(adv.Summary + "\n\n" + adv.Details)
		p.Published, p.Modified = day(adv.Published), day(adv.Modified)
		for _, u := range adv.References {
			p.Refs = append(p.Refs, newRef(u, "", nil))
		}
	}
	a.render(w, r, http.StatusOK, "vuln", pageData{Title: id, Nav: "vulns", Req: rq, Data: p})
}
