package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// alertFixture is a workspace with a host, a channel and a rule.
type alertFixture struct {
	ws   int64
	host *domain.Host
	ch   *alert.Channel
	ch2  *alert.Channel
	rule *alert.Rule
}

func newAlertFixture(t *testing.T, s store.Store) alertFixture {
	t.Helper()
	ctx := context.Background()
	ws := newWorkspace(t, s).ID
	fx := alertFixture{ws: ws, host: newHost(t, s, ws, unique("web"))}
	fx.ch = &alert.Channel{WorkspaceID: ws, Name: "hook", Kind: alert.ChannelWebhook, Enabled: true,
		Config: alert.ChannelConfig{URL: "https://example.net/hook"}, Sealed: []byte("sealed-1"), CreatedAt: at(0)}
	must(t, s.CreateChannel(ctx, fx.ch))
	fx.ch2 = &alert.Channel{WorkspaceID: ws, Name: "mail", Kind: alert.ChannelEmail, Enabled: true,
		Config: alert.ChannelConfig{SMTPHost: "smtp.example.net", SMTPPort: 587, From: "v@example.net", To: []string{"ops@example.net"}},
		Sealed: []byte("sealed-2"), CreatedAt: at(0)}
	must(t, s.CreateChannel(ctx, fx.ch2))
	fx.rule = &alert.Rule{WorkspaceID: ws, Name: "KEV", Event: alert.EventKEVFinding, Enabled: true,
		Filter: alert.Filter{MinSeverity: "high", Labels: map[string]string{"env": "prod"}}, ChannelIDs: []int64{fx.ch.ID, fx.ch2.ID},
		Mode: alert.ModeImmediate, RenotifyMinutes: 60, NotifyResolved: true, CreatedAt: at(0)}
	must(t, s.CreateAlertRule(ctx, fx.rule))
	return fx
}

func testAlertChannelsAndRules(t *testing.T, s store.Store) {
	ctx := context.Background()
	fx := newAlertFixture(t, s)
	c, err := s.GetChannel(ctx, fx.ws, fx.ch.ID)
	must(t, err)
	if c.Name != "hook" || c.Config.URL != "https://example.net/hook" || string(c.Sealed) != "sealed-1" || !c.HasSecret || !c.Enabled {
		t.Errorf("channel %+v", c)
	}
	wantTime(t, "channel created", c.CreatedAt, at(0))
	// Update without secrets keeps the sealed ones.
	c.Name, c.Sealed, c.Enabled = "hook-2", nil, false
	must(t, s.UpdateChannel(ctx, c))
	c, err = s.GetChannel(ctx, fx.ws, fx.ch.ID)
	must(t, err)
	if c.Name != "hook-2" || string(c.Sealed) != "sealed-1" || c.Enabled {
		t.Errorf("after update %+v", c)
	}
	dup := &alert.Channel{WorkspaceID: fx.ws, Name: "mail", Kind: alert.ChannelWebhook}
	wantCode(t, s.CreateChannel(ctx, dup), domain.ECONFLICT)

	r, err := s.GetAlertRule(ctx, fx.ws, fx.rule.ID)
	must(t, err)
	if r.Filter.MinSeverity != "high" || r.Filter.Labels["env"] != "prod" || len(r.ChannelIDs) != 2 || r.RenotifyMinutes != 60 || !r.NotifyResolved {
		t.Errorf("rule %+v", r)
	}
	other := &alert.Rule{WorkspaceID: fx.ws, Name: "offline", Event: alert.EventAgentOffline, Enabled: false, ChannelIDs: []int64{fx.ch.ID}, Mode: alert.ModeDaily}
	must(t, s.CreateAlertRule(ctx, other))
	all, err := s.ListAlertRules(ctx, fx.ws)
	must(t, err)
	enabledKEV, err := s.ListAlertRules(ctx, fx.ws, alert.EventKEVFinding, alert.EventAgentOffline)
	must(t, err)
	if len(all) != 2 || len(enabledKEV) != 1 || enabledKEV[0].ID != fx.rule.ID {
		t.Errorf("rules: all %d, enabled of the events %d", len(all), len(enabledKEV))
	}
	wss, err := s.AlertWorkspaces(ctx)
	must(t, err)
	if !containsID(wss, fx.ws) {
		t.Errorf("alert workspaces %v lack %d", wss, fx.ws)
	}

	// Tenant isolation: another workspace reaches none of it.
	ws2 := newWorkspace(t, s).ID
	_, err = s.GetChannel(ctx, ws2, fx.ch.ID)
	wantCode(t, err, domain.ENOTFOUND)
	_, err = s.GetAlertRule(ctx, ws2, fx.rule.ID)
	wantCode(t, err, domain.ENOTFOUND)
	wantCode(t, s.DeleteChannel(ctx, ws2, fx.ch.ID), domain.ENOTFOUND)
	wantCode(t, s.DeleteAlertRule(ctx, ws2, fx.rule.ID, at(time.Hour)), domain.ENOTFOUND)
	cs, err := s.ListChannels(ctx, ws2)
	must(t, err)
	if len(cs) != 0 {
		t.Errorf("workspace 2 sees %d channels", len(cs))
	}

	// Settings default until saved.
	set, err := s.AlertSettings(ctx, fx.ws)
	must(t, err)
	if set.SLADays["critical"] != 15 {
		t.Errorf("default settings %+v", set)
	}
	must(t, s.SaveAlertSettings(ctx, fx.ws, alert.Settings{SLADays: map[string]int{"critical": 7}}))
	must(t, s.SaveAlertSettings(ctx, fx.ws, alert.Settings{SLADays: map[string]int{"critical": 5, "high": 20}}))
	set, err = s.AlertSettings(ctx, fx.ws)
	must(t, err)
	if set.SLADays["critical"] != 5 || set.SLADays["high"] != 20 {
		t.Errorf("saved settings %+v", set)
	}
}

func subject(key string, hostID int64, fp string) alert.Subject {
	return alert.Subject{Key: key, HostID: &hostID, HostName: "web", Title: key + " title", Severity: "critical", Fingerprint: fp,
		Details: map[string]string{"vuln_id": "CVE-2024-0001"}}
}

func testAlertLifecycle(t *testing.T, s store.Store) {
	ctx := context.Background()
	fx := newAlertFixture(t, s)
	r := fx.rule
	h := fx.host.ID

	// Two subjects open: two alerts, two notifications each, all due.
	cond := alert.Conditions{Current: []alert.Subject{subject("finding:1", h, "a"), subject("finding:2", h, "a")}}
	due, err := s.ApplyAlertChanges(ctx, fx.ws, alert.Reconcile(r, nil, cond, at(time.Minute)))
	must(t, err)
	if len(due) != 4 {
		t.Fatalf("%d due notifications, want 4", len(due))
	}
	open, err := s.OpenAlerts(ctx, fx.ws, []int64{r.ID}, h)
	must(t, err)
	if len(open) != 2 || open[0].Details["vuln_id"] != "CVE-2024-0001" || open[0].LastNotifiedAt == nil || open[0].HostID == nil || *open[0].HostID != h {
		t.Fatalf("open alerts %+v", open)
	}
	wantTime(t, "opened", open[0].OpenedAt, at(time.Minute))

	// The same state again changes nothing.
	if ch := alert.Reconcile(r, open, cond, at(2*time.Minute)); len(ch) != 0 {
		t.Fatalf("unchanged state gave %d changes", len(ch))
	}
	// A concurrent evaluation that opens the same subject again is dropped.
	due, err = s.ApplyAlertChanges(ctx, fx.ws, alert.Reconcile(r, nil, cond, at(2*time.Minute)))
	must(t, err)
	if len(due) != 0 {
		t.Errorf("duplicate open queued %d notifications", len(due))
	}
	_, total, err := s.ListAlerts(ctx, fx.ws, store.AlertFilter{})
	must(t, err)
	if total != 2 {
		t.Fatalf("%d alerts after a duplicate open", total)
	}

	// finding:1 changes, finding:2 resolves.
	cond = alert.Conditions{Current: []alert.Subject{subject("finding:1", h, "b")}}
	due, err = s.ApplyAlertChanges(ctx, fx.ws, alert.Reconcile(r, open, cond, at(3*time.Minute)))
	must(t, err)
	if len(due) != 4 {
		t.Fatalf("%d due after change and resolve, want 4", len(due))
	}
	// A concurrent evaluation that read the same open alerts resolves
	// finding:2 again: the alert is already resolved, nothing more is sent.
	var again []alert.Change
	for _, ch := range alert.Reconcile(r, open, cond, at(3*time.Minute)) {
		if ch.Alert.Status == alert.StatusResolved {
			again = append(again, ch)
		}
	}
	if len(again) != 1 {
		t.Fatalf("%d resolving changes, want 1", len(again))
	}
	due, err = s.ApplyAlertChanges(ctx, fx.ws, again)
	must(t, err)
	if len(due) != 0 {
		t.Errorf("a second resolve queued %d notifications", len(due))
	}
	resolved, total, err := s.ListAlerts(ctx, fx.ws, store.AlertFilter{Status: alert.StatusResolved})
	must(t, err)
	if total != 1 || resolved[0].Subject != "finding:2" || resolved[0].ResolvedAt == nil {
		t.Fatalf("resolved %+v", resolved)
	}
	ns, err := s.ListNotifications(ctx, fx.ws, store.NotificationFilter{AlertID: resolved[0].ID})
	must(t, err)
	if len(ns) != 4 || ns[0].Kind != alert.KindResolved || ns[0].Events[0].AlertID != resolved[0].ID || ns[0].ChannelName == "" {
		t.Fatalf("notifications of the resolved alert %+v", ns)
	}

	// Pending notifications older than a time are the stalled ones.
	n := ns[0]
	stalled, err := s.StalledNotifications(ctx, fx.ws, at(10*time.Minute))
	must(t, err)
	if !containsID(stalled, n.ID) || len(stalled) != 8 {
		t.Errorf("stalled %v, want the 8 pending including %d", stalled, n.ID)
	}
	if early, _ := s.StalledNotifications(ctx, fx.ws, at(0)); len(early) != 0 {
		t.Errorf("stalled before any was created: %v", early)
	}
	if other, _ := s.StalledNotifications(ctx, newWorkspace(t, s).ID, at(10*time.Minute)); len(other) != 0 {
		t.Errorf("another workspace sees stalled %v", other)
	}

	// Attempts are kept in order with their codes.
	must(t, s.RecordAttempt(ctx, fx.ws, n.ID, alert.Attempt{At: at(4 * time.Minute), Error: "webhook answered 500", ResponseCode: 500, DurationMS: 12}, alert.NotifyPending))
	must(t, s.RecordAttempt(ctx, fx.ws, n.ID, alert.Attempt{At: at(5 * time.Minute), OK: true, ResponseCode: 200, DurationMS: 8}, alert.NotifySent))
	got, err := s.GetNotification(ctx, fx.ws, n.ID)
	must(t, err)
	if got.Status != alert.NotifySent || got.Attempts != 2 || len(got.History) != 2 || got.History[0].ResponseCode != 500 ||
		got.History[1].OK != true || got.ResponseCode != 200 || got.LastError != "" {
		t.Errorf("after attempts %+v", got)
	}
	wantTimePtr(t, "sent", got.SentAt, at(5*time.Minute))
	if stalled, _ := s.StalledNotifications(ctx, fx.ws, at(10*time.Minute)); containsID(stalled, n.ID) {
		t.Error("a sent notification is still stalled")
	}
	_, err = s.GetNotification(ctx, newWorkspace(t, s).ID, n.ID)
	wantCode(t, err, domain.ENOTFOUND)

	// Two evaluations that read the same open alert and both see it
	// changed (or both find a reminder due): only the first notifies.
	read, err := s.OpenAlerts(ctx, fx.ws, []int64{r.ID}, h)
	must(t, err)
	if len(read) != 1 {
		t.Fatalf("open alerts %+v", read)
	}
	for _, tc := range []struct {
		name string
		cond alert.Conditions
		now  time.Time
		kind string
	}{
		{"changed", alert.Conditions{Current: []alert.Subject{subject("finding:1", h, "c")}}, at(4 * time.Minute), alert.KindChanged},
		{"reminder", alert.Conditions{Current: []alert.Subject{subject("finding:1", h, "c")}}, at(65 * time.Minute), alert.KindReminder},
	} {
		first := alert.Reconcile(r, read, tc.cond, tc.now)
		second := alert.Reconcile(r, read, tc.cond, tc.now)
		if len(first) != 1 || len(first[0].Notifications) != 2 || first[0].Notifications[0].Kind != tc.kind {
			t.Fatalf("%s: changes %+v", tc.name, first)
		}
		due, err := s.ApplyAlertChanges(ctx, fx.ws, first)
		must(t, err)
		if len(due) != 2 {
			t.Errorf("%s: first evaluation queued %d, want 2", tc.name, len(due))
		}
		due, err = s.ApplyAlertChanges(ctx, fx.ws, second)
		must(t, err)
		if len(due) != 0 {
			t.Errorf("%s: the concurrent evaluation queued %d, want 0", tc.name, len(due))
		}
		if read, err = s.OpenAlerts(ctx, fx.ws, []int64{r.ID}, h); err != nil || len(read) != 1 {
			t.Fatalf("open alerts %+v %v", read, err)
		}
	}

	// Deleting the host leaves its open alert without a host; the sweep
	// resolves such orphans quietly (only for host events).
	stillOpen, _, err := s.ListAlerts(ctx, fx.ws, store.AlertFilter{Status: alert.StatusOpen})
	must(t, err)
	if len(stillOpen) != 1 || stillOpen[0].Subject != "finding:1" {
		t.Fatalf("open %+v", stillOpen)
	}
	must(t, s.DeleteHost(ctx, fx.ws, h))
	n2, err := s.ResolveOrphanAlerts(ctx, newWorkspace(t, s).ID, []string{alert.EventKEVFinding}, at(50*time.Minute))
	must(t, err)
	if n2 != 0 {
		t.Errorf("another workspace resolved %d", n2)
	}
	n2, err = s.ResolveOrphanAlerts(ctx, fx.ws, []string{alert.EventCheckFailed}, at(50*time.Minute))
	must(t, err)
	if n2 != 0 {
		t.Errorf("resolved %d alerts of another event type", n2)
	}
	n2, err = s.ResolveOrphanAlerts(ctx, fx.ws, []string{alert.EventKEVFinding}, at(50*time.Minute))
	must(t, err)
	if n2 != 1 {
		t.Errorf("resolved %d orphans, want 1", n2)
	}
	orphan, err := s.GetAlert(ctx, fx.ws, stillOpen[0].ID)
	must(t, err)
	if orphan.Status != alert.StatusResolved || !orphan.Suppressed || orphan.HostID != nil || orphan.HostName != "web" {
		t.Errorf("orphan %+v", orphan)
	}

	// Deleting the rule resolves its open alerts quietly and keeps history.
	must(t, s.DeleteAlertRule(ctx, fx.ws, r.ID, at(time.Hour)))
	all, total, err := s.ListAlerts(ctx, fx.ws, store.AlertFilter{})
	must(t, err)
	if total != 2 || all[0].Status != alert.StatusResolved || all[1].Status != alert.StatusResolved || all[1].RuleName != "KEV" {
		t.Errorf("after rule delete %+v", all)
	}
}

func testAlertDigest(t *testing.T, s store.Store) {
	ctx := context.Background()
	fx := newAlertFixture(t, s)
	r := *fx.rule
	r.Mode = alert.ModeHourly
	h := fx.host.ID
	cond := alert.Conditions{Current: []alert.Subject{subject("finding:1", h, "a"), subject("finding:2", h, "a"), subject("finding:3", h, "a")}}
	due, err := s.ApplyAlertChanges(ctx, fx.ws, alert.Reconcile(&r, nil, cond, at(time.Minute)))
	must(t, err)
	if len(due) != 0 {
		t.Fatalf("digest rule queued %d immediate notifications", len(due))
	}
	ds, err := s.CollectDigest(ctx, fx.ws, alert.ModeDaily, at(time.Hour))
	must(t, err)
	if len(ds) != 0 {
		t.Errorf("daily digest collected %d", len(ds))
	}
	ds, err = s.CollectDigest(ctx, fx.ws, alert.ModeHourly, at(time.Hour))
	must(t, err)
	if len(ds) != 2 {
		t.Fatalf("%d digests, want one per channel", len(ds))
	}
	for _, d := range ds {
		if d.Kind != alert.KindDigest || len(d.Events) != 3 || d.Status != alert.NotifyPending {
			t.Errorf("digest %+v", d)
		}
		items, err := s.ListNotifications(ctx, fx.ws, store.NotificationFilter{DigestID: d.ID})
		must(t, err)
		if len(items) != 3 || items[0].Status != alert.NotifyDigested {
			t.Errorf("digest items %+v", items)
		}
	}
	ds, err = s.CollectDigest(ctx, fx.ws, alert.ModeHourly, at(2*time.Hour))
	must(t, err)
	if len(ds) != 0 {
		t.Errorf("collected %d digests twice", len(ds))
	}
}
