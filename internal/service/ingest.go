package service

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/ssh"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
)

// IngestBatch stores a batch of reports pushed by one agent.
//
// Reports are checked before anything is stored: a report for a host that is
// not in the agent's workspace (ENOTFOUND) or not assigned to this agent
// (EFORBIDDEN) fails the whole batch, so a confused or stolen key cannot
// write into someone else's inventory. A report that is merely invalid is
// rejected on its own, with the field named, and the rest are stored. A
// report ID seen before is answered "duplicate" and not stored again.
func (s *Service) IngestBatch(ctx context.Context, ag *domain.Agent, b *inventory.Batch) (*inventory.BatchReply, error) {
	reply := &inventory.BatchReply{Results: make([]inventory.BatchResult, len(b.Reports))}
	valid := make([]bool, len(b.Reports))
	seen := map[string]bool{}
	hosts := map[int64]bool{}
	unpinned := map[int64]bool{} // hosts without a pinned SSH key before this batch
	for i := range b.Reports {
		r := &b.Reports[i]
		reply.Results[i].ReportID = r.ReportID
		if err := r.Validate(); err != nil {
			var fe *inventory.FieldError
			if errors.As(err, &fe) {
				err = fmt.Errorf("reports[%d].%s: %s", i, fe.Field, fe.Message)
			}
			reply.Results[i].Status = inventory.ResultRejected
			reply.Results[i].Error = err.Error()
			continue
		}
		if seen[r.ReportID] {
			reply.Results[i].Status = inventory.ResultDuplicate
			continue
		}
		seen[r.ReportID] = true
		valid[i] = true
		if hosts[r.HostID] {
			continue
		}
		h, err := s.Store.GetHost(ctx, ag.WorkspaceID, r.HostID)
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			return nil, domain.Errorf(domain.ENOTFOUND, "reports[%d].host_id: no host %d in this agent's workspace; nothing was stored", i, r.HostID)
		} else if err != nil {
			return nil, err
		}
		if h.AgentID == nil || *h.AgentID != ag.ID {
			return nil, domain.Errorf(domain.EFORBIDDEN, "reports[%d].host_id: host %d is not assigned to this agent; nothing was stored", i, r.HostID)
		}
		hosts[r.HostID] = true
		if h.HostKey == "" {
			unpinned[r.HostID] = true
		}
	}
	now := s.Now()
	for i := range b.Reports {
		if !valid[i] {
			continue
		}
		r := &b.Reports[i]
		dup, err := s.Store.IngestReport(ctx, ag.WorkspaceID, ag.ID, r, now)
		if err != nil {
			return nil, fmt.Errorf("ingest report %s: %w", r.ReportID, err)
		}
		if dup {
			reply.Results[i].Status = inventory.ResultDuplicate
		} else {
			reply.Results[i].Status = inventory.ResultAccepted
			if r.JumpHostKey != "" {
				if err := s.pinJumpHostKey(ctx, ag.WorkspaceID, r.HostID, r.JumpHostKey); err != nil {
					return nil, fmt.Errorf("pin jump host key of host %d: %w", r.HostID, err)
				}
			}
			if r.HostKey != "" && unpinned[r.HostID] {
				// The store pinned it (trust on first use): a change to
				// what the host is trusted to be, made by the agent.
				unpinned[r.HostID] = false
				s.AuditAgent(ctx, ag, "host.key_pinned", "host", r.HostID, map[string]string{"host_key": keyType(r.HostKey)})
			}
			if r.HostKey != "" || r.JumpHostKey != "" {
				// A key pinned on first use must reach the agent on its
				// next poll, not after the config cache expires: until
				// then the agent would trust whatever key it is shown.
				s.forgetAgentConfig(ag.ID)
			}
		}
		s.Log.Debug("report ingested", "workspace_id", ag.WorkspaceID, "agent_id", ag.ID, "host_id", r.HostID,
			"report_id", r.ReportID, "status", r.Status, "packages", len(r.Packages), "duplicate", dup)
		if r.Status == inventory.StatusError {
			s.Log.Info("host scan failed", "workspace_id", ag.WorkspaceID, "agent_id", ag.ID, "host_id", r.HostID,
				"error_kind", r.ErrorKind, "error", r.Error)
		}
	}
	// Match each host whose inventory may have changed. A failure here is
	// logged, not returned: the reports are stored, and the next report or
	// feed update matches again.
	matched := map[int64]bool{}
	for i := range b.Reports {
		r := &b.Reports[i]
		if reply.Results[i].Status != inventory.ResultAccepted || r.Status != inventory.StatusOK || matched[r.HostID] {
			continue
		}
		matched[r.HostID] = true
		if _, err := s.MatchHost(ctx, ag.WorkspaceID, r.HostID); err != nil {
			s.Log.Error("match host after report", "workspace_id", ag.WorkspaceID, "host_id", r.HostID, "err", err)
		}
		if _, err := s.EvaluateHost(ctx, ag.WorkspaceID, r.HostID, s.newestReport(b, r.HostID)); err != nil {
			s.Log.Error("evaluate checks after report", "workspace_id", ag.WorkspaceID, "host_id", r.HostID, "err", err)
		}
		if err := s.ingestSAP(ctx, ag.WorkspaceID, s.newestReport(b, r.HostID)); err != nil {
			s.Log.Error("SAP systems after report", "workspace_id", ag.WorkspaceID, "host_id", r.HostID, "err", err)
		}
	}
	var accepted []int64
	for i := range b.Reports {
		if id := b.Reports[i].HostID; reply.Results[i].Status == inventory.ResultAccepted && !slices.Contains(accepted, id) {
			accepted = append(accepted, id)
		}
	}
	s.afterIngest(ctx, ag.WorkspaceID, accepted)
	if err := s.Store.TouchAgent(ctx, ag.WorkspaceID, ag.ID, agentVersion(b), now); err != nil {
		s.Log.Warn("touch agent", "agent_id", ag.ID, "err", err)
	}
	s.scheduleRollup(ag.WorkspaceID)
	return reply, nil
}

func agentVersion(b *inventory.Batch) string {
	for _, r := range b.Reports {
		if r.AgentVersion != "" {
			return r.AgentVersion
		}
	}
	return ""
}

// newestReport returns the batch's newest successful report of a host: a
// batch may carry several scans of one host.
func (s *Service) newestReport(b *inventory.Batch, hostID int64) *inventory.HostReport {
	var best *inventory.HostReport
	for i := range b.Reports {
		r := &b.Reports[i]
		if r.HostID == hostID && r.Status == inventory.StatusOK && (best == nil || r.StartedAt.After(best.StartedAt)) {
			best = r
		}
	}
	return best
}

// pinJumpHostKey pins the key a host's jump host presented when none is
// pinned yet (trust on first use, like the host's own key). A pinned key is
// never replaced from a report: the agent refuses a changed key before it
// reports anything.
func (s *Service) pinJumpHostKey(ctx context.Context, workspaceID, hostID int64, key string) error {
	h, err := s.Store.GetHost(ctx, workspaceID, hostID)
	if err != nil {
		return err
	}
	if h.Options.Jump == nil || h.Options.Jump.HostKey != "" {
		return nil
	}
	// Only a real public key is pinned: garbage would fail every later
	// scan of the host with an unreadable pin.
	if len(key) > 16<<10 {
		return nil
	}
	if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(key)); err != nil {
		s.Log.Warn("report carries an unreadable jump host key; not pinned", "workspace_id", workspaceID, "host_id", hostID)
		return nil
	}
	h.Options.Jump.HostKey = key
	return s.Store.UpdateHost(ctx, h)
}
