package nvd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/jsontok"
)

// Page is the header of an API response page or a 2.0 feed file, and what
// decoding it delivered.
type Page struct {
	ResultsPerPage int
	StartIndex     int
	TotalResults   int
	Format         string // "NVD_CVE"
	Version        string // "2.0"
	Timestamp      time.Time

	Records int           // records handed to the callback
	Skipped int           // malformed records skipped
	Errors  []RecordError // the first MaxRecordErrors of the skipped records
}

// MaxRecordErrors bounds the per-record errors kept, so a feed that is
// wrong throughout cannot grow memory without limit; Skipped still counts
// them all.
const MaxRecordErrors = 100

// RecordError is one malformed record that was skipped.
type RecordError struct {
	File  string // set by ImportFile
	Index int    // position in the vulnerabilities array (0 for a record file)
	ID    string // the CVE ID when the record had a readable one
	Err   error
}

func (e *RecordError) Error() string {
	where := fmt.Sprintf("record %d", e.Index)
	if e.ID != "" {
		where += " (" + e.ID + ")"
	}
	if e.File != "" {
		where = e.File + ": " + where
	}
	return where + ": " + e.Err.Error()
}

func (e *RecordError) Unwrap() error { return e.Err }

// callbackError marks an error returned by the caller's callback, so that
// Sync does not retry it as if the download had failed. It unwraps to the
// caller's error.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }
func (e *callbackError) Unwrap() error { return e.err }

func (p *Page) skip(e RecordError) {
	p.Skipped++
	if len(p.Errors) < MaxRecordErrors {
		p.Errors = append(p.Errors, e)
	}
}

// DecodeStream reads one JSON document — an API response page, a 2.0 feed
// file (both have "vulnerabilities"), or a single cve object (the records/
// layout, also accepted wrapped as {"cve": {...}}) — and calls fn for each
// record as soon as it is decoded, so only one record is in memory at a
// time however big the feed.
//
// A record that is valid JSON but not a usable CVE (wrong types, no ID,
// unparseable dates) is skipped and listed in Page.Errors. Broken JSON, a
// read error or trailing garbage fails the whole call; records before the
// fault have already been delivered. An error from fn stops decoding and is
// returned wrapped (errors.Is/As still see it).
func DecodeStream(r io.Reader, fn func(*vuln.CVE) error) (Page, error) {
	var p Page
	dec := json.NewDecoder(r)
	if err := jsontok.ExpectDelim(dec, '{'); err != nil {
		return p, fmt.Errorf("nvd: decode: %w", err)
	}
	var (
		rec       CVE   // the record, when the document is a cve object
		recFields int   // how many cve-object keys were seen at top level
		recErr    error // first type error in those keys
		sawVulns  bool
	)
	for dec.More() {
		key, err := jsontok.ReadKey(dec)
		if err != nil {
			return p, fmt.Errorf("nvd: decode: %w", err)
		}
		switch key {
		case "resultsPerPage":
			err = dec.Decode(&p.ResultsPerPage)
		case "startIndex":
			err = dec.Decode(&p.StartIndex)
		case "totalResults":
			err = dec.Decode(&p.TotalResults)
		case "format":
			err = dec.Decode(&p.Format)
		case "version":
			err = dec.Decode(&p.Version)
		case "timestamp":
			var s string
			if err = dec.Decode(&s); err == nil {
				// A bad header timestamp loses nothing a caller relies on:
				// keep the zero time rather than reject the page.
				p.Timestamp, _ = ParseTime(s)
			}
		case "vulnerabilities":
			sawVulns = true
			err = decodeArray(dec, &p, fn)
			if errors.As(err, new(*callbackError)) {
				return p, err
			}
		case "CVE_Items":
			return p, errors.New("nvd: decode: this is an NVD 1.1 feed (CVE_Items); only the 2.0 format is read")
		default:
			ptr := rec.field(key)
			if key == "cve" {
				ptr = &rec
			}
			if ptr == nil {
				err = jsontok.SkipValue(dec)
				break
			}
			recFields++
			if err = dec.Decode(ptr); isTypeError(err) {
				if recErr == nil {
					recErr = err
				}
				err = nil
			}
		}
		if err != nil {
			return p, fmt.Errorf("nvd: decode %q: %w", key, err)
		}
	}
	if err := jsontok.ExpectDelim(dec, '}'); err != nil {
		return p, fmt.Errorf("nvd: decode: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return p, fmt.Errorf("nvd: decode: unexpected data after the JSON object (%v)", err)
	}
	if !sawVulns && recFields > 0 {
		if err := deliver(&p, 0, &rec, recErr, fn); err != nil {
			return p, err
		}
	}
	return p, nil
}

// decodeArray walks "vulnerabilities": [{"cve": {...}}, ...] one element
// at a time.
func decodeArray(dec *json.Decoder, p *Page, fn func(*vuln.CVE) error) error {
	if err := jsontok.ExpectDelim(dec, '['); err != nil {
		return err
	}
	for i := 0; dec.More(); i++ {
		// A fresh value per element: decoding into a reused struct would
		// leave fields of the previous record where this one has none.
		var item struct {
			CVE CVE `json:"cve"`
		}
		err := dec.Decode(&item)
		if err != nil && !isTypeError(err) {
			return fmt.Errorf("element %d: %w", i, err)
		}
		if err := deliver(p, i, &item.CVE, err, fn); err != nil {
			return err
		}
	}
	return jsontok.ExpectDelim(dec, ']')
}

// deliver converts one decoded record and hands it to fn, or records why it
// was skipped.
func deliver(p *Page, i int, c *CVE, decodeErr error, fn func(*vuln.CVE) error) error {
	if decodeErr != nil {
		p.skip(RecordError{Index: i, ID: c.ID, Err: decodeErr})
		return nil
	}
	v, err := c.ToVuln()
	if err != nil {
		p.skip(RecordError{Index: i, ID: c.ID, Err: err})
		return nil
	}
	if err := fn(v); err != nil {
		return &callbackError{fmt.Errorf("nvd: callback for %s: %w", v.ID, err)}
	}
	p.Records++
	return nil
}

// DecodeRecord reads a single cve object (one file of the records/ layout,
// or {"cve": {...}}).
func DecodeRecord(r io.Reader) (*vuln.CVE, error) {
	var got *vuln.CVE
	p, err := DecodeStream(r, func(c *vuln.CVE) error { got = c; return nil })
	switch {
	case err != nil:
		return nil, err
	case len(p.Errors) > 0:
		return nil, fmt.Errorf("nvd: decode record: %w", &p.Errors[0])
	case p.Records > 1 || p.Format != "" || p.TotalResults > 0:
		return nil, errors.New("nvd: decode record: this is a page or feed, not a single cve object")
	case got == nil:
		return nil, errors.New("nvd: decode record: no cve object found")
	}
	return got, nil
}

// field returns where the value of a top-level key of a cve object goes,
// or nil for keys Vigil does not read.
func (c *CVE) field(key string) any {
	switch key {
	case "id":
		return &c.ID
	case "sourceIdentifier":
		return &c.SourceIdentifier
	case "published":
		return &c.Published
	case "lastModified":
		return &c.LastModified
	case "vulnStatus":
		return &c.VulnStatus
	case "descriptions":
		return &c.Descriptions
	case "metrics":
		return &c.Metrics
	case "weaknesses":
		return &c.Weaknesses
	case "configurations":
		return &c.Configurations
	case "references":
		return &c.References
	}
	return nil
}

// isTypeError tells a value of the wrong type — the decoder has consumed
// it whole and is still in step, so only that record is lost — from
// syntax and read errors, after which the stream cannot be trusted.
func isTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return err != nil && errors.As(err, &te)
}
