package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
)

// Workspaces, members and invitations. Listing one's workspaces is open to
// every role; the rest is the admin's (domain.PermMembers, checked in the
// service).

func (s *Server) handleListWorkspaces(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	ws, err := s.svc.MyWorkspaces(r.Context(), *a)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, workspacesJSON(ws, a.WorkspaceID))
}

func (s *Server) handleCreateWorkspace(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	var in struct {
		Name string `json:"name"`
		Slug string `json:"slug"`
	}
	if err := httpx.DecodeJSON(w, r, httpx.Limits{Raw: userBodyLimit, Decoded: userBodyLimit}, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	ws, err := s.svc.CreateWorkspace(r.Context(), *a, in.Name, in.Slug)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, workspaceRoleJSON{ID: ws.ID, Name: ws.Name, Slug: ws.Slug, Role: domain.RoleAdmin})
}

type memberJSON struct {
	UserID int64  `json:"user_id"`
	Login  string `json:"login"`
	Role   string `json:"role"`
}

func (s *Server) handleListMembers(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	ms, err := s.svc.ListMembers(r.Context(), *a)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	out := make([]memberJSON, len(ms))
	for i, m := range ms {
		out[i] = memberJSON{UserID: m.UserID, Login: m.Login, Role: m.Role}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// objectID reads the {id} of a member or invitation route; a malformed
// one names no object, so it is "not found" like an unknown one.
func objectID(r *http.Request, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.Errorf(domain.ENOTFOUND, "%s not found", what)
	}
	return id, nil
}

func (s *Server) handleSetMemberRole(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := objectID(r, "member")
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	var in struct {
		Role string `json:"role"`
	}
	if err := httpx.DecodeJSON(w, r, httpx.Limits{Raw: userBodyLimit, Decoded: userBodyLimit}, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if err := s.svc.SetMemberRole(r.Context(), *a, id, in.Role); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleRemoveMember(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := objectID(r, "member")
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if err := s.svc.RemoveMember(r.Context(), *a, id); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type invitationJSON struct {
	ID        int64      `json:"id"`
	Role      string     `json:"role"`
	Note      string     `json:"note"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at"`
	// Token and URL path are set only in the reply that creates it.
	Token string `json:"token,omitempty"`
	Path  string `json:"path,omitempty"`
}

func invitationView(inv *domain.Invitation) invitationJSON {
	return invitationJSON{ID: inv.ID, Role: inv.Role, Note: inv.Note, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt, UsedAt: inv.UsedAt}
}

func (s *Server) handleListInvitations(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	invs, err := s.svc.ListInvitations(r.Context(), *a)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	out := make([]invitationJSON, len(invs))
	for i := range invs {
		out[i] = invitationView(&invs[i])
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) handleCreateInvitation(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	var in struct {
		Role       string `json:"role"`
		Note       string `json:"note"`
		ValidHours int    `json:"valid_hours"`
	}
	if err := httpx.DecodeJSON(w, r, httpx.Limits{Raw: userBodyLimit, Decoded: userBodyLimit}, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	inv, tok, err := s.svc.Invite(r.Context(), *a, in.Role, in.Note, time.Duration(in.ValidHours)*time.Hour)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	out := invitationView(inv)
	out.Token, out.Path = tok, "/invite/"+tok
	httpx.WriteJSON(w, http.StatusCreated, out)
}

func (s *Server) handleRevokeInvitation(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := objectID(r, "invitation")
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if err := s.svc.RevokeInvitation(r.Context(), *a, id); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// accountRoutes registers workspaces, members, invitations, the caller's
// account and the audit log.
func (s *Server) accountRoutes(m *httpx.Mux, user func(http.HandlerFunc) http.Handler) {
	m.Handle("GET /api/v1/me", user(s.handleMe))
	m.Handle("PUT /api/v1/me/password", user(s.handleChangePassword))
	m.Handle("GET /api/v1/tokens", user(s.handleListTokens))
	m.Handle("POST /api/v1/tokens", user(s.handleCreateToken))
	m.Handle("DELETE /api/v1/tokens/{id}", user(s.handleRevokeToken))
	m.Handle("GET /api/v1/sessions", user(s.handleListSessions))
	m.Handle("DELETE /api/v1/sessions/{key}", user(s.handleRevokeSession))
	m.Handle("GET /api/v1/workspaces", user(s.handleListWorkspaces))
	m.Handle("POST /api/v1/workspaces", user(s.handleCreateWorkspace))
	m.Handle("GET /api/v1/members", user(s.handleListMembers))
	m.Handle("PATCH /api/v1/members/{id}", user(s.handleSetMemberRole))
	m.Handle("DELETE /api/v1/members/{id}", user(s.handleRemoveMember))
	m.Handle("GET /api/v1/invitations", user(s.handleListInvitations))
	m.Handle("POST /api/v1/invitations", user(s.handleCreateInvitation))
	m.Handle("DELETE /api/v1/invitations/{id}", user(s.handleRevokeInvitation))
	m.Handle("GET /api/v1/audit", user(s.handleListAudit))
}
