// Package store defines how the server keeps its data. Implementations:
// sqlite (embedded default) and postgres (for several server replicas), both
// on the shared SQL code in sqldb; the suite in storetest runs against each.
//
// Every method that touches workspace data takes the workspace ID and scopes
// its query by it: a caller can never read or change another tenant's rows by
// guessing an ID. Not-found is reported as a domain.ENOTFOUND error.
package store

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
)

// Store is everything the server persists.
type Store interface {
	VulnData
	Findings
	Compliance
	SAP
	Alerts
	Exceptions
	ReportSchedules
	Dashboard
	Accounts
	Audit

	// Workspaces
	CreateWorkspace(ctx context.Context, w *domain.Workspace) error
	GetWorkspace(ctx context.Context, id int64) (*domain.Workspace, error)
	// FirstWorkspace returns the oldest workspace, the default one.
	FirstWorkspace(ctx context.Context) (*domain.Workspace, error)
	UpdateWorkspaceSchedule(ctx context.Context, id int64, s inventory.Schedule) error

	// Users, memberships and sessions
	CreateUser(ctx context.Context, u *domain.User) error
	GetUser(ctx context.Context, id int64) (*domain.User, error)
	GetUserByLogin(ctx context.Context, login string) (*domain.User, error)
	CountUsers(ctx context.Context) (int, error)
	SetMembership(ctx context.Context, m domain.Membership) error
	// GetMembership fails with ENOTFOUND when the user is not in the workspace.
	GetMembership(ctx context.Context, workspaceID, userID int64) (*domain.Membership, error)
	ListMemberships(ctx context.Context, userID int64) ([]domain.Membership, error)
	// CreateSession stores a session under the hash of its ID.
	CreateSession(ctx context.Context, idHash []byte, s *domain.Session) error
	// GetSession returns an unexpired session (ENOTFOUND otherwise).
	GetSession(ctx context.Context, idHash []byte, now time.Time) (*domain.Session, error)
	DeleteSession(ctx context.Context, idHash []byte) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)

	// API tokens (users) and agents (agent keys), looked up by key hash.
	CreateAPIToken(ctx context.Context, t *domain.APIToken) error
	GetAPITokenByHash(ctx context.Context, hash []byte) (*domain.APIToken, error)
	TouchAPIToken(ctx context.Context, id int64, now time.Time) error
	CreateAgent(ctx context.Context, a *domain.Agent) error
	GetAgentByKeyHash(ctx context.Context, hash []byte) (*domain.Agent, error)
	GetAgent(ctx context.Context, workspaceID, id int64) (*domain.Agent, error)
	ListAgents(ctx context.Context, workspaceID int64) ([]domain.Agent, error)
	// TouchAgent records a config pull or push: last contact and version.
	TouchAgent(ctx context.Context, workspaceID, id int64, version string, now time.Time) error

	// Credentials. Sealed fields are stored as given; Update replaces a
	// sealed field only when the new value is non-nil.
	CreateCredential(ctx context.Context, c *domain.Credential) error
	UpdateCredential(ctx context.Context, c *domain.Credential) error
	GetCredential(ctx context.Context, workspaceID, id int64) (*domain.Credential, error)
	// GetDefaultCredential returns the workspace default (ENOTFOUND if unset).
	GetDefaultCredential(ctx context.Context, workspaceID int64) (*domain.Credential, error)
	ListCredentials(ctx context.Context, workspaceID int64) ([]domain.Credential, error)
	DeleteCredential(ctx context.Context, workspaceID, id int64) error

	// Hosts
	CreateHost(ctx context.Context, h *domain.Host) error
	// UpdateHost saves the user-editable fields and HostKey; scan state is
	// only ever changed by IngestReport.
	UpdateHost(ctx context.Context, h *domain.Host) error
	DeleteHost(ctx context.Context, workspaceID, id int64) error
	GetHost(ctx context.Context, workspaceID, id int64) (*domain.Host, error)
	ListHosts(ctx context.Context, workspaceID int64, f HostFilter) ([]domain.Host, error)
	// ListAgentHosts returns the hosts assigned to one agent.
	ListAgentHosts(ctx context.Context, workspaceID, agentID int64) ([]domain.Host, error)
	// ClaimUnassignedHosts assigns every host of the workspace that has no
	// agent to this one, returning how many it took.
	ClaimUnassignedHosts(ctx context.Context, workspaceID, agentID int64) (int64, error)

	// IngestReport stores one report in a single transaction: the snapshot,
	// and when the report is newer than what the host shows, the host's scan
	// state and current package list; it pins the reported SSH host key when
	// none is pinned. A report ID already stored for the workspace returns
	// duplicate=true and changes nothing.
	IngestReport(ctx context.Context, workspaceID, agentID int64, r *inventory.HostReport, receivedAt time.Time) (duplicate bool, err error)
	// ListSnapshots returns a host's snapshots, newest first, without reports.
	ListSnapshots(ctx context.Context, workspaceID, hostID int64, limit int) ([]domain.Snapshot, error)
	// GetSnapshot returns one snapshot with its full report.
	GetSnapshot(ctx context.Context, workspaceID, hostID, snapshotID int64) (*domain.Snapshot, error)
	// LatestSnapshot returns the newest successful snapshot with its report.
	LatestSnapshot(ctx context.Context, workspaceID, hostID int64) (*domain.Snapshot, error)
	// ListPackages pages through a host's current packages, ordered by name;
	// query filters by a case-insensitive substring of the name or source.
	ListPackages(ctx context.Context, workspaceID, hostID int64, f PackageFilter) ([]inventory.Package, int, error)

	Ping(ctx context.Context) error
	Close() error
}

// HostFilter narrows ListHosts.
type HostFilter struct {
	Query string // substring of name or address, case-insensitive
	Limit int    // 0 means no limit
}

// PackageFilter narrows ListPackages.
type PackageFilter struct {
	Query  string
	Limit  int
	Offset int
}
