package compliance

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"strings"
	"sync"
	"time"
)

//go:embed eol.csv
var eolCSV string

var (
	eolOnce  sync.Once
	eolTable map[string]time.Time // "id version" -> last day of support
	eolErr   error
)

func loadEOL() {
	eolTable = map[string]time.Time{}
	r := csv.NewReader(strings.NewReader(eolCSV))
	r.Comment = '#'
	r.FieldsPerRecord = 4
	recs, err := r.ReadAll()
	if err != nil {
		eolErr = fmt.Errorf("eol.csv: %w", err)
		return
	}
	for _, rec := range recs {
		d, err := time.Parse(time.DateOnly, rec[2])
		if err != nil {
			eolErr = fmt.Errorf("eol.csv: %s %s: %w", rec[0], rec[1], err)
			return
		}
		eolTable[rec[0]+" "+rec[1]] = d
	}
}

// EOLDate returns the last day of vendor support of an OS release, from the
// embedded table, matching VERSION_ID exactly, then by its first two
// components (Alpine 3.19.1 -> 3.19), then by its major version (RHEL 9.4
// -> 9). ok is false when the release is not in the table.
func EOLDate(id, versionID string) (date time.Time, ok bool) {
	eolOnce.Do(loadEOL)
	if id == "" || versionID == "" {
		return time.Time{}, false
	}
	parts := strings.Split(versionID, ".")
	cands := []string{versionID}
	if len(parts) > 2 {
		cands = append(cands, parts[0]+"."+parts[1])
	}
	if len(parts) > 1 {
		cands = append(cands, parts[0])
	}
	for _, v := range cands {
		if d, ok := eolTable[id+" "+v]; ok {
			return d, true
		}
	}
	return time.Time{}, false
}

// pastEOL reports whether now is after the last day of support.
func pastEOL(date, now time.Time) bool {
	return !now.Before(date.AddDate(0, 0, 1))
}
