package store

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/vuln/sapnotes"
)

// SAP stores the SAP Security Notes catalogue (global public data, like
// the other feeds), each workspace's "SAP in scope" flag, the SAP systems
// hosts reported and the notes matched to them (scoped by workspace).
type SAP interface {
	// UpsertSAPNotes stores notes, replacing changed ones (by content
	// digest), and returns how many were new or changed.
	UpsertSAPNotes(ctx context.Context, notes []*sapnotes.Note, now time.Time) (int, error)
	// SAPNotes returns the whole catalogue, ordered by note number.
	SAPNotes(ctx context.Context) ([]*sapnotes.Note, error)
	GetSAPNote(ctx context.Context, number string) (*sapnotes.Note, error)

	SAPInScope(ctx context.Context, workspaceID int64) (bool, error)
	SetSAPInScope(ctx context.Context, workspaceID int64, on bool) error

	// SAP database logins: at most one per SID and one for every system
	// (SID ""), each naming a credential of the same workspace.
	ListSAPDBLogins(ctx context.Context, workspaceID int64) ([]domain.SAPDBLogin, error)
	CreateSAPDBLogin(ctx context.Context, l *domain.SAPDBLogin) error
	DeleteSAPDBLogin(ctx context.Context, workspaceID, id int64) error

	// ReplaceSAPSystems makes the host's SAP systems exactly systems.
	ReplaceSAPSystems(ctx context.Context, workspaceID, hostID int64, systems []inventory.SAPSystem, now time.Time) error
	// ListSAPSystems lists the workspace's SAP systems (hostID 0: all hosts).
	ListSAPSystems(ctx context.Context, workspaceID, hostID int64) ([]SAPSystemRow, error)
	// SAPHosts lists the hosts with SAP systems in every workspace that has
	// SAP in scope: the hosts a catalogue change can affect.
	SAPHosts(ctx context.Context) ([]SAPHost, error)

	// SyncSAPFindings makes the host's open findings exactly matches: new
	// ones open, present ones are refreshed (and reopened when they had
	// resolved by themselves), absent open ones resolve. A finding an
	// operator resolved stays resolved while it still matches.
	SyncSAPFindings(ctx context.Context, workspaceID, hostID int64, matches []sapnotes.Match, now time.Time) (SyncStats, error)
	ListSAPFindings(ctx context.Context, workspaceID int64, f SAPFindingFilter) ([]sapnotes.Finding, error)
	// ResolveSAPFindings resolves the open findings of a note by hand
	// (hostID 0: on every host), returning how many it resolved.
	ResolveSAPFindings(ctx context.Context, workspaceID int64, note string, hostID int64, reason, by string, now time.Time) (int, error)
	// ReopenSAPFindings clears manual resolutions of a note; the next
	// match decides again.
	ReopenSAPFindings(ctx context.Context, workspaceID int64, note string, hostID int64, now time.Time) (int, error)
	// CVEContext returns what the NVD, KEV and EPSS feeds know of each
	// CVE among ids (absent ones are left out).
	CVEContext(ctx context.Context, ids []string) (map[string]CVEInfo, error)
}

// CVEInfo is the feed data shown next to a CVE an SAP note links to.
type CVEInfo struct {
	CVSSScore    float64
	Severity     string
	KEV          bool
	KEVDateAdded *time.Time
	EPSS         float64 // 0..1, 0 when unknown
	EPSSPct      float64
}

// SAPSystemRow is a stored SAP system with its host.
type SAPSystemRow struct {
	WorkspaceID int64
	HostID      int64
	HostName    string
	ScannedAt   time.Time
	System      inventory.SAPSystem
}

// SAPHost is a host with SAP systems.
type SAPHost struct {
	WorkspaceID int64
	HostID      int64
}

// SAPFindingFilter narrows SAP finding lists; zero values mean no filter.
type SAPFindingFilter struct {
	Note   string
	HostID int64
	Status string // sapnotes.FindingOpen or FindingResolved
}
