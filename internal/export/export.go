// Package export writes the risk workflow's lists (worklist, exceptions) as
// CSV, for the REST API and the web app alike, so both downloads have the
// same columns. Free text that hosts or users control is defused against
// spreadsheet formulas.
package export

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/service"
)

// Safe defuses spreadsheet formulas in text that hosts or users control.
func Safe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func rankCells(r *service.Rank) []string {
	kev, due, exposed := "", "", ""
	if r.KEV {
		kev = "yes"
		if r.KEVDue != nil {
			due = r.KEVDue.UTC().Format("2006-01-02")
		}
	}
	if r.Exposed {
		exposed = "yes"
	}
	return []string{kev, due, strconv.FormatFloat(r.EPSS, 'f', 5, 64), strconv.FormatFloat(r.CVSS, 'f', 1, 64), exposed, r.Severity}
}

// WorklistCSV writes the per-host worklist: one line per host and package.
func WorklistCSV(w io.Writer, items []service.WorkItem) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"host", "package", "installed", "fix_version", "kev", "kev_due", "epss", "cvss", "exposed", "severity",
		"vulns", "vuln_count", "unfixed", "listening", "binaries"})
	for _, it := range items {
		row := []string{Safe(it.HostName), Safe(it.Package), Safe(it.Installed), Safe(it.Fix)}
		row = append(row, rankCells(&it.Rank)...)
		row = append(row, strings.Join(it.Vulns, " "), strconv.Itoa(len(it.Vulns)), strings.Join(it.Unfixed, " "),
			Safe(strings.Join(it.Listening, "; ")), Safe(strings.Join(it.Binaries, " ")))
		_ = cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// FleetCSV writes the fleet-wide worklist: one line per package and fix.
func FleetCSV(w io.Writer, items []service.FleetItem) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"package", "fix_version", "hosts", "exposed_hosts", "kev", "kev_due", "epss", "cvss", "exposed", "severity", "vulns", "vuln_count"})
	for _, it := range items {
		row := []string{Safe(it.Package), Safe(it.Fix), strconv.Itoa(it.Hosts), strconv.Itoa(it.ExposedHosts)}
		row = append(row, rankCells(&it.Rank)...)
		row = append(row, strings.Join(it.Vulns, " "), strconv.Itoa(len(it.Vulns)))
		_ = cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// ExceptionsCSV writes exceptions with their state.
func ExceptionsCSV(w io.Writer, list []domain.Exception) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "state", "target", "kind", "vuln_id", "package", "check_id", "scope", "host", "group",
		"reason", "created_by", "created_at", "updated_by", "updated_at", "expires_at", "revoked_by", "revoked_at"})
	tm := func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, e := range list {
		_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), e.State, e.Target, e.Kind, Safe(e.VulnID), Safe(e.Package), Safe(e.CheckID),
			e.Scope, Safe(e.HostName), Safe(e.GroupName), Safe(e.Reason), Safe(e.CreatedBy), tm(&e.CreatedAt), Safe(e.UpdatedBy),
			tm(&e.UpdatedAt), tm(e.ExpiresAt), Safe(e.RevokedBy), tm(e.RevokedAt)})
	}
	cw.Flush()
	return cw.Error()
}
