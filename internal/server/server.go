// Package server is Vigil's HTTP front: the agent API, the user REST API,
// health and metrics, with the web app mounted beside them.
//
// ROUTES: every route is registered on an httpx.Mux (here in routes(), and
// the web app's in internal/web/web.go), which records its pattern. The test
// internal/server/routes_test.go walks every recorded route as a viewer, as
// a member of another workspace and anonymously; a route missing from that
// test's table fails it. When you add a route, add its entry there (the
// permission it needs, and the kind of object its {id} names).
package server

import (
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/service"
)

// Options tunes the server; zero values get defaults.
type Options struct {
	// ReportLimits bounds POST /api/v1/agent/reports bodies.
	ReportLimits httpx.Limits
	// Web is the web app handler, mounted at "/". Nil serves the API only.
	Web http.Handler
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed for the client address in the audit log.
	TrustedProxies []netip.Prefix
}

// Server routes requests to handlers.
type Server struct {
	svc     *service.Service
	log     *slog.Logger
	auth    *httpx.Authenticator
	opts    Options
	metrics *metrics
	mux     *httpx.Mux
}

// Default body limits for report batches. The agent caps a batch at 16 MiB
// of JSON, so 64 MiB decoded leaves room for one very large host while
// bounding what a single request can make the server hold.
const (
	DefaultReportRawLimit     = 32 << 20
	DefaultReportDecodedLimit = 64 << 20
	userBodyLimit             = 1 << 20
)

// New builds a Server.
func New(svc *service.Service, log *slog.Logger, opts Options) *Server {
	if opts.ReportLimits.Raw == 0 {
		opts.ReportLimits.Raw = DefaultReportRawLimit
	}
	if opts.ReportLimits.Decoded == 0 {
		opts.ReportLimits.Decoded = DefaultReportDecodedLimit
	}
	s := &Server{svc: svc, log: log, opts: opts, auth: &httpx.Authenticator{Svc: svc, Log: log, Proxies: opts.TrustedProxies},
		metrics: newMetrics(), mux: httpx.NewMux()}
	s.routes()
	return s
}

// Routes returns every registered route pattern: the API's, then the web
// app's when it records them.
func (s *Server) Routes() []string {
	out := s.mux.Patterns()
	if w, ok := s.opts.Web.(interface{ Patterns() []string }); ok {
		out = append(out, w.Patterns()...)
	}
	return out
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", s.handleHealth)
	m.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))

	m.HandleFunc("GET /api/v1/agent/config", s.agentOnly(s.handleAgentConfig))
	m.HandleFunc("POST /api/v1/agent/reports", s.agentOnly(s.handleAgentReports))

	user := func(h http.HandlerFunc) http.Handler { return s.auth.RequireUser(h) }
	m.Handle("GET /api/v1/hosts", user(s.handleListHosts))
	m.Handle("POST /api/v1/hosts", user(s.handleCreateHost))
	m.Handle("GET /api/v1/hosts/{id}", user(s.handleGetHost))
	m.Handle("PATCH /api/v1/hosts/{id}", user(s.handleUpdateHost))
	m.Handle("PUT /api/v1/hosts/{id}", user(s.handleUpdateHost))
	m.Handle("DELETE /api/v1/hosts/{id}", user(s.handleDeleteHost))
	m.Handle("GET /api/v1/hosts/{id}/snapshots", user(s.handleListSnapshots))
	m.Handle("GET /api/v1/hosts/{id}/snapshots/latest", user(s.handleLatestSnapshot))
	m.Handle("GET /api/v1/hosts/{id}/snapshots/{sid}", user(s.handleGetSnapshot))
	m.Handle("GET /api/v1/hosts/{id}/packages", user(s.handleListPackages))
	m.Handle("GET /api/v1/credentials", user(s.handleListCredentials))
	m.Handle("POST /api/v1/credentials", user(s.handleCreateCredential))
	m.Handle("DELETE /api/v1/credentials/{id}", user(s.handleDeleteCredential))
	m.Handle("PUT /api/v1/credentials/default", user(s.handleSetDefaultCredential))
	m.Handle("GET /api/v1/agents", user(s.handleListAgents))
	m.Handle("GET /api/v1/findings", user(s.handleListFindings))
	m.Handle("POST /api/v1/findings/{id}/mark", user(s.handleMarkFinding))
	m.Handle("GET /api/v1/vulnerabilities", user(s.handleListVulnerabilities))
	m.Handle("GET /api/v1/vulnerabilities/{id}", user(s.handleGetVulnerability))
	m.Handle("GET /api/v1/feeds", user(s.handleFeeds))
	m.Handle("GET /api/v1/hosts/{id}/labels", user(s.handleGetLabels))
	m.Handle("PUT /api/v1/hosts/{id}/labels", user(s.handleSetLabels))
	m.Handle("GET /api/v1/groups", user(s.handleListGroups))
	m.Handle("POST /api/v1/groups", user(s.handleSaveGroup))
	m.Handle("GET /api/v1/groups/{id}", user(s.handleGetGroup))
	m.Handle("PATCH /api/v1/groups/{id}", user(s.handleSaveGroup))
	m.Handle("DELETE /api/v1/groups/{id}", user(s.handleDeleteGroup))
	m.Handle("PUT /api/v1/groups/{id}/assignments", user(s.handleSetAssignments))
	m.Handle("GET /api/v1/checks", user(s.handleListChecks))
	m.Handle("POST /api/v1/checks", user(s.handleSaveCheck))
	m.Handle("DELETE /api/v1/checks/{id}", user(s.handleDeleteCheck))
	m.Handle("POST /api/v1/checks/test", user(s.handleTestCheck))
	m.Handle("GET /api/v1/compliance", user(s.handleCompliance))
	m.Handle("GET /api/v1/sap/systems", user(s.handleSAPSystems))
	m.Handle("GET /api/v1/sap/notes", user(s.handleSAPNotes))
	m.Handle("POST /api/v1/sap/notes/{note}/resolve", user(s.handleSAPNoteResolve))
	m.Handle("DELETE /api/v1/sap/notes/{note}/resolve", user(s.handleSAPNoteResolve))
	m.Handle("GET /api/v1/sap/scope", user(s.handleGetSAPScope))
	m.Handle("PUT /api/v1/sap/scope", user(s.handleSetSAPScope))
	m.Handle("GET /api/v1/sap/db-logins", user(s.handleListSAPDBLogins))
	m.Handle("POST /api/v1/sap/db-logins", user(s.handleCreateSAPDBLogin))
	m.Handle("DELETE /api/v1/sap/db-logins/{id}", user(s.handleDeleteSAPDBLogin))
	s.riskRoutes(m, user)
	s.alertRoutes(m, user)
	s.accountRoutes(m, user)
	s.dashboardRoutes(m, user)
	m.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusNotFound, httpx.ErrorBody{Error: httpx.ErrorDetail{Code: "not_found", Message: "no such API endpoint: " + r.Method + " " + r.URL.Path}})
	}))
	if s.opts.Web != nil {
		m.Handle("/", s.opts.Web)
	}
}

// ServeHTTP adds security headers, panic recovery, logging and metrics
// around the router.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	h := rec.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			if !rec.wrote {
				http.Error(rec, "internal error", http.StatusInternalServerError)
			}
		}
		_, pattern := s.mux.Handler(r)
		if pattern == "" {
			pattern = "unmatched"
		}
		s.metrics.requests.WithLabelValues(pattern, strconv.Itoa(rec.status)).Inc()
		s.metrics.duration.WithLabelValues(pattern).Observe(time.Since(start).Seconds())
		s.log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", rec.status, "ms", time.Since(start).Milliseconds())
	}()
	s.mux.ServeHTTP(rec, r)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Store.Ping(r.Context()); err != nil {
		s.log.Error("health: database unreachable", "err", err)
		httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	reports  *prometheus.CounterVec
	packages prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_http_requests_total",
		Help: "HTTP requests by route pattern and status code."}, []string{"route", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_http_request_duration_seconds",
		Help: "HTTP request latency by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"})
	m.reports = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_reports_total",
		Help: "Host reports received from agents, by result (accepted, duplicate, rejected) and scan status."}, []string{"result", "status"})
	m.packages = prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_report_packages_total",
		Help: "Packages in accepted host reports."})
	m.reg.MustRegister(m.requests, m.duration, m.reports, m.packages,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
