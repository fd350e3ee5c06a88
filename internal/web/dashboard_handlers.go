package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
)

// dashPages are the page templates of the dashboard, hosts-table, agents
// and settings files.
var dashPages = []string{"dashboard", "host_diff", "agents", "settings"}

// dashboardRoutes registers the dashboard, the agents page, the settings
// pages of this file set and the host page's extra views.
func (a *app) dashboardRoutes(m interface {
	Handle(pattern string, h http.Handler)
}) {
	m.Handle("GET /dashboard", a.user(a.handleDashboard))
	m.Handle("POST /hosts/filters", a.user(a.handleSaveHostFilter))
	m.Handle("POST /hosts/filters/{id}/delete", a.user(a.handleDeleteHostFilter))
	m.Handle("POST /hosts/filters/group", a.user(a.handleFilterToGroup))
	m.Handle("POST /hosts/bulk", a.user(a.handleBulkHosts))
	m.Handle("GET /hosts/{id}/diff", a.user(a.handleHostDiff))
	m.Handle("GET /agents", a.user(a.handleAgents))
	m.Handle("POST /agents", a.user(a.handleCreateAgent))
	m.Handle("POST /agents/{id}/run-now", a.user(a.handleAgentRunNow))
	m.Handle("POST /agents/{id}/rotate", a.user(a.handleRotateAgent))
	m.Handle("POST /agents/{id}/revoke", a.user(a.handleRevokeAgent))
	m.Handle("GET /settings/general", a.user(a.handleSettings))
	m.Handle("POST /settings/schedule", a.user(a.handleSetSchedule))
	m.Handle("POST /settings/retention", a.user(a.handleSetRetention))
	m.Handle("POST /settings/feeds/sync", a.user(a.handleFeedSync))
	m.Handle("GET /settings/feeds/progress", a.user(a.handleFeedProgress))
}

// count is a figure on the dashboard and the list it links to.
type count struct {
	Label string
	N     int
	URL   string
	Class string // badge class for severities and states
}

type dashboardPage struct {
	Computed   when
	Interval   string
	Fleet      []count
	Hosts      count
	Agents     count
	Severities []count
	Total      count
	KEV        count
	Score      scoreView
	Checks     []count
	RiskyHosts []riskyHostRow
	Upgrades   []upgradeRow
	Feeds      []feedRow
	// TrendData is the chart data. The template writes it into a
	// <script type="application/json"> block, which html/template encodes
	// as JSON (it treats the block as JavaScript): charts.js reads it, and
	// no inline script runs.
	TrendData trendData
	Trend     []trendRow
}

type riskyHostRow struct {
	store.RiskyHost
	URL string
}

type upgradeRow struct {
	store.PackageUpgrade
	URL string
}

type feedRow struct {
	Feed        string
	LastSuccess when
	LastAttempt when
	Records     int64
	Error       string
}

// trendRow is one day of the charts, also shown as a table for screen
// readers and without JavaScript.
type trendRow struct {
	Day                                       string
	Critical, High, Medium, Low, Unknown, KEV int
	Score                                     string
	HostsScanned                              int
}

// trendData is what charts.js draws: parallel arrays, days as Unix
// seconds, null for a day without a score.
type trendData struct {
	Days     []int64    `json:"days"`
	Critical []int      `json:"critical"`
	High     []int      `json:"high"`
	Medium   []int      `json:"medium"`
	Low      []int      `json:"low"`
	KEV      []int      `json:"kev"`
	Score    []*float64 `json:"score"`
	Scanned  []int      `json:"scanned"`
}

func hostsURL(v url.Values) string {
	if len(v) == 0 {
		return "/hosts"
	}
	return "/hosts?" + v.Encode()
}

func (a *app) handleDashboard(w http.ResponseWriter, r *http.Request, rq *request) {
	d, err := a.svc.Dashboard(r.Context(), *rq.Actor)
	if err != nil {
		a.serverError(w, r, rq, "dashboard", err)
		return
	}
	a.render(w, r, http.StatusOK, "dashboard", pageData{Title: "Dashboard", Nav: "dashboard", Req: rq, Data: newDashboardPage(d)})
}

func newDashboardPage(d *service.DashboardData) dashboardPage {
	c := d.Current
	f := d.Fleet
	p := dashboardPage{
		Computed: newWhen(c.ComputedAt, d.Now),
		Interval: interval(d.Interval),
		Hosts:    count{Label: "Hosts", N: f.Hosts, URL: "/hosts"},
		Agents:   count{Label: "Agents online", N: f.AgentsOnline, URL: "/agents"},
		Fleet: []count{
			{"Scanned OK", f.OK, hostsURL(url.Values{"status": {"ok"}}), "ok"},
			{"Failing", f.Failing, hostsURL(url.Values{"status": {"failing"}}), "error"},
			{"Stale", f.Stale, hostsURL(url.Values{"status": {"stale"}}), "stale"},
			{"Never scanned", f.Never, hostsURL(url.Values{"status": {"never"}}), "never"},
		},
		Total: count{Label: "Open findings", N: c.OpenFindings(), URL: "/vulnerabilities"},
		KEV:   count{Label: "Known exploited (KEV)", N: c.KEV, URL: "/vulnerabilities?kev=1", Class: "kev"},
		Score: newDashScore(c),
		Checks: []count{
			{"Failing checks", c.ChecksFail, "/compliance", "fail"},
			{"Check errors", c.ChecksError, "/compliance", "check-error"},
		},
	}
	for _, s := range []struct {
		name string
		n    int
	}{{"critical", c.Critical}, {"high", c.High}, {"medium", c.Medium}, {"low", c.Low}, {"unknown", c.Unknown}} {
		b := severityBadge(s.name)
		p.Severities = append(p.Severities, count{Label: b.Label, N: s.n, URL: "/vulnerabilities?severity=" + s.name, Class: b.Class})
	}
	for _, h := range c.Detail.RiskyHosts {
		p.RiskyHosts = append(p.RiskyHosts, riskyHostRow{RiskyHost: h, URL: "/hosts/" + strconv.FormatInt(h.HostID, 10) + "#vulnerabilities"})
	}
	for _, u := range c.Detail.Upgrades {
		p.Upgrades = append(p.Upgrades, upgradeRow{PackageUpgrade: u, URL: "/vulnerabilities?" + url.Values{"q": {u.Package}, "fix": {"1"}}.Encode()})
	}
	for _, fs := range d.Feeds {
		p.Feeds = append(p.Feeds, feedRow{Feed: fs.Feed, LastSuccess: whenPtr(fs.LastSuccessAt, d.Now),
			LastAttempt: whenPtr(fs.LastAttemptAt, d.Now), Records: fs.Records, Error: truncate(fs.LastError, 120)})
	}
	td := trendData{}
	for i := range d.Trend {
		t := &d.Trend[i]
		day, err := time.Parse(time.DateOnly, t.Day)
		if err != nil {
			continue
		}
		td.Days = append(td.Days, day.Unix())
		td.Critical = append(td.Critical, t.Critical)
		td.High = append(td.High, t.High)
		td.Medium = append(td.Medium, t.Medium)
		td.Low = append(td.Low, t.Low)
		td.KEV = append(td.KEV, t.KEV)
		td.Scanned = append(td.Scanned, t.HostsScanned)
		row := trendRow{Day: t.Day, Critical: t.Critical, High: t.High, Medium: t.Medium, Low: t.Low, Unknown: t.Unknown,
			KEV: t.KEV, HostsScanned: t.HostsScanned, Score: "—"}
		if v, ok := t.Score(); ok {
			v := v
			td.Score = append(td.Score, &v)
			row.Score = fmt.Sprintf("%.1f %%", v)
		} else {
			td.Score = append(td.Score, nil)
		}
		p.Trend = append(p.Trend, row)
	}
	p.TrendData = td
	return p
}

func newDashScore(r *store.Rollup) scoreView {
	v := scoreView{Pass: r.ChecksPass, Fail: r.ChecksFail, Error: r.ChecksError}
	if s, ok := r.Score(); ok {
		// Rounded down, as the compliance page does: 99.96 % with a
		// failure must not read 100 %.
		s = math.Floor(s*10+1e-9) / 10
		v.Set, v.Value, v.Text = true, strconv.FormatFloat(s, 'f', 1, 64), fmt.Sprintf("%.1f%%", s)
	}
	return v
}
