// Command rematch measures a full re-match through the real store: every
// host's packages read from the database, matched, and its findings
// synchronised, as after a feed update that touches everything.
//
// The fleet: N AlmaLinux 9 hosts of ~1,500 packages (the 243 real packages
// of the RHEL 9.5 demo recording plus renamed copies) in 200 patch levels,
// each level with its own versions of 40 real packages; the advisories are
// the demo bundle's 1,783 real AlmaLinux 9 records.
//
//	go run ./bench/rematch -hosts 10000            # SQLite
//	go run ./bench/rematch -hosts 10000 -db 'postgres://...&search_path=bench'
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/demo"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store/postgres"
	"github.com/vigil-project/vigil/internal/store/sqldb"
	"github.com/vigil-project/vigil/internal/store/sqlite"
	"github.com/vigil-project/vigil/internal/vuln/feeds"
)

func main() {
	hosts := flag.Int("hosts", 10000, "hosts in the fleet")
	levels := flag.Int("levels", 200, "distinct patch levels")
	db := flag.String("db", "", "PostgreSQL URL (default SQLite in a temp dir)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the re-match runs to this file")
	flag.Parse()
	cpuProfile = *profile
	if err := run(*hosts, *levels, *db); err != nil {
		fmt.Fprintln(os.Stderr, "rematch:", err)
		os.Exit(1)
	}
}

func run(nHosts, nLevels int, dbURL string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "vigil-rematch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var st *sqldb.DB
	if dbURL != "" {
		st, err = postgres.Open(ctx, dbURL)
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(dir, "vigil.db"))
	}
	if err != nil {
		return err
	}
	defer st.Close()
	key := make([]byte, 32)
	rand.Read(key)
	sealer, _ := secrets.NewSealer(key)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := service.New(st, sealer, log)
	svc.Matcher.Recheck = time.Hour
	res, err := svc.Bootstrap(ctx, "bench")
	if err != nil {
		return err
	}
	ws := res.Workspace.ID

	bundle, err := demo.WriteFeedBundle(filepath.Join(dir, "feeds"))
	if err != nil {
		return err
	}
	im := &feeds.Importer{Store: st, Log: log}
	t0 := time.Now()
	if _, err := im.ImportNVD(ctx, bundle.NVD); err != nil {
		return err
	}
	r, err := im.ImportOSV(ctx, bundle.OSV)
	if err != nil {
		return err
	}
	fmt.Printf("feeds: %d OSV advisories imported into the store in %s (%.0f records/s)\n",
		r.Records, time.Since(t0).Round(time.Millisecond), float64(r.Records)/time.Since(t0).Seconds())

	pkgs, err := fleetPackages()
	if err != nil {
		return err
	}
	ag, _, err := svc.CreateAgentKey(ctx, ws, "bench")
	if err != nil {
		return err
	}
	t0 = time.Now()
	ids, err := buildFleet(ctx, st, svc, ws, ag.ID, pkgs, nHosts, nLevels)
	if err != nil {
		return err
	}
	fmt.Printf("fleet: %d hosts × %d packages (%d patch levels) loaded in %s\n", len(ids), len(pkgs), nLevels, time.Since(t0).Round(time.Second))

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	for run := 1; run <= 2; run++ {
		runtime.GC()
		t0 = time.Now()
		rs, err := svc.Rematch(ctx, nil)
		if err != nil {
			return err
		}
		what := "first full re-match (findings created)"
		if run == 2 {
			what = "second full re-match (nothing changed)"
		}
		fmt.Printf("%s: %d hosts in %s = %.0f hosts/s; %d findings opened, %d resolved, %d errors\n",
			what, rs.Hosts, rs.Duration.Round(time.Millisecond), float64(rs.Hosts)/rs.Duration.Seconds(), rs.Opened, rs.Resolved, rs.Errors)
	}
	fmt.Printf("peak RSS: %d MiB\n", peakRSS()>>10)
	return nil
}

var cpuProfile string

func fleetPackages() ([]inventory.Package, error) {
	rec, err := demo.LoadRecording("alma9")
	if err != nil {
		return nil, err
	}
	real, err := collect.ParseRPMQuery(rec.Outputs["packages"])
	if err != nil {
		return nil, err
	}
	pkgs := append([]inventory.Package{}, real...)
	for i := 0; len(pkgs) < 1500; i++ {
		p := real[i%len(real)]
		p.Name = fmt.Sprintf("%s-extra%d", p.Name, i/len(real))
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// buildFleet ingests one real report per patch level, then copies those
// hosts' package rows in SQL for the rest of the fleet: ingesting 15
// million rows report by report would measure ingest, not matching.
func buildFleet(ctx context.Context, st *sqldb.DB, svc *service.Service, ws, agentID int64, pkgs []inventory.Package, n, levels int) ([]int64, error) {
	admin := service.Actor{WorkspaceID: ws, Role: domain.RoleAdmin, Login: "bench"}
	var ids []int64
	for i := 0; i < n; i++ {
		name, addr := fmt.Sprintf("alma-%05d", i), "192.0.2.1"
		h, err := svc.CreateHost(ctx, admin, domain.HostInput{Name: &name, Address: &addr, AgentID: &agentID})
		if err != nil {
			return nil, err
		}
		ids = append(ids, h.ID)
	}
	now := time.Now().UTC()
	for l := 0; l < levels && l < n; l++ {
		level := append([]inventory.Package{}, pkgs...)
		for j := 0; j < 40; j++ {
			p := &level[(l*7+j*13)%243]
			p.Release = p.Release + "." + strconv.Itoa(l)
		}
		rep := &inventory.HostReport{SchemaVersion: 1, ReportID: fmt.Sprintf("lvl-%d", l), HostID: ids[l], StartedAt: now, FinishedAt: now,
			Status: inventory.StatusOK, Packages: level,
			System: inventory.System{OS: inventory.OS{ID: "almalinux", VersionID: "9.4", Family: "redhat", IDLike: []string{"rhel", "centos", "fedora"}}}}
		if _, err := st.IngestReport(ctx, ws, agentID, rep, now); err != nil {
			return nil, err
		}
	}
	db := st.SQL()
	cols := "name, epoch, version, release, arch, source_name, source_version, ecosystem"
	for i := levels; i < n; i++ {
		src := ids[i%levels]
		if _, err := db.ExecContext(ctx, st.Rebind(`INSERT INTO host_packages (workspace_id, host_id, `+cols+`)
			SELECT workspace_id, ?, `+cols+` FROM host_packages WHERE host_id = ?`), ids[i], src); err != nil {
			return nil, err
		}
		if _, err := db.ExecContext(ctx, st.Rebind(`UPDATE hosts SET (last_scan_at, last_success_at, os_id, os_version_id, os_family, os_id_like, package_count) =
			(SELECT last_scan_at, last_success_at, os_id, os_version_id, os_family, os_id_like, package_count FROM hosts WHERE id = ?) WHERE id = ?`), src, ids[i]); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func peakRSS() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}
