package web

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"github.com/vigil-project/vigil/internal/domain"
)

func TestGroupForms(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := e.seedCompliance()
	gp := "/groups/" + strconv.FormatInt(seed.group.ID, 10)
	otherGP := "/groups/" + strconv.FormatInt(seed.otherGroup.ID, 10)
	tests := []struct {
		name     string
		path     string
		form     url.Values
		status   int
		location *regexp.Regexp
		want     []string
	}{
		{"create", "/groups", url.Values{"name": {"Web"}, "expression": {`hostname.startsWith("web-")`}},
			303, regexp.MustCompile(`^/groups/\d+\?saved=1$`), nil},
		{"create with a syntax error", "/groups", url.Values{"name": {"Broken"}, "expression": {"os.id ==\n  "}},
			400, nil, []string{"Not saved:", "expression: 1:9: Syntax error", "Line 1, column 9:", `aria-invalid="true"`, `value="Broken"`,
				"os.id ==\n        ^</pre>"}},
		{"create with an undeclared name", "/groups", url.Values{"name": {"Typo"}, "expression": {"os.id == \"debian\" &&\n  nosuch"}},
			400, nil, []string{"expression: 2:3: undeclared reference to &#39;nosuch&#39;", "Line 2, column 3:", "  nosuch\n  ^</pre>"}},
		{"create without a name", "/groups", url.Values{"name": {" "}}, 400, nil, []string{"name: required"}},
		{"update", gp, url.Values{"name": {"Debian hosts"}, "description": {"all of them"}, "expression": {`os.family == "debian"`}},
			303, regexp.MustCompile(`^` + gp + `\?saved=1$`), nil},
		{"update with a bad expression", gp, url.Values{"name": {"Debian hosts"}, "expression": {"os.id == 1 +"}},
			400, nil, []string{"Line 1, column", "Assigned checks", "web-01"}},
		{"assign", gp + "/assignments", url.Values{"pack": {"linux-baseline", "linux-baseline"}},
			303, regexp.MustCompile(`^` + gp + `\?saved=assignments#assignments$`), nil},
		{"assign an unknown pack", gp + "/assignments", url.Values{"pack": {"no-such-pack"}},
			400, nil, []string{"Not saved:", `no pack &#34;no-such-pack&#34;`}},
		{"update another workspace's group", otherGP, url.Values{"name": {"mine"}}, 404, nil, nil},
		{"assign to another workspace's group", otherGP + "/assignments", url.Values{}, 404, nil, nil},
		{"delete another workspace's group", otherGP + "/delete", url.Values{}, 404, nil, nil},
		{"no such group", "/groups/999999", url.Values{"name": {"x"}}, 404, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(req{method: "POST", path: tt.path, form: withCSRF(s, tt.form), sess: s})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d\n%s", w.Code, tt.status, w.Body.String())
			}
			if tt.location != nil && !tt.location.MatchString(w.Header().Get("Location")) {
				t.Errorf("Location %q", w.Header().Get("Location"))
			}
			wantContains(t, w.Body.String(), tt.want...)
		})
	}

	g, err := e.svc.Store.GetGroup(context.Background(), e.ws.ID, seed.group.ID)
	if err != nil || g.Name != "Debian hosts" || g.Expression != `os.family == "debian"` {
		t.Fatalf("group after the forms: %+v, %v", g, err)
	}
	body := e.get(s, gp, 200)
	wantContains(t, body, "Debian hosts", "all of them", fmt.Sprintf(`<a href="/hosts/%d#compliance">web-01</a>`, seed.web1.ID),
		`name="pack" value="linux-baseline" checked`, "os.version_id", "Score of this group's hosts", `href="/compliance?group_id=`)
	wantNotContains(t, body, "secret-host")
	list := e.get(s, "/groups", 200)
	wantContains(t, list, "Debian hosts", "Web", `<span class="mono">linux-baseline</span>`)
	wantNotContains(t, list, "Secret group")
	e.get(s, otherGP, http.StatusNotFound)

	// A form without the session's CSRF token is refused.
	if w := e.do(req{method: "POST", path: gp + "/delete", form: url.Values{}, sess: s}); w.Code != http.StatusForbidden {
		t.Fatalf("delete without a CSRF token: status %d", w.Code)
	}
	// Deleting goes back to the list, and the group is gone.
	w := e.do(req{method: "POST", path: gp + "/delete", form: withCSRF(s, nil), sess: s})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/groups?deleted=1" {
		t.Fatalf("delete: %d %q", w.Code, w.Header().Get("Location"))
	}
	wantContains(t, e.get(s, "/groups?deleted=1", 200), "Group deleted.")
	e.get(s, gp, http.StatusNotFound)
	if _, err := e.svc.Store.GetGroup(context.Background(), seed.otherGroup.WorkspaceID, seed.otherGroup.ID); err != nil {
		t.Errorf("the other workspace's group: %v", err)
	}
}

func TestViewerIsReadOnly(t *testing.T) {
	e := newEnv(t)
	seed := e.seedCompliance()
	v := e.session(e.user(domain.RoleViewer))
	gp := "/groups/" + strconv.FormatInt(seed.group.ID, 10)
	hp := "/hosts/" + strconv.FormatInt(seed.web1.ID, 10)

	body := e.get(v, "/groups", 200)
	wantContains(t, body, "Debian servers", "can view groups but not change them")
	wantNotContains(t, body, `action="/groups"`)
	body = e.get(v, gp, 200)
	wantContains(t, body, "disabled", "linux-baseline")
	wantNotContains(t, body, "Save assignments", "Save group", "Delete this group")
	body = e.get(v, hp, 200)
	wantContains(t, body, "can view labels but not change them")
	wantNotContains(t, body, `/labels"`)

	for _, tt := range []struct {
		path string
		form url.Values
	}{
		{"/groups", url.Values{"name": {"x"}}},
		{gp, url.Values{"name": {"x"}}},
		{gp + "/delete", nil},
		{gp + "/assignments", url.Values{"pack": {"linux-baseline"}}},
		{hp + "/labels", url.Values{"labels": {"environment=prod"}}},
	} {
		t.Run(tt.path, func(t *testing.T) {
			w := e.do(req{method: "POST", path: tt.path, form: withCSRF(v, tt.form), sess: v})
			if w.Code != http.StatusForbidden {
				t.Fatalf("status %d, want 403", w.Code)
			}
			wantContains(t, w.Body.String(), "Read-only access")
		})
	}
	if _, err := e.svc.Store.GetGroup(context.Background(), e.ws.ID, seed.group.ID); err != nil {
		t.Errorf("the viewer's delete went through: %v", err)
	}
}

func TestHostLabelsForm(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := e.seedCompliance()
	h, other := seed.web1, seed.otherHost
	path := "/hosts/" + strconv.FormatInt(h.ID, 10) + "/labels"
	tests := []struct {
		name   string
		path   string
		text   string
		status int
		want   []string
		labels map[string]string // stored afterwards; nil: unchanged
	}{
		{"set", path, "environment=prod\r\n\r\n# comment\r\nteam = web ops\r\n", 303, nil,
			map[string]string{"environment": "prod", "team": "web ops"}},
		{"bad key", path, "environment=prod\nBad Key=x", 400, []string{"Labels not saved:", "keys are lower-case letters", "Bad Key=x"}, nil},
		{"no equals sign", path, "environment", 400, []string{"line 1: write key=value"}, nil},
		{"twice", path, "a=1\na=2", 400, []string{"line 2: label &#34;a&#34; is given twice"}, nil},
		{"clear", path, "", 303, nil, map[string]string{}},
		{"another workspace's host", "/hosts/" + strconv.FormatInt(other.ID, 10) + "/labels", "x=y", 404, nil, nil},
	}
	want := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(req{method: "POST", path: tt.path, form: withCSRF(s, url.Values{"labels": {tt.text}}), sess: s})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d\n%s", w.Code, tt.status, w.Body.String())
			}
			if tt.status == 303 {
				if loc := w.Header().Get("Location"); loc != fmt.Sprintf("/hosts/%d?labels=saved#compliance", h.ID) {
					t.Errorf("Location %q", loc)
				}
			}
			wantContains(t, w.Body.String(), tt.want...)
			if tt.labels != nil {
				want = tt.labels
			}
			got, err := e.svc.Store.HostLabels(context.Background(), e.ws.ID, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) || !maps.Equal(got, want) {
				t.Errorf("labels %v, want %v", got, want)
			}
		})
	}
	if got, _ := e.svc.Store.HostLabels(context.Background(), other.WorkspaceID, other.ID); len(got) != 0 {
		t.Errorf("another workspace's host got labels %v", got)
	}
	e.do(req{method: "POST", path: path, form: withCSRF(s, url.Values{"labels": {"role=db"}}), sess: s})
	body := e.get(s, "/hosts/"+strconv.FormatInt(h.ID, 10)+"?labels=saved", 200)
	wantContains(t, body, "Labels saved.", `<span class="mono">role</span>=<span class="mono">db</span>`, ">role=db</textarea>")
}
