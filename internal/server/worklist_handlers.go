package server

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/service"
)

// WorklistFilterFromQuery reads the worklist filters shared by the API and
// the Worklist page.
func WorklistFilterFromQuery(r *http.Request) (service.WorklistFilter, error) {
	q := r.URL.Query()
	f := service.WorklistFilter{KEVOnly: truthy(q.Get("kev")), FixOnly: truthy(q.Get("fix")), Limit: queryInt(r, "limit", 0, 100000)}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"host_id", &f.HostID}, {"group_id", &f.GroupID}} {
		if v := q.Get(p.name); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				return f, domain.Errorf(domain.EINVALID, "%s: not a valid ID", p.name)
			}
			*p.dst = id
		}
	}
	return f, nil
}

// handleWorklist serves GET /api/v1/worklist: JSON with both views, or CSV
// of one (view=hosts, the default, or view=fleet).
func (s *Server) handleWorklist(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	f, err := WorklistFilterFromQuery(r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	view := r.URL.Query().Get("view")
	if view != "" && view != "hosts" && view != "fleet" {
		httpx.WriteError(w, r, s.log, domain.Errorf(domain.EINVALID, "view: must be hosts or fleet"))
		return
	}
	wl, err := s.svc.Worklist(r.Context(), *a, f)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if wantsCSV(r) {
		if view == "fleet" {
			WriteFleetCSV(w, wl.Fleet)
		} else {
			WriteWorklistCSV(w, wl.Items)
		}
		return
	}
	httpx.WriteJSON(w, http.StatusOK, wl)
}

func rankCells(r *service.Rank) []string {
	kev, due := "", ""
	if r.KEV {
		kev = "yes"
		if r.KEVDue != nil {
			due = r.KEVDue.Format("2006-01-02")
		}
	}
	exposed := ""
	if r.Exposed {
		exposed = "yes"
	}
	return []string{kev, due, strconv.FormatFloat(r.EPSS, 'f', 5, 64), strconv.FormatFloat(r.CVSS, 'f', 1, 64), exposed, r.Severity}
}

// WriteWorklistCSV writes the per-host worklist as a CSV download.
func WriteWorklistCSV(w http.ResponseWriter, items []service.WorkItem) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="vigil-worklist.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"host", "package", "installed", "fix_version", "kev", "kev_due", "epss", "cvss", "exposed", "severity",
		"vulns", "vuln_count", "unfixed", "listening", "binaries"})
	for _, it := range items {
		row := []string{csvSafe(it.HostName), csvSafe(it.Package), it.Installed, it.Fix}
		row = append(row, rankCells(&it.Rank)...)
		row = append(row, strings.Join(it.Vulns, " "), strconv.Itoa(len(it.Vulns)), strings.Join(it.Unfixed, " "),
			csvSafe(strings.Join(it.Listening, "; ")), csvSafe(strings.Join(it.Binaries, " ")))
		cw.Write(row)
	}
	cw.Flush()
}

// WriteFleetCSV writes the fleet-wide worklist as a CSV download.
func WriteFleetCSV(w http.ResponseWriter, items []service.FleetItem) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="vigil-worklist-fleet.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"package", "fix_version", "hosts", "exposed_hosts", "kev", "kev_due", "epss", "cvss", "exposed", "severity", "vulns", "vuln_count"})
	for _, it := range items {
		row := []string{csvSafe(it.Package), it.Fix, strconv.Itoa(it.Hosts), strconv.Itoa(it.ExposedHosts)}
		row = append(row, rankCells(&it.Rank)...)
		row = append(row, strings.Join(it.Vulns, " "), strconv.Itoa(len(it.Vulns)))
		cw.Write(row)
	}
	cw.Flush()
}
