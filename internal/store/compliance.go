package store

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
)

// Compliance stores labels, groups, custom checks, assignments and results.
// Every method is scoped by workspace.
type Compliance interface {
	// SetHostLabels replaces a host's labels.
	SetHostLabels(ctx context.Context, workspaceID, hostID int64, labels map[string]string) error
	HostLabels(ctx context.Context, workspaceID, hostID int64) (map[string]string, error)

	CreateGroup(ctx context.Context, g *domain.Group) error
	UpdateGroup(ctx context.Context, g *domain.Group) error
	DeleteGroup(ctx context.Context, workspaceID, id int64) error
	GetGroup(ctx context.Context, workspaceID, id int64) (*domain.Group, error)
	ListGroups(ctx context.Context, workspaceID int64) ([]domain.Group, error)
	// SetStaticMembers replaces a group's static members.
	SetStaticMembers(ctx context.Context, workspaceID, groupID int64, hostIDs []int64) error
	// SetDynamicGroups replaces the groups whose expression a host matches
	// and reports whether its dynamic memberships changed.
	SetDynamicGroups(ctx context.Context, workspaceID, hostID int64, groupIDs []int64) (bool, error)
	// HostGroupIDs returns the groups a host belongs to, static or dynamic.
	HostGroupIDs(ctx context.Context, workspaceID, hostID int64) ([]int64, error)
	// GroupHostIDs returns a group's members, static or dynamic.
	GroupHostIDs(ctx context.Context, workspaceID, groupID int64) ([]int64, error)

	SaveCheck(ctx context.Context, workspaceID int64, c *domain.StoredCheck) error
	DeleteCheck(ctx context.Context, workspaceID int64, id string) error
	ListChecks(ctx context.Context, workspaceID int64) ([]domain.StoredCheck, error)

	// SetAssignments replaces what is assigned to a group.
	SetAssignments(ctx context.Context, workspaceID, groupID int64, as []domain.Assignment) error
	ListAssignments(ctx context.Context, workspaceID int64) ([]domain.Assignment, error)

	// SaveCheckResults makes the host's current results exactly rs:
	// results of checks no longer evaluated are removed, and every status
	// change is appended to the history. It returns how many changed.
	SaveCheckResults(ctx context.Context, workspaceID, hostID int64, rs []domain.CheckResult, now time.Time) (int, error)
	ListCheckResults(ctx context.Context, workspaceID int64, f CheckResultFilter) ([]domain.CheckResult, error)
	CheckHistory(ctx context.Context, workspaceID int64, f CheckResultFilter, since time.Time) ([]domain.CheckChange, error)
	// CheckCounts counts the latest results under the filter by check and
	// status, ordered by check then status; Excepted counts those under an
	// exception active at now (a failing or erroring result only).
	CheckCounts(ctx context.Context, workspaceID int64, f CheckResultFilter, now time.Time) ([]CheckCount, error)
	// RecentCheckChanges returns, for each of the checks, its last n status
	// changes (newest first) on the hosts under the filter that have a
	// result for the check now, each with the host's status before it. The
	// Status of the filter does not apply.
	RecentCheckChanges(ctx context.Context, workspaceID int64, f CheckResultFilter, checkIDs []string, n int) (map[string][]CheckStep, error)
}

// CheckCount is the number of a check's results with one status.
type CheckCount struct {
	CheckID  string
	Status   string
	Results  int // all of them, excepted or not
	Excepted int
}

// CheckStep is one status change of a check on a host.
type CheckStep struct {
	HostID   int64
	Status   string
	Previous string // "" when the change is the host's first result
}

// CheckResultFilter narrows result lists; zero values mean no filter.
type CheckResultFilter struct {
	HostID  int64
	CheckID string
	GroupID int64
	Status  string
}
