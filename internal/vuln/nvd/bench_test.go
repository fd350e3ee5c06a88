package nvd

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/vigil-project/vigil/internal/vuln"
)

// BenchmarkImport measures ImportFile on a generated 2.0 feed file:
//
//	go test -run '^$' -bench Import -benchtime 1x ./internal/vuln/nvd
//
// The feed holds NVD_BENCH_RECORDS records (default 100,000) made by
// cycling the 39 real records, compacted, with rewritten IDs; it is written
// streamingly into b.TempDir, plain and gzipped (BestSpeed), outside the
// timer. Reported: records/s, MB/s of JSON, the high-water HeapInuse
// sampled every 1,000 records (peak-heap-MB) and bytes allocated per
// record. The sample is skewed towards famous CVEs with big
// configurations: about 15 KB of compact JSON per record, so 100,000
// records make a ~1.5 GB file, larger than NVD's average record.
func BenchmarkImport(b *testing.B) {
	n := 100_000
	if s := os.Getenv("NVD_BENCH_RECORDS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("NVD_BENCH_RECORDS=%q: %v", s, err)
		}
	}
	raws := compactRecords(b)
	for _, gz := range []bool{false, true} {
		name := "json"
		if gz {
			name = "gzip"
		}
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "nvdcve-2.0-bench.json")
			if gz {
				path += ".gz"
			}
			jsonBytes, err := writeFeed(path, raws, n, gz)
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base, allocs := ms.HeapInuse, ms.TotalAlloc
			peak := base
			records := 0
			for b.Loop() {
				st, err := ImportFile(path, func(*vuln.CVE) error {
					if records++; records%1000 == 0 {
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapInuse)
					}
					return nil
				})
				if err != nil || st.Records != n {
					b.Fatalf("import: %v, %d of %d records", err, st.Records, n)
				}
			}
			runtime.ReadMemStats(&ms)
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(records)/secs, "records/s")
			b.ReportMetric(float64(jsonBytes)*float64(b.N)/secs/1e6, "MB/s")
			b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
			b.ReportMetric(float64(ms.TotalAlloc-allocs)/float64(records), "alloc-B/record")
			b.Logf("%s: %d records, %.0f MB of JSON: %.0f records/s, peak HeapInuse %.1f MB (%.1f MB before)",
				name, n, float64(jsonBytes)/1e6, float64(records)/secs, float64(peak)/1e6, float64(base)/1e6)
		})
	}
}

// compactRecords returns the real records as compact JSON, each split
// around its ID so writeFeed can put in a new one cheaply.
func compactRecords(b *testing.B) [][2][]byte {
	var out [][2][]byte
	for _, raw := range rawRecords(b) {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			b.Fatal(err)
		}
		c := buf.Bytes()
		i := bytes.Index(c, []byte(`"id":"`))
		if i < 0 {
			b.Fatal("record without id")
		}
		i += len(`"id":"`)
		j := i + bytes.IndexByte(c[i:], '"')
		out = append(out, [2][]byte{c[:i], c[j:]})
	}
	return out
}

// writeFeed writes n records as one 2.0 feed file, returning the size of
// the JSON (before compression).
func writeFeed(path string, raws [][2][]byte, n int, gz bool) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	var w io.Writer = bw
	var zw *gzip.Writer
	if gz {
		zw, _ = gzip.NewWriterLevel(bw, gzip.BestSpeed)
		w = zw
	}
	cw := &countWriter{w: w}
	fmt.Fprintf(cw, `{"resultsPerPage":%d,"startIndex":0,"totalResults":%d,"format":"NVD_CVE","version":"2.0","timestamp":"2026-11-27T02:33:38.311","vulnerabilities":[`, n, n)
	for i := 0; i < n; i++ {
		r := raws[i%len(raws)]
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(cw, `%s{"cve":%sCVE-%d-%06d%s}`, sep, r[0], 1999+i%27, i, r[1])
	}
	io.WriteString(cw, "]}")
	if cw.err != nil {
		return 0, cw.err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return 0, err
		}
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	return cw.n, f.Close()
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}
