package match

import (
	"context"
	"fmt"
	"testing"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/demo"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/osv"
)

// benchFixture: every AlmaLinux 9 advisory of the demo bundle (1,783 real
// records) and a 1,500-package host: the 243 real packages of the RHEL 9.5
// demo recording plus renamed copies, so that the lookups that miss are as
// many as on a real host.
func benchFixture(b *testing.B) (*Matcher, []inventory.Package) {
	b.Helper()
	bundle, err := demo.WriteFeedBundle(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	d := &memData{gen: 1}
	if _, err := osv.Walk(bundle.OSV, func(a *vuln.Advisory) error { d.advs = append(d.advs, a); return nil }); err != nil {
		b.Fatal(err)
	}
	rec, err := demo.LoadRecording("alma9")
	if err != nil {
		b.Fatal(err)
	}
	real, err := collect.ParseRPMQuery(rec.Outputs["packages"])
	if err != nil {
		b.Fatal(err)
	}
	pkgs := append([]inventory.Package{}, real...)
	for i := 0; len(pkgs) < 1500; i++ {
		p := real[i%len(real)]
		p.Name = fmt.Sprintf("%s-extra%d", p.Name, i/len(real))
		pkgs = append(pkgs, p)
	}
	m := New(d)
	m.Recheck = 1 << 62 // one generation read for the whole run, as in a batch re-match
	return m, pkgs
}

// BenchmarkMatchHost is the single-report match: one 1,500-package host
// against 1,783 advisories (index warm).
func BenchmarkMatchHost(b *testing.B) {
	m, pkgs := benchFixture(b)
	ctx := context.Background()
	res, err := m.Match(ctx, alma9, pkgs)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(res.Findings)), "findings/host")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Match(ctx, alma9, pkgs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMatchHostCold is the same with no verdict cached: the first
// host of its kind after a feed change.
func BenchmarkMatchHostCold(b *testing.B) {
	m, pkgs := benchFixture(b)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		for _, ix := range m.indexes {
			ix.verdicts = map[verdictKey]osv.Result{}
		}
		if _, err := m.Match(ctx, alma9, pkgs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRematchFleet matches 10,000 hosts of 1,500 packages, the
// compute part of a full re-match (bench/rematch measures it with the
// store's reads and writes). The fleet drifts: 200 patch levels, each
// with its own versions of 40 of the real packages.
func BenchmarkRematchFleet(b *testing.B) {
	m, pkgs := benchFixture(b)
	ctx := context.Background()
	const hosts, levels = 10000, 200
	fleet := make([][]inventory.Package, levels)
	for l := range fleet {
		fleet[l] = append([]inventory.Package{}, pkgs...)
		for j := 0; j < 40; j++ {
			p := &fleet[l][(l*7+j*13)%243]
			p.Release = fmt.Sprintf("%s.%d", p.Release, l)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, ix := range m.indexes {
			ix.verdicts = map[verdictKey]osv.Result{}
		}
		for h := 0; h < hosts; h++ {
			if _, err := m.Match(ctx, alma9, fleet[h%levels]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/10k-hosts")
}
