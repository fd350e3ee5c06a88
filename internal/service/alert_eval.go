package service

// Alert evaluation (after reports, feed updates and on the periodic sweep),
// digests and delivery. The channel, rule and settings use cases are in
// alerts.go.

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/notify"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// afterIngest queues an alert evaluation for each host whose report was
// accepted, when the workspace has an enabled rule a report can fire (most
// reports of a workspace without rules then cost one small read, not a job
// each). A queue failure is logged: the periodic sweep catches up.
func (s *Service) afterIngest(ctx context.Context, workspaceID int64, hostIDs []int64) {
	if s.AlertQueue == nil || len(hostIDs) == 0 {
		return
	}
	rules, err := s.Store.ListAlertRules(ctx, workspaceID, hostEvents...)
	if err != nil {
		// Queue anyway: the evaluation reads the rules again.
		s.Log.Error("list alert rules", "workspace_id", workspaceID, "err", err)
	} else if len(rules) == 0 {
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
