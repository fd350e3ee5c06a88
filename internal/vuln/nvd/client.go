package nvd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/feedhttp"
)

const (
	// DefaultBaseURL is the NVD CVE API 2.0 endpoint.
	DefaultBaseURL = "https://services.nvd.nist.gov/rest/json/cves/2.0"
	// MaxPageSize is the largest resultsPerPage NVD accepts for CVEs.
	MaxPageSize = 2000
	// MaxWindow is the longest lastModStartDate..lastModEndDate range NVD
	// accepts (120 consecutive days); longer syncs are split into windows.
	MaxWindow = 120 * 24 * time.Hour
	// TimeFormat is how dates are sent to NVD: ISO-8601 with milliseconds
	// and an offset ("Z" for UTC), e.g. 2024-01-01T00:00:00.000Z.
	TimeFormat = "2006-01-02T15:04:05.000Z07:00"
)

// Client fetches CVEs from the NVD API. The zero value works (public rate
// limit, no key); set fields before the first call and do not copy a
// Client after use: it keeps the rate limiter's state.
type Client struct {
	BaseURL string // DefaultBaseURL when empty
	APIKey  string // sent as the "apiKey" header; raises the rate limit
	HTTP    *http.Client

	// RequestsPerWindow requests at most per Window, over a sliding window:
	// NVD allows 5 per 30 s without a key and 50 per 30 s with one, which
	// are the defaults. Retries count against the limit too.
	RequestsPerWindow int
	Window            time.Duration

	// MaxRetries is how often one page is retried after 403 (NVD's answer
	// when it throttles), 429, 5xx, a network error or a body cut short:
	// 0 means 5, a negative value means never.
	MaxRetries int
	// RetryBase is the first backoff, doubled per retry up to MaxBackoff
	// (defaults 6 s — NVD's advice for pausing between requests — and
	// 2 min). A Retry-After header overrides the computed backoff.
	RetryBase  time.Duration
	MaxBackoff time.Duration

	PageSize  int    // resultsPerPage: 2000 (the maximum) when 0 or above
	UserAgent string // "vigil" when empty

	// Now and Sleep replace the clock, so tests can check rate limiting
	// and backoff without waiting; Sleep must return ctx.Err() when ctx
	// ends first.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex
	sent []time.Time // start times of the requests in the current window
}

// SyncStats sums up a Sync.
type SyncStats struct {
	Until    time.Time // the end of the synced range: pass it as the next since
	Windows  int       // lastModified windows fetched (0 for a full fetch)
	Pages    int
	Requests int // HTTP requests sent, retries included
	Retries  int
	Records  int           // records handed to the callback
	Skipped  int           // malformed records skipped
	Errors   []RecordError // the first MaxRecordErrors skipped records
}

// Sync fetches CVEs and streams each one to fn as its page is decoded.
//
// With a zero since it fetches everything (until is then ignored), paging
// startIndex by resultsPerPage until totalResults. Otherwise it fetches the
// CVEs last modified between since and until (until zero means now), in
// windows of at most MaxWindow, each paged the same way. Window bounds are
// inclusive, so a record modified exactly on a boundary may arrive twice,
// and a page retried after a broken download re-delivers the records it had
// already delivered: fn must be idempotent (an upsert by ID).
//
// An error from fn stops the sync and is returned wrapped. On success
// SyncStats.Until is the value to pass as since next time.
func (c *Client) Sync(ctx context.Context, since, until time.Time, fn func(*vuln.CVE) error) (SyncStats, error) {
	var st SyncStats
	count := func(v *vuln.CVE) error {
		if err := fn(v); err != nil {
			return err
		}
		st.Records++
		return nil
	}
	if until.IsZero() {
		until = c.now()
	}
	// NVD takes milliseconds: truncate once so windows stay within limits
	// after formatting.
	since, until = since.Truncate(time.Millisecond), until.Truncate(time.Millisecond)
	st.Until = until
	if since.IsZero() {
		if err := c.fetchAll(ctx, nil, count, &st); err != nil {
			return st, fmt.Errorf("nvd: full sync: %w", err)
		}
		return st, nil
	}
	if !since.Before(until) {
		return st, fmt.Errorf("nvd: sync: since %s is not before until %s", since.Format(TimeFormat), until.Format(TimeFormat))
	}
	for start := since; start.Before(until); {
		end := start.Add(MaxWindow)
		if end.After(until) {
			end = until
		}
		q := url.Values{
			"lastModStartDate": {start.UTC().Format(TimeFormat)},
			"lastModEndDate":   {end.UTC().Format(TimeFormat)},
		}
		st.Windows++
		if err := c.fetchAll(ctx, q, count, &st); err != nil {
			return st, fmt.Errorf("nvd: sync %s..%s: %w", q.Get("lastModStartDate"), q.Get("lastModEndDate"), err)
		}
		start = end
	}
	return st, nil
}

// fetchAll pages through one query.
func (c *Client) fetchAll(ctx context.Context, q url.Values, fn func(*vuln.CVE) error, st *SyncStats) error {
	size := c.PageSize
	if size <= 0 || size > MaxPageSize {
		size = MaxPageSize
	}
	for start := 0; ; {
		p, err := c.page(ctx, q, start, size, fn, st)
		if err != nil {
			return err
		}
		st.Pages++
		st.Skipped += p.Skipped
		for _, e := range p.Errors {
			if len(st.Errors) < MaxRecordErrors {
				st.Errors = append(st.Errors, e)
			}
		}
		next := start + p.ResultsPerPage
		if next >= p.TotalResults {
			return nil
		}
		if p.ResultsPerPage <= 0 {
			// Going on would ask for the same page forever.
			return fmt.Errorf("empty page at startIndex %d of totalResults %d", start, p.TotalResults)
		}
		start = next
	}
}

// page fetches and decodes one page, retrying what may pass on a retry.
func (c *Client) page(ctx context.Context, q url.Values, start, size int, fn func(*vuln.CVE) error, st *SyncStats) (Page, error) {
	params := url.Values{}
	for k, v := range q {
		params[k] = v
	}
	params.Set("startIndex", strconv.Itoa(start))
	params.Set("resultsPerPage", strconv.Itoa(size))
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u := base + "?" + params.Encode()

	retries := c.MaxRetries
	if retries == 0 {
		retries = 5
	}
	for attempt := 0; ; attempt++ {
		if err := c.wait(ctx); err != nil {
			return Page{}, err
		}
		st.Requests++
		p, err := c.get(ctx, u, fn)
		if err == nil {
			return p, nil
		}
		if ctx.Err() != nil {
			// The reply may have raced the cancellation; say it was cancelled.
			return p, fmt.Errorf("startIndex %d: %w (%v)", start, ctx.Err(), err)
		}
		var cb *callbackError
		if errors.As(err, &cb) || attempt >= retries {
			return p, fmt.Errorf("startIndex %d: %w", start, err)
		}
		delay, ok := retryDelay(err, attempt, c.retryBase(), c.maxBackoff())
		if !ok {
			return p, fmt.Errorf("startIndex %d: %w", start, err)
		}
		st.Retries++
		if err := c.sleep(ctx, delay); err != nil {
			return p, err
		}
	}
}

// wait blocks until one more request fits in the sliding window.
func (c *Client) wait(ctx context.Context) error {
	limit, window := c.RequestsPerWindow, c.Window
	if limit <= 0 {
		limit = 5
		if c.APIKey != "" {
			limit = 50
		}
	}
	if window <= 0 {
		window = 30 * time.Second
	}
	for {
		c.mu.Lock()
		now := c.now()
		drop := 0
		for drop < len(c.sent) && now.Sub(c.sent[drop]) >= window {
			drop++
		}
		c.sent = c.sent[drop:]
		if len(c.sent) < limit {
			c.sent = append(c.sent, now)
			c.mu.Unlock()
			return nil
		}
		d := c.sent[0].Add(window).Sub(now)
		c.mu.Unlock()
		if err := c.sleep(ctx, d); err != nil {
			return err
		}
	}
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
	return feedhttp.Sleep(ctx, d)
}

func (c *Client) retryBase() time.Duration {
	if c.RetryBase > 0 {
		return c.RetryBase
	}
	return 6 * time.Second
}

func (c *Client) maxBackoff() time.Duration {
	if c.MaxBackoff > 0 {
		return c.MaxBackoff
	}
	return 2 * time.Minute
}
