package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
)

func TestSectionOf(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "/hosts",
		"/hosts/12":                      "/hosts",
		"/hosts?q=web":                   "/hosts",
		"/vulnerabilities/CVE-2024-1":    "/vulnerabilities",
		"/settings/credentials":          "/settings/credentials",
		"/settings/channels/4":           "/settings/channels",
		"/compliance/checks/x":           "/compliance",
		"/groups/3":                      "/groups",
		"/invite/vgi_x":                  "/hosts",
		"//evil.example/x":               "/hosts",
		"https://evil.example/":          "/hosts",
		"/settings/members?done=removed": "/settings/members",
	} {
		if got := sectionOf(in); got != want {
			t.Errorf("sectionOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMembersPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.session(e.admin)
	op := e.user(domain.RoleOperator)
	post := func(sess session, path string, form url.Values) (int, string) {
		w := e.do(req{method: "POST", path: path, sess: sess, form: withCSRF(sess, form)})
		return w.Code, w.Body.String()
	}
	uid := strconv.FormatInt(op.UserID, 10)

	body := e.get(s, "/settings/members", http.StatusOK)
	wantContains(t, body, "Members of Default", op.Login, `action="/settings/members/`+uid+`/role"`, `name="csrf_token"`)

	if code, _ := post(s, "/settings/members/"+uid+"/role", url.Values{"role": {"viewer"}}); code != http.StatusSeeOther {
		t.Fatalf("change role: %d", code)
	}
	if m, _ := e.svc.Store.GetMembership(ctx, e.ws.ID, op.UserID); m.Role != domain.RoleViewer {
		t.Errorf("role = %q", m.Role)
	}
	code, body := post(s, "/settings/members/"+strconv.FormatInt(e.admin.UserID, 10)+"/role", url.Values{"role": {"viewer"}})
	if code != http.StatusConflict {
		t.Errorf("demote last admin: %d", code)
	}
	wantContains(t, body, "last admin")
	if code, _ := post(s, "/settings/members/999999/remove", nil); code != http.StatusNotFound {
		t.Errorf("remove unknown: %d", code)
	}
	code, body = post(s, "/workspaces", url.Values{"name": {"Client B"}, "slug": {"Bad Slug!"}})
	if code != http.StatusBadRequest {
		t.Errorf("bad slug: %d", code)
	}
	wantContains(t, body, "slug: lower-case")
	if code, _ := post(s, "/workspaces", url.Values{"name": {"Client B"}}); code != http.StatusSeeOther {
		t.Errorf("create workspace: %d", code)
	}
	if code, _ := post(s, "/workspaces", url.Values{"name": {"Client B"}}); code != http.StatusConflict {
		t.Errorf("duplicate workspace: %d", code)
	}
	ws, _ := e.svc.MyWorkspaces(ctx, e.admin) // by name: Client B, Default
	if len(ws) != 2 || ws[0].Workspace.Slug != "client-b" || ws[0].Role != domain.RoleAdmin {
		t.Fatalf("workspaces %+v", ws)
	}
	clientB := strconv.FormatInt(ws[0].Workspace.ID, 10)

	// Switching: to one's own workspace, not to another's.
	v := e.session(op) // op is a viewer now, and only in Default
	if code, _ := post(v, "/workspace/switch", url.Values{"workspace_id": {clientB}, "next": {"/hosts/1"}}); code != http.StatusNotFound {
		t.Errorf("viewer switched into a foreign workspace: %d", code)
	}
	w := e.do(req{method: "POST", path: "/workspace/switch", sess: s, form: withCSRF(s, url.Values{
		"workspace_id": {clientB}, "next": {"/hosts/1"}})})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/hosts" {
		t.Fatalf("switch: %d %q", w.Code, w.Header().Get("Location"))
	}
	body = e.get(s, "/hosts", http.StatusOK)
	wantContains(t, body, `selected>Client B (admin)</option>`)

	if code, _ := post(s, "/settings/members/"+uid+"/remove", nil); code != http.StatusNotFound {
		t.Errorf("removing a member of Default while in Client B: %d", code)
	}
	// Back in Default, the removal works and ends the member's session.
	post(s, "/workspace/switch", url.Values{"workspace_id": {strconv.FormatInt(e.ws.ID, 10)}})
	if code, _ := post(s, "/settings/members/"+uid+"/remove", nil); code != http.StatusSeeOther {
		t.Errorf("remove: %d", code)
	}
	if w := e.do(req{path: "/hosts", sess: v}); w.Code != http.StatusSeeOther {
		t.Errorf("removed member's session still works: %d", w.Code)
	}
	// Non-admins are refused the page and its actions.
	o := e.session(e.user(domain.RoleOperator))
	e.get(o, "/settings/members", http.StatusForbidden)
	if code, _ := post(o, "/settings/invitations", url.Values{"role": {"admin"}}); code != http.StatusForbidden {
		t.Errorf("operator invites: %d", code)
	}
}

// TestSwitchTargetsExist: switching workspace from any page lands on a
// page that exists (not the catch-all "not found").
func TestSwitchTargetsExist(t *testing.T) {
	e := newEnv(t)
	mux, ok := e.h.(*httpx.Mux)
	if !ok {
		t.Fatalf("web handler is %T", e.h)
	}
	s := e.session(e.admin)
	param := regexp.MustCompile(`\{[a-z]+(\.\.\.)?\}`)
	n := 0
	for _, p := range mux.Patterns() {
		path, found := strings.CutPrefix(p, "GET ")
		if !found || strings.HasPrefix(path, "/static/") {
			continue
		}
		path = param.ReplaceAllString(strings.TrimSuffix(path, "{$}"), "1")
		w := e.do(req{method: "POST", path: "/workspace/switch", sess: s, form: withCSRF(s, url.Values{
			"workspace_id": {strconv.FormatInt(e.ws.ID, 10)}, "next": {path}})})
		target := w.Header().Get("Location")
		if w.Code != http.StatusSeeOther {
			t.Fatalf("switch from %s: %d", path, w.Code)
		}
		if _, pattern := mux.Handler(httptest.NewRequest("GET", target, nil)); pattern == "/" || pattern == "" {
			t.Errorf("switching from %s goes to %s, which is no page", path, target)
		}
		n++
	}
	if n < 20 {
		t.Errorf("only %d pages checked", n)
	}
}
