package epss

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/vuln"
)

func collect(list *[]vuln.EPSS) func(*vuln.EPSS) error {
	return func(e *vuln.EPSS) error { *list = append(*list, *e); return nil }
}

var scoreDate = time.Date(2025, 3, 14, 12, 55, 0, 0, time.UTC)

// The constructed sample (testdata/README.md) in plain and gzipped form.
func TestDecodeSample(t *testing.T) {
	for _, name := range []string{"testdata/epss_scores-constructed.csv", "testdata/epss_scores-constructed.csv.gz"} {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		var got []vuln.EPSS
		res, err := Decode(f, collect(&got))
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Model != "v2025.03.14" || !res.Date.Equal(scoreDate) || res.Rows != 12 || res.Skipped != 0 || len(got) != 12 {
			t.Errorf("%s: %+v", name, res)
		}
		want := vuln.EPSS{CVE: "CVE-2021-44228", Score: 0.944, Percentile: 0.9996, Date: scoreDate, Model: "v2025.03.14"}
		if !reflect.DeepEqual(got[4], want) {
			t.Errorf("%s: row 5 %+v, want %+v", name, got[4], want)
		}
		if last := got[11]; last.CVE != "CVE-2025-100000" || last.Score != 0 {
			t.Errorf("%s: last %+v", name, last)
		}
	}
}

func TestDecodeMalformedRows(t *testing.T) {
	doc := "#model_version:v2023.03.01,score_date:2023-03-07T00:00:00+0000\r\n" +
		"cve,epss,percentile\r\n" +
		"CVE-2023-0001,0.5,0.9\r\n" +
		"CVE-2023-0002,1.5,0.9\n" + // line 4: score above 1
		"cve-2023-0003,0.1,0.2\n" + // line 5: not a CVE ID
		"\n" +
		"CVE-2023-0004,0.1\n" + // line 7: two fields
		"CVE-2023-0005,NaN,0.1\n" + // line 8
		"CVE-2023-0006,0.25,0.5\n"
	var got []vuln.EPSS
	res, err := Decode(strings.NewReader(doc), collect(&got))
	if err != nil {
		t.Fatal(err)
	}
	if res.Model != "v2023.03.01" || !res.Date.Equal(time.Date(2023, 3, 7, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("header %+v", res)
	}
	if len(got) != 2 || got[1].CVE != "CVE-2023-0006" || res.Rows != 2 || res.Skipped != 4 {
		t.Fatalf("rows %+v result %+v", got, res)
	}
	for i, line := range []int{4, 5, 7, 8} {
		if res.Errors[i].Line != line {
			t.Errorf("error %d at line %d, want %d: %v", i, res.Errors[i].Line, line, &res.Errors[i])
		}
	}

	// Without the comment line (older files): rows still decode.
	got = nil
	res, err = Decode(strings.NewReader("cve,epss,percentile\nCVE-2020-0001,0.1,0.2\n"), collect(&got))
	if err != nil || len(got) != 1 || res.Model != "" || !res.Date.IsZero() {
		t.Errorf("no comment: %v %+v", err, res)
	}

	for name, bad := range map[string]string{
		"empty":        "",
		"comment only": "#model_version:v1,score_date:2025-01-01T00:00:00Z\n",
		"bad header":   "cve,score\nCVE-2020-0001,0.1\n",
		"bad comment":  "#model_version:v1,score_date:yesterday\ncve,epss,percentile\n",
		"broken gzip":  "\x1f\x8b\x08\x00garbage",
	} {
		if _, err := Decode(strings.NewReader(bad), collect(&got)); err == nil || !strings.HasPrefix(err.Error(), "epss: decode") {
			t.Errorf("%s: %v", name, err)
		}
	}
	stop := errors.New("stop")
	if _, err := Decode(strings.NewReader(doc), func(*vuln.EPSS) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("callback: %v", err)
	}
}

func TestParseComment(t *testing.T) {
	for line, want := range map[string]time.Time{
		"#model_version:v2025.03.14,score_date:2025-03-14T12:55:00Z":     scoreDate,
		"#score_date:2025-03-14T12:55:00Z,model_version:v2025.03.14":     scoreDate,
		"#model_version:v2025.03.14,score_date:2025-03-14T14:55:00+0200": scoreDate,
		"#model_version:v2025.03.14,score_date:2025-03-14,extra:1":       time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC),
	} {
		if m, d, err := ParseComment(line); err != nil || m != "v2025.03.14" || !d.Equal(want) {
			t.Errorf("%s: %q %v %v", line, m, d, err)
		}
	}
	for _, bad := range []string{"model_version:v1", "#model_version:v1", "#score_date:2025-01-01"} {
		if _, _, err := ParseComment(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Conditional requests and retries against an httptest server serving
// the constructed sample, gzipped like the real file.
func TestClient(t *testing.T) {
	gz, err := os.ReadFile("testdata/epss_scores-constructed.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var script []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if len(script) > 0 {
			code := script[0]
			script = script[1:]
			w.Header().Set("Retry-After", "5")
			w.WriteHeader(code)
			return
		}
		if r.Header.Get("If-Modified-Since") == "Fri, 14 Mar 2025 13:00:00 GMT" {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/gzip")
		w.Header().Set("Last-Modified", "Fri, 14 Mar 2025 13:00:00 GMT")
		w.Write(gz)
	}))
	defer srv.Close()
	var slept []time.Duration
	c := &Client{URL: srv.URL, HTTP: srv.Client(), Sleep: func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		return ctx.Err()
	}}
	script = []int{502, 429}
	var got []vuln.EPSS
	res, err := c.Fetch(context.Background(), Validators{}, collect(&got))
	if err != nil || res.NotModified || res.Result.Rows != 12 || len(got) != 12 || res.Validators.LastModified == "" {
		t.Fatalf("fetch: %v %+v", err, res)
	}
	if !reflect.DeepEqual(slept, []time.Duration{5 * time.Second, 5 * time.Second}) {
		t.Errorf("slept %v (Retry-After 5 each time)", slept)
	}
	got = nil
	res, err = c.Fetch(context.Background(), res.Validators, collect(&got))
	if err != nil || !res.NotModified || len(got) != 0 {
		t.Errorf("conditional: %v %+v", err, res)
	}
	script = []int{403}
	var se *StatusError
	if _, err := c.Fetch(context.Background(), Validators{}, collect(&got)); !errors.As(err, &se) || se.Code != 403 {
		t.Errorf("403 is final: %v", err)
	}
}

// BenchmarkDecode decodes a generated 300,000-row gzipped file (the size of
// the real daily file) and reports rows/s:
//
//	go test -run '^$' -bench Decode -benchtime 1x ./internal/vuln/epss
func BenchmarkDecode(b *testing.B) {
	const rows = 300_000
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprintln(zw, "#model_version:v2025.03.14,score_date:2025-03-14T12:55:00Z")
	fmt.Fprintln(zw, "cve,epss,percentile")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(zw, "CVE-%d-%05d,%.5f,%.5f\n", 1999+i%27, i, float64(i%1000)/1000, float64(i)/rows)
	}
	zw.Close()
	n := 0
	for b.Loop() {
		res, err := Decode(bytes.NewReader(buf.Bytes()), func(*vuln.EPSS) error { n++; return nil })
		if err != nil || res.Rows != rows {
			b.Fatalf("%v, %d rows", err, res.Rows)
		}
	}
	rate := float64(n) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "rows/s")
	b.Logf("%d rows (%.1f MB gzipped): %.0f rows/s", rows, float64(buf.Len())/1e6, rate)
}
