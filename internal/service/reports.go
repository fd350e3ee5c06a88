package service

import (
	"context"
	"sort"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/sbom"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/version"
	"github.com/vigil-project/vigil/internal/vuln"
)

// HostSBOM returns the CycloneDX SBOM of a host's current packages.
func (s *Service) HostSBOM(ctx context.Context, a Actor, hostID int64) (*cdx.BOM, *domain.Host, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, nil, err
	}
	h, err := s.Store.GetHost(ctx, a.WorkspaceID, hostID)
	if err != nil {
		return nil, nil, err
	}
	pkgs, err := s.Store.HostPackages(ctx, a.WorkspaceID, hostID)
	if err != nil {
		return nil, nil, err
	}
	bom, err := sbom.Build(sbom.Host{ID: h.ID, Name: h.Name, OS: h.OS(), ScannedAt: h.LastSuccessAt}, pkgs,
		sbom.Options{Now: s.Now(), ToolVersion: version.Version})
	return bom, h, err
}

// GroupReport is the printable report of one host group: what an auditor
// or a manager reads.
type GroupReport struct {
	Group       *domain.Group
	GeneratedAt time.Time
	Hosts       []domain.Host
	// Summary figures.
	HostsScanned  int // hosts with a successful scan in the last 3 intervals
	HostsStale    int
	OpenBySev     map[string]int // open findings without an active exception, by severity
	OpenTotal     int
	KEVOpen       int
	KEVOverdue    int
	ExceptedCount int // open findings under an active exception or mark
	FixAvailable  int // open findings with a fixed version
	// Trend is the number of open findings by severity at the end of each
	// of the last ReportTrendDays days, oldest first.
	Trend []TrendPoint
	// TopRisks are the first worklist lines across the group.
	TopRisks []FleetItem
	TopHosts []WorkItem
	// Compliance over the group's check results.
	Compliance *ComplianceSummary
	// FailingChecks are the checks with most failing hosts, worst first.
	FailingChecks []CheckSummary
	// Exceptions in force on the group's hosts (scope all, this group, or
	// one of its hosts), and those that lapsed or were revoked recently.
	Exceptions       []domain.Exception
	RecentExceptions []domain.Exception
}

// TrendPoint is one day of the severity trend.
type TrendPoint struct {
	Day   time.Time
	BySev map[string]int
	Total int
}

// ReportTrendDays is the length of a report's severity trend.
const ReportTrendDays = 30

// reportTopN bounds the report's lists so that it stays printable.
const reportTopN = 15

// GroupReport builds the report of a group.
func (s *Service) GroupReport(ctx context.Context, a Actor, groupID int64) (*GroupReport, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	now := s.Now()
	g, err := s.Store.GetGroup(ctx, a.WorkspaceID, groupID)
	if err != nil {
		return nil, err
	}
	ids, err := s.Store.GroupHostIDs(ctx, a.WorkspaceID, groupID)
	if err != nil {
		return nil, err
	}
	in := map[int64]bool{}
	for _, id := range ids {
		in[id] = true
	}
	rep := &GroupReport{Group: g, GeneratedAt: now, OpenBySev: map[string]int{}}
	ws, err := s.Store.GetWorkspace(ctx, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	interval := time.Duration(ws.Schedule.IntervalSeconds) * time.Second
	if interval <= 0 {
		interval = time.Hour
	}
	hosts, err := s.Store.ListHosts(ctx, a.WorkspaceID, store.HostFilter{})
	if err != nil {
		return nil, err
	}
	for _, h := range hosts {
		if !in[h.ID] {
			continue
		}
		rep.Hosts = append(rep.Hosts, h)
		if h.Stale(now, interval) {
			rep.HostsStale++
		} else if h.LastSuccessAt != nil {
			rep.HostsScanned++
		}
	}

	// Every finding of the workspace, open or resolved, marked or not: the
	// trend needs the resolved ones, the summary the excepted ones.
	all, _, err := s.Store.ListFindings(ctx, a.WorkspaceID, store.FindingFilter{Status: "all", IncludeMarked: true,
		Now: now, Limit: worklistMaxFindings})
	if err != nil {
		return nil, err
	}
	var open []vuln.Finding
	var mine []vuln.Finding
	for _, f := range all {
		if !in[f.HostID] {
			continue
		}
		mine = append(mine, f)
		if f.Status != vuln.FindingOpen {
			continue
		}
		if f.MarkActive(now) {
			rep.ExceptedCount++
			continue
		}
		open = append(open, f)
		rep.OpenTotal++
		rep.OpenBySev[f.Severity]++
		if f.Fixed != "" {
			rep.FixAvailable++
		}
		if f.KEV != nil {
			rep.KEVOpen++
			if !f.KEV.DueDate.IsZero() && f.KEV.DueDate.Before(now) {
				rep.KEVOverdue++
			}
		}
	}
	rep.Trend = severityTrend(mine, now, ReportTrendDays)

	exp, _, err := s.exposure(ctx, a.WorkspaceID, open)
	if err != nil {
		return nil, err
	}
	wl := BuildWorklist(open, exp, now)
	rep.TopRisks = wl.Fleet[:min(len(wl.Fleet), reportTopN)]
	rep.TopHosts = wl.Items[:min(len(wl.Items), reportTopN)]

	if rep.Compliance, err = s.Compliance(ctx, a, store.CheckResultFilter{GroupID: groupID}, false); err != nil {
		return nil, err
	}
	for _, c := range rep.Compliance.Checks {
		if c.Fail > 0 {
			rep.FailingChecks = append(rep.FailingChecks, c)
		}
	}
	sort.SliceStable(rep.FailingChecks, func(i, j int) bool { return rep.FailingChecks[i].Fail > rep.FailingChecks[j].Fail })
	rep.FailingChecks = rep.FailingChecks[:min(len(rep.FailingChecks), reportTopN)]

	excs, err := s.Store.ListExceptions(ctx, a.WorkspaceID, store.ExceptionFilter{Now: now})
	if err != nil {
		return nil, err
	}
	recent := now.AddDate(0, 0, -ReportTrendDays)
	for _, e := range excs {
		if !exceptionTouchesGroup(&e, groupID, in) {
			continue
		}
		switch {
		case e.Active(now):
			rep.Exceptions = append(rep.Exceptions, e)
		case e.RevokedAt != nil && e.RevokedAt.After(recent), e.RevokedAt == nil && e.ExpiresAt != nil && e.ExpiresAt.After(recent):
			rep.RecentExceptions = append(rep.RecentExceptions, e)
		}
	}
	return rep, nil
}

// exceptionTouchesGroup reports whether an exception can cover a host of
// the group: scope all, the group itself, or one of its hosts. An
// exception scoped to another group that shares hosts with this one is
// left out; the hosts' own pages show it.
func exceptionTouchesGroup(e *domain.Exception, groupID int64, hosts map[int64]bool) bool {
	switch e.Scope {
	case domain.ScopeAll:
		return true
	case domain.ScopeGroup:
		return e.GroupID != nil && *e.GroupID == groupID
	case domain.ScopeHost:
		return e.HostID != nil && hosts[*e.HostID]
	}
	return false
}

// severityTrend counts, for the end of each of the last days (UTC), the
// findings that were open then: first seen by that time and not resolved
// by it. Findings under an exception today are left out of every day, so
// the line ends at today's open count; the exception's own history is not
// replayed.
func severityTrend(findings []vuln.Finding, now time.Time, days int) []TrendPoint {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	out := make([]TrendPoint, days)
	for i := range out {
		out[i] = TrendPoint{Day: today.AddDate(0, 0, i-days+1), BySev: map[string]int{}}
	}
	for i := range findings {
		f := &findings[i]
		if f.Status == vuln.FindingOpen && f.MarkActive(now) {
			continue
		}
		for j := range out {
			end := out[j].Day.AddDate(0, 0, 1)
			if j == days-1 {
				end = now.Add(time.Nanosecond) // today: as of now
			}
			if !f.FirstSeen.Before(end) {
				continue
			}
			if f.ResolvedAt != nil && f.ResolvedAt.Before(end) {
				continue
			}
			if f.Status == vuln.FindingResolved && f.ResolvedAt == nil {
				continue
			}
			out[j].BySev[f.Severity]++
			out[j].Total++
		}
	}
	return out
}
