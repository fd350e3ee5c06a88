package httpx

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
)

// Limits bounds a request body: Raw on the wire, Decoded after gzip.
type Limits struct {
	Raw     int64
	Decoded int64
}

// errDecodedTooLarge marks a gzip body that inflates past the limit.
var errDecodedTooLarge = errors.New("decompressed body too large")

// capReader fails once more than n bytes have been read, instead of
// silently truncating like io.LimitReader: a truncated report must not
// look like a complete one.
type capReader struct {
	r io.Reader
	n int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		// Probe for one more byte: exactly n bytes is fine.
		var one [1]byte
		if k, _ := c.r.Read(one[:]); k > 0 {
			return 0, errDecodedTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	k, err := c.r.Read(p)
	c.n -= int64(k)
	return k, err
}

// DecodeJSON reads a JSON body into v within the limits. It accepts
// Content-Encoding: gzip. Errors come back as domain errors: EINVALID naming
// the field or offset at fault, ETOOLARGE for bodies over a limit (gzip bombs
// are stopped after Decoded bytes, so they cannot exhaust memory).
func DecodeJSON(w http.ResponseWriter, r *http.Request, lim Limits, strict bool, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return domain.Errorf(domain.EINVALID, "content type must be application/json, got %q", ct)
	}
	if r.ContentLength > lim.Raw {
		// Refuse before reading: the client said how much it will send.
		return domain.Errorf(domain.ETOOLARGE, "body of %d bytes is larger than the limit of %d", r.ContentLength, lim.Raw)
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, lim.Raw)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return tooLargeOr(err, domain.Errorf(domain.EINVALID, "body: not valid gzip: %v", err))
		}
		defer zr.Close()
		body = &capReader{r: zr, n: lim.Decoded}
	default:
		return domain.Errorf(domain.EINVALID, "content encoding %q not supported (use gzip)", enc)
	}
	dec := json.NewDecoder(body)
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return domain.Errorf(domain.EINVALID, "body: unexpected data after the JSON value")
	}
	return nil
}

func tooLargeOr(err error, other error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return domain.Errorf(domain.ETOOLARGE, "body larger than %d bytes", mbe.Limit)
	}
	if errors.Is(err, errDecodedTooLarge) {
		return domain.Errorf(domain.ETOOLARGE, "body: decompressed size over the limit")
	}
	return other
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return domain.Errorf(domain.EINVALID, "body: malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return domain.Errorf(domain.EINVALID, "%s: expected %s, got JSON %s", field, typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return domain.Errorf(domain.EINVALID, "body: empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return domain.Errorf(domain.EINVALID, "body: JSON ends early")
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return domain.Errorf(domain.EINVALID, "%s: unknown field", strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`))
	}
	return tooLargeOr(err, domain.Errorf(domain.EINVALID, "body: %v", fmt.Sprint(err)))
}
