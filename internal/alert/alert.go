// Package alert holds Vigil's alerting domain: notification channels, alert
// rules, the alerts they raise and the notifications sent for them, and the
// pure logic that decides, from what is true now and what is already open,
// which alerts open, change, repeat or resolve. It does no I/O: the service
// loads state and persists the Plan, the notify package delivers.
package alert

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
)

// Event types a rule can watch. "Finding resolved" and "check recovered" are
// not types of their own: they are the resolve transitions of new_finding /
// kev_finding and check_failed alerts, notified when a rule asks for it.
const (
	EventNewFinding      = "new_finding"      // an open finding at or above the rule's severity
	EventKEVFinding      = "kev_finding"      // an open finding whose CVE is in CISA KEV
	EventFindingOverdue  = "finding_overdue"  // past its KEV due date or the workspace SLA
	EventCheckFailed     = "check_failed"     // a compliance check fails on a host
	EventHostUnreachable = "host_unreachable" // the last scan of a host failed
	EventHostStale       = "host_stale"       // no successful scan in N schedule intervals
	EventHostKeyChanged  = "host_key_changed" // the SSH host key differs from the pinned one
	EventAgentOffline    = "agent_offline"    // no config pull or push in N minutes
	EventFeedFailed      = "feed_failed"      // the last update of a vulnerability feed failed
)

// EventTypes lists every event type, in the order the UI offers them.
var EventTypes = []string{EventNewFinding, EventKEVFinding, EventFindingOverdue, EventCheckFailed,
	EventHostUnreachable, EventHostStale, EventHostKeyChanged, EventAgentOffline, EventFeedFailed}

// HostScoped reports whether the event's subjects belong to one host, so
// that evaluating one host after its report covers them.
func HostScoped(event string) bool {
	return event != EventAgentOffline && event != EventFeedFailed
}

// Delivery modes of a rule.
const (
	ModeImmediate = "immediate"
	ModeHourly    = "hourly" // one digest per channel per hour
	ModeDaily     = "daily"  // one digest per channel per day
)

// Channel kinds.
const (
	ChannelWebhook = "webhook"
	ChannelSlack   = "slack"
	ChannelTeams   = "teams"
	ChannelEmail   = "email"
)

// ChannelKinds lists the kinds in the order the UI offers them.
var ChannelKinds = []string{ChannelWebhook, ChannelSlack, ChannelTeams, ChannelEmail}

// Channel is where notifications go. Its secret parts (the webhook signing
// secret, the SMTP password, and the Slack or Teams URL, which is itself a
// credential) are sealed with the master key before they reach the store
// and are never returned by the API or shown in the UI.
type Channel struct {
	ID          int64         `json:"id"`
	WorkspaceID int64         `json:"workspace_id"`
	Name        string        `json:"name"`
	Kind        string        `json:"kind"`
	Enabled     bool          `json:"enabled"`
	Config      ChannelConfig `json:"config"`
	// Sealed is the sealed JSON of ChannelSecrets; HasSecret says whether
	// one is set, for display.
	Sealed    []byte    `json:"-"`
	HasSecret bool      `json:"has_secret"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ChannelConfig is a channel's non-secret settings.
type ChannelConfig struct {
	URL string `json:"url,omitempty"` // webhook target (Slack and Teams keep theirs sealed)
	// E-mail.
	SMTPHost string   `json:"smtp_host,omitempty"`
	SMTPPort int      `json:"smtp_port,omitempty"`
	Security string   `json:"security,omitempty"` // starttls (default), tls, none (local relays only)
	Username string   `json:"username,omitempty"`
	From     string   `json:"from,omitempty"`
	To       []string `json:"to,omitempty"`
}

// ChannelSecrets are the sealed parts of a channel.
type ChannelSecrets struct {
	WebhookSecret string `json:"webhook_secret,omitempty"`
	Password      string `json:"password,omitempty"`
	URL           string `json:"url,omitempty"` // Slack / Teams incoming webhook URL
}

// SMTP security modes.
const (
	SecuritySTARTTLS = "starttls"
	SecurityTLS      = "tls"
	SecurityNone     = "none"
)

// Validate checks the channel's settings together with its secrets (those
// about to be stored, or the stored ones when unchanged).
func (c *Channel) Validate(sec ChannelSecrets) error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return domain.Errorf(domain.EINVALID, "name: required")
	}
	if len(c.Name) > 100 {
		return domain.Errorf(domain.EINVALID, "name: at most 100 characters")
	}
	switch c.Kind {
	case ChannelWebhook:
		if err := checkURL("config.url", c.Config.URL); err != nil {
			return err
		}
	case ChannelSlack, ChannelTeams:
		if err := checkURL("secrets.url", sec.URL); err != nil {
			return err
		}
	case ChannelEmail:
		cf := &c.Config
		if cf.SMTPHost == "" {
			return domain.Errorf(domain.EINVALID, "config.smtp_host: required")
		}
		if cf.SMTPPort == 0 {
			cf.SMTPPort = 587
		}
		if cf.SMTPPort < 1 || cf.SMTPPort > 65535 {
			return domain.Errorf(domain.EINVALID, "config.smtp_port: must be 1-65535")
		}
		if cf.Security == "" {
			cf.Security = SecuritySTARTTLS
		}
		if !slices.Contains([]string{SecuritySTARTTLS, SecurityTLS, SecurityNone}, cf.Security) {
			return domain.Errorf(domain.EINVALID, "config.security: must be starttls, tls or none")
		}
		if !strings.Contains(cf.From, "@") {
			return domain.Errorf(domain.EINVALID, "config.from: an e-mail address is required")
		}
		if len(cf.To) == 0 {
			return domain.Errorf(domain.EINVALID, "config.to: at least one recipient is required")
		}
		for i, to := range cf.To {
			if !strings.Contains(to, "@") || strings.ContainsAny(to, "\r\n,;") {
				return domain.Errorf(domain.EINVALID, "config.to[%d]: %q is not one e-mail address", i, to)
			}
		}
		if strings.ContainsAny(cf.From, "\r\n") {
			return domain.Errorf(domain.EINVALID, "config.from: must be one line")
		}
		if cf.Username != "" && sec.Password == "" {
			return domain.Errorf(domain.EINVALID, "secrets.password: required with a username")
		}
	default:
		return domain.Errorf(domain.EINVALID, "kind: must be one of %s", strings.Join(ChannelKinds, ", "))
	}
	return nil
}

func checkURL(field, u string) error {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return domain.Errorf(domain.EINVALID, "%s: an http(s) URL is required", field)
	}
	if strings.ContainsAny(u, " \r\n") {
		return domain.Errorf(domain.EINVALID, "%s: must not contain spaces or line breaks", field)
	}
	return nil
}

// Rule says which events raise alerts, for which subjects, and where and
// how they are notified.
type Rule struct {
	ID          int64   `json:"id"`
	WorkspaceID int64   `json:"workspace_id"`
	Name        string  `json:"name"`
	Event       string  `json:"event"`
	Enabled     bool    `json:"enabled"`
	Filter      Filter  `json:"filter"`
	ChannelIDs  []int64 `json:"channel_ids"`
	Mode        string  `json:"mode"`
	// RenotifyMinutes repeats the notification of a still-open alert this
	// often; 0 notifies only when it opens, changes or resolves.
	RenotifyMinutes int `json:"renotify_minutes"`
	// NotifyResolved sends a notification when the condition clears
	// (finding resolved, check recovered, host back).
	NotifyResolved bool      `json:"notify_resolved"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Filter narrows the subjects of a rule; zero values do not filter.
type Filter struct {
	GroupIDs    []int64           `json:"group_ids,omitempty"`    // host in any of these groups
	MinSeverity string            `json:"min_severity,omitempty"` // findings and checks at or above
	KEVOnly     bool              `json:"kev_only,omitempty"`     // findings listed in KEV only
	CheckIDs    []string          `json:"check_ids,omitempty"`    // check_failed: only these checks
	Labels      map[string]string `json:"labels,omitempty"`       // host has every label with this value
	// StaleIntervals: host_stale after this many schedule intervals
	// without a successful scan (default 3).
	StaleIntervals int `json:"stale_intervals,omitempty"`
	// OfflineMinutes: agent_offline after this many minutes without a
	// config pull (default 60).
	OfflineMinutes int `json:"offline_minutes,omitempty"`
	// Feeds: feed_failed only for these feeds (nvd, kev, epss, osv:...).
	Feeds []string `json:"feeds,omitempty"`
}

// Validate normalises and checks the rule. channelOK says whether a
// channel ID belongs to the rule's workspace.
func (r *Rule) Validate(channelOK func(id int64) bool) error {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return domain.Errorf(domain.EINVALID, "name: required")
	}
	if !slices.Contains(EventTypes, r.Event) {
		return domain.Errorf(domain.EINVALID, "event: must be one of %s", strings.Join(EventTypes, ", "))
	}
	if r.Mode == "" {
		r.Mode = ModeImmediate
	}
	if r.Mode != ModeImmediate && r.Mode != ModeHourly && r.Mode != ModeDaily {
		return domain.Errorf(domain.EINVALID, "mode: must be immediate, hourly or daily")
	}
	if r.RenotifyMinutes < 0 {
		return domain.Errorf(domain.EINVALID, "renotify_minutes: must not be negative")
	}
	f := &r.Filter
	if f.MinSeverity != "" && SeverityRank(f.MinSeverity) < 0 {
		return domain.Errorf(domain.EINVALID, "filter.min_severity: must be critical, high, medium, low or unknown")
	}
	if f.StaleIntervals < 0 || f.OfflineMinutes < 0 {
		return domain.Errorf(domain.EINVALID, "filter: stale_intervals and offline_minutes must not be negative")
	}
	if len(r.ChannelIDs) == 0 {
		return domain.Errorf(domain.EINVALID, "channel_ids: at least one channel is required")
	}
	slices.Sort(r.ChannelIDs)
	r.ChannelIDs = slices.Compact(r.ChannelIDs)
	for _, id := range r.ChannelIDs {
		if channelOK != nil && !channelOK(id) {
			return domain.Errorf(domain.EINVALID, "channel_ids: no channel %d in this workspace", id)
		}
	}
	return nil
}

// SeverityRank orders severities, critical highest (4); -1 when unknown to
// the scale.
func SeverityRank(s string) int {
	switch s {
	case "critical":
		return 4
	case "high":
		return 3
	case "medium":
		return 2
	case "low":
		return 1
	case "unknown":
		return 0
	}
	return -1
}

// Alert statuses.
const (
	StatusOpen     = "open"
	StatusResolved = "resolved"
)

// Alert is one rule firing for one subject. While it is open there is no
// other alert for the same (rule, subject).
type Alert struct {
	ID          int64  `json:"id"`
	WorkspaceID int64  `json:"workspace_id"`
	RuleID      int64  `json:"rule_id"`
	RuleName    string `json:"rule_name,omitempty"`
	Event       string `json:"event"`
	Subject     string `json:"subject"` // finding:ID, check:HOST:CHECK, host:ID, agent:ID, feed:NAME
	HostID      *int64 `json:"host_id,omitempty"`
	HostName    string `json:"host_name,omitempty"`
	Title       string `json:"title"`
	Severity    string `json:"severity"`
	Status      string `json:"status"`
	// Fingerprint is what the subject looked like when last notified; a
	// different one is a change worth a notification.
	Fingerprint    string            `json:"-"`
	Details        map[string]string `json:"details,omitempty"`
	OpenedAt       time.Time         `json:"opened_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
	LastNotifiedAt *time.Time        `json:"last_notified_at,omitempty"`
	ResolvedAt     *time.Time        `json:"resolved_at,omitempty"`
	// Suppressed: resolved because an operator marked the finding, not
	// because it was fixed; no resolved notification is sent.
	Suppressed bool `json:"suppressed,omitempty"`
}

// Notification kinds.
const (
	KindFiring   = "firing"
	KindChanged  = "changed"
	KindReminder = "reminder"
	KindResolved = "resolved"
	KindDigest   = "digest"
	KindTest     = "test"
)

// Notification statuses.
const (
	NotifyPending    = "pending"     // a delivery job will send it
	NotifyDigestWait = "digest_wait" // waits for its rule's digest
	NotifyDigested   = "digested"    // went out in the digest DigestID
	NotifySent       = "sent"
	NotifyFailed     = "failed" // every attempt failed
)

// Notification is one message to one channel: about one alert, or a digest
// of several. Every delivery attempt is kept.
type Notification struct {
	ID          int64  `json:"id"`
	WorkspaceID int64  `json:"workspace_id"`
	AlertID     *int64 `json:"alert_id,omitempty"`
	RuleID      *int64 `json:"rule_id,omitempty"`
	ChannelID   int64  `json:"channel_id"`
	ChannelName string `json:"channel_name,omitempty"`
	Kind        string `json:"kind"`
	Mode        string `json:"mode"`
	Status      string `json:"status"`
	DigestID    *int64 `json:"digest_id,omitempty"`
	// Events is what the message says: one event, or a digest's items.
	Events       []Event    `json:"events"`
	Attempts     int        `json:"attempts"`
	LastError    string     `json:"last_error,omitempty"`
	ResponseCode int        `json:"response_code,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	SentAt       *time.Time `json:"sent_at,omitempty"`
	History      []Attempt  `json:"history,omitempty"`
}

// Attempt is one try to deliver a notification.
type Attempt struct {
	At           time.Time `json:"at"`
	OK           bool      `json:"ok"`
	Error        string    `json:"error,omitempty"`
	ResponseCode int       `json:"response_code,omitempty"`
	DurationMS   int64     `json:"duration_ms"`
}

// Event is what a notification tells about one alert. It is stored with
// the notification, so a retry or a digest sends what was true when the
// alert changed.
type Event struct {
	Kind     string            `json:"kind"` // firing, changed, reminder, resolved, test
	Type     string            `json:"type"` // the rule's event type
	AlertID  int64             `json:"alert_id,omitempty"`
	RuleID   int64             `json:"rule_id,omitempty"`
	RuleName string            `json:"rule_name,omitempty"`
	Subject  string            `json:"subject"`
	Title    string            `json:"title"`
	Severity string            `json:"severity,omitempty"`
	HostID   int64             `json:"host_id,omitempty"`
	HostName string            `json:"host_name,omitempty"`
	Details  map[string]string `json:"details,omitempty"`
	At       time.Time         `json:"at"`
}

// Headline is a one-line summary of the event for chat and e-mail subjects.
func (e Event) Headline() string {
	var verb string
	switch e.Kind {
	case KindResolved:
		verb = "Resolved"
	case KindChanged:
		verb = "Changed"
	case KindReminder:
		verb = "Still open"
	case KindTest:
		verb = "Test"
	default:
		verb = "Alert"
	}
	s := verb + ": " + e.Title
	if e.Severity != "" && e.Kind != KindResolved && e.Kind != KindTest {
		s = fmt.Sprintf("%s [%s]", s, e.Severity)
	}
	return s
}

// Settings are a workspace's alerting settings.
type Settings struct {
	// SLADays is the number of days a finding of each severity may stay
	// open before finding_overdue fires; a missing or zero entry has no SLA.
	SLADays map[string]int `json:"sla_days"`
}

// DefaultSettings are used until a workspace saves its own.
func DefaultSettings() Settings {
	return Settings{SLADays: map[string]int{"critical": 15, "high": 30, "medium": 90, "low": 180}}
}

// Validate checks the SLA values.
func (s *Settings) Validate() error {
	for sev, d := range s.SLADays {
		if SeverityRank(sev) < 0 {
			return domain.Errorf(domain.EINVALID, "sla_days: unknown severity %q", sev)
		}
		if d < 0 || d > 3650 {
			return domain.Errorf(domain.EINVALID, "sla_days.%s: must be 0-3650", sev)
		}
	}
	return nil
}
