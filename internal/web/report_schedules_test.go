package web

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/notify"
	"github.com/vigil-project/vigil/internal/notify/notifytest"
	"github.com/vigil-project/vigil/internal/service"
)

// TestScheduledReportByEmail: a weekly schedule made on the Reports page
// sends the group's report to a real SMTP server (STARTTLS, AUTH) at its
// hour, once per slot, with the summary as text and the report as HTML
// with its style sheet inline, also attached.
func TestScheduledReportByEmail(t *testing.T) {
	e := newEnv(t)
	fx := newRiskFixture(t, e)
	ctx := context.Background()
	smtpd := notifytest.StartSMTP(t, "vigil", "smtp-pass")
	e.svc.Notifier = &notify.Sender{TLSConfig: &tls.Config{RootCAs: smtpd.RootCAs}, Timeout: 5 * time.Second}
	ch, err := e.svc.CreateChannel(ctx, e.admin, service.ChannelInput{Name: "ops mail", Kind: alert.ChannelEmail,
		Config: alert.ChannelConfig{SMTPHost: smtpd.Host, SMTPPort: smtpd.Port, Username: "vigil",
			From: "vigil@example.net", To: []string{"ops@example.net"}},
		Secrets: &alert.ChannelSecrets{Password: "smtp-pass"}})
	if err != nil {
		t.Fatal(err)
	}
	hook, err := e.svc.CreateChannel(ctx, e.admin, service.ChannelInput{Name: "hook", Kind: alert.ChannelWebhook,
		Config: alert.ChannelConfig{URL: "https://hooks.example.net/x"}, Secrets: &alert.ChannelSecrets{WebhookSecret: "s"}})
	if err != nil {
		t.Fatal(err)
	}

	// Made on a Monday at 09:00 for Mondays at 07:00: the first goes out
	// next Monday.
	clock := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	e.svc.Now = func() time.Time { return clock }
	s := e.session(e.admin)
	page := e.get(s, "/reports", http.StatusOK)
	wantContains(t, page, "ops mail", "Web servers")
	wantNotContains(t, page, ">hook<")
	form := url.Values{"group_id": {strconv.FormatInt(fx.group.ID, 10)}, "channel_id": {strconv.FormatInt(hook.ID, 10)},
		"frequency": {"weekly"}, "weekday": {"1"}, "hour": {"7"}}
	w := e.do(req{method: "POST", path: "/reports/schedules", form: withCSRF(s, form), sess: s})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "reports go to e-mail channels") {
		t.Fatalf("webhook channel: %d", w.Code)
	}
	form.Set("channel_id", strconv.FormatInt(ch.ID, 10))
	w = e.do(req{method: "POST", path: "/reports/schedules", form: withCSRF(s, form), sess: s})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("schedule: %d\n%s", w.Code, w.Body.String())
	}
	wantContains(t, e.get(s, "/reports", http.StatusOK), "every Monday at 07:00 UTC", "not yet")
	// An operator may read the schedules but not add one.
	op := e.session(e.user(domain.RoleOperator))
	if w := e.do(req{method: "POST", path: "/reports/schedules", form: withCSRF(op, form), sess: op}); w.Code != http.StatusForbidden {
		t.Errorf("operator scheduled a report: %d", w.Code)
	}

	send := func(at time.Time) int {
		t.Helper()
		clock = at
		n, err := e.svc.SendDueReports(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := send(time.Date(2026, 6, 7, 23, 0, 0, 0, time.UTC)); n != 0 {
		t.Fatalf("sent %d before the first slot", n)
	}
	if n := send(time.Date(2026, 6, 8, 7, 3, 0, 0, time.UTC)); n != 1 {
		t.Fatalf("sent %d at the first slot", n)
	}
	if n := send(time.Date(2026, 6, 8, 7, 8, 0, 0, time.UTC)); n != 0 {
		t.Fatalf("sent %d again in the same slot", n)
	}
	mails := smtpd.Mails()
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	m, err := mail.ReadMessage(bytes.NewReader(mails[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if subj != "Vigil report: Web servers, 2026-06-08" || !mails[0].TLS || mails[0].User != "vigil" {
		t.Errorf("subject %q, TLS %v, user %q", subj, mails[0].TLS, mails[0].User)
	}
	text, html, attached := mailParts(t, m)
	wantContains(t, text, "Web servers has 2 hosts", "attached as HTML")
	wantContains(t, html, "<h1>Web servers</h1>", "<style>", "break-before: page", "Top risks", "break-glass access")
	wantNotContains(t, html, "report.css", "Back to the group")
	if attached != "web-servers-2026-06-08.html" {
		t.Errorf("attachment %q", attached)
	}
	s = e.session(e.admin) // the clock moved past the first session's life
	page = e.get(s, "/reports", http.StatusOK)
	wantContains(t, page, "2026-06-08 07:00")

	// A failed send is recorded and waits for the next slot.
	smtpd.FailNext(1)
	if n := send(time.Date(2026, 6, 15, 7, 1, 0, 0, time.UTC)); n != 0 {
		t.Fatalf("a failed send counted as sent")
	}
	s = e.session(e.admin)
	wantContains(t, e.get(s, "/reports", http.StatusOK), "failed:")
	if n := send(time.Date(2026, 6, 22, 7, 1, 0, 0, time.UTC)); n != 1 || len(smtpd.Mails()) != 2 {
		t.Fatalf("next slot after a failure: sent %d, %d mails", n, len(smtpd.Mails()))
	}
	s = e.session(e.admin)
	wantNotContains(t, e.get(s, "/reports", http.StatusOK), "failed:")

	// Stopping it.
	scheds, err := e.svc.ListReportSchedules(ctx, e.admin)
	if err != nil || len(scheds) != 1 {
		t.Fatalf("%v %v", scheds, err)
	}
	w = e.do(req{method: "POST", path: "/reports/schedules/delete", form: withCSRF(s, url.Values{"id": {strconv.FormatInt(scheds[0].ID, 10)}}), sess: s})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", w.Code)
	}
	if n := send(time.Date(2026, 6, 29, 7, 1, 0, 0, time.UTC)); n != 0 {
		t.Errorf("a stopped schedule sent %d", n)
	}
}

// mailParts walks a multipart/mixed report mail: the text and HTML
// alternatives and the attachment's file name.
func mailParts(t *testing.T, m *mail.Message) (text, html, attachment string) {
	t.Helper()
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		ct, ps, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if ct == "multipart/alternative" {
			ar := multipart.NewReader(p, ps["boundary"])
			for {
				ap, err := ar.NextPart()
				if err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(ap) // quoted-printable is decoded by the reader
				act, _, _ := mime.ParseMediaType(ap.Header.Get("Content-Type"))
				if act == "text/plain" {
					text = string(b)
				} else {
					html = string(b)
				}
			}
			continue
		}
		if _, dp, err := mime.ParseMediaType(p.Header.Get("Content-Disposition")); err == nil {
			attachment = dp["filename"]
		}
	}
	return text, html, attachment
}
