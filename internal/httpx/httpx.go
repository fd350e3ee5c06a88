// Package httpx is the HTTP plumbing the REST API and the web app share:
// the one place where domain error codes become status codes, JSON replies,
// user authentication (API token or session cookie) and CSRF checks.
package httpx

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/service"
)

// Cookie and header names.
const (
	SessionCookie = "vigil_session"
	CSRFHeader    = "X-CSRF-Token"
	CSRFField     = "csrf_token"
	// WorkspaceHeader picks the workspace of an API request among the
	// caller's memberships; without it a token acts in its own workspace
	// and a session in the one last switched to.
	WorkspaceHeader = "X-Vigil-Workspace"
)

// StatusFor maps a domain error code to an HTTP status code.
func StatusFor(err error) int {
	switch domain.ErrorCode(err) {
	case domain.EINVALID:
		return http.StatusBadRequest
	case domain.ENOTFOUND:
		return http.StatusNotFound
	case domain.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case domain.EFORBIDDEN:
		return http.StatusForbidden
	case domain.ECONFLICT:
		return http.StatusConflict
	case domain.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusInternalServerError
	}
}

// ErrorBody is the JSON shape of every API error.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail holds the code and message of an API error.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteError writes err as a JSON error and logs internal errors in full
// (the client only sees "internal error").
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status := StatusFor(err)
	if status >= 500 {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		log.Info("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", domain.ErrorMessage(err))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
	}
	WriteJSON(w, status, ErrorBody{Error: ErrorDetail{Code: domain.ErrorCode(err), Message: domain.ErrorMessage(err)}})
}

// WriteJSON writes v with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

type ctxKey int

const actorKey ctxKey = iota

// WithActor stores the authenticated actor in the context.
func WithActor(ctx context.Context, a *service.Actor) context.Context {
	return context.WithValue(ctx, actorKey, a)
}

// ActorFrom returns the authenticated actor, or nil.
func ActorFrom(ctx context.Context) *service.Actor {
	a, _ := ctx.Value(actorKey).(*service.Actor)
	return a
}

// BearerToken returns the token of an "Authorization: Bearer" header.
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// Authenticator resolves users from API tokens or session cookies.
type Authenticator struct {
	Svc *service.Service
	Log *slog.Logger
	// Proxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed.
	Proxies Proxies
}

// Authenticate returns the actor of the request and, for cookie sessions,
// checks the CSRF token on every state-changing method. Token-authenticated
// requests need no CSRF token: a browser never attaches them by itself.
func (a *Authenticator) Authenticate(r *http.Request) (*service.Actor, *domain.Session, error) {
	act, sess, err := a.authenticate(r)
	if err != nil {
		return nil, nil, err
	}
	if h := strings.TrimSpace(r.Header.Get(WorkspaceHeader)); h != "" {
		id, perr := strconv.ParseInt(h, 10, 64)
		if perr != nil || id <= 0 {
			return nil, nil, domain.Errorf(domain.EINVALID, "%s: must be a workspace ID", WorkspaceHeader)
		}
		if id != act.WorkspaceID {
			// Not a member reads as "no such workspace": IDs of other
			// tenants are not confirmed.
			if act, err = a.Svc.ActorIn(r.Context(), act.UserID, id); err != nil {
				return nil, nil, err
			}
		}
	}
	return act, sess, nil
}

func (a *Authenticator) authenticate(r *http.Request) (*service.Actor, *domain.Session, error) {
	if tok := BearerToken(r); tok != "" {
		act, err := a.Svc.AuthenticateToken(r.Context(), tok)
		return act, nil, err
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil, nil, domain.Errorf(domain.EUNAUTHORIZED, "authentication required: send an API token as 'Authorization: Bearer vgt_...' or log in")
	}
	act, sess, err := a.Svc.SessionActor(r.Context(), c.Value)
	if err != nil {
		return nil, nil, err
	}
	if !SafeMethod(r.Method) {
		got := r.Header.Get(CSRFHeader)
		if got == "" {
			got = r.PostFormValue(CSRFField)
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) != 1 {
			return nil, nil, domain.Errorf(domain.EFORBIDDEN, "missing or wrong CSRF token")
		}
	}
	return act, sess, nil
}

// RequireUser is middleware for the REST API: it answers 401/403 in JSON.
func (a *Authenticator) RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = a.Proxies.WithOrigin(r)
		act, _, err := a.Authenticate(r)
		if err != nil {
			WriteError(w, r, a.Log, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithActor(r.Context(), act)))
	})
}

// SafeMethod reports whether the method must not change state.
func SafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
