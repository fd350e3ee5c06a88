package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/service"
)

// loginCSRFCookie holds the pre-session token that protects the login form
// against login CSRF (an attacker's page logging the victim into the
// attacker's account). Double submit: the form's hidden field must equal
// this cookie, which a cross-site page can neither read nor set, and which
// SameSite=Strict keeps off cross-site POSTs.
const loginCSRFCookie = "vigil_login_csrf"

const loginCSRFLifetime = 2 * time.Hour

type loginForm struct {
	Login string
	Next  string
	Token string
	Error string
}

// handleLoginForm shows the login page; a visitor with a valid session goes
// straight on.
func (a *app) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if c, err := r.Cookie(httpx.SessionCookie); err == nil {
		if _, _, err := a.svc.SessionActor(r.Context(), c.Value); err == nil {
			http.Redirect(w, r, orDefault(next, "/dashboard"), http.StatusSeeOther)
			return
		}
	}
	a.renderLogin(w, r, http.StatusOK, loginForm{Next: next})
}

// renderLogin shows the form with a login CSRF token: the one the browser
// already has (several tabs keep working), or a new one.
func (a *app) renderLogin(w http.ResponseWriter, r *http.Request, status int, f loginForm) {
	tok := ""
	if c, err := r.Cookie(loginCSRFCookie); err == nil && validToken(c.Value) {
		tok = c.Value
	} else {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			a.serverError(w, r, nil, "login token", err)
			return
		}
		tok = base64.RawURLEncoding.EncodeToString(b)
	}
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/login",
		MaxAge: int(loginCSRFLifetime / time.Second), HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteStrictMode})
	f.Token = tok
	a.render(w, r, status, "login", pageData{Title: "Log in", Data: f})
}

// validToken accepts what renderLogin generates: 32 random bytes, base64url.
func validToken(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}

func (a *app) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		a.renderError(w, r, nil, http.StatusBadRequest, "Bad request", "The login form could not be read.")
		return
	}
	f := loginForm{Login: r.PostForm.Get("login"), Next: safeNext(r.PostForm.Get("next"))}
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || !validToken(c.Value) ||
		subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get(httpx.CSRFField))) != 1 {
		a.log.Info("web: login refused: missing or wrong login CSRF token", "remote", r.RemoteAddr)
		f.Error = "This login form has expired or did not come from this site. Please try again."
		a.renderLogin(w, r, http.StatusForbidden, f)
		return
	}
	r = a.auth.Proxies.WithOrigin(r)
	ip := service.OriginFrom(r.Context()).RemoteIP
	limitKeys := []string{"ip:" + ip, "login:" + strings.ToLower(strings.TrimSpace(f.Login))}
	if wait := a.logins.Wait(limitKeys...); wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		a.log.Warn("web: login throttled", "login", f.Login, "remote", ip, "retry_after_s", secs)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		f.Error = fmt.Sprintf("Too many failed logins. Try again in %s.", (time.Duration(secs) * time.Second).String())
		a.renderLogin(w, r, http.StatusTooManyRequests, f)
		return
	}
	act, err := a.svc.Login(r.Context(), f.Login, r.PostForm.Get("password"))
	switch domain.ErrorCode(err) {
	case domain.EUNAUTHORIZED:
		a.logins.Fail(limitKeys...)
		a.log.Info("web: login failed", "login", f.Login, "remote", ip)
		f.Error = "Invalid login or password"
		a.renderLogin(w, r, http.StatusUnauthorized, f)
		return
	case domain.EFORBIDDEN:
		f.Error = domain.ErrorMessage(err)
		a.renderLogin(w, r, http.StatusForbidden, f)
		return
	}
	if err != nil {
		a.serverError(w, r, nil, "login", err)
		return
	}
	// Only the login's count is cleared: clearing the address's would let
	// one valid account reset the budget for guessing others.
	a.logins.Succeed(limitKeys[1])
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: "", Path: "/login", MaxAge: -1,
		HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteStrictMode})
	if !a.startSession(w, r, act) {
		return
	}
	a.log.Info("web: login", "workspace_id", act.WorkspaceID, "user", act.Login)
	http.Redirect(w, r, orDefault(f.Next, "/dashboard"), http.StatusSeeOther)
}

// startSession logs act in: a new session and its cookie. It reports
// false after answering with an error page.
func (a *app) startSession(w http.ResponseWriter, r *http.Request, act *service.Actor) bool {
	id, sess, err := a.svc.StartSession(r.Context(), act)
	if err != nil {
		a.serverError(w, r, &request{Actor: act}, "start session", err)
		return false
	}
	http.SetCookie(w, &http.Cookie{Name: httpx.SessionCookie, Value: id, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteLaxMode})
	return true
}

// secure reports whether cookies get the Secure flag: when configured, or
// when the browser reached us over HTTPS (directly or via a trusted proxy).
func (a *app) secure(r *http.Request) bool {
	return a.opts.SecureCookies || a.auth.Proxies.IsHTTPS(r)
}

// handleLogout ends the session. The CSRF check keeps other sites from
// logging a user out.
func (a *app) handleLogout(w http.ResponseWriter, r *http.Request, rq *request) {
	if c, err := r.Cookie(httpx.SessionCookie); err == nil {
		if err := a.svc.EndSession(r.Context(), c.Value); err != nil && !isNotFound(err) {
			a.serverError(w, r, rq, "end session", err)
			return
		}
	}
	a.clearSessionCookie(w, r)
	a.log.Info("web: logout", "workspace_id", rq.workspaceID(), "user", rq.Actor.Login)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (a *app) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: httpx.SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteLaxMode})
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
