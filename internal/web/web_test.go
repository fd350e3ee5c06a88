package web

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// failingStore breaks ListHosts, as a database outage would.
type failingStore struct{ store.Store }

func (failingStore) ListHosts(context.Context, int64, store.HostFilter) ([]domain.Host, error) {
	return nil, errors.New("database is on fire")
}

// HostTable is what the hosts page reads.
func (failingStore) HostTable(context.Context, int64, store.HostTableFilter) ([]store.HostTableRow, int, error) {
	return nil, 0, errors.New("database is on fire")
}

func TestServerError(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	e.svc.Store = failingStore{e.svc.Store}
	body := e.get(s, "/hosts", http.StatusInternalServerError)
	wantContains(t, body, "Something went wrong", "The error has been logged")
	wantNotContains(t, body, "on fire")
	logs := e.logs.String()
	wantContains(t, logs, "database is on fire", "workspace_id="+strconv.FormatInt(e.ws.ID, 10), "path=/hosts")
}

func TestStaticAssets(t *testing.T) {
	e := newEnv(t)
	body := e.get(session{}, "/login", http.StatusOK)
	urls := regexp.MustCompile(`/static/[a-z.]+\?v=[0-9a-f]{16}`).FindAllString(body, -1)
	if len(urls) != 4 {
		t.Fatalf("asset URLs %q, want app.css, dash.css, htmx.min.js and app.js", urls)
	}
	for _, u := range urls {
		w := e.do(req{path: u})
		if w.Code != http.StatusOK || w.Body.Len() == 0 {
			t.Fatalf("GET %s: status %d", u, w.Code)
		}
		if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control %q", u, cc)
		}
		if ct := w.Header().Get("Content-Type"); !strings.Contains(ct, "css") && !strings.Contains(ct, "javascript") {
			t.Errorf("GET %s: Content-Type %q", u, ct)
		}
		stale := e.do(req{path: strings.Split(u, "?")[0] + "?v=0000"})
		if cc := stale.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("old version of %s: Cache-Control %q, want no-cache", u, cc)
		}
	}
	if w := e.do(req{path: "/static/nope.js"}); w.Code != http.StatusNotFound {
		t.Errorf("unknown asset: status %d", w.Code)
	}
	if w := e.do(req{path: "/static/htmx.LICENSE"}); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "BSD") {
		t.Errorf("htmx licence: status %d", w.Code)
	}
}

// TestNoInlineCode checks that pages keep to the server's CSP: no inline
// scripts, style elements or attributes, and no inline event handlers.
func TestNoInlineCode(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	h := e.host("web-01")
	pages := []string{e.get(session{}, "/login", http.StatusOK), e.get(s, "/hosts", http.StatusOK),
		e.get(s, "/hosts/new", http.StatusOK), e.get(s, "/settings/credentials", http.StatusOK),
		e.get(s, "/hosts/"+strconv.FormatInt(h.ID, 10), http.StatusOK), e.get(s, "/nope", http.StatusNotFound)}
	bad := regexp.MustCompile(`(?i)<script(\s[^>]*)?>[^<]|<style|\sstyle=|\son[a-z]+=|hx-on`)
	for i, p := range pages {
		if m := bad.FindString(p); m != "" {
			t.Errorf("page %d has inline code: %q", i, m)
		}
		wantContains(t, p, `<html lang="en">`, `class="skip-link" href="#main"`, `<main id="main"`)
	}
}
