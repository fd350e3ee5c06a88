// Package feedhttp downloads whole feed files over HTTP: conditional GETs
// with ETag / Last-Modified validators, retries with exponential backoff
// that honour Retry-After, and a size cap. It also holds the retry helpers
// (backoff, Retry-After parsing, a context-aware sleep) that the NVD client
// shares.
package feedhttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps a server's Retry-After, so a bogus header cannot stall
// a sync for hours.
const MaxRetryAfter = 10 * time.Minute

// Validators are what the server said identifies the copy we have; sent
// back as If-None-Match / If-Modified-Since so an unchanged file costs a 304
// instead of a download.
type Validators struct {
	ETag         string
	LastModified string
}

// Downloader fetches one file. The zero value works but for URL.
type Downloader struct {
	URL  string
	HTTP *http.Client // a client with a 2 min timeout when nil

	// MaxRetries is how often a download is retried after a network
	// error, a cut-off body, 408, 429 or 5xx: 0 means 4, negative never.
	MaxRetries int
	// RetryBase doubles per retry up to MaxBackoff (defaults 2 s, 1 min);
	// a Retry-After header wins, capped at MaxRetryAfter.
	RetryBase  time.Duration
	MaxBackoff time.Duration
	// MaxSize caps the download (default 64 MiB).
	MaxSize   int64
	UserAgent string // "vigil" when empty

	// Now and Sleep replace the clock in tests.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// StatusError is a non-200, non-304 answer.
type StatusError struct {
	Code       int
	Body       string // the start of the body
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("HTTP %d %s", e.Code, http.StatusText(e.Code))
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

func (e *StatusError) retryable() bool {
	return e.Code == http.StatusRequestTimeout || e.Code == http.StatusTooManyRequests || e.Code >= 500
}

// ErrTooBig is a download larger than MaxSize. It is not retried: the next
// download would be as big.
var ErrTooBig = errors.New("response larger than MaxSize")

// Get downloads d.URL whole unless it is unchanged since prev, retrying
// what may pass on a retry. notModified means the server answered 304: body
// is nil and v are prev updated with whatever validators the 304 carried.
// Otherwise v are the validators of the body.
func (d *Downloader) Get(ctx context.Context, prev Validators) (body []byte, v Validators, notModified bool, err error) {
	retries := d.MaxRetries
	if retries == 0 {
		retries = 4
	}
	for attempt := 0; ; attempt++ {
		body, v, notModified, err := d.try(ctx, prev)
		if err == nil {
			return body, v, notModified, nil
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			return nil, v, false, fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		var se *StatusError
		retry := !errors.Is(err, ErrTooBig) && (!errors.As(err, &se) || se.retryable())
		if !retry || ctx.Err() != nil || attempt >= retries {
			return nil, v, false, err
		}
		var ra time.Duration
		if se != nil {
			ra = se.RetryAfter
		}
		if err := d.sleep(ctx, Backoff(attempt, d.retryBase(), d.maxBackoff(), ra)); err != nil {
			return nil, v, false, err
		}
	}
}

// Fetch downloads d.URL with Get unless it is unchanged since prev, then
// decodes the body with decode. The body is downloaded whole before
// decoding, so a retried download never hands decode's callback a record
// twice. A download error is returned as "<feed>: fetch <url>: <error>"; a
// decode error as it is, with what decode returned but no validators: a
// caller storing them would never fetch the file it failed to read again.
func Fetch[T any](ctx context.Context, d *Downloader, feed string, prev Validators, decode func(io.Reader) (T, error)) (res T, v Validators, notModified bool, err error) {
	body, v, notModified, err := d.Get(ctx, prev)
	if err != nil {
		return res, Validators{}, false, fmt.Errorf("%s: fetch %s: %w", feed, d.URL, err)
	}
	if notModified {
		return res, v, true, nil
	}
	if res, err = decode(bytes.NewReader(body)); err != nil {
		return res, Validators{}, false, err
	}
	return res, v, false, nil
}

func (d *Downloader) try(ctx context.Context, prev Validators) ([]byte, Validators, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	if err != nil {
		return nil, prev, false, err
	}
	if prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		req.Header.Set("If-Modified-Since", prev.LastModified)
	}
	ua := d.UserAgent
	if ua == "" {
		ua = "vigil"
	}
	req.Header.Set("User-Agent", ua)
	hc := d.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, prev, false, err
	}
	defer resp.Body.Close()
	v := Validators{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	switch resp.StatusCode {
	case http.StatusNotModified:
		// A 304 may omit the validators; the old ones still describe our copy.
		if v.ETag == "" {
			v.ETag = prev.ETag
		}
		if v.LastModified == "" {
			v.LastModified = prev.LastModified
		}
		return nil, v, true, nil
	case http.StatusOK:
	default:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return nil, prev, false, &StatusError{
			Code:       resp.StatusCode,
			Body:       strings.TrimSpace(string(b)),
			RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), d.now()),
		}
	}
	limit := d.MaxSize
	if limit <= 0 {
		limit = 64 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, prev, false, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, prev, false, ErrTooBig
	}
	return body, v, false, nil
}

func (d *Downloader) retryBase() time.Duration {
	if d.RetryBase > 0 {
		return d.RetryBase
	}
	return 2 * time.Second
}

func (d *Downloader) maxBackoff() time.Duration {
	if d.MaxBackoff > 0 {
		return d.MaxBackoff
	}
	return time.Minute
}

func (d *Downloader) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Downloader) sleep(ctx context.Context, dur time.Duration) error {
	if d.Sleep != nil {
		return d.Sleep(ctx, dur)
	}
	return Sleep(ctx, dur)
}

// Backoff is how long to wait before retry number attempt+1 (attempt
// counts from 0): the server's retryAfter when it sent one, capped at
// MaxRetryAfter, else base doubled per attempt up to max.
func Backoff(attempt int, base, max, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, MaxRetryAfter)
	}
	d := base
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// ParseRetryAfter reads a Retry-After header's delay-seconds or HTTP date;
// 0 when absent, unreadable, not positive or in the past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if s, err := strconv.Atoi(v); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Sleep waits for d or until ctx ends, whichever comes first, and returns
// ctx.Err() in the latter case (also at once when d is not positive).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
