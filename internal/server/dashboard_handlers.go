package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
)

// dashboardRoutes registers the dashboard, agent administration and agent
// status endpoints.
func (s *Server) dashboardRoutes(m *httpx.Mux, user func(http.HandlerFunc) http.Handler) {
	m.HandleFunc("POST /api/v1/agent/status", s.agentOnly(s.handleAgentStatus))
	m.Handle("GET /api/v1/dashboard", user(s.handleDashboard))
	m.Handle("POST /api/v1/agents", user(s.handleCreateAgent))
	m.Handle("POST /api/v1/agents/{id}/run-now", user(s.handleAgentRunNow))
	m.Handle("POST /api/v1/agents/{id}/rotate", user(s.handleRotateAgent))
	m.Handle("POST /api/v1/agents/{id}/revoke", user(s.handleRevokeAgent))
}

// statusBodyLimit bounds an agent status body: a few hundred bytes.
const statusBodyLimit = 64 << 10

func (s *Server) handleAgentStatus(w http.ResponseWriter, r *http.Request) {
	ag := agentFrom(r)
	var st inventory.AgentStatus
	if err := httpx.DecodeJSON(w, r, httpx.Limits{Raw: statusBodyLimit, Decoded: statusBodyLimit}, false, &st); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if err := s.svc.RecordAgentStatus(r.Context(), ag, &st); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type dashboardJSON struct {
	ComputedAt time.Time              `json:"computed_at"`
	Hosts      fleetJSON              `json:"hosts"`
	Agents     agentsCountJSON        `json:"agents"`
	Findings   map[string]int         `json:"open_findings"`
	Compliance complianceJSON         `json:"compliance"`
	RiskyHosts []store.RiskyHost      `json:"top_risky_hosts"`
	Upgrades   []store.PackageUpgrade `json:"top_packages_to_upgrade"`
	Trend      []trendJSON            `json:"trend"`
	Feeds      []feedJSON             `json:"feeds"`
}

type fleetJSON struct {
	Total   int `json:"total"`
	OK      int `json:"ok"`
	Failing int `json:"failing"`
	Stale   int `json:"stale"`
	Never   int `json:"never_scanned"`
}

type agentsCountJSON struct {
	Total  int `json:"total"`
	Online int `json:"online"`
}

type complianceJSON struct {
	Score *float64 `json:"score"` // null when nothing passed or failed yet
	Pass  int      `json:"pass"`
	Fail  int      `json:"fail"`
	Error int      `json:"error"`
}

type trendJSON struct {
	Day          string   `json:"day"`
	Critical     int      `json:"critical"`
	High         int      `json:"high"`
	Medium       int      `json:"medium"`
	Low          int      `json:"low"`
	Unknown      int      `json:"unknown"`
	KEV          int      `json:"kev"`
	Score        *float64 `json:"compliance_score"`
	HostsScanned int      `json:"hosts_scanned"`
}

type feedJSON struct {
	Feed          string     `json:"feed"`
	LastSuccessAt *time.Time `json:"last_success_at"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	Records       int64      `json:"records"`
	LastError     string     `json:"last_error,omitempty"`
}

func scorePtr(r *store.Rollup) *float64 {
	if v, ok := r.Score(); ok {
		return &v
	}
	return nil
}

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	d, err := s.svc.Dashboard(r.Context(), *a)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	c := d.Current
	out := dashboardJSON{
		ComputedAt: c.ComputedAt,
		Hosts:      fleetJSON{Total: d.Fleet.Hosts, OK: d.Fleet.OK, Failing: d.Fleet.Failing, Stale: d.Fleet.Stale, Never: d.Fleet.Never},
		Agents:     agentsCountJSON{Total: d.Fleet.Agents, Online: d.Fleet.AgentsOnline},
		Findings: map[string]int{"critical": c.Critical, "high": c.High, "medium": c.Medium, "low": c.Low,
			"unknown": c.Unknown, "kev": c.KEV, "total": c.OpenFindings()},
		Compliance: complianceJSON{Score: scorePtr(c), Pass: c.ChecksPass, Fail: c.ChecksFail, Error: c.ChecksError},
		RiskyHosts: c.Detail.RiskyHosts,
		Upgrades:   c.Detail.Upgrades,
		Trend:      make([]trendJSON, 0, len(d.Trend)),
		Feeds:      make([]feedJSON, 0, len(d.Feeds)),
	}
	for i := range d.Trend {
		t := &d.Trend[i]
		out.Trend = append(out.Trend, trendJSON{Day: t.Day, Critical: t.Critical, High: t.High, Medium: t.Medium, Low: t.Low,
			Unknown: t.Unknown, KEV: t.KEV, Score: scorePtr(t), HostsScanned: t.HostsScanned})
	}
	for _, f := range d.Feeds {
		out.Feeds = append(out.Feeds, feedJSON{Feed: f.Feed, LastSuccessAt: f.LastSuccessAt, LastAttemptAt: f.LastAttemptAt,
			Records: f.Records, LastError: f.LastError})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

type newAgentJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Key is shown once: only its hash is stored.
	Key string `json:"key"`
}

func (s *Server) handleCreateAgent(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	var in struct {
		Name string `json:"name"`
	}
	if err := httpx.DecodeJSON(w, r, httpx.Limits{Raw: userBodyLimit, Decoded: userBodyLimit}, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	ag, key, err := s.svc.CreateAgent(r.Context(), *a, in.Name)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, newAgentJSON{ID: ag.ID, Name: ag.Name, Key: key})
}

func agentIDParam(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.Errorf(domain.ENOTFOUND, "agent %q not found", r.PathValue("id"))
	}
	return id, nil
}

func (s *Server) handleAgentRunNow(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := agentIDParam(r)
	if err == nil {
		var runID string
		if runID, err = s.svc.RunAgentNow(r.Context(), *a, id); err == nil {
			httpx.WriteJSON(w, http.StatusAccepted, map[string]string{"run_now_id": runID})
			return
		}
	}
	httpx.WriteError(w, r, s.log, err)
}

func (s *Server) handleRotateAgent(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := agentIDParam(r)
	if err == nil {
		var key string
		if key, err = s.svc.RotateAgentKey(r.Context(), *a, id); err == nil {
			httpx.WriteJSON(w, http.StatusOK, map[string]string{"key": key})
			return
		}
	}
	httpx.WriteError(w, r, s.log, err)
}

func (s *Server) handleRevokeAgent(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := agentIDParam(r)
	if err == nil {
		if err = s.svc.RevokeAgent(r.Context(), *a, id); err == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	httpx.WriteError(w, r, s.log, err)
}
