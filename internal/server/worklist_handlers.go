package server

import (
	"net/http"
	"strconv"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/export"
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
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		if view == "fleet" {
			w.Header().Set("Content-Disposition", `attachment; filename="vigil-worklist-fleet.csv"`)
			_ = export.FleetCSV(w, wl.Fleet)
		} else {
			w.Header().Set("Content-Disposition", `attachment; filename="vigil-worklist.csv"`)
			_ = export.WorklistCSV(w, wl.Items)
		}
		return
	}
	httpx.WriteJSON(w, http.StatusOK, wl)
}
