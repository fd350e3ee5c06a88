// Package epss reads the daily EPSS scores file (CSV, usually gzipped)
// into vuln.EPSS, one row at a time, and fetches it with conditional
// requests.
//
// The published format is a comment line, a header, then one row per CVE:
//
//	#model_version:v2025.03.14,score_date:2025-03-14T12:55:00Z
//	cve,epss,percentile
//	CVE-1999-0001,0.01025,0.76633
package epss

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/gz"
)

// Result is what Decode read.
type Result struct {
	Model   string    // model_version from the comment line, e.g. "v2025.03.14"
	Date    time.Time // score_date from the comment line
	Rows    int       // rows handed to the callback
	Skipped int       // malformed rows skipped
	Errors  []LineError
}

// MaxLineErrors bounds the line errors kept; Skipped counts them all.
const MaxLineErrors = 100

// LineError is one malformed row that was skipped.
type LineError struct {
	Line int    // 1-based line number in the (uncompressed) file
	Text string // the line, cut to 80 bytes
	Err  error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("line %d %q: %v", e.Line, e.Text, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// Decode reads an EPSS scores file, gzipped or not (told by its magic
// bytes), and calls fn per row with Model and Date from the comment line.
// A file without the comment line (older files) still decodes, with Model
// and Date empty. Malformed rows are skipped and listed in Result.Errors; a
// missing or unknown header, a read error or a bad gzip stream fails the
// call, with the rows before it delivered. An error from fn stops decoding
// and is returned wrapped.
func Decode(r io.Reader, fn func(*vuln.EPSS) error) (Result, error) {
	var res Result
	in, err := gz.Reader(r)
	if err != nil {
		return res, fmt.Errorf("epss: decode: %w", err)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	next := func() (string, bool) {
		for sc.Scan() {
			line++
			if s := strings.TrimRight(sc.Text(), "\r"); strings.TrimSpace(s) != "" {
				return s, true
			}
		}
		return "", false
	}
	first, ok := next()
	if ok && strings.HasPrefix(first, "#") {
		if res.Model, res.Date, err = ParseComment(first); err != nil {
			return res, fmt.Errorf("epss: decode line %d: %w", line, err)
		}
		first, ok = next()
	}
	if !ok {
		if err := sc.Err(); err != nil {
			return res, fmt.Errorf("epss: decode: %w", err)
		}
		return res, errors.New("epss: decode: no header line")
	}
	if h := strings.ReplaceAll(strings.ToLower(first), " ", ""); h != "cve,epss,percentile" {
		return res, fmt.Errorf("epss: decode line %d: header %q, want cve,epss,percentile", line, first)
	}
	for {
		s, ok := next()
		if !ok {
			break
		}
		cve, score, pct, err := ParseLine(s)
		if err != nil {
			res.Skipped++
			if len(res.Errors) < MaxLineErrors {
				res.Errors = append(res.Errors, LineError{Line: line, Text: cut(s, 80), Err: err})
			}
			continue
		}
		if err := fn(&vuln.EPSS{CVE: cve, Score: score, Percentile: pct, Date: res.Date, Model: res.Model}); err != nil {
			return res, fmt.Errorf("epss: callback for %s: %w", cve, err)
		}
		res.Rows++
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("epss: decode after line %d: %w", line, err)
	}
	return res, nil
}

// ParseComment reads the first line,
// "#model_version:v2025.03.14,score_date:2025-03-14T12:55:00Z". Keys may
// come in any order and unknown keys are ignored; the date may also be
// written with a numeric offset ("+0000", as in 2022-2023 files) or as a
// bare date.
func ParseComment(line string) (model string, date time.Time, err error) {
	body, ok := strings.CutPrefix(strings.TrimSpace(line), "#")
	if !ok {
		return "", time.Time{}, fmt.Errorf("comment %q does not start with #", line)
	}
	for _, kv := range strings.Split(body, ",") {
		k, v, _ := strings.Cut(kv, ":") // the date's own colons stay in v
		switch strings.TrimSpace(k) {
		case "model_version":
			model = strings.TrimSpace(v)
		case "score_date":
			v = strings.TrimSpace(v)
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05-0700", time.DateOnly} {
				if date, err = time.Parse(layout, v); err == nil {
					break
				}
			}
			if err != nil {
				return "", time.Time{}, fmt.Errorf("score_date %q: %w", v, err)
			}
			date = date.UTC()
		}
	}
	if model == "" || date.IsZero() {
		return "", time.Time{}, fmt.Errorf("comment %q lacks model_version or score_date", line)
	}
	return model, date, nil
}

var cveRE = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

// ParseLine reads one data row, "CVE-1999-0001,0.01025,0.76633". Both
// numbers must be probabilities: finite, within 0..1.
func ParseLine(line string) (cve string, score, percentile float64, err error) {
	f := strings.Split(strings.TrimSpace(line), ",")
	if len(f) != 3 {
		return "", 0, 0, fmt.Errorf("%d fields, want 3", len(f))
	}
	cve = strings.TrimSpace(f[0])
	if !cveRE.MatchString(cve) {
		return "", 0, 0, fmt.Errorf("%q is not a CVE ID", cve)
	}
	if score, err = probability(f[1]); err != nil {
		return "", 0, 0, fmt.Errorf("epss: %w", err)
	}
	if percentile, err = probability(f[2]); err != nil {
		return "", 0, 0, fmt.Errorf("percentile: %w", err)
	}
	return cve, score, percentile, nil
}

func probability(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if math.IsNaN(v) || v < 0 || v > 1 {
		return 0, fmt.Errorf("%v is not within 0..1", v)
	}
	return v, nil
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
