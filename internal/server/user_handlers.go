package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
)

// The caller's own account: who am I, password, API tokens, sessions.

type workspaceRoleJSON struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Slug    string `json:"slug"`
	Role    string `json:"role"`
	Current bool   `json:"current"`
}

type meJSON struct {
	UserID      int64               `json:"user_id"`
	Login       string              `json:"login"`
	WorkspaceID int64               `json:"workspace_id"`
	Role        string              `json:"role"`
	Workspaces  []workspaceRoleJSON `json:"workspaces"`
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	ws, err := s.svc.MyWorkspaces(r.Context(), *a)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	out := meJSON{UserID: a.UserID, Login: a.Login, WorkspaceID: a.WorkspaceID, Role: a.Role, Workspaces: workspacesJSON(ws, a.WorkspaceID)}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func workspacesJSON(ws []domain.WorkspaceRole, current int64) []workspaceRoleJSON {
	out := make([]workspaceRoleJSON, len(ws))
	for i, x := range ws {
		out[i] = workspaceRoleJSON{ID: x.Workspace.ID, Name: x.Workspace.Name, Slug: x.Workspace.Slug, Role: x.Role, Current: x.Workspace.ID == current}
	}
	return out
}

func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := httpx.DecodeJSON(w, r, httpx.Limits{Raw: userBodyLimit, Decoded: userBodyLimit}, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	// An API call keeps no session: every browser session of the user ends.
	if err := s.svc.ChangePassword(r.Context(), *a, in.Current, in.New, ""); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type apiTokenJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	// Token is set only in the reply that creates it.
	Token string `json:"token,omitempty"`
}

func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	ts, err := s.svc.ListAPITokens(r.Context(), *a)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	out := make([]apiTokenJSON, len(ts))
	for i, t := range ts {
		out[i] = apiTokenJSON{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	var in struct {
		Name string `json:"name"`
	}
	if err := httpx.DecodeJSON(w, r, httpx.Limits{Raw: userBodyLimit, Decoded: userBodyLimit}, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	t, tok, err := s.svc.NewAPIToken(r.Context(), *a, in.Name)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, apiTokenJSON{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt, Token: tok})
}

func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		httpx.WriteError(w, r, s.log, domain.Errorf(domain.ENOTFOUND, "token not found"))
		return
	}
	if err := s.svc.RevokeAPIToken(r.Context(), *a, id); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type sessionJSON struct {
	Key         string    `json:"key"`
	WorkspaceID int64     `json:"workspace_id"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	RemoteIP    string    `json:"remote_ip"`
	UserAgent   string    `json:"user_agent"`
}

func (s *Server) handleListSessions(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	ss, err := s.svc.ListSessions(r.Context(), *a)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	out := make([]sessionJSON, len(ss))
	for i, x := range ss {
		out[i] = sessionJSON{Key: x.Key, WorkspaceID: x.WorkspaceID, CreatedAt: x.CreatedAt, ExpiresAt: x.ExpiresAt, RemoteIP: x.RemoteIP, UserAgent: x.UserAgent}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) handleRevokeSession(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	if err := s.svc.RevokeSession(r.Context(), *a, r.PathValue("key")); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
