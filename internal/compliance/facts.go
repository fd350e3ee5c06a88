package compliance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/vuln"
)

// Extra is what the server knows about a host beyond its report.
type Extra struct {
	Labels map[string]string
	// Findings summarises the host's open vulnerability findings. Nil when
	// unknown: checks that read findings then report error, never pass.
	Findings *FindingStats
	// Now is the evaluation time; zero means the report's finish time.
	Now time.Time
}

// FindingStats counts a host's open findings that no active operator mark
// (accepted risk, false positive) covers.
type FindingStats struct {
	OpenBySeverity      map[string]int // critical, high, medium, low, unknown
	CriticalOpenOver30d int            // critical findings first seen more than 30 days ago
	KEVPastDue          int            // findings on the CISA KEV list past their due date
}

// FindingStatsFrom summarises findings at now. Resolved findings and those
// with an active operator mark are not counted.
func FindingStatsFrom(findings []vuln.Finding, now time.Time) *FindingStats {
	s := &FindingStats{OpenBySeverity: map[string]int{}}
	for _, sev := range vuln.Severities {
		s.OpenBySeverity[sev] = 0
	}
	for i := range findings {
		f := &findings[i]
		if f.Status != vuln.FindingOpen || f.MarkActive(now) {
			continue
		}
		sev := f.Severity
		if _, ok := s.OpenBySeverity[sev]; !ok {
			sev = "unknown"
		}
		s.OpenBySeverity[sev]++
		if sev == "critical" && f.DaysOpen(now) > 30 {
			s.CriticalOpenOver30d++
		}
		if f.KEV != nil && !f.KEV.DueDate.IsZero() && pastEOL(f.KEV.DueDate, now) {
			s.KEVPastDue++
		}
	}
	return s
}

// Facts builds the CEL input for one host: see docs/checks.md for every
// name. Item values are decoded from JSON; integral numbers become int.
func Facts(r *inventory.HostReport, extra Extra) map[string]any {
	now := extra.Now
	if now.IsZero() {
		now = r.FinishedAt
	}
	sys := &r.System
	unknown := map[string]string{}
	idLike := make([]any, len(sys.OS.IDLike))
	for i, s := range sys.OS.IDLike {
		idLike[i] = s
	}
	osFacts := map[string]any{
		"family": sys.OS.Family, "id": sys.OS.ID, "id_like": idLike, "version_id": sys.OS.VersionID,
		"name": sys.OS.Name, "pretty_name": sys.OS.PrettyName, "codename": sys.OS.Codename,
	}
	eolID := sys.OS.ID
	if sys.OS.Family == inventory.OSFamilyWindows {
		eolID = WindowsEOLID(sys)
	}
	if d, ok := EOLDate(eolID, sys.OS.VersionID); ok {
		osFacts["eol_date"] = d
		osFacts["eol"] = pastEOL(d, now)
	} else {
		msg := fmt.Sprintf("no end-of-life date known for %s %s", orUnknown(sys.OS.ID), orUnknown(sys.OS.VersionID))
		unknown["os.eol"], unknown["os.eol_date"] = msg, msg
	}
	packages := make(map[string]string, len(r.Packages))
	ecosystem := ""
	for _, p := range r.Packages {
		if _, dup := packages[p.Name]; !dup {
			packages[p.Name] = p.EVR()
		}
		if ecosystem == "" {
			ecosystem = p.Ecosystem
		}
	}
	items := make(map[string]any, len(r.Items))
	itemErrs := map[string]string{}
	for _, it := range r.Items {
		key := it.Key()
		switch {
		case it.NeedsPrivilege:
			itemErrs[key] = "needs privilege"
			if it.Error != "" {
				itemErrs[key] += " (" + it.Error + ")"
			}
		case it.Error != "":
			itemErrs[key] = it.Error
		case len(it.Value) == 0:
			itemErrs[key] = "no value collected"
		default:
			v, err := decodeJSON(it.Value)
			if err != nil {
				itemErrs[key] = "undecodable value: " + err.Error()
				continue
			}
			items[key] = v
		}
	}
	facts := map[string]any{
		"os":                osFacts,
		"kernel":            map[string]any{"name": sys.Kernel.Name, "release": sys.Kernel.Release, "version": sys.Kernel.Version, "machine": sys.Kernel.Machine},
		"hostname":          sys.Hostname,
		"cpu":               map[string]any{"model": sys.CPU.Model, "sockets": int64(sys.CPU.Sockets), "cores": int64(sys.CPU.Cores), "threads": int64(sys.CPU.Threads)},
		"memory":            map[string]any{"total_bytes": clampInt(sys.Memory.TotalBytes), "available_bytes": clampInt(sys.Memory.AvailableBytes), "swap_total_bytes": clampInt(sys.Memory.SwapTotalBytes)},
		"uptime_seconds":    int64(sys.Uptime.Seconds),
		"packages":          packages,
		"package_ecosystem": ecosystem,
		"items":             items,
		"items_error":       itemErrs,
		"mounts":            mountsByPoint(items["probe:mounts"]),
		"labels":            copyLabels(extra.Labels),
		"now":               now,
		"scanned_at":        r.FinishedAt,
		"facts_unknown":     unknown,
		"windows":           windowsFacts(sys, now, unknown),
	}
	if _, ok := items["probe:mounts"]; !ok {
		unknown["mounts"] = "item probe:mounts was not collected"
	}
	if f := extra.Findings; f != nil {
		bySev := map[string]any{}
		total := 0
		for k, v := range f.OpenBySeverity {
			bySev[k] = int64(v)
			total += v
		}
		facts["findings"] = map[string]any{
			"critical_open_over_30d": int64(f.CriticalOpenOver30d),
			"kev_past_due":           int64(f.KEVPastDue),
			"open_by_severity":       bySev,
			"open_total":             int64(total),
		}
	} else {
		facts["findings"] = map[string]any{}
		unknown["findings"] = "vulnerability findings are not known for this host"
	}
	return facts
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

func clampInt(u uint64) int64 {
	if u > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(u)
}

func copyLabels(l map[string]string) map[string]string {
	out := make(map[string]string, len(l))
	for k, v := range l {
		out[k] = v
	}
	return out
}

// mountsByPoint indexes the mounts probe's list by mount point; a later
// entry (mounted over an earlier one) wins, as the kernel's view does.
func mountsByPoint(v any) map[string]any {
	out := map[string]any{}
	list, _ := v.([]any)
	for _, m := range list {
		mm, ok := m.(map[string]any)
		if !ok {
			continue
		}
		if mp, ok := mm["mountpoint"].(string); ok {
			out[mp] = mm
		}
	}
	return out
}

// decodeJSON decodes an item value into maps, lists, strings, bools, int64
// (integral numbers) and float64.
func decodeJSON(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return normalize(v), nil
}

func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	}
	return v
}
