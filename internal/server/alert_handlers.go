package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
)

// alertRoutes registers channels, alert rules, alerts and SLA settings.
func (s *Server) alertRoutes(m *httpx.Mux, user func(http.HandlerFunc) http.Handler) {
	m.Handle("GET /api/v1/channels", user(s.handleListChannels))
	m.Handle("POST /api/v1/channels", user(s.handleCreateChannel))
	m.Handle("GET /api/v1/channels/{id}", user(s.handleGetChannel))
	m.Handle("PUT /api/v1/channels/{id}", user(s.handleUpdateChannel))
	m.Handle("DELETE /api/v1/channels/{id}", user(s.handleDeleteChannel))
	m.Handle("POST /api/v1/channels/{id}/test", user(s.handleTestChannel))
	m.Handle("GET /api/v1/channels/{id}/notifications", user(s.handleChannelNotifications))
	m.Handle("GET /api/v1/alert-rules", user(s.handleListAlertRules))
	m.Handle("POST /api/v1/alert-rules", user(s.handleCreateAlertRule))
	m.Handle("GET /api/v1/alert-rules/{id}", user(s.handleGetAlertRule))
	m.Handle("PUT /api/v1/alert-rules/{id}", user(s.handleUpdateAlertRule))
	m.Handle("DELETE /api/v1/alert-rules/{id}", user(s.handleDeleteAlertRule))
	m.Handle("GET /api/v1/alerts", user(s.handleListAlerts))
	m.Handle("GET /api/v1/alerts/{id}", user(s.handleGetAlert))
	m.Handle("GET /api/v1/alert-settings", user(s.handleGetAlertSettings))
	m.Handle("PUT /api/v1/alert-settings", user(s.handleSaveAlertSettings))
}

func alertID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.Errorf(domain.EINVALID, "id: not a valid ID")
	}
	return id, nil
}

// channelJSON is the REST shape of a channel: secrets are write-only, only
// whether they are set is returned.
type channelJSON struct {
	ID        int64               `json:"id"`
	Name      string              `json:"name"`
	Kind      string              `json:"kind"`
	Enabled   bool                `json:"enabled"`
	Config    alert.ChannelConfig `json:"config"`
	HasSecret bool                `json:"has_secret"`
	CreatedAt time.Time           `json:"created_at"`
	UpdatedAt time.Time           `json:"updated_at"`
}

func channelView(c *alert.Channel) channelJSON {
	return channelJSON{ID: c.ID, Name: c.Name, Kind: c.Kind, Enabled: c.Enabled, Config: c.Config, HasSecret: c.HasSecret,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (s *Server) handleListChannels(w http.ResponseWriter, r *http.Request) {
	cs, err := s.svc.ListChannels(r.Context(), *httpx.ActorFrom(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	out := make([]channelJSON, len(cs))
	for i := range cs {
		out[i] = channelView(&cs[i])
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetChannel(w http.ResponseWriter, r *http.Request) {
	id, err := alertID(r)
	var c *alert.Channel
	if err == nil {
		c, err = s.svc.GetChannel(r.Context(), *httpx.ActorFrom(r.Context()), id)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, channelView(c))
}

func (s *Server) handleCreateChannel(w http.ResponseWriter, r *http.Request) {
	var in service.ChannelInput
	if err := httpx.DecodeJSON(w, r, userLimits, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	c, err := s.svc.CreateChannel(r.Context(), *httpx.ActorFrom(r.Context()), in)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.Header().Set("Location", "/api/v1/channels/"+strconv.FormatInt(c.ID, 10))
	httpx.WriteJSON(w, http.StatusCreated, channelView(c))
}

func (s *Server) handleUpdateChannel(w http.ResponseWriter, r *http.Request) {
	id, err := alertID(r)
	var in service.ChannelInput
	if err == nil {
		err = httpx.DecodeJSON(w, r, userLimits, true, &in)
	}
	var c *alert.Channel
	if err == nil {
		c, err = s.svc.UpdateChannel(r.Context(), *httpx.ActorFrom(r.Context()), id, in)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, channelView(c))
}

func (s *Server) handleDeleteChannel(w http.ResponseWriter, r *http.Request) {
	id, err := alertID(r)
	if err == nil {
		err = s.svc.DeleteChannel(r.Context(), *httpx.ActorFrom(r.Context()), id)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleTestChannel sends a test message now and answers with the
// notification and its attempt: 200 whether or not the channel took it,
// the outcome is in the body (status, last_error, response_code).
func (s *Server) handleTestChannel(w http.ResponseWriter, r *http.Request) {
	id, err := alertID(r)
	var n *alert.Notification
	if err == nil {
		n, err = s.svc.TestChannel(r.Context(), *httpx.ActorFrom(r.Context()), id)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, n)
}

func (s *Server) handleChannelNotifications(w http.ResponseWriter, r *http.Request) {
	id, err := alertID(r)
	var ns []alert.Notification
	if err == nil {
		// Another workspace's channel is not found, not an empty list.
		_, err = s.svc.GetChannel(r.Context(), *httpx.ActorFrom(r.Context()), id)
	}
	if err == nil {
		ns, err = s.svc.ListNotifications(r.Context(), *httpx.ActorFrom(r.Context()),
			store.NotificationFilter{ChannelID: id, Limit: queryInt(r, "limit", 100, 1000)})
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, ns)
}

func (s *Server) handleListAlertRules(w http.ResponseWriter, r *http.Request) {
	rs, err := s.svc.ListAlertRules(r.Context(), *httpx.ActorFrom(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, rs)
}

func (s *Server) handleGetAlertRule(w http.ResponseWriter, r *http.Request) {
	id, err := alertID(r)
	var rule *alert.Rule
	if err == nil {
		rule, err = s.svc.GetAlertRule(r.Context(), *httpx.ActorFrom(r.Context()), id)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, rule)
}

func (s *Server) handleCreateAlertRule(w http.ResponseWriter, r *http.Request) {
	in := alert.Rule{Enabled: true, NotifyResolved: true}
	if err := httpx.DecodeJSON(w, r, userLimits, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	rule, err := s.svc.CreateAlertRule(r.Context(), *httpx.ActorFrom(r.Context()), in)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.Header().Set("Location", "/api/v1/alert-rules/"+strconv.FormatInt(rule.ID, 10))
	httpx.WriteJSON(w, http.StatusCreated, rule)
}

func (s *Server) handleUpdateAlertRule(w http.ResponseWriter, r *http.Request) {
	id, err := alertID(r)
	in := alert.Rule{Enabled: true, NotifyResolved: true}
	if err == nil {
		err = httpx.DecodeJSON(w, r, userLimits, true, &in)
	}
	var rule *alert.Rule
	if err == nil {
		rule, err = s.svc.UpdateAlertRule(r.Context(), *httpx.ActorFrom(r.Context()), id, in)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, rule)
}

func (s *Server) handleDeleteAlertRule(w http.ResponseWriter, r *http.Request) {
	id, err := alertID(r)
	if err == nil {
		err = s.svc.DeleteAlertRule(r.Context(), *httpx.ActorFrom(r.Context()), id)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// AlertFilterFromQuery reads the alert list filters shared with the web app.
func AlertFilterFromQuery(r *http.Request) (store.AlertFilter, error) {
	q := r.URL.Query()
	f := store.AlertFilter{Status: q.Get("status"), Event: q.Get("event"),
		Limit: queryInt(r, "limit", 100, 1000), Offset: queryInt(r, "offset", 0, 1<<30)}
	if f.Limit == 0 {
		f.Limit = 100
	}
	switch f.Status {
	case "", alert.StatusOpen, alert.StatusResolved:
	case "all":
		f.Status = ""
	default:
		return f, domain.Errorf(domain.EINVALID, "status: must be open, resolved or all")
	}
	if f.Event != "" {
		ok := false
		for _, e := range alert.EventTypes {
			ok = ok || e == f.Event
		}
		if !ok {
			return f, domain.Errorf(domain.EINVALID, "event: unknown event type %q", f.Event)
		}
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"rule_id", &f.RuleID}, {"host_id", &f.HostID}} {
		if v := q.Get(p.name); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				return f, domain.Errorf(domain.EINVALID, "%s: not a valid ID", p.name)
			}
			*p.dst = id
		}
	}
	return f, nil
}

func (s *Server) handleListAlerts(w http.ResponseWriter, r *http.Request) {
	f, err := AlertFilterFromQuery(r)
	var list []alert.Alert
	var total int
	if err == nil {
		list, total, err = s.svc.ListAlerts(r.Context(), *httpx.ActorFrom(r.Context()), f)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"total": total, "alerts": list})
}

func (s *Server) handleGetAlert(w http.ResponseWriter, r *http.Request) {
	id, err := alertID(r)
	var a *alert.Alert
	var ns []alert.Notification
	if err == nil {
		a, ns, err = s.svc.GetAlert(r.Context(), *httpx.ActorFrom(r.Context()), id)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		*alert.Alert
		Notifications []alert.Notification `json:"notifications"`
	}{a, ns})
}

func (s *Server) handleGetAlertSettings(w http.ResponseWriter, r *http.Request) {
	set, err := s.svc.AlertSettings(r.Context(), *httpx.ActorFrom(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, set)
}

func (s *Server) handleSaveAlertSettings(w http.ResponseWriter, r *http.Request) {
	var set alert.Settings
	err := httpx.DecodeJSON(w, r, userLimits, true, &set)
	if err == nil {
		err = s.svc.SaveAlertSettings(r.Context(), *httpx.ActorFrom(r.Context()), set)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, set)
}
