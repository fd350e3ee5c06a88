package web

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// TestWorkspacesAndRolesInBrowser drives the workspace and user pages in
// headless Chromium: an admin invites a viewer, the viewer accepts the
// one-time link in another browser and sees no write controls, and a
// forced POST is refused; the admin switches workspace from the header,
// creates an API token and reads the audit log. Each page is saved as a
// screenshot.
func TestWorkspacesAndRolesInBrowser(t *testing.T) {
	actx := browser(t, 1280, 900)
	e := newEnv(t)
	dir := artifactDir(t)
	bg := context.Background()
	hostName := "web-a-01"
	addr := "192.0.2.10"
	if _, err := e.svc.CreateHost(bg, e.admin, domain.HostInput{Name: &hostName, Address: &addr}); err != nil {
		t.Fatal(err)
	}
	wsB, err := e.svc.CreateWorkspace(bg, e.admin, "Client B", "client-b")
	if err != nil {
		t.Fatal(err)
	}
	// The whole server, so that the API is there for the forced requests.
	srv := webServer(t, e)

	admin, cancel := chromedp.NewContext(actx)
	defer cancel()
	admin, cancel = context.WithTimeout(admin, 120*time.Second)
	defer cancel()
	shoot := func(ctx context.Context, name string) { t.Helper(); screenshot(t, ctx, dir, name) }
	run := func(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		do(t, ctx, what, steps...)
	}
	text := func(ctx context.Context, sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	eval := func(ctx context.Context, js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}
	location := func(ctx context.Context) string {
		t.Helper()
		u, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(u, srv.URL)
	}
	login := func(ctx context.Context, user, pw string) { t.Helper(); logIn(t, ctx, srv.URL, user, pw) }

	// The admin invites a viewer from the members page.
	login(admin, "admin", adminPassword)
	run(admin, "members page",
		chromedp.Navigate(srv.URL+"/settings/members"),
		chromedp.WaitVisible(chromedp.CSS(`#members-h`)),
		chromedp.SetValue(chromedp.CSS(`#inv-role`), "viewer"),
		chromedp.SendKeys(chromedp.CSS(`#inv-note`), "Vera, auditor"),
		chromedp.Click(chromedp.CSS(`form[action="/settings/invitations"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#invite-link`)),
	)
	if h := text(admin, `h1`); h != "Members of Default" {
		t.Errorf("members heading %q", h)
	}
	link := strings.TrimSpace(text(admin, `#invite-link`))
	if !strings.HasPrefix(link, srv.URL+"/invite/vgi_") {
		t.Fatalf("invitation link %q", link)
	}
	shoot(admin, "members.png")

	// The invited person opens the link in their own browser.
	viewer, cancelV := chromedp.NewContext(admin, chromedp.WithNewBrowserContext())
	defer cancelV()
	run(viewer, "open the invitation",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
	)
	if h := text(viewer, `h1`); h != "Join Default" {
		t.Errorf("invitation heading %q", h)
	}
	shoot(viewer, "invite.png")
	run(viewer, "accept the invitation",
		chromedp.SendKeys(chromedp.CSS(`#login`), "vera"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "vera-password-1"),
		chromedp.SendKeys(chromedp.CSS(`#password2`), "vera-password-1"),
		chromedp.Submit(chromedp.CSS(`#password2`)),
		chromedp.WaitVisible(chromedp.CSS(`.user-name`)),
	)
	if loc := location(viewer); loc != "/hosts" {
		t.Errorf("after accepting, the viewer is at %s", loc)
	}
	if who := text(viewer, `.user-name`); !strings.Contains(who, "vera") || !strings.Contains(who, "viewer") {
		t.Errorf("header says %q", who)
	}
	// No write controls: no forms that post (but logout and the switcher),
	// no htmx writes, no "Add host".
	writes := eval(viewer, `String(document.querySelectorAll('main form[method="post"], [hx-post], [hx-put], [hx-delete], [hx-patch], a[href="/hosts/new"]').length)`)
	if writes != "0" {
		t.Errorf("the viewer's hosts page has %s write controls", writes)
	}
	if !strings.Contains(text(viewer, `main`), hostName) {
		t.Errorf("the viewer does not see %s", hostName)
	}
	shoot(viewer, "hosts-viewer.png")
	// A forced POST with the viewer's valid CSRF token is still refused.
	forced := eval(viewer, `(async () => {
		const csrf = document.querySelector('meta[name="csrf-token"]').content;
		const web = await fetch('/hosts', {method: 'POST', headers: {'X-CSRF-Token': csrf, 'Content-Type': 'application/x-www-form-urlencoded'},
			body: 'name=forced&address=192.0.2.99&transport=ssh'});
		const api = await fetch('/api/v1/hosts', {method: 'POST', headers: {'X-CSRF-Token': csrf, 'Content-Type': 'application/json'},
			body: JSON.stringify({name: 'forced2', address: '192.0.2.98'})});
		const noCSRF = await fetch('/api/v1/hosts', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'});
		return web.status + ' ' + api.status + ' ' + noCSRF.status;
	})()`)
	if forced != "403 403 403" {
		t.Errorf("forced POSTs as viewer answered %s, want 403 403 403", forced)
	}
	hosts, err := e.svc.ListHosts(bg, e.admin, store.HostFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 1 {
		t.Errorf("%d hosts after the forced POSTs, want 1", len(hosts))
	}
	run(viewer, "viewer opens the members page", chromedp.Navigate(srv.URL+"/settings/members"), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	if h := text(viewer, `h1`); h != "Not allowed" {
		t.Errorf("viewer on the members page sees %q", h)
	}
	// The viewer's own account page works.
	run(viewer, "viewer account", chromedp.Navigate(srv.URL+"/account"), chromedp.WaitVisible(chromedp.CSS(`#sess-h`)))
	if cur := text(viewer, `tr.current`); !strings.Contains(strings.ToLower(cur), "this session") {
		t.Errorf("current session row %q", cur)
	}

	// The admin sees vera on the members page, creates an API token...
	run(admin, "members again", chromedp.Navigate(srv.URL+"/settings/members"), chromedp.WaitVisible(chromedp.CSS(`#members-h`)))
	if m := text(admin, `#members-h + .table-wrap`); !strings.Contains(m, "vera") {
		t.Errorf("members table:\n%s", m)
	}
	run(admin, "create a token",
		chromedp.Navigate(srv.URL+"/account"),
		chromedp.WaitVisible(chromedp.CSS(`#token-name`)),
		chromedp.SendKeys(chromedp.CSS(`#token-name`), "reporting script"),
		chromedp.Submit(chromedp.CSS(`#token-name`)),
		chromedp.WaitVisible(chromedp.CSS(`#new-token`)),
	)
	if tok := text(admin, `#new-token`); !strings.HasPrefix(tok, "vgt_") {
		t.Errorf("new token shown as %q", tok)
	}
	shoot(admin, "account.png")

	// ... reads the audit log ...
	run(admin, "audit page", chromedp.Navigate(srv.URL+"/audit"), chromedp.WaitVisible(chromedp.CSS(`table.data`)))
	log := text(admin, `table.data`)
	for _, want := range []string{"invitation.create", "invitation.accept", "token.create", "host.create", "vera"} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "vera-password-1") {
		t.Error("the audit log shows a password")
	}
	shoot(admin, "audit.png")
	run(admin, "audit filter", chromedp.Navigate(srv.URL+"/audit?actor=vera"), chromedp.WaitVisible(chromedp.CSS(`table.data`)))
	if rows := eval(admin, `String(document.querySelectorAll('table.data tbody tr').length)`); rows != "2" { // accepted, logged in
		t.Errorf("vera's audit entries: %s rows, want 2:\n%s", rows, text(admin, `table.data`))
	}

	// ... and switches to the other workspace from the header.
	run(admin, "open hosts",
		chromedp.Navigate(srv.URL+"/hosts"),
		chromedp.WaitVisible(chromedp.CSS(`#ws-select`)),
		chromedp.SetValue(chromedp.CSS(`#ws-select`), strconv.FormatInt(wsB.ID, 10)),
	)
	// RunResponse waits for the navigation the click starts.
	if resp, err := chromedp.RunResponse(admin, chromedp.Click(chromedp.CSS(`.ws-switch button`))); err != nil || resp.Status != 200 {
		t.Fatalf("switch workspace: %v (status %v)", err, resp)
	}
	run(admin, "hosts of B", chromedp.WaitVisible(chromedp.CSS(`#ws-select`)))
	if loc := location(admin); loc != "/hosts" {
		t.Errorf("after switching the admin is at %s", loc)
	}
	sel := eval(admin, `document.querySelector('#ws-select').selectedOptions[0].textContent`)
	if !strings.HasPrefix(sel, "Client B") {
		t.Errorf("switcher shows %q after switching", sel)
	}
	if strings.Contains(text(admin, `main`), hostName) {
		t.Errorf("workspace B lists workspace A's host %s", hostName)
	}
	shoot(admin, "hosts-client-b.png")
	// The viewer has no membership in B: the switcher offers only Default.
	run(viewer, "viewer hosts", chromedp.Navigate(srv.URL+"/hosts"), chromedp.WaitVisible(chromedp.CSS(`#ws-select`)))
	if opts := eval(viewer, `String(document.querySelectorAll('#ws-select option').length)`); opts != "1" {
		t.Errorf("viewer's switcher offers %s workspaces, want 1", opts)
	}
	t.Logf("screenshots in %s", dir)
}
