package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/secrets"
)

// dashState is the Service's in-memory state for agents and rollups.
type dashState struct {
	mu sync.Mutex
	// configs caches each agent's built config: agents poll every few
	// seconds, and building the config reads every host, credential and
	// group membership of the agent.
	configs map[int64]*cachedConfig
	// rollups marks workspaces with a rollup scheduled.
	rollups map[int64]bool
	// feedSync runs the online feed sync (set by the serve command) and
	// sync is the state of the manual run.
	feedSync func(ctx context.Context) error
	sync     feedSyncRun
}

type cachedConfig struct {
	cfg   *inventory.AgentConfig
	etag  string
	built time.Time
	stamp string // store.AgentConfigStamp when built
}

// AgentConfigTTL is how long a built agent config is reused while its
// stamp (the agent's hosts, the workspace's credentials and schedule) is
// unchanged. This server drops cached configs itself when a report pins a
// key, a host joins or leaves a group, or groups, checks or assignments
// change, so those reach the agent on its next poll; with several server
// replicas, a change made on another replica reaches it within this TTL.
// A run-now request is read on every poll and reaches it within one poll.
const AgentConfigTTL = 30 * time.Second

// agentTouchEvery bounds how often a poll writes the agent's last-contact
// time: at a 10 s poll, a write on every poll would be most of its cost.
const agentTouchEvery = 30 * time.Second

// AgentConfig returns what one agent must scan and an ETag over it, so an
// unchanged config costs the agent a 304. A poll within AgentConfigTTL of
// the last build with an unchanged stamp costs two one-row reads (the
// stamp, the run-now state) and, every agentTouchEvery, one write of the
// last contact.
func (s *Service) AgentConfig(ctx context.Context, ag *domain.Agent, version string) (*inventory.AgentConfig, string, error) {
	now := s.Now()
	if ag.LastSeenAt == nil || now.Sub(*ag.LastSeenAt) >= agentTouchEvery || (version != "" && version != ag.Version) {
		if err := s.Store.TouchAgent(ctx, ag.WorkspaceID, ag.ID, version, now); err != nil {
			return nil, "", err
		}
	}
	st, err := s.Store.AgentState(ctx, ag.WorkspaceID, ag.ID)
	if err != nil {
		return nil, "", err
	}
	stamp, err := s.Store.AgentConfigStamp(ctx, ag.WorkspaceID, ag.ID)
	if err != nil {
		return nil, "", err
	}
	s.dash.mu.Lock()
	c := s.dash.configs[ag.ID]
	s.dash.mu.Unlock()
	if c == nil || c.stamp != stamp || now.Sub(c.built) >= AgentConfigTTL || now.Before(c.built) {
		cfg, etag, err := s.buildAgentConfig(ctx, ag)
		if err != nil {
			return nil, "", err
		}
		// ClaimUnassignedHosts in the build may move the stamp: take it
		// after, so that the next poll does not rebuild for nothing.
		if stamp, err = s.Store.AgentConfigStamp(ctx, ag.WorkspaceID, ag.ID); err != nil {
			return nil, "", err
		}
		c = &cachedConfig{cfg: cfg, etag: etag, built: now, stamp: stamp}
		s.dash.mu.Lock()
		if s.dash.configs == nil {
			s.dash.configs = map[int64]*cachedConfig{}
		}
		s.dash.configs[ag.ID] = c
		s.dash.mu.Unlock()
	}
	// Only an unanswered request is sent: an agent that restarts does not
	// run an old one again.
	if !st.Pending() {
		return c.cfg, c.etag, nil
	}
	// The cached config is shared: copy it to add the request.
	cfg := *c.cfg
	cfg.RunNowID = st.RunNowID
	sum := sha256.Sum256([]byte(c.etag + "\x00" + st.RunNowID))
	return &cfg, `"` + hex.EncodeToString(sum[:16]) + `"`, nil
}

// forgetAgentConfig drops an agent's cached config, after a change the
// agent must see on its next poll.
func (s *Service) forgetAgentConfig(agentID int64) {
	s.dash.mu.Lock()
	delete(s.dash.configs, agentID)
	s.dash.mu.Unlock()
}

// AgentInfo is an agent as the agents page shows it.
type AgentInfo struct {
	domain.Agent
	State  domain.AgentState
	Online bool
}

// AgentOnlineWindow is how recently an agent must have polled to count as
// online: several polls at the default 10 s, with room for a restart.
const AgentOnlineWindow = 5 * time.Minute

// AgentsOverview lists the workspace's agents with their run state.
func (s *Service) AgentsOverview(ctx context.Context, a Actor) ([]AgentInfo, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	agents, err := s.Store.ListAgents(ctx, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	out := make([]AgentInfo, 0, len(agents))
	for _, ag := range agents {
		st, err := s.Store.AgentState(ctx, a.WorkspaceID, ag.ID)
		if err != nil {
			return nil, err
		}
		online := ag.RevokedAt == nil && ag.LastSeenAt != nil && now.Sub(*ag.LastSeenAt) < AgentOnlineWindow
		out = append(out, AgentInfo{Agent: ag, State: *st, Online: online})
	}
	return out, nil
}

// CreateAgent registers an agent and returns its key, shown only now.
func (s *Service) CreateAgent(ctx context.Context, a Actor, name string) (*domain.Agent, string, error) {
	if err := a.Require(domain.PermAgents); err != nil {
		return nil, "", err
	}
	if len(strings.TrimSpace(name)) > 100 {
		return nil, "", domain.Errorf(domain.EINVALID, "name: longer than 100 characters")
	}
	ag, key, err := s.CreateAgentKey(ctx, a.WorkspaceID, name)
	if err != nil {
		return nil, "", err
	}
	s.Audit(ctx, a, "agent.create", "agent", ag.ID, map[string]any{"name": ag.Name})
	return ag, key, nil
}

// RotateAgentKey gives an agent a new key, shown only now; the old key
// stops working at once, so the agent's config.yaml must be updated.
func (s *Service) RotateAgentKey(ctx context.Context, a Actor, agentID int64) (string, error) {
	if err := a.Require(domain.PermAgents); err != nil {
		return "", err
	}
	key, hash, err := secrets.NewToken(secrets.PrefixAgentKey)
	if err != nil {
		return "", err
	}
	if err := s.Store.RotateAgentKey(ctx, a.WorkspaceID, agentID, secrets.DisplayPrefix(key), hash); err != nil {
		return "", err
	}
	s.Audit(ctx, a, "agent.rotate_key", "agent", agentID, nil)
	return key, nil
}

// RevokeAgent refuses the agent's key from now on. Its hosts stay assigned
// to it (and are not scanned) until they are given to another agent.
func (s *Service) RevokeAgent(ctx context.Context, a Actor, agentID int64) error {
	if err := a.Require(domain.PermAgents); err != nil {
		return err
	}
	if err := s.Store.RevokeAgent(ctx, a.WorkspaceID, agentID, s.Now()); err != nil {
		return err
	}
	s.forgetAgentConfig(agentID)
	s.Audit(ctx, a, "agent.revoke", "agent", agentID, nil)
	return nil
}

// RunAgentNow asks the agent to scan all its hosts on its next poll and
// returns the request's ID.
func (s *Service) RunAgentNow(ctx context.Context, a Actor, agentID int64) (string, error) {
	if err := a.Require(domain.PermScans); err != nil {
		return "", err
	}
	ag, err := s.Store.GetAgent(ctx, a.WorkspaceID, agentID)
	if err != nil {
		return "", err
	}
	if ag.RevokedAt != nil {
		return "", domain.Errorf(domain.ECONFLICT, "agent %q is revoked and no longer polls", ag.Name)
	}
	var b [9]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	id := "run-" + hex.EncodeToString(b[:])
	if err := s.Store.SetAgentRunNow(ctx, a.WorkspaceID, agentID, id, s.Now()); err != nil {
		return "", err
	}
	s.Audit(ctx, a, "agent.run_now", "agent", agentID, map[string]any{"run_now_id": id})
	return id, nil
}

// RecordAgentStatus stores what an agent says about itself.
func (s *Service) RecordAgentStatus(ctx context.Context, ag *domain.Agent, st *inventory.AgentStatus) error {
	if err := st.Validate(); err != nil {
		var fe *inventory.FieldError
		if errors.As(err, &fe) {
			return domain.Errorf(domain.EINVALID, "%s: %s", fe.Field, fe.Message)
		}
		return domain.Errorf(domain.EINVALID, "%v", err)
	}
	now := s.Now()
	if err := s.Store.TouchAgent(ctx, ag.WorkspaceID, ag.ID, st.AgentVersion, now); err != nil {
		return err
	}
	if r := st.LastRun; r != nil {
		run := domain.AgentRun{ID: r.RunNowID, StartedAt: r.StartedAt, Duration: time.Duration(r.DurationMS) * time.Millisecond,
			Hosts: r.Hosts, Failed: r.Failed, Error: r.Error}
		if err := s.Store.SaveAgentRun(ctx, ag.WorkspaceID, ag.ID, run); err != nil {
			return fmt.Errorf("save agent run: %w", err)
		}
		s.Log.Info("agent run reported", "workspace_id", ag.WorkspaceID, "agent_id", ag.ID, "run_now_id", r.RunNowID,
			"hosts", r.Hosts, "failed", r.Failed, "duration_ms", r.DurationMS)
	}
	return nil
}
