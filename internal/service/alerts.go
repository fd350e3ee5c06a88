package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
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
