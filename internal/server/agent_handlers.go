package server

import (
	"context"
	"net/http"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/inventory"
)

type agentKey struct{}

// agentOnly authenticates the agent key; user tokens are not accepted here.
func (s *Server) agentOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := httpx.BearerToken(r)
		if key == "" {
			httpx.WriteError(w, r, s.log, domain.Errorf(domain.EUNAUTHORIZED, "agent key required: send 'Authorization: Bearer vga_...'"))
			return
		}
		ag, err := s.svc.AuthenticateAgent(r.Context(), key)
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), agentKey{}, ag)))
	}
}

func agentFrom(r *http.Request) *domain.Agent {
	return r.Context().Value(agentKey{}).(*domain.Agent)
}

// AgentVersionHeader carries the agent's build version on every request.
const AgentVersionHeader = "X-Vigil-Agent-Version"

func (s *Server) handleAgentConfig(w http.ResponseWriter, r *http.Request) {
	ag := agentFrom(r)
	cfg, etag, err := s.svc.AgentConfig(r.Context(), ag, r.Header.Get(AgentVersionHeader))
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.Header().Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && match == etag {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.log.Debug("agent config served", "workspace_id", ag.WorkspaceID, "agent_id", ag.ID, "hosts", len(cfg.Hosts))
	httpx.WriteJSON(w, http.StatusOK, cfg)
}

func (s *Server) handleAgentReports(w http.ResponseWriter, r *http.Request) {
	ag := agentFrom(r)
	var batch inventory.Batch
	if err := httpx.DecodeJSON(w, r, s.opts.ReportLimits, false, &batch); err != nil {
		s.log.Warn("report batch refused", "workspace_id", ag.WorkspaceID, "agent_id", ag.ID, "err", err)
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if len(batch.Reports) == 0 {
		httpx.WriteError(w, r, s.log, domain.Errorf(domain.EINVALID, "reports: empty batch"))
		return
	}
	reply, err := s.svc.IngestBatch(r.Context(), ag, &batch)
	if err != nil {
		s.log.Warn("report batch refused", "workspace_id", ag.WorkspaceID, "agent_id", ag.ID, "err", err)
		httpx.WriteError(w, r, s.log, err)
		return
	}
	for i, res := range reply.Results {
		s.metrics.reports.WithLabelValues(res.Status, batch.Reports[i].Status).Inc()
		if res.Status == inventory.ResultAccepted {
			s.metrics.packages.Add(float64(len(batch.Reports[i].Packages)))
		}
		if res.Status == inventory.ResultRejected {
			s.log.Warn("report rejected", "workspace_id", ag.WorkspaceID, "agent_id", ag.ID, "report_id", res.ReportID, "err", res.Error)
		}
	}
	httpx.WriteJSON(w, http.StatusOK, reply)
}
