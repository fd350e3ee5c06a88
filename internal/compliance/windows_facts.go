package compliance

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// WindowsEOLID is the eol.csv ID of a Windows host: Server and client
// releases share build numbers (10.0.26100 is Server 2025 and Windows 11
// 24H2) and Enterprise editions of a client release are supported longer.
func WindowsEOLID(sys *inventory.System) string {
	w := sys.Windows
	if w == nil {
		return sys.OS.ID
	}
	ed := strings.ToLower(w.Edition)
	switch {
	case strings.HasPrefix(strings.ToLower(w.InstallationType), "server") || strings.HasPrefix(ed, "server"):
		return "windows-server"
	case strings.Contains(ed, "enterprise") || strings.Contains(ed, "education"):
		return "windows-enterprise"
	}
	return "windows"
}

// windowsFacts is the "windows" fact: the report's Windows part as JSON
// (docs/agent-protocol.md), plus what checks ask of it in days:
// last_hotfix_days (since the newest dated hotfix), last_update_install_days
// (since Windows Update last installed something) and hotfix_kbs. On a host
// without Windows data it is empty and reading it explains why.
func windowsFacts(sys *inventory.System, now time.Time, unknown map[string]string) map[string]any {
	w := sys.Windows
	if w == nil {
		unknown["windows"] = "not a Windows host (no Windows data in its report)"
		return map[string]any{}
	}
	b, err := json.Marshal(w)
	if err != nil {
		unknown["windows"] = "Windows data not encodable: " + err.Error()
		return map[string]any{}
	}
	v, err := decodeJSON(b)
	m, _ := v.(map[string]any)
	if err != nil || m == nil {
		unknown["windows"] = "Windows data not decodable"
		return map[string]any{}
	}
	kbs := make([]any, 0, len(w.Hotfixes))
	var newest time.Time
	for _, h := range w.Hotfixes {
		kbs = append(kbs, h.KB)
		if h.InstalledOn.After(newest) {
			newest = h.InstalledOn
		}
	}
	m["hotfix_kbs"] = kbs
	if newest.IsZero() {
		unknown["windows.last_hotfix_days"] = "no hotfix with an installation date in the report"
	} else {
		m["last_hotfix_days"] = daysBetween(newest, now)
	}
	if a := w.AutoUpdate; a != nil && !a.LastInstalled.IsZero() {
		m["last_update_install_days"] = daysBetween(a.LastInstalled, now)
	} else {
		unknown["windows.last_update_install_days"] = "Windows Update's last installation time was not collected"
	}
	return m
}

func daysBetween(then, now time.Time) int64 {
	d := now.Sub(then)
	if d < 0 {
		return 0
	}
	return int64(d / (24 * time.Hour))
}
