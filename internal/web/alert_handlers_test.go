package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
)

func TestChannelPages(t *testing.T) {
	e := newEnv(t)
	var hits atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if hits.Add(1) > 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer hook.Close()
	admin := e.session(e.admin)

	// Create a webhook channel through the form; its secret is never shown.
	w := e.do(req{method: "POST", path: "/settings/channels", sess: admin, form: withCSRF(admin, url.Values{
		"name": {"ops hook"}, "kind": {"webhook"}, "enabled": {"1"}, "url": {hook.URL + "/in"}, "webhook_secret": {"TOPSECRET-1"}})})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("create channel: %d\n%s", w.Code, w.Body)
	}
	cs, err := e.svc.ListChannels(context.Background(), e.admin)
	if err != nil || len(cs) != 1 || !cs[0].HasSecret {
		t.Fatalf("channels %v %+v", err, cs)
	}
	id := cs[0].ID
	body := e.get(admin, "/settings/channels", http.StatusOK)
	wantContains(t, body, "ops hook", "Send test", "Secret set (never shown)")
	edit := e.get(admin, "/settings/channels/"+itoa(id), http.StatusOK)
	for _, page := range []string{body, edit} {
		if strings.Contains(page, "TOPSECRET") {
			t.Fatal("the webhook secret was rendered")
		}
	}

	// Send test: the first answer is 200, the second 503; both are shown.
	w = e.do(req{method: "POST", path: "/settings/channels/" + itoa(id) + "/test", sess: admin, form: withCSRF(admin, nil)})
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "result=sent") {
		t.Fatalf("test: %d %s", w.Code, w.Header().Get("Location"))
	}
	wantContains(t, e.get(admin, w.Header().Get("Location"), http.StatusOK), "Test message sent to ops hook")
	w = e.do(req{method: "POST", path: "/settings/channels/" + itoa(id) + "/test", sess: admin, form: withCSRF(admin, nil)})
	wantContains(t, e.get(admin, w.Header().Get("Location"), http.StatusOK), "Test to ops hook failed", "503")

	// A bad form is shown again with the reason, and nothing is stored.
	w = e.do(req{method: "POST", path: "/settings/channels", sess: admin, form: withCSRF(admin, url.Values{
		"name": {"mail"}, "kind": {"email"}, "smtp_host": {"smtp.example.net"}, "from": {"vigil@example.net"}, "to": {"not-an-address"}})})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "is not one e-mail address") {
		t.Fatalf("bad e-mail channel: %d\n%s", w.Code, w.Body)
	}

	// A viewer or an operator sees the page but cannot test or change:
	// channels are workspace settings.
	viewer := e.session(e.user(domain.RoleViewer))
	operator := e.session(e.user(domain.RoleOperator))
	for _, s := range []session{viewer, operator} {
		if page := e.get(s, "/settings/channels", http.StatusOK); strings.Contains(page, "Send test") || strings.Contains(page, "New channel") {
			t.Error("a role without settings permission is offered Send test or New channel")
		}
	}
	w = e.do(req{method: "POST", path: "/settings/channels/" + itoa(id) + "/test", sess: viewer, form: withCSRF(viewer, nil)})
	if w.Code != http.StatusForbidden {
		t.Errorf("viewer test: %d", w.Code)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("%d webhook calls, want 2", n)
	}
}

func TestAlertRulePagesAndAlerts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.session(e.admin)
	ch, err := e.svc.CreateChannel(ctx, e.admin, serviceChannel("hook"))
	if err != nil {
		t.Fatal(err)
	}
	w := e.do(req{method: "POST", path: "/alert-rules", sess: admin, form: withCSRF(admin, url.Values{
		"name": {"KEV prod"}, "event": {"kev_finding"}, "min_severity": {"high"}, "labels": {"env=prod"},
		"channel_ids": {itoa(ch.ID)}, "mode": {"hourly"}, "renotify_minutes": {"120"}, "notify_resolved": {"1"}, "enabled": {"1"}})})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("create rule: %d\n%s", w.Code, w.Body)
	}
	rules, _ := e.svc.ListAlertRules(ctx, e.admin)
	if len(rules) != 1 || rules[0].Filter.Labels["env"] != "prod" || rules[0].Mode != "hourly" || rules[0].RenotifyMinutes != 120 {
		t.Fatalf("rules %+v", rules)
	}
	wantContains(t, e.get(admin, "/alert-rules", http.StatusOK), "KEV prod", "hourly", "Remediation SLA")
	wantContains(t, e.get(admin, "/alert-rules/"+itoa(rules[0].ID), http.StatusOK), `value="120"`, "env=prod")
	w = e.do(req{method: "POST", path: "/alert-rules", sess: admin, form: withCSRF(admin, url.Values{
		"name": {"x"}, "event": {"kev_finding"}, "renotify_minutes": {"soon"}})})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "Re-notify every: a whole number") {
		t.Errorf("bad rule: %d", w.Code)
	}
	w = e.do(req{method: "POST", path: "/alert-settings", sess: admin, form: withCSRF(admin, url.Values{"sla_critical": {"7"}})})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("sla: %d", w.Code)
	}
	if set, _ := e.svc.AlertSettings(ctx, e.admin); set.SLADays["critical"] != 7 {
		t.Errorf("sla %+v", set)
	}

	// An alert and its notification history.
	h := e.host("web-01")
	hid := h.ID
	r := rules[0]
	changes := alert.Reconcile(&r, nil, alert.Conditions{Current: []alert.Subject{{Key: "finding:1", HostID: &hid, HostName: "web-01",
		Title: "CVE-2024-0001 in openssl on web-01", Severity: "critical", Fingerprint: "a",
		Details: map[string]string{"fixed_version": "3.0.13"}}}}, e.svc.Now())
	if _, err := e.svc.Store.ApplyAlertChanges(ctx, e.ws.ID, changes); err != nil {
		t.Fatal(err)
	}
	list := e.get(admin, "/alerts", http.StatusOK)
	wantContains(t, list, "CVE-2024-0001 in openssl on web-01", `href="/hosts/`+itoa(h.ID)+`"`, "KEV prod")
	as, _, _ := e.svc.ListAlerts(ctx, e.admin, store.AlertFilter{})
	wantContains(t, e.get(admin, "/alerts/"+itoa(as[0].ID), http.StatusOK), "fixed_version", "3.0.13", "digest_wait", "hook")
	if strings.Contains(e.get(admin, "/alerts?status=resolved", http.StatusOK), "CVE-2024-0001") {
		t.Error("open alert listed as resolved")
	}
	e.get(admin, "/alerts?status=bogus", http.StatusBadRequest)
	// Another workspace's alert is not found.
	e.get(admin, "/alerts/999999", http.StatusNotFound)
}

func serviceChannel(name string) service.ChannelInput {
	return service.ChannelInput{Name: name, Kind: alert.ChannelWebhook, Config: alert.ChannelConfig{URL: "http://127.0.0.1:9/hook"}}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
