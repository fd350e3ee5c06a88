package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/store"
)

// TestAlertPagesInBrowser drives the channel and rule editors in headless
// Chromium: the admin adds a signed webhook channel, sends a test (the
// receiver counts it), writes a KEV rule, and reads an alert with its
// notification history. Each page is saved as a screenshot.
func TestAlertPagesInBrowser(t *testing.T) {
	actx := browser(t, 1280, 900)
	e := newEnv(t)
	dir := artifactDir(t)
	bg := context.Background()
	var received atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Header.Get("X-Vigil-Signature") != "" {
			received.Add(1)
		}
	}))
	defer hook.Close()
	srv := webServer(t, e)

	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) { t.Helper(); do(t, ctx, what, steps...) }
	shoot := func(name string) { t.Helper(); screenshot(t, ctx, dir, name) }
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	logIn(t, ctx, srv.URL, "admin", adminPassword)
	run("new channel",
		chromedp.Navigate(srv.URL+"/settings/channels/new"),
		chromedp.WaitVisible(chromedp.CSS(`#name`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "ops webhook"),
		chromedp.SendKeys(chromedp.CSS(`#url`), hook.URL+"/vigil"),
		chromedp.SendKeys(chromedp.CSS(`#webhook_secret`), "browser-secret"),
	)
	shoot("alerts-channel-form.png")
	run("save channel",
		chromedp.Click(chromedp.CSS(`form.form button.btn-primary`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/test"] button`)),
		chromedp.Click(chromedp.CSS(`form[action$="/test"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#test-result`)),
	)
	if got := text(`#test-result`); !strings.Contains(got, "Test message sent to ops webhook") {
		t.Errorf("test result %q", got)
	}
	if received.Load() != 1 {
		t.Errorf("receiver got %d signed deliveries", received.Load())
	}
	shoot("alerts-channels.png")

	run("new rule",
		chromedp.Navigate(srv.URL+"/alert-rules/new"),
		chromedp.WaitVisible(chromedp.CSS(`#name`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "KEV on production"),
		chromedp.SetValue(chromedp.CSS(`#min_severity`), "high"),
		chromedp.SendKeys(chromedp.CSS(`#labels`), "env=prod"),
		chromedp.Click(chromedp.CSS(`input[name="channel_ids"]`)),
	)
	shoot("alerts-rule-form.png")
	run("save rule",
		chromedp.Click(chromedp.CSS(`form.form button.btn-primary`)),
		chromedp.WaitVisible(chromedp.CSS(`table.data`)),
	)
	rules, err := e.svc.ListAlertRules(bg, e.admin)
	if err != nil || len(rules) != 1 || rules[0].Filter.Labels["env"] != "prod" || len(rules[0].ChannelIDs) != 1 {
		t.Fatalf("rules %v %+v", err, rules)
	}
	shoot("alerts-rules.png")

	// An alert as a report would raise it, with a failed then a good attempt.
	h := e.host("web-01")
	hid := h.ID
	now := e.svc.Now()
	changes := alert.Reconcile(&rules[0], nil, alert.Conditions{Current: []alert.Subject{{Key: "finding:1", HostID: &hid,
		HostName: "web-01", Title: "CVE-2024-0001 in openssl 3.0.11-1~deb12u2 on web-01", Severity: "critical", Fingerprint: "a",
		Details: map[string]string{"vuln_id": "CVE-2024-0001", "fixed_version": "3.0.13-1~deb12u1", "kev_due_date": "2099-03-22"}}}}, now)
	due, err := e.svc.Store.ApplyAlertChanges(bg, e.ws.ID, changes)
	if err != nil || len(due) != 1 {
		t.Fatalf("%v %v", err, due)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.svc.Store.RecordAttempt(bg, e.ws.ID, due[0], alert.Attempt{At: now, Error: "webhook answered 503 Service Unavailable", ResponseCode: 503, DurationMS: 14}, alert.NotifyPending))
	must(e.svc.Store.RecordAttempt(bg, e.ws.ID, due[0], alert.Attempt{At: now.Add(30 * time.Second), OK: true, ResponseCode: 200, DurationMS: 9}, alert.NotifySent))
	as, _, err := e.svc.ListAlerts(bg, e.admin, store.AlertFilter{})
	must(err)

	run("alerts list", chromedp.Navigate(srv.URL+"/alerts"), chromedp.WaitVisible(chromedp.CSS(`table.data`)))
	if got := text(`table.data tbody`); !strings.Contains(got, "CVE-2024-0001") || !strings.Contains(got, "KEV on production") {
		t.Errorf("alerts list %q", got)
	}
	shoot("alerts-list.png")
	run("alert detail",
		chromedp.Click(chromedp.CSS(`table.data tbody a[href="/alerts/`+itoa(as[0].ID)+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#notif-h`)),
		chromedp.Click(chromedp.CSS(`details summary`)),
	)
	if got := text(`section table.data`); !strings.Contains(got, "sent") || !strings.Contains(got, "503") || !strings.Contains(got, "ops webhook") {
		t.Errorf("notification history %q", got)
	}
	shoot("alerts-detail.png")
}
