package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/compliance"
)

// draftForm is a builder-mode check with two rules on sshd settings;
// set overrides fields (an empty value removes one).
func draftForm(set url.Values) url.Values {
	f := url.Values{"id": {"my-ssh"}, "title": {"My sshd check"}, "severity": {"high"}, "platform": {"linux", "debian"},
		"needs": {"probe:sshd"}, "mode": {"builder"}, "op": {"and"},
		"rule_property": {"items.probe:sshd.settings.permitrootlogin", "items.probe:sshd.settings.passwordauthentication"},
		"rule_operator": {"eq", "ne"}, "rule_value": {"no", "yes"}, "rule_scheme": {"", ""}}
	for k, v := range set {
		if len(v) == 1 && v[0] == "" {
			delete(f, k)
		} else {
			f[k] = v
		}
	}
	return f
}

func TestCheckEditorForms(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := e.seedCompliance()
	web1 := strconv.FormatInt(seed.web1.ID, 10)
	wantCEL, err := (compliance.RuleGroup{Op: "and", Rules: []compliance.Rule{
		{Property: "items.probe:sshd.settings.permitrootlogin", Operator: "eq", Value: "no"},
		{Property: "items.probe:sshd.settings.passwordauthentication", Operator: "ne", Value: "yes"}}}).CEL()
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile(`name="rule_property"`)
	tests := []struct {
		name     string
		form     url.Values
		status   int
		location string
		want     []string
		rows     int // builder rows expected, when set
	}{
		{"add rule", draftForm(url.Values{"action": {"add_rule"}}), 200, "",
			[]string{"Generated condition", strings.NewReplacer(`"`, "&#34;", "&", "&amp;").Replace(wantCEL), `value="My sshd check"`}, 3},
		{"add group", draftForm(url.Values{"action": {"add_group"}}), 200, "", []string{`name="g0_property"`, `value="add_rule:0"`}, 2},
		{"add rule to a group", draftForm(url.Values{"action": {"add_rule:0"}, "g_op": {"or"}, "g0_property": {"os.id"},
			"g0_operator": {"eq"}, "g0_value": {"debian"}, "g0_scheme": {""}}), 200, "",
			[]string{`aria-label="Group 1 rule 2 property"`, `&amp;&amp; (string(os.id) == &#34;debian&#34;)`}, 2},
		{"CEL syntax error", draftForm(url.Values{"mode": {"cel"}, "condition": {"items[\"probe:sshd\"].settings.permitrootlogin ==\n  "}}), 400, "",
			[]string{"Not saved:", "the condition does not compile", "Line 1, column", `aria-invalid="true"`,
				"items[&#34;probe:sshd&#34;].settings.permitrootlogin ==</textarea>", "^</pre>", `value="cel" checked`}, 0},
		{"unknown need", draftForm(url.Values{"needs": {"probe:sshd\nregistry:HKLM"}}), 400, "",
			[]string{"line 2:", "unknown item kind", "registry:HKLM</textarea>"}, 0},
		{"need not listed", draftForm(url.Values{"needs": {""}}), 400, "", []string{"which needs does not list"}, 0},
		{"no title", draftForm(url.Values{"title": {" "}}), 400, "", []string{"required"}, 0},
		{"bad rule value", draftForm(url.Values{"rule_operator": {"gt", "ne"}}), 400, "", []string{"needs an integer value"}, 0},
		{"built-in ID", draftForm(url.Values{"id": {"ssh-permit-root-login"}}), 409, "",
			[]string{"is a built-in check; give yours another ID", `value="ssh-permit-root-login"`}, 0},
		{"built-in pack", draftForm(url.Values{"pack": {"linux-baseline"}}), 409, "", []string{"is a built-in pack"}, 0},
		{"test on a host", draftForm(url.Values{"action": {"test"}, "host_id": {web1}}), 200, "",
			[]string{"Test on web-01:", "badge-fail", `permitrootlogin = &#34;yes&#34;`, "Evidence", "nothing was saved"}, 0},
		{"test on another workspace's host", draftForm(url.Values{"action": {"test"}, "host_id": {strconv.FormatInt(seed.otherHost.ID, 10)}}), 400, "",
			[]string{"choose a host of this workspace"}, 0},
		{"save the builder", draftForm(nil), 303, "/compliance/checks/my-ssh?saved=1", nil, 0},
		{"save over an existing check", draftForm(nil), 409, "", []string{"already has a check"}, 0},
		{"save in CEL mode with a group", draftForm(url.Values{"id": {"my-cel"}, "mode": {"cel"}, "pack": {"mine"},
			"condition": {`items["probe:sshd"].settings.permitrootlogin == "no"`}}), 303, "/compliance/checks/my-cel?saved=1", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(req{method: "POST", path: "/compliance/checks", form: withCSRF(s, tt.form), sess: s})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d\n%s", w.Code, tt.status, w.Body.String())
			}
			if got := w.Header().Get("Location"); got != tt.location {
				t.Errorf("Location %q, want %q", got, tt.location)
			}
			body := w.Body.String()
			wantContains(t, body, tt.want...)
			if n := len(rows.FindAllString(body, -1)); tt.rows > 0 && n != tt.rows {
				t.Errorf("%d builder rows, want %d", n, tt.rows)
			}
			wantNotContains(t, body, "secret-host")
		})
	}

	// Only the two saves were stored; the builder one as a rule.
	stored, err := e.svc.Store.ListChecks(context.Background(), e.ws.ID)
	if err != nil || len(stored) != 2 {
		t.Fatalf("stored checks %+v, %v", stored, err)
	}
	c, err := compliance.ParseCheck([]byte(stored[1].YAML))
	if err != nil || c.ID != "my-ssh" || c.Rule == nil {
		t.Fatalf("saved check %+v, %v", c, err)
	}
	if got, _ := c.Expression(); got != wantCEL {
		t.Errorf("saved condition %q, want %q", got, wantCEL)
	}
	if stored[0].PackID != "mine" {
		t.Errorf("pack %q", stored[0].PackID)
	}

	// The saved check has a page and can be assigned.
	body := e.get(s, "/compliance/checks/my-ssh?saved=1", 200)
	wantContains(t, body, "My sshd check", "Check saved.", `href="/compliance/checks/my-ssh/edit">Edit</a>`, "Delete this check")
	gp := "/groups/" + strconv.FormatInt(seed.group.ID, 10)
	wantContains(t, e.get(s, gp, 200), `name="check" value="my-ssh"`)
	if w := e.do(req{method: "POST", path: gp + "/assignments", form: withCSRF(s, url.Values{"check": {"my-ssh"}}), sess: s}); w.Code != http.StatusSeeOther {
		t.Fatalf("assign: status %d\n%s", w.Code, w.Body.String())
	}
	wantContains(t, e.get(s, gp, 200), `name="check" value="my-ssh" checked`)

	// Editing fills the builder back in; saving keeps the ID.
	body = e.get(s, "/compliance/checks/my-ssh/edit", 200)
	wantContains(t, body, `name="original" value="my-ssh"`, `value="my-ssh" required maxlength="64" autocomplete="off" spellcheck="false" class="mono" readonly`,
		`value="items.probe:sshd.settings.passwordauthentication"`, `value="ne" selected`, `value="debian" checked`)
	edit := draftForm(url.Values{"original": {"my-ssh"}, "title": {"Renamed"}})
	if w := e.do(req{method: "POST", path: "/compliance/checks", form: withCSRF(s, edit), sess: s}); w.Code != http.StatusSeeOther {
		t.Fatalf("edit: status %d\n%s", w.Code, w.Body.String())
	}
	wantContains(t, e.get(s, "/compliance/checks/my-ssh", 200), "Renamed")

	// Built-in checks are copied, not edited or deleted.
	body = e.get(s, "/compliance/checks/ssh-permit-root-login", 200)
	wantContains(t, body, `href="/compliance/checks/new?from=ssh-permit-root-login">Copy as new check</a>`)
	wantNotContains(t, body, "Delete this check")
	w := e.do(req{path: "/compliance/checks/ssh-permit-root-login/edit", sess: s})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/compliance/checks/new?from=ssh-permit-root-login" {
		t.Fatalf("edit built-in: %d %q", w.Code, w.Header().Get("Location"))
	}
	body = e.get(s, "/compliance/checks/new?from=ssh-permit-root-login", 200)
	wantContains(t, body, `value="ssh-permit-root-login-custom"`, `name="original" value=""`, `value="cel" checked`,
		`items[&#34;probe:sshd&#34;].settings.permitrootlogin == &#34;no&#34;</textarea>`, "probe:sshd</textarea>")
	e.get(s, "/compliance/checks/new?from=no-such-check", 404)
	e.get(s, "/compliance/checks/no-such-check/edit", 404)
	if w := e.do(req{method: "POST", path: "/compliance/checks/ssh-permit-root-login/delete", form: withCSRF(s, url.Values{}), sess: s}); w.Code != 404 {
		t.Fatalf("delete built-in: status %d", w.Code)
	}

	// Delete.
	w = e.do(req{method: "POST", path: "/compliance/checks/my-cel/delete", form: withCSRF(s, url.Values{}), sess: s})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/compliance?deleted=my-cel" {
		t.Fatalf("delete: %d %q", w.Code, w.Header().Get("Location"))
	}
	wantContains(t, e.get(s, "/compliance?deleted=my-cel", 200), "Check my-cel deleted.", `href="/compliance/checks/new">New check</a>`)
	e.get(s, "/compliance/checks/my-cel", 404)
}

func TestCheckEditorViewer(t *testing.T) {
	e := newEnv(t)
	seed := e.seedCompliance()
	if _, err := e.svc.SaveCheck(context.Background(), e.admin, []byte("id: mine\ntitle: Mine\nseverity: low\ncondition: os.id == \"debian\"\n"), ""); err != nil {
		t.Fatal(err)
	}
	v := e.session(e.user("viewer"))
	for _, p := range []string{"/compliance/checks/new", "/compliance/checks/mine/edit"} {
		e.get(v, p, 403)
	}
	for _, p := range []string{"/compliance/checks", "/compliance/checks/mine/delete"} {
		form := draftForm(url.Values{"action": {"test"}, "host_id": {strconv.FormatInt(seed.web1.ID, 10)}})
		if w := e.do(req{method: "POST", path: p, form: withCSRF(v, form), sess: v}); w.Code != http.StatusForbidden {
			t.Errorf("POST %s: status %d", p, w.Code)
		}
	}
	wantNotContains(t, e.get(v, "/compliance/checks/mine", 200), "/edit", "Delete this check")
	wantNotContains(t, e.get(v, "/compliance/checks/ssh-permit-root-login", 200), "Copy as new check")
	wantNotContains(t, e.get(v, "/compliance", 200), "New check")
}

func TestCheckEditorNoInlineCode(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := e.seedCompliance()
	bad := regexp.MustCompile(`(?i)<script(\s[^>]*)?>[^<]|<style|\sstyle=|\son[a-z]+=|hx-on`)
	post := func(f url.Values) string {
		return e.do(req{method: "POST", path: "/compliance/checks", form: withCSRF(s, f), sess: s}).Body.String()
	}
	for _, body := range []string{e.get(s, "/compliance/checks/new", 200), e.get(s, "/compliance/checks/new?from=ssh-permit-root-login", 200),
		post(draftForm(url.Values{"action": {"test"}, "host_id": {strconv.FormatInt(seed.web1.ID, 10)}})),
		post(draftForm(url.Values{"action": {"add_group"}})),
		post(draftForm(url.Values{"mode": {"cel"}, "condition": {"os.id =="}}))} {
		if m := bad.FindString(body); m != "" {
			t.Errorf("page has inline code: %q", m)
		}
		wantContains(t, body, `<main id="main"`)
	}
}
