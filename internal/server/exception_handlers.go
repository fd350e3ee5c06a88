package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/export"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/store"
)

// ExceptionFilterFromQuery reads the exception list filters shared by the
// API and the Exceptions page.
func ExceptionFilterFromQuery(r *http.Request) (store.ExceptionFilter, error) {
	q := r.URL.Query()
	f := store.ExceptionFilter{Target: q.Get("target"), State: q.Get("state"), VulnID: strings.TrimSpace(q.Get("vuln_id")),
		CheckID: strings.TrimSpace(q.Get("check_id")), Limit: queryInt(r, "limit", 1000, 100000)}
	switch f.Target {
	case "", domain.ExceptionFinding, domain.ExceptionCheck:
	default:
		return f, domain.Errorf(domain.EINVALID, "target: must be finding or check")
	}
	switch f.State {
	case "", domain.ExceptionActive, domain.ExceptionExpired, domain.ExceptionRevoked:
	default:
		return f, domain.Errorf(domain.EINVALID, "state: must be active, expired or revoked")
	}
	if v := q.Get("host_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, domain.Errorf(domain.EINVALID, "host_id: not a valid ID")
		}
		f.HostID = id
	}
	return f, nil
}

func (s *Server) handleListExceptions(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	f, err := ExceptionFilterFromQuery(r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	list, err := s.svc.ListExceptions(r.Context(), *a, f)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if wantsCSV(r) {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="vigil-exceptions.csv"`)
		_ = export.ExceptionsCSV(w, list)
		return
	}
	if list == nil {
		list = []domain.Exception{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"exceptions": list})
}

func (s *Server) handleCreateException(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	var in domain.ExceptionInput
	if err := httpx.DecodeJSON(w, r, userLimits, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	e, err := s.svc.CreateException(r.Context(), *a, in)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.Header().Set("Location", "/api/v1/exceptions/"+strconv.FormatInt(e.ID, 10))
	httpx.WriteJSON(w, http.StatusCreated, e)
}

func (s *Server) handleGetException(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	e, hist, err := s.svc.GetException(r.Context(), *a, id)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"exception": e, "history": hist})
}

func (s *Server) handleUpdateException(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	var in domain.ExceptionInput
	if err == nil {
		err = httpx.DecodeJSON(w, r, userLimits, true, &in)
	}
	if err == nil && (in.Target != "" || in.Scope != "" || in.VulnID != "" || in.CheckID != "" || in.Package != "" || in.HostID != 0 || in.GroupID != 0) {
		err = domain.Errorf(domain.EINVALID, "only kind, reason, expires_at and clear_expiry can change; revoke and create a new exception for another subject or scope")
	}
	var e *domain.Exception
	if err == nil {
		e, err = s.svc.UpdateException(r.Context(), *a, id, in)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, e)
}

func (s *Server) handleRevokeException(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	var e *domain.Exception
	if err == nil {
		e, err = s.svc.RevokeException(r.Context(), *a, id)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, e)
}

func (s *Server) handleExceptionHistory(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	hist, err := s.svc.ExceptionHistory(r.Context(), *a, queryInt(r, "limit", 200, 10000))
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"history": hist})
}

// riskRoutes mounts the risk workflow and report endpoints: exceptions,
// the worklist and host SBOMs.
func (s *Server) riskRoutes(m *httpx.Mux, user func(http.HandlerFunc) http.Handler) {
	m.Handle("GET /api/v1/exceptions", user(s.handleListExceptions))
	m.Handle("POST /api/v1/exceptions", user(s.handleCreateException))
	m.Handle("GET /api/v1/exceptions/history", user(s.handleExceptionHistory))
	m.Handle("GET /api/v1/exceptions/{id}", user(s.handleGetException))
	m.Handle("PATCH /api/v1/exceptions/{id}", user(s.handleUpdateException))
	m.Handle("POST /api/v1/exceptions/{id}/revoke", user(s.handleRevokeException))
	m.Handle("DELETE /api/v1/exceptions/{id}", user(s.handleRevokeException))
	m.Handle("GET /api/v1/worklist", user(s.handleWorklist))
	m.Handle("GET /api/v1/hosts/{id}/sbom", user(s.handleHostSBOM))
}
