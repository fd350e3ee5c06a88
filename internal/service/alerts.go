package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/notify"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// AlertQueue hands alert work to the durable job queue (internal/jobs), so
// that ingest never waits for rule evaluation or for a slow channel.
type AlertQueue interface {
	// EnqueueHostAlerts asks for the host's alert rules to be evaluated.
	EnqueueHostAlerts(ctx context.Context, workspaceID, hostID int64) error
	// EnqueueDeliveries asks for the notifications to be delivered, each
	// as its own job with retries.
	EnqueueDeliveries(ctx context.Context, workspaceID int64, notificationIDs []int64) error
}

// ChannelInput is a channel as created or edited. Secrets nil keeps the
// stored ones; the stored ones are never returned.
type ChannelInput struct {
	Name    string                `json:"name"`
	Kind    string                `json:"kind"`
	Enabled *bool                 `json:"enabled"`
	Config  alert.ChannelConfig   `json:"config"`
	Secrets *alert.ChannelSecrets `json:"secrets"`
}

func channelAD(workspaceID int64) string { return fmt.Sprintf("vigil:channel:%d", workspaceID) }

func (s *Service) sealChannel(workspaceID int64, sec alert.ChannelSecrets) ([]byte, error) {
	b, err := json.Marshal(sec)
	if err != nil {
		return nil, err
	}
	return s.Sealer.Seal(b, channelAD(workspaceID))
}

func (s *Service) openChannel(c *alert.Channel) (alert.ChannelSecrets, error) {
	var sec alert.ChannelSecrets
	if len(c.Sealed) == 0 {
		return sec, nil
	}
	b, err := s.Sealer.Open(c.Sealed, channelAD(c.WorkspaceID))
	if err != nil {
		return sec, fmt.Errorf("open channel %d secrets: %w", c.ID, err)
	}
	return sec, json.Unmarshal(b, &sec)
}

// ListChannels returns the workspace's channels, without secrets.
func (s *Service) ListChannels(ctx context.Context, a Actor) ([]alert.Channel, error) {
	return s.Store.ListChannels(ctx, a.WorkspaceID)
}

// GetChannel returns one channel, without secrets.
func (s *Service) GetChannel(ctx context.Context, a Actor, id int64) (*alert.Channel, error) {
	return s.Store.GetChannel(ctx, a.WorkspaceID, id)
}

// CreateChannel adds a notification channel; its secrets are sealed.
func (s *Service) CreateChannel(ctx context.Context, a Actor, in ChannelInput) (*alert.Channel, error) {
	if err := a.Require(domain.PermSettings); err != nil {
		return nil, err
	}
	c := &alert.Channel{WorkspaceID: a.WorkspaceID, Name: in.Name, Kind: in.Kind, Enabled: in.Enabled == nil || *in.Enabled,
		Config: in.Config, CreatedAt: s.Now()}
	var sec alert.ChannelSecrets
	if in.Secrets != nil {
		sec = *in.Secrets
	}
	if err := s.prepareChannel(c, sec); err != nil {
		return nil, err
	}
	if err := s.Store.CreateChannel(ctx, c); err != nil {
		return nil, err
	}
	s.Log.Info("channel created", "workspace_id", a.WorkspaceID, "channel_id", c.ID, "kind", c.Kind, "by", a.Login)
	s.Audit(ctx, a, "channel.create", "channel", c.ID, map[string]string{"name": c.Name, "kind": c.Kind})
	return c, nil
}

// prepareChannel validates c with sec and seals sec into c.
func (s *Service) prepareChannel(c *alert.Channel, sec alert.ChannelSecrets) error {
	if c.Kind == alert.ChannelSlack || c.Kind == alert.ChannelTeams {
		c.Config.URL = "" // theirs is a credential: sealed, never in config
	}
	if err := c.Validate(sec); err != nil {
		return err
	}
	sealed, err := s.sealChannel(c.WorkspaceID, sec)
	if err != nil {
		return err
	}
	c.Sealed = sealed
	return nil
}

// UpdateChannel edits a channel; secrets given replace the stored ones.
func (s *Service) UpdateChannel(ctx context.Context, a Actor, id int64, in ChannelInput) (*alert.Channel, error) {
	if err := a.Require(domain.PermSettings); err != nil {
		return nil, err
	}
	c, err := s.Store.GetChannel(ctx, a.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	sec, err := s.openChannel(c)
	if err != nil {
		return nil, err
	}
	if in.Kind != "" && in.Kind != c.Kind {
		// Another kind's secrets mean something else: start afresh.
		sec = alert.ChannelSecrets{}
		c.Kind = in.Kind
	}
	if in.Secrets != nil {
		// An empty field keeps the stored value: forms never echo secrets.
		if in.Secrets.WebhookSecret != "" {
			sec.WebhookSecret = in.Secrets.WebhookSecret
		}
		if in.Secrets.Password != "" {
			sec.Password = in.Secrets.Password
		}
		if in.Secrets.URL != "" {
			sec.URL = in.Secrets.URL
		}
	}
	c.Name, c.Config, c.UpdatedAt = in.Name, in.Config, s.Now()
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	if err := s.prepareChannel(c, sec); err != nil {
		return nil, err
	}
	if err := s.Store.UpdateChannel(ctx, c); err != nil {
		return nil, err
	}
	s.Log.Info("channel updated", "workspace_id", a.WorkspaceID, "channel_id", c.ID, "by", a.Login)
	s.Audit(ctx, a, "channel.update", "channel", c.ID, map[string]string{"name": c.Name, "kind": c.Kind})
	return c, nil
}

// DeleteChannel removes a channel and its notification history.
func (s *Service) DeleteChannel(ctx context.Context, a Actor, id int64) error {
	if err := a.Require(domain.PermSettings); err != nil {
		return err
	}
	if err := s.Store.DeleteChannel(ctx, a.WorkspaceID, id); err != nil {
		return err
	}
	s.Audit(ctx, a, "channel.delete", "channel", id, nil)
	return nil
}

// TestChannel sends a test message now and returns the recorded
// notification with its attempt, so the user sees the outcome at once.
func (s *Service) TestChannel(ctx context.Context, a Actor, id int64) (*alert.Notification, error) {
	if err := a.Require(domain.PermSettings); err != nil {
		return nil, err
	}
	c, err := s.Store.GetChannel(ctx, a.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	n := &alert.Notification{WorkspaceID: a.WorkspaceID, ChannelID: c.ID, Kind: alert.KindTest, Status: alert.NotifyPending,
		Events: []alert.Event{{Kind: alert.KindTest, Type: "test", Subject: "channel:" + strconv.FormatInt(c.ID, 10),
			Title:   fmt.Sprintf("test message for channel %q, sent by %s", c.Name, a.Login),
			Details: map[string]string{"channel": c.Name}, At: now}}, CreatedAt: now}
	if err := s.Store.CreateNotification(ctx, n); err != nil {
		return nil, err
	}
	_ = s.deliver(ctx, c, n, true)
	return s.Store.GetNotification(ctx, a.WorkspaceID, n.ID)
}

// ListAlertRules returns the workspace's alert rules.
func (s *Service) ListAlertRules(ctx context.Context, a Actor) ([]alert.Rule, error) {
	return s.Store.ListAlertRules(ctx, a.WorkspaceID)
}

// GetAlertRule returns one rule.
func (s *Service) GetAlertRule(ctx context.Context, a Actor, id int64) (*alert.Rule, error) {
	return s.Store.GetAlertRule(ctx, a.WorkspaceID, id)
}

func (s *Service) validateRule(ctx context.Context, r *alert.Rule) error {
	chans, err := s.Store.ListChannels(ctx, r.WorkspaceID)
	if err != nil {
		return err
	}
	return r.Validate(func(id int64) bool {
		return slices.ContainsFunc(chans, func(c alert.Channel) bool { return c.ID == id })
	})
}

// CreateAlertRule adds a rule.
func (s *Service) CreateAlertRule(ctx context.Context, a Actor, r alert.Rule) (*alert.Rule, error) {
	if err := a.Require(domain.PermSettings); err != nil {
		return nil, err
	}
	r.ID, r.WorkspaceID, r.CreatedAt = 0, a.WorkspaceID, s.Now()
	if err := s.validateRule(ctx, &r); err != nil {
		return nil, err
	}
	if err := s.Store.CreateAlertRule(ctx, &r); err != nil {
		return nil, err
	}
	s.Log.Info("alert rule created", "workspace_id", a.WorkspaceID, "rule_id", r.ID, "event", r.Event, "by", a.Login)
	s.Audit(ctx, a, "alert_rule.create", "alert_rule", r.ID, map[string]any{"name": r.Name, "event": r.Event, "channels": r.ChannelIDs, "mode": r.Mode})
	return &r, nil
}

// UpdateAlertRule replaces a rule's settings. Its open alerts stay open
// and are re-judged at the next evaluation.
func (s *Service) UpdateAlertRule(ctx context.Context, a Actor, id int64, r alert.Rule) (*alert.Rule, error) {
	if err := a.Require(domain.PermSettings); err != nil {
		return nil, err
	}
	old, err := s.Store.GetAlertRule(ctx, a.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	r.ID, r.WorkspaceID, r.CreatedAt, r.UpdatedAt = id, a.WorkspaceID, old.CreatedAt, s.Now()
	if err := s.validateRule(ctx, &r); err != nil {
		return nil, err
	}
	if err := s.Store.UpdateAlertRule(ctx, &r); err != nil {
		return nil, err
	}
	s.Audit(ctx, a, "alert_rule.update", "alert_rule", r.ID, map[string]any{"name": r.Name, "event": r.Event, "enabled": r.Enabled, "channels": r.ChannelIDs, "mode": r.Mode})
	return &r, nil
}

// DeleteAlertRule deletes a rule; its alerts are kept, resolved.
func (s *Service) DeleteAlertRule(ctx context.Context, a Actor, id int64) error {
	if err := a.Require(domain.PermSettings); err != nil {
		return err
	}
	if err := s.Store.DeleteAlertRule(ctx, a.WorkspaceID, id, s.Now()); err != nil {
		return err
	}
	s.Audit(ctx, a, "alert_rule.delete", "alert_rule", id, nil)
	return nil
}

// ListAlerts returns alerts, open first.
func (s *Service) ListAlerts(ctx context.Context, a Actor, f store.AlertFilter) ([]alert.Alert, int, error) {
	return s.Store.ListAlerts(ctx, a.WorkspaceID, f)
}

// GetAlert returns an alert with its notifications (newest first).
func (s *Service) GetAlert(ctx context.Context, a Actor, id int64) (*alert.Alert, []alert.Notification, error) {
	al, err := s.Store.GetAlert(ctx, a.WorkspaceID, id)
	if err != nil {
		return nil, nil, err
	}
	ns, err := s.Store.ListNotifications(ctx, a.WorkspaceID, store.NotificationFilter{AlertID: id})
	return al, ns, err
}

// ListNotifications returns notifications (a channel's history, a digest's
// items).
func (s *Service) ListNotifications(ctx context.Context, a Actor, f store.NotificationFilter) ([]alert.Notification, error) {
	return s.Store.ListNotifications(ctx, a.WorkspaceID, f)
}

// AlertSettings returns the workspace's SLA settings.
func (s *Service) AlertSettings(ctx context.Context, a Actor) (alert.Settings, error) {
	return s.Store.AlertSettings(ctx, a.WorkspaceID)
}

// SaveAlertSettings changes the workspace's SLA settings.
func (s *Service) SaveAlertSettings(ctx context.Context, a Actor, set alert.Settings) error {
	if err := a.Require(domain.PermSettings); err != nil {
		return err
	}
	if err := set.Validate(); err != nil {
		return err
	}
	if err := s.Store.SaveAlertSettings(ctx, a.WorkspaceID, set); err != nil {
		return err
	}
	s.Audit(ctx, a, "settings.alerts", "workspace", a.WorkspaceID, set)
	return nil
}

// afterIngest queues an alert evaluation for each host whose report was
// accepted. A queue failure is logged: the periodic sweep catches up.
func (s *Service) afterIngest(ctx context.Context, workspaceID int64, hostIDs []int64) {
	if s.AlertQueue == nil {
		return
	}
	for _, h := range hostIDs {
		if err := s.AlertQueue.EnqueueHostAlerts(ctx, workspaceID, h); err != nil {
			s.Log.Error("queue alert evaluation", "workspace_id", workspaceID, "host_id", h, "err", err)
		}
	}
}

// hostEvents are the event types evaluated after a report.
var hostEvents = []string{alert.EventNewFinding, alert.EventKEVFinding, alert.EventFindingOverdue, alert.EventCheckFailed,
	alert.EventHostUnreachable, alert.EventHostStale, alert.EventHostKeyChanged}

// timeEvents are the event types that can start to hold with nothing but
// time passing: the periodic sweep evaluates them.
var timeEvents = []string{alert.EventFindingOverdue, alert.EventHostStale}

// EvaluateHostAlerts evaluates the workspace's host rules on one host and
// queues the resulting notifications; it returns how many alerts changed.
func (s *Service) EvaluateHostAlerts(ctx context.Context, workspaceID, hostID int64) (int, error) {
	rules, err := s.Store.ListAlertRules(ctx, workspaceID, hostEvents...)
	if err != nil || len(rules) == 0 {
		return 0, err
	}
	ws, err := s.Store.GetWorkspace(ctx, workspaceID)
	if err != nil {
		return 0, err
	}
	set, err := s.Store.AlertSettings(ctx, workspaceID)
	if err != nil {
		return 0, err
	}
	h, err := s.Store.GetHost(ctx, workspaceID, hostID)
	if err != nil {
		return 0, err
	}
	return s.evaluateHost(ctx, rules, &alert.HostState{Host: h, Interval: ws.Schedule.Interval()}, set)
}

// evaluateHost loads what the rules need about the host, reconciles each
// rule and writes all changes in one transaction.
func (s *Service) evaluateHost(ctx context.Context, rules []alert.Rule, st *alert.HostState, set alert.Settings) (int, error) {
	ws, hostID := st.Host.WorkspaceID, st.Host.ID
	var needFindings, needChecks, needGroups, needLabels bool
	ids := make([]int64, len(rules))
	for i, r := range rules {
		ids[i] = r.ID
		switch r.Event {
		case alert.EventNewFinding, alert.EventKEVFinding, alert.EventFindingOverdue:
			needFindings = true
		case alert.EventCheckFailed:
			needChecks = true
		}
		needGroups = needGroups || len(r.Filter.GroupIDs) > 0
		needLabels = needLabels || len(r.Filter.Labels) > 0
	}
	var err error
	if needFindings {
		if st.Findings, _, err = s.Store.ListFindings(ctx, ws, store.FindingFilter{HostID: hostID, Status: vuln.FindingOpen,
			IncludeMarked: true, Now: s.Now()}); err != nil {
			return 0, err
		}
	}
	if needChecks {
		if st.Checks, err = s.Store.ListCheckResults(ctx, ws, store.CheckResultFilter{HostID: hostID}); err != nil {
			return 0, err
		}
	}
	if needGroups {
		if st.Groups, err = s.Store.HostGroupIDs(ctx, ws, hostID); err != nil {
			return 0, err
		}
	}
	if needLabels {
		if st.Labels, err = s.Store.HostLabels(ctx, ws, hostID); err != nil {
			return 0, err
		}
	}
	open, err := s.Store.OpenAlerts(ctx, ws, ids, hostID)
	if err != nil {
		return 0, err
	}
	byRule := map[int64][]alert.Alert{}
	for _, a := range open {
		byRule[a.RuleID] = append(byRule[a.RuleID], a)
	}
	now := s.Now()
	var changes []alert.Change
	for i := range rules {
		r := &rules[i]
		changes = append(changes, alert.Reconcile(r, byRule[r.ID], alert.HostConditions(r, st, set, now), now)...)
	}
	return len(changes), s.apply(ctx, ws, changes)
}

func (s *Service) apply(ctx context.Context, workspaceID int64, changes []alert.Change) error {
	if len(changes) == 0 {
		return nil
	}
	due, err := s.Store.ApplyAlertChanges(ctx, workspaceID, changes)
	if err != nil {
		return err
	}
	for _, c := range changes {
		s.Log.Info("alert "+c.Alert.Status, "workspace_id", workspaceID, "alert_id", c.Alert.ID, "rule_id", c.Alert.RuleID,
			"subject", c.Alert.Subject, "notifications", len(c.Notifications))
	}
	if len(due) == 0 {
		return nil
	}
	if s.AlertQueue == nil {
		return fmt.Errorf("%d notifications stored but no job queue to deliver them", len(due))
	}
	return s.AlertQueue.EnqueueDeliveries(ctx, workspaceID, due)
}

// SweepAlerts evaluates what time alone can change, in every workspace
// with rules: hosts going stale, findings passing their due date or SLA,
// agents going offline, feeds failing. One workspace's failure does not
// stop the others.
func (s *Service) SweepAlerts(ctx context.Context) error {
	wss, err := s.Store.AlertWorkspaces(ctx)
	if err != nil {
		return err
	}
	var firstErr error
	for _, ws := range wss {
		if err := s.sweepWorkspace(ctx, ws); err != nil {
			s.Log.Error("alert sweep", "workspace_id", ws, "err", err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

func (s *Service) sweepWorkspace(ctx context.Context, workspaceID int64) error {
	now := s.Now()
	if err := s.RequeueStalled(ctx, workspaceID); err != nil {
		return err
	}
	// A deleted host's open alerts can never clear by evaluation.
	if n, err := s.Store.ResolveOrphanAlerts(ctx, workspaceID, hostEvents, now); err != nil {
		return err
	} else if n > 0 {
		s.Log.Info("alerts of deleted hosts resolved", "workspace_id", workspaceID, "count", n)
	}
	rules, err := s.Store.ListAlertRules(ctx, workspaceID, timeEvents...)
	if err != nil {
		return err
	}
	if len(rules) > 0 {
		ws, err := s.Store.GetWorkspace(ctx, workspaceID)
		if err != nil {
			return err
		}
		set, err := s.Store.AlertSettings(ctx, workspaceID)
		if err != nil {
			return err
		}
		hosts, err := s.Store.ListHosts(ctx, workspaceID, store.HostFilter{})
		if err != nil {
			return err
		}
		for i := range hosts {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if _, err := s.evaluateHost(ctx, rules, &alert.HostState{Host: &hosts[i], Interval: ws.Schedule.Interval()}, set); err != nil {
				return fmt.Errorf("host %d: %w", hosts[i].ID, err)
			}
		}
	}
	wsRules, err := s.Store.ListAlertRules(ctx, workspaceID, alert.EventAgentOffline, alert.EventFeedFailed)
	if err != nil || len(wsRules) == 0 {
		return err
	}
	ids := make([]int64, len(wsRules))
	for i, r := range wsRules {
		ids[i] = r.ID
	}
	open, err := s.Store.OpenAlerts(ctx, workspaceID, ids, 0)
	if err != nil {
		return err
	}
	byRule := map[int64][]alert.Alert{}
	for _, a := range open {
		byRule[a.RuleID] = append(byRule[a.RuleID], a)
	}
	var agents []domain.Agent
	var feeds []alert.FeedState
	var changes []alert.Change
	for i := range wsRules {
		r := &wsRules[i]
		var c alert.Conditions
		switch r.Event {
		case alert.EventAgentOffline:
			if agents == nil {
				if agents, err = s.Store.ListAgents(ctx, workspaceID); err != nil {
					return err
				}
			}
			c = alert.AgentConditions(r, agents, now)
		case alert.EventFeedFailed:
			if feeds == nil {
				fs, err := s.Store.ListFeedStates(ctx)
				if err != nil {
					return err
				}
				feeds = make([]alert.FeedState, 0, len(fs))
				for _, f := range fs {
					feeds = append(feeds, alert.FeedState{Feed: f.Feed, LastAttemptAt: f.LastAttemptAt,
						LastSuccessAt: f.LastSuccessAt, LastError: f.LastError})
				}
			}
			c = alert.FeedConditions(r, feeds)
		}
		changes = append(changes, alert.Reconcile(r, byRule[r.ID], c, now)...)
	}
	return s.apply(ctx, workspaceID, changes)
}

// SendDigests gathers the notifications waiting for digests of the mode
// (hourly or daily) into one digest per channel and queues them.
func (s *Service) SendDigests(ctx context.Context, mode string) error {
	wss, err := s.Store.AlertWorkspaces(ctx)
	if err != nil {
		return err
	}
	for _, ws := range wss {
		ds, err := s.Store.CollectDigest(ctx, ws, mode, s.Now())
		if err != nil {
			return err
		}
		ids := make([]int64, len(ds))
		for i, d := range ds {
			ids[i] = d.ID
		}
		if len(ids) > 0 {
			if s.AlertQueue == nil {
				return fmt.Errorf("%d digests stored but no job queue to deliver them", len(ids))
			}
			if err := s.AlertQueue.EnqueueDeliveries(ctx, ws, ids); err != nil {
				return err
			}
		}
	}
	return nil
}

// DeliverNotification makes one delivery attempt. It records the attempt
// and returns its error, so the job queue retries; final says no retry
// follows, and a failure is then recorded as failed for good. A
// notification already sent is not sent again (a retried job whose
// previous run sent it but did not finish).
func (s *Service) DeliverNotification(ctx context.Context, workspaceID, id int64, final bool) error {
	n, err := s.Store.GetNotification(ctx, workspaceID, id)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return nil // its channel was deleted with its history
	} else if err != nil {
		return err
	}
	if n.Status != alert.NotifyPending {
		return nil
	}
	c, err := s.Store.GetChannel(ctx, workspaceID, n.ChannelID)
	if err != nil {
		return err
	}
	if !c.Enabled && n.Kind != alert.KindTest {
		// Disabled after the notification was queued: not sent, and
		// recorded so, rather than retried.
		at := alert.Attempt{At: s.Now(), Error: "channel disabled"}
		return s.Store.RecordAttempt(ctx, workspaceID, n.ID, at, alert.NotifyFailed)
	}
	return s.deliver(ctx, c, n, final)
}

// RequeueStalled queues again the notifications still pending long after
// they were created: those whose delivery job was never inserted (the
// queue failed right after the alert was written). The queue drops a
// delivery whose job still exists (waiting for a retry, say), so this never
// sends twice.
func (s *Service) RequeueStalled(ctx context.Context, workspaceID int64) error {
	if s.AlertQueue == nil {
		return nil
	}
	ids, err := s.Store.StalledNotifications(ctx, workspaceID, s.Now().Add(-10*time.Minute))
	if err != nil || len(ids) == 0 {
		return err
	}
	s.Log.Warn("re-queueing stalled notifications", "workspace_id", workspaceID, "count", len(ids))
	return s.AlertQueue.EnqueueDeliveries(ctx, workspaceID, ids)
}

func (s *Service) deliver(ctx context.Context, c *alert.Channel, n *alert.Notification, final bool) error {
	start := time.Now()
	sec, err := s.openChannel(c)
	var res notify.Result
	if err == nil {
		sender := s.Notifier
		if sender == nil {
			sender = &notify.Sender{}
		}
		res, err = sender.Send(ctx, c, sec, &notify.Message{WorkspaceID: n.WorkspaceID, NotificationID: n.ID, Kind: n.Kind,
			Events: n.Events, SentAt: s.Now()})
	}
	at := alert.Attempt{At: s.Now(), OK: err == nil, ResponseCode: res.ResponseCode, DurationMS: time.Since(start).Milliseconds()}
	status := alert.NotifySent
	if err != nil {
		at.Error = err.Error()
		status = alert.NotifyPending
		if final {
			status = alert.NotifyFailed
		}
	}
	if rerr := s.Store.RecordAttempt(ctx, n.WorkspaceID, n.ID, at, status); rerr != nil {
		s.Log.Error("record delivery attempt", "workspace_id", n.WorkspaceID, "notification_id", n.ID, "err", rerr)
	}
	if err != nil {
		s.Log.Warn("notification delivery failed", "workspace_id", n.WorkspaceID, "notification_id", n.ID,
			"channel_id", c.ID, "kind", c.Kind, "final", final, "err", err)
		return err
	}
	s.Log.Info("notification sent", "workspace_id", n.WorkspaceID, "notification_id", n.ID, "channel_id", c.ID, "kind", c.Kind)
	return nil
}
