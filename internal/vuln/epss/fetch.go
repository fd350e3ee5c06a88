package epss

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

	"github.com/vigil-project/vigil/internal/vuln"
)

// DefaultURL is the current day's scores, gzipped.
const DefaultURL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"

// Validators are what the server said identifies the copy we have; sent
// back as If-None-Match / If-Modified-Since so an unchanged file costs
// a 304 instead of a download. (This mirrors internal/vuln/kev's fetcher;
// a shared feed-download package would remove the copy.)
type Validators struct {
	ETag         string
	LastModified string
}

// Client fetches the scores file. The zero value works.
type Client struct {
	URL  string // DefaultURL when empty
	HTTP *http.Client

	// MaxRetries is how often a download is retried after a network
	// error, a cut-off body, 408, 429 or 5xx: 0 means 4, negative never.
	MaxRetries int
	// RetryBase doubles per retry up to MaxBackoff (defaults 2 s, 1 min);
	// a Retry-After header wins, capped at 10 minutes.
	RetryBase  time.Duration
	MaxBackoff time.Duration
	// MaxSize caps the download (default 64 MiB; the gzipped file of
	// ~300,000 rows is a few MB).
	MaxSize   int64
	UserAgent string // "vigil" when empty

	// Now and Sleep replace the clock in tests.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// FetchResult is the outcome of Fetch.
type FetchResult struct {
	NotModified bool       // the server has nothing newer than prev: fn was not called
	Validators  Validators // keep these for the next Fetch
	Result      Result
}

// Fetch downloads the scores unless they are unchanged since prev, then
// decodes them into fn. The (compressed) body is downloaded whole before
// decoding, so a retried download never hands fn a row twice.
func (c *Client) Fetch(ctx context.Context, prev Validators, fn func(*vuln.EPSS) error) (FetchResult, error) {
	url := c.URL
	if url == "" {
		url = DefaultURL
	}
	body, v, notModified, err := c.download(ctx, url, prev)
	if err != nil {
		return FetchResult{}, fmt.Errorf("epss: fetch %s: %w", url, err)
	}
	if notModified {
		return FetchResult{NotModified: true, Validators: v}, nil
	}
	res, err := Decode(bytes.NewReader(body), fn)
	if err != nil {
		// No validators: a caller storing them would never fetch the
		// file it failed to read again.
		return FetchResult{Result: res}, err
	}
	return FetchResult{Validators: v, Result: res}, nil
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

// errTooBig is not retried: the next download would be as big.
var errTooBig = errors.New("response larger than MaxSize")

func (c *Client) download(ctx context.Context, url string, prev Validators) ([]byte, Validators, bool, error) {
	retries := c.MaxRetries
	if retries == 0 {
		retries = 4
	}
	for attempt := 0; ; attempt++ {
		body, v, notModified, err := c.try(ctx, url, prev)
		if err == nil {
			return body, v, notModified, nil
		}
		var se *StatusError
		retry := !errors.Is(err, errTooBig) && (!errors.As(err, &se) || se.retryable())
		if !retry || ctx.Err() != nil || attempt >= retries {
			return nil, v, false, err
		}
		d := c.base()
		for i := 0; i < attempt && d < c.maxBackoff(); i++ {
			d *= 2
		}
		d = min(d, c.maxBackoff())
		if se != nil && se.RetryAfter > 0 {
			d = min(se.RetryAfter, 10*time.Minute)
		}
		if err := c.sleep(ctx, d); err != nil {
			return nil, v, false, err
		}
	}
}

func (c *Client) try(ctx context.Context, url string, prev Validators) ([]byte, Validators, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, prev, false, err
	}
	if prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		req.Header.Set("If-Modified-Since", prev.LastModified)
	}
	ua := c.UserAgent
	if ua == "" {
		ua = "vigil"
	}
	req.Header.Set("User-Agent", ua)
	hc := c.HTTP
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
			RetryAfter: retryAfter(resp.Header.Get("Retry-After"), c.now()),
		}
	}
	limit := c.MaxSize
	if limit <= 0 {
		limit = 64 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, prev, false, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, prev, false, errTooBig
	}
	return body, v, false, nil
}

func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if s, err := strconv.Atoi(h); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func (c *Client) base() time.Duration {
	if c.RetryBase > 0 {
		return c.RetryBase
	}
	return 2 * time.Second
}

func (c *Client) maxBackoff() time.Duration {
	if c.MaxBackoff > 0 {
		return c.MaxBackoff
	}
	return time.Minute
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
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
