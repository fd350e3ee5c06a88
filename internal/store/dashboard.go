package store

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
)

// Dashboard is what the dashboard, the hosts table, the agents page and the
// settings page need beyond the basic store: paged host listings with
// filters, daily rollups, agent run control, retention and saved filters.
// Every method is scoped by workspace.
type Dashboard interface {
	// HostTable returns one page of the hosts table and the number of
	// hosts the filter matches.
	HostTable(ctx context.Context, workspaceID int64, f HostTableFilter) ([]HostTableRow, int, error)
	// HostFacets lists the values the hosts table's filters offer.
	HostFacets(ctx context.Context, workspaceID int64) (*HostFacets, error)
	// FleetCounts counts hosts by state as of now, cheaply enough for every
	// dashboard view.
	FleetCounts(ctx context.Context, workspaceID int64, now time.Time, staleAfter time.Duration) (*FleetCounts, error)

	// ComputeRollup computes the workspace's figures as of now (open
	// findings by severity, check results, hosts scanned on now's day, the
	// top lists); SaveRollup stores them as the row of their day.
	ComputeRollup(ctx context.Context, workspaceID int64, now time.Time, staleAfter time.Duration) (*Rollup, error)
	SaveRollup(ctx context.Context, r *Rollup) error
	// Rollups returns the rows of the days from since (inclusive), oldest
	// first; days without a row are absent.
	Rollups(ctx context.Context, workspaceID int64, since time.Time) ([]Rollup, error)
	// HostsScannedOn counts distinct hosts with a successful scan started
	// on the UTC day of t, from the snapshots.
	HostsScannedOn(ctx context.Context, workspaceID int64, t time.Time) (int, error)

	// SetAgentRunNow records a run-now request the agent sees in its next
	// config; RevokeAgent refuses the agent's key from now on;
	// RotateAgentKey replaces the key hash (the old key stops working).
	SetAgentRunNow(ctx context.Context, workspaceID, agentID int64, runID string, now time.Time) error
	RevokeAgent(ctx context.Context, workspaceID, agentID int64, now time.Time) error
	RotateAgentKey(ctx context.Context, workspaceID, agentID int64, prefix string, hash []byte) error
	// AgentConfigStamp summarises what an agent's config is built from and
	// changes when a host of the agent, a credential of the workspace or
	// the schedule changes: a cached config is rebuilt when it differs.
	AgentConfigStamp(ctx context.Context, workspaceID, agentID int64) (string, error)
	// SaveAgentRun stores what the agent reports about its last scan run.
	SaveAgentRun(ctx context.Context, workspaceID, agentID int64, run domain.AgentRun) error
	// AgentState returns the run-now request and last run of an agent.
	AgentState(ctx context.Context, workspaceID, agentID int64) (*domain.AgentState, error)

	// Retention settings and sweep.
	GetRetention(ctx context.Context, workspaceID int64) (domain.Retention, error)
	SetRetention(ctx context.Context, workspaceID int64, r domain.Retention) error
	// SweepRetention deletes snapshots started before snapshotsBefore
	// (never a host's newest successful one) and check history before
	// historyBefore; a zero time keeps everything of that kind.
	SweepRetention(ctx context.Context, workspaceID int64, snapshotsBefore, historyBefore time.Time) (RetentionResult, error)

	// AddStaticMembers adds hosts to a group's static members (hosts
	// already members stay; hosts of other workspaces are ignored) and
	// returns how many were added.
	AddStaticMembers(ctx context.Context, workspaceID, groupID int64, hostIDs []int64) (int, error)

	// Optimize refreshes the query planner's statistics. Without them
	// SQLite picks a workspace-wide index for one host's check results
	// and scans the whole workspace (seconds at 10,000 hosts).
	Optimize(ctx context.Context) error

	// WorkspaceIDs lists every workspace, for background jobs that visit
	// each (rollups, retention).
	WorkspaceIDs(ctx context.Context) ([]int64, error)

	// Saved host filters.
	SaveFilter(ctx context.Context, f *domain.SavedFilter) error
	ListFilters(ctx context.Context, workspaceID int64) ([]domain.SavedFilter, error)
	DeleteFilter(ctx context.Context, workspaceID, id int64) error
}

// Host table sort keys.
const (
	SortName     = "name"
	SortStatus   = "status"
	SortOS       = "os"
	SortLastScan = "last_scan"
	SortSeverity = "severity"
	SortPackages = "packages"
)

// Host states the table filters by.
const (
	HostOK      = "ok"
	HostFailing = "failing"
	HostStale   = "stale"
	HostNever   = "never"
)

// HostTableFilter narrows and orders HostTable. Zero values mean no filter.
type HostTableFilter struct {
	Query    string // substring of name or address
	OS       string // "<os_id>" or "<os_id> <version_id>"
	GroupID  int64
	LabelKey string // with LabelValue: key=value; alone: has the key
	LabelVal string
	Status   string // ok, failing, stale, never
	Severity string // worst open finding at least this severe
	AgentID  int64
	// Now and StaleAfter decide the stale state.
	Now        time.Time
	StaleAfter time.Duration
	Sort       string // one of the Sort constants; default name
	Desc       bool
	Limit      int
	Offset     int
}

// HostTableRow is a host with its worst open finding and counts.
type HostTableRow struct {
	domain.Host
	// MaxSeverity is the severity of the worst open, unmarked finding
	// ("" when there is none).
	MaxSeverity string
	Findings    int // open, unmarked findings
}

// HostFacets are the distinct values of the filter fields.
type HostFacets struct {
	OS     []OSFacet
	Groups []domain.Group
	Labels []LabelFacet
	Agents []domain.Agent
}

// OSFacet is one OS release in the fleet.
type OSFacet struct {
	ID, VersionID, Name string
	Hosts               int
}

// LabelFacet is one label key=value in use.
type LabelFacet struct {
	Key, Value string
	Hosts      int
}

// FleetCounts are the dashboard's host figures.
type FleetCounts struct {
	Hosts   int
	OK      int // last scan succeeded and not stale
	Failing int // last scan failed
	Stale   int // no successful scan for too long (and not failing)
	Never   int // never scanned and not yet stale
	Agents  int
	// AgentsOnline have pulled their config recently.
	AgentsOnline int
}

// Rollup is a workspace's figures for one UTC day.
type Rollup struct {
	WorkspaceID  int64
	Day          string // YYYY-MM-DD
	Hosts        int
	HostsScanned int
	HostsFailing int
	Critical     int
	High         int
	Medium       int
	Low          int
	Unknown      int
	KEV          int
	ChecksPass   int
	ChecksFail   int
	ChecksError  int
	Detail       RollupDetail
	ComputedAt   time.Time
}

// OpenFindings is the total of open, unmarked findings.
func (r *Rollup) OpenFindings() int { return r.Critical + r.High + r.Medium + r.Low + r.Unknown }

// Score is the compliance score in percent (passes over judged results)
// and whether any result was judged.
func (r *Rollup) Score() (float64, bool) {
	n := r.ChecksPass + r.ChecksFail
	if n == 0 {
		return 0, false
	}
	return 100 * float64(r.ChecksPass) / float64(n), true
}

// RollupDetail holds the dashboard's top lists, stored as JSON.
type RollupDetail struct {
	RiskyHosts []RiskyHost      `json:"risky_hosts"`
	Upgrades   []PackageUpgrade `json:"upgrades"`
}

// RiskyHost is a host ranked by the weight of its open findings.
type RiskyHost struct {
	HostID   int64  `json:"host_id"`
	Name     string `json:"name"`
	Risk     int    `json:"risk"`
	Critical int    `json:"critical"`
	High     int    `json:"high"`
	KEV      int    `json:"kev"`
	Findings int    `json:"findings"`
}

// PackageUpgrade is a package whose upgrade closes the most findings.
type PackageUpgrade struct {
	Package  string `json:"package"`
	Findings int    `json:"findings"`
	Hosts    int    `json:"hosts"`
	Critical int    `json:"critical"`
	High     int    `json:"high"`
	KEV      int    `json:"kev"`
}

// RetentionResult says what a sweep deleted.
type RetentionResult struct {
	Snapshots int64
	History   int64
}
