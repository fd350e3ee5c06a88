package service

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/osv"
	"github.com/vigil-project/vigil/internal/vuln/version"
)

// WorkItem is one package upgrade on one host: every open finding of that
// package, and the version to install that closes all those that have a fix.
type WorkItem struct {
	HostID    int64    `json:"host_id"`
	HostName  string   `json:"host_name"`
	Package   string   `json:"package"`
	Binaries  []string `json:"binaries,omitempty"`
	Installed string   `json:"installed_version"`
	// Fix is the highest fixed version among the findings: installing it
	// closes every one that has a fix. Empty when none has.
	Fix string `json:"fix_version"`
	// Vulns are the vulnerability IDs, most urgent first; Unfixed those
	// among them that no released version fixes yet.
	Vulns   []string `json:"vulns"`
	Unfixed []string `json:"unfixed,omitempty"`
	Rank
	// Listening names the sockets (process proto/port) of the package's
	// programs, when the host's scan saw them.
	Listening []string `json:"listening,omitempty"`
}

// Rank is what orders the worklist: KEV, then EPSS, then CVSS, then
// exposure; the worst of the findings grouped in the line.
type Rank struct {
	KEV      bool       `json:"kev"`
	KEVDue   *time.Time `json:"kev_due,omitempty"`
	EPSS     float64    `json:"epss"`
	CVSS     float64    `json:"cvss"`
	Exposed  bool       `json:"exposed"`
	Severity string     `json:"severity"`
}

// FleetItem is one upgrade across the fleet: a package to a fixed version,
// with the hosts that need it.
type FleetItem struct {
	Package string   `json:"package"`
	Fix     string   `json:"fix_version"`
	Hosts   int      `json:"hosts"`
	HostIDs []int64  `json:"host_ids"`
	Vulns   []string `json:"vulns"`
	// ExposedHosts counts the hosts where the package listens on a socket.
	ExposedHosts int `json:"exposed_hosts"`
	Rank
}

// Worklist is the prioritised remediation list.
type Worklist struct {
	Items []WorkItem  `json:"items"`
	Fleet []FleetItem `json:"fleet"`
	// Findings is how many open findings without an active exception the
	// list covers.
	Findings int `json:"findings"`
	// ExposureKnown counts the hosts whose scan named listening processes
	// (it needs root); on others exposure is unknown, not absent.
	ExposureKnown int `json:"exposure_known_hosts"`
}

// WorklistFilter narrows the worklist.
type WorklistFilter struct {
	HostID  int64
	GroupID int64
	KEVOnly bool
	FixOnly bool // only lines with a fix to install
	Limit   int  // lines per list; 0: all
}

// worklistMaxFindings bounds one worklist computation.
const worklistMaxFindings = 200000

// Worklist builds the remediation worklist from the workspace's open
// findings that no active exception or mark covers.
func (s *Service) Worklist(ctx context.Context, a Actor, f WorklistFilter) (*Worklist, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	now := s.Now()
	findings, _, err := s.Store.ListFindings(ctx, a.WorkspaceID, store.FindingFilter{HostID: f.HostID, KEVOnly: f.KEVOnly,
		FixOnly: f.FixOnly, Now: now, Limit: worklistMaxFindings})
	if err != nil {
		return nil, err
	}
	if f.GroupID != 0 {
		ids, err := s.Store.GroupHostIDs(ctx, a.WorkspaceID, f.GroupID)
		if err != nil {
			return nil, err
		}
		in := map[int64]bool{}
		for _, id := range ids {
			in[id] = true
		}
		kept := findings[:0]
		for _, fd := range findings {
			if in[fd.HostID] {
				kept = append(kept, fd)
			}
		}
		findings = kept
	}
	exp, known, err := s.exposure(ctx, a.WorkspaceID, findings)
	if err != nil {
		return nil, err
	}
	wl := BuildWorklist(findings, exp, now)
	wl.ExposureKnown = known
	if f.Limit > 0 {
		wl.Items = wl.Items[:min(len(wl.Items), f.Limit)]
		wl.Fleet = wl.Fleet[:min(len(wl.Fleet), f.Limit)]
	}
	return wl, nil
}

// Exposure maps a host to its packages that own listening sockets, each
// with the sockets seen ("sshd tcp/22").
type Exposure map[int64]map[string][]string

// exposure returns the listening packages of each host that has findings,
// from its latest successful scan. Process names need root on the host;
// without them the host's exposure is unknown and counted out of known.
// A host's result is cached until it reports again.
func (s *Service) exposure(ctx context.Context, workspaceID int64, findings []vuln.Finding) (Exposure, int, error) {
	hosts := map[int64]bool{}
	for i := range findings {
		hosts[findings[i].HostID] = true
	}
	exp := Exposure{}
	known := 0
	if len(hosts) == 0 {
		return exp, 0, nil
	}
	list, err := s.Store.ListHosts(ctx, workspaceID, store.HostFilter{})
	if err != nil {
		return nil, 0, err
	}
	for _, h := range list {
		if !hosts[h.ID] || h.LastSuccessAt == nil {
			continue
		}
		e, err := s.hostExposure(ctx, workspaceID, h.ID, *h.LastSuccessAt)
		if err != nil {
			return nil, 0, err
		}
		if e.known {
			known++
		}
		if len(e.pkgs) > 0 {
			exp[h.ID] = e.pkgs
		}
	}
	return exp, known, nil
}

// exposureEntry is a host's listening packages as of one scan.
type exposureEntry struct {
	scan  time.Time
	pkgs  map[string][]string
	known bool
}

func (s *Service) hostExposure(ctx context.Context, workspaceID, hostID int64, scan time.Time) (exposureEntry, error) {
	if v, ok := s.exposures.Load(hostID); ok && v.(exposureEntry).scan.Equal(scan) {
		return v.(exposureEntry), nil
	}
	e := exposureEntry{scan: scan}
	snap, err := s.Store.LatestSnapshot(ctx, workspaceID, hostID)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return e, nil
	} else if err != nil {
		return e, err
	}
	if snap.Report != nil {
		pkgs, err := s.Store.HostPackages(ctx, workspaceID, hostID)
		if err != nil {
			return e, err
		}
		e.pkgs, e.known = ListeningPackages(snap.Report.System.Network.Listening, pkgs)
	}
	s.exposures.Store(hostID, e)
	return e, nil
}

// daemonPackages names the packages that ship well-known daemons whose
// process name is not their package's name, per distribution family. Only
// names that are installed on the host are used.
var daemonPackages = map[string][]string{
	"sshd":            {"openssh-server", "openssh"},
	"systemd-resolve": {"systemd", "systemd-resolved"},
	"systemd-network": {"systemd", "systemd-networkd"},
	"systemd-timesyn": {"systemd", "systemd-timesyncd"},
	"chronyd":         {"chrony"},
	"ntpd":            {"ntp", "ntpsec", "openntpd"},
	"named":           {"bind9", "bind"},
	"mysqld":          {"mysql-server-core-8.0", "mysql-server", "mariadb-server-core", "mariadb-server", "mysql-community-server"},
	"mariadbd":        {"mariadb-server-core", "mariadb-server"},
	"master":          {"postfix"},
	"exim4":           {"exim4-daemon-light", "exim4-daemon-heavy"},
	"dnsmasq":         {"dnsmasq-base", "dnsmasq"},
	"httpd":           {"httpd", "apache2"},
	"apache2":         {"apache2-bin", "apache2"},
	"cupsd":           {"cups-daemon", "cups"},
	"smbd":            {"samba"},
	"nmbd":            {"samba"},
	"dhclient":        {"isc-dhcp-client", "dhcp-client"},
	"dockerd":         {"docker-ce", "docker.io", "docker", "moby-engine"},
	"mongod":          {"mongodb-org-server", "mongodb-server"},
	"redis-server":    {"redis-server", "redis"},
	"beam.smp":        {"rabbitmq-server", "erlang-base"},
	"epmd":            {"erlang-base"},
	"rpc.statd":       {"nfs-common", "nfs-utils"},
	"rpcbind":         {"rpcbind"},
	"slapd":           {"slapd", "openldap-servers"},
	"snmpd":           {"snmpd", "net-snmp"},
	"avahi-daemon":    {"avahi-daemon", "avahi"},
	"xinetd":          {"xinetd"},
	"vsftpd":          {"vsftpd"},
	"haproxy":         {"haproxy"},
	"nginx":           {"nginx-core", "nginx-full", "nginx-light", "nginx"},
	"zabbix_agentd":   {"zabbix-agent"},
}

// ListeningPackages maps listening sockets to the installed packages that
// own them, best effort: the agent reports a socket's process name (its
// comm, at most 15 characters), not the file it runs, so a process is
// attributed to the installed binary package of the same name, else to the
// packages the daemonPackages table names for it, else to a package named
// after it with a suffix ("postgres" → "postgresql-15"). Both the binary
// package and its source package are keys, since findings name the source
// package on Debian, Ubuntu and Alpine. known is false when no socket had a
// process name (an unprivileged scan): exposure is then unknown.
func ListeningPackages(ls []inventory.Listener, pkgs []inventory.Package) (map[string][]string, bool) {
	byName := map[string]*inventory.Package{}
	for i := range pkgs {
		byName[pkgs[i].Name] = &pkgs[i]
	}
	out := map[string][]string{}
	known := false
	add := func(p *inventory.Package, sock string) {
		for _, k := range []string{p.Name, p.SourceName} {
			if k != "" && !slices.Contains(out[k], sock) {
				out[k] = append(out[k], sock)
			}
		}
	}
	for _, l := range ls {
		proc := l.Process
		if proc == "" {
			continue
		}
		known = true
		sock := proc + " " + strings.TrimSuffix(l.Proto, "6") + "/" + strconv.Itoa(l.Port)
		found := false
		if p := byName[proc]; p != nil {
			add(p, sock)
			found = true
		}
		for _, n := range daemonPackages[proc] {
			if p := byName[n]; p != nil {
				add(p, sock)
				found = true
			}
		}
		if found {
			continue
		}
		// A versioned server package: "postgres" is postgresql-15's.
		prefix := proc
		if proc == "postgres" {
			prefix = "postgresql"
		}
		for i := range pkgs {
			rest, ok := strings.CutPrefix(pkgs[i].Name, prefix+"-")
			if ok && (isVersion(rest) || prefix == proc && !helperPackage(rest)) {
				add(&pkgs[i], sock)
			}
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out, known
}

// isVersion reports whether s is a version suffix: digits and dots.
func isVersion(s string) bool {
	return s != "" && strings.Trim(s, "0123456789.") == ""
}

// helperPackage reports whether a package suffix names a part that does
// not run the daemon (documentation, clients, libraries).
func helperPackage(suffix string) bool {
	for _, h := range []string{"doc", "common", "client", "dev", "data", "tools", "utils", "libs", "dbg"} {
		if suffix == h || strings.HasPrefix(suffix, h+"-") {
			return true
		}
	}
	return false
}

// BuildWorklist groups findings into one line per host and package and one
// per package and fix version across the fleet, each ordered by KEV, then
// EPSS, then CVSS, then exposure (then the number of vulnerabilities and
// names, so that the order is stable). Findings under an active mark or
// exception are left out.
func BuildWorklist(findings []vuln.Finding, exp Exposure, now time.Time) *Worklist {
	wl := &Worklist{Items: []WorkItem{}, Fleet: []FleetItem{}}
	type hk struct {
		host int64
		pkg  string
	}
	items := map[hk]*WorkItem{}
	var order []hk
	cmps := map[hk]version.Comparer{}
	for i := range findings {
		f := &findings[i]
		if f.Status != vuln.FindingOpen || f.MarkActive(now) {
			continue
		}
		wl.Findings++
		k := hk{f.HostID, f.Package}
		it := items[k]
		if it == nil {
			it = &WorkItem{HostID: f.HostID, HostName: f.HostName, Package: f.Package, Installed: f.Installed, Rank: Rank{Severity: "unknown"}}
			if socks := exp[f.HostID][f.Package]; len(socks) > 0 {
				it.Listening, it.Exposed = socks, true
			}
			for _, b := range f.Binaries {
				for _, s := range exp[f.HostID][b] {
					if !slices.Contains(it.Listening, s) {
						it.Listening = append(it.Listening, s)
						it.Exposed = true
					}
				}
			}
			items[k] = it
			order = append(order, k)
			cmps[k] = comparerFor(f.Source)
		}
		for _, b := range f.Binaries {
			if !slices.Contains(it.Binaries, b) {
				it.Binaries = append(it.Binaries, b)
			}
		}
		if !slices.Contains(it.Vulns, f.VulnID) {
			it.Vulns = append(it.Vulns, f.VulnID)
		}
		if f.Fixed == "" {
			if !slices.Contains(it.Unfixed, f.VulnID) {
				it.Unfixed = append(it.Unfixed, f.VulnID)
			}
		} else if it.Fix == "" || newer(cmps[k], f.Fixed, it.Fix) {
			it.Fix = f.Fixed
		}
		it.Rank.merge(f)
	}
	for _, k := range order {
		wl.Items = append(wl.Items, *items[k])
	}
	sort.SliceStable(wl.Items, func(i, j int) bool {
		a, b := &wl.Items[i], &wl.Items[j]
		if c := a.Rank.compare(&b.Rank); c != 0 {
			return c < 0
		}
		if len(a.Vulns) != len(b.Vulns) {
			return len(a.Vulns) > len(b.Vulns)
		}
		if a.HostName != b.HostName {
			return a.HostName < b.HostName
		}
		return a.Package < b.Package
	})
	vr := vulnRanks(findings)
	for i := range wl.Items {
		sortVulns(wl.Items[i].Vulns, vr)
	}

	type fk struct{ pkg, fix string }
	fleet := map[fk]*FleetItem{}
	fleetVulns := map[fk]map[string]bool{} // a package can gather thousands of CVEs
	var forder []fk
	for i := range wl.Items {
		it := &wl.Items[i]
		k := fk{it.Package, it.Fix}
		fi := fleet[k]
		if fi == nil {
			fi = &FleetItem{Package: it.Package, Fix: it.Fix, Rank: Rank{Severity: "unknown"}}
			fleet[k] = fi
			fleetVulns[k] = map[string]bool{}
			forder = append(forder, k)
		}
		fi.Hosts++
		fi.HostIDs = append(fi.HostIDs, it.HostID)
		for _, v := range it.Vulns {
			if !fleetVulns[k][v] {
				fleetVulns[k][v] = true
				fi.Vulns = append(fi.Vulns, v)
			}
		}
		if it.Exposed {
			fi.ExposedHosts++
		}
		fi.Rank.mergeRank(&it.Rank)
	}
	for _, k := range forder {
		sortVulns(fleet[k].Vulns, vr)
		wl.Fleet = append(wl.Fleet, *fleet[k])
	}
	// Items were already in rank order, so a stable sort keeps the first
	// host's order between equals.
	sort.SliceStable(wl.Fleet, func(i, j int) bool {
		a, b := &wl.Fleet[i], &wl.Fleet[j]
		if c := a.Rank.compare(&b.Rank); c != 0 {
			return c < 0
		}
		if a.Hosts != b.Hosts {
			return a.Hosts > b.Hosts
		}
		return a.Package < b.Package
	})
	return wl
}

// merge folds one finding into the rank: the worst of each criterion.
func (r *Rank) merge(f *vuln.Finding) {
	var due *time.Time
	if f.KEV != nil {
		if !f.KEV.DueDate.IsZero() {
			d := f.KEV.DueDate
			due = &d
		}
	}
	epss := 0.0
	if f.EPSS != nil {
		epss = f.EPSS.Score
	}
	r.mergeRank(&Rank{KEV: f.KEV != nil, KEVDue: due, EPSS: epss, CVSS: f.CVSSScore, Severity: f.Severity})
}

func (r *Rank) mergeRank(o *Rank) {
	if o.KEV {
		r.KEV = true
		if o.KEVDue != nil && (r.KEVDue == nil || o.KEVDue.Before(*r.KEVDue)) {
			r.KEVDue = o.KEVDue
		}
	}
	r.EPSS = max(r.EPSS, o.EPSS)
	r.CVSS = max(r.CVSS, o.CVSS)
	r.Exposed = r.Exposed || o.Exposed
	if sevRank(o.Severity) < sevRank(r.Severity) {
		r.Severity = o.Severity
	}
}

// compare orders two ranks, more urgent first (negative: r before o).
func (r *Rank) compare(o *Rank) int {
	switch {
	case r.KEV != o.KEV:
		return boolFirst(r.KEV)
	case r.EPSS != o.EPSS:
		return floatFirst(r.EPSS, o.EPSS)
	case r.CVSS != o.CVSS:
		return floatFirst(r.CVSS, o.CVSS)
	case r.Exposed != o.Exposed:
		return boolFirst(r.Exposed)
	}
	return 0
}

func boolFirst(b bool) int {
	if b {
		return -1
	}
	return 1
}

func floatFirst(a, b float64) int {
	if a > b {
		return -1
	}
	return 1
}

func sevRank(s string) int {
	for i, v := range vuln.Severities {
		if v == s {
			return i
		}
	}
	return len(vuln.Severities)
}

// vulnRanks ranks each vulnerability ID over all its findings.
func vulnRanks(findings []vuln.Finding) map[string]*Rank {
	rank := map[string]*Rank{}
	for i := range findings {
		f := &findings[i]
		if rank[f.VulnID] == nil {
			rank[f.VulnID] = &Rank{Severity: "unknown"}
		}
		rank[f.VulnID].merge(f)
	}
	return rank
}

// sortVulns orders a line's vulnerability IDs by the worklist's criteria.
func sortVulns(ids []string, rank map[string]*Rank) {
	sort.SliceStable(ids, func(i, j int) bool {
		if c := rank[ids[i]].compare(rank[ids[j]]); c != 0 {
			return c < 0
		}
		return ids[i] < ids[j]
	})
}

// comparerFor returns the version ordering of a finding's source
// ("osv:Debian:12"), or nil when there is none (NVD matches of software
// outside a distribution).
func comparerFor(source string) version.Comparer {
	eco, ok := strings.CutPrefix(source, "osv:")
	if !ok {
		return nil
	}
	scheme, ok := osv.VersionScheme(eco)
	if !ok {
		return nil
	}
	c, err := version.For(scheme)
	if err != nil {
		return nil
	}
	return c
}

// newer reports whether a orders after b. Without an ordering, or for a
// version the ordering rejects, it keeps b: never guess an order.
func newer(c version.Comparer, a, b string) bool {
	if c == nil {
		return false
	}
	n, err := c.Compare(a, b)
	return err == nil && n > 0
}
