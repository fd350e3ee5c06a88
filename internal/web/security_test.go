package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/store"
)

// loginVia posts the login form from remote (with extra headers) and
// returns the response; it fetches the login CSRF token first.
func loginVia(t *testing.T, h http.Handler, remote string, hdr map[string]string, login, pw string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", "/login", nil)
	r.RemoteAddr = remote
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var c *http.Cookie
	for _, x := range w.Result().Cookies() {
		if x.Name == loginCSRFCookie {
			c = x
		}
	}
	if c == nil {
		t.Fatal("no login CSRF cookie")
	}
	form := url.Values{"login": {login}, "password": {pw}, httpx.CSRFField: {c.Value}}
	r = httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = remote
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	r.AddCookie(c)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t)
	const attacker, other = "203.0.113.9:4000", "198.51.100.20:4000"
	for i := range 5 {
		if w := loginVia(t, e.h, attacker, nil, "admin", "guess-"+string(rune('a'+i))); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, w.Code)
		}
	}
	// Blocked now, even with the right password, and for other logins
	// from the same address.
	w := loginVia(t, e.h, attacker, nil, "admin", adminPassword)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "60" ||
		!strings.Contains(w.Body.String(), "Too many failed logins") {
		t.Fatalf("6th attempt: %d Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	if w := loginVia(t, e.h, attacker, nil, "someone", "x"); w.Code != http.StatusTooManyRequests {
		t.Errorf("another login from the attacking address: %d", w.Code)
	}
	// The login itself is blocked from any address: a botnet cannot spread
	// its guesses for one account.
	if w := loginVia(t, e.h, other, nil, "admin", adminPassword); w.Code != http.StatusTooManyRequests {
		t.Errorf("admin from another address during the block: %d", w.Code)
	}
	// Another user from another address is not affected.
	v := e.user("viewer")
	if w := loginVia(t, e.h, other, nil, v.Login, "wrong"); w.Code != http.StatusUnauthorized {
		t.Errorf("unrelated login: %d", w.Code)
	}
	if !strings.Contains(e.logs.String(), "login throttled") {
		t.Error("throttling not logged")
	}
}

func TestCookiesBehindProxy(t *testing.T) {
	e := newEnv(t)
	proxied, err := New(e.svc, nil, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	https := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7", "User-Agent": "TestBrowser/1.0"}
	tests := []struct {
		name       string
		h          http.Handler
		remote     string
		hdr        map[string]string
		wantSecure bool
	}{
		{"plain HTTP", e.h, "192.0.2.1:1234", nil, false},
		{"forged header from a client", proxied, "203.0.113.9:1234", https, false},
		{"header from the trusted proxy", proxied, "10.1.2.3:1234", https, true},
		{"trusted proxy, plain HTTP", proxied, "10.1.2.3:1234", map[string]string{"X-Forwarded-Proto": "http"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := loginVia(t, tt.h, tt.remote, tt.hdr, "admin", adminPassword)
			if w.Code != http.StatusSeeOther {
				t.Fatalf("login: %d", w.Code)
			}
			var sess *http.Cookie
			for _, c := range w.Result().Cookies() {
				if c.Secure != tt.wantSecure {
					t.Errorf("cookie %s: Secure=%v, want %v", c.Name, c.Secure, tt.wantSecure)
				}
				if !c.HttpOnly {
					t.Errorf("cookie %s is not HttpOnly", c.Name)
				}
				if c.Name == httpx.SessionCookie {
					sess = c
				}
			}
			if sess == nil || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" {
				t.Fatalf("session cookie %+v", sess)
			}
		})
	}
	// Behind the trusted proxy the audit log and the session list name the
	// client, not the proxy; a forged header names the real peer.
	entries, _, err := e.svc.ListAudit(context.Background(), e.admin, store.AuditFilter{Action: "session.login"})
	if err != nil {
		t.Fatal(err)
	}
	var ips []string
	for _, en := range entries {
		ips = append(ips, en.RemoteIP)
	}
	if got := strings.Join(ips, " "); got != "10.1.2.3 198.51.100.7 203.0.113.9 192.0.2.1" {
		t.Errorf("audited login addresses (newest first) = %s", got)
	}
	sessions, _ := e.svc.ListSessions(context.Background(), e.admin)
	found := false
	for _, s := range sessions {
		if s.RemoteIP == "198.51.100.7" && s.UserAgent == "TestBrowser/1.0" {
			found = true
		}
	}
	if !found {
		t.Errorf("no session from 198.51.100.7 with its browser in %+v", sessions)
	}
}

// TestPasswordChangeLimited: guessing the current password on the account
// page counts as failed logins.
func TestPasswordChangeLimited(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	for i := range 5 {
		w := e.do(req{method: "POST", path: "/account/password", sess: s, form: withCSRF(s, url.Values{
			"current_password": {"guess"}, "new_password": {"a-new-long-password"}, "new_password2": {"a-new-long-password"}})})
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "wrong password") {
			t.Fatalf("guess %d: %d", i+1, w.Code)
		}
	}
	w := e.do(req{method: "POST", path: "/account/password", sess: s, form: withCSRF(s, url.Values{
		"current_password": {adminPassword}, "new_password": {"a-new-long-password"}, "new_password2": {"a-new-long-password"}})})
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("after 5 wrong guesses: %d", w.Code)
	}
	// The login is blocked as well.
	if w := loginVia(t, e.h, "192.0.2.50:1", nil, "admin", adminPassword); w.Code != http.StatusTooManyRequests {
		t.Errorf("login after the guesses: %d", w.Code)
	}
}
