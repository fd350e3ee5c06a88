// Command webbench measures the server render time of the web app's main
// pages on a generated fleet: it builds (or reuses) a SQLite database of N
// hosts with realistic package counts, findings and check results, then
// requests each page through the real handler and prints milliseconds.
//
//	go run ./bench/webbench -hosts 10000 -db /tmp/webbench.db   # builds once, reuses after
//	go run ./bench/webbench -db /tmp/webbench.db -runs 10 -cpuprofile web.prof
//
// The fleet: Debian 12 and AlmaLinux 9 hosts of 400 to 1,600 packages
// (renamed copies of typical names), 8 agents, 4 groups, labels; each host
// one successful scan (10 % a second, so package diffs have two), 3 % a
// failed last scan, 5 % stale; 0 to 120 open findings per host over a pool
// of 3,000 CVEs (5 % of them in KEV), severities skewed as in real fleets;
// the 53 checks of the built-in Linux baseline evaluated on every host;
// 30 days of dashboard rollups.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"

	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/compliance"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/server"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/store/sqldb"
	"github.com/vigil-project/vigil/internal/store/sqlite"
	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/web"
)

func main() {
	hosts := flag.Int("hosts", 10000, "hosts to generate (when the database is new)")
	dbPath := flag.String("db", "webbench.db", "SQLite file; generated when missing, reused otherwise")
	runs := flag.Int("runs", 7, "timed requests per page (after one warm-up)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the timed requests")
	only := flag.String("only", "", "measure only pages whose name contains this")
	flag.Parse()
	if err := run(*hosts, *dbPath, *runs, *cpuprofile, *only); err != nil {
		fmt.Fprintln(os.Stderr, "webbench:", err)
		os.Exit(1)
	}
}

func run(nHosts int, dbPath string, runs int, cpuprofile, only string) error {
	ctx := context.Background()
	_, statErr := os.Stat(dbPath)
	fresh := os.IsNotExist(statErr)
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	key := make([]byte, secrets.KeySize)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	sealer, err := secrets.NewSealer(key)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := service.New(st, sealer, log)
	svc.NoBackground = true
	boot, err := svc.Bootstrap(ctx, "bench password 1")
	if err != nil {
		return err
	}
	ws := boot.Workspace
	if fresh {
		start := time.Now()
		if err := generate(ctx, svc, st, ws.ID, nHosts); err != nil {
			return err
		}
		fmt.Printf("generated %d hosts in %s\n", nHosts, time.Since(start).Round(time.Second))
	}
	// As the server does at start and hourly (service.RunMaintenance).
	if err := st.Optimize(ctx); err != nil {
		return err
	}
	var count int
	if err := st.SQL().QueryRow(`SELECT count(*) FROM hosts`).Scan(&count); err != nil {
		return err
	}
	var pkgs, findings, results int
	st.SQL().QueryRow(`SELECT count(*) FROM host_packages`).Scan(&pkgs)
	st.SQL().QueryRow(`SELECT count(*) FROM findings WHERE status = 'open'`).Scan(&findings)
	st.SQL().QueryRow(`SELECT count(*) FROM check_results`).Scan(&results)
	fmt.Printf("fleet: %d hosts, %d package rows, %d open findings, %d check results\n", count, pkgs, findings, results)

	u, err := st.GetUserByLogin(ctx, service.AdminLogin)
	if err != nil {
		return err
	}
	actor := service.Actor{UserID: u.ID, Login: u.Login, WorkspaceID: ws.ID, Role: domain.RoleAdmin}
	sessID, _, err := svc.StartSession(ctx, &actor)
	if err != nil {
		return err
	}
	h, err := web.New(svc, log, web.Options{})
	if err != nil {
		return err
	}

	// The rollup the dashboard reads: computed after reports arrive, so
	// measured apart from the page.
	var rollups []float64
	for range 3 * btoi(only == "") {
		t0 := time.Now()
		if _, err := svc.RefreshRollup(ctx, ws.ID); err != nil {
			return err
		}
		rollups = append(rollups, ms(time.Since(t0)))
	}
	if len(rollups) > 0 {
		sort.Float64s(rollups)
		fmt.Printf("rollup (background: after reports, hourly): median %.0f ms of 3\n", rollups[1])
	}

	var hostID, diffHost int64
	st.SQL().QueryRow(`SELECT host_id FROM findings WHERE status = 'open' GROUP BY host_id ORDER BY count(*) DESC LIMIT 1`).Scan(&hostID)
	st.SQL().QueryRow(`SELECT host_id FROM snapshots WHERE status = 'ok' GROUP BY host_id HAVING count(*) > 1 LIMIT 1`).Scan(&diffHost)
	// The REST API serves the same lists from the same store code.
	api := server.New(svc, log, server.Options{})
	token, err := svc.CreateAPIToken(ctx, ws.ID, u.ID, "webbench")
	if err != nil {
		return err
	}
	var groupID int64
	st.SQL().QueryRow(`SELECT id FROM host_groups ORDER BY id LIMIT 1`).Scan(&groupID)
	pages := []struct{ name, path string }{
		{"dashboard", "/dashboard"},
		{"hosts page 1", "/hosts"},
		{"hosts page 100", "/hosts?page=100"},
		{"hosts filtered (failing, high+)", "/hosts?status=failing&severity=high"},
		{"hosts filtered (os, label)", "/hosts?os=almalinux+9.5&label=env%3Dprod"},
		{"hosts sorted by severity", "/hosts?sort=severity"},
		{"host page", "/hosts/" + strconv.FormatInt(hostID, 10)},
		{"host package diff", "/hosts/" + strconv.FormatInt(diffHost, 10) + "/diff"},
		{"vulnerabilities", "/vulnerabilities"},
		{"vulnerabilities critical", "/vulnerabilities?severity=critical"},
		{"vulnerabilities KEV", "/vulnerabilities?kev=1"},
		{"vulnerabilities page 20", "/vulnerabilities?offset=950"},
		{"vulnerabilities search", "/vulnerabilities?q=openssl"},
		{"vulnerabilities search (10 % match)", "/vulnerabilities?q=ssl"},
		{"compliance", "/compliance"},
		{"compliance one group (2,500 hosts)", "/compliance?group_id=" + strconv.FormatInt(groupID, 10)},
		{"api vulnerabilities", "/api/v1/vulnerabilities"},
		{"api compliance", "/api/v1/compliance"},
		{"agents", "/agents"},
		{"settings", "/settings/general"},
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("%-34s %9s %9s %9s %9s\n", "page", "median ms", "min ms", "max ms", "KiB")
	for _, p := range pages {
		if !strings.Contains(p.name, only) {
			continue
		}
		var times []float64
		size := 0
		for i := 0; i <= runs; i++ {
			req := httptest.NewRequest(http.MethodGet, p.path, nil)
			var handler http.Handler = h
			if strings.HasPrefix(p.path, "/api/") {
				req.Header.Set("Authorization", "Bearer "+token)
				handler = api
			} else {
				req.AddCookie(&http.Cookie{Name: httpx.SessionCookie, Value: sessID})
			}
			rec := httptest.NewRecorder()
			start := time.Now()
			handler.ServeHTTP(rec, req)
			d := time.Since(start)
			if rec.Code != http.StatusOK {
				return fmt.Errorf("%s: status %d: %.300s", p.path, rec.Code, rec.Body.String())
			}
			size = rec.Body.Len()
			if i > 0 { // the first request warms caches
				times = append(times, ms(d))
			}
		}
		sort.Float64s(times)
		fmt.Printf("%-34s %9.1f %9.1f %9.1f %9d\n", p.name, times[len(times)/2], times[0], times[len(times)-1], size/1024)
	}
	// The agent's config poll: every 10 s by default.
	var agentID int64
	st.SQL().QueryRow(`SELECT agent_id FROM hosts GROUP BY agent_id ORDER BY count(*) DESC LIMIT 1`).Scan(&agentID)
	ag, err := st.GetAgent(ctx, ws.ID, agentID)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if _, _, err := svc.AgentConfig(ctx, ag, "bench"); err != nil {
		return err
	}
	build := time.Since(t0)
	t0 = time.Now()
	const polls = 50
	for range polls {
		if _, _, err := svc.AgentConfig(ctx, ag, "bench"); err != nil {
			return err
		}
	}
	fmt.Printf("agent config poll, %d hosts: build %.1f ms, cached poll %.2f ms\n", ag.HostCount, ms(build), ms(time.Since(t0))/polls)
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

var sevWeights = []struct {
	sev string
	cum float64
}{{"critical", 0.05}, {"high", 0.30}, {"medium", 0.75}, {"low", 0.95}, {"unknown", 1}}

func pickSeverity(r *mrand.Rand) string {
	x := r.Float64()
	for _, s := range sevWeights {
		if x < s.cum {
			return s.sev
		}
	}
	return "unknown"
}

// generate builds the fleet through the store's real write paths.
func generate(ctx context.Context, svc *service.Service, st *sqldb.DB, wsID int64, n int) error {
	r := mrand.New(mrand.NewPCG(1, 2))
	now := time.Now().UTC()
	var agents []*domain.Agent
	for i := range 8 {
		ag, _, err := svc.CreateAgentKey(ctx, wsID, fmt.Sprintf("patch-%d", i+1))
		if err != nil {
			return err
		}
		t := now.Add(-time.Duration(i) * time.Minute)
		if err := st.TouchAgent(ctx, wsID, ag.ID, "0.9.0", t); err != nil {
			return err
		}
		agents = append(agents, ag)
	}
	var groups []*domain.Group
	for _, name := range []string{"Web servers", "Databases", "PCI scope", "Linux baseline"} {
		g := &domain.Group{WorkspaceID: wsID, Name: name}
		if err := st.CreateGroup(ctx, g); err != nil {
			return err
		}
		groups = append(groups, g)
	}
	packs, err := compliance.Builtin()
	if err != nil {
		return err
	}
	var checkIDs []string
	for _, cp := range packs {
		for _, c := range cp.Pack.Checks {
			checkIDs = append(checkIDs, c.ID)
		}
	}
	if err := st.SetAssignments(ctx, wsID, groups[3].ID, []domain.Assignment{{GroupID: groups[3].ID, Kind: domain.AssignPack, Ref: packs[0].Pack.ID}}); err != nil {
		return err
	}
	var kev []vuln.KEV
	for i := 0; i < 3000; i += 20 {
		kev = append(kev, vuln.KEV{CVE: fmt.Sprintf("CVE-2024-%05d", 10000+i), DateAdded: now.AddDate(0, -1, 0), VendorProject: "x", Product: "y"})
	}
	if err := st.ReplaceKEV(ctx, kev); err != nil {
		return err
	}
	members := make([][]int64, len(groups))
	envs := []string{"prod", "staging", "dev"}
	for i := range n {
		debian := i%3 != 0
		name := fmt.Sprintf("host-%05d", i)
		addr := fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256)
		ag := agents[i%len(agents)]
		h := &domain.Host{WorkspaceID: wsID, Name: name, Address: addr, Port: 22, Transport: inventory.TransportSSH, AgentID: &ag.ID,
			CreatedAt: now.AddDate(0, -2, 0)}
		if err := st.CreateHost(ctx, h); err != nil {
			return err
		}
		nPkgs := 400 + r.IntN(1200)
		pkgs := packages(nPkgs, debian, r.IntN(5))
		started := now.Add(-time.Duration(r.IntN(50)) * time.Minute)
		if i%20 == 7 { // stale
			started = now.Add(-5 * 24 * time.Hour)
		}
		if i%10 == 3 { // an older scan too, for package diffs
			old := report(h.ID, started.Add(-24*time.Hour), debian, packages(nPkgs, debian, (r.IntN(5)+1)%5))
			if _, err := st.IngestReport(ctx, wsID, ag.ID, old, old.FinishedAt); err != nil {
				return err
			}
		}
		rep := report(h.ID, started, debian, pkgs)
		if _, err := st.IngestReport(ctx, wsID, ag.ID, rep, rep.FinishedAt); err != nil {
			return err
		}
		if i%33 == 5 { // failing now
			bad := &inventory.HostReport{SchemaVersion: inventory.SchemaVersion, ReportID: fmt.Sprintf("err-%d", i), HostID: h.ID,
				StartedAt: started.Add(time.Minute), FinishedAt: started.Add(time.Minute + 15*time.Second), Status: inventory.StatusError,
				Error: "dial tcp " + addr + ":22: i/o timeout", ErrorKind: inventory.ErrKindTimeout}
			if _, err := st.IngestReport(ctx, wsID, ag.ID, bad, bad.FinishedAt); err != nil {
				return err
			}
		}
		// Findings: most hosts have a few dozen, some many.
		k := r.IntN(40)
		if r.IntN(10) == 0 {
			k += r.IntN(80)
		}
		var found []vuln.Finding
		for j := 0; j < k && j < len(pkgs); j++ {
			p := pkgs[r.IntN(len(pkgs))]
			cve := fmt.Sprintf("CVE-2024-%05d", 10000+r.IntN(3000))
			fixed := p.Version + "+fix1"
			if r.IntN(6) == 0 {
				fixed = ""
			}
			found = append(found, vuln.Finding{VulnID: cve, AdvisoryID: "DSA-" + cve[9:], Source: "osv:Debian:12", Package: p.Name,
				Installed: p.Version, Fixed: fixed, Rule: "installed < fixed", Severity: pickSeverity(r), CVSSScore: 4 + 6*r.Float64()})
		}
		if _, err := st.SyncFindings(ctx, wsID, h.ID, found, started); err != nil {
			return err
		}
		var results []domain.CheckResult
		for _, id := range checkIDs {
			status := domain.CheckPass
			switch x := r.IntN(100); {
			case x < 12:
				status = domain.CheckFail
			case x < 15:
				status = domain.CheckError
			case x < 20:
				status = domain.CheckNotApplicable
			}
			results = append(results, domain.CheckResult{CheckID: id, Status: status, Reason: "generated", Actual: "x"})
		}
		if _, err := st.SaveCheckResults(ctx, wsID, h.ID, results, started); err != nil {
			return err
		}
		if err := st.SetHostLabels(ctx, wsID, h.ID, map[string]string{"env": envs[i%3], "team": "team-" + strconv.Itoa(i%12)}); err != nil {
			return err
		}
		members[i%4] = append(members[i%4], h.ID)
		if i%1000 == 999 {
			fmt.Printf("  %d hosts\n", i+1)
		}
	}
	for i, g := range groups {
		if err := st.SetStaticMembers(ctx, wsID, g.ID, members[i]); err != nil {
			return err
		}
	}
	// 30 days of history, as the rollups after each day's reports left it.
	base, err := st.ComputeRollup(ctx, wsID, now, 3*time.Hour)
	if err != nil {
		return err
	}
	for d := 30; d >= 1; d-- {
		ro := *base
		f := 1 + float64(d)/60 // more findings in the past: patching works
		ro.Day = now.AddDate(0, 0, -d).Format(time.DateOnly)
		ro.Critical, ro.High, ro.Medium = int(float64(ro.Critical)*f), int(float64(ro.High)*f), int(float64(ro.Medium)*f)
		ro.ChecksFail = int(float64(ro.ChecksFail) * f)
		ro.HostsScanned = n - r.IntN(n/20+1)
		ro.ComputedAt = now.AddDate(0, 0, -d)
		if err := st.SaveRollup(ctx, &ro); err != nil {
			return err
		}
	}
	return nil
}

var words = []string{"lib", "python3", "perl", "x11", "gnome", "kde", "net", "ssl", "xml", "gtk", "qt", "font", "sys", "core", "util", "db", "http", "mail", "log", "crypt"}

// packages returns n package names like a distro's, with versions shifted
// by level (so two levels differ in some versions).
func packages(n int, debian bool, level int) []inventory.Package {
	out := make([]inventory.Package, 0, n)
	for i := range n {
		name := words[i%len(words)] + words[(i/len(words))%len(words)] + strconv.Itoa(i)
		p := inventory.Package{Name: name, Arch: "amd64", SourceName: name, Ecosystem: inventory.EcosystemDeb,
			Version: fmt.Sprintf("%d.%d.%d-%d", 1+i%7, i%13, (i+level*(i%3))%17, 1+level%2)}
		if !debian {
			p.Arch, p.Ecosystem = "x86_64", inventory.EcosystemRPM
			p.Version, p.Release = fmt.Sprintf("%d.%d.%d", 1+i%7, i%13, (i+level*(i%3))%17), fmt.Sprintf("%d.el9", 1+level%2)
		}
		out = append(out, p)
	}
	return out
}

func report(hostID int64, started time.Time, debian bool, pkgs []inventory.Package) *inventory.HostReport {
	osv := inventory.OS{Family: "debian", ID: "debian", VersionID: "12", Name: "Debian GNU/Linux", PrettyName: "Debian GNU/Linux 12 (bookworm)", Codename: "bookworm"}
	if !debian {
		osv = inventory.OS{Family: "redhat", ID: "almalinux", VersionID: "9.5", Name: "AlmaLinux", PrettyName: "AlmaLinux 9.5 (Teal Serval)", IDLike: []string{"rhel", "centos", "fedora"}}
	}
	var b [8]byte
	rand.Read(b[:])
	return &inventory.HostReport{
		SchemaVersion: inventory.SchemaVersion,
		ReportID:      fmt.Sprintf("r-%d-%x", hostID, b),
		HostID:        hostID,
		AgentVersion:  "0.9.0",
		StartedAt:     started,
		FinishedAt:    started.Add(2 * time.Second),
		Status:        inventory.StatusOK,
		System: inventory.System{
			Hostname: fmt.Sprintf("host-%05d", hostID), OS: osv,
			Kernel:   inventory.Kernel{Name: "Linux", Release: "6.1.0-18-amd64", Machine: "x86_64"},
			CPU:      inventory.CPU{Model: "AMD EPYC 7302P 16-Core Processor", Sockets: 1, Cores: 4, Threads: 8},
			Memory:   inventory.Memory{TotalBytes: 16 << 30, AvailableBytes: 9 << 30},
			Hardware: inventory.Hardware{Vendor: "QEMU", Product: "Standard PC (Q35 + ICH9, 2009)", Virtualization: "kvm", Cloud: "on-prem"},
			Filesystems: []inventory.Filesystem{{Device: "/dev/vda1", Mountpoint: "/", Type: "ext4", SizeBytes: 40 << 30, UsedBytes: 22 << 30, AvailBytes: 16 << 30},
				{Device: "/dev/vdb1", Mountpoint: "/var/lib", Type: "xfs", SizeBytes: 200 << 30, UsedBytes: 150 << 30, AvailBytes: 50 << 30}},
			Network: inventory.Network{Interfaces: []inventory.Interface{{Name: "lo", Addresses: []string{"127.0.0.1/8"}, Up: true, MTU: 65536},
				{Name: "eth0", MAC: "52:54:00:aa:bb:cc", Addresses: []string{"10.0.0.5/24"}, Up: true, MTU: 1500}},
				DefaultRoute: &inventory.Route{Gateway: "10.0.0.1", Interface: "eth0"}, DNSServers: []string{"10.0.0.2"},
				Listening: []inventory.Listener{{Proto: "tcp", Address: "0.0.0.0", Port: 22}, {Proto: "tcp", Address: "127.0.0.1", Port: 5432}}},
		},
		Packages: pkgs,
		Probes: []inventory.ProbeResult{{Name: "os_release", DurationMS: 3}, {Name: "uname", DurationMS: 2},
			{Name: "dpkg", DurationMS: 180}, {Name: "dmi_ids", NeedsPrivilege: true}},
	}
}

var _ store.Store = (*sqldb.DB)(nil)
