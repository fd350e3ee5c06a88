package alert

import (
	"slices"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/vuln"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func finding(id int64, sev string, kev *vuln.KEV, firstSeen time.Time) vuln.Finding {
	return vuln.Finding{ID: id, VulnID: "CVE-2024-000" + string(rune('0'+id)), Package: "openssl", Installed: "3.0.11",
		Fixed: "3.0.13", Severity: sev, Status: vuln.FindingOpen, KEV: kev, FirstSeen: firstSeen}
}

func keys(c Conditions) []string {
	var out []string
	for _, s := range c.Current {
		out = append(out, s.Key)
	}
	slices.Sort(out)
	return out
}

func TestHostConditions(t *testing.T) {
	kevDue := &vuln.KEV{CVE: "x", DueDate: now.Add(-24 * time.Hour)}
	kevLater := &vuln.KEV{CVE: "y", DueDate: now.Add(24 * time.Hour)}
	marked := finding(5, "critical", kevLater, now)
	marked.Mark, marked.MarkExpiresAt = vuln.MarkAcceptedRisk, ptr(now.Add(time.Hour))
	expired := finding(6, "critical", kevLater, now)
	expired.Mark, expired.MarkExpiresAt = vuln.MarkFalsePositive, ptr(now.Add(-time.Hour))
	host := &domain.Host{ID: 7, Name: "web-01", CreatedAt: now.Add(-30 * 24 * time.Hour), LastSuccessAt: ptr(now.Add(-2 * time.Hour))}
	st := &HostState{Host: host, Groups: []int64{3}, Labels: map[string]string{"env": "prod"}, Interval: time.Hour,
		Findings: []vuln.Finding{
			finding(1, "critical", nil, now.Add(-20*24*time.Hour)), // past the 15-day critical SLA
			finding(2, "high", kevDue, now),                        // past its KEV due date
			finding(3, "medium", kevLater, now),
			finding(4, "low", nil, now.Add(-100*24*time.Hour)),
			marked, expired,
		},
		Checks: []domain.CheckResult{{CheckID: "ssh-root", Status: domain.CheckFail}, {CheckID: "ntp", Status: domain.CheckPass},
			{CheckID: "fw", Status: domain.CheckFail}}}
	set := DefaultSettings()
	for _, tc := range []struct {
		name       string
		rule       Rule
		want       []string
		suppressed []string
	}{
		{"new finding at or above high", Rule{Event: EventNewFinding, Filter: Filter{MinSeverity: "high"}},
			[]string{"finding:1", "finding:2", "finding:6"}, []string{"finding:5"}},
		{"every new finding", Rule{Event: EventNewFinding}, []string{"finding:1", "finding:2", "finding:3", "finding:4", "finding:6"}, []string{"finding:5"}},
		{"KEV only filter", Rule{Event: EventNewFinding, Filter: Filter{KEVOnly: true}}, []string{"finding:2", "finding:3", "finding:6"}, []string{"finding:5"}},
		{"KEV findings", Rule{Event: EventKEVFinding}, []string{"finding:2", "finding:3", "finding:6"}, []string{"finding:5"}},
		{"overdue by KEV date or SLA", Rule{Event: EventFindingOverdue}, []string{"finding:1", "finding:2"}, nil},
		{"failed checks", Rule{Event: EventCheckFailed}, []string{"check:7:fw", "check:7:ssh-root"}, nil},
		{"one failed check", Rule{Event: EventCheckFailed, Filter: Filter{CheckIDs: []string{"fw"}}}, []string{"check:7:fw"}, nil},
		{"group matches", Rule{Event: EventCheckFailed, Filter: Filter{GroupIDs: []int64{9, 3}, Labels: map[string]string{"env": "prod"}}},
			[]string{"check:7:fw", "check:7:ssh-root"}, nil},
		{"other group", Rule{Event: EventCheckFailed, Filter: Filter{GroupIDs: []int64{9}}}, nil, []string{"*"}},
		{"other label value", Rule{Event: EventNewFinding, Filter: Filter{Labels: map[string]string{"env": "dev"}}}, nil, []string{"*"}},
		{"not stale within 3 intervals", Rule{Event: EventHostStale}, nil, nil},
		{"stale after 1 interval", Rule{Event: EventHostStale, Filter: Filter{StaleIntervals: 1}}, []string{"host:7"}, nil},
		{"reachable", Rule{Event: EventHostUnreachable}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := HostConditions(&tc.rule, st, set, now)
			if got := keys(c); !slices.Equal(got, tc.want) {
				t.Errorf("subjects %v, want %v", got, tc.want)
			}
			var sup []string
			for k := range c.Suppressed {
				sup = append(sup, k)
			}
			slices.Sort(sup)
			if !slices.Equal(sup, tc.suppressed) {
				t.Errorf("suppressed %v, want %v", sup, tc.suppressed)
			}
		})
	}
}

func TestHostErrorConditions(t *testing.T) {
	scan := ptr(now.Add(-time.Minute))
	for _, tc := range []struct {
		kind        string
		unreachable bool
		keyChanged  bool
	}{{inventory.ErrKindUnreachable, true, false}, {inventory.ErrKindAuth, true, false}, {inventory.ErrKindHostKeyChanged, false, true}} {
		h := &domain.Host{ID: 2, Name: "db", LastScanAt: scan, LastError: "boom", LastErrorKind: tc.kind}
		st := &HostState{Host: h}
		u := HostConditions(&Rule{Event: EventHostUnreachable}, st, Settings{}, now)
		k := HostConditions(&Rule{Event: EventHostKeyChanged}, st, Settings{}, now)
		if (len(u.Current) == 1) != tc.unreachable || (len(k.Current) == 1) != tc.keyChanged {
			t.Errorf("%s: unreachable %v, key changed %v", tc.kind, u.Current, k.Current)
		}
	}
}

func TestAgentAndFeedConditions(t *testing.T) {
	agents := []domain.Agent{
		{ID: 1, Name: "fresh", LastSeenAt: ptr(now.Add(-10 * time.Minute))},
		{ID: 2, Name: "old", LastSeenAt: ptr(now.Add(-2 * time.Hour))},
		{ID: 3, Name: "never", CreatedAt: now.Add(-3 * time.Hour)},
		{ID: 4, Name: "revoked", LastSeenAt: ptr(now.Add(-9 * time.Hour)), RevokedAt: ptr(now)},
	}
	if got := keys(AgentConditions(&Rule{Event: EventAgentOffline}, agents, now)); !slices.Equal(got, []string{"agent:2", "agent:3"}) {
		t.Errorf("offline agents %v", got)
	}
	if got := keys(AgentConditions(&Rule{Event: EventAgentOffline, Filter: Filter{OfflineMinutes: 5}}, agents, now)); len(got) != 3 {
		t.Errorf("offline after 5 minutes %v", got)
	}
	feeds := []FeedState{
		{Feed: "nvd", LastAttemptAt: ptr(now), LastSuccessAt: ptr(now.Add(-time.Hour)), LastError: "503"},
		{Feed: "kev", LastAttemptAt: ptr(now), LastSuccessAt: ptr(now), LastError: ""},
		{Feed: "epss", LastAttemptAt: ptr(now), LastError: "timeout"},
	}
	if got := keys(FeedConditions(&Rule{Event: EventFeedFailed}, feeds)); !slices.Equal(got, []string{"feed:epss", "feed:nvd"}) {
		t.Errorf("failed feeds %v", got)
	}
	if got := keys(FeedConditions(&Rule{Event: EventFeedFailed, Filter: Filter{Feeds: []string{"nvd"}}}, feeds)); !slices.Equal(got, []string{"feed:nvd"}) {
		t.Errorf("failed nvd %v", got)
	}
}

func TestReconcile(t *testing.T) {
	r := &Rule{ID: 1, WorkspaceID: 2, Name: "r", Event: EventKEVFinding, ChannelIDs: []int64{10, 11}, Mode: ModeImmediate,
		RenotifyMinutes: 60, NotifyResolved: true}
	s := Subject{Key: "finding:1", Title: "t", Severity: "high", Fingerprint: "a"}
	ch := Reconcile(r, nil, Conditions{Current: []Subject{s, s}}, now)
	if len(ch) != 1 || ch[0].Alert.Status != StatusOpen || len(ch[0].Notifications) != 2 || ch[0].Notifications[0].Kind != KindFiring ||
		ch[0].Notifications[1].ChannelID != 11 || ch[0].Notifications[0].Status != NotifyPending {
		t.Fatalf("open: %+v", ch)
	}
	open := ch[0].Alert
	open.ID = 5
	kinds := func(ch []Change) []string {
		var out []string
		for _, c := range ch {
			k := c.Alert.Status
			if len(c.Notifications) > 0 {
				k += "/" + c.Notifications[0].Kind
			}
			out = append(out, k)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		cur  []Subject
		sup  map[string]bool
		rule func(Rule) Rule
		want []string
	}{
		{"unchanged", now.Add(time.Minute), []Subject{s}, nil, nil, nil},
		{"changed", now.Add(time.Minute), []Subject{{Key: "finding:1", Fingerprint: "b"}}, nil, nil, []string{"open/changed"}},
		{"reminder after the interval", now.Add(61 * time.Minute), []Subject{s}, nil, nil, []string{"open/reminder"}},
		{"no reminder without interval", now.Add(61 * time.Minute), []Subject{s}, nil, func(r Rule) Rule { r.RenotifyMinutes = 0; return r }, nil},
		{"resolved", now.Add(time.Minute), nil, nil, nil, []string{"resolved/resolved"}},
		{"resolved quietly when not asked", now.Add(time.Minute), nil, nil, func(r Rule) Rule { r.NotifyResolved = false; return r }, []string{"resolved"}},
		{"suppressed by a mark", now.Add(time.Minute), nil, map[string]bool{"finding:1": true}, nil, []string{"resolved"}},
		{"host left the filter", now.Add(time.Minute), nil, map[string]bool{"*": true}, nil, []string{"resolved"}},
		{"rule now watches another event", now.Add(time.Minute), nil, nil, func(r Rule) Rule { r.Event = EventNewFinding; return r }, []string{"resolved"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rr := *r
			if tc.rule != nil {
				rr = tc.rule(rr)
			}
			got := Reconcile(&rr, []Alert{open}, Conditions{Current: tc.cur, Suppressed: tc.sup}, tc.at)
			if k := kinds(got); !slices.Equal(k, tc.want) {
				t.Errorf("changes %v, want %v", k, tc.want)
			}
			for _, c := range got {
				if c.Alert.ID != 5 {
					t.Errorf("change of alert %d, want 5", c.Alert.ID)
				}
			}
		})
	}
	digest := *r
	digest.Mode = ModeDaily
	if ch := Reconcile(&digest, nil, Conditions{Current: []Subject{s}}, now); ch[0].Notifications[0].Status != NotifyDigestWait {
		t.Errorf("digest rule notification %+v", ch[0].Notifications[0])
	}
}

func TestRuleAndChannelValidate(t *testing.T) {
	ok := func(id int64) bool { return id == 1 }
	for _, tc := range []struct {
		r    Rule
		want bool
	}{
		{Rule{Name: "a", Event: EventKEVFinding, ChannelIDs: []int64{1}}, true},
		{Rule{Name: "", Event: EventKEVFinding, ChannelIDs: []int64{1}}, false},
		{Rule{Name: "a", Event: "nope", ChannelIDs: []int64{1}}, false},
		{Rule{Name: "a", Event: EventKEVFinding}, false},
		{Rule{Name: "a", Event: EventKEVFinding, ChannelIDs: []int64{2}}, false},
		{Rule{Name: "a", Event: EventKEVFinding, ChannelIDs: []int64{1}, Mode: "weekly"}, false},
		{Rule{Name: "a", Event: EventKEVFinding, ChannelIDs: []int64{1}, Filter: Filter{MinSeverity: "severe"}}, false},
	} {
		if err := tc.r.Validate(ok); (err == nil) != tc.want {
			t.Errorf("%+v: %v", tc.r, err)
		}
	}
	for _, tc := range []struct {
		c    Channel
		sec  ChannelSecrets
		want bool
	}{
		{Channel{Name: "w", Kind: ChannelWebhook, Config: ChannelConfig{URL: "https://x/y"}}, ChannelSecrets{}, true},
		{Channel{Name: "w", Kind: ChannelWebhook, Config: ChannelConfig{URL: "ftp://x"}}, ChannelSecrets{}, false},
		{Channel{Name: "s", Kind: ChannelSlack}, ChannelSecrets{URL: "https://hooks.slack.com/services/x"}, true},
		{Channel{Name: "s", Kind: ChannelTeams}, ChannelSecrets{}, false},
		{Channel{Name: "m", Kind: ChannelEmail, Config: ChannelConfig{SMTPHost: "h", From: "a@b", To: []string{"c@d"}}}, ChannelSecrets{}, true},
		{Channel{Name: "m", Kind: ChannelEmail, Config: ChannelConfig{SMTPHost: "h", From: "a@b", To: []string{"c@d\r\nBcc: e@f"}}}, ChannelSecrets{}, false},
		{Channel{Name: "m", Kind: ChannelEmail, Config: ChannelConfig{SMTPHost: "h", From: "a@b", To: []string{"c@d"}, Username: "u"}}, ChannelSecrets{}, false},
		{Channel{Name: "x", Kind: "pager"}, ChannelSecrets{}, false},
	} {
		if err := tc.c.Validate(tc.sec); (err == nil) != tc.want {
			t.Errorf("%+v: %v", tc.c, err)
		}
	}
}
