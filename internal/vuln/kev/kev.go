// Package kev reads CISA's Known Exploited Vulnerabilities catalogue (its
// JSON feed) into vuln.KEV, one entry at a time, and fetches it with
// conditional requests.
package kev

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/gz"
	"github.com/vigil-project/vigil/internal/vuln/jsontok"
)

// Catalog is the catalogue's header and what decoding it found.
type Catalog struct {
	Title    string
	Version  string    // catalogVersion, e.g. "2025.08.25"
	Released time.Time // dateReleased
	Count    int       // the catalogue's own count field

	Seen      int          // entries in the vulnerabilities array
	Delivered int          // entries handed to the callback
	Skipped   int          // malformed entries skipped
	Errors    []EntryError // the first MaxEntryErrors of them
	// Warning is set when Count disagrees with Seen: worth logging, not
	// worth refusing a catalogue CISA published.
	Warning string
}

// MaxEntryErrors bounds the entry errors kept.
const MaxEntryErrors = 100

// EntryError is one malformed entry that was skipped.
type EntryError struct {
	Index int
	CVE   string
	Err   error
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("entry %d (%s): %v", e.Index, e.CVE, e.Err)
}

func (e *EntryError) Unwrap() error { return e.Err }

// entry is one element of "vulnerabilities" as CISA writes it.
type entry struct {
	CVEID             string   `json:"cveID"`
	VendorProject     string   `json:"vendorProject"`
	Product           string   `json:"product"`
	VulnerabilityName string   `json:"vulnerabilityName"`
	DateAdded         string   `json:"dateAdded"`
	ShortDescription  string   `json:"shortDescription"` // not kept: vuln.KEV has no field for it
	RequiredAction    string   `json:"requiredAction"`
	DueDate           string   `json:"dueDate"`
	Ransomware        string   `json:"knownRansomwareCampaignUse"`
	Notes             string   `json:"notes"`
	CWEs              []string `json:"cwes"`
}

var cveRE = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

func (e *entry) toVuln() (*vuln.KEV, error) {
	id := strings.TrimSpace(e.CVEID)
	if !cveRE.MatchString(id) {
		return nil, fmt.Errorf("cveID %q is not a CVE ID", e.CVEID)
	}
	added, err := time.Parse(time.DateOnly, e.DateAdded)
	if err != nil {
		return nil, fmt.Errorf("dateAdded: %w", err)
	}
	var due time.Time
	if e.DueDate != "" {
		if due, err = time.Parse(time.DateOnly, e.DueDate); err != nil {
			return nil, fmt.Errorf("dueDate: %w", err)
		}
	}
	return &vuln.KEV{
		CVE:            id,
		VendorProject:  e.VendorProject,
		Product:        e.Product,
		Name:           e.VulnerabilityName,
		DateAdded:      added,
		DueDate:        due,
		RequiredAction: e.RequiredAction,
		Ransomware:     e.Ransomware,
		Notes:          e.Notes,
		CWEs:           e.CWEs,
	}, nil
}

// Decode reads the catalogue (gzipped or not, told by its magic bytes) and
// calls fn per entry as it is decoded. Entries that are valid JSON but
// unusable (no CVE ID, a date that does not parse, wrong types) are
// skipped and listed in Catalog.Errors; broken JSON fails the call with the
// entries before it delivered. An error from fn stops decoding and is
// returned wrapped.
func Decode(r io.Reader, fn func(*vuln.KEV) error) (Catalog, error) {
	var cat Catalog
	in, err := gz.Reader(r)
	if err != nil {
		return cat, fmt.Errorf("kev: decode: %w", err)
	}
	dec := json.NewDecoder(in)
	if err := jsontok.ExpectDelim(dec, '{'); err != nil {
		return cat, fmt.Errorf("kev: decode: %w", err)
	}
	sawList := false
	for dec.More() {
		key, err := jsontok.ReadKey(dec)
		if err != nil {
			return cat, fmt.Errorf("kev: decode: %w", err)
		}
		switch key {
		case "title":
			err = dec.Decode(&cat.Title)
		case "catalogVersion":
			err = dec.Decode(&cat.Version)
		case "dateReleased":
			var s string
			if err = dec.Decode(&s); err == nil {
				if cat.Released, err = time.Parse(time.RFC3339Nano, s); err != nil {
					err = fmt.Errorf("dateReleased: %w", err)
				}
			}
		case "count":
			err = dec.Decode(&cat.Count)
		case "vulnerabilities":
			sawList = true
			err = decodeList(dec, &cat, fn)
		default:
			err = jsontok.SkipValue(dec)
		}
		if err != nil {
			return cat, fmt.Errorf("kev: decode %q: %w", key, err)
		}
	}
	if err := jsontok.ExpectDelim(dec, '}'); err != nil {
		return cat, fmt.Errorf("kev: decode: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return cat, fmt.Errorf("kev: decode: unexpected data after the catalogue (%v)", err)
	}
	if !sawList {
		return cat, errors.New("kev: decode: no vulnerabilities list: not a KEV catalogue")
	}
	if cat.Count != cat.Seen {
		cat.Warning = fmt.Sprintf("catalogue %s says count %d but lists %d entries", cat.Version, cat.Count, cat.Seen)
	}
	return cat, nil
}

func decodeList(dec *json.Decoder, cat *Catalog, fn func(*vuln.KEV) error) error {
	if err := jsontok.ExpectDelim(dec, '['); err != nil {
		return err
	}
	for i := 0; dec.More(); i++ {
		var e entry
		err := dec.Decode(&e)
		var te *json.UnmarshalTypeError
		if err != nil && !errors.As(err, &te) {
			// Syntax or read error: the stream cannot be trusted further.
			return fmt.Errorf("entry %d: %w", i, err)
		}
		cat.Seen++
		var k *vuln.KEV
		if err == nil {
			k, err = e.toVuln()
		}
		if err != nil {
			cat.Skipped++
			if len(cat.Errors) < MaxEntryErrors {
				cat.Errors = append(cat.Errors, EntryError{Index: i, CVE: e.CVEID, Err: err})
			}
			continue
		}
		if err := fn(k); err != nil {
			return fmt.Errorf("callback for %s: %w", k.CVE, err)
		}
		cat.Delivered++
	}
	return jsontok.ExpectDelim(dec, ']')
}
