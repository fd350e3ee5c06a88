package collect

import "errors"

// auditd is whether the audit daemon runs and starts at boot:
//
//	{"active":"active","enabled":"enabled"}
//
// active is systemctl is-active's answer (active, inactive, failed, ...,
// or "unknown" where nothing answered); enabled is is-enabled's (enabled,
// disabled, static, masked, ..., "not-found" when there is no such unit).
// On OpenRC hosts the same words are derived from rc-service and the
// runlevels.
var auditdItem = itemProbe{
	name:    "auditd",
	command: unitStateCommand([]string{"auditd"}, "true"),
	parse:   func(out []byte) (any, error) { return ParseAuditd(out) },
}

// Auditd is the value of the auditd probe.
type Auditd struct {
	Active  string `json:"active"`
	Enabled string `json:"enabled"`
}

// ParseAuditd reads the probe's output.
func ParseAuditd(out []byte) (Auditd, error) {
	states, _ := parseUnitStates(out, []string{"auditd"})
	s, ok := states["auditd"]
	if !ok {
		return Auditd{}, errors.New("parse auditd: no auditd state in output")
	}
	return Auditd{Active: s.active, Enabled: s.enabled}, nil
}
