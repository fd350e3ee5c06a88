package web

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// maxExport bounds one export, as the findings API does.
const maxExport = 100000

// vulnFilters are the finding filters of the vulnerabilities page and its
// exports. The query parameters and their meaning are those of the REST
// API (internal/server FindingFilterFromQuery), so a URL can be moved
// between the two.
type vulnFilters struct {
	Severity string
	KEV      bool
	Fix      bool
	Status   string // "" is open
	Marked   bool
	Query    string
	HostID   int64
	VulnID   string
	Offset   int
}

func parseVulnFilters(r *http.Request) (vulnFilters, error) {
	q := r.URL.Query()
	f := vulnFilters{
		Severity: strings.ToLower(strings.TrimSpace(q.Get("severity"))),
		KEV:      truthy(q.Get("kev")),
		Fix:      truthy(q.Get("fix")),
		Status:   q.Get("status"),
		Marked:   truthy(q.Get("marked")),
		Query:    query(r),
		VulnID:   strings.TrimSpace(q.Get("vuln_id")),
	}
	if n, err := strconv.Atoi(q.Get("offset")); err == nil && n > 0 {
		f.Offset = min(n, 1<<30)
	}
	if v := q.Get("host_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, domain.Errorf(domain.EINVALID, "host_id: not a valid ID")
		}
		f.HostID = id
	}
	if f.Severity != "" && severityRank(f.Severity) == len(vuln.Severities) {
		return f, domain.Errorf(domain.EINVALID, "severity: must be one of %s", strings.Join(vuln.Severities, ", "))
	}
	switch f.Status {
	case "", vuln.FindingOpen, vuln.FindingResolved, "all":
	default:
		return f, domain.Errorf(domain.EINVALID, "status: must be open, resolved or all")
	}
	if f.Status == vuln.FindingOpen {
		f.Status = ""
	}
	return f, nil
}

func truthy(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func (f vulnFilters) store(limit int, now time.Time) store.FindingFilter {
	return store.FindingFilter{HostID: f.HostID, VulnID: f.VulnID, Severity: f.Severity, KEVOnly: f.KEV, FixOnly: f.Fix,
		Status: f.Status, IncludeMarked: f.Marked, Query: f.Query, Limit: limit, Offset: f.Offset, Now: now}
}

// Filtered reports whether any filter narrows the list.
func (f vulnFilters) Filtered() bool {
	return f.Severity != "" || f.KEV || f.Fix || f.Status != "" || f.Marked || f.Query != "" || f.HostID != 0 || f.VulnID != ""
}

// values encodes the filters, without the offset.
func (f vulnFilters) values() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	flag := func(k string, b bool) {
		if b {
			v.Set(k, "1")
		}
	}
	set("severity", f.Severity)
	flag("kev", f.KEV)
	flag("fix", f.Fix)
	set("status", f.Status)
	flag("marked", f.Marked)
	set("q", f.Query)
	if f.HostID != 0 {
		v.Set("host_id", strconv.FormatInt(f.HostID, 10))
	}
	set("vuln_id", f.VulnID)
	return v
}

// url is path with the filters, and the offset when it is not zero.
func (f vulnFilters) url(path string, offset int) string {
	v := f.values()
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// exportURL is the download of the filtered findings in format.
func (f vulnFilters) exportURL(format string) string {
	v := f.values()
	v.Set("format", format)
	return "/vulnerabilities/export?" + v.Encode()
}

// handleExport downloads the findings the filters select, as CSV (the
// columns of the API's CSV export) or as JSON.
func (a *app) handleExport(w http.ResponseWriter, r *http.Request, rq *request) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "json" {
		a.renderError(w, r, rq, http.StatusBadRequest, "Unknown export format", "format: must be csv or json.")
		return
	}
	f, err := parseVulnFilters(r)
	if err != nil {
		a.renderError(w, r, rq, http.StatusBadRequest, "Invalid filter", domain.ErrorMessage(err))
		return
	}
	limit := maxExport
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
		limit = min(n, maxExport)
	}
	list, total, err := a.svc.ListFindings(r.Context(), *rq.Actor, f.store(limit, a.svc.Now()))
	if err != nil {
		a.serverError(w, r, rq, "export findings", err)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Total-Count", strconv.Itoa(total))
	if format == "json" {
		if list == nil {
			list = []vuln.Finding{}
		}
		h.Set("Content-Type", "application/json")
		h.Set("Content-Disposition", `attachment; filename="vigil-findings.json"`)
		_ = json.NewEncoder(w).Encode(map[string]any{"total": total, "findings": list})
		return
	}
	writeFindingsCSV(w, list, a.svc.Now())
}

// findingsCSVHeader is the header of the API's CSV export.
var findingsCSVHeader = []string{"host", "vuln_id", "severity", "cvss", "kev", "kev_due_date", "epss", "epss_percentile",
	"package", "installed", "fixed", "advisory", "source", "status", "first_seen", "days_open", "mark", "mark_reason", "rule"}

// writeFindingsCSV writes findings with the columns of the API's CSV export
// (server.WriteFindingsCSV, which the web app cannot import).
func writeFindingsCSV(w http.ResponseWriter, list []vuln.Finding, now time.Time) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="vigil-findings.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(findingsCSVHeader)
	for _, f := range list {
		kev, due, epss, pct := "", "", "", ""
		if f.KEV != nil {
			kev = "yes"
			due = day(f.KEV.DueDate)
		}
		if f.EPSS != nil {
			epss = strconv.FormatFloat(f.EPSS.Score, 'f', 5, 64)
			pct = strconv.FormatFloat(f.EPSS.Percentile, 'f', 5, 64)
		}
		s := csvSafe
		_ = cw.Write([]string{s(f.HostName), s(f.VulnID), f.Severity, strconv.FormatFloat(f.CVSSScore, 'f', 1, 64), kev, due,
			epss, pct, s(f.Package), s(f.Installed), s(f.Fixed), s(f.AdvisoryID), s(f.Source), f.Status,
			f.FirstSeen.UTC().Format(time.RFC3339), strconv.Itoa(f.DaysOpen(now)), f.Mark, s(f.MarkReason), s(f.Rule)})
	}
	cw.Flush()
}

// csvSafe defuses spreadsheet formulas in text that hosts or users control:
// host and package names, versions, reasons.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
