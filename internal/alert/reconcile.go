package alert

import (
	"maps"
	"time"
)

// Change is one alert to write: a new one (ID 0), or an open one updated or
// resolved, with the notifications it causes. The store fills in the alert
// ID of a new alert's notifications and events.
type Change struct {
	Alert         Alert
	Notifications []Notification
	// Seen is the state of the existing alert the change was computed
	// from (nil for a new alert). The store applies the change only while
	// the alert is still open in that state, so two evaluations that read
	// the same alert cannot both send "changed", "reminder" or "resolved".
	Seen *Seen
}

// Seen is what of an alert a change depends on.
type Seen struct {
	Fingerprint    string
	LastNotifiedAt *time.Time
}

func seenState(a *Alert) *Seen {
	return &Seen{Fingerprint: a.Fingerprint, LastNotifiedAt: a.LastNotifiedAt}
}

// Reconcile compares what a rule's condition holds for now with the rule's
// open alerts in the same scope and returns the changes:
//
//   - a subject without an open alert opens one and notifies "firing";
//   - an open alert whose subject changed (its fingerprint) is updated and
//     notifies "changed";
//   - an unchanged open alert notifies "reminder" once the rule's re-notify
//     interval has passed since the last notification, else nothing;
//   - an open alert whose subject no longer holds resolves, notifying
//     "resolved" when the rule asks for it, unless it was silenced
//     (Conditions.Suppressed): then it resolves quietly.
//
// Re-evaluating with the same state returns no changes: that is what makes
// two reports of the same finding raise one alert and one notification.
func Reconcile(r *Rule, open []Alert, c Conditions, now time.Time) []Change {
	var out []Change
	byKey := make(map[string]*Alert, len(open))
	for i := range open {
		byKey[open[i].Subject] = &open[i]
	}
	seen := make(map[string]bool, len(c.Current))
	for _, s := range c.Current {
		if seen[s.Key] {
			continue
		}
		seen[s.Key] = true
		a, ok := byKey[s.Key]
		if !ok {
			na := Alert{WorkspaceID: r.WorkspaceID, RuleID: r.ID, RuleName: r.Name, Event: r.Event, Subject: s.Key,
				HostID: s.HostID, HostName: s.HostName, Title: s.Title, Severity: s.Severity, Status: StatusOpen,
				Fingerprint: s.Fingerprint, Details: s.Details, OpenedAt: now, UpdatedAt: now}
			out = append(out, notify(r, na, KindFiring, now))
			continue
		}
		switch {
		case a.Fingerprint != s.Fingerprint:
			na := *a
			na.Title, na.Severity, na.Fingerprint, na.Details, na.UpdatedAt = s.Title, s.Severity, s.Fingerprint, s.Details, now
			na.HostName = s.HostName
			ch := notify(r, na, KindChanged, now)
			ch.Seen = seenState(a)
			out = append(out, ch)
		case r.RenotifyMinutes > 0 && (a.LastNotifiedAt == nil ||
			now.Sub(*a.LastNotifiedAt) >= time.Duration(r.RenotifyMinutes)*time.Minute):
			ch := notify(r, *a, KindReminder, now)
			ch.Seen = seenState(a)
			out = append(out, ch)
		}
	}
	for i := range open {
		a := open[i]
		if seen[a.Subject] {
			continue
		}
		a.Status, a.UpdatedAt = StatusResolved, now
		t := now
		a.ResolvedAt = &t
		// A rule edited to watch another event: its old alerts end
		// quietly, they were not fixed.
		read := seenState(&open[i])
		if c.Suppressed["*"] || c.Suppressed[a.Subject] || a.Event != r.Event {
			a.Suppressed = true
			out = append(out, Change{Alert: a, Seen: read})
			continue
		}
		if r.NotifyResolved {
			ch := notify(r, a, KindResolved, now)
			ch.Seen = read
			out = append(out, ch)
		} else {
			out = append(out, Change{Alert: a, Seen: read})
		}
	}
	return out
}

// notify attaches one notification per channel of the rule to the alert,
// due now (immediate) or waiting for the rule's digest.
func notify(r *Rule, a Alert, kind string, now time.Time) Change {
	if len(r.ChannelIDs) > 0 {
		t := now
		a.LastNotifiedAt = &t
	}
	ch := Change{Alert: a}
	ev := EventFor(&a, kind, now)
	status := NotifyPending
	if r.Mode == ModeHourly || r.Mode == ModeDaily {
		status = NotifyDigestWait
	}
	ruleID := r.ID
	for _, cid := range r.ChannelIDs {
		ch.Notifications = append(ch.Notifications, Notification{WorkspaceID: r.WorkspaceID, RuleID: &ruleID,
			ChannelID: cid, Kind: kind, Mode: r.Mode, Status: status, Events: []Event{ev}, CreatedAt: now})
	}
	return ch
}

// EventFor describes an alert for a notification of the given kind.
func EventFor(a *Alert, kind string, now time.Time) Event {
	e := Event{Kind: kind, Type: a.Event, AlertID: a.ID, RuleID: a.RuleID, RuleName: a.RuleName, Subject: a.Subject,
		Title: a.Title, Severity: a.Severity, HostName: a.HostName, Details: maps.Clone(a.Details), At: now}
	if a.HostID != nil {
		e.HostID = *a.HostID
	}
	return e
}
