package domain

import "time"

// AgentRun is what an agent reports about its last scan run.
type AgentRun struct {
	// ID is the run-now request the run answered, empty for a scheduled run.
	ID        string
	StartedAt time.Time
	Duration  time.Duration
	Hosts     int
	Failed    int
	// Error is a run-level failure (config, spool), not a host's.
	Error string
}

// AgentState is an agent's pending run-now request and its last run.
type AgentState struct {
	// RunNowID is set by a user; the agent scans once when it sees an ID it
	// has not run yet, and reports the ID back with the run.
	RunNowID string
	RunNowAt *time.Time
	LastRun  *AgentRun
}

// Pending reports whether a run-now request has not been answered yet.
func (s *AgentState) Pending() bool {
	return s.RunNowID != "" && (s.LastRun == nil || s.LastRun.ID != s.RunNowID)
}

// Retention says how long a workspace keeps history, in days; 0 keeps it
// forever.
type Retention struct {
	SnapshotDays int
	HistoryDays  int
}

// MaxRetentionDays bounds the settings form: ten years.
const MaxRetentionDays = 3650

// Validate reports a retention setting out of range.
func (r Retention) Validate() error {
	if r.SnapshotDays < 0 || r.SnapshotDays > MaxRetentionDays {
		return Errorf(EINVALID, "snapshot_days: must be between 0 (keep forever) and %d", MaxRetentionDays)
	}
	if r.HistoryDays < 0 || r.HistoryDays > MaxRetentionDays {
		return Errorf(EINVALID, "history_days: must be between 0 (keep forever) and %d", MaxRetentionDays)
	}
	return nil
}

// SavedFilter is a named hosts-table filter: the table's query string.
type SavedFilter struct {
	ID          int64
	WorkspaceID int64
	Name        string
	Query       string
	CreatedAt   time.Time
}
