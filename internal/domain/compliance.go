package domain

import "time"

// Group is a set of hosts that checks are assigned to: a saved dynamic
// filter (a CEL expression over host facts, re-evaluated on every report),
// static members chosen by a user, or both.
type Group struct {
	ID          int64
	WorkspaceID int64
	Name        string
	Description string
	Expression  string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Members     int // filled by listings
}

// StoredCheck is a workspace's own check, kept in its YAML form (the
// import/export format). Built-in packs are in the binary, not stored.
type StoredCheck struct {
	ID        string
	PackID    string
	YAML      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Assignment kinds.
const (
	AssignCheck = "check"
	AssignPack  = "pack"
)

// Assignment applies a check or a whole pack to a group.
type Assignment struct {
	GroupID int64
	Kind    string
	Ref     string
}

// Check result statuses.
const (
	CheckPass          = "pass"
	CheckFail          = "fail"
	CheckError         = "error"
	CheckNotApplicable = "not_applicable"
)

// CheckResult is the latest outcome of one check on one host.
type CheckResult struct {
	WorkspaceID int64
	HostID      int64
	HostName    string
	CheckID     string
	Status      string
	Reason      string
	Expected    string
	Actual      string
	EvaluatedAt time.Time
	ChangedAt   time.Time // when Status last changed

	// The governing exception, materialised onto the result (see
	// service/exceptions.go); zero when none applies.
	ExceptionID        int64
	ExceptionKind      string
	ExceptionExpiresAt *time.Time
}

// Excepted reports whether an exception covers a failing or erroring
// result at now: it then counts as excepted, not failing. A passing result
// under an exception is just passing.
func (r *CheckResult) Excepted(now time.Time) bool {
	return r.ExceptionID != 0 && (r.Status == CheckFail || r.Status == CheckError) &&
		(r.ExceptionExpiresAt == nil || now.Before(*r.ExceptionExpiresAt))
}

// CheckChange is one entry of a check's history on a host.
type CheckChange struct {
	HostID  int64
	CheckID string
	Status  string
	Reason  string
	At      time.Time
}
