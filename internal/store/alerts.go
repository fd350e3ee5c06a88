package store

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
)

// Alerts stores notification channels, alert rules, alerts, notifications
// and their delivery attempts. Every method is scoped by workspace.
type Alerts interface {
	// CreateChannel stores c with its sealed secrets as given.
	CreateChannel(ctx context.Context, c *alert.Channel) error
	// UpdateChannel saves c; the sealed secrets are replaced only when
	// c.Sealed is non-nil.
	UpdateChannel(ctx context.Context, c *alert.Channel) error
	GetChannel(ctx context.Context, workspaceID, id int64) (*alert.Channel, error)
	ListChannels(ctx context.Context, workspaceID int64) ([]alert.Channel, error)
	DeleteChannel(ctx context.Context, workspaceID, id int64) error

	CreateAlertRule(ctx context.Context, r *alert.Rule) error
	UpdateAlertRule(ctx context.Context, r *alert.Rule) error
	GetAlertRule(ctx context.Context, workspaceID, id int64) (*alert.Rule, error)
	// ListAlertRules returns the workspace's rules; with events set, only
	// enabled rules of those event types.
	ListAlertRules(ctx context.Context, workspaceID int64, events ...string) ([]alert.Rule, error)
	// DeleteAlertRule deletes a rule and resolves its open alerts quietly;
	// its alerts and notifications are kept.
	DeleteAlertRule(ctx context.Context, workspaceID, id int64, now time.Time) error

	// OpenAlerts returns the open alerts of the given rules; with hostID
	// non-zero only those about that host.
	OpenAlerts(ctx context.Context, workspaceID int64, ruleIDs []int64, hostID int64) ([]alert.Alert, error)
	// ApplyAlertChanges writes the changes of one evaluation in one
	// transaction: new alerts (a concurrent evaluation that opened the same
	// (rule, subject) first wins and the duplicate is dropped with its
	// notifications), updates and resolutions, and their notifications. It
	// returns the IDs of the notifications to deliver now.
	ApplyAlertChanges(ctx context.Context, workspaceID int64, changes []alert.Change) ([]int64, error)
	ListAlerts(ctx context.Context, workspaceID int64, f AlertFilter) ([]alert.Alert, int, error)
	GetAlert(ctx context.Context, workspaceID, id int64) (*alert.Alert, error)

	// CreateNotification stores n (a test message, or a digest) and sets
	// its ID.
	CreateNotification(ctx context.Context, n *alert.Notification) error
	GetNotification(ctx context.Context, workspaceID, id int64) (*alert.Notification, error)
	// ListNotifications returns notifications newest first, each with its
	// attempts.
	ListNotifications(ctx context.Context, workspaceID int64, f NotificationFilter) ([]alert.Notification, error)
	// RecordAttempt appends a delivery attempt and sets the notification's
	// status (sent, failed, or still pending while retries remain).
	RecordAttempt(ctx context.Context, workspaceID, notificationID int64, a alert.Attempt, status string) error
	// CollectDigest moves the notifications waiting for a digest of the
	// given mode to one new digest notification per channel, in one
	// transaction, and returns the digests (empty when nothing waited).
	CollectDigest(ctx context.Context, workspaceID int64, mode string, now time.Time) ([]alert.Notification, error)

	// ResolveOrphanAlerts quietly resolves the open alerts of the given
	// event types whose host was deleted, returning how many.
	ResolveOrphanAlerts(ctx context.Context, workspaceID int64, events []string, now time.Time) (int64, error)
	// StalledNotifications returns the IDs of notifications still pending
	// that were created before the given time.
	StalledNotifications(ctx context.Context, workspaceID int64, createdBefore time.Time) ([]int64, error)

	// AlertWorkspaces lists the workspaces with at least one enabled rule.
	AlertWorkspaces(ctx context.Context) ([]int64, error)
	// AlertSettings returns the workspace's settings, or the defaults.
	AlertSettings(ctx context.Context, workspaceID int64) (alert.Settings, error)
	SaveAlertSettings(ctx context.Context, workspaceID int64, s alert.Settings) error
}

// AlertFilter narrows alert lists; zero values do not filter.
type AlertFilter struct {
	Status string // open, resolved; "" all
	RuleID int64
	HostID int64
	Event  string
	Limit  int
	Offset int
}

// NotificationFilter narrows notification lists.
type NotificationFilter struct {
	AlertID   int64
	ChannelID int64
	DigestID  int64
	Limit     int
}
