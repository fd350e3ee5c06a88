package web

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/service"
)

// accountPage is the caller's own account: password, sessions, API tokens.
type accountPage struct {
	Sessions  []sessionView
	Tokens    []tokenView
	MinLength int
	// NewToken is a just-created API token, shown once.
	NewToken      string
	NewTokenName  string
	PasswordError string
	TokenError    string
}

type sessionView struct {
	Key       string
	Workspace string
	Current   bool
	RemoteIP  string
	UserAgent string
	Created   when
	Expires   when
}

type tokenView struct {
	ID       int64
	Name     string
	Prefix   string
	Created  when
	LastUsed when
}

func (a *app) handleAccount(w http.ResponseWriter, r *http.Request, rq *request) {
	a.renderAccount(w, r, rq, http.StatusOK, accountPage{}, flashFor(r))
}

func (a *app) renderAccount(w http.ResponseWriter, r *http.Request, rq *request, status int, p accountPage, flash string) {
	sessions, err := a.svc.ListSessions(r.Context(), *rq.Actor)
	if err != nil {
		a.failed(w, r, rq, "list sessions", err)
		return
	}
	tokens, err := a.svc.ListAPITokens(r.Context(), *rq.Actor)
	if err != nil {
		a.failed(w, r, rq, "list tokens", err)
		return
	}
	if rq.Workspaces == nil {
		a.loadWorkspaces(r, rq) // after a POST, for names and the header
	}
	names := map[int64]string{}
	for _, w := range rq.Workspaces {
		names[w.Workspace.ID] = w.Workspace.Name
	}
	current := ""
	if c, err := r.Cookie(httpx.SessionCookie); err == nil {
		current = service.SessionKey(c.Value)
	}
	now := a.svc.Now()
	for _, s := range sessions {
		p.Sessions = append(p.Sessions, sessionView{Key: s.Key, Workspace: names[s.WorkspaceID], Current: s.Key == current,
			RemoteIP: s.RemoteIP, UserAgent: s.UserAgent, Created: newWhen(s.CreatedAt, now), Expires: newWhen(s.ExpiresAt, now)})
	}
	for _, t := range tokens {
		p.Tokens = append(p.Tokens, tokenView{ID: t.ID, Name: t.Name, Prefix: t.Prefix,
			Created: newWhen(t.CreatedAt, now), LastUsed: whenPtr(t.LastUsedAt, now)})
	}
	p.MinLength = service.MinPasswordLength
	a.render(w, r, status, "account", pageData{Title: "Your account", Nav: "account", Req: rq, Flash: flash, Data: p})
}

func (a *app) handleChangePassword(w http.ResponseWriter, r *http.Request, rq *request) {
	pf := r.PostForm
	if pf.Get("new_password") != pf.Get("new_password2") {
		a.renderAccount(w, r, rq, http.StatusBadRequest, accountPage{PasswordError: "The two new passwords differ."}, "")
		return
	}
	keep := ""
	if c, err := r.Cookie(httpx.SessionCookie); err == nil {
		keep = c.Value
	}
	// Guesses at the current password count as failed logins: a stolen
	// session must not become a way around the login rate limit.
	limitKey := "login:" + strings.ToLower(rq.Actor.Login)
	if wait := a.logins.Wait(limitKey); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		a.renderAccount(w, r, rq, http.StatusTooManyRequests, accountPage{PasswordError: "Too many wrong passwords. Try again later."}, "")
		return
	}
	err := a.svc.ChangePassword(r.Context(), *rq.Actor, pf.Get("current_password"), pf.Get("new_password"), keep)
	if errors.Is(err, service.ErrWrongPassword) {
		a.logins.Fail(limitKey)
	}
	if err != nil {
		if domain.ErrorCode(err) == domain.EINVALID {
			a.renderAccount(w, r, rq, http.StatusBadRequest, accountPage{PasswordError: domain.ErrorMessage(err)}, "")
			return
		}
		a.failed(w, r, rq, "change password", err)
		return
	}
	http.Redirect(w, r, "/account?done=password", http.StatusSeeOther)
}

func (a *app) handleRevokeSession(w http.ResponseWriter, r *http.Request, rq *request) {
	key := r.PathValue("key")
	if err := a.svc.RevokeSession(r.Context(), *rq.Actor, key); err != nil {
		a.failed(w, r, rq, "revoke session", err)
		return
	}
	if c, err := r.Cookie(httpx.SessionCookie); err == nil && service.SessionKey(c.Value) == key {
		a.clearSessionCookie(w, r) // revoked this very session: logged out
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/account?done=revoked", http.StatusSeeOther)
}

func (a *app) handleCreateToken(w http.ResponseWriter, r *http.Request, rq *request) {
	name := r.PostForm.Get("name")
	t, tok, err := a.svc.NewAPIToken(r.Context(), *rq.Actor, name)
	if err != nil {
		if domain.ErrorCode(err) == domain.EINVALID {
			a.renderAccount(w, r, rq, http.StatusBadRequest, accountPage{TokenError: domain.ErrorMessage(err)}, "")
			return
		}
		a.failed(w, r, rq, "create token", err)
		return
	}
	// Shown in this response only, never in a URL.
	a.renderAccount(w, r, rq, http.StatusCreated, accountPage{NewToken: tok, NewTokenName: t.Name}, "")
}

func (a *app) handleRevokeToken(w http.ResponseWriter, r *http.Request, rq *request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		a.notFound(w, r, rq)
		return
	}
	if err := a.svc.RevokeAPIToken(r.Context(), *rq.Actor, id); err != nil {
		a.failed(w, r, rq, "revoke token", err)
		return
	}
	http.Redirect(w, r, "/account?done=token", http.StatusSeeOther)
}
