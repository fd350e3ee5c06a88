package collect

import (
	"errors"
	"strings"
)

// firewallUnits are the services that load a packet filter.
var firewallUnits = []string{"firewalld", "ufw", "nftables", "iptables", "ip6tables", "netfilter-persistent"}

// firewall is which firewall services are active, without root (the rules
// themselves need root to list):
//
//	{"services":{"firewalld":"active","ufw":"inactive",...},"active":["firewalld"],"any_active":true,"ufw_enabled":"unknown"}
//
// ufw's service stays active when ufw is switched off, so ufw counts as
// active only when /etc/ufw/ufw.conf does not say ENABLED=no; ufw_enabled is
// that setting (yes, no or unknown).
var firewallItem = itemProbe{
	name:    "firewall",
	command: unitStateCommand(firewallUnits, `grep -s '^[[:space:]]*ENABLED=' /etc/ufw/ufw.conf; true`),
	parse:   func(out []byte) (any, error) { return ParseFirewall(out) },
}

// Firewall is the value of the firewall probe.
type Firewall struct {
	Services map[string]string `json:"services"`
	// Enabled is each unit's boot state (enabled, disabled, not-found ...).
	Enabled    map[string]string `json:"enabled"`
	Active     []string          `json:"active"`
	AnyActive  bool              `json:"any_active"`
	UFWEnabled string            `json:"ufw_enabled"`
}

// ParseFirewall reads the probe's output.
func ParseFirewall(out []byte) (Firewall, error) {
	states, rest := parseUnitStates(out, firewallUnits)
	if len(states) == 0 {
		return Firewall{}, errors.New("parse firewall: no service state in output")
	}
	f := Firewall{Services: map[string]string{}, Enabled: map[string]string{}, Active: []string{}, UFWEnabled: "unknown"}
	for _, l := range rest {
		if v, ok := strings.CutPrefix(l, "ENABLED="); ok {
			switch strings.ToLower(strings.Trim(strings.TrimSpace(v), `"'`)) {
			case "yes":
				f.UFWEnabled = "yes"
			case "no":
				f.UFWEnabled = "no"
			}
		}
	}
	for _, u := range firewallUnits {
		s, ok := states[u]
		if !ok {
			continue
		}
		f.Services[u] = s.active
		f.Enabled[u] = s.enabled
		if s.active == "active" && !(u == "ufw" && f.UFWEnabled == "no") {
			f.Active = append(f.Active, u)
		}
	}
	f.AnyActive = len(f.Active) > 0
	return f, nil
}
