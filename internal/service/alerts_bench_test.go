package service_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/jobs"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store/sqlite"
	"github.com/vigil-project/vigil/internal/vuln"
)

// countQueue counts what would be queued.
type countQueue struct{ deliveries int }

func (q *countQueue) EnqueueHostAlerts(context.Context, int64, int64) error { return nil }
func (q *countQueue) EnqueueDeliveries(_ context.Context, _ int64, ids []int64) error {
	q.deliveries += len(ids)
	return nil
}

// BenchmarkEvaluateAlerts500 evaluates a host's alert rules after a report
// that changed 500 findings: every other iteration 500 findings appear
// (500 alerts open, 500 notifications queued), the next they are fixed (500
// alerts resolve, 500 resolved notifications). Two rules watch the host
// (new findings at or above low, KEV findings); one channel. The finding
// sync itself is outside the timer: it is the matcher's cost, not the
// alert engine's. With river=true the notifications go into River's SQLite
// tables, one insert each, as in production.
func BenchmarkEvaluateAlerts500(b *testing.B) {
	for _, withRiver := range []bool{false, true} {
		b.Run(fmt.Sprintf("river=%v", withRiver), func(b *testing.B) { benchEvaluate(b, withRiver) })
	}
}

func benchEvaluate(b *testing.B, withRiver bool) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "vigil.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	key := make([]byte, secrets.KeySize)
	_, _ = rand.Read(key)
	sealer, _ := secrets.NewSealer(key)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := service.New(st, sealer, log)
	res, err := svc.Bootstrap(ctx, "correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	ws := res.Workspace.ID
	q := &countQueue{}
	svc.AlertQueue = q
	if withRiver {
		// Started never: the jobs stay queued, the insert cost is measured.
		rq, err := jobs.OpenSQLite(ctx, st.SQL(), svc, jobs.Options{Log: log, NoPeriodic: true})
		if err != nil {
			b.Fatal(err)
		}
		svc.AlertQueue = rq
	}
	admin := service.Actor{UserID: 1, Login: "admin", WorkspaceID: ws, Role: domain.RoleAdmin}
	name, addr := "bench-01", "192.0.2.1"
	h, err := svc.CreateHost(ctx, admin, domain.HostInput{Name: &name, Address: &addr})
	if err != nil {
		b.Fatal(err)
	}
	ch, err := svc.CreateChannel(ctx, admin, service.ChannelInput{Name: "hook", Kind: alert.ChannelWebhook,
		Config: alert.ChannelConfig{URL: "http://127.0.0.1:9/hook"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range []alert.Rule{
		{Name: "new", Event: alert.EventNewFinding, Filter: alert.Filter{MinSeverity: "low"}, ChannelIDs: []int64{ch.ID}, NotifyResolved: true, Enabled: true},
		{Name: "kev", Event: alert.EventKEVFinding, ChannelIDs: []int64{ch.ID}, NotifyResolved: true, Enabled: true},
	} {
		if _, err := svc.CreateAlertRule(ctx, admin, r); err != nil {
			b.Fatal(err)
		}
	}
	found := make([]vuln.Finding, 500)
	for i := range found {
		found[i] = vuln.Finding{VulnID: fmt.Sprintf("CVE-2025-%05d", i), AdvisoryID: fmt.Sprintf("DSA-%d-1", 5000+i),
			Source: "osv:Debian:12", Package: fmt.Sprintf("pkg%03d", i), Installed: "1.0-1", Fixed: "1.0-2",
			Rule: "pkg < 1.0-2", Severity: vuln.Severities[i%4], CVSSScore: 5}
	}
	now := time.Now().UTC()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		set := found
		if i%2 == 1 {
			set = nil
		}
		if _, err := st.SyncFindings(ctx, ws, h.ID, set, now.Add(time.Duration(i)*time.Second)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n, err := svc.EvaluateHostAlerts(ctx, ws, h.ID)
		if err != nil {
			b.Fatal(err)
		}
		if n != 500 {
			b.Fatalf("iteration %d changed %d alerts, want 500", i, n)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
}
