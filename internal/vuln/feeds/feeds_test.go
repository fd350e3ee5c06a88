package feeds_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/store/sqlite"
	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/feeds"
)

type env struct {
	svc   *service.Service
	im    *feeds.Importer
	ws    int64
	agent *domain.Agent
	host  *domain.Host
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	sealer, _ := secrets.NewSealer(key)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := service.New(st, sealer, log)
	svc.Matcher.Recheck = 0
	res, err := svc.Bootstrap(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{svc: svc, ws: res.Workspace.ID, im: &feeds.Importer{Store: st, Rematch: svc, Log: log}}
	e.agent, _, err = svc.CreateAgentKey(ctx, e.ws, "a")
	if err != nil {
		t.Fatal(err)
	}
	name, addr := "alma", "192.0.2.9"
	e.host, err = svc.CreateHost(ctx, service.Actor{WorkspaceID: e.ws, Role: domain.RoleAdmin}, domain.HostInput{Name: &name, Address: &addr})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// scan pushes a report for the host through the normal ingest path.
func (e *env) scan(t *testing.T, id string, started time.Time, pkgs ...inventory.Package) {
	t.Helper()
	r := inventory.HostReport{SchemaVersion: 1, ReportID: id, HostID: e.host.ID, StartedAt: started, FinishedAt: started.Add(time.Second),
		Status: inventory.StatusOK, Packages: pkgs,
		System: inventory.System{OS: inventory.OS{ID: "almalinux", VersionID: "9.4", Family: "redhat", IDLike: []string{"rhel"}}}}
	reply, err := e.svc.IngestBatch(context.Background(), e.agent, &inventory.Batch{Reports: []inventory.HostReport{r}})
	if err != nil || reply.Results[0].Status != inventory.ResultAccepted {
		t.Fatalf("ingest: %v %+v", err, reply)
	}
}

func (e *env) open(t *testing.T) map[string]vuln.Finding {
	t.Helper()
	l, _, err := e.svc.Store.ListFindings(context.Background(), e.ws, store.FindingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]vuln.Finding{}
	for _, f := range l {
		m[f.VulnID+"/"+f.Package] = f
	}
	return m
}

func rpm(name, ver, rel string) inventory.Package {
	return inventory.Package{Name: name, Version: ver, Release: rel, Arch: "x86_64", Ecosystem: inventory.EcosystemRPM}
}

const almaDir = "../osv/testdata/almalinux"

func TestImportRematchAndLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t0 := time.Now().UTC().Add(-time.Hour)
	e.scan(t, "r1", t0, rpm("openssh", "8.7p1", "38.el9_4"), rpm("bash", "5.1.8", "6.el9"))
	if len(e.open(t)) != 0 {
		t.Fatal("findings before any vulnerability data")
	}

	// Importing advisories re-matches the host that has the package.
	res, err := e.im.ImportOSV(ctx, almaDir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 6 || res.Hosts != 1 || res.Changed == 0 {
		t.Fatalf("OSV import %+v", res)
	}
	f, ok := e.open(t)["CVE-2024-6387/openssh"]
	if !ok || f.Fixed != "8.7p1-38.el9_4.1" || f.AdvisoryID != "ALSA-2024:4312" {
		t.Fatalf("findings after import: %v", e.open(t))
	}

	// NVD data adds the score to the existing finding.
	res, err = e.im.ImportNVD(ctx, "../nvd/testdata/records/CVE-2024-6387.json")
	if err != nil || res.Records != 1 || res.Changed != 1 {
		t.Fatalf("NVD import %+v %v", res, err)
	}
	if f := e.open(t)["CVE-2024-6387/openssh"]; f.CVSSScore != 8.1 || f.Severity != "high" {
		t.Fatalf("finding not rescored: %+v", f)
	}

	// The same data again changes nothing and re-matches nobody.
	res, err = e.im.ImportOSV(ctx, almaDir)
	if err != nil || res.Changed != 0 || res.Hosts != 0 {
		t.Fatalf("re-import %+v %v", res, err)
	}

	// The host is upgraded: the finding resolves.
	e.scan(t, "r2", t0.Add(30*time.Minute), rpm("openssh", "8.7p1", "38.el9_4.1"), rpm("bash", "5.1.8", "6.el9"))
	if len(e.open(t)) != 0 {
		t.Fatalf("findings after the upgrade: %v", e.open(t))
	}
	resolved, _, _ := e.svc.Store.ListFindings(ctx, e.ws, store.FindingFilter{Status: vuln.FindingResolved})
	if len(resolved) != 1 || resolved[0].ResolvedAt == nil {
		t.Fatalf("resolved %v", resolved)
	}
	st, err := e.svc.Store.GetFeedState(ctx, "osv:AlmaLinux:9")
	if err != nil || st.LastSuccessAt == nil || st.Source != almaDir {
		t.Fatalf("feed state %+v %v", st, err)
	}
}

func TestImportSkipsMalformedRecords(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	good, _ := os.ReadFile(filepath.Join(almaDir, "ALSA-2024-4312.json"))
	os.WriteFile(filepath.Join(dir, "a-good.json"), good, 0o600)
	os.WriteFile(filepath.Join(dir, "b-bad.json"), []byte(`{"id": "X", "affected": [`), 0o600)
	res, err := e.im.ImportOSV(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 1 || res.Skipped != 1 || len(res.Errors) != 1 {
		t.Fatalf("result %+v", res)
	}
}

func TestImportMissingFileRecordsFailure(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.im.ImportNVD(ctx, "/no/such/file.json"); err == nil {
		t.Fatal("imported a missing file")
	}
	st, err := e.svc.Store.GetFeedState(ctx, "nvd")
	if err != nil || st.LastError == "" || st.LastSuccessAt != nil {
		t.Fatalf("failure not recorded: %+v %v", st, err)
	}
}
