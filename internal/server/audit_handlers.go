package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/store"
)

type auditJSON struct {
	ID          int64           `json:"id"`
	At          time.Time       `json:"at"`
	Actor       string          `json:"actor"`
	UserID      *int64          `json:"user_id"`
	AgentID     *int64          `json:"agent_id"`
	Action      string          `json:"action"`
	SubjectType string          `json:"subject_type"`
	SubjectID   int64           `json:"subject_id"`
	Detail      json.RawMessage `json:"detail"`
	RemoteIP    string          `json:"remote_ip"`
	UserAgent   string          `json:"user_agent"`
}

type auditPageJSON struct {
	Total   int         `json:"total"`
	Limit   int         `json:"limit"`
	Offset  int         `json:"offset"`
	Entries []auditJSON `json:"entries"`
}

// handleListAudit: GET /api/v1/audit?actor=&action=&subject_type=&subject_id=&limit=&offset=
func (s *Server) handleListAudit(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), SubjectType: q.Get("subject_type")}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"subject_id", &f.SubjectID}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				httpx.WriteError(w, r, s.log, domain.Errorf(domain.EINVALID, "%s: must be a non-negative integer", p.name))
				return
			}
			*p.dst = n
		}
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"limit", &f.Limit}, {"offset", &f.Offset}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				httpx.WriteError(w, r, s.log, domain.Errorf(domain.EINVALID, "%s: must be a non-negative integer", p.name))
				return
			}
			*p.dst = n
		}
	}
	if f.Limit > 500 {
		httpx.WriteError(w, r, s.log, domain.Errorf(domain.EINVALID, "limit: at most 500"))
		return
	}
	es, total, err := s.svc.ListAudit(r.Context(), *a, f)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	out := auditPageJSON{Total: total, Limit: f.Limit, Offset: f.Offset, Entries: make([]auditJSON, len(es))}
	for i, e := range es {
		out.Entries[i] = auditJSON{ID: e.ID, At: e.At, Actor: e.Actor, UserID: e.UserID, AgentID: e.AgentID, Action: e.Action,
			SubjectType: e.SubjectType, SubjectID: e.SubjectID, Detail: e.Detail, RemoteIP: e.RemoteIP, UserAgent: e.UserAgent}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}
