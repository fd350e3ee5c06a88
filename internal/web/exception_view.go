package web

import (
	"net/url"
	"strconv"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
)

// exceptionKinds are the kinds in the order the forms offer them.
var exceptionKinds = []optionView{
	{Value: domain.ExceptionAcceptedRisk, Label: "Accepted risk"},
	{Value: domain.ExceptionFalsePositive, Label: "False positive"},
	{Value: domain.ExceptionMitigated, Label: "Mitigated"},
}

type optionView struct {
	Value    string
	Label    string
	Selected bool
}

func kindLabel(k string) string {
	for _, o := range exceptionKinds {
		if o.Value == k {
			return o.Label
		}
	}
	return k
}

func exceptionURL(id int64) string { return "/exceptions/" + strconv.FormatInt(id, 10) }

// exceptionStateBadge shows an exception's state as a word with a colour.
func exceptionStateBadge(state string) status {
	switch state {
	case domain.ExceptionActive:
		return status{Label: "Active", Class: "marked"}
	case domain.ExceptionExpired:
		return status{Label: "Expired", Class: "stale"}
	case domain.ExceptionRevoked:
		return status{Label: "Revoked", Class: "never"}
	}
	return status{Label: state, Class: "never"}
}

// exceptionRow is an exception in lists.
type exceptionRow struct {
	ID         int64
	URL        string
	State      status
	Target     string
	Kind       string
	Subject    string // CVE-2024-1 · openssl, or the check ID
	SubjectURL string
	Scope      string // "host web-1", "group Web", "all hosts"
	ScopeURL   string
	Reason     string
	By         string
	Created    when
	Expires    string
	Revoked    string
}

func newExceptionRow(e *domain.Exception, now time.Time) exceptionRow {
	r := exceptionRow{ID: e.ID, URL: exceptionURL(e.ID), State: exceptionStateBadge(e.StateAt(now)), Target: e.Target,
		Kind: kindLabel(e.Kind), Reason: e.Reason, By: e.CreatedBy, Created: newWhen(e.CreatedAt, now)}
	switch e.Target {
	case domain.ExceptionFinding:
		r.Subject, r.SubjectURL = e.VulnID, vulnURL(e.VulnID)
		if e.Package != "" {
			r.Subject += " · " + e.Package
		} else {
			r.Subject += " · any package"
		}
	case domain.ExceptionCheck:
		r.Subject, r.SubjectURL = e.CheckID, checkURL(e.CheckID)
	}
	switch e.Scope {
	case domain.ScopeHost:
		r.Scope = "host " + orGone(e.HostName, e.HostID != nil, "deleted host")
		if e.HostID != nil {
			r.ScopeURL = "/hosts/" + strconv.FormatInt(*e.HostID, 10)
		}
	case domain.ScopeGroup:
		r.Scope = "group " + orGone(e.GroupName, e.GroupID != nil, "deleted group")
		if e.GroupID != nil {
			r.ScopeURL = groupURL(*e.GroupID)
		}
	default:
		r.Scope = "all hosts"
	}
	if e.ExpiresAt != nil {
		r.Expires = day(*e.ExpiresAt)
	}
	if e.RevokedAt != nil {
		r.Revoked = day(*e.RevokedAt) + " by " + e.RevokedBy
	}
	return r
}

func orGone(name string, present bool, gone string) string {
	if !present || name == "" {
		return "(" + gone + ")"
	}
	return name
}

// eventRow is one history entry.
type eventRow struct {
	ExceptionID int64
	URL         string
	Action      string
	Actor       string
	At          when
	Kind        string
	Reason      string
	Expires     string
}

func newEventRow(ev *domain.ExceptionEvent, now time.Time) eventRow {
	r := eventRow{ExceptionID: ev.ExceptionID, URL: exceptionURL(ev.ExceptionID), Actor: ev.Actor, At: newWhen(ev.At, now),
		Kind: kindLabel(ev.Kind), Reason: ev.Reason}
	switch ev.Action {
	case domain.ExceptionCreated:
		r.Action = "Created"
	case domain.ExceptionUpdated:
		r.Action = "Changed"
	case domain.ExceptionRevokedEvent:
		r.Action = "Revoked"
	case domain.ExceptionReopened:
		r.Action = "Reopened at expiry"
	default:
		r.Action = ev.Action
	}
	if ev.ExpiresAt != nil {
		r.Expires = day(*ev.ExpiresAt)
	}
	return r
}

// exceptedView marks a check result that an exception covers: it shows as
// excepted, not failing, with a link to the exception.
type exceptedView struct {
	Label   string
	URL     string
	Expires string
}

func newExcepted(r *domain.CheckResult, now time.Time) *exceptedView {
	if !r.Excepted(now) {
		return nil
	}
	v := &exceptedView{Label: kindLabel(r.ExceptionKind), URL: exceptionURL(r.ExceptionID)}
	if r.ExceptionExpiresAt != nil {
		v.Expires = day(*r.ExceptionExpiresAt)
	}
	return v
}

// exceptedStatus is the badge of an excepted result.
var exceptedStatus = status{Label: "Excepted", Class: "marked"}

// newCheckExceptionURL is the form to except a check on a host.
func newCheckExceptionURL(checkID string, hostID int64, back string) string {
	q := url.Values{"target": {domain.ExceptionCheck}, "check_id": {checkID}, "host_id": {strconv.FormatInt(hostID, 10)}}
	if back != "" {
		q.Set("back", back)
	}
	return "/exceptions/new?" + q.Encode()
}

// newFindingExceptionURL is the form to except a finding's vulnerability.
func newFindingExceptionURL(findingID int64, back string) string {
	q := url.Values{"finding": {strconv.FormatInt(findingID, 10)}}
	if back != "" {
		q.Set("back", back)
	}
	return "/exceptions/new?" + q.Encode()
}

// statusExcepted is the check page's ?status= for excepted results.
const statusExcepted = "excepted"

// resultState is a result's status as the check page counts and filters
// it: "excepted" when an exception covers a failure or error.
func resultState(r *domain.CheckResult, now time.Time) string {
	if r.Excepted(now) {
		return statusExcepted
	}
	return r.Status
}
