package kev

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/feedhttp"
)

// catalogue returns the real catalogue (testdata, CC0), uncompressed.
func catalogue(t *testing.T) []byte {
	t.Helper()
	f, err := os.Open("testdata/known_exploited_vulnerabilities.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func byCVE(list *[]*vuln.KEV) func(*vuln.KEV) error {
	return func(k *vuln.KEV) error { *list = append(*list, k); return nil }
}

func checkCatalogue(t *testing.T, cat Catalog, got []*vuln.KEV) {
	t.Helper()
	if cat.Title != "CISA Catalog of Known Exploited Vulnerabilities" || cat.Version != "2025.08.25" ||
		!cat.Released.Equal(time.Date(2025, 8, 25, 17, 4, 19, 979600000, time.UTC)) || cat.Count != 1404 ||
		cat.Seen != 1404 || cat.Delivered != 1404 || cat.Skipped != 0 || cat.Warning != "" {
		t.Errorf("catalogue %+v", cat)
	}
	if len(got) != 1404 || got[0].CVE != "CVE-2025-48384" || got[0].VendorProject != "Git" {
		t.Fatalf("%d entries, first %+v", len(got), got[0])
	}
	known := 0
	for _, k := range got {
		if k.Ransomware == "Known" {
			known++
		}
		switch k.CVE {
		case "CVE-2021-44228":
			want := vuln.KEV{
				CVE: "CVE-2021-44228", VendorProject: "Apache", Product: "Log4j2",
				Name:      "Apache Log4j2 Remote Code Execution Vulnerability",
				DateAdded: time.Date(2021, 12, 10, 0, 0, 0, 0, time.UTC), DueDate: time.Date(2021, 12, 24, 0, 0, 0, 0, time.UTC),
				Ransomware: "Known", Notes: "https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
				CWEs: []string{"CWE-20", "CWE-400", "CWE-502"},
			}
			want.RequiredAction = k.RequiredAction
			if !reflect.DeepEqual(*k, want) || !strings.HasPrefix(k.RequiredAction, "For all affected software assets") {
				t.Errorf("log4shell\n got %+v\nwant %+v", *k, want)
			}
		case "CVE-2021-3156":
			if k.Product != "Sudo" || !reflect.DeepEqual(k.CWEs, []string{"CWE-122", "CWE-193"}) || k.Ransomware != "Unknown" {
				t.Errorf("baron samedit %+v", *k)
			}
		}
	}
	if known != 293 {
		t.Errorf("%d entries with known ransomware use, want 293", known)
	}
}

func TestDecodeCatalogue(t *testing.T) {
	raw := catalogue(t)
	var got []*vuln.KEV
	cat, err := Decode(bytes.NewReader(raw), byCVE(&got))
	if err != nil {
		t.Fatal(err)
	}
	checkCatalogue(t, cat, got)

	// The gzipped copy decodes the same (magic bytes, not the name).
	f, _ := os.Open("testdata/known_exploited_vulnerabilities.json.gz")
	defer f.Close()
	got = nil
	if cat, err = Decode(f, byCVE(&got)); err != nil || len(got) != 1404 {
		t.Errorf("gzip: %v, %d", err, len(got))
	}
}

func TestDecodeCountMismatchAndBadEntries(t *testing.T) {
	doc := `{"title":"t","catalogVersion":"x","dateReleased":"2025-01-01T00:00:00Z","count":5,"extra":{"a":[1]},"vulnerabilities":[
	{"cveID":"CVE-2024-0001","dateAdded":"2024-01-01","dueDate":"2024-01-22","cwes":[],"future":true},
	{"cveID":"not-a-cve","dateAdded":"2024-01-01"},
	{"cveID":"CVE-2024-0003","dateAdded":"01/02/2024"},
	{"cveID":"CVE-2024-0004","dateAdded":"2024-01-01","cwes":"CWE-79"},
	{"cveID":"CVE-2024-0005","dateAdded":"2024-01-01","dueDate":""}]}`
	var got []*vuln.KEV
	cat, err := Decode(strings.NewReader(doc), byCVE(&got))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].CVE != "CVE-2024-0005" || !got[1].DueDate.IsZero() {
		t.Errorf("delivered %+v", got)
	}
	if cat.Seen != 5 || cat.Skipped != 3 || cat.Warning != "" || cat.Errors[0].Index != 1 || cat.Errors[2].CVE != "CVE-2024-0004" {
		t.Errorf("catalogue %+v", cat)
	}
	cat, err = Decode(strings.NewReader(strings.Replace(doc, `"count":5`, `"count":6`, 1)), byCVE(&got))
	if err != nil || cat.Warning != "catalogue x says count 6 but lists 5 entries" {
		t.Errorf("mismatch: %v %q", err, cat.Warning)
	}

	got = nil
	_, err = Decode(strings.NewReader(doc[:strings.Index(doc, `{"cveID":"CVE-2024-0004"`)+10]), byCVE(&got))
	if err == nil || len(got) != 1 || !strings.HasPrefix(err.Error(), "kev: decode") {
		t.Errorf("truncated: %v after %d", err, len(got))
	}
	for _, bad := range []string{``, `[]`, `{"title":"no list"}`, `{"vulnerabilities":[]} x`} {
		if _, err := Decode(strings.NewReader(bad), byCVE(&got)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	stop := errors.New("stop")
	if _, err := Decode(strings.NewReader(doc), func(*vuln.KEV) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("callback error: %v", err)
	}
}

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func TestClientConditionalAndRetries(t *testing.T) {
	raw := catalogue(t)
	var mu sync.Mutex
	var script []int // statuses to answer before the catalogue
	var cut bool
	var conditional []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		conditional = append(conditional, r.Header.Get("If-None-Match")+"|"+r.Header.Get("If-Modified-Since"))
		if len(script) > 0 {
			code := script[0]
			script = script[1:]
			if code == 429 {
				w.Header().Set("Retry-After", "3")
			}
			w.WriteHeader(code)
			return
		}
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Mon, 25 Aug 2025 17:05:00 GMT")
		if cut {
			cut = false
			w.Header().Set("Content-Length", "2000000")
			w.Write(raw[:1000])
			return
		}
		w.Write(raw)
	}))
	defer srv.Close()
	s := &sleeps{}
	c := &Client{URL: srv.URL, HTTP: srv.Client(), Sleep: s.Sleep, RetryBase: time.Second}

	script = []int{503, 429}
	cut = true
	var got []*vuln.KEV
	res, err := c.Fetch(context.Background(), Validators{}, byCVE(&got))
	if err != nil {
		t.Fatal(err)
	}
	checkCatalogue(t, res.Catalog, got)
	if res.NotModified || res.Validators != (Validators{ETag: `"v1"`, LastModified: "Mon, 25 Aug 2025 17:05:00 GMT"}) {
		t.Errorf("result %+v", res.Validators)
	}
	// 1 s backoff, Retry-After 3 s, then 4 s after the cut-off body.
	if !reflect.DeepEqual(s.d, []time.Duration{time.Second, 3 * time.Second, 4 * time.Second}) {
		t.Errorf("slept %v", s.d)
	}

	got = nil
	res, err = c.Fetch(context.Background(), res.Validators, byCVE(&got))
	if err != nil || !res.NotModified || len(got) != 0 || res.Validators.ETag != `"v1"` || res.Validators.LastModified == "" {
		t.Errorf("conditional: %v %+v, %d entries", err, res, len(got))
	}
	if last := conditional[len(conditional)-1]; last != `"v1"|Mon, 25 Aug 2025 17:05:00 GMT` {
		t.Errorf("conditional headers %q", last)
	}

	script = []int{404}
	var se *StatusError
	if _, err := c.Fetch(context.Background(), Validators{}, byCVE(&got)); !errors.As(err, &se) || se.Code != 404 {
		t.Errorf("404: %v", err)
	}
	c.MaxRetries = -1
	script = []int{500}
	if _, err := c.Fetch(context.Background(), Validators{}, byCVE(&got)); !errors.As(err, &se) || se.Code != 500 {
		t.Errorf("no retries: %v", err)
	}
	c.MaxSize = 1000
	n := len(conditional)
	if _, err := c.Fetch(context.Background(), Validators{}, byCVE(&got)); !errors.Is(err, feedhttp.ErrTooBig) || len(conditional) != n+1 {
		t.Errorf("too big: %v after %d requests", err, len(conditional)-n)
	}
}
