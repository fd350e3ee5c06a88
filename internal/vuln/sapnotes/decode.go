package sapnotes

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/vuln/gz"
	"github.com/vigil-project/vigil/internal/vuln/jsontok"
)

// record is one element of "notes" as the catalogue writes it. Unknown
// fields are ignored, so a newer catalogue still imports.
type record struct {
	NoteNumber       json.RawMessage `json:"note_number"` // a string; some exports write a number
	Title            string          `json:"title"`
	CVEIDs           []string        `json:"cve_ids"`
	CVSSScore        *float64        `json:"cvss_score"`
	CVSSVector       *string         `json:"cvss_vector"`
	Priority         string          `json:"priority"`
	PriorityRaw      string          `json:"priority_raw"`
	Category         *string         `json:"category"`
	Component        *string         `json:"component"`
	ReleaseMonth     string          `json:"release_month"`
	ReleasedOn       *string         `json:"released_on"`
	IsUpdate         bool            `json:"is_update"`
	KEVListed        bool            `json:"kev_listed"`
	NoteURL          string          `json:"note_url"`
	ProductNames     []string        `json:"product_names"`
	Affected         []Affected      `json:"affected"`
	VersionsUnparsed *string         `json:"versions_unparsed"`
}

func (r *record) number() string {
	s := strings.TrimSpace(string(r.NoteNumber))
	if u, err := unquote(s); err == nil {
		return u
	}
	return s
}

func unquote(s string) (string, error) {
	var out string
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}

func (r *record) toNote() (*Note, error) {
	n := &Note{
		Number:    r.number(),
		Title:     r.Title,
		CVEs:      r.CVEIDs,
		Priority:  r.Priority,
		IsUpdate:  r.IsUpdate,
		KEVListed: r.KEVListed,
		URL:       strings.TrimSpace(r.NoteURL),
		Products:  r.ProductNames,
		Affected:  r.Affected,
	}
	if n.Priority == "" {
		n.Priority = r.PriorityRaw
	}
	if r.CVSSScore != nil {
		n.CVSSScore = *r.CVSSScore
	}
	if r.CVSSVector != nil {
		n.CVSSVector = *r.CVSSVector
	}
	if r.Category != nil {
		n.Category = *r.Category
	}
	if r.Component != nil {
		n.Component = *r.Component
	}
	if r.VersionsUnparsed != nil {
		n.VersionsUnparsed = *r.VersionsUnparsed
	}
	if err := n.Validate(); err != nil {
		return n, err
	}
	switch {
	case r.ReleasedOn != nil && *r.ReleasedOn != "":
		t, err := time.Parse(time.DateOnly, *r.ReleasedOn)
		if err != nil {
			n.Problems = append(n.Problems, fmt.Sprintf("released_on %q ignored: not a date", *r.ReleasedOn))
		}
		n.Released = t
	case r.ReleaseMonth != "":
		// The Patch Day month is all some records have; its first day
		// keeps "days since release" roughly right.
		if t, err := time.Parse("2006-01", r.ReleaseMonth); err == nil {
			n.Released = t
		}
	}
	return n, nil
}

// Decode reads a JSON catalogue (gzipped or not, told by its magic bytes)
// and calls fn per valid note, as each is decoded: the file is never held
// whole in memory. A record that is valid JSON but unusable (no note
// number, no title, an unknown priority, wrong types) is skipped and listed
// in Result.Errors with its index; broken JSON stops decoding with the
// notes before it delivered. An error from fn stops decoding and is
// returned wrapped.
func Decode(r io.Reader, fn func(*Note) error) (Result, error) {
	var res Result
	in, err := maybeGunzip(r)
	if err != nil {
		return res, fmt.Errorf("sapnotes: decode: %w", err)
	}
	dec := json.NewDecoder(in)
	if err := jsontok.ExpectDelim(dec, '{'); err != nil {
		return res, fmt.Errorf("sapnotes: decode: %w", err)
	}
	sawNotes := false
	for dec.More() {
		key, err := jsontok.ReadKey(dec)
		if err != nil {
			return res, fmt.Errorf("sapnotes: decode: %w", err)
		}
		switch key {
		case "catalog_meta":
			var meta struct {
				Version string `json:"catalog_version"`
				Count   int    `json:"note_count"`
			}
			if err = dec.Decode(&meta); err == nil {
				res.Version, res.Count = meta.Version, meta.Count
			} else {
				var te *json.UnmarshalTypeError
				if errors.As(err, &te) {
					res.Warnings = append(res.Warnings, "catalog_meta ignored: "+err.Error())
					err = nil
				}
			}
		case "notes":
			sawNotes = true
			err = decodeNotes(dec, &res, fn)
		default:
			err = jsontok.SkipValue(dec)
		}
		if err != nil {
			return res, fmt.Errorf("sapnotes: decode %q: %w", key, err)
		}
	}
	if err := jsontok.ExpectDelim(dec, '}'); err != nil {
		return res, fmt.Errorf("sapnotes: decode: %w", err)
	}
	if !sawNotes {
		return res, errors.New("sapnotes: decode: no \"notes\" array: not an SAP notes catalogue")
	}
	if res.Count != 0 && res.Count != res.Seen {
		res.Warnings = append(res.Warnings, fmt.Sprintf("catalogue says note_count %d but lists %d records", res.Count, res.Seen))
	}
	return res, nil
}

func decodeNotes(dec *json.Decoder, res *Result, fn func(*Note) error) error {
	if err := jsontok.ExpectDelim(dec, '['); err != nil {
		return err
	}
	for i := 0; dec.More(); i++ {
		var rec record
		err := dec.Decode(&rec)
		var te *json.UnmarshalTypeError
		if err != nil && !errors.As(err, &te) {
			// Syntax or read error: the stream cannot be trusted further.
			return fmt.Errorf("record %d: %w", i, err)
		}
		res.Seen++
		var n *Note
		if err == nil {
			n, err = rec.toNote()
		}
		if err != nil {
			res.skip(i, rec.number(), err)
			continue
		}
		res.warn(n)
		if err := fn(n); err != nil {
			return fmt.Errorf("callback for note %s: %w", n.Number, err)
		}
		res.Delivered++
	}
	return jsontok.ExpectDelim(dec, ']')
}

// maybeGunzip gunzips r when it starts with the gzip magic bytes and drops
// a leading byte-order mark.
func maybeGunzip(r io.Reader) (io.Reader, error) {
	in, err := gz.Reader(r)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(in, 64<<10)
	// Spreadsheet exports start with a byte-order mark.
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	return br, nil
}
