package nvd

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/vuln"
)

// fakeClock stands in for the wall clock: Sleep advances it at once.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slept = append(f.slept, d)
	f.now = f.now.Add(d)
	return ctx.Err()
}

// fakeNVD serves pages cut from the real records the way the NVD API does,
// and checks the parameters it is sent.
type fakeNVD struct {
	t       *testing.T
	clock   *fakeClock
	key     string // required apiKey header, when set
	records []fakeRecord

	mu       sync.Mutex
	requests []url.Values
	at       []time.Time                             // fake time of each request
	script   []func(http.ResponseWriter, url.Values) // failures served first, in order
}

type fakeRecord struct {
	id      string
	lastMod time.Time
	raw     []byte
}

func newFakeNVD(t *testing.T, clock *fakeClock) (*fakeNVD, *httptest.Server) {
	f := &fakeNVD{t: t, clock: clock}
	for _, raw := range rawRecords(t) {
		c, err := DecodeRecord(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		f.records = append(f.records, fakeRecord{c.ID, c.Modified, raw})
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeNVD) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	f.requests = append(f.requests, q)
	f.at = append(f.at, f.clock.Now())
	var fail func(http.ResponseWriter, url.Values)
	if len(f.script) > 0 {
		fail, f.script = f.script[0], f.script[1:]
	}
	f.mu.Unlock()
	if f.key != "" && r.Header.Get("apiKey") != f.key {
		w.Header().Set("message", "Invalid apiKey")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if fail != nil {
		fail(w, q)
		return
	}
	start, err1 := strconv.Atoi(q.Get("startIndex"))
	size, err2 := strconv.Atoi(q.Get("resultsPerPage"))
	if err1 != nil || err2 != nil || size < 1 || size > MaxPageSize {
		w.Header().Set("message", "bad paging")
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	match := f.records
	if s, e := q.Get("lastModStartDate"), q.Get("lastModEndDate"); s != "" || e != "" {
		from, err1 := time.Parse(TimeFormat, s)
		to, err2 := time.Parse(TimeFormat, e)
		if err1 != nil || err2 != nil || to.Sub(from) > MaxWindow || to.Before(from) {
			// NVD's answer to a bad date range.
			w.Header().Set("message", "Invalid date range")
			w.WriteHeader(http.StatusNotFound)
			return
		}
		match = nil
		for _, rec := range f.records {
			if !rec.lastMod.Before(from) && !rec.lastMod.After(to) {
				match = append(match, rec)
			}
		}
	}
	var page [][]byte
	for i := start; i < len(match) && i < start+size; i++ {
		page = append(page, match[i].raw)
	}
	// A write error means the client hung up mid-page, which some tests do
	// on purpose (a callback error, a cancellation): not a test failure.
	_ = writePage(w, page, start, len(match))
}

func (f *fakeNVD) fail(fns ...func(http.ResponseWriter, url.Values)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, fns...)
}

func newClient(srv *httptest.Server, clock *fakeClock) *Client {
	return &Client{BaseURL: srv.URL, HTTP: srv.Client(), Now: clock.Now, Sleep: clock.Sleep, RetryBase: time.Second}
}

func TestSyncFullPaging(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f, srv := newFakeNVD(t, clock)
	f.key = "secret-key"
	c := newClient(srv, clock)
	c.APIKey, c.PageSize = "secret-key", 10
	seen := map[string]bool{}
	st, err := c.Sync(context.Background(), time.Time{}, time.Time{}, func(v *vuln.CVE) error {
		seen[v.ID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 39 || st.Records != 39 || st.Pages != 4 || st.Requests != 4 || st.Windows != 0 {
		t.Errorf("stats %+v, %d distinct", st, len(seen))
	}
	for i, q := range f.requests {
		if q.Get("startIndex") != strconv.Itoa(10*i) || q.Get("resultsPerPage") != "10" || q.Has("lastModStartDate") {
			t.Errorf("request %d: %v", i, q)
		}
	}
	if len(clock.slept) != 0 {
		t.Errorf("slept %v with a key's 50 requests per 30 s", clock.slept)
	}
	if !st.Until.Equal(clock.now) {
		t.Errorf("until %v", st.Until)
	}

	// A page size over NVD's maximum is clamped to it.
	c.PageSize = 5000
	f.requests = nil
	if _, err := c.Sync(context.Background(), time.Time{}, time.Time{}, func(*vuln.CVE) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if len(f.requests) != 1 || f.requests[0].Get("resultsPerPage") != "2000" {
		t.Errorf("requests %v", f.requests)
	}
}

func TestSyncIncrementalWindows(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f, srv := newFakeNVD(t, clock)
	c := newClient(srv, clock)
	c.PageSize = 4
	since := time.Date(2023, 3, 15, 8, 30, 0, 0, time.UTC)
	until := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	var got []string
	st, err := c.Sync(context.Background(), since, until, collect(&got))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range f.records {
		if !r.lastMod.Before(since) && !r.lastMod.After(until) {
			want = append(want, r.id)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if len(want) < 10 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v\nwant %v", got, want)
	}
	// ceil(900 days / 120) windows, contiguous, each at most 120 days.
	if st.Windows != 8 {
		t.Errorf("windows %d", st.Windows)
	}
	prevEnd := ""
	for i, q := range f.requests {
		s, e := q.Get("lastModStartDate"), q.Get("lastModEndDate")
		from, _ := time.Parse(TimeFormat, s)
		to, _ := time.Parse(TimeFormat, e)
		if to.Sub(from) > MaxWindow || !strings.HasSuffix(s, ".000Z") || !strings.HasSuffix(e, ".000Z") {
			t.Errorf("request %d: window %s..%s", i, s, e)
		}
		if q.Get("startIndex") == "0" {
			if prevEnd != "" && s != prevEnd || prevEnd == "" && s != "2023-03-15T08:30:00.000Z" {
				t.Errorf("request %d: window starts %s after %s", i, s, prevEnd)
			}
			prevEnd = e
		}
	}
	if prevEnd != "2025-09-01T00:00:00.000Z" {
		t.Errorf("last window ends %s", prevEnd)
	}
	if _, err := c.Sync(context.Background(), until, since, collect(&got)); err == nil {
		t.Error("since after until accepted")
	}
}

// Without a key, no more than 5 requests start in any 30 s; with the fake
// clock the sleeps are counted rather than waited.
func TestSyncRateLimit(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f, srv := newFakeNVD(t, clock)
	c := newClient(srv, clock)
	c.PageSize = 3 // 13 pages
	if _, err := c.Sync(context.Background(), time.Time{}, time.Time{}, func(*vuln.CVE) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if len(f.at) != 13 {
		t.Fatalf("%d requests", len(f.at))
	}
	for i := range f.at {
		n := 0
		for j := i; j < len(f.at) && f.at[j].Sub(f.at[i]) < 30*time.Second; j++ {
			n++
		}
		if n > 5 {
			t.Fatalf("%d requests within 30 s from request %d: %v", n, i, f.at)
		}
	}
	if elapsed := f.at[12].Sub(f.at[0]); elapsed != 60*time.Second {
		t.Errorf("13 requests took %v of fake time, want exactly 60 s", elapsed)
	}
}

func TestSyncRetries(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f, srv := newFakeNVD(t, clock)
	c := newClient(srv, clock)
	c.APIKey = "k" // no rate-limit sleeps to tell apart from backoff
	status := func(code int, hdr ...string) func(http.ResponseWriter, url.Values) {
		return func(w http.ResponseWriter, _ url.Values) {
			for i := 0; i+1 < len(hdr); i += 2 {
				w.Header().Set(hdr[i], hdr[i+1])
			}
			w.WriteHeader(code)
		}
	}
	truncated := func(w http.ResponseWriter, q url.Values) {
		var b bytes.Buffer
		writePage(&b, [][]byte{f.records[0].raw, f.records[1].raw}, 0, 39)
		w.Write(b.Bytes()[:b.Len()-len(f.records[1].raw)/2])
	}
	f.fail(status(503), status(429, "Retry-After", "7"), status(403, "message", "throttled"), truncated)
	n := 0
	st, err := c.Sync(context.Background(), time.Time{}, time.Time{}, func(*vuln.CVE) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	// 1 s, then Retry-After's 7 s, then 4 s and 8 s of doubling backoff.
	want := []time.Duration{time.Second, 7 * time.Second, 4 * time.Second, 8 * time.Second}
	if st.Retries != 4 || st.Requests != 5 || !equalDurations(clock.slept, want) {
		t.Errorf("retries %d requests %d slept %v, want %v", st.Retries, st.Requests, clock.slept, want)
	}
	// The cut-off page delivered its first record before breaking, and the
	// retry delivers it again: callbacks must be idempotent.
	if n != 40 || st.Records != 40 {
		t.Errorf("callback ran %d times (stats %d), want 39 + 1 re-delivered", n, st.Records)
	}

	// A 400 is not retried; its message header is reported.
	f.fail(status(400, "message", "Invalid parameter: resultsPerPage"))
	_, err = c.Sync(context.Background(), time.Time{}, time.Time{}, func(*vuln.CVE) error { return nil })
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 400 || !strings.Contains(err.Error(), "Invalid parameter") {
		t.Errorf("400: %v", err)
	}

	// Retries run out.
	c.MaxRetries = 2
	f.fail(status(502), status(502), status(502))
	if _, err = c.Sync(context.Background(), time.Time{}, time.Time{}, func(*vuln.CVE) error { return nil }); !errors.As(err, &se) || se.Code != 502 {
		t.Errorf("after retries: %v", err)
	}

	// An error from the callback stops the sync and is not retried.
	stop := errors.New("disk full")
	f.requests = nil
	_, err = c.Sync(context.Background(), time.Time{}, time.Time{}, func(*vuln.CVE) error { return stop })
	if !errors.Is(err, stop) || len(f.requests) != 1 {
		t.Errorf("callback error: %v after %d requests", err, len(f.requests))
	}

	// A wrong key is an error, not a retry loop.
	f.key = "right"
	if _, err = c.Sync(context.Background(), time.Time{}, time.Time{}, func(*vuln.CVE) error { return nil }); !errors.As(err, &se) || se.Code != 404 {
		t.Errorf("wrong key: %v", err)
	}
}

func TestSyncContextCancelled(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f, srv := newFakeNVD(t, clock)
	c := newClient(srv, clock)
	ctx, cancel := context.WithCancel(context.Background())
	f.fail(func(w http.ResponseWriter, _ url.Values) { cancel(); w.WriteHeader(503) })
	if _, err := c.Sync(ctx, time.Time{}, time.Time{}, func(*vuln.CVE) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v", err)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
