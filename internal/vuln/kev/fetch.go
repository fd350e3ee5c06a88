package kev

import (
	"context"
	"io"

	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/feedhttp"
)

// DefaultURL is CISA's JSON feed of the catalogue.
const DefaultURL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"

// Validators are what the server said identifies the copy we have; sent
// back as If-None-Match / If-Modified-Since so an unchanged catalogue costs
// a 304 instead of a download.
type Validators = feedhttp.Validators

// StatusError is a non-200, non-304 answer.
type StatusError = feedhttp.StatusError

// Client fetches the catalogue. The zero value works. Its fields are those
// of feedhttp.Downloader, with the same defaults (4 retries, backoff from
// 2 s up to 1 min, a 64 MiB cap: the catalogue is ~1.3 MB); URL is
// DefaultURL when empty.
type Client feedhttp.Downloader

// FetchResult is the outcome of Fetch.
type FetchResult struct {
	NotModified bool       // the server has nothing newer than prev: fn was not called
	Validators  Validators // keep these for the next Fetch
	Catalog     Catalog
}

// Fetch downloads the catalogue unless it is unchanged since prev, then
// decodes it into fn. The body is downloaded whole before decoding, so a
// retried download never hands fn an entry twice.
func (c *Client) Fetch(ctx context.Context, prev Validators, fn func(*vuln.KEV) error) (FetchResult, error) {
	d := feedhttp.Downloader(*c)
	if d.URL == "" {
		d.URL = DefaultURL
	}
	cat, v, notModified, err := feedhttp.Fetch(ctx, &d, "kev", prev, func(r io.Reader) (Catalog, error) { return Decode(r, fn) })
	return FetchResult{NotModified: notModified, Validators: v, Catalog: cat}, err
}
