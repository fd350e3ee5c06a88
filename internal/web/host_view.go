package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/sshkey"
	"github.com/vigil-project/vigil/internal/store"
)

// Page sizes of the host page's tables.
const (
	packagesPerPage = 200
	snapshotLimit   = 50
	hostFindingsMax = 500
)

type hostPage struct {
	Row       hostRow
	Address   string
	Scanned   bool // a successful snapshot exists
	Props     []propGroup
	LastError string
	Packages  packageList
	Snapshots []snapshotRow
	// SnapshotLimit is how many scans the history shows at most.
	SnapshotLimit int
	Vulns         hostVulns
	Compliance    hostCompliance
	// Extra is hardware, network, file systems, ports, raw facts and probe
	// timings (host_tabs_view.go).
	Extra hostExtras
	// Windows is the Windows section, for Windows hosts (host_win.go).
	Windows *windowsView
}

// hostVulns is the host's open findings, most severe first.
type hostVulns struct {
	Table     findingTable
	Total     int
	ExportCSV string
	AllURL    string // the vulnerabilities list for this host, with marked ones
}

// propGroup is a titled block of the "Properties" section.
type propGroup struct {
	Title string
	Props []prop
}

type prop struct {
	Label string
	Value string
	Time  when // set instead of Value for points in time
	Mono  bool // fingerprints and IDs, set in a monospace font
}

type snapshotRow struct {
	Started   when
	Duration  string
	Status    status
	Packages  string
	Error     string
	ErrorFull string
}

// packageList is one page of a host's packages, and the data the search box,
// the summary line and the pager need.
type packageList struct {
	HostID int64
	Query  string
	Rows   []packageRow
	Total  int
	Page   int
	Pages  int
	From   int
	To     int
	Prev   string
	Next   string
	// OOB marks the summary and pager for an htmx out-of-band swap, when
	// they travel with the rows of a search.
	OOB bool
}

type packageRow struct {
	Name, Version, Arch, Source, SourceVersion string
}

func (a *app) hostPage(r *http.Request, rq *request, h *domain.Host) (*hostPage, error) {
	ctx := r.Context()
	ws, err := a.svc.Store.GetWorkspace(ctx, rq.Actor.WorkspaceID)
	if err != nil {
		return nil, fmt.Errorf("get workspace: %w", err)
	}
	now := a.svc.Now()
	p := &hostPage{Row: newHostRow(h, now, ws.Schedule.Interval()), Address: endpoint(h), SnapshotLimit: snapshotLimit}
	if h.LastError != "" {
		p.LastError = errorText(h.LastErrorKind, h.LastError)
	}
	snap, err := a.svc.Store.LatestSnapshot(ctx, rq.Actor.WorkspaceID, h.ID)
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("latest snapshot: %w", err)
	}
	agentName := ""
	if h.AgentID != nil {
		ag, err := a.svc.Store.GetAgent(ctx, rq.Actor.WorkspaceID, *h.AgentID)
		switch {
		case err == nil:
			agentName = ag.Name
		case !isNotFound(err):
			return nil, fmt.Errorf("get agent: %w", err)
		}
	}
	if snap != nil && snap.Report != nil {
		p.Scanned = true
		p.Props = properties(snap, now)
		p.Windows = windowsViewFor(snap, now)
	}
	p.Props = append(p.Props, accessProps(h, agentName, now))
	if p.Packages, err = a.packageList(r, rq, h.ID); err != nil {
		return nil, err
	}
	if p.Vulns, err = a.hostVulns(r, rq, h, now); err != nil {
		return nil, err
	}
	if p.Compliance, err = a.hostCompliance(ctx, rq, h); err != nil {
		return nil, err
	}
	snaps, err := a.svc.Store.ListSnapshots(ctx, rq.Actor.WorkspaceID, h.ID, snapshotLimit)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	for i := range snaps {
		s := &snaps[i]
		row := snapshotRow{Started: newWhen(s.StartedAt, now), Duration: shortDuration(s.FinishedAt.Sub(s.StartedAt)),
			Status: snapshotStatus(s), Packages: "—"}
		if s.Status == inventory.StatusOK {
			row.Packages = strconv.Itoa(s.PackageCount)
		}
		if s.Error != "" {
			row.ErrorFull = errorText(s.ErrorKind, s.Error)
			row.Error = truncate(row.ErrorFull, 90)
		}
		p.Snapshots = append(p.Snapshots, row)
	}
	if p.Extra, err = a.hostExtrasFor(ctx, rq, h, snap, snaps, now); err != nil {
		return nil, err
	}
	return p, nil
}

func (a *app) hostVulns(r *http.Request, rq *request, h *domain.Host, now time.Time) (hostVulns, error) {
	list, total, err := a.svc.ListFindings(r.Context(), *rq.Actor, store.FindingFilter{HostID: h.ID, Limit: hostFindingsMax})
	if err != nil {
		return hostVulns{}, fmt.Errorf("list findings: %w", err)
	}
	f := vulnFilters{HostID: h.ID}
	v := hostVulns{Table: newFindingTable(list, now, rq), Total: total, ExportCSV: f.exportURL("csv")}
	f.Marked = true
	v.AllURL = f.url("/vulnerabilities", 0)
	v.Table.Caption = "Open vulnerabilities on " + h.Name + ", most severe first"
	v.Table.ShowVuln = true
	v.Table.Back = "/hosts/" + strconv.FormatInt(h.ID, 10) + "#vulnerabilities"
	return v, nil
}

// properties lays out what the latest successful report says about the
// machine. Empty values are left out rather than shown as blanks.
func properties(s *domain.Snapshot, now time.Time) []propGroup {
	sys := s.Report.System
	osp := []prop{
		{Label: "Operating system", Value: sys.OS.PrettyName},
		{Label: "ID", Value: sys.OS.ID, Mono: true},
		{Label: "Version", Value: strings.TrimSpace(sys.OS.VersionID + " " + parens(sys.OS.Codename))},
		{Label: "Family", Value: sys.OS.Family},
		{Label: "Hostname", Value: sys.Hostname, Mono: true},
	}
	if sys.OS.PrettyName == "" {
		osp[0].Value = sys.OS.Name
	}
	kern := []prop{
		{Label: "Release", Value: sys.Kernel.Release, Mono: true},
		{Label: "Version", Value: sys.Kernel.Version},
		{Label: "Architecture", Value: sys.Kernel.Machine},
	}
	hw := []prop{{Label: "CPU model", Value: sys.CPU.Model}}
	if c := sys.CPU; c.Sockets+c.Cores+c.Threads > 0 {
		hw = append(hw, prop{Label: "CPU topology", Value: cpuTopology(c)})
	}
	hw = append(hw, prop{Label: "Memory total", Value: gib(sys.Memory.TotalBytes)},
		prop{Label: "Memory available", Value: gib(sys.Memory.AvailableBytes)})
	up := []prop{}
	if sys.Uptime.Seconds > 0 {
		up = append(up, prop{Label: "Uptime", Value: uptime(sys.Uptime.Seconds) + " (at last scan)"})
	}
	up = append(up, prop{Label: "Boot time", Time: newWhen(sys.Uptime.BootTime, now)},
		prop{Label: "Last successful scan", Time: newWhen(s.FinishedAt, now)})
	return compact([]propGroup{
		{Title: "Operating system", Props: osp},
		{Title: "Kernel", Props: kern},
		{Title: "Hardware", Props: hw},
		{Title: "Uptime", Props: up},
	})
}

func accessProps(h *domain.Host, agent string, now time.Time) propGroup {
	fp := sshkey.Fingerprint(h.HostKey)
	if fp == "" {
		fp = "not pinned yet (pinned on the first successful SSH connection)"
	}
	if h.Transport == inventory.TransportLocal {
		fp = "not used (local transport)"
	}
	if agent == "" {
		agent = "none yet (the next agent to fetch its configuration takes the host)"
	}
	return propGroup{Title: "Access", Props: []prop{
		{Label: "Address", Value: endpoint(h), Mono: true},
		{Label: "Transport", Value: h.Transport},
		{Label: "Host key", Value: fp, Mono: strings.HasPrefix(fp, "SHA256:")},
		{Label: "Agent", Value: agent},
		{Label: "Added", Time: newWhen(h.CreatedAt, now)},
	}}
}

func cpuTopology(c inventory.CPU) string {
	var parts []string
	add := func(n int, one, many string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, plural(n, one, many)))
		}
	}
	add(c.Sockets, "socket", "sockets")
	add(c.Cores, "core", "cores")
	add(c.Threads, "thread", "threads")
	return strings.Join(parts, ", ")
}

func parens(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// compact drops empty properties and then empty groups.
func compact(groups []propGroup) []propGroup {
	out := groups[:0]
	for _, g := range groups {
		props := g.Props[:0]
		for _, p := range g.Props {
			if p.Value != "" || p.Time.Set {
				props = append(props, p)
			}
		}
		if g.Props = props; len(props) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// packageList reads one page of packages for the q and page parameters.
func (a *app) packageList(r *http.Request, rq *request, hostID int64) (packageList, error) {
	pl := packageList{HostID: hostID, Query: query(r), Page: 1}
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n > 1 {
		pl.Page = n
	}
	pkgs, total, err := a.svc.Store.ListPackages(r.Context(), rq.Actor.WorkspaceID, hostID,
		store.PackageFilter{Query: pl.Query, Limit: packagesPerPage, Offset: (pl.Page - 1) * packagesPerPage})
	if err != nil {
		return pl, err
	}
	pl.Total = total
	pl.Pages = max(1, (total+packagesPerPage-1)/packagesPerPage)
	pl.Rows = make([]packageRow, 0, len(pkgs))
	for _, p := range pkgs {
		evr := p.EVR()
		row := packageRow{Name: p.Name, Version: evr, Arch: p.Arch, Source: p.SourceName}
		if p.SourceVersion != "" && p.SourceVersion != evr && p.SourceVersion != p.Version {
			row.SourceVersion = p.SourceVersion
		}
		pl.Rows = append(pl.Rows, row)
	}
	if len(pl.Rows) > 0 {
		pl.From = (pl.Page-1)*packagesPerPage + 1
		pl.To = pl.From + len(pl.Rows) - 1
	}
	if pl.Page > 1 {
		pl.Prev = pl.pageURL(min(pl.Page-1, pl.Pages)) + "#packages"
	}
	if pl.Page < pl.Pages {
		pl.Next = pl.pageURL(pl.Page+1) + "#packages"
	}
	return pl, nil
}

// pageURL is the host page showing the given page of this search.
func (pl packageList) pageURL(page int) string {
	v := url.Values{}
	if pl.Query != "" {
		v.Set("q", pl.Query)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	u := "/hosts/" + strconv.FormatInt(pl.HostID, 10)
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}
