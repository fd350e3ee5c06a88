package osv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// archiveServer serves a zip built from the AlmaLinux fixtures at
// /AlmaLinux/all.zip, with an ETag and Last-Modified as GCS sends them, and
// honours conditional requests. fail lists status codes to answer first.
type archiveServer struct {
	mu       sync.Mutex
	body     []byte
	etag     string
	modified time.Time
	fail     []int
	requests []*http.Request
}

func newArchiveServer(t *testing.T) (*archiveServer, *httptest.Server) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "src.zip")
	writeZip(t, path, fixtureEntries(t, "almalinux"))
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := &archiveServer{body: body, etag: `"v1"`, modified: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *archiveServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
	if len(s.fail) > 0 {
		code := s.fail[0]
		s.fail = s.fail[1:]
		if code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "0")
		}
		http.Error(w, "try later", code)
		return
	}
	if r.URL.EscapedPath() != "/AlmaLinux/all.zip" && r.URL.EscapedPath() != "/Rocky%20Linux/all.zip" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", s.etag)
	w.Header().Set("Last-Modified", s.modified.Format(http.TimeFormat))
	if r.Header.Get("If-None-Match") == s.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(s.body)
}

func (s *archiveServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func testClient(url string) *Client {
	return &Client{BaseURL: url + "/", Backoff: time.Millisecond, Retries: 3}
}

func TestDownloadConditional(t *testing.T) {
	s, srv := newArchiveServer(t)
	c := testClient(srv.URL)
	dst := filepath.Join(t.TempDir(), "osv", "AlmaLinux.zip")
	ctx := context.Background()

	changed, err := c.Download(ctx, "AlmaLinux", dst)
	if err != nil || !changed {
		t.Fatalf("first download: changed %v, %v", changed, err)
	}
	ids, stats := walkAll(t, dst)
	if len(ids) != 6 || stats.Skipped != 0 {
		t.Errorf("downloaded archive: %v %+v", ids, stats)
	}
	v := readValidators(metaPath(dst), c.ArchiveURL("AlmaLinux"))
	if v.ETag != `"v1"` || v.LastModified != "Fri, 02 Jan 2026 03:04:05 GMT" {
		t.Errorf("validators = %+v", v)
	}

	// Unchanged: a conditional request, a 304, and dst untouched.
	before, _ := os.Stat(dst)
	changed, err = c.Download(ctx, "AlmaLinux", dst)
	if err != nil || changed {
		t.Fatalf("second download: changed %v, %v", changed, err)
	}
	last := s.requests[len(s.requests)-1]
	if last.Header.Get("If-None-Match") != `"v1"` || last.Header.Get("If-Modified-Since") == "" {
		t.Errorf("not conditional: %v", last.Header)
	}
	if after, _ := os.Stat(dst); !after.ModTime().Equal(before.ModTime()) {
		t.Error("dst rewritten on 304")
	}

	// A new archive upstream is fetched.
	s.mu.Lock()
	s.etag = `"v2"`
	s.mu.Unlock()
	if changed, err = c.Download(ctx, "AlmaLinux", dst); err != nil || !changed {
		t.Fatalf("third download: changed %v, %v", changed, err)
	}
	// Validators without the archive they describe are ignored.
	os.Remove(dst)
	if changed, err = c.Download(ctx, "AlmaLinux", dst); err != nil || !changed {
		t.Fatalf("after removal: changed %v, %v", changed, err)
	}
	if got := s.requests[len(s.requests)-1].Header.Get("If-None-Match"); got != "" {
		t.Errorf("conditional request for a missing file: %q", got)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), ".*.tmp")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestDownloadRetries(t *testing.T) {
	s, srv := newArchiveServer(t)
	s.fail = []int{http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusTooManyRequests}
	dst := filepath.Join(t.TempDir(), "a.zip")
	if changed, err := testClient(srv.URL).Download(context.Background(), "AlmaLinux", dst); err != nil || !changed {
		t.Fatalf("changed %v, %v", changed, err)
	}
	if s.count() != 4 {
		t.Errorf("%d requests, want 3 failures and a success", s.count())
	}
	// More failures than retries: give up with the last error.
	s.fail = []int{500, 500, 500, 500, 500}
	if _, err := testClient(srv.URL).Download(context.Background(), "AlmaLinux", dst); err == nil {
		t.Error("no error after exhausting retries")
	}
	if s.count() != 8 {
		t.Errorf("%d requests, want 4 more (1 + 3 retries)", s.count())
	}
	// A network error is retried too.
	c := testClient("http://127.0.0.1:1")
	c.Retries = 1
	if _, err := c.Download(context.Background(), "AlmaLinux", dst); err == nil {
		t.Error("no error from a closed port")
	}
}

func TestDownloadNoRetryOnClientError(t *testing.T) {
	s, srv := newArchiveServer(t)
	if _, err := testClient(srv.URL).Download(context.Background(), "NoSuchEcosystem", filepath.Join(t.TempDir(), "x.zip")); err == nil {
		t.Fatal("404: no error")
	}
	if s.count() != 1 {
		t.Errorf("%d requests for a 404", s.count())
	}
}

func TestDownloadEscapesEcosystem(t *testing.T) {
	s, srv := newArchiveServer(t)
	c := testClient(srv.URL)
	if got, want := c.ArchiveURL("Rocky Linux"), srv.URL+"/Rocky%20Linux/all.zip"; got != want {
		t.Errorf("ArchiveURL = %q, want %q", got, want)
	}
	if _, err := c.Download(context.Background(), "Rocky Linux", filepath.Join(t.TempDir(), "r.zip")); err != nil {
		t.Fatal(err)
	}
	if p := s.requests[0].URL.EscapedPath(); p != "/Rocky%20Linux/all.zip" {
		t.Errorf("requested %q", p)
	}
	if got := (&Client{}).ArchiveURL("Debian"); got != DefaultBaseURL+"/Debian/all.zip" {
		t.Errorf("default URL %q", got)
	}
}

// TestDownloadKeepsGoodArchive: a 200 whose body is not a zip (a proxy's
// error page) fails and leaves the previous archive in place.
func TestDownloadKeepsGoodArchive(t *testing.T) {
	s, srv := newArchiveServer(t)
	dst := filepath.Join(t.TempDir(), "a.zip")
	c := testClient(srv.URL)
	c.Retries = -1
	if _, err := c.Download(context.Background(), "AlmaLinux", dst); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(dst)
	s.mu.Lock()
	s.body, s.etag = []byte("<html>maintenance</html>"), `"v3"`
	s.mu.Unlock()
	if _, err := c.Download(context.Background(), "AlmaLinux", dst); err == nil {
		t.Fatal("non-zip body accepted")
	}
	if now, _ := os.ReadFile(dst); string(now) != string(good) {
		t.Error("good archive replaced")
	}
	if v := readValidators(metaPath(dst), c.ArchiveURL("AlmaLinux")); v.ETag != `"v1"` {
		t.Errorf("validators changed to %+v", v)
	}
}

func TestDownloadContextCancelled(t *testing.T) {
	s, srv := newArchiveServer(t)
	s.fail = []int{500, 500, 500, 500}
	c := testClient(srv.URL)
	c.Backoff = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Download(ctx, "AlmaLinux", filepath.Join(t.TempDir(), "a.zip")); err == nil {
		t.Fatal("no error")
	}
	if time.Since(start) > 5*time.Second {
		t.Error("backoff ignored the context")
	}
}
