package server

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// FindingFilterFromQuery reads the filters shared by the findings API, the
// vulnerabilities API and their web pages.
func FindingFilterFromQuery(r *http.Request) (store.FindingFilter, error) {
	q := r.URL.Query()
	f := store.FindingFilter{
		VulnID:        strings.TrimSpace(q.Get("vuln_id")),
		Severity:      strings.ToLower(strings.TrimSpace(q.Get("severity"))),
		KEVOnly:       truthy(q.Get("kev")),
		FixOnly:       truthy(q.Get("fix")),
		Status:        q.Get("status"),
		IncludeMarked: truthy(q.Get("marked")),
		Query:         strings.TrimSpace(q.Get("q")),
		Limit:         queryInt(r, "limit", 500, 100000),
		Offset:        queryInt(r, "offset", 0, 1<<30),
	}
	if f.Limit == 0 {
		f.Limit = 500 // limit=0 is not "everything": exports page explicitly
	}
	if v := q.Get("host_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, domain.Errorf(domain.EINVALID, "host_id: not a valid ID")
		}
		f.HostID = id
	}
	if f.Severity != "" && !validSeverity(f.Severity) {
		return f, domain.Errorf(domain.EINVALID, "severity: must be one of %s", strings.Join(vuln.Severities, ", "))
	}
	switch f.Status {
	case "", vuln.FindingOpen, vuln.FindingResolved, "all":
	default:
		return f, domain.Errorf(domain.EINVALID, "status: must be open, resolved or all")
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

func validSeverity(s string) bool {
	for _, v := range vuln.Severities {
		if v == s {
			return true
		}
	}
	return false
}

func (s *Server) handleListFindings(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	f, err := FindingFilterFromQuery(r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	list, total, err := s.svc.ListFindings(r.Context(), *a, f)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	if wantsCSV(r) {
		WriteFindingsCSV(w, list, s.svc.Now())
		return
	}
	if list == nil {
		list = []vuln.Finding{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"total": total, "offset": f.Offset, "findings": list})
}

func wantsCSV(r *http.Request) bool {
	return r.URL.Query().Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv")
}

// WriteFindingsCSV writes findings as a CSV download.
func WriteFindingsCSV(w http.ResponseWriter, list []vuln.Finding, now time.Time) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="vigil-findings.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"host", "vuln_id", "severity", "cvss", "kev", "kev_due_date", "epss", "epss_percentile", "package",
		"installed", "fixed", "advisory", "source", "status", "first_seen", "days_open", "mark", "mark_reason", "rule"})
	for _, f := range list {
		kev, due, epss, pct := "", "", "", ""
		if f.KEV != nil {
			kev = "yes"
			if !f.KEV.DueDate.IsZero() {
				due = f.KEV.DueDate.Format("2006-01-02")
			}
		}
		if f.EPSS != nil {
			epss = strconv.FormatFloat(f.EPSS.Score, 'f', 5, 64)
			pct = strconv.FormatFloat(f.EPSS.Percentile, 'f', 5, 64)
		}
		cw.Write([]string{f.HostName, f.VulnID, f.Severity, strconv.FormatFloat(f.CVSSScore, 'f', 1, 64), kev, due, epss, pct,
			f.Package, f.Installed, f.Fixed, f.AdvisoryID, f.Source, f.Status, f.FirstSeen.Format(time.RFC3339),
			strconv.Itoa(f.DaysOpen(now)), f.Mark, f.MarkReason, csvSafe(f.Rule)})
	}
	cw.Flush()
}

// csvSafe defuses spreadsheet formulas in free text.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (s *Server) handleListVulnerabilities(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	f, err := FindingFilterFromQuery(r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	f.Now = s.svc.Now()
	list, total, err := s.svc.Store.VulnSummaries(r.Context(), a.WorkspaceID, f)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if list == nil {
		list = []store.VulnSummary{}
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"total": total, "offset": f.Offset, "vulnerabilities": list})
}

func (s *Server) handleGetVulnerability(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id := r.PathValue("id")
	findings, _, err := s.svc.ListFindings(r.Context(), *a, store.FindingFilter{VulnID: id, Status: "all", IncludeMarked: true})
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	cve, err := s.svc.Store.GetCVE(r.Context(), id)
	if err != nil && domain.ErrorCode(err) != domain.ENOTFOUND {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if cve == nil && len(findings) == 0 {
		httpx.WriteError(w, r, s.log, domain.Errorf(domain.ENOTFOUND, "%s: no NVD record and no finding in this workspace", id))
		return
	}
	if findings == nil {
		findings = []vuln.Finding{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"id": id, "cve": cve, "findings": findings})
}

type markInput struct {
	Mark      string     `json:"mark"`
	Reason    string     `json:"reason"`
	ExpiresAt *time.Time `json:"expires_at"`
}

func (s *Server) handleMarkFinding(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	var in markInput
	if err := httpx.DecodeJSON(w, r, httpx.Limits{Raw: userBodyLimit, Decoded: userBodyLimit}, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if err := s.svc.MarkFinding(r.Context(), *a, id, in.Mark, strings.TrimSpace(in.Reason), in.ExpiresAt); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	f, err := s.svc.Store.GetFinding(r.Context(), a.WorkspaceID, id)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, f)
}

func (s *Server) handleFeeds(w http.ResponseWriter, r *http.Request) {
	states, err := s.svc.Store.ListFeedStates(r.Context())
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if states == nil {
		states = []store.FeedState{}
	}
	httpx.WriteJSON(w, http.StatusOK, states)
}
