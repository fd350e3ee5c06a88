package collect

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// winFirewallProbe reads the effective firewall profiles (ActiveStore: local
// settings merged with Group Policy). Enums are printed as their names with
// "$()" so the output does not depend on how a PowerShell version
// serialises enums; the parser reads the numbers too.
var winFirewallProbe = Probe{
	Name: "win_firewall",
	Command: psCommand("win_firewall", `
ConvertTo-Json -Compress -Depth 4 -InputObject @(Get-NetFirewallProfile -PolicyStore ActiveStore|%{[pscustomobject]@{name="$($_.Name)";enabled="$($_.Enabled)";inbound="$($_.DefaultInboundAction)";outbound="$($_.DefaultOutboundAction)"}})`),
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		f, err := ParseWinFirewall(out)
		if err != nil {
			return err
		}
		win(rep).Firewall = f
		return nil
	},
}

// ParseWinFirewall parses the win_firewall probe, sorted by profile name
// (domain, private, public). No profile at all is an error: "every profile
// is on" must not hold for an empty list.
func ParseWinFirewall(out []byte) ([]inventory.FirewallProf, error) {
	var raw psList[struct {
		Name     psString `json:"name"`
		Enabled  psString `json:"enabled"`
		Inbound  psString `json:"inbound"`
		Outbound psString `json:"outbound"`
	}]
	if err := psUnmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("parse win_firewall: %w", err)
	}
	var ps []inventory.FirewallProf
	for _, e := range raw {
		name := strings.ToLower(string(e.Name))
		if name == "" {
			continue
		}
		ps = append(ps, inventory.FirewallProf{Name: name, Enabled: gpoBool(string(e.Enabled)),
			DefaultInbound: fwAction(string(e.Inbound)), DefaultOutbound: fwAction(string(e.Outbound))})
	}
	if len(ps) == 0 {
		return nil, errors.New("parse win_firewall: no firewall profile in the output")
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps, nil
}

// gpoBool reads a GpoBoolean: True (1), False (0), NotConfigured (2, which
// in the ActiveStore means the default: on).
func gpoBool(s string) bool {
	switch strings.ToLower(s) {
	case "true", "1", "notconfigured", "2":
		return true
	}
	return false
}

// fwAction reads the firewall Action enum: NotConfigured (0), Allow (2),
// Block (4).
func fwAction(s string) string {
	switch strings.ToLower(s) {
	case "block", "4":
		return "block"
	case "allow", "2":
		return "allow"
	case "notconfigured", "0", "":
		return "not_configured"
	}
	return strings.ToLower(s)
}
