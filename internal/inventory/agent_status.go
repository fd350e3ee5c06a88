package inventory

import (
	"fmt"
	"time"
)

// AgentStatus is the body of POST /api/v1/agent/status: what the agent
// says about itself after each scan run, for the server's agents page.
type AgentStatus struct {
	SchemaVersion int    `json:"schema_version"`
	AgentVersion  string `json:"agent_version"`
	// LastRun is the scan run that just finished.
	LastRun *AgentRunStatus `json:"last_run,omitempty"`
}

// AgentRunStatus summarises one scan run.
type AgentRunStatus struct {
	// RunNowID is the config's run_now_id the run answered; empty for a
	// scheduled run.
	RunNowID   string    `json:"run_now_id,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS int64     `json:"duration_ms"`
	Hosts      int       `json:"hosts"`
	Failed     int       `json:"failed"`
	// Error is a failure of the run itself (the spool could not be
	// written), not of a host: those are in the hosts' reports.
	Error string `json:"error,omitempty"`
}

// Validate checks the bounds the server enforces.
func (s *AgentStatus) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case s.SchemaVersion != SchemaVersion:
		return bad("schema_version", "must be %d", SchemaVersion)
	case len(s.AgentVersion) > 100:
		return bad("agent_version", "longer than 100 characters")
	}
	if r := s.LastRun; r != nil {
		switch {
		case r.StartedAt.IsZero():
			return bad("last_run.started_at", "required")
		case r.DurationMS < 0 || r.Hosts < 0 || r.Failed < 0 || r.Failed > r.Hosts:
			return bad("last_run", "duration, hosts and failed must be non-negative, failed at most hosts")
		case len(r.RunNowID) > 100:
			return bad("last_run.run_now_id", "longer than 100 characters")
		case len(r.Error) > 4096:
			return bad("last_run.error", "longer than 4096 characters")
		}
	}
	return nil
}
