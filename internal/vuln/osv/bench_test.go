package osv

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/version"
)

// almaDir locates the full AlmaLinux 9 collection (1,783 advisories, 16 MB),
// too large for testdata: VIGIL_OSV_ALMALINUX, else the shared collection.
func almaDir(tb testing.TB) string {
	dir := os.Getenv("VIGIL_OSV_ALMALINUX")
	if dir == "" {
		dir = "/work/shared/testdata/osv/almalinux/advisories/almalinux9"
	}
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("AlmaLinux OSV collection not available (%v); set VIGIL_OSV_ALMALINUX", err)
	}
	return dir
}

// almaZip packs the collection as osv.dev's all.zip would be.
func almaZip(tb testing.TB, dir string) string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	entries := make([]zipEntry, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		entries = append(entries, zipEntry{filepath.Base(f), string(data)})
	}
	path := filepath.Join(tb.TempDir(), "all.zip")
	writeZip(tb, path, entries)
	return path
}

// TestWalkAllAlmaLinux imports the whole collection, from the directory and
// from a zip of it, and evaluates every fixed version it contains with rpm
// ordering: all 1,783 records decode, and every event version parses.
func TestWalkAllAlmaLinux(t *testing.T) {
	dir := almaDir(t)
	for _, path := range []string{dir, almaZip(t, dir)} {
		var affected, events int
		stats, err := Walk(path, func(a *vuln.Advisory) error {
			for _, af := range a.Affected {
				affected++
				for _, r := range af.Ranges {
					events += len(r.Events)
					for _, e := range r.Events {
						if e.Fixed == "" {
							continue
						}
						res, err := Evaluate(af, version.RPM{}, e.Fixed)
						if err != nil {
							t.Fatalf("%s %s: %v", a.ID, af.Package, err)
						}
						if res.Affected {
							t.Errorf("%s %s: the fixed version %s is affected: %s", a.ID, af.Package, e.Fixed, res.Rule)
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if stats.Records != 1783 || stats.Skipped != 0 {
			t.Errorf("%s: %+v", path, stats)
		}
		t.Logf("%s: %d records, %d affected entries, %d events", filepath.Base(path), stats.Records, affected, events)
	}
}

// BenchmarkWalk measures the OSV import rate: decoding the 1,783 AlmaLinux
// records from a directory of JSON files and from a zip of them.
func BenchmarkWalk(b *testing.B) {
	dir := almaDir(b)
	zipPath := almaZip(b, dir)
	for _, bc := range []struct{ name, path string }{{"dir", dir}, {"zip", zipPath}} {
		b.Run(bc.name, func(b *testing.B) {
			records := 0
			for b.Loop() {
				stats, err := Walk(bc.path, func(*vuln.Advisory) error { return nil })
				if err != nil || stats.Skipped != 0 {
					b.Fatalf("%+v, %v", stats, err)
				}
				records += stats.Records
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkEvaluate is one evaluation against a real AlmaLinux entry.
func BenchmarkEvaluate(b *testing.B) {
	a := loadAdvisory(b, "almalinux/ALSA-2024-2447.json")
	af := a.Affected[0]
	for b.Loop() {
		if _, err := Evaluate(af, version.RPM{}, "1:3.0.7-26.el9"); err != nil {
			b.Fatal(err)
		}
	}
}
