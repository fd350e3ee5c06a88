package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/store"
)

// Bench sizes: a fleet of typical Debian servers.
const (
	benchHosts    = 200
	benchPackages = 1500
)

// BenchIngest measures IngestReport with reports of 1,500 packages, spread
// round-robin over 200 hosts: "serial" is one agent pushing, "parallel"
// several at once (GOMAXPROCS goroutines, see -cpu).
func BenchIngest(b *testing.B, s store.Store) {
	pkgs := Packages(benchPackages)
	b.Run("serial", func(b *testing.B) {
		ws, agent, hosts := benchFleet(b, s)
		i := 0
		for b.Loop() {
			r := Report(hosts[i%len(hosts)], fmt.Sprintf("bench-%d", i), at(time.Duration(i)*time.Second), pkgs)
			if _, err := s.IngestReport(context.Background(), ws, agent, r, r.FinishedAt); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "reports/s")
	})
	b.Run("parallel", func(b *testing.B) {
		ws, agent, hosts := benchFleet(b, s)
		var n atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(n.Add(1))
				r := Report(hosts[i%len(hosts)], fmt.Sprintf("bench-%d", i), at(time.Duration(i)*time.Second), pkgs)
				if _, err := s.IngestReport(context.Background(), ws, agent, r, r.FinishedAt); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
	})
}

// benchFleet creates a workspace of its own (report IDs restart with each
// run) with one agent and benchHosts hosts.
func benchFleet(b *testing.B, s store.Store) (workspaceID, agentID int64, hosts []int64) {
	b.Helper()
	w := newWorkspace(b, s)
	a := newAgent(b, s, w.ID)
	hosts = make([]int64, benchHosts)
	for i := range hosts {
		hosts[i] = newHost(b, s, w.ID, fmt.Sprintf("host%03d", i)).ID
	}
	return w.ID, a.ID, hosts
}
