package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/server"
	"github.com/vigil-project/vigil/internal/service"
)

// TestAlertAPI walks channels, rules, alerts and settings through the REST
// API in order: each step builds on the ones before.
func TestAlertAPI(t *testing.T) {
	f := newFixture(t, server.Options{})
	ctx := context.Background()
	var hits int
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer hook.Close()
	// A channel and a rule of the other workspace, which ws1's token must
	// never reach.
	other := service.Actor{UserID: 1, Login: "admin", WorkspaceID: f.ws2.ID, Role: domain.RoleAdmin}
	och, err := f.svc.CreateChannel(ctx, other, service.ChannelInput{Name: "theirs", Kind: alert.ChannelWebhook,
		Config: alert.ChannelConfig{URL: "https://example.net/theirs"}, Secrets: &alert.ChannelSecrets{WebhookSecret: "their-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	orule, err := f.svc.CreateAlertRule(ctx, other, alert.Rule{Name: "theirs", Event: alert.EventKEVFinding, ChannelIDs: []int64{och.ID}})
	if err != nil {
		t.Fatal(err)
	}
	tok := f.token1
	steps := []struct {
		name, method, path, body string
		want                     int
		wantIn, wantNotIn        string
	}{
		{"create webhook channel", "POST", "/api/v1/channels",
			`{"name":"ops","kind":"webhook","config":{"url":"` + hook.URL + `"},"secrets":{"webhook_secret":"wh-s3cret"}}`, 201, `"has_secret":true`, "wh-s3cret"},
		{"create slack channel: its URL is sealed", "POST", "/api/v1/channels",
			`{"name":"chat","kind":"slack","secrets":{"url":"https://hooks.slack.com/services/T0/B0/XYZSECRET"}}`, 201, `"kind":"slack"`, "XYZSECRET"},
		{"list never shows secrets", "GET", "/api/v1/channels", "", 200, `"name":"chat"`, "XYZSECRET"},
		{"unknown kind", "POST", "/api/v1/channels", `{"name":"x","kind":"pager"}`, 400, "kind", ""},
		{"e-mail without recipients", "POST", "/api/v1/channels", `{"name":"m","kind":"email","config":{"smtp_host":"h","from":"a@b"}}`, 400, "config.to", ""},
		{"duplicate name", "POST", "/api/v1/channels", `{"name":"ops","kind":"webhook","config":{"url":"https://x"}}`, 409, "conflict", ""},
		{"other workspace's channel", "GET", fmt.Sprintf("/api/v1/channels/%d", och.ID), "", 404, "not_found", "their-secret"},
		{"test other workspace's channel", "POST", fmt.Sprintf("/api/v1/channels/%d/test", och.ID), "", 404, "not_found", ""},
		{"rule with another workspace's channel", "POST", "/api/v1/alert-rules",
			fmt.Sprintf(`{"name":"r","event":"kev_finding","channel_ids":[%d]}`, och.ID), 400, "channel_ids", ""},
		{"rule with a bad event", "POST", "/api/v1/alert-rules", `{"name":"r","event":"kev","channel_ids":[1]}`, 400, "event", ""},
		{"other workspace's rule", "GET", fmt.Sprintf("/api/v1/alert-rules/%d", orule.ID), "", 404, "not_found", ""},
		{"bad alert filter", "GET", "/api/v1/alerts?status=maybe", "", 400, "status", ""},
		{"bad event filter", "GET", "/api/v1/alerts?event=nope", "", 400, "event", ""},
		{"no alerts yet", "GET", "/api/v1/alerts", "", 200, `"total":0`, ""},
		{"settings default", "GET", "/api/v1/alert-settings", "", 200, `"critical":15`, ""},
		{"settings bad severity", "PUT", "/api/v1/alert-settings", `{"sla_days":{"urgent":1}}`, 400, "urgent", ""},
		{"settings saved", "PUT", "/api/v1/alert-settings", `{"sla_days":{"critical":7}}`, 200, `"critical":7`, ""},
	}
	for _, s := range steps {
		resp, b := f.do(s.method, s.path, tok, strings.NewReader(s.body), nil)
		if resp.StatusCode != s.want || !strings.Contains(string(b), s.wantIn) || (s.wantNotIn != "" && strings.Contains(string(b), s.wantNotIn)) {
			t.Errorf("%s: %d %s", s.name, resp.StatusCode, b)
		}
	}
	chans, _ := f.svc.ListChannels(ctx, service.Actor{WorkspaceID: f.ws1.ID, Role: domain.RoleAdmin})
	var ops int64
	for _, c := range chans {
		if c.Name == "ops" {
			ops = c.ID
		}
	}
	resp, b := f.do("POST", "/api/v1/alert-rules", tok, strings.NewReader(
		fmt.Sprintf(`{"name":"KEV","event":"kev_finding","channel_ids":[%d],"filter":{"min_severity":"high"}}`, ops)), nil)
	if resp.StatusCode != 201 || !strings.Contains(string(b), `"notify_resolved":true`) || !strings.Contains(string(b), `"enabled":true`) {
		t.Fatalf("create rule: %d %s", resp.StatusCode, b)
	}
	resp, b = f.do("POST", fmt.Sprintf("/api/v1/channels/%d/test", ops), tok, nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"status":"sent"`) || !strings.Contains(string(b), `"response_code":200`) || hits != 1 {
		t.Errorf("send test: %d %s (hits %d)", resp.StatusCode, b, hits)
	}
	resp, b = f.do("GET", fmt.Sprintf("/api/v1/channels/%d/notifications", ops), tok, nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"kind":"test"`) || !strings.Contains(string(b), `"history":[{`) {
		t.Errorf("channel notifications: %d %s", resp.StatusCode, b)
	}
	resp, _ = f.do("GET", fmt.Sprintf("/api/v1/channels/%d/notifications", och.ID), tok, nil, nil)
	if resp.StatusCode != 404 {
		t.Errorf("other workspace's notifications: %d", resp.StatusCode)
	}
}
