package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/sbom"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/vuln"
)

// reportPage is the printable group report. It is its own HTML document
// (template "report"): no navigation, print CSS, page breaks between
// sections, so that the browser's "Save as PDF" gives a clean file.
type reportPage struct {
	GroupID     int64
	GroupName   string
	Description string
	Workspace   string
	Generated   string
	Summary     []string
	Hosts       int
	Scanned     int
	Stale       int
	OpenTotal   int
	KEVOpen     int
	KEVOverdue  int
	Excepted    int
	Fix         int
	Sev         []sevCount
	Score       scoreView
	Excepts     int // excepted check results
	Trend       *trendChart
	TopRisks    []fleetRow
	TopHosts    []workRow
	Failing     []failingCheck
	Exceptions  []exceptionRow
	Recent      []exceptionRow
	HostRows    []reportHost
	TrendDays   int
	// InlineCSS carries the style sheet into the document when it is
	// e-mailed: a mail client loads no /static files.
	InlineCSS template.CSS
}

type sevCount struct {
	Badge status
	N     int
}

type failingCheck struct {
	ID       string
	Title    string
	URL      string
	Severity status
	Fail     int
	Pass     int
	Excepted int
}

type reportHost struct {
	Name     string
	OS       string
	LastScan string
	Status   status
}

func (a *app) handleGroupReport(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := hostID(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	rep, err := a.svc.GroupReport(r.Context(), *rq.Actor, id)
	if isNotFound(err) {
		a.notFound(w, r, rq)
		return
	} else if err != nil {
		a.serverError(w, r, rq, "group report", err)
		return
	}
	cat, err := a.catalog(r.Context(), rq.Actor.WorkspaceID)
	if err != nil {
		a.serverError(w, r, rq, "check catalog", err)
		return
	}
	ws, err := a.svc.Store.GetWorkspace(r.Context(), rq.Actor.WorkspaceID)
	if err != nil {
		a.serverError(w, r, rq, "get workspace", err)
		return
	}
	p := newReportPage(rep, cat, ws)
	a.execute(w, r, http.StatusOK, "report_group", "report", pageData{Title: "Report: " + rep.Group.Name, Req: rq, Data: p})
}

// renderReportMail renders a group's report as a self-contained HTML
// document and its executive summary as text, for scheduled e-mails
// (service.RenderReport).
func (a *app) renderReportMail(ctx context.Context, act service.Actor, groupID int64) ([]byte, string, error) {
	rep, err := a.svc.GroupReport(ctx, act, groupID)
	if err != nil {
		return nil, "", err
	}
	cat, err := a.catalog(ctx, act.WorkspaceID)
	if err != nil {
		return nil, "", err
	}
	ws, err := a.svc.Store.GetWorkspace(ctx, act.WorkspaceID)
	if err != nil {
		return nil, "", err
	}
	p := newReportPage(rep, cat, ws)
	css, ok := a.assets.files["report.css"]
	if !ok {
		return nil, "", errors.New("web: no report.css asset")
	}
	p.InlineCSS = template.CSS(css.data)
	var buf bytes.Buffer
	if err := a.tmpl.pages["report_group"].ExecuteTemplate(&buf, "report", pageData{Title: "Report: " + rep.Group.Name, Data: p}); err != nil {
		return nil, "", fmt.Errorf("render report: %w", err)
	}
	text := "Vigil report: " + rep.Group.Name + " (" + p.Generated + ")\n\n" + strings.Join(p.Summary, "\n\n") +
		"\n\nThe full report is attached as HTML: open it in a browser to read or print it.\n"
	return buf.Bytes(), text, nil
}

// newReportPage turns the service's report into what the template shows.
func newReportPage(rep *service.GroupReport, cat *checkCatalog, ws *domain.Workspace) reportPage {
	now := rep.GeneratedAt
	p := reportPage{GroupID: rep.Group.ID, GroupName: rep.Group.Name, Description: rep.Group.Description, Workspace: ws.Name,
		Generated: now.UTC().Format("2006-01-02 15:04 UTC"), Hosts: len(rep.Hosts), Scanned: rep.HostsScanned, Stale: rep.HostsStale,
		OpenTotal: rep.OpenTotal, KEVOpen: rep.KEVOpen, KEVOverdue: rep.KEVOverdue, Excepted: rep.ExceptedCount, Fix: rep.FixAvailable,
		Score: newScore(rep.Compliance), Excepts: rep.Compliance.Totals.Excepted, TrendDays: len(rep.Trend)}
	for _, s := range vuln.Severities {
		p.Sev = append(p.Sev, sevCount{Badge: severityBadge(s), N: rep.OpenBySev[s]})
	}
	p.Trend = newTrendChart(rep.Trend)
	for i := range rep.TopRisks {
		it := &rep.TopRisks[i]
		row := fleetRow{Package: it.Package, Fix: it.Fix, Hosts: it.Hosts, ExposedHosts: it.ExposedHosts, Count: len(it.Vulns),
			Rank: newRankView(&it.Rank, now)}
		row.Vulns, row.More = vulnLinks(it.Vulns)
		p.TopRisks = append(p.TopRisks, row)
	}
	for i := range rep.TopHosts {
		it := &rep.TopHosts[i]
		row := workRow{HostID: it.HostID, HostName: it.HostName, Package: it.Package, Installed: it.Installed, Fix: it.Fix,
			Count: len(it.Vulns), Unfixed: len(it.Unfixed), Listening: strings.Join(it.Listening, ", "), Rank: newRankView(&it.Rank, now)}
		row.Vulns, row.More = vulnLinks(it.Vulns)
		p.TopHosts = append(p.TopHosts, row)
	}
	for _, c := range rep.FailingChecks {
		title := c.Title
		if title == "" {
			title = cat.title(c.CheckID)
		}
		p.Failing = append(p.Failing, failingCheck{ID: c.CheckID, Title: title, URL: checkURL(c.CheckID),
			Severity: checkSeverity(c.Severity), Fail: c.Fail, Pass: c.Pass, Excepted: c.Excepted})
	}
	for i := range rep.Exceptions {
		p.Exceptions = append(p.Exceptions, newExceptionRow(&rep.Exceptions[i], now))
	}
	for i := range rep.RecentExceptions {
		p.Recent = append(p.Recent, newExceptionRow(&rep.RecentExceptions[i], now))
	}
	interval := time.Duration(ws.Schedule.IntervalSeconds) * time.Second
	if interval <= 0 {
		interval = time.Hour
	}
	for i := range rep.Hosts {
		h := &rep.Hosts[i]
		hr := reportHost{Name: h.Name, OS: osLabel(h), Status: hostStatus(h, h.Stale(now, interval))}
		if h.LastSuccessAt != nil {
			hr.LastScan = h.LastSuccessAt.UTC().Format("2006-01-02 15:04")
		}
		p.HostRows = append(p.HostRows, hr)
	}
	p.Summary = executiveSummary(rep, &p)
	return p
}

// executiveSummary says in a few sentences what the figures below show.
func executiveSummary(rep *service.GroupReport, p *reportPage) []string {
	var out []string
	s := fmt.Sprintf("%s has %s", rep.Group.Name, nplural(len(rep.Hosts), "host", "hosts"))
	if len(rep.Hosts) > 0 {
		s += fmt.Sprintf("; %d scanned recently", rep.HostsScanned)
		if rep.HostsStale > 0 {
			s += fmt.Sprintf(", %d stale (no successful scan for three intervals)", rep.HostsStale)
		}
	}
	out = append(out, s+".")
	if rep.OpenTotal == 0 {
		out = append(out, "No vulnerability is open on these hosts.")
	} else {
		var parts []string
		for _, sv := range []string{"critical", "high"} {
			if n := rep.OpenBySev[sv]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, sv))
			}
		}
		s = fmt.Sprintf("%s open", nplural(rep.OpenTotal, "vulnerability finding is", "vulnerability findings are"))
		if len(parts) > 0 {
			s += " (" + strings.Join(parts, ", ") + ")"
		}
		s += fmt.Sprintf("; %d have a fixed version available", rep.FixAvailable)
		out = append(out, s+".")
		if rep.KEVOpen > 0 {
			s = fmt.Sprintf("%d are known to be exploited (CISA KEV)", rep.KEVOpen)
			if rep.KEVOverdue > 0 {
				s += fmt.Sprintf(", %d past CISA's due date", rep.KEVOverdue)
			}
			out = append(out, s+".")
		}
		if len(rep.TopRisks) > 0 {
			t := rep.TopRisks[0]
			fix := "no fix is available yet"
			if t.Fix != "" {
				fix = "upgrading to " + t.Fix + " closes it"
			}
			out = append(out, fmt.Sprintf("The most urgent upgrade is %s on %s (%s); %s.", t.Package,
				nplural(t.Hosts, "host", "hosts"), nplural(len(t.Vulns), "vulnerability", "vulnerabilities"), fix))
		}
	}
	if len(rep.Exceptions) > 0 {
		out = append(out, fmt.Sprintf("%s in force %s %s and %s.", nplural(len(rep.Exceptions), "exception", "exceptions"),
			plural(len(rep.Exceptions), "covers", "cover"), nplural(rep.ExceptedCount, "open finding", "open findings"),
			nplural(p.Excepts, "failing check result", "failing check results")))
	}
	if p.Score.Set {
		s = fmt.Sprintf("Compliance: %s of judged check results pass", p.Score.Text)
		if n := len(rep.FailingChecks); n > 0 {
			s += fmt.Sprintf("; %s %s on at least one host", nplural(n, "check", "checks"), plural(n, "fails", "fail"))
		}
		if p.Excepts > 0 {
			s += fmt.Sprintf("; %s excepted", nplural(p.Excepts, "failing result is", "failing results are"))
		}
		out = append(out, s+".")
	} else {
		out = append(out, "No compliance check has been judged on these hosts.")
	}
	return out
}

// nplural is "1 host", "3 hosts".
func nplural(n int, one, many string) string { return strconv.Itoa(n) + " " + plural(n, one, many) }

// trendChart is the severity trend as inline SVG: one line per severity
// and one for the total, with a labelled axis. Colours are presentation
// attributes (the pages' CSP allows no inline style).
type trendChart struct {
	W, H   int
	Lines  []trendLine
	Max    int
	YTicks []tick
	XTicks []tick
	Label  string
}

type trendLine struct {
	Name   string
	Colour string
	Dash   string
	Points string
	Last   int
}

type tick struct {
	Pos   string
	Label string
}

func newTrendChart(points []service.TrendPoint) *trendChart {
	if len(points) == 0 {
		return nil
	}
	const w, h, left, right, top, bottom = 640, 200, 40, 28, 10, 24
	c := &trendChart{W: w, H: h}
	for _, pt := range points {
		c.Max = max(c.Max, pt.Total)
	}
	top2 := max(c.Max, 1)
	x := func(i int) float64 {
		if len(points) == 1 {
			return left
		}
		return left + float64(i)*float64(w-left-right)/float64(len(points)-1)
	}
	y := func(v int) float64 { return float64(h-bottom) - float64(v)*float64(h-top-bottom)/float64(top2) }
	series := []struct{ name, colour, dash string }{
		{"total", "#444", "4 3"}, {"critical", "#8b0000", ""}, {"high", "#d9480f", ""}, {"medium", "#b08900", ""}, {"low", "#2b6cb0", ""},
	}
	for _, s := range series {
		var b strings.Builder
		last := 0
		for i, pt := range points {
			v := pt.BySev[s.name]
			if s.name == "total" {
				v = pt.Total
			}
			last = v
			fmt.Fprintf(&b, "%.1f,%.1f ", x(i), y(v))
		}
		c.Lines = append(c.Lines, trendLine{Name: s.name, Colour: s.colour, Dash: s.dash, Points: strings.TrimSpace(b.String()), Last: last})
	}
	for _, v := range []int{0, top2 / 2, top2} {
		c.YTicks = append(c.YTicks, tick{Pos: fmt.Sprintf("%.1f", y(v)), Label: strconv.Itoa(v)})
	}
	for _, i := range []int{0, len(points) / 2, len(points) - 1} {
		c.XTicks = append(c.XTicks, tick{Pos: fmt.Sprintf("%.1f", x(i)), Label: points[i].Day.Format("Jan 2")})
	}
	c.Label = fmt.Sprintf("Open findings per day over %d days, from %d to %d", len(points), points[0].Total, points[len(points)-1].Total)
	return c
}

// handleHostSBOM downloads a host's CycloneDX SBOM.
func (a *app) handleHostSBOM(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := hostID(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	bom, h, err := a.svc.HostSBOM(r.Context(), *rq.Actor, id)
	if isNotFound(err) {
		a.notFound(w, r, rq)
		return
	} else if err != nil {
		a.serverError(w, r, rq, "host sbom", err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.cyclonedx+json; version=1.6")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="`+sbomFileName(h.Name)+`"`)
	_ = sbom.Encode(w, bom)
}

// sbomFileName makes a download name from a host name: letters, digits,
// dots, dashes and underscores only.
func sbomFileName(host string) string {
	var b strings.Builder
	for _, r := range host {
		if r < 128 && (r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "host.cdx.json"
	}
	return b.String() + ".cdx.json"
}
