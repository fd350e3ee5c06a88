package nvd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/feedhttp"
)

// StatusError is a non-200 answer from NVD.
type StatusError struct {
	Code int
	// Message is NVD's explanation, which it sends in a "message" header
	// (the body of an error answer is usually empty), else the body's start.
	Message    string
	RetryAfter time.Duration // from the Retry-After header; 0 when absent
}

func (e *StatusError) Error() string {
	return (&feedhttp.StatusError{Code: e.Code, Body: e.Message}).Error()
}

// retryable reports whether the status may pass on a retry: NVD answers
// 403 when it throttles a client, 429 is the standard for the same, and
// 5xx are its frequent transient failures. Other 4xx (a bad parameter, a
// wrong key) will fail again.
func (e *StatusError) retryable() bool {
	return e.Code == http.StatusForbidden || e.Code == http.StatusTooManyRequests || e.Code >= 500
}

// get sends one request and streams the answer through DecodeStream.
func (c *Client) get(ctx context.Context, u string, fn func(*vuln.CVE) error) (Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Page{}, fmt.Errorf("request: %w", err)
	}
	if c.APIKey != "" {
		req.Header.Set("apiKey", c.APIKey)
	}
	ua := c.UserAgent
	if ua == "" {
		ua = "vigil"
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		// A full page is tens of MB and NVD can be slow, but a stalled
		// connection must not hang a sync forever.
		hc = &http.Client{Timeout: 5 * time.Minute}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Page{}, &netError{err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		msg := resp.Header.Get("message")
		if msg == "" {
			msg = strings.TrimSpace(string(body))
		}
		return Page{}, &StatusError{
			Code:       resp.StatusCode,
			Message:    msg,
			RetryAfter: feedhttp.ParseRetryAfter(resp.Header.Get("Retry-After"), c.now()),
		}
	}
	p, err := DecodeStream(resp.Body, fn)
	if err != nil {
		var cb *callbackError
		if errors.As(err, &cb) {
			return p, err
		}
		// The body broke off or came garbled: worth another download.
		return p, &netError{err}
	}
	return p, nil
}

// netError is a failure to get a whole answer: always worth a retry.
type netError struct{ err error }

func (e *netError) Error() string { return e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

// retryDelay says how long to wait before retrying err, and whether to.
// The backoff doubles per attempt from base up to max; a Retry-After from
// the server wins, capped at feedhttp.MaxRetryAfter (10 minutes) so a bogus
// header cannot stall a sync for hours.
func retryDelay(err error, attempt int, base, max time.Duration) (time.Duration, bool) {
	var se *StatusError
	var ne *netError
	switch {
	case errors.As(err, &se):
		if !se.retryable() {
			return 0, false
		}
		return feedhttp.Backoff(attempt, base, max, se.RetryAfter), true
	case errors.As(err, &ne):
		return feedhttp.Backoff(attempt, base, max, 0), true
	default:
		return 0, false
	}
}
