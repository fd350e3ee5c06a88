package web

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
)

// complianceSeed: web-01 in group "Debian servers" with linux-baseline
// assigned, scanned twice (root login first off, then on: one fail now);
// another workspace has its own group and a host "secret-host".
type complianceSeed struct {
	web1       *domain.Host
	group      *domain.Group
	otherGroup *domain.Group
	otherHost  *domain.Host
}

// sshdReport is a successful report of h carrying the sshd item.
func sshdReport(t *testing.T, h *domain.Host, started time.Time, rootLogin string) inventory.HostReport {
	t.Helper()
	v, err := json.Marshal(map[string]any{"present": true, "readable": true, "settings": map[string]string{
		"permitrootlogin": rootLogin, "passwordauthentication": "no", "permitemptypasswords": "no"}})
	if err != nil {
		t.Fatal(err)
	}
	r := report(h, started)
	r.Items = []inventory.ItemResult{{Kind: "probe", Name: "sshd", Value: v}}
	return *r
}

// ingestBatch sends reports as the workspace's agent, which evaluates the
// groups and checks of each host.
func (e *env) ingestBatch(ws, agentID int64, rs ...inventory.HostReport) {
	e.t.Helper()
	ctx := context.Background()
	ag, err := e.svc.Store.GetAgent(ctx, ws, agentID)
	if err != nil {
		e.t.Fatal(err)
	}
	reply, err := e.svc.IngestBatch(ctx, ag, &inventory.Batch{Reports: rs})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, res := range reply.Results {
		if res.Status != inventory.ResultAccepted {
			e.t.Fatalf("report %s: %s %s", res.ReportID, res.Status, res.Error)
		}
	}
}

func (e *env) seedCompliance() complianceSeed {
	e.t.Helper()
	t, ctx := e.t, context.Background()
	e.svc.NoBackground = true
	s := complianceSeed{web1: e.host("web-01")}
	group := func(a service.Actor, name string) *domain.Group {
		t.Helper()
		expr := `os.id == "debian"`
		g, err := e.svc.SaveGroup(ctx, a, 0, service.GroupInput{Name: &name, Expression: &expr})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SetAssignments(ctx, a, g.ID, []domain.Assignment{{Kind: domain.AssignPack, Ref: "linux-baseline"}}); err != nil {
			t.Fatal(err)
		}
		return g
	}
	s.group = group(e.admin, "Debian servers")
	now := e.svc.Now()
	e.ingestBatch(e.ws.ID, e.agentID, sshdReport(t, s.web1, now.Add(-2*time.Hour), "no"))
	e.ingestBatch(e.ws.ID, e.agentID, sshdReport(t, s.web1, now.Add(-time.Hour), "yes"))

	other := &domain.Workspace{Name: "Other", Slug: "other", Schedule: inventory.Schedule{IntervalSeconds: 3600}}
	if err := e.svc.Store.CreateWorkspace(ctx, other); err != nil {
		t.Fatal(err)
	}
	ag, _, err := e.svc.CreateAgentKey(ctx, other.ID, "other-agent")
	if err != nil {
		t.Fatal(err)
	}
	oa := service.Actor{UserID: e.admin.UserID, Login: "admin", WorkspaceID: other.ID, Role: domain.RoleAdmin}
	name, addr := "secret-host", "198.51.100.7"
	if s.otherHost, err = e.svc.CreateHost(ctx, oa, domain.HostInput{Name: &name, Address: &addr}); err != nil {
		t.Fatal(err)
	}
	s.otherGroup = group(oa, "Secret group")
	e.ingestBatch(other.ID, ag.ID, sshdReport(t, s.otherHost, now.Add(-time.Hour), "yes"))
	return s
}

// rowOf returns the table row containing marker, or "".
func rowOf(body, marker string) string {
	i := strings.Index(body, marker)
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(body[:i], "<tr")
	end := strings.Index(body[i:], "</tr>")
	if start < 0 || end < 0 {
		return ""
	}
	return body[start : i+end]
}

func TestComplianceOverview(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := e.seedCompliance()
	sum, err := e.svc.Compliance(context.Background(), e.admin, store.CheckResultFilter{}, false)
	if err != nil || sum.Score == nil {
		t.Fatalf("summary %+v: %v", sum, err)
	}
	score := newScore(sum)
	gid := strconv.FormatInt(seed.group.ID, 10)
	tests := []struct {
		name, path string
		status     int
		want, not  []string
	}{
		{"workspace", "/compliance", 200,
			[]string{"Workspace score", score.Text, `value="` + score.Value + `"`, "Errors (Vigil could not judge",
				`aria-current="page">Compliance</a>`, `<option value="` + gid + `">Debian servers</option>`, `href="/groups"`},
			[]string{"secret-host", "Secret group"}},
		{"one group", "/compliance?group_id=" + gid, 200,
			[]string{"Score of the hosts in group Debian servers", `<option value="` + gid + `" selected>`, "/compliance/checks/ssh-permit-root-login?group_id=" + gid},
			nil},
		{"bad group ID", "/compliance?group_id=x", 400, []string{"not a valid group ID", "Workspace score"}, nil},
		{"other workspace's group", "/compliance?group_id=" + strconv.FormatInt(seed.otherGroup.ID, 10), 404, []string{"Not found"}, []string{"Secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := e.get(s, tt.path, tt.status)
			wantContains(t, body, tt.want...)
			wantNotContains(t, body, tt.not...)
		})
	}

	body := e.get(s, "/compliance", 200)
	row := rowOf(body, `/compliance/checks/ssh-permit-root-login"`)
	if row == "" {
		t.Fatalf("no row for ssh-permit-root-login\n%s", body)
	}
	// One fail, linked to the failing hosts; the trend went 0 → 1.
	wantContains(t, row, "SSH root login is disabled", "badge-sev-high", "CIS DIL v2.0.0 5.2.10",
		`<a class="fail-count" href="/compliance/checks/ssh-permit-root-login?status=fail">1</a>`,
		"<polyline points=", "oldest first: 0, 1", "1 now")
	// Failing checks come first.
	if i, j := strings.Index(body, "ssh-permit-root-login"), strings.Index(body, "ssh-password-authentication"); i < 0 || j < 0 || i > j {
		t.Errorf("the failing check is not listed before a passing one (%d, %d)", i, j)
	}
	if svg := regexp.MustCompile(`<svg[^>]*>`).FindString(row); !strings.Contains(svg, `role="img"`) || strings.Contains(svg, "style") {
		t.Errorf("sparkline %q", svg)
	}
}

func TestComplianceEmptyStates(t *testing.T) {
	e := newEnv(t)
	e.svc.NoBackground = true
	s := e.session(e.admin)
	body := e.get(s, "/compliance", 200)
	wantContains(t, body, "No groups yet", "linux-baseline", `href="/groups">Create a group</a>`)
	wantNotContains(t, body, "Workspace score")

	name := "Empty"
	if _, err := e.svc.SaveGroup(context.Background(), e.admin, 0, service.GroupInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	body = e.get(s, "/compliance", 200)
	wantContains(t, body, "No results yet", "no result passed or failed yet")
	wantNotContains(t, body, "No groups yet")
	// A known check that no host was evaluated against yet.
	body = e.get(s, "/compliance/checks/ssh-permit-root-login", 200)
	wantContains(t, body, "SSH root login is disabled", "No results yet", "linux-baseline")
}

func TestCheckPage(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := e.seedCompliance()
	const p = "/compliance/checks/ssh-permit-root-login"
	host := fmt.Sprintf(`<a href="/hosts/%d#compliance">web-01</a>`, seed.web1.ID)
	tests := []struct {
		name, path string
		status     int
		want, not  []string
	}{
		{"all hosts", p, 200, []string{"SSH root login is disabled", "badge-sev-high", "<code>PermitRootLogin no</code>",
			"Logging in as root directly", "probe:sshd", "CIS DIL v2.0.0 5.2.10", host, "badge-fail",
			"PermitRootLogin no", `permitrootlogin = &#34;yes&#34;`, "Recent status changes", "oldest first: 0, 1"},
			[]string{"secret-host"}},
		{"failing", p + "?status=fail", 200, []string{host, `aria-current="true"`}, nil},
		{"passing", p + "?status=pass", 200, []string{"No host has this status"}, []string{`class="data results"`}},
		{"group", p + "?group_id=" + strconv.FormatInt(seed.group.ID, 10), 200, []string{host, "Only hosts in group"}, nil},
		{"bad status", p + "?status=bogus", 400, []string{"status: must be one of"}, nil},
		{"other workspace's group", p + "?group_id=" + strconv.FormatInt(seed.otherGroup.ID, 10), 404, nil, []string{"secret-host"}},
		{"unknown check", "/compliance/checks/no-such-check", 404, []string{"Not found"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := e.get(s, tt.path, tt.status)
			wantContains(t, body, tt.want...)
			wantNotContains(t, body, tt.not...)
		})
	}
}

func TestHostCompliance(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := e.seedCompliance()
	body := e.get(s, "/hosts/"+strconv.FormatInt(seed.web1.ID, 10), 200)
	wantContains(t, body, `id="compliance"`, "Failures and errors", `href="/compliance/checks/ssh-permit-root-login"`,
		`permitrootlogin = &#34;yes&#34;`, "Passing and not applicable", ">Debian servers</a>", `action="/hosts/`)
	// Failures before errors, the most severe first.
	if i, j := strings.Index(body, "badge-fail"), strings.Index(body, "badge-check-error"); i < 0 || j < 0 || i > j {
		t.Errorf("failures are not listed before errors (%d, %d)", i, j)
	}
}

// TestCompliancePagesNoInlineCode keeps the new pages to the CSP, as
// TestNoInlineCode does for the others.
func TestCompliancePagesNoInlineCode(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	seed := e.seedCompliance()
	bad := regexp.MustCompile(`(?i)<script(\s[^>]*)?>[^<]|<style|\sstyle=|\son[a-z]+=|hx-on`)
	bogus := withCSRF(s, map[string][]string{"name": {"x"}, "expression": {"os.id =="}})
	for _, body := range []string{e.get(s, "/compliance", 200), e.get(s, "/compliance/checks/ssh-permit-root-login", 200),
		e.get(s, "/groups", 200), e.get(s, fmt.Sprintf("/groups/%d", seed.group.ID), 200),
		e.get(s, fmt.Sprintf("/hosts/%d", seed.web1.ID), 200),
		e.do(req{method: "POST", path: "/groups", form: bogus, sess: s}).Body.String()} {
		if m := bad.FindString(body); m != "" {
			t.Errorf("page has inline code: %q", m)
		}
		wantContains(t, body, `<main id="main"`)
	}
}
