package osv

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is osv.dev's public bucket of per-ecosystem archives.
const DefaultBaseURL = "https://osv-vulnerabilities.storage.googleapis.com"

// Retry defaults for Client.
const (
	DefaultRetries = 4
	DefaultBackoff = time.Second
	maxBackoff     = time.Minute
)

// Client downloads osv.dev's per-ecosystem archives. The zero value is
// usable.
type Client struct {
	BaseURL string       // DefaultBaseURL when empty
	HTTP    *http.Client // http.DefaultClient when nil; bound the download with ctx
	// Retries is how many times a network error, a 5xx or a 429 is retried
	// (DefaultRetries when 0, none when negative). Backoff is the first
	// wait, doubled each retry and jittered (DefaultBackoff when 0); a
	// Retry-After header, when longer, wins.
	Retries int
	Backoff time.Duration
}

// validators are what the server said identifies the copy on disk, kept in
// <dst>.meta.json so that an unchanged archive is not downloaded again.
type validators struct {
	URL          string    `json:"url"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Fetched      time.Time `json:"fetched"`
}

// ArchiveURL is where osv.dev publishes an ecosystem's archive:
// <BaseURL>/<ecosystem, path-escaped>/all.zip. osv.dev files archives under
// base ecosystems ("Debian", "Rocky Linux"); see Base.
func (c *Client) ArchiveURL(ecosystem string) string {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	return strings.TrimRight(base, "/") + "/" + url.PathEscape(ecosystem) + "/all.zip"
}

// Download fetches an ecosystem's all.zip to dst and reports whether dst
// changed. When dst exists and its validators were saved, the request is
// conditional (If-None-Match / If-Modified-Since) and a 304 leaves dst as it
// is. The archive is written to a temporary file beside dst, checked to be
// a readable zip, synced and renamed over dst, so dst is always either the
// old archive or the whole new one.
func (c *Client) Download(ctx context.Context, ecosystem, dst string) (changed bool, err error) {
	u := c.ArchiveURL(ecosystem)
	meta := metaPath(dst)
	var old validators
	if _, err := os.Stat(dst); err == nil {
		old = readValidators(meta, u)
	}
	retries := c.Retries
	switch {
	case retries == 0:
		retries = DefaultRetries
	case retries < 0:
		retries = 0
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, c.backoff(attempt, lastErr)); err != nil {
				return false, fmt.Errorf("osv: download %s: %w (last error: %v)", u, err, lastErr)
			}
		}
		changed, retry, err := c.fetch(ctx, u, dst, old)
		if err == nil {
			return changed, nil
		}
		lastErr = err
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			return false, fmt.Errorf("osv: download %s: %w (%v)", u, ctx.Err(), err)
		}
		if !retry || attempt >= retries || ctx.Err() != nil {
			return false, fmt.Errorf("osv: download %s: %w", u, err)
		}
	}
}

// retryAfter carries a server's Retry-After to the backoff.
type retryAfter struct {
	err   error
	after time.Duration
}

func (e *retryAfter) Error() string { return e.err.Error() }
func (e *retryAfter) Unwrap() error { return e.err }

func (c *Client) backoff(attempt int, lastErr error) time.Duration {
	d := c.Backoff
	if d <= 0 {
		d = DefaultBackoff
	}
	d <<= attempt - 1
	if d > maxBackoff || d <= 0 {
		d = maxBackoff
	}
	// ±20% jitter keeps many agents from retrying in step.
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	var ra *retryAfter
	if errors.As(lastErr, &ra) && ra.after > d {
		d = min(ra.after, maxBackoff)
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// fetch makes one attempt. retry says whether the failure is worth another.
func (c *Client) fetch(ctx context.Context, u, dst string, old validators) (changed, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, false, err
	}
	req.Header.Set("User-Agent", "vigil-osv")
	if old.ETag != "" {
		req.Header.Set("If-None-Match", old.ETag)
	}
	if old.LastModified != "" {
		req.Header.Set("If-Modified-Since", old.LastModified)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, true, err // network: worth retrying
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && (old.ETag != "" || old.LastModified != ""):
		return false, false, nil
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		err := fmt.Errorf("server answered %s", resp.Status)
		if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
			return false, true, &retryAfter{err, time.Duration(s) * time.Second}
		}
		return false, true, err
	default:
		return false, false, fmt.Errorf("server answered %s", resp.Status)
	}
	retry, err = save(resp.Body, dst)
	if err != nil {
		return false, retry, err
	}
	// The validators go last: if this process dies before writing them,
	// the next run merely downloads again. Written first, they could make a
	// server answer 304 for an archive that never reached dst.
	v := validators{URL: u, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), Fetched: time.Now().UTC()}
	if err := writeValidators(metaPath(dst), v); err != nil {
		return true, false, err
	}
	return true, false, nil
}

// save writes body to a temporary file beside dst and renames it into
// place once it is complete and reads as a zip. retry is true when the body
// broke off, false for local failures.
func save(body io.Reader, dst string) (retry bool, err error) {
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	src := &readErr{r: body}
	if _, err := io.Copy(tmp, src); err != nil {
		return src.err != nil, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	// A proxy's error page served as 200, or a body cut short without an
	// error, must not replace a good archive.
	zr, err := zip.OpenReader(tmp.Name())
	if err != nil {
		return true, fmt.Errorf("downloaded file is not a zip archive: %w", err)
	}
	zr.Close()
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return false, err
	}
	return false, nil
}

// readErr remembers a read error so that save can tell a broken download
// (retry) from a full disk (do not).
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return n, err
}

func metaPath(dst string) string { return dst + ".meta.json" }

// readValidators returns the saved validators when they belong to u; a
// missing or unreadable file means an unconditional download.
func readValidators(path, u string) validators {
	var v validators
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &v) != nil || v.URL != u {
		return validators{}
	}
	return v
}

func writeValidators(path string, v validators) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("save validators: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save validators: %w", err)
	}
	return nil
}
