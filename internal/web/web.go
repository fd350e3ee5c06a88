// Package web is the server-rendered web app people log into: the hosts
// list, one host's properties, packages and scan history, and the workspace
// default credentials. Pages are html/template, progressively enhanced with
// htmx; templates and static assets are embedded in the binary.
//
// It also lists the workspace's vulnerabilities and their findings, and
// lets operators mark findings as accepted risk or false positive; and it
// shows compliance: scores, check results per check and per host, the
// groups checks are assigned to, and host labels.
//
// The app calls the service layer for everything and httpx for
// authentication (session cookie + CSRF token), so the rules about who may
// do what live in one place.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/service"
)

// Options tunes the web app.
type Options struct {
	// SecureCookies sets the Secure flag on cookies: use it when the app is
	// served over TLS (directly or behind a TLS-terminating proxy).
	SecureCookies bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (client IP in the audit log; Secure
	// cookies when the proxy says the browser used HTTPS).
	TrustedProxies []netip.Prefix
}

// maxFormBytes bounds a form body; a private key is a few kilobytes.
const maxFormBytes = 256 << 10

type app struct {
	svc    *service.Service
	log    *slog.Logger
	auth   *httpx.Authenticator
	opts   Options
	tmpl   *templates
	assets *assets
	logins *httpx.LoginLimiter
	mux    *httpx.Mux // the app's routes, to tell a page from a miss
}

// New returns the web app's handler, to be mounted at "/".
func New(svc *service.Service, log *slog.Logger, opts Options) (http.Handler, error) {
	if svc == nil {
		return nil, errors.New("web: nil service")
	}
	if log == nil {
		log = slog.Default()
	}
	as, err := loadAssets()
	if err != nil {
		return nil, err
	}
	t, err := loadTemplates(as)
	if err != nil {
		return nil, err
	}
	a := &app{svc: svc, log: log, auth: &httpx.Authenticator{Svc: svc, Log: log, Proxies: opts.TrustedProxies},
		opts: opts, tmpl: t, assets: as, logins: httpx.NewLoginLimiter()}
	// Scheduled e-mail reports are the printable report's template, so the
	// service renders them through the web app.
	svc.RenderReport = a.renderReportMail
	return a.routes(), nil
}

// routes registers every page on an httpx.Mux, which records the patterns
// for the route-permission test (see internal/server/server.go).
func (a *app) routes() http.Handler {
	m := httpx.NewMux()
	a.mux = m
	m.HandleFunc("GET /static/{file...}", a.handleStatic)

	m.HandleFunc("GET /login", a.handleLoginForm)
	m.HandleFunc("POST /login", a.handleLogin)
	m.Handle("POST /logout", a.user(a.handleLogout))

	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
	})
	a.dashboardRoutes(m)
	m.Handle("GET /hosts", a.user(a.handleHosts))
	m.Handle("GET /hosts/new", a.user(a.handleNewHost))
	m.Handle("POST /hosts", a.user(a.handleCreateHost))
	m.Handle("GET /hosts/{id}", a.user(a.handleHost))
	m.Handle("GET /hosts/{id}/packages", a.user(a.handleHostPackages))
	m.Handle("GET /hosts/{id}/connection", a.user(a.handleHostConnection))
	m.Handle("POST /hosts/{id}/connection", a.user(a.handleSaveHostConnection))
	m.Handle("GET /vulnerabilities", a.user(a.handleVulns))
	m.Handle("GET /vulnerabilities/export", a.user(a.handleExport))
	m.Handle("GET /vulnerabilities/{id}", a.user(a.handleVuln))
	m.Handle("GET /findings/{id}/mark", a.user(a.handleMarkForm))
	m.Handle("POST /findings/{id}/mark", a.user(a.handleMark))
	m.Handle("POST /hosts/{id}/labels", a.user(a.handleSetLabels))
	m.Handle("GET /compliance", a.user(a.handleCompliance))
	m.Handle("GET /compliance/checks/new", a.user(a.handleNewCheck))
	m.Handle("POST /compliance/checks", a.user(a.handleSaveCheck))
	m.Handle("GET /compliance/checks/{id}", a.user(a.handleCheck))
	m.Handle("GET /compliance/checks/{id}/edit", a.user(a.handleEditCheck))
	m.Handle("POST /compliance/checks/{id}/delete", a.user(a.handleDeleteCheck))
	m.Handle("GET /groups", a.user(a.handleGroups))
	m.Handle("POST /groups", a.user(a.handleCreateGroup))
	m.Handle("GET /groups/{id}", a.user(a.handleGroup))
	m.Handle("POST /groups/{id}", a.user(a.handleUpdateGroup))
	m.Handle("POST /groups/{id}/delete", a.user(a.handleDeleteGroup))
	m.Handle("POST /groups/{id}/assignments", a.user(a.handleSetAssignments))
	m.Handle("GET /settings", http.RedirectHandler("/settings/credentials", http.StatusSeeOther))
	m.Handle("GET /settings/credentials", a.user(a.handleCredentials))
	m.Handle("POST /settings/credentials/default", a.user(a.handleSetDefaultCredential))

	// Workspaces, members, the caller's account, the audit log.
	m.Handle("POST /workspace/switch", a.user(a.handleSwitchWorkspace))
	m.Handle("POST /workspaces", a.user(a.handleCreateWorkspace))
	m.Handle("GET /settings/members", a.user(a.handleMembers))
	m.Handle("POST /settings/members/{id}/role", a.user(a.handleSetMemberRole))
	m.Handle("POST /settings/members/{id}/remove", a.user(a.handleRemoveMember))
	m.Handle("POST /settings/invitations", a.user(a.handleInvite))
	m.Handle("POST /settings/invitations/{id}/revoke", a.user(a.handleRevokeInvitation))
	m.HandleFunc("GET /invite/{token}", a.handleInvitation)
	m.HandleFunc("POST /invite/{token}", a.handleAcceptInvitation)
	m.Handle("GET /account", a.user(a.handleAccount))
	m.Handle("POST /account/password", a.user(a.handleChangePassword))
	m.Handle("POST /account/sessions/{key}/revoke", a.user(a.handleRevokeSession))
	m.Handle("POST /account/tokens", a.user(a.handleCreateToken))
	m.Handle("POST /account/tokens/{id}/revoke", a.user(a.handleRevokeToken))
	m.Handle("GET /audit", a.user(a.handleAudit))
	m.Handle("GET /sap", http.RedirectHandler("/sap/notes", http.StatusSeeOther))
	m.Handle("GET /sap/systems", a.user(a.handleSAPSystems))
	m.Handle("GET /sap/notes", a.user(a.handleSAPNotes))
	m.Handle("POST /sap/notes/{note}/{action}", a.user(a.handleSAPNoteAction))
	m.Handle("GET /settings/sap", a.user(a.handleSAPSettings))
	m.Handle("POST /settings/sap", a.user(a.handleSAPSettings))
	m.Handle("POST /settings/sap/db-logins", a.user(a.handleCreateSAPDBLogin))
	m.Handle("POST /settings/sap/db-logins/{id}/delete", a.user(a.handleDeleteSAPDBLogin))
	a.riskRoutes(m)
	a.alertRoutes(m)

	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.renderError(w, r, nil, http.StatusNotFound, "Page not found", "There is no page at this address.")
	})
	return m
}

// request is what a handler behind a.user knows about the caller.
type request struct {
	Actor *service.Actor
	// CSRF is the session's token, for forms and the htmx header. Empty
	// for API-token requests, which need none.
	CSRF string
	// Session is the browser session (nil for API tokens).
	Session *domain.Session
	// Workspaces are the caller's workspaces, for the header's switcher;
	// loaded for full page views only.
	Workspaces []domain.WorkspaceRole
	// Path is the request's path and query, where the switcher returns to.
	Path string
	// SAP says the workspace has SAP in scope: the navigation then shows
	// the SAP pages (sap_handlers.go).
	SAP bool
}

// CanWrite reports whether the caller may change hosts and credentials.
func (rq *request) CanWrite() bool {
	return rq != nil && rq.Actor != nil && domain.CanWrite(rq.Actor.Role)
}

// Can reports whether the caller's role holds a permission (domain.Perm*
// names: "policy", "members", "audit" ...), for templates and handlers.
func (rq *request) Can(p domain.Permission) bool {
	return rq != nil && rq.Actor != nil && domain.Can(rq.Actor.Role, p)
}

type userHandler func(w http.ResponseWriter, r *http.Request, rq *request)

// user authenticates the request: logged-out page views go to the login
// page, a failed CSRF check is a readable 403 page.
func (a *app) user(h userHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !httpx.SafeMethod(r.Method) {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				if isTooLarge(err) {
					a.renderError(w, r, nil, http.StatusRequestEntityTooLarge, "Form too large", "The submitted form is larger than this server accepts.")
				} else {
					a.renderError(w, r, nil, http.StatusBadRequest, "Bad request", "The submitted form could not be read.")
				}
				return
			}
		}
		r = a.auth.Proxies.WithOrigin(r)
		act, sess, err := a.auth.Authenticate(r)
		if err != nil {
			switch domain.ErrorCode(err) {
			case domain.EUNAUTHORIZED:
				a.toLogin(w, r)
			case domain.EFORBIDDEN:
				a.log.Info("web: request refused", "method", r.Method, "path", r.URL.Path, "err", domain.ErrorMessage(err))
				a.renderError(w, r, nil, http.StatusForbidden, "Request refused",
					"This form was not accepted because its security token is missing or out of date. "+
						"Go back, reload the page and try again.")
			default:
				a.serverError(w, r, nil, "authenticate", err)
			}
			return
		}
		rq := &request{Actor: act, Path: r.URL.RequestURI()}
		if sess != nil {
			rq.CSRF = sess.CSRFToken
			rq.Session = sess
		}
		if r.Method == http.MethodGet && r.Header.Get("HX-Request") != "true" {
			a.loadWorkspaces(r, rq) // for the header's workspace switcher
			a.loadSAPScope(r, rq)
		}
		h(w, r, rq)
	})
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// toLogin sends a logged-out visitor to the login page, remembering where
// they were going. htmx requests get HX-Redirect, so that the login page is
// not swapped into a table.
func (a *app) toLogin(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(httpx.SessionCookie); err == nil {
		a.clearSessionCookie(w, r) // expired or unknown: drop it
	}
	next := r.URL.RequestURI()
	if r.Header.Get("HX-Request") == "true" {
		if cur, err := url.Parse(r.Header.Get("HX-Current-URL")); err == nil {
			next = cur.RequestURI()
		}
		w.Header().Set("HX-Redirect", loginURL(next))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if !httpx.SafeMethod(r.Method) {
		next = "" // do not come back to a POST target
	}
	http.Redirect(w, r, loginURL(next), http.StatusSeeOther)
}

func loginURL(next string) string {
	if next = safeNext(next); next == "" || next == "/dashboard" || next == "/" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}

// safeNext returns next when it is a path on this site, else "". It refuses
// scheme-relative ("//evil") and backslash tricks browsers treat as such.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	if p := u.Path; p == "/login" || p == "/logout" || strings.HasPrefix(p, "/static/") {
		return ""
	}
	return next
}

// workspaceID returns the caller's workspace for log lines, or 0.
func (rq *request) workspaceID() int64 {
	if rq == nil || rq.Actor == nil {
		return 0
	}
	return rq.Actor.WorkspaceID
}

// isNotFound reports whether err is a domain "not found".
func isNotFound(err error) bool { return domain.ErrorCode(err) == domain.ENOTFOUND }

// ctxDone reports whether the client went away, so that a cancelled request
// is not logged as a server failure.
func ctxDone(ctx context.Context) bool { return ctx.Err() != nil }
