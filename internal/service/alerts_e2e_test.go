package service_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/jobs"
	"github.com/vigil-project/vigil/internal/notify"
	"github.com/vigil-project/vigil/internal/notify/notifytest"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/store/postgres"
	"github.com/vigil-project/vigil/internal/store/sqldb"
	"github.com/vigil-project/vigil/internal/store/sqlite"
	"github.com/vigil-project/vigil/internal/vuln"
)

// receiver is a local webhook endpoint that records deliveries and answers
// with the queued statuses first, then 200.
type receiver struct {
	mu       sync.Mutex
	calls    []delivery
	statuses []int
	srv      *httptest.Server
}

type delivery struct {
	header http.Header
	body   []byte
	at     time.Time
	status int
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		code := 200
		if len(r.statuses) > 0 {
			code, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.calls = append(r.calls, delivery{header: req.Header.Clone(), body: b, at: time.Now(), status: code})
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.calls...)
}

// alertEnv is a server with a real SQLite store, River running on it, a
// host assigned to an agent, vulnerability data for openssl, and local
// receivers for a webhook and e-mail.
type alertEnv struct {
	t     *testing.T
	ctx   context.Context
	svc   *service.Service
	admin service.Actor
	agent *domain.Agent
	host  *domain.Host
	hook  *receiver
	smtp  *notifytest.SMTPServer
	queue *jobs.Queue
	seq   atomic.Int64
	// skew moves the service's clock forward, for expiries.
	skew atomic.Int64
}

const hookSecret = "whsec-test-1"

func newAlertEnv(t *testing.T, hookStatuses ...int) *alertEnv {
	t.Helper()
	return newAlertEnvOn(t, "sqlite", hookStatuses...)
}

// newAlertEnvOn is newAlertEnv on SQLite or PostgreSQL, with River on the
// same database through that database's driver.
func newAlertEnvOn(t *testing.T, db string, hookStatuses ...int) *alertEnv {
	t.Helper()
	ctx := context.Background()
	var st *sqldb.DB
	var err error
	var pgURL string
	if db == "postgres" {
		pgURL = postgres.TestURL(t)
		st, err = postgres.Open(ctx, pgURL)
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, secrets.KeySize)
	_, _ = rand.Read(key)
	sealer, err := secrets.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := service.New(st, sealer, log)
	svc.NoBackground = true
	res, err := svc.Bootstrap(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.GetUserByLogin(ctx, service.AdminLogin)
	if err != nil {
		t.Fatal(err)
	}
	e := &alertEnv{t: t, ctx: ctx, svc: svc, hook: newReceiver(t, hookStatuses...), smtp: notifytest.StartSMTP(t, "vigil", "smtp-pass"),
		admin: service.Actor{UserID: u.ID, Login: u.Login, WorkspaceID: res.Workspace.ID, Role: domain.RoleAdmin}}
	svc.Notifier = &notify.Sender{TLSConfig: &tls.Config{RootCAs: e.smtp.RootCAs}, Timeout: 5 * time.Second}
	svc.Now = func() time.Time { return time.Now().UTC().Add(time.Duration(e.skew.Load())) }
	if e.agent, _, err = svc.CreateAgentKey(ctx, res.Workspace.ID, "agent-1"); err != nil {
		t.Fatal(err)
	}
	e.host = e.newHost("web-01")
	e.seedVulnData()
	opts := jobs.Options{Log: log, PollInterval: 20 * time.Millisecond,
		RetryBase: 150 * time.Millisecond, RetryMax: time.Second, DeliveryAttempts: 4, NoPeriodic: true}
	var q *jobs.Queue
	if db == "postgres" {
		q, err = jobs.OpenPostgres(ctx, pgURL, svc, opts)
	} else {
		q, err = jobs.OpenSQLite(ctx, st.SQL(), svc, opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	svc.AlertQueue = q
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.queue = q
	// Stop the queue before the store closes (cleanups run last-in first-out).
	t.Cleanup(func() { st.Close() })
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := q.Stop(sctx); err != nil {
			t.Errorf("stop queue: %v", err)
		}
	})
	return e
}

func (e *alertEnv) newHost(name string) *domain.Host {
	addr := "192.0.2.10"
	h, err := e.svc.CreateHost(e.ctx, e.admin, domain.HostInput{Name: &name, Address: &addr})
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// seedVulnData imports a Debian 12 advisory for openssl (fixed in
// 3.0.13-1~deb12u1) whose CVE is listed in KEV, as the feeds would.
func (e *alertEnv) seedVulnData() {
	adv := &vuln.Advisory{ID: "DSA-5600-1", Aliases: []string{"CVE-2024-0001"}, Summary: "openssl security update",
		Severity: "high", Published: time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC), Modified: time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC),
		Affected: []vuln.Affected{{Ecosystem: "Debian:12", Package: "openssl",
			Ranges: []vuln.Range{{Events: []vuln.Event{{Introduced: "0"}, {Fixed: "3.0.13-1~deb12u1"}}}}}}}
	if _, err := e.svc.Store.UpsertAdvisories(e.ctx, []*vuln.Advisory{adv}, time.Now()); err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.Store.ReplaceKEV(e.ctx, []vuln.KEV{{CVE: "CVE-2024-0001", VendorProject: "OpenSSL", Product: "OpenSSL",
		Name: "OpenSSL Buffer Overflow", DateAdded: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		DueDate: time.Date(2099, 3, 22, 0, 0, 0, 0, time.UTC), Ransomware: "Known"}}); err != nil {
		e.t.Fatal(err)
	}
}

// scan pushes a successful report of h with openssl at version through the
// agent API's use case, as an agent would.
func (e *alertEnv) scan(h *domain.Host, version string) {
	e.t.Helper()
	started := e.svc.Now().Add(time.Duration(e.seq.Add(1)) * time.Second)
	r := inventory.HostReport{SchemaVersion: inventory.SchemaVersion, ReportID: fmt.Sprintf("rep-%d-%d", h.ID, e.seq.Load()),
		HostID: h.ID, StartedAt: started, FinishedAt: started.Add(time.Second), Status: inventory.StatusOK,
		System: inventory.System{Hostname: h.Name, OS: inventory.OS{Family: "debian", ID: "debian", VersionID: "12",
			Name: "Debian GNU/Linux", PrettyName: "Debian GNU/Linux 12 (bookworm)"}},
		Packages: []inventory.Package{
			{Name: "openssl", Version: version, Arch: "amd64", SourceName: "openssl", SourceVersion: version, Ecosystem: inventory.EcosystemDeb},
			{Name: "libssl3", Version: version, Arch: "amd64", SourceName: "openssl", SourceVersion: version, Ecosystem: inventory.EcosystemDeb},
		}}
	reply, err := e.svc.IngestBatch(e.ctx, e.agent, &inventory.Batch{Reports: []inventory.HostReport{r}})
	if err != nil || reply.Results[0].Status != inventory.ResultAccepted {
		e.t.Fatalf("ingest: %v %+v", err, reply)
	}
}

func (e *alertEnv) webhookChannel() *alert.Channel {
	c, err := e.svc.CreateChannel(e.ctx, e.admin, service.ChannelInput{Name: "hook", Kind: alert.ChannelWebhook,
		Config: alert.ChannelConfig{URL: e.hook.srv.URL + "/vigil"}, Secrets: &alert.ChannelSecrets{WebhookSecret: hookSecret}})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *alertEnv) emailChannel() *alert.Channel {
	c, err := e.svc.CreateChannel(e.ctx, e.admin, service.ChannelInput{Name: "mail", Kind: alert.ChannelEmail,
		Config: alert.ChannelConfig{SMTPHost: e.smtp.Host, SMTPPort: e.smtp.Port, Username: "vigil",
			From: "vigil@example.net", To: []string{"ops@example.net"}},
		Secrets: &alert.ChannelSecrets{Password: "smtp-pass"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *alertEnv) rule(r alert.Rule) *alert.Rule {
	e.t.Helper()
	r.Enabled = true
	out, err := e.svc.CreateAlertRule(e.ctx, e.admin, r)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settle waits long enough for any stray job to have run: several poll
// intervals and a retry.
func settle() { time.Sleep(700 * time.Millisecond) }

func decode(t *testing.T, d delivery) notify.WebhookPayload {
	t.Helper()
	var p notify.WebhookPayload
	if err := json.Unmarshal(d.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAlertsEndToEnd is the proof of issue 6: a scan introduces a
// KEV-listed vulnerable package → one signed webhook call and one e-mail;
// the same finding in the next scan → nothing more; a scan with the package
// upgraded → one resolved notification per channel.
func TestAlertsEndToEnd(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) { testAlertsEndToEnd(t, db) })
	}
}

func testAlertsEndToEnd(t *testing.T, db string) {
	e := newAlertEnvOn(t, db)
	hook, mail := e.webhookChannel(), e.emailChannel()
	e.rule(alert.Rule{Name: "KEV", Event: alert.EventKEVFinding, ChannelIDs: []int64{hook.ID, mail.ID}, NotifyResolved: true})

	e.scan(e.host, "3.0.11-1~deb12u2")
	waitFor(t, "webhook and e-mail", func() bool { return len(e.hook.got()) == 1 && len(e.smtp.Mails()) == 1 })
	d := e.hook.got()[0]
	if err := notify.Verify(hookSecret, d.header, d.body, time.Now(), 5*time.Minute); err != nil {
		t.Errorf("webhook signature: %v", err)
	}
	p := decode(t, d)
	if p.Kind != alert.KindFiring || len(p.Events) != 1 || p.Events[0].Type != alert.EventKEVFinding ||
		p.Events[0].Details["vuln_id"] != "CVE-2024-0001" || p.Events[0].Details["fixed_version"] != "3.0.13-1~deb12u1" ||
		p.Events[0].HostName != "web-01" || p.Events[0].Details["kev_due_date"] != "2099-03-22" {
		t.Errorf("payload %s", d.body)
	}
	m := e.smtp.Mails()[0]
	if !m.TLS || m.User != "vigil" || !strings.Contains(string(m.Data), "CVE-2024-0001") {
		t.Errorf("mail %+v\n%s", m, m.Data)
	}

	// The same finding again: one alert, one notification per channel.
	e.scan(e.host, "3.0.11-1~deb12u2")
	settle()
	if n, k := len(e.hook.got()), len(e.smtp.Mails()); n != 1 || k != 1 {
		t.Fatalf("after a repeated scan: %d webhook calls, %d mails", n, k)
	}
	alerts, total, err := e.svc.ListAlerts(e.ctx, e.admin, store.AlertFilter{})
	if err != nil || total != 1 || alerts[0].Status != alert.StatusOpen {
		t.Fatalf("alerts %v %d %+v", err, total, alerts)
	}

	// Upgraded: the alert resolves and each channel hears it once.
	e.scan(e.host, "3.0.13-1~deb12u1")
	waitFor(t, "resolved notifications", func() bool { return len(e.hook.got()) == 2 && len(e.smtp.Mails()) == 2 })
	d = e.hook.got()[1]
	if p := decode(t, d); p.Kind != alert.KindResolved || p.Events[0].AlertID != alerts[0].ID {
		t.Errorf("resolved payload %s", d.body)
	}
	if err := notify.Verify(hookSecret, d.header, d.body, time.Now(), 5*time.Minute); err != nil {
		t.Errorf("resolved signature: %v", err)
	}
	if !strings.Contains(string(e.smtp.Mails()[1].Data), "Resolved: CVE-2024-0001") {
		t.Errorf("resolved mail:\n%s", e.smtp.Mails()[1].Data)
	}
	settle()
	if n, k := len(e.hook.got()), len(e.smtp.Mails()); n != 2 || k != 2 {
		t.Errorf("in the end: %d webhook calls, %d mails; want 2 and 2", n, k)
	}
	a, ns, err := e.svc.GetAlert(e.ctx, e.admin, alerts[0].ID)
	if err != nil || a.Status != alert.StatusResolved || a.ResolvedAt == nil || len(ns) != 4 {
		t.Fatalf("alert %+v, %d notifications, %v", a, len(ns), err)
	}
	for _, n := range ns {
		if n.Status != alert.NotifySent || n.Attempts != 1 || len(n.History) != 1 || !n.History[0].OK {
			t.Errorf("notification %+v", n)
		}
	}
}

// TestAlertDeliveryRetries: a webhook answering 500 twice is retried with
// growing delays until it takes the message, while the e-mail of the same
// alert goes out at once.
func TestAlertDeliveryRetries(t *testing.T) {
	e := newAlertEnv(t, 500, 500)
	hook, mail := e.webhookChannel(), e.emailChannel()
	e.rule(alert.Rule{Name: "KEV", Event: alert.EventKEVFinding, ChannelIDs: []int64{hook.ID, mail.ID}})
	start := time.Now()
	e.scan(e.host, "3.0.11-1~deb12u2")
	waitFor(t, "e-mail", func() bool { return len(e.smtp.Mails()) == 1 })
	mailAt := time.Since(start)
	waitFor(t, "third webhook attempt", func() bool { return len(e.hook.got()) == 3 })
	calls := e.hook.got()
	if calls[0].status != 500 || calls[1].status != 500 || calls[2].status != 200 {
		t.Fatalf("statuses %d %d %d", calls[0].status, calls[1].status, calls[2].status)
	}
	if mailAt > calls[2].at.Sub(start) {
		t.Errorf("the e-mail (%s) waited for the failing webhook (%s)", mailAt, calls[2].at.Sub(start))
	}
	// Backoff: 150 ms after the first failure, 300 ms after the second.
	g1, g2 := calls[1].at.Sub(calls[0].at), calls[2].at.Sub(calls[1].at)
	if g1 < 150*time.Millisecond || g2 < 300*time.Millisecond {
		t.Errorf("retry gaps %s, %s; want at least 150ms and 300ms", g1, g2)
	}
	// Every attempt is kept with its status code.
	ns, err := e.svc.ListNotifications(e.ctx, e.admin, store.NotificationFilter{ChannelID: hook.ID})
	if err != nil || len(ns) != 1 {
		t.Fatalf("%v %d", err, len(ns))
	}
	n := ns[0]
	waitFor(t, "attempts recorded", func() bool {
		got, _ := e.svc.ListNotifications(e.ctx, e.admin, store.NotificationFilter{ChannelID: hook.ID})
		n = got[0]
		return n.Status == alert.NotifySent
	})
	if n.Attempts != 3 || len(n.History) != 3 || n.History[0].ResponseCode != 500 || n.History[0].OK ||
		!strings.Contains(n.History[0].Error, "500") || n.History[2].ResponseCode != 200 || !n.History[2].OK {
		t.Errorf("notification %+v", n)
	}
}

// TestAlertGivesUpAfterMaxAttempts: a channel that always fails ends as
// failed after the configured attempts.
func TestAlertGivesUpAfterMaxAttempts(t *testing.T) {
	e := newAlertEnv(t, 500, 502, 503, 504, 500)
	hook := e.webhookChannel()
	e.rule(alert.Rule{Name: "KEV", Event: alert.EventKEVFinding, ChannelIDs: []int64{hook.ID}})
	e.scan(e.host, "3.0.11-1~deb12u2")
	var n alert.Notification
	waitFor(t, "failed notification", func() bool {
		got, _ := e.svc.ListNotifications(e.ctx, e.admin, store.NotificationFilter{ChannelID: hook.ID})
		if len(got) == 1 {
			n = got[0]
		}
		return n.Status == alert.NotifyFailed
	})
	if n.Attempts != 4 || len(e.hook.got()) != 4 || n.ResponseCode != 504 {
		t.Errorf("notification %+v after %d calls", n, len(e.hook.got()))
	}
}

// TestAlertDigest: an hourly rule collects the alerts of two hosts and
// sends one digest with both.
func TestAlertDigest(t *testing.T) {
	e := newAlertEnv(t)
	hook := e.webhookChannel()
	e.rule(alert.Rule{Name: "KEV hourly", Event: alert.EventKEVFinding, ChannelIDs: []int64{hook.ID}, Mode: alert.ModeHourly})
	web2 := e.newHost("web-02")
	e.scan(e.host, "3.0.11-1~deb12u2")
	e.scan(web2, "3.0.11-1~deb12u2")
	waitFor(t, "two alerts", func() bool {
		_, total, _ := e.svc.ListAlerts(e.ctx, e.admin, store.AlertFilter{Status: alert.StatusOpen})
		return total == 2
	})
	settle()
	if n := len(e.hook.got()); n != 0 {
		t.Fatalf("%d immediate calls for a digest rule", n)
	}
	if err := e.svc.SendDigests(e.ctx, alert.ModeDaily); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SendDigests(e.ctx, alert.ModeHourly); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "digest", func() bool { return len(e.hook.got()) == 1 })
	p := decode(t, e.hook.got()[0])
	if p.Kind != alert.KindDigest || len(p.Events) != 2 {
		t.Fatalf("digest %+v", p)
	}
	hosts := p.Events[0].HostName + "," + p.Events[1].HostName
	if hosts != "web-01,web-02" && hosts != "web-02,web-01" {
		t.Errorf("digest hosts %s", hosts)
	}
	// Sent once: the next digest run finds nothing waiting.
	if err := e.svc.SendDigests(e.ctx, alert.ModeHourly); err != nil {
		t.Fatal(err)
	}
	settle()
	if n := len(e.hook.got()); n != 1 {
		t.Errorf("%d digest calls", n)
	}
}

// TestMarkedFindingRaisesNoAlert: an accepted-risk finding does not alert,
// and marking an alerted finding resolves its alert without a notification.
func TestMarkedFindingRaisesNoAlert(t *testing.T) {
	e := newAlertEnv(t)
	hook := e.webhookChannel()
	e.rule(alert.Rule{Name: "KEV", Event: alert.EventKEVFinding, ChannelIDs: []int64{hook.ID}, NotifyResolved: true})
	e.scan(e.host, "3.0.11-1~deb12u2")
	waitFor(t, "webhook", func() bool { return len(e.hook.got()) == 1 })
	fs, _, err := e.svc.Store.ListFindings(e.ctx, e.admin.WorkspaceID, store.FindingFilter{HostID: e.host.ID})
	if err != nil || len(fs) != 1 {
		t.Fatalf("%v %+v", err, fs)
	}
	if err := e.svc.MarkFinding(e.ctx, e.admin, fs[0].ID, vuln.MarkAcceptedRisk, "compensating control", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.EvaluateHostAlerts(e.ctx, e.admin.WorkspaceID, e.host.ID); err != nil {
		t.Fatal(err)
	}
	as, _, _ := e.svc.ListAlerts(e.ctx, e.admin, store.AlertFilter{})
	if len(as) != 1 || as[0].Status != alert.StatusResolved || !as[0].Suppressed {
		t.Fatalf("alerts %+v", as)
	}
	// Rescanned while marked: still quiet.
	e.scan(e.host, "3.0.11-1~deb12u2")
	settle()
	if n := len(e.hook.got()); n != 1 {
		t.Errorf("%d webhook calls; the marked finding notified", n)
	}
}

// TestExpiredMarkAlertsAgain: a mark with an expiry silences the finding
// until then; once it has expired the next evaluation alerts again.
func TestExpiredMarkAlertsAgain(t *testing.T) {
	e := newAlertEnv(t)
	hook := e.webhookChannel()
	e.rule(alert.Rule{Name: "KEV", Event: alert.EventKEVFinding, ChannelIDs: []int64{hook.ID}, NotifyResolved: true})
	e.scan(e.host, "3.0.11-1~deb12u2")
	waitFor(t, "first alert", func() bool { return len(e.hook.got()) == 1 })
	fs, _, err := e.svc.Store.ListFindings(e.ctx, e.admin.WorkspaceID, store.FindingFilter{HostID: e.host.ID})
	if err != nil || len(fs) != 1 {
		t.Fatalf("%v %+v", err, fs)
	}
	expires := e.svc.Now().Add(time.Hour)
	if err := e.svc.MarkFinding(e.ctx, e.admin, fs[0].ID, vuln.MarkAcceptedRisk, "until the maintenance window", &expires); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.EvaluateHostAlerts(e.ctx, e.admin.WorkspaceID, e.host.ID); err != nil {
		t.Fatal(err)
	}
	if _, total, _ := e.svc.ListAlerts(e.ctx, e.admin, store.AlertFilter{Status: alert.StatusOpen}); total != 0 {
		t.Fatalf("%d open alerts while marked", total)
	}
	e.skew.Store(int64(2 * time.Hour))
	if _, err := e.svc.EvaluateHostAlerts(e.ctx, e.admin.WorkspaceID, e.host.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alert after expiry", func() bool { return len(e.hook.got()) == 2 })
	if p := decode(t, e.hook.got()[1]); p.Kind != alert.KindFiring {
		t.Errorf("after expiry %+v", p)
	}
	as, total, _ := e.svc.ListAlerts(e.ctx, e.admin, store.AlertFilter{})
	if total != 2 || as[0].Status != alert.StatusOpen || as[1].Status != alert.StatusResolved || !as[1].Suppressed {
		t.Errorf("alerts %+v", as)
	}
}

// TestTestChannel: "send test" records a test notification with its attempt.
func TestTestChannel(t *testing.T) {
	e := newAlertEnv(t)
	hook := e.webhookChannel()
	n, err := e.svc.TestChannel(e.ctx, e.admin, hook.ID)
	if err != nil || n.Status != alert.NotifySent || n.Kind != alert.KindTest || len(n.History) != 1 || n.History[0].ResponseCode != 200 {
		t.Fatalf("%v %+v", err, n)
	}
	if p := decode(t, e.hook.got()[0]); p.Kind != alert.KindTest {
		t.Errorf("payload %+v", p)
	}
	viewer := e.admin
	viewer.Role = domain.RoleViewer
	if _, err := e.svc.TestChannel(e.ctx, viewer, hook.ID); domain.ErrorCode(err) != domain.EFORBIDDEN {
		t.Errorf("viewer: %v", err)
	}
}

// TestSweepAlerts: the periodic sweep raises what time alone changes (an
// agent gone quiet, a host gone stale, a failed feed) and resolves it when
// the condition clears.
func TestSweepAlerts(t *testing.T) {
	e := newAlertEnv(t)
	hook := e.webhookChannel()
	for _, r := range []alert.Rule{
		{Name: "offline", Event: alert.EventAgentOffline, Filter: alert.Filter{OfflineMinutes: 30}, ChannelIDs: []int64{hook.ID}, NotifyResolved: true},
		{Name: "stale", Event: alert.EventHostStale, Filter: alert.Filter{StaleIntervals: 1}, ChannelIDs: []int64{hook.ID}, NotifyResolved: true},
		{Name: "feeds", Event: alert.EventFeedFailed, ChannelIDs: []int64{hook.ID}, NotifyResolved: true},
	} {
		e.rule(r)
	}
	e.scan(e.host, "3.0.13-1~deb12u1") // the agent reports: seen now, host fresh
	now := e.svc.Now()
	before := now.Add(-time.Hour)
	if err := e.svc.Store.SaveFeedState(e.ctx, &store.FeedState{Feed: "nvd", LastAttemptAt: &now, LastSuccessAt: &before,
		LastError: "nvd: 503 Service Unavailable"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SweepAlerts(e.ctx); err != nil {
		t.Fatal(err)
	}
	open := func() map[string]bool {
		as, _, err := e.svc.ListAlerts(e.ctx, e.admin, store.AlertFilter{Status: alert.StatusOpen})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, a := range as {
			m[a.Event] = true
		}
		return m
	}
	if got := open(); len(got) != 1 || !got[alert.EventFeedFailed] {
		t.Fatalf("right after a scan: open %v, want only the failed feed", got)
	}
	// The feed alert's notification goes out before the clock jumps: with
	// the jump, a notification still in flight would look stalled (pending
	// for three hours) and be queued a second time.
	waitFor(t, "the failed-feed notification", func() bool { return len(e.hook.got()) == 1 })
	// Three hours later without contact: the agent is offline and the host
	// stale (one-hour schedule).
	e.skew.Store(int64(3 * time.Hour))
	if err := e.svc.SweepAlerts(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := open(); len(got) != 3 {
		t.Fatalf("three hours later: open %v", got)
	}
	// The feed syncs again and the agent reports: all clear.
	later := e.svc.Now()
	if err := e.svc.Store.SaveFeedState(e.ctx, &store.FeedState{Feed: "nvd", LastAttemptAt: &later, LastSuccessAt: &later}); err != nil {
		t.Fatal(err)
	}
	e.scan(e.host, "3.0.13-1~deb12u1")
	if err := e.svc.SweepAlerts(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := open(); len(got) != 0 {
		t.Fatalf("after recovery: open %v", got)
	}
	waitFor(t, "3 firing and 3 resolved notifications", func() bool { return len(e.hook.got()) == 6 })
	kinds := map[string]int{}
	for _, d := range e.hook.got() {
		kinds[decode(t, d).Kind]++
	}
	if kinds[alert.KindFiring] != 3 || kinds[alert.KindResolved] != 3 {
		t.Errorf("notifications %v", kinds)
	}
}

// TestFeedUpdateAlerts: an advisory imported after the last report opens a
// finding through the re-match, and its alert goes out without waiting for
// the host's next report.
func TestFeedUpdateAlerts(t *testing.T) {
	e := newAlertEnv(t)
	e.svc.Matcher.Recheck = 0 // see the import at once, as the feed importers do
	hook := e.webhookChannel()
	e.rule(alert.Rule{Name: "any", Event: alert.EventNewFinding, ChannelIDs: []int64{hook.ID}})
	e.scan(e.host, "3.0.13-1~deb12u1") // fixed for DSA-5600-1: no finding
	settle()
	if n := len(e.hook.got()); n != 0 {
		t.Fatalf("%d calls before the new advisory", n)
	}
	adv := &vuln.Advisory{ID: "DSA-5700-1", Aliases: []string{"CVE-2024-0099"}, Severity: "high",
		Published: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), Modified: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
		Affected: []vuln.Affected{{Ecosystem: "Debian:12", Package: "openssl",
			Ranges: []vuln.Range{{Events: []vuln.Event{{Introduced: "0"}, {Fixed: "3.0.14-1~deb12u1"}}}}}}}
	keys, err := e.svc.Store.UpsertAdvisories(e.ctx, []*vuln.Advisory{adv}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.svc.Rematch(e.ctx, keys)
	if err != nil || st.Opened != 1 {
		fs, _, _ := e.svc.Store.ListFindings(e.ctx, e.admin.WorkspaceID, store.FindingFilter{HostID: e.host.ID, Status: "all"})
		t.Fatalf("rematch %+v %v; keys %v; findings %+v", st, err, keys, fs)
	}
	waitFor(t, "alert from the feed update", func() bool { return len(e.hook.got()) == 1 })
	if p := decode(t, e.hook.got()[0]); p.Events[0].Details["vuln_id"] != "CVE-2024-0099" {
		t.Errorf("payload %+v", p)
	}
}
