package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/vuln/sapnotes"
)

// sapSystemJSON is one SAP system in GET /api/v1/sap/systems.
type sapSystemJSON struct {
	HostID    int64     `json:"host_id"`
	HostName  string    `json:"host_name"`
	ScannedAt time.Time `json:"scanned_at"`
	inventory.SAPSystem
}

func (s *Server) handleSAPSystems(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	rows, err := s.svc.SAPSystems(r.Context(), *a)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	out := make([]sapSystemJSON, 0, len(rows))
	for _, row := range rows {
		out = append(out, sapSystemJSON{HostID: row.HostID, HostName: row.HostName, ScannedAt: row.ScannedAt, SAPSystem: row.System})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// sapNoteJSON is one note in GET /api/v1/sap/notes.
type sapNoteJSON struct {
	*sapnotes.Note
	Status   string             `json:"status"` // unresolved, manual_review, resolved
	CVEInfo  []sapCVEJSON       `json:"cve_info"`
	KEV      bool               `json:"kev"`
	DaysOpen int                `json:"days_open"`
	Affected int                `json:"affected_systems"`
	Systems  []string           `json:"systems"`
	Findings []sapnotes.Finding `json:"findings"`
}

type sapCVEJSON struct {
	ID             string     `json:"id"`
	CVSSScore      float64    `json:"cvss_score,omitempty"`
	Severity       string     `json:"severity,omitempty"`
	KEV            bool       `json:"kev"`
	KEVDateAdded   *time.Time `json:"kev_date_added,omitempty"`
	EPSS           float64    `json:"epss,omitempty"`
	EPSSPercentile float64    `json:"epss_percentile,omitempty"`
}

// handleSAPNotes lists the notes that concern the workspace's SAP
// systems; ?status=unresolved|manual_review|resolved picks one tab.
func (s *Server) handleSAPNotes(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	views, err := s.svc.SAPNotes(r.Context(), *a, strings.TrimSpace(r.URL.Query().Get("status")))
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	out := make([]sapNoteJSON, 0, len(views))
	for _, v := range views {
		n := sapNoteJSON{Note: v.Note, Status: v.Tab, KEV: v.KEV, DaysOpen: v.DaysOpen, Affected: v.Affected,
			Systems: v.Systems, Findings: v.Findings, CVEInfo: []sapCVEJSON{}}
		if n.Systems == nil {
			n.Systems = []string{}
		}
		for _, c := range v.CVEs {
			n.CVEInfo = append(n.CVEInfo, sapCVEJSON{ID: c.ID, CVSSScore: c.CVSSScore, Severity: c.Severity, KEV: c.KEV,
				KEVDateAdded: c.KEVDateAdded, EPSS: c.EPSS, EPSSPercentile: c.EPSSPct})
		}
		out = append(out, n)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

type sapResolveInput struct {
	HostID int64  `json:"host_id"` // 0: every host
	Reason string `json:"reason"`
}

// handleSAPNoteResolve resolves a note by hand with a reason (POST) or
// reopens it (DELETE).
func (s *Server) handleSAPNoteResolve(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	note := r.PathValue("note")
	if _, err := strconv.ParseUint(note, 10, 64); err != nil || len(note) < 6 || len(note) > 8 {
		httpx.WriteError(w, r, s.log, domain.Errorf(domain.EINVALID, "note: not an SAP note number"))
		return
	}
	var in sapResolveInput
	if r.Method == http.MethodPost || r.ContentLength > 0 {
		if err := httpx.DecodeJSON(w, r, httpx.Limits{Raw: userBodyLimit, Decoded: userBodyLimit}, true, &in); err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
	}
	var n int
	var err error
	if r.Method == http.MethodDelete {
		n, err = s.svc.ReopenSAPNote(r.Context(), *a, note, in.HostID)
	} else {
		n, err = s.svc.ResolveSAPNote(r.Context(), *a, note, in.HostID, in.Reason)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"note": note, "findings": n})
}

type sapScopeJSON struct {
	SAPInScope bool `json:"sap_in_scope"`
}

func (s *Server) handleGetSAPScope(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	on, err := s.svc.SAPInScope(r.Context(), *a)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, sapScopeJSON{SAPInScope: on})
}

func (s *Server) handleSetSAPScope(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	var in sapScopeJSON
	if err := httpx.DecodeJSON(w, r, httpx.Limits{Raw: userBodyLimit, Decoded: userBodyLimit}, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if err := s.svc.SetSAPInScope(r.Context(), *a, in.SAPInScope); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, in)
}

// sapDBLoginJSON is the REST shape of an SAP database login: it names its
// credential; the secret is never part of it.
type sapDBLoginJSON struct {
	ID             int64     `json:"id"`
	SID            string    `json:"sid"` // "" = every system
	CredentialID   int64     `json:"credential_id"`
	CredentialName string    `json:"credential_name,omitempty"`
	Address        string    `json:"address,omitempty"`
	Database       string    `json:"database,omitempty"`
	Schema         string    `json:"schema,omitempty"`
	CreatedBy      string    `json:"created_by,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

func sapDBLoginView(l *domain.SAPDBLogin) sapDBLoginJSON {
	return sapDBLoginJSON{ID: l.ID, SID: l.SID, CredentialID: l.CredentialID, CredentialName: l.CredentialName, Address: l.Address,
		Database: l.Database, Schema: l.Schema, CreatedBy: l.CreatedBy, CreatedAt: l.CreatedAt}
}

func (s *Server) handleListSAPDBLogins(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	ls, err := s.svc.ListSAPDBLogins(r.Context(), *a)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	out := make([]sapDBLoginJSON, len(ls))
	for i := range ls {
		out[i] = sapDBLoginView(&ls[i])
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) handleCreateSAPDBLogin(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	var in sapDBLoginJSON
	if err := httpx.DecodeJSON(w, r, httpx.Limits{Raw: userBodyLimit, Decoded: userBodyLimit}, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	l, err := s.svc.CreateSAPDBLogin(r.Context(), *a, domain.SAPDBLogin{SID: in.SID, CredentialID: in.CredentialID,
		Address: in.Address, Database: in.Database, Schema: in.Schema})
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.Header().Set("Location", "/api/v1/sap/db-logins/"+strconv.FormatInt(l.ID, 10))
	httpx.WriteJSON(w, http.StatusCreated, sapDBLoginView(l))
}

func (s *Server) handleDeleteSAPDBLogin(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	if err == nil {
		err = s.svc.DeleteSAPDBLogin(r.Context(), *a, id)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
