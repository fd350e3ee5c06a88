package feedhttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// answer is one scripted response.
type answer struct {
	code  int      // 200 when 0
	hdr   []string // header name, value pairs
	body  string
	cut   bool // promise more than body in Content-Length, then hang up
	abort bool // drop the connection without an answer
}

// scripted serves answers in order, repeating the last, and records the
// requests' headers.
type scripted struct {
	mu      sync.Mutex
	answers []answer
	got     []http.Header
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.got = append(s.got, r.Header.Clone())
	a := s.answers[0]
	if len(s.answers) > 1 {
		s.answers = s.answers[1:]
	}
	s.mu.Unlock()
	if a.abort {
		panic(http.ErrAbortHandler)
	}
	for i := 0; i+1 < len(a.hdr); i += 2 {
		w.Header().Set(a.hdr[i], a.hdr[i+1])
	}
	if a.cut {
		w.Header().Set("Content-Length", strconv.Itoa(len(a.body)+1000))
	}
	if a.code == 0 {
		a.code = http.StatusOK
	}
	w.WriteHeader(a.code)
	w.Write([]byte(a.body))
}

func (s *scripted) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
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

var (
	now      = time.Date(2025, 8, 25, 17, 0, 0, 0, time.UTC)
	fresh    = []string{"ETag", `"v2"`, "Last-Modified", "Mon, 25 Aug 2025 17:05:00 GMT"}
	freshV   = Validators{`"v2"`, "Mon, 25 Aug 2025 17:05:00 GMT"}
	stored   = Validators{`"v1"`, "Sun, 24 Aug 2025 08:00:00 GMT"}
	isStatus = func(code int) func(error) bool {
		return func(err error) bool {
			var se *StatusError
			return errors.As(err, &se) && se.Code == code
		}
	}
)

func TestGet(t *testing.T) {
	for _, tc := range []struct {
		name    string
		set     func(*Downloader) // changes to the test's Downloader
		prev    Validators
		answers []answer

		body        string
		v           Validators
		notModified bool
		err         func(error) bool // nil: no error
		slept       []time.Duration
		requests    int
	}{{
		name:    "ok",
		answers: []answer{{hdr: fresh, body: "data"}},
		body:    "data", v: freshV, requests: 1,
	}, {
		name: "backoff doubles, Retry-After wins",
		// 1 s backoff, Retry-After 3 s, then 4 s after the cut-off body.
		answers: []answer{{code: 503}, {code: 429, hdr: []string{"Retry-After", "3"}}, {hdr: fresh, body: "dat", cut: true}, {hdr: fresh, body: "data"}},
		body:    "data", v: freshV, slept: []time.Duration{time.Second, 3 * time.Second, 4 * time.Second}, requests: 4,
	}, {
		name:    "network error and 408 are retried",
		answers: []answer{{abort: true}, {code: 408}, {body: "data"}},
		body:    "data", slept: []time.Duration{time.Second, 2 * time.Second}, requests: 3,
	}, {
		name:    "backoff stops at MaxBackoff",
		set:     func(d *Downloader) { d.MaxBackoff = 3 * time.Second },
		answers: []answer{{code: 500}, {code: 500}, {code: 500}, {code: 500}, {body: "data"}},
		body:    "data", slept: []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second}, requests: 5,
	}, {
		name:    "default backoff 2 s up to 1 min",
		set:     func(d *Downloader) { d.RetryBase, d.MaxRetries = 0, 7 },
		answers: []answer{{code: 502}, {code: 502}, {code: 502}, {code: 502}, {code: 502}, {code: 502}, {body: "data"}},
		body:    "data", slept: []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute}, requests: 7,
	}, {
		name:    "Retry-After capped at 10 min",
		answers: []answer{{code: 429, hdr: []string{"Retry-After", "86400"}}, {body: "data"}},
		body:    "data", slept: []time.Duration{10 * time.Minute}, requests: 2,
	}, {
		name:    "Retry-After as a date",
		answers: []answer{{code: 503, hdr: []string{"Retry-After", "Mon, 25 Aug 2025 17:01:30 GMT"}}, {body: "data"}},
		body:    "data", slept: []time.Duration{90 * time.Second}, requests: 2,
	}, {
		name:    "unreadable Retry-After falls back to backoff",
		answers: []answer{{code: 503, hdr: []string{"Retry-After", "soon"}}, {code: 503, hdr: []string{"Retry-After", "0"}}, {body: "data"}},
		body:    "data", slept: []time.Duration{time.Second, 2 * time.Second}, requests: 3,
	}, {
		name:    "retries run out",
		set:     func(d *Downloader) { d.MaxRetries = 2 },
		answers: []answer{{code: 502}},
		err:     isStatus(502), slept: []time.Duration{time.Second, 2 * time.Second}, requests: 3,
	}, {
		name:    "four retries by default",
		answers: []answer{{code: 500}},
		err:     isStatus(500), slept: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}, requests: 5,
	}, {
		name:    "negative MaxRetries never retries",
		set:     func(d *Downloader) { d.MaxRetries = -1 },
		answers: []answer{{code: 500}},
		err:     isStatus(500), requests: 1,
	}, {
		name:    "404 is final",
		answers: []answer{{code: 404, body: "  no such feed \n"}},
		err: func(err error) bool {
			return isStatus(404)(err) && err.Error() == "HTTP 404 Not Found: no such feed"
		},
		requests: 1,
	}, {
		name:    "403 is final",
		answers: []answer{{code: 403}},
		err:     isStatus(403), requests: 1,
	}, {
		name:    "304 keeps validators it omits",
		prev:    stored,
		answers: []answer{{code: 304}},
		v:       stored, notModified: true, requests: 1,
	}, {
		name:    "304 with a new ETag",
		prev:    stored,
		answers: []answer{{code: 304, hdr: []string{"ETag", `"v2"`}}},
		v:       Validators{`"v2"`, stored.LastModified}, notModified: true, requests: 1,
	}, {
		name:    "size cap reached exactly",
		set:     func(d *Downloader) { d.MaxSize = 4 },
		answers: []answer{{body: "data"}},
		body:    "data", requests: 1,
	}, {
		name:    "too big is not retried",
		set:     func(d *Downloader) { d.MaxSize = 3 },
		answers: []answer{{body: "data"}},
		err:     func(err error) bool { return errors.Is(err, ErrTooBig) }, requests: 1,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &scripted{answers: tc.answers}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			s := &sleeps{}
			d := &Downloader{URL: ts.URL, HTTP: ts.Client(), RetryBase: time.Second, Now: func() time.Time { return now }, Sleep: s.Sleep}
			if tc.set != nil {
				tc.set(d)
			}
			body, v, notModified, err := d.Get(context.Background(), tc.prev)
			switch {
			case tc.err == nil && err != nil:
				t.Fatalf("error %v", err)
			case tc.err != nil && !tc.err(err):
				t.Errorf("error %v", err)
			}
			if string(body) != tc.body || notModified != tc.notModified {
				t.Errorf("body %q, notModified %v", body, notModified)
			}
			if err == nil && v != tc.v {
				t.Errorf("validators %+v, want %+v", v, tc.v)
			}
			if !reflect.DeepEqual(s.d, tc.slept) {
				t.Errorf("slept %v, want %v", s.d, tc.slept)
			}
			if n := srv.requests(); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
		})
	}
}

func TestGetHeaders(t *testing.T) {
	srv := &scripted{answers: []answer{{code: 304}}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	d := &Downloader{URL: ts.URL, HTTP: ts.Client()}
	if _, _, _, err := d.Get(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	d.UserAgent = "vigil-test/1"
	if _, _, _, err := d.Get(context.Background(), Validators{}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []map[string]string{
		{"If-None-Match": stored.ETag, "If-Modified-Since": stored.LastModified, "User-Agent": "vigil"},
		{"If-None-Match": "", "If-Modified-Since": "", "User-Agent": "vigil-test/1"},
	} {
		for k, v := range want {
			if got := srv.got[i].Get(k); got != v {
				t.Errorf("request %d: %s %q, want %q", i, k, got, v)
			}
		}
	}
}

func TestGetContext(t *testing.T) {
	srv := &scripted{answers: []answer{{code: 503}}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	slept := 0
	d := &Downloader{URL: ts.URL, HTTP: ts.Client(), Sleep: func(ctx context.Context, _ time.Duration) error {
		slept++
		cancel()
		return ctx.Err()
	}}
	if _, _, _, err := d.Get(ctx, Validators{}); !errors.Is(err, context.Canceled) || slept != 1 || srv.requests() != 1 {
		t.Errorf("%v after %d sleeps, %d requests", err, slept, srv.requests())
	}
	// Without a Sleep the real one waits for ctx.
	d.Sleep = nil
	d.RetryBase = time.Hour
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, _, err := d.Get(ctx, Validators{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		attempt                     int
		base, max, retryAfter, want time.Duration
	}{
		{0, time.Second, time.Minute, 0, time.Second},
		{3, time.Second, time.Minute, 0, 8 * time.Second},
		{10, time.Second, time.Minute, 0, time.Minute},
		{1, 6 * time.Second, 10 * time.Second, 0, 10 * time.Second},
		{1000, time.Second, time.Minute, 0, time.Minute},
		{0, time.Second, time.Minute, 7 * time.Second, 7 * time.Second},
		{5, time.Second, time.Minute, 2 * time.Minute, 2 * time.Minute},
		{0, time.Second, time.Minute, 24 * time.Hour, MaxRetryAfter},
	} {
		if got := Backoff(tc.attempt, tc.base, tc.max, tc.retryAfter); got != tc.want {
			t.Errorf("Backoff(%d, %v, %v, %v) = %v, want %v", tc.attempt, tc.base, tc.max, tc.retryAfter, got, tc.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"12":                            12 * time.Second,
		" 12 ":                          12 * time.Second,
		"0":                             0,
		"-3":                            0,
		"soon":                          0,
		"Thu, 01 Jan 2026 00:01:30 GMT": 90 * time.Second,
		"Wed, 31 Dec 2025 23:59:00 GMT": 0,
	} {
		if got := ParseRetryAfter(v, now); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("sleep: %v", err)
	}
	if err := Sleep(context.Background(), 0); err != nil {
		t.Errorf("zero: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled, zero: %v", err)
	}
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) || time.Since(start) > time.Minute {
		t.Errorf("cancelled: %v", err)
	}
}

func TestStatusError(t *testing.T) {
	for _, tc := range []struct {
		err       StatusError
		msg       string
		retryable bool
	}{
		{StatusError{Code: 503}, "HTTP 503 Service Unavailable", true},
		{StatusError{Code: 429, Body: "slow down"}, "HTTP 429 Too Many Requests: slow down", true},
		{StatusError{Code: 408}, "HTTP 408 Request Timeout", true},
		{StatusError{Code: 403}, "HTTP 403 Forbidden", false},
		{StatusError{Code: 404}, "HTTP 404 Not Found", false},
	} {
		if got := tc.err.Error(); got != tc.msg || tc.err.retryable() != tc.retryable {
			t.Errorf("%d: %q retryable %v", tc.err.Code, got, tc.err.retryable())
		}
	}
	if !strings.HasPrefix((&StatusError{Code: 599}).Error(), "HTTP 599") {
		t.Error("unknown code")
	}
}

func TestFetch(t *testing.T) {
	srv := &scripted{answers: []answer{{hdr: fresh, body: "data"}}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	d := &Downloader{URL: ts.URL, HTTP: ts.Client(), MaxRetries: -1}
	calls := 0
	upper := func(r io.Reader) (string, error) {
		calls++
		b, err := io.ReadAll(r)
		return strings.ToUpper(string(b)), err
	}
	res, v, notModified, err := Fetch(context.Background(), d, "feed", Validators{}, upper)
	if err != nil || res != "DATA" || v != freshV || notModified || calls != 1 {
		t.Errorf("ok: %q %+v %v %v, %d decodes", res, v, notModified, err, calls)
	}

	srv.answers = []answer{{code: 304}}
	res, v, notModified, err = Fetch(context.Background(), d, "feed", stored, upper)
	if err != nil || res != "" || v != stored || !notModified || calls != 1 {
		t.Errorf("304: %q %+v %v %v, %d decodes", res, v, notModified, err, calls)
	}

	// A decode error keeps what was decoded but drops the validators.
	bad := errors.New("bad row")
	srv.answers = []answer{{hdr: fresh, body: "data"}}
	res, v, notModified, err = Fetch(context.Background(), d, "feed", stored, func(io.Reader) (string, error) { return "partial", bad })
	if err != bad || res != "partial" || v != (Validators{}) || notModified {
		t.Errorf("decode error: %q %+v %v %v", res, v, notModified, err)
	}

	srv.answers = []answer{{code: 404}}
	_, v, _, err = Fetch(context.Background(), d, "feed", stored, upper)
	if !isStatus(404)(err) || err.Error() != "feed: fetch "+ts.URL+": HTTP 404 Not Found" || v != (Validators{}) || calls != 1 {
		t.Errorf("404: %v %+v", err, v)
	}
}
