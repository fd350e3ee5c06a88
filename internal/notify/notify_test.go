package notify_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/notify"
	"github.com/vigil-project/vigil/internal/notify/notifytest"
)

var sentAt = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

func message() *notify.Message {
	return &notify.Message{WorkspaceID: 3, NotificationID: 42, Kind: alert.KindFiring, SentAt: sentAt,
		Events: []alert.Event{{Kind: alert.KindFiring, Type: alert.EventKEVFinding, AlertID: 7, RuleID: 2, RuleName: "KEV <now>",
			Subject: "finding:9", Title: "CVE-2024-0001 in openssl 3.0.11 on web-01", Severity: "critical", HostID: 5,
			HostName: "web-01", Details: map[string]string{"fixed_version": "3.0.13", "kev_due_date": "2024-03-22"}, At: sentAt}}}
}

// capture is an HTTP receiver that records requests and answers with the
// given statuses in turn (200 once they run out).
type capture struct {
	reqs     []*http.Request
	bodies   [][]byte
	statuses []int
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.reqs = append(c.reqs, r)
	c.bodies = append(c.bodies, b)
	code := 200
	if len(c.statuses) > 0 {
		code, c.statuses = c.statuses[0], c.statuses[1:]
	}
	w.WriteHeader(code)
	io.WriteString(w, "ok")
}

func TestWebhookSignedBody(t *testing.T) {
	rec := &capture{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	ch := &alert.Channel{Kind: alert.ChannelWebhook, Config: alert.ChannelConfig{URL: srv.URL + "/hook"}}
	res, err := (&notify.Sender{}).Send(context.Background(), ch, alert.ChannelSecrets{WebhookSecret: "s3cret"}, message())
	if err != nil || res.ResponseCode != 200 {
		t.Fatalf("send: %v, %+v", err, res)
	}
	if len(rec.reqs) != 1 {
		t.Fatalf("%d requests", len(rec.reqs))
	}
	r, body := rec.reqs[0], rec.bodies[0]
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	if r.Header.Get(notify.HeaderTimestamp) != strconv.FormatInt(sentAt.Unix(), 10) {
		t.Errorf("timestamp %q", r.Header.Get(notify.HeaderTimestamp))
	}
	// The documented verification, step by step, as a receiver does it.
	if err := notify.Verify("s3cret", r.Header, body, sentAt.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("verify: %v", err)
	}
	if err := notify.Verify("other", r.Header, body, sentAt, 5*time.Minute); err == nil {
		t.Error("a wrong secret verified")
	}
	if err := notify.Verify("s3cret", r.Header, append(body, ' '), sentAt, 5*time.Minute); err == nil {
		t.Error("a changed body verified")
	}
	if err := notify.Verify("s3cret", r.Header, body, sentAt.Add(time.Hour), 5*time.Minute); err == nil {
		t.Error("a replay an hour later verified")
	}
	// A replay under a fresh timestamp fails: the timestamp is signed.
	h := r.Header.Clone()
	h.Set(notify.HeaderTimestamp, strconv.FormatInt(sentAt.Add(time.Hour).Unix(), 10))
	if err := notify.Verify("s3cret", h, body, sentAt.Add(time.Hour), 5*time.Minute); err == nil {
		t.Error("a re-stamped replay verified")
	}
	var p notify.WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Version != 1 || p.NotificationID != 42 || p.WorkspaceID != 3 || p.Kind != "firing" || len(p.Events) != 1 ||
		p.Events[0].Title != "CVE-2024-0001 in openssl 3.0.11 on web-01" || p.Events[0].Details["fixed_version"] != "3.0.13" ||
		!p.SentAt.Equal(sentAt) {
		t.Errorf("payload %+v", p)
	}
}

func TestWebhookFailureKeepsStatus(t *testing.T) {
	rec := &capture{statuses: []int{503}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	ch := &alert.Channel{Kind: alert.ChannelWebhook, Config: alert.ChannelConfig{URL: srv.URL}}
	res, err := (&notify.Sender{}).Send(context.Background(), ch, alert.ChannelSecrets{}, message())
	if err == nil || res.ResponseCode != 503 || !strings.Contains(err.Error(), "503") {
		t.Fatalf("want a 503 error, got %v, %+v", err, res)
	}
	if rec.reqs[0].Header.Get(notify.HeaderSignature) != "" {
		t.Error("signed without a secret")
	}
}

func TestSlackAndTeamsBodies(t *testing.T) {
	for _, tc := range []struct {
		kind  string
		check func(t *testing.T, v map[string]any)
	}{
		{alert.ChannelSlack, func(t *testing.T, v map[string]any) {
			if !strings.HasPrefix(v["text"].(string), "Vigil Alert: CVE-2024-0001") {
				t.Errorf("text %q", v["text"])
			}
			blocks := v["blocks"].([]any)
			sec := blocks[1].(map[string]any)["text"].(map[string]any)["text"].(string)
			// Slack's mrkdwn control characters are escaped.
			if !strings.Contains(sec, "Rule: KEV &lt;now&gt;") || !strings.Contains(sec, "fixed_version: 3.0.13") {
				t.Errorf("section %q", sec)
			}
		}},
		{alert.ChannelTeams, func(t *testing.T, v map[string]any) {
			if v["@type"] != "MessageCard" || v["themeColor"] != "C62828" {
				t.Errorf("card %v", v)
			}
			s := v["sections"].([]any)[0].(map[string]any)
			facts, _ := json.Marshal(s["facts"])
			if !strings.Contains(string(facts), `{"name":"Host","value":"web-01"}`) ||
				!strings.Contains(string(facts), `{"name":"kev_due_date","value":"2024-03-22"}`) {
				t.Errorf("facts %s", facts)
			}
		}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			rec := &capture{}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			ch := &alert.Channel{Kind: tc.kind}
			if _, err := (&notify.Sender{}).Send(context.Background(), ch, alert.ChannelSecrets{URL: srv.URL + "/T000/B000/XXX"}, message()); err != nil {
				t.Fatal(err)
			}
			if rec.reqs[0].URL.Path != "/T000/B000/XXX" {
				t.Errorf("posted to %s", rec.reqs[0].URL.Path)
			}
			var v map[string]any
			if err := json.Unmarshal(rec.bodies[0], &v); err != nil {
				t.Fatal(err)
			}
			tc.check(t, v)
		})
	}
}

func TestSlackURLNotInError(t *testing.T) {
	ch := &alert.Channel{Kind: alert.ChannelSlack}
	_, err := (&notify.Sender{Timeout: time.Second}).Send(context.Background(), ch,
		alert.ChannelSecrets{URL: "http://127.0.0.1:1/services/T0/B0/SECRETTOKEN"}, message())
	if err == nil || strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Fatalf("error %v", err)
	}
}

func emailChannel(s *notifytest.SMTPServer, security, user string) *alert.Channel {
	return &alert.Channel{Kind: alert.ChannelEmail, Config: alert.ChannelConfig{SMTPHost: s.Host, SMTPPort: s.Port,
		Security: security, Username: user, From: "vigil@example.net", To: []string{"ops@example.net", "sec@example.net"}}}
}

func TestEmail(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mechs []string
	}{{"PLAIN", []string{"PLAIN", "LOGIN"}}, {"LOGIN", []string{"LOGIN"}}} {
		t.Run(tc.name, func(t *testing.T) {
			s := notifytest.StartSMTP(t, "vigil", "pa55")
			s.Mechs = tc.mechs
			snd := &notify.Sender{TLSConfig: &tls.Config{RootCAs: s.RootCAs}}
			res, err := snd.Send(context.Background(), emailChannel(s, alert.SecuritySTARTTLS, "vigil"),
				alert.ChannelSecrets{Password: "pa55"}, message())
			if err != nil || res.ResponseCode != 250 {
				t.Fatalf("send: %v %+v", err, res)
			}
			ms := s.Mails()
			if len(ms) != 1 {
				t.Fatalf("%d mails", len(ms))
			}
			m := ms[0]
			if !m.TLS || m.User != "vigil" || m.Mech != tc.name || m.From != "vigil@example.net" || len(m.To) != 2 {
				t.Errorf("envelope %+v", m)
			}
			msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
			if err != nil {
				t.Fatal(err)
			}
			subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if subj != "Vigil Alert: CVE-2024-0001 in openssl 3.0.11 on web-01 [critical]" {
				t.Errorf("subject %q", subj)
			}
			body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if !strings.Contains(string(body), "fixed_version: 3.0.13") || msg.Header.Get("X-Vigil-Notification") != "42" {
				t.Errorf("body %q", body)
			}
		})
	}
}

func TestEmailRefusals(t *testing.T) {
	s := notifytest.StartSMTP(t, "vigil", "pa55")
	ctx := context.Background()
	snd := &notify.Sender{TLSConfig: &tls.Config{RootCAs: s.RootCAs}}
	// A wrong password is the server's refusal, with its code.
	res, err := snd.Send(ctx, emailChannel(s, alert.SecuritySTARTTLS, "vigil"), alert.ChannelSecrets{Password: "nope"}, message())
	if err == nil || res.ResponseCode != 535 {
		t.Errorf("wrong password: %v %+v", err, res)
	}
	// No password is ever sent in the clear.
	if _, err := snd.Send(ctx, emailChannel(s, alert.SecurityNone, "vigil"), alert.ChannelSecrets{Password: "pa55"}, message()); err == nil ||
		!strings.Contains(err.Error(), "without TLS") {
		t.Errorf("security none with a password: %v", err)
	}
	// An untrusted certificate fails STARTTLS.
	if _, err := (&notify.Sender{}).Send(ctx, emailChannel(s, alert.SecuritySTARTTLS, "vigil"), alert.ChannelSecrets{Password: "pa55"}, message()); err == nil ||
		!strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("untrusted certificate: %v", err)
	}
	// A temporary failure at DATA reports the 451.
	s.FailNext(1)
	res, err = snd.Send(ctx, emailChannel(s, alert.SecuritySTARTTLS, "vigil"), alert.ChannelSecrets{Password: "pa55"}, message())
	if err == nil || res.ResponseCode != 451 {
		t.Errorf("451: %v %+v", err, res)
	}
	if n := len(s.Mails()); n != 0 {
		t.Errorf("%d mails accepted", n)
	}
}

func TestEmailImplicitTLS(t *testing.T) {
	s := notifytest.StartSMTPS(t, "vigil", "pa55")
	snd := &notify.Sender{TLSConfig: &tls.Config{RootCAs: s.RootCAs}}
	if _, err := snd.Send(context.Background(), emailChannel(s, alert.SecurityTLS, "vigil"), alert.ChannelSecrets{Password: "pa55"}, message()); err != nil {
		t.Fatal(err)
	}
	if ms := s.Mails(); len(ms) != 1 || !ms[0].TLS || ms[0].User != "vigil" {
		t.Fatalf("mails %+v", ms)
	}
	// STARTTLS against an implicit-TLS port fails cleanly, not hangs.
	snd.Timeout = 3 * time.Second
	if _, err := snd.Send(context.Background(), emailChannel(s, alert.SecuritySTARTTLS, "vigil"), alert.ChannelSecrets{Password: "pa55"}, message()); err == nil {
		t.Error("plain SMTP to a TLS port succeeded")
	}
}
