package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/service"
)

// credentialJSON is the REST shape of a credential: secrets are write-only,
// so only whether each is set is ever returned.
type credentialJSON struct {
	ID            int64     `json:"id"`
	Name          string    `json:"name"`
	Username      string    `json:"username"`
	IsDefault     bool      `json:"is_default"`
	HasPassword   bool      `json:"has_password"`
	HasPrivateKey bool      `json:"has_private_key"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func credentialView(c *domain.Credential) credentialJSON {
	return credentialJSON{ID: c.ID, Name: c.Name, Username: c.Username, IsDefault: c.IsDefault,
		HasPassword: c.HasPassword, HasPrivateKey: c.HasPrivateKey, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (s *Server) handleListCredentials(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	cs, err := s.svc.ListCredentials(r.Context(), *a)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	out := make([]credentialJSON, len(cs))
	for i := range cs {
		out[i] = credentialView(&cs[i])
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) handleCreateCredential(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	var in service.CredentialInput
	if err := httpx.DecodeJSON(w, r, httpx.Limits{Raw: userBodyLimit, Decoded: userBodyLimit}, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	c, err := s.svc.CreateCredential(r.Context(), *a, in)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.Header().Set("Location", "/api/v1/credentials/"+strconv.FormatInt(c.ID, 10))
	httpx.WriteJSON(w, http.StatusCreated, credentialView(c))
}

func (s *Server) handleSetDefaultCredential(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	var in service.CredentialInput
	if err := httpx.DecodeJSON(w, r, httpx.Limits{Raw: userBodyLimit, Decoded: userBodyLimit}, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	c, err := s.svc.SetDefaultCredential(r.Context(), *a, in)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, credentialView(c))
}

func (s *Server) handleDeleteCredential(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	if err == nil {
		err = s.svc.DeleteCredential(r.Context(), *a, id)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type agentJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	KeyPrefix  string     `json:"key_prefix"`
	Version    string     `json:"version"`
	HostCount  int        `json:"host_count"`
	CreatedAt  time.Time  `json:"created_at"`
	LastSeenAt *time.Time `json:"last_seen_at"`
	Revoked    bool       `json:"revoked"`
}

func (s *Server) handleListAgents(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	ags, err := s.svc.ListAgents(r.Context(), *a)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	out := make([]agentJSON, len(ags))
	for i, ag := range ags {
		out[i] = agentJSON{ID: ag.ID, Name: ag.Name, KeyPrefix: ag.KeyPrefix, Version: ag.Version, HostCount: ag.HostCount,
			CreatedAt: ag.CreatedAt, LastSeenAt: ag.LastSeenAt, Revoked: ag.RevokedAt != nil}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}
