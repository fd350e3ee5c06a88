package collect

import (
	"errors"
	"strings"
)

// timeSyncUnits are the time synchronisation services the probe asks about.
var timeSyncUnits = []string{"chronyd", "chrony", "systemd-timesyncd", "ntp", "ntpd", "ntpsec", "openntpd"}

// time_sync is whether a time synchronisation service runs and whether
// systemd considers the clock synchronised:
//
//	{"services":{"chronyd":"active","chrony":"active","systemd-timesyncd":"inactive",...},
//	 "active":["chrony","chronyd"],"any_active":true,"synchronized":"yes"}
//
// services holds each unit's systemctl is-active answer (or OpenRC's,
// mapped to active/inactive; "unknown" where nothing answered). An alias
// (chronyd for chrony on Debian) answers like its unit. synchronized is
// timedatectl's NTPSynchronized as yes or no, or unknown (no timedatectl, an
// old one, or systemd not running).
var timeSyncItem = itemProbe{
	name: "time_sync",
	command: unitStateCommand(timeSyncUnits,
		`echo "synchronized $(timedatectl show -p NTPSynchronized --value 2>/dev/null)"`),
	parse: func(out []byte) (any, error) { return ParseTimeSync(out) },
}

// TimeSync is the value of the time_sync probe.
type TimeSync struct {
	Services map[string]string `json:"services"`
	// Enabled is each unit's boot state (enabled, disabled, not-found ...):
	// with it a check tells "installed but state unknown" from "absent".
	Enabled      map[string]string `json:"enabled"`
	Active       []string          `json:"active"`
	AnyActive    bool              `json:"any_active"`
	Synchronized string            `json:"synchronized"`
}

// ParseTimeSync reads the probe's output.
func ParseTimeSync(out []byte) (TimeSync, error) {
	states, rest := parseUnitStates(out, timeSyncUnits)
	if len(states) == 0 {
		return TimeSync{}, errors.New("parse time_sync: no service state in output")
	}
	t := TimeSync{Services: map[string]string{}, Enabled: map[string]string{}, Active: []string{}, Synchronized: "unknown"}
	for _, u := range timeSyncUnits {
		if s, ok := states[u]; ok {
			t.Services[u] = s.active
			t.Enabled[u] = s.enabled
			if s.active == "active" {
				t.Active = append(t.Active, u)
			}
		}
	}
	t.AnyActive = len(t.Active) > 0
	for _, l := range rest {
		if v, ok := strings.CutPrefix(l, "synchronized"); ok {
			switch strings.TrimSpace(v) {
			case "yes":
				t.Synchronized = "yes"
			case "no":
				t.Synchronized = "no"
			}
		}
	}
	return t, nil
}
