package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/httpx"
)

func TestLoggedOut(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		r        req
		status   int
		location string
		hxRedir  string
	}{
		{"root goes to the dashboard", req{path: "/"}, http.StatusSeeOther, "/dashboard", ""},
		{"hosts needs login", req{path: "/hosts"}, http.StatusSeeOther, "/login?next=%2Fhosts", ""},
		{"the dashboard, the default after login, is not carried", req{path: "/dashboard"}, http.StatusSeeOther, "/login", ""},
		{"next keeps the path and query", req{path: "/hosts/7?q=ssl"}, http.StatusSeeOther, "/login?next=%2Fhosts%2F7%3Fq%3Dssl", ""},
		{"settings needs login", req{path: "/settings/credentials"}, http.StatusSeeOther, "/login?next=%2Fsettings%2Fcredentials", ""},
		{"unknown session cookie", req{path: "/hosts", sess: session{cookie: "vgs_nope"}}, http.StatusSeeOther, "/login?next=%2Fhosts", ""},
		{"post goes to login without next", req{method: "POST", path: "/hosts", form: url.Values{"name": {"x"}}}, http.StatusSeeOther, "/login", ""},
		{"htmx gets HX-Redirect", req{path: "/hosts/3/packages?q=a", headers: map[string]string{
			"HX-Request": "true", "HX-Current-URL": "http://example.com/hosts/3"}}, http.StatusUnauthorized, "", "/login?next=%2Fhosts%2F3"},
		{"unknown page", req{path: "/nope"}, http.StatusNotFound, "", ""},
		{"login page", req{path: "/login"}, http.StatusOK, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(tt.r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d\n%s", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("Location"); got != tt.location {
				t.Errorf("Location %q, want %q", got, tt.location)
			}
			if got := w.Header().Get("HX-Redirect"); got != tt.hxRedir {
				t.Errorf("HX-Redirect %q, want %q", got, tt.hxRedir)
			}
		})
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/hosts/3?q=a":         "/hosts/3?q=a",
		"/settings":            "/settings",
		"":                     "",
		"hosts":                "",
		"//evil.example":       "",
		"/\\evil.example":      "",
		"https://evil.com/x":   "",
		"/login?next=/hosts":   "",
		"/hosts\r\nSet-Cookie": "",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// loginForm fetches the login page and returns its CSRF cookie and token.
func (e *env) loginToken() (*http.Cookie, string) {
	e.t.Helper()
	w := e.do(req{path: "/login?next=/hosts/1"})
	c := cookieNamed(w, loginCSRFCookie)
	if c == nil {
		e.t.Fatal("login page set no CSRF cookie")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		e.t.Errorf("login CSRF cookie: HttpOnly=%v SameSite=%v, want HttpOnly and Strict", c.HttpOnly, c.SameSite)
	}
	wantContains(e.t, w.Body.String(), `value="`+c.Value+`"`, `name="next" value="/hosts/1"`)
	return c, c.Value
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	e.host("db-01")
	c, tok := e.loginToken()
	tests := []struct {
		name     string
		form     url.Values
		cookies  []*http.Cookie
		status   int
		location string
		body     string
	}{
		{"wrong password", url.Values{"login": {"admin"}, "password": {"nope"}, httpx.CSRFField: {tok}},
			[]*http.Cookie{c}, http.StatusUnauthorized, "", "Invalid login or password"},
		{"unknown user", url.Values{"login": {"root"}, "password": {"nope"}, httpx.CSRFField: {tok}},
			[]*http.Cookie{c}, http.StatusUnauthorized, "", "Invalid login or password"},
		{"no login CSRF cookie", url.Values{"login": {"admin"}, "password": {adminPassword}, httpx.CSRFField: {tok}},
			nil, http.StatusForbidden, "", "expired"},
		{"wrong login CSRF token", url.Values{"login": {"admin"}, "password": {adminPassword}, httpx.CSRFField: {strings.Repeat("A", 43)}},
			[]*http.Cookie{c}, http.StatusForbidden, "", "expired"},
		{"ok with foreign next", url.Values{"login": {"admin"}, "password": {adminPassword}, httpx.CSRFField: {tok}, "next": {"//evil.example/x"}},
			[]*http.Cookie{c}, http.StatusSeeOther, "/dashboard", ""},
		{"ok with next", url.Values{"login": {"admin"}, "password": {adminPassword}, httpx.CSRFField: {tok}, "next": {"/settings/credentials"}},
			[]*http.Cookie{c}, http.StatusSeeOther, "/settings/credentials", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(req{method: "POST", path: "/login", form: tt.form, cookies: tt.cookies})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d\n%s", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("Location"); got != tt.location {
				t.Errorf("Location %q, want %q", got, tt.location)
			}
			wantContains(t, w.Body.String(), tt.body)
			sc := cookieNamed(w, httpx.SessionCookie)
			if tt.status != http.StatusSeeOther {
				if sc != nil {
					t.Errorf("failed login set a session cookie")
				}
				wantNotContains(t, w.Body.String(), adminPassword)
				return
			}
			if sc == nil || sc.Value == "" {
				t.Fatal("no session cookie")
			}
			if !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" {
				t.Errorf("session cookie HttpOnly=%v SameSite=%v Path=%q", sc.HttpOnly, sc.SameSite, sc.Path)
			}
			body := e.get(session{cookie: sc.Value}, "/hosts", http.StatusOK)
			wantContains(t, body, ">db-01</a>", "admin", `<meta name="csrf-token"`, `action="/logout"`)
		})
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	if w := e.do(req{method: "POST", path: "/logout", form: url.Values{}, sess: s}); w.Code != http.StatusForbidden {
		t.Fatalf("logout without CSRF token: status %d, want 403", w.Code)
	}
	w := e.do(req{method: "POST", path: "/logout", form: withCSRF(s, nil), sess: s})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login" {
		t.Fatalf("logout: status %d, Location %q", w.Code, w.Header().Get("Location"))
	}
	if c := cookieNamed(w, httpx.SessionCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout did not clear the session cookie: %+v", c)
	}
	if w := e.do(req{path: "/hosts", sess: s}); w.Code != http.StatusSeeOther {
		t.Errorf("session still valid after logout: status %d", w.Code)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	form := url.Values{"name": {"web-9"}, "address": {"10.1.1.9"}}
	tests := []struct {
		name    string
		form    url.Values
		headers map[string]string
		status  int
	}{
		{"no token", form, nil, http.StatusForbidden},
		{"wrong token", withCSRF(session{csrf: "wrong"}, form), nil, http.StatusForbidden},
		{"another session's token", withCSRF(e.session(e.admin), form), nil, http.StatusForbidden},
		{"token in header", form, map[string]string{httpx.CSRFHeader: s.csrf}, http.StatusSeeOther},
		{"token in form", withCSRF(s, url.Values{"name": {"web-10"}, "address": {"10.1.1.10"}}), nil, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(req{method: "POST", path: "/hosts", form: tt.form, sess: s, headers: tt.headers})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d\n%s", w.Code, tt.status, w.Body)
			}
			if tt.status == http.StatusForbidden {
				wantContains(t, w.Body.String(), "<h1>Request refused</h1>", "security token")
			}
		})
	}
}

func TestSecureCookies(t *testing.T) {
	e := newEnv(t)
	h, err := New(e.svc, nil, Options{SecureCookies: true})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	c, tok := e.loginToken()
	if !c.Secure {
		t.Error("login CSRF cookie not Secure")
	}
	w := e.do(req{method: "POST", path: "/login", cookies: []*http.Cookie{c},
		form: url.Values{"login": {"admin"}, "password": {adminPassword}, httpx.CSRFField: {tok}}})
	if sc := cookieNamed(w, httpx.SessionCookie); sc == nil || !sc.Secure {
		t.Errorf("session cookie not Secure: %+v", sc)
	}
}
