package collect

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// winServicesProbe lists Win32_Service. State and StartMode are CIM strings
// ("Running", "Auto"), the same in every display language.
var winServicesProbe = Probe{
	Name: "win_services",
	Command: psCommand("win_services", `
ConvertTo-Json -Compress -Depth 4 -InputObject @(Get-CimInstance Win32_Service|%{[pscustomobject]@{name=$_.Name;display_name=$_.DisplayName;state=$_.State;start_mode=$_.StartMode;account=$_.StartName}})`),
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		s, err := ParseWinServices(out)
		if err != nil {
			return err
		}
		win(rep).Services = s
		return nil
	},
}

// ParseWinServices parses the win_services probe, sorted by name. States
// and start modes are lower-cased with underscores: running, stopped,
// start_pending ...; auto, manual, disabled, boot, system.
func ParseWinServices(out []byte) ([]inventory.WinService, error) {
	var raw psList[struct {
		Name        psString `json:"name"`
		DisplayName psString `json:"display_name"`
		State       psString `json:"state"`
		StartMode   psString `json:"start_mode"`
		Account     psString `json:"account"`
	}]
	if err := psUnmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("parse win_services: %w", err)
	}
	svcs := make([]inventory.WinService, 0, len(raw))
	for _, e := range raw {
		if e.Name == "" {
			continue
		}
		svcs = append(svcs, inventory.WinService{
			Name: string(e.Name), DisplayName: string(e.DisplayName),
			State: snake(string(e.State)), StartMode: snake(string(e.StartMode)), Account: string(e.Account),
		})
	}
	sort.Slice(svcs, func(i, j int) bool { return strings.ToLower(svcs[i].Name) < strings.ToLower(svcs[j].Name) })
	return svcs, nil
}

// snake turns "Start Pending" or "StartPending" into "start_pending".
func snake(s string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r == ' ' || r == '-':
			b.WriteByte('_')
		case r >= 'A' && r <= 'Z':
			if i > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// winServicesItem is the win_services compliance item: services by
// (lower-case) name, so a check reads
// items["probe:win_services"]["remoteregistry"].start_mode.
func winServicesItem(out []byte) (any, error) {
	svcs, err := ParseWinServices(out)
	if err != nil {
		return nil, err
	}
	m := make(map[string]inventory.WinService, len(svcs))
	for _, s := range svcs {
		m[strings.ToLower(s.Name)] = s
	}
	return m, nil
}
