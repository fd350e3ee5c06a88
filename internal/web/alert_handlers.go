package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/server"
	"github.com/vigil-project/vigil/internal/store"
)

// alertPages are the page templates of alerts, rules and channels,
// registered with the others when the package loads.
var alertPages = []string{"alerts", "alert", "alert_rules", "alert_rule_edit", "channels", "channel_edit"}

func init() { pageFiles = append(pageFiles, alertPages...) }

func (a *app) alertRoutes(m interface {
	Handle(string, http.Handler)
}) {
	m.Handle("GET /alerts", a.user(a.handleAlerts))
	m.Handle("GET /alerts/{id}", a.user(a.handleAlert))
	m.Handle("GET /alert-rules", a.user(a.handleAlertRules))
	m.Handle("GET /alert-rules/new", a.user(a.handleRuleForm))
	m.Handle("POST /alert-rules", a.user(a.handleSaveRule))
	m.Handle("GET /alert-rules/{id}", a.user(a.handleRuleForm))
	m.Handle("POST /alert-rules/{id}", a.user(a.handleSaveRule))
	m.Handle("POST /alert-rules/{id}/delete", a.user(a.handleDeleteRule))
	m.Handle("POST /alert-settings", a.user(a.handleSaveSLA))
	m.Handle("GET /settings/channels", a.user(a.handleChannels))
	m.Handle("GET /settings/channels/new", a.user(a.handleChannelForm))
	m.Handle("POST /settings/channels", a.user(a.handleSaveChannel))
	m.Handle("GET /settings/channels/{id}", a.user(a.handleChannelForm))
	m.Handle("POST /settings/channels/{id}", a.user(a.handleSaveChannel))
	m.Handle("POST /settings/channels/{id}/test", a.user(a.handleTestChannel))
	m.Handle("POST /settings/channels/{id}/delete", a.user(a.handleDeleteChannel))
}

func idOf(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// alertRow is one alert in lists.
type alertRow struct {
	ID       int64
	Title    string
	Event    string
	Rule     string
	Host     string
	HostID   int64
	Severity status
	Open     bool
	Quiet    bool
	Opened   when
	Updated  when
	Resolved when
}

func newAlertRow(al *alert.Alert, now time.Time) alertRow {
	r := alertRow{ID: al.ID, Title: al.Title, Event: al.Event, Rule: al.RuleName, Host: al.HostName, Open: al.Status == alert.StatusOpen,
		Quiet: al.Suppressed, Opened: newWhen(al.OpenedAt, now), Updated: newWhen(al.UpdatedAt, now), Resolved: whenPtr(al.ResolvedAt, now)}
	if al.Severity != "" {
		r.Severity = severityBadge(al.Severity)
	}
	if al.HostID != nil {
		r.HostID = *al.HostID
	}
	return r
}

type alertsPage struct {
	Rows   []alertRow
	Total  int
	Status string
	Event  string
	Events []string
	More   string // URL of the next page, "" when none
}

func (a *app) handleAlerts(w http.ResponseWriter, r *http.Request, rq *request) {
	f, err := server.AlertFilterFromQuery(r)
	if err != nil {
		a.renderError(w, r, rq, http.StatusBadRequest, "Bad filter", domain.ErrorMessage(err))
		return
	}
	if r.URL.Query().Get("status") == "" {
		f.Status = alert.StatusOpen // the page opens on what needs attention
	}
	list, total, err := a.svc.ListAlerts(r.Context(), *rq.Actor, f)
	if err != nil {
		a.failed(w, r, rq, "list alerts", err)
		return
	}
	now := a.svc.Now()
	p := alertsPage{Total: total, Status: r.URL.Query().Get("status"), Event: f.Event, Events: alert.EventTypes}
	if p.Status == "" {
		p.Status = alert.StatusOpen
	}
	for i := range list {
		p.Rows = append(p.Rows, newAlertRow(&list[i], now))
	}
	if f.Offset+len(list) < total {
		q := r.URL.Query()
		q.Set("offset", strconv.Itoa(f.Offset+len(list)))
		p.More = "/alerts?" + q.Encode()
	}
	a.render(w, r, http.StatusOK, "alerts", pageData{Title: "Alerts", Nav: "alerts", Req: rq, Data: p})
}

// notificationRow is one notification with its attempts.
type notificationRow struct {
	ID       int64
	Channel  string
	Kind     string
	Status   string
	Attempts int
	Code     int
	Error    string
	Created  when
	Sent     when
	History  []attemptRow
}

type attemptRow struct {
	At    when
	OK    bool
	Code  int
	Error string
	MS    int64
}

func newNotificationRows(ns []alert.Notification, now time.Time) []notificationRow {
	out := make([]notificationRow, 0, len(ns))
	for _, n := range ns {
		row := notificationRow{ID: n.ID, Channel: n.ChannelName, Kind: n.Kind, Status: n.Status, Attempts: n.Attempts,
			Code: n.ResponseCode, Error: n.LastError, Created: newWhen(n.CreatedAt, now), Sent: whenPtr(n.SentAt, now)}
		for _, at := range n.History {
			row.History = append(row.History, attemptRow{At: newWhen(at.At, now), OK: at.OK, Code: at.ResponseCode, Error: at.Error, MS: at.DurationMS})
		}
		out = append(out, row)
	}
	return out
}

type alertPage struct {
	Alert         alertRow
	Subject       string
	Details       [][2]string
	Notifications []notificationRow
}

func (a *app) handleAlert(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := idOf(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	al, ns, err := a.svc.GetAlert(r.Context(), *rq.Actor, id)
	if err != nil {
		a.failed(w, r, rq, "get alert", err)
		return
	}
	now := a.svc.Now()
	p := alertPage{Alert: newAlertRow(al, now), Subject: al.Subject, Notifications: newNotificationRows(ns, now)}
	keys := make([]string, 0, len(al.Details))
	for k := range al.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if al.Details[k] != "" {
			p.Details = append(p.Details, [2]string{k, al.Details[k]})
		}
	}
	a.render(w, r, http.StatusOK, "alert", pageData{Title: "Alert: " + al.Title, Nav: "alerts", Req: rq, Data: p})
}

func (a *app) handleDeleteRule(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := idOf(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	if err := a.svc.DeleteAlertRule(r.Context(), *rq.Actor, id); err != nil {
		a.failed(w, r, rq, "delete alert rule", err)
		return
	}
	http.Redirect(w, r, "/alert-rules?deleted=1", http.StatusSeeOther)
}

func (a *app) handleDeleteChannel(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := idOf(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	if err := a.svc.DeleteChannel(r.Context(), *rq.Actor, id); err != nil {
		a.failed(w, r, rq, "delete channel", err)
		return
	}
	http.Redirect(w, r, "/settings/channels?deleted=1", http.StatusSeeOther)
}

// handleTestChannel sends a test message and shows the outcome on the
// channels page.
func (a *app) handleTestChannel(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := idOf(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	n, err := a.svc.TestChannel(r.Context(), *rq.Actor, id)
	if err != nil {
		a.failed(w, r, rq, "test channel", err)
		return
	}
	q := url.Values{"tested": {strconv.FormatInt(id, 10)}, "result": {n.Status}}
	if n.LastError != "" {
		q.Set("error", n.LastError)
	}
	http.Redirect(w, r, "/settings/channels?"+q.Encode(), http.StatusSeeOther)
}

// channelRow is a channel in the list: where it sends, never its secrets.
type channelRow struct {
	ID      int64
	Name    string
	Kind    string
	Target  string
	Enabled bool
	Secret  bool
	Updated when
	Recent  []notificationRow
}

type channelsPage struct {
	Rows   []channelRow
	Tested string // name of the channel just tested
	Result string
	Error  string
}

func channelTarget(c *alert.Channel) string {
	switch c.Kind {
	case alert.ChannelWebhook:
		if u, err := url.Parse(c.Config.URL); err == nil {
			return u.Scheme + "://" + u.Host + u.Path
		}
	case alert.ChannelSlack, alert.ChannelTeams:
		return "incoming webhook URL (kept secret)"
	case alert.ChannelEmail:
		return c.Config.SMTPHost + ":" + strconv.Itoa(c.Config.SMTPPort) + " → " + joinComma(c.Config.To)
	}
	return ""
}

func joinComma(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

func (a *app) handleChannels(w http.ResponseWriter, r *http.Request, rq *request) {
	cs, err := a.svc.ListChannels(r.Context(), *rq.Actor)
	if err != nil {
		a.failed(w, r, rq, "list channels", err)
		return
	}
	now := a.svc.Now()
	q := r.URL.Query()
	p := channelsPage{Result: q.Get("result"), Error: q.Get("error")}
	flash := ""
	if q.Get("saved") == "1" {
		flash = "Channel saved."
	} else if q.Get("deleted") == "1" {
		flash = "Channel deleted."
	}
	for i := range cs {
		c := &cs[i]
		row := channelRow{ID: c.ID, Name: c.Name, Kind: c.Kind, Target: channelTarget(c), Enabled: c.Enabled, Secret: c.HasSecret,
			Updated: newWhen(c.UpdatedAt, now)}
		if strconv.FormatInt(c.ID, 10) == q.Get("tested") {
			p.Tested = c.Name
		}
		ns, err := a.svc.ListNotifications(r.Context(), *rq.Actor, store.NotificationFilter{ChannelID: c.ID, Limit: 5})
		if err != nil {
			a.failed(w, r, rq, "list notifications", err)
			return
		}
		row.Recent = newNotificationRows(ns, now)
		p.Rows = append(p.Rows, row)
	}
	a.render(w, r, http.StatusOK, "channels", pageData{Title: "Notification channels", Nav: "settings", Req: rq, Flash: flash, Data: p})
}
