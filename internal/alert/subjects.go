package alert

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/vuln"
)

// Subject is one thing a rule's condition holds for right now.
type Subject struct {
	Key      string
	HostID   *int64
	HostName string
	Title    string
	Severity string
	// Fingerprint changes when the subject changes in a way worth a new
	// notification (a higher severity, a fix becoming available, another
	// error).
	Fingerprint string
	Details     map[string]string
}

// HostState is what is known about one host when its alerts are evaluated.
// Findings are the host's open findings, marked ones included (a mark
// silences an alert rather than resolving it as fixed).
type HostState struct {
	Host     *domain.Host
	Groups   []int64
	Labels   map[string]string
	Findings []vuln.Finding
	Checks   []domain.CheckResult
	Interval time.Duration // the workspace's scan interval
}

// Conditions is what a rule's condition holds for in one scope: the
// subjects that should have an open alert, and those that would but are
// silenced by an operator's mark or by the host leaving the rule's filter;
// their open alerts resolve without a notification.
type Conditions struct {
	Current    []Subject
	Suppressed map[string]bool
}

// HostConditions evaluates a host-scoped rule on one host.
func HostConditions(r *Rule, st *HostState, set Settings, now time.Time) Conditions {
	c := Conditions{Suppressed: map[string]bool{}}
	h := st.Host
	hostID := h.ID
	if !hostMatches(&r.Filter, st) {
		c.Suppressed["*"] = true // every open alert of this host
		return c
	}
	hostSubject := func(title, fp string, details map[string]string) {
		c.Current = append(c.Current, Subject{Key: "host:" + strconv.FormatInt(hostID, 10), HostID: &hostID,
			HostName: h.Name, Title: title, Fingerprint: fp, Details: details})
	}
	switch r.Event {
	case EventNewFinding, EventKEVFinding, EventFindingOverdue:
		for i := range st.Findings {
			f := &st.Findings[i]
			if f.Status != vuln.FindingOpen || !findingMatches(r, f) {
				continue
			}
			var overdue string
			if r.Event == EventFindingOverdue {
				if overdue = overdueReason(f, set, now); overdue == "" {
					continue
				}
			}
			key := "finding:" + strconv.FormatInt(f.ID, 10)
			if f.MarkActive(now) {
				c.Suppressed[key] = true
				continue
			}
			c.Current = append(c.Current, findingSubject(f, h, overdue))
		}
	case EventCheckFailed:
		for _, cr := range st.Checks {
			if cr.Status != domain.CheckFail || (len(r.Filter.CheckIDs) > 0 && !slices.Contains(r.Filter.CheckIDs, cr.CheckID)) {
				continue
			}
			c.Current = append(c.Current, Subject{Key: fmt.Sprintf("check:%d:%s", hostID, cr.CheckID), HostID: &hostID,
				HostName: h.Name, Title: fmt.Sprintf("check %s fails on %s", cr.CheckID, h.Name),
				Fingerprint: cr.Status, Details: map[string]string{"check_id": cr.CheckID, "reason": cr.Reason,
					"expected": cr.Expected, "actual": cr.Actual}})
		}
	case EventHostUnreachable:
		if h.LastScanAt != nil && h.LastError != "" && h.LastErrorKind != inventory.ErrKindHostKeyChanged {
			hostSubject(fmt.Sprintf("%s unreachable (%s)", h.Name, orWord(h.LastErrorKind, "error")), h.LastErrorKind,
				map[string]string{"error_kind": h.LastErrorKind, "error": h.LastError, "address": h.Address})
		}
	case EventHostKeyChanged:
		if h.LastErrorKind == inventory.ErrKindHostKeyChanged {
			hostSubject(fmt.Sprintf("SSH host key of %s changed", h.Name), h.LastErrorKind,
				map[string]string{"error": h.LastError, "address": h.Address, "pinned_key": h.HostKey})
		}
	case EventHostStale:
		n := r.Filter.StaleIntervals
		if n <= 0 {
			n = 3
		}
		interval := st.Interval
		if interval <= 0 {
			interval = time.Hour
		}
		since := h.CreatedAt
		if h.LastSuccessAt != nil {
			since = *h.LastSuccessAt
		}
		if now.Sub(since) > time.Duration(n)*interval {
			last := "never"
			if h.LastSuccessAt != nil {
				last = h.LastSuccessAt.UTC().Format(time.RFC3339)
			}
			// The fingerprint stays the same while the host stays stale:
			// the re-notify interval, not the passing of time, repeats it.
			hostSubject(fmt.Sprintf("%s has no successful scan since %s", h.Name, last), "stale",
				map[string]string{"last_success_at": last, "intervals": strconv.Itoa(n)})
		}
	}
	return c
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func hostMatches(f *Filter, st *HostState) bool {
	if len(f.GroupIDs) > 0 {
		in := false
		for _, g := range st.Groups {
			if slices.Contains(f.GroupIDs, g) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	for k, v := range f.Labels {
		if got, ok := st.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func findingMatches(r *Rule, f *vuln.Finding) bool {
	if (r.Event == EventKEVFinding || r.Filter.KEVOnly) && f.KEV == nil {
		return false
	}
	if r.Filter.MinSeverity != "" && SeverityRank(f.Severity) < SeverityRank(r.Filter.MinSeverity) {
		return false
	}
	return true
}

// overdueReason says why a finding is overdue at now, or "" when it is not:
// past the KEV due date, or open longer than the workspace SLA allows for
// its severity.
func overdueReason(f *vuln.Finding, set Settings, now time.Time) string {
	if f.KEV != nil && !f.KEV.DueDate.IsZero() && now.After(f.KEV.DueDate) {
		return "past KEV due date " + f.KEV.DueDate.Format("2006-01-02")
	}
	if d := set.SLADays[f.Severity]; d > 0 && now.Sub(f.FirstSeen) > time.Duration(d)*24*time.Hour {
		return fmt.Sprintf("open longer than the %s SLA of %d days", f.Severity, d)
	}
	return ""
}

func findingSubject(f *vuln.Finding, h *domain.Host, overdue string) Subject {
	hostID := h.ID
	d := map[string]string{
		"vuln_id":           f.VulnID,
		"advisory_id":       f.AdvisoryID,
		"package":           f.Package,
		"installed_version": f.Installed,
		"fixed_version":     f.Fixed,
		"first_seen_at":     f.FirstSeen.UTC().Format(time.RFC3339),
	}
	if f.CVSSScore > 0 {
		d["cvss_score"] = strconv.FormatFloat(f.CVSSScore, 'f', 1, 64)
	}
	kev := ""
	if f.KEV != nil {
		kev = "kev"
		d["kev_due_date"] = f.KEV.DueDate.Format("2006-01-02")
		d["kev_ransomware"] = f.KEV.Ransomware
	}
	if overdue != "" {
		d["overdue"] = overdue
	}
	title := fmt.Sprintf("%s in %s %s on %s", f.VulnID, f.Package, f.Installed, h.Name)
	return Subject{Key: "finding:" + strconv.FormatInt(f.ID, 10), HostID: &hostID, HostName: h.Name,
		Title: title, Severity: f.Severity, Details: d,
		// A fix becoming available, a higher severity or a KEV listing is
		// news; the installed version moving within the affected range is not.
		Fingerprint: f.Severity + "|" + f.Fixed + "|" + kev + "|" + overdue}
}

// AgentConditions evaluates agent_offline over a workspace's agents.
func AgentConditions(r *Rule, agents []domain.Agent, now time.Time) Conditions {
	c := Conditions{Suppressed: map[string]bool{}}
	mins := r.Filter.OfflineMinutes
	if mins <= 0 {
		mins = 60
	}
	for _, a := range agents {
		if a.RevokedAt != nil {
			continue
		}
		last := a.CreatedAt
		seen := "never"
		if a.LastSeenAt != nil {
			last, seen = *a.LastSeenAt, a.LastSeenAt.UTC().Format(time.RFC3339)
		}
		if now.Sub(last) <= time.Duration(mins)*time.Minute {
			continue
		}
		c.Current = append(c.Current, Subject{Key: "agent:" + strconv.FormatInt(a.ID, 10),
			Title:       fmt.Sprintf("agent %s offline (last contact %s)", a.Name, seen),
			Fingerprint: "offline", Details: map[string]string{"agent": a.Name, "last_seen_at": seen, "version": a.Version}})
	}
	return c
}

// FeedState is the part of a feed's state that feed_failed looks at.
type FeedState struct {
	Feed          string
	LastAttemptAt *time.Time
	LastSuccessAt *time.Time
	LastError     string
}

// FeedConditions evaluates feed_failed: a feed whose last attempt failed.
func FeedConditions(r *Rule, feeds []FeedState) Conditions {
	c := Conditions{Suppressed: map[string]bool{}}
	for _, f := range feeds {
		if len(r.Filter.Feeds) > 0 && !slices.Contains(r.Filter.Feeds, f.Feed) {
			continue
		}
		if f.LastError == "" || (f.LastSuccessAt != nil && f.LastAttemptAt != nil && !f.LastAttemptAt.After(*f.LastSuccessAt)) {
			continue
		}
		last := "never"
		if f.LastSuccessAt != nil {
			last = f.LastSuccessAt.UTC().Format(time.RFC3339)
		}
		c.Current = append(c.Current, Subject{Key: "feed:" + f.Feed, Title: "feed " + f.Feed + " update failed",
			Severity: "", Fingerprint: f.LastError,
			Details: map[string]string{"feed": f.Feed, "error": f.LastError, "last_success_at": last}})
	}
	return c
}
