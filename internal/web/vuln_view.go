package web

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// vulnURL is the page of one vulnerability. IDs are CVE or advisory IDs
// ("ALSA-2024:8793"); anything odd in them is escaped.
func vulnURL(id string) string { return "/vulnerabilities/" + url.PathEscape(id) }

// severityBadge shows a severity as a word with a colour: never colour alone.
func severityBadge(s string) status {
	switch s {
	case "critical", "high", "medium", "low":
		return status{Label: strings.ToUpper(s[:1]) + s[1:], Class: "sev-" + s}
	}
	return status{Label: "Unknown", Class: "sev-unknown"}
}

// severityRank orders severities, most severe first; unknown ones last.
func severityRank(s string) int {
	for i, v := range vuln.Severities {
		if v == s {
			return i
		}
	}
	return len(vuln.Severities)
}

func findingStatus(s string) status {
	if s == vuln.FindingResolved {
		return status{Label: "Resolved", Class: "ok"}
	}
	return status{Label: "Open", Class: "open"}
}

// score formats a CVSS base score; 0 means none is known.
func score(s float64) string {
	if s <= 0 {
		return ""
	}
	return strconv.FormatFloat(s, 'f', 1, 64)
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

// kevView is a CISA KEV entry as the pages show it.
type kevView struct {
	Due        string
	Overdue    bool
	Ransomware bool
	Added      string
	Action     string
	Product    string // "Vendor Product"
	Name       string
}

func newKEV(k *vuln.KEV, now time.Time) *kevView {
	if k == nil {
		return nil
	}
	return &kevView{Due: day(k.DueDate), Overdue: !k.DueDate.IsZero() && k.DueDate.Before(now),
		Ransomware: strings.EqualFold(k.Ransomware, "Known"), Added: day(k.DateAdded), Action: k.RequiredAction,
		Product: strings.TrimSpace(k.VendorProject + " " + k.Product), Name: k.Name}
}

// epssView is an EPSS score and percentile, both as percentages.
type epssView struct {
	Score      string
	Percentile string
	Date       string
	Model      string
}

func newEPSS(e *vuln.EPSS) *epssView {
	if e == nil {
		return nil
	}
	return &epssView{Score: percent(e.Score, 2), Percentile: percent(e.Percentile, 1), Date: day(e.Date), Model: e.Model}
}

func percent(f float64, decimals int) string {
	return strconv.FormatFloat(f*100, 'f', decimals, 64) + "%"
}

// vulnRow is one line of the vulnerabilities list.
type vulnRow struct {
	ID       string
	URL      string
	Severity status
	CVSS     string
	KEV      *kevView
	EPSS     *epssView
	Hosts    int
	Fix      bool
	DaysOpen int
	Desc     string
	DescFull string
}

func newVulnRow(s *store.VulnSummary, now time.Time) vulnRow {
	r := vulnRow{ID: s.VulnID, URL: vulnURL(s.VulnID), Severity: severityBadge(s.Severity), CVSS: score(s.CVSSScore),
		KEV: newKEV(s.KEV, now), EPSS: newEPSS(s.EPSS), Hosts: s.Hosts, Fix: s.FixAvailable,
		Desc: truncate(s.Description, 110)}
	if !s.FirstSeen.IsZero() {
		r.DaysOpen = max(0, int(now.Sub(s.FirstSeen).Hours()/24))
	}
	if r.Desc != strings.Join(strings.Fields(s.Description), " ") {
		r.DescFull = truncate(s.Description, 1000)
	}
	return r
}

// markView is an operator's mark on a finding.
type markView struct {
	Label   string
	Class   string
	Reason  string
	By      string
	At      when
	Expires string
	Expired bool
	// ExceptionURL links to the exception the mark comes from, if any.
	ExceptionURL string
}

func newMark(f *vuln.Finding, now time.Time) *markView {
	if f.Mark == "" {
		return nil
	}
	m := &markView{Label: markLabel(f.Mark), Class: "marked", Reason: f.MarkReason, By: f.MarkBy,
		At: whenPtr(f.MarkAt, now), Expired: !f.MarkActive(now)}
	if f.MarkExpiresAt != nil {
		m.Expires = day(*f.MarkExpiresAt)
	}
	if f.ExceptionID != 0 {
		m.ExceptionURL = exceptionURL(f.ExceptionID)
	}
	return m
}

func markLabel(kind string) string {
	switch kind {
	case vuln.MarkAcceptedRisk:
		return "Accepted risk"
	case vuln.MarkFalsePositive:
		return "False positive"
	case vuln.MarkMitigated:
		return "Mitigated"
	}
	return kind
}

// findingRow is one finding: a vulnerability on one package of one host.
type findingRow struct {
	ID           int64
	HostID       int64
	HostName     string
	VulnID       string
	VulnURL      string
	Severity     status
	CVSS         string
	KEV          *kevView
	EPSS         *epssView
	Package      string
	Binaries     string
	Installed    string
	Fixed        string
	Advisory     string
	Source       string
	Status       status
	FirstSeen    when
	FirstSeenDay string
	DaysOpen     int
	Mark         *markView
	Rule         string
}

func newFindingRow(f *vuln.Finding, now time.Time) findingRow {
	r := findingRow{ID: f.ID, HostID: f.HostID, HostName: f.HostName, VulnID: f.VulnID, VulnURL: vulnURL(f.VulnID),
		Severity: severityBadge(f.Severity), CVSS: score(f.CVSSScore), KEV: newKEV(f.KEV, now), EPSS: newEPSS(f.EPSS),
		Package: f.Package, Installed: f.Installed, Fixed: f.Fixed, Advisory: f.AdvisoryID, Source: f.Source,
		Status: findingStatus(f.Status), FirstSeen: newWhen(f.FirstSeen, now), FirstSeenDay: day(f.FirstSeen), DaysOpen: max(0, f.DaysOpen(now)),
		Mark: newMark(f, now), Rule: f.Rule}
	if len(f.Binaries) > 0 && !(len(f.Binaries) == 1 && f.Binaries[0] == f.Package) {
		r.Binaries = strings.Join(f.Binaries, ", ")
	}
	return r
}

// findingTable is what the "findings_table" partial needs: the rows, which
// columns to show, and the caller, for the mark forms.
type findingTable struct {
	Caption  string
	Rows     []findingRow
	ShowHost bool // on a vulnerability's page: one row per affected host
	ShowVuln bool // on a host's page: one row per vulnerability
	// ShowStatus adds the open/resolved column, for lists of both.
	ShowStatus bool
	// Inline puts the mark form in the table; otherwise rows link to the
	// finding's mark page.
	Inline bool
	Back   string // local URL the mark form returns to
	Req    *request
}

func newFindingTable(list []vuln.Finding, now time.Time, rq *request) findingTable {
	t := findingTable{Req: rq, Rows: make([]findingRow, 0, len(list))}
	for i := range list {
		t.Rows = append(t.Rows, newFindingRow(&list[i], now))
	}
	return t
}

// refView is a reference of a CVE. Only http and https URLs become links:
// a javascript: or data: URL from a feed is shown as text.
type refView struct {
	URL  string
	Link bool
	Note string // source and tags
}

func newRef(u, source string, tags []string) refView {
	r := refView{URL: u, Link: webURL(u)}
	note := strings.Join(tags, ", ")
	if source != "" && note != "" {
		note = source + ": " + note
	} else if source != "" {
		note = source
	}
	r.Note = note
	return r
}

func webURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

// cvssView is one CVSS score of a CVE.
type cvssView struct {
	Score    string
	Severity status
	Version  string
	Vector   string
	Source   string
	Type     string
	Best     bool
}

func newCVSS(m *vuln.CVSS, best bool) cvssView {
	sev := strings.ToLower(m.Severity)
	if sev == "" || sev == "none" {
		sev = vuln.SeverityFromCVSS(m.Score)
	}
	return cvssView{Score: fmt.Sprintf("%.1f", m.Score), Severity: severityBadge(vuln.NormalizeSeverity(sev)),
		Version: m.Version, Vector: m.Vector, Source: m.Source, Type: m.Type, Best: best}
}

// markCtx is what the "mark_inline" partial needs: the table (caller, back
// URL) and the row.
type markCtx struct {
	Table findingTable
	Row   findingRow
}

func newMarkCtx(t findingTable, r findingRow) markCtx { return markCtx{Table: t, Row: r} }
