package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/service"
)

// loadWorkspaces fills rq.Workspaces for the header's switcher. A failure
// only hides the switcher: the page itself can still be shown.
func (a *app) loadWorkspaces(r *http.Request, rq *request) {
	ws, err := a.svc.MyWorkspaces(r.Context(), *rq.Actor)
	if err != nil {
		a.log.Warn("web: list workspaces", "workspace_id", rq.workspaceID(), "err", err)
		return
	}
	rq.Workspaces = ws
}

// CurrentWorkspace names the workspace the caller is in, for the header.
func (rq *request) CurrentWorkspace() string {
	if rq == nil || rq.Actor == nil {
		return ""
	}
	for _, w := range rq.Workspaces {
		if w.Workspace.ID == rq.Actor.WorkspaceID {
			return w.Workspace.Name
		}
	}
	return ""
}

// denied answers a request the caller's role does not allow.
func (a *app) denied(w http.ResponseWriter, r *http.Request, rq *request) {
	a.renderError(w, r, rq, http.StatusForbidden, "Not allowed",
		"Your role in this workspace does not allow this. Ask an administrator of the workspace.")
}

// failed answers a refused service call: its message on an error page, or
// a logged 500 for internal errors.
func (a *app) failed(w http.ResponseWriter, r *http.Request, rq *request, what string, err error) {
	switch domain.ErrorCode(err) {
	case domain.EINTERNAL:
		a.serverError(w, r, rq, what, err)
	case domain.ENOTFOUND:
		a.notFound(w, r, rq)
	case domain.EFORBIDDEN:
		a.denied(w, r, rq)
	default:
		a.renderError(w, r, rq, httpx.StatusFor(err), "Not saved", domain.ErrorMessage(err))
	}
}

// handleSwitchWorkspace moves the session to another of the caller's
// workspaces and goes to the same section there (object pages would be
// another workspace's IDs, so only the first path segment is kept).
func (a *app) handleSwitchWorkspace(w http.ResponseWriter, r *http.Request, rq *request) {
	id, err := strconv.ParseInt(r.PostForm.Get("workspace_id"), 10, 64)
	c, cerr := r.Cookie(httpx.SessionCookie)
	if err != nil || cerr != nil || rq.Session == nil {
		a.renderError(w, r, rq, http.StatusBadRequest, "Bad request", "Choose a workspace.")
		return
	}
	act, err := a.svc.SwitchWorkspace(r.Context(), c.Value, *rq.Actor, id)
	if err != nil {
		a.failed(w, r, rq, "switch workspace", err)
		return
	}
	a.log.Info("web: workspace switched", "user", act.Login, "from", rq.Actor.WorkspaceID, "workspace_id", act.WorkspaceID)
	target := sectionOf(r.PostForm.Get("next"))
	if !a.isPage(target) {
		target = "/hosts" // a section with no index page of its own
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// isPage reports whether GET path is one of the app's pages rather than
// the catch-all "not found".
func (a *app) isPage(path string) bool {
	req, err := http.NewRequest(http.MethodGet, path, nil)
	if err != nil || a.mux == nil {
		return false
	}
	_, pattern := a.mux.Handler(req)
	return pattern != "" && pattern != "/"
}

// sectionOf keeps the first segment of a local path: "/hosts/12" is
// "/hosts".
func sectionOf(next string) string {
	next = safeNext(next)
	if next == "" {
		return "/hosts"
	}
	if i := strings.IndexAny(next, "?#"); i >= 0 {
		next = next[:i]
	}
	seg := strings.SplitN(strings.TrimPrefix(next, "/"), "/", 2)[0]
	switch seg {
	case "", "invite":
		return "/hosts"
	case "settings":
		// settings pages are /settings/<page>, without IDs
		parts := strings.SplitN(strings.TrimPrefix(next, "/"), "/", 3)
		if len(parts) >= 2 && parts[1] != "" && !strings.ContainsAny(parts[1], "0123456789") {
			return "/" + parts[0] + "/" + parts[1]
		}
	}
	return "/" + seg
}

// membersPage is the workspace administration page.
type membersPage struct {
	Members     []memberView
	Invitations []invitationView
	Roles       []string
	// NewLink is a just-created invitation link, shown once.
	NewLink string
	NewRole string
	Error   string
}

type memberView struct {
	UserID int64
	Login  string
	Role   string
	Self   bool
	Since  when
}

type invitationView struct {
	ID      int64
	Role    string
	Note    string
	Created when
	Expires when
	Status  string // pending, used, expired
}

func (a *app) handleMembers(w http.ResponseWriter, r *http.Request, rq *request) {
	a.renderMembers(w, r, rq, http.StatusOK, membersPage{}, flashFor(r))
}

func flashFor(r *http.Request) string {
	switch r.URL.Query().Get("done") {
	case "role":
		return "Role changed."
	case "removed":
		return "Member removed."
	case "revoked":
		return "Revoked."
	case "workspace":
		return "Workspace created. You are its admin; switch to it from the header."
	case "password":
		return "Password changed. Your other sessions were ended."
	case "token":
		return "Token revoked."
	}
	return ""
}

func (a *app) renderMembers(w http.ResponseWriter, r *http.Request, rq *request, status int, p membersPage, flash string) {
	ms, err := a.svc.ListMembers(r.Context(), *rq.Actor)
	if err != nil {
		a.failed(w, r, rq, "list members", err)
		return
	}
	invs, err := a.svc.ListInvitations(r.Context(), *rq.Actor)
	if err != nil {
		a.failed(w, r, rq, "list invitations", err)
		return
	}
	if rq.Workspaces == nil {
		a.loadWorkspaces(r, rq) // after a POST, for the heading and the header
	}
	now := a.svc.Now()
	for _, m := range ms {
		p.Members = append(p.Members, memberView{UserID: m.UserID, Login: m.Login, Role: m.Role,
			Self: m.UserID == rq.Actor.UserID, Since: newWhen(m.CreatedAt, now)})
	}
	for _, inv := range invs {
		st := "pending"
		switch {
		case inv.UsedAt != nil:
			st = "used"
		case !now.Before(inv.ExpiresAt):
			st = "expired"
		}
		p.Invitations = append(p.Invitations, invitationView{ID: inv.ID, Role: inv.Role, Note: inv.Note,
			Created: newWhen(inv.CreatedAt, now), Expires: newWhen(inv.ExpiresAt, now), Status: st})
	}
	p.Roles = domain.Roles()
	a.render(w, r, status, "members", pageData{Title: "Members", Nav: "members", Req: rq, Flash: flash, Data: p})
}

func (a *app) memberID(w http.ResponseWriter, r *http.Request, rq *request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		a.notFound(w, r, rq)
		return 0, false
	}
	return id, true
}

func (a *app) handleSetMemberRole(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := a.memberID(w, r, rq)
	if !ok {
		return
	}
	if err := a.svc.SetMemberRole(r.Context(), *rq.Actor, id, r.PostForm.Get("role")); err != nil {
		a.failed(w, r, rq, "set role", err)
		return
	}
	http.Redirect(w, r, "/settings/members?done=role", http.StatusSeeOther)
}

func (a *app) handleRemoveMember(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := a.memberID(w, r, rq)
	if !ok {
		return
	}
	if err := a.svc.RemoveMember(r.Context(), *rq.Actor, id); err != nil {
		a.failed(w, r, rq, "remove member", err)
		return
	}
	http.Redirect(w, r, "/settings/members?done=removed", http.StatusSeeOther)
}

func (a *app) handleInvite(w http.ResponseWriter, r *http.Request, rq *request) {
	days, err := strconv.Atoi(r.PostForm.Get("days"))
	if err != nil {
		days = 7
	}
	role := r.PostForm.Get("role")
	inv, tok, err := a.svc.Invite(r.Context(), *rq.Actor, role, r.PostForm.Get("note"), time.Duration(days)*24*time.Hour)
	if err != nil {
		if c := domain.ErrorCode(err); c == domain.EINVALID {
			a.renderMembers(w, r, rq, http.StatusBadRequest, membersPage{Error: domain.ErrorMessage(err)}, "")
			return
		}
		a.failed(w, r, rq, "invite", err)
		return
	}
	// The link is shown on this response only: it is not in a redirect URL,
	// the history or the logs.
	link := a.baseURL(r) + "/invite/" + tok
	a.renderMembers(w, r, rq, http.StatusOK, membersPage{NewLink: link, NewRole: inv.Role}, "")
}

// baseURL is the address the browser used, for links shown to the user.
func (a *app) baseURL(r *http.Request) string {
	scheme := "http"
	if a.secure(r) {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	return scheme + "://" + host
}

func (a *app) handleRevokeInvitation(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := a.memberID(w, r, rq)
	if !ok {
		return
	}
	if err := a.svc.RevokeInvitation(r.Context(), *rq.Actor, id); err != nil {
		a.failed(w, r, rq, "revoke invitation", err)
		return
	}
	http.Redirect(w, r, "/settings/members?done=revoked", http.StatusSeeOther)
}

func (a *app) handleCreateWorkspace(w http.ResponseWriter, r *http.Request, rq *request) {
	_, err := a.svc.CreateWorkspace(r.Context(), *rq.Actor, r.PostForm.Get("name"), r.PostForm.Get("slug"))
	if err != nil {
		if c := domain.ErrorCode(err); c == domain.EINVALID || c == domain.ECONFLICT {
			a.renderMembers(w, r, rq, httpx.StatusFor(err), membersPage{Error: domain.ErrorMessage(err)}, "")
			return
		}
		a.failed(w, r, rq, "create workspace", err)
		return
	}
	http.Redirect(w, r, "/settings/members?done=workspace", http.StatusSeeOther)
}

// Invitation acceptance happens before login, so its form carries a
// double-submit token like the login form (see loginCSRFCookie), scoped to
// /invite.
const inviteCSRFCookie = "vigil_invite_csrf"

type invitePage struct {
	Token     string
	Info      *service.InvitationInfo
	LoggedIn  *service.Actor
	CSRF      string
	Login     string
	Error     string
	MinLength int
}

// handleInvitation shows what an invitation offers: a logged-in user
// joins with one click; anyone else chooses a login and password.
func (a *app) handleInvitation(w http.ResponseWriter, r *http.Request) {
	a.renderInvitation(w, r, http.StatusOK, invitePage{})
}

func (a *app) renderInvitation(w http.ResponseWriter, r *http.Request, status int, p invitePage) {
	tok := r.PathValue("token")
	info, err := a.svc.LookupInvitation(r.Context(), tok)
	if err != nil {
		if domain.ErrorCode(err) == domain.EINTERNAL {
			a.serverError(w, r, nil, "lookup invitation", err)
			return
		}
		a.renderError(w, r, nil, http.StatusNotFound, "Invitation not valid", domain.ErrorMessage(err))
		return
	}
	p.Token, p.Info, p.MinLength = tok, info, service.MinPasswordLength
	var rq *request
	if c, err := r.Cookie(httpx.SessionCookie); err == nil {
		if act, sess, err := a.svc.SessionActor(r.Context(), c.Value); err == nil {
			p.LoggedIn, p.CSRF = act, sess.CSRFToken
			rq = &request{Actor: act, CSRF: sess.CSRFToken, Session: sess}
		}
	}
	if p.LoggedIn == nil {
		csrf := ""
		if c, err := r.Cookie(inviteCSRFCookie); err == nil && validToken(c.Value) {
			csrf = c.Value
		} else {
			b := make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				a.serverError(w, r, nil, "invite token", err)
				return
			}
			csrf = base64.RawURLEncoding.EncodeToString(b)
		}
		http.SetCookie(w, &http.Cookie{Name: inviteCSRFCookie, Value: csrf, Path: "/invite/",
			MaxAge: int(loginCSRFLifetime / time.Second), HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteStrictMode})
		p.CSRF = csrf
	}
	a.render(w, r, status, "invite", pageData{Title: "Invitation", Req: rq, Data: p})
}

func (a *app) handleAcceptInvitation(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		a.renderError(w, r, nil, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	r = a.auth.Proxies.WithOrigin(r)
	tok := r.PathValue("token")
	sent := r.PostForm.Get(httpx.CSRFField)
	var existing *service.Actor
	if c, err := r.Cookie(httpx.SessionCookie); err == nil {
		if act, sess, err := a.svc.SessionActor(r.Context(), c.Value); err == nil {
			if subtle.ConstantTimeCompare([]byte(sent), []byte(sess.CSRFToken)) != 1 {
				a.renderInvitation(w, r, http.StatusForbidden, invitePage{Error: "This form has expired. Please try again."})
				return
			}
			existing = act
		}
	}
	if existing == nil {
		c, err := r.Cookie(inviteCSRFCookie)
		if err != nil || !validToken(c.Value) || subtle.ConstantTimeCompare([]byte(c.Value), []byte(sent)) != 1 {
			a.renderInvitation(w, r, http.StatusForbidden, invitePage{Error: "This form has expired or did not come from this site. Please try again."})
			return
		}
		if r.PostForm.Get("password") != r.PostForm.Get("password2") {
			a.renderInvitation(w, r, http.StatusBadRequest, invitePage{Login: r.PostForm.Get("login"), Error: "The two passwords differ."})
			return
		}
	}
	act, err := a.svc.AcceptInvitation(r.Context(), tok, existing, r.PostForm.Get("login"), r.PostForm.Get("password"))
	if err != nil {
		switch domain.ErrorCode(err) {
		case domain.EINTERNAL:
			a.serverError(w, r, nil, "accept invitation", err)
		case domain.ENOTFOUND:
			a.renderError(w, r, nil, http.StatusNotFound, "Invitation not valid", domain.ErrorMessage(err))
		default:
			a.renderInvitation(w, r, httpx.StatusFor(err), invitePage{Login: r.PostForm.Get("login"), Error: domain.ErrorMessage(err)})
		}
		return
	}
	http.SetCookie(w, &http.Cookie{Name: inviteCSRFCookie, Value: "", Path: "/invite/", MaxAge: -1,
		HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteStrictMode})
	if existing != nil {
		c, _ := r.Cookie(httpx.SessionCookie)
		if _, err := a.svc.SwitchWorkspace(r.Context(), c.Value, *existing, act.WorkspaceID); err != nil {
			a.serverError(w, r, nil, "switch to invited workspace", err)
			return
		}
	} else if !a.startSession(w, r, act) {
		return
	}
	a.log.Info("web: invitation accepted", "workspace_id", act.WorkspaceID, "user", act.Login, "role", act.Role)
	http.Redirect(w, r, "/hosts", http.StatusSeeOther)
}

// SwitchNext is where the workspace switcher returns to: the current
// section, without the IDs of this workspace's objects.
func (rq *request) SwitchNext() string { return sectionOf(rq.Path) }
