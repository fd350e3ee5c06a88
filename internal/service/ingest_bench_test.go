package service_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store/sqlite"
)

// BenchmarkIngestBatch: the server's whole per-report path (store, match,
// compliance, SAP, exceptions, alert hook) for batches of 50 reports of
// 1,500 packages on SQLite, without HTTP. Reports per second is printed.
func BenchmarkIngestBatch(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "vigil.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := service.New(st, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	svc.NoBackground = true
	ws := &domain.Workspace{Name: "W", Slug: "w", Schedule: inventory.Schedule{IntervalSeconds: 3600, Anchor: "00:00"}}
	if err := st.CreateWorkspace(ctx, ws); err != nil {
		b.Fatal(err)
	}
	ag := &domain.Agent{WorkspaceID: ws.ID, Name: "a", KeyPrefix: "abc", KeyHash: []byte("abcdef")}
	if err := st.CreateAgent(ctx, ag); err != nil {
		b.Fatal(err)
	}
	const hosts, per = 50, 1500
	var ids []int64
	for i := range hosts {
		h := &domain.Host{WorkspaceID: ws.ID, AgentID: &ag.ID, Name: fmt.Sprintf("h%d", i), Address: fmt.Sprintf("h%d.example.net", i), Port: 22, Transport: "ssh"}
		if err := st.CreateHost(ctx, h); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, h.ID)
	}
	pkgs := make([]inventory.Package, per)
	for i := range pkgs {
		pkgs[i] = inventory.Package{Name: fmt.Sprintf("pkg%04d", i), Version: fmt.Sprintf("1.%d-1", i%7), Arch: "amd64", Ecosystem: inventory.EcosystemDeb}
	}
	b.ResetTimer()
	reports := 0
	for n := 0; b.Loop(); n++ {
		batch := &inventory.Batch{}
		start := time.Now().UTC()
		for i, id := range ids {
			batch.Reports = append(batch.Reports, inventory.HostReport{SchemaVersion: inventory.SchemaVersion,
				ReportID: fmt.Sprintf("r%d-%d", n, i), HostID: id, StartedAt: start, FinishedAt: start.Add(time.Second),
				Status: inventory.StatusOK, Packages: pkgs,
				System: inventory.System{OS: inventory.OS{Family: "debian", ID: "debian", VersionID: "12"}}})
		}
		if _, err := svc.IngestBatch(ctx, ag, batch); err != nil {
			b.Fatal(err)
		}
		reports += len(batch.Reports)
	}
	b.ReportMetric(float64(reports)/b.Elapsed().Seconds(), "reports/s")
}
