package sapnotes

import "time"

// Finding statuses. A finding is open while its note matches its system
// and nobody resolved it; it resolves by itself when the note no longer
// matches (a newer kernel, a removed system), or by hand with a reason
// (the note was implemented, the component is not used), and then stays
// resolved across rescans until reopened.
const (
	FindingOpen     = "open"
	FindingResolved = "resolved"
)

// Finding is one note on one SAP system of one host, with its life cycle.
type Finding struct {
	ID          int64      `json:"id"`
	WorkspaceID int64      `json:"workspace_id"`
	HostID      int64      `json:"host_id"`
	HostName    string     `json:"host_name,omitempty"`
	SID         string     `json:"sid"`
	Note        string     `json:"note"`
	Verdict     string     `json:"verdict"` // Applies or ManualReview
	Component   string     `json:"component,omitempty"`
	Release     string     `json:"release,omitempty"`
	Installed   string     `json:"installed_level,omitempty"`
	Fixed       string     `json:"fixed_level,omitempty"`
	Reason      string     `json:"reason"`
	Status      string     `json:"status"`
	FirstSeen   time.Time  `json:"first_seen_at"`
	LastSeen    time.Time  `json:"last_seen_at"`
	ResolvedAt  *time.Time `json:"resolved_at,omitempty"`
	// Set when an operator resolved it: kept while the note still matches.
	ResolvedManually bool   `json:"resolved_manually,omitempty"`
	ResolveReason    string `json:"resolve_reason,omitempty"`
	ResolvedBy       string `json:"resolved_by,omitempty"`
}
