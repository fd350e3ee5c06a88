package feeds_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkImportNVDIntoStore imports a generated NVD 2.0 feed file of
// NVD_BENCH_RECORDS records (default 100,000, cycled from the 39 real
// records with rewritten IDs) into a SQLite store through the importer, as
// 'vigil feeds import --nvd' does:
//
//	go test -run '^$' -bench ImportNVDIntoStore -benchtime 1x ./internal/vuln/feeds
//
// It reports records/s and the process's peak RSS (VmHWM) during the run.
func BenchmarkImportNVDIntoStore(b *testing.B) {
	n := 100_000
	if s := os.Getenv("NVD_BENCH_RECORDS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	path := filepath.Join(b.TempDir(), "nvdcve-2.0-bench.json")
	if err := writeNVDFeed(path, n); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		e := newEnv(b)
		runtime.GC()
		res, err := e.im.ImportNVD(context.Background(), path)
		if err != nil || res.Records != n {
			b.Fatalf("import: %v %+v", err, res)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(peakRSS())/1024, "peak-RSS-MiB")
}

var idRE = regexp.MustCompile(`"id":"CVE-\d+-\d+"`)

// writeNVDFeed writes an API 2.0 page holding n records, streamingly.
func writeNVDFeed(path string, n int) error {
	files, err := filepath.Glob("../nvd/testdata/records/*.json")
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no records: %v", err)
	}
	var raws [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return err
		}
		raws = append(raws, buf.Bytes())
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, `{"resultsPerPage":%d,"startIndex":0,"totalResults":%d,"format":"NVD_CVE","version":"2.0","timestamp":"2026-11-27T00:00:00.000","vulnerabilities":[`, n, n)
	for i := 0; i < n; i++ {
		if i > 0 {
			w.WriteByte(',')
		}
		rec := idRE.ReplaceAll(raws[i%len(raws)], []byte(fmt.Sprintf(`"id":"CVE-2099-%07d"`, i)))
		w.WriteString(`{"cve":`)
		w.Write(rec)
		w.WriteByte('}')
	}
	w.WriteString("]}")
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func peakRSS() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			n, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return n
		}
	}
	return 0
}
