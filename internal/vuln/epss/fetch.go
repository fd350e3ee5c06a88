package epss

import (
	"context"
	"io"

	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/feedhttp"
)

// DefaultURL is the current day's scores, gzipped.
const DefaultURL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"

// Validators are what the server said identifies the copy we have; sent
// back as If-None-Match / If-Modified-Since so an unchanged file costs
// a 304 instead of a download.
type Validators = feedhttp.Validators

// StatusError is a non-200, non-304 answer.
type StatusError = feedhttp.StatusError

// Client fetches the scores file. The zero value works. Its fields are
// those of feedhttp.Downloader, with the same defaults (4 retries, backoff
// from 2 s up to 1 min, a 64 MiB cap: the gzipped file of ~300,000 rows is
// a few MB); URL is DefaultURL when empty.
type Client feedhttp.Downloader

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
	d := feedhttp.Downloader(*c)
	if d.URL == "" {
		d.URL = DefaultURL
	}
	res, v, notModified, err := feedhttp.Fetch(ctx, &d, "epss", prev, func(r io.Reader) (Result, error) { return Decode(r, fn) })
	return FetchResult{NotModified: notModified, Validators: v, Result: res}, err
}
