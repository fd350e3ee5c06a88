package sapnotes

import (
	"bufio"
	"context"
	"io"
	"strings"

	"github.com/vigil-project/vigil/internal/vuln/feedhttp"
)

// Validators identify the copy we have, for a conditional GET.
type Validators = feedhttp.Validators

// Client fetches a catalogue from URL. SAP publishes no machine-readable
// feed of its own, so there is no default: the URL is whatever mirror or
// internal service the operator configures (serving the JSON catalogue
// format, or CSV when the URL path ends in .csv or .csv.gz). Its fields
// are those of feedhttp.Downloader, with the same defaults.
type Client feedhttp.Downloader

// FetchResult is the outcome of Fetch.
type FetchResult struct {
	NotModified bool
	Validators  Validators
	Result      Result
}

// Fetch downloads the catalogue unless it is unchanged since prev, then
// decodes it into fn. The body is downloaded whole first, so a retried
// download never hands fn a note twice.
func (c *Client) Fetch(ctx context.Context, prev Validators, fn func(*Note) error) (FetchResult, error) {
	d := feedhttp.Downloader(*c)
	decode := func(r io.Reader) (Result, error) { return DecodeAny(r, d.URL, fn) }
	res, v, notModified, err := feedhttp.Fetch(ctx, &d, "sap", prev, decode)
	return FetchResult{NotModified: notModified, Validators: v, Result: res}, err
}

// DecodeAny decodes a JSON or CSV catalogue: CSV when name ends in .csv or
// .csv.gz, or when the content does not start with '{'.
func DecodeAny(r io.Reader, name string, fn func(*Note) error) (Result, error) {
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".csv.gz") {
		return DecodeCSV(r, fn)
	}
	in, err := maybeGunzip(r)
	if err != nil {
		return Result{}, err
	}
	br := bufio.NewReaderSize(in, 64<<10)
	if firstNonSpace(br) == '{' {
		return Decode(br, fn)
	}
	return DecodeCSV(br, fn)
}

// firstNonSpace peeks past blanks and a byte-order mark, without
// consuming anything, and returns the first other byte (0 at the end).
func firstNonSpace(br *bufio.Reader) byte {
	for i := 1; ; i++ {
		b, err := br.Peek(i)
		if len(b) < i {
			_ = err
			return 0
		}
		switch c := b[i-1]; c {
		case ' ', '\t', '\r', '\n', 0xEF, 0xBB, 0xBF:
		default:
			return c
		}
	}
}
