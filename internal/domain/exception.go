package domain

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Exception targets: what an exception excuses.
const (
	ExceptionFinding = "finding" // a vulnerability (optionally on one package)
	ExceptionCheck   = "check"   // a compliance check
)

// Exception kinds: the operator's decision. The finding marks use the same
// words (vuln.MarkAcceptedRisk ...), so a materialised exception is a mark.
const (
	ExceptionAcceptedRisk  = "accepted_risk"
	ExceptionFalsePositive = "false_positive"
	ExceptionMitigated     = "mitigated"
)

// Exception scopes: which hosts it covers.
const (
	ScopeHost  = "host"
	ScopeGroup = "group"
	ScopeAll   = "all"
)

// Exception states, derived from the timestamps.
const (
	ExceptionActive  = "active"
	ExceptionExpired = "expired"
	ExceptionRevoked = "revoked"
)

// Exception is an operator's standing decision about a vulnerability or a
// check on a set of hosts: accept the risk, call it a false positive, or
// record that it is mitigated otherwise. It applies to every matching
// finding or check result, present and future, until it expires or is
// revoked; it is never deleted, so that its history stays readable.
//
// Target, subject and scope are fixed at creation: a different subject is
// a different decision. Kind, reason and expiry may change; each change is
// an ExceptionEvent.
type Exception struct {
	ID          int64      `json:"id"`
	WorkspaceID int64      `json:"workspace_id"`
	Target      string     `json:"target"` // finding or check
	Kind        string     `json:"kind"`
	VulnID      string     `json:"vuln_id,omitempty"`  // target finding: the CVE or advisory ID
	Package     string     `json:"package,omitempty"`  // target finding: empty means any package
	CheckID     string     `json:"check_id,omitempty"` // target check
	Scope       string     `json:"scope"`
	HostID      *int64     `json:"host_id,omitempty"`  // scope host; nil after the host was deleted
	GroupID     *int64     `json:"group_id,omitempty"` // scope group; nil after the group was deleted
	HostName    string     `json:"host_name,omitempty"`
	GroupName   string     `json:"group_name,omitempty"`
	Reason      string     `json:"reason"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedBy   string     `json:"updated_by"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	RevokedBy   string     `json:"revoked_by,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
	// ExpiredAt is when the expiry sweep recorded the lapse and reopened
	// what the exception covered.
	ExpiredAt *time.Time `json:"expired_at,omitempty"`
	// State is filled by listings: active, expired or revoked.
	State string `json:"state"`
}

// Active reports whether the exception applies at now: not revoked and
// not past its expiry (the lapse takes effect at the expiry instant, before
// the sweep has recorded it).
func (e *Exception) Active(now time.Time) bool {
	return e.RevokedAt == nil && (e.ExpiresAt == nil || now.Before(*e.ExpiresAt))
}

// StateAt returns the exception's state at now.
func (e *Exception) StateAt(now time.Time) string {
	switch {
	case e.RevokedAt != nil:
		return ExceptionRevoked
	case !e.Active(now):
		return ExceptionExpired
	}
	return ExceptionActive
}

// Subject describes the thing under test: a finding (VulnID, Package) or a
// check result (CheckID) on a host that belongs to Groups.
type Subject struct {
	HostID  int64
	Groups  map[int64]bool
	VulnID  string
	Package string
	CheckID string
}

// Matches reports whether the exception covers s, ignoring time.
func (e *Exception) Matches(s Subject) bool {
	switch e.Target {
	case ExceptionFinding:
		if s.VulnID == "" || e.VulnID != s.VulnID || (e.Package != "" && e.Package != s.Package) {
			return false
		}
	case ExceptionCheck:
		if s.CheckID == "" || e.CheckID != s.CheckID {
			return false
		}
	default:
		return false
	}
	switch e.Scope {
	case ScopeHost:
		return e.HostID != nil && *e.HostID == s.HostID
	case ScopeGroup:
		return e.GroupID != nil && s.Groups[*e.GroupID]
	case ScopeAll:
		return true
	}
	return false
}

// specificity ranks matching exceptions: a host beats a group beats all
// hosts, and at the same scope one naming the package beats one for any
// package. The most specific decision is the operator's closest look.
func (e *Exception) specificity() int {
	r := map[string]int{ScopeHost: 30, ScopeGroup: 20, ScopeAll: 10}[e.Scope]
	if e.Package != "" {
		r++
	}
	return r
}

// PickException returns the exception that governs s at now: the most
// specific active match, and between equals the newest. Nil when none.
func PickException(es []Exception, s Subject, now time.Time) *Exception {
	var best *Exception
	for i := range es {
		e := &es[i]
		if !e.Active(now) || !e.Matches(s) {
			continue
		}
		if best == nil || e.specificity() > best.specificity() ||
			(e.specificity() == best.specificity() && e.ID > best.ID) {
			best = e
		}
	}
	return best
}

// ExceptionInput is an exception as a user supplies it. On update only
// Kind, Reason and ExpiresAt are read; ClearExpiry removes the expiry.
type ExceptionInput struct {
	Target      string     `json:"target"`
	Kind        string     `json:"kind"`
	VulnID      string     `json:"vuln_id"`
	Package     string     `json:"package"`
	CheckID     string     `json:"check_id"`
	Scope       string     `json:"scope"`
	HostID      int64      `json:"host_id"`
	GroupID     int64      `json:"group_id"`
	Reason      string     `json:"reason"`
	ExpiresAt   *time.Time `json:"expires_at"`
	ClearExpiry bool       `json:"clear_expiry"`
}

// MaxExceptionReason bounds an exception's reason.
const MaxExceptionReason = 2000

// ValidKind reports whether k is an exception kind.
func ValidExceptionKind(k string) bool {
	return k == ExceptionAcceptedRisk || k == ExceptionFalsePositive || k == ExceptionMitigated
}

// Validate checks a new exception and returns it, trimmed. Whether the
// host or group exists in the workspace is for the caller to check.
func (in *ExceptionInput) Validate(now time.Time) (*Exception, error) {
	e := &Exception{Target: in.Target, Kind: in.Kind, VulnID: strings.TrimSpace(in.VulnID),
		Package: strings.TrimSpace(in.Package), CheckID: strings.TrimSpace(in.CheckID), Scope: in.Scope,
		Reason: strings.TrimSpace(in.Reason), ExpiresAt: in.ExpiresAt}
	switch e.Target {
	case ExceptionFinding:
		if e.VulnID == "" {
			return nil, Errorf(EINVALID, "vuln_id: required for a finding exception")
		}
		e.CheckID = ""
	case ExceptionCheck:
		if e.CheckID == "" {
			return nil, Errorf(EINVALID, "check_id: required for a check exception")
		}
		e.VulnID, e.Package = "", ""
	default:
		return nil, Errorf(EINVALID, "target: must be %q or %q", ExceptionFinding, ExceptionCheck)
	}
	if len(e.VulnID) > 100 || len(e.Package) > 255 || len(e.CheckID) > 200 {
		return nil, Errorf(EINVALID, "vuln_id, package, check_id: too long")
	}
	switch e.Scope {
	case ScopeHost:
		if in.HostID <= 0 {
			return nil, Errorf(EINVALID, "host_id: required for scope host")
		}
		id := in.HostID
		e.HostID = &id
	case ScopeGroup:
		if in.GroupID <= 0 {
			return nil, Errorf(EINVALID, "group_id: required for scope group")
		}
		id := in.GroupID
		e.GroupID = &id
	case ScopeAll:
	default:
		return nil, Errorf(EINVALID, "scope: must be %q, %q or %q", ScopeHost, ScopeGroup, ScopeAll)
	}
	if err := validateDecision(e.Kind, e.Reason, e.ExpiresAt, now); err != nil {
		return nil, err
	}
	return e, nil
}

// ApplyUpdate validates a change of kind, reason or expiry and copies it
// onto e. Empty fields keep their value.
func (in *ExceptionInput) ApplyUpdate(e *Exception, now time.Time) error {
	if in.Kind != "" {
		e.Kind = in.Kind
	}
	if r := strings.TrimSpace(in.Reason); r != "" {
		e.Reason = r
	}
	switch {
	case in.ClearExpiry:
		e.ExpiresAt = nil
	case in.ExpiresAt != nil:
		e.ExpiresAt = in.ExpiresAt
	}
	return validateDecision(e.Kind, e.Reason, in.ExpiresAt, now)
}

func validateDecision(kind, reason string, expires *time.Time, now time.Time) error {
	if !ValidExceptionKind(kind) {
		return Errorf(EINVALID, "kind: must be %q, %q or %q", ExceptionAcceptedRisk, ExceptionFalsePositive, ExceptionMitigated)
	}
	if reason == "" {
		return Errorf(EINVALID, "reason: required")
	}
	if utf8.RuneCountInString(reason) > MaxExceptionReason {
		return Errorf(EINVALID, "reason: at most %d characters", MaxExceptionReason)
	}
	if expires != nil && !expires.After(now) {
		return Errorf(EINVALID, "expires_at: must be in the future")
	}
	return nil
}

// Exception history actions.
const (
	ExceptionCreated      = "created"
	ExceptionUpdated      = "updated"
	ExceptionRevokedEvent = "revoked"
	// ExceptionReopened is recorded by the expiry sweep: the exception
	// lapsed and what it covered is open again.
	ExceptionReopened = "reopened_at_expiry"
)

// ExceptionEvent is one entry of an exception's history: who did what and
// when, with the decision as it stood after the change.
type ExceptionEvent struct {
	ID          int64      `json:"id"`
	ExceptionID int64      `json:"exception_id"`
	Action      string     `json:"action"`
	Actor       string     `json:"actor"` // a login, or "system" for the expiry sweep
	At          time.Time  `json:"at"`
	Kind        string     `json:"kind"`
	Reason      string     `json:"reason"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
}
