package collect

import (
	"errors"
	"strings"
)

// servicesCommand lists service units with systemctl where it exists (the
// unit file list works even where systemd is not running; the unit list then
// comes out empty), or OpenRC's services on hosts without systemd (Alpine).
// --plain drops the bullet systemd puts before failed units.
const servicesCommand = `if command -v systemctl >/dev/null 2>&1; then ` +
	`echo "==> systemd list-unit-files <=="; systemctl list-unit-files --type=service --no-legend --no-pager 2>/dev/null; ` +
	`echo "==> systemd list-units <=="; systemctl list-units --type=service --all --no-legend --no-pager --plain 2>/dev/null; ` +
	`elif command -v rc-status >/dev/null 2>&1; then ` +
	`echo "==> openrc rc-status <=="; rc-status -a 2>/dev/null; ` +
	`echo "==> openrc rc-update <=="; rc-update show -v 2>/dev/null; ` +
	`fi; true`

// services is the host's service units and their state, without root:
//
//	{"manager":"systemd","units":{"ssh.service":{"enabled":"enabled","active":"active","sub":"running"},...}}
//
// For systemd, units are keyed by unit name; enabled is the unit file state
// (enabled, disabled, static, masked, alias, indirect, generated, ...), active
// and sub the ACTIVE and SUB columns of systemctl list-units; a field is ""
// when systemctl did not say (a template unit has no active state; nothing is
// active where systemd is not running). For OpenRC (manager "openrc") units
// are keyed by service name, enabled is "enabled" when the service is in a
// runlevel, else "disabled", active is active, inactive, failed, activating
// or deactivating and sub is OpenRC's own word (started, stopped, crashed,
// ...). manager is "unknown", with no units, when neither is there.
var servicesItem = itemProbe{
	name:    "services",
	command: servicesCommand,
	parse:   func(out []byte) (any, error) { return ParseServices(out) },
}

// Services is the value of the services probe.
type Services struct {
	Manager string                 `json:"manager"`
	Units   map[string]ServiceUnit `json:"units"`
}

// ServiceUnit is one service's state.
type ServiceUnit struct {
	Enabled string `json:"enabled"`
	Active  string `json:"active"`
	Sub     string `json:"sub"`
}

// ParseServices reads the output of the services probe.
func ParseServices(out []byte) (Services, error) {
	s := Services{Manager: "unknown", Units: map[string]ServiceUnit{}}
	secs := parseSections(out)
	if len(secs) == 0 {
		if strings.TrimSpace(string(out)) != "" {
			return Services{}, errors.New("parse services: no section header in output")
		}
		return s, nil
	}
	for _, sec := range secs {
		switch sec.name {
		case "systemd list-unit-files":
			s.Manager = "systemd"
			for _, f := range systemdRows(sec.content) {
				if len(f) >= 2 {
					u := s.Units[f[0]]
					u.Enabled = f[1]
					s.Units[f[0]] = u
				}
			}
		case "systemd list-units":
			s.Manager = "systemd"
			for _, f := range systemdRows(sec.content) {
				if len(f) >= 4 { // UNIT LOAD ACTIVE SUB DESCRIPTION...
					u := s.Units[f[0]]
					u.Active, u.Sub = f[2], f[3]
					s.Units[f[0]] = u
				}
			}
		case "openrc rc-status":
			s.Manager = "openrc"
			parseRCStatus(sec.content, s.Units)
		case "openrc rc-update":
			s.Manager = "openrc"
			parseRCUpdate(sec.content, s.Units)
		}
	}
	return s, nil
}

// systemdRows returns the fields of each line naming a service, so a legend
// or "N unit files listed." line that slipped through is ignored.
func systemdRows(content string) [][]string {
	var rows [][]string
	for _, l := range lines(content, false) {
		f := strings.Fields(l)
		if len(f) > 0 && (f[0] == "●" || f[0] == "*" || f[0] == "×") {
			f = f[1:]
		}
		if len(f) > 0 && strings.HasSuffix(f[0], ".service") && len(f[0]) > len(".service") {
			rows = append(rows, f)
		}
	}
	return rows
}

// openrcActive maps rc-status words to systemd's ACTIVE vocabulary.
var openrcActive = map[string]string{
	"started": "active", "stopped": "inactive", "inactive": "inactive", "crashed": "failed",
	"failed": "failed", "starting": "activating", "stopping": "deactivating",
}

// parseRCStatus reads rc-status -a: "Runlevel: x" lines, then one line per
// service, " sshd   [  started  ]" (supervised services add an uptime
// inside the brackets).
func parseRCStatus(content string, units map[string]ServiceUnit) {
	for _, l := range lines(content, false) {
		if strings.HasSuffix(strings.Fields(l)[0], ":") || strings.HasPrefix(l, "Dynamic Runlevel") {
			continue
		}
		name, rest, ok := strings.Cut(l, "[")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			continue
		}
		st := strings.Fields(strings.TrimSuffix(strings.TrimSpace(rest), "]"))
		if len(st) == 0 {
			continue
		}
		u := units[name]
		u.Sub, u.Active = st[0], openrcActive[st[0]]
		if u.Enabled == "" {
			u.Enabled = "disabled"
		}
		units[name] = u
	}
}

// parseRCUpdate reads rc-update show -v: "  sshd | default" for a service in
// a runlevel, "  sshd |" for one in none.
func parseRCUpdate(content string, units map[string]ServiceUnit) {
	for _, l := range lines(content, false) {
		name, levels, ok := strings.Cut(l, "|")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			continue
		}
		u := units[name]
		u.Enabled = "disabled"
		if strings.TrimSpace(levels) != "" {
			u.Enabled = "enabled"
		}
		units[name] = u
	}
}
